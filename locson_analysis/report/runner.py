"""Run a notebook with parameters and export it as the HTML handed over: papermill + nbconvert.

:func:`run_notebook` works for any notebook with a ``parameters`` cell (the annual report, the
early-warning list, a group report): papermill executes it with the current interpreter (the
project's ``.venv``, whatever kernel the notebook names), nbconvert exports offline HTML with
the report template (A4, ``lang="vi"``, no code, no stderr), and both files — with any other
file the notebook wrote into ``parameters["work_dir"]`` — are moved into ``out_dir`` only when
everything succeeded: a failed run never replaces a good report with half of one.
"""

from __future__ import annotations

import copy
import functools
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import nbformat

from ..errors import LocsonError

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "locson_report"
#: Seconds one notebook cell may run before the run is abandoned.
CELL_TIMEOUT = 600

STEP_READ = "đọc dữ liệu"
STEP_RUN = "chạy sổ tay"
STEP_HTML = "xuất HTML"
STEP_EXCEL = "ghi Excel"

#: The text IPython shows for a figure or axes left as a cell's last expression; the chart
#: itself is shown as an image, so this line never reaches the report.
MATPLOTLIB_REPR = re.compile(r"^(\[?<(Figure size|Axes|matplotlib\.|seaborn\.)|Text\()")


class ReportStepError(LocsonError):
    """A report could not be made; ``step`` says which stage failed."""

    def __init__(self, step: str, reason: str):
        self.step = step
        self.reason = reason
        end = "" if reason.rstrip().endswith((".", "!", "?", "».", ":")) else "."
        # a reason listing problems line by line: the closing sentence on a line of its own
        sep = "\n" if "\n" in reason.strip() else " "
        super().__init__(f"Không lập được báo cáo — lỗi ở bước «{step}»: {reason.rstrip()}{end}"
                         f"{sep}Báo cáo cũ (nếu có) vẫn được giữ nguyên.")


@dataclass(frozen=True)
class NotebookRun:
    """Where one run of a notebook was written."""

    html: Path
    notebook: Path
    extra: tuple[Path, ...] = ()


def step_error(step: str, exc: BaseException) -> ReportStepError:
    if isinstance(exc, ReportStepError):
        return exc
    reason = str(exc) if isinstance(exc, LocsonError) else f"{type(exc).__name__}: {exc}"
    return ReportStepError(step, reason)


@contextmanager
def _quiet() -> Iterator[None]:
    """Keep papermill's, nbclient's and nbconvert's log lines off the user's terminal (a
    failure reaches the user as a :class:`ReportStepError`, in Vietnamese)."""
    loggers = [logging.getLogger(n) for n in ("papermill", "traitlets", "nbconvert")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


#: How much of the kernel process's own output a failure message quotes (its last lines).
KERNEL_LOG_TAIL = 1500


def _kernel_manager_class(log: IO[bytes]) -> type:
    """The kernel manager papermill uses: ipykernel from ``sys.executable``, its process's own
    stdout and stderr written to ``log`` rather than the user's terminal.

    On shutdown jupyter_client interrupts the kernel (SIGINT) before asking it to stop, and
    ipykernel may log «KeyboardInterrupt caught in kernel» at ERROR: noise, not a failure.  A
    cell's errors and output never go through these streams (they come back as messages:
    papermill raises them, see :func:`execute_notebook`); what the kernel process itself writes
    matters only when it dies or does not start, and is then quoted in the error message."""
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager

    class CurrentInterpreterKernelManager(AsyncKernelManager):
        """Starts ipykernel with ``sys.executable``, whatever kernel the notebook names."""

        @property
        def kernel_spec(self) -> KernelSpec:  # type: ignore[override]
            return KernelSpec(
                argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                      "--IPKernelApp.log_level=CRITICAL"],
                display_name="Python (locson)", language="python",
                env={"PYTHONWARNINGS": "ignore"},
            )

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: object) -> None:
            kw.update(stdout=log, stderr=subprocess.STDOUT)
            await super()._async_launch_kernel(kernel_cmd, **kw)

    return CurrentInterpreterKernelManager


def _tail(log: IO[bytes]) -> str:
    """The last lines the kernel process wrote, for an error message ("" if none)."""
    log.flush()
    log.seek(0, os.SEEK_END)
    size = log.tell()
    log.seek(max(0, size - KERNEL_LOG_TAIL))
    return log.read().decode("utf-8", "replace").strip()


