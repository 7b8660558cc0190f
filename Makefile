# The two commands: `make run` and `make test`. Everything else is a step they take.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SERVICES := campaign lead assignment reporting
PACKAGES := crmkit $(addprefix services/,$(SERVICES)) gateway
export AMQP_URI ?= amqp://guest:guest@localhost:5672/

.PHONY: run test venv migrate unit integration bench bench-e2e bench-intake bench-search bench-rules bench-reports clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt $(addsuffix /pyproject.toml,$(PACKAGES))
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps --no-build-isolation --config-settings editable_mode=compat $(addprefix -e ,$(PACKAGES))
	touch $@

migrate: venv
	$(BIN)/python -m crmkit.migrate_all

run: migrate
	$(BIN)/python -m crmkit.supervise

test: migrate
	$(BIN)/python -m pytest

unit: venv
	$(BIN)/python -m pytest -m "not integration"

integration: venv
	$(BIN)/python -m pytest -m integration

bench: bench-e2e

bench-e2e: migrate
	$(BIN)/python bench/e2e.py

bench-intake: migrate
	$(BIN)/python bench/intake.py

bench-search: venv
	$(BIN)/python bench/lead_search.py

bench-rules: venv
	$(BIN)/python bench/rules.py

bench-import: migrate
	$(BIN)/python bench/import_bench.py

bench-reports: migrate
	$(BIN)/python bench/reports.py

clean:
	rm -rf $(VENV) var
