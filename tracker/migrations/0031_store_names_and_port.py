"""Stores keyed by host and port, and named by the shop rather than by the host.

Two servers on one host (127.0.0.1:8001 and 127.0.0.1:8002) were one store: their listings are
split into a store per host and port, each new store taking the politeness settings of the
one it came from (the largest group keeps the original store, its patterns and history).
A name that only repeated the host is cleared, so the next successful check learns the
shop's own name.
"""

from urllib.parse import urlsplit

from django.db import migrations, models

_COPIED = ("respect_robots", "rate_limit_per_minute", "max_concurrency", "render_js")


def _store_key(url: str) -> str:
    # The rule of tracker.services.store_domain at the time of this migration (copied: a
    # migration must not change when the code it once used does).
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    host = host[4:] if host.startswith("www.") else host
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return f"{host}:{port}" if port and port != default else host


def split_by_port(apps, schema_editor):
    Store = apps.get_model("tracker", "Store")
    Listing = apps.get_model("tracker", "Listing")
    for store in Store.objects.all().order_by("pk"):
        groups: dict[str, list[int]] = {}
        for listing_id, url in Listing.objects.filter(store=store).values_list("pk", "url"):
            groups.setdefault(_store_key(url), []).append(listing_id)
        if not groups or set(groups) == {store.domain}:
            continue
        keys = sorted(groups, key=lambda key: (-len(groups[key]), key))
        keeper = keys[0]
        if keeper != store.domain and not Store.objects.filter(domain=keeper).exists():
            if store.name == store.domain:
                store.name = ""
            store.domain = keeper
            store.save(update_fields=["domain", "name"])
            keys = keys[1:]
        for key in keys:
            if key == store.domain:
                continue
            target = Store.objects.filter(domain=key).first()
            if target is None:
                target = Store.objects.create(domain=key, **{field: getattr(store, field) for field in _COPIED})
            Listing.objects.filter(pk__in=groups[key]).update(store=target)


def names_from_hosts_cleared(apps, schema_editor):
    Store = apps.get_model("tracker", "Store")
    Store.objects.filter(name=models.F("domain")).update(name="")


class Migration(migrations.Migration):
    dependencies = [
        ("tracker", "0030_pattern_owner"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="llmcall",
            options={"ordering": ["-created_at"], "verbose_name": "LLM call"},
        ),
        migrations.AlterField(
            model_name="store",
            name="domain",
            field=models.CharField(
                help_text="Host, with the port when not the usual one: the store's key.", max_length=255, unique=True
            ),
        ),
        migrations.AlterField(
            model_name="store",
            name="name",
            field=models.CharField(
                blank=True,
                help_text="Shown instead of the host. Learned from the shop's pages at the first successful "
                "check when empty; a name typed here is kept.",
                max_length=255,
            ),
        ),
        migrations.RunPython(split_by_port, migrations.RunPython.noop),
        migrations.RunPython(names_from_hosts_cleared, migrations.RunPython.noop),
    ]
