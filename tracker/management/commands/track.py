"""`manage.py track URL`: start tracking a page and check it now, in this process."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from tracker import checking, services
from tracker.fetching import FetchError, validate_url
from tracker.models import CheckLog, Listing, Priority, Store

from ._common import check_run, stock_label, user_resolve


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
            url = validate_url(url)
        except FetchError as exc:
            raise CommandError(f"{url!r} cannot be tracked: {exc}") from None
        is_new = not Listing.objects.filter(product__owner=owner, url=url).exists()
        store_is_new = not Store.objects.filter(domain=services.store_domain(url)).exists()
        try:
            listing = services.listing_add(owner=owner, url=url, priority=priority, name=name)
        except services.TrackingError as exc:
            raise CommandError(f"{url} cannot be tracked: {exc}") from None

        check = checking.check_create(listing=listing)
        outcome = check_run(check_id=check.pk)
        if outcome is None:
            raise CommandError("the check was taken by another process; see the listing's check log")
        check, result = outcome.check, outcome.result
        if check.outcome in (CheckLog.Outcome.OK, CheckLog.Outcome.UNCHANGED) and outcome.price_point:
            listing.refresh_from_db()
            point = outcome.price_point
            verb = "Now tracking" if is_new else "Already tracking"
            self.stdout.write(self.style.SUCCESS(f'{verb} "{listing.product.name}" for {owner.username}'))
            self.stdout.write(f"  price:    {point.price} {point.currency}")
            self.stdout.write(f"  stock:    {stock_label(point.in_stock)}")
            self.stdout.write(f"  title:    {(result.title if result else None) or listing.title or '-'}")
            self.stdout.write(f"  method:   {point.method}")
            self.stdout.write(f"  store:    {listing.store.domain}  (listing {listing.pk}, priority {listing.priority})")
            return

        reason = check.error or check.get_outcome_display()
        detail = f" (HTTP {check.http_status})" if check.http_status and check.http_status >= 400 else ""
        if is_new and not keep:
            with transaction.atomic():
                listing.product.delete()
                if store_is_new:
                    Store.objects.filter(pk=listing.store_id, listings__isnull=True).delete()
            raise CommandError(f"no price recorded for {url}: {reason}{detail}. Nothing was saved.")
        raise CommandError(
            f"no price recorded for {url}: {reason}{detail}. "
            f"The listing ({listing.pk}) is marked with this reason."
        )
