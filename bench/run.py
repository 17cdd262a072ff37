"""The benchmark: import, indicators and the annual report at four scales, in one run.

Sizes (synthetic data, see ``locson_analysis.sample``):

* ``school``   — one school, ~800 pupils, five school years;
* ``district`` — 15 schools, five years;
* ``province`` — 150 schools, five years;
* ``country``  — 6.5 million pupils a year (~8,125 schools of 800), two years.

Every heavy measurement runs in its own subprocess (``python -m bench.run --worker …``), which
reports its wall-clock seconds (``time.perf_counter`` around the measured call only, not the
interpreter start) and its peak resident memory (``ru_maxrss`` of itself and of its waited-for
children, e.g. the Jupyter kernel).  Generated data lives in a temporary folder that is removed
at the end (``--keep-data`` keeps it).  Results go to ``bench/results/latest.json``.

Nothing here asserts speed: the targets are compared and printed as met / not met.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
PROJ_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
DEFAULT_OUT = RESULTS_DIR / "latest.json"
SEED = 2025

# Targets (the issue "Fast at every scale a user meets").
TARGET_REPORT_FLOOR_RATIO = 1.5
TARGET_GROUP_REPORT_RATIO = 2.0
TARGET_NATIONAL_SECONDS = 10.0
TARGET_NATIONAL_GB = 12.0
TARGET_CSV_ROWS_PER_SECOND = 50_000
TARGET_XLSX_ROWS_PER_SECOND = 20_000
#: Cost grows "linearly" when time ∝ pupils^slope with slope at most this (×2.14 per doubling).
TARGET_LINEAR_SLOPE = 1.1


@dataclass(frozen=True)
class Size:
    """One scale: ``schools`` schools of about ``pupils_per_school`` pupils, ``years`` years."""

    name: str
    schools: int
    pupils_per_school: int
    years: tuple[str, ...]
    fast: bool = False  # vectorised one-year generator (no history) instead of the simulation
    xlsx: bool = False  # also write and import the staff-style Excel files

    @property
    def pupils_per_year(self) -> int:
        return self.schools * self.pupils_per_school


FIVE_YEARS = ("2020-2021", "2021-2022", "2022-2023", "2023-2024", "2024-2025")
COUNTRY_PUPILS = 6_500_000

SIZES: dict[str, Size] = {
    "toy": Size("toy", 2, 100, FIVE_YEARS[-2:], xlsx=True),  # for the smoke test only
    "school": Size("school", 1, 800, FIVE_YEARS, xlsx=True),
    "district": Size("district", 15, 800, FIVE_YEARS, xlsx=True),
    "province": Size("province", 150, 800, FIVE_YEARS),
    "country": Size("country", COUNTRY_PUPILS // 800, 800, FIVE_YEARS[-2:], fast=True),
}


def school_codes(size: Size) -> list[str]:
    return [f"BENCH{i:05d}" for i in range(1, size.schools + 1)]


# =============================================================================================
# Worker side: each function below runs in its own process and returns a JSON-able dict.
# =============================================================================================


def _peak_rss_gb() -> float:
    """Peak resident memory of this process and of its waited-for children, in GB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024**2  # ru_maxrss is in KiB on Linux


def _item_frames(sample_years: dict) -> tuple[Any, Any, Any]:
    from locson_analysis import sample

    ds = sample.to_dataset(sample_years)
    return ds.pupils, ds.school, ds.population


def bulk_store(db: Path, pupils: Any, school: Any, population: Any,
               first_import_id: int = 1) -> int:
    """Write many schools and years into ``db`` at once, with the store's own schema.

    ``store.write_year`` writes one school-year per call; a national database of ~16,000
    school-years would spend its time opening the file.  This does the same rows in one
    statement per kind: one import (and one active import) per school, year and kind.  Only the
    benchmark uses it; real imports go through ``importer.read_year`` + ``store.write_year``.
    Returns the next free import id.
    """
    import duckdb  # noqa: F401  (imported for its side effect of registering pandas frames)

    from locson_analysis import provenance, store

    frames = {"pupils": pupils, "school": school, "population": population}
    with store.connect(db) as con:
        next_id = first_import_id
        for kind, df in frames.items():
            if df is None or not len(df):
                continue
            cols = [n for n, _ in store.COLUMNS_OF_KIND[kind] if n != "import_id"]
            con.register("incoming", df)
            keys = con.execute(
                "SELECT school_code, school_year, count(*) AS n FROM incoming "
                "GROUP BY ALL ORDER BY ALL").df()
            keys.insert(0, "import_id", range(next_id, next_id + len(keys)))
            next_id += len(keys)
            con.register("incoming_keys", keys)
            present = set(df.columns)
            select = ", ".join(
                f"k.{c}" if c in ("school_code", "school_year")
                else (f"i.{c}" if c in present else f"NULL AS {c}")
                for c in cols)
            con.execute("BEGIN TRANSACTION")
            con.execute(
                "INSERT INTO imports (import_id, school_code, school_year, kind, imported_at, "
                "files, sha256, rows, replaced_import_id, action, notes) "
                "SELECT import_id, school_code, school_year, ?, now(), "
                "'[]', '', n, NULL, 'import', 'bench' FROM incoming_keys", [kind])
            con.execute(
                f"INSERT INTO {store.TABLE_OF_KIND[kind]} (import_id, {', '.join(cols)}) "
                f"SELECT k.import_id, {select} FROM incoming i JOIN incoming_keys k "
                f"USING (school_code, school_year)")
            con.execute(
                "INSERT OR REPLACE INTO active_imports SELECT school_code, school_year, ?, "
                "import_id FROM incoming_keys", [kind])
            con.execute("COMMIT")
            con.unregister("incoming")
            con.unregister("incoming_keys")
        # generated data: every report made from it carries the sample mark (issue 11)
        con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                    [provenance.ORIGIN_KEY, provenance.SAMPLE])
    return next_id


