"""The monitoring database (DuckDB): schema, all-or-nothing import, history, read-only access.

Every import is kept.  Each row carries the ``import_id`` it came with, and ``active_imports``
says which import is current for each (school, year, kind of file).  Replacing a year makes a
new import active and leaves the old rows in place, so ``restore`` can switch back.  The views
``pupils``, ``school_facts`` and ``population`` show the active versions only.

Readers (notebooks, the report) call :func:`load`, which opens the file read-only, copies what
it needs into pandas and closes it at once, so the lock is held for well under a second.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from . import faults, provenance
from .contract import PUPIL_COLUMNS
from .dataset import Dataset, YearData
from .errors import LocsonError

KINDS = ("pupils", "school", "population", "interventions")

PUPIL_SQL_TYPES = {
    "text": "VARCHAR", "date": "DATE", "int": "INTEGER", "bool": "BOOLEAN", "sex": "VARCHAR",
    "grade": "INTEGER", "result": "VARCHAR", "conduct": "VARCHAR", "outcome": "VARCHAR",
}
PUPIL_TABLE_COLUMNS: list[tuple[str, str]] = (
    [("import_id", "INTEGER"), ("school_code", "VARCHAR"), ("school_year", "VARCHAR")]
    + [(c.name, PUPIL_SQL_TYPES[c.kind]) for c in PUPIL_COLUMNS]
    + [("result_scale", "VARCHAR"), ("source_file", "VARCHAR"), ("source_row", "INTEGER")]
)
INTERVENTION_COLUMNS: list[tuple[str, str]] = [
    ("import_id", "INTEGER"), ("school_code", "VARCHAR"), ("school_year", "VARCHAR"),
    ("action_date", "DATE"), ("pupil_id", "VARCHAR"), ("action", "VARCHAR"),
    ("staff", "VARCHAR"), ("result", "VARCHAR"), ("source_file", "VARCHAR"),
    ("source_row", "INTEGER"),
]
ITEM_COLUMNS: list[tuple[str, str]] = [
    ("import_id", "INTEGER"), ("school_code", "VARCHAR"), ("school_year", "VARCHAR"),
    ("item", "VARCHAR"), ("value", "DOUBLE"), ("source_file", "VARCHAR"),
    ("source_row", "INTEGER"),
]
TABLE_OF_KIND = {"pupils": "pupil_records", "school": "school_fact_records",
                 "population": "population_records", "interventions": "intervention_records"}
COLUMNS_OF_KIND = {"pupils": PUPIL_TABLE_COLUMNS, "school": ITEM_COLUMNS,
                   "population": ITEM_COLUMNS, "interventions": INTERVENTION_COLUMNS}
VIEW_OF_KIND = {"pupils": "pupils", "school": "school_facts", "population": "population",
                "interventions": "interventions"}
SCHEMA_VERSION = 2  # 2: imports.import_group (restore a whole import)
#: The columns of ``imports``, in table order.
IMPORT_COLUMNS = ["import_id", "school_code", "school_year", "kind", "imported_at", "files",
                  "sha256", "rows", "replaced_import_id", "action", "notes", "import_group"]


def _ddl(table: str, cols: list[tuple[str, str]]) -> str:
    return f"CREATE TABLE IF NOT EXISTS {table} (" + ", ".join(f"{n} {t}" for n, t in cols) + ")"


SCHEMA = [
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    """CREATE TABLE IF NOT EXISTS imports (
        import_id INTEGER PRIMARY KEY, school_code VARCHAR, school_year VARCHAR, kind VARCHAR,
        imported_at TIMESTAMP, files VARCHAR, sha256 VARCHAR, rows INTEGER,
        replaced_import_id INTEGER, action VARCHAR, notes VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS active_imports (
        school_code VARCHAR, school_year VARCHAR, kind VARCHAR, import_id INTEGER,
        PRIMARY KEY (school_code, school_year, kind))""",
    """CREATE TABLE IF NOT EXISTS crossyear_checks (
        school_code VARCHAR, school_year VARCHAR, next_year VARCHAR, check_name VARCHAR,
        pupil_id VARCHAR, class_name VARCHAR, detail VARCHAR)""",
    # version 2: the first import id of the import a row belongs to (NULL before)
    "ALTER TABLE imports ADD COLUMN IF NOT EXISTS import_group INTEGER",
    *[_ddl(TABLE_OF_KIND[k], COLUMNS_OF_KIND[k]) for k in KINDS],
    *[f"""CREATE OR REPLACE VIEW {VIEW_OF_KIND[k]} AS
          SELECT r.* EXCLUDE (import_id) FROM {TABLE_OF_KIND[k]} r
          JOIN active_imports a ON a.import_id = r.import_id AND a.kind = '{k}'"""
      for k in KINDS],
]


class DatabaseBusy(LocsonError):
    pass


class YearExists(LocsonError):
    pass


def default_db() -> Path:
    from .config import DEFAULT_DB

    return DEFAULT_DB


#: How long an open waits for another program's lock to go before saying the database is busy
#: (seconds; ``LOCSON_LOCK_WAIT``): two imports started together then run one after the other.
LOCK_WAIT_SECONDS = float(os.environ.get("LOCSON_LOCK_WAIT", "3"))
#: New database files (and DuckDB's write-ahead log) are readable by their owner only.
PRIVATE_UMASK = 0o077


def _is_lock_error(exc: BaseException) -> bool:
    return "lock" in str(exc).lower()


def _other_program_writes(db: Path, read_only: bool) -> bool:
    """Whether the program holding ``db`` writes (True) or only reads (False).

    DuckDB readers share the file lock and a writer holds it alone: a reader refused means a
    writer; a writer refused while a reader would be let in means one or more readers.
    """
    if read_only:
        return True
    try:
        duckdb.connect(str(db), read_only=True).close()
    except duckdb.Error:
        return True
    return False


def busy_message(db: Path, writes: bool) -> str:
    """The Vietnamese message for a database held by another program."""
    if writes:
        who = ("đang được một chương trình khác mở để ghi (ví dụ một lệnh locson import khác "
               "đang chạy, hoặc một sổ tay Jupyter đang mở kết nối ghi)")
    else:
        who = ("đang được một chương trình khác mở để đọc (ví dụ một lệnh locson report hay "
               "locson warn đang chạy, hoặc một sổ tay Jupyter đang mở kết nối đọc); khi có "
               "chương trình đang đọc thì không ghi được")
    return (f"Cơ sở dữ liệu {db} {who}. Hãy chờ lệnh đó xong, hoặc đóng chương trình đó (khởi "
            f"động lại kernel của sổ tay), rồi chạy lại lệnh. Dữ liệu không bị thay đổi.")


def _open(db: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect``, waiting up to :data:`LOCK_WAIT_SECONDS` for another program's lock."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            return duckdb.connect(str(db), read_only=read_only)
        except duckdb.IOException as exc:
            if faults.is_machine_fault(exc):
                raise faults.StepFailed(f"mở cơ sở dữ liệu {db}", exc, faults.UNCHANGED) \
                    from exc
            if not _is_lock_error(exc):
                raise LocsonError(f"Không mở được cơ sở dữ liệu {db}: {exc}") from exc
            if time.monotonic() >= deadline:
                raise DatabaseBusy(busy_message(db, _other_program_writes(db, read_only))) \
                    from exc
            time.sleep(0.1)


@contextlib.contextmanager
def connect(db: str | Path, read_only: bool = False,
            create: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the database; a lock held by another program becomes a clear Vietnamese error.

    ``create=False`` (or ``read_only``): a missing file is an error and nothing is created.
    A file created here, and the write-ahead log of a writing connection, are readable by the
    owner only (pupils' data).
    """
    db = Path(db)
    if (read_only or not create) and not db.exists():
        raise LocsonError(
            f"Chưa có cơ sở dữ liệu {db}. Hãy nhập dữ liệu trước: locson import <thư mục năm học> "
            f"(hoặc chạy make report để tạo dữ liệu mẫu)."
        )
    old_umask = None if read_only else os.umask(PRIVATE_UMASK)
    try:
        if not read_only:
            try:
                db.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise faults.StepFailed(f"tạo thư mục {db.parent} cho cơ sở dữ liệu", exc,
                                        faults.UNCHANGED) from exc
        con = _open(db, read_only)
    except BaseException:
        if old_umask is not None:
            os.umask(old_umask)
        raise
    try:
        with contextlib.suppress(duckdb.Error):  # (in Jupyter, setting it needs ipywidgets)
            con.execute("SET enable_progress_bar = false")  # it writes to stderr on big reads
        if not read_only and _schema_version(con) != str(SCHEMA_VERSION):
            for stmt in SCHEMA:
                con.execute(stmt)
            con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                        [str(SCHEMA_VERSION)])
        yield con
    finally:
        try:
            con.close()
        finally:
            if old_umask is not None:
                os.umask(old_umask)


