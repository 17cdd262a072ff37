"""Reading staff files: finding the table, header and value mapping, file-level problems."""

from __future__ import annotations

import io
import unicodedata
import zipfile
from datetime import date, datetime
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from locson_analysis import read as R
from locson_analysis.errors import ImportProblems
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


def year_dir(tmp_path: Path, name: str = "2024-2025") -> Path:
    d = tmp_path / name
    d.mkdir()
    return d


def problems_of(path: Path, **kw: object) -> list:
    with pytest.raises(ImportProblems) as exc:
        read_year(path, today=TODAY, **kw)
    return exc.value.problems


# --- header matching ----------------------------------------------------------------------------

@pytest.mark.parametrize("header, expected", [
    ("Mã định danh Bộ GD&ĐT (trên CSDL ngành)", "pupil_id"),
    ("MÃ  HỌC\u00a0SINH", "pupil_id"),
    ("Mã lớp", "class_name"),
    ("Ngày sinh", "birth_date"),
    ("Ngày sinh (dd/mm/yyyy)", "birth_date"),
    ("Ngày nghỉ", "leave_date"),
    ("Số ngày nghỉ HK1", "absences_s1"),
    ("Số buổi nghỉ học kỳ II", "absences_s2"),
    ("Kết quả học tập HK1", "learning_s1"),
    ("Kết quả học tập HKI", "learning_s1"),
    ("Kết quả học tập cả năm", "learning_year"),
    ("ket qua hoc tap ca nam (TT22)", "learning_year"),
    ("Hạnh kiểm CN", "conduct_year"),
    ("Họ tên học sinh", "full_name"),
])
def test_pupil_headers_map_to_canonical_names(header: str, expected: str) -> None:
    m = R.MATCHERS["pupils"].match(header)
    assert (m.status, m.name) == ("column", expected)


@pytest.mark.parametrize("header, status", [
    ("Họ tên cha", "personal"), ("Họ và tên mẹ", "personal"), ("Địa chỉ thường trú", "personal"),
    ("Số điện thoại phụ huynh", "personal"), ("Số định danh cá nhân", "personal"),
    ("STT", "ignored"), ("Sở thích", "unused"),
])
def test_personal_and_other_headers(header: str, status: str) -> None:
    assert R.MATCHERS["pupils"].match(header).status == status


# --- a realistic year ---------------------------------------------------------------------------

def realistic_year(tmp_path: Path) -> Path:
    d = year_dir(tmp_path)
    write_pupils(d / "Danh sach HS.xlsx", [
        pupil_row(),
        pupil_row("HS002", "Trần Thị Bình", "05/09/2011", "NỮ", "k'ho", "Lớp 7A2",
                  **{"Hộ nghèo": "x", "Số buổi nghỉ học kỳ I": "3", "Biết bơi": None}),
        pupil_row("HS003", "Lê Văn Cường", "2010-02-28", "nam", "Kinh", "8/1",
                  **{"Hộ cận nghèo": "có", "Khuyết tật": 1, "Số buổi nghỉ học kỳ II": 4.0,
                     "Kết quả học tập cả năm": "CĐ", "Kết quả cuối năm": "Lưu ban"}),
        pupil_row("HS004", "Phạm Thị Dung", datetime(2009, 12, 1), "Nu", "Ma", "9A1",
                  outcome="Tốt nghiệp THCS"),
        pupil_row("HS005", "K'Thị E", "1/2/2012", "Nữ", "Cơ Ho", "6A2", outcome="Bỏ học",
                  **{"Ngày nghỉ học": "15/01/2025", "Lý do bỏ học": "Hoàn cảnh khó khăn"}),
    ])
    write_items(d / "so lieu.xlsx", SCHOOL_ROWS + POPULATION_ROWS)
    write_interventions(d / "nhat ky.xlsx", [
        [datetime(2024, 10, 1), "HS005", "Nguyễn Văn E", "Gặp phụ huynh", "GVCN", "Đi học lại"],
        ["12/11/2024", "HS002", "Trần Thị Bình", "Tư vấn tâm lý", "Tư vấn viên", None],
    ])
    (d / "~$Danh sach HS.xlsx").write_bytes(b"lock")
    (d / ".hidden.csv").write_text("x")
    return d


