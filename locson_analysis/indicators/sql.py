"""The core pupil indicators computed inside DuckDB, straight from the database file.

:func:`locson_analysis.indicators.compute_all` (pandas) is the reference.  At national scale
most of its time goes into copying millions of pupil rows into pandas; here DuckDB sums the
pupils' flags by school, year and every group label in one ``GROUP BY`` (a few hundred thousand
cells for the whole country), and only those cells come back to pandas, where the very same
roll-up as the reference (:func:`.equity.aggregate`), in-progress rule and "no data" rows
produce the tidy table.  A test compares the two paths row for row.

Covered (:data:`CORE_INDICATORS`): enrolment (start, end, any time), dropout (rate and
mid-year arrivals), promotion, repetition, transfer out and in, completion (a) of grade 9 and
the all-round development and finished-year rates, by grade and every equity group.  The
cohort, intake and facility indicators need linked records or the school sheets: use
``compute_all``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .. import contract
from .base import empty_table
from .completion import NO_GRADE9
from .enrolment import DIMS_GRADE
from .equity import (
    BOOL_LABELS,
    EQUITY_DIMENSIONS,
    ETHNIC_GROUP_MIN,
    KINH,
    MINORITY,
    OTHER_ETHNIC,
    SCHOOL,
    Measure,
    aggregate,
    as_category,
    dim_column,
)

#: The indicators :func:`compute_sql` computes, in registry order.
CORE_INDICATORS = ("enrolment_start", "enrolment_end", "enrolment_any", "dropout_rate",
                   "dropouts_midyear_arrivals", "promotion_rate", "repetition_rate",
                   "transfer_out_rate", "transfer_in", "completion_rate_grade9",
                   "allround_rate", "finished_year_rate")


def _quote(values: object) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in sorted(values))


def _label(expr: str, labels: dict[str, str]) -> str:
    cases = " ".join(f"WHEN {cond} THEN '{label}'" for cond, label in labels.items())
    return f"CASE {cases} END"


def _cells_sql(where: str) -> str:
    """One row per (school, year, label combination) with the flag sums of every measure."""
    tt22, tt58 = _quote(contract.TT22_PASSING), _quote(contract.TT58_PASSING)

    def passing(col: str) -> str:
        return f"coalesce(CASE WHEN old THEN {col} IN ({tt58}) ELSE {col} IN ({tt22}) END, false)"

    grades = {f"grade = {g}": f"Khối {g}" for g in contract.GRADES}
    sexes = {f"sex = '{k}'": v for k, v in contract.SEX_LABELS.items()}
    bools = {c: _label(c, {c: yes, f"NOT {c}": no}) for c, (yes, no) in BOOL_LABELS.items()}
    last = contract.LAST_GRADE
    return f"""
    WITH p AS (
        SELECT school_code, school_year, grade, sex, ethnicity, entry_date IS NULL AS st,
               coalesce(outcome IN ('dropped_out', 'transferred_out'), false) AS lft,
               coalesce(outcome = 'dropped_out', false) AS dr,
               coalesce(outcome = 'transferred_out', false) AS tr,
               coalesce(outcome = 'promoted', false) AS pr,
               coalesce(outcome = 'completed', false) AS co,
               coalesce(outcome = 'repeating', false) AS re,
               coalesce(outcome = 'not_completed', false) AS nc,
               coalesce(outcome = 'in_progress', false) AS ip,
               coalesce(grade = {last}, false) AS last,
               coalesce(result_scale = 'tt58', false) AS old,
               learning_year, conduct_year, learning_s1, conduct_s1,
               poor, near_poor, disability, special_circumstances
        FROM pupils {where}),
    running AS (SELECT school_code, school_year, bool_or(ip) AS running
                FROM p GROUP BY ALL),
    ethnic AS (SELECT school_code, school_year, ethnicity, count(*) AS eth_n
               FROM p GROUP BY ALL),
    f AS (
        SELECT p.*, r.running, e.eth_n, NOT p.lft AS en,
               learning_year IS NOT NULL AND conduct_year IS NOT NULL AS yk,
               learning_s1 IS NOT NULL AND conduct_s1 IS NOT NULL AS sk,
               {passing('learning_year')} AND {passing('conduct_year')} AS yp,
               {passing('learning_s1')} AND {passing('conduct_s1')} AS sp
        FROM p JOIN running r USING (school_code, school_year)
        JOIN ethnic e ON e.school_code = p.school_code AND e.school_year = p.school_year
             AND e.ethnicity IS NOT DISTINCT FROM p.ethnicity)
    SELECT school_code, school_year,
           {_label('grade', grades)} AS {dim_column('grade')},
           {_label('sex', sexes)} AS {dim_column('sex')},
           CASE WHEN ethnicity IS NULL THEN NULL WHEN ethnicity = '{KINH}' THEN '{KINH}'
                ELSE '{MINORITY}' END AS {dim_column('minority')},
           CASE WHEN ethnicity IS NULL THEN NULL
                WHEN ethnicity = '{KINH}' OR eth_n >= {ETHNIC_GROUP_MIN} THEN ethnicity
                ELSE '{OTHER_ETHNIC}' END AS {dim_column('ethnicity')},
           {", ".join(f"{expr} AS {dim_column(c)}" for c, expr in bools.items())},
           count_if(st) AS st, count_if(en) AS en, count(*) AS n_all,
           count_if(st AND dr) AS st_dr, count_if(NOT st AND dr) AS nst_dr,
           count_if(en AND (pr OR (last AND co))) AS prom,
           count_if(en AND (re OR (last AND nc))) AS rep,
           count_if(st AND tr) AS st_tr, count_if(NOT st) AS nst,
           count_if(last AND en AND co) AS g9_co, count_if(last AND en) AS g9_en,
           count_if(CASE WHEN running THEN sp ELSE yp END
                    AND CASE WHEN running THEN sk ELSE yk END) AS ar_n,
           count_if(CASE WHEN running THEN sk ELSE yk END) AS ar_d,
           bool_or(running) AS running
    FROM f GROUP BY ALL"""


def _measures(c: pd.DataFrame) -> list[Measure]:
    def n(col: str) -> np.ndarray:
        return c[col].to_numpy(dtype=np.int64)

    equity = ("school", *EQUITY_DIMENSIONS)
    return [
        Measure("enrolment_start", n("st")),
        Measure("enrolment_end", n("en")),
        Measure("enrolment_any", n("n_all")),
        Measure("dropout_rate", n("st_dr"), n("st")),
        Measure("dropouts_midyear_arrivals", n("nst_dr"), None, DIMS_GRADE),
        Measure("promotion_rate", n("prom"), n("en")),
        Measure("repetition_rate", n("rep"), n("en")),
        Measure("transfer_out_rate", n("st_tr"), n("st")),
        Measure("transfer_in", n("nst")),
        Measure("completion_rate_grade9", n("g9_co"), n("g9_en"), equity, NO_GRADE9),
        Measure("allround_rate", n("ar_n"), n("ar_d")),
        Measure("finished_year_rate", n("en"), n("n_all")),
    ]


def _cells_frame(cells: pd.DataFrame) -> pd.DataFrame:
    """The cells as :func:`.equity.aggregate` reads rows: categorical keys and labels."""
    out = cells.copy()
    for c in ("school_code", "school_year",
              *[dim_column(d) for d in ("grade", "sex", "minority", "ethnicity",
                                        *BOOL_LABELS)]):
        out[c] = as_category(out[c].astype("object").where(out[c].notna(), None))
    out[dim_column("school")] = pd.Categorical.from_codes(np.zeros(len(out), dtype=np.int64),
                                                          [SCHOOL])
    return out


def compute_sql(db: str | Path, school_year: str | None = None,
                school_code: str | None = None) -> pd.DataFrame:
    """:data:`CORE_INDICATORS` for every school and year (or one year / one school), computed
    in DuckDB; the same rows, values, numerators, denominators and notes as
    ``compute_all(store.load(db), school_year, school_code)`` restricted to these indicators.

    Every indicator here depends on the asked year only, so only that year is read.
    """
    from .. import store
    from . import INDICATORS, _apply_in_progress, _fill_missing, finish

    conds, params = [], []
    if school_code is not None:
        conds.append("school_code = ?")
        params.append(school_code)
    if school_year is not None:
        conds.append("school_year = ?")
        params.append(school_year)
    where = ("WHERE " + " AND ".join(conds)) if conds else ""
    with store.connect(Path(db), read_only=True) as con:
        cells = con.execute(_cells_sql(where), params).df()
        universe = con.execute(f"""
            SELECT DISTINCT school_code, school_year FROM (
                SELECT school_code, school_year FROM pupils {where}
                UNION ALL SELECT school_code, school_year FROM school_facts {where}
                UNION ALL SELECT school_code, school_year FROM population {where})
            ORDER BY ALL""", params * 3).df().astype("str")
    if cells.empty:
        table = empty_table()
        with_pupils = universe.iloc[:0]
        running = universe.iloc[:0]
    else:
        frame = _cells_frame(cells)
        table = aggregate(frame, _measures(frame))
        pairs = cells.groupby(["school_code", "school_year"], as_index=False)["running"].any()
        pairs = pairs.astype({"school_code": "str", "school_year": "str"})
        with_pupils = pairs[["school_code", "school_year"]]
        running = pairs.loc[pairs["running"], ["school_code", "school_year"]]
    table = _apply_in_progress(table, running.reset_index(drop=True))
    keys = [k for k in INDICATORS if k in CORE_INDICATORS]
    table = _fill_missing(table, universe, with_pupils, keys)
    return finish(table, school_year)
