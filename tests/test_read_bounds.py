"""Bounded reading of hostile workbooks (issue 12, points 3 and 8): the used range comes from
the cells holding data, a value far outside the table is refused with a message naming the
file and the cell (never a crash or a 512 GB allocation), the uncompressed size is capped, and
a formula with no saved result is reported by its cell instead of being read as blank."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from locson_analysis import read as R
from locson_analysis.errors import ImportProblems
from locson_analysis.importer import read_year
from tests.xlsx_builders import MOET_PUPIL_HEADERS, pupil_row, write_pupils, write_table

TODAY = date(2025, 6, 15)


def year_dir(tmp_path: Path) -> Path:
    d = tmp_path / "2024-2025"
    d.mkdir()
    return d


def stray_value(path: Path, cell: str) -> Path:
    """A small valid pupil list with one value typed in ``cell`` of its sheet."""
    wb = write_table(path, MOET_PUPIL_HEADERS, [pupil_row()], save=False)
    wb.active[cell] = "x"
    wb.save(path)
    return path


def read_in_child(path: Path) -> subprocess.CompletedProcess:
    """read_year in a process of its own (a reader that aborted would take pytest with it)."""
    code = textwrap.dedent(f"""
        from datetime import date
        from locson_analysis.importer import read_year
        from locson_analysis.errors import ImportProblems
        try:
            read_year({str(path)!r}, today=date(2025, 6, 15))
        except ImportProblems as exc:
            print(exc.render())
            raise SystemExit(3)
    """)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)


def test_a_value_in_the_last_cell_of_the_sheet_is_refused_by_name(tmp_path: Path) -> None:
    f = stray_value(year_dir(tmp_path) / "ds.xlsx", "XFD1048576")
    assert f.stat().st_size < 100_000
    done = read_in_child(f)
    assert done.returncode == 3, done.stderr[-2000:]  # a Vietnamese message, no abort
    out = done.stdout
    assert "Không nhập được: phát hiện 1 lỗi" in out
    assert "tệp ds.xlsx, trang tính «DSHS», dòng 1048576" in out
    assert "có dữ liệu ở ô XFD1048576, ngoài giới hạn đọc (100.000 dòng, 150 cột" in out
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(("cell", "row"), [("A1048576", 1048576), ("B100001", 100001),
                                           ("EU3", 3), ("AAA7", 7)])
def test_a_value_beyond_the_row_or_column_bound_names_its_cell(tmp_path: Path, cell: str,
                                                                row: int) -> None:
    f = stray_value(year_dir(tmp_path) / "ds.xlsx", cell)
    with pytest.raises(ImportProblems) as exc:
        read_year(f, today=TODAY)
    (p,) = exc.value.problems
    assert (p.file, p.sheet, p.row) == ("ds.xlsx", "DSHS", row)
    assert f"có dữ liệu ở ô {cell}, ngoài giới hạn đọc" in p.message


def test_the_last_cells_inside_the_bounds_are_read(tmp_path: Path) -> None:
    """A value in ET (column 150) is inside: read, the file accepted (column unused)."""
    f = year_dir(tmp_path) / "ds.xlsx"
    wb = write_table(f, MOET_PUPIL_HEADERS, [pupil_row()], save=False)
    wb.active.cell(6, 150, "Cột ghi thêm")
    wb.active.cell(8, 150, "x")
    wb.save(f)
    y = read_year(f, today=TODAY)
    assert y.pupils["pupil_id"].tolist() == ["HS001"]
    assert any("cột «Cột ghi thêm» không dùng đến" in n for n in y.notes)


def test_formatted_cells_far_away_are_not_data(tmp_path: Path) -> None:
    from openpyxl.styles import Font

    f = year_dir(tmp_path) / "ds.xlsx"
    wb = write_table(f, MOET_PUPIL_HEADERS, [pupil_row()], save=False)
    wb.active["XFD1048576"].font = Font(bold=True)
    wb.save(f)
    assert read_year(f, today=TODAY).pupils["pupil_id"].tolist() == ["HS001"]


def test_the_uncompressed_size_is_capped(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    f = write_pupils(year_dir(tmp_path) / "ds.xlsx", [pupil_row()])
    monkeypatch.setattr(R, "MAX_UNCOMPRESSED_BYTES", 4 * 1024)  # a small bound, same check
    with pytest.raises(ImportProblems) as exc:
        read_year(f, today=TODAY)
    (p,) = exc.value.problems
    assert p.file == "ds.xlsx"
    assert p.message.startswith("tệp Excel quá lớn khi giải nén (")
    assert str(p).startswith("tệp ds.xlsx: tệp Excel quá lớn khi giải nén")


def test_the_bound_is_checked_on_every_sheet_and_names_it(tmp_path: Path) -> None:
    f = year_dir(tmp_path) / "ds.xlsx"
    wb = write_table(f, MOET_PUPIL_HEADERS, [pupil_row()], save=False)
    extra = wb.create_sheet("Ghi chú & khác")
    extra["ZZ200000"] = 1
    wb.save(f)
    with pytest.raises(ImportProblems) as exc:
        read_year(f, today=TODAY)
    (p,) = exc.value.problems
    assert (p.sheet, p.row) == ("Ghi chú & khác", 200000)
    assert "ô ZZ200000" in p.message


def test_a_formula_without_a_saved_result_is_reported_by_cell(tmp_path: Path) -> None:
    """openpyxl saves formulas without results, as other programs do: the absences cell is
    unknown, not blank; a formula in a column that is not read (STT) is no problem."""
    f = year_dir(tmp_path) / "ds.xlsx"
    wb = write_table(f, MOET_PUPIL_HEADERS, [pupil_row("HS001"), pupil_row("HS002")],
                     save=False)
    ws = wb.active
    col = MOET_PUPIL_HEADERS.index("Số buổi nghỉ học kỳ I") + 1
    ws.cell(9, col, "=1+1")  # the second pupil (header row 6, number row 7)
    ws.cell(8, 1, "=ROW()-7")  # STT
    wb.save(f)
    with pytest.raises(ImportProblems) as exc:
        read_year(f, today=TODAY)
    (p,) = exc.value.problems
    ref = R.cell_ref(9, col)
    assert (p.file, p.sheet, p.row, p.column) == ("ds.xlsx", "DSHS", 9, "Số buổi nghỉ học kỳ I")
    assert p.message.startswith(f"ô {ref} có công thức nhưng tệp không lưu kết quả")


def test_a_formula_with_its_saved_result_is_read(tmp_path: Path) -> None:
    """The same workbook after Excel calculated it: the cached value is read."""
    import zipfile

    f = year_dir(tmp_path) / "ds.xlsx"
    wb = write_table(f, MOET_PUPIL_HEADERS, [pupil_row("HS001")], save=False)
    col = MOET_PUPIL_HEADERS.index("Số buổi nghỉ học kỳ I") + 1
    wb.active.cell(8, col, "=1+1")
    wb.save(f)
    with zipfile.ZipFile(f) as z:  # write the result Excel would have saved
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    assert b"<f>1+1</f><v /></c>" in parts[sheet]
    parts[sheet] = parts[sheet].replace(b"<f>1+1</f><v />", b"<f>1+1</f><v>2</v>")
    with zipfile.ZipFile(f, "w") as z:
        for n, b in parts.items():
            z.writestr(n, b)
    assert read_year(f, today=TODAY).pupils["absences_s1"].tolist() == [2]


def test_cell_ref_names_cells_as_excel_does() -> None:
    assert R.cell_ref(1, 1) == "A1"
    assert R.cell_ref(1048576, 16384) == "XFD1048576"
    assert R.cell_ref(5, 150) == "ET5"
    wb = openpyxl.Workbook()
    assert wb.active.cell(7, 703).coordinate == R.cell_ref(7, 703)


def test_every_problem_is_kept_beyond_the_200_shown(tmp_path: Path) -> None:
    """The console shows 200 problems (cli: render(limit=200)); the exception keeps all of
    them for a file of every problem (``--all-errors``)."""
    rows = [pupil_row(f"HS{i:03d}", **{"Giới tính": "?"}) for i in range(260)]
    f = write_pupils(year_dir(tmp_path) / "ds.xlsx", rows)
    with pytest.raises(ImportProblems) as exc:
        read_year(f, today=TODAY)
    problems = exc.value.problems
    assert len(problems) == 260
    assert sorted(p.row for p in problems) == list(range(8, 268))
    full = exc.value.render()
    assert "phát hiện 260 lỗi" in full and "  260. tệp ds.xlsx" in full
    short = exc.value.render(limit=200)
    assert "  200. tệp" in short and "  201." not in short and "… và 60 lỗi khác." in short


def test_the_declared_dimension_is_not_trusted(tmp_path: Path) -> None:
    """A sheet declaring A1:XFD1048576 whose cells fill a small table is read by its cells."""
    import re
    import zipfile

    f = write_pupils(year_dir(tmp_path) / "ds.xlsx", [pupil_row()])
    with zipfile.ZipFile(f) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet], n = re.subn(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"',
                              parts[sheet])
    assert n == 1
    with zipfile.ZipFile(f, "w") as z:
        for name, b in parts.items():
            z.writestr(name, b)
    assert read_year(f, today=TODAY).pupils["pupil_id"].tolist() == ["HS001"]
