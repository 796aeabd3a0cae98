.PHONY: run test demoshop lint

# Run PriceTracker here: web, worker + beat and the demo shop, on SQLite and the embedded broker.
run:
	scripts/run

# Run the whole test suite: SQLite + embedded broker, then PostgreSQL + Redis.
test:
	scripts/test

# Only the demo shop, on 127.0.0.1:8001.
demoshop:
	.venv/bin/python manage.py demoshop --force

lint:
	.venv/bin/ruff check .