def _schema_version(con: duckdb.DuckDBPyConnection) -> str | None:
    """The schema version written in the file (None for a new file): the DDL runs only then."""
    try:
        rows = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    except duckdb.CatalogException:
        return None
    return rows[0][0] if rows else None


def existing_kinds(con: duckdb.DuckDBPyConnection, school_code: str, school_year: str) -> list[str]:
    rows = con.execute(
        "SELECT kind FROM active_imports WHERE school_code = ? AND school_year = ?",
        [school_code, school_year]).fetchall()
    return [r[0] for r in rows]


def _active_of(con: duckdb.DuckDBPyConnection,
               years: list[YearData]) -> dict[tuple[str, str, str], int]:
    """(school, year, kind) → active import id, for the years being written (one query)."""
    keys = pd.DataFrame({"school_code": [y.school_code for y in years],
                         "school_year": [y.school_year for y in years]})
    con.register("incoming_keys", keys)
    try:
        rows = con.execute(
            "SELECT a.school_code, a.school_year, a.kind, a.import_id FROM active_imports a "
            "JOIN (SELECT DISTINCT * FROM incoming_keys) k USING (school_code, school_year)"
        ).fetchall()
    finally:
        con.unregister("incoming_keys")
    return {(code, year, kind): import_id for code, year, kind, import_id in rows}


