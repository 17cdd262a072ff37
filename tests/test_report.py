"""The PGD report end to end: sample files → importer → DuckDB → papermill → nbconvert → Excel.

One module fixture builds the database from the synthetic school and runs the report twice (a
finished year and the mid-year report of the year in progress); the tests read what was written.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from locson_analysis import (
    config,
    crossyear,
    importer,
    provenance,
    sample,
    store,
)
from locson_analysis.errors import LocsonError
from locson_analysis.report import annual as run
from locson_analysis.report import runner
from locson_analysis.report import tables as report_tables

NOTEBOOKS = sorted(config.NOTEBOOKS_DIR.glob("*.ipynb"))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("report")
    sample.write_sample(root / "sample", seed=2025)
    db = root / "locson.duckdb"
    for folder in sorted((root / "sample").iterdir()):
        store.write_year(db, importer.read_year(folder), origin=provenance.SAMPLE)
    store.replace_checks(db, crossyear.check_all(store.load(db).pupils))
    out = root / "outputs"
    full = run.run_report(None, db, out_dir=out)
    mid = run.run_report(None, db, out_dir=out, mid_year=True)
    ds = store.load(db, with_names=True)  # every name, to check that none reaches the report
    return {"root": root, "db": db, "out": out, "full": full, "mid": mid, "ds": ds}


def _html(paths: run.ReportPaths) -> str:
    return paths.html.read_text(encoding="utf-8")


def _without_images(text: str) -> str:
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "data:image/png;base64,", text)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------------
# Which year, which files
# --------------------------------------------------------------------------------------------

def test_default_year_is_latest_complete_and_mid_year_is_the_running_one(built: dict) -> None:
    ds = built["ds"]
    complete = report_tables.complete_years(ds)
    running = report_tables.in_progress_years(ds)
    assert running == ["2026-2027"]
    assert built["full"].school_year == complete[-1] == "2025-2026"
    assert built["mid"].school_year == "2026-2027"


def test_files_are_named_by_year_and_kind(built: dict) -> None:
    full, mid = built["full"], built["mid"]
    assert full.html == built["out"] / "2025-2026" / "bao_cao_2025-2026.html"
    assert mid.html.name == "bao_cao_2026-2027_giua_nam.html"
    for paths in (full, mid):
        assert paths.html.exists() and paths.notebook.exists() and paths.xlsx.exists()
    # nothing half-written left behind
    assert not [p for p in built["out"].rglob(".bao_cao_*")]


def test_a_running_year_needs_the_mid_year_flag(built: dict) -> None:
    with pytest.raises(LocsonError, match="chưa kết thúc"):
        report_tables.resolve_report_year(built["ds"], "2026-2027", mid_year=False)
    with pytest.raises(LocsonError, match="không đúng dạng"):
        report_tables.resolve_report_year(built["ds"], "2025", mid_year=False)


# --------------------------------------------------------------------------------------------
# The HTML
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["full", "mid"])
def test_html_is_vietnamese_with_a_title(built: dict, which: str) -> None:
    html = _html(built[which])
    assert '<html lang="vi">' in html
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert "Trường THCS Lộc Sơn" in title and built[which].school_year in title
    assert ("giữa năm" in title) == (which == "mid")
    # the recipient comes from data/report.yaml: the plan's PGD up to 2024-2025, the configured
    # body (here the shipped default) from 2025-2026
    assert re.search(r"Kính gửi:<br/?>- Ủy ban nhân dân phường", html)
    assert "Phòng Giáo dục và Đào tạo thành phố Bảo Lộc" not in html


@pytest.mark.parametrize("which", ["full", "mid"])
def test_html_has_no_outside_reference(built: dict, which: str) -> None:
    html = _html(built[which])
    outside = [
        r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""",
        r"""@import""",
        r"""url\(\s*["']?\s*(?:https?:)?//""",
        r"""<link[^>]+href=["'](?!#|data:)""",
        r"""<script[^>]+src=""",
    ]
    for pattern in outside:
        assert not re.search(pattern, html, re.I), pattern
    assert "cdnjs" not in html and "cdn.jsdelivr" not in html and "unpkg" not in html
    assert "require.min.js" not in html and "MathJax.Hub" not in html


