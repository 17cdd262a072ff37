"""Builders of staff-like workbooks for the importer tests (real .xlsx written with openpyxl).

Files look like real exports: title rows with merged cells above the table, an optional row of
column numbers, a totals row and a signature footer below, and personal columns the workbook
must drop.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import openpyxl

#: Headers spelled as in MOET (CSDL ngành) exports, in order.
MOET_PUPIL_HEADERS = [
    "STT", "Mã định danh Bộ GD&ĐT (trên CSDL ngành)", "Họ và tên học sinh", "Ngày sinh",
    "Giới tính", "Dân tộc", "Mã lớp", "Họ tên cha", "Họ tên mẹ", "Địa chỉ thường trú",
    "Hộ nghèo", "Hộ cận nghèo", "Khuyết tật", "Hoàn cảnh đặc biệt", "Số buổi nghỉ học kỳ I",
    "Số buổi nghỉ học kỳ II", "Kết quả học tập HK1", "Kết quả rèn luyện HK1",
    "Kết quả học tập cả năm", "Kết quả rèn luyện cả năm", "Kết quả cuối năm", "Ngày nghỉ học",
    "Lý do bỏ học", "Biết bơi", "Sở thích",
]


def pupil_row(pid: str = "HS001", name: str = "Nguyễn Văn An",
              birth: object = datetime(2012, 3, 5), sex: str = "Nam", ethnicity: str = "Kinh",
              cls: str = "6A1", outcome: str = "Lên lớp", **extra: object) -> dict[str, object]:
    """One pupil as a header → value dict (MOET headers); ``extra`` overrides any header."""
    row: dict[str, object] = {
        "STT": None, "Mã định danh Bộ GD&ĐT (trên CSDL ngành)": pid,
        "Họ và tên học sinh": name, "Ngày sinh": birth, "Giới tính": sex, "Dân tộc": ethnicity,
        "Mã lớp": cls, "Họ tên cha": "Nguyễn Văn Cha", "Họ tên mẹ": "Trần Thị Mẹ",
        "Địa chỉ thường trú": "Thôn 1, Lộc Sơn", "Hộ nghèo": None, "Hộ cận nghèo": None,
        "Khuyết tật": None, "Hoàn cảnh đặc biệt": None, "Số buổi nghỉ học kỳ I": 2,
        "Số buổi nghỉ học kỳ II": 1, "Kết quả học tập HK1": "Khá",
        "Kết quả rèn luyện HK1": "Tốt", "Kết quả học tập cả năm": "Khá",
        "Kết quả rèn luyện cả năm": "Tốt", "Kết quả cuối năm": outcome, "Ngày nghỉ học": None,
        "Lý do bỏ học": None, "Biết bơi": "x", "Sở thích": "Bóng đá",
    }
    row.update(extra)
    return row


def write_table(path: Path, headers: Sequence[str], rows: Sequence[dict[str, object] | list],
                *, title: str | None = "DANH SÁCH HỌC SINH NĂM HỌC 2024-2025",
                number_row: bool = True, footer: bool = True, sheet: str = "DSHS",
                wb: openpyxl.Workbook | None = None, save: bool = True,
                school: str | None = "TRƯỜNG THCS LỘC SƠN") -> openpyxl.Workbook:
    """Write one table with title rows (``school``: the school line, None for none) and
    footer; returns the workbook (to add sheets)."""
    if wb is None:
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = sheet
    else:
        ws = wb.create_sheet(sheet)
    width = max(len(headers), 2)
    r = 1
    if title is not None:
        ws.cell(1, 1, "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO TP BẢO LỘC")
        ws.cell(1, 5, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
        if school is not None:
            ws.cell(2, 1, school)
        ws.cell(2, 5, "Độc lập - Tự do - Hạnh phúc")
        ws.cell(4, 1, title)
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=4)
        ws.merge_cells(start_row=4, start_column=1, end_row=4, end_column=width)
        r = 6
    for j, h in enumerate(headers, 1):
        ws.cell(r, j, h)
    r += 1
    if number_row:
        for j in range(1, len(headers) + 1):
            ws.cell(r, j, j)
        r += 1
    for n, row in enumerate(rows, 1):
        values = [row.get(h) for h in headers] if isinstance(row, dict) else list(row)
        for j, v in enumerate(values, 1):
            if headers and j - 1 < len(headers) and headers[j - 1] == "STT" and v is None:
                v = n
            ws.cell(r, j, v)
        r += 1
    if footer:
        ws.cell(r, 1, "Tổng cộng")
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=3)
        ws.cell(r, 4, len(rows))
        ws.cell(r + 2, 5, "Lộc Sơn, ngày 25 tháng 5 năm 2025")
        ws.cell(r + 3, 2, "Người lập biểu")
        ws.cell(r + 3, 5, "HIỆU TRƯỞNG")
        ws.cell(r + 6, 2, "Lê Thị Lập")
        ws.cell(r + 6, 5, "Phạm Văn Trưởng")
    if save:
        wb.save(path)
    return wb


def write_pupils(path: Path, rows: Sequence[dict[str, object]],
                 headers: Sequence[str] = MOET_PUPIL_HEADERS, **kw: object) -> Path:
    write_table(path, headers, rows, **kw)
    return path


SCHOOL_ROWS = [
    ("I. Cơ sở vật chất", None),
    ("Số nhà vệ sinh học sinh", 8),
    ("Trong đó: đạt chuẩn hợp vệ sinh", 8),
    ("Có nước sạch", "Có"),
    ("Có dịch vụ hỗ trợ tâm lý", "x"),
    ("Số buổi tư vấn tâm lý", 12),
    ("Số học sinh được tư vấn", 40),
    ("Số đơn thư, kiến nghị nhận được", 2),
    ("Số đơn thư, kiến nghị đã giải quyết", 2),
    ("Tổng kinh phí hỗ trợ (đồng)", "15.500.000"),
]
POPULATION_ROWS = [
    ("Số trẻ 11 tuổi trên địa bàn", 210),
    ("Trong đó: vào lớp 6", 208),
    ("Số trẻ 11–14 tuổi trên địa bàn", 820),
    ("Trong đó: đang đi học", 801),
]


def write_items(path: Path, rows: Sequence[tuple[object, object]],
                headers: Sequence[str] = ("STT", "Nội dung", "Giá trị"), **kw: object) -> Path:
    """A two-column sheet (with a leading STT column)."""
    body = [[i, label, value] if len(headers) == 3 else [label, value]
            for i, (label, value) in enumerate(rows, 1)]
    kw.setdefault("title", "SỐ LIỆU NHÀ TRƯỜNG NĂM HỌC 2024-2025")
    kw.setdefault("number_row", False)
    kw.setdefault("sheet", "Số liệu")
    write_table(path, list(headers), body, **kw)
    return path


INTERVENTION_HEADERS = ["STT", "Ngày", "Mã học sinh", "Họ và tên",
                        "Việc đã làm (Nội dung can thiệp)", "Người thực hiện", "Kết quả"]


def write_interventions(path: Path, rows: Sequence[list[object]], **kw: object) -> Path:
    kw.setdefault("title", "NHẬT KÝ CAN THIỆP NĂM HỌC 2024-2025")
    kw.setdefault("number_row", False)
    kw.setdefault("sheet", "Nhật ký")
    write_table(path, INTERVENTION_HEADERS, [[None, *r] for r in rows], **kw)
    return path