def _insert_rows(con: duckdb.DuckDBPyConnection, kind: str,
                 parts: list[tuple[int, YearData, pd.DataFrame]]) -> None:
    """Insert the rows of one kind of table for every (import id, year, frame) in ``parts``.

    Frames with the same columns and dtypes (as the importer makes them) go in one INSERT, the
    import id, school and year added as columns; otherwise one INSERT per frame, with those
    three as parameters.  The caller's frames are not copied or changed.
    """
    names = [n for n, _ in COLUMNS_OF_KIND[kind]]
    first = parts[0][2]
    same = all(list(df.columns) == list(first.columns) and df.dtypes.equals(first.dtypes)
               for _, _, df in parts[1:])
    if same and len(parts) > 1:
        lengths = [len(df) for _, _, df in parts]
        incoming = pd.concat([df for _, _, df in parts], ignore_index=True)
        incoming = incoming.assign(
            import_id=np.repeat([i for i, _, _ in parts], lengths),
            school_code=np.repeat(np.array([y.school_code for _, y, _ in parts], dtype=object),
                                  lengths),
            school_year=np.repeat(np.array([y.school_year for _, y, _ in parts], dtype=object),
                                  lengths))
        batches = [(incoming, [])]
        fixed: set[str] = set()
    else:
        batches = [(df, [i, y.school_code, y.school_year]) for i, y, df in parts]
        fixed = {"import_id", "school_code", "school_year"}
    for incoming, params in batches:
        select = ", ".join("?" if n in fixed else (n if n in incoming.columns else "NULL")
                           for n in names)
        con.register("incoming", incoming)
        try:
            con.execute(f"INSERT INTO {TABLE_OF_KIND[kind]} ({', '.join(names)}) "
                        f"SELECT {select} FROM incoming", params)
        finally:
            con.unregister("incoming")


def write_years(db: str | Path, years: list[YearData], replace: bool = False,
                origin: str = provenance.FILES) -> list[list[int]]:
    """Write several school years (of one or many schools) in a single transaction: all of
    them or nothing.  Returns, per year and in the same order, its new import ids (one per kind
    of table, each year keeping its own import record, history and restore).

    A kind of file (pupil list, school sheet, population) already present for a year needs
    ``replace=True``; the replaced version is kept and can be restored.  Without it, every year
    that would be replaced is named in one :class:`YearExists` and nothing is written.  The
    same school and year twice in one call is an error.  On any error nothing is written.
    :func:`import_years` does the same and refreshes the cross-year findings in the same
    transaction.

    ``origin`` (:data:`provenance.FILES` or :data:`provenance.SAMPLE`) is where the data come
    from; a new database records it, and sample data never go into a database of real files
    nor the reverse (:class:`provenance.OriginMismatch`, nothing written).
    """
    return import_years(db, years, replace=replace, origin=origin).ids


@dataclass(frozen=True)
class Imported:
    """What :func:`import_years` wrote: per year its import ids, and every school's stored
    cross-year findings after the refresh (None when no refresh was asked)."""

    ids: list[list[int]]
    checks: pd.DataFrame | None = None