def test_realistic_year_reads_every_kind(tmp_path: Path) -> None:
    y = read_year(realistic_year(tmp_path), today=TODAY)
    assert y.school_year == "2024-2025" and y.school_code == "LOCSON"
    p = y.pupils.set_index("pupil_id")
    assert list(p.index) == ["HS001", "HS002", "HS003", "HS004", "HS005"]
    assert p.loc["HS002", "birth_date"] == pd.Timestamp(2011, 9, 5)
    assert p.loc["HS003", "birth_date"] == pd.Timestamp(2010, 2, 28)
    assert p.loc["HS005", "birth_date"] == pd.Timestamp(2012, 2, 1)
    assert p["sex"].tolist() == ["M", "F", "M", "F", "F"]
    assert p["ethnicity"].tolist() == ["Kinh", "K'Ho", "Kinh", "Mạ", "K'Ho"]
    assert p["class_name"].tolist() == ["6A1", "7A2", "8/1", "9A1", "6A2"]
    assert p["grade"].tolist() == [6, 7, 8, 9, 6]
    assert p["poor"].tolist() == [False, True, False, False, False]
    assert p["near_poor"].tolist() == [False, False, True, False, False]
    assert p["disability"].tolist() == [False, False, True, False, False]
    assert p["can_swim"].tolist() == [True, False, True, True, True]
    assert p["absences_s1"].tolist() == [2, 3, 2, 2, 2]
    assert p["absences_s2"].tolist() == [1, 1, 4, 1, 1]
    assert p.loc["HS003", "learning_year"] == "Chưa đạt"
    assert p["outcome"].tolist() == ["promoted", "promoted", "repeating", "completed",
                                     "dropped_out"]
    assert p.loc["HS005", "leave_date"] == pd.Timestamp(2025, 1, 15)
    assert p.loc["HS005", "dropout_reason"] == "Hoàn cảnh khó khăn"
    assert (p["result_scale"] == "tt22").all()
    # Excel rows: title rows 1-5, header 6, column numbers 7, data from 8.
    assert p["source_row"].tolist() == [8, 9, 10, 11, 12]
    assert set(p["source_file"]) == {"Danh sach HS.xlsx"}
    assert str(y.pupils["birth_date"].dtype).startswith("datetime64")
    assert str(y.pupils["grade"].dtype) == "Int64"
    assert str(y.pupils["poor"].dtype) == "boolean"
    # Personal columns never reach the DataFrame.
    assert not any("cha" in c or "address" in c for c in y.pupils.columns)
    flat = [str(v) for v in y.pupils.to_numpy().ravel()]
    assert not any("Cha" in v or "Thôn 1" in v or "Bóng đá" in v for v in flat)

    school = dict(zip(y.school["item"], y.school["value"], strict=True))
    assert school["toilets"] == 8 and school["clean_water"] == 1.0
    assert school["policy_support_amount"] == 15_500_000
    pop = dict(zip(y.population["item"], y.population["value"], strict=True))
    assert pop == {"pop_age11": 210, "pop_age11_in_grade6": 208, "pop_age11_14": 820,
                   "pop_age11_14_in_school": 801}
    log = y.interventions
    assert log["pupil_id"].tolist() == ["HS005", "HS002"]
    assert log["action"].tolist() == ["Gặp phụ huynh", "Tư vấn tâm lý"]
    assert log["action_date"].tolist() == [pd.Timestamp(2024, 10, 1), pd.Timestamp(2024, 11, 12)]
    assert "full_name" not in log.columns

    kinds = sorted((f.kind, Path(f.path).name, f.rows) for f in y.files)
    assert kinds == [("interventions", "nhat ky.xlsx", 2), ("population", "so lieu.xlsx", 4),
                     ("pupils", "Danh sach HS.xlsx", 5), ("school", "so lieu.xlsx", 9)]
    notes = "\n".join(y.notes)
    assert ("cột «Họ tên cha» không lưu (Nghị định 13/2023): thông tin cha/mẹ/người giám hộ"
            in notes)
    assert "cột «Địa chỉ thường trú» không lưu" in notes
    assert "cột «Sở thích» không dùng đến" in notes
    assert "STT" not in notes


def test_sha256_is_of_file_bytes(tmp_path: Path) -> None:
    import hashlib

    d = realistic_year(tmp_path)
    y = read_year(d, today=TODAY)
    f = next(f for f in y.files if f.kind == "pupils")
    assert f.sha256 == hashlib.sha256(Path(f.path).read_bytes()).hexdigest()


def test_school_year_from_title_when_path_has_none(tmp_path: Path) -> None:
    f = write_pupils(tmp_path / "danhsach.xlsx", [pupil_row()],
                     title="DANH SÁCH HỌC SINH NĂM HỌC 2023 - 2024")
    y = read_year(f, today=TODAY)
    assert y.school_year == "2023-2024"


def test_school_year_argument_wins_and_mismatch_is_reported(tmp_path: Path) -> None:
    f = write_pupils(tmp_path / "ds.xlsx", [pupil_row()])
    assert read_year(f, school_year="2024-2025", today=TODAY).school_year == "2024-2025"
    probs = problems_of(f, school_year="2023-2024")
    assert any("ghi năm học 2024-2025 nhưng đang nhập năm học 2023-2024" in p.message
               for p in probs)


def test_no_school_year_anywhere_is_a_problem(tmp_path: Path) -> None:
    f = write_pupils(tmp_path / "ds.xlsx", [pupil_row()], title="DANH SÁCH HỌC SINH")
    probs = problems_of(f)
    assert "không xác định được năm học" in probs[-1].message


def test_header_without_title_or_number_row_or_footer(tmp_path: Path) -> None:
    f = write_pupils(year_dir(tmp_path) / "ds.xlsx", [pupil_row(), pupil_row("HS002")],
                     title=None, number_row=False, footer=False)
    y = read_year(f.parent, today=TODAY)
    assert y.pupils["source_row"].tolist() == [2, 3]


def test_simple_headers_and_female_flag_column(tmp_path: Path) -> None:
    headers = ["TT", "Mã HS", "Họ tên", "Ngày tháng năm sinh", "Nữ", "Dân tộc", "Lớp", "Tình trạng"]
    rows = [[1, "A1", "Lò Văn A", "03-04-2012", None, "Kinh", "6A", "Đang học"],
            [2, "A2", "Lò Thị B", "2012-07-08", "x", "Kinh", "6A", "Đang học"]]
    f = tmp_path / "2024-2025 ds.xlsx"
    write_table(f, headers, rows)
    y = read_year(f, today=date(2024, 12, 1))
    assert y.pupils["sex"].tolist() == ["M", "F"]
    assert y.pupils["birth_date"].tolist() == [pd.Timestamp(2012, 4, 3), pd.Timestamp(2012, 7, 8)]
    assert y.pupils["outcome"].tolist() == ["in_progress", "in_progress"]


def test_name_split_in_two_columns_and_short_headers_match_exactly_only(tmp_path: Path) -> None:
    headers = ["Mã HS", "Họ đệm", "Tên", "Ngày sinh", "Giới tính", "Dân tộc", "Nữ dân tộc",
               "Tên trường cũ", "Lớp", "Kết quả cuối năm"]
    rows = [["A1", "Nguyễn Thị", "Lan", "01/02/2012", "Nữ", "K'Ho", "x", "TH Lộc Sơn", "6A",
             "Lên lớp"]]
    f = tmp_path / "2024-2025.xlsx"
    write_table(f, headers, rows)
    y = read_year(f, today=TODAY)
    assert y.pupils.loc[0, "full_name"] == "Nguyễn Thị Lan"
    assert y.pupils.loc[0, "sex"] == "F" and y.pupils.loc[0, "ethnicity"] == "K'Ho"
    notes = "\n".join(y.notes)
    assert "cột «Nữ dân tộc» không dùng đến" in notes
    assert "cột «Tên trường cũ» không dùng đến" in notes
    assert R.MATCHERS["pupils"].match("Nữ").name == "female_flag"
    assert R.MATCHERS["pupils"].match("Học sinh nữ dân tộc").status == "unused"
    assert R.MATCHERS["pupils"].match("Dân tộc thiểu số").status == "unused"


