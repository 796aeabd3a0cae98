#!/bin/sh
# One image, every role: `entrypoint.sh ROLE [args]`.
#   web         migrate, then gunicorn -c deploy/gunicorn.conf.py (WEB_CONCURRENCY workers) on :8000
#   worker      Celery worker for the check queues and `default`
#   worker-llm  Celery worker for the `llm` and `browser` queues (slow work, own processes)
#   beat        the one Celery beat (django-celery-beat's database scheduler)
#   flower      Flower on :5555 behind FLOWER_BASIC_AUTH (user:password)
#   manage      `python manage.py ARGS` (e.g. `manage create_admin`)
# Every role waits for the database; all but web wait until web has applied the migrations
# (MIGRATE_ON_START=false: web waits too, for `manage migrate` run once elsewhere, e.g. a Job).
set -eu

export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings}"

role="${1:-web}"
[ "$#" -gt 0 ] && shift

wait_for() {
    # wait_for WHAT SECONDS PYTHON-CODE: retry until the code exits 0.
    what="$1" limit="$2" code="$3" waited=0
    until python -c "$code" >/dev/null 2>&1; do
        if [ "$waited" -ge "$limit" ]; then
            echo "entrypoint: gave up waiting for $what after ${limit}s" >&2
            python -c "$code" || true
            exit 1
        fi
        [ "$waited" = 0 ] && echo "entrypoint: waiting for $what..."
        sleep 2
        waited=$((waited + 2))
    done
}

DB_CODE='
from config.bootstrap import bootstrap; bootstrap()
import django; django.setup()
from django.db import connection
connection.ensure_connection()'
BROKER_CODE='
from config.celery import app
with app.connection_for_write() as conn:
    conn.ensure_connection(max_retries=1, timeout=3)'
MIGRATED_CODE='
from config.bootstrap import bootstrap; bootstrap()
import sys, django; django.setup()
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
executor = MigrationExecutor(connection)
sys.exit(1 if executor.migration_plan(executor.loader.graph.leaf_nodes()) else 0)'

WAIT="${STARTUP_WAIT_SECONDS:-120}"
queues_checks="${WORKER_QUEUES:-checks_high,checks_normal,checks_low,default}"
queues_llm="${LLM_WORKER_QUEUES:-llm,browser}"

case "$role" in
    web)
        wait_for "the database" "$WAIT" "$DB_CODE"
        if [ "${MIGRATE_ON_START:-true}" = true ]; then
            python manage.py migrate --noinput
        else
            # Several web replicas (Kubernetes): one Job migrates, every replica waits for it.
            wait_for "the migrations (run by the migrate job)" "$WAIT" "$MIGRATED_CODE"
        fi
        # deploy/gunicorn.conf.py: forwarded headers trusted only from FORWARDED_ALLOW_IPS,
        # workers recycled (max_requests with jitter), the same file the systemd unit uses.
        # Inside the container it listens on every interface; compose publishes it on 127.0.0.1.
        export GUNICORN_BIND="${GUNICORN_BIND:-0.0.0.0:${PORT:-8000}}"
        exec gunicorn -c deploy/gunicorn.conf.py config.wsgi:application "$@"
        ;;
    worker)
        wait_for "the database" "$WAIT" "$DB_CODE"
        wait_for "the migrations (run by web)" "$WAIT" "$MIGRATED_CODE"
        exec celery -A config worker -Q "$queues_checks" -n "checks@%h" \
            --concurrency "${WORKER_CONCURRENCY:-4}" -l "${LOG_LEVEL:-INFO}" "$@"
        ;;
    worker-llm)
        wait_for "the database" "$WAIT" "$DB_CODE"
        wait_for "the migrations (run by web)" "$WAIT" "$MIGRATED_CODE"
        exec celery -A config worker -Q "$queues_llm" -n "llm@%h" \
            --concurrency "${LLM_WORKER_CONCURRENCY:-1}" -l "${LOG_LEVEL:-INFO}" "$@"
        ;;
    beat)
        wait_for "the database" "$WAIT" "$DB_CODE"
        wait_for "the migrations (run by web)" "$WAIT" "$MIGRATED_CODE"
        exec celery -A config beat --scheduler metrics.beat:LockedDatabaseScheduler \
            -l "${LOG_LEVEL:-INFO}" "$@"
        ;;
    flower)
        if [ -z "${FLOWER_BASIC_AUTH:-}" ]; then
            echo "entrypoint: set FLOWER_BASIC_AUTH=user:password; Flower is not served without it" >&2
            exit 1
        fi
        wait_for "the broker" "$WAIT" "$BROKER_CODE"
        # deploy/flowerconfig.py puts Flower's /metrics behind the same basic auth.
        exec celery -A config flower --conf=deploy/flowerconfig.py \
            --address="${FLOWER_ADDRESS:-0.0.0.0}" --port="${FLOWER_PORT:-5555}" \
            --basic-auth="$FLOWER_BASIC_AUTH" "$@"
        ;;
    manage)
        wait_for "the database" "$WAIT" "$DB_CODE"
        exec python manage.py "$@"
        ;;
    *)
        exec "$role" "$@"
        ;;
esac
