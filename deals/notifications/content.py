"""What a notification says: title, plain text, HTML and a chart. Pure (facts in, message out)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.html import escape

from tracker.money import money_format

from ..alerts.rules import percent_change


@dataclass(frozen=True)
class Attachment:
    name: str
    mimetype: str
    content: bytes


@dataclass(frozen=True)
class Message:
    title: str
    text: str
    html: str
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class AlertFacts:
    product_name: str
    store_name: str
    reason: str
    new_price: Decimal
    currency: str
    old_price: Decimal | None = None
    quality_label: str = ""
    in_stock: bool | None = None
    shop_url: str = ""
    product_url: str = ""
    chart_png: bytes | None = field(default=None, repr=False)
    kind: str = "alert"  # "alert" (a tracked price) or "deal" (an item the scout found)
    usual_price: Decimal | None = None  # deals: what comparable items usually cost


def _money(amount: Decimal | None, currency: str) -> str:
    """The site's one money format (tracker/money.py), a dash when there is no amount."""
    return money_format(amount=amount, currency=currency) or "–"


def _stock(in_stock: bool | None) -> str:
    return {True: "In stock", False: "Out of stock"}.get(in_stock, "Stock unknown")


def change_text(facts: AlertFacts) -> str:
    if facts.old_price is None:
        return "first price seen"
    amount = facts.new_price - facts.old_price
    pct = percent_change(facts.old_price, facts.new_price)
    sign = "+" if amount > 0 else ("−" if amount < 0 else "±")
    pct_text = f" ({sign}{abs(pct):.1f} %)" if pct is not None else ""
    return f"{sign}{_money(abs(amount), facts.currency)}{pct_text}"


def _lines(facts: AlertFacts) -> list[tuple[str, str]]:
    is_deal = facts.kind == "deal"
    return [
        ("Store", facts.store_name),
        ("Price", f"{_money(facts.old_price, facts.currency)} → {_money(facts.new_price, facts.currency)}"
         if facts.old_price is not None else _money(facts.new_price, facts.currency)),
        # A deal's "before" is its own previous price; with none, there is no change to tell.
        ("Change", change_text(facts) if not is_deal or facts.old_price is not None else ""),
        ("Usual price", _money(facts.usual_price, facts.currency) if is_deal and facts.usual_price is not None else ""),
        ("Deal quality", facts.quality_label or "Not enough history yet"),
        ("Stock", _stock(facts.in_stock)),
        ("Shop", facts.shop_url),
        ("In PriceTracker", facts.product_url),
    ]


def alert_title(facts: AlertFacts) -> str:
    return f"{facts.product_name}: {_money(facts.new_price, facts.currency)} at {facts.store_name} — {facts.reason}"


def alert_text(facts: AlertFacts) -> str:
    body = [alert_title(facts), ""]
    body += [f"{label}: {value}" for label, value in _lines(facts) if value]
    return "\n".join(body) + "\n"


def alert_html(facts: AlertFacts, *, chart_cid: str = "") -> str:
    rows = "".join(
        f"<tr><th align=left>{escape(label)}</th><td>"
        + (f'<a href="{escape(value)}">{escape(value)}</a>' if value.startswith("http") else escape(value))
        + "</td></tr>"
        for label, value in _lines(facts)
        if value
    )
    chart = f'<p><img src="cid:{chart_cid}" alt="price chart" width="320" height="120"></p>' if chart_cid else ""
    return (
        f"<h2>{escape(facts.product_name)}</h2><p><strong>{escape(facts.reason)}</strong></p>"
        f"<table>{rows}</table>{chart}"
    )


def _chart(facts: AlertFacts) -> tuple[Attachment, ...]:
    if not facts.chart_png:
        return ()
    return (Attachment(name="price-chart.png", mimetype="image/png", content=facts.chart_png),)


def message_for_alert(facts: AlertFacts) -> Message:
    return Message(
        title=alert_title(facts),
        text=alert_text(facts),
        html=alert_html(facts, chart_cid="price-chart.png" if facts.chart_png else ""),
        attachments=_chart(facts),
    )


def _counted(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def digest_title(items: Sequence[AlertFacts]) -> str:
    """Names what the digest carries: price alerts and deals are not the same news."""
    alerts = sum(1 for facts in items if facts.kind != "deal")
    deals = len(items) - alerts
    parts = [
        *([_counted(alerts, "price alert", "price alerts")] if alerts else []),
        *([_counted(deals, "deal", "deals")] if deals else []),
    ]
    return f"PriceTracker: {' and '.join(parts) or 'nothing new'} in the last hour"


def message_for_digest(items: Sequence[AlertFacts]) -> Message:
    """One message for many alerts and deals, in the order given."""
    title = digest_title(items)
    text = "\n\n".join(alert_text(facts) for facts in items)
    html = "<hr>".join(alert_html(facts) for facts in items)
    return Message(title=title, text=f"{title}\n\n{text}", html=f"<h1>{escape(title)}</h1>{html}")
