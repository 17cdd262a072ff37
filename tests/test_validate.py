"""Validation: each kind of error is located (file, sheet, Excel row, header as written, value)
and every problem of every file comes back at once."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from locson_analysis.errors import ImportProblems, Problem
from locson_analysis.importer import read_year
from tests.xlsx_builders import (
    MOET_PUPIL_HEADERS,
    POPULATION_ROWS,
    SCHOOL_ROWS,
    pupil_row,
    write_interventions,
    write_items,
    write_pupils,
    write_table,
)

TODAY = date(2025, 6, 15)
FILE = "ds.xlsx"
SHEET = "DSHS"
FIRST = 8  # Excel row of the first pupil (title rows, header on 6, column numbers on 7)


def base_rows() -> list[dict[str, object]]:
    return [
        pupil_row("HS1", cls="6A1", birth=datetime(2013, 3, 5)),
        pupil_row("HS2", "Trần Thị B", datetime(2012, 9, 5), "Nữ", cls="7A1"),
        pupil_row("HS3", "Lê Văn C", datetime(2011, 1, 9), cls="8A1"),
        pupil_row("HS4", "Phạm Thị D", datetime(2010, 12, 1), "Nữ", cls="9A1",
                  outcome="Hoàn thành chương trình THCS"),
    ]


def run(tmp_path: Path, rows: list[dict[str, object]], today: date = TODAY,
        **kw: object) -> list[Problem]:
    d = tmp_path / "2024-2025"
    d.mkdir(exist_ok=True)
    write_pupils(d / FILE, rows, **kw)
    with pytest.raises(ImportProblems) as exc:
        read_year(d, today=today)
    return exc.value.problems


def one(problems: list[Problem], fragment: str) -> Problem:
    found = [p for p in problems if fragment in p.message]
    assert len(found) == 1, [str(p) for p in problems]
    return found[0]


def test_base_rows_are_valid(tmp_path: Path) -> None:
    d = tmp_path / "2024-2025"
    d.mkdir()
    write_pupils(d / FILE, base_rows())
    y = read_year(d, today=TODAY)
    assert len(y.pupils) == 4


def with_(i: int, **changes: object) -> list[dict[str, object]]:
    rows = base_rows()
    rows[i].update(changes)
    return rows


@pytest.mark.parametrize("header, value, fragment", [
    ("Ngày sinh", "31/02/2012", "ngày không có thật"),
    ("Ngày sinh", "abc", "không phải ngày tháng"),
    ("Số buổi nghỉ học kỳ I", "abc", "không phải số nguyên"),
    ("Giới tính", "Khác", "giới tính phải là «Nam» hoặc «Nữ»"),
    ("Kết quả học tập cả năm", "Xuất sắc", "cần một trong"),
    ("Kết quả cuối năm", "Đi du học", "cần một trong: Lên lớp"),
    ("Hộ nghèo", "có lẽ", "cần «x» hoặc «có»"),
])
def test_unreadable_values(tmp_path: Path, header: str, value: str, fragment: str) -> None:
    p = one(run(tmp_path, with_(1, **{header: value})), fragment)
    assert (p.file, p.sheet, p.row, p.column, p.value) == (FILE, SHEET, FIRST + 1, header, value)
    text = str(p)
    assert all(s in text for s in (FILE, SHEET, f"dòng {FIRST + 1}", header, value))


def test_grade_ten_is_an_error(tmp_path: Path) -> None:
    rows = with_(2, **{"Mã lớp": "10A1"})
    p = one(run(tmp_path, rows), "khối phải là 6, 7, 8 hoặc 9")
    assert (p.row, p.column, p.value) == (FIRST + 2, "Mã lớp", "10A1")
    assert p.message.startswith("lớp thuộc khối 10;")


def test_grade_ten_in_a_grade_column(tmp_path: Path) -> None:
    headers = [*MOET_PUPIL_HEADERS, "Khối"]
    rows = base_rows()
    for r in rows:
        r["Khối"] = int(str(r["Mã lớp"])[0])
    rows[1].update({"Khối": 10, "Mã lớp": "10A"})
    p = one(run(tmp_path, rows, headers=headers), "khối phải là 6, 7, 8 hoặc 9")
    assert (p.row, p.column, p.value) == (FIRST + 1, "Khối", 10)


def test_grade_column_disagreeing_with_class(tmp_path: Path) -> None:
    headers = [*MOET_PUPIL_HEADERS, "Khối"]
    rows = base_rows()
    for r in rows:
        r["Khối"] = int(str(r["Mã lớp"])[0])
    rows[0]["Khối"] = 7
    p = one(run(tmp_path, rows, headers=headers), "không khớp với lớp «6A1»")
    assert (p.row, p.column, p.value) == (FIRST, "Khối", 7)


def test_blank_required_cell(tmp_path: Path) -> None:
    p = one(run(tmp_path, with_(3, **{"Dân tộc": None})), "ô bỏ trống")
    assert (p.row, p.column) == (FIRST + 3, "Dân tộc")


def test_missing_required_column_names_header_and_variants(tmp_path: Path) -> None:
    headers = [h for h in MOET_PUPIL_HEADERS if h != "Dân tộc"]
    problems = run(tmp_path, base_rows(), headers=headers)
    assert len(problems) == 1  # not one more per row
    p = problems[0]
    assert (p.file, p.sheet, p.row) == (FILE, SHEET, None)
    assert p.message.startswith("thiếu cột bắt buộc «Dân tộc»")


def test_missing_pupil_id_column_lists_accepted_spellings(tmp_path: Path) -> None:
    headers = [h for h in MOET_PUPIL_HEADERS if not h.startswith("Mã định danh")]
    p = one(run(tmp_path, base_rows(), headers=headers), "thiếu cột bắt buộc «Mã học sinh»")
    assert "«Mã HS»" in p.message and "«Mã định danh Bộ GD&ĐT»" in p.message


def test_duplicate_pupil_id_names_both_rows(tmp_path: Path) -> None:
    p = one(run(tmp_path, with_(3, **{"Mã định danh Bộ GD&ĐT (trên CSDL ngành)": "HS2"})),
            "mã học sinh bị trùng")
    assert (p.row, p.value) == (FIRST + 3, "HS2")
    assert f"dòng {FIRST + 1}" in p.message and FILE in p.message
    assert p.column == "Mã định danh Bộ GD&ĐT (trên CSDL ngành)"


def test_future_dates(tmp_path: Path) -> None:
    problems = run(tmp_path, with_(0, **{"Ngày sinh": "01/01/2026"}))
    p = one(problems, "ngày ở tương lai (hôm nay là 15/06/2025)")
    assert (p.row, p.column, p.value) == (FIRST, "Ngày sinh", "01/01/2026")


def test_birth_year_implausible(tmp_path: Path) -> None:
    p = one(run(tmp_path, with_(0, **{"Ngày sinh": "01/01/1985"})), "năm sinh 1985 không hợp lý")
    assert (p.row, p.column) == (FIRST, "Ngày sinh")


@pytest.mark.parametrize("birth, grade_row, ok", [
    # age = 2024 − birth year; grade 6 allows 10..15, grade 9 allows 13..18
    (datetime(2014, 1, 1), 0, True), (datetime(2009, 1, 1), 0, True),
    (datetime(2015, 1, 1), 0, False), (datetime(2008, 1, 1), 0, False),
    (datetime(2011, 1, 1), 3, True), (datetime(2006, 1, 1), 3, True),
    (datetime(2005, 1, 1), 3, False), (datetime(1994, 1, 1), 3, False),
])
def test_age_for_grade(tmp_path: Path, birth: datetime, grade_row: int, ok: bool) -> None:
    d = tmp_path / "2024-2025"
    d.mkdir()
    write_pupils(d / FILE, with_(grade_row, **{"Ngày sinh": birth}))
    if ok:
        read_year(d, today=TODAY)
        return
    with pytest.raises(ImportProblems) as exc:
        read_year(d, today=TODAY)
    p = next(p for p in exc.value.problems if "không hợp lý" in p.message)
    assert (p.row, p.column) == (FIRST + grade_row, "Ngày sinh")


def test_pupil_aged_thirty(tmp_path: Path) -> None:
    p = one(run(tmp_path, with_(1, **{"Ngày sinh": "05/05/1994"})), "tuổi 30")
    assert "khối 7" in p.message and "từ 11 đến 16" in p.message


def test_entry_and_leave_dates_inside_school_year(tmp_path: Path) -> None:
    extra = ["Ngày chuyển đến"]
    rows = with_(0, **{"Ngày chuyển đến": "15/07/2024"})
    rows[1].update({"Kết quả cuối năm": "Chuyển đi", "Ngày nghỉ học": "02/08/2025"})
    problems = run(tmp_path, rows, headers=[*MOET_PUPIL_HEADERS, *extra])
    p = [x for x in problems if "ngoài năm học 2024-2025" in x.message]
    assert [(x.row, x.column, x.value) for x in p] == [
        (FIRST, "Ngày chuyển đến", "15/07/2024"), (FIRST + 1, "Ngày nghỉ học", "02/08/2025")]
    assert "từ 01/08/2024 đến 31/07/2025" in p[0].message


def test_outcome_against_grade(tmp_path: Path) -> None:
    rows = with_(0, **{"Kết quả cuối năm": "Tốt nghiệp"})
    rows[3]["Kết quả cuối năm"] = "Lên lớp"
    problems = run(tmp_path, rows)
    a = one(problems, "chỉ dùng cho học sinh lớp 9")
    b = one(problems, "học sinh lớp 9 không «Lên lớp»")
    assert (a.row, a.column, a.value) == (FIRST, "Kết quả cuối năm",
                                          "Hoàn thành chương trình THCS")
    assert (b.row, b.value) == (FIRST + 3, "Lên lớp")


def test_in_progress_mixed_with_final_outcomes(tmp_path: Path) -> None:
    problems = run(tmp_path, with_(2, **{"Kết quả cuối năm": "Đang học"}))
    p = one(problems, "năm học đã kết thúc")
    assert (p.row, p.value) == (FIRST + 2, "Đang học")


def test_in_progress_year_is_valid_with_leavers(tmp_path: Path) -> None:
    rows = base_rows()
    for r in rows:
        r.update({"Kết quả cuối năm": "Đang học", "Kết quả học tập cả năm": None,
                  "Kết quả rèn luyện cả năm": None})
    rows[1].update({"Kết quả cuối năm": "Bỏ học", "Ngày nghỉ học": "10/11/2024"})
    d = tmp_path / "2024-2025"
    d.mkdir()
    write_pupils(d / FILE, rows)
    y = read_year(d, today=date(2024, 12, 20))
    assert y.pupils["outcome"].tolist() == ["in_progress", "dropped_out", "in_progress",
                                            "in_progress"]


def test_final_outcomes_before_the_year_ends(tmp_path: Path) -> None:
    problems = run(tmp_path, base_rows(), today=date(2024, 11, 20))
    p = one(problems, "năm học 2024-2025 chưa kết thúc (hôm nay là 20/11/2024)")
    assert (p.row, p.column, p.value) == (FIRST, "Kết quả cuối năm", "Lên lớp")
    assert "4 học sinh" in p.message
    assert len(problems) == 1


def test_mid_year_list_imported_after_the_year_is_noted(tmp_path: Path) -> None:
    rows = base_rows()
    for r in rows:
        r["Kết quả cuối năm"] = "Đang học"
    d = tmp_path / "2024-2025"
    d.mkdir()
    write_pupils(d / FILE, rows)
    assert not any("đã kết thúc" in n for n in read_year(d, today=date(2025, 3, 1)).notes)
    notes = read_year(d, today=date(2025, 9, 1)).notes
    assert any("năm học 2024-2025 đã kết thúc nhưng danh sách vẫn ghi «Đang học»" in n
               for n in notes)


def test_leave_date_and_outcome_must_agree(tmp_path: Path) -> None:
    rows = with_(1, **{"Kết quả cuối năm": "Bỏ học"})
    rows[2]["Ngày nghỉ học"] = "01/03/2025"
    problems = run(tmp_path, rows)
    a = one(problems, "phải có ngày nghỉ")
    b = one(problems, "có ngày nghỉ nhưng kết quả cuối năm là «Lên lớp»")
    assert (a.row, a.column) == (FIRST + 1, "Ngày nghỉ học")
    assert (b.row, b.column, b.value) == (FIRST + 2, "Ngày nghỉ học", "01/03/2025")


@pytest.mark.parametrize("value, ok", [(0, True), (200, True), (201, False), (-1, False)])
def test_absences_range(tmp_path: Path, value: int, ok: bool) -> None:
    rows = with_(0, **{"Số buổi nghỉ học kỳ II": value})
    d = tmp_path / "2024-2025"
    d.mkdir()
    write_pupils(d / FILE, rows)
    if ok:
        assert read_year(d, today=TODAY).pupils.loc[0, "absences_s2"] == value
        return
    with pytest.raises(ImportProblems) as exc:
        read_year(d, today=TODAY)
    p = one(exc.value.problems, "số buổi nghỉ phải từ 0 đến 200")
    assert (p.row, p.column, p.value) == (FIRST, "Số buổi nghỉ học kỳ II", value)


def test_scales_mixed_within_a_grade_and_within_a_pupil(tmp_path: Path) -> None:
    rows = base_rows()
    rows.append(pupil_row("HS5", "E", datetime(2013, 1, 1), cls="6A2",
                          **{"Kết quả học tập cả năm": "Đạt"}))
    rows.append(pupil_row("HS6", "F", datetime(2013, 1, 1), cls="6A2",
                          **{"Kết quả học tập cả năm": "Đạt"}))
    rows[0]["Kết quả học tập cả năm"] = "Giỏi"
    rows[1].update({"Kết quả học tập HK1": "Trung bình", "Kết quả học tập cả năm": "Đạt"})
    problems = run(tmp_path, rows)
    a = one(problems, "khối 6 trộn hai thang đánh giá")
    assert (a.row, a.column, a.value) == (FIRST, "Kết quả học tập cả năm", "Giỏi")
    b = one(problems, "một học sinh dùng lẫn hai thang đánh giá")
    assert (b.row, b.column, b.value) == (FIRST + 1, "Kết quả học tập HK1", "Trung bình")


def test_all_problems_of_all_files_at_once(tmp_path: Path) -> None:
    d = tmp_path / "2024-2025"
    d.mkdir()
    rows = with_(0, **{"Ngày sinh": "31/02/2013"})
    rows[1]["Mã lớp"] = "10A"
    rows[2]["Số buổi nghỉ học kỳ I"] = "nhiều"
    write_pupils(d / FILE, rows)
    write_items(d / "so lieu.xlsx", [("Số nhà vệ sinh học sinh", 6),
                                     ("Trong đó: đạt chuẩn hợp vệ sinh", 8),
                                     ("Số con mèo", 3)])
    (d / "rong.csv").write_bytes(b"")
    with pytest.raises(ImportProblems) as exc:
        read_year(d, today=TODAY)
    got = [(p.file, p.row) for p in exc.value.problems]
    assert got == [(FILE, FIRST), (FILE, FIRST + 1), (FILE, FIRST + 2), ("rong.csv", None),
                   ("so lieu.xlsx", 8), ("so lieu.xlsx", 9)]
    text = str(exc.value)
    assert text.startswith("Không nhập được: phát hiện 6 lỗi. Cơ sở dữ liệu không bị thay đổi.")


# --- two-column sheets --------------------------------------------------------------------------

def items_problems(tmp_path: Path, rows: list[tuple[object, object]]) -> list[Problem]:
    f = write_items(tmp_path / "2024-2025 so lieu.xlsx", rows)
    with pytest.raises(ImportProblems) as exc:
        read_year(f, today=TODAY)
    return exc.value.problems


def test_items_valid_and_routed(tmp_path: Path) -> None:
    f = write_items(tmp_path / "2024-2025 so lieu.xlsx", POPULATION_ROWS[:2] + SCHOOL_ROWS[1:3])
    y = read_year(f, today=TODAY)
    assert y.school["item"].tolist() == ["toilets", "toilets_hygienic"]
    assert y.population["item"].tolist() == ["pop_age11", "pop_age11_in_grade6"]
    assert y.pupils is None


def test_item_rules(tmp_path: Path) -> None:
    rows = [("Số nhà vệ sinh học sinh", 6), ("Trong đó: đạt chuẩn hợp vệ sinh", 8),
            ("Số đơn thư, kiến nghị nhận được", 1), ("Số đơn thư, kiến nghị đã giải quyết", 2),
            ("Số buổi tư vấn tâm lý", -3), ("Có nước sạch", "chưa rõ"),
            ("Số trẻ 11 tuổi trên địa bàn", 100), ("Trong đó: vào lớp 6", 101),
            ("Số học sinh được tư vấn", "mười"), ("Số con mèo", 4)]
    problems = items_problems(tmp_path, rows)
    by_row = {p.row: p for p in problems}
    assert "lớn hơn «Số nhà vệ sinh học sinh» (6)" in by_row[8].message
    assert "«Số đơn thư, kiến nghị đã giải quyết» (2) lớn hơn" in by_row[10].message
    assert (by_row[11].column, by_row[11].value) == ("Giá trị", -3)
    assert "không được âm" in by_row[11].message
    assert "cần «có» hoặc «không»" in by_row[12].message
    assert "lớn hơn «Số trẻ 11 tuổi trên địa bàn» (100)" in by_row[14].message
    assert by_row[15].value == "mười"
    assert by_row[16].column == "Nội dung" and by_row[16].value == "Số con mèo"
    assert "«Số nhà vệ sinh học sinh»" in by_row[16].message  # lists accepted items
    assert len(problems) == 7


def test_item_written_twice(tmp_path: Path) -> None:
    p = one(items_problems(tmp_path, [("Số nhà vệ sinh học sinh", 6), ("Nhà vệ sinh học sinh", 7)]),
            "ghi hai lần")
    assert p.row == 8 and "dòng 7" in p.message


# --- intervention log ---------------------------------------------------------------------------

def test_intervention_log_rules(tmp_path: Path) -> None:
    d = tmp_path / "2024-2025"
    d.mkdir()
    write_pupils(d / FILE, base_rows())
    write_interventions(d / "nhat ky.xlsx", [
        ["01/10/2024", "HS1", "An", "Gặp phụ huynh", "GVCN", "Tiến bộ"],
        ["01/07/2025", "HS2", "B", "Tư vấn", "TVV", None],
        ["05/10/2024", "HS99", "?", "Tư vấn", "TVV", None],
        [None, "HS3", "C", "Thăm nhà", "GVCN", None],
    ])
    with pytest.raises(ImportProblems) as exc:
        read_year(d, today=TODAY)
    got = sorted((p.row, p.column, p.message.split(";")[0].split(" (")[0])
                 for p in exc.value.problems)
    assert got == [(8, "Ngày", "ngày ở tương lai"),
                   (9, "Mã học sinh", "mã học sinh không có trong danh sách học sinh năm học "
                                      "2024-2025"),
                   (10, "Ngày", "ô bỏ trống")]


def test_intervention_log_alone(tmp_path: Path) -> None:
    d = tmp_path / "2024-2025"
    d.mkdir()
    write_interventions(d / "nk.xlsx", [["01/10/2024", "HS1", "An", "Gặp phụ huynh", "GV", "Tốt"]])
    y = read_year(d, today=TODAY)
    assert y.kinds() == ["interventions"]
    assert list(y.interventions.columns) == ["action_date", "pupil_id", "action", "staff",
                                             "result", "source_file", "source_row"]
    assert y.interventions.loc[0, "result"] == "Tốt"


def test_header_as_written_in_csv(tmp_path: Path) -> None:
    text = ("MÃ HS;Họ tên;Ngày tháng năm sinh;Phái;Dân tộc;Lớp;Tình trạng\n"
            "A1;An;05/09/2013;Nam;Kinh;6A;Lên lớp\n"
            "A2;Bình;05/09/2013;Nam;Kinh;6A;Lên lớp\n"
            "A1;Chi;05/09/2013;Nữ;Kinh;6A;Lên lớp\n")
    f = tmp_path / "2024-2025.csv"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ImportProblems) as exc:
        read_year(f, today=TODAY)
    [p] = exc.value.problems
    assert (p.file, p.sheet, p.row, p.column, p.value) == ("2024-2025.csv", None, 4, "MÃ HS",
                                                           "A1")


def test_unknown_sheet_headers_problem_lists_expected(tmp_path: Path) -> None:
    f = tmp_path / "2024-2025.xlsx"
    write_table(f, ["Số thứ tự", "Tên", "Ghi chú"], [[1, "a", "b"]])
    with pytest.raises(ImportProblems) as exc:
        read_year(f, today=TODAY)
    msg = exc.value.problems[0].message
    assert "Mã học sinh, Họ và tên, Ngày sinh, Giới tính, Dân tộc, Lớp, Kết quả cuối năm" in msg


def test_check_pupils_many_is_check_pupils_of_each_year() -> None:
    """Years checked together give each year's problems as checked alone (duplicates within a
    year only, dates against each year's own bounds, in-progress counts per year)."""
    from locson_analysis.validate import check_pupils, check_pupils_many

    a = _bad_year_frame("2023-2024", "a.xlsx")
    b = _bad_year_frame("2024-2025", "b.xlsx")
    b.index = b.index + 100  # any index
    c = a.drop(columns=["can_swim"])  # other columns: checked in its own group
    years = [(a, "2023-2024", date(2024, 6, 1), {}), (b, "2024-2025", date(2024, 12, 1), {}),
             (c, "2023-2024", date(2024, 6, 1), {})]
    together = check_pupils_many(years)
    alone = [check_pupils(*y) for y in years]
    assert together == alone
    assert all(alone) and alone[0] != alone[1]


