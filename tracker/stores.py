"""What a store is called: learned from its own pages, editable by staff in the admin."""

from __future__ import annotations

from .extraction.site_name import site_name
from .models import Store


def store_name_read(*, html: str, url: str) -> str:
    """The store's name as one of its pages gives it, or "" (nothing written)."""
    return site_name(html=html, url=url)


def store_name_learn(*, store_id: int, html: str, url: str) -> str:
    """Name an unnamed store from one of its pages; returns the name set, or "".

    Safe to run twice and never overrides a person: the UPDATE only touches a store whose name
    is still empty, so a name staff typed in the admin (or learned before) stays.
    """
    name = store_name_read(html=html, url=url)
    if not name:
        return ""
    changed = Store.objects.filter(pk=store_id, name="").update(name=name[: Store._meta.get_field("name").max_length])
    return name if changed else ""
