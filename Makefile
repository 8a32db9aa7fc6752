# Baken — all set-up goes through this file. `make run` and `make test` are the two
# commands a new machine needs (see README.md).

SHELL := /bin/bash
.DEFAULT_GOAL := help

RASA_VENV := .venv-rasa
RASA_PY := $(RASA_VENV)/bin/python
RASA := $(RASA_VENV)/bin/rasa
RASA_STAMP := $(RASA_VENV)/.installed
DESK_VENV := .venv-desk
DESK_STAMP := $(DESK_VENV)/.installed
PYTHON_DESK ?= $(shell for c in python3.11 /usr/bin/python3.11 python3.12 python3; do \
  $$c -c 'import sys; assert sys.version_info[:2] >= (3, 11)' >/dev/null 2>&1 && { command -v $$c; break; }; done)
MODEL := models/baken.tar.gz
SPACY_MODEL := build/spacy_nl_baken/baken_fingerprint.txt
export TF_CPP_MIN_LOG_LEVEL := 3
export RASA_TELEMETRY_ENABLED := false
export PYTHONWARNINGS := ignore
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

# Rasa 3.6 needs Python 3.10: the first candidate that really runs 3.10 (pyenv shims may not).
PYTHON310 ?= $(shell for c in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do \
  $$c -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1 && { command -v $$c; break; }; done)
