""".xls and .ods files are read directly, by the same reader and checks as .xlsx.

The fixtures in tests/fixtures/office/ were made once by LibreOffice from ``roster.xlsx``
(``make_fixtures.py`` there): the same synthetic workbook saved as Excel 97–2003 and as
OpenDocument, and both saved again with a password.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from locson_analysis import read as R
from locson_analysis.errors import ImportProblems
from locson_analysis.importer import read_year

OFFICE = Path(__file__).parent / "fixtures" / "office"
TODAY = date(2025, 6, 30)
PASSWORD = "tệp được đặt mật khẩu — hãy mở bằng Excel, bỏ mật khẩu và lưu lại"


def _year(root: Path, name: str):  # noqa: ANN202 - a YearData
    folder = root / name / "2024-2025"
    folder.mkdir(parents=True)
    shutil.copy(OFFICE / name, folder)
    return read_year(folder, today=TODAY)


@pytest.mark.parametrize("name", ["roster.xls", "roster.ods"])
def test_xls_and_ods_import_exactly_as_the_xlsx(tmp_path: Path, name: str) -> None:
    reference = _year(tmp_path, "roster.xlsx")
    got = _year(tmp_path, name)
    assert len(got.pupils) == 3
    pd.testing.assert_frame_equal(got.pupils.drop(columns="source_file"),
                                  reference.pupils.drop(columns="source_file"))
    pd.testing.assert_frame_equal(got.school.drop(columns="source_file"),
                                  reference.school.drop(columns="source_file"))
    assert set(got.pupils["source_file"]) == {name}
    p = got.pupils.set_index("pupil_id")
    assert p.loc["HS001", "birth_date"] == pd.Timestamp(2012, 3, 5)  # a date cell
    assert p.loc["HS003", "birth_date"] == pd.Timestamp(2011, 2, 14)  # a dd/mm/yyyy text
    assert p.loc["HS003", "outcome"] == "dropped_out"
    assert bool(p.loc["HS002", "poor"])
    assert dict(zip(got.school["item"], got.school["value"], strict=True))["toilets"] == 8
    assert got.school_code == "LOCSON"  # the title row «TRƯỜNG THCS LỘC SƠN» was read


@pytest.mark.parametrize("name", ["mat_khau.xls", "mat_khau.ods"])
def test_password_protected_xls_and_ods_say_so(name: str) -> None:
    fr = R.read_file(OFFICE / name)
    assert [p.message for p in fr.problems] == [PASSWORD]


def test_xls_and_ods_are_listed_as_readable_files(tmp_path: Path) -> None:
    for name in ("roster.xls", "roster.ods"):
        shutil.copy(OFFICE / name, tmp_path)
    (tmp_path / "ghi chu.docx").write_bytes(b"PK")
    files, notes = R.list_input_files(tmp_path)
    assert [f.name for f in files] == ["roster.ods", "roster.xls"]
    assert len(notes) == 1 and ".ods" in notes[0]


def test_files_that_are_something_else_get_a_clear_message(tmp_path: Path) -> None:
    folder = tmp_path / "2024-2025"
    folder.mkdir()
    # an OLE2 file that is no workbook (a Word 97 document renamed, say)
    (folder / "cu.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    # a text file renamed .ods
    (folder / "ghi chu.ods").write_text("không phải bảng tính", encoding="utf-8")
    # an OpenDocument text (.odt) renamed .ods
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        z.writestr("META-INF/manifest.xml", "<manifest/>")
        z.writestr("content.xml", "<office:document-content/>")
    (folder / "van ban.ods").write_bytes(buf.getvalue())
    # a spreadsheet cut short
    (folder / "hong.ods").write_bytes((OFFICE / "roster.ods").read_bytes()[:3000])
    with pytest.raises(ImportProblems) as exc:
        read_year(folder, today=TODAY)
    probs = {p.file: p.message for p in exc.value.problems}
    assert "tệp Excel cũ (.xls) bị hỏng hoặc không phải tệp Excel" in probs["cu.xls"]
    assert "không phải tệp Excel" in probs["ghi chu.ods"]
    assert "OpenDocument" in probs["van ban.ods"] and "không phải bảng tính" in probs["van ban.ods"]
    assert "bị hỏng" in probs["hong.ods"]


def test_the_documented_formats_are_the_formats_read() -> None:
    from locson_analysis.contract import FILE_FORMATS

    assert tuple(s for s, _ in FILE_FORMATS) == R.READABLE_SUFFIXES
