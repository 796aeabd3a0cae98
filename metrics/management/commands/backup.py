from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from metrics.backup import BackupError, backup_create, backups_prune


class Command(BaseCommand):
    help = "Back up the database (SQLite online backup or pg_dump) into BACKUP_DIR or --output."

    def add_arguments(self, parser):
        parser.add_argument("--output", help="File to write (default: a dated file in BACKUP_DIR).")
        parser.add_argument("--keep", type=int, help="Then keep only this many backups in BACKUP_DIR.")

    def handle(self, *args, output=None, keep=None, **options):
        try:
            if output:
                path = backup_create(path=Path(output))
            else:
                path = backup_create(directory=settings.BACKUP_DIR)
            if keep:
                backups_prune(directory=settings.BACKUP_DIR, keep=keep)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(str(path))
