"""Sample data are recorded as such, marked, and never mixed with the school's own files.

Real DuckDB files, real .xlsx written with openpyxl, the real ``locson`` command (cli.main).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from locson_analysis import cli, provenance, store
from locson_analysis.provenance import SAMPLE_MARK

from .store_builders import pupil, year_data
from .xlsx_builders import pupil_row, write_pupils


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database made by ``locson init`` with no staff files (the synthetic sample)."""
    d = tmp_path_factory.mktemp("sampledb")
    rc = cli.main(["init", "--db", str(d / "locson.duckdb"), "--raw", str(d / "raw"),
                   "--sample", str(d / "sample")])
    assert rc == 0
    return d


def _copy(sample_db: Path, tmp_path: Path) -> Path:
    db = tmp_path / "locson.duckdb"
    shutil.copy(sample_db / "locson.duckdb", db)
    return db


def _school_files(raw: Path, year: str = "2024-2025") -> Path:
    """The school's own (tiny) pupil list for one year under ``raw/<year>/``."""
    folder = raw / year
    folder.mkdir(parents=True)
    write_pupils(folder / "Danh sach HS.xlsx",
                 [pupil_row(), pupil_row("HS002", "Trần Thị Bình", "05/09/2011", "Nữ")],
                 title=f"DANH SÁCH HỌC SINH NĂM HỌC {year}")
    return folder


