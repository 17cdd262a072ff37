"""The plan's targets: loading, errors, evaluation by phase, allowed dropouts, outlook."""

import math
import textwrap

import numpy as np
import pandas as pd
import pytest

from locson_analysis.errors import LocsonError
from locson_analysis.indicators.base import tidy
from locson_analysis.targets import (
    OUTSIDE,
    TOO_FEW_YEARS,
    TRACKING,
    allowed_dropouts,
    allowed_noncompleters,
    completion_sentence,
    completion_views,
    evaluate,
    load_targets,
    outlook,
    phase_for,
)


@pytest.fixture(scope="module")
def targets():
    return load_targets()


def school_row(year, key, value, num=np.nan, den=np.nan, note="", school="LOCSON"):
    return {"school_code": school, "school_year": year, "indicator": key, "dimension": "school",
            "group": "Toàn trường", "value": value, "numerator": num, "denominator": den,
            "note": note}


def test_load_default_file(targets):
    assert [p.name for p in targets.phases] == ["2022-2025", "2025-2030"]
    first, second = targets.phases
    assert first.years == ["2022-2023", "2023-2024", "2024-2025"]
    assert second.years[0] == "2025-2026" and second.years[-1] == "2029-2030"
    by_key = {t.indicator: t for t in first.targets}
    assert (by_key["completion_rate_grade9"].number, by_key["completion_rate_grade9"].threshold) \
        == (5, 0.975)
    assert by_key["dropout_rate"].threshold == 0.0006 and by_key["dropout_rate"].direction == "<"
    assert "97.5%" in by_key["completion_rate_grade9"].text
    by_key2 = {t.indicator: t for t in second.targets}
    assert by_key2["completion_rate_grade9"].number == 4
    assert by_key2["dropout_rate"].threshold == 0.0003
    assert by_key2["psych_service"].number == 5 and by_key["psych_service"].number == 4


def test_phase_for(targets):
    assert phase_for(targets, "2024-2025").name == "2022-2025"
    assert phase_for(targets, "2025-2026").name == "2025-2030"
    assert phase_for(targets, "2021-2022") is None


def write(tmp_path, text):
    path = tmp_path / "targets.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


GOOD_PHASE = """\
phases:
  - name: "2022-2025"
    first_year: "2022-2023"
    last_year: "2024-2025"
    targets:
      - number: 5
        text: "Tỷ lệ HS hoàn thành cấp trung học cơ sở 97.5%"
        indicator: completion_rate_grade9
        threshold: {threshold}
        direction: "{direction}"
"""


def test_malformed_values_are_all_reported(tmp_path):
    path = write(tmp_path, GOOD_PHASE.format(threshold="abc", direction="at least"))
    with pytest.raises(LocsonError) as exc:
        load_targets(path)
    msg = str(exc.value)
    assert str(path) in msg and "2 lỗi" in msg
    assert "phases[0].targets[0].threshold" in msg and "cần một số" in msg and "abc" in msg
    assert "phases[0].targets[0].direction" in msg and "at least" in msg


def test_unknown_indicator_and_bad_year(tmp_path):
    text = GOOD_PHASE.format(threshold=0.975, direction=">=").replace(
        "completion_rate_grade9", "completion").replace('"2024-2025"', '"2024-2026"')
    with pytest.raises(LocsonError) as exc:
        load_targets(write(tmp_path, text))
    msg = str(exc.value)
    assert "phases[0].targets[0].indicator" in msg and "«completion»" in msg
    assert "phases[0].last_year" in msg


def test_yaml_syntax_error_names_the_file(tmp_path):
    path = write(tmp_path, "phases: [\n  - name: x\n")
    with pytest.raises(LocsonError, match="không đọc được: sai cú pháp YAML ở dòng"):
        load_targets(path)


def test_missing_phases_key(tmp_path):
    with pytest.raises(LocsonError, match="khóa «phases»"):
        load_targets(write(tmp_path, "targets: []\n"))


