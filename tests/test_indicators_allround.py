"""All-round development: TT22 and the old TT58 scale, and a year in progress."""

import math

import pytest

from locson_analysis.indicators import compute_all
from locson_analysis.indicators.base import IN_PROGRESS, SEMESTER1, SO_FAR
from tests.builders import dataset, pupil, row

Y = "2021-2022"
NOW = "2024-2025"


def test_tt22_and_tt58_scales():
    rows = [
        pupil(Y, 6, learning_year="Tốt", conduct_year="Tốt"),  # passes
        pupil(Y, 6, learning_year="Đạt", conduct_year="Khá"),  # passes
        pupil(Y, 6, learning_year="Chưa đạt", conduct_year="Tốt"),  # fails
        pupil(Y, 6, "dropped_out", learning_year=None, conduct_year=None),  # no results
        # old scale: Trung bình learning and Khá conduct pass; Yếu learning or conduct fail
        pupil(Y, 7, result_scale="tt58", learning_year="Trung bình", conduct_year="Khá"),
        pupil(Y, 7, result_scale="tt58", learning_year="Giỏi", conduct_year="Trung bình"),
        pupil(Y, 7, result_scale="tt58", learning_year="Yếu", conduct_year="Tốt"),
        pupil(Y, 7, result_scale="tt58", learning_year="Khá", conduct_year="Yếu"),
        pupil(Y, 7, result_scale="tt58", learning_year="Khá", conduct_year=None),  # one result
    ]
    table = compute_all(dataset(rows))
    # passing: 2 (TT22) + 2 (TT58) = 4; with both results: 3 + 4 = 7
    r = row(table, "allround_rate", Y)
    assert (r.numerator, r.denominator) == (4, 7) and r.value == pytest.approx(4 / 7)
    assert row(table, "allround_rate", Y, "grade", "Khối 7").value == 0.5  # 2 / 4


def test_year_in_progress_uses_semester1_and_blanks_the_rest():
    rows = [
        pupil(NOW, 7, "in_progress", learning_year=None, conduct_year=None),
        pupil(NOW, 7, "in_progress", learning_year=None, conduct_year=None),
        pupil(NOW, 7, "in_progress", learning_year=None, conduct_year=None,
              learning_s1="Chưa đạt"),
        pupil(NOW, 7, "dropped_out", learning_year=None, conduct_year=None, learning_s1=None,
              conduct_s1=None),
        pupil(NOW, 7, "in_progress", learning_year=None, conduct_year=None,
              entry_date="2024-10-01"),
    ]
    table = compute_all(dataset(rows))
    # semester 1: 4 pupils with both results, 3 at least Đạt
    allround = row(table, "allround_rate", NOW)
    assert (allround.numerator, allround.denominator) == (3, 4)
    assert SEMESTER1 in allround.note
    # dropouts so far: 1 among 4 at the start
    dropout = row(table, "dropout_rate", NOW)
    assert dropout.value == 0.25 and SO_FAR in dropout.note
    assert row(table, "enrolment_start", NOW).value == 4
    for key in ("promotion_rate", "enrolment_end", "finished_year_rate",
                "completion_rate_grade9"):
        r = row(table, key, NOW)
        assert math.isnan(r.value) and r.note == IN_PROGRESS, key
