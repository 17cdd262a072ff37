"""Issue 11 in the report's tables (no notebook run): the planted identifiable pupil, changes
that are never called "không đổi", tracking badges, parity with counts, section 6 and sources.

The planted case: the only pupil in special circumstances drops out (tests/test_disclosure.py
builds the same school).  Neither the report's HTML tables nor its Excel workbook may let a
reader find them: no "1/1", and no hidden cell recoverable from the totals.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from locson_analysis import config, disclosure, targets
from locson_analysis import present as P
from locson_analysis.report import tables as T
from locson_analysis.report import text as X

from . import builders as b

YEAR = "2024-2025"


def _school(special_drops_out: bool) -> list[dict]:
    return b.planted_school(YEAR, special_drops_out)


def _report(special_drops_out: bool) -> T.Report:
    ds = b.dataset(_school(special_drops_out))
    return T.build_report(ds, YEAR, targets_file=config.TARGETS_FILE, school_code="LOCSON")


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("safe")
    out = {}
    for name, drops in (("a", True), ("b", False)):
        rep = _report(drops)
        xlsx = T.write_workbook(rep, root / f"{name}.xlsx")
        out[name] = (rep, xlsx)
    return out


def _sheet_values(path: Path, sheet: str) -> list[tuple]:
    from openpyxl import load_workbook

    ws = load_workbook(path)[sheet]
    return [tuple(r) for r in ws.iter_rows(min_row=2, values_only=True)]


def test_the_planted_pupil_cannot_be_found_in_html_or_excel(worlds: dict) -> None:
    rep_a, xlsx_a = worlds["a"]
    rep_b, xlsx_b = worlds["b"]
    for key in ("equity", "flow"):
        html_a, html_b = rep_a.tables[key].to_html(), rep_b.tables[key].to_html()
        assert "1/1" not in html_a
        # a reader sees the same table whether X dropped out or the other pupil did
        assert html_a == html_b, key
        sheet = rep_a.tables[key].sheet
        assert _sheet_values(xlsx_a, sheet) == _sheet_values(xlsx_b, sheet), key
    assert X.parity(rep_a).data == X.parity(rep_b).data
    # the special-circumstances row: every figure of the single pupil hidden
    eq = rep_a.tables["equity"].data
    row = eq[eq["Nhóm"] == "Hoàn cảnh đặc biệt"].iloc[0]
    assert row["Số học sinh đầu năm"] == disclosure.HIDDEN_MARK
    assert row["Bỏ học (tử số)"] == disclosure.HIDDEN_MARK
    # and the reader's solver pins nothing down from what is shown
    assert disclosure.disclosed(rep_a.safe_table) == []
    # the school total stays: one dropout of 58 pupils (8·3 + 7·3 + 6 + 7 + 2 = 60 at start)
    school = eq[eq["Nhóm theo"] == "Giới tính"]  # (sex rows exist: the table is not empty)
    assert len(school) == 2
    targets_html = rep_a.tables["targets"].to_html()
    assert "1/60" in targets_html


def test_the_world_differs_without_suppression() -> None:
    """The test above can fail: the raw indicator table does tell the two worlds apart."""
    a, bb = _report(True), _report(False)
    raw = T.equity_table(a.table, YEAR).to_html()
    assert raw != T.equity_table(bb.table, YEAR).to_html()


def test_the_workbook_explains_the_dots(worlds: dict) -> None:
    rep, xlsx = worlds["a"]
    rows = _sheet_values(xlsx, "Công bằng")
    assert rows[0][0] == disclosure.suppression_note(5) == rep.tables["equity"].note
    assert disclosure.suppression_note(5) in rep.tables["equity"].to_html()


@pytest.mark.parametrize(("value", "key", "expected"), [
    (0.0025 - 0.0024, "dropout_rate", "+0,01 điểm %"),  # 0,24 % → 0,25 %: a change
    (0.0, "dropout_rate", "không đổi"),
    (0.004, "promotion_rate", "+0,4 điểm %"),
    (0.0004, "promotion_rate", "+0,04 điểm %"),  # widened, not rounded to zero
    (-3, "violence_incidents", "−3"),
    (0.004, "pupils_per_hygienic_toilet", "+0,004"),
    (-0.25, "pupils_per_hygienic_toilet", "−0,25"),
])
def test_changes_are_never_rounded_to_no_change(value: float, key: str, expected: str) -> None:
    assert T.fmt_change(value, key) == expected


def test_tracking_status_has_its_own_badge() -> None:
    assert T.TRACKING == targets.TRACKING
    badge = P.status_badge(targets.TRACKING)
    assert "#0d47a1" in badge and ">Đang theo dõi<" in badge
    assert P.status_badge("Đạt") != badge


def _indicator_table(rows: list[tuple]) -> pd.DataFrame:
    """An indicator table of LOCSON's ``YEAR`` from (indicator, dimension, group, value,
    numerator, denominator, note) rows."""
    table = pd.DataFrame(rows, columns=["indicator", "dimension", "group", "value",
                                        "numerator", "denominator", "note"])
    table.insert(0, "school_year", YEAR)
    table.insert(0, "school_code", "LOCSON")
    return table


def test_parity_is_shown_with_counts_or_not_computed() -> None:
    table = _indicator_table([
        ("gender_parity_index_dropout_rate", "school", "Toàn trường", float("nan"), 0.01, 0.0,
         "Không tính chỉ số"),
        ("gender_parity_index_promotion_rate", "school", "Toàn trường", 0.99, 0.98, 0.99, ""),
        ("dropout_rate", "sex", "Nữ", 4 / 400, 4, 400, ""),
        ("dropout_rate", "sex", "Nam", 0.0, 0, 410, ""),
        ("promotion_rate", "sex", "Nữ", 392 / 400, 392, 400, ""),
        ("promotion_rate", "sex", "Nam", 400 / 410, 400, 410, ""),
    ])
    safe = disclosure.suppress(table).table
    text = T.parity_sentence(table, YEAR, safe)
    assert "lên lớp: 0,99 (nữ 392/400, nam 400/410)" in text
    # 4 girls and 0 boys: not computed, and the 4 (a small count) is not printed
    # (no school row here: the 0 of the boys is not hidden, nothing to recover it from)
    assert "Bỏ học: không tính (nữ …/400, nam 0/410)" in text
    assert "dưới 5 trường hợp hoặc dưới 10 học sinh" in text
    # 406/410 would say 4 boys were not promoted: hidden, with the parity index it follows
    table.loc[table["group"].eq("Nam") & table["indicator"].eq("promotion_rate"),
              ["value", "numerator"]] = [406 / 410, 406]
    text = T.parity_sentence(table, YEAR, disclosure.suppress(table).table)
    assert "lên lớp: … (nữ 392/400, nam …/410)" in text


def test_section_6_counts_real_import_warnings_and_leaves_routine_notes_out() -> None:
    ds = b.dataset(_school(True))
    notes = "\n".join([
        f"Năm học {YEAR}: đọc 3 tệp.",
        "Tệp «DS em Nguyễn Minh Nam.xlsx», trang tính «DSHS»: cột «Địa chỉ» không lưu "
        "(Nghị định 13/2023): địa chỉ nơi ở.",
        "Tệp «DS em Nguyễn Minh Nam.xlsx», trang tính «DSHS»: cột «Ghi chú» không dùng đến.",
        "Tệp «DS em Nguyễn Minh Nam.xlsx», trang tính «DSHS»: danh sách học sinh, 60 dòng "
        "(dòng 8–67).",
        "Bỏ qua tệp «ghi chép.docx» (không phải tệp Excel .xlsx/.xlsm/.xls, bảng tính .ods "
        "hoặc CSV).",
        "Tệp «Số liệu.xlsx», trang tính «Số liệu», dòng 9: «Số nhà vệ sinh» để trống — coi là "
        "chưa có số liệu.",
        "Tệp «Số liệu.xlsx», trang tính «Số liệu», dòng 12: «Số vụ bạo lực» để trống — coi là "
        "chưa có số liệu.",
    ])
    ds.imports = pd.DataFrame([
        {"school_year": YEAR, "kind": k, "imported_at": pd.Timestamp("2025-06-02 08:30"),
         "files": '["DS em Nguyễn Minh Nam.xlsx"]', "rows": 60, "notes": notes}
        for k in ("pupils", "school", "interventions")])
    counts = T.import_warnings(ds, YEAR)
    assert counts == {
        "Tệp trong thư mục năm học không đọc được nên bị bỏ qua": 1,
        "Mục của số liệu nhà trường hoặc điều tra phổ cập để trống (coi là chưa có số liệu)": 2}
    gaps = T.gaps_table(ds, ds.pupils.iloc[:0], YEAR).data
    assert list(gaps["Loại"]) == ["Thiếu tệp", "Lưu ý khi nhập", "Lưu ý khi nhập"]
    assert "Nguyễn" not in gaps.to_string()
    sources = T.sources_table(ds, YEAR)
    assert list(sources.shown["Loại số liệu"]) == ["Danh sách học sinh", "Số liệu nhà trường"]
    assert list(sources.shown["Ngày nhập"]) == ["02/06/2025", "02/06/2025"]
    assert "Nguyễn" not in sources.shown.to_string() + sources.data.to_string()


def test_dropouts_among_mid_year_arrivals_are_counted_and_said() -> None:
    """60 pupils at the start, 1 of them drops out; 2 arrive in November and 1 of those drops
    out.  GSO formula: 2 dropouts ÷ 60 at the start = 3,33 %; the arrival is said in words."""
    rows = _school(True)  # 60 at the start, the planted pupil drops out
    rows.append(b.pupil(YEAR, 7, "dropped_out", entry_date="2024-11-04",
                        leave_date="2025-03-01"))
    rows.append(b.pupil(YEAR, 7, "promoted", entry_date="2024-11-04"))
    rep = T.build_report(b.dataset(rows), YEAR, targets_file=config.TARGETS_FILE,
                         school_code="LOCSON")
    html = rep.tables["targets"].to_html()
    assert "2/60" in html and "3,33 %" in html
    assert "Trong số học sinh bỏ học có 1 em chuyển đến trong năm học rồi bỏ học" in html


def test_a_parity_index_built_from_hidden_counts_is_hidden_not_called_not_computed() -> None:
    table = _indicator_table([
        ("gender_parity_index_dropout_rate", "school", "Toàn trường", 2.0, 0.02, 0.01, ""),
        ("dropout_rate", "school", "Toàn trường", 12 / 1000, 12, 1000, ""),
        ("dropout_rate", "sex", "Nữ", 8 / 400, 8, 400, ""),
        ("dropout_rate", "sex", "Nam", 4 / 600, 4, 600, ""),
    ])
    safe = disclosure.suppress(table).table
    text = T.parity_sentence(table, YEAR, safe)
    # 4 boys (< 5) hidden, the 8 girls with them (8 = 12 − 4); the index 2,00 would tell
    assert "Bỏ học: … (nữ …/400, nam …/600)" in text
    assert "2,00" not in text and "không tính" not in text.split("so sánh;")[1]


# --- the planted pupil through the real report (database → papermill → HTML and Excel) --------

NASTY_FILE = "DS 2024-2025 (em Nguyễn Minh Nam bỏ học 10-02).xlsx"


@pytest.fixture(scope="module")
def planted_reports(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from locson_analysis import store
    from locson_analysis.dataset import SourceFile
    from locson_analysis.report import annual

    from . import store_builders as sb

    root = tmp_path_factory.mktemp("planted")
    out = {}
    for name, drops in (("a", True), ("b", False)):
        year = sb.year_data(YEAR, _school(drops))
        year.files = [SourceFile(f"/tmp/{NASTY_FILE}", "pupils", "ab" * 32, "DS",
                                 len(year.pupils))]
        db = root / f"{name}.duckdb"
        store.write_year(db, year)
        out[name] = annual.run_report(YEAR, db, out_dir=root / name)
    return out


def _section(html: str, start: str, end: str) -> str:
    return html[html.index(start):html.index(end)]


def test_the_planted_pupil_cannot_be_found_in_the_real_report(planted_reports: dict) -> None:
    from openpyxl import load_workbook

    a, bb = planted_reports["a"], planted_reports["b"]
    html_a = a.html.read_text(encoding="utf-8")
    html_b = bb.html.read_text(encoding="utf-8")
    assert "1/1" not in html_a
    for start, end in (("3. Lên lớp", "4. Công bằng"), ("4. Công bằng", "5. Cơ sở vật chất")):
        assert _section(html_a, start, end) == _section(html_b, start, end)
    wa, wb = load_workbook(a.xlsx), load_workbook(bb.xlsx)
    for sheet in ("Lưu chuyển theo khối", "Công bằng"):
        rows_a = list(wa[sheet].iter_rows(values_only=True))
        assert rows_a == list(wb[sheet].iter_rows(values_only=True)), sheet
        assert not any(v == "1/1" for r in rows_a for v in r)
    # the file name (it names a pupil) is nowhere in what leaves the school
    for text in (html_a, *(str(v) for ws in wa.worksheets for r in ws.iter_rows(values_only=True)
                           for v in r)):
        assert "Nguyễn Minh Nam" not in text and "DS 2024-2025" not in text
    assert "Hoàn cảnh đặc biệt" in html_a  # the row is there, its figures hidden


def test_section_6_advice_for_import_warnings_is_a_command_that_shows_them(
        tmp_path: Path) -> None:
    """A real import with a real warning (a file it cannot read); section 6 counts it, and the
    command it advises, run as written from the project folder, prints that warning."""
    import shlex
    import subprocess
    import sys

    from locson_analysis import importer, store

    from . import xlsx_builders as xb

    year = "2024-2025"
    folder = tmp_path / "data" / "raw" / year
    folder.mkdir(parents=True)
    xb.write_pupils(folder / "ds.xlsx", [xb.pupil_row(f"HS{i:03d}", cls="6A1")
                                         for i in range(12)])
    (folder / "ghi chep.docx").write_bytes(b"not a workbook")
    db = tmp_path / "data" / "locson.duckdb"
    store.write_year(db, importer.read_year(folder))
    ds = store.load(db)
    assert T.import_warnings(ds, year) == {
        "Tệp trong thư mục năm học không đọc được nên bị bỏ qua": 1}
    gaps = T.gaps_table(ds, ds.pupils.iloc[:0], year).data
    advice = gaps[gaps["Loại"] == "Lưu ý khi nhập"]["Việc cần làm"].iloc[0]
    command = re.search(r"(locson import \S+ --replace --db \S+)", advice).group(1)
    args = shlex.split(command)[1:]
    for _ in range(2):  # works again the second time (the scratch database exists then)
        done = subprocess.run([sys.executable, "-m", "locson_analysis.cli", *args],
                              cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Lưu ý: Bỏ qua tệp «ghi chep.docx»" in done.stdout
    assert store.load(db).imports["import_id"].tolist() == ds.imports["import_id"].tolist()
