"""`manage.py create_user USERNAME`: an ordinary account (not staff), for scripts and admins."""

from __future__ import annotations

import getpass
import sys

from django.core.management.base import BaseCommand, CommandError

from accounts import services


class Command(BaseCommand):
    help = "Create an ordinary (non-staff) user. Without --password, asks for it (twice) on a terminal."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument("--password", default=None, help="default: asked on the terminal")

    def handle(self, *args, username, email, password, **options):
        if password is None:
            if not sys.stdin.isatty():
                raise CommandError("no password: pass --password (no terminal to ask on)")
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password again: "):
                raise CommandError("the two passwords differ")
        try:
            user = services.user_create(username=username, email=email, password=password)
        except services.AccountError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f'Created the user "{user.username}" (not staff).'))
