"""Make a REST API token for a person and print it (it is shown only this once)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from tracker.api.tokens import token_create, user_by_name


class Command(BaseCommand):
    help = "Create an API token for USERNAME and print it. Revoke it under Settings → API tokens."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="a label to recognise the token by")

    def handle(self, *args, username: str, name: str, **options):
        try:
            owner = user_by_name(username=username)
        except Exception as exc:  # DoesNotExist of whatever the user model is
            raise CommandError(f"no user named {username!r}") from exc
        _, secret = token_create(owner=owner, name=name or "command line")
        self.stdout.write(secret)