def task_generate(size: dict, root: str) -> dict:
    """Synthetic data for a five-year size: CSV (and Excel) files per school and year, plus the
    database the indicator measurements read (bulk-written, see :func:`bulk_store`)."""
    import pandas as pd

    from locson_analysis import contract, sample

    sz = Size(**{**size, "years": tuple(size["years"])})
    root_p = Path(root)
    t0 = time.perf_counter()
    pupils, school, population = [], [], []
    csv_jobs: list[list[str]] = []
    xlsx_jobs: list[list[str]] = []
    entrants = max(1, round(sz.pupils_per_school / 4))
    write_items_csv = sample._write_items_csv  # the staff-style item sheets as CSV
    for code in school_codes(sz):
        years = sample.generate(seed=SEED, first_year=sz.years[0], last_year=sz.years[-1],
                                in_progress=False, school_code=code,
                                entrants_per_year=entrants)
        p, s, q = _item_frames(years)
        pupils.append(p)
        school.append(s.assign(school_code=code))
        population.append(q.assign(school_code=code))
        for year, sy in years.items():
            folder = root_p / "csv" / code / year
            folder.mkdir(parents=True, exist_ok=True)
            sample.write_pupils_csv(sy.pupils, folder / f"hoc_sinh_{year}.csv")
            if sy.school is not None:
                write_items_csv(sy.school, contract.SCHOOL_ITEMS,
                                folder / f"so_lieu_truong_{year}.csv")
            if sy.population is not None:
                write_items_csv(sy.population, contract.POPULATION_ITEMS,
                                folder / f"pho_cap_{year}.csv")
            csv_jobs.append([str(folder), code, year, str(len(sy.pupils))])
    gen_seconds = time.perf_counter() - t0
    if sz.xlsx:
        for code in school_codes(sz):
            sample.write_sample(root_p / "xlsx" / code, seed=SEED, fmt="xlsx",
                                first_year=sz.years[0], last_year=sz.years[-1],
                                in_progress=False, school_code=code,
                                entrants_per_year=entrants)
            for year_dir in sorted((root_p / "xlsx" / code).iterdir()):
                n = next(j[3] for j in csv_jobs if j[1] == code and j[2] == year_dir.name)
                xlsx_jobs.append([str(year_dir), code, year_dir.name, n])
    files_seconds = time.perf_counter() - t0 - gen_seconds
    all_pupils = pd.concat(pupils, ignore_index=True)
    db = root_p / f"{sz.name}.duckdb"
    t1 = time.perf_counter()
    bulk_store(db, all_pupils, pd.concat(school, ignore_index=True),
               pd.concat(population, ignore_index=True))
    return {"db": str(db), "pupil_rows": len(all_pupils),
            "schools": sz.schools, "years": list(sz.years),
            "pupils_per_year": round(len(all_pupils) / len(sz.years)),
            "generate_seconds": gen_seconds, "files_seconds": files_seconds,
            "store_seconds": time.perf_counter() - t1,
            "csv_jobs": csv_jobs, "xlsx_jobs": xlsx_jobs}


