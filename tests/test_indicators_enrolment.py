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


def test_dropout_counts_every_dropout_over_start_enrolment(table):
    # GSO formula: every dropout of the year (the arrival who dropped out too) ÷ start
    # enrolment; transfers are not dropouts.  school (1 + 1 + 1) / 18, grade 7 (1 + 1)/12,
    # grade 9 1/6; the arrival who dropped out is also counted on its own
    r = row(table, "dropout_rate", Y)
    assert (r.numerator, r.denominator) == (3, 18)
    assert r.value == pytest.approx(3 / 18)
    assert row(table, "dropout_rate", Y, "grade", "Khối 7").value == pytest.approx(2 / 12)
    # a grade under 10 pupils keeps its rate (grades are the school's own structure), with a note
    g9 = row(table, "dropout_rate", Y, "grade", "Khối 9")
    assert g9.value == pytest.approx(1 / 6) and g9.note.startswith("Nhóm nhỏ (n = 6")
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
    # a group under MIN_GROUP_PUPILS (10) pupils: no rate, the counts and a note instead
    girl = row(table, "dropout_rate", Y, "sex", "Nữ")
    assert math.isnan(girl.value) and (girl.numerator, girl.denominator) == (1, 1)
    assert "Nhóm nhỏ (n = 1, dưới 10 học sinh): không tính tỷ lệ" in girl.note
    # one K'Ho pupil: pooled as "Dân tộc khác" (fewer than 20), also counted as a minority
    other = row(table, "dropout_rate", Y, "ethnicity", "Dân tộc khác")
    assert math.isnan(other.value) and (other.numerator, other.denominator) == (1, 1)
    assert row(table, "dropout_rate", Y, "minority", "Dân tộc thiểu số").denominator == 1
    assert row(table, "dropout_rate", Y, "poor", "Hộ nghèo").denominator == 1
    # boys: 2 dropouts (the arrival and grade 9) over 17 start-of-year boys
    assert row(table, "dropout_rate", Y, "sex", "Nam").value == pytest.approx(2 / 17)


def test_gender_parity_index_not_computed_from_few_events(table):
    # girls 1/1, boys 2/17: fewer than 10 girls and fewer than 5 events → no index, the note
    # gives both counts; the rates stay in numerator/denominator
    gpi = row(table, "gender_parity_index_dropout_rate", Y)
    assert math.isnan(gpi.value)
    assert gpi.note == "Không tính chỉ số: một nhóm có dưới 10 học sinh (nữ 1/1, nam 2/17)"
    assert gpi.numerator == 1.0 and gpi.denominator == pytest.approx(2 / 17)


def test_gender_parity_index_from_enough_events():
    # girls 6 dropouts of 40, boys 5 of 50 → (6/40)/(5/50) = 1.5; with 4 events among the boys
    # (4/50) the index is not computed
    def roster(boys_out: int) -> list:
        return (pupils(6, Y, 7, "dropped_out", sex="F") + pupils(34, Y, 7, sex="F")
                + pupils(boys_out, Y, 7, "dropped_out") + pupils(50 - boys_out, Y, 7))

    gpi = row(compute_all(dataset(roster(5))), "gender_parity_index_dropout_rate", Y)
    assert gpi.value == pytest.approx(1.5) and gpi.note == ""
    few = row(compute_all(dataset(roster(4))), "gender_parity_index_dropout_rate", Y)
    assert math.isnan(few.value)
    assert few.note == ("Không tính chỉ số: một nhóm có dưới 5 trường hợp, quá ít để so sánh "
                        "(nữ 6/40, nam 4/50)")


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
