"""The DuckDB store: all-or-nothing writes, replace and restore, history, locks."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import duckdb
import pandas as pd
import pytest

from locson_analysis import store
from locson_analysis.errors import LocsonError
from tests.store_builders import pupil, year_data


def _content(db) -> dict[str, list]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
                for t in ("imports", "active_imports", "pupil_records", "school_fact_records")}


class TestWriteYear:
    def test_round_trip_keeps_types_and_values(self, tmp_path):
        db = tmp_path / "t.duckdb"
        y = year_data("2024-2025", [pupil("A1", 6, poor=True, absences_s1=3,
                                          entry_date="2024-11-02"), pupil("A2", 9, "completed")],
                      school={"toilets": 12, "toilets_hygienic": 10})
        store.write_year(db, y)
        ds = store.load(db)
        assert list(ds.pupils["pupil_id"]) == ["A1", "A2"]
        a1 = ds.pupils.iloc[0]
        assert a1["poor"] is True or a1["poor"] == True  # noqa: E712 - pandas boolean scalar
        assert a1["absences_s1"] == 3
        assert a1["entry_date"] == pd.Timestamp("2024-11-02")
        assert a1["school_year"] == "2024-2025" and a1["school_code"] == "LOCSON"
        assert str(ds.pupils["grade"].dtype) == "Int64"
        assert dict(zip(ds.school["item"], ds.school["value"])) == {"toilets": 12.0,
                                                                    "toilets_hygienic": 10.0}
        assert ds.years() == ["2024-2025"]

    def test_second_import_needs_replace_and_changes_nothing(self, tmp_path):
        db = tmp_path / "t.duckdb"
        store.write_year(db, year_data("2024-2025", [pupil("A1", 6)]))
        before = _content(db)
        with pytest.raises(store.YearExists, match="--replace"):
            store.write_year(db, year_data("2024-2025", [pupil("B1", 7)]))
        assert _content(db) == before

    def test_a_part_arriving_later_needs_no_replace(self, tmp_path):
        db = tmp_path / "t.duckdb"
        store.write_year(db, year_data("2024-2025", [pupil("A1", 6)]))
        later = year_data("2024-2025", [], school={"toilets": 12})
        later.pupils = None
        later.files = [f for f in later.files if f.kind == "school"]
        store.write_year(db, later)
        ds = store.load(db)
        assert len(ds.pupils) == 1 and len(ds.school) == 1

    def test_failure_midway_rolls_back_everything(self, tmp_path):
        db = tmp_path / "t.duckdb"
        store.write_year(db, year_data("2023-2024", [pupil("A1", 6)]))
        before = _content(db)
        bad = year_data("2024-2025", [pupil("A1", 7)], school={"toilets": 12})
        bad.school["value"] = ["not a number"]  # the second table fails after the first is in
        with pytest.raises(Exception):  # noqa: B017 - any failure must roll back
            store.write_year(db, bad)
        assert _content(db) == before

    def test_replace_keeps_old_version_and_restore_brings_it_back(self, tmp_path):
        db = tmp_path / "t.duckdb"
        (first,) = store.write_year(db, year_data("2024-2025", [pupil("A1", 6)]))
        (second,) = store.write_year(db, year_data("2024-2025", [pupil("B1", 6), pupil("B2", 6)],
                                                   sha="cd" * 32), replace=True)
        assert list(store.load(db).pupils["pupil_id"]) == ["B1", "B2"]
        h = store.history(db)
        assert list(h["import_id"]) == [second, first]
        assert list(h["active"]) == [True, False]
        assert h.iloc[0]["action"] == "replace" and h.iloc[0]["replaced_import_id"] == first
        assert h.iloc[0]["sha256"] == "cd" * 32 and h.iloc[0]["rows"] == 2
        store.restore(db, first)
        assert list(store.load(db).pupils["pupil_id"]) == ["A1"]

    def test_restore_unknown_import_is_a_clear_error(self, tmp_path):
        db = tmp_path / "t.duckdb"
        store.write_year(db, year_data("2024-2025", [pupil("A1", 6)]))
        with pytest.raises(LocsonError, match="Không có lần nhập số 99"):
            store.restore(db, 99)

    def test_several_schools_side_by_side(self, tmp_path):
        db = tmp_path / "t.duckdb"
        store.write_year(db, year_data("2024-2025", [pupil("A1", 6)]))
        store.write_year(db, year_data("2024-2025", [pupil("X1", 6), pupil("X2", 7)],
                                       school_code="LOCTHANH"))
        assert len(store.load(db).pupils) == 3
        assert list(store.load(db, school_code="LOCTHANH").pupils["pupil_id"]) == ["X1", "X2"]


def test_reading_a_missing_database_says_what_to_do(tmp_path):
    with pytest.raises(LocsonError, match="locson import"):
        store.load(tmp_path / "none.duckdb")


def test_import_while_another_program_writes_says_what_to_close(tmp_path):
    db = tmp_path / "t.duckdb"
    store.write_year(db, year_data("2023-2024", [pupil("A1", 6)]))
    before = _content(db)
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, sys, time
            con = duckdb.connect({str(db)!r})
            print("held", flush=True)
            sys.stdin.read()
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(store.DatabaseBusy, match="đang được một chương trình khác mở"):
            store.write_year(db, year_data("2024-2025", [pupil("B1", 6)]))
    finally:
        holder.communicate("")
    assert _content(db) == before


def test_several_readers_at_once(tmp_path):
    db = tmp_path / "t.duckdb"
    store.write_year(db, year_data("2023-2024", [pupil("A1", 6)]))
    with store.connect(db, read_only=True) as a, store.connect(db, read_only=True) as b:
        assert a.execute("SELECT count(*) FROM pupils").fetchone() == (1,)
        assert b.execute("SELECT count(*) FROM pupils").fetchone() == (1,)


class TestYearStatus:
    """The report's choice of school and year from one query, as from the loaded data."""

    def test_years_with_data_ended_and_running_per_school(self, tmp_path):
        from locson_analysis.report import annual
        from locson_analysis.report import tables as T

        db = tmp_path / "t.duckdb"
        store.write_year(db, year_data("2023-2024", [pupil("A1", 6), pupil("A2", 7, "repeated")]))
        store.write_year(db, year_data("2024-2025", [pupil("A1", 7, "in_progress"),
                                                     pupil("A2", 7)]))
        store.write_year(db, year_data("2025-2026", [], school={"toilets": 12}))  # no pupils
        store.write_year(db, year_data("2024-2025", [pupil("B1", 8)], school_code="KHAC"))
        status = store.year_status(db)
        assert status.to_dict("records") == [
            {"school_code": "KHAC", "school_year": "2024-2025", "pupils": True,
             "running": False},
            {"school_code": "LOCSON", "school_year": "2023-2024", "pupils": True,
             "running": False},
            {"school_code": "LOCSON", "school_year": "2024-2025", "pupils": True,
             "running": True},
            {"school_code": "LOCSON", "school_year": "2025-2026", "pupils": False,
             "running": False}]
        ds = store.load(db)
        for code in ("LOCSON", "KHAC"):
            got, folder, years = annual.school_years(db, code)
            one = ds.for_school(code)
            assert (got, folder) == (code, code)
            assert years.all == one.years()
            assert years.ended == T.complete_years(one)
            assert years.running == T.in_progress_years(one)
        assert annual.school_years(db, None)[0] == "LOCSON"
        _, _, years = annual.school_years(db, None)
        assert T.choose_year(years.all, years.ended, years.running, None) == "2023-2024"
        assert T.choose_year(years.all, years.ended, years.running, None, True) == "2024-2025"
        with pytest.raises(LocsonError, match="chưa kết thúc"):
            T.choose_year(years.all, years.ended, years.running, "2024-2025")
        with pytest.raises(LocsonError, match="Các mã trường hiện có: KHAC, LOCSON"):
            annual.school_years(db, "NHAM")
