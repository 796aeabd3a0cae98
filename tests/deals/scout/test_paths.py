"""Every way in gives the same answer: the command, "Scan now", the beat and a saved watch go
through one match, score and notify path, and a deal is told once per item and channel."""

from decimal import Decimal as D
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from deals.models import DealListing, DealMatch, DealNotification, DealSource, Watch
from deals.notifications import delivery
from deals.notifications.channels import channel_add
from deals.notifications.content import message_for_alert

FIXTURES = Path(__file__).parent / "fixtures"
GOOGLE = (FIXTURES / "rss_google_merchant.xml").read_text()


def _source(feed_server, body=GOOGLE):
    url = feed_server.serve("/g.xml", body, "application/rss+xml")
    return DealSource.objects.create(name="Shop Two feed", kind="feed", url=url)


def _hook(user, http_receiver):
    return channel_add(owner=user, name="hook", url=f"json://127.0.0.1:{http_receiver.port}/hook")


def _messages(http_receiver, expect: int):
    received = http_receiver.wait_for(expect + 1, timeout=1.5)  # wait for one too many: none may come
    return [f"{r['json'].get('title', '')}\n{r['json'].get('message', '')}" for r in received]


@pytest.mark.django_db(transaction=True)
def test_the_command_notifies_and_says_so_then_scan_now_does_not_notify_again(
    user, client, feed_server, http_receiver, eager_celery
):
    _hook(user, http_receiver)
    Watch.objects.create(owner=user, query="wh-1000xm5", alert_min_score=15)
    source = _source(feed_server)
    out = StringIO()
    call_command("scan_source", str(source.pk), stdout=out)
    printed = out.getvalue()
    # Renewed at 219 against the silver (299) and the bundle (349): 32 % under.
    assert "notified: Sony WH-1000XM5 (Renewed) — 219.00 USD" in printed and "to 1 channel(s)" in printed
    client.force_login(user)
    assert client.post(reverse("scout:source_scan", args=[source.pk])).status_code == 302
    messages = _messages(http_receiver, 1)
    assert len(messages) == 1 and "Sony WH-1000XM5 (Renewed)" in messages[0]
    assert DealMatch.objects.filter(notified_at__isnull=False).count() == 1


@pytest.mark.django_db(transaction=True)
def test_scan_now_notifies_then_the_command_has_nothing_left_to_tell(user, client, feed_server, http_receiver, eager_celery):
    _hook(user, http_receiver)
    Watch.objects.create(owner=user, query="wh-1000xm5", alert_min_score=15)
    source = _source(feed_server)
    client.force_login(user)
    client.post(reverse("scout:source_scan", args=[source.pk]))
    out = StringIO()
    call_command("scan_source", str(source.pk), stdout=out)
    assert "notified: nothing" in out.getvalue()
    assert len(_messages(http_receiver, 1)) == 1


@pytest.mark.django_db(transaction=True)
def test_the_beat_path_notifies_once_too(user, feed_server, http_receiver, eager_celery):
    from deals import tasks

    _hook(user, http_receiver)
    Watch.objects.create(owner=user, query="wh-1000xm5", alert_min_score=15)
    _source(feed_server)
    assert tasks.scan_all() == 1
    DealSource.objects.update(next_scan_at=DealSource.objects.get().last_scan_at)
    tasks.scan_all()
    assert len(_messages(http_receiver, 1)) == 1


