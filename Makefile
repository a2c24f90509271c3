# The two commands: `make run` (demo, embedded defaults) and `make test` (whole suite on
# PostgreSQL + Redis). `make lint` runs ruff, the import-layer contracts (import-linter) and bandit;
# `make test` runs it first.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

TEST_DATABASE_URL ?= $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/postgres)
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1

.PHONY: venv lock run test lint format bench clean messages i18n-check

# The translations (locale/<lang>/LC_MESSAGES/django.po) compiled to .mo with our own
# pure-Python compiler (core/pofiles.py): no GNU gettext needed to run (docs/console.md).
PO := $(wildcard locale/*/LC_MESSAGES/django.po)
MO := $(PO:.po=.mo)

# Installs come from the locks, every file checked against its hash (docs/security.md).
# requirements.lock: the app and the dev tools (make venv); requirements-prod.lock: the
# app alone (the Docker image). After changing dependencies in pyproject.toml: make lock.
$(STAMP): pyproject.toml requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP) $(MO)

%.mo: %.po
	$(PYTHON) -c 'import sys; sys.path.insert(0, "."); from core.pofiles import read_po, write_mo; write_mo(read_po("$<"), "$@")'

messages: $(MO)

# Unmarked template text, msgids the catalogues lack, untranslated or fuzzy entries
# (needs GNU gettext's xgettext/msgmerge, as makemessages does). UPDATE=1 writes the
# refreshed .po files to translate.
i18n-check: venv
	DEBUG=true $(PY) scripts/i18n_check.py $(if $(UPDATE),--update)

# From PyPI only (never a machine's local wheel mirror or pip.conf), so the hashes are
# the ones PyPI serves to the image build and to every developer.
PIP_COMPILE := env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL \
	PIP_CONFIG_FILE=/dev/null $(VENV)/bin/pip-compile --quiet --generate-hashes \
	--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
	--index-url https://pypi.org/simple --no-header --annotation-style line

lock:
	@test -x $(VENV)/bin/pip-compile || $(PYTHON) -m venv $(VENV)
	@test -x $(VENV)/bin/pip-compile || $(PY) -m pip install --quiet 'pip-tools>=7.4,<8'
	$(PIP_COMPILE) --extra dev -o requirements.lock pyproject.toml
	$(PIP_COMPILE) -o requirements-prod.lock pyproject.toml

run: venv messages
	$(PY) scripts/run.py

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	@# bandit: medium severity and up fails ([tool.bandit] in pyproject.toml). Its warnings
	@# "nosec encountered … but no failed test" (other nodes on a reviewed line) are noise.
	@out=$$($(VENV)/bin/bandit -c pyproject.toml -r . --quiet --severity-level medium 2>&1); \
	status=$$?; printf '%s\n' "$$out" | grep -v 'nosec encountered' || true; exit $$status

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: venv messages lint
	@# The console's browser tests drive Debian's chromium (never a downloaded browser).
	command -v chromium >/dev/null || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium)
	@# tests/core/test_i18n.py runs makemessages, which needs GNU gettext (xgettext, msgmerge).
	command -v xgettext >/dev/null || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q gettext)
	DEBUG=true DATABASE_URL='$(TEST_DATABASE_URL)' REDIS_URL='$(TEST_REDIS_URL)' $(VENV)/bin/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var db.sqlite3*
