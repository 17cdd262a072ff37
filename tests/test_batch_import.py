"""Importing several school-year folders at once: one transaction, all or nothing, every
problem of every folder listed, each year its own import (history, restore, --replace)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest

from locson_analysis import cli, importer, store
from locson_analysis.errors import ImportProblems, LocsonError
from locson_analysis.sample import write_sample
from tests.store_builders import pupil, year_data

Y0, Y1 = "2023-2024", "2024-2025"


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PGD's folder as staff send it: one folder per school, one subfolder per year."""
    base = tmp_path_factory.mktemp("district") / "pgd"
    kw = {"first_year": Y0, "last_year": Y1, "in_progress": False, "entrants_per_year": 40}
    write_sample(base / "locphat", school_code="LOCPHAT", **kw)
    write_sample(base / "locson", **kw)
    return base


@pytest.fixture
def folders(district: Path, tmp_path: Path) -> Path:
    """A private copy of the district folder (tests may break files in it)."""
    return Path(shutil.copytree(district, tmp_path / "pgd"))


def _content(db: Path) -> dict[str, list]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
                for t in ("imports", "active_imports", "pupil_records", "school_fact_records",
                          "population_records", "crossyear_checks")}


def _stored(db: Path) -> dict[str, pd.DataFrame]:
    """The active tables, without import ids (which differ between import orders)."""
    ds = store.load(db, with_names=True)
    out = {}
    for name in ("pupils", "school", "population"):
        df = getattr(ds, name)
        df = df.astype({c: "object" for c in df.columns if str(df[c].dtype) == "category"})
        out[name] = df.sort_values(list(df.columns[:4])).reset_index(drop=True)
    return out


def _break_cell(xlsx: Path, header: str, value: object) -> None:
    """Write ``value`` into the first pupil's cell under ``header``, as a person would in
    Excel (the file is saved again with openpyxl)."""
    wb = openpyxl.load_workbook(xlsx)
    ws = wb.active
    for row in ws.iter_rows():
        cols = [c.column for c in row if c.value == header]
        if cols:
            col, r = cols[0], row[0].row + 1
            while ws.cell(r, col).value not in ("Nam", "Nữ") and header == "Giới tính":
                r += 1
            while header != "Giới tính" and not ws.cell(r, 2).value:
                r += 1
            ws.cell(r, col).value = value
            wb.save(xlsx)
            return
    raise AssertionError(f"no header {header} in {xlsx}")


def _pupil_file(folder: Path) -> Path:
    return next(p for p in folder.iterdir() if "sinh" in p.name.lower())


# --- which folders a path stands for -------------------------------------------------------------

def test_folders_follow_the_init_convention(district: Path) -> None:
    years = [district / s / y for s in ("locphat", "locson") for y in (Y0, Y1)]
    assert importer.find_year_folders(district) == years
    assert importer.find_year_folders(district / "locson") == years[2:]
    assert importer.find_year_folders(district / "locson" / Y1) == [years[3]]
    one_file = _pupil_file(years[3])
    assert importer.find_year_folders(one_file) == [one_file]


# --- success -------------------------------------------------------------------------------------

def test_batch_import_writes_every_year_as_its_own_import(district: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture) -> None:
    db = tmp_path / "pgd.duckdb"
    assert cli.main(["import", str(district / "locphat"), str(district / "locson"),
                     "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "Đã nhập 4 năm học của 2 trường" in out and "trong một lần ghi" in out
    assert f"{Y1}, Trường THCS Lộc Phát (mã LOCPHAT)" in out
    assert "Kiểm tra giữa các năm học" in out
    assert "ghi chú thường lệ về từng tệp" in out and "--details" in out
    assert "không lưu (Nghị định 13/2023)" not in out  # the routine notes only with --details
    h = store.history(db)
    assert len(h) == 4 * 3  # pupils, school sheet, population per school year
    assert set(h["action"]) == {"import"} and h["active"].all()
    assert sorted(set(zip(h["school_code"], h["school_year"], strict=True))) == [
        ("LOCPHAT", Y0), ("LOCPHAT", Y1), ("LOCSON", Y0), ("LOCSON", Y1)]

    # The same tables as importing the folders one by one (the way it was done before).
    one_by_one = tmp_path / "one.duckdb"
    for school in ("locphat", "locson"):
        for year in (Y0, Y1):
            assert cli.main(["import", str(district / school / year),
                             "--db", str(one_by_one)]) == 0
    capsys.readouterr()
    a, b = _stored(db), _stored(one_by_one)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_dtype=False)
    assert _content(db)["crossyear_checks"] == _content(one_by_one)["crossyear_checks"]


def test_parallel_and_serial_reading_store_identical_tables(
        district: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(importer.PARALLEL_MIN_FOLDERS, "fork", 2)
    monkeypatch.setitem(importer.PARALLEL_MIN_FOLDERS, "spawn", 2)
    serial = importer.read_years([district], workers=1)
    parallel = importer.read_years([district], workers=2)
    assert [(y.school_code, y.school_year) for y in serial] == \
        [(y.school_code, y.school_year) for y in parallel]
    for s, p in zip(serial, parallel, strict=True):
        for kind in ("pupils", "school", "population"):
            pd.testing.assert_frame_equal(getattr(s, kind), getattr(p, kind))
        assert s.notes == p.notes and s.files == p.files
    dbs = {}
    for name, years in (("serial", serial), ("parallel", parallel)):
        dbs[name] = tmp_path / f"{name}.duckdb"
        store.write_years(dbs[name], years)
    a, b = _stored(dbs["serial"]), _stored(dbs["parallel"])
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])


