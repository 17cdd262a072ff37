"""Tests for locson_analysis.flows: UNESCO flow rates and the reconstructed cohort.

Every expected value is computed by hand in the comments.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from locson_analysis import flows
from locson_analysis.errors import LocsonError
from locson_analysis.flows import (
    CohortResult,
    aggregate_from_pupils,
    flow_rates,
    reconstructed_cohort,
)

NaN = math.nan


# ------------------------------------------------------------------------------------------
# A hand-built 5-grade (primary-like) table over three school years
# ------------------------------------------------------------------------------------------
#
#             enrolment E                    repeaters R           graduates (grade 5)
# 2020-2021:  1000  900  850  800  700       (not used)            600
# 2021-2022:  1050  920  860  790  720       60  50  40  45  30    650
# 2022-2023:  1000  950  880  800  730       55  45  35  40  20    NaN (year in progress)

def five_grade_table() -> pd.DataFrame:
    rows = []
    data = {
        "2020-2021": ([1000, 900, 850, 800, 700], [NaN] * 5, 600),
        "2021-2022": ([1050, 920, 860, 790, 720], [60, 50, 40, 45, 30], 650),
        "2022-2023": ([1000, 950, 880, 800, 730], [55, 45, 35, 40, 20], NaN),
    }
    for year, (enr, rep, grads) in data.items():
        for g in range(1, 6):
            rows.append({"school_year": year, "grade": g, "enrolment": enr[g - 1],
                         "repeaters": rep[g - 1], "graduates": grads if g == 5 else NaN})
    return pd.DataFrame(rows)


# Base year 2020-2021 (t+1 = 2021-2022):
#   promotion g = (E[g+1, t+1] - R[g+1, t+1]) / E[g, t];  last grade: graduates[t] / E[5, t]
#   repetition g = R[g, t+1] / E[g, t];  dropout = 1 - promotion - repetition
EXPECTED_2020 = {
    # g1: (920 - 50) / 1000 = 870/1000 = 0.87;  60/1000 = 0.06;  1 - 0.87 - 0.06 = 0.07
    1: (0.87, 0.06, 0.07),
    # g2: (860 - 40) / 900 = 820/900;  50/900;  (900 - 820 - 50)/900 = 30/900
    2: (820 / 900, 50 / 900, 30 / 900),
    # g3: (790 - 45) / 850 = 745/850;  40/850;  (850 - 745 - 40)/850 = 65/850
    3: (745 / 850, 40 / 850, 65 / 850),
    # g4: (720 - 30) / 800 = 690/800 = 0.8625;  45/800 = 0.05625;  65/800 = 0.08125
    4: (0.8625, 0.05625, 0.08125),
    # g5 (last): graduates 600 / 700;  30/700;  (700 - 600 - 30)/700 = 70/700 = 0.1
    5: (600 / 700, 30 / 700, 0.1),
}
# Base year 2021-2022 (t+1 = 2022-2023):
EXPECTED_2021 = {
    1: (905 / 1050, 55 / 1050, 90 / 1050),  # (950 - 45) = 905; 1050 - 905 - 55 = 90
    2: (845 / 920, 45 / 920, 30 / 920),  # (880 - 35) = 845; 920 - 845 - 45 = 30
    3: (760 / 860, 35 / 860, 65 / 860),  # (800 - 40) = 760; 860 - 760 - 35 = 65
    4: (710 / 790, 40 / 790, 40 / 790),  # (730 - 20) = 710; 790 - 710 - 40 = 40
    5: (650 / 720, 20 / 720, 50 / 720),  # graduates 650; 720 - 650 - 20 = 50
}
ENROLMENT = {"2020-2021": [1000, 900, 850, 800, 700], "2021-2022": [1050, 920, 860, 790, 720]}


class TestFlowRates:
    def test_five_grade_table_hand_computed(self) -> None:
        out = flow_rates(five_grade_table())
        assert list(out.columns) == ["school_year", "grade", "enrolment", "promotion",
                                     "repetition", "dropout", "note"]
        # two base years x five grades; the last year (2022-2023) has no t+1, so no rates
        assert len(out) == 10
        assert sorted(out["school_year"].unique()) == ["2020-2021", "2021-2022"]
        for year, expected in (("2020-2021", EXPECTED_2020), ("2021-2022", EXPECTED_2021)):
            part = out[out["school_year"] == year].set_index("grade")
            assert list(part.index) == [1, 2, 3, 4, 5]
            assert part["enrolment"].tolist() == ENROLMENT[year]
            for g, (p, r, d) in expected.items():
                assert part.at[g, "promotion"] == pytest.approx(p, rel=1e-12)
                assert part.at[g, "repetition"] == pytest.approx(r, rel=1e-12)
                assert part.at[g, "dropout"] == pytest.approx(d, rel=1e-9)
            assert (part["note"] == "").all()

    def test_rates_sum_to_one(self) -> None:
        out = flow_rates(five_grade_table())
        total = out["promotion"] + out["repetition"] + out["dropout"]
        assert np.allclose(total, 1.0)

    def test_lower_secondary_grades_6_to_9(self) -> None:
        # E 2024: g6 200, g7 180, g8 170, g9 160; graduates 2024 = 150
        # E 2025: g6 210, g7 190 (R 10), g8 175 (R 5), g9 165 (R 4)
        # g6: (190 - 10)/200 = 0.9,  R g6 2025 = 6 -> 6/200 = 0.03, dropout 0.07
        # g7: (175 - 5)/180 = 170/180, R g7 2025 = 10 -> 10/180, dropout (180 - 170 - 10)/180 = 0
        # g8: (165 - 4)/170 = 161/170, R g8 2025 = 5 -> 5/170, dropout (170 - 161 - 5)/170 = 4/170
        # g9: 150/160 = 0.9375, 4/160 = 0.025, dropout 0.0375
        table = pd.DataFrame({
            "school_year": ["2024-2025"] * 4 + ["2025-2026"] * 4,
            "grade": [6, 7, 8, 9] * 2,
            "enrolment": [200, 180, 170, 160, 210, 190, 175, 165],
            "repeaters": [3, 2, 1, 0, 6, 10, 5, 4],
            "graduates": [NaN, NaN, NaN, 150, NaN, NaN, NaN, NaN],
        })
        out = flow_rates(table).set_index("grade")
        assert list(out.index) == [6, 7, 8, 9]
        assert out["promotion"].tolist() == pytest.approx([0.9, 170 / 180, 161 / 170, 0.9375])
        assert out["repetition"].tolist() == pytest.approx([0.03, 10 / 180, 5 / 170, 0.025])
        assert out["dropout"].tolist() == pytest.approx([0.07, 0.0, 4 / 170, 0.0375], abs=1e-12)

    def test_zero_enrolment_gives_nan_not_crash(self) -> None:
        table = five_grade_table()
        table.loc[(table["school_year"] == "2020-2021") & (table["grade"] == 3),
                  "enrolment"] = 0
        out = flow_rates(table)
        row = out[(out["school_year"] == "2020-2021") & (out["grade"] == 3)].iloc[0]
        assert math.isnan(row["promotion"]) and math.isnan(row["repetition"])
        assert math.isnan(row["dropout"])
        assert row["note"].startswith("Chưa có số liệu")
        assert row["enrolment"] == 0
        # the other grades are untouched: g1 still 870/1000
        g1 = out[(out["school_year"] == "2020-2021") & (out["grade"] == 1)].iloc[0]
        assert g1["promotion"] == pytest.approx(0.87)

    def test_missing_next_year_row_gives_nan_with_note(self) -> None:
        table = five_grade_table()
        drop = (table["school_year"] == "2021-2022") & (table["grade"] == 2)
        out = flow_rates(table[~drop])
        part = out[out["school_year"] == "2020-2021"].set_index("grade")
        # g1 promotion needs E/R of g2 in 2021-2022: missing
        assert math.isnan(part.at[1, "promotion"])
        assert part.at[1, "repetition"] == pytest.approx(0.06)  # 60/1000 still known
        assert "Chưa có số liệu" in part.at[1, "note"]
        # g2 repetition needs R of g2 in 2021-2022: missing; promotion (860-40)/900 known
        assert math.isnan(part.at[2, "repetition"])
        assert part.at[2, "promotion"] == pytest.approx(820 / 900)
        # base year 2021-2022 has no g2 row: enrolment NaN, rates NaN
        part21 = out[out["school_year"] == "2021-2022"].set_index("grade")
        assert math.isnan(part21.at[2, "enrolment"])
        assert math.isnan(part21.at[2, "promotion"])

    def test_missing_graduates_gives_nan_promotion_of_last_grade(self) -> None:
        table = five_grade_table()
        table.loc[(table["school_year"] == "2020-2021") & (table["grade"] == 5),
                  "graduates"] = NaN
        part = flow_rates(table).query("school_year == '2020-2021'").set_index("grade")
        assert math.isnan(part.at[5, "promotion"])
        assert part.at[5, "repetition"] == pytest.approx(30 / 700)
        assert "hoàn thành chương trình" in part.at[5, "note"]

    def test_year_followed_by_gap_has_no_rates(self) -> None:
        table = five_grade_table()
        table = table[table["school_year"] != "2021-2022"]  # 2020-2021, then 2022-2023
        out = flow_rates(table)
        assert out.empty
        assert "promotion" in out.columns

    def test_graduates_outside_last_grade_are_ignored(self) -> None:
        table = five_grade_table()
        table["graduates"] = table["graduates"].fillna(0)
        pd.testing.assert_frame_equal(flow_rates(table), flow_rates(five_grade_table()))

    def test_by_school_code(self) -> None:
        a = five_grade_table().assign(school_code="A")
        b = five_grade_table().assign(school_code="B")
        # school B: double grade 1 enrolment in 2020-2021 -> g1 promotion 870/2000 = 0.435
        b.loc[(b["school_year"] == "2020-2021") & (b["grade"] == 1), "enrolment"] = 2000
        out = flow_rates(pd.concat([b, a], ignore_index=True))
        assert out.columns[0] == "school_code"
        assert len(out) == 20
        g1 = out[(out["grade"] == 1) & (out["school_year"] == "2020-2021")].set_index(
            "school_code")
        assert g1.at["A", "promotion"] == pytest.approx(0.87)
        assert g1.at["B", "promotion"] == pytest.approx(0.435)  # 870 / 2000
        assert g1.at["B", "repetition"] == pytest.approx(0.03)  # 60 / 2000

    def test_input_not_modified(self) -> None:
        table = five_grade_table()
        before = table.copy()
        flow_rates(table)
        pd.testing.assert_frame_equal(table, before)


class TestFlowRatesValidation:
    def test_missing_columns_named(self) -> None:
        table = five_grade_table().drop(columns=["repeaters", "graduates"])
        with pytest.raises(LocsonError) as exc:
            flow_rates(table)
        msg = str(exc.value)
        assert "«repeaters»" in msg and "«graduates»" in msg and "thiếu cột" in msg

    def test_empty_table(self) -> None:
        with pytest.raises(LocsonError, match="không có dòng nào"):
            flow_rates(five_grade_table().iloc[0:0])

    def test_all_problems_at_once(self) -> None:
        table = five_grade_table()
        table["enrolment"] = table["enrolment"].astype(object)
        table.loc[0, "enrolment"] = "nhiều"  # non-numeric
        table.loc[1, "repeaters"] = -3  # negative
        table.loc[2, "enrolment"] = 1.234  # "1.234" read as a decimal: not a whole count
        table.loc[7, "repeaters"] = 2000  # more repeaters than enrolment (920)
        table.loc[14, "grade"] = 4  # duplicate of row 14 (2022-2023, grade 4); grade 5 stays
        with pytest.raises(LocsonError) as exc:
            flow_rates(table)
        msg = str(exc.value)
        assert "phát hiện 5 lỗi" in msg
        assert "dòng 1 (năm học «2020-2021», khối «1»), cột «enrolment»" in msg
        assert "«nhiều» không phải là số" in msg
        assert "dòng 2 (năm học «2020-2021», khối «2»), cột «repeaters»" in msg
        assert "«-3» là số âm" in msg
        assert "«1.234» không phải số nguyên" in msg
        assert "dòng 8 (năm học «2021-2022», khối «3»)" in msg and "lớn hơn sĩ số" in msg
        assert "các dòng 14, 15 trùng nhau" in msg and "khối «4»" in msg

    def test_bad_school_year_and_grade(self) -> None:
        table = five_grade_table()
        table["grade"] = table["grade"].astype(object)
        table.loc[0, "school_year"] = "2020"
        table.loc[1, "grade"] = "sáu"
        with pytest.raises(LocsonError) as exc:
            flow_rates(table)
        msg = str(exc.value)
        assert "cột «school_year»: giá trị «2020» không phải năm học" in msg
        assert "cột «grade»: giá trị «sáu» không phải khối lớp" in msg

    def test_gap_in_grades(self) -> None:
        table = five_grade_table()
        table = table[table["grade"] != 3]
        with pytest.raises(LocsonError, match="thiếu khối 3"):
            flow_rates(table)

    def test_not_a_dataframe(self) -> None:
        with pytest.raises(LocsonError):
            flow_rates([1, 2, 3])  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------
# Reconstructed cohort
# ------------------------------------------------------------------------------------------

def rates_table(promotion: list[float], repetition: list[float],
                first_grade: int = 1) -> pd.DataFrame:
    grades = list(range(first_grade, first_grade + len(promotion)))
    return pd.DataFrame({"grade": grades, "promotion": promotion, "repetition": repetition})


class TestReconstructedCohort:
    def test_two_grades_no_repetition(self) -> None:
        # p = (0.9, 0.8), r = 0. Year 1: 1000 in g1 -> 900 promoted, 100 drop.
        # Year 2: 900 in g2 -> 720 graduate, 180 drop.
        # graduates 720, dropouts 100 + 180 = 280, pupil-years 1000 + 900 = 1900
        # efficiency = 720 x 2 / 1900 = 1440/1900 = 72/95; years/graduate = 1900/720 = 95/36
        res = reconstructed_cohort(rates_table([0.9, 0.8], [0.0, 0.0]))
        assert isinstance(res, CohortResult)
        assert res.survival.tolist() == pytest.approx([1.0, 0.9])
        assert res.survival.index.tolist() == [1, 2]
        assert res.graduates == pytest.approx(720)
        assert res.dropouts == pytest.approx(280)
        assert res.pupil_years == pytest.approx(1900)
        assert res.efficiency == pytest.approx(72 / 95)
        assert res.years_per_graduate == pytest.approx(95 / 36)
        # closed form without repetition: efficiency = G * prod(p) / sum_g prod_{h<g} p_h
        #   = 2 * 0.72 / (1 + 0.9)
        assert res.efficiency == pytest.approx(2 * 0.72 / 1.9)

    def test_repetition_capped_at_one_whole_cycle(self) -> None:
        # g1: p 0.8, r 0.1, d 0.1;  g2: p 0.7, r 0.2, d 0.1;  cohort 1000, max_repeats = 1
        # Year 1: g1/k0 1000 -> 800 to g2/k0, 100 to g1/k1, 100 drop.      pupil-years 1000
        # Year 2: g1/k1 100 -> 80 to g2/k1, 10 would repeat twice -> drop, 10 drop;
        #         g2/k0 800 -> 560 graduate, 160 to g2/k1, 80 drop.        pupil-years 900
        # Year 3: g2/k1 80 + 160 = 240 -> 168 graduate, 48 would repeat twice -> drop,
        #         24 drop.                                                  pupil-years 240
        # The 80 who repeated grade 1 may not repeat grade 2: the cap is for the whole cycle.
        # graduates = 560 + 168 = 728; dropouts = 100 + 10 + 10 + 80 + 48 + 24 = 272
        # pupil-years = 1000 + 900 + 240 = 2140; survival g2 = (800 + 80)/1000 = 0.88
        # efficiency = 728 x 2 / 2140 = 1456/2140 = 364/535; years/graduate = 2140/728 = 535/182
        res = reconstructed_cohort(rates_table([0.8, 0.7], [0.1, 0.2]), max_repeats=1)
        assert res.survival.tolist() == pytest.approx([1.0, 0.88])
        assert res.graduates == pytest.approx(728, rel=1e-12)
        assert res.dropouts == pytest.approx(272, rel=1e-12)
        assert res.graduates + res.dropouts == pytest.approx(1000, rel=1e-12)
        assert res.pupil_years == pytest.approx(2140, rel=1e-12)
        assert res.efficiency == pytest.approx(364 / 535, rel=1e-12)
        assert res.years_per_graduate == pytest.approx(535 / 182, rel=1e-12)
        assert res.max_repeats == 1 and res.cohort == 1000

    def test_no_repetition_allowed(self) -> None:
        # max_repeats = 0: every would-be repeater drops out.
        # Year 1: 1000 in g1 -> 800 promoted, 100 + 100 drop.  Year 2: 800 in g2 -> 560 graduate,
        # 160 + 80 drop. graduates 560, dropouts 440, pupil-years 1800,
        # efficiency = 1120/1800 = 28/45
        res = reconstructed_cohort(rates_table([0.8, 0.7], [0.1, 0.2]), max_repeats=0)
        assert res.survival.tolist() == pytest.approx([1.0, 0.8])
        assert (res.graduates, res.dropouts) == pytest.approx((560, 440))
        assert res.pupil_years == pytest.approx(1800)
        assert res.efficiency == pytest.approx(28 / 45)

    def test_uncapped_matches_closed_form(self) -> None:
        # No cap: of those entering grade g, p/(1-r) are eventually promoted, and each spends
        # on average 1/(1-r) years in g.
        # g1: 0.8/0.9 = 8/9 promoted, 10/9 years; g2: 0.7/0.8 = 7/8 graduate, 5/4 years.
        # survival g2 = 8/9; graduates = 1000 x 8/9 x 7/8 = 7000/9
        # pupil-years = 1000 x 10/9 + 1000 x 8/9 x 5/4 = 10000/9 + 10000/9 = 20000/9
        # efficiency = (7000/9 x 2) / (20000/9) = 0.7; years/graduate = 20000/7000 = 20/7
        res = reconstructed_cohort(rates_table([0.8, 0.7], [0.1, 0.2]))
        assert res.survival.tolist() == pytest.approx([1.0, 8 / 9], rel=1e-8)
        assert res.graduates == pytest.approx(7000 / 9, rel=1e-8)
        assert res.pupil_years == pytest.approx(20000 / 9, rel=1e-8)
        assert res.efficiency == pytest.approx(0.7, rel=1e-8)
        assert res.years_per_graduate == pytest.approx(20 / 7, rel=1e-8)
        # the remainder (< 1e-9 of the cohort) is counted as dropouts
        assert res.graduates + res.dropouts == pytest.approx(1000, rel=1e-12)

    def test_all_promoted_is_fully_efficient(self) -> None:
        # p = 1 everywhere: 1000 graduates after 4 years, 4000 pupil-years, efficiency 1
        res = reconstructed_cohort(rates_table([1.0] * 4, [0.0] * 4, first_grade=6))
        assert res.survival.index.tolist() == [6, 7, 8, 9]
        assert res.survival.tolist() == [1.0, 1.0, 1.0, 1.0]
        assert (res.graduates, res.dropouts, res.pupil_years) == (1000.0, 0.0, 4000.0)
        assert res.efficiency == 1.0
        assert res.years_per_graduate == 4.0

    def test_nobody_graduates(self) -> None:
        # g2 promotion 0: no graduates; efficiency 0/…= 0, years per graduate undefined (NaN)
        res = reconstructed_cohort(rates_table([1.0, 0.0], [0.0, 0.0]))
        assert res.graduates == 0.0 and res.dropouts == 1000.0
        assert res.efficiency == 0.0
        assert math.isnan(res.years_per_graduate)

    def test_from_flow_rates_output(self) -> None:
        rates = flow_rates(five_grade_table())
        one_year = rates[rates["school_year"] == "2020-2021"]
        res = reconstructed_cohort(one_year, max_repeats=2)
        assert res.school_year == "2020-2021"
        assert res.graduates + res.dropouts == pytest.approx(1000, rel=1e-12)
        # survival to grade 2 = sum over repeats of g1 promotions:
        # 0.87 x (1 + 0.06 + 0.06^2) = 0.87 x 1.0636 = 0.925332 (at most 2 repetitions)
        assert res.survival[2] == pytest.approx(0.87 * (1 + 0.06 + 0.06**2))
        assert 0 < res.efficiency <= 1

    def test_repetition_of_one_needs_a_cap(self) -> None:
        table = rates_table([0.0, 0.9], [1.0, 0.0])
        with pytest.raises(LocsonError, match="max_repeats"):
            reconstructed_cohort(table)
        # with a cap: year 1 all 1000 repeat g1; year 2 they would repeat again -> all drop
        res = reconstructed_cohort(table, max_repeats=1)
        assert (res.graduates, res.dropouts, res.pupil_years) == (0.0, 1000.0, 2000.0)

    def test_endless_repetition_is_stopped(self, monkeypatch: pytest.MonkeyPatch) -> None:
        # r = 1 - 1e-7 without a cap would need ~2e8 years to fall below 1e-9 of the cohort;
        # the safety net stops it (lowered here to 100 years to keep the test fast).
        monkeypatch.setattr(flows, "_MAX_YEARS", 100)
        with pytest.raises(LocsonError, match="không kết thúc sau 100 năm"):
            reconstructed_cohort(rates_table([1e-7], [1 - 1e-7]))

    def test_rate_validation(self) -> None:
        bad = pd.DataFrame({"grade": [1, 2, 2, 4], "promotion": [0.9, NaN, 0.7, 1.2],
                            "repetition": [0.2, 0.1, 0.1, 0.0]})
        with pytest.raises(LocsonError) as exc:
            reconstructed_cohort(bad)
        msg = str(exc.value)
        assert "khối 2 xuất hiện nhiều lần" in msg
        assert "thiếu khối 3" in msg
        assert "dòng 2 (khối «2»), cột «promotion»" in msg  # NaN
        assert "«1.2» nằm ngoài khoảng 0–1" in msg
        assert "dòng 1 (khối «1»): tỉ lệ lên lớp + tỉ lệ lưu ban = 1.1" in msg

    def test_several_years_refused(self) -> None:
        rates = flow_rates(five_grade_table())
        with pytest.raises(LocsonError, match="nhiều năm học"):
            reconstructed_cohort(rates)

    def test_missing_columns(self) -> None:
        with pytest.raises(LocsonError, match="«repetition»"):
            reconstructed_cohort(pd.DataFrame({"grade": [1], "promotion": [1.0]}))

    @pytest.mark.parametrize("cohort", [0, -5, 2.5, True])
    def test_bad_cohort(self, cohort: object) -> None:
        with pytest.raises(LocsonError, match="cohort"):
            reconstructed_cohort(rates_table([1.0], [0.0]), cohort=cohort)  # type: ignore[arg-type]

    @pytest.mark.parametrize("cap", [-1, 1.5])
    def test_bad_max_repeats(self, cap: object) -> None:
        with pytest.raises(LocsonError, match="max_repeats"):
            reconstructed_cohort(rates_table([1.0], [0.0]), max_repeats=cap)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------
# Properties
# ------------------------------------------------------------------------------------------

@st.composite
def flow(draw: st.DrawFn, min_promotion: float = 0.0) -> pd.DataFrame:
    n = draw(st.integers(min_value=1, max_value=6))
    promotion, repetition = [], []
    for _ in range(n):
        p = draw(st.floats(min_value=min_promotion, max_value=1.0))
        r = draw(st.floats(min_value=0.0, max_value=min(1.0 - p, 0.9)))
        promotion.append(p)
        repetition.append(r)
    return rates_table(promotion, repetition)


caps = st.one_of(st.none(), st.integers(min_value=0, max_value=4))


@settings(max_examples=60, deadline=None)
@given(rates=flow(), cap=caps, cohort=st.integers(min_value=1, max_value=100_000))
def test_property_cohort_is_conserved(rates: pd.DataFrame, cap: int | None, cohort: int) -> None:
    res = reconstructed_cohort(rates, cohort=cohort, max_repeats=cap)
    assert res.graduates + res.dropouts == pytest.approx(cohort, rel=1e-9)
    assert res.graduates >= 0 and res.dropouts >= -1e-9 * cohort
    assert 0.0 <= res.efficiency <= 1.0 + 1e-12
    assert res.survival.iloc[0] == 1.0
    assert (np.diff(res.survival.to_numpy()) <= 1e-12).all()  # never rises with grade


@settings(max_examples=60, deadline=None)
@given(rates=flow(min_promotion=0.1), cap=caps)
def test_property_efficiency_positive_when_all_promote_some(rates: pd.DataFrame,
                                                            cap: int | None) -> None:
    # promotion >= 0.1 in each of at most 6 grades: at least 0.1**6 = 1e-6 of the cohort
    # graduates, well above the 1e-9 share at which the uncapped run stops (with promotion
    # 0.015625 in five grades only ~1e-9 would graduate and the run may stop first).
    res = reconstructed_cohort(rates, max_repeats=cap)
    assert 0.0 < res.efficiency <= 1.0 + 1e-12
    # every graduate spends at least one year per grade
    assert res.years_per_graduate >= len(rates) - 1e-9


@settings(max_examples=30, deadline=None)
@given(n=st.integers(min_value=1, max_value=8), cap=caps)
def test_property_full_promotion_is_fully_efficient(n: int, cap: int | None) -> None:
    res = reconstructed_cohort(rates_table([1.0] * n, [0.0] * n), max_repeats=cap)
    assert res.efficiency == pytest.approx(1.0)
    assert res.graduates == pytest.approx(1000)


@settings(max_examples=40, deadline=None)
@given(rates=flow(min_promotion=0.01))
def test_property_uncapped_matches_closed_form(rates: pd.DataFrame) -> None:
    # closed form: share promoted out of g = p/(1-r); mean years in g per entrant = 1/(1-r)
    p = rates["promotion"].to_numpy()
    r = rates["repetition"].to_numpy()
    reach = np.concatenate([[1.0], np.cumprod(p / (1 - r))])
    graduates = 1000 * reach[-1]
    pupil_years = 1000 * float((reach[:-1] / (1 - r)).sum())
    res = reconstructed_cohort(rates)
    assert res.survival.to_numpy() == pytest.approx(reach[:-1], abs=1e-8)
    assert res.graduates == pytest.approx(graduates, abs=1e-5)
    assert res.pupil_years == pytest.approx(pupil_years, abs=1e-4)


# ------------------------------------------------------------------------------------------
# aggregate_from_pupils
# ------------------------------------------------------------------------------------------

T0, T1 = "2023-2024", "2024-2025"
LATE = pd.Timestamp("2023-11-15")


def register() -> pd.DataFrame:
    """A tiny register. ``entry_date`` set = arrived after the year began."""
    rows = [
        # 2023-2024
        (T0, "A", 6, None, "promoted"),
        (T0, "B", 6, None, "repeating"),
        (T0, "C", 6, None, "dropped_out"),
        (T0, "D", 6, LATE, "promoted"),  # late arrival: not start-of-year enrolment
        (T0, "E", 7, None, "promoted"),
        (T0, "F", 7, None, "repeating"),
        (T0, "G", 8, None, "promoted"),
        (T0, "H", 9, None, "completed"),
        (T0, "I", 9, None, "not_completed"),
        (T0, "J", 9, LATE, "completed"),  # late arrival who completes: counted as graduate
        # 2024-2025 (in progress)
        (T1, "B", 6, None, "in_progress"),  # repeater (marked repeating in 2023-2024)
        (T1, "K", 6, None, "in_progress"),
        (T1, "L", 6, None, "in_progress"),
        (T1, "A", 7, None, "in_progress"),
        (T1, "F", 7, None, "in_progress"),  # repeater
        (T1, "D", 7, None, "in_progress"),
        (T1, "E", 8, None, "in_progress"),
        (T1, "M", 8, pd.Timestamp("2024-10-01"), "in_progress"),  # late: not counted
        (T1, "G", 9, None, "in_progress"),
        (T1, "I", 9, None, "in_progress"),  # same grade again (not_completed): a repeater
    ]
    df = pd.DataFrame(rows, columns=["school_year", "pupil_id", "grade", "entry_date",
                                     "outcome"])
    df["entry_date"] = pd.to_datetime(df["entry_date"])
    df["grade"] = df["grade"].astype("Int64")
    return df


class TestAggregateFromPupils:
    def test_hand_counted(self) -> None:
        out = aggregate_from_pupils(register())
        assert list(out.columns) == ["school_year", "grade", "enrolment", "repeaters",
                                     "graduates"]
        t0 = out[out["school_year"] == T0].set_index("grade")
        t1 = out[out["school_year"] == T1].set_index("grade")
        # 2023-2024 start-of-year: g6 A,B,C = 3 (D late); g7 E,F = 2; g8 G = 1; g9 H,I = 2
        assert t0["enrolment"].tolist() == [3, 2, 1, 2]
        assert t0["repeaters"].isna().all()  # no 2022-2023 data: unknown
        # graduates 2023-2024: H and J completed = 2; other grades NaN
        assert t0.at[9, "graduates"] == 2
        assert t0.loc[[6, 7, 8], "graduates"].isna().all()
        # 2024-2025: g6 B,K,L = 3 (B repeats); g7 A,F,D = 3 (F repeats);
        # g8 E = 1 (M late), no repeater; g9 G,I = 2 (I in grade 9 both years)
        assert t1["enrolment"].tolist() == [3, 3, 1, 2]
        assert t1["repeaters"].tolist() == [1, 1, 0, 1]
        assert t1["graduates"].isna().all()  # year in progress

    def test_feeds_flow_rates(self) -> None:
        rates = flow_rates(aggregate_from_pupils(register())).set_index("grade")
        assert rates["school_year"].unique().tolist() == [T0]
        # g6: (E7 2024 - R7 2024) / E6 2023 = (3 - 1)/3 = 2/3; repetition 1/3; dropout 0
        assert rates.at[6, "promotion"] == pytest.approx(2 / 3)
        assert rates.at[6, "repetition"] == pytest.approx(1 / 3)
        assert rates.at[6, "dropout"] == pytest.approx(0.0, abs=1e-12)
        # g8: (E9 2024 - R9 2024) / E8 2023 = (2 - 1)/1 = 1
        assert rates.at[8, "promotion"] == pytest.approx(1.0)

    def test_by_school(self) -> None:
        x = register().assign(school_code="X")
        y = register().assign(school_code="Y")
        y = y[y["school_year"] == T1]  # school Y only has 2024-2025
        out = aggregate_from_pupils(pd.concat([x, y], ignore_index=True))
        assert out.columns[0] == "school_code"
        y_rows = out[out["school_code"] == "Y"]
        assert y_rows["school_year"].unique().tolist() == [T1]
        # pupil ids are matched within the school: Y has no previous year -> NaN repeaters
        assert y_rows["repeaters"].isna().all()
        x1 = out[(out["school_code"] == "X") & (out["school_year"] == T1)]
        assert x1["repeaters"].tolist() == [1, 1, 0, 1]

    def test_empty_grade_gets_zero(self) -> None:
        df = register()
        df = df[~((df["school_year"] == T0) & (df["grade"] == 8))]
        t0 = aggregate_from_pupils(df).query("school_year == @T0").set_index("grade")
        assert t0.at[8, "enrolment"] == 0

    def test_missing_column(self) -> None:
        with pytest.raises(LocsonError, match="«entry_date»"):
            aggregate_from_pupils(register().drop(columns="entry_date"))

    def test_bad_grade(self) -> None:
        df = register()
        df["grade"] = df["grade"].astype(object)
        df.loc[3, "grade"] = "lớp sáu"
        with pytest.raises(LocsonError, match="dòng 4, cột «grade»"):
            aggregate_from_pupils(df)


# ------------------------------------------------------------------------------------------
# Linked records (issue 11, point 6): rates from each pupil, transfers kept apart
# ------------------------------------------------------------------------------------------

def _linked_roster() -> pd.DataFrame:
    """Grade 6 → 7 over 2023-2024 → 2024-2025 (grades 8, 9 empty), by hand:

    2023-2024 grade 6 at the start: P1…P8 (8 pupils); P8 transfers out during the year;
    P7 drops out.  2024-2025: P1…P5 in grade 7 (promoted), P6 in grade 6 again (repeated),
    and A1, A2 arrive in grade 7 from another school (not in any rate).
    Closed cohort = 8 − 1 transfer = 7: promotion 5/7, repetition 1/7, dropout 1/7 (P7).
    The aggregate method instead sees 7 pupils in grade 7 at the start of 2024-2025, none
    repeating: promotion 7/8 — and with more arrivals, above 1.
    """
    rows = []
    for i in range(1, 9):
        outcome = {7: "dropped_out", 8: "transferred_out", 6: "repeating"}.get(i, "promoted")
        rows.append(("2023-2024", f"P{i}", 6, None, outcome))
    rows += [("2024-2025", f"P{i}", 7, None, "promoted") for i in range(1, 6)]
    rows += [("2024-2025", "P6", 6, None, "promoted")]
    rows += [("2024-2025", a, 7, None, "promoted") for a in ("A1", "A2")]
    return pd.DataFrame(rows, columns=["school_year", "pupil_id", "grade", "entry_date",
                                       "outcome"]).astype({"entry_date": "datetime64[ns]"})


def test_linked_flow_rates_keep_transfers_apart() -> None:
    rates = flows.linked_flow_rates(_linked_roster())
    g6 = rates[rates["grade"] == 6].iloc[0]
    assert (g6["enrolment"], g6["transfers_out"], g6["cohort"]) == (8, 1, 7)
    assert (g6["promoted"], g6["repeated"], g6["dropped"]) == (5, 1, 1)
    assert g6["arrivals_next_year"] == 2
    assert g6["promotion"] == pytest.approx(5 / 7)
    assert g6["repetition"] == pytest.approx(1 / 7)
    assert g6["dropout"] == pytest.approx(1 / 7)
    assert g6["method"] == flows.METHOD_LINKED
    # the last year has no year after it: no rates
    assert set(rates["school_year"]) == {"2023-2024"}
    # grades 7–9 had nobody at the start: no rate, a note in words
    g7 = rates[rates["grade"] == 7].iloc[0]
    assert math.isnan(g7["promotion"]) and g7["note"].startswith("Chưa có số liệu: khối 7")


def test_best_flow_rates_falls_back_to_the_aggregate_method_without_ids() -> None:
    roster = _linked_roster()
    assert flows.best_flow_rates(roster)["method"].eq(flows.METHOD_LINKED).all()
    no_ids = roster.assign(pupil_id=[None] * len(roster))
    aggregate = flows.best_flow_rates(no_ids)
    assert aggregate["method"].eq(flows.METHOD_AGGREGATE).all()


def test_unusable_year_is_explained_in_full_words() -> None:
    # aggregate grade 6, 2023-2024: E = 8; promotion (7 in grade 7 − 0 repeaters) / 8 = 87,5 %;
    # with two more arrivals (9 in grade 7) the promotion is 9/8 = 112,5 %
    table = pd.DataFrame({
        "school_year": ["2023-2024", "2023-2024", "2024-2025", "2024-2025"],
        "grade": [6, 7, 6, 7], "enrolment": [8, 0, 1, 9], "repeaters": [NaN, NaN, 1, 0],
        "graduates": [NaN, 0, NaN, 0]})
    rates = flow_rates(table)
    base = rates[rates["school_year"] == "2023-2024"]
    reason = flows.unusable_reason(base)
    assert reason.startswith("Năm học 2023-2024 không dùng được làm năm gốc cho mô hình khóa "
                             "học tái tạo: khối 6 có tỉ lệ lên lớp 112,5 % và tỉ lệ lưu ban "
                             "12,5 %, cộng lại vượt 100 %")
    assert "phát hiện" not in reason and "Hãy sửa các lỗi sau:" not in reason
    years = flows.cohort_by_year(rates)
    assert not years["usable"].any() and years["reason"].iloc[0] == reason
    # the linked rates of the same kind of school run the model
    linked = flows.cohort_by_year(flows.linked_flow_rates(_linked_roster()).query("grade == 6"))
    assert linked["usable"].all() and linked["reason"].eq("").all()
