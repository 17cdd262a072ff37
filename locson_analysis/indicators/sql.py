"""Every indicator computed with DuckDB doing the per-pupil work, straight from the database.

:func:`locson_analysis.indicators.compute_all` (pandas) is the reference; :func:`compute_sql`
returns the same table (every row, value, numerator, denominator and note, in the same order).
At national scale most of the pandas path's time goes into copying millions of pupil rows into
pandas.  Here DuckDB sums the pupils' flags by school, year and every group label in one
``GROUP BY`` (a few hundred thousand cells for the whole country), links records across years
(grade-6 repeaters, the true cohort's entrants, transfers and completions) with joins on
``pupil_id``, and only those sums come back to pandas, where the very same code as the reference
makes the rows: the families' measures (``*.measures_of``: which flags are summed, numerator
over denominator, dimensions, "no data" notes), the roll-up (:func:`.equity.aggregate`), the
ethnic group pooling (:func:`.equity.ethnic_labels`), the cohort and intake notes, the school
and population sheets (read as they are: a few rows per school), the gender parity indices,
the in-progress rule, the "no data" rows and the order
(:func:`locson_analysis.indicators.assemble`).  The flags summed are the families' own
``FLAGS`` (:mod:`.flags`: one expression, rendered as SQL here and evaluated with numpy there).

What is written twice: the atoms the flags are built from (each with its SQL and pandas
spelling side by side in :data:`.flags.ATOMS`), the linking of records (joins on ``pupil_id``
here, integer keys in pandas) and the group labels' SQL ``CASE`` (from the same label
constants).  ``tests/test_speed_paths.py`` compares the full tables of both paths row for row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from .. import contract
from . import flags as F
from .base import empty_table, school_years
from .equity import (
    BOOL_LABELS,
    GRADE_LABELS,
    KINH,
    MINORITY,
    PARITY_RATES,
    SCHOOL,
    Measure,
    aggregate,
    as_category,
    dim_column,
    ethnic_labels,
    group_sizes,
    number_cells,
)


def all_flags() -> dict[str, F.Flag]:
    """Every flag the families sum (their ``FLAGS``), by name (see :mod:`.flags`)."""
    from . import allround, completion, enrolment, facilities, flow, intake

    out: dict[str, F.Flag] = {}
    for flags in (enrolment.FLAGS, flow.FLAGS, completion.GRADE9_FLAGS,
                  completion.APPARENT_FLAGS, allround.FLAGS, facilities.SWIM_FLAGS,
                  intake.FLAGS, {"in_progress": F.IN_PROGRESS}):
        for name, flag in flags.items():
            if out.setdefault(name, flag).sql != flag.sql:
                raise ValueError(f"two different flags are named {name!r}")
    return out


def flag_sql() -> dict[str, str]:
    """:func:`all_flags` as SQL over the atom columns of :func:`_cells_sql` — the very
    expressions the pandas path evaluates."""
    return {name: flag.sql for name, flag in all_flags().items()}


def _measures(f: dict[str, np.ndarray], running: np.ndarray) -> list[Measure]:
    """The pupil measures of the year's own rows (as ``compute_all``'s shared pass), from the
    flag sums of the cells."""
    from . import allround, completion, enrolment, facilities, flow

    return [*enrolment.measures_of(f), *flow.measures_of(f), *completion.grade9_measures_of(f),
            *allround.measures_of(f, running), *facilities.swim_measures_of(f)]


def _quote(values: object) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)


def _enum(expr: str, values: list[str]) -> str:
    """``expr`` as a DuckDB ENUM of ``values`` (a pandas categorical when fetched)."""
    return f"CAST({expr} AS ENUM({_quote(values)}))"


def _label(labels: dict[str, str]) -> str:
    cases = " ".join(f"WHEN {cond} THEN '{label}'" for cond, label in labels.items())
    return _enum(f"CASE {cases} END", list(dict.fromkeys(labels.values())))


def _sex_minority_sql() -> str:
    sexes = {f"sex = '{k}'": v for k, v in contract.SEX_LABELS.items()}
    kinh = _quote([KINH])
    minority = _label({f"ethnicity = {kinh}": KINH, f"ethnicity <> {kinh}": MINORITY})
    return f"{_label(sexes)} AS {dim_column('sex')}, {minority} AS {dim_column('minority')}"


def _years_sql(years: list[str]) -> str:
    """The school years and their start years (``contract.start_year``) as a VALUES table."""
    rows = ", ".join(f"({_quote([y])}, {contract.start_year(y)})" for y in years)
    return f"years(school_year, year_start) AS (VALUES {rows})"


def _cells_sql(years: str, school: str, rows: str, previous: str, schools: list[str],
               year_labels: list[str], ethnicities: list[str], detail: str = "true") -> str:
    """One row per (school, year, grade, sex, ethnicity, flag labels) with the sums of every
    flag of :func:`flag_sql` (columns ``f_<name>``); the labels as ENUMs (``schools``,
    ``year_labels``, ``ethnicities``: their values).

    ``school``: the school condition; ``rows``: which pupil rows are summed; ``previous``:
    the years whose grade-6 rows make next year's grade-6 pupils repeaters; ``detail``: the
    rows whose grade and yes/no labels are kept — the others are summed with those labels
    missing (far fewer cells), keeping only what their whole-school rows, gender parity
    indices (sex) and the cohort (b)'s counts (sex, minority from the ethnicity) read.
    """
    from .intake import ENTRY_AGE

    def kept(column: str) -> str:
        return column if detail == "true" else f"CASE WHEN {detail} THEN {column} END"

    grades = {f"grade = {g}": label for g, label in GRADE_LABELS.items()}
    bools = {c: _label({c: yes, f"NOT {c}": no}) for c, (yes, no) in BOOL_LABELS.items()}
    atoms = ",\n               ".join(f"{sql} AS a_{name}" for name, (sql, _) in F.ATOMS.items())
    sums = ", ".join(f'count_if({expr})::BIGINT AS "f_{name}"'
                     for name, expr in flag_sql().items())
    return f"""
    WITH {years},
    src AS (SELECT p.*, y.year_start FROM pupils p JOIN years y USING (school_year)
            WHERE {school} AND ({rows})),
    prev AS (SELECT school_code, pupil_id, y.year_start + 1 AS year_start
             FROM pupils p JOIN years y USING (school_year)
             WHERE grade = 6 AND {school} AND ({previous})),
    p AS (
        SELECT s.school_code, s.school_year, grade, sex, ethnicity,
               poor, near_poor, disability, special_circumstances,
               {atoms},
               coalesce(grade = 6, false) AND r.pupil_id IS NULL AS a_entrant,
               coalesce(s.year_start - year(birth_date) = {ENTRY_AGE}, false) AS a_age11
        FROM src s LEFT JOIN prev r ON s.grade = 6 AND r.school_code = s.school_code
             AND r.pupil_id = s.pupil_id AND r.year_start = s.year_start),
    c AS (SELECT school_code, school_year, {kept('grade')} AS grade, sex, ethnicity,
                 {", ".join(f"{kept(c)} AS {c}" for c in BOOL_LABELS)}, {sums}
          FROM p GROUP BY ALL)
    SELECT {_enum('school_code', schools)} AS school_code,
           {_enum('school_year', year_labels)} AS school_year,
           {_label(grades)} AS {dim_column('grade')},
           {_sex_minority_sql()},
           {_enum('ethnicity', ethnicities)} AS ethnicity,
           {", ".join(f"{expr} AS {dim_column(c)}" for c, expr in bools.items())},
           c.* EXCLUDE (school_code, school_year, grade, sex, ethnicity, poor, near_poor,
                        disability, special_circumstances)
    FROM c"""


def _cohort_sql(years: str, school: str, targets: str) -> str:
    """The true cohort (c)/(c′): each pupil's first grade-6 year at the school (the entrants
    of the cohorts completing in ``targets``), linked by ``pupil_id`` to the pupil's first
    transfer out and first completion at that school in any year; the flags of
    :func:`.completion.true_cohort_measures_of` summed by school, completion year and label."""
    return f"""
    WITH {years},
    g6 AS (SELECT school_code, pupil_id, y.year_start, sex, ethnicity
           FROM pupils p JOIN years y USING (school_year) WHERE grade = 6 AND {school}),
    first AS (SELECT school_code, pupil_id, min(year_start) AS y0 FROM g6 GROUP BY ALL
              HAVING ({targets.replace('year_start', 'min(year_start) + 3')})),
    entry AS (SELECT g6.* FROM g6 JOIN first f ON g6.school_code = f.school_code
              AND g6.pupil_id = f.pupil_id AND g6.year_start = f.y0),
    leave AS (SELECT p.school_code, p.pupil_id,
                     min(y.year_start) FILTER (WHERE outcome = 'transferred_out') AS ty,
                     min(y.year_start) FILTER (WHERE outcome = 'completed') AS cy
              FROM pupils p JOIN years y USING (school_year)
              SEMI JOIN entry e ON e.school_code = p.school_code AND e.pupil_id = p.pupil_id
              WHERE outcome IN ('transferred_out', 'completed') AND {school.replace(
                  'school_code', 'p.school_code')}
              GROUP BY ALL),
    e AS (SELECT entry.*, entry.year_start + 3 AS target,
                 ty IS NULL OR ty > entry.year_start + 3 AS stayed,
                 coalesce(cy <= entry.year_start + 3, false) AS on_time,
                 ty IS NULL AS never_left, cy IS NOT NULL AS ever
          FROM entry LEFT JOIN leave USING (school_code, pupil_id))
    SELECT school_code, target, {_sex_minority_sql()},
           count_if(stayed AND on_time) AS f_stayed_on_time, count_if(stayed) AS f_stayed,
           count_if(never_left AND ever) AS f_never_left_ever,
           count_if(never_left) AS f_never_left
    FROM e GROUP BY ALL"""


def _flag_sums(frame: pd.DataFrame, names: list[str]) -> dict[str, np.ndarray]:
    return {n: frame[f"f_{n}"].to_numpy(dtype=np.int64) for n in names}


def _school_only(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the whole-school label column :func:`.equity.aggregate` reads."""
    frame[dim_column("school")] = pd.Categorical.from_codes(
        np.zeros(len(frame), dtype=np.int64), [SCHOOL])
    return frame