def _national_chunk(n: int, year: str, chunk_no: int, first_school: int,
                    first_pupil: int, per_school: int = 800) -> Any:
    """``n`` pupils of one year spread over ``n / per_school`` schools (vectorised, no
    history; pupil IDs numbered from ``first_pupil``, classes of 40 within school and grade)."""
    import numpy as np

    from locson_analysis import sample

    df = sample.generate_pupils_fast(n, school_year=year, seed=SEED + chunk_no,
                                     school_code=f"CHUNK{chunk_no}")
    n_schools = max(1, n // per_school)
    idx = np.arange(n)
    school_no = first_school + idx % n_schools
    grade = df["grade"].to_numpy(dtype=np.int64)
    first_of_grade = np.searchsorted(grade, grade, side="left")  # rows are sorted by grade
    class_no = (idx - first_of_grade) // n_schools // 40 + 1
    df["school_code"] = pd_string([f"BENCH{first_school + k + 1:05d}" for k in range(n_schools)],
                                  school_no - first_school)
    df["class_name"] = (df["grade"].astype("str") + "A" + pd_series(class_no).astype("str")
                        ).astype("string")
    ids = (first_pupil + idx).astype(str)
    df["pupil_id"] = pd_series(np.char.zfill(ids, 10)).astype("string")
    return df


def pd_series(values: Any) -> Any:
    import pandas as pd

    return pd.Series(values)


def pd_string(labels: list[str], codes: Any) -> Any:
    import numpy as np
    import pandas as pd

    return pd.Series(np.asarray(labels, dtype=object)[codes]).astype("string")


def task_generate_national(size: dict, root: str, slice_rows: int = 0) -> dict:
    """The country: ``pupils_per_school × schools`` pupils a year, written chunk by chunk into
    the database; the school and population sheets of one simulated school copied to every
    school.  With ``slice_rows``, also one CSV file of that many pupils for the import test."""
    import pandas as pd

    from locson_analysis import sample

    sz = Size(**{**size, "years": tuple(size["years"])})
    root_p = Path(root)
    root_p.mkdir(parents=True, exist_ok=True)
    db = root_p / f"{sz.name}.duckdb"
    csv_jobs: list[list[str]] = []
    if slice_rows:  # before any database is opened: see the note in the report on sample.py
        folder = root_p / "csv_slice" / sz.years[-1]
        folder.mkdir(parents=True, exist_ok=True)
        df = sample.generate_pupils_fast(slice_rows, school_year=sz.years[-1], seed=SEED,
                                         school_code="BENCH00001")
        sample.write_pupils_csv(df, folder / f"hoc_sinh_{sz.years[-1]}.csv")
        csv_jobs.append([str(folder), "BENCH00001", sz.years[-1], str(len(df))])
        del df
    t0 = time.perf_counter()
    template = sample.generate(seed=SEED, first_year=sz.years[0], last_year=sz.years[-1],
                               in_progress=False, school_code="BENCH00001")
    _, s1, q1 = _item_frames(template)
    codes = pd.DataFrame({"school_code": school_codes(sz)})
    school = codes.merge(s1.drop(columns="school_code"), how="cross")
    population = codes.merge(q1.drop(columns="school_code"), how="cross")
    next_id = bulk_store(db, None, school, population)
    total = sz.pupils_per_year
    chunk = 800 * sz.pupils_per_school  # whole schools per chunk
    rows = 0
    chunk_no = 0
    for y_no, year in enumerate(sz.years):
        done = 0
        while done < total:
            n = min(chunk, total - done)
            df = _national_chunk(n, year, chunk_no, done // sz.pupils_per_school,
                                 y_no * 10**8 + done, sz.pupils_per_school)
            next_id = bulk_store(db, df, None, None, first_import_id=next_id)
            rows += len(df)
            done += n
            chunk_no += 1
            del df
    seconds = time.perf_counter() - t0
    return {"db": str(db), "pupil_rows": rows, "schools": sz.schools, "years": list(sz.years),
            "pupils_per_year": total, "generate_seconds": seconds, "files_seconds": 0.0,
            "store_seconds": 0.0, "csv_jobs": csv_jobs, "xlsx_jobs": []}


def _import_batch(jobs: list[list[str]], db: str, workers: int | None,
                  crossyear: bool = False) -> dict:
    """One ``locson import <folders…>`` call: ``importer.read_years`` over every folder (in
    ``workers`` processes; None = as ``locson import`` chooses, one per core not kept busy by
    other programs, ``importer.default_workers``) then ``store.write_years`` in one
    transaction.  With ``crossyear``, the refresh of the imported schools' cross-year checks
    that ``locson import`` runs next is timed too, apart (``crossyear_seconds``)."""
    from locson_analysis import importer, store

    Path(db).unlink(missing_ok=True)
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    workers = importer.default_workers() if workers is None else workers  # (as read_years)
    years = importer.read_years([j[0] for j in jobs], school_year=None,
                                school_code=[j[1] for j in jobs], workers=workers)
    t1 = time.perf_counter()
    store.write_years(db, years)
    t2 = time.perf_counter()
    rows = sum(len(y.pupils) for y in years if y.pupils is not None)
    out = {"rows": rows, "seconds": t2 - t0, "read_seconds": t1 - t0,
           "write_seconds": t2 - t1, "files_done": len(years), "files_total": len(jobs),
           "rows_total": sum(int(j[3]) for j in jobs),
           "workers": workers, "load_average_at_start": load,
           "rows_per_second": rows / (t2 - t0) if t2 > t0 else None}
    if crossyear:  # what `locson import` does next: the imported schools' cross-year checks
        from locson_analysis import cli

        t3 = time.perf_counter()
        cli._refresh_checks(Path(db), {y.school_code for y in years})
        out["crossyear_seconds"] = time.perf_counter() - t3
        out["rows_per_second_with_crossyear"] = rows / (t2 - t0 + out["crossyear_seconds"])
    return out


def _import_per_folder(jobs: list[list[str]], budget_seconds: float, db: str) -> dict:
    """One call per folder (``read_year`` + ``write_year``, as ``locson import <folder>`` run
    once per folder), in order, until all are done or ``budget_seconds`` has passed."""
    from locson_analysis import importer, store

    Path(db).unlink(missing_ok=True)
    rows = 0
    done = 0
    t0 = time.perf_counter()
    for folder, code, year, _n in jobs:
        yd = importer.read_year(folder, school_year=year, school_code=code)
        store.write_year(db, yd)
        rows += len(yd.pupils) if yd.pupils is not None else 0
        done += 1
        if time.perf_counter() - t0 > budget_seconds:
            break
    seconds = time.perf_counter() - t0
    return {"rows": rows, "seconds": seconds, "files_done": done, "files_total": len(jobs),
            "rows_total": sum(int(j[3]) for j in jobs),
            "rows_per_second": rows / seconds if seconds else None}


def task_import(jobs: list[list[str]], budget_seconds: float, db: str) -> dict:
    """Import every school-year folder of a size the way users do: one batch call
    (``locson import <folders…>``: read and validate every folder, in parallel processes,
    then write all in one transaction into a fresh database).  The top-level keys are that
    call (rows are pupil rows; seconds cover reading, validation and the store write).
    Secondary keys, for comparison: ``batch_serial`` (the same call reading in one process)
    and ``per_folder`` (one call per folder, stopped after ``budget_seconds``)."""
    out = _import_batch(jobs, db, workers=None, crossyear=True)
    if len(jobs) > 1:
        out["batch_serial"] = _import_batch(jobs, db, workers=1)
        out["per_folder"] = _import_per_folder(jobs, budget_seconds, db)
    return out


def load_for_indicators(db: str | Path, school_year: str | None = None) -> Any:
    """``store.load`` as indicator code should call it: without pupils' names and, for one
    year's indicators, only the years they read — when the store offers those options
    (``with_names``, ``years``; see ``indicators.years_needed``)."""
    import inspect

    from locson_analysis import indicators, store

    options = inspect.signature(store.load).parameters
    kwargs: dict[str, Any] = {}
    if "with_names" in options:
        kwargs["with_names"] = False
    if school_year and "years" in options and hasattr(indicators, "years_needed"):
        kwargs["years"] = indicators.years_needed(school_year)
    return store.load(db, **kwargs)


def task_indicators(db: str, school_year: str | None = None) -> dict:
    """The fast path, from the database file to the full tidy table: ``indicators.compute_sql``
    (DuckDB sums and links the pupils; the same table as ``compute_all``).  All years, all
    groups — or one school year (the country)."""
    from locson_analysis import indicators

    t0 = time.perf_counter()
    table = indicators.compute_sql(db, school_year=school_year)
    t1 = time.perf_counter()
    return {"path": "compute_sql", "indicators_seconds": t1 - t0, "output_rows": len(table),
            "school_year": school_year, "duckdb": _duckdb_settings(db)}


def task_indicators_pandas(db: str, school_year: str | None = None) -> dict:
    """The pandas path: ``store.load`` then ``indicators.compute_all`` (the reference)."""
    from locson_analysis import indicators

    t0 = time.perf_counter()
    ds = load_for_indicators(db, school_year)
    t1 = time.perf_counter()
    table = indicators.compute_all(ds, school_year=school_year)
    t2 = time.perf_counter()
    return {"path": "store.load + compute_all", "load_seconds": t1 - t0,
            "indicators_seconds": t2 - t1, "total_seconds": t2 - t0,
            "output_rows": len(table), "pupil_rows": len(ds.pupils),
            "school_year": school_year}


def _duckdb_settings(db: str) -> dict:
    """The threads and memory limit DuckDB runs with (defaults: every core, 80 % of RAM)."""
    from locson_analysis import store

    with store.connect(Path(db), read_only=True) as con:
        threads, memory = con.execute("SELECT current_setting('threads'), "
                                      "current_setting('memory_limit')").fetchone()
    return {"threads": threads, "memory_limit": memory}


FLOOR_CELL = 'school_year = ""  # the one cell: same kernel, same export as the report'


def _floor_notebook(path: Path) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(FLOOR_CELL)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    nbformat.write(nb, path)
    return path


#: The stack floor (issue 10): what a report notebook cannot go below — a kernel importing
#: pandas, seaborn and this package and drawing one seaborn chart, run and exported exactly
#: as the report (runner.run_notebook).
STACK_FLOOR_CELL = """import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

import locson_analysis
from locson_analysis.report import charts as C

C.set_theme()
data = pd.DataFrame({"school_year": ["2023-2024", "2024-2025"], "value": [0.01, 0.02]})
fig, ax = plt.subplots()
sns.lineplot(data=data, x="school_year", y="value", marker="o", ax=ax)
C.percent_axis(ax)
C.alt(fig, "Biểu đồ")
plt.show()"""


def _stack_floor_notebook(path: Path) -> Path:
    import nbformat

    nb = nbformat.read(_floor_notebook(path), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(STACK_FLOOR_CELL))
    nbformat.write(nb, path)
    return path


def _median(xs: list[float]) -> float:
    return sorted(xs)[len(xs) // 2]


def task_report(db: str, school_year: str, repeats: int, tmp: str,
                school_code: str | None = None) -> dict:
    """The annual report end to end (``annual.run_report``: papermill runs the report notebook,
    which loads, computes, draws and writes the workbook; nbconvert exports) against the stack
    floor (:data:`STACK_FLOOR_CELL`, run by the same ``runner.run_notebook``), interleaved.
    The one-cell floor (a parameters cell only) is kept for reference.
    ``school_code``: the school reported on (the bench's databases hold BENCH00001, …)."""
    from locson_analysis.report import annual, runner

    tmp_p = Path(tmp)
    one_cell = _floor_notebook(tmp_p / "floor.ipynb")
    stack = _stack_floor_notebook(tmp_p / "stack_floor.ipynb")

    def floor(notebook: Path) -> float:
        t = time.perf_counter()
        runner.run_notebook(notebook, {"school_year": school_year}, tmp_p / "floor_out",
                            notebook.stem, "floor")
        return time.perf_counter() - t

    def report() -> float:
        t = time.perf_counter()
        annual.run_report(school_year, Path(db), out_dir=tmp_p / "outputs",
                          school_code=school_code)
        return time.perf_counter() - t

    floor(one_cell)  # warm-up: first imports of papermill / nbconvert / jinja templates
    floors, reports, stacks, loads = [], [], [], []
    for _ in range(repeats):  # interleaved, so a burst of load on the machine hits all three
        loads.append(os.getloadavg()[0])
        stacks.append(floor(stack))
        reports.append(report())
        floors.append(floor(one_cell))
    loads.append(os.getloadavg()[0])
    f, r, st = _median(floors), _median(reports), _median(stacks)
    steps, cells = _report_breakdown(Path(db), school_year, tmp_p, school_code)
    return {"floor_seconds": f, "report_seconds": r, "report_floor_ratio": r / f,
            "stack_floor_seconds": st, "report_stack_floor_ratio": r / st,
            "floor_runs": floors, "report_runs": reports, "stack_floor_runs": stacks,
            # each report over the stack floor run just before it (a second view of the
            # ratio, less moved by a burst of load that hits one kind of run only)
            "report_stack_floor_pair_ratios": [a / b for a, b in zip(reports, stacks,
                                                                      strict=True)],
            "load_average_1min": loads,  # before each interleaved round, and at the end
            "school_year": school_year, "school_code": school_code,
            "breakdown_seconds": steps, "notebook_cell_seconds": cells}


def _report_breakdown(db: Path, school_year: str, tmp: Path, school_code: str | None = None
                      ) -> tuple[dict[str, float], list[tuple[str, float]]]:
    """The steps of ``run_report`` timed one by one (one more run, for the profile), and the
    notebook's slowest cells (papermill's per-cell durations)."""
    import nbformat

    from locson_analysis import store
    from locson_analysis.report import annual, runner
    from locson_analysis.report import tables as T

    steps: dict[str, float] = {}
    executed = tmp / "breakdown.ipynb"
    t = time.perf_counter()
    code, _, years = annual.school_years(db, school_code)  # as run_report: school, year
    T.choose_year(years.all, years.ended, years.running, school_year)
    store.data_origin(db)
    steps["choose_school_and_year"] = time.perf_counter() - t
    t = time.perf_counter()
    runner.execute_notebook(annual.REPORT_NOTEBOOK, executed,
                            {"school_year": school_year, "db_path": str(db.resolve()),
                             "mid_year": False, "school_code": code,
                             "work_dir": str(tmp), "workbook_name": "breakdown.xlsx"})
    steps["papermill_report_notebook"] = time.perf_counter() - t
    t = time.perf_counter()
    runner.export_html(executed, tmp / "breakdown.html", "breakdown")
    steps["nbconvert_export"] = time.perf_counter() - t
    nb = nbformat.read(executed, as_version=4)
    cells = [((c.source.strip().splitlines() or [""])[0][:60],
              float(c.metadata.get("papermill", {}).get("duration") or 0.0))
             for c in nb.cells if c.cell_type == "code"]
    cells.sort(key=lambda c: -c[1])
    return steps, cells[:4]


def _bench_schools_file(db: Path, path: Path) -> Path:
    """A schools file naming the bench database's schools, with one group of them all (the
    synthetic province), so that the group report covers exactly those schools."""
    from locson_analysis import store

    with store.connect(db, read_only=True) as con:
        codes = [r[0] for r in con.execute(
            "SELECT DISTINCT school_code FROM active_imports ORDER BY 1").fetchall()]
    path.write_text("schools:\n" + "".join(f"  - code: {c}\n    name: THCS {c}\n" for c in codes)
                    + "groups:\n  tinh:\n    name: Tỉnh tổng hợp (bench)\n    schools: ["
                    + ", ".join(codes) + "]\n", encoding="utf-8")
    return path


def task_group_report(db: str, school_year: str, repeats: int, tmp: str) -> dict:
    """The group report (issue 14) end to end for every school of ``db`` (``locson report
    --group``: papermill runs notebooks/group_report.ipynb, which reads the database with
    ``compute_sql``, pools, draws one chart per rate target and a trend each, writes the
    workbook; nbconvert exports), against the same stack floor as the annual report
    (:data:`STACK_FLOOR_CELL`, same runner), interleaved; the median of ``repeats``."""
    import nbformat

    from locson_analysis import indicators
    from locson_analysis.report import group, runner

    tmp_p = Path(tmp)
    stack = _stack_floor_notebook(tmp_p / "stack_floor.ipynb")
    schools_file = _bench_schools_file(Path(db), tmp_p / "schools.yaml")

    def floor() -> float:
        t = time.perf_counter()
        runner.run_notebook(stack, {"school_year": school_year}, tmp_p / "floor_out",
                            stack.stem, "floor")
        return time.perf_counter() - t

    last: list = []

    def report() -> float:
        t = time.perf_counter()
        last[:] = [group.run_group_report(Path(db), school_year, "tinh",
                                          schools_file=schools_file,
                                          out_dir=tmp_p / "outputs")]
        return time.perf_counter() - t

    def compute() -> float:  # the indicator table the notebook's first cell computes
        t = time.perf_counter()
        indicators.compute_sql(db, detail_year=school_year)
        return time.perf_counter() - t

    floor()  # warm-up: first imports of papermill / nbconvert / jinja templates
    stacks, reports, loads = [], [], []
    for _ in range(repeats):
        loads.append(os.getloadavg()[0])
        stacks.append(floor())
        reports.append(report())
    loads.append(os.getloadavg()[0])
    st, r = _median(stacks), _median(reports)
    computes = [compute() for _ in range(repeats)]  # after the runs: they are not disturbed
    nb = nbformat.read(last[0].notebook, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    every = [((c.source.strip().splitlines() or [""])[0][:60],
              float(c.metadata.get("papermill", {}).get("duration") or 0.0)) for c in code]
    cells = sorted(every, key=lambda c: -c[1])
    # what the design itself asks for, at its measured cost: the charts (the cells drawing
    # with seaborn: a dot plot and a trend per rate target), the indicator table of every
    # year (compute_sql) and the workbook; the floor plus these alone, over the floor
    charts = sum(secs for (_, secs), c in zip(every, code, strict=True) if "sns." in c.source)
    workbook = sum(secs for (_, secs), c in zip(every, code, strict=True)
                   if "write_workbook" in c.source)
    design = {"chart_cells_seconds": charts, "compute_sql_seconds": _median(computes),
              "workbook_cell_seconds": workbook}
    design["floor_plus_these_ratio"] = (st + sum(design.values())) / st
    return {"school_year": school_year, "group_report_seconds": r,
            "stack_floor_seconds": st, "group_report_stack_floor_ratio": r / st,
            "group_report_runs": reports, "stack_floor_runs": stacks,
            "load_average_1min": loads, "compute_sql_runs": computes,
            "design_parts": design,
            "html_bytes": last[0].html.stat().st_size, "notebook_cell_seconds": cells[:4],
            "notebook_cells_all_seconds": every}


TASKS = {"generate": task_generate, "generate_national": task_generate_national,
         "import": task_import, "indicators": task_indicators,
         "indicators_pandas": task_indicators_pandas, "report": task_report,
         "group_report": task_group_report}


def worker_main(task: str, args_json: str) -> None:
    kwargs = json.loads(args_json)
    result = TASKS[task](**kwargs)
    result["peak_rss_gb"] = _peak_rss_gb()
    sys.stdout.write("\n" + json.dumps(result, ensure_ascii=False) + "\n")
    sys.stdout.flush()


# =============================================================================================
# Parent side
# =============================================================================================


def run_worker(task: str, timeout: float, **kwargs: Any) -> dict:
    """Run one task in a fresh interpreter; its result, or ``{"error": …}``."""
    cmd = [sys.executable, "-m", "bench.run", "--worker", task, json.dumps(kwargs)]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=PROJ_ROOT, capture_output=True, text=True,
                              timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:.0f} s", "wall_seconds": timeout}
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"error": f"exit {proc.returncode}: " + " | ".join(tail), "wall_seconds": wall}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = wall
    return result


def machine_info() -> dict:
    import duckdb
    import numpy
    import pandas

    cpu = "unknown"
    mem_gb = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return {"nproc": len(os.sched_getaffinity(0)), "memory_gb": mem_gb, "cpu": cpu,
            "python": platform.python_version(), "pandas": pandas.__version__,
            "duckdb": duckdb.__version__, "numpy": numpy.__version__,
            "platform": platform.platform(), "load_average_at_start": os.getloadavg()}


def fit_growth(points: list[tuple[float, float]]) -> dict | None:
    """Least-squares slope of log(seconds) on log(pupil rows): 1 is linear."""
    pts = [(n, s) for n, s in points if n and s and s > 0]
    if len(pts) < 2:
        return None
    xs = [math.log2(n) for n, _ in pts]
    ys = [math.log2(s) for _, s in pts]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if not sxx:
        return None
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    (n1, s1), (n2, s2) = sorted(pts)[-2:]
    top = math.log2(s2 / s1) / math.log2(n2 / n1) if n2 != n1 else None
    return {"slope": slope, "per_doubling": 2**slope, "slope_largest_two": top,
            "per_doubling_largest_two": None if top is None else 2**top, "points": pts}


def _met(ok: bool | None) -> str:
    return "—" if ok is None else ("met" if ok else "NOT met")


def run_bench(sizes: list[str], quick: bool = False, out: Path = DEFAULT_OUT,
              keep_data: bool = False, report: bool = True, import_budget: float | None = None,
              timeout: float = 3600, country_slice_rows: int = 200_000,
              report_repeats: int | None = None, country_pupils: int = COUNTRY_PUPILS,
              log: Any = print) -> dict:
    """Measure every size in ``sizes``; write ``out`` (JSON) and return the results."""
    budget = import_budget if import_budget is not None else (15.0 if quick else 300.0)
    repeats = report_repeats or 3  # a median of three, --quick too (issue 10)
    started = datetime.now().astimezone()
    results: dict[str, Any] = {
        "date": started.isoformat(timespec="seconds"), "machine": machine_info(),
        "command": " ".join(["python -m bench.run", "--sizes", ",".join(sizes)]
                            + (["--quick"] if quick else [])),
        "quick": quick, "import_budget_seconds": budget, "sizes": {},
    }
    tmp_root = Path(tempfile.mkdtemp(prefix="locson-bench-"))
    log(f"Dữ liệu tạm / temporary data: {tmp_root}")
    try:
        for name in sizes:
            sz = SIZES[name]
            if name == "country" and country_pupils != COUNTRY_PUPILS:
                sz = replace(sz, schools=max(1, country_pupils // sz.pupils_per_school))
            log(f"[{name}] sinh dữ liệu / generating {sz.schools} schools × "
                f"{sz.pupils_per_school} pupils × {len(sz.years)} years …")
            root = tmp_root / name
            size_dict = asdict(sz)
            if sz.fast:
                gen = run_worker("generate_national", timeout, size=size_dict, root=str(root),
                                 slice_rows=country_slice_rows)
            else:
                xlsx = sz.xlsx and not (quick and sz.schools > 1)
                gen = run_worker("generate", timeout, size={**size_dict, "xlsx": xlsx},
                                 root=str(root))
            entry: dict[str, Any] = {"schools": sz.schools, "years": len(sz.years),
                                     "pupils_per_year": sz.pupils_per_year, "generate": gen}
            results["sizes"][name] = entry
            if "error" in gen:
                log(f"[{name}] generation failed: {gen['error']}")
                continue
            entry["pupil_rows"] = gen["pupil_rows"]
            for fmt in ("csv", "xlsx"):
                jobs = gen[f"{fmt}_jobs"]
                if not jobs:
                    continue
                log(f"[{name}] nhập {fmt.upper()} / importing {len(jobs)} folders "
                    f"(budget {budget:.0f} s) …")
                entry[f"import_{fmt}"] = run_worker(
                    "import", timeout, jobs=jobs, budget_seconds=budget,
                    db=str(root / f"import_{fmt}.duckdb"))
            year = sz.years[-1] if sz.fast else None
            log(f"[{name}] chỉ số / indicators (compute_sql, from the database file) …")
            entry["indicators"] = run_worker("indicators", timeout, db=gen["db"],
                                             school_year=year)
            log(f"[{name}] chỉ số / indicators (store.load + compute_all) …")
            entry["indicators_pandas"] = run_worker("indicators_pandas", timeout, db=gen["db"],
                                                    school_year=year)
            if report and name in ("school", "toy"):
                log(f"[{name}] báo cáo / report vs one-cell floor ({repeats}×) …")
                rtmp = root / "report"
                rtmp.mkdir(parents=True, exist_ok=True)
                entry["report"] = run_worker("report", timeout, db=gen["db"],
                                             school_year=sz.years[-1], repeats=repeats,
                                             tmp=str(rtmp), school_code=school_codes(sz)[0])
            if report and name == "province":
                log(f"[{name}] báo cáo nhóm trường / group report vs stack floor ({repeats}×) …")
                gtmp = root / "group_report"
                gtmp.mkdir(parents=True, exist_ok=True)
                entry["group_report"] = run_worker("group_report", timeout, db=gen["db"],
                                                   school_year=sz.years[-1], repeats=repeats,
                                                   tmp=str(gtmp))
            if not keep_data:
                shutil.rmtree(root, ignore_errors=True)
    finally:
        if not keep_data:
            shutil.rmtree(tmp_root, ignore_errors=True)
    results["finished"] = datetime.now().astimezone().isoformat(timespec="seconds")
    summarise(results)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    log(format_table(results))
    log(f"Kết quả / results: {out}")
    return results


def _best_import(sizes: dict, fmt: str) -> tuple[float | None, str | None]:
    """The import rate at the largest size measured (most rows imported)."""
    best: tuple[int, float | None, str | None] = (-1, None, None)
    for name, e in sizes.items():
        imp = e.get(f"import_{fmt}") or {}
        if imp.get("rows_per_second") and imp["rows"] > best[0]:
            best = (imp["rows"], imp["rows_per_second"], name)
    return best[1], best[2]


def summarise(results: dict) -> None:
    """Headline numbers, targets met / not met, and growth with pupils."""
    sizes = results["sizes"]
    rep = (sizes.get("school") or sizes.get("toy") or {}).get("report") or {}
    results["report_floor_ratio"] = rep.get("report_floor_ratio")  # reference only
    results["report_stack_floor_ratio"] = rep.get("report_stack_floor_ratio")
    grp = (sizes.get("province") or {}).get("group_report") or {}
    results["group_report_stack_floor_ratio"] = grp.get("group_report_stack_floor_ratio")
    # the headline: one school year of the whole country, from the database file to the full
    # indicator table, with the fast path (compute_sql); the pandas path's numbers beside it
    nat = (sizes.get("country") or {}).get("indicators") or {}
    results["national_indicators_seconds"] = nat.get("indicators_seconds")
    results["national_indicators_peak_gb"] = nat.get("peak_rss_gb")
    nat_pd = (sizes.get("country") or {}).get("indicators_pandas") or {}
    results["national_load_seconds"] = nat_pd.get("load_seconds")
    results["national_pandas_compute_seconds"] = nat_pd.get("indicators_seconds")
    results["national_pandas_total_seconds"] = nat_pd.get("total_seconds")
    results["national_pandas_peak_gb"] = nat_pd.get("peak_rss_gb")
    for fmt in ("csv", "xlsx"):
        rate, where = _best_import(sizes, fmt)
        results[f"{fmt}_rows_per_second"] = rate
        results[f"{fmt}_rows_per_second_size"] = where

    def pts(get: Any) -> list[tuple[float, float]]:
        out = []
        for e in sizes.values():
            try:
                out.append((float(e["pupil_rows"]), float(get(e))))
            except (KeyError, TypeError):
                continue
        return out

    results["growth"] = {  # "indicators": the fast path, as the headline
        "indicators": fit_growth(pts(lambda e: e["indicators"]["indicators_seconds"])),
        "indicators_peak_gb": fit_growth(pts(lambda e: e["indicators"]["peak_rss_gb"])),
        "load": fit_growth(pts(lambda e: e["indicators_pandas"]["load_seconds"])),
        "compute_all": fit_growth(pts(
            lambda e: e["indicators_pandas"]["indicators_seconds"])),
    }
    imp_pts = []  # many school-year folders only: the country slice is one big file
    for name, e in sizes.items():
        imp = e.get("import_csv") or {}
        if name == "country":
            continue
        if imp.get("rows"):
            imp_pts.append((float(imp["rows"]), float(imp["seconds"])))
    results["growth"]["import_csv"] = fit_growth(imp_pts)

    r = results["report_stack_floor_ratio"]
    ns, ng = results["national_indicators_seconds"], results["national_indicators_peak_gb"]
    cr, xr = results["csv_rows_per_second"], results["xlsx_rows_per_second"]
    g = results["growth"]["indicators"]
    slope = None if not g else (g["slope_largest_two"] if g["slope_largest_two"] is not None
                                else g["slope"])
    results["targets"] = [
        {"target": f"report ≤ {TARGET_REPORT_FLOOR_RATIO} × stack floor", "measured": r,
         "met": None if r is None else r <= TARGET_REPORT_FLOOR_RATIO},
        {"target": f"group report, province ≤ {TARGET_GROUP_REPORT_RATIO} × stack floor",
         "measured": results["group_report_stack_floor_ratio"],
         "met": None if results["group_report_stack_floor_ratio"] is None
         else results["group_report_stack_floor_ratio"] <= TARGET_GROUP_REPORT_RATIO},
        {"target": f"national indicators, database → table ≤ {TARGET_NATIONAL_SECONDS:.0f} s",
         "measured": ns,
         "met": None if ns is None else ns <= TARGET_NATIONAL_SECONDS},
        {"target": f"national indicators ≤ {TARGET_NATIONAL_GB:.0f} GB", "measured": ng,
         "met": None if ng is None else ng <= TARGET_NATIONAL_GB},
        {"target": f"CSV import ≥ {TARGET_CSV_ROWS_PER_SECOND:,} rows/s", "measured": cr,
         "met": None if cr is None else cr >= TARGET_CSV_ROWS_PER_SECOND},
        {"target": f"Excel import ≥ {TARGET_XLSX_ROWS_PER_SECOND:,} rows/s", "measured": xr,
         "met": None if xr is None else xr >= TARGET_XLSX_ROWS_PER_SECOND},
        {"target": f"indicators grow linearly (slope ≤ {TARGET_LINEAR_SLOPE}, two largest "
                   f"sizes)", "measured": slope,
         "met": None if slope is None else slope <= TARGET_LINEAR_SLOPE},
    ]


def _num(x: Any, fmt: str = "{:,.1f}") -> str:
    if x is None:
        return "—"
    return fmt.format(x)


def format_table(results: dict) -> str:
    """The results as a Markdown table (what the README "Performance" section shows)."""
    lines = [
        "| Size | Schools | Pupils/year | Years | Pupil rows | CSV import rows/s (rows measured)"
        " | Excel import rows/s (rows measured) | compute_sql s | Peak GB | store.load s"
        " | compute_all s | Peak GB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, e in results["sizes"].items():
        ind = e.get("indicators") or {}
        cells = [name, f"{e['schools']:,}", f"{e['pupils_per_year']:,}", str(e["years"]),
                 _num(e.get("pupil_rows"), "{:,.0f}")]
        for fmt in ("csv", "xlsx"):
            imp = e.get(f"import_{fmt}") or {}
            if "error" in imp:
                cells.append("error")
            elif imp:
                part = "" if imp["files_done"] == imp["files_total"] else " slice"
                cells.append(f"{_num(imp['rows_per_second'], '{:,.0f}')} "
                             f"({imp['rows']:,}{part})")
            else:
                cells.append("—")
        if "error" in ind:
            cells += ["error", "error"]
        else:
            cells += [_num(ind.get("indicators_seconds"), "{:.2f}"),
                      _num(ind.get("peak_rss_gb"), "{:.2f}")]
        ind_pd = e.get("indicators_pandas") or {}
        if "error" in ind_pd:
            cells += ["error", "error", "error"]
        else:
            cells += [_num(ind_pd.get("load_seconds"), "{:.2f}"),
                      _num(ind_pd.get("indicators_seconds"), "{:.2f}"),
                      _num(ind_pd.get("peak_rss_gb"), "{:.2f}")]
        lines.append("| " + " | ".join(cells) + " |")
    rep = next((e["report"] for e in results["sizes"].values() if e.get("report")), None)
    if rep and "error" not in rep:
        lines.append("")
        lines.append(f"Report (one school, {rep['school_year']}): "
                     f"{rep['report_seconds']:.1f} s end to end vs stack floor "
                     f"{rep['stack_floor_seconds']:.1f} s (pandas + seaborn + locson_analysis, "
                     f"one seaborn chart, same runner) → ratio "
                     f"{rep['report_stack_floor_ratio']:.2f} (median of "
                     f"{len(rep['report_runs'])} interleaved runs; load "
                     f"{min(rep['load_average_1min']):.1f}–{max(rep['load_average_1min']):.1f})"
                     f"; peak {rep['peak_rss_gb']:.2f} GB")
        lines.append(f"One-cell floor (reference, no longer a target): "
                     f"{rep['floor_seconds']:.1f} s → report {rep['report_floor_ratio']:.2f} × "
                     f"that")
        steps = rep.get("breakdown_seconds") or {}
        if steps:
            lines.append("Report steps (one more run): " + "; ".join(
                f"{k} {v:.2f} s" for k, v in steps.items()))
        cells = rep.get("notebook_cell_seconds") or []
        if cells:
            lines.append("Slowest notebook cells: " + "; ".join(
                f"«{first}» {secs:.2f} s" for first, secs in cells))
    elif rep:
        lines.append(f"\nReport: error — {rep['error']}")
    grp = (results["sizes"].get("province") or {}).get("group_report") or {}
    if grp and "error" not in grp:
        lines.append(f"Group report (province, every school, {grp['school_year']}): "
                     f"{grp['group_report_seconds']:.1f} s end to end vs stack floor "
                     f"{grp['stack_floor_seconds']:.1f} s → ratio "
                     f"{grp['group_report_stack_floor_ratio']:.2f}; slowest cells: "
                     + "; ".join(f"«{first}» {secs:.2f} s"
                                 for first, secs in grp.get("notebook_cell_seconds") or []))
        d = grp.get("design_parts")
        if d:
            lines.append(f"  What the design itself asks for: chart cells "
                         f"{d['chart_cells_seconds']:.2f} s, compute_sql (every year) "
                         f"{d['compute_sql_seconds']:.2f} s, workbook "
                         f"{d['workbook_cell_seconds']:.2f} s → floor + these alone = "
                         f"{d['floor_plus_these_ratio']:.2f} × the floor")
    elif grp:
        lines.append(f"\nGroup report: error — {grp['error']}")
    lines += ["", "| Target | Measured | |", "|---|---:|---|"]
    for t in results["targets"]:
        m = t["measured"]
        lines.append(f"| {t['target']} | {_num(m, '{:,.2f}')} | {_met(t['met'])} |")
    lines.append("")
    for key, g in results["growth"].items():
        if g:
            top = g.get("slope_largest_two")
            lines.append(f"Growth of {key} with pupils: slope {g['slope']:.2f} over all sizes "
                         f"(× {g['per_doubling']:.2f} per doubling)"
                         + ("" if top is None else
                            f"; {top:.2f} between the two largest (× {2**top:.2f} per "
                            f"doubling)"))
    errors = [(n, k, v["error"]) for n, e in results["sizes"].items()
              for k, v in e.items() if isinstance(v, dict) and "error" in v]
    for n, k, msg in errors:
        lines.append(f"{n} / {k}: {msg}")
    m = results["machine"]
    lines.append(f"\nMachine: {m['nproc']} cores, {m['memory_gb']} GB, {m['cpu']}; Python "
                 f"{m['python']}, pandas {m['pandas']}, DuckDB {m['duckdb']}; load average at "
                 f"start {', '.join(f'{x:.1f}' for x in m['load_average_at_start'])}; "
                 f"{results['date']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split(
        "\n")[0])
    parser.add_argument("--sizes", default="school,district",
                        help="comma-separated: school, district, province, country")
    parser.add_argument("--quick", action="store_true",
                        help="small budgets (import ≤ 15 s a format)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--keep-data", action="store_true")
    parser.add_argument("--no-report", action="store_true")
    parser.add_argument("--import-budget", type=float, default=None,
                        help="seconds of importing per size and format (then a slice)")
    parser.add_argument("--timeout", type=float, default=3600,
                        help="seconds before one measurement is abandoned")
    parser.add_argument("--country-slice-rows", type=int, default=200_000,
                        help="pupils in the single CSV file imported at the country size")
    parser.add_argument("--report-repeats", type=int, default=None)
    parser.add_argument("--country-pupils", type=int, default=COUNTRY_PUPILS,
                        help="pupils a year at the country size (default 6,500,000)")
    parser.add_argument("--worker", nargs=2, metavar=("TASK", "JSON"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker_main(*args.worker)
        return 0
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size(s): {', '.join(unknown)}; choose from {', '.join(SIZES)}")
    run_bench(sizes, quick=args.quick, out=args.out, keep_data=args.keep_data,
              report=not args.no_report, import_budget=args.import_budget,
              timeout=args.timeout, country_slice_rows=args.country_slice_rows,
              report_repeats=args.report_repeats, country_pupils=args.country_pupils)
    return 0


if __name__ == "__main__":
    sys.exit(main())