def test_allowed_dropouts():
    # 800 × 0.06 % = 0.48 → 0; 2,000 × 0.06 % = 1.2 → 1; 4,000 × 0.03 % = 1.2 → 1
    assert allowed_dropouts(800, 0.0006) == 0
    assert allowed_dropouts(2000, 0.0006) == 1
    assert allowed_dropouts(4000, 0.0003) == 1
    # 5,000 × 0.06 % = 3 exactly: 3 / 5,000 is not below 0.06 %, so 2
    assert allowed_dropouts(5000, 0.0006) == 2
    assert allowed_dropouts(1666, 0.0006) == 0 and allowed_dropouts(1667, 0.0006) == 1


@pytest.fixture(scope="module")
def table():
    return tidy([
        school_row("2023-2024", "completion_rate_grade9", 0.96, 96, 100),
        school_row("2024-2025", "completion_rate_grade9", 0.98, 98, 100),
        school_row("2024-2025", "dropout_rate", 2 / 812, 2, 812),
        school_row("2024-2025", "psych_service", 1.0, 1.0),
        school_row("2025-2026", "completion_rate_grade9", 0.985, 197, 200),
        school_row("2025-2026", "dropout_rate", 1 / 4000, 1, 4000),
        school_row("2025-2026", "allround_rate", np.nan, 0, 0, "Chưa có số liệu"),
    ])


def test_evaluate_uses_the_phase_numbering(table, targets):
    ev = evaluate(table, targets, "2024-2025").set_index("indicator")
    comp = ev.loc["completion_rate_grade9"]
    assert comp.number == 5 and comp.status == "Đạt"
    assert comp.gap == pytest.approx(0.98 - 0.975)
    assert comp.previous_value == 0.96 and comp.change == pytest.approx(0.02)
    assert ev.loc["psych_service"].status == "Đạt" and ev.loc["psych_service"].number == 4
    assert ev.loc["toilets_hygienic_share"].status == "Chưa có số liệu"
    assert math.isnan(ev.loc["toilets_hygienic_share"].gap)

    ev2 = evaluate(table, targets, "2025-2026").set_index("indicator")
    comp2 = ev2.loc["completion_rate_grade9"]
    # 197 / 200 = 98.5 % < 99.8 %
    assert comp2.number == 4 and comp2.status == "Chưa đạt"
    assert comp2.gap == pytest.approx(0.985 - 0.998)
    assert ev2.loc["allround_rate"].status == "Chưa có số liệu"


def test_dropout_note_and_allowed(table, targets):
    ev = evaluate(table, targets, "2024-2025").set_index("indicator")
    d = ev.loc["dropout_rate"]
    assert d.status == "Chưa đạt" and d.allowed_dropouts == 0
    assert d.note == ("Với 812 học sinh đầu năm, chỉ tiêu dưới 0,06 % cho phép tối đa 0 học "
                      "sinh bỏ học; năm nay có 2.")
    d2 = evaluate(table, targets, "2025-2026").set_index("indicator").loc["dropout_rate"]
    # 1 of 4,000 = 0.025 % < 0.03 %: allowed 1
    assert d2.status == "Đạt" and d2.allowed_dropouts == 1
    assert d2.note.startswith("Với 4.000 học sinh đầu năm, chỉ tiêu dưới 0,03 %")


def test_dropout_exactly_at_threshold_is_not_met(targets):
    # 3 / 5,000 = 0.06 %: not strictly below
    table = tidy([school_row("2024-2025", "dropout_rate", 3 / 5000, 3, 5000)])
    d = evaluate(table, targets, "2024-2025").set_index("indicator").loc["dropout_rate"]
    assert d.status == "Chưa đạt" and d.allowed_dropouts == 2


def test_year_outside_the_phases(table, targets):
    ev = evaluate(table, targets, "2021-2022")
    assert set(ev["status"]) == {OUTSIDE} and ev["number"].isna().all()


def test_several_schools_need_a_choice(table, targets):
    two = tidy([*table.to_dict("records"),
                school_row("2024-2025", "dropout_rate", 0.0, 0, 10, school="OTHER")])
    with pytest.raises(LocsonError, match="nhiều trường"):
        evaluate(two, targets, "2024-2025")
    other = evaluate(two, targets, "2024-2025", school_code="OTHER").set_index("indicator")
    assert other.loc["dropout_rate"].status == "Đạt"


