"""Create the administrator account without questions (for scripts and containers)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction


class Command(BaseCommand):
    help = (
        "Create a superuser from arguments or ADMIN_USERNAME / ADMIN_PASSWORD / ADMIN_EMAIL. "
        "Safe to run again: an existing user is kept (and made staff), its password unchanged "
        "unless --reset-password."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default=None, help="default: $ADMIN_USERNAME or admin")
        parser.add_argument("--password", default=None, help="default: $ADMIN_PASSWORD")
        parser.add_argument("--email", default=None, help="default: $ADMIN_EMAIL")
        parser.add_argument(
            "--reset-password", action="store_true", help="set the password of an existing user too"
        )

    def handle(self, *args, username, password, email, reset_password, **options):
        username = (username or settings.ADMIN_USERNAME).strip()
        password = password if password is not None else settings.ADMIN_PASSWORD
        email = (email if email is not None else settings.ADMIN_EMAIL).strip()
        User = get_user_model()
        with transaction.atomic():
            user = User.objects.filter(username=username).first()
            if user is None:
                if not password:
                    raise CommandError(
                        "no password: pass --password or set ADMIN_PASSWORD to create the admin"
                    )
                self._validate(password, User(username=username, email=email))
                User.objects.create_superuser(username=username, email=email, password=password)
                self.stdout.write(self.style.SUCCESS(f'Created the administrator "{username}".'))
                return
            changed = []
            if not (user.is_staff and user.is_superuser and user.is_active):
                user.is_staff = user.is_superuser = user.is_active = True
                changed.append("made administrator")
            if email and user.email != email:
                user.email = email
                changed.append("e-mail updated")
            if reset_password and password:
                self._validate(password, user)
                user.set_password(password)
                changed.append("password reset")
            if changed:
                user.save()
            summary = ", ".join(changed) if changed else "nothing to change"
            self.stdout.write(f'The administrator "{username}" already exists ({summary}).')

    def _validate(self, password: str, user) -> None:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError("the password is not accepted: " + " ".join(exc.messages)) from None
