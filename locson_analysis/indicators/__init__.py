"""The indicator engine: one registry, one tidy table.

``INDICATORS`` (key → :class:`Indicator`) is the one list of what the workbook measures, in the
order reports show it; ``docs/indicators.md`` documents every key.  :func:`compute_all` returns
every indicator for every school and year of a :class:`~locson_analysis.dataset.Dataset` as the
tidy table ``school_code, school_year, indicator, dimension, group, value, numerator,
denominator, note``; :func:`compute_sql` returns the same table straight from the database
file, with DuckDB doing the per-pupil work (for national data; see :mod:`.sql`).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from .. import contract
from ..dataset import Dataset
from . import allround, completion, enrolment, equity, facilities, flow, intake
from .base import (
    IN_PROGRESS,
    NO_DATA,
    NO_POPULATION_FILE,
    NO_PUPIL_FILE,
    NO_SCHOOL_FILE,
    SEMESTER1,
    SO_FAR,
    TIDY_COLUMNS,
    Indicator,
    empty_table,
    join_notes,
    school_years,
    tidy,
)

__all__ = ["INDICATORS", "POOLED_LABEL", "TIDY_COLUMNS", "Indicator", "compute_all",
           "compute_pooled", "compute_sql", "in_progress_years", "pooled_note", "years_needed"]

_FAMILIES = (enrolment, flow, completion, intake, allround, facilities)

INDICATORS: dict[str, Indicator] = {}
for _family in _FAMILIES:
    for _ind in _family.INDICATORS:
        INDICATORS[_ind.key] = _ind
for _ind in equity.parity_indicators(INDICATORS):
    INDICATORS[_ind.key] = _ind

_MISSING_FILE_NOTE = {"pupils": NO_PUPIL_FILE, "school": NO_SCHOOL_FILE,
                      "population": NO_POPULATION_FILE, "derived": NO_PUPIL_FILE}


def in_progress_years(ds: Dataset) -> pd.DataFrame:
    """(school_code, school_year) pairs whose pupils' outcome is still ``in_progress``."""
    p = ds.pupils
    if p.empty:
        return pd.DataFrame({"school_code": pd.Series(dtype="str"),
                             "school_year": pd.Series(dtype="str")})
    running = p.loc[p["outcome"].astype("object") == "in_progress",
                    ["school_code", "school_year"]].drop_duplicates()
    return running.astype("str").reset_index(drop=True)


def _apply_in_progress(table: pd.DataFrame, running: pd.DataFrame) -> pd.DataFrame:
    """Blank end-of-year values of running years; mark partial values as partial."""
    if running.empty or table.empty:
        return table
    keys = ["school_code", "school_year"]
    flag = table[keys].merge(running.assign(_running=True), on=keys, how="left")["_running"]
    is_running = flag.fillna(False).to_numpy(dtype=bool)
    mode = table["indicator"].map({k: i.in_progress for k, i in INDICATORS.items()})
    unknown = is_running & (mode == "unknown").to_numpy()
    table = table.copy()
    for c in ("value", "numerator", "denominator"):
        table.loc[unknown, c] = np.nan
    table.loc[unknown, "note"] = IN_PROGRESS
    extra = np.select([is_running & (mode == "so_far").to_numpy(),
                       is_running & (mode == "s1").to_numpy()], [SO_FAR, SEMESTER1], "")
    table["note"] = join_notes(table["note"], pd.Series(extra, index=table.index))
    return table


def _missing_rows(parts: list[pd.DataFrame], universe: pd.DataFrame,
                  with_pupils: pd.DataFrame) -> pd.DataFrame:
    """A school-level row for every indicator and (school, year) of ``universe`` that none of
    ``parts`` has: "no data" says why.  ``with_pupils``: the (school, year) pairs that have
    pupils."""
    if universe.empty:
        return empty_table()
    pair = ["school_code", "school_year"]
    grid = universe.merge(pd.DataFrame({"indicator": list(INDICATORS)}), how="cross")
    have = pd.concat([p.loc[(p["dimension"] == "school").to_numpy(), [*pair, "indicator"]]
                      for p in parts] or [grid.iloc[:0]], ignore_index=True).drop_duplicates()
    grid = grid.merge(have.assign(_have=True), on=[*pair, "indicator"], how="left")
    grid = grid[grid["_have"].isna()].drop(columns="_have")
    if grid.empty:
        return empty_table()
    grid = grid.merge(with_pupils[pair].assign(_pupils=True), on=pair, how="left")
    source = grid["indicator"].map({k: i.input for k, i in INDICATORS.items()})
    missing_file = (source.isin(["pupils", "derived"]) & grid["_pupils"].isna()).to_numpy()
    grid["note"] = np.where(missing_file, source.map(_MISSING_FILE_NOTE), NO_DATA)
    grid["dimension"] = "school"
    grid["group"] = equity.SCHOOL
    grid["value"] = grid["numerator"] = grid["denominator"] = np.nan
    return tidy(grid.drop(columns="_pupils"))


