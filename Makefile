# Two commands for a fresh machine: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PORT   ?= 5000

.PHONY: install demo serve test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

instance/secret_key:
	mkdir -p instance
	$(BIN)/python -c 'import secrets; print(secrets.token_hex(32))' > $@
	chmod 600 $@

# Sets up (first run) or reuses (later runs) the SQLite demo database, then serves it.
demo: $(STAMP) instance/secret_key
	FEEDBACK_SECRET_KEY=$$(cat instance/secret_key) $(BIN)/feedback db upgrade
	FEEDBACK_SECRET_KEY=$$(cat instance/secret_key) $(BIN)/feedback demo seed --if-empty
	@echo "Serving Feedback Loop on http://127.0.0.1:$(PORT)  (Ctrl-C to stop)"
	FEEDBACK_SECRET_KEY=$$(cat instance/secret_key) exec $(BIN)/gunicorn \
		--workers 2 --threads 4 --bind 127.0.0.1:$(PORT) --access-logfile - feedback.wsgi:app

# The whole suite; set DATABASE_URL to a PostgreSQL URL to run it there.
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check feedback dashboards tests bench
	$(BIN)/ruff format --check feedback dashboards tests bench

clean:
	rm -rf $(VENV) instance .pytest_cache
