"""Flower settings for PriceTracker: `celery -A config flower --conf=deploy/flowerconfig.py`.

Flower reads this file as Python (tornado's option files). Flower 2.2 serves its Prometheus
page, `/metrics`, without asking for credentials even when `--basic-auth` is set: worker
names, task names and counts for anyone who can reach the port. Its handler is wrapped here
in tornado's own `authenticated` check, the one every other Flower page uses, so the same
basic-auth (or OAuth) credentials are asked for. `/healthcheck` stays open (it says "OK").
"""

import tornado.web
from flower.views import monitor

if not getattr(monitor.Metrics.get, "_pricetracker_authenticated", False):
    monitor.Metrics.get = tornado.web.authenticated(monitor.Metrics.get)
    monitor.Metrics.get._pricetracker_authenticated = True

# The API (task control) needs the same credentials; never opened by FLOWER_UNAUTHENTICATED_API.
purge_offline_workers = 600
