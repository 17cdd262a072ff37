"""The report runner: papermill executes the notebook, nbconvert exports offline HTML.

``run_report`` makes, for one school year, ``outputs/<year>/bao_cao_<year>[_giua_nam].html``
(the report for the PGD), the executed notebook beside it (kept for audit: it records its
parameters) and an Excel workbook of the report's tables.  Everything is written to a temporary
folder first and moved into place only when all three files exist, so a failed run never
replaces a good report with half of one.  A failure raises :class:`LocsonError` naming the step
(đọc dữ liệu / chạy sổ tay / xuất HTML / ghi Excel) and the reason, in Vietnamese.
"""

from __future__ import annotations

import copy
import functools
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import nbformat

from . import config, report_html, report_tables, schools, store
from .contract import DEFAULT_SCHOOL
from .dataset import Dataset
from .errors import LocsonError

REPORT_NOTEBOOK = config.NOTEBOOKS_DIR / "annual_report.ipynb"
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "locson_report"
KERNEL_NAME = "python3"
#: Seconds one notebook cell may run before the report is abandoned.
CELL_TIMEOUT = 600
#: How a kernel is stopped once the last cell's outputs have arrived (nbclient's
#: ``shutdown_kernel``): "immediate" kills it.  A graceful stop waits for the kernel's Python
#: to tear down pandas and matplotlib (~0,3 s), and nothing is left to save.
SHUTDOWN = "immediate"

STEP_READ = "đọc dữ liệu"
STEP_RUN = "chạy sổ tay"
STEP_HTML = "xuất HTML"
STEP_EXCEL = "ghi Excel"


@dataclass(frozen=True)
class ReportPaths:
    """Where one report was written."""

    school_year: str
    mid_year: bool
    html: Path
    notebook: Path
    xlsx: Path


class ReportStepError(LocsonError):
    """A report could not be made; ``step`` says which stage failed."""

    def __init__(self, step: str, reason: str):
        self.step = step
        self.reason = reason
        super().__init__(f"Không lập được báo cáo — lỗi ở bước «{step}»: {reason} "
                         f"Báo cáo cũ (nếu có) vẫn được giữ nguyên.")


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
    codes = schools.codes_in(ds.pupils, ds.school, ds.population)
    code = schools.choose_school(codes, school_code or None)
    return code, (code if len(codes) > 1 else None)


# --------------------------------------------------------------------------------------------
# Kernel: always the interpreter running this code (the project's .venv), whatever kernel
# specs are installed elsewhere on the machine.
# --------------------------------------------------------------------------------------------

def _kernel_manager_class() -> type:
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager

    class CurrentInterpreterKernelManager(AsyncKernelManager):
        """Starts ipykernel with ``sys.executable`` (no global kernel install needed)."""

        @property
        def kernel_spec(self) -> KernelSpec:  # type: ignore[override]
            return KernelSpec(
                argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                      "--IPKernelApp.log_level=ERROR"],
                display_name="Python 3 (ipykernel)", language="python",
                env={"PYTHONWARNINGS": "ignore", "MPLBACKEND": "Agg"},
            )

    return CurrentInterpreterKernelManager


def _kill_at_once(km: object) -> None:
    """Kill the kernel's process group and reap it now.

    ``shutdown_kernel(now=True)`` kills it too, but then polls every 0,1 s until the process is
    gone: the first poll nearly always comes before the process has died, so every report
    waited 0,1 s for nothing.  Afterwards ``shutdown_kernel`` finds the process dead at its
    first poll and only tidies up."""
    import signal

    provisioner = getattr(km, "provisioner", None)
    process = getattr(provisioner, "process", None)
    if process is None or process.poll() is not None:
        return
    try:
        pgid = getattr(provisioner, "pgid", None)
        if pgid and hasattr(os, "killpg") and pgid != os.getpgrp():  # never our own group
            os.killpg(pgid, signal.SIGKILL)
        else:
            process.kill()
        process.wait(timeout=5)
    except (OSError, ValueError, subprocess.TimeoutExpired):
        pass  # shutdown_kernel below tries again its own way


