"""Property-based tests: whatever table staff produce, read_year returns a YearData or raises
ImportProblems — never another exception — and valid tables survive the trip intact."""

from __future__ import annotations

import csv
import os
import tempfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from locson_analysis import contract as C
from locson_analysis.dataset import YearData
from locson_analysis.errors import ImportProblems
from locson_analysis.importer import read_year

TODAY = date(2025, 6, 15)
#: Modest by default so the suite stays fast; LOCSON_HYPOTHESIS_EXAMPLES=500 for a deeper search.
SETTINGS = settings(max_examples=int(os.environ.get("LOCSON_HYPOTHESIS_EXAMPLES", "40")),
                    deadline=None, suppress_health_check=[HealthCheck.too_slow])

HEADERS = [h for c in C.PUPIL_COLUMNS for h in (c.header, *c.variants[:1])] + [
    "STT", "Họ tên cha", "Địa chỉ", "Nội dung", "Giá trị", "Ngày", "Việc đã làm",
    "Người thực hiện", "Kết quả", "Nữ", "Sở thích"]
VALUES = ["Nam", "Nữ", "Kinh", "K'Ho", "6A1", "9/2", "Lớp 7B", "10A", "Lên lớp", "Bỏ học",
          "Đang học", "Tốt nghiệp", "Giỏi", "Đạt", "CĐ", "TB", "x", "có", "không", "31/02/2012",
          "05/09/2012", "2012-09-05", "abc", "Tổng cộng", "Lộc Sơn, ngày 25 tháng 5 năm 2025",
          "HIỆU TRƯỞNG", "DANH SÁCH HỌC SINH NĂM HỌC 2024-2025", "Số nhà vệ sinh học sinh",
          "Trong đó: vào lớp 6", "-3", "1.500.000", "=SUM(A1:A3)", " ", "\u00a0"]

text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)
cell = st.one_of(
    st.none(), st.sampled_from(VALUES), st.sampled_from(HEADERS), text,
    st.integers(-1000, 100000), st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.datetimes(datetime(1900, 3, 1), datetime(2100, 1, 1)).map(
        lambda d: d.replace(microsecond=0)),
)


@st.composite
def grids(draw: st.DrawFn) -> list[list[object]]:
    """Random rows, sometimes around a real header row (possibly missing some columns)."""
    width = draw(st.integers(1, 9))
    rows = draw(st.lists(st.lists(cell, min_size=0, max_size=width), max_size=12))
    if draw(st.booleans()):
        kind = draw(st.sampled_from(["pupils", "items", "interventions"]))
        if kind == "pupils":
            pool = [c.header for c in C.PUPIL_COLUMNS]
        elif kind == "items":
            pool = ["STT", "Nội dung", "Giá trị", "Ghi chú"]
        else:
            pool = [c.header for c in C.INTERVENTION_COLUMNS]
        header = draw(st.lists(st.sampled_from(pool), min_size=2, max_size=len(pool),
                               unique=True))
        at = draw(st.integers(0, len(rows)))
        rows.insert(at, header)
    return rows


def write_xlsx(path: Path, rows: list[list[object]], sheets: int) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    for i in range(sheets):
        if i:
            ws = wb.create_sheet(f"Trang {i + 1}")
        for r in rows:
            ws.append([("'" + v) if isinstance(v, str) and v.startswith("=") else v for v in r])
    wb.save(path)


def write_csv(path: Path, rows: list[list[object]], sep: str, encoding: str) -> None:
    with open(path, "w", encoding=encoding, errors="replace", newline="") as fh:
        csv.writer(fh, delimiter=sep).writerows([["" if v is None else v for v in r]
                                                 for r in rows])


@SETTINGS
@given(rows=grids(), fmt=st.sampled_from(["xlsx", "csv"]), sheets=st.integers(1, 2),
       sep=st.sampled_from([",", ";"]), encoding=st.sampled_from(["utf-8", "utf-8-sig",
                                                                   "cp1252"]),
       year=st.sampled_from([None, "2024-2025"]))
