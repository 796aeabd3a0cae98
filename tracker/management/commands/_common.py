"""Helpers shared by the tracker's management commands."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from tracker import checking

# A check waiting for its store's turn (per-store pacing) is run again here, in this process,
# for at most this long; then the command reports it as not done.
REQUEUE_WAIT_MAX = 60.0


def user_resolve(username: str | None):
    """The user a command acts for: `--user`, else `ADMIN_USERNAME`, else "admin"."""
    username = username or settings.ADMIN_USERNAME
    User = get_user_model()
    try:
        return User.objects.get(username=username)
    except User.DoesNotExist:
        raise CommandError(
            f'there is no user "{username}"; create one with `manage.py create_admin` or pass --user'
        ) from None


def stock_label(in_stock: bool | None) -> str:
    return {True: "in stock", False: "out of stock"}.get(in_stock, "unknown")


def check_run(*, check_id: int) -> checking.CheckOutcome | None:
    """Run one check now, in this process, waiting for the store's turn when pacing asks to.

    Safe to run twice like `checking.listing_check`: the check is claimed before it runs.
    """
    return checking.check_run_now(check_id=check_id, wait_max=REQUEUE_WAIT_MAX)