def test_outlook_with_too_few_years(table, targets):
    out = outlook(table, targets, "2025-2030").set_index("indicator")
    comp = out.loc["completion_rate_grade9"]
    assert comp.years == 1 and comp.outlook == TOO_FEW_YEARS and math.isnan(comp.projected_value)


def test_outlook_trend(targets):
    # completion 95 %, 96 %, 97 % in 2025..2027: slope 1 point a year → 99 % in 2029 < 99.8 %
    rows = [school_row(y, "completion_rate_grade9", v) for y, v in
            [("2025-2026", 0.95), ("2026-2027", 0.96), ("2027-2028", 0.97)]]
    # dropout 0.05 %, 0.04 %, 0.03 % → 0.01 % projected in 2029, below 0.03 %
    rows += [school_row(y, "dropout_rate", v) for y, v in
             [("2025-2026", 0.0005), ("2026-2027", 0.0004), ("2027-2028", 0.0003)]]
    out = outlook(tidy(rows), targets, "2025-2030").set_index("indicator")
    comp = out.loc["completion_rate_grade9"]
    assert comp.slope == pytest.approx(0.01)
    assert comp.projected_value == pytest.approx(0.99)
    assert not comp.reaches and "sẽ không đạt" in comp.outlook
    drop = out.loc["dropout_rate"]
    assert drop.projected_value == pytest.approx(0.0001)  # 0.0005 − 4 × 0.0001
    assert drop.reaches and "có thể đạt" in drop.outlook


def test_outlook_when_the_phase_is_over(targets):
    rows = [school_row(y, "completion_rate_grade9", v) for y, v in
            [("2022-2023", 0.99), ("2024-2025", 0.97)]]
    comp = outlook(tidy(rows), targets, "2022-2025").set_index("indicator").loc[
        "completion_rate_grade9"]
    assert not comp.reaches
    assert comp.outlook == "Không đạt khi kết thúc giai đoạn"


def test_evaluate_on_computed_indicators_in_a_year_in_progress(targets):
    from locson_analysis.indicators import compute_all
    from tests.builders import dataset, pupils

    # 2025-2026 in progress: 2,000 pupils at the start, 1 dropout so far → 0.05 % ≥ 0.03 %
    rows = (pupils(1999, "2025-2026", 6, "in_progress")
            + pupils(1, "2025-2026", 7, "dropped_out"))
    ev = evaluate(compute_all(dataset(rows)), targets, "2025-2026").set_index("indicator")
    d = ev.loc["dropout_rate"]
    # no verdict on a partial year: the figure so far, the allowance, no gap
    assert d.number == 4 and d.status == TRACKING and d.allowed_dropouts == 0
    assert d.value == pytest.approx(1 / 2000) and math.isnan(d.gap) and d.in_progress
    assert d.note.startswith("Với 2.000 học sinh đầu năm, chỉ tiêu dưới 0,03 % cho phép tối đa "
                             "0 học sinh bỏ học; năm nay đến nay có 1.")
    assert set(ev["status"]) == {TRACKING}
    assert d.previous_basis == "Cả năm học 2024-2025 (năm nay mới tính đến thời điểm nhập)"
    assert math.isnan(ev.loc["completion_rate_grade9"].value)


