# Developer shortcuts; `make check` is exactly what CI runs.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

ifneq ($(filter migrations,$(MAKECMDGOALS)),)
ifeq ($(NAME),)
$(error usage: make migrations NAME=what_changed)
endif
endif

.PHONY: check lint format types test demo bench migrations

check:
	bash scripts/test

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

types: $(STAMP)
	$(BIN)/mypy

test:
	bash scripts/test --sqlite-only --no-lint

demo: $(STAMP)
	$(BIN)/beat demo

bench: $(STAMP)
	$(BIN)/python bench/bench_api.py
	$(BIN)/python bench/bench_posts.py
	$(BIN)/python bench/bench_import.py
	$(BIN)/python bench/bench_feed.py

migrations: $(STAMP)
	scripts/makemigrations $(NAME)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@
