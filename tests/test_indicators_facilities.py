"""Facilities and services from the school sheet, and swimming from the roster."""

import math

import pytest

from locson_analysis.indicators import compute_all
from locson_analysis.indicators.base import NO_DATA, NO_SCHOOL_FILE
from tests.builders import dataset, pupil, pupils, row

Y = "2023-2024"
SHEET = {"toilets": 8, "toilets_hygienic": 6, "clean_water": 1, "psych_service": 0,
         "counselling_sessions": 12, "abuse_cases": 0, "complaints_received": 4,
         "complaints_resolved": 3, "policy_support_amount": 15_500_000}


@pytest.fixture(scope="module")
def table():
    rows = (pupils(3, Y, 6, can_swim=True) + pupils(1, Y, 6, can_swim=False)
            + pupils(2, Y, 6, can_swim=None) + pupils(18, Y, 7)
            + [pupil(Y, 8, entry_date="2024-01-10", sex="F", can_swim=True)])
    school = {Y: SHEET, "2022-2023": {"toilets": 0, "toilets_hygienic": 0,
                                      "complaints_received": 0, "complaints_resolved": 0}}
    return compute_all(dataset(rows, school=school))


def test_toilets(table):
    # 6 / 8 = 0.75; start enrolment 3 + 1 + 2 + 18 = 24 → 24 / 6 = 4 pupils per toilet
    assert row(table, "toilets_hygienic_share", Y).value == 0.75
    per = row(table, "pupils_per_hygienic_toilet", Y)
    assert (per.value, per.numerator, per.denominator) == (4.0, 24, 6)


def test_yes_no_counts_and_money(table):
    assert row(table, "clean_water", Y).value == 1
    assert row(table, "psych_service", Y).value == 0
    assert row(table, "counselling_sessions", Y).value == 12
    assert row(table, "abuse_cases", Y).value == 0  # recorded zero stays 0
    assert row(table, "policy_support_amount", Y).value == 15_500_000
    missing = row(table, "dialogue_sessions", Y)  # not on the sheet
    assert math.isnan(missing.value) and missing.note == NO_DATA


def test_zero_denominators(table):
    # 3 / 4 resolved; the year with 0 toilets and 0 complaints has no data, not 0
    assert row(table, "complaints_resolved_share", Y).value == 0.75
    for key in ("toilets_hygienic_share", "complaints_resolved_share",
                "pupils_per_hygienic_toilet"):
        r = row(table, key, "2022-2023")
        assert math.isnan(r.value), key
        assert r.note.startswith(NO_DATA) or "Không" in r.note, key


def test_swim_share_counts_start_of_year_pupils(table):
    # the denominator of every rate: pupils at the start of the year.  Known at the start:
    # 3 swimmers + 1 non-swimmer = 4 (2 blanks left out); the girl who arrived in January and
    # can swim is in neither count (she was 4 of 5 before issue 11)
    r = row(table, "swim_share", Y)
    assert (r.numerator, r.denominator) == (3, 4)
    assert r.value == pytest.approx(0.75)


def test_swim_parity_from_enough_pupils():
    # girls 8 of 10 swim, boys 6 of 10 → GPI 0.8 / 0.6 = 4/3
    rows = (pupils(8, Y, 6, sex="F", can_swim=True) + pupils(2, Y, 6, sex="F", can_swim=False)
            + pupils(6, Y, 6, can_swim=True) + pupils(4, Y, 6, can_swim=False))
    gpi = row(compute_all(dataset(rows)), "gender_parity_index_swim_share", Y)
    assert gpi.value == pytest.approx(4 / 3)
    assert (gpi.numerator, gpi.denominator) == (pytest.approx(0.8), pytest.approx(0.6))


def test_missing_school_sheet():
    table = compute_all(dataset(pupils(2, "2024-2025", 6)))
    r = row(table, "toilets_hygienic_share", "2024-2025")
    assert math.isnan(r.value) and r.note == NO_SCHOOL_FILE


def test_parity_undefined_when_male_rate_is_zero():
    # boys 0 of 10 swim: fewer than 5 events in one group, so no division by a zero rate
    rows = pupils(10, Y, 6, can_swim=False) + pupils(10, Y, 6, sex="F", can_swim=True)
    r = row(compute_all(dataset(rows)), "gender_parity_index_swim_share", Y)
    assert math.isnan(r.value)
    assert r.note == ("Không tính chỉ số: một nhóm có dưới 5 trường hợp, quá ít để so sánh "
                      "(nữ 10/10, nam 0/10)")
