# Two commands for a newcomer: `make run` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app service
CATALOGUES := $(wildcard service/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGUES:.po=.mo)

.PHONY: run test bench bench-live faults install install-dev browser wrk translations messages typography lint clean

run: install translations
	$(FLASK) db upgrade
	$(FLASK) seed --demo
	@echo "Pause is on http://127.0.0.1:5000, with the scheduler beside it (Ctrl+C stops both)"
	$(FLASK) scheduler & scheduler=$$!; trap 'kill $$scheduler 2>/dev/null' EXIT INT TERM; \
	  $(FLASK) run --host 127.0.0.1 --port 5000

test: install-dev translations browser lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The HTTP benchmark (README, "HTTP benchmark"): needs PostgreSQL and Redis running.
bench: install-dev translations wrk
	$(BIN)/python deploy/bench/web.py $(BENCH_ARGS)
	$(MAKE) bench-live

# Live text sessions (README, "Live text sessions"): 500 sessions through nginx.
bench-live: install-dev translations wrk
	$(BIN)/python deploy/bench/live.py $(BENCH_LIVE_ARGS)

# Fault injection under load (README, "Faults"): private PostgreSQL, Redis and SMTP
# servers, gunicorn behind the shipped nginx site; a few minutes.
faults: install-dev translations
	$(BIN)/python deploy/bench/faults.py $(FAULTS_ARGS)

# Zero findings; every exception is a commented noqa / nosec on its line.
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/bandit -q -r service self_help content booking reports

install: $(VENV)/.runtime-installed
install-dev: $(VENV)/.dev-installed

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime-installed $@

# Browser tests drive Debian's Chromium; install it when we can (root), else say how.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Browser tests need Debian's chromium: sudo apt-get install chromium"; fi; }

wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	  else echo "The benchmark needs Debian's wrk: sudo apt-get install wrk"; exit 1; fi; }

translations: install $(COMPILED)

%.mo: %.po
	$(BIN)/pybabel compile --statistics -i $< -o $@

# After changing user-facing text: extract, then translate the new entries in each .po.
messages: install-dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
	  --project Pause --copyright-holder Pause -o service/translations/messages.pot service self_help content booking reports
	$(BIN)/pybabel update --no-fuzzy-matching -i service/translations/messages.pot -d service/translations
	$(MAKE) typography

# French typography by rule (content/typography.py): a non-breaking space before : ; ? !
# in the French catalogue and the shipped French content.
typography: install
	$(BIN)/python -m content.typography service/translations content/seed

clean:
	rm -rf $(VENV) .pytest_cache