def test_two_level_headers_are_combined(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["DANH SÁCH HỌC SINH NĂM HỌC 2024-2025"])
    top = ["Mã học sinh", "Họ và tên", "Ngày sinh", "Giới tính", "Dân tộc", "Lớp",
           "Kết quả học tập", None, "Kết quả cuối năm"]
    ws.append(top)
    ws.append([None, None, None, None, None, None, "HK1", "Cả năm", None])
    ws.merge_cells("G2:H2")
    for c in "ABCDEFI":
        ws.merge_cells(f"{c}2:{c}3")
    ws.append(["HS1", "An", "01/01/2012", "Nam", "Kinh", "6A", "Tốt", "Khá", "Lên lớp"])
    wb.save(tmp_path / "ds.xlsx")
    y = read_year(tmp_path / "ds.xlsx", today=TODAY)
    assert y.pupils.loc[0, "learning_s1"] == "Tốt"
    assert y.pupils.loc[0, "learning_year"] == "Khá"
    assert y.pupils.loc[0, "source_row"] == 4


def test_blank_row_between_grade_blocks_keeps_reading_but_footer_ends(tmp_path: Path) -> None:
    rows = [pupil_row("HS1"), {}, pupil_row("HS2", cls="7A"), {},
            {"Họ và tên học sinh": "Ghi chú: danh sách gồm 2 học sinh"}]
    f = write_pupils(year_dir(tmp_path) / "ds.xlsx", rows)
    y = read_year(f, today=TODAY)
    assert y.pupils["pupil_id"].tolist() == ["HS1", "HS2"]
    assert y.pupils["source_row"].tolist() == [8, 10]


def test_merged_section_headings_inside_the_table_are_skipped(tmp_path: Path) -> None:
    f = year_dir(tmp_path) / "ds.xlsx"
    wb = write_table(f, MOET_PUPIL_HEADERS,
                     [{"STT": "KHỐI 6"}, pupil_row("HS1"), {"STT": "KHỐI 7"},
                      pupil_row("HS2", cls="7A", birth=datetime(2011, 1, 1))], save=False)
    ws = wb.active
    ws.merge_cells("A8:Y8")
    ws.merge_cells("A10:Y10")
    wb.save(f)
    y = read_year(f, today=TODAY)
    assert y.pupils["pupil_id"].tolist() == ["HS1", "HS2"]
    assert y.pupils["source_row"].tolist() == [9, 11]


def test_subtotal_rows_per_class_are_skipped(tmp_path: Path) -> None:
    rows = [pupil_row("HS1"), {"STT": "Cộng lớp 6A1", "Họ và tên học sinh": 1},
            pupil_row("HS2", cls="7A", birth=datetime(2011, 1, 1)), {"STT": "Cộng", "Mã lớp": 1}]
    f = write_pupils(year_dir(tmp_path) / "ds.xlsx", rows)
    y = read_year(f, today=TODAY)
    assert y.pupils["pupil_id"].tolist() == ["HS1", "HS2"]
    assert y.pupils["source_row"].tolist() == [8, 10]


def test_rows_below_the_signature_block_are_a_problem_not_lost(tmp_path: Path) -> None:
    f = year_dir(tmp_path) / "ds.xlsx"
    wb = write_table(f, MOET_PUPIL_HEADERS, [pupil_row("HS1")], save=False)
    ws = wb.active
    # footer: totals on 9, place and date on 11, titles on 12, names on 15
    row = pupil_row("HS2", cls="6A2")
    ws.append([row.get(h) for h in MOET_PUPIL_HEADERS])  # row 16: forgotten below the footer
    wb.save(f)
    [p] = problems_of(f)
    assert (p.file, p.sheet, p.row) == ("ds.xlsx", "DSHS", 16)
    assert "có 1 dòng giống dữ liệu nằm dưới chỗ kết thúc bảng (dòng 11)" in p.message


def test_two_columns_with_the_same_meaning(tmp_path: Path) -> None:
    headers = [*MOET_PUPIL_HEADERS, "Ngày sinh"]
    rows = [pupil_row()]
    f = write_pupils(year_dir(tmp_path) / "ds.xlsx", rows, headers=headers)
    [p] = problems_of(f)
    assert (p.row, p.column) == (6, "Ngày sinh")
    assert "có hai cột cùng mang nghĩa «Ngày sinh» (cột D và cột Z)" in p.message


@pytest.mark.parametrize("birth_header", ["Ngày sinh", "Ngày tháng năm sinh"])
def test_repeated_header_row_on_a_new_page_is_skipped(tmp_path: Path, birth_header: str) -> None:
    headers = [birth_header if h == "Ngày sinh" else h for h in MOET_PUPIL_HEADERS]
    header_again = {h: h for h in headers}
    rows = [pupil_row("HS1"), header_again, pupil_row("HS2")]
    for r in (rows[0], rows[2]):
        r[birth_header] = r.pop("Ngày sinh")
    f = write_pupils(year_dir(tmp_path) / "ds.xlsx", rows, headers=headers)
    y = read_year(f, today=TODAY)
    assert y.pupils["pupil_id"].tolist() == ["HS1", "HS2"]


def test_several_sheets_per_grade_and_an_ignored_sheet(tmp_path: Path) -> None:
    f = year_dir(tmp_path) / "ds.xlsx"
    wb = write_table(f, MOET_PUPIL_HEADERS, [pupil_row("HS6", cls="6A")], sheet="Khối 6",
                     save=False)
    write_table(f, MOET_PUPIL_HEADERS, [pupil_row("HS7", "B", datetime(2011, 1, 1), cls="7A")],
                sheet="Khối 7", wb=wb, save=False)
    ws = wb.create_sheet("Hướng dẫn")
    ws["A1"] = "Điền danh sách theo mẫu"
    wb.save(f)
    y = read_year(f.parent, today=TODAY)
    assert y.pupils["pupil_id"].tolist() == ["HS6", "HS7"]
    assert "trang tính «Hướng dẫn»: bỏ qua" in "\n".join(y.notes)
    assert [f.sheet for f in y.files] == ["Khối 6", "Khối 7"]


