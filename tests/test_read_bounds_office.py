"""Bounded reading of hostile .ods and .xls files (issue 12, point 3).

python-calamine builds a dense grid for these formats too: one value in row 1.000.000 of an
.ods asks for a million rows, one in IV65536 of an .xls for about 1 GB.  The reader finds the
cells holding data first (``sheet_bounds``) and refuses a file with one past the bounds,
naming the file, the sheet and the cell.  The hostile files are made here from the fixtures
LibreOffice wrote (``tests/fixtures/office``): the .ods by rewriting its ``content.xml``, the
.xls by moving one cell record in its BIFF stream (same length, written back with olefile).
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import sys
import textwrap
import zipfile
from datetime import date
from pathlib import Path

import olefile
import pytest

from locson_analysis import read as R
from locson_analysis import sheet_bounds as B
from locson_analysis.errors import ImportProblems
from locson_analysis.importer import read_year

OFFICE = Path(__file__).parent / "fixtures" / "office"
TODAY = date(2025, 6, 30)
FAR = "ngoài giới hạn đọc (100.000 dòng, 150 cột — đến cột ET)"

# --- .ods ---------------------------------------------------------------------------------------

EMPTY_ROW = ('<table:table-row table:number-rows-repeated="{n}">'
             '<table:table-cell table:number-columns-repeated="16384"/></table:table-row>')
VALUE = ('<table:table-cell office:value-type="string" calcext:value-type="string">'
         '<text:p>x</text:p></table:table-cell>')
#: The empty rows LibreOffice writes at the end of a sheet (to row 1.048.576), then its end.
_SHEET_END = re.compile(r'(?:<table:table-row [^>]*><table:table-cell '
                        r'table:number-columns-repeated="\d+"/></table:table-row>)+</table:table>')


def ods_with(folder: Path, rows: str, name: str = "ds.ods") -> Path:
    """roster.ods with ``rows`` (content.xml) put after the last row of its first sheet,
    «DSHS», in place of the empty rows LibreOffice wrote there."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / name
    with zipfile.ZipFile(OFFICE / "roster.ods") as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "content.xml":
                text, n = _SHEET_END.subn(lambda m: rows + "</table:table>",
                                          data.decode("utf-8"), count=1)
                assert n == 1
                data = text.encode("utf-8")
            zout.writestr(info, data, compress_type=zipfile.ZIP_STORED
                          if info.filename == "mimetype" else zipfile.ZIP_DEFLATED)
    return out


def refused(path: Path) -> list:
    with pytest.raises(ImportProblems) as exc:
        read_year(path.parent, today=TODAY)
    return exc.value.problems


def test_the_libreoffice_ods_repeats_empty_rows_past_the_bound_and_is_read() -> None:
    """LibreOffice writes the rest of every sheet as one empty row repeated to row 1.048.576
    and empty cells repeated to column XFD: not data, however often repeated."""
    with zipfile.ZipFile(OFFICE / "roster.ods") as z:
        content = z.read("content.xml")
    repeats = [int(n) for n in re.findall(rb'number-rows-repeated="(\d+)"', content)]
    assert max(repeats) > R.MAX_ROWS
    assert B.ods_far_cells(content, R.MAX_ROWS, R.MAX_COLUMNS) == []
    assert len(R.read_file(OFFICE / "roster.ods").tables) == 2