#: A cross-year refresh: the pupils of some schools (as :func:`load` gives them) → their
#: findings (``crossyear.check_all``; the store does not import the checks, it runs them).
Refresh = Callable[[pd.DataFrame], pd.DataFrame]

STEP_WRITE = "ghi dữ liệu vào cơ sở dữ liệu"
STEP_RESTORE = "khôi phục lần nhập"
STEP_CHECKS = "ghi kết quả kiểm tra giữa các năm học"


def import_years(db: str | Path, years: list[YearData], replace: bool = False,
                 refresh: Refresh | None = None, origin: str = provenance.FILES) -> Imported:
    """:func:`write_years`, and with ``refresh`` the imported schools' cross-year findings
    recomputed and stored in the same transaction: the import and its findings are committed
    together or not at all, and two imports (serialised by DuckDB's file lock) never lose each
    other's findings.  A failure of the machine (disk full, no permission) is a
    :class:`faults.StepFailed` saying whether the database changed (checked, not assumed).
    """
    from .contract import FILE_KINDS
    from .schools import school_name

    if not years:
        raise LocsonError("Không có năm học nào để nhập.")
    for y in years:
        if not y.kinds():
            raise LocsonError(f"Không có bảng dữ liệu nào để nhập (năm học {y.school_year}, "
                              f"trường {y.school_code}).")
    seen: set[tuple[str, str]] = set()
    for y in years:
        key = (y.school_code, y.school_year)
        if key in seen:
            raise LocsonError(f"Năm học {y.school_year} của trường {y.school_code} có hai lần "
                              "trong cùng một lần nhập; mỗi năm học của một trường chỉ nhập một "
                              "lần. Dữ liệu không bị thay đổi.")
        seen.add(key)
    with connect(db) as con:
        recorded = _origin(con)
        provenance.check_origin(db, None if recorded == UNKNOWN_ORIGIN else recorded, origin)
        active = _active_of(con, years)
        clashes = [(y, [k for k in y.kinds() if (y.school_code, y.school_year, k) in active])
                   for y in years]
        clashes = [(y, ks) for y, ks in clashes if ks]
        if clashes and not replace:
            if len(years) == 1:
                (y, ks), = clashes
                raise YearExists(
                    f"Năm học {y.school_year} đã có {', '.join(FILE_KINDS[k] for k in ks)} trong "
                    f"cơ sở dữ liệu. Để thay thế, chạy lại với --replace (bản cũ vẫn được giữ và "
                    f"có thể khôi phục bằng locson restore).")
            listing = "\n".join(
                f"  - năm học {y.school_year} của {school_name(y.school_code)} "
                f"(mã {y.school_code}): {', '.join(FILE_KINDS[k] for k in ks)}"
                for y, ks in clashes)
            raise YearExists(
                f"Cơ sở dữ liệu đã có dữ liệu của {len(clashes)} năm học trong lần nhập này:\n"
                f"{listing}\nĐể thay thế, chạy lại với --replace (bản cũ vẫn được giữ và có thể "
                f"khôi phục bằng locson restore). Dữ liệu không bị thay đổi.")
        first_id = con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM imports"
                               ).fetchall()[0][0]
        with _transaction(con, db, STEP_WRITE, lambda: _import_exists(db, first_id)):
            now = datetime.now().replace(microsecond=0)
            next_id = first_id
            ids: list[list[int]] = []
            records: list[list] = []
            rows_of: dict[str, list[tuple[int, YearData, pd.DataFrame]]] = {k: [] for k in KINDS}
            for y in years:
                own: list[int] = []
                notes = "\n".join(y.notes)
                group = next_id  # every kind of this year's import: restored together
                for kind in y.kinds():
                    df: pd.DataFrame = getattr(y, kind)
                    files = [f for f in y.files if f.kind == kind]
                    old = active.get((y.school_code, y.school_year, kind))
                    records.append([
                        next_id, y.school_code, y.school_year, kind, now,
                        json.dumps([Path(f.path).name for f in files], ensure_ascii=False),
                        ",".join(f.sha256 for f in files), len(df), old,
                        "replace" if old is not None else "import", notes, group])
                    rows_of[kind].append((next_id, y, df))
                    own.append(next_id)
                    next_id += 1
                ids.append(own)
            # one statement per table (executemany runs one statement per row: slow)
            incoming = pd.DataFrame(records, columns=IMPORT_COLUMNS).astype(
                {"import_id": "int64", "rows": "int64", "replaced_import_id": "Int64",
                 "import_group": "int64"})
            con.register("incoming_imports", incoming)
            try:
                con.execute(f"INSERT INTO imports ({', '.join(IMPORT_COLUMNS)}) "
                            f"SELECT {', '.join(IMPORT_COLUMNS)} FROM incoming_imports")
                con.execute("INSERT OR REPLACE INTO active_imports "
                            "(school_code, school_year, kind, import_id) "
                            "SELECT school_code, school_year, kind, import_id "
                            "FROM incoming_imports")
            finally:
                con.unregister("incoming_imports")
            for kind, parts in rows_of.items():
                if parts:
                    _insert_rows(con, kind, parts)
            if recorded is None:  # (a database made before origins were recorded stays unknown)
                con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                            [provenance.ORIGIN_KEY, origin])
            checks = None if refresh is None else \
                _refresh_within(con, {y.school_code for y in years}, refresh)
    return Imported(ids, checks)