def test_sheet_formatted_to_the_last_row_is_read_quickly(tmp_path: Path) -> None:
    from openpyxl.styles import Font

    f = year_dir(tmp_path) / "ds.xlsx"
    wb = write_table(f, MOET_PUPIL_HEADERS, [pupil_row()], save=False)
    wb.active.cell(1_048_576, 30).font = Font(bold=True)
    wb.active.cell(3, 16_000).font = Font(bold=True)
    wb.save(f)
    y = read_year(f, today=TODAY)  # walking 10^6 × 150 cells would take minutes
    assert y.pupils["pupil_id"].tolist() == ["HS001"]


def test_two_pupil_files_are_concatenated_and_duplicates_reported(tmp_path: Path) -> None:
    d = year_dir(tmp_path)
    write_pupils(d / "k6.xlsx", [pupil_row("HS1")])
    write_pupils(d / "k7.xlsx", [pupil_row("HS2", cls="7A", birth=datetime(2011, 1, 1))])
    assert read_year(d, today=TODAY).pupils["pupil_id"].tolist() == ["HS1", "HS2"]
    write_pupils(d / "k8.xlsx", [pupil_row("HS1", cls="8A", birth=datetime(2010, 1, 1))])
    probs = problems_of(d)
    dup = [p for p in probs if "trùng" in p.message]
    assert len(dup) == 1
    assert (dup[0].file, dup[0].row, dup[0].value) == ("k8.xlsx", 8, "HS1")
    assert "dòng 8" in dup[0].message and "k6.xlsx" in dup[0].message


# --- CSV ----------------------------------------------------------------------------------------

CSV_ROWS = [
    ["DANH SÁCH HỌC SINH NĂM HỌC 2024-2025"], [],
    ["Mã học sinh", "Họ và tên", "Ngày sinh", "Giới tính", "Dân tộc", "Lớp", "Kết quả cuối năm"],
    ["HS1", "Đỗ Thị Ánh", "05/09/2012", "Nữ", "Kinh", "6A", "Lên lớp"],
    ["HS2", "Y Kưi Niê", "5/9/2011", "Nam", "Ê Đê", "7B", "Lên lớp"],
    ["Lộc Sơn, ngày 25 tháng 5 năm 2025"],
]


TONES = "\u0300\u0301\u0303\u0309\u0323"


def to_cp1258(text: str) -> bytes:
    """Encode as Windows-1258 does: precomposed letters where it has them, tones combining."""
    out = b""
    for ch in text:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            d = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in d if c not in TONES))
            out += (base + "".join(c for c in d if c in TONES)).encode("cp1258")
    return out


@pytest.mark.parametrize("encoding, sep", [("utf-8", ","), ("utf-8-sig", ";"),
                                           ("cp1258", ";"), ("utf-8", "\t")])
def test_csv_encodings_and_separators(tmp_path: Path, encoding: str, sep: str) -> None:
    text = "\r\n".join(sep.join(r) for r in CSV_ROWS)
    f = tmp_path / "ds.csv"
    f.write_bytes(to_cp1258(text) if encoding == "cp1258" else text.encode(encoding))
    y = read_year(f, today=TODAY)
    assert y.school_year == "2024-2025"
    assert y.pupils["full_name"].tolist() == ["Đỗ Thị Ánh", "Y Kưi Niê"]
    assert y.pupils["ethnicity"].tolist() == ["Kinh", "Ê Đê"]
    assert y.pupils["source_row"].tolist() == [4, 5]
    assert y.pupils["source_file"].tolist() == ["ds.csv", "ds.csv"]


def test_csv_cp1252_fallback(tmp_path: Path) -> None:
    rows = [["Ma hoc sinh", "Ho va ten", "Ngay sinh", "Gioi tinh", "Dan toc", "Lop",
             "Ket qua cuoi nam"], ["HS1", "José Müller", "05/09/2012", "Nam", "Kinh", "6A",
                                    "Len lop"]]
    f = tmp_path / "2024-2025.csv"
    f.write_bytes("\n".join(",".join(r) for r in rows).encode("cp1252"))
    y = read_year(f, today=TODAY)
    assert y.pupils.loc[0, "full_name"] == "José Müller"


# --- file-level problems ------------------------------------------------------------------------

def test_file_level_problems_are_all_reported_together(tmp_path: Path) -> None:
    from msoffcrypto.format.ooxml import OOXMLFile

    d = year_dir(tmp_path)
    (d / "rong.xlsx").write_bytes(b"")
    (d / "van ban.xlsx").write_text("đây là một ghi chú", encoding="utf-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
        z.writestr("[Content_Types].xml", "<Types/>")
    (d / "bao cao.xlsx").write_bytes(buf.getvalue())
    good = write_pupils(tmp_path / "plain.xlsx", [pupil_row()])
    (d / "hong.xlsx").write_bytes(good.read_bytes()[:1500])
    with open(good, "rb") as src, open(d / "mat khau.xlsx", "wb") as dst:
        OOXMLFile(src).encrypt("secret", dst)
    (d / "cu.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    write_table(d / "la.xlsx", ["Tên sách", "Tác giả"], [["Dế Mèn", "Tô Hoài"]])
    (d / "ghi chu.docx").write_bytes(b"PK")
    probs = {p.file: p.message for p in problems_of(d)}
    assert "tệp rỗng" in probs["rong.xlsx"]
    assert "không phải tệp Excel" in probs["van ban.xlsx"]
    assert "tệp Word" in probs["bao cao.xlsx"]
    assert "bị hỏng" in probs["hong.xlsx"]
    assert probs["mat khau.xlsx"] == ("tệp được đặt mật khẩu — hãy mở bằng Excel, bỏ mật khẩu "
                                      "và lưu lại")
    assert ".xls" in probs["cu.xls"]
    assert "không nhận ra bảng dữ liệu nào" in probs["la.xlsx"]
    assert "«Mã học sinh»" in probs["la.xlsx"] or "Mã học sinh" in probs["la.xlsx"]
    assert "«Tên sách»" in probs["la.xlsx"]
    assert "ghi chu.docx" not in probs  # not a data file: skipped with a note


def test_single_non_excel_file_is_a_problem(tmp_path: Path) -> None:
    f = tmp_path / "2024-2025.docx"
    f.write_bytes(b"PK\x03\x04")
    assert "không phải tệp Excel" in problems_of(f)[0].message


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    assert "không tìm thấy" in problems_of(tmp_path / "2024-2025")[0].message
    assert "không có tệp Excel" in problems_of(year_dir(tmp_path))[0].message


# --- values -------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    (datetime(2012, 5, 1), pd.Timestamp(2012, 5, 1)), ("01/05/2012", pd.Timestamp(2012, 5, 1)),
    ("1/5/2012", pd.Timestamp(2012, 5, 1)), ("01-05-2012", pd.Timestamp(2012, 5, 1)),
    ("2012-05-01", pd.Timestamp(2012, 5, 1)), (41030, pd.Timestamp(2012, 5, 1)), (None, None),
])
def test_parse_date(raw: object, expected: object) -> None:
    assert R.parse_date(raw) == expected


