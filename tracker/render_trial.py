"""A page that is only a script shell gets one try in the browser; when the browser finds the
price, the store is rendered from then on (Store.render_js), so its later checks read prices.

Once per store a day, whatever the number of its listings: rendering is slow and takes the
`browser` queue, and a shell that the browser cannot read either would otherwise be tried at
every check.
"""

from __future__ import annotations

from django.core.cache import cache

from .extraction import extract
from .fetching import FetchError, politeness
from .fetching.rendering import chromium_available
from .fetching.shells import script_shell
from .learning import reads
from .models import Listing, Store

TRIAL_EVERY = 24 * 60 * 60  # seconds between two tries of one store


def _key(store_id: int) -> str:
    return f"tracker:render-trial:{store_id}"


def render_trial_claim(*, store: Store, html: str) -> bool:
    """True when this page should be tried in the browser now: it is a script shell, the store
    is not rendered yet, a browser is there, and the store was not tried in the last day. The
    claim is an atomic cache add, so two checks of one store claim it once."""
    if store.render_js or not script_shell(html=html) or not chromium_available():
        return False
    return cache.add(_key(store.pk), 1, timeout=TRIAL_EVERY)


def render_trial_run(*, listing_id: int) -> bool:
    """Render the listing's page once; when a price is found, switch its store to rendering and
    return True (the caller then checks the listing again, which records the price through the
    normal pipeline). Safe to run twice: the switch is a conditional UPDATE, and a second run
    only renders again."""
    listing = Listing.objects.select_related("store").filter(pk=listing_id).first()
    if listing is None or listing.store.render_js or listing.render_js:
        return False
    try:
        page = politeness.listing_fetch(listing=listing, render=True)
    except (FetchError, politeness.CheckSkipped):
        return False
    pattern = reads.store_active_pattern_for_check(store_id=listing.store_id)
    result = extract(page.text, url=page.final_url, pattern=reads.pattern_spec(pattern))
    if result.price is None or result.flagged:
        return False
    Store.objects.filter(pk=listing.store_id, render_js=False).update(render_js=True)
    return True
