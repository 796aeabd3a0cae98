"""The REST API against its own OpenAPI schema, with schemathesis, on a running server (the
live_server thread serving the WSGI app on 127.0.0.1): no 5xx, every status code, content
type, header and body as the schema says, for generated valid and invalid requests."""

from __future__ import annotations

from decimal import Decimal

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.modes import GenerationMode

from deals.models import AlertRule, DealSource, Watch
from tests.factories import ListingFactory, PricePointFactory
from tracker.api.tokens import token_create

EXAMPLES = 10
# A request the schema allows may still be refused by a domain rule with 400 and the reason
# (a URL the fetcher will not track, a rule kind that needs a number): the form gives the same.
# Unknown query parameters are ignored, as by most HTTP APIs (a newer client may send more).
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "404", "409", "429"]}},
        "generation": {"allow-extra-parameters": False},
    }
)

pytestmark = [pytest.mark.schema, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def api_token(django_user_model, settings, no_name_resolves):
    """A person with a product, its history, a rule, a watch and a source, and their token.
    Adding a product checks its page at once: generated addresses resolve no name (no DNS)."""
    settings.API_RATELIMIT = "100000/60"  # the fuzzer is one client sending many requests
    owner = django_user_model.objects.create_user(username="fuzz", password="pw-fuzz-123")
    listing = ListingFactory(product__owner=owner, product__name="Kettle", last_price=Decimal("10.00"))
    for price in ("12.00", "10.00"):
        PricePointFactory(listing=listing, price=Decimal(price))
    AlertRule.objects.create(product=listing.product, kind=AlertRule.Kind.TARGET, threshold=Decimal("9"))
    Watch.objects.create(owner=owner, query="kettle")
    DealSource.objects.create(name="Shared feed", url="http://127.0.0.1:9/feed")
    _, secret = token_create(owner=owner)
    return secret


# schemathesis's pytest plugin (`schemathesis.pytest.from_fixture`) fails under pytest 9.2
# ("'Function' object has no attribute '_nodeid'"), so this test drives its Python API: one
# hypothesis run per operation and generation mode, failures collected and shown together.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_keeps_to_its_schema(live_server, api_token, mode):
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json", config=CONFIG)
    headers = {"Authorization": f"Bearer {api_token}"}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None,
                  phases=[Phase.explicit, Phase.generate])
        def run(case):
            case.call_and_validate(headers=headers)

        try:
            run()
        except Exception as exc:  # a failed check: keep going to report every operation
            failures.append(f"{operation.label}: {exc}\n{getattr(exc, 'exceptions', '')}")
    assert operations >= 25
    assert not failures, "\n\n".join(failures)
