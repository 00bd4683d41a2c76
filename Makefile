# The README's two commands: `make demo` (the embedded default) and `make test` (the test suite).
# Each installs what it needs into the current Python; torch is never installed or replaced here.
PYTHON ?= python3
PIP = $(PYTHON) -m pip install --quiet --disable-pip-version-check

.PHONY: install demo test benchmarks

install:
	$(PIP) -e '.[test]'

demo: install
	$(PYTHON) -m bench demo

test: install
	$(PYTHON) -m pytest

benchmarks: install
	$(PYTHON) benchmarks/bench_beam_search.py --check 20
	$(PYTHON) benchmarks/bench_scoring.py --sclite
