"""`manage.py track URL`: start tracking a page and check it now, in this process."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from tracker import services
from tracker.models import CheckLog, Priority

from ._common import REQUEUE_WAIT_MAX, stock_label, user_resolve


class Command(BaseCommand):
    help = (
        "Add a product page and check it right away; prints the price found or why there is "
        "none. A new page whose first check finds no price is not kept (unless --keep)."
    )

    def add_arguments(self, parser):
        parser.add_argument("url")
        parser.add_argument("--user", default=None, help="owner (default: $ADMIN_USERNAME or admin)")
        parser.add_argument("--priority", choices=Priority.values, default=Priority.NORMAL)
        parser.add_argument("--name", default="", help="product name (default: the page's title)")
        parser.add_argument(
            "--keep", action="store_true", help="keep a new page even when its first check fails"
        )

    def handle(self, *args, url, user, priority, name, keep, **options):
        owner = user_resolve(user)
        try:
            added = services.listing_add_checked(
                owner=owner, url=url, priority=priority, name=name, keep=keep, wait_max=REQUEUE_WAIT_MAX
            )
        except services.TrackingError as exc:
            raise CommandError(f"{url!r} cannot be tracked: {exc}") from None
        outcome = added.check
        if outcome is None:
            raise CommandError("the check was taken by another process; see the listing's check log")
        check, result, listing = outcome.check, outcome.result, added.listing
        if added.priced and check.outcome in (CheckLog.Outcome.OK, CheckLog.Outcome.UNCHANGED):
            point = outcome.price_point
            verb = "Already tracking" if added.already_tracked else "Now tracking"
            self.stdout.write(self.style.SUCCESS(f'{verb} "{listing.product.name}" for {owner.username}'))
            self.stdout.write(f"  price:    {point.price} {point.currency}")
            self.stdout.write(f"  stock:    {stock_label(point.in_stock)}")
            self.stdout.write(f"  title:    {(result.title if result else None) or listing.title or '-'}")
            self.stdout.write(f"  method:   {point.method}")
            self.stdout.write(f"  store:    {listing.store}  (listing {listing.pk}, priority {listing.priority})")
            return

        reason = check.error or check.get_outcome_display()
        detail = f" (HTTP {check.http_status})" if check.http_status and check.http_status >= 400 else ""
        if not added.kept:
            raise CommandError(f"no price recorded for {check.listing.url}: {reason}{detail}. Nothing was saved.")
        raise CommandError(
            f"no price recorded for {listing.url}: {reason}{detail}. "
            f"The listing ({listing.pk}) is marked with this reason."
        )