def _label_cells(cells: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The cells with the pooled ethnicity labels (:func:`.equity.ethnic_labels`, pupils
    counted per cell) and numbered like pupil rows (:func:`.equity.number_cells`); whether
    each cell's (school, year) is running."""
    school = cells["school_code"].array.codes.astype(np.int64)
    year = cells["school_year"].array.codes.astype(np.int64)
    pair = school * (len(cells["school_year"].array.categories) + 1) + year
    eth = cells.pop("ethnicity").array
    cells[dim_column("minority")], cells[dim_column("ethnicity")] = ethnic_labels(
        pair, eth.codes.astype(np.int64), [str(c) for c in eth.categories],
        cells["f_any"].to_numpy(dtype=np.float64))
    running = group_sizes(pair, cells["f_in_progress"].to_numpy(dtype=np.float64)) > 0
    _school_only(cells)
    number_cells(cells)
    return cells, running


def detail_rows(table: pd.DataFrame, detail_year: str) -> pd.DataFrame:
    """The rows of an indicator table that ``compute_sql(..., detail_year=detail_year)``
    returns: every row of ``detail_year``, the whole-school rows (dimension "school") of the
    other years; in the table's order, with a fresh index."""
    keep = ((table["school_year"] == detail_year).to_numpy()
            | (table["dimension"] == "school").to_numpy())
    return table if keep.all() else table[keep].reset_index(drop=True)


def _whole_school(measures: list[Measure]) -> list[Measure]:
    """The measures summed for their whole-school rows only — and by sex for the rates whose
    gender parity index (a whole-school row) is made from the sex rows."""
    return [replace(m, dimensions=tuple(
        d for d in m.dimensions if d == "school" or (d == "sex" and m.key in PARITY_RATES)))
        for m in measures]


def compute_sql(db: str | Path, school_year: str | None = None,
                school_code: str | None = None,
                detail_year: str | None = None) -> pd.DataFrame:
    """Every indicator for every school and year (or one year / one school), with DuckDB doing
    the per-pupil work: the same table as ``compute_all(store.load(db), school_year,
    school_code)`` — every row, value, numerator, denominator and note, in the same order.

    One year asked: that year's pupils are summed, plus the grade-6 rows of the year before
    (repeaters) and, for the cohort indicators, of the cohort's entry year and the transfers
    and completions of its pupils in every year of the database (as ``compute_all`` with
    every year loaded).

    ``detail_year`` (every year, ``school_year`` None): every row of that year, but only the
    whole-school rows (dimension "school") of the other years, earlier and later — what a
    report of one year with a trend over the years reads.  The same rows as
    ``detail_rows(compute_sql(db, None, school_code), detail_year)``, computed with fewer
    cells: the other years' pupils are summed without their grade and yes/no labels, and
    their measures only by school (and sex, for the gender parity indices).
    """
    from .. import store
    from . import assemble, completion, facilities, intake

    if detail_year is not None and school_year is not None:
        raise ValueError("detail_year is for a table of every year: school_year must be None")
    detail = "true" if detail_year is None else f"school_year = {_quote([detail_year])}"

    school = "true" if school_code is None else "school_code = $school"
    params: dict[str, object] = {} if school_code is None else {"school": school_code}
    t = None if school_year is None else contract.start_year(school_year)
    with store.connect(Path(db), read_only=True) as con:
        present_rows = con.execute(
            f"SELECT school_code, school_year, bool_or(coalesce(grade = 6, false)) AS g6 "
            f"FROM pupils WHERE {school} GROUP BY ALL ORDER BY ALL", params).df()
        present = present_rows[["school_code", "school_year"]].astype("str")
        present["year_start"] = [contract.start_year(y) for y in present["school_year"]]
        starts = {s: sorted(int(y) for y in v)
                  for s, v in present.groupby("school_code")["year_start"]}
        all_years = sorted(set(present["school_year"]))
        if t is None:
            rows = previous = targets = year_cond = "true"
        else:
            all_years = sorted({*all_years, *[contract.year_label(t + k) for k in (-3, -1, 0)]})
            # the year's rows, and the grade-6 pupils at the start of t−3 (cohort (b))
            rows = (f"year_start = {t} OR (year_start = {t - 3} AND grade = 6 "
                    f"AND entry_date IS NULL)")
            previous = f"year_start = {t - 1}"
            targets = f"year_start = {t}"
            year_cond = f"school_year = {_quote([school_year])}"
        years = _years_sql(all_years)
        cells = pd.DataFrame()
        if len(present_rows):
            ethnicities = sorted(e for (e,) in con.execute(
                f"SELECT DISTINCT ethnicity FROM pupils WHERE {school} AND ethnicity NOT NULL",
                params).fetchall())
            cells = con.execute(_cells_sql(
                years, school, rows, previous, sorted(starts), all_years,
                ethnicities or [KINH], detail), params).df()
        # a cohort completing in a year asked has pupils in the data (its grade-6 year)
        cohort = None
        if present_rows["g6"].any() and (t is None or (t - 3) in set(present["year_start"])):
            cohort = con.execute(_cohort_sql(years, school, targets), params).df()
        facts = {name: con.execute(
            f"SELECT school_code, school_year, item, value FROM {table} "
            f"WHERE {school} AND {year_cond}", params).df()
            for table, name in (("school_facts", "school"), ("population", "population"))}
    parts: list[pd.DataFrame] = []
    year_only: list[pd.DataFrame] = []
    if cells.empty:
        local = cells
        running = with_pupils = present.iloc[:0, :2]
    else:
        frame, is_running = _label_cells(cells)
        # the cells of the years asked (one year: without the cohort's grade-6 year t−3)
        mine = np.ones(len(frame), dtype=bool) if t is None else (
            frame["school_year"] == school_year).to_numpy()
        local = frame if mine.all() else frame[mine]
        # the local cells, with a detail year in two pieces: that year's (every dimension)
        # and the other years' (their measures by school and sex, see _whole_school)
        names = list(flag_sql())
        own = (np.ones(len(local), dtype=bool) if detail_year is None
               else (local["school_year"] == detail_year).to_numpy())
        pieces = [(local if rows.all() else local[rows], is_running[mine][rows], whole_school)
                  for rows, whole_school in ((own, False), (~own, True)) if rows.any()]
        pieces_sums = [_flag_sums(cells_of, names) for cells_of, _, _ in pieces]

        def summed(measures_of: Callable[[dict[str, np.ndarray], np.ndarray],
                                         list[Measure]]) -> pd.DataFrame:
            """``measures_of(flag sums, running)`` of the local cells, summed (piece by
            piece)."""
            out = []
            for (cells_of, running_of, whole_school), sums in zip(pieces, pieces_sums,
                                                                   strict=True):
                ms = measures_of(sums, running_of)
                out.append(aggregate(cells_of, _whole_school(ms) if whole_school else ms))
            return out[0] if len(out) == 1 else pd.concat(out, ignore_index=True)

        (year_only if t is not None else parts).append(summed(_measures))
        # (b)'s counts: completers of t, grade-6 pupils at the start of t−3
        counts = aggregate(frame, completion.apparent_measures_of(
            _flag_sums(frame, ["completed", "g6_start"])))
        parts += [completion.apparent_rows(counts, starts),
                  intake.entrants_rows(
                      summed(lambda f, _: intake.entrants_measures_of(f)), present)]
        with_pupils = school_years(local)
        running = school_years(local[is_running[mine]])
    if present_rows["g6"].any():  # (the pandas path: no grade-6 row, no cohort rows at all)
        rows_c = empty_table()
        if cohort is not None and not cohort.empty:
            cohort["school_year"] = as_category(pd.Series(
                [contract.year_label(int(y)) for y in cohort["target"]], dtype="str"))
            cohort["school_code"] = as_category(cohort["school_code"])
            cframe = _school_only(cohort)
            rows_c = aggregate(cframe, completion.true_cohort_measures_of(_flag_sums(
                cframe, ["stayed_on_time", "stayed", "never_left_ever", "never_left"])))
        parts.append(completion.true_cohort_rows(rows_c, starts))
    universe = school_years(local, facts["school"], facts["population"])
    start = facilities.start_enrolment(pd.DataFrame({
        "school_code": local["school_code"], "school_year": local["school_year"],
        "start": local["f_start"]}) if len(local) else local)
    parts += [intake.population_rows(facts["population"], universe),
              facilities.school_rows(facts["school"], universe, start)]
    table = assemble(parts, school_year, running, universe, with_pupils, year_only)
    return table if detail_year is None else detail_rows(table, detail_year)