def finish(table: pd.DataFrame, school_year: str | None = None,
           filtered: bool = False) -> pd.DataFrame:
    """Keep the asked year; order rows by school, year, registry order, dimension, group.
    ``filtered``: every row is already of ``school_year``."""
    if school_year is not None and not filtered:
        table = table[table["school_year"] == school_year]
    if table.empty:
        return tidy(table)
    order = {k: i for i, k in enumerate(INDICATORS)}
    dim_order = {d: i for i, d in enumerate(equity.ALL_DIMENSIONS)}

    def rank(values: pd.Series, fixed: dict[str, int] | None = None) -> np.ndarray:
        # each row's rank among the sorted distinct values (a missing or unknown value last);
        # the distinct values are ranked, not every row
        found, uniques = pd.factorize(values)
        if fixed is not None:
            ranks = np.array([fixed.get(u, -1) for u in uniques], dtype=np.int64)
        else:
            ranks = np.empty(len(uniques), dtype=np.int64)
            ranks[np.argsort(np.asarray(uniques, dtype=object), kind="stable")] = np.arange(
                len(uniques))
        last = int(ranks.max()) + 1 if len(ranks) else 0
        return np.append(np.where(ranks < 0, last, ranks), last)[found]  # (-1: missing)

    keys = [rank(table["school_code"]),
            # (one year asked: every row has it, nothing to order by)
            *([] if school_year is not None else [rank(table["school_year"])]),
            rank(table["indicator"], order), rank(table["dimension"], dim_order),
            rank(table["group"])]
    radix = [int(k.max()) + 1 for k in keys]
    if math.prod(radix) < 2**62:  # one integer per row, one stable sort
        combined = np.zeros(len(table), dtype=np.int64)
        for k, r in zip(keys, radix, strict=True):
            combined *= r
            combined += k
        out = table.iloc[np.argsort(combined, kind="stable")]
    else:
        out = table.iloc[np.lexsort(keys[::-1])]
    if _is_tidy(out):
        return out.reset_index(drop=True)
    return tidy(out)


def _is_tidy(table: pd.DataFrame) -> bool:
    """Already what :func:`tidy` returns (its columns, dtypes and no missing note)?"""
    if list(table.columns) != TIDY_COLUMNS:
        return False
    text = ("school_code", "school_year", "indicator", "dimension", "group", "note")
    return (all(table[c].dtype == "str" for c in text)
            and all(table[c].dtype == "float64" for c in ("value", "numerator", "denominator"))
            and not table["note"].isna().any())


#: How many school years before t the indicators of year t read.  Enrolment, dropout, flows,
#: grade-9 completion, all-round development, facilities: t only.  Grade-6 intake age
#: (repeaters): t−1.  Apparent cohort completion (b): t−3.  True cohort completion (c, c′): the
#: cohort's grade-6 year t−3 and every year since; a pupil's first grade-6 year is looked for in
#: every earlier year loaded (a grade-6 repeater of t−4 is not an entrant of t−3), the caveat
#: note names the first year with data, and (c′) counts late completions and transfers out up
#: to the last year loaded.
YEARS_BEFORE = 4


def years_needed(school_year: str, available: list[str] | None = None) -> list[str]:
    """The school years to load (``store.load(db, years=...)``) for year t's indicators.

    Without ``available``: t−4 … t, which gives every indicator of year t as with all years
    loaded except, possibly, the cohort completion indicators (c)/(c′) and their notes (a
    grade-6 repeater after a gap year before t−4, the first-year caveat, later years for (c′)).
    With ``available`` (the years in the database): t−4 … t and every later year, and every
    earlier year too when one exists — then (c)/(c′) are exact as well.
    """
    t = contract.start_year(school_year)
    wanted = [contract.year_label(y) for y in range(t - YEARS_BEFORE, t + 1)]
    if available is None:
        return wanted
    return sorted(set(available))


def _int_codes(col: pd.Series, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of a column on ``rows`` (0 for a missing value) and the values they
    stand for."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return (col.array.codes[rows].astype(np.int64) + 1,
                np.asarray(col.array.categories, dtype=object))
    codes, uniques = pd.factorize(col)
    return codes[rows].astype(np.int64) + 1, np.asarray(uniques, dtype=object)