class StartedKernel:
    """A kernel started ahead, so that it boots (in its own process) while this process reads
    the database and builds the report.  Pass ``.manager`` to :func:`execute_notebook`.  On
    leaving the ``with`` block the kernel is stopped at once, as papermill's own kernels are
    (see :data:`SHUTDOWN`)."""

    def __init__(self, cwd: Path) -> None:
        from jupyter_core.utils import run_sync

        self._run = run_sync
        self.manager = _kernel_manager_class()(kernel_name=KERNEL_NAME)
        try:
            run_sync(self.manager.start_kernel)(cwd=str(cwd))
        except Exception as exc:
            raise ReportStepError(STEP_RUN, f"{type(exc).__name__}: {exc}") from exc

    def stop(self) -> None:
        km, run = self.manager, self._run
        try:
            _kill_at_once(km)
            if km.has_kernel:  # dead now: this only closes its pipes and sockets
                run(km.shutdown_kernel)(now=True)
        finally:
            run(km.cleanup_resources)()

    def __enter__(self) -> StartedKernel:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


@contextmanager
def _quiet() -> Iterator[None]:
    """Keep papermill's and nbconvert's log lines off the user's terminal."""
    loggers = [logging.getLogger(n) for n in ("papermill", "traitlets", "nbconvert")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def execute_notebook(source: Path, target: Path, parameters: dict,
                     kernel: object | None = None) -> None:
    """Run ``source`` with papermill into ``target`` (the source is never written).

    ``kernel``: the manager of a :class:`StartedKernel` (else papermill starts a kernel and
    shuts it down)."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    try:
        with _quiet():
            pm.execute_notebook(
                str(source), str(target), parameters=parameters, kernel_name=KERNEL_NAME,
                cwd=str(source.parent), progress_bar=False, log_output=False,
                request_save_on_cell_execute=False, execution_timeout=CELL_TIMEOUT,
                kernel_manager_class=_kernel_manager_class(),
                shutdown_kernel=SHUTDOWN, **({} if kernel is None else {"km": kernel}),
            )
    except PapermillExecutionError as exc:
        raise ReportStepError(STEP_RUN, _execution_reason(exc.ename, exc.evalue)) from exc
    except LocsonError:
        raise
    except Exception as exc:  # kernel did not start, notebook unreadable, timeout …
        raise ReportStepError(STEP_RUN, f"{type(exc).__name__}: {exc}") from exc


def _execution_reason(ename: str, evalue: str) -> str:
    if ename in ("LocsonError", "ReportStepError", "ImportProblems", "DatabaseBusy") or \
            ename.endswith("LocsonError"):
        return str(evalue)
    return (f"sổ tay báo lỗi {ename}: {evalue}. Hãy mở bản sổ tay đã chạy trong thư mục tạm "
            f"hoặc chạy lại notebooks/annual_report.ipynb trong JupyterLab để xem chi tiết.")


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------

def _strip_for_export(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy without stderr streams, warnings or error outputs (the audit copy keeps them)."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        cell["outputs"] = [
            o for o in cell.get("outputs", [])
            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            and o.get("output_type") != "error"
        ]
    return nb


@functools.cache
def _html_exporter():  # compiling the templates costs ~0,1 s: once per process
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    # Cells tagged remove-cell are notes for the analyst, not part of the report.
    cfg = Config({"TagRemovePreprocessor": {"enabled": True,
                                            "remove_cell_tags": {"remove-cell"}}})
    exporter = HTMLExporter(
        config=cfg, template_name=TEMPLATE_NAME, extra_template_basedirs=[str(TEMPLATE_DIR)],
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
        embed_images=True, theme="light",
    )
    exporter.language_code = "vi"
    return exporter


def export_html(executed: Path, target: Path, title: str) -> None:
    """Export the executed notebook as one self-contained HTML file (no code, no CDN)."""
    nb = nbformat.read(executed, as_version=4)
    nb = _strip_for_export(nb)
    nb.metadata["title"] = title
    with _quiet():
        body, _resources = _html_exporter().from_notebook_node(
            nb, resources={"metadata": {"name": title}, "language_code": "vi"})
    target.write_text(body, encoding="utf-8")


# --------------------------------------------------------------------------------------------
# Runner
# --------------------------------------------------------------------------------------------

def _step(step: str, exc: BaseException) -> ReportStepError:
    if isinstance(exc, ReportStepError):
        return exc
    reason = str(exc) if isinstance(exc, LocsonError) else f"{type(exc).__name__}: {exc}"
    return ReportStepError(step, reason)


def run_report(school_year: str | None, db: Path, out_dir: Path = config.OUTPUTS_DIR,
               mid_year: bool = False, targets_file: Path = config.TARGETS_FILE,
               school_code: str | None = None) -> ReportPaths:
    """Make the PGD report for ``school_year`` (default: the latest year that has ended).

    ``mid_year=True`` makes the mid-year report (after semester 1) of a year in progress
    (default: the latest such year).  ``school_code``: the school reported on (default: Lộc
    Sơn, or the database's only school; see :func:`schools.choose_school`).  Returns the paths
    of the HTML, the executed notebook and the Excel workbook, all in ``out_dir/<year>/``
    (``out_dir/<school>/<year>/`` for another school of a database holding several).
    """
    db, out_dir, targets_file = Path(db), Path(out_dir), Path(targets_file)
    # The kernel boots in its own process while this one reads the database, builds the report
    # and renders it as HTML sections (tables, SVG charts); the notebook only displays them
    # (report_file), so its kernel imports neither pandas nor matplotlib.
    with StartedKernel(REPORT_NOTEBOOK.parent) as kernel:
        try:
            ds = store.load(db, with_names=False)  # the report never shows a pupil's name
            code, folder = report_school(ds, school_code)
            year = report_tables.resolve_report_year(ds.for_school(code), school_year or None,
                                                     mid_year)
            report = report_tables.build_report(ds, year, mid_year=mid_year,
                                                targets_file=targets_file, school_code=code)
        except Exception as exc:
            raise _step(STEP_READ, exc) from exc
        try:
            rendered = report_html.render(report)
        except Exception as exc:
            raise _step(STEP_RUN, exc) from exc
        stem = report_stem(year, mid_year)
        final_dir = report_dir(out_dir, year, folder)
        final_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{stem}.", dir=final_dir))
        try:
            try:
                built = report_html.save(rendered, tmp / f"{stem}.report.json")
            except Exception as exc:
                raise _step(STEP_RUN, exc) from exc
            params = {"school_year": year, "db_path": str(db.resolve()),
                      "targets_file": str(targets_file.resolve()),
                      "output_dir": str(final_dir.resolve()), "mid_year": bool(mid_year),
                      "school_code": code, "report_file": str(built)}
            executed = tmp / f"{stem}.ipynb"
            # The workbook is written while the kernel runs the notebook.
            with ThreadPoolExecutor(max_workers=1) as pool:
                workbook = pool.submit(report_tables.write_workbook, report,
                                       tmp / f"{stem}.xlsx")
                execute_notebook(REPORT_NOTEBOOK, executed, params, kernel=kernel.manager)
                try:
                    export_html(executed, tmp / f"{stem}.html", report.title)
                except Exception as exc:
                    raise _step(STEP_HTML, exc) from exc
                try:
                    workbook.result()
                except Exception as exc:
                    raise _step(STEP_EXCEL, exc) from exc
            paths = ReportPaths(year, mid_year, final_dir / f"{stem}.html",
                                final_dir / f"{stem}.ipynb", final_dir / f"{stem}.xlsx")
            for name in (paths.notebook, paths.xlsx, paths.html):
                os.replace(tmp / name.name, name)
            return paths
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def run_all(db: Path, out_dir: Path = config.OUTPUTS_DIR, mid_year: bool = False,
            targets_file: Path = config.TARGETS_FILE,
            school_code: str | None = None) -> list[ReportPaths]:
    """A report for every year in the database, with a progress bar.

    Years that have ended get the full-year report (unless ``mid_year``); a year still in
    progress gets the mid-year report.
    """
    from tqdm.auto import tqdm

    try:
        ds = store.load(Path(db))
        code, _ = report_school(ds, school_code)
        ds = ds.for_school(code)
    except Exception as exc:
        raise _step(STEP_READ, exc) from exc
    jobs: list[tuple[str, bool]] = []
    if not mid_year:
        jobs += [(y, False) for y in report_tables.complete_years(ds)]
    jobs += [(y, True) for y in report_tables.in_progress_years(ds)]
    if not jobs:
        raise ReportStepError(STEP_READ, "cơ sở dữ liệu chưa có năm học nào để lập báo cáo.")
    results = []
    for year, mid in tqdm(jobs, desc="Lập báo cáo", unit="báo cáo"):
        results.append(run_report(year, db, out_dir=out_dir, mid_year=mid,
                                  targets_file=targets_file, school_code=code))
    return results