def _bad_year_frame(school_year: str, file: str):  # noqa: ANN202 - a DataFrame
    """A canonical pupil table breaking several whole-year rules."""
    import pandas as pd

    from locson_analysis import contract as C
    from locson_analysis.read import typed_frame

    start = C.start_year(school_year)
    n = 12
    rows = {
        "pupil_id": [f"P{i}" for i in range(n)],
        "birth_date": [f"{start - 12}-03-01"] * n,
        "grade": [6] * 6 + [9] * 6,
        "entry_date": [None] * n,
        "leave_date": [None] * n,
        "outcome": ["promoted"] * 6 + ["completed"] * 6,
        "learning_year": ["Đạt"] + ["Tốt"] * 3 + ["Giỏi", "Giỏi", "Khá"] + ["Đạt"] * 5,
        "conduct_year": ["Tốt"] * 5 + ["Đạt"] + ["Tốt"] * 6,  # row 5: both scales
        "can_swim": [True] * n,
    }
    rows["pupil_id"][3] = "P1"  # duplicate
    rows["birth_date"][2] = "2031-01-01"  # future
    rows["birth_date"][4] = "1980-01-01"
    rows["entry_date"][5] = f"{start + 2}-01-01"  # outside the year
    rows["outcome"][7] = "in_progress"
    rows["outcome"][8] = "promoted"  # grade 9 promoted
    rows["leave_date"][9] = f"{start + 1}-03-01"  # leave date without leaving
    df = pd.DataFrame(rows)
    for col in ("birth_date", "entry_date", "leave_date"):
        df[col] = pd.to_datetime(df[col])
    df = typed_frame(df, C.PUPIL_COLUMNS)
    df["source_file"] = file
    df["source_sheet"] = "DSHS"
    df["source_row"] = pd.array(range(7, 7 + n), dtype="Int64")
    return df
