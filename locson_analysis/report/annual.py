"""``locson report``: the annual report for the PGD, made by running ``annual_report.ipynb``.

:func:`run_report` makes, for one school year, ``outputs/<year>/bao_cao_<year>[_giua_nam].html``
(the report for the PGD), the executed notebook beside it (the working behind every figure; it
records its parameters) and the Excel workbook of the report's tables (written by the notebook).
A failure raises :class:`runner.ReportStepError` naming the step, in Vietnamese.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import config, provenance, schools, store
from ..contract import DEFAULT_SCHOOL
from ..dataset import Dataset
from . import runner
from . import tables as T
from .runner import STEP_READ, ReportStepError, step_error

REPORT_NOTEBOOK = config.NOTEBOOKS_DIR / "annual_report.ipynb"


@dataclass(frozen=True)
class ReportPaths:
    """Where one report was written."""

    school_year: str
    mid_year: bool
    html: Path
    notebook: Path
    xlsx: Path
    #: the data are the synthetic sample (the report carries provenance.SAMPLE_MARK)
    is_sample: bool = False
    #: what the analyst must check before sending (Vietnamese; e.g. an unconfirmed recipient)
    notes: tuple[str, ...] = ()


def report_stem(school_year: str, mid_year: bool = False) -> str:
    """``bao_cao_2024-2025`` or ``bao_cao_2025-2026_giua_nam``."""
    return f"bao_cao_{school_year}" + ("_giua_nam" if mid_year else "")


def report_dir(out_dir: Path, school_year: str, school_code: str | None = None) -> Path:
    """``out_dir/<year>`` for the default school (and a database of one school);
    ``out_dir/<school>/<year>`` for another school of a database that holds several."""
    if school_code and school_code != DEFAULT_SCHOOL:
        return config.inside(out_dir, Path(out_dir) / school_code / school_year)
    return config.inside(out_dir, Path(out_dir) / school_year)


def report_school(ds: Dataset, school_code: str | None) -> tuple[str, str | None]:
    """(the school reported on, its output subfolder code or None): see
    :func:`schools.choose_school` and :func:`report_dir`."""
    return _school_of(schools.codes_in(ds.pupils, ds.school, ds.population), school_code)


def _school_of(codes: list[str], school_code: str | None) -> tuple[str, str | None]:
    code = schools.choose_school(codes, school_code or None)
    return code, (code if len(codes) > 1 else None)


@dataclass(frozen=True)
class Years:
    """One school's years as the report sees them (sorted): every year with data, the years
    whose results are in and those still running (a pupil «đang học»)."""

    all: list[str]
    ended: list[str]
    running: list[str]


def school_years(db: Path, school_code: str | None) -> tuple[str, str | None, Years]:
    """(the school reported on, its output subfolder or None, its years), from one small query
    (:func:`store.year_status`) — the database is not loaded to choose the school and year."""
    status = store.year_status(db)
    code, folder = _school_of(sorted(set(status["school_code"])), school_code)
    mine = status[status["school_code"] == code]
    pupils = mine[mine["pupils"].astype(bool)]
    running = pupils["running"].astype(bool)
    return code, folder, Years(sorted(mine["school_year"]),
                               sorted(pupils.loc[~running, "school_year"]),
                               sorted(pupils.loc[running, "school_year"]))


def run_report(school_year: str | None, db: Path, out_dir: Path = config.OUTPUTS_DIR,
               mid_year: bool = False, targets_file: Path = config.TARGETS_FILE,
               school_code: str | None = None, notebook: Path | None = None) -> ReportPaths:
    """Make the PGD report for ``school_year`` (default: the latest year that has ended).

    ``mid_year=True`` makes the mid-year report (after semester 1) of a year in progress
    (default: the latest such year).  ``school_code``: the school reported on (default: Lộc
    Sơn, or the database's only school).  ``notebook``: an edited copy of the report notebook to
    run instead of ``notebooks/annual_report.ipynb``.  Returns the paths of the HTML, the
    executed notebook and the Excel workbook, all in ``out_dir/<year>/``
    (``out_dir/<school>/<year>/`` for another school of a database holding several).
    """
    db, out_dir, targets_file = Path(db), Path(out_dir), Path(targets_file)
    if notebook is not None and not Path(notebook).is_file():
        raise ReportStepError(STEP_READ, f"không có tệp sổ tay {notebook}.")
    try:  # which school and year, before the notebook runs: a wrong year fails fast
        code, folder, years = school_years(db, school_code)
        year = T.choose_year(years.all, years.ended, years.running, school_year or None,
                             mid_year)
        sample = store.data_origin(db) == provenance.SAMPLE
    except Exception as exc:
        raise step_error(STEP_READ, exc) from exc
    stem = report_stem(year, mid_year)
    final_dir = report_dir(out_dir, year, folder)
    params = {"school_year": year, "db_path": str(db.resolve()),
              "targets_file": str(targets_file.resolve()), "mid_year": bool(mid_year),
              "school_code": code, "workbook_name": f"{stem}.xlsx"}
    title = T.report_title(year, mid_year, schools.school_name(code))
    try:  # the official-document settings: a bad data/report.yaml fails before the run
        notes = tuple(T.official_document(code, year).notes)
    except Exception as exc:
        raise step_error(STEP_READ, exc) from exc
    banner = provenance.SAMPLE_MARK if sample else ""
    done = runner.run_notebook(
        Path(notebook) if notebook else REPORT_NOTEBOOK, params, final_dir, stem, title,
        banner=banner, expect={f"{stem}.xlsx": "sổ tay không ghi bảng tính Excel (ô cuối cùng "
                                               "của annual_report.ipynb gọi "
                                               "tables.write_workbook)."})
    xlsx = done.html.parent / f"{stem}.xlsx"  # (out_dir as given may be relative)
    return ReportPaths(year, mid_year, done.html, done.notebook, xlsx, sample, notes)


def run_all(db: Path, out_dir: Path = config.OUTPUTS_DIR, mid_year: bool = False,
            targets_file: Path = config.TARGETS_FILE, school_code: str | None = None,
            notebook: Path | None = None) -> list[ReportPaths]:
    """A report for every year in the database, with a progress bar.

    Years that have ended get the full-year report (unless ``mid_year``); a year still in
    progress gets the mid-year report.
    """
    from tqdm.auto import tqdm

    try:
        code, _, years = school_years(Path(db), school_code)
    except Exception as exc:
        raise step_error(STEP_READ, exc) from exc
    jobs: list[tuple[str, bool]] = []
    if not mid_year:
        jobs += [(y, False) for y in years.ended]
    jobs += [(y, True) for y in years.running]
    if not jobs:
        raise ReportStepError(STEP_READ, "cơ sở dữ liệu chưa có năm học nào để lập báo cáo.")
    return [run_report(year, db, out_dir=out_dir, mid_year=mid, targets_file=targets_file,
                       school_code=code, notebook=notebook)
            for year, mid in tqdm(jobs, desc="Lập báo cáo", unit="báo cáo")]
