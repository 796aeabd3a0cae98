"""A shop redesign: the pattern's failures are noticed within a few checks (or by the daily
health check), a new pattern is learned, prices resume, and no wrong price is recorded."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from demoshop.catalogue import price_at
from demoshop.server import start_in_thread
from tests.tracker.fake_llm import FakeLLM, answer
from tests.tracker.shop_pages import PRODUCTS, shop_page
from tracker import checking, tasks
from tracker.models import ExtractionPattern, Listing, ListingPage, PricePoint, Product, Store

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _recording_send(queued: list):
    """Stands in for apply_async: records (args, the queue the message would go to)."""
    from config.celery import app

    def send(args, kwargs=None, **options):
        queue = options.get("queue") or app.amqp.router.route({}, tasks.generate_pattern.name)["queue"].name
        queued.append((list(args), queue))

    return send


@pytest.fixture(autouse=True)
def loopback_fetching(settings, tmp_path):
    # A pacing limiter of this test's own: store ids repeat across tests and parallel runs.
    settings.DATA_DIR, settings.REDIS_URL = tmp_path, ""
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    settings.FETCH_RESPECT_ROBOTS = False
    settings.OPENAI_API_KEY = ""


@pytest.fixture
def demoshop():
    shop = start_in_thread(theme="v1", clock=lambda: NOW)
    yield shop
    shop.stop()


class PageServer:
    """The test shop (pages without structured data), served on 127.0.0.1; pages can change."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                body = owner.pages.get(self.path)
                data = (body or "not found").encode()
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def testshop():
    server = PageServer()
    yield server
    server.stop()


def fast_store() -> Store:
    # The local shops may be fetched as fast as the tests go (politeness is tested elsewhere).
    store, _ = Store.objects.get_or_create(
        domain="127.0.0.1", defaults={"rate_limit_per_minute": 600_000, "max_concurrency": 50}
    )
    return store


def check(listing: Listing):
    check_log = checking.check_create(listing=listing)
    outcome = checking.listing_check(check_id=check_log.pk)
    assert outcome is not None
    return outcome


def run_tracker_task_callbacks(callbacks) -> None:
    """Run the after-commit sends of tracker.tasks only (other apps' signal handlers would
    send their own tasks to the broker)."""
    for callback in callbacks:
        if callback.__code__.co_filename.endswith("tracker/tasks.py"):
            callback()


def learn_if_asked(outcome) -> None:
    if outcome.learn_pattern:
        tasks.generate_pattern.run(outcome.check.listing.store_id)


def test_a_demo_shop_redesign_is_noticed_relearned_and_prices_resume(user, demoshop, settings):
    product = Product.objects.create(owner=user, name="demo")
    slugs = ["fjord-wool-blanket", "aurora-espresso-machine", "trailblazer-hiking-backpack"]
    listings = [Listing.objects.create(product=product, store=fast_store(),
                                       url=demoshop.product_url(s)) for s in slugs]
    plain = listings[0]
    true_price = price_at("fjord-wool-blanket", NOW)
    with FakeLLM([{"content": answer(".price-current")}, {"content": answer(".pdp-price__value")}]) as llm:
        settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL = "test-key", llm.base_url
        for listing in listings[1:]:
            assert check(listing).check.outcome == "ok"  # structured data: no pattern needed
        first = check(plain)
        assert first.learn_pattern  # no structured data: learn the store's pattern once
        learn_if_asked(first)
        v1 = ExtractionPattern.objects.get(status="active")
        assert check(plain).price_point.price == true_price

        demoshop.set_theme("v2")
        outcomes = [check(plain) for _ in range(settings.PATTERN_PROBATION_AFTER)]
        # The old selector finds nothing now; whatever the other layers record must be right.
        assert {o.price_point.price for o in outcomes if o.price_point} <= {true_price}
        assert [o.learn_pattern for o in outcomes] == [False] * (settings.PATTERN_PROBATION_AFTER - 1) + [True]
        v1.refresh_from_db()
        assert v1.status == "probation" and v1.consecutive_failures == settings.PATTERN_PROBATION_AFTER
        for listing in listings[1:]:
            check(listing)  # fresh v2 pages of the store to validate on
        learn_if_asked(outcomes[-1])
        v2 = ExtractionPattern.objects.get(status="active")
        assert v2.version == v1.version + 1 and v2.spec != v1.spec
        resumed = check(plain)
        assert resumed.result.method == "pattern" and resumed.price_point.price == true_price
    assert set(PricePoint.objects.filter(listing=plain).values_list("price", flat=True)) == {true_price}
    v1.refresh_from_db()
    assert v1.status == "retired"
    assert Store.objects.get(domain="127.0.0.1").extraction_status == "ok"


