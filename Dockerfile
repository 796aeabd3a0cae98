# One image for every role of PriceTracker (web, worker, worker-llm, beat, flower):
#   docker build -t pricetracker .
#   docker run --rm pricetracker web|worker|worker-llm|beat|flower|manage ...
# See docker-compose.yml for the full stack and docker/entrypoint.sh for the roles.
FROM python:3.11-slim

ARG INSTALL_CHROMIUM=1
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/data \
    STATIC_ROOT=/app/staticfiles \
    RENDER_CHROMIUM_PATH=/usr/bin/chromium

# pg_dump/pg_restore must match the server's major version (16): PGDG's client packages.
# Chromium renders pages that need JavaScript (the `browser` queue of worker-llm).
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates postgresql-common \
    && /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y \
    && apt-get install -y --no-install-recommends postgresql-client-16 \
    && if [ "$INSTALL_CHROMIUM" = 1 ]; then apt-get install -y --no-install-recommends chromium fonts-dejavu-core; fi \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 1000 app \
    && useradd --system --uid 1000 --gid app --home-dir /app --shell /usr/sbin/nologin app

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=app:app . .

# Static files are collected into the image (whitenoise serves them, compressed and hashed).
# A throw-away key and data folder: nothing from this step is kept but the static files.
RUN SECRET_KEY=collectstatic-only DATA_DIR=/tmp/build-data METRICS_ENABLED=false \
        python manage.py collectstatic --noinput -v0 \
    && rm -rf /tmp/build-data \
    && mkdir -p /data && chown app:app /data /app && chmod +x docker/entrypoint.sh

USER app
VOLUME ["/data"]
EXPOSE 8000 5555
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["web"]
