"""Issue 13 (and 11 point 1) leftovers of the early warning: the sample mark comes from the
database's recorded origin, not from words in the import notes, and is on the internal
report's first line and on every sheet of the Excel list; ties at the top-k cut-off keep their
exact (fractional) expected count in the tables but are said in whole pupils to teachers."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from locson_analysis import provenance, sample, store, warn, warn_model
from locson_analysis.dataset import YearData

RULES = warn.Rules()


# --- Sample data is marked from its provenance --------------------------------------------------

@pytest.fixture(scope="module")
def pupils() -> pd.DataFrame:
    s = sample.generate(seed=7, first_year="2021-2022", last_year="2024-2025",
                        in_progress=True, entrants_per_year=20)
    return sample.to_dataset(s).pupils.drop(columns=["source_file", "source_row"])


def _db(path: Path, pupils: pd.DataFrame, origin: str, note: str = "") -> Path:
    years = [YearData(school_year=str(y), school_code="LOCSON",
                      pupils=rows.drop(columns=["school_code", "school_year"]),
                      notes=[note] if note else [])
             for y, rows in pupils.groupby("school_year")]
    store.write_years(path, years, origin=origin)
    return path


def test_sample_data_is_marked_on_the_report_and_every_sheet_of_the_list(
        tmp_path: Path, pupils: pd.DataFrame) -> None:
    db = _db(tmp_path / "mau.duckdb", pupils, provenance.SAMPLE)
    out = tmp_path / "outputs" / "internal"
    run = warn.prepare(db, "2024-2025", "mid", 10, out, official=True)
    assert run.sample_data
    head = run.headline()
    assert head[0] == provenance.SAMPLE_MARK == ("DỮ LIỆU MẪU — không phải số liệu thật của "
                                                 "trường")
    assert head[1] == run.teacher_text and head[2] == warn.SAMPLE_NOTE
    xlsx = out / "2024-2025" / f"{warn.file_stem('2024-2025', 'mid')}.xlsx"
    wb = openpyxl.load_workbook(xlsx)
    for ws in wb.worksheets:
        assert ws["A1"].value == warn.INTERNAL_MARK
        assert ws["A3"].value == provenance.SAMPLE_MARK
        assert provenance.SAMPLE_MARK in ws.oddHeader.center.text
        assert ws["A4"].value in ("Lớp", "Thay đổi", "Năm học")  # the table did not move
    html = warn._mark_internal("<html><head></head><body><main><p>x</p></main></body></html>",
                               sample=True)
    fixed = html[html.index('class="locson-internal-fixed"'):]
    assert fixed[:fixed.index("</div>")].endswith(provenance.SAMPLE_MARK)


def test_real_data_is_not_marked_whatever_its_notes_say(tmp_path: Path,
                                                        pupils: pd.DataFrame) -> None:
    """The school's own files, one of them named «mẫu» (a form staff filled in): the old
    guess from the import notes would have called it sample data."""
    db = _db(tmp_path / "that.duckdb", pupils, provenance.FILES,
             note="Tệp «Danh sách học sinh theo mẫu.xlsx»: 80 dòng")
    ds = store.load(db)
    assert not ds.is_sample
    out = tmp_path / "outputs" / "internal"
    run = warn.prepare(db, "2024-2025", "mid", 10, out, official=True)
    assert not run.sample_data
    assert provenance.SAMPLE_MARK not in run.headline() and warn.SAMPLE_NOTE not in \
        run.headline()
    wb = openpyxl.load_workbook(out / "2024-2025" / f"{warn.file_stem('2024-2025', 'mid')}.xlsx")
    for ws in wb.worksheets:
        assert ws["A3"].value is None
        assert ws.oddHeader.center.text == warn.INTERNAL_MARK


# --- Ties at the cut-off, said in whole pupils -----------------------------------------------

def test_a_tie_at_the_cut_off_gives_a_fractional_count_said_in_whole_pupils() -> None:
    # three pupils tied for one place, one of them drops out: 1/3 expected
    third = warn_model.hits_at(np.array([2.0, 2.0, 2.0, 1.0]), np.array([1, 0, 0, 0]), 1)
    assert third == pytest.approx(1 / 3)
    assert warn_model.about_pupils(third) == "chưa tới 1"
    # 2 sure + one of two tied places shared by 3 (one a dropout): 2 + 2/3
    score = np.array([9.0, 8.0, 5.0, 5.0, 5.0, 1.0])
    hits = warn_model.hits_at(score, np.array([1, 1, 1, 0, 0, 0]), 4)
    assert hits == pytest.approx(2 + 2 / 3)
    assert warn_model.about_pupils(hits) == "khoảng 3"
    assert warn_model.about_pupils(2.5) == "khoảng 3"  # half up, as numbers.py rounds
    assert warn_model.about_pupils(2.4) == "khoảng 2"
    assert warn_model.about_pupils(0.5) == "khoảng 1"
    assert warn_model.about_pupils(3.0) == "3"
    assert warn_model.about_pupils(1234.0) == "1.234"


@pytest.fixture(scope="module")
def result() -> warn_model.BacktestResult:
    s = sample.generate(seed=2025, first_year="2017-2018", last_year="2024-2025",
                        in_progress=False, entrants_per_year=30)
    return warn_model.backtest(sample.to_dataset(s).pupils, capacity=10, seed=0, rules=RULES,
                               points=("end",))


def _with_hits(result: warn_model.BacktestResult, hits: float,
               events: int) -> warn_model.BacktestResult:
    """The same back-test with the held-out figures of every method set to ``hits`` of
    ``events`` (the sentence is about wording; the maths is tested above)."""
    s = result.summary.copy()
    held = s["phase"].eq("held_out") & s["outcome"].eq("dropout")
    s.loc[held, "hits"] = hits
    s.loc[held, "events"] = events
    s.loc[held, "recall_at_k"] = hits / events
    return dataclasses.replace(result, summary=s)


@pytest.mark.parametrize(("hits", "said"), [(0.1, "chưa tới 1"), (2.6, "khoảng 3"),
                                            (3.0, "3")])
def test_the_teachers_sentence_never_says_a_fraction_of_a_pupil(
        result: warn_model.BacktestResult, hits: float, said: str) -> None:
    assert result.folds["end"]["held_out"]  # (the sample holds years to hold out)
    events = RULES.min_events + 2
    r = _with_hits(result, hits, events)
    sentence = warn_model.teacher_sentence(r, "end")
    assert f"có {said} trong {events} em sau đó bỏ học" in sentence
    assert "0,1" not in sentence and "2,6" not in sentence
    assert (warn_model.TIES_NOTE in sentence) == (not float(hits).is_integer())
    text = " ".join(warn_model.describe(r))
    assert f"{said}/{events} em (" in text
    assert (warn_model.TIES_NOTE in text) == (not float(hits).is_integer())
    # the analysts' table keeps the exact expected count
    table = warn_model.summary_table(r, "end")
    assert hits in set(table["Tìm ra"])
