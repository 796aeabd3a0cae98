"""A person's account as JSON: products (tracker's export), their alert rules, and channels
with their secrets left out, and the way back in. Also turns an import's target price into
a "price at or below" rule (tracker sends `target_price_requested`, it cannot import deals)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction

from tracker.adding import url_track
from tracker.exports import products_export
from tracker.models import Product

from .alerts.evaluation import rule_save
from .models import AlertRule, Channel

FORMAT = "pricetracker-account/1"


def on_target_price_requested(sender, *, product_id: int, target_price: Decimal, **kwargs) -> None:
    product = Product.objects.filter(pk=product_id).first()
    if product is not None and not product.alert_rules.filter(kind=AlertRule.Kind.TARGET, threshold=target_price).exists():
        rule_save(rule=AlertRule(product=product, kind=AlertRule.Kind.TARGET, threshold=target_price))


def account_export(*, owner) -> dict:
    """Products, rules and channels of a person. Channel URLs (tokens, passwords) never leave."""
    products = products_export(owner=owner)
    rules: dict[int, list[dict]] = {}
    for rule in AlertRule.objects.filter(product__owner=owner).select_related("store").order_by("pk"):
        rules.setdefault(rule.product_id, []).append(
            {
                "kind": rule.kind,
                "threshold": str(rule.threshold) if rule.threshold is not None else None,
                "window_days": rule.window_days,
                "enabled": rule.enabled,
                "store": rule.store.domain if rule.store else None,
            }
        )
    for product in products:
        product["rules"] = rules.get(product.pop("id"), [])
    channels = [
        {"name": channel.name, "kind": channel.kind, "mode": channel.mode, "enabled": channel.enabled,
         "email_to": channel.email_to if channel.kind == Channel.Kind.EMAIL else ""}
        for channel in Channel.objects.filter(owner=owner).order_by("pk")
    ]
    return {"format": FORMAT, "products": products, "channels": channels}


def _threshold(raw) -> Decimal | None:
    if raw in (None, ""):
        return None
    try:
        value = Decimal(str(raw))
    except InvalidOperation as exc:
        raise ValueError(f"threshold {raw!r} is not a number") from exc
    if not value.is_finite() or value < 0 or value >= Decimal("1e12"):
        raise ValueError(f"threshold {raw!r} is out of range")
    return value


def account_import(*, owner, data: dict) -> dict:
    """Bring an account export in: products through the add rule (url_track), their rules, and
    channels. Every product is kept whatever its page shows today (url_track's `check_later`):
    the person tracked it, with its rules, in the account the export came from, and a page down
    for a day must not cost them; the first checks go to the workers, as a request bringing in
    a hundred products cannot wait on a hundred shops. A page that gives no price then shows
    why on the dashboard, like any page kept with "keep trying". Apprise channels come without their URL (it was never exported), so they arrive
    switched off until the person gives it again. Safe to run twice: known URLs answer
    "duplicate" and add no rules; a channel of the same name is not made again."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"not a PriceTracker account export (format {FORMAT!r} expected)")
    report = {"products": [], "channels": []}
    for item in data.get("products") or []:
        if not isinstance(item, dict):
            continue
        listings = [entry for entry in item.get("listings") or [] if isinstance(entry, dict)]
        if not listings:
            continue
        first = listings[0]
        found = url_track(owner=owner, url=str(first.get("url", "")), name=str(item.get("name", "")),
                          priority=str(first.get("priority", "")), check_later=True)
        entry = {"url": str(first.get("url", ""))[:300], "outcome": found.outcome, "message": found.message}
        report["products"].append(entry)
        if found.outcome != "added":
            continue
        with transaction.atomic():
            for rule in item.get("rules") or []:
                if not isinstance(rule, dict) or rule.get("kind") not in AlertRule.Kind.values:
                    continue
                try:
                    rule_save(rule=AlertRule(product=found.listing.product, kind=rule["kind"],
                                             threshold=_threshold(rule.get("threshold")),
                                             window_days=rule.get("window_days") if rule.get("window_days") in (30, 90) else 30,
                                             enabled=bool(rule.get("enabled", True))))
                except ValueError as exc:
                    entry["message"] = f"added; a rule was left out: {exc}"
    for item in data.get("channels") or []:
        if not isinstance(item, dict):
            continue
        name = str(item.get("name") or "Channel").strip()[:100]
        if Channel.objects.filter(owner=owner, name=name).exists():
            report["channels"].append({"name": name, "outcome": "duplicate"})
            continue
        kind = item.get("kind") if item.get("kind") in Channel.Kind.values else Channel.Kind.APPRISE
        mode = item.get("mode") if item.get("mode") in Channel.Mode.values else Channel.Mode.IMMEDIATE
        email = str(item.get("email_to") or "")[:254] if kind == Channel.Kind.EMAIL else ""
        Channel.objects.create(owner=owner, name=name, kind=kind, mode=mode, email_to=email, enabled=False)
        report["channels"].append({"name": name, "outcome": "added", "message": "switched off: give its address again"})
    return report