TRAINING_INPUTS := config.yml $(wildcard domain/*.yml) $(wildcard data/*/*.yml) $(wildcard data/*.yml) baken_nlu/components.py

.PHONY: help install run run-scaled haproxy shell actions train spacy validate lint test test-fast test-fast-rasa test-fast-desk test-unit browser test-stories test-desk bench-nlu bench-desk bench-faults bench-loop bench-scale lock-rasa lock-desk clean

help:
	@echo "make run        install, train a model if none, start Rasa + action server"
	@echo "make run-scaled 2 desk processes + 2 action servers behind HAProxy, 2 Rasa servers, PostgreSQL + Redis"
	@echo "make test       lint, validate data, unit tests, test stories, classify"
	@echo "make test-fast  the tests that need no model, no Rasa and no browser (under 2 minutes)"
	@echo "make shell      talk to the assistant in this terminal"
	@echo "make train      build the spaCy pipeline and train the Rasa model"
	@echo "make bench-nlu  NLU benchmark -> docs/benchmarks/nlu.md"
	@echo "make bench-desk desk benchmark (starts its own stack) -> docs/benchmarks/desk.md"
	@echo "make bench-faults crashes and restarts under load, PostgreSQL -> docs/benchmarks/faults.md"
	@echo "make bench-loop admin learning loop in Chromium, real training -> docs/benchmarks/learning-loop.md"
	@echo "make bench-scale 1 vs 2 Rasa servers, 1 vs 2 desk processes on PostgreSQL -> docs/benchmarks/scale.md"

$(RASA_STAMP): requirements/rasa.lock
	@if [[ -z "$(PYTHON310)" ]]; then \
	  echo "Python 3.10 is nodig voor Rasa 3.6 en is niet gevonden."; \
	  echo "Installeer het, bijvoorbeeld met 'pyenv install 3.10' of het pakket python3.10-venv,"; \
	  echo "of geef het pad op: make PYTHON310=/pad/naar/python3.10 ..."; \
	  exit 1; \
	fi
	$(PYTHON310) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install --quiet "pip==24.3.1" "wheel==0.45.1"
	$(RASA_VENV)/bin/pip install --quiet -r requirements/rasa.lock
	touch $@

# The desk's environment (issue 3): SQLAlchemy 2, pydantic 2, python-telegram-bot 22.
$(DESK_STAMP): requirements/desk.lock
	@if [[ -z "$(PYTHON_DESK)" ]]; then echo "Python 3.11 of nieuwer is nodig voor de desk."; exit 1; fi
	$(PYTHON_DESK) -m venv $(DESK_VENV)
	$(DESK_VENV)/bin/pip install --quiet -r requirements/desk.lock
	touch $@

install: $(RASA_STAMP) $(DESK_STAMP)

$(SPACY_MODEL): $(RASA_STAMP) baken_nlu/spacy_pipeline.py data/nlp/entity_patterns.yml
	$(RASA_PY) -m baken_nlu.spacy_pipeline

spacy: $(SPACY_MODEL)

$(MODEL): $(SPACY_MODEL) $(TRAINING_INPUTS)
	$(RASA_PY) -m baken_nlu.train --out models --name baken

train: $(SPACY_MODEL)
	$(RASA_PY) -m baken_nlu.train --out models --name baken

validate: $(RASA_STAMP)
	@mkdir -p results
	@$(RASA) data validate --domain domain >results/validate.log 2>&1 \
	  && echo "rasa data validate: no errors" \
	  || { grep -E "Error|error|Exception" results/validate.log; echo "rasa data validate failed (results/validate.log)"; exit 1; }

lint: $(RASA_STAMP) $(DESK_STAMP)
	$(RASA_VENV)/bin/ruff check --no-cache .
	$(RASA_VENV)/bin/ruff format --no-cache --check .
	$(RASA_VENV)/bin/mypy
	$(DESK_VENV)/bin/mypy desk handoff bot stack tests/test_layout.py tests/test_deploy.py tests/handoff tests/bot tests/desk baken_core benchmarks/learning_loop.py benchmarks/faults.py benchmarks/desk.py benchmarks/desk_stack.py benchmarks/desk_report.py benchmarks/scale.py benchmarks/scale_report.py benchmarks/desk_overhead.py benchmarks/desk_probe.py

RASA_TESTS := tests/baken_core tests/actions tests/baken_nlu tests/dialogue
DESK_TESTS := tests/test_layout.py tests/test_deploy.py tests/baken_core tests/handoff tests/bot tests/desk
# The slow kinds (tests/conftest.py): `make test-fast` runs every test that is none of them.
SLOW_KINDS := rasa or browser or training or faults

# No trained model, no Rasa server, no browser: the loop to run while you work (README).
# Both environments at once, the desk's tests over two processes (pytest-xdist; each has its
# own PostgreSQL database); the schema fuzzer tries 5 examples per operation instead of 25.
test-fast: $(RASA_STAMP) $(DESK_STAMP) $(SPACY_MODEL) haproxy
	@$(MAKE) --no-print-directory -j2 -O test-fast-rasa test-fast-desk

test-fast-rasa:
	$(RASA_VENV)/bin/pytest -q -m "not ($(SLOW_KINDS))" tests/baken_core tests/actions tests/baken_nlu

test-fast-desk:
	BAKEN_FUZZ_EXAMPLES=5 $(DESK_VENV)/bin/pytest -q -n 2 -m "not ($(SLOW_KINDS))" tests/test_layout.py tests/test_deploy.py tests/handoff tests/bot tests/desk

test-unit: $(RASA_STAMP) $(SPACY_MODEL)
	$(RASA_VENV)/bin/pytest -q $(RASA_TESTS)

test-stories: $(MODEL)
	@mkdir -p results
	$(RASA) test core --model $(MODEL) --stories tests/stories --fail-on-prediction-errors --out results/stories >/dev/null 2>results/stories.log \
	  || { cat results/stories/failed_test_stories.yml 2>/dev/null; tail -20 results/stories.log; exit 1; }
	@echo "test stories: all predicted correctly"

# The desk: conversation store on SQLite and PostgreSQL, and the shared triage core
# (it must also work there, without Rasa). Two processes (each its own Rasa and PostgreSQL
# database), then the crash and retraining tests alone: they time processes and load the CPU.
test-desk: $(DESK_STAMP) $(MODEL) browser haproxy
	$(DESK_VENV)/bin/pytest -q -n 2 -m "not (faults or training)" $(DESK_TESTS)
	$(DESK_VENV)/bin/pytest -q -m "faults or training" $(DESK_TESTS)

# The browser tests drive Debian's chromium (Playwright never downloads one): installed here
# when missing and this is a root shell with apt (CI), else the command to run is printed.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if [[ "$$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then \
	    echo "== installing chromium (browser tests)"; \
	    export DEBIAN_FRONTEND=noninteractive; apt-get update -qq || true; apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "Chromium is nodig voor de browsertests: sudo apt-get install chromium"; exit 1; \
	  fi; }

# The balancer of `make run-scaled` (deploy/haproxy.cfg): Debian's haproxy, installed the same way.
haproxy:
	@command -v haproxy >/dev/null 2>&1 || { \
	  if [[ "$$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then \
	    echo "== installing haproxy (make run-scaled)"; \
	    export DEBIAN_FRONTEND=noninteractive; apt-get update -qq || true; apt-get install -y -qq haproxy >/dev/null; \
	  else \
	    echo "HAProxy is nodig voor make run-scaled: sudo apt-get install haproxy"; exit 1; \
	  fi; }

test: lint validate $(MODEL) test-stories test-unit test-desk

actions: $(RASA_STAMP)
	$(RASA) run actions --port 5055

run: $(MODEL) $(DESK_STAMP)
	@scripts/desk ensure-demo
	@scripts/run

# Two desk processes and two action servers behind HAProxy, two Rasa servers, on this
# machine's PostgreSQL and Redis (README, "Scaling out").
run-scaled: $(MODEL) $(DESK_STAMP) haproxy
	@scripts/run-scaled

shell: $(MODEL)
	@$(RASA) run actions --port 5055 >/tmp/baken-actions.log 2>&1 & pid=$$!; \
	  trap "kill $$pid 2>/dev/null" EXIT; \
	  for i in $$(seq 1 60); do curl -sf http://localhost:5055/health >/dev/null && break; sleep 1; done; \
	  $(RASA) shell --model $(MODEL)

bench-nlu: $(MODEL)
	$(RASA_PY) -m benchmarks.nlu $(BENCH_NLU_ARGS)

# Simulated citizens and workers against its own Rasa, action server and desk (about 6 minutes).
bench-desk: $(MODEL) $(DESK_STAMP)
	$(DESK_VENV)/bin/python -m benchmarks.desk

# Issue 9's faults under load: Rasa paused and killed, the desk killed, PostgreSQL restarted
# (about 5 minutes; restarts the machine's PostgreSQL server once).
bench-faults: $(MODEL) $(DESK_STAMP)
	$(DESK_VENV)/bin/python -m benchmarks.faults

# The admin's learning loop in headless Chromium with the real training config (about 10 minutes).
bench-loop: $(MODEL) $(DESK_STAMP)
	$(DESK_VENV)/bin/python -m benchmarks.learning_loop

# Three topologies in one run, each on a new PostgreSQL database (README, "Scaling out").
bench-scale: $(MODEL) $(DESK_STAMP) haproxy
	$(DESK_VENV)/bin/python -m benchmarks.scale

lock-desk:
	rm -rf /tmp/baken-lock-desk && $(PYTHON_DESK) -m venv /tmp/baken-lock-desk
	/tmp/baken-lock-desk/bin/pip install --quiet -r requirements/desk.in
	/tmp/baken-lock-desk/bin/pip freeze --exclude-editable > requirements/desk.lock

lock-rasa:
	rm -rf /tmp/baken-lock && $(PYTHON310) -m venv /tmp/baken-lock
	/tmp/baken-lock/bin/pip install --quiet -r requirements/rasa.in
	/tmp/baken-lock/bin/pip freeze --exclude-editable > requirements/rasa.lock

clean:
	rm -rf build models results .mypy_cache .ruff_cache .pytest_cache
