"""gunicorn settings for PriceTracker: `gunicorn -c deploy/gunicorn.conf.py config.wsgi`.

Used by the systemd unit and by the container (docker/entrypoint.sh web). Values come from the environment.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
graceful_timeout = 30
# Recycle workers now and then (memory); the jitter keeps them from restarting together.
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "2000"))
max_requests_jitter = int(os.environ.get("WEB_MAX_REQUESTS_JITTER", "200"))
# Only the reverse proxy may say the request came over HTTPS. In a container the proxy is not
# 127.0.0.1: set FORWARDED_ALLOW_IPS to its address (never "*" on a published port).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# The app writes one line per request with its request id and user (logger
# pricetracker.access); gunicorn's own access line would log each request twice.
accesslog = "-" if os.environ.get("WEB_ACCESS_LOG", "false").lower() in ("1", "true", "yes") else None
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s pid=%(p)s'


def child_exit(server, worker):
    """A finished worker's live gauges leave the Prometheus files (its counters stay counted)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