def _rows_read_for(pupils: pd.DataFrame, school_year: str
                   ) -> tuple[np.ndarray, np.ndarray, bool]:
    """The pupil rows year ``school_year``'s indicators read: (positions of the year's rows,
    positions of the other years' rows read, each in the order of ``pupils``; whether a
    cohort completing in that year is loaded, i.e. completers and transfers must be linked).

    Every row of the year itself, one row of every other (school, year), so that the years
    present stay known, and the rows of other years that year t's cohort and repeater
    indicators link (see :func:`equity.prepare`): grade 6 of t−1 (repeaters) and of t−3 and
    earlier (the cohort's first grade-6 year), and, when such a cohort year is loaded,
    completers and transfers out of every year.  Every other row of another year only counts
    for its own year, which is not returned.
    """
    if "school_year" not in pupils.columns:
        return np.arange(0), np.arange(len(pupils)), True
    this = (pupils["school_year"] == school_year).to_numpy(dtype=bool, na_value=False)
    if not {"school_code", "grade", "outcome"} <= set(pupils.columns):
        return np.flatnonzero(this), np.flatnonzero(~this), True
    rest = np.flatnonzero(~this)  # the other years' rows: which of them are read
    if not len(rest):
        return np.flatnonzero(this), rest, False
    grade = pupils["grade"]
    if grade.dtype != "Int64":
        grade = pd.to_numeric(grade, errors="coerce")
    is6 = grade.eq(6).to_numpy(dtype=bool, na_value=False)[rest]
    school, _ = _int_codes(pupils["school_code"], rest)
    year, labels = _int_codes(pupils["school_year"], rest)
    try:
        starts = np.array([-1, *[contract.start_year(str(y)) for y in labels]], dtype=np.int64)
    except ValueError:
        return np.flatnonzero(this), rest, True
    t = contract.start_year(school_year)
    start = starts[year]
    g6 = is6 & ((start == t - 1) | ((start <= t - 3) & (start >= 0)))
    keep = g6 | (school == 0) | (year == 0)
    cohort = bool(g6[start <= t - 3].any())
    if cohort:  # a cohort that completes in t: its completers and transfers of every year
        keep |= pupils["outcome"].isin(["completed", "transferred_out"]).to_numpy(
            dtype=bool)[rest]
    pair = school * (len(labels) + 1) + year
    first = np.full(int(pair.max()) + 1, -1, dtype=np.int64)
    first[pair[::-1]] = np.arange(len(pair) - 1, -1, -1)  # the first row of each pair
    keep[first[first >= 0]] = True
    return np.flatnonzero(this), rest[keep], cohort


def compute_all(ds: Dataset, school_year: str | None = None,
                school_code: str | None = None) -> pd.DataFrame:
    """Every indicator for every school and year (or one year / one school), as the tidy table.

    Years other than ``school_year`` are still read (cohorts and repeaters need earlier years,
    see :func:`years_needed`), but only the asked year is returned.
    """
    if school_code is not None:
        ds = ds.for_school(school_code)
    if school_year is None or ds.pupils.empty:
        prep = local = equity.prepare(ds.pupils)
    else:
        # The year's own rows first, then the rows of other years that cohorts and repeaters
        # link: families that read only the year itself get the first rows, without a copy.
        this, other, cohort = _rows_read_for(ds.pupils, school_year)
        prep = equity.prepare(ds.pupils, np.concatenate([this, other]), link_leavers=cohort)
        local = prep.iloc[:len(this)]
    # the families' measures of the year's own pupils in one pass over the rows (aggregate
    # gives each measure the same rows whatever else it sums)
    shared = equity.aggregate(local, [
        *enrolment.measures(local), *flow.measures(local), *completion.grade9_measures(local),
        *allround.measures(local), *facilities.swim_measures(local)])
    parts = [completion.compute(ds, prep, local, with_grade9=False),
             intake.compute(ds, prep, local), facilities.compute(ds, local, with_swim=False)]
    # (local has every row of the year asked: the same running years and pairs as prep)
    running = local.loc[local["in_progress_year"], ["school_code", "school_year"]]
    return assemble(parts, school_year, running.drop_duplicates().astype("str"),
                    school_years(local, ds.school, ds.population), school_years(local),
                    year_only=[shared])


