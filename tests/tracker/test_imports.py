"""Importing URLs and CSV rows: parsing, a result per row, run twice safely."""

from __future__ import annotations

import pytest

from tests.factories import ListingFactory
from tracker.imports import (
    MAX_ROWS,
    ImportRefused,
    import_create,
    import_rows_parse,
    import_run,
    import_status,
)
from tracker.models import CheckLog, ImportJob, Listing, Product, Store
from tracker.money import money_format


def test_one_url_a_line_skipping_blanks_and_comments():
    rows = import_rows_parse(text="http://127.0.0.1/a\n\n# mine\n  http://127.0.0.1/b  \n")
    assert [(row["url"], row["line"]) for row in rows] == [("http://127.0.0.1/a", 1), ("http://127.0.0.1/b", 4)]


def test_csv_with_a_header_in_any_column_order():
    rows = import_rows_parse(text="name,url,target_price\nKettle,http://127.0.0.1/k,19.90\n")
    assert rows == [{"name": "Kettle", "url": "http://127.0.0.1/k", "target_price": "19.90", "line": 2}]


def test_csv_without_a_header_reads_url_name_priority_target_price():
    rows = import_rows_parse(text='http://127.0.0.1/k,"Kettle, 1 l",high,19.90\r\n')
    assert rows == [
        {"url": "http://127.0.0.1/k", "name": "Kettle, 1 l", "priority": "high", "target_price": "19.90", "line": 1}
    ]


@pytest.mark.parametrize("text", ["", "\n\n# nothing\n", "url,name\n"])
def test_no_rows_is_refused_with_a_reason(text):
    with pytest.raises(ImportRefused, match="no URLs found"):
        import_rows_parse(text=text)


def test_text_that_is_not_csv_is_refused_not_a_crash():
    with pytest.raises(ImportRefused, match="cannot be read as CSV"):
        import_rows_parse(text="http://127.0.0.1/" + "a" * 200_000)  # over csv's field limit


def test_too_many_rows_are_refused():
    with pytest.raises(ImportRefused, match=str(MAX_ROWS)):
        import_rows_parse(text="\n".join(f"http://127.0.0.1/{n}" for n in range(MAX_ROWS + 1)))


SLUG = "aurora-espresso-machine"


@pytest.fixture
def shop(demo_shop, settings, no_name_resolves):
    """The demo shop, which each row's first check fetches from (loopback allowed)."""
    settings.FETCH_ALLOW_HOSTS = ["127.0.0.1"]
    return demo_shop


@pytest.mark.django_db
def test_a_csv_of_a_good_page_a_404_and_a_page_without_a_price_adds_one_and_says_why_not(user, shop):
    text = "\n".join(
        [
            "url,name,priority,target_price",
            f"{shop.product_url(SLUG)},Espresso,,",
            f"{shop.url}/product/no-such-thing,Gone,,",
            f"{shop.url}/info/shipping,Shipping,,",
        ]
    )
    status = import_status(job=import_run(job_id=import_create(owner=user, text=text).pk))
    assert [row["outcome"] for row in status["results"]] == ["added", "refused", "refused"]
    added, gone, priceless = status["results"]
    listing = Listing.objects.get(product__owner=user)
    assert listing.url == shop.product_url(SLUG) and added["product_id"] == listing.product_id
    assert listing.last_price is not None and money_format(amount=listing.last_price, currency="USD") in added["message"]
    assert "does not exist (HTTP 404)" in gone["message"] and gone["product_id"] is None
    assert "shows no price we can read" in priceless["message"]
    assert status["counts"] == {"added": 1, "duplicate": 0, "refused": 2}
    assert Product.objects.filter(owner=user).count() == 1
    assert Store.objects.count() == 1 and not CheckLog.objects.exclude(listing=listing).exists()


@pytest.mark.django_db
def test_each_row_gets_its_result(user, shop):
    ListingFactory(product__owner=user, product__name="Old kettle", url=f"{shop.url}/product/old")
    new = shop.product_url(SLUG)
    text = "\n".join(
        [
            "url,name,priority,target_price",
            f"{new},New espresso,high,",
            f"{shop.url}/product/old,,,",
            "ftp://127.0.0.1/file,,,",
            f"{shop.url}/product/other,,urgent,",
            f"{shop.url}/product/cheap,,,ten euros",
            f"{new},,,",
        ]
    )
    job = import_run(job_id=import_create(owner=user, text=text).pk)
    status = import_status(job=job)
    outcomes = [(row["line"], row["outcome"]) for row in status["results"]]
    assert outcomes == [(2, "added"), (3, "duplicate"), (4, "refused"), (5, "refused"), (6, "refused"), (7, "duplicate")]
    messages = [row["message"] for row in status["results"]]
    assert "Old kettle" in messages[1]
    assert "cannot be tracked" in messages[2]
    assert "unknown priority" in messages[3]
    assert "not a number" in messages[4]
    assert status["counts"] == {"added": 1, "duplicate": 2, "refused": 3}
    assert status["done"] == status["total"] == 6 and status["status"] == "done"
    added = Listing.objects.get(url=new)
    assert added.product.name == "New espresso" and added.priority == "high"
    assert Product.objects.filter(owner=user).count() == 2


@pytest.mark.django_db
def test_running_an_import_twice_adds_nothing_twice(user, shop):
    job = import_create(owner=user, text=f"{shop.product_url(SLUG)}\n{shop.product_url('trailblazer-hiking-backpack')}")
    import_run(job_id=job.pk)
    assert import_run(job_id=job.pk) is None  # done: not claimed again
    assert Product.objects.filter(owner=user).count() == 2


@pytest.mark.django_db
def test_an_interrupted_import_resumes_after_its_last_result(user, shop):
    urls = [shop.product_url(slug) for slug in (SLUG, "trailblazer-hiking-backpack", "nimbus-noise-cancelling-headphones")]
    job = import_create(owner=user, text="\n".join(urls))
    # a worker died after handling the first row (results are saved in batches)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING,
        results=[{"line": 1, "url": urls[0], "outcome": "refused", "message": "x", "product_id": None}],
    )
    job = import_run(job_id=job.pk)
    assert [row["outcome"] for row in job.results] == ["refused", "added", "added"]
    assert not Listing.objects.filter(url=urls[0]).exists()


@pytest.mark.django_db
def test_an_import_past_its_time_budget_saves_its_results_and_goes_on_in_a_new_task(user, shop, monkeypatch):
    from tracker import imports, tasks

    urls = [shop.product_url(slug) for slug in (SLUG, "trailblazer-hiking-backpack")]
    job = import_create(owner=user, text="\n".join(urls))
    monkeypatch.setattr(imports, "IMPORT_TASK_BUDGET", 0.0)  # every row is over the budget
    sent = []
    monkeypatch.setattr(tasks.import_run, "delay", lambda job_id: sent.append(job_id))
    assert tasks.import_run(job.pk) == ImportJob.Status.RUNNING
    job.refresh_from_db()
    assert [row["outcome"] for row in job.results] == ["added"]  # saved for the page to show
    assert sent == [job.pk]  # the rest goes on in a new task
    assert tasks.import_run(job.pk) == ImportJob.Status.DONE
    job.refresh_from_db()
    assert [row["outcome"] for row in job.results] == ["added", "added"] and sent == [job.pk]
