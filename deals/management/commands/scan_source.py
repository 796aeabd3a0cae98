"""`manage.py scan_source ID`: scan a deal source now, through the same match, score and notify
steps as the beat and "Scan now", and print what was found, matched and notified."""

import json

from django.core.management.base import BaseCommand, CommandError

from deals import tasks
from deals.models import DealSource
from deals.scout import scan


class Command(BaseCommand):
    help = "Scan a deal source now; print items found, watches matched and deals notified."

    def add_arguments(self, parser):
        parser.add_argument("source_id", type=int)
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def handle(self, *args, source_id: int, json: bool = False, **options):
        source = DealSource.objects.filter(id=source_id).first()
        if source is None:
            raise CommandError(f"no deal source with id {source_id}")
        report, told = tasks.source_scan_notify(source=source)
        summary = {**scan.scan_summary(report), "notified": [_told(t) for t in told]}
        if json:
            self.stdout.write(_dumps(summary))
        else:
            if not report.ok:
                raise CommandError(f"scan of “{source}” failed: {report.error}")
            self.stdout.write(
                f"{source}: {report.items} items on {report.pages} page(s), {report.new} new, "
                f"{report.price_changes} price changes, {len(report.matches)} matches"
            )
            for match in report.matches:
                flag = " SUSPICIOUS" if match.suspicious else ""
                self.stdout.write(
                    f"  [{match.score:>3}]{flag} {match.listing.title} — {match.listing.price} {match.listing.currency}"
                    f" (watch “{match.watch}”; {match.reason})"
                )
            if report.partial:
                self.stdout.write(self.style.WARNING(f"stopped early: {report.partial}"))
            if not told:
                self.stdout.write("notified: nothing (no new deal reached its watch's threshold)")
            for t in told:
                self.stdout.write(
                    f"notified: {t.match.listing.title} — {t.match.listing.price} {t.match.listing.currency}"
                    f" (watch “{t.match.watch}”, score {t.match.score}) to {t.rows} channel(s)"
                )
        if not report.ok:
            raise CommandError(report.error)


def _told(told: tasks.Told) -> dict:
    return {"match": told.match.pk, "title": told.match.listing.title, "watch": str(told.match.watch), "channels": told.rows}


def _dumps(data) -> str:
    return json.dumps(data, default=str)