def test_semester1_is_compared_with_last_years_semester1(targets):
    from locson_analysis.indicators import compute_all
    from tests.builders import dataset, pupils

    # 2024-2025 (finished): 20 pupils, year results all Tốt/Tốt (100 %), semester 1: 18 of 20
    # Tốt/Tốt, 2 Chưa đạt in learning → 90 %.  2025-2026 in progress: semester 1 19 of 20 →
    # 95 %: +5 points on last year's semester 1 (not −5 on last year's full 100 %)
    good = {"learning_s1": "Tốt", "conduct_s1": "Tốt"}
    year = {"learning_year": "Tốt", "conduct_year": "Tốt"}
    rows = (pupils(18, "2024-2025", 6, "promoted", **good, **year)
            + pupils(2, "2024-2025", 6, "promoted", learning_s1="Chưa đạt", conduct_s1="Tốt",
                     **year)
            + pupils(19, "2025-2026", 7, "in_progress", **good)
            + pupils(1, "2025-2026", 7, "in_progress", learning_s1="Chưa đạt",
                     conduct_s1="Tốt"))
    table = compute_all(dataset(rows))
    ev = evaluate(table, targets, "2025-2026").set_index("indicator")
    a = ev.loc["allround_rate"]
    assert a.status == TRACKING and a.value == pytest.approx(19 / 20)
    assert a.previous_indicator == "allround_rate_s1" and a.previous_value == pytest.approx(0.9)
    assert a.change == pytest.approx(0.05) and a.previous_basis == "Học kỳ I năm học 2024-2025"
    # the finished year is judged on its full year, against last year's full year
    done = evaluate(table, targets, "2024-2025").set_index("indicator").loc["allround_rate"]
    assert done.status == "Đạt" and not done.in_progress
    assert done.previous_indicator == "allround_rate"


def test_allowed_noncompleters():
    # 188 × 97,5 % = 183,3 → 184 must complete, 4 may not; 200 × 97,5 % = 195 exactly → 5
    assert allowed_noncompleters(188, 0.975) == 4
    assert allowed_noncompleters(200, 0.975) == 5
    assert allowed_noncompleters(10, 0.998) == 0


def test_completion_views_disagree_and_the_sentence_says_so(targets):
    from locson_analysis.indicators import compute_all
    from tests.builders import dataset, pupils

    # 2024-2025, grade 9: 40 at the start, of whom `dropouts` drop out and the rest complete;
    # 1 pupil arrives in November and completes.  Dropouts leave (a)'s denominator, so they
    # raise (a); (a′) keeps them
    def roster(dropouts: int) -> list:
        return (pupils(40 - dropouts, "2024-2025", 9, "completed")
                + pupils(dropouts, "2024-2025", 9, "dropped_out")
                + pupils(1, "2024-2025", 9, "completed", entry_date="2024-11-04"))

    views = completion_views(compute_all(dataset(roster(3))), "2024-2025", threshold=0.975)
    v = views.set_index("indicator")
    # 3 dropouts: (a) (37 + 1) / 38 = 100 % meets; (a′) 38 / 40 = 95 % misses
    assert (v.loc["completion_rate_grade9", "numerator"],
            v.loc["completion_rate_grade9", "denominator"]) == (38, 38)
    assert v.loc["completion_rate_grade9", "judged"] and v.loc["completion_rate_grade9", "meets"]
    assert v.loc["completion_rate_grade9_start", "value"] == pytest.approx(38 / 40)
    assert not v.loc["completion_rate_grade9_start", "meets"]
    assert v.loc["grade9_dropouts", "value"] == 3
    # no grade-6 list three years before: (b), (c) have no value and no verdict
    assert pd.isna(v.loc["completion_rate_apparent_cohort", "meets"])
    text = completion_sentence(views, 0.975)
    assert text == (
        "Chỉ tiêu 97,5 % được đánh giá theo (a) học sinh hoàn thành ÷ học sinh lớp 9 cuối năm: "
        "100 % — Đạt. Theo cách tính khác, kết quả ngược lại (chưa đạt 97,5 %): (a′) học sinh "
        "hoàn thành ÷ (học sinh lớp 9 đầu năm − học sinh chuyển đi) 95 %. Năm nay có 3 học "
        "sinh lớp 9 bỏ học; các em không nằm trong mẫu số của (a). Với 38 học sinh lớp 9 cuối "
        "năm, chỉ tiêu 97,5 % cho phép tối đa 0 học sinh chưa hoàn thành chương trình THCS; "
        "năm nay có 0.")
    # evaluate carries the allowance for the judged ratio: 38 − ⌈38 × 0,975⌉ = 38 − 38 = 0
    ev = evaluate(compute_all(dataset(roster(3))), targets, "2024-2025").set_index("indicator")
    assert ev.loc["completion_rate_grade9"].allowed_noncompleters == 0