@pytest.mark.django_db(transaction=True)
def test_a_watch_added_after_a_scan_matches_what_was_seen_and_the_page_says_what_is_true(
    user, client, feed_server, eager_celery
):
    source = _source(feed_server)
    from deals.scout import scan

    assert scan.source_scan(source=source).items == 3
    client.force_login(user)
    page = client.get(reverse("scout:deals")).content.decode()
    assert "No watches yet: 3 items seen" in page and "Add a watch and a" not in page
    Watch.objects.create(owner=user, query="nothing like it")
    page = client.get(reverse("scout:deals")).content.decode()
    assert "No matches yet for your 1 watch: 3 items seen on 1 source" in page

    response = client.post(reverse("scout:watches"), {"query": "wh-1000xm5", "condition": "any", "alert_min_score": 20})
    assert response.status_code == 302
    watch = Watch.objects.get(query="wh-1000xm5")
    assert watch.matches.count() == 3  # matched at once against the items already seen
    page = client.get(reverse("scout:deals")).content.decode()
    assert "Sony WH-1000XM5 (Renewed)" in page and "32 % below the usual price" in page
    assert "Comparables used" in page and "Sony WH-1000XM5 bundle with travel case" in page

    # Editing the watch brings its matches up to date: a ceiling of 250 leaves the renewed one.
    response = client.post(
        reverse("scout:watch_edit", args=[watch.pk]),
        {"query": "wh-1000xm5", "condition": "any", "alert_min_score": 20, "max_price": "250"},
    )
    assert response.status_code == 302
    assert list(watch.matches.values_list("listing__title", flat=True)) == ["Sony WH-1000XM5 (Renewed)"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("narrow_watch_first", [False, True])
def test_one_message_per_item_however_many_watches_with_its_own_before_and_the_usual(
    user, feed_server, http_receiver, eager_celery, narrow_watch_first
):
    """The item is told by its best-scored match, whichever watch was made (or found) first:
    the narrow watch matches the renewed item alone, so it has no usual price to tell."""
    from deals import tasks

    _hook(user, http_receiver)
    queries = ["wh-1000xm5", "wh-1000xm5 renewed"]
    for query in reversed(queries) if narrow_watch_first else queries:
        Watch.objects.create(owner=user, query=query, alert_min_score=15)
    source = _source(feed_server, GOOGLE.replace("219.00 USD", "329.00 USD"))
    tasks.scan_source(source.pk)  # 329 is no deal
    assert _messages(http_receiver, 0) == []
    feed_server.serve("/g.xml", GOOGLE.replace("219.00 USD", "199.00 USD"), "application/rss+xml")
    tasks.scan_source(source.pk)
    [message] = _messages(http_receiver, 1)
    assert DealMatch.objects.filter(listing__title="Sony WH-1000XM5 (Renewed)").count() == 2
    assert DealNotification.objects.count() == 1
    assert "Sony WH-1000XM5 (Renewed)" in message
    assert "$329.00 → $199.00" in message  # before: its own previous price, not the comparable
    assert "Usual price: $324.00" in message  # the comparable: the silver and the bundle
    assert "Stock: In stock" in message  # the feed said in_stock


@pytest.mark.django_db
@pytest.mark.parametrize("order", [1, -1])
def test_an_item_two_watches_scored_alike_is_told_by_the_match_with_comparables(user, order):
    """Both watches score the item 40 (a drop from its own price); only the broad one has
    comparables. The scan's order is the database's (PostgreSQL once gave the narrow one
    first and the message lost its usual price)."""
    from deals import tasks

    channel_add(owner=user, name="hook", url="json://127.0.0.1:9/hook")  # digest or not, nothing is sent here
    source = DealSource.objects.create(name="s", kind="feed", url="http://127.0.0.1:9/f")
    listing = DealListing.objects.create(source=source, external_id="1", title="Sony WH-1000XM5 (Renewed)",
                                         price=D("199"), previous_price=D("329"), currency="USD", in_stock=True)
    broad, narrow = (Watch.objects.create(owner=user, query=q) for q in ("wh-1000xm5", "wh-1000xm5 renewed"))
    matches = [
        DealMatch.objects.create(watch=broad, listing=listing, comparable_price=D("324"), comparable_count=2, score=40),
        DealMatch.objects.create(watch=narrow, listing=listing, comparable_count=0, score=40),
    ][::order]
    tasks.matches_notify(matches=matches)
    [told] = DealNotification.objects.all()  # one message for the item
    assert told.match.watch == broad and told.match.comparable_price == D("324")


@pytest.mark.django_db
def test_a_deal_message_says_the_stock_the_source_gave(user):
    source = DealSource.objects.create(name="s", kind="feed", url="http://127.0.0.1:9/f")
    watch = Watch.objects.create(owner=user, query="wh-1000xm5")
    texts = {}
    for n, in_stock in enumerate([True, False, None]):
        listing = DealListing.objects.create(
            source=source, external_id=str(n), title="Sony WH-1000XM5", price=D("250"), currency="USD", in_stock=in_stock
        )
        match = DealMatch.objects.create(watch=watch, listing=listing, comparable_price=D("300"), comparable_count=4, score=17)
        texts[in_stock] = message_for_alert(delivery.deal_facts(match=match)).text
    assert "Stock: In stock" in texts[True]
    assert "Stock: Out of stock" in texts[False]
    assert "Stock: Stock unknown" in texts[None]
    # Seen once, no own previous price: the message shows no made-up "before".
    assert "→" not in texts[None] and "Usual price: $300.00" in texts[None]


@pytest.mark.django_db
def test_rescans_bring_matches_up_to_date_when_an_item_changes(user, feed_server):
    from deals.scout import scan

    watch = Watch.objects.create(owner=user, query="wh-1000xm5", max_price=D("300"))
    source = _source(feed_server)
    scan.source_scan(source=source)
    assert set(watch.matches.values_list("listing__title", flat=True)) == {
        "Sony WH-1000XM5 Headphones, Silver", "Sony WH-1000XM5 (Renewed)",
    }
    # The silver one goes over the ceiling, the bundle comes under it.
    feed_server.serve("/g.xml", GOOGLE.replace("299.00 USD", "319.00 USD").replace("349.00 USD", "279.00 USD"), "application/rss+xml")
    scan.source_scan(source=source)
    assert set(watch.matches.values_list("listing__title", flat=True)) == {
        "Sony WH-1000XM5 (Renewed)", "Sony WH-1000XM5 bundle with travel case and 2-year cover",
    }
    renewed = watch.matches.get(listing__title="Sony WH-1000XM5 (Renewed)")
    assert renewed.comparable_price == D("279.00")  # rescored against what the watch now matches


@pytest.mark.django_db(transaction=True)
def test_a_watch_added_through_the_api_matches_what_was_seen(api_client, user, feed_server, eager_celery):
    import json

    from deals.scout import scan

    scan.source_scan(source=_source(feed_server))
    made = api_client.post("/api/v1/watches", data=json.dumps({"query": "wh-1000xm5"}), content_type="application/json")
    assert made.status_code == 201
    assert Watch.objects.get(pk=made.json()["id"]).matches.count() == 3
