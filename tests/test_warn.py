"""Early warning: rules, reasons, missing data, context, reconciliation, back-test, report."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from locson_analysis import config, sample, store, warn, warn_data, warn_model
from locson_analysis.dataset import Dataset, YearData
from locson_analysis.errors import LocsonError
from tests.store_builders import pupil, pupils_frame

RULES = warn.Rules()


def roster(school_year: str, rows: list[dict]) -> pd.DataFrame:
    df = pupils_frame(rows)
    df.insert(0, "school_year", school_year)
    df.insert(0, "school_code", "LOCSON")
    for col in ("absences_s1", "absences_s2", "grade"):
        df[col] = df[col].astype("Int64")
    for col in ("poor", "near_poor", "disability", "special_circumstances"):
        df[col] = df[col].astype("boolean")
    return df


def history(*years: pd.DataFrame) -> pd.DataFrame:
    return pd.concat(years, ignore_index=True)


def dataset(pupils: pd.DataFrame, interventions: pd.DataFrame | None = None) -> Dataset:
    empty = pd.DataFrame(columns=["school_code", "school_year", "item", "value"])
    iv = interventions if interventions is not None else pd.DataFrame(
        columns=["school_code", "school_year", "action_date", "pupil_id", "action", "staff",
                 "result"])
    return Dataset(pupils=pupils, school=empty, population=empty.copy(),
                   imports=pd.DataFrame(), checks=pd.DataFrame(), interventions=iv)


def good(**kw) -> dict:
    """Results and attendance of a pupil with nothing to worry about."""
    base = {"absences_s1": 2, "absences_s2": 1, "learning_s1": "Khá", "conduct_s1": "Tốt",
            "learning_year": "Khá", "conduct_year": "Tốt"}
    base.update(kw)
    return base


# --------------------------------------------------------------------------------------------
# A three-year school where the right flags are known
# --------------------------------------------------------------------------------------------

def school() -> pd.DataFrame:
    y1 = roster("2022-2023", [
        pupil("H", 6, "dropped_out", leave_date="2023-02-01", **good(learning_year=None,
                                                                      conduct_year=None)),
    ])
    y2 = roster("2023-2024", [
        pupil("A", 6, **good(learning_year="Khá")),
        pupil("B", 6, "repeating", **good(learning_year="Chưa đạt")),
        pupil("C", 6, **good()),
        pupil("D", 6, **good()),
        pupil("G", 6, **good()),
    ])
    y3 = roster("2024-2025", [
        # 23 sessions missed in S1, learning Chưa đạt, down from Khá last year.
        pupil("A", 7, "in_progress", absences_s1=23, learning_s1="Chưa đạt", conduct_s1="Tốt"),
        # Repeating grade 6 (last year's outcome), otherwise fine.
        pupil("B", 6, "in_progress", absences_s1=1, learning_s1="Khá", conduct_s1="Tốt"),
        # Nothing to worry about.
        pupil("C", 7, "in_progress", absences_s1=0, learning_s1="Khá", conduct_s1="Tốt"),
        # Semester-1 results not entered yet.
        pupil("D", 7, "in_progress", absences_s1=3),
        # Two years over age for grade 6, but only that: score 1, not flagged.
        pupil("E", 6, "in_progress", birth_date="2011-05-05", absences_s1=0,
              learning_s1="Khá", conduct_s1="Tốt"),
        # Dropped out before the end of semester 1: not flagged any more.
        pupil("F", 6, "dropped_out", leave_date="2024-11-01", absences_s1=10),
        # Dropped out in semester 2: still on the mid-year list (it was not known then).
        pupil("G", 7, "dropped_out", leave_date="2025-03-01", absences_s1=25,
              learning_s1="Đạt", conduct_s1="Tốt"),
        # Dropped out in 2022-2023, absent in 2023-2024, back now.
        pupil("H", 7, "in_progress", birth_date="2010-02-02", absences_s1=4,
              learning_s1="Đạt", conduct_s1="Khá"),
    ])
    return history(y1, y2, y3)


def by_id(flags: pd.DataFrame) -> pd.DataFrame:
    return flags.set_index("pupil_id")


def test_mid_year_flags_have_exact_reasons_and_scores():
    f = by_id(warn.flag(school(), "2024-2025", "mid", RULES))
    assert f.loc["A", "reasons"] == ("nghỉ 23 buổi HK1; học tập HK1 Chưa đạt; học tập giảm từ "
                                     "Khá (cả năm 2023-2024) xuống Chưa đạt (HK1)")
    assert f.loc["A", "score"] == 5.0 and f.loc["A", "flagged"]
    assert f.loc["A", "absence_share"] == pytest.approx(23 / 90)
    assert f.loc["B", "reasons"] == "ở lại lớp năm học 2023-2024"
    assert f.loc["B", "score"] == 2.0 and f.loc["B", "flagged"]
    assert f.loc["C", "reasons"] == "" and f.loc["C", "score"] == 0
    assert not f.loc["C", "listed"]
    assert f.loc["E", "reasons"] == "quá tuổi 2 năm so với khối 6"
    assert f.loc["E", "score"] == 1.0 and not f.loc["E", "flagged"] and not f.loc["E", "listed"]
    assert f.loc["G", "reasons"] == ("nghỉ 25 buổi HK1; học tập giảm từ Khá (cả năm 2023-2024) "
                                     "xuống Đạt (HK1)")
    assert f.loc["G", "score"] == 3.0
    assert f.loc["H", "reasons"] == ("quá tuổi 2 năm so với khối 7; đã bỏ học năm học "
                                     "2022-2023, nay học lại")
    assert f.loc["H", "score"] == 3.0
    assert "F" not in f.index  # left before the end of semester 1
    assert f.loc["A", "rule_absences"] and f.loc["A", "rule_result_fall"]
    assert not f.loc["A", "rule_repeating"]


def test_missing_data_is_listed_for_checking_never_low_risk():
    f = by_id(warn.flag(school(), "2024-2025", "mid", RULES))
    assert f.loc["D", "data_status"] == "thiếu số liệu"
    assert f.loc["D", "reasons"] == "chưa có kết quả HK1"
    assert f.loc["D", "missing"] == "chưa có kết quả HK1"
    assert f.loc["D", "listed"] and not f.loc["D", "flagged"]
    assert f.loc["C", "data_status"] == ""
    listed = warn.flag(school(), "2024-2025", "mid", RULES)
    assert listed["listed"].iloc[: int(listed["listed"].sum())].all()  # listed pupils first


def test_end_of_year_flags_use_the_whole_year():
    y1 = roster("2023-2024", [pupil("A", 6, **good()), pupil("B", 8, **good())])
    y2 = roster("2024-2025", [
        pupil("A", 7, "repeating", absences_s1=20, absences_s2=16, learning_s1="Khá",
              conduct_s1="Tốt", learning_year="Yếu", conduct_year="Tốt", result_scale="tt58"),
        pupil("B", 9, "completed", **good()),
        pupil("C", 7, "promoted", absences_s1=1, absences_s2=None, learning_s1="Khá",
              conduct_s1="Tốt", learning_year="Đạt", conduct_year="Tốt"),
    ])
    f = by_id(warn.flag(history(y1, y2), "2024-2025", "end", RULES))
    assert f.loc["A", "reasons"] == ("nghỉ 36 buổi cả năm; học tập cả năm Yếu; học tập giảm "
                                     "từ Khá (HK1) xuống Yếu (cả năm); ở lại lớp năm học này")
    assert f.loc["A", "score"] == 7.0
    assert "B" not in f.index  # completed grade 9: no longer at school
    assert f.loc["C", "reasons"] == ("học tập giảm từ Khá (HK1) xuống Đạt (cả năm); chưa có số "
                                     "buổi nghỉ cả năm")
    assert f.loc["C", "data_status"] == "thiếu số liệu" and f.loc["C", "listed"]
    assert f.loc["C", "score"] == 1.0


def test_context_is_shown_but_never_changes_the_score():
    base = school()
    plain = warn.flag(base, "2024-2025", "mid", RULES).set_index("pupil_id")
    ctx = base.copy()
    ctx["poor"] = pd.array([True] * len(ctx), dtype="boolean")
    ctx["near_poor"] = pd.array([True] * len(ctx), dtype="boolean")
    ctx["disability"] = pd.array([True] * len(ctx), dtype="boolean")
    ctx["special_circumstances"] = pd.array([True] * len(ctx), dtype="boolean")
    ctx["ethnicity"] = "K'Ho"
    marked = warn.flag(ctx, "2024-2025", "mid", RULES).set_index("pupil_id")
    cols = ["score", "flagged", "listed", "reasons"]
    pd.testing.assert_frame_equal(plain[cols].sort_index(), marked[cols].sort_index())
    assert marked.loc["A", "context"] == ("Hộ nghèo; Hộ cận nghèo; Dân tộc K'Ho; Khuyết tật; "
                                          "Hoàn cảnh đặc biệt")
    assert plain.loc["A", "context"] == ""
    assert bool(marked.loc["A", "minority"]) and not bool(plain.loc["A", "minority"])


def test_flag_accepts_a_dataset():
    ds = dataset(school())
    assert len(warn.flag(ds, "2024-2025", "mid", RULES)) == 7


def test_bad_point_is_a_vietnamese_error():
    with pytest.raises(LocsonError, match="mid hoặc end"):
        warn.flag(school(), "2024-2025", "giua", RULES)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Rules file
# --------------------------------------------------------------------------------------------

def test_shipped_rules_file_matches_the_documented_defaults():
    assert warn.load_rules() == warn.Rules()
    assert warn.load_rules(config.WARNING_RULES_FILE).sessions("end") == 180


def _rules_text(**replace: str) -> str:
    text = config.WARNING_RULES_FILE.read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    return text


@pytest.mark.parametrize("old,new,key", [
    ("weight: 2\n    mid_min_sessions", "weight: abc\n    mid_min_sessions",
     "rules.absences.weight"),
    ("end_min_sessions: 35", "end_sessions: 35", "rules.absences.end_min_sessions"),
    ("min_years: 2", "min_years: 1.5", "rules.over_age.min_years"),
    ("absence_share: 0.10", "absence_share: 3", "off_track.absence_share"),
    ("sessions_per_semester: 90", "sessions_per_semestre: 90", "sessions_per_semestre"),
    ('mid_point_date: "01-15"', 'mid_point_date: "15/01"', "mid_point_date"),
])
def test_malformed_rules_name_the_key(tmp_path: Path, old: str, new: str, key: str):
    path = tmp_path / "rules.yaml"
    path.write_text(_rules_text(**{old: new}), encoding="utf-8")
    with pytest.raises(LocsonError) as exc:
        warn.load_rules(path)
    assert f"«{key}»" in str(exc.value)
    assert "Tệp quy tắc cảnh báo" in str(exc.value)


def test_rules_file_that_is_not_yaml(tmp_path: Path):
    path = tmp_path / "rules.yaml"
    path.write_text("rules: [\n", encoding="utf-8")
    with pytest.raises(LocsonError, match="cú pháp YAML"):
        warn.load_rules(path)


def test_rules_weights_and_thresholds_come_from_the_file(tmp_path: Path):
    path = tmp_path / "rules.yaml"
    path.write_text(_rules_text(**{"mid_min_sessions: 20": "mid_min_sessions: 24",
                                   "flag_min_score: 2": "flag_min_score: 6"}),
                    encoding="utf-8")
    rules = warn.load_rules(path)
    f = by_id(warn.flag(school(), "2024-2025", "mid", rules))
    assert f.loc["A", "reasons"].startswith("học tập HK1 Chưa đạt")  # 23 < 24 sessions
    assert f.loc["A", "score"] == 3.0 and not f.loc["A", "flagged"]


# --------------------------------------------------------------------------------------------
# Reconciliation
# --------------------------------------------------------------------------------------------

def test_reconcile_finds_each_case():
    y1 = roster("2022-2023", [pupil("T", 6, "transferred_out", leave_date="2023-01-10"),
                              pupil("Q", 6)])
    y2 = roster("2023-2024", [
        pupil("V", 6, "promoted"),  # vanishes: hidden dropout
        pupil("W", 6, "repeating"),  # vanishes too
        pupil("X", 6, "dropped_out", leave_date="2024-03-01"),  # comes back next year
        pupil("P", 6, "promoted"),  # stays in grade 6
        pupil("R", 7, "repeating"),  # moves up anyway
        pupil("K", 8, "transferred_out", leave_date="2023-12-01"),  # gone, as recorded
        pupil("Q", 7, "promoted"),
    ])
    y3 = roster("2024-2025", [pupil("X", 6, "in_progress"), pupil("P", 6, "in_progress"),
                              pupil("R", 8, "in_progress"), pupil("Q", 8, "in_progress"),
                              pupil("T", 8, "in_progress")])
    found = warn.reconcile(history(y1, y2, y3))
    assert list(found.columns) == warn.RECONCILE_COLUMNS
    got = sorted(zip(found["check"], found["pupil_id"], found["school_year"],
                     found["next_year"], strict=True))
    assert got == sorted([
        ("missing_next_year", "V", "2023-2024", "2024-2025"),
        ("missing_next_year", "W", "2023-2024", "2024-2025"),
        ("returned_after_leaving", "X", "2023-2024", "2024-2025"),
        ("returned_after_leaving", "T", "2022-2023", "2024-2025"),  # back after a gap year
        ("promoted_same_grade", "P", "2023-2024", "2024-2025"),
        ("repeating_moved_up", "R", "2023-2024", "2024-2025"),
    ])
    v = found[found["pupil_id"] == "V"].iloc[0]
    assert v["detail"] == ("Năm học 2023-2024: Lên lớp (lớp 6A1), nhưng không có trong danh "
                           "sách năm học 2024-2025. Cần xác minh: bỏ học, chuyển trường hay sai "
                           "mã học sinh?")
    assert v["full_name"] == "Nguyễn Văn V" and v["class_name"] == "6A1"
    r = found[found["pupil_id"] == "R"].iloc[0]
    assert r["detail"] == "Năm học 2023-2024 ở lại lớp (khối 7) nhưng năm học 2024-2025 học khối 8."
    assert r["class_name"] == "8A1"
    counts = warn.reconcile_counts(found)
    assert "pupil_id" not in counts.columns and "full_name" not in counts.columns
    c = counts.groupby(["next_year", "check"])["count"].sum()
    assert c[("2024-2025", "missing_next_year")] == 2
    assert c[("2024-2025", "returned_after_leaving")] == 2
    pd.testing.assert_frame_equal(counts, warn.reconcile_counts(history(y1, y2, y3)))


def test_reconcile_does_not_judge_the_latest_year():
    only = roster("2023-2024", [pupil("V", 6, "promoted")])
    assert warn.reconcile(only).empty
    assert warn.reconcile_counts(only).empty


def test_returned_and_gap_year_flags():
    y1 = roster("2022-2023", [pupil("G", 6, **good())])
    y3 = roster("2024-2025", [pupil("G", 7, "in_progress", absences_s1=1, learning_s1="Khá",
                                    conduct_s1="Tốt")])
    y2 = roster("2023-2024", [pupil("Z", 6, **good())])
    f = by_id(warn.flag(history(y1, y2, y3), "2024-2025", "mid", RULES))
    assert f.loc["G", "reasons"] == "không có tên năm học 2023-2024, nay học lại"


# --------------------------------------------------------------------------------------------
# Labels, metrics, model, back-test
# --------------------------------------------------------------------------------------------

def test_both_outcomes_at_the_end_point_by_hand():
    y1 = roster("2022-2023", [pupil(x, 6, **good()) for x in "ABCDE"])
    y2 = roster("2023-2024", [
        pupil("A", 7, **good()),
        pupil("B", 7, "dropped_out", leave_date="2024-02-02", **good()),
        pupil("C", 7, **good(absences_s1=10, absences_s2=9)),  # 19 > 18 sessions (10 %)
        pupil("D", 7, "transferred_out", leave_date="2024-02-02", **good()),
        # E is missing: a hidden dropout
    ])
    u = warn_data.units(history(y1, y2), "end", RULES).set_index("pupil_id")
    first = u[u["school_year"] == "2022-2023"]
    # the plan's outcome: dropped out, or did not come back (no recorded transfer/completion)
    assert first["dropout"].to_dict() == {"A": 0.0, "B": 1.0, "C": 0.0, "D": pytest.approx(
        math.nan, nan_ok=True), "E": 1.0}
    # the training proxy: off track (C missed too many sessions, but did not drop out)
    assert first.loc["C", "proxy"] == 1.0 and first.loc["B", "proxy"] == 1.0
    assert first.loc["A", "proxy"] == 0.0 and math.isnan(first.loc["D", "proxy"])
    assert u[u["school_year"] == "2023-2024"][["dropout", "proxy"]].isna().all().all()


def test_dropout_within_twelve_months_of_the_mid_point_by_hand():
    # mid point of 2022-2023: 15/01/2023; the window ends 15/01/2024
    y1 = roster("2022-2023", [
        pupil("A", 6, **good()),
        pupil("F", 6, "dropped_out", leave_date="2023-03-01", **good(learning_year=None,
                                                                      conduct_year=None)),
        pupil("L", 6, "dropped_out", leave_date="2022-11-01", **good(
            learning_s1=None, conduct_s1=None, learning_year=None, conduct_year=None)),
        pupil("G", 6, **good()), pupil("H", 6, **good()), pupil("E", 6, **good()),
        pupil("T", 9, "completed", **good()),
    ])
    y2 = roster("2023-2024", [
        pupil("A", 7, **good()),
        pupil("G", 7, "dropped_out", leave_date="2023-12-01", **good()),  # within 12 months
        pupil("H", 7, "dropped_out", leave_date="2024-03-01", **good()),  # after
    ])
    u = warn_data.units(history(y1, y2), "mid", RULES).set_index("pupil_id")
    first = u[u["school_year"] == "2022-2023"]
    assert "L" not in first.index  # left before the point: not warned about
    assert first["dropout"].to_dict() == {"A": 0.0, "F": 1.0, "G": 1.0, "H": 0.0, "E": 1.0,
                                          "T": 0.0}
    # the proxy is about the rest of the year only: G and H were fine in 2022-2023
    assert first.loc["G", "proxy"] == 0.0 and first.loc["F", "proxy"] == 1.0


def test_hits_at_shares_ties_and_wilson_is_honest_for_small_numbers():
    score = np.array([3.0, 2.0, 2.0, 1.0])
    y = np.array([0, 1, 0, 0])
    assert warn_model.hits_at(score, y, 2) == pytest.approx(0.5)
    assert warn_model.hits_at(score, y, 3) == pytest.approx(1.0)
    lo, hi = warn_model.wilson(0, 5)
    assert lo == 0.0 and hi == pytest.approx(0.4345, abs=1e-4)
    lo, hi = warn_model.wilson(2, 4)
    assert (lo, hi) == (pytest.approx(0.1500, abs=1e-4), pytest.approx(0.8500, abs=1e-4))
    assert all(math.isnan(v) for v in warn_model.wilson(0, 0))


@pytest.fixture(scope="module")
def small_school() -> pd.DataFrame:
    s = sample.generate(seed=2025, first_year="2019-2020", last_year="2024-2025",
                        in_progress=False, entrants_per_year=30)
    return sample.to_dataset(s).pupils


def test_backtest_is_reproducible_and_time_ordered(small_school: pd.DataFrame):
    a = warn_model.backtest(small_school, capacity=10, seed=3, rules=RULES)
    b = warn_model.backtest(small_school, capacity=10, seed=3, rules=RULES)
    pd.testing.assert_frame_equal(a.metrics, b.metrics)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.dropouts, b.dropouts)
    pd.testing.assert_frame_equal(a.fairness, b.fairness)
    assert a.verdict == b.verdict and a.chosen == b.chosen
    years = sorted(small_school["school_year"].unique())
    for point, g in a.metrics.groupby("point"):
        # every test year has at least two earlier years to learn from
        assert min(g["school_year"]) >= years[2]
        assert set(g["method"]) == set(warn_model.METHODS)
        assert set(g["outcome"]) == {"dropout", "proxy"}
        # the held-out years are the most recent ones with a known outcome, after every
        # selection year
        folds = a.folds[point]
        assert len(folds["held_out"]) == RULES.held_out_years
        assert max(folds["selection"]) < min(folds["held_out"])
        assert set(g[g["phase"] == "held_out"]["school_year"]) == set(folds["held_out"])
    assert a.metrics["recall_at_k"].dropna().between(0, 1).all()
    assert set(a.use_model) == {"mid", "end"}
    text = " ".join(warn_model.describe(a))
    assert "giữ lại để kiểm tra" in text and "quy tắc" in text and "nhãn thay thế" in text
    # every recorded dropout in the data is in the timeliness table
    recorded = small_school[small_school["outcome"] == "dropped_out"]
    assert len(a.dropouts[a.dropouts["kind"] == "Bỏ học (có ghi nhận)"]) == len(recorded)
    assert set(a.fairness["dimension"]) <= {"sex", "minority", "poor"}
    assert (a.fairness["ci_low"] <= a.fairness["recall"]).all()
    # the held-out recall is hits / events, with an interval around it
    s = a.summary[(a.summary["phase"] == "held_out") & (a.summary["events"] > 0)]
    assert (s["recall_at_k"] == s["hits"] / s["events"]).all()
    assert ((s["ci_low"] <= s["recall_at_k"] + 1e-12)
            & (s["recall_at_k"] <= s["ci_high"] + 1e-12)).all()


def _perturb_recent_outcomes(pupils: pd.DataFrame, years: list[str]) -> pd.DataFrame:
    """Turn a third of the promoted pupils of ``years`` into dropouts (held-out outcomes)."""
    p = pupils.copy()
    for year in years:
        rows = p.index[(p["school_year"] == year) & (p["outcome"] == "promoted")]
        hit = rows[::3]
        p.loc[hit, "outcome"] = "dropped_out"
        p.loc[hit, "leave_date"] = pd.Timestamp(f"{year[5:]}-03-01")
    return p


def test_held_out_outcomes_never_change_the_choice(small_school: pd.DataFrame):
    rules = warn.Rules(min_events=1)  # let the comparison itself decide, not the event count
    base = warn_model.backtest(small_school, capacity=10, seed=0, rules=rules)
    years = sorted(small_school["school_year"].unique())
    # the last two finished years hold every held-out outcome (at both points) and no
    # selection outcome
    assert years[-2] > max(base.folds["mid"]["selection"] + base.folds["end"]["selection"])
    changed = warn_model.backtest(_perturb_recent_outcomes(small_school, years[-2:]),
                                  capacity=10, seed=0, rules=rules)
    assert changed.folds == base.folds
    assert changed.chosen == base.chosen
    sel = base.metrics[base.metrics["phase"] == "selection"].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        changed.metrics[changed.metrics["phase"] == "selection"].reset_index(drop=True), sel)
    # … while the held-out figures did change: the perturbation reached them
    held = "held_out"
    assert (changed.summary[changed.summary["phase"] == held]["events"].sum()
            > base.summary[base.summary["phase"] == held]["events"].sum())


def test_choice_compares_the_model_with_every_baseline_on_earlier_years_only():
    def summary(model: float, single: float, events: int = 12) -> pd.DataFrame:
        rows = []
        for method, recall in (("model", model), ("rules", 0.40), ("last_year", 0.45),
                               ("single_feature", single)):
            rows.append({"point": "end", "phase": "selection", "method": method,
                         "outcome": "dropout", "events": events, "recall_at_k": recall})
            # held-out rows that would say the opposite: never looked at
            rows.append({"point": "end", "phase": "held_out", "method": method,
                         "outcome": "dropout", "events": 50, "recall_at_k": 1 - recall})
        return pd.DataFrame(rows)

    rules = warn.Rules()
    assert warn_model.choose(summary(0.50, 0.55), "end", rules) == ("rules", "not_better")
    assert warn_model.choose(summary(0.50, 0.45), "end", rules) == ("model", "better")
    assert warn_model.choose(summary(0.45, 0.30), "end", rules) == ("rules", "not_better")
    assert warn_model.choose(summary(0.50, 0.45, events=9), "end", rules) == ("rules",
                                                                               "too_few")
    s = summary(0.50, 0.45)
    assert warn_model.choose(s[s["method"] != "model"], "end", rules) == ("rules", "no_model")
    assert warn_model.choose(s.iloc[0:0], "end", rules) == ("rules", "no_folds")


def test_baselines_by_hand_on_a_small_case():
    # last year's list: the end-of-year rule score of the year before, per pupil
    y1 = roster("2022-2023", [pupil("A", 6, **good(learning_year="Chưa đạt")),
                              pupil("B", 6, **good()), pupil("C", 6, **good())])
    y2 = roster("2023-2024", [pupil(x, 7, **good()) for x in "ABC"])
    end = warn_data.units(history(y1, y2), "end", RULES)
    last = warn_model._last_year_scores(end)
    assert set(last["school_year"]) == {"2023-2024", "2024-2025"}  # shifted one year on
    last = last[last["school_year"] == "2023-2024"].set_index("pupil_id")
    # learning Chưa đạt (weight 2) and a fall from Khá in HK1 (weight 1)
    assert last.loc["A", "last_year_score"] == 3.0
    assert last.loc["B", "last_year_score"] == 0.0

    # the single strongest feature, chosen and oriented on the training years
    def frame(absences, learning, proxy):
        n = len(proxy)
        return pd.DataFrame({"absences": absences, "learning_level": learning,
                             "conduct_level": [3.0] * n, "fall_levels": [0.0] * n,
                             "repeat_year": [None] * n, "over_age_years": [0.0] * n,
                             "returned_from": [None] * n, "proxy": proxy})

    by_absences = frame([30.0, 2.0, 25.0, 1.0], [2.0, 2.0, 2.0, 2.0], [1, 0, 1, 0])
    assert warn_model.strongest_feature(by_absences) == ("absences", 1.0)
    by_learning = frame([3.0, 3.0, 3.0, 3.0], [0.0, 3.0, 0.0, 2.0], [1, 0, 1, 0])
    assert warn_model.strongest_feature(by_learning) == ("learning_level", -1.0)
    test = frame([5.0, None, 3.0, 2.0], [1.0] * 4, [0, 0, 0, 0])
    # a missing value takes the training median (2.0 + 30.0 + 25.0 + 1.0 → 13.5)
    np.testing.assert_allclose(
        warn_model.single_feature_score(by_absences, test, "absences", 1.0),
        [5.0, 13.5, 3.0, 2.0])

    # recall among the top k, the same for every method: events A and C of four pupils
    test = pd.DataFrame({"school_code": ["S"] * 4, "dropout": [1.0, 0.0, 1.0, 0.0],
                         "proxy": [1.0, 1.0, 1.0, 0.0]})
    last_year = np.array([2.0, 0.0, 0.0, 2.0])  # A and D were on last year's list
    feature = np.array([5.0, 1.0, 3.0, 2.0])   # A and C have the most absences
    tied = np.array([1.0, 1.0, 1.0, 0.0])      # three tied for two places
    for score, hits in ((last_year, 1.0), (feature, 2.0), (tied, 4 / 3)):
        share = warn_model._top_by_school(test["school_code"], score, 2)
        row = warn_model._fold_metrics(test, "x", share, score, "end", "held_out", "y")[0]
        assert row["events"] == 2 and row["hits"] == pytest.approx(hits)
        assert row["recall_at_k"] == pytest.approx(hits / 2)
        assert row["precision_at_k"] == pytest.approx(hits / 2)


def test_each_school_ranks_its_own_pupils():
    schools = pd.Series(["S", "S", "T", "T"])
    share = warn_model._top_by_school(schools, np.array([4.0, 3.0, 2.0, 1.0]), 1)
    assert share.tolist() == [1.0, 0.0, 1.0, 0.0]


def test_other_schools_teach_the_model_but_only_one_school_is_ranked():
    kw = {"first_year": "2019-2020", "last_year": "2024-2025", "in_progress": False,
          "entrants_per_year": 20}
    both = pd.concat([sample.to_dataset(sample.generate(seed=5, **kw)).pupils,
                      sample.to_dataset(sample.generate(seed=5, school_code="KHAC",
                                                        **kw)).pupils], ignore_index=True)
    bt = warn_model.backtest(both, capacity=5, seed=0, rules=RULES, points=("end",),
                             school_code="LOCSON")
    assert set(bt.predictions["school_code"]) == {"LOCSON"}
    assert set(bt.learned_from["end"]["school_code"]) == {"LOCSON", "KHAC"}
    assert set(bt.fairness["school_code"]) <= {"LOCSON"}
    assert "KHAC" in " ".join(warn_model.describe(bt))
    scored = warn_model.score_year(both, "2024-2025", "end", RULES, school_code="LOCSON")
    assert scored is not None and set(scored["school_code"]) == {"LOCSON"}
    assert set(scored.attrs["learned_from"]["school_code"]) == {"LOCSON", "KHAC"}


def test_model_uses_rule_inputs_only_and_explains_in_vietnamese(small_school: pd.DataFrame):
    u = warn_data.units(small_school, "mid", RULES)
    train = u[u["proxy"].notna()]
    model = warn_model.RiskModel(seed=0).fit(train, train["proxy"].astype(int))
    coef = model.coefficients()
    assert set(coef["feature"]) == set(warn_model.FEATURES)
    assert not {"poor", "near_poor", "minority", "ethnicity", "sex", "disability"} & set(
        coef["feature"])
    p = model.predict(train)
    assert ((p > 0) & (p < 1)).all()
    # prior correction: mean predicted probability is near the base rate, not near 50 %
    assert abs(p.mean() - train["proxy"].mean()) < 0.1
    worst = train.assign(p=p).sort_values("p", ascending=False).head(3)
    texts = model.explain(worst)
    assert all(t and "(+" in t for t in texts)
    assert len(texts[0].split("; ")) <= 2


def test_words_for_teachers_give_held_out_numbers_or_say_too_few(small_school: pd.DataFrame):
    strict = warn_model.backtest(small_school, capacity=10, seed=0, rules=RULES)
    held = strict.summary[(strict.summary["phase"] == "held_out")
                          & (strict.summary["method"] == "rules")
                          & (strict.summary["outcome"] == "dropout")].set_index("point")
    for point in ("mid", "end"):
        text = warn_model.teacher_sentence(strict, point)
        events = int(held.loc[point, "events"])
        assert f"{len(strict.folds[point]['held_out'])} năm học gần nhất" in text
        if events < RULES.min_events:
            assert "chưa đủ số ca để đánh giá" in text and f"chỉ có {events} em" in text
            assert not strict.use_model[point]
    loose = warn_model.backtest(small_school, capacity=10, seed=0,
                                rules=warn.Rules(min_events=1))
    for point in ("mid", "end"):
        method = "model" if loose.use_model[point] else "rules"
        r = loose.summary[(loose.summary["phase"] == "held_out")
                          & (loose.summary["method"] == method)
                          & (loose.summary["outcome"] == "dropout")].iloc[0]
        text = warn_model.teacher_sentence(loose, point)
        if r["events"] >= 1:
            assert "10 em đầu danh sách mỗi năm" in text
            assert f"trong {int(r['events'])} em sau đó bỏ học" in text


# --------------------------------------------------------------------------------------------
# The run: changes since the last run, interventions, internal outputs
# --------------------------------------------------------------------------------------------

def test_build_run_diffs_against_the_previous_list_and_reads_the_log():
    pupils = school()
    iv = pd.DataFrame({"school_code": ["LOCSON"], "school_year": ["2024-2025"],
                       "action_date": pd.to_datetime(["2024-12-02"]), "pupil_id": ["A"],
                       "action": ["Gặp phụ huynh"], "staff": ["Cô Lan"],
                       "result": ["Em đi học đều hơn"]})
    previous = pd.DataFrame({"school_code": ["LOCSON", "LOCSON"],
                             "school_year": ["2024-2025"] * 2, "point": ["mid"] * 2,
                             "run_at": ["2024-12-01T08:00:00"] * 2, "class_name": ["7A1", "7A1"],
                             "pupil_id": ["A", "C"], "full_name": ["x", "y"],
                             "score": [5.0, 2.0], "reasons": ["cũ", "nghỉ 30 buổi HK1"]})
    run = warn.build_run(dataset(pupils, iv), "2024-2025", "mid", capacity=3, rules=RULES,
                         previous=previous, previous_label="01/12/2024")
    ch = run.changes.set_index("pupil_id")
    assert ch.loc["C", "change"] == warn.CHANGE_RESOLVED
    assert ch.loc["C", "reasons"] == "trước đây: nghỉ 30 buổi HK1"
    assert ch.loc["B", "change"] == warn.CHANGE_NEW
    assert "A" not in ch.index  # listed both times
    listed = run.listed.set_index("pupil_id")
    assert listed.loc["A", "last_action"] == "02/12/2024: Gặp phụ huynh (Cô Lan) — Em đi học " \
                                             "đều hơn"
    assert not listed.loc["A", "no_action"] and listed.loc["B", "no_action"]
    assert listed.loc["A", "change"] == warn.CHANGE_SAME
    assert set(listed.index) == {"A", "B", "D", "G", "H"}
    assert sorted(listed["priority"]) == [1, 2, 3, 4, 5]
    assert run.ranking == "rules"  # too few years for a back-test
    assert "4 em mới vào danh sách, 1 em không còn" in " ".join(run.headline())
    tables = run.by_class()
    assert set(tables) == {"6A1", "7A1"}
    assert "Lý do" in tables["7A1"].columns


def test_end_of_year_run_refuses_a_year_in_progress():
    with pytest.raises(LocsonError, match="--point mid"):
        warn.build_run(dataset(school()), "2024-2025", "end", rules=RULES)


def test_earlier_flags_show_what_became_of_them():
    y1 = roster("2023-2024", [pupil("A", 6, "repeating", **good(learning_year="Chưa đạt")),
                              pupil("B", 6, **good(learning_year="Chưa đạt"))])
    y2 = roster("2024-2025", [pupil("A", 6, "in_progress", absences_s1=0, learning_s1="Khá",
                                    conduct_s1="Tốt")])
    run = warn.build_run(dataset(history(y1, y2)), "2024-2025", "mid", rules=RULES)
    e = run.earlier.set_index("pupil_id")
    assert e.loc["A", "now"] == "đang học lớp 6A1"
    assert e.loc["B", "now"] == "không có tên năm nay (cần xác minh)"
    assert bool(e.loc["A", "still_listed"])  # repeating last year is still a rule


def test_internal_outputs_refuse_a_folder_outside_internal(tmp_path: Path):
    with pytest.raises(LocsonError, match="NỘI BỘ"):
        warn.internal_dir(tmp_path / "outputs", "2024-2025")
    with pytest.raises(LocsonError, match="NỘI BỘ"):
        warn.run_warning("2024-2025", "mid", db=tmp_path / "x.duckdb",
                         out_dir=tmp_path / "outputs")
    assert not (tmp_path / "outputs").exists()


def _write_db(path: Path, pupils: pd.DataFrame, interventions: pd.DataFrame | None) -> None:
    for year, rows in pupils.groupby("school_year"):
        yd = YearData(school_year=str(year), school_code="LOCSON",
                      pupils=rows.drop(columns=["school_code", "school_year"]))
        if interventions is not None and year == interventions["school_year"].iloc[0]:
            yd.interventions = interventions.drop(columns=["school_code", "school_year"])
        store.write_year(path, yd)


def test_run_warning_writes_marked_internal_outputs_only(tmp_path: Path):
    s = sample.generate(seed=7, first_year="2020-2021", last_year="2024-2025",
                        in_progress=True, entrants_per_year=25)
    pupils = sample.to_dataset(s).pupils.drop(columns=["source_file", "source_row"])
    ids = pupils[pupils["school_year"] == "2024-2025"]["pupil_id"].iloc[:2].tolist()
    iv = pd.DataFrame({"school_code": "LOCSON", "school_year": "2024-2025",
                       "action_date": pd.to_datetime(["2024-10-01", "2024-10-02"]),
                       "pupil_id": ids, "action": ["Gặp phụ huynh", "Tư vấn"],
                       "staff": ["Cô Lan", "Thầy Nam"], "result": ["", ""]})
    db = tmp_path / "db" / "t.duckdb"
    _write_db(db, pupils, iv)
    notebooks_before = sorted(p.name for p in config.NOTEBOOKS_DIR.iterdir())
    out = tmp_path / "outputs" / "internal"
    paths = warn.run_warning("2024-2025", "mid", db=db, out_dir=out, capacity=10)
    html, xlsx, nb = paths
    year_dir = out / "2024-2025"
    assert {p.parent for p in paths} == {year_dir}
    assert sorted(p.name for p in year_dir.iterdir()) == sorted(
        [html.name, xlsx.name, nb.name, warn.SNAPSHOT_NAME])
    # nothing outside outputs/internal (besides the database) and nothing in notebooks/
    written = {p.relative_to(tmp_path).parts[0] for p in tmp_path.rglob("*") if p.is_file()}
    assert written == {"db", "outputs"}
    assert sorted(p.name for p in config.NOTEBOOKS_DIR.iterdir()) == notebooks_before

    text = html.read_text(encoding="utf-8")
    title = text[text.index("<title>"):text.index("</title>")]
    assert warn.INTERNAL_MARK in title
    assert 'class="locson-internal-fixed"' in text and "position: fixed" in text
    assert text.index(warn.INTERNAL_MARK, text.index("<body")) < text.index("Danh sách theo lớp")
    top = text[text.index("<body"):text.index("Danh sách theo lớp")]
    assert top.count('class="locson-internal"') == 1  # one on-screen mark at the top, not two
    assert "<script src=" not in text  # offline: nothing fetched
    assert "import warnings" not in text  # no code in the report
    assert re.search(r"<h3>Lớp [6-9]A\d+ — \d+ học sinh</h3>", text)

    wb = openpyxl.load_workbook(xlsx)
    for ws in wb.worksheets:
        assert str(ws["A1"].value).startswith("NỘI BỘ")
    sheet = wb["Danh sách"]
    assert [c.value for c in sheet[4]][:3] == ["Lớp", "Thứ tự ưu tiên", "Mã học sinh"]

    snap = pd.read_csv(year_dir / warn.SNAPSHOT_NAME, dtype=str)
    assert len(snap) == sheet.max_row - 4
    # A second run reads the first run's list: nothing changed.
    run = warn.prepare(db, "2024-2025", "mid", 10, out)
    assert run.previous_run is not None and run.changes.empty
    # The year is in progress: an end-of-year run stops before running the notebook.
    with pytest.raises(LocsonError, match="--point mid"):
        warn.run_warning("2024-2025", "end", db=db, out_dir=out)
    assert not list(year_dir.glob("*cuoi_nam*"))


def _tree(folder: Path) -> dict[str, tuple[int, bytes]]:
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_interactive_notebook_run_is_an_experiment(tmp_path: Path):
    s = sample.generate(seed=7, first_year="2020-2021", last_year="2024-2025",
                        in_progress=True, entrants_per_year=25)
    db = tmp_path / "t.duckdb"
    _write_db(db, sample.to_dataset(s).pupils.drop(columns=["source_file", "source_row"]), None)
    out = tmp_path / "outputs" / "internal"
    # an official run leaves the list and the "lần trước" file
    run = warn.prepare(db, "2024-2025", "mid", 10, out, official=True)
    year_dir = out / "2024-2025"
    assert sorted(p.name for p in year_dir.iterdir()) == sorted(
        [f"{warn.file_stem('2024-2025', 'mid')}.xlsx", warn.SNAPSHOT_NAME])
    official = _tree(out)
    shipped = _tree(config.INTERNAL_OUTPUTS_DIR)
    # the notebook run by hand (papermill, no "official" parameter): reads, writes nothing
    from locson_analysis import run as runner

    executed = tmp_path / "scratch" / "thu.ipynb"
    executed.parent.mkdir()
    runner.execute_notebook(warn.WARNING_NOTEBOOK, executed,
                            {"school_year": "2024-2025", "point": "mid", "capacity": 10,
                             "db_path": str(db), "output_dir": str(out)})
    assert _tree(out) == official
    assert _tree(config.INTERNAL_OUTPUTS_DIR) == shipped
    text = executed.read_text(encoding="utf-8")
    assert "Chạy thử" in text and "So với lần chạy trước" in text
    # … and the next official run still compares itself with the official one
    again = warn.prepare(db, "2024-2025", "mid", 10, out)
    assert again.previous_run is not None and again.changes.empty
    assert len(run.listed) == len(again.listed)
    assert _tree(out) == official


def test_headline_starts_with_the_words_for_teachers():
    run = warn.build_run(dataset(school()), "2024-2025", "mid", capacity=3, rules=RULES)
    head = run.headline()
    assert head[0] == run.teacher_text
    assert "chưa đủ số ca để đánh giá" in head[0]  # three years: nothing held out yet
    assert warn.SAMPLE_NOTE not in head  # not marked as sample data
    taught = pd.DataFrame({"school_code": ["LOCSON", "KHAC"], "years": [4, 3],
                           "first_year": ["2019-2020", "2020-2021"],
                           "last_year": ["2022-2023", "2022-2023"], "units": [800, 600]})
    ranked = warn.WarningRun(**{**run.__dict__, "ranking": "model", "learned_from": taught})
    assert ranked.headline()[-1] == ("Mô hình học từ số liệu của: LOCSON (2019-2020 đến "
                                     "2022-2023, 4 năm); KHAC (2020-2021 đến 2022-2023, 3 năm).")
    marked = warn.WarningRun(**{**run.__dict__, "sample_data": True})
    assert marked.headline()[:3] == [warn.SAMPLE_MARK, run.teacher_text, warn.SAMPLE_NOTE]
    assert "không phải bằng chứng" in warn.SAMPLE_NOTE


def test_notebook_pair_is_in_sync_has_parameters_and_no_outputs():
    import jupytext
    import nbformat

    ipynb = nbformat.read(config.NOTEBOOKS_DIR / "early_warning.ipynb", as_version=4)
    paired = jupytext.read(config.NOTEBOOKS_DIR / "early_warning.py")
    assert [c.source for c in ipynb.cells] == [c.source for c in paired.cells]
    params = [c for c in ipynb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    for name in ("school_year", "point", "capacity", "db_path", "output_dir"):
        assert f"{name}:" in params[0].source
    assert all(not c.get("outputs") for c in ipynb.cells if c.cell_type == "code")
    assert warn.INTERNAL_MARK.split(" — ")[0] in ipynb.metadata["title"]


def test_mark_internal_adds_the_on_screen_mark_only_when_missing():
    bare = "<html><head></head><body><main><h1>x</h1></main></body></html>"
    marked = warn._mark_internal(bare)
    assert marked.count('class="locson-internal"') == 1
    assert marked.count('class="locson-internal-fixed"') == 1
    shown = bare.replace("<h1>", f'<div class="locson-internal">{warn.INTERNAL_MARK}</div><h1>')
    again = warn._mark_internal(shown)
    assert again.count('class="locson-internal"') == 1
    assert again.count('class="locson-internal-fixed"') == 1


def test_early_warning_layers_import_downwards_only():
    import ast

    layers = ["warn_rules", "warn_data", "warn_model", "warn"]
    for i, name in enumerate(layers):
        tree = ast.parse((Path(warn.__file__).parent / f"{name}.py").read_text(encoding="utf-8"))
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                imported.add(node.module or "")
                imported.update(a.name for a in node.names if node.module is None)
        higher = set(layers[i + 1:])
        assert not imported & higher, f"{name} imports {imported & higher}"
        assert name == "warn" or "warn" not in imported