@pytest.mark.parametrize("raw", ["31/02/2012", "2012", "abc", "13/13/2012", 12.5])
def test_parse_date_rejects(raw: object) -> None:
    with pytest.raises(R.BadValue):
        R.parse_date(raw)


@pytest.mark.parametrize("raw, expected", [("12", 12), (12.0, 12), (3, 3), (" 7 ", 7),
                                           (None, None)])
def test_parse_int(raw: object, expected: object) -> None:
    assert R.parse_int(raw) == expected


@pytest.mark.parametrize("raw", ["abc", 2.5, "2,5"])
def test_parse_int_rejects(raw: object) -> None:
    with pytest.raises(R.BadValue):
        R.parse_int(raw)


@pytest.mark.parametrize("raw, expected", [
    ("x", True), ("X", True), ("có", True), ("Có", True), (1, True), ("TRUE", True), (True, True),
    (None, False), ("", False), ("không", False), (0, False),
])
def test_parse_bool(raw: object, expected: bool) -> None:
    assert R.parse_bool(raw) is expected


@pytest.mark.parametrize("raw, expected", [("Nam", "M"), ("NAM", "M"), ("Nữ", "F"), ("nu", "F"),
                                           ("NỮ", "F")])
def test_parse_sex(raw: str, expected: str) -> None:
    assert R.parse_sex(raw) == expected


@pytest.mark.parametrize("raw, conduct, expected", [
    ("tốt", False, "Tốt"), ("TB", False, "Trung bình"), ("CĐ", False, "Chưa đạt"),
    ("chua dat", True, "Chưa đạt"), ("Giỏi", False, "Giỏi"), ("yếu", True, "Yếu"),
    ("Kém", False, "Kém"),
])
def test_parse_result(raw: str, conduct: bool, expected: str) -> None:
    assert R.parse_result(raw, conduct=conduct) == expected


def test_conduct_has_no_gioi() -> None:
    with pytest.raises(R.BadValue):
        R.parse_result("Giỏi", conduct=True)


@pytest.mark.parametrize("raw, expected", [
    ("Lên lớp", "promoted"), ("lưu ban", "repeating"), ("Thôi học", "dropped_out"),
    ("Chuyển trường", "transferred_out"), ("Tốt nghiệp THCS", "completed"),
    ("HTCT THCS", "completed"), ("Chưa tốt nghiệp", "not_completed"), ("Đang học", "in_progress"),
])
def test_parse_outcome(raw: str, expected: str) -> None:
    assert R.parse_outcome(raw) == expected


@pytest.mark.parametrize("raw, expected", [("6A1", 6), ("9/2", 9), ("Lớp 7B", 7), ("A1", None)])
def test_grade_of_class(raw: str, expected: object) -> None:
    assert R.grade_of_class(raw) == expected


@pytest.mark.parametrize("raw, expected", [("15.500.000", 15_500_000), ("1,5", 1.5),
                                           ("2.000.000 đồng", 2_000_000), ("1,234,567", 1234567)])
def test_parse_number_vietnamese_formats(raw: str, expected: float) -> None:
    assert R.parse_number(raw) == expected


def test_result_scale_per_pupil_and_grade(tmp_path: Path) -> None:
    rows = [
        pupil_row("A", cls="8A", birth=datetime(2009, 1, 1),
                  **{"Kết quả học tập HK1": "Giỏi", "Kết quả học tập cả năm": "Giỏi"}),
        pupil_row("B", cls="8A", birth=datetime(2009, 1, 1),
                  **{"Kết quả học tập HK1": "Khá", "Kết quả học tập cả năm": "Khá"}),
        pupil_row("C", cls="6A", birth=datetime(2011, 1, 1),
                  **{"Kết quả học tập HK1": "Đạt", "Kết quả học tập cả năm": "Đạt"}),
        pupil_row("D", cls="6A", birth=datetime(2011, 1, 1),
                  **{"Kết quả học tập HK1": "Khá", "Kết quả học tập cả năm": "Tốt"}),
    ]
    # 2022-2023: Circular 22 had reached grades 6 and 7 only, so grade 8 on the old scale is
    # legitimate; B (Khá/Tốt only) takes its grade's scale.
    f = write_pupils(tmp_path / "ds.xlsx", rows, title="DANH SÁCH HỌC SINH NĂM HỌC 2022-2023")
    y = read_year(f, today=TODAY)
    assert y.pupils["result_scale"].tolist() == ["tt58", "tt58", "tt22", "tt22"]


# --- docs/data-format.md stays in step with the contract ----------------------------------------

def test_data_format_doc_is_generated_from_contract() -> None:
    from locson_analysis import contract as C

    doc = (Path(__file__).resolve().parents[1] / "docs" / "data-format.md").read_text("utf-8")
    generated = doc.split(C.DOC_BEGIN + "\n", 1)[1].split(C.DOC_END, 1)[0]
    assert generated == C.data_format_tables(), (
        "docs/data-format.md is stale: run .venv/bin/python -m locson_analysis.contract")
    for col in (*C.PUPIL_COLUMNS, *C.INTERVENTION_COLUMNS):
        for h in (col.header, *col.variants):
            assert h in generated, h
    for item in (*C.SCHOOL_ITEMS, *C.POPULATION_ITEMS):
        assert f"**{item.label}**" in generated
    for pattern, _ in C.PERSONAL_COLUMNS_NOT_STORED:
        assert f"| {pattern} |" in generated