@pytest.mark.parametrize("which", ["full", "mid"])
def test_html_has_no_code_prompts_or_stderr(built: dict, which: str) -> None:
    html = _html(built[which])
    body = _without_images(re.sub(r"<style.*?</style>", "", html, flags=re.S))
    # markdown cells are part of the report; no code cell shows its input
    assert "jp-CodeMirrorEditor" not in body and 'class="highlight' not in body
    assert "jp-InputPrompt" not in body and "sns.lineplot" not in body
    assert "In&nbsp;[" not in body and "Out[" not in body and "Out&nbsp;[" not in body
    assert "application/vnd.jupyter.stderr" not in body
    assert "store.load" not in body
    assert not re.search(r"(?<!locson )import ", body)  # (section 6 advises `locson import`)
    assert "Traceback" not in body and "Warning" not in body
    # the analyst's note cell (tag remove-cell) is not part of the report
    assert "Ô này không xuất hiện trong báo cáo" not in html


def test_targets_table_in_the_plans_numbering(built: dict) -> None:
    html = _html(built["full"])
    assert "1. Kết quả thực hiện các chỉ tiêu của kế hoạch" in html
    assert "Năm học 2025-2026 thuộc giai đoạn 2025-2030 của kế hoạch" in html
    for n in range(1, 6):
        assert f">Số {n}. " in html
    # 2025-2030 numbering: completion and dropout are target 4, psychological support 5
    assert "dưới 0,03%" in html
    assert "cho phép tối đa 0 học sinh bỏ học" in html
    assert re.search(r">(Đạt|Chưa đạt|Chưa có số liệu)</span>", html)


@pytest.mark.parametrize("which", ["full", "mid"])
def test_every_chart_is_a_sharp_image_with_alt_text(built: dict, which: str) -> None:
    html = _html(built[which])
    images = re.findall(r"<img\b[^>]*>", html)
    assert len(images) == 3  # one trend chart per target followed (dropout, completion, intake)
    for img in images:
        assert 'src="data:image/png;base64,' in img  # embedded, nothing fetched
        alt = re.search(r'alt="([^"]+)"', img).group(1)
        assert len(alt) > 30 and alt.startswith("Biểu đồ đường: ")
        width = int(re.search(r'width="(\d+)"', img).group(1))
        data = base64.b64decode(re.search(r"base64,([^\"]+)", img).group(1))
        pixels = int.from_bytes(data[16:20], "big")
        assert pixels >= width * 1.5  # ≥ 1,5 image pixels per CSS pixel (≥ 150 dpi on A4)
    assert "Biểu đồ đường: Tỷ lệ học sinh bỏ học" in html


