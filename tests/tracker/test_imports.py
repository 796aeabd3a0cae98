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
from tracker.models import ImportJob, Listing, Product


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


@pytest.mark.django_db
def test_each_row_gets_its_result(user):
    ListingFactory(product__owner=user, product__name="Old kettle", url="http://127.0.0.1/old")
    text = "\n".join(
        [
            "url,name,priority,target_price",
            "http://127.0.0.1/new,New TV,high,",
            "http://127.0.0.1/old,,,",
            "ftp://127.0.0.1/file,,,",
            "http://127.0.0.1/other,,urgent,",
            "http://127.0.0.1/cheap,,,ten euros",
            "http://127.0.0.1/new,,,",
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
    added = Listing.objects.get(url="http://127.0.0.1/new")
    assert added.product.name == "New TV" and added.priority == "high"
    assert Product.objects.filter(owner=user).count() == 2


@pytest.mark.django_db
def test_running_an_import_twice_adds_nothing_twice(user):
    job = import_create(owner=user, text="http://127.0.0.1/a\nhttp://127.0.0.1/b")
    import_run(job_id=job.pk)
    assert import_run(job_id=job.pk) is None  # done: not claimed again
    assert Product.objects.filter(owner=user).count() == 2


@pytest.mark.django_db
def test_an_interrupted_import_resumes_after_its_last_result(user):
    job = import_create(owner=user, text="http://127.0.0.1/a\nhttp://127.0.0.1/b\nhttp://127.0.0.1/c")
    # a worker died after handling the first row (results are saved in batches)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING,
        results=[{"line": 1, "url": "http://127.0.0.1/a", "outcome": "refused", "message": "x", "product_id": None}],
    )
    job = import_run(job_id=job.pk)
    assert [row["outcome"] for row in job.results] == ["refused", "added", "added"]
    assert not Listing.objects.filter(url="http://127.0.0.1/a").exists()