@contextlib.contextmanager
def _transaction(con: duckdb.DuckDBPyConnection, db: Path | str, step: str,
                 changed: Callable[[], bool | None]) -> Iterator[None]:
    """BEGIN … COMMIT; on error ROLLBACK (which may itself fail once DuckDB has given the
    transaction up, e.g. on a full disk).  A machine fault becomes :class:`faults.StepFailed`
    whose message says whether the database changed — ``changed()``, asked after the
    connection is closed, answers True, False or None (unknown)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except BaseException as exc:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        if isinstance(exc, LocsonError) or not faults.is_machine_fault(exc):
            raise
        with contextlib.suppress(duckdb.Error):
            con.close()
        try:
            was = changed()
        except Exception:  # (the database may not open again until space is freed)
            was = None
        outcome = {False: faults.UNCHANGED, None: faults.UNKNOWN}.get(
            was, "Phần dữ liệu đã được ghi vẫn còn: hãy xem bằng locson history.")
        raise faults.StepFailed(f"{step} {db}", exc, outcome) from exc


def _import_exists(db: Path | str, import_id: int) -> bool:
    """Whether import ``import_id`` is in the file (asked after a failed write)."""
    with connect(db, read_only=True) as con:
        return bool(con.execute("SELECT count(*) FROM imports WHERE import_id = ?",
                                [import_id]).fetchone()[0])


def _school_where(schools: set[str] | None) -> tuple[str, list]:
    if schools is None:
        return "", []
    return "WHERE list_contains(?, school_code)", [sorted(schools)]


def _refresh_within(con: duckdb.DuckDBPyConnection, schools: set[str] | None,
                    refresh: Refresh) -> pd.DataFrame:
    """Recompute ``schools``' cross-year findings (all schools: None) inside the caller's
    transaction and store them; the other schools' findings are kept.  Returns every school's
    stored findings."""
    from .crossyear import COLUMNS as cols

    where, params = _school_where(schools)
    select = _pupil_select(con, where, params, with_names=False)
    pupils = _typed_pupils(con.execute(f"SELECT {select} FROM pupils {where}", params).df())
    fresh = refresh(pupils)
    con.execute(f"DELETE FROM crossyear_checks {where}", params)
    if len(fresh):
        con.register("incoming_checks", fresh[cols].astype(object))
        try:
            con.execute(f"INSERT INTO crossyear_checks ({', '.join(cols)}) "
                        f"SELECT {', '.join(cols)} FROM incoming_checks")
        finally:
            con.unregister("incoming_checks")
    return con.execute("SELECT * FROM crossyear_checks ORDER BY school_code, next_year, "
                       "check_name, class_name, pupil_id").df()


def refresh_checks(db: str | Path, refresh: Refresh,
                   schools: set[str] | None = None) -> pd.DataFrame:
    """Recompute and store the cross-year findings of ``schools`` (None: every school) in one
    transaction; returns every school's stored findings."""
    with connect(db, create=False) as con, _transaction(con, db, STEP_CHECKS, lambda: None):
        return _refresh_within(con, schools, refresh)


#: ``data_origin`` of a database filled before origins were recorded.
UNKNOWN_ORIGIN = "unknown"


def _origin(con: duckdb.DuckDBPyConnection) -> str | None:
    """The recorded origin; None for a database with no import yet; :data:`UNKNOWN_ORIGIN`
    for one filled before origins were recorded."""
    rows = con.execute("SELECT value FROM meta WHERE key = ?", [provenance.ORIGIN_KEY]).fetchall()
    if rows:
        return rows[0][0]
    has_imports = con.execute("SELECT count(*) FROM imports").fetchall()[0][0]
    return UNKNOWN_ORIGIN if has_imports else None


