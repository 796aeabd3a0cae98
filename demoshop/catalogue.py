"""The demo shop's products and how their prices move over time.

Prices are a pure function of (product, time): every `PRICE_PERIOD_MINUTES` minutes a
product may take a new price, chosen from a hash of its slug and the period's number. Tests
and the web server therefore agree on the expected price without sharing any state.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

# How often prices may move. Read once from the environment (`DEMO_SHOP_PRICE_MINUTES`).
PRICE_PERIOD_MINUTES = max(1, int(os.environ.get("DEMO_SHOP_PRICE_MINUTES", "10") or 10))

# Price factors a period may pick; 1 appears most, as real prices mostly stand still.
_FACTORS = [Decimal(f) for f in ("1", "1", "1", "0.95", "0.9", "0.85", "1.05", "0.8", "1", "1.1")]


@dataclass(frozen=True)
class DemoProduct:
    slug: str
    name: str
    template: str  # which page markup: see `demoshop.pages.TEMPLATES`
    currency: str
    base_price: Decimal
    category: str
    brand: str
    description: str
    stock: str = "in"  # "in", "out" (always sold out), "flaky" (sold out now and then)
    sku: str = ""
    features: tuple[str, ...] = field(default_factory=tuple)

    @property
    def cents_style(self) -> str:
        """Shops price either in round amounts (12,50 / 1.299,00) or just under (49.99)."""
        return "99" if self.base_price % 1 == Decimal("0.99") else "round"


PRODUCTS: list[DemoProduct] = [
    DemoProduct(
        slug="aurora-espresso-machine",
        name="Aurora Pro Espresso Machine",
        template="jsonld",
        currency="USD",
        base_price=Decimal("1299.99"),
        category="Kitchen",
        brand="Aurora",
        sku="AUR-ESP-PRO",
        description="A dual-boiler espresso machine with PID temperature control and a rotary pump.",
        features=("Dual boiler", "PID control", "58 mm portafilter", "2.5 l water tank"),
    ),
    DemoProduct(
        slug="nimbus-noise-cancelling-headphones",
        name="Nimbus ANC Wireless Headphones",
        template="graph",
        currency="USD",
        base_price=Decimal("249.99"),
        category="Audio",
        brand="Nimbus",
        sku="NMB-ANC-700",
        description="Over-ear headphones with adaptive noise cancelling and 30 hours of battery.",
        features=("Adaptive ANC", "30 h battery", "USB-C", "Multipoint Bluetooth"),
    ),
    DemoProduct(
        slug="trailblazer-hiking-backpack",
        name="Trailblazer 45 l Hiking Backpack",
        template="microdata",
        currency="USD",
        base_price=Decimal("139.99"),
        category="Outdoor",
        brand="Trailblazer",
        sku="TB-45-GRN",
        description="A 45 litre pack with an adjustable back system and a rain cover.",
        features=("45 litres", "Rain cover", "Hip belt pockets"),
        stock="flaky",
    ),
    DemoProduct(
        slug="lumen-smart-desk-lamp",
        name="Lumen Smart Desk Lamp",
        template="opengraph",
        currency="GBP",
        base_price=Decimal("59.99"),
        category="Home office",
        brand="Lumen",
        sku="LMN-DL-2",
        description="A dimmable LED desk lamp with adjustable colour temperature and a USB charger.",
        features=("2700-6500 K", "USB-A charging port", "Touch dimmer"),
    ),
    DemoProduct(
        slug="stratus-27-inch-monitor",
        name="Stratus 27\" 4K Monitor",
        template="aggregate",
        currency="USD",
        base_price=Decimal("399.99"),
        category="Computers",
        brand="Stratus",
        sku="STR-27-4K",
        description="A 27 inch IPS monitor, 3840x2160, USB-C with 65 W power delivery, sold by several sellers.",
        features=("4K IPS", "USB-C 65 W", "Height adjustable"),
    ),
    DemoProduct(
        slug="kestrel-road-bike-helmet",
        name="Kestrel Aero Road Helmet",
        template="out_of_stock",
        currency="USD",
        base_price=Decimal("89.99"),
        category="Cycling",
        brand="Kestrel",
        sku="KST-AERO-M",
        description="A light aero road helmet with MIPS and a magnetic buckle.",
        features=("MIPS", "Magnetic buckle", "250 g"),
        stock="out",
    ),
    DemoProduct(
        slug="vienna-cast-iron-dutch-oven",
        name="Vienna Cast Iron Dutch Oven 6 l",
        template="euro",
        currency="EUR",
        base_price=Decimal("1299.00"),
        category="Kitchen",
        brand="Vienna Ironworks",
        sku="VIW-DO-6",
        description="An enamelled cast iron pot for the oven and every hob, hand finished.",
        features=("6 litres", "Induction ready", "Oven safe to 260 °C"),
    ),
    DemoProduct(
        slug="krakow-ground-coffee",
        name="Kawa mielona Kraków 250 g",
        template="zloty",
        currency="PLN",
        base_price=Decimal("12.50"),
        category="Groceries",
        brand="Palarnia Kraków",
        sku="PK-250-M",
        description="Medium roast ground coffee, 100 % arabica, roasted in Kraków.",
        features=("250 g", "100 % arabica", "Medium roast"),
    ),
    DemoProduct(
        slug="orbit-robot-vacuum",
        name="Orbit S8 Robot Vacuum",
        template="was_price",
        currency="USD",
        base_price=Decimal("299.99"),
        category="Home appliances",
        brand="Orbit",
        sku="ORB-S8",
        description="A lidar robot vacuum and mop with a self-emptying dock.",
        features=("Lidar navigation", "Self-emptying dock", "Mopping"),
    ),
    DemoProduct(
        slug="fjord-wool-blanket",
        name="Fjord Merino Wool Blanket",
        template="plain",
        currency="USD",
        base_price=Decimal("119.00"),
        category="Bedroom",
        brand="Fjord",
        sku="FJD-BLK-1",
        description="A woven merino blanket, 130 x 180 cm. This page has no structured data at all.",
        features=("100 % merino", "130 x 180 cm"),
    ),
]

_BY_SLUG = {p.slug: p for p in PRODUCTS}


def product_get(slug: str) -> DemoProduct:
    """The product with this slug; KeyError when there is none."""
    return _BY_SLUG[slug]


def _as_utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def period_of(when: datetime, *, period_minutes: int | None = None) -> int:
    """The number of the price period `when` falls in (naive datetimes are read as UTC)."""
    minutes = period_minutes or PRICE_PERIOD_MINUTES
    return int(_as_utc(when).timestamp()) // (minutes * 60)


def _draw(slug: str, period: int, salt: str) -> int:
    digest = hashlib.sha256(f"{slug}:{period}:{salt}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def price_at(slug: str, when: datetime, *, period_minutes: int | None = None) -> Decimal:
    """The price the shop shows for `slug` at `when`, with two decimals."""
    product = product_get(slug)
    factor = _FACTORS[_draw(slug, period_of(when, period_minutes=period_minutes), "price") % len(_FACTORS)]
    if factor == 1:
        return product.base_price
    raw = product.base_price * factor
    if product.cents_style == "99":
        price = raw.quantize(Decimal("1"), rounding=ROUND_HALF_UP) - Decimal("0.01")
    elif product.base_price >= 100:
        price = raw.quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    else:
        price = (raw * 2).quantize(Decimal("1"), rounding=ROUND_HALF_UP) / 2  # to the half unit
    return max(price, Decimal("0.50")).quantize(Decimal("0.01"))


def was_price_at(slug: str, when: datetime, *, period_minutes: int | None = None) -> Decimal:
    """The crossed-out "was" price shown beside the real one: always above it."""
    price = price_at(slug, when, period_minutes=period_minutes)
    product = product_get(slug)
    was = max(product.base_price * Decimal("1.25"), price * Decimal("1.2"))
    return (was.quantize(Decimal("1"), rounding=ROUND_HALF_UP) - Decimal("0.01")).quantize(Decimal("0.01"))


def in_stock_at(slug: str, when: datetime, *, period_minutes: int | None = None) -> bool:
    """Whether the shop says `slug` is in stock at `when`."""
    product = product_get(slug)
    if product.stock == "out":
        return False
    if product.stock == "flaky":
        return _draw(slug, period_of(when, period_minutes=period_minutes), "stock") % 4 != 0
    return True
