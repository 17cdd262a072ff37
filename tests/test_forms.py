"""`locson template`: the forms staff fill in import as they are; empty forms are refused."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from locson_analysis import config, forms, store
from locson_analysis.cli import main
from locson_analysis.contract import POPULATION_ITEMS, SCHOOL_ITEMS
from locson_analysis.errors import ImportProblems, LocsonError
from locson_analysis.importer import read_year
from tests.store_builders import pupil, year_data

YEAR = "2026-2027"
TODAY = date(2026, 11, 20)  # the new year is under way


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    """A database holding the previous year: six pupils, every kind of outcome."""
    path = tmp_path / "t.duckdb"
    rows = [
        pupil("P01", 6, full_name="Nguyễn Văn An", birth_date="2014-02-01"),
        pupil("P02", 6, "repeating", full_name="Ka Thị Bình", birth_date="2014-05-06", sex="F",
              ethnicity="K'Ho", poor=True),
        pupil("P03", 8, full_name="Trần Văn Cường", birth_date="2012-01-09", can_swim=True),
        pupil("P04", 9, "completed", full_name="Lê Thị Dung", birth_date="2011-03-03", sex="F"),
        pupil("P05", 9, "not_completed", full_name="Phạm Văn Em", birth_date="2011-07-07"),
        pupil("P06", 7, "dropped_out", full_name="Hoàng Văn Phú", birth_date="2013-04-04",
              leave_date="2026-01-10"),
        pupil("P07", 8, "transferred_out", full_name="Đỗ Thị Giang", birth_date="2012-06-06",
              sex="F", leave_date="2026-02-10"),
    ]
    store.write_year(path, year_data("2025-2026", rows, school={
        "toilets": 8.0, "toilets_hygienic": 6.0, "clean_water": 1.0,
        "policy_support_amount": 15_500_000.0}))
    return path


def _templates(tmp_path: Path, db: Path) -> dict[str, Path]:
    written, notes = forms.write_templates(YEAR, tmp_path / "mau", db=db)
    assert notes == []
    return {w.kind: w.path for w in written}


def _rows_by_label(ws: openpyxl.worksheet.worksheet.Worksheet) -> dict[str, int]:
    return {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)
            if isinstance(ws.cell(r, 1).value, str)}


def _header_row(ws: openpyxl.worksheet.worksheet.Worksheet, first: str) -> int:
    return next(r for r in range(1, 30) if ws.cell(r, 1).value == first)


def test_every_form_is_written_with_titles_and_signatures(tmp_path: Path, db: Path) -> None:
    paths = _templates(tmp_path, db)
    assert set(paths) == {"school", "population", "interventions", "pupils"}
    for kind, path in paths.items():
        wb = openpyxl.load_workbook(path)
        ws = wb.worksheets[0]
        texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
        assert "TRƯỜNG THCS LỘC SƠN" in texts, kind
        assert any(t.startswith("Lộc Sơn, ngày") for t in texts), kind
        assert "HIỆU TRƯỞNG" in texts and "Người lập biểu" in texts, kind
        assert any(YEAR in t for t in texts), kind


def test_no_formula_no_macro_and_no_text_read_as_formula(tmp_path: Path, db: Path) -> None:
    for path in _templates(tmp_path, db).values():
        assert path.suffix == ".xlsx"
        wb = openpyxl.load_workbook(path)
        assert wb.vba_archive is None
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    assert c.data_type != "f", (path.name, c.coordinate)
                    if isinstance(c.value, str):
                        assert not c.value.startswith(("=", "+", "-", "@")), c.value
            for dv in ws.data_validations.dataValidation:
                assert dv.type in ("list", "whole", "decimal", "date")
                assert dv.formula1 and "(" not in dv.formula1  # values, not formulas


def test_items_form_lists_every_item_with_validation_and_last_year(tmp_path: Path,
                                                                  db: Path) -> None:
    ws = openpyxl.load_workbook(_templates(tmp_path, db)["school"]).worksheets[0]
    rows = _rows_by_label(ws)
    for item in SCHOOL_ITEMS:
        r = rows[item.label]
        assert ws.cell(r, 2).value is None  # «Giá trị» left to fill
        assert ws.cell(r, 3).value == forms.ITEM_NOTES[item.key]
    header = _header_row(ws, "Nội dung")
    assert [ws.cell(header, j).value for j in range(1, 5)] == [
        "Nội dung", "Giá trị", forms.GUIDE_HEADER, forms.REFERENCE_HEADER]
    assert ws.cell(rows["Số nhà vệ sinh học sinh"], 4).value == 8
    assert ws.cell(rows["Có nước sạch"], 4).value == "Có"
    assert ws.cell(rows["Tổng kinh phí hỗ trợ (đồng)"], 4).value == 15_500_000
    assert ws.cell(rows["Số vụ bạo lực học đường"], 4).value is None  # not in the database
    assert ws.cell(rows["Có nước sạch"], 4).fill.fgColor.rgb.endswith("D9D9D9")
    kinds = {}
    for dv in ws.data_validations.dataValidation:
        for cell in str(dv.sqref).split():
            kinds[ws[cell].row] = (dv.type, dv.formula1)
    assert kinds[rows["Có nước sạch"]] == ("list", '"Có,Không"')
    assert kinds[rows["Số nhà vệ sinh học sinh"]] == ("whole", "0")


def _fill_items(path: Path, values: dict[str, object]) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    rows = _rows_by_label(ws)
    for label, v in values.items():
        ws.cell(rows[label], 2, v)
    wb.save(path)


def test_filled_items_forms_import_with_the_numbers_written(tmp_path: Path, db: Path) -> None:
    paths = _templates(tmp_path, db)
    school = {i.label: n for n, i in enumerate(SCHOOL_ITEMS, 3)}
    school["Có nước sạch"] = "Có"
    school["Có dịch vụ hỗ trợ tâm lý"] = "Không"
    school["Trong đó: đạt chuẩn hợp vệ sinh"] = 2  # ≤ toilets (3)
    school["Số đơn thư, kiến nghị đã giải quyết"] = 1
    school["Tổng kinh phí hỗ trợ (đồng)"] = 12_345_000
    _fill_items(paths["school"], school)
    _fill_items(paths["population"], {"Số trẻ 11 tuổi trên địa bàn": 200,
                                      "Trong đó: vào lớp 6": 196,
                                      "Số trẻ 11–14 tuổi trên địa bàn": 810,
                                      "Trong đó: đang đi học": 790})
    folder = tmp_path / "raw" / YEAR
    folder.mkdir(parents=True)
    for k in ("school", "population"):
        shutil.copy(paths[k], folder)
    y = read_year(folder, today=date(2027, 6, 1))
    got = dict(zip(y.school["item"], y.school["value"], strict=True))
    assert got["toilets"] == 3 and got["toilets_hygienic"] == 2
    assert got["clean_water"] == 1.0 and got["psych_service"] == 0.0
    assert got["policy_support_amount"] == 12_345_000
    assert got["violence_incidents"] == school["Số vụ bạo lực học đường"]
    assert len(got) == len(SCHOOL_ITEMS)
    pop = dict(zip(y.population["item"], y.population["value"], strict=True))
    assert pop == {"pop_age11": 200, "pop_age11_in_grade6": 196, "pop_age11_14": 810,
                   "pop_age11_14_in_school": 790}
    assert len(pop) == len(POPULATION_ITEMS)
    assert y.school_code == "LOCSON" and y.school_year == YEAR


def test_empty_forms_are_refused_naming_the_empty_items(tmp_path: Path, db: Path) -> None:
    paths = _templates(tmp_path, db)
    folder = tmp_path / "raw" / YEAR
    folder.mkdir(parents=True)
    for k in ("school", "population", "interventions"):
        shutil.copy(paths[k], folder)
    with pytest.raises(ImportProblems) as exc:
        read_year(folder, today=date(2027, 6, 1))
    problems = exc.value.problems
    by_file: dict[str, list[str]] = {}
    for p in problems:
        by_file.setdefault(p.file, []).append(p.message)
    school = by_file[paths["school"].name]
    for item in SCHOOL_ITEMS:
        assert any(f"«{item.label}» để trống" in m for m in school), item.label
    assert len(by_file[paths["population"].name]) == len(POPULATION_ITEMS)
    assert any("không có dòng dữ liệu" in m for m in by_file[paths["interventions"].name])
    assert not any("cấu trúc" in p.message for p in problems)  # no internal error shown


def test_filled_intervention_log_imports(tmp_path: Path, db: Path) -> None:
    path = _templates(tmp_path, db)["interventions"]
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    header = _header_row(ws, "Ngày")
    assert [ws.cell(header, j).value for j in range(1, 6)] == [
        "Ngày", "Mã học sinh", "Việc đã làm", "Người thực hiện", "Kết quả"]
    (dv,) = [d for d in ws.data_validations.dataValidation if d.type == "date"]
    assert (int(dv.formula1), int(dv.formula2)) == (forms._serial(date(2026, 8, 1)),
                                                    forms._serial(date(2027, 7, 31)))
    ws.cell(header + 1, 1, datetime(2026, 10, 5))
    ws.cell(header + 1, 2, "P01")
    ws.cell(header + 1, 3, "Gặp phụ huynh")
    ws.cell(header + 2, 1, datetime(2026, 11, 2))
    ws.cell(header + 2, 2, "P03")
    ws.cell(header + 2, 3, "Thăm gia đình")
    ws.cell(header + 2, 4, "GVCN 9A1")
    wb.save(path)
    y = read_year(path, school_year=YEAR, today=TODAY)
    log = y.interventions
    assert list(log["pupil_id"]) == ["P01", "P03"]
    assert list(log["action_date"].dt.date) == [date(2026, 10, 5), date(2026, 11, 2)]
    assert log["staff"].iloc[1] == "GVCN 9A1"


def _pupil_sheet(path: Path) -> tuple[openpyxl.Workbook, object, int, dict[str, int]]:
    wb = openpyxl.load_workbook(path)
    ws = wb["DSHS"]
    header = _header_row(ws, "STT")
    cols = {ws.cell(header, j).value: j for j in range(1, ws.max_column + 1)}
    return wb, ws, header, cols


def test_pupil_list_carries_over_the_pupils_expected_back(tmp_path: Path, db: Path) -> None:
    path = _templates(tmp_path, db)["pupils"]
    wb, ws, header, cols = _pupil_sheet(path)
    titles = [ws.cell(r, 1).value for r in range(1, header)]
    assert forms.INTERNAL_LINE in titles
    rows = {ws.cell(r, cols["Mã học sinh"]).value: r
            for r in range(header + 1, ws.max_row + 1) if ws.cell(r, cols["Mã học sinh"]).value}
    assert set(rows) == {"P01", "P02", "P03", "P05"}  # promoted, repeating, not completed
    grade = {pid: ws.cell(r, cols["Khối"]).value for pid, r in rows.items()}
    assert grade == {"P01": 7, "P02": 6, "P03": 9, "P05": 9}
    r2 = rows["P02"]
    assert ws.cell(r2, cols["Họ và tên"]).value == "Ka Thị Bình"
    assert ws.cell(r2, cols["Ngày sinh"]).value == datetime(2014, 5, 6)
    assert ws.cell(r2, cols["Giới tính"]).value == "Nữ"
    assert ws.cell(r2, cols["Dân tộc"]).value == "K'Ho"
    assert ws.cell(r2, cols["Hộ nghèo"]).value == "x"
    for empty in ("Lớp", "Ngày vào trường", "Kết quả cuối năm", "Kết quả học tập cả năm"):
        assert all(ws.cell(r, cols[empty]).value is None for r in rows.values()), empty
    assert ws.cell(r2, cols[forms.REFERENCE_HEADER]).value == "Lớp 6A1: Ở lại lớp"
    gone = wb["Không học tiếp"]
    ids = {gone.cell(r, 2).value for r in range(1, gone.max_row + 1)}
    assert {"P04", "P06", "P07"} <= ids and "P01" not in ids
    lists = {ws.cell(header, next(iter(dv.sqref.ranges)).min_col).value: dv.formula1
             for dv in ws.data_validations.dataValidation if dv.type == "list"}
    assert lists["Giới tính"] == '"Nam,Nữ"'
    assert lists["Kết quả học tập cả năm"] == '"Tốt,Khá,Đạt,Chưa đạt"'  # TT22 in 2026-2027
    assert "Hoàn thành chương trình THCS" in lists["Kết quả cuối năm"]


def test_filled_pupil_list_imports_and_the_check_sheet_is_not_read(tmp_path: Path,
                                                                   db: Path) -> None:
    path = _templates(tmp_path, db)["pupils"]
    wb, ws, header, cols = _pupil_sheet(path)
    r = header + 1
    while ws.cell(r, cols["Mã học sinh"]).value:
        ws.cell(r, cols["Lớp"], f"{ws.cell(r, cols['Khối']).value}A1")
        ws.cell(r, cols["Kết quả cuối năm"], "Đang học")
        r += 1
    # a new pupil in the first empty row
    for name, v in {"Mã học sinh": "N01", "Họ và tên": "Võ Thị Hoa",
                    "Ngày sinh": datetime(2015, 1, 2), "Giới tính": "Nữ", "Dân tộc": "Kinh",
                    "Khối": 6, "Lớp": "6A1", "Kết quả cuối năm": "Đang học"}.items():
        ws.cell(r, cols[name], v)
    wb.save(path)
    y = read_year(path, school_year=YEAR, today=TODAY)
    p = y.pupils.set_index("pupil_id")
    assert sorted(p.index) == ["N01", "P01", "P02", "P03", "P05"]
    assert p.loc["P01", "grade"] == 7 and p.loc["P05", "grade"] == 9
    assert p.loc["P02", "poor"] and not p.loc["P01", "poor"]
    assert p.loc["P02", "birth_date"] == datetime(2014, 5, 6)
    assert set(p["outcome"]) == {"in_progress"}
    assert any("Không học tiếp" in n and "bỏ qua" in n for n in y.notes)


def test_unfilled_pupil_list_is_refused_naming_the_empty_cells(tmp_path: Path,
                                                               db: Path) -> None:
    path = _templates(tmp_path, db)["pupils"]
    with pytest.raises(ImportProblems) as exc:
        read_year(path, school_year=YEAR, today=TODAY)
    text = exc.value.render()
    assert "Lớp" in text and "Kết quả cuối năm" in text


def test_no_pupil_list_without_last_year_and_never_under_outputs(tmp_path: Path) -> None:
    written, notes = forms.write_templates(YEAR, tmp_path / "mau", db=tmp_path / "none.duckdb")
    assert {w.kind for w in written} == {"school", "population", "interventions"}
    assert notes and "Chưa có cơ sở dữ liệu" in notes[0]
    with pytest.raises(LocsonError, match="outputs"):
        forms.write_templates(YEAR, config.OUTPUTS_DIR / "mau", db=tmp_path / "none.duckdb")
    assert not (config.OUTPUTS_DIR / "mau").exists()


def test_previous_year_in_progress_gives_no_pupil_list(tmp_path: Path) -> None:
    path = tmp_path / "t.duckdb"
    store.write_year(path, year_data("2025-2026", [pupil("P01", 6, "in_progress")]))
    written, notes = forms.write_templates(YEAR, tmp_path / "mau", db=path)
    assert "pupils" not in {w.kind for w in written}
    assert any("Đang học" in n for n in notes)


def test_cli_template_command(tmp_path: Path, db: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "cli"
    assert main(["template", "--year", YEAR, "--out", str(out), "--db", str(db)]) == 0
    printed = capsys.readouterr().out
    assert len(list(out.glob("*.xlsx"))) == 4
    assert "NỘI BỘ" in printed
    assert main(["template", "--year", "2026", "--out", str(out), "--db", str(db)]) == 1
    assert "2026-2027" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")
def test_forms_open_in_libreoffice(tmp_path: Path, db: Path) -> None:
    """LibreOffice converts a form to .ods, and the reader reads the result."""
    path = _templates(tmp_path, db)["school"]
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                    "--headless", "--convert-to", "ods", "--outdir", str(tmp_path),
                    str(path)], check=True, capture_output=True, timeout=120)
    ods = tmp_path / (path.stem + ".ods")
    _ = ods.stat()
    with pytest.raises(ImportProblems) as exc:  # still empty: refused, items named
        read_year(ods, school_year=YEAR, today=TODAY)
    assert any("«Có nước sạch» để trống" in p.message for p in exc.value.problems)


def test_forms_of_another_school_import_for_that_school(tmp_path: Path) -> None:
    written, _ = forms.write_templates(YEAR, tmp_path / "mau", school_code="LOCPHAT",
                                       db=tmp_path / "none.duckdb")
    path = {w.kind: w.path for w in written}["population"]
    _fill_items(path, {"Số trẻ 11 tuổi trên địa bàn": 150, "Trong đó: vào lớp 6": 149})
    y = read_year(path, school_year=YEAR, today=TODAY)
    assert y.school_code == "LOCPHAT"
    assert dict(zip(y.population["item"], y.population["value"], strict=True)) == {
        "pop_age11": 150, "pop_age11_in_grade6": 149}
    with pytest.raises(LocsonError, match="KHONGCO"):
        forms.write_templates(YEAR, tmp_path / "x", school_code="KHONGCO",
                              db=tmp_path / "none.duckdb")
    assert not (tmp_path / "x").exists()