def data_origin(db: str | Path) -> str | None:
    """Where the database's data came from: :data:`provenance.SAMPLE`,
    :data:`provenance.FILES`, :data:`UNKNOWN_ORIGIN` (filled by an older version), or None
    (no file, or nothing imported yet).  Opens the file read-only for a moment."""
    db = Path(db)
    if not db.exists():
        return None
    with connect(db, read_only=True) as con:
        try:
            return _origin(con)
        except duckdb.CatalogException:  # (a file with no schema yet)
            return None


def set_aside(db: str | Path) -> Path:
    """Move a database file (and its write-ahead log) to :func:`provenance.set_aside_name`;
    returns the new path.  Refused while another program holds the file open for writing."""
    db = Path(db)
    with connect(db):  # (DatabaseBusy when another program is writing)
        pass
    target = provenance.set_aside_name(db)
    wal = db.with_name(db.name + ".wal")
    db.rename(target)
    if wal.exists():
        wal.rename(target.with_name(target.name + ".wal"))
    return target


def write_year(db: str | Path, year: YearData, replace: bool = False,
               origin: str = provenance.FILES) -> list[int]:
    """Write one school year in a single transaction; returns the new import ids.

    The one-year case of :func:`write_years` (same rules: ``replace`` for a kind of file
    already present, the replaced version kept for ``restore``, nothing written on error).
    """
    return write_years(db, [year], replace=replace, origin=origin)[0]


def history(db: str | Path) -> pd.DataFrame:
    """Every import ever made, newest first, with whether it is the active version."""
    with connect(db, read_only=True) as con:
        return con.execute("""
            SELECT i.import_id, i.school_code, i.school_year, i.kind, i.imported_at, i.files,
                   i.sha256, i.rows, i.action, i.replaced_import_id,
                   a.import_id IS NOT NULL AS active
            FROM imports i LEFT JOIN active_imports a ON a.import_id = i.import_id
            ORDER BY i.import_id DESC""").df()


def import_group(con: duckdb.DuckDBPyConnection, import_id: int) -> list[tuple]:
    """The rows ``(import_id, school_code, school_year, kind)`` of the whole import that
    ``import_id`` belongs to: every kind of file one import wrote for one school year.

    Imports written before ``import_group`` was recorded: the kinds written with it (same
    school, year and time, consecutive ids, kinds in the order an import writes them).
    """
    row = con.execute("SELECT school_code, school_year, imported_at, import_group FROM imports "
                      "WHERE import_id = ?", [import_id]).fetchone()
    if row is None:
        return []
    code, year, at, group = row
    if group is not None:
        return con.execute("SELECT import_id, school_code, school_year, kind FROM imports "
                           "WHERE import_group = ? ORDER BY import_id", [group]).fetchall()
    rows = con.execute("SELECT import_id, school_code, school_year, kind FROM imports "
                       "WHERE school_code = ? AND school_year = ? AND imported_at = ? "
                       "AND import_group IS NULL ORDER BY import_id", [code, year, at]).fetchall()
    # one import wrote its kinds with consecutive ids in KINDS order (YearData.kinds): the
    # run around import_id whose kinds keep rising in that order
    order = {k: i for i, k in enumerate(KINDS)}
    pos = next(i for i, r in enumerate(rows) if r[0] == import_id)
    lo = hi = pos
    while lo > 0 and rows[lo - 1][0] == rows[lo][0] - 1 \
            and order[rows[lo - 1][3]] < order[rows[lo][3]]:
        lo -= 1
    while hi + 1 < len(rows) and rows[hi + 1][0] == rows[hi][0] + 1 \
            and order[rows[hi + 1][3]] > order[rows[hi][3]]:
        hi += 1
    return rows[lo:hi + 1]


