"""The one start-up step of every PriceTracker process, run before Django is set up.

`config/settings.py` only reads: the environment, `.env`, the secret key file. Everything a
process must prepare before it runs happens here, once, in this order: the `.env` file into the
environment (so libraries that read it themselves, like OpenTelemetry's exporter, see it too),
then the data folders, the generated secret key, and the Prometheus folder of this process tree.
Called by manage.py, config/wsgi.py, config/asgi.py and config/celery.py (the `config` package
imports its Celery app, so a process that loads the settings some other way, like pytest-django,
runs it too), and by scripts before `django.setup()`. Safe to call twice: every step is skipped
or repeated with the same result.
"""

from __future__ import annotations

import importlib
import os
import re
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def dotenv_load(path: Path) -> None:
    """Read KEY=VALUE lines from `.env` without overriding the real environment."""
    if not path.is_file():
        return
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if value[:1] in ("'", '"') and value[:1] in value[1:]:
            value = value[1 : value.index(value[0], 1)]
        else:
            # `.env.example` style: `NAME=value  # explanation`
            value = re.split(r"(?:^|\s)#", value, maxsplit=1)[0].strip()
        os.environ.setdefault(key.strip(), value)


def bootstrap() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    dotenv_load(BASE_DIR / ".env")
    # The settings module itself, not django.conf.settings: importing `config.settings` first
    # imports the `config` package, whose Celery app runs this step while Django is still
    # loading the settings; a value set here must be in the module Django copies them from.
    settings = importlib.import_module(os.environ["DJANGO_SETTINGS_MODULE"])

    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    for folder in settings.BROKER_FOLDERS:
        folder.mkdir(parents=True, exist_ok=True)
    key_file = settings.SECRET_KEY_FILE
    if key_file is not None and not settings.SECRET_KEY:
        # Zero set-up: a key is generated once and kept in the data folder.
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(50))
            key_file.chmod(0o600)
        settings.SECRET_KEY = key_file.read_text().strip()
        from django.conf import settings as django_settings

        if django_settings.configured:  # Django copied the settings before this step ran
            django_settings.SECRET_KEY = settings.SECRET_KEY
    if settings.PROMETHEUS_MULTIPROC_DIR:
        # prometheus-client reads the folder from the environment; children inherit it.
        settings.PROMETHEUS_MULTIPROC_DIR.mkdir(parents=True, exist_ok=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(settings.PROMETHEUS_MULTIPROC_DIR)
    else:
        # Set but empty (a copied .env.example) must not switch prometheus-client to a folder "".
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
