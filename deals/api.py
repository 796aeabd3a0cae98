"""API endpoints of deals: alert rules, notifications, deals and watches, deal sources, the
Home Assistant state of a product, and the account export/import. Owner-scoped throughout:
another person's id answers 404. `config/api.py` mounts this router."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from tracker import selectors as tracker_selectors
from tracker.api.schemas import ERRORS, Amount, Error, Id, Text, text_clean

from . import tasks
from .alerts.evaluation import products_quality, rule_save
from .models import AlertRule, DealMatch, DealSource, Notification, Watch
from .scout import selectors as scout_selectors
from .scout.titles import parse_query
from .transfer import account_export, account_import

router = Router()

Limit = Query(50, ge=1, le=500)
Offset = Query(0, ge=0, le=10**9)
RuleKind = Literal[tuple(AlertRule.Kind.values)]  # type: ignore[valid-type]
Condition = Literal[tuple(Watch.Condition.values)]  # type: ignore[valid-type]
SourceKind = Literal[tuple(DealSource.Kind.values)]  # type: ignore[valid-type]


class ProductState(Schema):
    """What a Home Assistant REST sensor reads: state = price, the rest as attributes."""

    product_id: int
    name: str
    price: Decimal | None
    currency: str
    in_stock: bool | None
    store: str | None
    url: str | None
    status: str
    checked_at: datetime | None
    deal: bool
    deal_state: str = Field(description="all_time_low, near_low, below_median, usual, above_usual or not_enough")
    deal_label: str


@router.get("/products/{product_id}/state", response={200: ProductState, ERRORS: Error}, tags=["home assistant"],
            summary="A product's current price, stock and deal state")
def product_state(request: HttpRequest, product_id: Id):
    product = tracker_selectors.product_get(owner=request.user, product_id=product_id)
    row = tracker_selectors.product_summaries(owner=request.user, product_ids=[product.pk])[0]
    quality = products_quality(products=[product])[product.pk]
    current = row.current
    return {
        "product_id": product.pk,
        "name": product.name,
        "price": row.price,
        "currency": row.currency,
        "in_stock": current.in_stock if current else None,
        "store": str(current.store) if current else None,
        "url": current.url if current else None,
        "status": row.status,
        "checked_at": current.last_checked_at if current else None,
        "deal": quality.is_deal,
        "deal_state": quality.level,
        "deal_label": quality.label,
    }


class RuleOut(Schema):
    id: int
    product_id: int
    store_id: int | None
    kind: str
    threshold: Decimal | None
    window_days: int
    enabled: bool
    armed: bool
    last_fired_at: datetime | None


class RuleIn(Schema):
    product_id: Id
    kind: RuleKind
    threshold: Amount | None = None
    window_days: Literal[30, 90] = 30
    enabled: bool = True


class RulePatch(Schema):
    threshold: Amount | None = None
    window_days: Literal[30, 90] | None = None
    enabled: bool | None = None


class RulePage(Schema):
    items: list[RuleOut]
    count: int


def _rules(request: HttpRequest):
    return AlertRule.objects.filter(product__owner=request.user).order_by("pk")


@router.get("/alert-rules", response={200: RulePage, ERRORS: Error}, tags=["alerts"], summary="Your alert rules")
def rules_list(request: HttpRequest, product_id: Id | None = None, limit: int = Limit, offset: int = Offset):
    rules = _rules(request)
    if product_id is not None:
        rules = rules.filter(product_id=product_id)
    return {"items": list(rules[offset : offset + limit]), "count": rules.count()}


@router.post("/alert-rules", response={201: RuleOut, ERRORS: Error}, tags=["alerts"], summary="Add an alert rule")
def rules_add(request: HttpRequest, payload: RuleIn):
    product = tracker_selectors.product_get(owner=request.user, product_id=payload.product_id)
    rule = AlertRule(product=product, kind=payload.kind, threshold=payload.threshold,
                     window_days=payload.window_days, enabled=payload.enabled)
    try:
        rule_save(rule=rule)
    except ValueError as exc:
        raise HttpError(400, str(exc)) from exc
    tasks.enqueue_rule_judgement(rule=rule)
    return 201, rule


@router.get("/alert-rules/{rule_id}", response={200: RuleOut, ERRORS: Error}, tags=["alerts"], summary="One alert rule")
def rules_read(request: HttpRequest, rule_id: Id):
    return get_object_or_404(_rules(request), pk=rule_id)


@router.patch("/alert-rules/{rule_id}", response={200: RuleOut, ERRORS: Error}, tags=["alerts"], summary="Change a rule")
def rules_update(request: HttpRequest, rule_id: Id, payload: RulePatch):
    rule = get_object_or_404(_rules(request), pk=rule_id)
    for name, value in payload.dict(exclude_unset=True).items():
        if value is not None or name == "threshold":
            setattr(rule, name, value)
    try:
        rule_save(rule=rule)
    except ValueError as exc:
        raise HttpError(400, str(exc)) from exc
    tasks.enqueue_rule_judgement(rule=rule)
    return rule


@router.delete("/alert-rules/{rule_id}", response={204: None, ERRORS: Error}, tags=["alerts"], summary="Remove a rule")
def rules_delete(request: HttpRequest, rule_id: Id):
    get_object_or_404(_rules(request), pk=rule_id).delete()
    return 204, None


class NotificationOut(Schema):
    id: int
    status: str
    channel: str
    product_id: int
    reason: str
    created_at: datetime
    sent_at: datetime | None
    last_error: str


class NotificationPage(Schema):
    items: list[NotificationOut]
    count: int


@router.get("/notifications", response={200: NotificationPage, ERRORS: Error}, tags=["alerts"],
            summary="Alert notifications sent (or waiting) to your channels")
def notifications_list(request: HttpRequest, limit: int = Limit, offset: int = Offset):
    rows = (Notification.objects.filter(channel__owner=request.user).select_related("channel", "event")
            .order_by("-created_at", "-pk"))
    items = [
        {"id": row.pk, "status": row.status, "channel": row.channel.name, "product_id": row.event.product_id,
         "reason": row.event.reason, "created_at": row.created_at, "sent_at": row.sent_at, "last_error": row.last_error}
        for row in rows[offset : offset + limit]
    ]
    return {"items": items, "count": rows.count()}


class DealOut(Schema):
    id: int
    watch_id: int
    title: str
    url: str
    price: Decimal | None
    currency: str
    condition: str
    source: str
    status: str
    score: int
    suspicious: bool
    comparable_price: Decimal | None
    reason: str
    matched_at: datetime


class DealPage(Schema):
    items: list[DealOut]
    count: int


@router.get("/deals", response={200: DealPage, ERRORS: Error}, tags=["deals"], summary="Deals matching your watches")
def deals_list(request: HttpRequest, watch_id: Id | None = None, min_score: int | None = Query(None, ge=0, le=100),
               limit: int = Limit, offset: int = Offset):
    matches = scout_selectors.deals_for(owner=request.user, watch_id=watch_id, min_score=min_score)
    items = [_deal(match) for match in matches[offset : offset + limit]]
    return {"items": items, "count": matches.count()}


def _deal(match: DealMatch) -> dict:
    item = match.listing
    return {"id": match.pk, "watch_id": match.watch_id, "title": item.title, "url": item.url, "price": item.price,
            "currency": item.currency, "condition": item.condition, "source": item.source.name, "status": item.status,
            "score": match.score, "suspicious": match.suspicious, "comparable_price": match.comparable_price,
            "reason": match.reason, "matched_at": match.matched_at}


class WatchOut(Schema):
    id: int
    name: str
    query: str
    max_price: Decimal | None
    condition: str
    product_id: int | None
    alert_min_score: int
    enabled: bool


class WatchIn(Schema):
    query: Text = Field(min_length=1, max_length=300)
    name: Text = Field("", max_length=200)
    max_price: Amount | None = None
    condition: Condition = Watch.Condition.ANY
    product_id: Id | None = None
    alert_min_score: int = Field(20, ge=0, le=100)
    enabled: bool = True


class WatchPage(Schema):
    items: list[WatchOut]
    count: int


def _watches(request: HttpRequest):
    return Watch.objects.filter(owner=request.user).order_by("pk")


def _watch_save(request: HttpRequest, watch: Watch, data: dict) -> Watch:
    if "query" in data and parse_query(data["query"]).is_empty:
        raise HttpError(400, "give at least one keyword to look for (words after - are exclusions)")
    if data.get("product_id") is not None:
        tracker_selectors.product_get(owner=request.user, product_id=data["product_id"])
    for name, value in data.items():
        setattr(watch, name, value)
    watch.save()
    tasks.enqueue_watch_match(watch_id=watch.pk)  # matched at once against the items already seen
    return watch


@router.get("/watches", response={200: WatchPage, ERRORS: Error}, tags=["deals"], summary="Your watches")
def watches_list(request: HttpRequest, limit: int = Limit, offset: int = Offset):
    watches = _watches(request)
    return {"items": list(watches[offset : offset + limit]), "count": watches.count()}


@router.post("/watches", response={201: WatchOut, ERRORS: Error}, tags=["deals"], summary="Watch for deals")
def watches_add(request: HttpRequest, payload: WatchIn):
    return 201, _watch_save(request, Watch(owner=request.user), payload.dict())


@router.get("/watches/{watch_id}", response={200: WatchOut, ERRORS: Error}, tags=["deals"], summary="One watch")
def watches_read(request: HttpRequest, watch_id: Id):
    return get_object_or_404(_watches(request), pk=watch_id)


@router.delete("/watches/{watch_id}", response={204: None, ERRORS: Error}, tags=["deals"], summary="Remove a watch")
def watches_delete(request: HttpRequest, watch_id: Id):
    get_object_or_404(_watches(request), pk=watch_id).delete()
    return 204, None


class SourceOut(Schema):
    id: int
    name: str
    kind: str
    url: str
    shared: bool
    enabled: bool
    poll_interval_minutes: int
    last_scan_at: datetime | None
    last_status: str
    last_item_count: int


class SourcePage(Schema):
    items: list[SourceOut]
    count: int


def _source(source: DealSource) -> dict:
    return {"id": source.pk, "name": source.name, "kind": source.kind, "url": source.url,
            "shared": source.owner_id is None, "enabled": source.enabled,
            "poll_interval_minutes": source.poll_interval_minutes, "last_scan_at": source.last_scan_at,
            "last_status": source.last_status, "last_item_count": source.last_item_count}


@router.get("/deal-sources", response={200: SourcePage, ERRORS: Error}, tags=["deals"],
            summary="Deal sources you see (shared ones and yours)")
def sources_list(request: HttpRequest, limit: int = Limit, offset: int = Offset):
    sources = scout_selectors.sources_visible_to(request.user).order_by("pk")
    return {"items": [_source(item) for item in sources[offset : offset + limit]], "count": sources.count()}


@router.get("/deal-sources/{source_id}", response={200: SourceOut, ERRORS: Error}, tags=["deals"], summary="One source")
def sources_read(request: HttpRequest, source_id: Id):
    return _source(get_object_or_404(scout_selectors.sources_visible_to(request.user), pk=source_id))


@router.post("/deal-sources/{source_id}/scan", response={202: SourceOut, ERRORS: Error}, tags=["deals"],
             summary="Scan a source now")
def sources_scan(request: HttpRequest, source_id: Id):
    source = get_object_or_404(scout_selectors.sources_visible_to(request.user), pk=source_id)
    tasks.scan_source.delay_on_commit(source.pk)
    return 202, _source(source)


@router.delete("/deal-sources/{source_id}", response={204: None, ERRORS: Error}, tags=["deals"],
               summary="Remove one of your sources (shared ones answer 404)")
def sources_delete(request: HttpRequest, source_id: Id):
    get_object_or_404(DealSource, pk=source_id, owner=request.user).delete()
    return 204, None


class AccountIn(Schema):
    format: Text = Field(description="pricetracker-account/1, as the export says")
    products: list[dict] = []
    channels: list[dict] = []


class AccountImportOut(Schema):
    products: list[dict]
    channels: list[dict]


@router.get("/account/export", response={200: dict, ERRORS: Error}, tags=["account"],
            summary="Your products, rules and channels as JSON (channel secrets left out)")
def account_export_view(request: HttpRequest):
    return account_export(owner=request.user)


@router.post("/account/import", response={200: AccountImportOut, ERRORS: Error}, tags=["account"],
             summary="Bring in an account export")
def account_import_view(request: HttpRequest, payload: AccountIn):
    try:
        return account_import(owner=request.user, data=text_clean(payload.dict()))
    except ValueError as exc:
        raise HttpError(400, str(exc)) from exc
