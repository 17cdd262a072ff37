"""What the annual-report notebook imports: show the report's HTML sections, nothing more.

``locson report`` renders the report (:mod:`report_html`) in its own process and passes the
notebook a JSON file of HTML sections (the ``report_file`` parameter); reading and displaying
them needs only the standard library and IPython — no pandas, matplotlib or DuckDB in the
kernel, so the notebook runs in milliseconds.  Opened on its own in JupyterLab (no
``report_file``), :func:`open_report` reads the database and renders the same sections with the
same package functions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .errors import LocsonError

#: Written in the JSON file, checked when it is read.
FORMAT = "locson-report-html/1"


@dataclass(frozen=True)
class ReportPages:
    """The report for one school year as HTML sections, in reading order."""

    school_year: str
    school_code: str
    mid_year: bool
    title: str
    sections: tuple[tuple[str, str], ...]  # (key, HTML)

    def html(self) -> str:
        return "".join(h for _, h in self.sections)

    def display(self) -> None:
        """Show every section as an HTML output of the running cell."""
        from IPython.display import HTML, display

        for _, h in self.sections:
            display(HTML(h))


def from_dict(data: dict, name: str = "báo cáo") -> ReportPages:
    """Pages from the data of :func:`report_html.render` (read back from JSON or not)."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise LocsonError(f"Tệp {name} không phải là báo cáo đã dựng (cần dạng {FORMAT}).")
    return ReportPages(str(data["school_year"]), str(data["school_code"]),
                       bool(data["mid_year"]), str(data["title"]),
                       tuple((str(s["key"]), str(s["html"])) for s in data["sections"]))


def load(path: Path | str, school_year: str | None = None) -> ReportPages:
    """The pages written by :func:`report_html.save`; ``school_year`` (when given) must match."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LocsonError(f"Không đọc được tệp báo cáo đã dựng {path.name}: {exc}") from exc
    pages = from_dict(data, path.name)
    if school_year and pages.school_year != school_year:
        raise LocsonError(f"Tệp {path.name} là báo cáo năm học {pages.school_year}, "
                          f"không phải năm học {school_year}.")
    return pages


def build(db_path: Path | str | None = None, targets_file: Path | str | None = None,
          school_year: str | None = None, mid_year: bool = False,
          school_code: str | None = None) -> ReportPages:
    """Read the database and render the report, as ``locson report`` does (stand-alone use).

    Empty arguments mean the defaults: ``data/locson.duckdb``, ``data/targets.yaml``, the
    latest ended year (mid-year: the latest running one), the default school.
    """
    from . import config, report_html, schools, store
    from . import report_tables as RT

    db = Path(db_path) if db_path else config.DEFAULT_DB
    targets = Path(targets_file) if targets_file else config.TARGETS_FILE
    ds = store.load(db, with_names=False)  # no pupil's name is needed; the file is closed at once
    code = schools.choose_school(schools.codes_in(ds.pupils, ds.school, ds.population),
                                 school_code or None)
    year = RT.resolve_report_year(ds.for_school(code), school_year or None, mid_year)
    report = RT.build_report(ds, year, mid_year=mid_year, targets_file=targets,
                             school_code=code)
    return from_dict(report_html.render(report))


def open_report(report_file: Path | str | None = None, *, db_path: Path | str | None = None,
                targets_file: Path | str | None = None, school_year: str | None = None,
                mid_year: bool = False, school_code: str | None = None) -> ReportPages:
    """The report handed over by ``locson report`` (``report_file``), else built from the
    database (also when the file is gone, e.g. an audit copy of the notebook run again)."""
    if report_file and Path(report_file).exists():
        return load(report_file, school_year or None)
    return build(db_path, targets_file, school_year, mid_year, school_code)
