"""Grade-6 intake of 11-year-olds: population file and the school's entrants."""

import math

import pytest

from locson_analysis.indicators import compute_all
from locson_analysis.indicators.base import NO_POPULATION_FILE
from locson_analysis.indicators.intake import NO_PREVIOUS_YEAR
from tests.builders import career, dataset, pupils, row


@pytest.fixture(scope="module")
def table():
    rows = (
        # 2023-2024 grade 6: a future repeater and another pupil, both born 2012 (11 in 2023)
        career("REP", "2023-2024", [(6, "repeating"), (6, "promoted")], birth_date="2012-05-01")
        + pupils(1, "2023-2024", 6, birth_date="2012-01-01")
        # 2024-2025 grade 6: 3 entrants born 2013 (11), 1 entrant born 2012 (12), + REP
        + pupils(3, "2024-2025", 6, birth_date="2013-09-30")
        + pupils(1, "2024-2025", 6, birth_date="2012-12-31")
    )
    population = {"2024-2025": {"pop_age11": 40, "pop_age11_in_grade6": 39,
                                "pop_age11_14": 160, "pop_age11_14_in_school": 158},
                  "2023-2024": {"pop_age11": 0, "pop_age11_in_grade6": 0}}
    return compute_all(dataset(rows, population=population))


def test_population_intake(table):
    # 39 / 40 = 0.975; 158 / 160 = 0.9875
    r = row(table, "grade6_intake_age11", "2024-2025")
    assert (r.numerator, r.denominator) == (39, 40) and r.value == pytest.approx(0.975)
    assert row(table, "population_11_14_in_school", "2024-2025").value == pytest.approx(0.9875)


def test_zero_population_is_no_data(table):
    r = row(table, "grade6_intake_age11", "2023-2024")
    assert math.isnan(r.value) and "bằng 0" in r.note
    # the 11–14 items are absent from that year's file
    assert math.isnan(row(table, "population_11_14_in_school", "2023-2024").value)


def test_entrants_exclude_repeaters(table):
    # 2024-2025 entrants: 3 + 1 = 4 (REP was in grade 6 last year); aged 11: 3 → 0.75
    r = row(table, "grade6_entrants_age11_share", "2024-2025")
    assert (r.numerator, r.denominator) == (3, 4) and r.value == 0.75
    assert r.note == ""
    # 2023-2024: no previous list, both counted as entrants, both 11 → 2 / 2, with a note
    first = row(table, "grade6_entrants_age11_share", "2023-2024")
    assert (first.numerator, first.denominator) == (2, 2)
    assert NO_PREVIOUS_YEAR in first.note


def test_missing_population_file():
    table = compute_all(dataset(pupils(2, "2024-2025", 6)))
    r = row(table, "grade6_intake_age11", "2024-2025")
    assert math.isnan(r.value) and r.note == NO_POPULATION_FILE
