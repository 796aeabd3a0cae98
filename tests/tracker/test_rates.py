"""Reference exchange rates: read from an ECB-shaped file served by a local server, through the
fetch gate; a bad file is refused and the rates there were stay."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings as django_settings

from tracker import tasks
from tracker.models import ExchangeRate
from tracker.rates import RatesError, money_convert, rates_latest, rates_parse, rates_refresh

pytestmark = pytest.mark.django_db

ECB_DAILY = b"""<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01"
    xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
  <gesmes:subject>Reference rates</gesmes:subject>
  <gesmes:Sender><gesmes:name>European Central Bank</gesmes:name></gesmes:Sender>
  <Cube>
    <Cube time='2026-12-04'>
      <Cube currency='USD' rate='1.0800'/>
      <Cube currency='JPY' rate='162.50'/>
      <Cube currency='GBP' rate='0.84000'/>
      <Cube currency='CHF' rate='0.9400'/>
    </Cube>
  </Cube>
</gesmes:Envelope>"""

NEXT_DAY = ECB_DAILY.replace(b"2026-12-04", b"2026-12-05").replace(b"'1.0800'", b"'1.1000'")


@pytest.fixture
def rates_server(settings) -> Iterator[dict]:
    """A rates source on 127.0.0.1; `served["body"]` is what it answers next."""
    served = {"body": ECB_DAILY, "status": 200, "hits": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the http.server name)
            served["hits"] += 1
            self.send_response(served["status"])
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(served["body"])))
            self.end_headers()
            self.wfile.write(served["body"])

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    settings.RATES_URL = f"http://127.0.0.1:{server.server_port}/eurofxref-daily.xml"
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()


def test_the_days_rates_are_fetched_and_stored(rates_server):
    table = rates_refresh()

    assert table.published_on == date(2026, 12, 4)
    assert rates_server["hits"] == 1
    stored = {row.currency: row.per_euro for row in ExchangeRate.objects.all()}
    assert stored == {"USD": Decimal("1.08"), "JPY": Decimal("162.5"), "GBP": Decimal("0.84"), "CHF": Decimal("0.94")}
    assert rates_latest()["EUR"] == 1


def test_a_new_day_replaces_the_rates_and_running_twice_changes_nothing(rates_server):
    rates_refresh()
    rates_server["body"] = NEXT_DAY
    rates_refresh()
    rates_refresh()

    assert ExchangeRate.objects.count() == 4
    assert ExchangeRate.objects.get(currency="USD").per_euro == Decimal("1.1")
    assert set(ExchangeRate.objects.values_list("published_on", flat=True)) == {date(2026, 12, 5)}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html><body>Service unavailable</body></html>", "dated Cube"),
        (b"not xml at all", "not XML"),
        (ECB_DAILY.replace(b"'1.0800'", b"'1,08'"), "USD is not a number"),
        (ECB_DAILY.replace(b"'1.0800'", b"'-1.08'"), "USD is not a positive number"),
        (ECB_DAILY.replace(b"'1.0800'", b"'0'"), "USD is not a positive number"),
        (ECB_DAILY.replace(b"'USD'", b"'XXQ'"), "unknown currency"),
        (ECB_DAILY.replace(b"'2026-12-04'", b"'yesterday'"), "not a date"),
        (ECB_DAILY.replace(b"<Cube currency='GBP'", b"<Cube currency='USD'"), "USD twice"),
    ],
)
def test_a_malformed_file_is_refused_and_the_previous_rates_stay(rates_server, body, message):
    rates_refresh()
    rates_server["body"] = body

    with pytest.raises(RatesError, match=message):
        rates_refresh()

    assert ExchangeRate.objects.get(currency="USD").per_euro == Decimal("1.08")
    assert ExchangeRate.objects.count() == 4


def test_the_file_must_come_through_the_gate(rates_server, settings):
    settings.FETCH_ALLOW_HOSTS = []  # loopback is refused like any private address

    with pytest.raises(RatesError, match="could not fetch the rates"):
        rates_refresh()

    assert rates_server["hits"] == 0
    assert rates_latest() == {}


def test_the_daily_task_keeps_the_rates_when_the_source_fails(rates_server):
    assert tasks.refresh_exchange_rates() == "4 rates of 2026-12-04"
    rates_server["status"] = 503

    assert tasks.refresh_exchange_rates().startswith("rates kept: could not fetch")
    assert ExchangeRate.objects.count() == 4


def test_the_daily_task_is_in_the_beat_schedule():
    tasks_scheduled = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert "tracker.tasks.refresh_exchange_rates" in tasks_scheduled


def test_the_ecb_file_parses_without_a_database():
    table = rates_parse(content=ECB_DAILY)
    assert table.per_euro["JPY"] == Decimal("162.50")


RATES = {"EUR": Decimal(1), "USD": Decimal("1.08"), "GBP": Decimal("0.84"), "JPY": Decimal("162.5")}


@pytest.mark.parametrize(
    ("amount", "source", "target", "expected"),
    [
        ("105", "EUR", "USD", "113.40"),
        ("113.40", "USD", "EUR", "105.00"),
        ("84", "GBP", "USD", "108.00"),  # through the euro: 84 / 0.84 * 1.08
        ("100", "USD", "JPY", "15046"),  # the yen has no decimals
        ("9.99", "USD", "USD", "9.99"),
    ],
)
def test_conversion_goes_through_the_euro(amount, source, target, expected):
    assert money_convert(amount=Decimal(amount), source=source, target=target, rates=RATES) == Decimal(expected)


def test_a_currency_without_a_rate_does_not_convert():
    assert money_convert(amount=Decimal("10"), source="CAD", target="EUR", rates=RATES) is None
    assert money_convert(amount=Decimal("10"), source="EUR", target="CAD", rates=RATES) is None
    assert money_convert(amount=Decimal("10"), source="EUR", target="USD", rates={}) is None
