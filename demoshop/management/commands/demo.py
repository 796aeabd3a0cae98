"""`manage.py demo`: track the demo shop's products (settings.DEMO_SHOP_URL), and give the deal
scout the shop's deal feed and a sample watch."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from deals.models import DealSource, Watch
from demoshop.catalogue import PRODUCTS, product_get
from tracker import services
from tracker.management.commands._common import user_resolve
from tracker.models import Priority

# The sample watch: a product whose deal feed entries include a scam and an accessory, so the
# deals page shows at once why some items were left out.
SAMPLE_WATCH_PRODUCT = "aurora-espresso-machine"
SAMPLE_WATCH_QUERY = "aurora espresso"


class Command(BaseCommand):
    help = (
        "Add the demo shop's products for a user, pointing at DEMO_SHOP_URL, and a demo deal source "
        "(the shop's deal feed) with a sample watch. Safe to run again: what exists is left alone. "
        "Checks and scans run on the workers' schedule."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", default=None, help="owner (default: $ADMIN_USERNAME or admin)")
        parser.add_argument(
            "--all",
            dest="include_all",
            action="store_true",
            help="also the page with no structured data (structured extraction finds no price there)",
        )

    def handle(self, *args, user, include_all, **options):
        owner = user_resolve(user)
        base = settings.DEMO_SHOP_URL.rstrip("/")
        added = 0
        for product in PRODUCTS:
            if product.template == "plain" and not include_all:
                continue
            url = f"{base}/product/{product.slug}"
            before = owner.products.filter(listings__url=url).exists()
            try:
                services.listing_add(owner=owner, url=url, priority=Priority.HIGH, name=product.name)
            except services.TrackingError as exc:
                raise CommandError(f"cannot add {url}: {exc}") from None
            added += not before
            self.stdout.write(f"{'added  ' if not before else 'exists '} {product.name}  {url}")
        self.stdout.write(
            self.style.SUCCESS(f"{added} demo products added for {owner.username} (shop: {base}).")
        )
        self._scout(owner, base)

    def _scout(self, owner, base: str) -> None:
        """The shop's deal feed as a source of the owner's, and a watch for one of its products,
        linked to the tracked product so its price history counts among the comparables. The
        beat scans the source within five minutes (it is due at once)."""
        feed = f"{base}/deals/feed.xml"
        source, created = DealSource.objects.get_or_create(
            owner=owner, url=feed, defaults={"name": "Demo shop deals", "kind": DealSource.Kind.FEED, "poll_interval_minutes": 10}
        )
        self.stdout.write(f"{'added  ' if created else 'exists '} deal source “{source.name}”  {feed}")
        sample = product_get(SAMPLE_WATCH_PRODUCT)
        tracked = owner.products.filter(listings__url=f"{base}/product/{sample.slug}").first()
        watch, created = Watch.objects.get_or_create(
            owner=owner,
            query=SAMPLE_WATCH_QUERY,
            defaults={"name": f"Demo: {sample.name}", "product": tracked, "alert_min_score": 15},
        )
        self.stdout.write(f"{'added  ' if created else 'exists '} watch “{watch}” ({watch.query})")