@pytest.mark.parametrize(("rows", "cell", "row"), [
    # one value in row 1.000.000: the sheet's 17 rows, 999.982 empty rows written as one
    (EMPTY_ROW.format(n=999_982) + f"<table:table-row>{VALUE}</table:table-row>",
     "A1000000", 1_000_000),
    # one value in the sheet's last column, after 16.383 empty cells written as one
    ('<table:table-row><table:table-cell table:number-columns-repeated="16383"/>'
     f"{VALUE}</table:table-row>", "XFD18", 18),
    # the last cell of the sheet
    (EMPTY_ROW.format(n=1_048_558) + '<table:table-row><table:table-cell '
     f'table:number-columns-repeated="16383"/>{VALUE}</table:table-row>', "XFD1048576",
     1_048_576),
    # a value repeated across 16.000 columns: the first one past column ET is named
    ('<table:table-row><table:table-cell table:number-columns-repeated="16000" '
     'office:value-type="float" office:value="1"/></table:table-row>', "EU18", 18),
    # a row holding a value repeated 200.000 times: the first row past 100.000 is named
    (f'<table:table-row table:number-rows-repeated="200000"><table:table-cell/>{VALUE}'
     "</table:table-row>", "B100001", 100_001),
    # a value hidden under a merged range (a covered cell) counts as calamine counts it
    (EMPTY_ROW.format(n=200_000) + '<table:table-row><table:covered-table-cell '
     'office:value-type="string"><text:p>x</text:p></table:covered-table-cell>'
     "</table:table-row>", "A200018", 200_018),
])
def test_an_ods_value_past_the_bounds_names_file_sheet_and_cell(tmp_path: Path, rows: str,
                                                                 cell: str, row: int) -> None:
    f = ods_with(tmp_path / "2024-2025", rows)
    assert f.stat().st_size < 40_000
    (p,) = refused(f)
    assert (p.file, p.sheet, p.row) == ("ds.ods", "DSHS", row)
    assert p.message.startswith(f"có dữ liệu ở ô {cell}, {FAR}")
    assert "Ctrl+End trong LibreOffice" in p.message


def test_formatted_or_empty_ods_cells_far_away_are_not_data(tmp_path: Path) -> None:
    """A styled cell, an empty paragraph, a formula without a value and a comment hold no
    value for calamine: the sheet is read as LibreOffice wrote it."""
    far = ('<table:table-cell table:style-name="ce1"/><table:table-cell><text:p/>'
           '</table:table-cell><table:table-cell table:formula="of:=1+1"/><table:table-cell>'
           "<office:annotation><text:p>ghi chú</text:p></office:annotation></table:table-cell>")
    f = ods_with(tmp_path / "2024-2025", EMPTY_ROW.format(n=500_000)
                 + f'<table:table-row><table:table-cell table:number-columns-repeated="9000"/>'
                 f"{far}</table:table-row>")
    y = read_year(f.parent, today=TODAY)
    assert sorted(y.pupils["pupil_id"]) == ["HS001", "HS002", "HS003"]


def test_an_ods_attribute_holding_a_bracket_does_not_hide_a_value(tmp_path: Path) -> None:
    """A quoted ">" inside a tag (legal XML) must not end the tag before ``value-type``."""
    f = ods_with(tmp_path / "2024-2025", EMPTY_ROW.format(n=150_000)
                 + '<table:table-row><table:table-cell table:style-name="a>b" '
                 'office:value-type="float" office:value="1"/></table:table-row>')
    (p,) = refused(f)
    assert p.message.startswith(f"có dữ liệu ở ô A150018, {FAR}")


