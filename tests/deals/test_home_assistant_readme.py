"""The Home Assistant example in the README works against the API: its resource is the state
endpoint, and every field its templates and attributes read is in the answer."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from tests.factories import ListingFactory, PricePointFactory
from tracker.models import Listing

README = Path(__file__).resolve().parents[2] / "README.md"


def _example() -> dict:
    text = README.read_text()
    block = text.split("## Home Assistant", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    loader = type("HALoader", (yaml.SafeLoader,), {})
    loader.add_constructor("!secret", lambda loader, node: f"secret:{node.value}")
    return yaml.load(block, Loader=loader)  # a SafeLoader with one extra tag


@pytest.mark.django_db
def test_the_readme_sensor_reads_fields_the_state_endpoint_answers(api_client, user):
    listing = ListingFactory(product__owner=user, last_price=Decimal("19.90"), in_stock=True, status=Listing.Status.OK)
    PricePointFactory(listing=listing, price=Decimal("19.90"))
    config = _example()["rest"][0]
    assert config["headers"]["Authorization"].startswith("secret:")
    path = urlsplit(config["resource"]).path.replace("/42/", f"/{listing.product_id}/")
    answer = api_client.get(path)
    assert answer.status_code == 200
    state = answer.json()
    sensors = config["sensor"] + config["binary_sensor"]
    read = set()
    for sensor in sensors:
        for key in ("value_template", "availability"):
            read.update(re.findall(r"value_json\.(\w+)", sensor.get(key, "")))
        read.update(sensor.get("json_attributes", []))
    assert read <= set(state), f"fields the example reads but the API does not answer: {read - set(state)}"
    assert {"price", "currency", "in_stock", "deal_state"} <= read
    assert state["price"] == "19.90" and float(state["price"]) == 19.9  # a number to a monetary sensor