def assemble(parts: list[pd.DataFrame], school_year: str | None, running: pd.DataFrame,
             universe: pd.DataFrame, with_pupils: pd.DataFrame,
             year_only: list[pd.DataFrame] | None = None) -> pd.DataFrame:
    """The families' rows → the tidy table (both paths, :func:`compute_all` and
    :func:`compute_sql`): keep the year asked, add the gender parity indices, apply the
    in-progress rule, add "no data" rows, order.

    ``running``: the (school, year) pairs still in progress; ``universe``: every pair with any
    data; ``with_pupils``: the pairs with pupils; ``year_only``: more parts, whose rows are
    all of the year asked already (not filtered again).
    """
    if school_year is not None:
        parts = [p[(p["school_year"] == school_year).to_numpy()] for p in parts]
        universe = universe[universe["school_year"] == school_year]
    parts = [p for p in [*(year_only or []), *parts] if not p.empty]
    # part by part (every rule is row by row), so that the big table is put together once
    sex = [p[(p["dimension"] == "sex").to_numpy()] for p in parts]
    parts.append(equity.gender_parity(pd.concat(sex, ignore_index=True) if sex
                                      else empty_table()))
    parts = [_apply_in_progress(p, running) for p in parts if not p.empty]
    parts.append(_missing_rows(parts, universe, with_pupils))
    table = pd.concat([p for p in parts if not p.empty] or [empty_table()], ignore_index=True)
    if school_year is not None:  # every row is already of that year: no need to filter again
        return finish(table, school_year, filtered=True)
    return finish(table)


#: The school_code of pooled rows: all the database's schools counted as one.
POOLED_LABEL = "TOÀN THÀNH PHỐ"


def pooled_note(codes: list[str]) -> str:
    """The note every pooled row carries, so a pooled value is never read as one school's."""
    return (f"Số liệu gộp {len(codes)} trường ({', '.join(codes)}): tổng tử số ÷ tổng mẫu số, "
            "không phải trung bình tỷ lệ các trường")


def _pooled_items(facts: pd.DataFrame, label: str) -> pd.DataFrame:
    """Item facts summed over schools per year (yes/no items: yes only if every school has it)."""
    if facts is None or facts.empty:
        return facts
    from ..contract import POPULATION_ITEMS, SCHOOL_ITEMS

    yes_no = {i.key for i in (*SCHOOL_ITEMS, *POPULATION_ITEMS) if i.kind == "bool"}
    f = facts.assign(school_code=label)
    is_bool = f["item"].isin(yes_no)
    parts = [f[~is_bool].groupby(["school_code", "school_year", "item"], as_index=False)
             ["value"].sum(min_count=1),
             f[is_bool].groupby(["school_code", "school_year", "item"], as_index=False)
             ["value"].min()]
    return pd.concat([p for p in parts if not p.empty] or [f.iloc[:0]], ignore_index=True)


def compute_pooled(ds: Dataset, label: str = POOLED_LABEL,
                   school_year: str | None = None) -> pd.DataFrame:
    """Every indicator with all the schools of ``ds`` counted as one (the PGD's pooled view).

    Rates are sums of numerators over sums of denominators (never the mean of the schools'
    rates); count items of the school and population sheets are summed, yes/no items are "yes"
    only when every school says yes.  Pupils are linked across schools by ``pupil_id`` (the
    MOET national ID), so a pupil who moves between two of the schools stays in his cohort.
    Rows have ``school_code = label``, ``group = label`` on the whole-population rows
    (dimension "school") and a note naming the pooled schools.
    """
    from ..schools import codes_in

    codes = codes_in(ds.pupils, ds.school, ds.population)
    pooled = Dataset(
        ds.pupils.assign(school_code=label) if len(ds.pupils) else ds.pupils,
        _pooled_items(ds.school, label), _pooled_items(ds.population, label),
        ds.imports.assign(school_code=label) if len(ds.imports) else ds.imports,
        ds.checks.assign(school_code=label) if len(ds.checks) else ds.checks,
        ds.interventions.assign(school_code=label) if len(ds.interventions)
        else ds.interventions)
    table = compute_all(pooled, school_year=school_year)
    if table.empty:
        return table
    table["note"] = join_notes(table["note"], pd.Series(pooled_note(codes), index=table.index))
    table.loc[table["dimension"] == "school", "group"] = label
    return table


def compute_sql(db: str | Path, school_year: str | None = None,
                school_code: str | None = None,
                detail_year: str | None = None) -> pd.DataFrame:
    """Every indicator, as :func:`compute_all` returns it (same rows, values, notes, order),
    straight from the database file: DuckDB sums and links the pupils, pandas makes the rows
    from the sums with the same code (see :mod:`.sql`).

    ``detail_year`` (with ``school_year`` None): every row of that year, only the
    whole-school rows of the other years (:func:`.sql.detail_rows` of the full table), for
    less work."""
    from .sql import compute_sql as run

    return run(db, school_year, school_code, detail_year)
