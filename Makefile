# The two commands: `make run` and `make test`. Everything else is a helper for those.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
FLASK  := $(BIN)/flask --app portal
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test serve worker install db demo lint bench bench-sweeps clean axe

$(STAMP): pyproject.toml
	./.ci/pdf-packages
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

instance:
	mkdir -p instance

db: $(STAMP) instance
	$(FLASK) db upgrade

demo: db
	$(FLASK) demo --if-empty

# The job worker (email, periodic jobs) runs beside the development server and stops with it.
run: demo
	@$(FLASK) worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT) --debug

# A job worker on its own: in production run any number, on any number of machines, all
# pointed at the same HUEY_REDIS_URL and DATABASE_URL.
worker: db
	$(FLASK) worker

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: db
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(FLASK) db check

serve: db
	PORTAL_ENV=production $(BIN)/gunicorn --config gunicorn.conf.py wsgi:app

bench: $(STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

bench-sweeps: $(STAMP)
	$(BIN)/python -m bench.sweeps $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info

# axe-core for the browser tests' accessibility checks, from the npm registry into a gitignored
# folder (tests/browser/axe.py installs the same pinned version by itself when it is missing).
axe:
	npm install --prefix tests/browser/.axe --no-save --no-audit --no-fund --ignore-scripts axe-core@4.14.1