# --- all or nothing ------------------------------------------------------------------------------

def test_a_bad_file_anywhere_lists_every_problem_and_changes_nothing(
        folders: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    db = tmp_path / "pgd.duckdb"
    assert cli.main(["import", str(folders / "locson" / Y0), "--db", str(db)]) == 0
    before = db.read_bytes()
    # the 2nd folder of the batch and the 4th: two problems in one, one in the other
    second = _pupil_file(folders / "locphat" / Y1)
    _break_cell(second, "Giới tính", "X")
    _break_cell(second, "Lớp", "12A1")
    fourth = _pupil_file(folders / "locson" / Y1)
    _break_cell(fourth, "Giới tính", "Không rõ")
    capsys.readouterr()
    assert cli.main(["import", str(folders), "--replace", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "Cơ sở dữ liệu không bị thay đổi" in err
    assert f"tệp {second}" in err and f"tệp {fourth}" in err  # files named by their path
    assert "giá trị «X»: giới tính phải là «Nam» hoặc «Nữ»" in err
    assert "giá trị «Không rõ»: giới tính phải là «Nam» hoặc «Nữ»" in err
    assert "khối 6 không khớp với lớp «12A1»" in err
    assert err.count("trang tính «DSHS», dòng 7") == 3
    assert db.read_bytes() == before


def test_a_failure_while_writing_rolls_back_every_year(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    store.write_year(db, year_data(Y0, [pupil("A1", 6)]))
    before = _content(db)
    good = year_data(Y1, [pupil("A1", 7)], school={"toilets": 12})
    bad = year_data(Y1, [pupil("X1", 7)], school={"toilets": 3}, school_code="LOCPHAT")
    bad.school["value"] = ["not a number"]  # the last table fails after the others are in
    with pytest.raises(Exception):  # noqa: B017 - any failure must roll back
        store.write_years(db, [good, bad])
    assert _content(db) == before


def test_the_same_school_year_twice_in_one_batch_is_a_problem(folders: Path) -> None:
    copy = folders / "again" / Y1
    shutil.copytree(folders / "locson" / Y1, copy)
    with pytest.raises(ImportProblems) as exc:
        importer.read_years([folders / "locson", copy], workers=1)
    (p,) = exc.value.problems
    assert p.file == str(copy) and f"đã có ở «{folders / 'locson' / Y1}»" in p.message
    with pytest.raises(LocsonError, match="hai lần"):
        store.write_years(folders / "x.duckdb", [year_data(Y1, [pupil("A1", 6)])] * 2)


# --- replace, history, restore -------------------------------------------------------------------

def test_replace_rules_apply_per_school_year(folders: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture) -> None:
    db = tmp_path / "pgd.duckdb"
    assert cli.main(["import", str(folders / "locson" / Y1), "--db", str(db)]) == 0
    before = _content(db)
    capsys.readouterr()
    # LOCSON 2024-2025 is already there: without --replace nothing of the batch is written
    assert cli.main(["import", str(folders), "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert "năm học 2024-2025 của Trường THCS Lộc Sơn (mã LOCSON)" in err
    assert "--replace" in err and "Dữ liệu không bị thay đổi" in err
    assert _content(db) == before
    assert cli.main(["import", str(folders), "--replace", "--details", "--db", str(db)]) == 0
    assert "không lưu (Nghị định 13/2023)" in capsys.readouterr().out  # every note, asked for
    h = store.history(db)
    replaced = h[h["action"] == "replace"]
    assert set(zip(replaced["school_code"], replaced["school_year"], strict=True)) == {
        ("LOCSON", Y1)}
    assert len(h) == 3 + 4 * 3 and h["active"].sum() == 4 * 3


def test_history_and_restore_per_folder_after_a_batch(folders: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture) -> None:
    db = tmp_path / "pgd.duckdb"
    ids = store.write_years(db, importer.read_years([folders], workers=1))
    assert [len(i) for i in ids] == [3, 3, 3, 3]
    first_pupils = ids[3][0]  # LOCSON 2024-2025, its pupil list
    _break_cell(_pupil_file(folders / "locson" / Y1), "Họ và tên", "Tên Đã Sửa")
    assert cli.main(["import", str(folders / "locson" / Y1), "--replace", "--db",
                     str(db)]) == 0
    assert cli.main(["history", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "Mã lần nhập: 13, 14, 15" in out and "đang dùng" in out
    names = set(store.load(db, school_code="LOCSON", with_names=True).pupils["full_name"])
    assert "Tên Đã Sửa" in names
    assert cli.main(["restore", str(first_pupils), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert f"Đã khôi phục cả lần nhập chứa lần nhập số {first_pupils}" in out
    assert f"danh sách học sinh (lần nhập số {first_pupils})" in out
    ds = store.load(db, with_names=True)
    assert "Tên Đã Sửa" not in set(ds.pupils["full_name"])
    active = ds.imports.set_index(["school_code", "school_year", "kind"])["import_id"]
    assert active[("LOCSON", Y1, "pupils")] == first_pupils
    # the whole import comes back: its other kinds too, not the replacing import's
    assert [active[("LOCSON", Y1, k)] for k in ("pupils", "school", "population")] == ids[3]
    assert active[("LOCPHAT", Y1, "pupils")] == ids[1][0]  # other folders untouched


def _problems_folder_by_folder(folders: Path) -> list:
    """Every folder's problems, each folder read alone (labelled as a batch labels them)."""
    alone = []
    for folder in importer.find_year_folders(folders):
        try:
            importer.read_year(folder)
        except ImportProblems as exc:
            alone += [importer._label(folder, p) for p in exc.problems]
    return alone


def test_problems_of_a_batch_are_those_of_each_folder_alone(
        folders: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Schema checks run once over many folders' tables (and in worker processes): every
    folder's problems are exactly those it has alone, in the same order."""
    _break_cell(_pupil_file(folders / "locphat" / Y0), "Giới tính", "X")
    _break_cell(_pupil_file(folders / "locphat" / Y0), "Ngày sinh", "31/02/2012")
    _break_cell(_pupil_file(folders / "locson" / Y1), "Giới tính", "")
    alone = _problems_folder_by_folder(folders)
    assert len(alone) >= 3
    for workers in (1, 2):
        monkeypatch.setitem(importer.PARALLEL_MIN_FOLDERS, "fork", 2)
        with pytest.raises(ImportProblems) as exc:
            importer.read_years([folders], workers=workers)
        assert exc.value.problems == alone


def test_init_imports_every_year_folder_in_one_batch(district: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    db = tmp_path / "init.duckdb"
    assert cli.main(["init", "--raw", str(district / "locphat"), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert f"Đã nhập {Y0}:" in out and f"Đã nhập {Y1}:" in out
    assert "Đã tạo cơ sở dữ liệu" in out
    assert sorted(store.summary(db)["school_year"]) == [Y0, Y1]
    assert set(store.history(db)["school_code"]) == {"LOCPHAT"}


def test_workers_are_the_cores_other_programs_leave_free(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    import os

    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.1, 0.1, 0.1))
    assert importer.default_workers() == 2
    monkeypatch.setattr(os, "getloadavg", lambda: (1.2, 0.1, 0.1))  # this import, or idle VM
    assert importer.default_workers() == 2
    monkeypatch.setattr(os, "getloadavg", lambda: (2.2, 0.1, 0.1))  # one other busy program
    assert importer.default_workers() == 1
    monkeypatch.setattr(os, "getloadavg", lambda: (6.0, 0.1, 0.1))
    assert importer.default_workers() == 1


def test_checks_of_the_imported_schools_only_are_redone(tmp_path: Path) -> None:
    """After an import the cross-year checks of its schools are recomputed and the others'
    kept: the stored findings equal a full recomputation."""
    from locson_analysis import crossyear

    db = tmp_path / "pgd.duckdb"

    def stored_equal_full() -> pd.DataFrame:
        with duckdb.connect(str(db), read_only=True) as con:
            stored = con.execute("SELECT * FROM crossyear_checks ORDER BY ALL").fetchall()
        full = crossyear.check_all(store.load(db).pupils)
        assert stored == sorted(map(tuple, full[crossyear.COLUMNS].astype(object).to_numpy()
                                    .tolist()))
        return full

    years = []
    for code in ("LOCPHAT", "LOCSON"):  # A1 promoted, then missing: one finding per school
        years += [year_data(Y0, [pupil("A1", 6), pupil("A2", 6)], school_code=code),
                  year_data(Y1, [pupil("A2", 7)], school_code=code)]
    store.write_years(db, years)
    cli._refresh_checks(db)
    assert sorted(stored_equal_full()["school_code"]) == ["LOCPHAT", "LOCSON"]
    # LOCSON's 2024-2025 list replaced: A1 is there now, A2 is missing
    store.write_year(db, year_data(Y1, [pupil("A1", 7)], school_code="LOCSON"), replace=True)
    cli._refresh_checks(db, schools={"LOCSON"})
    full = stored_equal_full()
    assert sorted(zip(full["school_code"], full["pupil_id"], strict=True)) == [
        ("LOCPHAT", "A1"), ("LOCSON", "A2")]


def _set_cells(xlsx: Path, changes: list[tuple[int, str, object]]) -> None:
    """Write values into pupil rows, ``(k-th pupil row, header, value)``, as a person would in
    Excel (saved again with openpyxl); the value ``("copy", j)`` is the k-th row's cell copied
    from pupil row j."""
    wb = openpyxl.load_workbook(xlsx)
    ws = wb.active
    top = next(row[0].row for row in ws.iter_rows() if row[0].value == "STT")
    cols = {c.value: c.column for c in ws[top] if c.value}
    cols["Mã học sinh"] = 2  # (or «Mã định danh Bộ GD&ĐT …»)
    rows = [r for r in range(top + 1, ws.max_row + 1)
            if str(ws.cell(r, 2).value or "").strip().isdigit()]
    for k, header, value in changes:
        if isinstance(value, tuple):
            value = ws.cell(rows[value[1]], cols[header]).value
        ws.cell(rows[k], cols[header]).value = value
    wb.save(xlsx)


def test_whole_year_checks_of_a_batch_are_those_of_each_folder_alone(
        folders: Path, tmp_path: Path) -> None:
    """The whole-year checks run once over every folder of a batch (check_pupils_many):
    duplicate IDs, dates against each folder's own school year and today, a finished year
    with pupils still «Đang học», mixed result scales — errors in several folders of
    different years give exactly the problems, in the order, of each folder alone."""
    _set_cells(_pupil_file(folders / "locphat" / Y0), [
        (3, "Mã học sinh", ("copy", 7)), (5, "Ngày sinh", "01/01/2030"),
        (6, "Ngày sinh", "01/01/1985"), (8, "Kết quả cuối năm", "Đang học"),
        (9, "Ngày nghỉ", "05/05/2000")])
    _set_cells(_pupil_file(folders / "locphat" / Y1), [
        (2, "Mã học sinh", ("copy", 4)), (4, "Ngày vào trường", "01/06/2030")])
    _set_cells(_pupil_file(folders / "locson" / Y1), [
        *((k, "Kết quả cuối năm", "Đang học") for k in range(10, 40)),
        (1, "Mã học sinh", ("copy", 2))])
    alone = _problems_folder_by_folder(folders)
    messages = " ".join(p.message for p in alone)
    for expected in ("mã học sinh bị trùng", "ngày ở tương lai", "năm sinh 1985",
                     "ngày nằm ngoài năm học", "năm học đã kết thúc"):
        assert expected in messages
    assert len({p.file for p in alone}) == 3
    with pytest.raises(ImportProblems) as exc:
        importer.read_years([folders], workers=1)
    assert exc.value.problems == alone


def test_a_worker_that_dies_is_that_files_problem_and_the_rest_are_listed(
        folders: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader that kills its process (as python-calamine aborting on a huge sheet did): the
    file is named, and the other folders' problems are still listed.  The fault is injected
    into the real reader: in a worker process (never this one) reading «chet.xlsx» exits."""
    import os

    from locson_analysis import read as R

    here = os.getpid()
    real = R.read_file

    def read_file(path: object) -> object:
        if Path(str(path)).name == "chet.xlsx" and os.getpid() != here:
            os._exit(9)
        return real(path)

    monkeypatch.setattr(R, "read_file", read_file)
    deadly = folders / "locphat" / Y0  # the first folder: the first chunk, a worker's
    shutil.copy(sorted(deadly.glob("*.xlsx"))[0], deadly / "chet.xlsx")
    broken = next(f for f in (folders / "locson" / Y1).glob("*.xlsx")
                  if "Danh" in f.name or "DS" in f.name)
    _break_cell(broken, "Giới tính", "Không rõ")
    with pytest.raises(ImportProblems) as exc:
        importer.read_years([folders], workers=2)
    text = str(exc.value)
    assert f"tệp {deadly / 'chet.xlsx'}: chương trình đọc tệp bị dừng đột ngột (mã thoát 9)" \
        in text
    assert f"tệp {broken}" in text and "giá trị «Không rõ»" in text