# --- the fast paths: Excel cells through python-calamine, rows and columns vectorised ----------

def _reference_fold(text: object) -> str:
    """contract.fold as first written (one character at a time): the cached one must agree."""
    s = unicodedata.normalize("NFKD", str(text)).replace("đ", "d").replace("Đ", "D")
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).lower()
    return " ".join("".join(ch if ch.isascii() and ch.isalnum() else " " for ch in s).split())


@pytest.mark.parametrize("text", [
    "Nguyễn Thị Ánh", "ĐỖ VĂN ĐỨC", "Mã định danh Bộ GD&ĐT (trên CSDL ngành)", "HS0012345",
    "  Lộc Sơn,\u00a0ngày 25 tháng 5 năm 2025 ", "Y Kưi Niê", "K'Ho", "Ê Đê", "ﬁle ①²",
    "Straße", "e\u0301\u034fa", "İstanbul", "Ωmega", "", " ", 12.0, 3, True, None,
])
def test_cached_fold_equals_the_reference(text: object) -> None:
    from locson_analysis import contract as C

    assert C.fold(text) == _reference_fold(text)
    assert C.fold(text) == _reference_fold(text)  # and again, from the cache


def test_excel_dates_stay_dates_and_numbers_stay_numbers(tmp_path: Path) -> None:
    """python-calamine returns a real Excel date as a date and a number as a number: a date
    column takes dates (and serial numbers), a count column refuses a date."""
    f = year_dir(tmp_path) / "ds.xlsx"
    wb = write_table(f, MOET_PUPIL_HEADERS, [
        pupil_row("HS1", birth=datetime(2012, 3, 5)),
        pupil_row("HS2", birth=41030),  # a date typed into a cell formatted as a number
        pupil_row("HS3", birth=date(2012, 1, 2), **{"Số buổi nghỉ học kỳ I": datetime(2025, 1, 3)}),
        pupil_row("HS4", birth=12.5),
    ], save=False)
    ws = wb.active
    ws["D8"].number_format = "dd/mm/yyyy"
    wb.save(f)
    [grid] = R._excel_grids(f.read_bytes())
    birth = [row[3] for row in grid.rows[7:11]]
    assert isinstance(birth[0], date) and not isinstance(birth[0], float)
    assert isinstance(birth[1], int | float) and not isinstance(birth[1], date)
    probs = problems_of(f)
    assert [(p.row, p.column, p.value) for p in probs] == [
        (10, "Số buổi nghỉ học kỳ I", "03/01/2025"), (11, "Ngày sinh", 12.5)]
    assert "không phải số nguyên" in probs[0].message
    assert "không phải ngày tháng" in probs[1].message
    fr = R.read_file(f)
    frame = fr.tables[0].frame
    assert frame["birth_date"].tolist()[:3] == [pd.Timestamp(2012, 3, 5), pd.Timestamp(2012, 5, 1),
                                               pd.Timestamp(2012, 1, 2)]


def test_calamine_and_openpyxl_read_the_same_cells(tmp_path: Path) -> None:
    f = year_dir(tmp_path) / "ds.xlsx"
    wb = write_table(f, MOET_PUPIL_HEADERS,
                     [pupil_row("HS1"), {"STT": "KHỐI 7"}, pupil_row("HS2", cls="7A")],
                     save=False)
    ws = wb.active
    ws.merge_cells("A9:Y9")
    ws["Z30"] = 1.5
    ws.merge_cells("B40:AC41")  # a merged block beyond the cells that hold values
    write_items(f, SCHOOL_ROWS, wb=wb, save=False)
    wb.save(f)

    def same(v: object) -> object:
        if isinstance(v, datetime) and v.time() == datetime.min.time():
            return v.date()
        return float(v) if isinstance(v, int) and not isinstance(v, bool) else v

    data = f.read_bytes()
    fast, slow = R._calamine_grids(data), R._openpyxl_grids(data)
    assert [g.sheet for g in fast] == [g.sheet for g in slow] == ["DSHS", "Số liệu"]
    for a, b in zip(fast, slow, strict=True):
        assert [[same(v) for v in row] for row in a.rows] == \
            [[same(v) for v in row] for row in b.rows]


def test_excel_error_cells_are_read_as_their_text(tmp_path: Path) -> None:
    f = write_pupils(year_dir(tmp_path) / "ds.xlsx", [pupil_row("HS1", birth="#N/A")])
    [p] = problems_of(f)
    assert (p.row, p.column, p.value) == (8, "Ngày sinh", "#N/A")
    assert "không phải ngày tháng" in p.message


