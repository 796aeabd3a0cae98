"""`manage.py backup` then `manage.py restore` into an empty database gives back the same data."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from metrics.backup import backups_prune
from tracker.models import Listing, PricePoint, Product, Store

from .conftest import ROOT, database_url


def _manage(*args: str, database: str, tmp_path) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": database, "DATA_DIR": str(tmp_path / "data"),
           "LOG_FORMAT": "plain", "METRICS_ENABLED": "false"}
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _history(user) -> None:
    store = Store.objects.create(domain="shop.test")
    start = timezone.now() - timedelta(days=3)
    for n in range(3):
        product = Product.objects.create(owner=user, name=f"Product {n}")
        listing = Listing.objects.create(product=product, store=store, url=f"http://shop.test/{n}")
        for i in range(5):
            PricePoint.objects.create(listing=listing, price=Decimal(f"{10 + n}.{i}0"), currency="EUR",
                                      checked_at=start + timedelta(hours=i), method="json-ld")


def _rows(cursor) -> tuple[list, list]:
    cursor.execute("SELECT id, name FROM tracker_product ORDER BY id")
    products = [tuple(r) for r in cursor.fetchall()]
    cursor.execute("SELECT listing_id, price, currency, checked_at FROM tracker_pricepoint ORDER BY id")
    prices = [(r[0], Decimal(str(r[1])), r[2], str(r[3])[:19]) for r in cursor.fetchall()]
    return products, prices


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_into_an_empty_database_gives_the_same_products_and_history(user, tmp_path):
    _history(user)
    with connection.cursor() as cursor:
        expected = _rows(cursor)
    assert len(expected[0]) == 3 and len(expected[1]) == 15
    backup = tmp_path / ("backup.sqlite3" if connection.vendor == "sqlite" else "backup.dump")
    _manage("backup", "--output", str(backup), database=database_url(), tmp_path=tmp_path)
    assert backup.is_file() and not backup.with_name(backup.name + ".partial").exists()

    if connection.vendor == "sqlite":
        empty = tmp_path / "empty.sqlite3"
        _manage("restore", str(backup), "--yes", database=f"sqlite:///{empty}", tmp_path=tmp_path)
        with sqlite3.connect(empty) as restored:
            got = _rows(restored.cursor())
    else:
        import psycopg

        name = f"{connection.settings_dict['NAME']}_restore"
        admin_url = database_url().rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            target = database_url().rsplit("/", 1)[0] + f"/{name}"
            _manage("restore", str(backup), "--yes", database=target, tmp_path=tmp_path)
            with psycopg.connect(target) as restored:
                got = _rows(restored.cursor())
        finally:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    assert got == expected


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello")
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
           "DATA_DIR": str(tmp_path / "data"), "METRICS_ENABLED": "false"}
    done = subprocess.run([sys.executable, "manage.py", "restore", str(bogus), "--yes"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "not an SQLite backup" in done.stderr


def test_pruning_keeps_the_newest_backups(tmp_path):
    for stamp in ("20260101-010000", "20260102-010000", "20260103-010000"):
        (tmp_path / f"pricetracker-{stamp}.sqlite3").write_bytes(b"x")
    (tmp_path / "unrelated.txt").write_text("keep me")
    removed = backups_prune(directory=tmp_path, keep=2)
    assert [p.name for p in removed] == ["pricetracker-20260101-010000.sqlite3"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "pricetracker-20260102-010000.sqlite3", "pricetracker-20260103-010000.sqlite3", "unrelated.txt",
    ]
