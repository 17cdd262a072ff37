# Two commands do everything on a fresh machine with Python 3.11 and make:
#   make report   set-up, sample data when there is no database, the annual report
#   make test     set-up and the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DB     ?= data/locson.duckdb

.PHONY: git-filter setup db report report-all mid-year test lint lab bench bench-quick clean-outputs

$(STAMP): pyproject.toml
	@echo "Đang cài đặt môi trường Python (.venv) và các gói cần dùng — lần đầu mất vài phút…"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --progress-bar on -e '.[dev]'
	@touch $(STAMP)

# Notebook outputs (pupils' names, IDs) never reach git: the nbstripout filter named in the
# committed .gitattributes empties every notebook's outputs when it is staged.
git-filter:
	@if git rev-parse --git-dir >/dev/null 2>&1; then \
	  git config filter.nbstripout.clean '"$(abspath $(BIN))/python" -m nbstripout --keep-id' && \
	  git config filter.nbstripout.smudge cat && \
	  git config filter.nbstripout.required true && \
	  git config diff.ipynb.textconv '"$(abspath $(BIN))/python" -m nbstripout -t'; fi

setup: $(STAMP)
	@$(MAKE) --no-print-directory git-filter

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