def test_trend_chart_labels_every_phase_target_and_its_points() -> None:
    """The helper the notebook calls: a target per phase, each labelled (the 2025–2030 one
    too, on the chart or in the legend), the points labelled in Vietnamese, no two labels
    overlapping (more cases: test_charts.py)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd
    import seaborn as sns

    from locson_analysis.report import charts as C

    C.set_theme()
    series = pd.DataFrame({
        "school_year": ["2022-2023", "2023-2024", "2024-2025", "2025-2026"],
        "value": [0.0037, 0.0024, 0.0025, 0.0],
        "threshold": [0.0006, 0.0006, 0.0006, 0.0003],
        "target_label": ["Mục tiêu < 0,06 %"] * 3 + ["Mục tiêu < 0,03 %"],
        "phase": ["2022-2025"] * 3 + ["2025-2030"]})
    fig, ax = plt.subplots()
    sns.lineplot(x=range(4), y=series["value"], marker="o", ax=ax)
    C.trend_look(ax, series, title="Tỷ lệ học sinh bỏ học", digits=2, alt_text="Biểu đồ x")
    fig.canvas.draw()
    texts = [t for t in ax.texts if t.get_visible()]
    shown = [t.get_text() for t in texts]
    assert "Mục tiêu < 0,06 % (2022–2025)" in shown
    # the 2025–2030 target: no room beside the steep last segment, so named in the legend
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Mục tiêu < 0,03 % (2025–2030)" in shown + legend
    assert "0,37 %" in shown and "0,00 %" in shown
    boxes = [t.get_window_extent() for t in texts]
    assert not [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:] if a.overlaps(b)]
    ticks = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert ticks and all(re.fullmatch(r"\d+(,\d+)? %", t) for t in ticks)
    assert C.alt_of(fig) == "Biểu đồ x"
    data, meta = C.figure_png(fig)
    assert meta["alt"] == "Biểu đồ x" and meta["width"] > 500 and data
    plt.close(fig)


def test_sections_in_vietnamese(built: dict) -> None:
    html = _html(built["full"])
    for heading in ("2. Xu hướng từ năm học đầu tiên có số liệu",
                    "3. Lên lớp, ở lại lớp, bỏ học và chuyển trường theo khối",
                    "4. Công bằng giữa các nhóm học sinh",
                    "5. Cơ sở vật chất và dịch vụ cho học sinh",
                    "6. Những điều số liệu chưa cho biết",
                    "Phụ lục 1. Định nghĩa các chỉ số"):
        assert heading in html
    assert "Khối 6" in html and "Dân tộc thiểu số" in html and "Hộ nghèo" in html
    assert re.search(r"\d,\d %", html)  # Vietnamese decimal comma before a spaced %
    # the sources by kind and import date, never by file name
    assert "DS_hoc_sinh_2025-2026.xlsx" not in html and ".xlsx" not in html
    assert "Danh sách học sinh" in html and "nhật ký can thiệp" not in html.lower()


def test_mid_year_report_says_what_is_not_known_yet(built: dict) -> None:
    html = _html(built["mid"])
    assert "BÁO CÁO GIỮA NĂM HỌC 2026-2027" in html
    assert "Đây là báo cáo giữa năm" in html
    assert "Chưa nhập số liệu nhà trường năm học 2026-2027" in html


@pytest.mark.parametrize("which", ["full", "mid"])
def test_no_pupil_name_or_id_leaves_the_school(built: dict, which: str) -> None:
    pupils = built["ds"].pupils
    names = set(pupils["full_name"].dropna().astype(str))
    ids = set(pupils["pupil_id"].dropna().astype(str))
    assert len(names) > 100 and len(ids) > 100
    paths = built[which]
    for text in (_without_images(_html(paths)),
                 _without_images(paths.notebook.read_text(encoding="utf-8"))):
        leaked = [n for n in names if n in text] + [i for i in ids if i in text]
        assert leaked == []


# --------------------------------------------------------------------------------------------
# The executed notebook and the workbook
# --------------------------------------------------------------------------------------------

def test_executed_notebook_records_its_parameters(built: dict) -> None:
    nb = nbformat.read(built["mid"].notebook, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    assert 'school_year = "2026-2027"' in injected[0].source
    assert "mid_year = True" in injected[0].source
    assert nb.metadata["papermill"]["parameters"]["mid_year"] is True
    # the source notebook was not touched by the run
    source = nbformat.read(run.REPORT_NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in source.cells if c.cell_type == "code")


def test_workbook_holds_the_targets_table_first(built: dict) -> None:
    from openpyxl import load_workbook

    wb = load_workbook(built["full"].xlsx)
    assert wb.sheetnames[0] == "Chỉ tiêu"
    assert {"Lưu chuyển theo khối", "Công bằng", "Định nghĩa chỉ số"} <= set(wb.sheetnames)
    ws = wb["Chỉ tiêu"]
    header = [c.value for c in ws[3]]
    assert header[:4] == ["Chỉ tiêu", "Nội dung chỉ tiêu trong kế hoạch", "Chỉ số", "Kết quả"]
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    other = "(như trên — cách tính khác, không dùng để đánh giá)"
    # the completion target's row is followed by its three other definitions and the grade-9
    # dropouts (reference rows, not judged)
    assert [r[0] for r in rows] == ["Số 1", "Số 2", "Số 3", "Số 4", *[other] * 4, "Số 4",
                                    "Số 5"]
    assert [r[6] for r in rows if r[0] == other] == [None] * 4  # no verdict on them
    dropout = next(r for r in rows if r[2] == "Tỷ lệ học sinh bỏ học")
    assert isinstance(dropout[3], int | float)  # numbers stay numbers in Excel
    value_cell = ws.cell(row=4 + rows.index(dropout), column=4)
    assert value_cell.number_format == "0.00%"


# --------------------------------------------------------------------------------------------
# Failures
# --------------------------------------------------------------------------------------------

def test_a_failing_run_raises_and_keeps_the_previous_report(built: dict) -> None:
    full = built["full"]
    before = {p: _digest(p) for p in (full.html, full.notebook, full.xlsx)}
    with pytest.raises(LocsonError) as err:
        run.run_report("2030-2031", built["db"], out_dir=built["out"])
    message = str(err.value)
    assert "đọc dữ liệu" in message and "2030-2031" in message and "Traceback" not in message
    assert {p: _digest(p) for p in before} == before


def _report_notebook(path: Path, code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A two-cell stand-in for the report notebook (its parameters, then ``code``), used by
    ``run_report`` for the rest of the test."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('school_year = ""\nmid_year = False\nwork_dir = ""')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python",
                                 "display_name": "Python 3"}
    nbformat.write(nb, path)
    monkeypatch.setattr(run, "REPORT_NOTEBOOK", path)


def test_a_notebook_error_names_the_step_and_keeps_the_report(
        built: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _report_notebook(tmp_path / "annual_report.ipynb",
                     'raise ValueError("bảng chỉ tiêu bị hỏng")', monkeypatch)
    full = built["full"]
    before = {p: _digest(p) for p in (full.html, full.notebook, full.xlsx)}
    with pytest.raises(LocsonError) as err:
        run.run_report("2025-2026", built["db"], out_dir=built["out"])
    message = str(err.value)
    assert "chạy sổ tay" in message and "bảng chỉ tiêu bị hỏng" in message
    assert "Traceback" not in message and "\x1b[" not in message
    assert {p: _digest(p) for p in before} == before
    assert not [p for p in built["out"].rglob(".bao_cao_*")]


def test_a_notebook_without_its_workbook_keeps_the_old_report(
        built: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A notebook that runs but writes no workbook: an «ghi Excel» error, and — as it says —
    the report already there is kept whole (nothing moved before the check)."""
    _report_notebook(tmp_path / "annual_report.ipynb", "x = 1", monkeypatch)
    full = built["full"]
    before = {p: _digest(p) for p in (full.html, full.notebook, full.xlsx)}
    with pytest.raises(LocsonError, match="ghi Excel.*Báo cáo cũ"):
        run.run_report("2025-2026", built["db"], out_dir=built["out"])
    assert {p: _digest(p) for p in before} == before


