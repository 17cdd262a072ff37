"""The three completion definitions on a crafted five-year roster (values computed by hand)."""

import math

import pytest

from locson_analysis.indicators import compute_all
from locson_analysis.indicators.completion import NO_GRADE9
from tests.builders import career, dataset, pupils, row

PROMOTE = "promoted"


@pytest.fixture(scope="module")
def table():
    rows = (
        # R: in grade 6 in 2019-2020 (first year of data), repeats, completes 2023-2024
        career("R", "2019-2020", [(6, "repeating"), (6, PROMOTE), (7, PROMOTE), (8, PROMOTE),
                                  (9, "completed")])
        # cohort entering grade 6 in 2020-2021: A, B, C, D, E
        + career("A", "2020-2021", [(6, PROMOTE), (7, PROMOTE), (8, PROMOTE), (9, "completed")],
                 sex="F")
        + career("B", "2020-2021", [(6, PROMOTE), (7, "transferred_out")])
        + career("C", "2020-2021", [(6, PROMOTE), (7, PROMOTE), (8, "repeating"), (8, PROMOTE),
                                    (9, "completed")])
        + career("D", "2020-2021", [(6, PROMOTE), (7, PROMOTE), (8, "dropped_out")])
        + career("E", "2020-2021", [(6, PROMOTE), (7, PROMOTE), (8, PROMOTE), (9, "completed")])
        # F arrives in grade 7 in 2021-2022 (not in the cohort) and completes on time
        + career("F", "2021-2022", [(7, PROMOTE), (8, PROMOTE), (9, "completed")])
        # a grade-9 dropout and a grade-9 transfer out in 2023-2024
        + career("G", "2023-2024", [(9, "dropped_out")])
        + career("H", "2023-2024", [(9, "transferred_out")])
    )
    return compute_all(dataset(rows))


def test_grade9_completion_excludes_leavers(table):
    # 2023-2024 grade 9: R, A, E, F completed; G dropped out, H transferred: 4 / 4
    r = row(table, "completion_rate_grade9", "2023-2024")
    assert (r.value, r.numerator, r.denominator) == (1.0, 4, 4)
    # 2024-2025: C completes alone: 1 / 1
    assert row(table, "completion_rate_grade9", "2024-2025").value == 1.0
    # girls in 2023-2024: A only, 1/1, a group under 10 pupils: counts, no rate
    girls = row(table, "completion_rate_grade9", "2023-2024", "sex", "Nữ")
    assert math.isnan(girls.value) and (girls.numerator, girls.denominator) == (1, 1)
    assert "n = 1" in girls.note


def test_year_without_grade9_is_no_data(table):
    r = row(table, "completion_rate_grade9", "2022-2023")
    assert math.isnan(r.value) and r.note == NO_GRADE9


def test_apparent_cohort(table):
    # completers 2023-2024 (R, A, E, F) = 4 ÷ grade-6 start 2020-2021 (R, A, B, C, D, E) = 6
    r = row(table, "completion_rate_apparent_cohort", "2023-2024")
    assert (r.numerator, r.denominator) == (4, 6)
    assert r.value == pytest.approx(4 / 6)
    # 2022-2023 would need 2019-2020's grade 6 → present (R only), completers 0: 0 / 1
    assert row(table, "completion_rate_apparent_cohort", "2022-2023").value == 0.0
    # 2021-2022 needs 2018-2019, absent
    missing = row(table, "completion_rate_apparent_cohort", "2021-2022")
    assert math.isnan(missing.value) and "2018-2019" in missing.note


def test_true_cohort_on_time_and_later(table):
    # cohort 2020-2021: A, B, C, D, E; B transferred out → denominator A, C, D, E = 4
    # on time by 2023-2024: A, E = 2 → 0.5; ever (to 2024-2025): A, C, E = 3 → 0.75
    on_time = row(table, "completion_rate_true_cohort", "2023-2024")
    assert (on_time.numerator, on_time.denominator) == (2, 4)
    assert on_time.value == 0.5
    later = row(table, "completion_rate_true_cohort_later", "2023-2024")
    assert (later.numerator, later.denominator) == (3, 4)
    assert later.value == 0.75 and "2024-2025" in later.note
    # R's cohort (2019-2020, the first year of data) is flagged: 0 of 1 on time by 2022-2023,
    # 1 of 1 later
    r_on_time = row(table, "completion_rate_true_cohort", "2022-2023")
    assert (r_on_time.value, r_on_time.denominator) == (0.0, 1)
    assert "năm đầu có dữ liệu" in r_on_time.note
    assert row(table, "completion_rate_true_cohort_later", "2022-2023").value == 1.0


def test_in_progress_year_has_no_completion():
    rows = pupils(3, "2024-2025", 9, "in_progress")
    table = compute_all(dataset(rows))
    r = row(table, "completion_rate_grade9", "2024-2025")
    assert math.isnan(r.value) and r.note == "Chưa có (năm học đang diễn ra)"