def _imports(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT count(*) FROM imports").fetchall()[0][0]


def test_init_without_staff_files_records_and_marks_the_sample(sample_db, capsys):
    db = sample_db / "locson.duckdb"
    assert store.data_origin(db) == provenance.SAMPLE
    ds = store.load(db)
    assert ds.is_sample and ds.for_school("LOCSON").is_sample
    assert (sample_db / "sample" / provenance.SAMPLE_DIR_MARKER).is_file()
    # every reading command starts with the mark
    assert cli.main(["summary", "--db", str(db)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"*** {SAMPLE_MARK} ***"


def test_init_output_says_sample_and_how_to_start_with_real_files(tmp_path, capsys):
    rc = cli.main(["init", "--db", str(tmp_path / "x.duckdb"), "--raw", str(tmp_path / "raw"),
                   "--sample", str(tmp_path / "sample")])
    out = capsys.readouterr().out
    assert rc == 0
    assert SAMPLE_MARK in out
    assert f"{tmp_path / 'raw'}/<năm học>/" in out


def test_importing_real_files_into_the_sample_is_refused_and_changes_nothing(
        sample_db, tmp_path, capsys):
    db = _copy(sample_db, tmp_path)
    before = _imports(db)
    folder = _school_files(tmp_path / "raw")
    rc = cli.main(["import", str(folder), "--db", str(db)])
    err = capsys.readouterr().err
    assert rc == 1
    assert "DỮ LIỆU MẪU" in err and "locson init" in err and "--db" in err
    assert "Dữ liệu không bị thay đổi" in err
    assert _imports(db) == before
    assert store.data_origin(db) == provenance.SAMPLE


def test_init_with_staff_files_sets_the_sample_aside_and_uses_the_real_files(
        sample_db, tmp_path, capsys):
    db = _copy(sample_db, tmp_path)
    raw = tmp_path / "raw"
    _school_files(raw)
    rc = cli.main(["init", "--db", str(db), "--raw", str(raw),
                   "--sample", str(tmp_path / "sample")])
    out = capsys.readouterr().out
    assert rc == 0
    aside = tmp_path / "locson.mau.duckdb"
    assert f"cất cơ sở dữ liệu mẫu sang {aside}" in out
    assert store.data_origin(aside) == provenance.SAMPLE  # the sample is kept, untouched
    assert _imports(aside) == _imports(sample_db / "locson.duckdb")
    assert store.data_origin(db) == provenance.FILES
    ds = store.load(db)
    assert not ds.is_sample
    assert ds.years() == ["2024-2025"]
    assert sorted(ds.pupils["pupil_id"]) == ["HS001", "HS002"]
    assert SAMPLE_MARK not in out
    # a second init keeps the real database; no mark on the real data
    assert cli.main(["init", "--db", str(db), "--raw", str(raw)]) == 0
    out = capsys.readouterr().out
    assert "không nhập lại" in out and SAMPLE_MARK not in out
    assert cli.main(["summary", "--db", str(db)]) == 0
    assert SAMPLE_MARK not in capsys.readouterr().out


def test_a_second_set_aside_does_not_overwrite_the_first(tmp_path):
    db = tmp_path / "locson.duckdb"
    store.write_year(db, year_data("2024-2025", [pupil("A", 6)]), origin=provenance.SAMPLE)
    (tmp_path / "locson.mau.duckdb").write_bytes(b"older")
    assert store.set_aside(db) == tmp_path / "locson.mau-2.duckdb"
    assert (tmp_path / "locson.mau.duckdb").read_bytes() == b"older"
    assert not db.exists()


def test_sample_files_into_a_real_database_are_refused(sample_db, tmp_path, capsys):
    db = tmp_path / "real.duckdb"
    assert cli.main(["import", str(_school_files(tmp_path / "raw")), "--db", str(db)]) == 0
    capsys.readouterr()
    rc = cli.main(["import", str(sample_db / "sample" / "2023-2024"), "--db", str(db)])
    err = capsys.readouterr().err
    assert rc == 1
    assert "dữ liệu thật" in err and "không nhập dữ liệu mẫu" in err
    assert store.load(db).years() == ["2024-2025"]


def test_sample_and_real_paths_in_one_import_are_refused(sample_db, tmp_path, capsys):
    db = tmp_path / "new.duckdb"
    real = _school_files(tmp_path / "raw")
    rc = cli.main(["import", str(real), str(sample_db / "sample" / "2023-2024"),
                   "--db", str(db)])
    err = capsys.readouterr().err
    assert rc == 1
    assert "cả dữ liệu mẫu" in err and str(sample_db / "sample" / "2023-2024") in err
    assert not db.exists() or store.data_origin(db) is None


def test_sample_files_imported_by_hand_are_recorded_as_sample(sample_db, tmp_path, capsys):
    db = tmp_path / "s.duckdb"
    assert cli.main(["import", str(sample_db / "sample" / "2022-2023"), "--db", str(db)]) == 0
    assert SAMPLE_MARK in capsys.readouterr().out
    assert store.data_origin(db) == provenance.SAMPLE


def test_indicators_csv_on_stdout_stays_clean_the_mark_goes_to_stderr(sample_db, capsys):
    rc = cli.main(["indicators", "--year", "2024-2025", "--db",
                   str(sample_db / "locson.duckdb")])
    cap = capsys.readouterr()
    assert rc == 0
    assert cap.out.splitlines()[0].replace("\"", "").startswith("school_code,school_year,indicator")
    assert SAMPLE_MARK in cap.err and SAMPLE_MARK not in cap.out


def test_a_database_from_before_origins_were_recorded_is_unknown_and_not_blocked(tmp_path):
    db = tmp_path / "old.duckdb"
    store.write_year(db, year_data("2023-2024", [pupil("A", 6)]))
    with duckdb.connect(str(db)) as con:  # what an older version left: no origin
        con.execute("DELETE FROM meta WHERE key = ?", [provenance.ORIGIN_KEY])
    assert store.data_origin(db) == store.UNKNOWN_ORIGIN
    store.write_year(db, year_data("2024-2025", [pupil("A", 7)]))
    assert store.data_origin(db) == store.UNKNOWN_ORIGIN  # not guessed afterwards
    assert not store.load(db).is_sample


def test_empty_or_missing_database_has_no_origin(tmp_path):
    assert store.data_origin(tmp_path / "none.duckdb") is None
    with store.connect(tmp_path / "empty.duckdb"):
        pass
    assert store.data_origin(tmp_path / "empty.duckdb") is None
