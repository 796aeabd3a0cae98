import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from metrics.backup import BackupError, backup_restore


class Command(BaseCommand):
    help = "Replace the database's content with a backup made by `manage.py backup`."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The backup file.")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args, path, yes=False, **options):
        if not yes:
            # Without a terminal (a script, a container, CI) nobody can answer the question.
            if not sys.stdin or not sys.stdin.isatty():
                raise CommandError("restore replaces the whole database: add --yes to confirm (no terminal to ask on)")
            try:
                answer = input("This replaces everything in the database with the backup. Type 'yes': ")
            except EOFError:
                answer = ""
            if answer.strip().lower() != "yes":
                raise CommandError("restore cancelled")
        try:
            backup_restore(path=Path(path), key=settings.BACKUP_ENCRYPTION_KEY or None)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"restored {path}")