def _long_list(n_classes: int, per_class: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    k = 0
    for c in range(n_classes):
        grade = 6 + c % 4
        if c % 4 == 0:
            rows.append({"STT": f"KHỐI {grade}"})
        for _ in range(per_class):
            k += 1
            rows.append(pupil_row(f"HS{k:05d}", name=f"Nguyễn Văn {k}", cls=f"{grade}A{c}",
                                  birth=datetime(2018 - grade, 1 + k % 12, 1 + k % 28),
                                  outcome="Lên lớp" if grade < 9 else "Hoàn thành chương trình")
                        | {"Lý do bỏ học": "Công việc gia đình" if k % 7 == 0 else None})
        rows.append({"STT": f"Cộng lớp {grade}A{c}", "Họ và tên học sinh": per_class})
        if c == 1:
            rows.append({})
            rows.append(dict(zip(MOET_PUPIL_HEADERS, MOET_PUPIL_HEADERS, strict=True)))
    return rows


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_long_list_with_headings_totals_and_footer(tmp_path: Path, fmt: str) -> None:
    """Per-class totals, merged grade headings, a header repeated after a blank row and the
    signature footer, on a list long enough that rows are classified column by column."""
    rows = _long_list(8, 30)
    d = year_dir(tmp_path)
    wb = write_table(d / "ds.xlsx", MOET_PUPIL_HEADERS, rows, save=False)
    ws = wb.active
    forgotten = pupil_row("HS99999", cls="9A1", birth=datetime(2010, 1, 1),
                          outcome="Hoàn thành chương trình")
    last = ws.max_row
    ws.cell(last + 2, 1, "Ghi chú")
    for j, h in enumerate(MOET_PUPIL_HEADERS, 1):
        ws.cell(last + 3, j, forgotten.get(h))
    if fmt == "xlsx":
        wb.save(d / "ds.xlsx")
        f = d / "ds.xlsx"
    else:
        f = d / "ds.csv"
        lines = []
        for row in ws.iter_rows(values_only=True):
            cells = ["" if v is None else v.strftime("%d/%m/%Y") if isinstance(v, datetime)
                     else str(v) for v in row]
            lines.append(",".join(f'"{c}"' if "," in c else c for c in cells))
        f.write_text("\n".join(lines), encoding="utf-8")
    fr = R.read_file(f)
    frame = fr.tables[0].frame
    assert frame["pupil_id"].tolist() == [f"HS{k:05d}" for k in range(1, 241)]
    ids = [c.value for c in ws["B"]]
    assert frame["source_row"].tolist() == [ids.index(f"HS{k:05d}") + 1 for k in range(1, 241)]
    assert frame["dropout_reason"].notna().sum() == 240 // 7
    # the pupil below the signature block is not read, and that is said
    [p] = fr.problems
    assert p.row == last + 3
    assert "có 1 dòng giống dữ liệu nằm dưới chỗ kết thúc bảng" in p.message


def test_same_bad_value_in_many_rows_is_a_problem_in_each(tmp_path: Path) -> None:
    """Columns are parsed once per distinct value; every cell still gets its own problem, in
    row order, then column order."""
    rows = [pupil_row(f"HS{k}", sex="Nữ" if k % 2 else "Nam") for k in range(6)]
    for k in (1, 3, 4):
        rows[k]["Giới tính"] = "Khác"
    rows[3]["Số buổi nghỉ học kỳ II"] = "ba"
    rows[4]["Ngày sinh"] = "31/02/2012"
    f = write_pupils(year_dir(tmp_path) / "ds.xlsx", rows)
    probs = problems_of(f)
    assert [(p.row, p.column, p.value) for p in probs] == [
        (9, "Giới tính", "Khác"), (11, "Giới tính", "Khác"),
        (11, "Số buổi nghỉ học kỳ II", "ba"), (12, "Ngày sinh", "31/02/2012"),
        (12, "Giới tính", "Khác")]


def test_parsed_cells_remembered_across_files_keep_types_apart() -> None:
    """A batch reuses parsed cells of earlier files (read._parse_distinct): ``True == 1``
    in Python, but a boolean cell is no number; failures come back with their message; dates
    as datetime64."""
    import numpy as np

    from locson_analysis import read as R

    for _ in range(2):  # the second time from the cache
        values, failed = R._parse_distinct(R.parse_int, [True, 1, "x", 2.0])
        assert list(values) == [None, 1, None, 2, None]
        assert set(failed) == {0, 2} and "số nguyên" in failed[0]
        dates, failed = R._parse_distinct(R.parse_date, ["05/09/2012", "31/02/2012"],
                                          as_date=True)
        assert dates.dtype == np.dtype("datetime64[ns]")
        assert str(dates[0])[:10] == "2012-09-05" and np.isnat(dates[1]) and np.isnat(dates[2])
        assert set(failed) == {1}
        text, failed = R._parse_distinct(R.parse_text, [" a\u00a0 b ", "\u00a0", "Nguyễn  Văn"])
        assert list(text) == ["a b", None, "Nguyễn Văn", None] and not failed


def test_personal_columns_are_not_read_as_text(tmp_path: Path) -> None:
    """A column of personal data that is not stored (parents' names, address) is never read
    for its text: a parent called like a signature line or an address that reads as a totals
    row does not end or skip the table (only blank cells, column numbers and headings merged
    across the row count there)."""
    rows = [pupil_row("HS1"), pupil_row("HS2", **{"Địa chỉ thường trú": "Cộng"}),
            pupil_row("HS3", **{"Họ tên cha": "Người lập biểu"}), pupil_row("HS4")]
    f = write_pupils(year_dir(tmp_path) / "ds.xlsx", rows)
    y = read_year(f, today=TODAY)
    assert y.pupils["pupil_id"].tolist() == ["HS1", "HS2", "HS3", "HS4"]
    assert y.pupils["source_row"].tolist() == [8, 9, 10, 11]


def test_fold_many_is_fold_of_each_text() -> None:
    """read._fold_many folds many cells at once (joined by line breaks): the same as
    contract.fold of each, whatever the characters (random texts from a hard alphabet)."""
    import random

    from locson_analysis import contract as C
    from locson_analysis import read as R

    pool = (list("aAzZ09 .,-/\t\u00a0\u2003_()'\"") + list("ăâđêôơưàảãạáằẳẵặậấếìọốờủứỳĐÀÝ")
            + ["\u0300", "\u0301", "\u0323", "İ", "ß", "\u212a", "ﬁ", "①", "e\u0301", "ǅ", "Ω",
               "中", "😀", "\u034f", "\u0345", "Σ", "\u2028", "\x85", "\x1c", "\n"])
    rng = random.Random(3)
    for _ in range(500):
        texts = ["".join(rng.choice(pool) for _ in range(rng.randint(0, 12)))
                 for _ in range(rng.randint(1, 80))]
        assert R._fold_many(texts) == [C.fold(t) for t in texts]


def _reference_result_scales(pupils: pd.DataFrame, school_year: str) -> pd.Series:
    """read.result_scales as it was written for one year (the reference for the batch)."""
    from locson_analysis import contract as C
    from locson_analysis.read import row_scales

    own = row_scales(pupils).to_numpy()
    grades = pupils["grade"] if "grade" in pupils.columns else pd.Series(pd.NA,
                                                                        index=pupils.index)
    out = own.copy()
    t22, t58 = own == "tt22", own == "tt58"
    untold = ~(t22 | t58)
    if untold.any():
        g = pd.to_numeric(grades[untold], errors="coerce")
        reached = 6 + C.start_year(school_year) - C.TT22_FIRST_YEAR
        out[untold] = np.where(g.isna() | (g <= reached), "tt22", "tt58")
    unknown_all = pd.isna(own)
    codes, uniques = pd.factorize(grades)
    for k in range(len(uniques)):
        in_grade = codes == k
        n22, n58 = int((in_grade & t22).sum()), int((in_grade & t58).sum())
        if not n22 + n58:
            continue
        if n22 != n58:
            majority = "tt22" if n22 > n58 else "tt58"
        else:
            majority = own[np.flatnonzero(in_grade & (t22 | t58))[0]]
        out[in_grade & unknown_all] = majority
    return pd.Series(out, index=pupils.index).astype("str")


def test_result_scales_of_many_years_are_each_years_own() -> None:
    """read.result_scales_many (a batch's years at once) gives each year the scales it has
    alone: majorities per grade within the year, ties, missing grades, pupils mixing scales,
    tables without some result columns (random tables against the one-year reference)."""
    from locson_analysis.read import RESULT_COLUMNS, result_scales, result_scales_many

    labels = [None, "Tốt", "Khá", "Đạt", "Chưa đạt", "Giỏi", "Trung bình", "Yếu"]
    rng = np.random.default_rng(5)
    for _ in range(30):
        years = []
        for _k in range(rng.integers(1, 6)):
            n = int(rng.integers(0, 25))
            df = pd.DataFrame({"grade": pd.array(
                [None if rng.random() < 0.1 else int(rng.integers(6, 10)) for _ in range(n)],
                dtype="Int64")})
            for c in RESULT_COLUMNS:
                if rng.random() < 0.8:
                    df[c] = pd.Series([labels[i] for i in rng.integers(0, len(labels), n)],
                                      dtype="str")
            if rng.random() < 0.1:
                df = df.drop(columns="grade")
            df.index = df.index + int(rng.integers(0, 5))
            years.append((df, f"{int(rng.integers(2019, 2026))}-2099"))
        got = result_scales_many(years)
        for (df, year), series in zip(years, got, strict=True):
            expected = _reference_result_scales(df, year)
            pd.testing.assert_series_equal(series, expected)
            pd.testing.assert_series_equal(result_scales(df, year), expected)


def test_cell_caches_are_emptied_after_an_import(tmp_path: Path) -> None:
    """The caches that make a batch's later files cheaper keep no pupil's values once the
    import is read."""
    f = write_pupils(year_dir(tmp_path) / "ds.xlsx", [pupil_row("HS1"), pupil_row("HS2")])
    read_year(f, today=TODAY)
    assert not R._PARSE_CACHE and not R._CELL_CACHE and not R._MATCH_CACHE
    with R.batch_caches():
        R.read_file(f)
        assert R._PARSE_CACHE and R._MATCH_CACHE
    assert not R._PARSE_CACHE and not R._CELL_CACHE and not R._MATCH_CACHE


def test_footer_screen_finds_every_totals_and_signature_text() -> None:
    """read._FOOTER_SCREEN lets _Body skip the per-value totals/signature tests of a column
    with no match: every text those tests accept matches it."""
    import random

    words = ["tong", "cong", "so", "hoc", "sinh", "hs", "lop", "khoi", "nguoi", "lap", "hieu",
             "truong", "pho", "ky", "ten", "ghi", "ro", "ho", "xac", "nhan", "cua", "thu",
             "don", "vi", "giao", "vien", "chu", "nhiem", "danh", "sach", "nay", "co", "an",
             "dinh", "ngay", "thang", "nam", "2025", "25", "5", "loc", "son", "a", "x"]
    rng = random.Random(7)
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 7))) for _ in range(20000)]
    texts += ["loc son ngay 25 thang 5 nam 2025", "tong cong", "cong", "nguoi lap bieu"]
    accepted = [t for t in texts if R._total_text(t) or R._signature_text(t)]
    assert len(accepted) > 100
    for t in accepted:
        assert R._FOOTER_SCREEN.search("x\n" + t + "\ny") is not None


