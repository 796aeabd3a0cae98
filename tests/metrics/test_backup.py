"""`manage.py backup` then `manage.py restore` into an empty database gives back the same data."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.utils import timezone

from metrics.backup import BackupError, backup_decrypt, backup_encrypt, backups_prune
from tracker.models import Listing, PricePoint, Product, Store

from .conftest import ROOT, database_url


def _manage(*args: str, database: str, tmp_path, key: str = "") -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": database, "DATA_DIR": str(tmp_path / "data"),
           "LOG_FORMAT": "plain", "METRICS_ENABLED": "false", "BACKUP_ENCRYPTION_KEY": key}
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
@pytest.mark.parametrize("key", ["", Fernet.generate_key().decode()], ids=["plain", "encrypted"])
def test_backup_then_restore_into_an_empty_database_gives_the_same_products_and_history(user, tmp_path, key):
    _history(user)
    with connection.cursor() as cursor:
        expected = _rows(cursor)
    assert len(expected[0]) == 3 and len(expected[1]) == 15
    backup = tmp_path / ("backup.sqlite3" if connection.vendor == "sqlite" else "backup.dump")
    _manage("backup", "--output", str(backup), database=database_url(), tmp_path=tmp_path, key=key)
    assert backup.is_file() and not backup.with_name(backup.name + ".partial").exists()
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    if key:
        content = backup.read_bytes()
        assert b"Product 1" not in content and not content.startswith((b"SQLite format 3", b"PGDMP"))
        with pytest.raises(Exception, match="encrypted"):
            _manage("restore", str(backup), "--yes", database=f"sqlite:///{tmp_path / 'nokey.sqlite3'}",
                    tmp_path=tmp_path)

    if connection.vendor == "sqlite":
        empty = tmp_path / "empty.sqlite3"
        _manage("restore", str(backup), "--yes", database=f"sqlite:///{empty}", tmp_path=tmp_path, key=key)
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
            _manage("restore", str(backup), "--yes", database=target, tmp_path=tmp_path, key=key)
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


def _restore_without_terminal(tmp_path, *args: str) -> subprocess.CompletedProcess:
    backup = tmp_path / "pricetracker-20260101-010000.sqlite3"
    with sqlite3.connect(backup) as made:
        made.execute("CREATE TABLE IF NOT EXISTS t (x)")
    made.close()
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
           "DATA_DIR": str(tmp_path / "data"), "METRICS_ENABLED": "false", "LOG_FORMAT": "plain"}
    return subprocess.run([sys.executable, "manage.py", "restore", str(backup), *args], cwd=ROOT, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)


def test_restore_without_a_terminal_asks_for_yes_instead_of_crashing(tmp_path):
    done = _restore_without_terminal(tmp_path)
    assert done.returncode == 1
    assert "--yes" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "db.sqlite3").exists() or (tmp_path / "db.sqlite3").stat().st_size == 0
    assert _restore_without_terminal(tmp_path, "--yes").returncode == 0


def test_an_encrypted_backup_round_trips_and_refuses_a_wrong_key_or_a_cut_file(tmp_path, monkeypatch):
    import metrics.backup as backup_module

    monkeypatch.setattr(backup_module, "_CHUNK", 1000)  # several parts from a small file
    plain = tmp_path / "plain"
    plain.write_bytes(os.urandom(4500))
    key = Fernet.generate_key().decode()
    sealed = tmp_path / "sealed"
    backup_encrypt(source=plain, target=sealed, key=key)
    backup_decrypt(source=sealed, target=tmp_path / "back", key=key)
    assert (tmp_path / "back").read_bytes() == plain.read_bytes()
    with pytest.raises(BackupError, match="wrong key"):
        backup_decrypt(source=sealed, target=tmp_path / "x", key=Fernet.generate_key().decode())
    cut = tmp_path / "cut"
    cut.write_bytes(sealed.read_bytes()[: len(sealed.read_bytes()) * 2 // 3])
    with pytest.raises(BackupError):
        backup_decrypt(source=cut, target=tmp_path / "y", key=key)
    with pytest.raises(BackupError, match="Fernet key"):
        backup_encrypt(source=plain, target=tmp_path / "z", key="not-a-key")


def test_pruning_by_age_keeps_a_week_and_takes_sqlite_leftovers_along(tmp_path):
    now = datetime(2026, 1, 20, 2, 0, tzinfo=UTC)
    names = [f"pricetracker-202601{day:02d}-013000.sqlite3" for day in (5, 10, 14, 19)]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / (names[0] + "-wal")).write_bytes(b"w")  # goes with its backup
    (tmp_path / (names[3] + "-shm")).write_bytes(b"s")  # its backup stays: stays too
    (tmp_path / "pricetracker-20251201-013000.sqlite3-wal").write_bytes(b"w")  # backup long gone
    partial = tmp_path / "pricetracker-20260102-013000.dump.partial"
    partial.write_bytes(b"p")
    os.utime(partial, (now.timestamp() - 3 * 86400,) * 2)
    fresh_partial = tmp_path / "pricetracker-20260120-013000.dump.partial"  # a backup being written now
    fresh_partial.write_bytes(b"p")
    os.utime(fresh_partial, (now.timestamp(),) * 2)

    backups_prune(directory=tmp_path, keep_days=7, now=now)

    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([
        names[2], names[3], names[3] + "-shm", fresh_partial.name,
    ])
    # The newest backup stays however old it is.
    backups_prune(directory=tmp_path, keep_days=7, now=now + timedelta(days=365))
    assert names[3] in {p.name for p in tmp_path.iterdir()}


def test_backups_are_on_by_default_daily_and_kept_a_week(tmp_path):
    code = ("import json, django; django.setup(); from django.conf import settings as s; "
            "task = s.CELERY_BEAT_SCHEDULE['backup-database']['schedule']; "
            "print(json.dumps([s.BACKUP_ENABLED, s.BACKUP_KEEP_DAYS, "
            "{'hour': task._orig_hour, 'minute': task._orig_minute}]))")
    env = {"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path), "METRICS_ENABLED": "false",
           "DJANGO_SETTINGS_MODULE": "config.settings"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    import json

    enabled, days, task = json.loads(done.stdout.strip().splitlines()[-1])
    assert enabled is True and days == 7
    assert task == {"hour": "1", "minute": "30"}  # daily at 01:30


@pytest.mark.django_db(transaction=True)
def test_the_daily_task_writes_a_private_backup(settings, tmp_path):
    from metrics.tasks import backup_database

    settings.BACKUP_DIR = tmp_path / "backups"
    settings.BACKUP_ENABLED = True
    settings.BACKUP_ENCRYPTION_KEY = Fernet.generate_key().decode()
    written = backup_database()
    assert written and written.endswith(".enc")
    assert stat.S_IMODE(os.stat(written).st_mode) == 0o600
    assert stat.S_IMODE(settings.BACKUP_DIR.stat().st_mode) == 0o700
