# Puhui Hub — the two set-up commands are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

export PUHUI_DATA_DIR ?= ./var
export PUHUI_PORT     ?= 8000

.PHONY: run test lint bench lock clean-venv

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

## run: migrate the embedded SQLite database, seed the demo federation, serve the hub
run: $(STAMP)
	$(VENV)/bin/puhui demo up

## test: the whole suite on SQLite, and on PostgreSQL when a server answers
test: $(STAMP)
	$(PY) -m pytest -n 2 -q

## lint: ruff and mypy (CI runs this too)
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy hub schemas standards mutual_recognition adapters transparency

## bench: benchmarks, each reported as a ratio to the raw primitive of the same run
bench: $(STAMP)
	$(PY) -m bench.envelope
	$(PY) -m bench.log --sizes 100000,1000000
	$(PY) -m bench.ingest --blocks 100000
	$(if $(BENCH_POSTGRES),$(PY) -m bench.ingest --blocks 100000 --postgres $(BENCH_POSTGRES))
	$(PY) -m bench.dedup --sizes 100000,1000000
	$(PY) -m bench.dedup_claims --claims 1000000
	$(if $(BENCH_POSTGRES),$(PY) -m bench.dedup_claims --claims 1000000 --postgres $(BENCH_POSTGRES))
	$(PY) -m bench.transfer --transfers 2000 --batch 100
	$(if $(BENCH_POSTGRES),$(PY) -m bench.transfer --transfers 2000 --batch 100 --postgres $(BENCH_POSTGRES))
	$(PY) -m bench.transfer_server --transfers 3000 --batch 100
	$(if $(BENCH_POSTGRES),$(PY) -m bench.transfer_server --transfers 3000 --batch 100 --postgres $(BENCH_POSTGRES))
	$(PY) -m bench.proposal --proposals 1000
	$(if $(BENCH_POSTGRES),$(PY) -m bench.proposal --proposals 600 --postgres $(BENCH_POSTGRES))

## lock: re-pin constraints.txt from a fresh resolution of pyproject.toml
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --disable-pip-version-check '.[dev]'
	.lock-venv/bin/pip freeze --exclude puhui-hub | sed '/^-e /d' > constraints.txt
	rm -rf .lock-venv

clean-venv:
	rm -rf $(VENV)
