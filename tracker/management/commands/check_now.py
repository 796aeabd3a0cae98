"""`manage.py check_now`: run checks now, in this process, and print one line each."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from tracker import checking, scheduling
from tracker.models import CheckLog, Listing

from ._common import check_run, stock_label


class Command(BaseCommand):
    help = "Check one listing (--listing ID) or every listing that is due (--all-due), synchronously."

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--listing", type=int, help="the listing's id")
        target.add_argument("--all-due", action="store_true", help="claim and check every due listing")

    def handle(self, *args, listing, all_due, **options):
        if listing is not None:
            found = Listing.objects.filter(pk=listing).first()
            if found is None:
                raise CommandError(f"there is no listing {listing}")
            check_ids = [checking.check_create(listing=found).pk]
        else:
            check_ids = [claimed.check_id for claimed in scheduling.checks_claim_due()]
            if not check_ids:
                self.stdout.write("No listing is due.")
                return
        failures = 0
        for check_id in check_ids:
            outcome = check_run(check_id=check_id)
            if outcome is None:
                self.stdout.write(f"check {check_id}: taken by another process, skipped")
                continue
            check = outcome.check
            line = f"listing {check.listing_id:>6}  {check.outcome:<9}"
            if outcome.price_point is not None:
                point = outcome.price_point
                line += f"  {point.price} {point.currency}  {stock_label(point.in_stock)}  ({point.method})"
            elif check.outcome == CheckLog.Outcome.UNCHANGED:
                line += "  page not modified since the last check"
            elif check.outcome in (CheckLog.Outcome.SKIPPED, CheckLog.Outcome.QUEUED):
                line += f"  not checked now: {check.error or 'waiting for the store'}"
            else:
                failures += 1
                line += f"  {check.error or check.get_outcome_display()}"
            self.stdout.write(line)
        if failures:
            raise CommandError(f"{failures} of {len(check_ids)} checks found no price")
