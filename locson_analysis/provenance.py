"""Where a database's data came from: the synthetic sample or the school's own files.

The database records it (``meta`` key :data:`ORIGIN_KEY`, written by ``store.write_years``) so
that everything made from sample data can say so (:data:`SAMPLE_MARK`) and real files are never
mixed with synthetic years.  The rule, enforced in ``store.write_years``:

- a new database takes the origin of its first import;
- importing the school's files into a sample database is **refused** (nothing changes) with a
  message saying what to do; ``locson init`` (``make db`` / ``make report``) instead **sets the
  sample database aside** (renamed to ``<tên>.mau.duckdb``) and starts a new one from
  ``data/raw/`` when staff files are there;
- importing sample files into a database of real files is refused too.

Sample folders written by ``locson sample`` / ``locson init`` carry a marker file
(:data:`SAMPLE_DIR_MARKER`), so importing them by hand is also recorded as sample data.
"""

from __future__ import annotations

from pathlib import Path

from .errors import LocsonError

#: The origin of the synthetic sample (``locson sample``, ``locson init`` without staff files).
SAMPLE = "sample"
#: The origin of the school's own files.
FILES = "files"
ORIGINS = (SAMPLE, FILES)
#: The ``meta`` key holding the origin.
ORIGIN_KEY = "data_origin"

#: Printed on everything made from sample data: terminal output, report banner, workbook, lists.
SAMPLE_MARK = "DỮ LIỆU MẪU — không phải số liệu thật của trường"
#: The same, on a report of several schools (``locson report --group``).
SAMPLE_MARK_GROUP = "DỮ LIỆU MẪU — không phải số liệu thật của các trường"
#: A file written in every sample folder: importing from under it records sample data.
SAMPLE_DIR_MARKER = ".du-lieu-mau"
#: What the marker file says to a person who opens the folder.
_MARKER_TEXT = (f"{SAMPLE_MARK}.\nThư mục này do chương trình tạo (locson sample / locson init). "
                "Dữ liệu của trường đặt trong data/raw/<năm học>/.\n")

ORIGIN_LABELS = {SAMPLE: "dữ liệu mẫu tổng hợp", FILES: "tệp dữ liệu của trường"}


class OriginMismatch(LocsonError):
    """Sample and real data would be mixed in one database."""


def mark_sample_dir(folder: str | Path) -> Path:
    """Write the sample marker in ``folder`` (created if needed); returns the marker's path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / SAMPLE_DIR_MARKER
    marker.write_text(_MARKER_TEXT, encoding="utf-8")
    return marker


def is_sample_path(path: str | Path) -> bool:
    """True when ``path`` (a file or folder) is inside, or is, a marked sample folder."""
    p = Path(path).resolve()
    return any((d / SAMPLE_DIR_MARKER).is_file() for d in (p, *p.parents))


def origin_of_paths(paths: list[str | Path] | tuple[str | Path, ...]) -> str:
    """The origin of an import of these paths: all sample, or all the school's files.

    A mix is an error (Vietnamese, naming the sample paths): it would put synthetic and real
    years in one import.
    """
    flags = [is_sample_path(p) for p in paths]
    if all(flags) and flags:
        return SAMPLE
    if not any(flags):
        return FILES
    sample = ", ".join(str(p) for p, f in zip(paths, flags, strict=True) if f)
    raise OriginMismatch(
        f"Lần nhập này có cả dữ liệu mẫu ({sample}) lẫn tệp của trường. Dữ liệu mẫu không được "
        "nhập chung với dữ liệu thật: hãy bỏ các đường dẫn của dữ liệu mẫu khỏi lệnh. Dữ liệu "
        "không bị thay đổi.")


def set_aside_name(db: str | Path) -> Path:
    """Where ``locson init`` moves a sample database: ``locson.mau.duckdb`` beside it (a
    numbered name when that one is taken)."""
    db = Path(db)
    candidate = db.with_name(f"{db.stem}.mau{db.suffix}")
    n = 2
    while candidate.exists():
        candidate = db.with_name(f"{db.stem}.mau-{n}{db.suffix}")
        n += 1
    return candidate


def mismatch_message(db: str | Path, existing: str, incoming: str) -> str:
    """The Vietnamese refusal when an import would mix sample and real data."""
    if existing == SAMPLE:
        return (
            f"Cơ sở dữ liệu {db} chứa {SAMPLE_MARK.split(' — ')[0]} (do make report / locson init "
            "tạo khi chưa có dữ liệu của trường). Không nhập tệp thật vào đó, để số liệu thật "
            "không lẫn với số liệu mẫu. Hãy làm một trong hai cách:\n"
            "  1. Đặt các tệp của trường vào data/raw/<năm học>/ (ví dụ data/raw/2024-2025/) rồi "
            f"chạy: locson init --db {db}  (hoặc make report) — cơ sở dữ liệu mẫu được cất sang "
            f"{set_aside_name(db).name} và một cơ sở dữ liệu mới được tạo từ tệp của trường;\n"
            "  2. hoặc nhập vào một tệp cơ sở dữ liệu khác: thêm --db <tệp mới>.duckdb.\n"
            "Dữ liệu không bị thay đổi.")
    return (
        f"Cơ sở dữ liệu {db} chứa dữ liệu thật của trường; không nhập dữ liệu mẫu vào đó. "
        "Muốn xem thử dữ liệu mẫu, hãy nhập vào một tệp khác: --db <tệp mới>.duckdb. "
        "Dữ liệu không bị thay đổi.")


def check_origin(db: str | Path, existing: str | None, incoming: str) -> None:
    """Raise :class:`OriginMismatch` when ``incoming`` data may not go into a database whose
    data came from ``existing`` (None: empty or new database — anything may go in)."""
    if incoming not in ORIGINS:
        raise ValueError(f"unknown data origin {incoming!r}")
    if existing is None or existing == incoming:
        return
    raise OriginMismatch(mismatch_message(db, existing, incoming))
