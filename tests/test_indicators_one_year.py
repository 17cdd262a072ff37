"""One year asked (``compute_all(ds, school_year=t)``) gives exactly that year's rows of the
all-years table: the one-year path prepares only the rows year t reads (the year itself, and
the grade-6 rows, completers and transfers of other years its cohorts and repeaters link)."""

from __future__ import annotations

import pandas as pd
import pytest

from locson_analysis import sample
from locson_analysis.indicators import compute_all
from tests.builders import career, dataset, pupil

PROMOTE = "promoted"


def _each_year_equals_the_full_table(ds) -> None:
    full = compute_all(ds)
    years = sorted(set(full["school_year"]))
    assert len(years) > 1
    for year in [*years, "2030-2031"]:
        one = compute_all(ds, school_year=year)
        expected = full[full["school_year"] == year].reset_index(drop=True)
        pd.testing.assert_frame_equal(one, expected, check_exact=True, obj=year)


def test_one_year_equals_the_full_table_on_the_sample_school() -> None:
    _each_year_equals_the_full_table(sample.to_dataset(sample.generate(seed=2025)))


@pytest.mark.parametrize("with_gap", [False, True])
def test_one_year_equals_the_full_table_on_crafted_cohorts(with_gap: bool) -> None:
    rows = (
        # a grade-6 repeater of the first year, a cohort of 2020-2021 with a transfer, a late
        # completer, a dropout; an arrival in grade 7; pupils without an ID
        career("R", "2019-2020", [(6, "repeating"), (6, PROMOTE), (7, PROMOTE), (8, PROMOTE),
                                  (9, "completed")])
        + career("A", "2020-2021", [(6, PROMOTE), (7, PROMOTE), (8, PROMOTE), (9, "completed")],
                 sex="F")
        + career("B", "2020-2021", [(6, PROMOTE), (7, "transferred_out")])
        + career("C", "2020-2021", [(6, PROMOTE), (7, PROMOTE), (8, "repeating"), (8, PROMOTE),
                                    (9, "completed")])
        + career("D", "2020-2021", [(6, PROMOTE), (7, PROMOTE), (8, "dropped_out")])
        + career("E", "2021-2022", [(6, "repeating"), (6, PROMOTE), (7, PROMOTE)],
                 ethnicity="K'Ho")
        + career("F", "2021-2022", [(7, PROMOTE), (8, PROMOTE), (9, "completed")])
        + career("T", "2019-2020", [(8, "transferred_out")])
        + career("G", "2023-2024", [(9, "dropped_out")])
        + career("H", "2023-2024", [(9, "transferred_out")])
        + [pupil("2020-2021", 6, pupil_id=None), pupil("2022-2023", 6, pupil_id=None),
           pupil("2023-2024", 9, "completed", pupil_id=None)]
    )
    if with_gap:  # a year with no pupil list in the middle
        rows = [r for r in rows if r["school_year"] != "2021-2022"]
    _each_year_equals_the_full_table(dataset(rows))
