"""Database backups: SQLite's online backup API, or pg_dump/pg_restore for PostgreSQL."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from django.db import connections

log = logging.getLogger(__name__)


class BackupError(Exception):
    """A backup or restore could not be made; the message says why."""


def _engine(alias: str) -> str:
    engine = connections[alias].settings_dict["ENGINE"]
    if engine.endswith("sqlite3"):
        return "sqlite"
    if "postgresql" in engine:
        return "postgresql"
    raise BackupError(f"backups support SQLite and PostgreSQL, not {engine}")


def _pg_env(alias: str) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for pg_dump/pg_restore (the password goes in the environment)."""
    db = connections[alias].settings_dict
    args = []
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return args, env


def _sqlite_copy(source_path: str, target_path: str, *, source_uri: bool = False) -> None:
    """Copy one SQLite database into another with the online backup API."""
    source = sqlite3.connect(source_path, uri=source_uri, timeout=30)
    target = sqlite3.connect(target_path, timeout=30)
    try:
        with target:
            source.backup(target)
    finally:
        target.close()
        source.close()


def _pg_run(alias: str, command: list[str]) -> None:
    """Run pg_dump/pg_restore with the connection's host, port, user and password."""
    args, env = _pg_env(alias)
    done = subprocess.run([command[0], *args, *command[1:]], env=env, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[:500]}")


def _sqlite_path(alias: str) -> str:
    return str(connections[alias].settings_dict["NAME"])


def backup_filename(*, engine: str, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"pricetracker-{stamp}.{'sqlite3' if engine == 'sqlite' else 'dump'}"


def backup_create(*, directory: Path | None = None, path: Path | None = None, alias: str = "default") -> Path:
    """Write a consistent copy of the database while it is in use; returns the file.

    SQLite: the online backup API (pages copied under a read transaction). PostgreSQL:
    `pg_dump --format=custom`. The file is written under a temporary name and renamed when
    complete, so a half-written backup never looks like a good one.
    """
    engine = _engine(alias)
    if path is None:
        if directory is None:
            raise BackupError("give a directory or a path for the backup")
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / backup_filename(engine=engine)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    name = str(connections[alias].settings_dict["NAME"])
    if engine == "sqlite":
        _sqlite_copy(_sqlite_path(alias), str(partial))
    else:
        try:
            _pg_run(alias, ["pg_dump", "--format=custom", "--no-owner", "--file", str(partial), name])
        except BackupError:
            partial.unlink(missing_ok=True)
            raise
    partial.rename(path)
    log.info("backup written", extra={"path": str(path), "bytes": path.stat().st_size})
    return path


def backup_restore(*, path: Path, alias: str = "default") -> None:
    """Replace the database's content with a backup made by `backup_create`.

    SQLite: the backup API copies the file's pages into the live database. PostgreSQL:
    `pg_restore --clean --if-exists` (objects in the backup are dropped and recreated).
    """
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"no backup at {path}")
    engine = _engine(alias)
    connections[alias].close()
    if engine == "sqlite":
        with open(path, "rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                raise BackupError(f"{path} is not an SQLite backup")
        _sqlite_copy(f"file:{path}?mode=ro", _sqlite_path(alias), source_uri=True)
    else:
        name = str(connections[alias].settings_dict["NAME"])
        _pg_run(alias, ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                        "--dbname", name, str(path)])
    log.info("backup restored", extra={"path": str(path)})


def backups_prune(*, directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups in `directory`; returns what was deleted."""
    if keep < 1:
        raise BackupError("keep at least one backup")
    found = sorted(
        (p for p in directory.glob("pricetracker-*") if p.suffix in (".sqlite3", ".dump")),
        key=lambda p: p.name,
        reverse=True,
    )
    removed = found[keep:]
    for old in removed:
        old.unlink(missing_ok=True)
    return removed