def test_the_doc_lists_every_word_that_makes_a_heading_personal() -> None:
    """docs/data-format.md names the vocabularies of read.whose_column, and what it says of
    them is what the reader does."""
    from locson_analysis import contract as C

    doc = (Path(__file__).resolve().parents[1] / "docs" / "data-format.md").read_text("utf-8")
    generated = doc.split(C.DOC_BEGIN + "\n", 1)[1].split(C.DOC_END, 1)[0]
    section = generated.split("### Từ làm cho một cột thành thông tin người thân", 1)[1]
    for word in (*C.RELATIVE_WORDS, *C.RELATIVE_PHRASES, *C.RELATIVE_FOLDED,
                 *C.RELATIVE_FOLDED_GUARDED, *C.CITIZEN_ID_FOLDED, *C.RELATIVE_FIELD_WORDS):
        assert f"«{word}»" in section, word
    # Each listed word alone after a field makes the heading someone else's data …
    for word in (*C.RELATIVE_WORDS, *C.RELATIVE_PHRASES, *C.RELATIVE_FOLDED,
                 *C.RELATIVE_FOLDED_GUARDED):
        assert R.whose_column(f"Ho ten {word}") == C.RELATIVE_REASON, word
    for word in C.CITIZEN_ID_FOLDED:
        assert R.whose_column(f"So {word}") == C.CITIZEN_ID_REASON, word
    # … and the examples the doc gives either way are as it says.
    for heading in ("Họ và tên bố", "Ngày sinh mẹ", "Dân tộc người giám hộ", "Ho ten bo",
                    "Bo - ngay sinh"):
        assert R.whose_column(heading) == C.RELATIVE_REASON, heading
    assert R.whose_column("Mã định danh công dân") == C.CITIZEN_ID_REASON
    for heading in ("Ngày chuyển đi", "Mã định danh Bộ GD&ĐT", "Lý do bỏ học", "Ba buổi"):
        assert R.whose_column(heading) is None, heading