def execute_notebook(source: Path, target: Path, parameters: dict) -> None:
    """Run ``source`` with papermill into ``target`` (the source is never written)."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    source = Path(source)
    with tempfile.TemporaryFile() as log:
        try:
            with _quiet():
                pm.execute_notebook(
                    str(source), str(target), parameters=parameters, kernel_name="locson",
                    cwd=str(source.parent), progress_bar=False, log_output=False,
                    request_save_on_cell_execute=False, execution_timeout=CELL_TIMEOUT,
                    kernel_manager_class=_kernel_manager_class(log))
        except PapermillExecutionError as exc:
            raise ReportStepError(STEP_RUN, _execution_reason(source, exc.ename, exc.evalue)) \
                from exc
        except LocsonError:
            raise
        except Exception as exc:  # kernel did not start or died, notebook unreadable, timeout
            said = _tail(log)
            raise ReportStepError(STEP_RUN, f"{type(exc).__name__}: {str(exc).rstrip('.')}."
                                  + (f" Nhân Python (kernel) ghi: «{said}»." if said else "")
                                  ) from exc


def _execution_reason(source: Path, ename: str, evalue: str) -> str:
    if ename in ("LocsonError", "ReportStepError", "ImportProblems", "DatabaseBusy") or \
            ename.endswith("LocsonError"):
        return str(evalue)
    return (f"sổ tay báo lỗi {ename}: {evalue}. Hãy mở {source.name} trong JupyterLab, chạy "
            f"lại từng ô để xem chi tiết.")


def for_export(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy without stderr, errors and matplotlib's "<Figure size …>"/"<Axes …>" text; every
    image has alt text (the executed notebook kept beside the report keeps everything)."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        kept = []
        for o in cell.get("outputs", []):
            kind = o.get("output_type")
            if kind == "error" or (kind == "stream" and o.get("name") == "stderr"):
                continue
            data = o.get("data", {})
            if kind in ("execute_result", "display_data") and set(data) == {"text/plain"} \
                    and MATPLOTLIB_REPR.match(str(data["text/plain"])):
                continue
            for mime in ("image/png", "image/jpeg", "image/svg+xml"):
                if mime in data:
                    md = o.setdefault("metadata", {}).setdefault(mime, {})
                    md.setdefault("alt", "Biểu đồ")
            kept.append(o)
        cell["outputs"] = kept
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
        embed_images=True, theme="light")
    exporter.language_code = "vi"
    return exporter


def css_string(text: str) -> str:
    """``text`` as the body of a CSS string in double quotes, safe inside ``<style>``."""
    out = []
    for ch in text:
        if ch in '"\\<>&' or ord(ch) < 32:
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return "".join(out)


def export_html(executed: Path, target: Path, title: str, banner: str = "") -> None:
    """The executed notebook as one self-contained HTML file (no code, nothing fetched from the
    Internet).  ``banner``: a line at the top of the screen and printed at the top of every
    page, in the page's top margin (CSS ``@page`` margin box; empty: none)."""
    nb = for_export(nbformat.read(executed, as_version=4))
    nb.metadata["title"] = title
    with _quiet():
        body, _ = _html_exporter().from_notebook_node(
            nb, resources={"metadata": {"name": title}, "language_code": "vi",
                           "locson_banner": banner,
                           "locson_banner_css": css_string(banner)})
    Path(target).write_text(body, encoding="utf-8")


def run_notebook(notebook: Path, parameters: dict, out_dir: Path, stem: str, title: str,
                 banner: str = "", expect: dict[str, str] | None = None) -> NotebookRun:
    """Execute ``notebook`` with ``parameters`` and export it: ``out_dir/<stem>.html`` and the
    executed ``out_dir/<stem>.ipynb`` (the working behind every figure).

    The notebook gets one more parameter, ``work_dir``: a temporary folder where it may write
    other files (e.g. an Excel workbook); they are moved into ``out_dir`` with the two others,
    all only when every step succeeded.  ``expect``: file name → why it is missing, for the
    workbooks the notebook must write there; one missing is an error of the «ghi Excel» step,
    before anything is moved."""
    out_dir = Path(out_dir).resolve()  # the kernel runs in the notebook's folder: work_dir
    out_dir.mkdir(parents=True, exist_ok=True)  # must not be relative to ours
    tmp = Path(tempfile.mkdtemp(prefix=f".{stem}.", dir=out_dir))
    try:
        work = tmp / "work"
        work.mkdir()
        executed = tmp / f"{stem}.ipynb"
        execute_notebook(Path(notebook), executed, {**parameters, "work_dir": str(work)})
        try:
            export_html(executed, tmp / f"{stem}.html", title, banner)
        except Exception as exc:
            raise step_error(STEP_HTML, exc) from exc
        extra = tuple(sorted(work.iterdir()))
        for name, why in (expect or {}).items():
            if not (work / name).is_file():
                raise ReportStepError(STEP_EXCEL, why)
        for path in extra:
            os.replace(path, out_dir / path.name)
        os.replace(executed, out_dir / executed.name)
        os.replace(tmp / f"{stem}.html", out_dir / f"{stem}.html")
        return NotebookRun(out_dir / f"{stem}.html", out_dir / f"{stem}.ipynb",
                           tuple(out_dir / p.name for p in extra))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
