.PHONY: run test test-fast demoshop lint

# Run PriceTracker here: web, worker + beat and the demo shop, on SQLite and the embedded broker.
run:
	scripts/run

# Run the whole test suite: SQLite + embedded broker, then PostgreSQL + Redis.
test:
	scripts/test

# The edit-run loop: SQLite only, no integration or browser tests, on every core.
test-fast:
	DATA_DIR=$$(mktemp -d) .venv/bin/pytest -p no:cacheprovider -q -n auto -m "not integration and not browser"

# Only the demo shop, on 127.0.0.1:8001.
demoshop:
	.venv/bin/python manage.py demoshop --force

# Style and the import contracts of pyproject.toml (which app may import which).
lint:
	.venv/bin/ruff check .
	.venv/bin/lint-imports
