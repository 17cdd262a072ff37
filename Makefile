# Two commands do everything on a fresh machine with Python 3.11 and make:
#   make report   set-up, sample data when there is no database, the annual report
#   make test     set-up and the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DB     ?= data/locson.duckdb

.PHONY: setup db report report-all mid-year test lint lab bench bench-quick clean-outputs

$(STAMP): pyproject.toml
	@echo "Đang cài đặt môi trường Python (.venv) và các gói cần dùng — lần đầu mất vài phút…"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --progress-bar on -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

# Imports data/raw/<năm học>/ when staff files are there, else creates the synthetic sample;
# a sample database is set aside (data/locson.mau.duckdb) once staff files are in data/raw/.
db: setup
	$(BIN)/locson init --db $(DB)

report: db
	$(BIN)/locson report --db $(DB)

report-all: db
	$(BIN)/locson report --all --db $(DB)

test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check .

lab: setup
	$(BIN)/python -m ipykernel install --user --name locson --display-name "Python (locson)" >/dev/null
	$(BIN)/jupyter lab notebooks/

bench: setup
	$(BIN)/python -m bench.run --sizes school,district,province,country

bench-quick: setup
	$(BIN)/python -m bench.run --sizes school,district --quick

clean-outputs:
	rm -rf outputs/*/ 
