from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from metrics.backup import BackupError, backup_create, backups_prune


class Command(BaseCommand):
    help = (
        "Back up the database (SQLite online backup or pg_dump) into BACKUP_DIR or --output; "
        "encrypted when BACKUP_ENCRYPTION_KEY is set."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", help="File to write (default: a dated file in BACKUP_DIR).")
        parser.add_argument("--keep", type=int, help="Then keep only this many backups in BACKUP_DIR.")
        parser.add_argument("--keep-days", type=float, help="Then delete backups older than this in BACKUP_DIR.")

    def handle(self, *args, output=None, keep=None, keep_days=None, **options):
        key = settings.BACKUP_ENCRYPTION_KEY or None
        try:
            if output:
                path = backup_create(path=Path(output), key=key)
            else:
                path = backup_create(directory=settings.BACKUP_DIR, key=key)
            if keep or keep_days:
                backups_prune(directory=settings.BACKUP_DIR, keep=keep, keep_days=keep_days)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(str(path))
