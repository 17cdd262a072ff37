"""Enrolment, dropout and flows by grade on a crafted roster (values computed by hand)."""

import math

import pytest

from locson_analysis.indicators import compute_all
from locson_analysis.indicators.base import NO_PUPIL_FILE
from tests.builders import dataset, pupil, pupils, row

Y = "2023-2024"
ARRIVED = "2023-11-02"


@pytest.fixture(scope="module")
def table():
    rows = (
        # grade 7: 10 promoted, 1 dropout (a K'Ho girl from a poor household), 1 transfer out,
        # 2 mid-year arrivals promoted, 1 mid-year arrival who dropped out
        pupils(10, Y, 7)
        + [pupil(Y, 7, "dropped_out", sex="F", ethnicity="K'Ho", poor=True)]
        + [pupil(Y, 7, "transferred_out")]
        + pupils(2, Y, 7, entry_date=ARRIVED)
        + [pupil(Y, 7, "dropped_out", entry_date=ARRIVED)]
        # grade 9: 4 completed, 1 dropout, 1 not completed
        + pupils(4, Y, 9, "completed")
        + [pupil(Y, 9, "dropped_out")]
        + [pupil(Y, 9, "not_completed")]
    )
    return compute_all(dataset(rows, school={Y: {"toilets": 2}}))


def test_enrolment_counts(table):
    # start: grade 7 10+1+1 = 12, grade 9 6 → 18; end: grade 7 10+2 = 12, grade 9 4+1 = 5 → 17
    # any: 15 + 6 = 21
    assert row(table, "enrolment_start", Y).value == 18
    assert row(table, "enrolment_start", Y, "grade", "Khối 7").value == 12
    assert row(table, "enrolment_end", Y).value == 17
    assert row(table, "enrolment_end", Y, "grade", "Khối 9").value == 5
    assert row(table, "enrolment_any", Y).value == 21


def test_dropout_counts_start_enrolment_only(table):
    # transfers are not dropouts; the arrival who dropped out is outside the start enrolment:
    # school (1 + 1) / 18, grade 7 1/12, grade 9 1/6
    r = row(table, "dropout_rate", Y)
    assert (r.numerator, r.denominator) == (2, 18)
    assert r.value == pytest.approx(2 / 18)
    assert row(table, "dropout_rate", Y, "grade", "Khối 7").value == pytest.approx(1 / 12)
    assert row(table, "dropout_rate", Y, "grade", "Khối 9").value == pytest.approx(1 / 6)
    assert row(table, "dropouts_midyear_arrivals", Y).value == 1
    assert row(table, "dropouts_midyear_arrivals", Y, "grade", "Khối 7").value == 1


def test_flows_by_grade(table):
    # grade 7: promotion 12/12 (10 + 2 arrivals), transfer out 1/12, transfers in 3
    assert row(table, "promotion_rate", Y, "grade", "Khối 7").value == 1.0
    assert row(table, "transfer_out_rate", Y, "grade", "Khối 7").value == pytest.approx(1 / 12)
    assert row(table, "transfer_in", Y, "grade", "Khối 7").value == 3
    # grade 9 (end = 5): completed 4 count as promotion, not completed counts as repetition
    assert row(table, "promotion_rate", Y, "grade", "Khối 9").value == pytest.approx(4 / 5)
    assert row(table, "repetition_rate", Y, "grade", "Khối 9").value == pytest.approx(1 / 5)
    # school: promotion (12 + 4) / 17, repetition 1/17
    assert row(table, "promotion_rate", Y).value == pytest.approx(16 / 17)
    assert row(table, "repetition_rate", Y).value == pytest.approx(1 / 17)
    # finished the year: 17 / 21
    assert row(table, "finished_year_rate", Y).value == pytest.approx(17 / 21)


def test_group_of_one(table):
    girl = row(table, "dropout_rate", Y, "sex", "Nữ")
    assert (girl.value, girl.numerator, girl.denominator) == (1.0, 1, 1)
    assert "Nhóm nhỏ (n = 1): không nên đọc như xu hướng" in girl.note
    # one K'Ho pupil: pooled as "Dân tộc khác" (fewer than 20), also counted as a minority
    assert row(table, "dropout_rate", Y, "ethnicity", "Dân tộc khác").value == 1.0
    assert row(table, "dropout_rate", Y, "minority", "Dân tộc thiểu số").value == 1.0
    assert row(table, "dropout_rate", Y, "poor", "Hộ nghèo").denominator == 1
    # boys: 1 dropout (grade 9) among 17 start-of-year boys
    assert row(table, "dropout_rate", Y, "sex", "Nam").value == pytest.approx(1 / 17)


def test_gender_parity_index(table):
    # female 1/1 ÷ male 1/17 = 17
    gpi = row(table, "gender_parity_index_dropout_rate", Y)
    assert gpi.value == pytest.approx(17.0)
    assert gpi.numerator == 1.0 and gpi.denominator == pytest.approx(1 / 17)


def test_year_without_pupil_file_is_no_data_not_zero():
    ds = dataset(pupils(3, Y, 6), school={"2024-2025": {"toilets": 2}})
    table = compute_all(ds)
    r = row(table, "dropout_rate", "2024-2025")
    assert math.isnan(r.value) and r.note == NO_PUPIL_FILE
    assert math.isnan(row(table, "enrolment_start", "2024-2025").value)


def test_ethnic_groups_of_twenty_are_named():
    rows = pupils(20, Y, 6, ethnicity="K'Ho") + pupils(19, Y, 6, ethnicity="Mạ") + pupils(
        2, Y, 6)
    table = compute_all(dataset(rows))
    assert row(table, "enrolment_start", Y, "ethnicity", "K'Ho").value == 20
    assert row(table, "enrolment_start", Y, "ethnicity", "Dân tộc khác").value == 19
    assert row(table, "enrolment_start", Y, "ethnicity", "Kinh").value == 2
    assert row(table, "enrolment_start", Y, "minority", "Dân tộc thiểu số").value == 39