def test_a_relative_output_folder_works(built: dict, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """``locson report --out ra`` from the user's folder (the runner resolves the folder; the
    workbook is looked for where the report went)."""
    monkeypatch.chdir(tmp_path)
    paths = run.run_report("2025-2026", built["db"], out_dir=Path("ra"))
    assert paths.xlsx.is_file() and paths.html.is_file()
    assert paths.html.parent == (tmp_path / "ra" / "2025-2026").resolve()


# --------------------------------------------------------------------------------------------
# Committed notebooks: no outputs, a parameters cell, in sync with their .py pair
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_committed_notebook_is_clean(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c.get("outputs") == [] for c in code), "notebook has outputs"
    assert all(c.get("execution_count") is None for c in code), "notebook has execution counts"
    tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged parameters"
    assert nb["metadata"].get("jupytext", {}).get("formats") == "ipynb,py:percent"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_and_py_pair_are_in_sync(path: Path) -> None:
    import jupytext

    pair = path.with_suffix(".py")
    assert pair.exists(), f"{pair.name} missing: run jupytext --sync {path.name}"
    from_ipynb = jupytext.read(path)
    from_py = jupytext.read(pair)
    assert len(from_ipynb.cells) == len(from_py.cells)
    for a, b in zip(from_ipynb.cells, from_py.cells, strict=True):
        assert a.cell_type == b.cell_type
        assert a.source.strip() == b.source.strip()
        assert a.metadata.get("tags", []) == b.metadata.get("tags", [])
    assert '# %% tags=["parameters"]' in pair.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_papermill_documents_every_parameter(path: Path) -> None:
    """`papermill --help-notebook` lists each parameter with its type and Vietnamese help.

    papermill skips a line with a second "=" (e.g. "để trống = …" in the comment).
    """
    import papermill as pm

    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    names = [ln.split(":")[0].split("=")[0].strip() for ln in cell.source.splitlines()
             if ln.strip() and not ln.lstrip().startswith("#")]
    found = pm.inspect_notebook(str(path))
    assert sorted(found) == sorted(names)
    for p in found.values():
        assert p["inferred_type_name"] in {"str", "bool", "int", "float"}
        assert p["help"], f"{p['name']}: no help comment"


def test_cross_year_findings_are_counted_never_listed(built: dict) -> None:
    import dataclasses

    import pandas as pd

    from locson_analysis import indicators

    ds = built["ds"]
    ids = ds.pupils.loc[ds.pupils["school_year"] == "2024-2025", "pupil_id"].head(3).tolist()
    checks = pd.DataFrame({
        "school_code": "LOCSON", "school_year": "2024-2025", "next_year": "2025-2026",
        "check_name": ["missing_next_year", "missing_next_year", "sex_changed"],
        "pupil_id": ids, "detail": ["x", "y", "z"]})
    ds2 = dataclasses.replace(ds, checks=checks)
    gaps = report_tables.gaps_table(ds2, indicators.compute_all(ds2), "2025-2026")
    html = gaps.to_html()
    crossyear_rows = gaps.data[gaps.data["Loại"] == "Đối chiếu 2024-2025 → 2025-2026"]
    assert sorted(crossyear_rows["Số lượng"]) == [1, 2]
    assert crossyear.CHECKS["missing_next_year"][1] in html  # what to do
    assert not any(i in html for i in ids)


def test_explore_notebook_runs_on_the_database(built: dict, tmp_path: Path) -> None:
    """The analyst's notebook executes against a real database and prints no pupil rows."""
    import papermill as pm

    out = tmp_path / "explore.ipynb"
    runner.execute_notebook(config.NOTEBOOKS_DIR / "explore.ipynb", out,
                         {"db_path": str(built["db"])})
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = _without_images(json.dumps([o for o in outputs], ensure_ascii=False))
    assert "Năm học xem kỹ: 2025-2026" in text
    assert "hệ số hiệu quả" in text
    # the cohort model runs on the linked flow rates: every base year usable, no cut-off
    # error text (the aggregate rates refused 5 of 7 years on this sample)
    assert "Theo mã học sinh (từng em)" in text and "Không dùng được vì" in text
    assert "Hãy sửa các lỗi sau" not in text and "phát hiện" not in text
    assert "chỉ có một trường (LOCSON)" in text  # the district view says why it is thin
    ids = set(built["ds"].pupils["pupil_id"].astype(str))
    assert not [i for i in ids if i in text]
    assert pm  # papermill ran it (through run.execute_notebook)


# --------------------------------------------------------------------------------------------
# What the analyst adds is what the PGD gets
# --------------------------------------------------------------------------------------------

ANALYST_CELLS = [
    ("# %% [markdown]\n## Phần thêm của tổ chuyên môn", "markdown"),
    ("fig, ax = plt.subplots()\n"
     "sns.barplot(x=['Khối 6', 'Khối 7'], y=[3, 5], ax=ax)\n"
     "ax.set_title('Số buổi sinh hoạt chuyên đề')\n"
     "plt.show()", "code"),
    ("fig, ax = plt.subplots()\n"
     "sns.lineplot(x=[1, 2, 3], y=[2, 1, 3], ax=ax)\n"
     "ax.set_title('Biểu đồ để ở cuối ô')\n"
     "ax", "code"),
    ("import pandas as pd\n"
     "pd.DataFrame({'Hoạt động': ['Ngoại khóa'], 'Số buổi': [12]})", "code"),
    ("Markdown('Nhận xét **thêm** của nhà trường: số buổi tăng.')", "code"),
]


def test_cells_the_analyst_adds_reach_the_html(built: dict, tmp_path: Path) -> None:
    """A copy of the report notebook with a seaborn chart ended by plt.show(), one left as the
    cell's last expression, a DataFrame and a Markdown(...), run by `locson report --notebook`:
    all four appear in the HTML, with no "<Figure …>" text and no stderr."""
    import subprocess
    import sys

    nb = nbformat.read(run.REPORT_NOTEBOOK, as_version=4)
    for source, kind in ANALYST_CELLS:
        if kind == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(source.split("\n", 1)[1]))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(source))
    nb.cells.append(nbformat.v4.new_code_cell(
        "import sys\nprint('lỗi riêng', file=sys.stderr)\nimport warnings\n"
        "warnings.warn('cảnh báo riêng')"))
    # what the kernel process itself writes (ipykernel's log when jupyter_client interrupts it
    # at shutdown, C libraries writing to the file descriptors) is not the user's business
    nb.cells.append(nbformat.v4.new_code_cell(
        "import os\nget_ipython().kernel.log.error('KeyboardInterrupt caught in kernel.')\n"
        "os.write(1, b'[IPKernelApp] fd1 noise\\n')\nos.write(2, b'[IPKernelApp] fd2 noise\\n')"))
    copy = tmp_path / "ban_sua.ipynb"
    nbformat.write(nb, copy)
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "locson_analysis.cli", "report", "--year", "2025-2026",
         "--db", str(built["db"]), "--out", str(out), "--notebook", str(copy)],
        capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # the terminal: sample data said first; the unconfirmed recipient for the analyst
    assert done.stdout.splitlines()[0] == f"*** {provenance.SAMPLE_MARK} ***"
    assert "Cần kiểm tra trước khi gửi: Nơi nhận báo cáo của năm học 2025-2026" in done.stdout
    for said in (done.stdout, done.stderr):
        assert "IPKernelApp" not in said and "KeyboardInterrupt" not in said
    html = (out / "2025-2026" / "bao_cao_2025-2026.html").read_text(encoding="utf-8")
    assert "Phần thêm của tổ chuyên môn" in html
    alts = re.findall(r'<img\b[^>]*alt="([^"]+)"', html)
    assert "Biểu đồ: Số buổi sinh hoạt chuyên đề" in alts
    assert "Biểu đồ: Biểu đồ để ở cuối ô" in alts
    assert len(alts) == 5
    assert "Ngoại khóa" in html and "<strong>thêm</strong>" in html
    assert "<Figure" not in html and "&lt;Figure" not in html and "&lt;Axes" not in html
    assert "lỗi riêng" not in html and "cảnh báo riêng" not in html
    # the executed copy kept beside it shows the working, stderr included
    executed = (out / "2025-2026" / "bao_cao_2025-2026.ipynb").read_text(encoding="utf-8")
    assert "lỗi riêng" in executed and "sns.barplot" in executed