def test_every_ods_sheet_past_the_bounds_is_named(tmp_path: Path) -> None:
    """Both sheets: one problem each, the second sheet by its own name and cell."""
    f = ods_with(tmp_path / "2024-2025", EMPTY_ROW.format(n=150_000)
                 + f"<table:table-row>{VALUE}</table:table-row>")
    with zipfile.ZipFile(f) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    text = parts["content.xml"].decode("utf-8")
    head, second = text.rsplit("<table:table ", 1)
    second = _SHEET_END.sub('<table:table-row><table:table-cell table:number-columns-repeated='
                            f'"200"/>{VALUE}</table:table-row></table:table>', second, count=1)
    parts["content.xml"] = (head + "<table:table " + second).encode("utf-8")
    with zipfile.ZipFile(f, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    problems = refused(f)
    assert [(p.sheet, p.row) for p in problems] == [("DSHS", 150_018), ("Số liệu", 24)]
    assert "ô GS24" in problems[1].message


def test_the_uncompressed_size_of_an_ods_is_capped(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "2024-2025"
    folder.mkdir()
    shutil.copy(OFFICE / "roster.ods", folder / "ds.ods")
    monkeypatch.setattr(R, "MAX_UNCOMPRESSED_BYTES", 16 * 1024)  # a small bound, same check
    (p,) = refused(folder / "ds.ods")
    assert p.file == "ds.ods"
    assert p.message.startswith("bảng tính .ods quá lớn khi giải nén (")
    assert "hãy mở bằng LibreOffice" in p.message


def test_the_last_cell_of_an_ods_never_reaches_calamine(tmp_path: Path) -> None:
    """In a process of its own: a value in XFD1048576 gives the Vietnamese message (calamine
    would refuse its 17 billion cells as a damaged file, or build a grid of the rest)."""
    f = ods_with(tmp_path / "2024-2025", EMPTY_ROW.format(n=1_048_558)
                 + '<table:table-row><table:table-cell table:number-columns-repeated="16383"/>'
                 f"{VALUE}</table:table-row>")
    code = textwrap.dedent(f"""
        from datetime import date
        from locson_analysis.importer import read_year
        from locson_analysis.errors import ImportProblems
        try:
            read_year({str(f.parent)!r}, today=date(2025, 6, 30))
        except ImportProblems as exc:
            print(exc.render())
            raise SystemExit(3)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 3, done.stderr[-2000:]
    assert "tệp ds.ods, trang tính «DSHS», dòng 1048576: có dữ liệu ở ô XFD1048576" in done.stdout
    assert "bị hỏng" not in done.stdout and "Traceback" not in done.stderr


# --- .xls ---------------------------------------------------------------------------------------

LABELSST, RK, MULRK, MULBLANK, DIMENSIONS = 0xFD, 0x27E, 0xBD, 0xBE, 0x200


def _records(stream: bytes, pos: int):  # noqa: ANN202 - (offset, type, length) of a substream
    while pos + 4 <= len(stream):
        typ, size = struct.unpack_from("<HH", stream, pos)
        yield pos, typ, size
        if typ == 0x0A:  # EOF
            return
        pos += 4 + size


def _sheet_offsets(stream: bytes) -> list[int]:
    return [struct.unpack_from("<I", stream, pos + 4)[0]
            for pos, typ, _ in _records(stream, 0) if typ == 0x85]


def xls_with(folder: Path, change, sheet: int = 0, name: str = "ds.xls") -> Path:  # noqa: ANN001
    """roster.xls with ``change(stream, records of the sheet)`` applied to its BIFF stream in
    place (the stream keeps its length, so olefile writes it back)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / name
    shutil.copy(OFFICE / "roster.xls", out)
    ole = olefile.OleFileIO(str(out), write_mode=True)
    stream = bytearray(ole.openstream("Workbook").read())
    change(stream, list(_records(bytes(stream), _sheet_offsets(bytes(stream))[sheet])))
    ole.write_stream("Workbook", bytes(stream))
    ole.close()
    return out


def _first(records: list, typ: int) -> tuple[int, int]:
    pos, _, size = next(r for r in records if r[1] == typ)
    return pos, size


def move_first(typ: int, row: int, col: int):  # noqa: ANN201
    """A change moving the sheet's first record of ``typ`` to (row, col), 0-based."""
    def change(stream: bytearray, records: list) -> None:
        pos, _ = _first(records, typ)
        struct.pack_into("<HH", stream, pos + 4, row, col)
    return change


def test_the_fixture_is_hostile_calamine_builds_the_moved_cell(tmp_path: Path) -> None:
    """(The fixture makes what the tests say: calamine's grid reaches the moved cell.  Only
    the row is moved here — the column too would cost calamine a gigabyte.)"""
    import python_calamine as pc

    f = xls_with(tmp_path, move_first(LABELSST, 65535, 3))
    wb = pc.CalamineWorkbook.from_path(str(f))
    assert wb.get_sheet_by_name("DSHS").end == (65535, 24)
    wb.close()


@pytest.mark.parametrize(("typ", "row", "col", "cell"), [
    (LABELSST, 65535, 255, "IV65536"),  # the last cell of an Excel 97–2003 sheet
    (LABELSST, 9, 150, "EU10"),  # the first column past the bound
    (RK, 4, 200, "GS5"),  # a number
])
def test_an_xls_value_past_the_bounds_names_file_sheet_and_cell(tmp_path: Path, typ: int,
                                                                 row: int, col: int,
                                                                 cell: str) -> None:
    f = xls_with(tmp_path / "2024-2025", move_first(typ, row, col))
    (p,) = refused(f)
    assert (p.file, p.sheet, p.row) == ("ds.xls", "DSHS", row + 1)
    assert p.message.startswith(f"có dữ liệu ở ô {cell}, {FAR}")


def test_an_xls_run_of_numbers_past_the_bounds_names_its_first_cell_outside(
        tmp_path: Path) -> None:
    """A MULRK record (several numbers in one row) from column EQ to EX: EU is named."""
    def change(stream: bytearray, records: list) -> None:
        pos, size = _first(records, MULRK)
        struct.pack_into("<H", stream, pos + 6, 146)  # first column EQ (0-based 146)
        struct.pack_into("<H", stream, pos + 4 + size - 2, 146 + (size - 6) // 6 - 1)
    f = xls_with(tmp_path / "2024-2025", change)
    (p,) = refused(f)
    assert p.sheet == "DSHS" and p.message.startswith(f"có dữ liệu ở ô EU{p.row}, {FAR}")


def test_the_second_xls_sheet_is_checked_and_named(tmp_path: Path) -> None:
    f = xls_with(tmp_path / "2024-2025", move_first(RK, 65535, 255),
                 sheet=1)
    (p,) = refused(f)
    assert (p.sheet, p.row) == ("Số liệu", 65536) and "ô IV65536" in p.message


@pytest.mark.parametrize("what", ["dimensions", "mulblank"])
def test_declared_or_formatted_xls_extent_is_not_data(tmp_path: Path, what: str) -> None:
    """A DIMENSIONS record claiming the whole sheet and blank formatted cells in IV65536 are
    not data (calamine ignores them): the file is read."""
    def change(stream: bytearray, records: list) -> None:
        if what == "dimensions":
            pos, _ = _first(records, DIMENSIONS)
            struct.pack_into("<IIHH", stream, pos + 4, 0, 65536, 0, 256)
        else:
            pos, size = _first(records, MULBLANK)
            struct.pack_into("<HH", stream, pos + 4, 65535, 250)
            struct.pack_into("<H", stream, pos + 4 + size - 2, 255)
    f = xls_with(tmp_path / "2024-2025", change)
    y = read_year(f.parent, today=TODAY)
    assert sorted(y.pupils["pupil_id"]) == ["HS001", "HS002", "HS003"]


def test_the_size_of_an_xls_is_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "2024-2025"
    folder.mkdir()
    shutil.copy(OFFICE / "roster.xls", folder / "ds.xls")
    monkeypatch.setattr(R, "MAX_XLS_BYTES", 8 * 1024)  # a small bound, same check
    (p,) = refused(folder / "ds.xls")
    assert p.file == "ds.xls" and p.message.startswith("tệp Excel cũ (.xls) quá lớn (")


def test_a_merged_range_to_the_end_of_the_sheet_makes_no_rows(tmp_path: Path) -> None:
    """A range merged down to row 1.048.576 (formatting, no data past its first cell) no
    longer makes the reader build a million rows: the table is read as without it.  (The
    range is written into the sheet's XML: openpyxl would make 20 million merged cells.)"""
    from tests.xlsx_builders import MOET_PUPIL_HEADERS, pupil_row, write_table

    folder = tmp_path / "2024-2025"
    folder.mkdir()
    f = folder / "ds.xlsx"
    write_table(f, MOET_PUPIL_HEADERS, [pupil_row()])
    before = [len(g.rows) for g in R._excel_grids(f.read_bytes())]
    with zipfile.ZipFile(f) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet], n = re.subn(
        rb'<mergeCells count="(\d+)">',
        lambda m: b'<mergeCells count="%d"><mergeCell ref="EA20:ET1048576"/>'
        % (int(m.group(1)) + 1), parts[sheet])
    assert n == 1
    with zipfile.ZipFile(f, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    grids = R._excel_grids(f.read_bytes())
    assert [len(g.rows) for g in grids] == before and before[0] < 100
    assert read_year(folder, today=date(2025, 6, 15)).pupils["pupil_id"].tolist() == ["HS001"]


def test_the_bounds_staff_are_told_are_the_bounds_read_keeps() -> None:
    from locson_analysis.numbers import fmt_num

    doc = (Path(__file__).resolve().parents[1] / "docs" / "data-format.md").read_text("utf-8")
    assert (f"**{fmt_num(R.MAX_ROWS)} dòng, {R.MAX_COLUMNS} cột (đến cột "
            f"{R.cell_ref(1, R.MAX_COLUMNS)[:-1]})**") in " ".join(doc.split())
    assert f"**{fmt_num(R.MAX_UNCOMPRESSED_BYTES // 1024 // 1024)} MB** khi giải nén" in doc
    assert f"**{fmt_num(R.MAX_XLS_BYTES // 1024 // 1024)} MB**" in doc
