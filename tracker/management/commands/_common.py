"""Helpers shared by the tracker's management commands."""

from __future__ import annotations

import os

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError


def user_resolve(username: str | None):
    """The user a command acts for: `--user`, else `ADMIN_USERNAME`, else "admin"."""
    username = username or os.environ.get("ADMIN_USERNAME") or "admin"
    User = get_user_model()
    try:
        return User.objects.get(username=username)
    except User.DoesNotExist:
        raise CommandError(
            f'there is no user "{username}"; create one with `manage.py create_admin` or pass --user'
        ) from None


def stock_label(in_stock: bool | None) -> str:
    return {True: "in stock", False: "out of stock"}.get(in_stock, "unknown")
