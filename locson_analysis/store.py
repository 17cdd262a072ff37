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
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

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
SCHEMA_VERSION = 1


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


@contextlib.contextmanager
def connect(db: str | Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the database; a lock held by another program becomes a clear Vietnamese error."""
    db = Path(db)
    if read_only and not db.exists():
        raise LocsonError(
            f"Chưa có cơ sở dữ liệu {db}. Hãy nhập dữ liệu trước: locson import <thư mục năm học> "
            f"(hoặc chạy make report để tạo dữ liệu mẫu)."
        )
    db.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(db), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise DatabaseBusy(
                f"Cơ sở dữ liệu {db} đang được một chương trình khác mở để ghi (ví dụ một lệnh "
                f"locson import khác, hoặc một sổ tay Jupyter đang mở kết nối ghi). Hãy đóng "
                f"chương trình đó hoặc khởi động lại kernel của sổ tay, rồi chạy lại lệnh. "
                f"Dữ liệu không bị thay đổi."
            ) from exc
        raise LocsonError(f"Không mở được cơ sở dữ liệu {db}: {exc}") from exc
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
        con.close()


def _schema_version(con: duckdb.DuckDBPyConnection) -> str | None:
    """The schema version written in the file (None for a new file): the DDL runs only then."""
    try:
        rows = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    except duckdb.CatalogException:
        return None
    return rows[0][0] if rows else None


def _frame_for(kind: str, df: pd.DataFrame, import_id: int, school_code: str,
               school_year: str) -> pd.DataFrame:
    cols = [n for n, _ in COLUMNS_OF_KIND[kind]]
    out = df.copy()
    out["import_id"] = import_id
    out["school_code"] = school_code
    out["school_year"] = school_year
    for c in cols:
        if c not in out.columns:
            out[c] = None
    return out[cols]


def existing_kinds(con: duckdb.DuckDBPyConnection, school_code: str, school_year: str) -> list[str]:
    rows = con.execute(
        "SELECT kind FROM active_imports WHERE school_code = ? AND school_year = ?",
        [school_code, school_year]).fetchall()
    return [r[0] for r in rows]


def write_year(db: str | Path, year: YearData, replace: bool = False) -> list[int]:
    """Write one school year in a single transaction; returns the new import ids.

    A kind of file (pupil list, school sheet, population) already present for the year needs
    ``replace=True``; the replaced version is kept and can be restored.  On any error nothing is
    written.
    """
    kinds = year.kinds()
    if not kinds:
        raise LocsonError("Không có bảng dữ liệu nào để nhập.")
    with connect(db) as con:
        present = [k for k in kinds if k in existing_kinds(con, year.school_code, year.school_year)]
        if present and not replace:
            from .contract import FILE_KINDS

            what = ", ".join(FILE_KINDS[k] for k in present)
            raise YearExists(
                f"Năm học {year.school_year} đã có {what} trong cơ sở dữ liệu. Để thay thế, chạy "
                f"lại với --replace (bản cũ vẫn được giữ và có thể khôi phục bằng locson restore)."
            )
        ids: list[int] = []
        con.execute("BEGIN TRANSACTION")
        try:
            now = datetime.now().replace(microsecond=0)
            for kind in kinds:
                df: pd.DataFrame = getattr(year, kind)
                files = [f for f in year.files if f.kind == kind]
                new_id = con.execute(
                    "SELECT coalesce(max(import_id), 0) + 1 FROM imports").fetchone()[0]
                old = con.execute(
                    "SELECT import_id FROM active_imports WHERE school_code=? AND school_year=? "
                    "AND kind=?", [year.school_code, year.school_year, kind]).fetchone()
                con.execute(
                    "INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [new_id, year.school_code, year.school_year, kind, now,
                     json.dumps([Path(f.path).name for f in files], ensure_ascii=False),
                     ",".join(f.sha256 for f in files), len(df),
                     old[0] if old else None, "replace" if old else "import",
                     "\n".join(year.notes)])
                frame = _frame_for(kind, df, new_id, year.school_code, year.school_year)
                con.register("incoming", frame)
                cols = ", ".join(n for n, _ in COLUMNS_OF_KIND[kind])
                con.execute(
                    f"INSERT INTO {TABLE_OF_KIND[kind]} ({cols}) SELECT {cols} FROM incoming")
                con.unregister("incoming")
                con.execute(
                    "INSERT OR REPLACE INTO active_imports VALUES (?, ?, ?, ?)",
                    [year.school_code, year.school_year, kind, new_id])
                ids.append(new_id)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return ids


def history(db: str | Path) -> pd.DataFrame:
    """Every import ever made, newest first, with whether it is the active version."""
    with connect(db, read_only=True) as con:
        return con.execute("""
            SELECT i.import_id, i.school_code, i.school_year, i.kind, i.imported_at, i.files,
                   i.sha256, i.rows, i.action, i.replaced_import_id,
                   a.import_id IS NOT NULL AS active
            FROM imports i LEFT JOIN active_imports a ON a.import_id = i.import_id
            ORDER BY i.import_id DESC""").df()


def restore(db: str | Path, import_id: int) -> dict:
    """Make an earlier import the active version of its year and kind again."""
    with connect(db) as con:
        row = con.execute(
            "SELECT school_code, school_year, kind FROM imports WHERE import_id = ?",
            [import_id]).fetchone()
        if row is None:
            raise LocsonError(f"Không có lần nhập số {import_id}. Xem danh sách: locson history.")
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("INSERT OR REPLACE INTO active_imports VALUES (?, ?, ?, ?)",
                        [*row, import_id])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return {"school_code": row[0], "school_year": row[1], "kind": row[2]}


def replace_checks(db: str | Path, checks: pd.DataFrame) -> None:
    """Store the cross-year findings (recomputed in full after every import)."""
    from .crossyear import COLUMNS as cols

    with connect(db) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("DELETE FROM crossyear_checks")
            if len(checks):
                con.register("incoming", checks[cols])
                con.execute(f"INSERT INTO crossyear_checks SELECT {', '.join(cols)} FROM incoming")
                con.unregister("incoming")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise


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
    frames["pupils"] = _typed_pupils(frames["pupils"])
    return Dataset(**frames)


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
