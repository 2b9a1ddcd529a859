# outreach: the two set-up commands are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PORT ?= 5000
WORKERS ?= 4
export OUTREACH_DATABASE_URL ?= sqlite:///$(CURDIR)/instance/outreach.db

.PHONY: run test install install-test migrate seed serve lint bench translations translations-update migration clean assets

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel

$(VENV)/.run-deps: $(BIN)/activate setup.cfg pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test-deps: $(VENV)/.run-deps setup.cfg
	$(BIN)/pip install -q -e '.[test,dev]'
	touch $@

node_modules/.installed: package.json
	npm install --no-audit --no-fund --silent
	touch $@

install: $(VENV)/.run-deps translations
install-test: $(VENV)/.test-deps translations

# Compile the catalogues (.mo files are not committed); quiet on success, errors shown and fatal.
translations: $(VENV)/.run-deps
	$(BIN)/pybabel -q compile -d translations -f

# After adding or changing UI strings: refresh the catalogues, then translate the new entries
# (tests/test_translations.py fails while a string is untranslated or fuzzy).
translations-update: $(VENV)/.run-deps
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext --project=outreach -o translations/messages.pot .
	$(BIN)/pybabel -q update -i translations/messages.pot -d translations --ignore-obsolete

migrate: install
	mkdir -p instance
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed-demo --history

run: seed
	@echo "outreach on http://127.0.0.1:$(PORT)"
	$(BIN)/gunicorn --workers $(WORKERS) --bind 127.0.0.1:$(PORT) --access-logfile - wsgi:app

# One pytest-xdist worker per core (TEST_WORKERS=0 for a single process), each on databases of its own;
# a module with a module-scoped fixture stays on one worker (--dist loadgroup, see tests/conftest.py).
TEST_WORKERS ?= auto
# Compiled modules kept in .venv/pycache, written even where PYTHONDONTWRITEBYTECODE is set (it is in
# CI): otherwise every process compiles the app again and pytest rewrites ~375 plugin modules and
# the 114 test files again in each worker (collection: 12 s -> 5 s of CPU a process), and each of a
# gunicorn test's five processes compiles the app anew. The tree stays free of __pycache__.
test: export PYTHONPYCACHEPREFIX := $(abspath $(VENV))/pycache
test: export PYTHONDONTWRITEBYTECODE :=
test: install-test node_modules/.installed
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)
	$(BIN)/bandit -q -r outreach -ll
	$(BIN)/ruff check -q $(LINTED)

# ruff.toml holds the rules, including the 100-character lines setup.cfg declares; well under a second,
# so `make test` runs it too.
LINTED := outreach tests bench migrations wsgi.py gunicorn.conf.py
lint: install-test
	$(BIN)/ruff check $(LINTED)
	$(BIN)/bandit -q -r outreach -ll

bench: install-test node_modules/.installed
	$(BIN)/python -m bench.run

# Minified static/js/*.js from the readable static/src/*.js (terser pinned in package.json); run after
# editing static/src. static/src/BUILD records the hashes (tests/test_shifts_page_size.py checks it).
assets: node_modules/.installed
	for f in static/src/*.js; do node_modules/.bin/terser "$$f" --compress --mangle -o "static/js/$$(basename $$f)" || exit 1; done
	cd static && sha256sum src/*.js js/*.js > src/BUILD

# The next schema revision, from the models: make migration m="what changes". Migrations are frozen once
# released (0001 is 0.1.0's schema, never edited): the models are compared with a temporary database
# upgraded to the head, and the difference is written to migrations/versions/<next 4-digit id>_<slug>.py.
# Read it, add data moves and a downgrade() where needed, and test it (tests/test_migrations_upgrade.py).
migration: install-test
	@test -n "$(m)" || { echo 'usage: make migration m="what changes"'; exit 2; }
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	next=$$(ls migrations/versions | awk -F_ '/^[0-9][0-9][0-9][0-9]_.*\.py$$/ { if ($$1 + 0 > n) n = $$1 + 0 } END { printf "%04d", n + 1 }') && \
	export OUTREACH_DATABASE_URL="sqlite:///$$tmp/head.db" OUTREACH_INSTANCE_PATH="$$tmp" && \
	$(FLASK) db upgrade && \
	$(FLASK) db migrate -m "$(m)" --rev-id "$$next" && \
	$(BIN)/ruff check --fix -q migrations

clean:
	rm -rf $(VENV) node_modules instance/*.db* .pytest_cache
