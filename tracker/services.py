"""What a person does to what they track: add a URL, rename, change priority, pause, delete.
Views and commands call these; checking a listing is checking.py."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from . import checking
from .fetching import FetchError, validate_url
from .models import Listing, Preference, Priority, Product, Store


class TrackingError(Exception):
    """A person's request cannot be done; the message is fit to show them."""


def store_domain(url: str) -> str:
    """The key of the store a URL belongs to: its host, with the port when it is not the
    scheme's own (two servers on one host are two shops)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    host = host[4:] if host.startswith("www.") else host
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return f"{host}:{port}" if port and port != default else host


def store_for_url(*, url: str) -> Store:
    """The store a URL belongs to, created on first sight (unnamed: the first successful
    check names it from the site). Safe to run twice."""
    store, _ = Store.objects.get_or_create(domain=store_domain(url))
    return store


def listing_add(
    *,
    owner,
    url: str,
    priority: str = Priority.NORMAL,
    name: str = "",
    product: Product | None = None,
) -> Listing:
    """Start tracking a URL, as a new product or as another store of `product`.

    Adding the same URL to the same product twice returns the existing listing.
    """
    url = url_check(url=url)
    if priority not in Priority.values:
        raise TrackingError(f"unknown priority {priority!r}")
    if product is not None and product.owner_id != owner.pk:
        raise TrackingError("that product belongs to someone else")
    with transaction.atomic():
        if product is None:
            existing = Listing.objects.filter(product__owner=owner, url=url).first()
            if existing:
                return existing
            product = Product.objects.create(owner=owner, name=name or url[:300])
        store = store_for_url(url=url)
        listing, _ = Listing.objects.get_or_create(
            product=product,
            url=url,
            defaults={"store": store, "priority": priority, "next_check_at": timezone.now()},
        )
    return listing


def url_check(*, url: str) -> str:
    """A URL fit to track, stripped, or TrackingError saying why not. An address longer than
    the field is refused, never cut: a cut address is another page (often another product's)."""
    url = (url or "").strip()
    limit = Listing._meta.get_field("url").max_length
    if len(url) > limit:
        raise TrackingError(
            f"the address is {len(url):,} characters long; at most {limit:,} can be tracked "
            "(it is not shortened, as a shortened address would be another page)"
        )
    try:
        return validate_url(url)
    except FetchError as exc:
        raise TrackingError(str(exc)) from exc


@dataclass
class AddOutcome:
    """What adding a page came to: kept (with the first check's result) or refused, and why."""

    listing: Listing | None  # None: nothing was kept
    check: checking.CheckOutcome | None
    already_tracked: bool = False

    @property
    def kept(self) -> bool:
        return self.listing is not None

    @property
    def priced(self) -> bool:
        return self.check is not None and self.check.price_point is not None


ADD_CHECK_WAIT_MAX = 10.0  # seconds a first check may wait for its store's turn (a web request: under WEB_TIMEOUT)


def listing_add_checked(
    *,
    owner,
    url: str,
    priority: str = Priority.NORMAL,
    name: str = "",
    product: Product | None = None,
    keep: bool = False,
    wait_max: float = ADD_CHECK_WAIT_MAX,
) -> AddOutcome:
    """Add a page only if it can be tracked: its first check runs now, in this process, and a
    new page whose check records no price is removed again (with its product and a store made
    for it), unless `keep`. The one rule behind the web form, `manage.py track`, the API and
    the import. A page already tracked is checked and kept whatever the check finds.

    Safe to run twice: listing_add returns the listing already there, and the check is claimed
    before it runs.
    """
    url = url_check(url=url)
    owner_listings = Listing.objects.filter(product__owner=owner, url=url)
    existing = owner_listings.filter(product=product).first() if product else owner_listings.first()
    store_is_new = not Store.objects.filter(domain=store_domain(url)).exists()
    listing = listing_add(owner=owner, url=url, priority=priority, name=name, product=product)
    outcome = checking.check_run_now(check_id=checking.check_create(listing=listing).pk, wait_max=wait_max)
    priced = outcome is not None and outcome.price_point is not None
    # A price recorded by another run (the same form sent twice at once) keeps the page too.
    if priced or keep or existing is not None or listing.prices.exists():
        listing.refresh_from_db()
        return AddOutcome(listing=listing, check=outcome, already_tracked=existing is not None)
    with transaction.atomic():
        if Listing.objects.filter(product_id=listing.product_id).exclude(pk=listing.pk).exists():
            Listing.objects.filter(pk=listing.pk).delete()
        else:
            Product.objects.filter(pk=listing.product_id).delete()
        if store_is_new:
            Store.objects.filter(pk=listing.store_id, listings__isnull=True).delete()
    return AddOutcome(listing=None, check=outcome)


def product_rename(*, product: Product, name: str) -> Product:
    """Give a product the name a person chose. Safe to run twice."""
    name = (name or "").strip()
    if not name:
        raise TrackingError("a product needs a name")
    product.name = name[:300]
    product.save(update_fields=["name", "updated_at"])
    return product


def listing_priority_set(*, listing: Listing, priority: str) -> Listing:
    """Change how often a listing is checked; a sooner interval takes effect at once.

    Safe to run twice: the next check only ever moves earlier, never later.
    """
    from .scheduling import next_check_time

    if priority not in Priority.values:
        raise TrackingError(f"unknown priority {priority!r}")
    listing.priority = priority
    soonest = next_check_time(priority=priority, now=timezone.now())
    fields = ["priority"]
    if listing.next_check_at is None or listing.next_check_at > soonest:
        listing.next_check_at = soonest
        fields.append("next_check_at")
    listing.save(update_fields=fields)
    return listing


def listing_pause(*, listing: Listing, paused: bool) -> Listing:
    """Stop or restart scheduled checks of a listing. Safe to run twice.

    A resumed listing whose due time passed while it was paused is checked at the next
    dispatch, not once per missed interval.
    """
    listing.paused = paused
    fields = ["paused"]
    if not paused and listing.next_check_at < timezone.now():
        listing.next_check_at = timezone.now()
        fields.append("next_check_at")
    listing.save(update_fields=fields)
    return listing


def product_pause(*, product: Product, paused: bool) -> int:
    """Pause or resume every listing of a product; returns how many listings changed."""
    changed = 0
    for listing in product.listings.filter(paused=not paused):
        listing_pause(listing=listing, paused=paused)
        changed += 1
    return changed


def listing_delete(*, listing: Listing) -> bool:
    """Stop tracking one store's page and forget its history.

    The product goes too when this was its last listing; returns whether it did.
    Safe to run twice on the same id (the second finds nothing to delete).
    """
    with transaction.atomic():
        product_id = listing.product_id
        Listing.objects.filter(pk=listing.pk).delete()
        if not Listing.objects.filter(product_id=product_id).exists():
            Product.objects.filter(pk=product_id).delete()
            return True
    return False


def product_delete(*, product: Product) -> None:
    """Stop tracking a product at every store and forget its history. Safe to run twice."""
    Product.objects.filter(pk=product.pk).delete()


def display_currency_set(*, owner, currency: str) -> None:
    """Remember the currency a person wants prices shown in (blank: none). Safe to run twice."""
    Preference.objects.update_or_create(user=owner, defaults={"display_currency": (currency or "").upper()})


def listing_render_set(*, listing: Listing, render: bool) -> Listing:
    """The owner's switch: check this page in a browser (or not), whatever its store does.
    Safe to run twice."""
    listing.render_js = render
    listing.save(update_fields=["render_js"])
    return listing
