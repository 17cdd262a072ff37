"""Grade-6 intake of 11-year-olds (target 3) and school participation of 11–14-year-olds."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..dataset import Dataset
from . import flags as F
from .base import (
    NO_DATA,
    NO_POPULATION_FILE,
    SOURCE_NATIONAL,
    SOURCE_UIS,
    Indicator,
    empty_table,
    item_rows,
    item_table,
    join_notes,
    school_years,
    tidy,
)
from .equity import EQUITY_DIMENSIONS, Measure, aggregate, prepare, years_present

ENTRY_AGE = 11
NO_PREVIOUS_YEAR = ("Không có danh sách học sinh năm học trước: mọi học sinh lớp 6 được coi là "
                    "mới vào lớp 6")

INDICATORS = [
    Indicator(
        "grade6_intake_age11", "Tỷ lệ huy động trẻ 11 tuổi vào lớp 6", "rate",
        "Số trẻ 11 tuổi trên địa bàn đã vào lớp 6 chia cho số trẻ 11 tuổi trên địa bàn, theo số "
        "liệu điều tra phổ cập giáo dục (chỉ tiêu số 3 của kế hoạch).",
        SOURCE_NATIONAL, "Trẻ 11 tuổi trên địa bàn vào lớp 6 (điều tra phổ cập)",
        "Trẻ 11 tuổi trên địa bàn (điều tra phổ cập)", "Thời điểm điều tra phổ cập của năm học",
        input="population", in_progress="known"),
    Indicator(
        "population_11_14_in_school", "Tỷ lệ trẻ 11–14 tuổi đang đi học", "rate",
        "Số trẻ 11–14 tuổi trên địa bàn đang đi học chia cho số trẻ 11–14 tuổi trên địa bàn "
        "(điều tra phổ cập).", SOURCE_NATIONAL, "Trẻ 11–14 tuổi đang đi học",
        "Trẻ 11–14 tuổi trên địa bàn", "Thời điểm điều tra phổ cập của năm học",
        input="population", in_progress="known"),
    Indicator(
        "grade6_entrants_age11_share", "Tỷ lệ học sinh mới vào lớp 6 đúng 11 tuổi", "rate",
        "Góc nhìn từ danh sách của trường: trong các học sinh mới vào lớp 6 năm nay (không "
        "tính học sinh lưu ban, tức là đã học lớp 6 ở trường năm trước), tỷ lệ học sinh tròn 11 "
        "tuổi trong năm dương lịch năm học bắt đầu (năm bắt đầu − năm sinh = 11).",
        SOURCE_UIS, "Học sinh mới vào lớp 6 tròn 11 tuổi", "Học sinh mới vào lớp 6",
        "Năm dương lịch năm học bắt đầu", in_progress="known"),
]


def entrants_age11(prep: pd.DataFrame, local: pd.DataFrame | None = None) -> pd.DataFrame:
    """Grade-6 entrants (not in grade 6 at this school the year before) aged 11; with
    ``local`` (some rows of ``prep``, same index), counted over those rows only."""
    if prep.empty:
        return empty_table()
    g6 = (prep["grade"] == 6).fillna(False).to_numpy(dtype=bool)
    # a repeater was in grade 6 at this school the year before (linked by pupil id)
    pupil = prep["pupil_school_key"].to_numpy()[g6] * 4096
    year = prep["year_start"].to_numpy()[g6] - 1900
    repeater = np.zeros(len(prep), dtype=bool)
    repeater[g6] = pd.Series(pupil + year).isin(pupil + year + 1).to_numpy()
    entrant = g6 & ~repeater
    sub = prep
    if local is not None and local is not prep:
        rows_of = prep.index.get_indexer(local.index)
        sub, entrant = local, entrant[rows_of]
    age = sub["year_start"] - sub["birth_date"].dt.year
    aged11 = (age == ENTRY_AGE).fillna(False).to_numpy(dtype=bool)
    rows = aggregate(sub, entrants_measures_of(F.values(FLAGS, {"entrant": entrant,
                                                                "age11": aged11})))
    return entrants_rows(rows, years_present(prep))


#: The pupil flags of the entrants' share (one definition for pandas and DuckDB, see .flags;
#: the two linked atoms are computed here and in the SQL of .sql).
FLAGS = {"entrant_age11": F.ENTRANT & F.AGE11, "entrant": F.ENTRANT}


def entrants_measures_of(f: Mapping[str, np.ndarray]) -> list[Measure]:
    """The entrants' share from the flags (pupil flags, or their sums per cell; ``sql.FLAG_SQL``
    has the same flags in DuckDB)."""
    return [Measure("grade6_entrants_age11_share", f["entrant_age11"], f["entrant"],
                    ("school", *EQUITY_DIMENSIONS))]


def entrants_rows(rows: pd.DataFrame, years: pd.DataFrame) -> pd.DataFrame:
    """The summed rows of :func:`entrants_measures_of` with the note of years whose previous
    year has no pupil list (``years``: the (school_code, year_start) pairs with pupils)."""
    present = pd.MultiIndex.from_arrays([years["school_code"].astype("str"),
                                         years["year_start"].astype("int64")])
    starts = rows["school_year"].str.slice(0, 4).astype("int64")
    previous = pd.MultiIndex.from_arrays([rows["school_code"].astype("str"), starts - 1])
    no_previous = ~previous.isin(present)
    rows["note"] = join_notes(rows["note"], pd.Series(np.where(no_previous, NO_PREVIOUS_YEAR, ""),
                                                      index=rows.index))
    return tidy(rows)


def population_rows(population: pd.DataFrame, universe: pd.DataFrame) -> pd.DataFrame:
    """The two indicators of the population file, for every (school, year) of ``universe``."""
    wide = item_table(population, universe)
    return pd.concat([
        item_rows(wide, "grade6_intake_age11", "pop_age11_in_grade6", "pop_age11",
                  NO_POPULATION_FILE, f"{NO_DATA}: số trẻ 11 tuổi trên địa bàn bằng 0"),
        item_rows(wide, "population_11_14_in_school", "pop_age11_14_in_school", "pop_age11_14",
                  NO_POPULATION_FILE, f"{NO_DATA}: số trẻ 11–14 tuổi trên địa bàn bằng 0"),
    ], ignore_index=True)


def compute(ds: Dataset, prep: pd.DataFrame | None = None,
            local: pd.DataFrame | None = None) -> pd.DataFrame:
    """Intake indicators from the population file and from the pupil list."""
    prep = prepare(ds.pupils) if prep is None else prep
    # the years of the rows asked (the other years' rows of prep are not returned)
    universe = school_years(prep if local is None else local, ds.school, ds.population)
    parts = [population_rows(ds.population, universe), entrants_age11(prep, local)]
    return pd.concat([p for p in parts if not p.empty] or [empty_table()], ignore_index=True)
