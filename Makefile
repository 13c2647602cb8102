# Headache-treatment FAQ bot: every command a developer or clinic needs.
# `make run` and `make test` do all set-up on a fresh machine (venv, install,
# spaCy pipeline, database, training when the data changed).

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        := .venv
PY          := $(VENV)/bin/python
RASA        := $(VENV)/bin/rasa
MODEL_NAME  := headache-faq
MODEL       := models/$(MODEL_NAME).tar.gz
SPACY_DIR   := build/spacy_en_headache
STAMP_DIR   := var
ACTION_PORT ?= 5055
RASA_PORT   ?= 5005
WEB_PORT    ?= 8080

export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 3
export PYTHONWARNINGS := ignore::DeprecationWarning
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
# Sanic reads SANIC_* settings from the environment: refuse bodies over 1 MB.
export SANIC_REQUEST_MAX_SIZE := 1048576

TRAINING_DATA := $(shell find data/nlu data/rules data/stories -name '*.yml' 2>/dev/null | sort)
DOMAIN_FILES  := $(shell find domain -name '*.yml' 2>/dev/null | sort)
CONTENT_FILES := $(shell find data/content data/evidence data/legal data/licences -type f 2>/dev/null | sort)
LEXICON_FILES := $(wildcard data/lexicon/*.yml)
RASA_DATA     := --domain domain --data data/nlu data/rules data/stories

.PHONY: help
help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-16s %s\n", $$1, $$2}'

# ---------------------------------------------------------------- set-up
$(VENV)/.installed: pyproject.toml constraints.txt scripts/find_python310.sh
	@PYTHON310=$${PYTHON:-$$(scripts/find_python310.sh)} || exit 1; \
	if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then \
	  echo "creating $(VENV) with $$PYTHON310"; rm -rf $(VENV); "$$PYTHON310" -m venv $(VENV) || exit 1; \
	fi
	$(PY) -m pip install --quiet --upgrade "pip==24.3.1" "setuptools==70.3.0" "wheel==0.45.1"
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $@

.PHONY: install
install: $(VENV)/.installed ## Create the venv and install pinned dependencies

$(SPACY_DIR)/meta.json: $(VENV)/.installed $(LEXICON_FILES) nlp_pipeline/build_spacy.py lexicon/__init__.py
	$(PY) -m nlp_pipeline.build_spacy $(SPACY_DIR)

.PHONY: spacy
spacy: $(SPACY_DIR)/meta.json ## Build the project's spaCy pipeline (offline)

domain/faq.yml: $(VENV)/.installed $(wildcard data/nlu/faq/*.yml) scripts/sync_faq_domain.py
	$(PY) scripts/sync_faq_domain.py
	@touch $@

$(STAMP_DIR)/content.stamp: $(VENV)/.installed $(CONTENT_FILES) $(wildcard actions/store/*.py)
	@mkdir -p $(STAMP_DIR)
	$(PY) -m actions.store.manage load-content
	@touch $@

.PHONY: load-content
load-content: $(VENV)/.installed ## Reload answer content into the database (no retraining)
	$(PY) -m actions.store.manage load-content
	@mkdir -p $(STAMP_DIR) && touch $(STAMP_DIR)/content.stamp

# Rasa fingerprints SpacyNLP by model name only, so a rebuilt spaCy pipeline
# would not retrain by itself: this target decides, and trains with --force. The model
# stores objects of the project's own components (nlp_pipeline/): new code retrains too.
$(MODEL): $(SPACY_DIR)/meta.json domain/faq.yml config.yml $(DOMAIN_FILES) $(TRAINING_DATA) $(wildcard nlp_pipeline/*.py)
	@mkdir -p models
	@echo "training (data changed since the last model)..."
	@start=$$(date +%s); \
	$(RASA) train $(RASA_DATA) --config config.yml --out models --fixed-model-name $(MODEL_NAME) --force \
	  > $(STAMP_DIR)/train.log 2>&1 || { tail -40 $(STAMP_DIR)/train.log; exit 1; }; \
	echo "trained $(MODEL) in $$(( $$(date +%s) - start )) s ($$(du -h $(MODEL) | cut -f1))"

.PHONY: train
train: $(MODEL) ## Train the model if the training data, domain, config or spaCy pipeline changed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	@touch $@

web/vendor/socket.io.min.js: node_modules/.installed
	@mkdir -p web/vendor
	cp node_modules/socket.io-client/dist/socket.io.min.js $@

.PHONY: web
web: web/vendor/socket.io.min.js ## Install the chat widget's front-end dependency (npm, no CDN)

.PHONY: setup
setup: $(VENV)/.installed $(SPACY_DIR)/meta.json $(STAMP_DIR)/content.stamp $(MODEL) web ## Everything run and test need

# ---------------------------------------------------------------- run
.PHONY: run
run: setup ## Start the action server, the Rasa server and the demo web page (Ctrl-C stops all)
	@ACTION_PORT=$(ACTION_PORT) RASA_PORT=$(RASA_PORT) WEB_PORT=$(WEB_PORT) MODEL=$(MODEL) scripts/run_all.sh

.PHONY: actions
actions: setup ## Start only the action server
	$(RASA) run actions --actions actions --port $(ACTION_PORT)

.PHONY: shell
shell: setup ## Clinic staff: rasa shell that greets, with the answer inspector (STAFF_INSPECTOR=off to hide it)
	@MODEL=$(MODEL) scripts/shell.sh

# ---------------------------------------------------------------- checks
.PHONY: validate
validate: $(VENV)/.installed domain/faq.yml ## rasa data validate
	$(RASA) data validate $(RASA_DATA) --config config.yml

.PHONY: lint
lint: $(VENV)/.installed ## ruff (lint + format check) and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

.PHONY: format
format: $(VENV)/.installed ## Apply ruff formatting and safe fixes
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

.PHONY: test
test: setup browser-deps lint ## The whole test suite (lint, unit, integration, consistency, Rasa stories, end to end, browser)
	$(PY) scripts/sync_faq_domain.py --check
	$(PY) -m pytest

.PHONY: test-unit
# The inner loop: property tests run the hypothesis profile "inner-loop" (fewer examples than
# the full run's 300; tests/unit/conftest.py), and the data-wide checks (tests/data_checks) wait for
# test-fast and test.
test-unit: $(VENV)/.installed ## Unit tests only: no servers, no model, no database server, no data-wide checks (inner loop)
	$(PY) -m pytest tests/unit -q --hypothesis-profile=inner-loop

.PHONY: test-fast
test-fast: $(VENV)/.installed $(SPACY_DIR)/meta.json ## Unit, integration, data-wide and consistency tests: no Rasa servers, no browser, no retraining
	$(PY) -m pytest tests/unit tests/integration tests/data_checks tests/test_consistency.py tests/test_legal_freshness.py tests/test_spacy_pipeline.py -q

.PHONY: browser-deps
browser-deps: ## Debian's chromium for the widget's browser test (installed if missing; never a downloaded browser)
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser test..."; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

.PHONY: browser-test
browser-test: setup browser-deps ## The chat widget in headless Chromium (also part of make test)
	$(PY) -m pytest tests/e2e/test_browser_widget.py

.PHONY: widget-screenshot
widget-screenshot: setup browser-deps ## Refresh docs/img/widget.png and docs/img/widget-phone.png
	UPDATE_WIDGET_SCREENSHOT=1 $(PY) -m pytest tests/e2e/test_browser_widget.py

.PHONY: check-answers
check-answers: setup ## Ask the bot every held-out question (starts one if none runs); results/check_answers.csv; ARGS=--update-baseline
	$(PY) scripts/check_answers.py --url http://localhost:$(RASA_PORT) --start-if-down --model $(MODEL) $(ARGS)

.PHONY: purge-conversations
purge-conversations: $(VENV)/.installed ## Delete conversations idle longer than CONVERSATION_RETENTION_DAYS (30); run daily from cron
	$(PY) -m actions.store.manage purge-conversations

# Staff insights (issue 21): read the tracker store only (no model, no running bot needed).
REPORT_ARGS = $(if $(FROM),--from $(FROM)) $(if $(TO),--to $(TO)) $(if $(OUT),--out $(OUT))

.PHONY: report
report: $(VENV)/.installed ## What visitors asked and what fell through: results/report/report.html + CSV (FROM=, TO=, OUT=)
	$(PY) scripts/report.py report $(REPORT_ARGS)

.PHONY: export-unanswered
export-unanswered: $(VENV)/.installed ## Draft NLU examples from unanswered questions: results/unanswered_draft.yml (FROM=, TO=, OUT=)
	$(PY) scripts/report.py export-unanswered $(REPORT_ARGS)

.PHONY: report-screenshot
report-screenshot: $(VENV)/.installed node_modules/.installed browser-deps ## Refresh docs/img/report.png (report on demo traffic, headless Chromium)
	$(PY) scripts/report_screenshot.py

.PHONY: import-licences import-licenses
import-licences: $(VENV)/.installed ## Import a board's licence export: make import-licences CSV=path/to/file.csv
	@test -n "$(CSV)" || { echo "usage: make import-licences CSV=path/to/file.csv"; exit 2; }
	$(PY) -m actions.store.licence_import "$(CSV)"

import-licenses: import-licences ## Same as import-licences (US spelling kept as an alias)

.PHONY: crossval
crossval: setup ## NLU 5-fold cross-validation; writes docs/nlu_report.md (slow: ~15 min)
	$(RASA) test nlu --nlu data/nlu --domain domain --config config.yml --cross-validation --folds 5 \
	  --out results/crossval > $(STAMP_DIR)/crossval.log 2>&1 || { tail -30 $(STAMP_DIR)/crossval.log; exit 1; }
	$(PY) scripts/nlu_report.py results/crossval docs/nlu_report.md

.PHONY: heldout
heldout: setup ## Share of held-out questions answered with the right topic (bench/heldout_accuracy.py)
	$(PY) bench/heldout_accuracy.py

.PHONY: check-independent
check-independent: setup ## Ask a private bot the independent NLU set (tests/nlu/independent_*.yml) turn by turn; results/independent_check.csv
	$(PY) scripts/check_independent.py $(ARGS)

.PHONY: red-flags
red-flags: $(VENV)/.installed $(SPACY_DIR)/meta.json ## Safety triage: recall, right tier and false alarms per tier and category (ARGS=--show-errors, --model ...)
	$(PY) bench/red_flag_recall.py $(ARGS)

.PHONY: safety-sheet
safety-sheet: $(VENV)/.installed ## Regenerate the clinician review sheet in docs/safety.md from data/safety and domain/safety.yml
	$(PY) scripts/safety_review_sheet.py

.PHONY: bench
bench: setup ## Benchmark ours vs a vanilla `rasa init` bot (latency, msg/s, memory, training, start-up)
	$(PY) bench/compare_vanilla.py $(ARGS)

.PHONY: lock
lock: $(VENV)/.installed ## Re-pin every installed package into constraints.txt
	$(PY) -m pip freeze --exclude-editable | grep -v '^-e ' > constraints.txt

.PHONY: clean
clean: ## Remove build products, models and local databases (keeps the venv)
	rm -rf build models results var web/vendor .pytest_cache .ruff_cache .mypy_cache .hypothesis
