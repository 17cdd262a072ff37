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


def read_yaml(path: str | Path, what: str = "Tệp") -> object:
    """The YAML file ``path`` (UTF-8), read safely: PyYAML's ``safe_load``, with its libyaml
    loader (``CSafeLoader``, the same YAML, ~10 × faster: a province's ``schools.yaml`` of 150
    schools is parsed in milliseconds) when PyYAML was built with it.

    A syntax error is a :class:`~locson_analysis.errors.LocsonError` in Vietnamese naming
    ``what`` (e.g. «Tệp chỉ tiêu»), the file, the line and column and the usual causes;
    PyYAML's own words follow as a technical detail."""
    import yaml

    from .errors import LocsonError

    loader = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
    try:
        return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=loader)  # noqa: S506
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f" ở dòng {mark.line + 1}, cột {mark.column + 1}" if mark is not None else ""
        detail = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise LocsonError(
            f"{what} {shown(path)} không đọc được: sai cú pháp YAML{where}. Thường do thụt lề "
            "không đều (dùng dấu cách, không dùng tab), thiếu dấu hai chấm sau tên mục, hoặc "
            "một dòng có dấu hai chấm chưa đặt trong ngoặc kép (ví dụ \"Lưu: VT\"). "
            f"(Chi tiết kỹ thuật: {detail}.)") from exc


def shown(path: str | Path) -> str:
    """``path`` as the user knows it: relative to the project folder when inside it
    (data/report.yaml), else as given."""
    try:
        return str(Path(path).resolve().relative_to(PROJ_ROOT))
    except ValueError:
        return str(path)


def inside(root: str | Path, path: str | Path) -> Path:
    """``path``, refused unless it lies inside ``root`` once both are resolved (so no ``..``
    or symbolic link in a name built from user input leads out of an output folder)."""
    from .errors import LocsonError

    r, p = Path(root).resolve(), Path(path).resolve()
    if p != r and r not in p.parents:
        raise LocsonError(f"Đường dẫn {path} nằm ngoài thư mục kết quả {root}: không ghi ra "
                          f"ngoài thư mục đó.")
    return Path(path)


def private_dir(path: str | Path) -> Path:
    """Create ``path`` (and missing parents) readable by the owner only; an existing folder
    of ours is made owner-only too.  For folders that hold pupils' data (outputs/internal)."""
    path = Path(path)
    missing = [p for p in [path, *path.parents] if not p.exists()]
    for p in reversed(missing):
        p.mkdir(mode=0o700, exist_ok=True)
    if hasattr(os, "getuid") and path.stat().st_uid == os.getuid():
        path.chmod(0o700)
    return path
