# The task runner the README names. Each target is a thin wrapper over scripts/, which do the
# real work (install, bring up Postgres/Redis, clean up), so `make X` and `./scripts/X` agree.

.PHONY: run test lint bench fmt

run:
	./scripts/quickstart

test:
	./scripts/test

lint:
	./scripts/lint

bench:
	./scripts/bench

fmt:
	bash -c 'source scripts/lib.sh && ensure_venv'
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .
