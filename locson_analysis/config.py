"""Paths, all built from the project root so nothing depends on the working directory."""

from __future__ import annotations

import os
from pathlib import Path

PROJ_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = PROJ_ROOT / "data"
RAW_DIR = DATA_DIR / "raw"  # staff files, one folder per school year (git-ignored)
SAMPLE_DIR = DATA_DIR / "sample"  # synthetic files from `locson sample` (git-ignored)
DEFAULT_DB = Path(os.environ.get("LOCSON_DB", DATA_DIR / "locson.duckdb"))
TARGETS_FILE = DATA_DIR / "targets.yaml"
WARNING_RULES_FILE = DATA_DIR / "warning_rules.yaml"
SCHOOLS_FILE = DATA_DIR / "schools.yaml"  # the PGD's schools: code and name (editable)
REPORT_CONFIG_FILE = DATA_DIR / "report.yaml"  # official-document settings, suppression threshold
OUTPUTS_DIR = PROJ_ROOT / "outputs"
INTERNAL_OUTPUTS_DIR = OUTPUTS_DIR / "internal"  # at-risk lists: never leave the school
NOTEBOOKS_DIR = PROJ_ROOT / "notebooks"