def restore(db: str | Path, import_id: int, refresh: Refresh | None = None) -> dict:
    """Make an earlier import the active version again — the whole import: every kind of
    file it wrote for its school year (pupil list, school sheet, population …), so no kind
    stays newer than the others.  Kinds that import did not contain stay as they are.

    With ``refresh`` the school's cross-year findings are recomputed in the same transaction.
    A missing database is an error and no file is created.  Returns ``school_code``,
    ``school_year``, ``kinds`` and ``import_ids`` (what became active) and ``checks``.
    """
    with connect(db, create=False) as con:
        rows = import_group(con, import_id)
        if not rows:
            raise LocsonError(f"Không có lần nhập số {import_id}. Xem danh sách: locson history.")
        code, year = rows[0][1], rows[0][2]
        before = con.execute("SELECT kind, import_id FROM active_imports WHERE school_code = ? "
                             "AND school_year = ?", [code, year]).fetchall()

        def changed() -> bool:
            with connect(db, read_only=True) as c:
                return c.execute("SELECT kind, import_id FROM active_imports WHERE "
                                 "school_code = ? AND school_year = ?",
                                 [code, year]).fetchall() != before

        with _transaction(con, db, STEP_RESTORE, changed):
            for i, c, y, kind in rows:
                con.execute("INSERT OR REPLACE INTO active_imports VALUES (?, ?, ?, ?)",
                            [c, y, kind, i])
            checks = None if refresh is None else _refresh_within(con, {code}, refresh)
    return {"school_code": code, "school_year": year, "kind": rows[0][3],
            "kinds": [r[3] for r in rows], "import_ids": [r[0] for r in rows],
            "checks": checks}


def replace_checks(db: str | Path, checks: pd.DataFrame) -> None:
    """Store the cross-year findings of every school (replacing all stored ones)."""
    with connect(db, create=False) as con, _transaction(con, db, STEP_CHECKS, lambda: None):
        _refresh_within(con, None, lambda _pupils: checks)


def _typed_pupils(df: pd.DataFrame) -> pd.DataFrame:
    for c in PUPIL_COLUMNS:
        if c.name not in df.columns:
            continue
        if c.kind == "date":
            df[c.name] = pd.to_datetime(df[c.name])
        elif c.kind in ("int", "grade"):
            df[c.name] = df[c.name].astype("Int64")
        elif c.kind == "bool":
            df[c.name] = df[c.name].astype("boolean")
    return df


#: Pupil text columns with few distinct values: read as pandas categoricals (DuckDB ENUM), so
#: millions of rows cost one small integer each instead of one Python ``str`` object each.
CATEGORICAL_COLUMNS = ("school_code", "school_year", "sex", "ethnicity", "class_name",
                       "learning_s1", "conduct_s1", "learning_year", "conduct_year",
                       "result_scale", "outcome", "dropout_reason", "source_file")
#: Personal columns read only when asked (``load(with_names=True)``): the PGD report never needs
#: them.  ``birth_date`` is kept (age at entry is an indicator).
NAME_COLUMNS = ("full_name",)
#: DuckDB's 64-bit hash of ``pupil_id``, computed while reading: the indicators link a
#: pupil's records across years by factorising these integers instead of millions of ID
#: strings (and check that equal hashes are equal IDs, so a collision cannot merge two pupils).
PUPIL_HASH = "pupil_hash"
#: Above this many distinct values a "categorical" column is read as plain text.
MAX_CATEGORIES = 200_000


