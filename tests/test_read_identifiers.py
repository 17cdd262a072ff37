"""Identifiers cleaned once (issue 12, point 7): invisible characters and full-width forms in
pupil IDs, class names and dates are removed before validation, with a note; a message about
another value shows the invisible characters it holds (as \\u200b)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from locson_analysis import read as R
from locson_analysis.errors import ImportProblems, Problem
from locson_analysis.importer import read_year
from tests.xlsx_builders import MOET_PUPIL_HEADERS, pupil_row, write_pupils

TODAY = date(2025, 6, 15)
ID = "Mã định danh Bộ GD&ĐT (trên CSDL ngành)"


def write_year(base: Path, year: str, rows: list[dict]) -> Path:
    d = base / year
    d.mkdir()
    write_pupils(d / "ds.xlsx", rows, title=f"DANH SÁCH HỌC SINH NĂM HỌC {year}")
    return d


@pytest.mark.parametrize("invisible", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff",
                                       "\u00ad", "\u200e", "\u202c"])
def test_one_class_and_one_pupil_however_the_cells_were_typed(tmp_path: Path,
                                                              invisible: str) -> None:
    rows = [pupil_row("4296806952" + invisible, cls="6A1" + invisible),
            pupil_row("4296806953", cls="６A1", birth="05/09/2012" + invisible),
            pupil_row("4296806954", cls="6A1")]
    y = read_year(write_year(tmp_path, "2024-2025", rows), today=TODAY)
    assert y.pupils["class_name"].tolist() == ["6A1"] * 3
    assert y.pupils["pupil_id"].tolist() == ["4296806952", "4296806953", "4296806954"]
    assert y.pupils["birth_date"].iloc[1] == pd.Timestamp(2012, 9, 5)
    notes = "\n".join(y.notes)
    shown = f"\\u{ord(invisible):04x}"
    assert (f"cột «{ID}»: đã làm sạch 1 ô trước khi kiểm tra — bỏ ký tự ẩn {shown} (dòng 8)"
            in notes)
    assert (f"cột «Mã lớp»: đã làm sạch 2 ô trước khi kiểm tra — bỏ ký tự ẩn {shown}, chữ/số "
            "toàn độ rộng (như ６) (dòng 8, 9)") in notes
    assert f"cột «Ngày sinh»: đã làm sạch 1 ô trước khi kiểm tra — bỏ ký tự ẩn {shown}" in notes
    assert "4296806952" not in notes  # a note names what was removed, never the identifier


def test_the_same_pupil_next_year_despite_a_zero_width_space(tmp_path: Path) -> None:
    a = read_year(write_year(tmp_path, "2023-2024", [pupil_row("4296806952", cls="6A1")]),
                  today=TODAY)
    b = read_year(write_year(tmp_path, "2024-2025",
                             [pupil_row("\u200b４２９６８０６９５２", cls="7A1")]), today=TODAY)
    assert set(a.pupils["pupil_id"]) == set(b.pupils["pupil_id"]) == {"4296806952"}


def test_a_message_shows_the_invisible_characters_of_a_value(tmp_path: Path) -> None:
    rows = [pupil_row(**{"Số buổi nghỉ học kỳ I": "3\u200b"})]
    with pytest.raises(ImportProblems) as exc:
        read_year(write_year(tmp_path, "2024-2025", rows), today=TODAY)
    (p,) = exc.value.problems
    assert p.column == "Số buổi nghỉ học kỳ I"
    assert "giá trị «3\\u200b»: không phải số nguyên" in str(p)


def test_clean_identifier_and_show_invisible() -> None:
    assert R.clean_identifier("６Ａ１\u200b") == "6A1"
    assert R.clean_identifier("Lớp 6A1") == "Lớp 6A1"  # (NFKC keeps Vietnamese letters)
    assert R.clean_identifier(4296806952) == 4296806952
    assert str(Problem("a.xlsx", "sai", value="6A1\u200b\ufeff")) == \
        "tệp a.xlsx: giá trị «6A1\\u200b\\ufeff»: sai"
    assert MOET_PUPIL_HEADERS[1] == ID
