"""Reference exchange rates, so prices in different currencies can be compared and shown in the
currency a person chose.

The source is the ECB's daily XML format (settings.RATES_URL): units of each currency per one
euro, for one day. Every conversion goes through the euro, the source's base. A file that is not
that shape is refused whole, and the rates there were stay: a wrong rate would compare prices
wrongly, no rate only says they cannot be compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from babel.numbers import get_currency_precision, is_currency
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from lxml import etree

from .fetching.client import safe_get
from .fetching.results import FetchError
from .models import ExchangeRate

BASE = "EUR"
MAX_BYTES = 256 * 1024  # the ECB's daily file is under 2 KB


class RatesError(Exception):
    """The rates could not be fetched or read; the previous rates are kept."""


@dataclass(frozen=True)
class RateTable:
    published_on: date
    per_euro: dict[str, Decimal]  # units of the currency per one euro, without EUR itself


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def rates_parse(*, content: bytes) -> RateTable:
    """Read an ECB-shaped daily rates file. Raises RatesError on anything else: no single dated
    `Cube`, no rate, an unknown currency code, a rate that is not a positive number."""
    # No entities, no network: the file comes from outside.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(content, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise RatesError(f"the rates file is not XML: {exc}") from exc
    days = [el for el in root.iter() if _local(el.tag) == "Cube" and el.get("time")]
    if len(days) != 1:
        raise RatesError(f"the rates file has {len(days)} dated Cube elements, expected exactly one")
    try:
        published_on = date.fromisoformat(days[0].get("time", ""))
    except ValueError as exc:
        raise RatesError(f"the rates file's date is not a date: {days[0].get('time')!r}") from exc
    per_euro: dict[str, Decimal] = {}
    for cube in days[0]:
        if _local(cube.tag) != "Cube":
            continue
        code = (cube.get("currency") or "").strip().upper()
        if not is_currency(code) or code == BASE:
            raise RatesError(f"the rates file names an unknown currency: {cube.get('currency')!r}")
        try:
            rate = Decimal((cube.get("rate") or "").strip())
        except InvalidOperation as exc:
            raise RatesError(f"the rate of {code} is not a number: {cube.get('rate')!r}") from exc
        if not rate.is_finite() or rate <= 0:
            raise RatesError(f"the rate of {code} is not a positive number: {cube.get('rate')!r}")
        if code in per_euro:
            raise RatesError(f"the rates file gives {code} twice")
        per_euro[code] = rate
    if not per_euro:
        raise RatesError("the rates file has no rates")
    return RateTable(published_on=published_on, per_euro=per_euro)


def rates_refresh(*, url: str | None = None) -> RateTable:
    """Fetch the rates (through the fetch gate) and make them the latest. Safe to run twice: the
    table is replaced whole, in one transaction, by the same values. Raises RatesError and
    leaves the stored rates as they were when the fetch or the file fails."""
    source = url or settings.RATES_URL
    try:
        result = safe_get(source, accept="any", max_bytes=MAX_BYTES)
    except FetchError as exc:
        raise RatesError(f"could not fetch the rates from {source}: {exc}") from exc
    table = rates_parse(content=result.content or result.text.encode())
    now = timezone.now()
    with transaction.atomic():
        ExchangeRate.objects.exclude(currency__in=list(table.per_euro)).delete()
        for code, rate in table.per_euro.items():
            ExchangeRate.objects.update_or_create(
                currency=code, defaults={"per_euro": rate, "published_on": table.published_on, "fetched_at": now}
            )
    return table


def rates_latest() -> dict[str, Decimal]:
    """Units per euro of every currency there is a rate for, EUR included; empty without rates."""
    rates = dict(ExchangeRate.objects.values_list("currency", "per_euro"))
    if rates:
        rates[BASE] = Decimal(1)
    return rates


def money_convert(*, amount: Decimal, source: str, target: str, rates: dict[str, Decimal]) -> Decimal | None:
    """`amount` of `source` in `target`, through the euro, rounded to the target's usual digits;
    None when either currency has no rate (the amounts are then not comparable)."""
    source, target = (source or "").upper(), (target or "").upper()
    if source == target:
        return amount
    if source not in rates or target not in rates:
        return None
    value = Decimal(amount) / rates[source] * rates[target]
    digits = Decimal(1).scaleb(-get_currency_precision(target))
    return value.quantize(digits, rounding=ROUND_HALF_EVEN)
