"""Database backups: SQLite's online backup API, or pg_dump/pg_restore for PostgreSQL.

Backup files are readable by their owner only (0600, in a 0700 folder) and, with
BACKUP_ENCRYPTION_KEY set, encrypted with Fernet (cryptography): `.enc` is added to the name.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import struct
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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


def backup_filename(*, engine: str, now: datetime | None = None, encrypted: bool = False) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"pricetracker-{stamp}.{'sqlite3' if engine == 'sqlite' else 'dump'}{'.enc' if encrypted else ''}"


# --- Encryption ----------------------------------------------------------------------------
# Fernet encrypts a whole message in memory and has no streaming form, so a backup is cut into
# chunks of 8 MiB, each its own Fernet token that carries its index and whether it is the last:
# a reordered, truncated or altered file fails to decrypt instead of restoring part of a database.
_MAGIC = b"PTBACKUP-FERNET-1\n"
_CHUNK = 8 * 1024 * 1024


def _fernet(key: str):
    from cryptography.fernet import Fernet

    try:
        return Fernet(key.encode() if isinstance(key, str) else key)
    except (ValueError, TypeError) as exc:
        raise BackupError(
            "BACKUP_ENCRYPTION_KEY is not a Fernet key (make one with: python -c "
            "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
        ) from exc


def _chunks(handle) -> Iterator[tuple[bytes, bool]]:
    data = handle.read(_CHUNK)
    while True:
        following = handle.read(_CHUNK)
        yield data, not following
        if not following:
            return
        data = following


def backup_encrypt(*, source: Path, target: Path, key: str) -> None:
    fernet = _fernet(key)
    with open(source, "rb") as plain, open(target, "wb") as sealed:
        sealed.write(_MAGIC)
        for index, (data, last) in enumerate(_chunks(plain)):
            token = fernet.encrypt(struct.pack(">Q?", index, last) + data)
            sealed.write(struct.pack(">I", len(token)) + token)


def backup_is_encrypted(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(len(_MAGIC)) == _MAGIC


def backup_decrypt(*, source: Path, target: Path, key: str | None) -> None:
    from cryptography.fernet import InvalidToken

    if not key:
        raise BackupError(f"{source} is encrypted: set BACKUP_ENCRYPTION_KEY to the key it was made with")
    fernet = _fernet(key)
    header = struct.calcsize(">Q?")
    with open(source, "rb") as sealed, open(target, "wb") as plain:
        sealed.read(len(_MAGIC))
        expected, finished = 0, False
        while size := sealed.read(4):
            token = sealed.read(struct.unpack(">I", size)[0])
            try:
                data = fernet.decrypt(token)
            except InvalidToken as exc:
                raise BackupError(f"{source} does not decrypt with BACKUP_ENCRYPTION_KEY (wrong key or damaged)") from exc
            index, last = struct.unpack(">Q?", data[:header])
            if index != expected or finished:
                raise BackupError(f"{source} is damaged (its parts are out of order)")
            plain.write(data[header:])
            expected, finished = expected + 1, last
        if not finished:
            raise BackupError(f"{source} is incomplete (its last part is missing)")


def _private_file(path: Path) -> None:
    """Create `path` empty, readable and writable by its owner only (before any byte is written)."""
    path.unlink(missing_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def backup_create(
    *, directory: Path | None = None, path: Path | None = None, alias: str = "default", key: str | None = None
) -> Path:
    """Write a consistent copy of the database while it is in use; returns the file.

    SQLite: the online backup API (pages copied under a read transaction). PostgreSQL:
    `pg_dump --format=custom`. The file is written under a temporary name and renamed when
    complete, so a half-written backup never looks like a good one. It is created 0600 (the
    database holds password hashes and channel URLs) and encrypted when `key` is given.
    """
    engine = _engine(alias)
    if path is None:
        if directory is None:
            raise BackupError("give a directory or a path for the backup")
        path = directory / backup_filename(engine=engine, encrypted=bool(key))
    path = Path(path)
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    partial = path.with_name(path.name + ".partial")
    _private_file(partial)
    name = str(connections[alias].settings_dict["NAME"])
    try:
        if engine == "sqlite":
            _sqlite_copy(_sqlite_path(alias), str(partial))
        else:
            _pg_run(alias, ["pg_dump", "--format=custom", "--no-owner", "--file", str(partial), name])
        if key:
            sealed = partial.with_name(partial.name + ".enc")
            _private_file(sealed)
            try:
                backup_encrypt(source=partial, target=sealed, key=key)
            except BaseException:
                sealed.unlink(missing_ok=True)
                raise
            sealed.replace(partial)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.chmod(0o600)
    partial.rename(path)
    log.info("backup written", extra={"path": str(path), "bytes": path.stat().st_size, "encrypted": bool(key)})
    return path


def backup_restore(*, path: Path, alias: str = "default", key: str | None = None) -> None:
    """Replace the database's content with a backup made by `backup_create`.

    SQLite: the backup API copies the file's pages into the live database. PostgreSQL:
    `pg_restore --clean --if-exists` (objects in the backup are dropped and recreated).
    An encrypted backup is decrypted first into a private temporary file, removed afterwards.
    """
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"no backup at {path}")
    if backup_is_encrypted(path):
        with tempfile.TemporaryDirectory(prefix="pricetracker-restore-") as folder:
            plain = Path(folder) / path.name.removesuffix(".enc")
            _private_file(plain)
            backup_decrypt(source=path, target=plain, key=key)
            backup_restore(path=plain, alias=alias)
        return
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


_BACKUP_NAME = re.compile(r"^pricetracker-(\d{8}-\d{6})\.(?:sqlite3|dump)(?:\.enc)?$")
# What SQLite (a backup opened by hand, a copy interrupted) and an interrupted backup leave.
_LEFTOVER = re.compile(r"^(pricetracker-\d{8}-\d{6}\.(?:sqlite3|dump)(?:\.enc)?)(-wal|-shm|-journal|\.partial(?:\.enc)?(?:-journal)?)$")


def backups_prune(
    *, directory: Path, keep: int | None = None, keep_days: float | None = None, now: datetime | None = None
) -> list[Path]:
    """Delete old backups in `directory`; returns what was deleted.

    `keep`: only the newest so many stay. `keep_days`: backups older than so many days go
    (by the time in their name), but the newest one always stays. SQLite's `-wal`/`-shm`/
    `-journal` files go with their backup, and those whose backup is gone go too, as do
    `.partial` files of backups interrupted more than a day ago. Safe to run twice.
    """
    if keep is not None and keep < 1:
        raise BackupError("keep at least one backup")
    if not directory.is_dir():
        return []
    now = now or datetime.now(UTC)
    found = sorted((p for p in directory.iterdir() if _BACKUP_NAME.match(p.name)), key=lambda p: p.name, reverse=True)
    doomed = list(found[keep:]) if keep is not None else []
    if keep_days is not None:
        cutoff = now - timedelta(days=keep_days)
        for old in found[1:]:
            stamp = datetime.strptime(_BACKUP_NAME.match(old.name).group(1), "%Y%m%d-%H%M%S").replace(tzinfo=UTC)
            if stamp < cutoff and old not in doomed:
                doomed.append(old)
    removed = []
    for old in doomed:
        old.unlink(missing_ok=True)
        removed.append(old)
    kept = {p.name for p in found if p not in doomed}
    for leftover in directory.iterdir():
        match = _LEFTOVER.match(leftover.name)
        if not match:
            continue
        interrupted = match.group(2).startswith(".partial")
        stale = datetime.fromtimestamp(leftover.stat().st_mtime, UTC) < now - timedelta(days=1)
        if (interrupted and stale) or (not interrupted and match.group(1) not in kept):
            leftover.unlink(missing_ok=True)
            removed.append(leftover)
    return removed