def _sql_list(values: list[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _pupil_select(con: duckdb.DuckDBPyConnection, where: str, params: list,
                  with_names: bool) -> str:
    """The pupils SELECT: low-cardinality text as inline ENUMs (sorted categories)."""
    cols = [n for n, _ in PUPIL_TABLE_COLUMNS if n != "import_id"
            and (with_names or n not in NAME_COLUMNS)]
    cats = [c for c in CATEGORICAL_COLUMNS if c in cols]
    if not cats:
        return ", ".join([*cols, f"hash(pupil_id) AS {PUPIL_HASH}"])
    # one pass over the rows: the distinct values of every categorical column (small lists)
    counts = con.execute(
        "SELECT " + ", ".join(f"approx_count_distinct({c})" for c in cats)
        + f" FROM pupils {where}", params).fetchone()
    cats = [c for c, n in zip(cats, counts, strict=True) if (n or 0) <= MAX_CATEGORIES]
    values = con.execute(
        "SELECT " + ", ".join(f"list(DISTINCT {c})" for c in cats) + f" FROM pupils {where}",
        params).fetchone() if cats else []
    enum = {c: sorted(x for x in (v or []) if x is not None)
            for c, v in zip(cats, values, strict=True)}
    out = []
    for c in cols:
        if enum.get(c):  # (an all-NULL column stays text: an ENUM needs a value)
            out.append(f"CAST({c} AS ENUM({_sql_list(enum[c])})) AS {c}")
        else:
            out.append(c)
    out.append(f"hash(pupil_id) AS {PUPIL_HASH}")
    return ", ".join(out)


def load(db: str | Path | None = None, school_code: str | None = None,
         years: list[str] | tuple[str, ...] | None = None, with_names: bool = False) -> Dataset:
    """Read the active version of every year into pandas (read-only, lock released on return).

    ``years``: only these school years ("2024-2025", …) are read (pushed into SQL); see
    :func:`locson_analysis.indicators.years_needed` for the years one year's indicators read.
    Pupils' names (``full_name``) are read only with ``with_names=True`` — the internal lists
    (early warning) ask for them; nothing that computes indicators or makes the PGD report
    ever holds a name.  ``pupils`` has one
    more column, ``pupil_hash`` (:data:`PUPIL_HASH`, for linking records fast).  Pupil rows
    come in the order they were imported (school, year, file row); low-cardinality text columns
    (:data:`CATEGORICAL_COLUMNS`) are pandas categoricals with sorted categories.
    """
    db = Path(db) if db else default_db()
    conds, params = [], []
    if school_code is not None:
        conds.append("school_code = ?")
        params.append(school_code)
    if years is not None:
        years = [str(y) for y in years]
        conds.append("list_contains(?, school_year)")
        params.append(years)
    where = ("WHERE " + " AND ".join(conds)) if conds else ""
    with connect(db, read_only=True) as con:
        pupil_cols = _pupil_select(con, where, params, with_names)
        frames = {
            "pupils": con.execute(f"SELECT {pupil_cols} FROM pupils {where}", params).df(),
            "school": con.execute("SELECT school_code, school_year, item, value "
                                  f"FROM school_facts {where}", params).df(),
            "population": con.execute("SELECT school_code, school_year, item, value "
                                      f"FROM population {where}", params).df(),
            "imports": con.execute(f"""
                SELECT * FROM (SELECT i.* FROM imports i
                    JOIN active_imports a ON a.import_id = i.import_id) {where}
                ORDER BY school_year, kind""", params).df(),
            "checks": con.execute(f"SELECT * FROM crossyear_checks {where}", params).df(),
            "interventions": con.execute(f"SELECT * FROM interventions {where}", params).df(),
        }
        origin = _origin(con)
    frames["pupils"] = _typed_pupils(frames["pupils"])
    return Dataset(**frames, origin=origin)


def year_status(db: str | Path) -> pd.DataFrame:
    """Per school and school year with data (pupils, school data or population, as
    ``Dataset.years``): ``pupils`` — the year has pupil rows; ``running`` — the year has not
    ended (a pupil's outcome is still ``in_progress``, as
    :func:`locson_analysis.indicators.in_progress_years`).  One small query, no row read into
    pandas: what choosing a report's school and year needs (:mod:`report.annual`)."""
    with connect(db, read_only=True) as con:
        return con.execute("""
            WITH p AS (SELECT school_code, school_year,
                              coalesce(bool_or(outcome = 'in_progress'), false) AS running
                       FROM pupils WHERE school_code IS NOT NULL AND school_year IS NOT NULL
                       GROUP BY ALL),
                 o AS (SELECT school_code, school_year FROM school_facts
                       UNION SELECT school_code, school_year FROM population)
            SELECT school_code, school_year, p.school_code IS NOT NULL AS pupils,
                   coalesce(p.running, false) AS running
            FROM p FULL OUTER JOIN (SELECT * FROM o WHERE school_code IS NOT NULL
                                    AND school_year IS NOT NULL) o
                 USING (school_code, school_year)
            ORDER BY school_code, school_year""").df()


def summary(db: str | Path) -> pd.DataFrame:
    """Per school and year: pupils, classes, and which kinds of file are present."""
    with connect(db, read_only=True) as con:
        return con.execute("""
            WITH y AS (SELECT DISTINCT school_code, school_year FROM active_imports)
            SELECT y.school_code, y.school_year,
                   (SELECT count(*) FROM pupils p WHERE p.school_code = y.school_code
                        AND p.school_year = y.school_year) AS pupils,
                   (SELECT count(DISTINCT class_name) FROM pupils p
                        WHERE p.school_code = y.school_code AND p.school_year = y.school_year)
                        AS classes,
                   (SELECT string_agg(kind, ',' ORDER BY kind) FROM active_imports a
                        WHERE a.school_code = y.school_code AND a.school_year = y.school_year)
                        AS kinds
            FROM y ORDER BY y.school_code, y.school_year""").df()
