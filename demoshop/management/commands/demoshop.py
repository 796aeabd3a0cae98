"""`manage.py demoshop`: serve the demo shop (a local test shop) over HTTP."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demoshop import catalogue
from demoshop.pages import THEMES
from demoshop.server import make_server


class Command(BaseCommand):
    help = (
        "Serve the demo shop until Ctrl-C. Refuses unless DEMO_SHOP_ENABLED or DEBUG is on "
        "(or --force), so a production deployment does not expose it by accident."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument("--theme", choices=THEMES, default="v1")
        parser.add_argument("--force", action="store_true", help="serve even when switched off")

    def handle(self, *args, host, port, theme, force, **options):
        if not (settings.DEMO_SHOP_ENABLED or settings.DEBUG or force):
            raise CommandError(
                "the demo shop is switched off: set DEMO_SHOP_ENABLED=true (or pass --force)"
            )
        try:
            shop = make_server(host, port, theme=theme)
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        self.stdout.write(
            f"Demo shop on {shop.url}/ ({len(catalogue.PRODUCTS)} products, theme {theme}, "
            f"prices move every {catalogue.PRICE_PERIOD_MINUTES} min). Ctrl-C stops it."
        )
        self.stdout.flush()
        try:
            shop.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            shop.close()