def test_a_kernel_that_dies_is_reported_with_what_it_wrote(
        tmp_path: Path, capfd: pytest.CaptureFixture) -> None:
    """The kernel process's own output stays off the terminal, but when the kernel dies the
    error message quotes it (a real failure is never hidden)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import os\nos.write(2, b'thu vien C: het bo nho\\n')\nos._exit(3)")]
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python",
                                 "display_name": "Python 3"}
    path = tmp_path / "chet.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(runner.ReportStepError) as err:
        runner.execute_notebook(path, tmp_path / "out.ipynb", {})
    message = str(err.value)
    assert "chạy sổ tay" in message and "thu vien C: het bo nho" in message
    terminal = "".join(capfd.readouterr())
    assert "het bo nho" not in terminal and "Kernel died" not in terminal


def test_a_missing_notebook_copy_is_named(built: dict, tmp_path: Path) -> None:
    with pytest.raises(LocsonError, match="khong_co.ipynb"):
        run.run_report("2025-2026", built["db"], out_dir=tmp_path,
                       notebook=tmp_path / "khong_co.ipynb")


def test_report_notebook_has_the_report_in_its_cells() -> None:
    """Sections as markdown headings; seaborn drawn in a cell; nothing computed there."""
    nb = nbformat.read(run.REPORT_NOTEBOOK, as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for n in range(1, 7):
        assert re.search(rf"^## {n}\. ", markdown, re.M)
    assert "sns.lineplot(" in code and "plt.show()" in code
    assert "compute_all" not in code and "evaluate(" not in code
    assert code.count("T.load_report(") == 1
    assert nb.metadata["kernelspec"]["name"] == "locson"


def test_export_has_a_place_for_a_print_banner(built: dict, tmp_path: Path) -> None:
    """runner.export_html(banner=…) prints a line on every page (hidden on screen)."""
    out = tmp_path / "b.html"
    runner.export_html(built["full"].notebook, out, "t", banner="DỮ LIỆU MẪU <thử>")
    html = out.read_text(encoding="utf-8")
    assert '<div class="locson-banner">DỮ LIỆU MẪU &lt;thử&gt;</div>' in html
    assert '@top-center { content: "DỮ LIỆU MẪU \\3c thử\\3e ";' in html  # CSS-escaped
    out2 = tmp_path / "c.html"
    runner.export_html(built["full"].notebook, out2, "t")
    assert 'class="locson-banner"' not in out2.read_text(encoding="utf-8")  # none unless asked


# --------------------------------------------------------------------------------------------
# Issue 11: sample mark, official blocks, verdicts, suppression, section 6
# --------------------------------------------------------------------------------------------

MARK = provenance.SAMPLE_MARK


@pytest.mark.parametrize("which", ["full", "mid"])
def test_sample_data_is_marked_on_screen_in_print_in_excel_and_notebook(
        built: dict, which: str) -> None:
    from openpyxl import load_workbook

    paths = built[which]
    assert paths.is_sample
    html = _html(paths)
    # the print banner (position fixed in @media print: every page) and the screen band
    assert f'<div class="locson-banner">{MARK}</div>' in html
    # in print: the page's top margin box, on every page (see test_print_banner_on_every_page)
    assert f'@top-center {{ content: "{MARK}";' in html
    # the notebook's own band is in the file but hidden there: the mark is shown once
    assert 'class="locson-sample"' in html and ".locson-sample { display: none" in html
    wb = load_workbook(paths.xlsx)
    for ws in wb.worksheets:
        assert str(ws["A1"].value).startswith(MARK), ws.title
    nb = nbformat.read(paths.notebook, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
               if o.get("output_type") in ("display_data", "execute_result", "stream")]
    first = json.dumps(outputs[0], ensure_ascii=False)
    assert MARK in first


def test_official_document_blocks(built: dict) -> None:
    from datetime import date

    from locson_analysis import report_config

    html = _html(built["full"])
    doc = report_config.official_document("LOCSON", "2025-2026", date.today())
    for text in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                 "TRƯỜNG THCS LỘC SƠN", "/BC-THCSLS", doc.place_date, "Nơi nhận:",
                 "- Như trên;", "- Lưu: VT.", "HIỆU TRƯỞNG"):
        assert text in html, text
    assert doc.place_date.startswith("Lộc Sơn, ngày ")
    # the unconfirmed recipient: a warning for the analyst, not a line of the PGD's report
    assert not doc.confirmed and built["full"].notes == doc.notes
    assert "chưa được nhà trường xác nhận" not in html
    executed = built["full"].notebook.read_text(encoding="utf-8")
    assert "chưa được nhà trường xác nhận" in executed


def test_mid_year_targets_are_tracked_not_judged(built: dict) -> None:
    html = _html(built["mid"])
    assert ">Đang theo dõi</span>" in html
    assert ">Đạt</span>" not in html and ">Chưa đạt</span>" not in html
    assert "số liệu đến nay" in html
    assert "«Năm học trước» là: Học kỳ I năm học 2025-2026." in html
    assert "«Năm học trước» là: Cả năm học 2025-2026 (năm nay mới tính đến thời điểm nhập)." \
        in html


def test_completion_row_shows_the_other_definitions(built: dict) -> None:
    from openpyxl import load_workbook

    html = _html(built["full"])
    assert "Cách tính khác (tham khảo, không dùng để đánh giá)" in html
    assert "(b) khóa biểu kiến" in html and "Học sinh lớp 9 bỏ học trong năm" in html
    assert "được đánh giá theo (a)" in html and "cho phép tối đa" in html
    ws = load_workbook(built["full"].xlsx)["Chỉ tiêu"]
    labels = [r[2] for r in ws.iter_rows(min_row=4, values_only=True)]
    assert "Học sinh lớp 9 bỏ học trong năm" in labels


def test_group_tables_hide_small_cells_with_the_note(built: dict) -> None:
    from openpyxl import load_workbook

    from locson_analysis import disclosure

    html = _html(built["full"])
    assert disclosure.suppression_note(5) in html
    assert re.search(r"<td[^>]*>…[^<]*</td>", html)
    wb = load_workbook(built["full"].xlsx)
    ws = wb["Công bằng"]
    assert ws["A2"].value == disclosure.suppression_note(5)
    values = [v for r in ws.iter_rows(min_row=4, values_only=True) for v in r]
    assert disclosure.HIDDEN_MARK in values


def test_section_6_counts_only_what_the_reader_must_know(built: dict) -> None:
    html = _without_images(_html(built["full"]))  # (base64 may spell "GSO" by chance)
    section = html[html.index("6. Những điều số liệu chưa cho biết"):
                   html.index("Phụ lục 1. Định nghĩa các chỉ số")]
    assert "Cảnh báo khi nhập" not in section  # routine notes (rows read, columns not stored)
    assert "locson history" not in section
    assert "«dropouts_midyear_arrivals»" not in html and "MOET" not in html
    assert "GSO" not in html and "(GPI)" not in html
    # (this sample year has no mid-year arrival who dropped out: nothing said about them)
    assert "em chuyển đến trong năm học rồi bỏ học" not in html
    facilities = html[html.index("5. Cơ sở vật chất"):html.index("6. Những điều")]
    assert "Tổng kinh phí hỗ trợ học sinh" in facilities and "(đồng)" not in facilities


def test_section_6_of_the_mid_year_report_names_the_missing_file(built: dict) -> None:
    html = _html(built["mid"])
    section = html[html.index("6. Những điều số liệu chưa cho biết"):
                   html.index("Phụ lục 1. Định nghĩa các chỉ số")]
    assert "Thiếu tệp" in section and "số liệu nhà trường năm học 2026-2027" in section
    assert "locson template --year 2026-2027" in section
    assert "locson import data/raw/2026-2027/&lt;tên tệp&gt;.xlsx" in section
    assert "Lưu ý khi nhập" not in section  # the sample's notes are all routine


@pytest.mark.skipif(not (shutil.which("chromium") and shutil.which("pdftotext")),
                    reason="chromium and pdftotext (poppler-utils) are needed to print")
def test_print_banner_on_every_page(built: dict, tmp_path: Path) -> None:
    """Printed by a browser, every page of the sample report carries the sample mark."""
    import subprocess

    pdf = tmp_path / "r.pdf"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", f"--print-to-pdf={pdf}",
                    "--no-pdf-header-footer", built["full"].html.as_uri()],
                   capture_output=True, timeout=180, check=True)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    pages = text.split("\f")[:-1]  # (pdftotext ends every page with a form feed)
    assert len(pages) > 3
    assert [p.count(MARK) for p in pages] == [1] * len(pages)
    # numbered «Trang k/n» at the foot of every page (an official document runs to pages)
    assert [f"Trang {k}/{len(pages)}" in p for k, p in enumerate(pages, 1)] == [True] * len(pages)