def make_listings(user, testshop, count=3):
    product = Product.objects.create(owner=user, name="test shop")
    store = fast_store()
    listings = []
    for i in range(count):
        testshop.pages[f"/p/{i}"] = shop_page(i)
        listings.append(Listing.objects.create(product=product, store=store, url=f"{testshop.url}/p/{i}"))
    return store, listings


def test_the_daily_health_check_notices_a_redesign_and_learns_with_the_llm(
    user, testshop, settings, monkeypatch, django_capture_on_commit_callbacks
):
    store, listings = make_listings(user, testshop)
    for listing in listings:
        learn_if_asked(check(listing))
    v1 = ExtractionPattern.objects.get(status="active")
    assert v1.source == "heuristic"
    for i in range(3):
        testshop.pages[f"/p/{i}"] = shop_page(i, theme="v2")
    # One check per listing: fewer failures in a row than probation needs.
    first = check(listings[0])
    assert first.price_point is None or first.price_point.price == Decimal(PRODUCTS[0][1])
    for i, listing in enumerate(listings):
        ListingPage.objects.filter(listing=listing).update(html=shop_page(i, theme="v2"))
    queued = []
    monkeypatch.setattr(tasks.generate_pattern, "apply_async", _recording_send(queued))
    with FakeLLM([{"content": answer("s.pdp__strike")}, {"content": answer(".pdp__pricing .pdp__amount")}]) as llm:
        settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL = "test-key", llm.base_url
        with django_capture_on_commit_callbacks() as callbacks:
            result = tasks.check_pattern_health.run()
        run_tracker_task_callbacks(callbacks)
        assert result == {"failed": 1} and queued == [([store.pk], "llm")]
        store.refresh_from_db()
        assert store.extraction_status == "broken"
        assert tasks.generate_pattern.run(store.pk) == "v2"
    assert "was" in llm.completions[1]["messages"][-1]["content"]  # the strikethrough price refused
    store.refresh_from_db()
    assert store.extraction_status == "ok"
    for i, listing in enumerate(listings):
        outcome = check(listing)
        assert outcome.price_point is not None and str(outcome.price_point.price) == PRODUCTS[i][1]


def test_a_price_ten_times_the_usual_is_flagged_and_not_recorded(user, testshop):
    store, listings = make_listings(user, testshop, count=2)
    for listing in listings:
        learn_if_asked(check(listing))
    listing = listings[0]
    assert check(listing).price_point.price == Decimal("149.00")
    testshop.pages["/p/0"] = shop_page(0, price="1490.00")
    jumped = check(listing)
    assert jumped.check.outcome == "flagged" and jumped.price_point is None
    listing.refresh_from_db()
    assert listing.status == "flagged" and listing.last_price == Decimal("149.00")
    assert set(PricePoint.objects.filter(listing=listing).values_list("price", flat=True)) == {Decimal("149.00")}


def test_a_store_whose_pages_yield_no_pattern_needs_one_and_records_only_right_prices(user, testshop):
    store, listings = make_listings(user, testshop, count=2)
    for i in range(2):
        testshop.pages[f"/p/{i}"] = shop_page(i, theme="v2")  # no stable selector for v2
    outcomes = [check(listing) for listing in listings]
    assert [o.learn_pattern for o in outcomes] == [True, False]  # learning is asked for once
    learn_if_asked(outcomes[0])
    store.refresh_from_db()
    assert store.extraction_status == "needs_pattern"
    assert not ExtractionPattern.objects.exists()
    recorded = {(p.listing_id, p.price) for p in PricePoint.objects.all()}
    assert recorded <= {(listings[i].pk, Decimal(PRODUCTS[i][1])) for i in range(2)}


def test_a_check_that_needs_a_pattern_queues_learning_on_the_llm_queue(
    user, testshop, monkeypatch, django_capture_on_commit_callbacks
):
    store, listings = make_listings(user, testshop, count=2)
    queued = []
    monkeypatch.setattr(tasks.generate_pattern, "apply_async", _recording_send(queued))
    with django_capture_on_commit_callbacks() as callbacks:
        for listing in listings:
            check_log = checking.check_create(listing=listing)
            tasks.check_listing.run(listing.pk, check_log.pk)
    run_tracker_task_callbacks(callbacks)
    assert queued == [([store.pk], "llm")]  # once per store, not once per check
