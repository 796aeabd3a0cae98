"""`manage.py demo`: track the demo shop's products (settings.DEMO_SHOP_URL)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demoshop.catalogue import PRODUCTS
from tracker import services
from tracker.management.commands._common import user_resolve
from tracker.models import Priority


class Command(BaseCommand):
    help = (
        "Add the demo shop's products for a user, pointing at DEMO_SHOP_URL. Safe to run again: "
        "products already tracked are left alone. Checks run on the workers' schedule."
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