def test_any_table_gives_yeardata_or_import_problems(rows: list[list[object]], fmt: str,
                                                     sheets: int, sep: str, encoding: str,
                                                     year: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"bang.{fmt}"
        if fmt == "xlsx":
            write_xlsx(path, rows, sheets)
        else:
            write_csv(path, rows, sep, encoding)
        try:
            result = read_year(path, school_year=year, today=TODAY)
        except ImportProblems as exc:
            assert exc.problems
            assert all(p.file and p.message for p in exc.problems)
            str(exc)  # renders
            return
        assert isinstance(result, YearData)
        assert result.kinds()
        for kind in result.kinds():
            df = getattr(result, kind)
            assert df["source_row"].notna().all()


@SETTINGS
@given(data=st.binary(max_size=300), suffix=st.sampled_from([".xlsx", ".csv", ".xlsm"]))
def test_random_bytes_never_crash(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"2024-2025{suffix}"
        path.write_bytes(data)
        try:
            read_year(path, today=TODAY)
        except ImportProblems as exc:
            assert exc.problems


PUPIL_HEADERS = ["STT", "Mã học sinh", "Họ và tên", "Ngày sinh", "Giới tính", "Dân tộc", "Lớp",
                 "Họ tên cha", "Số buổi nghỉ HK1", "Hộ nghèo", "Kết quả cuối năm"]


@st.composite
def valid_pupils(draw: st.DrawFn) -> list[dict[str, object]]:
    n = draw(st.integers(1, 15))
    out = []
    for i in range(n):
        grade = draw(st.integers(6, 9))
        age = draw(st.integers(grade + 4, grade + 9))
        birth = date(2024 - age, draw(st.integers(1, 12)), draw(st.integers(1, 28)))
        out.append({
            "id": f"HS{i:04d}", "grade": grade, "birth": birth,
            "sex": draw(st.sampled_from(["Nam", "Nữ", "NAM", "nu"])),
            "class": f"{grade}{draw(st.sampled_from(['A1', 'A2', '/1', 'B']))}",
            "absences": draw(st.integers(0, 200)),
            "poor": draw(st.booleans()),
            "outcome": "Tốt nghiệp" if grade == 9 else draw(st.sampled_from(["Lên lớp",
                                                                                "Lưu ban"])),
            "birth_as_text": draw(st.booleans()),
        })
    return out


@SETTINGS
@given(pupils=valid_pupils(), junk_after=st.lists(st.lists(cell, max_size=2), max_size=4),
       titles=st.integers(0, 6), number_row=st.booleans())
def test_valid_pupils_survive_the_trip(pupils: list[dict[str, object]],
                                       junk_after: list[list[object]], titles: int,
                                       number_row: bool) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    for t in range(titles):
        ws.append(["DANH SÁCH HỌC SINH NĂM HỌC 2024-2025" if t == titles - 1 else
                   "TRƯỜNG THCS LỘC SƠN"])
    ws.append(PUPIL_HEADERS)
    if number_row:
        ws.append(list(range(1, len(PUPIL_HEADERS) + 1)))
    first = ws.max_row + 1
    for n, p in enumerate(pupils, 1):
        b = p["birth"]
        ws.append([n, p["id"], f"Học sinh {n}", b.strftime("%d/%m/%Y") if p["birth_as_text"]
                   else datetime(b.year, b.month, b.day), p["sex"], "Kinh", p["class"],
                   "Nguyễn Văn Cha", p["absences"], "x" if p["poor"] else None, p["outcome"]])
    ws.append(["Tổng cộng", None, len(pupils)])
    ws.append([None, None, None, None, "Lộc Sơn, ngày 25 tháng 5 năm 2025"])
    # Signatures and notes below the footer (a dense row there would be reported instead).
    for r in junk_after:
        ws.append([("'" + v) if isinstance(v, str) and v.startswith("=") else v for v in r])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "2024-2025.xlsx"
        wb.save(path)
        y = read_year(path, today=TODAY)
    df = y.pupils
    assert df["pupil_id"].tolist() == [p["id"] for p in pupils]
    assert df["grade"].tolist() == [p["grade"] for p in pupils]
    assert [d.date() for d in df["birth_date"]] == [p["birth"] for p in pupils]
    assert df["sex"].tolist() == ["M" if C.fold(p["sex"]) == "nam" else "F" for p in pupils]
    assert df["absences_s1"].tolist() == [p["absences"] for p in pupils]
    assert df["poor"].tolist() == [p["poor"] for p in pupils]
    assert df["source_row"].tolist() == list(range(first, first + len(pupils)))
    assert "Nguyễn Văn Cha" not in df.to_string()


BAD_CELLS = {
    "Ngày sinh": ["31/02/2012", "abc", "2012", "05/09/2030"],
    "Giới tính": ["Khác", "?"],
    "Số buổi nghỉ HK1": ["nhiều", "2,5", -1, 201],
    "Kết quả cuối năm": ["Đi du học", None],
    "Mã học sinh": [None],
    "Lớp": ["10A", "5B"],
}


@SETTINGS
@given(pupils=valid_pupils(), data=st.data())
def test_one_bad_cell_is_reported_at_its_row_and_column(pupils: list[dict[str, object]],
                                                        data: st.DataObject) -> None:
    target = data.draw(st.integers(0, len(pupils) - 1))
    header = data.draw(st.sampled_from(sorted(BAD_CELLS)))
    bad = data.draw(st.sampled_from(BAD_CELLS[header]))
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["DANH SÁCH HỌC SINH NĂM HỌC 2024-2025"])
    ws.append(PUPIL_HEADERS)
    for n, p in enumerate(pupils, 1):
        row = {"STT": n, "Mã học sinh": p["id"], "Họ và tên": f"Học sinh {n}",
               "Ngày sinh": p["birth"].strftime("%d/%m/%Y"), "Giới tính": p["sex"],
               "Dân tộc": "Kinh", "Lớp": p["class"], "Số buổi nghỉ HK1": p["absences"],
               "Kết quả cuối năm": p["outcome"]}
        if n - 1 == target:
            row[header] = bad
        ws.append([row.get(h) for h in PUPIL_HEADERS])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "2024-2025.xlsx"
        wb.save(path)
        try:
            read_year(path, today=TODAY)
        except ImportProblems as exc:
            problems = exc.problems
        else:
            raise AssertionError(f"{header}={bad!r} at pupil {target} was accepted")
    excel_row = 3 + target
    assert any(p.row == excel_row and p.column == header for p in problems), \
        [str(p) for p in problems]
    # Problems elsewhere only where the bad cell legitimately affects another rule.
    assert all(p.row == excel_row for p in problems)
