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

test: install-test node_modules/.installed
	$(BIN)/pytest $(PYTEST_ARGS)
	$(BIN)/bandit -q -r outreach -ll

lint: install-test
	$(BIN)/ruff check outreach tests bench migrations wsgi.py
	$(BIN)/bandit -q -r outreach -ll

bench: install-test node_modules/.installed
	$(BIN)/python -m bench.run

# Minified static/js/*.js from the readable static/src/*.js (terser pinned in package.json); run after
# editing static/src. static/src/BUILD records the hashes (tests/test_shifts_page_size.py checks it).
assets: node_modules/.installed
	for f in static/src/*.js; do node_modules/.bin/terser "$$f" --compress --mangle -o "static/js/$$(basename $$f)" || exit 1; done
	cd static && sha256sum src/*.js js/*.js > src/BUILD

# Regenerate the single initial migration from the models (nothing has shipped yet).
migration: install-test
	rm -f migrations/versions/0001_initial.py /tmp/outreach-regen.db
	OUTREACH_DATABASE_URL=sqlite:////tmp/outreach-regen.db $(FLASK) db migrate -m initial --rev-id 0001 >/dev/null
	mv migrations/versions/0001_initial_.py migrations/versions/0001_initial.py 2>/dev/null || true
	$(BIN)/ruff check --fix -q migrations
	rm -f /tmp/outreach-regen.db

clean:
	rm -rf $(VENV) node_modules instance/*.db* .pytest_cache
