"""The managing office's view of a group of schools: the computations of its report.

For one school year (ended, or in progress for a mid-year report) and a set of schools (a group
of ``data/schools.yaml``, see :func:`schools.resolve_group`), :func:`group_view` returns the
DataFrames the group report shows, computed from the database file:

* ``matrix`` — schools × the plan's targets: each school's value, counts and status, straight
  from :func:`targets.evaluate` (the status is passed through, never re-derived here, but
  for a running school's target without any value: «Chưa có số liệu», not «Đang theo dõi»);
* ``pooled`` — each target's pooled rate (sum of numerators ÷ sum of denominators over the
  schools with a value), its definition, counts and status (``evaluate`` on the pooled rows);
* ``furthest`` / ``sentences`` — the schools that miss each target, ordered by how many pupils
  (children, toilets …) separate them from it, and sentences such as "3 trường có học sinh bỏ
  học: 7 em.";
* ``equity`` — the pupil rates by sex, minority, poverty, disability and special circumstances
  pooled across the schools, after the small-cell rule (:func:`disclosure.suppress` on the
  pool as on one school): a group too small in one school can be reportable in the pool.  No
  school's own group figures are returned: beside the pooled ones they would give a hidden
  figure back by subtraction (pool − the other schools);
* ``completeness`` / ``findings`` — which schools lack which file of the year, which are still
  in progress, and the cross-year findings in counts per school;
* ``trend`` — the pooled value of each rate target in every year up to the report's.

The indicator table comes from :func:`indicators.compute_sql` (DuckDB; ``engine="pandas"`` uses
``compute_all`` on ``store.load`` and gives the same frames): every row of the report year, only
the whole-school rows of the other years (``detail_year``).  Nothing here holds a pupil row.

Pooling rule.  A school contributes to a pooled row when its own row has counts: a school
without the year's file, or whose end-of-year values are not known yet (year in progress), is
left out and named in the note — so a pooled rate is never diluted by a missing school, and
the reader sees which schools it covers.  (``indicators.compute_pooled`` instead treats the
pooled year as in progress as soon as one school is; both agree when every school has ended
its year.)  Yes/no items: the pooled value is "yes" only when every reporting school says yes;
numerator and denominator count the schools saying yes and the schools reporting.  The
per-ethnicity rows are not pooled (each school groups its small ethnic groups differently);
the minority dimension (Kinh / dân tộc thiểu số) is.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

from . import contract, disclosure, indicators, report_config, store, targets
from .crossyear import CHECKS
from .errors import LocsonError
from .indicators import equity
from .indicators.base import (
    IN_PROGRESS,
    MIN_GROUP_PUPILS,
    SEMESTER1,
    SO_FAR,
    TIDY_COLUMNS,
    join_notes,
    small_group_notes,
)
from .indicators.sql import detail_rows
from .numbers import NO_DATA, fmt_num, fmt_pct
from .schools import Group, load_registry, resolve_group

#: The kinds of file a school sends every year (the intervention log is internal: not listed).
REPORTED_KINDS = ("pupils", "school", "population")

#: The pupil rates shown by equity group, pooled across schools.
EQUITY_RATES = ("dropout_rate", "completion_rate_grade9", "allround_rate", "promotion_rate",
                "repetition_rate")
EQUITY_DIMENSION_LABELS = {"sex": "Giới tính", "minority": "Dân tộc", "poor": "Hộ nghèo",
                           "near_poor": "Hộ cận nghèo", "disability": "Khuyết tật",
                           "special_circumstances": "Hoàn cảnh đặc biệt"}
_PARITY = "gender_parity_index_"

#: The columns :func:`pool` adds to the tidy table.
POOL_EXTRA = ["schools", "schools_selected", "schools_without_value", "in_progress"]
MATRIX_COLUMNS = ["school_code", "school", "in_progress", "number", "indicator",
                  "indicator_label", "target_text", "value", "numerator", "denominator",
                  "threshold", "direction", "status", "gap", "allowed_dropouts", "note"]
POOLED_EXTRA = ["indicator_label", "definition_vi", "numerator_vi", "denominator_vi",
                "source", "schools", "schools_selected", "schools_without_value"]
FURTHEST_COLUMNS = ["number", "indicator", "indicator_label", "rank", "school_code", "school",
                    "value", "numerator", "denominator", "threshold", "direction", "shortfall",
                    "shortfall_unit", "status"]
EQUITY_COLUMNS = ["indicator", "indicator_label", "dimension", "dimension_label", "group",
                  "value", "numerator", "denominator", "schools", "note"]
#: The note of a hidden equity row (its own note may carry counts).
HIDDEN_NOTE = "Số liệu được ẩn (số nhỏ hoặc ẩn kèm), để không nhận ra được từng em"
#: The flags of :func:`disclosure.suppress` kept in the equity tables (a hidden figure is NaN).
EQUITY_FLAGS = ["hidden_value", "hidden_numerator", "hidden_denominator", "suppression"]
COMPLETENESS_COLUMNS = ["school_code", "school", "has_pupils", "has_school", "has_population",
                        "in_progress", "missing", "last_import", "findings"]
FINDINGS_COLUMNS = ["school_code", "school", "school_year", "next_year", "check_name", "count",
                    "description", "action"]
TREND_COLUMNS = ["indicator", "indicator_label", "school_year", "value", "numerator",
                 "denominator", "schools", "threshold", "direction", "status", "note"]

#: What the shortfall of each target counts, and the sentence about the schools missing it
#: (``n``: schools, ``events``: the sum of their numerators, ``others``: denominators less
#: numerators, ``short``: the shortfall, ``target``: the threshold as written).
_MISSING_NOUNS = {
    "dropout_rate": "học sinh bỏ học vượt mức cho phép",
    "completion_rate_grade9": "học sinh lớp 9 cần hoàn thành thêm",
    "allround_rate": "học sinh cần đạt thêm",
    "grade6_intake_age11": "trẻ 11 tuổi cần huy động thêm",
    "toilets_hygienic_share": "nhà vệ sinh cần đạt chuẩn thêm",
    "psych_service": "trường chưa có dịch vụ",
}

#: What the counts in the sentences count.
_COUNTED = {"dropout_rate": "em", "completion_rate_grade9": "em", "allround_rate": "em",
            "grade6_intake_age11": "trẻ", "toilets_hygienic_share": "nhà vệ sinh"}


@dataclass
class GroupView:
    """Everything the group report shows for one year and one set of schools."""

    school_year: str
    mid_year: bool
    group: Group
    label: str  # the pooled rows' school_code and name
    recipient: str | None  # the receiving body (from the report configuration)
    matrix: pd.DataFrame
    pooled: pd.DataFrame
    pooled_table: pd.DataFrame  # every pooled indicator of the year (the tidy table)
    furthest: pd.DataFrame
    sentences: pd.DataFrame  # number, indicator, sentence
    equity: pd.DataFrame  # pooled, small cells hidden (EQUITY_FLAGS)
    threshold: int  # the small-cell threshold applied
    completeness: pd.DataFrame
    completeness_sentences: list[str]
    findings: pd.DataFrame
    trend: pd.DataFrame


# --- the database: what is there besides the indicators -----------------------------------------

@dataclass
class _Facts:
    pairs: pd.DataFrame  # school_code, school_year with any active file
    running: pd.DataFrame  # school_code, school_year still in progress
    imports: pd.DataFrame  # school_code, kind, imported_at (active files of the year)
    checks: pd.DataFrame  # school_code, school_year, next_year, check_name, count


def _facts(db: Path, school_year: str) -> _Facts:
    with store.connect(db, read_only=True) as con:
        pairs = con.execute("SELECT DISTINCT school_code, school_year FROM active_imports "
                            "ORDER BY ALL").df()
        running = con.execute("SELECT DISTINCT school_code, school_year FROM pupils "
                              "WHERE outcome = 'in_progress' ORDER BY ALL").df()
        imports = con.execute("""
            SELECT i.school_code, i.kind, i.imported_at FROM imports i
            JOIN active_imports a ON a.import_id = i.import_id
            WHERE i.school_year = ? ORDER BY ALL""", [school_year]).df()
        checks = con.execute("""
            SELECT school_code, school_year, next_year, check_name, count(*) AS count
            FROM crossyear_checks WHERE next_year = ? GROUP BY ALL ORDER BY ALL""",
                             [school_year]).df()
    return _Facts(pairs.astype("str"), running.astype("str"), imports, checks)


def indicator_table(db: str | Path, engine: str = "sql",
                    detail_year: str | None = None) -> pd.DataFrame:
    """Every indicator of every school and year of ``db``: DuckDB (``"sql"``, for a province)
    or pandas (``"pandas"``); the same table either way.  ``detail_year``: every row of that
    year, only the whole-school rows of the others (:func:`indicators.sql.detail_rows`; the
    DuckDB path then sums the other years' pupils with fewer labels)."""
    if engine == "sql":
        return indicators.compute_sql(db, detail_year=detail_year)
    if engine == "pandas":
        table = indicators.compute_all(store.load(db))
        return table if detail_year is None else detail_rows(table, detail_year)
    raise ValueError(f"engine must be 'sql' or 'pandas', not {engine!r}")


# --- pooling ------------------------------------------------------------------------------------

def _name_list(codes: list[str], limit: int = 10) -> str:
    if len(codes) <= limit:
        return ", ".join(codes)
    return f"{', '.join(codes[:limit])} và {len(codes) - limit} trường khác"


def pool(table: pd.DataFrame, codes: Iterable[str], label: str,
         running: pd.DataFrame | None = None,
         names: dict[str, str] | None = None) -> pd.DataFrame:
    """The rows of ``table`` (the tidy indicator table) of the schools ``codes`` pooled into one
    row per year, indicator, dimension and group, with ``school_code = label``.

    Rates and ratios: sum of numerators ÷ sum of denominators over the schools whose row has
    counts; counts and amounts: their sum; yes/no: "yes" only if every reporting school says
    yes (numerator: schools saying yes, denominator: schools reporting).  The per-ethnicity rows
    are left out; the gender parity indices are recomputed from the pooled rates by sex
    (:func:`equity.gender_parity`).  ``running``: the (school, year) pairs in progress, whose
    partial values make the pooled row partial too (the note says so).

    Extra columns: ``schools`` (schools whose row has a value), ``schools_selected``,
    ``schools_without_value`` (codes, on whole-population rows only) and ``in_progress``
    (a school whose year is still running contributes figures to the row).  ``names``: each
    code's name as the reader knows it (:func:`_school_label`), used in the notes naming the
    schools left out (the codes otherwise).
    """
    codes = list(dict.fromkeys(codes))
    keep = (table["school_code"].isin(codes) & (table["dimension"] != "ethnicity")
            & ~table["indicator"].str.startswith(_PARITY)).to_numpy()
    t = table.loc[keep, TIDY_COLUMNS]
    if t.empty:
        return pd.DataFrame(columns=[*TIDY_COLUMNS, *POOL_EXTRA])
    unit = t["indicator"].map({k: i.unit for k, i in indicators.INDICATORS.items()})
    mode = t["indicator"].map({k: i.in_progress for k, i in indicators.INDICATORS.items()})
    yes_no = (unit == "yesno").to_numpy()
    has_den = (unit.isin(["rate", "ratio"])).to_numpy()
    num = t["numerator"].to_numpy(dtype=float)
    den = t["denominator"].to_numpy(dtype=float)
    val = t["value"].to_numpy(dtype=float)
    counted = np.where(yes_no, ~np.isnan(val),
                       np.where(has_den, ~np.isnan(num) & ~np.isnan(den), ~np.isnan(num)))
    if running is not None and len(running):
        pair = pd.MultiIndex.from_frame(t[["school_code", "school_year"]])
        is_running = pair.isin(pd.MultiIndex.from_frame(running[["school_code",
                                                                 "school_year"]]))
    else:
        is_running = np.zeros(len(t), dtype=bool)
    work = pd.DataFrame({
        "school_year": t["school_year"].to_numpy(), "indicator": t["indicator"].to_numpy(),
        "dimension": t["dimension"].to_numpy(), "group": t["group"].to_numpy(),
        "num": np.where(counted, np.where(yes_no, val, num), 0.0),
        "den": np.where(counted, np.where(yes_no, 1.0, den), 0.0),
        "counted": counted, "with_value": counted & (~has_den | (den > 0)),
        "partial": counted & is_running & mode.isin(["so_far", "s1"]).to_numpy(),
        "running": counted & is_running,
        "blanked": ~counted & is_running & (mode == "unknown").to_numpy(),
        "yes_no": yes_no, "has_den": has_den, "mode": mode.to_numpy(),
    })
    keys = ["school_year", "indicator", "dimension", "group"]
    g = work.groupby(keys, sort=False)
    out = g.agg(numerator=("num", "sum"), denominator=("den", "sum"),
                counted=("counted", "sum"), schools=("with_value", "sum"),
                partial=("partial", "any"), running=("running", "any"),
                blanked=("blanked", "sum"),
                rows=("num", "size"), yes_no=("yes_no", "first"), has_den=("has_den", "first"),
                mode=("mode", "first")).reset_index()
    none = out["counted"] == 0
    yn = out["yes_no"]
    value = np.where(out["has_den"], out["numerator"] / out["denominator"].where(
        out["denominator"] > 0), out["numerator"])
    value = np.where(yn, (out["numerator"] == out["denominator"]).astype(float), value)
    value = np.where(none, np.nan, value)
    out["value"] = value
    out["numerator"] = out["numerator"].where(~none)
    out["denominator"] = out["denominator"].where(~none & (out["has_den"] | yn))
    n_sel = len(codes)
    notes = [f"Số liệu gộp {int(s)}/{n_sel} trường: tổng tử số ÷ tổng mẫu số, không phải "
             f"trung bình tỷ lệ các trường" if h else f"Số liệu gộp {int(s)}/{n_sel} trường"
             for s, h in zip(out["schools"], out["has_den"], strict=True)]
    note = pd.Series(notes, index=out.index)
    running_note = np.select([out["partial"] & (out["mode"] == "so_far"),
                              out["partial"] & (out["mode"] == "s1")], [SO_FAR, SEMESTER1], "")
    empty = np.isnan(value)
    all_blanked = none & (out["blanked"] == out["rows"])
    why = np.where(empty, np.where(all_blanked, IN_PROGRESS, NO_DATA), "")
    small = (out["dimension"] != "school") & out["has_den"] & (out["denominator"] > 0) \
        & (out["denominator"] < MIN_GROUP_PUPILS)
    small_note = np.where(small, small_group_notes(out["denominator"].fillna(0).astype(int)), "")
    # a pooled group rate follows a school's rule: none under MIN_GROUP_PUPILS pupils (grades:
    # the note only), the counts stay
    value = np.where(small & out["dimension"].isin(equity.EQUITY_DIMENSIONS).to_numpy(),
                     np.nan, value)
    out["value"] = value
    out["note"] = join_notes(pd.Series(why, index=out.index), pd.Series(running_note,
                                                                         index=out.index),
                             pd.Series(small_note, index=out.index), note)
    # the whole-population rows name the schools left out
    valued = (work["dimension"] == "school").to_numpy() & work["with_value"].to_numpy()
    have = pd.DataFrame({"school_year": work["school_year"].to_numpy()[valued],
                         "indicator": work["indicator"].to_numpy()[valued],
                         "school_code": t["school_code"].to_numpy()[valued]}).groupby(
        ["school_year", "indicator"])["school_code"].agg(set)
    is_school = (out["dimension"] == "school").to_numpy()
    without = []
    for y, k, s in zip(out["school_year"], out["indicator"], is_school, strict=True):
        if not s:
            without.append("")
            continue
        present = have.get((y, k), set())
        without.append(", ".join(c for c in codes if c not in present))
    out["schools_without_value"] = without
    names = names or {}
    missing_note = [f"Chưa có số liệu của: "
                    f"{_name_list([names.get(c, c) for c in w.split(', ')])}" if w else ""
                    for w in without]
    out["note"] = join_notes(out["note"], pd.Series(missing_note, index=out.index))
    out["schools_selected"] = n_sel
    out["school_code"] = label
    out.loc[is_school, "group"] = label
    out["schools"] = out["schools"].astype("int64")
    out["in_progress"] = out["running"].astype(bool)
    pooled = out[[*TIDY_COLUMNS, *POOL_EXTRA]]
    parity = equity.gender_parity(pooled[pooled["dimension"] == "sex"][TIDY_COLUMNS])
    if not parity.empty:
        parity["group"] = label
        sexes = pooled[(pooled["dimension"] == "sex")].groupby(
            ["school_year", "indicator"])["schools"].min()
        base = parity["indicator"].str.removeprefix(_PARITY)
        parity["schools"] = [int(sexes.get((y, k), 0)) for y, k in
                             zip(parity["school_year"], base, strict=True)]
        parity["schools_selected"] = n_sel
        parity["schools_without_value"] = ""
        running_sex = pooled[(pooled["dimension"] == "sex")].groupby(
            ["school_year", "indicator"])["in_progress"].any()
        parity["in_progress"] = [bool(running_sex.get((y, k), False)) for y, k in
                                 zip(parity["school_year"], base, strict=True)]
        pooled = pd.concat([pooled, parity], ignore_index=True)
    for c in ("value", "numerator", "denominator"):
        pooled[c] = pooled[c].astype("float64")
    return pooled.sort_values(["school_year", "indicator", "dimension", "group"],
                              ignore_index=True)


# --- the views ----------------------------------------------------------------------------------

def _school_label(code: str, registry: dict) -> str:
    school = registry.get(code)
    return f"Trường {school.name}" if school else f"Trường {code}"


def _label(key: str) -> str:
    ind = indicators.INDICATORS.get(key)
    return ind.label_vi if ind else key


def _pairs_index(frame: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(frame["school_code"], frame["school_year"], strict=True))


def target_matrix(table: pd.DataFrame, plan: targets.Targets, school_year: str,
                  codes: list[str], running: set[tuple[str, str]] | None = None,
                  registry: dict | None = None) -> pd.DataFrame:
    """One row per school and target of the year's phase: :func:`targets.evaluate` of each
    school (value, counts, threshold, status, gap, note), schools in ``codes`` order; a running
    school's target with no value yet reads «Chưa có số liệu», not «Đang theo dõi»."""
    registry = load_registry() if registry is None else registry
    running = running or set()
    years = {school_year, contract.previous_year(school_year)}
    keys = {t.indicator for p in plan.phases for t in p.targets}  # (all evaluate reads)
    sub = table[(table["dimension"] == "school").to_numpy()
                & table["school_year"].isin(years).to_numpy()
                & table["indicator"].isin(keys).to_numpy()
                & table["school_code"].isin(codes).to_numpy()]
    running_codes = {c for c in codes if (c, school_year) in running}
    out = targets.evaluate_schools(sub, plan, school_year, codes, running_codes).drop(
        columns="in_progress")
    out.insert(1, "school", out["school_code"].map(
        {c: _school_label(c, registry) for c in codes}))
    out.insert(2, "in_progress", out["school_code"].isin(running_codes))
    # a running school's target without any value yet has no data (as the pooled row says),
    # not «Đang theo dõi»: nothing is being followed
    out.loc[(out["status"] == targets.TRACKING) & out["value"].isna(), "status"] = \
        targets.NO_VALUE
    out["indicator_label"] = out["indicator"].map(_label)
    return out[MATRIX_COLUMNS]


def status_matrix(matrix: pd.DataFrame, what: str = "status") -> pd.DataFrame:
    """The matrix wide: one row per school (its name), one column per target ("5. Tỷ lệ …"),
    cells ``what`` ("status", "value", …)."""
    m = matrix.copy()
    m["target"] = [f"{n}. {lab}" if not pd.isna(n) else lab
                   for n, lab in zip(m["number"], m["indicator_label"], strict=True)]
    order = list(dict.fromkeys(m["target"]))
    wide = m.pivot(index="school", columns="target", values=what)
    return wide.reindex(index=list(dict.fromkeys(m["school"])), columns=order)


def evaluate_pooled(pooled: pd.DataFrame, plan: targets.Targets, school_year: str,
                    label: str) -> pd.DataFrame:
    """:func:`targets.evaluate` of the pooled rows of ``school_year``, target by target: a
    pooled row holding figures of a school whose year is still running (column
    ``in_progress`` of :func:`pool`) is evaluated as a running year («Đang theo dõi», as that
    school's own row is); a row covering ended years only is judged (Đạt / Chưa đạt), the
    schools left out named in its note."""
    rows = pooled[pooled["school_year"].isin([school_year, contract.previous_year(school_year)])]
    ended = targets.evaluate(rows, plan, school_year, school_code=label, in_progress=False)
    now = rows[(rows["school_year"] == school_year) & (rows["dimension"] == "school")]
    running = set(now.loc[now["in_progress"].astype(bool), "indicator"]) \
        if "in_progress" in now else set()
    if not running:
        return ended
    tracked = targets.evaluate(rows, plan, school_year, school_code=label, in_progress=True)
    pick = ended["indicator"].isin(running).to_numpy()
    return pd.concat([ended[~pick], tracked[pick]]).sort_index()


def pooled_targets(pooled: pd.DataFrame, plan: targets.Targets, school_year: str,
                   label: str) -> pd.DataFrame:
    """:func:`targets.evaluate` of the pooled rows, with each indicator's definition, what its
    numerator and denominator count, and how many schools the pooled value covers."""
    ev = evaluate_pooled(pooled, plan, school_year, label)
    extra = pooled[(pooled["dimension"] == "school") & (pooled["school_year"] == school_year)
                   ].drop_duplicates("indicator").set_index("indicator")
    for c in ("schools", "schools_selected", "schools_without_value"):
        ev[c] = ev["indicator"].map(extra[c]) if len(extra) else np.nan
    for c in ("indicator_label", "definition_vi", "numerator_vi", "denominator_vi", "source"):
        attr = "label_vi" if c == "indicator_label" else c
        ev[c] = ev["indicator"].map(lambda k, a=attr: getattr(indicators.INDICATORS[k], a))
    ev["schools"] = ev["schools"].fillna(0).astype("int64")
    return ev


def shortfall(numerator: float, denominator: float, threshold: float, direction: str) -> float:
    """How many more events (pupils, children, toilets …) a school must gain (">=") or lose
    ("<") to meet the target, in exact arithmetic; 1 for a missing yes/no service; NaN without
    counts."""
    if direction == "yes":
        return 1.0
    if any(isinstance(x, float) and math.isnan(x) for x in (numerator, denominator)) \
            or denominator <= 0:
        return math.nan
    t = Fraction(str(threshold))
    if direction == ">=":
        return float(max(math.ceil(t * int(denominator)) - int(numerator), 0))
    if direction == "<":
        return float(max(int(numerator) - targets.allowed_dropouts(int(denominator),
                                                                   threshold), 0))
    return math.nan


def furthest_schools(matrix: pd.DataFrame, limit: int | None = None) -> pd.DataFrame:
    """For each target, the schools whose status is "Chưa đạt", furthest first (by shortfall,
    then by gap); ``limit``: at most that many schools per target."""
    missed = matrix[matrix["status"] == targets.NOT_MET].copy()
    if missed.empty:
        return pd.DataFrame(columns=FURTHEST_COLUMNS)
    missed["shortfall"] = [shortfall(n, d, t, r) for n, d, t, r in zip(
        missed["numerator"], missed["denominator"], missed["threshold"], missed["direction"],
        strict=True)]
    missed["shortfall_unit"] = missed["indicator"].map(_MISSING_NOUNS).fillna("")
    missed["_gap"] = missed["gap"].abs()
    missed = missed.sort_values(["number", "indicator", "shortfall", "_gap", "school_code"],
                                ascending=[True, True, False, False, True], kind="stable")
    missed["rank"] = missed.groupby(["number", "indicator"], sort=False).cumcount() + 1
    if limit is not None:
        missed = missed[missed["rank"] <= limit]
    return missed[FURTHEST_COLUMNS].reset_index(drop=True)


def _n(x: float) -> str:
    return fmt_num(x, 0)


def _missed_sentence(key: str, rows: pd.DataFrame, threshold: float) -> str:
    n = len(rows)
    events = rows["numerator"].sum()
    others = (rows["denominator"] - rows["numerator"]).sum()
    short = rows["shortfall"].sum()
    target = fmt_pct(threshold, 2, trim=True)
    if key == "dropout_rate":
        if (rows["shortfall"] == rows["numerator"]).all():
            return f"{_n(n)} trường có học sinh bỏ học: {_n(events)} em."
        return (f"{_n(n)} trường có số học sinh bỏ học vượt mức chỉ tiêu dưới {target} cho "
                f"phép: {_n(events)} em bỏ học, nhiều hơn mức cho phép {_n(short)} em.")
    if key == "completion_rate_grade9":
        return (f"{_n(n)} trường chưa đạt chỉ tiêu {target} học sinh lớp 9 hoàn thành chương "
                f"trình THCS: {_n(others)} em chưa hoàn thành; cần thêm {_n(short)} em hoàn "
                f"thành để {'trường này' if n == 1 else 'các trường này'} đạt chỉ tiêu.")
    if key == "allround_rate":
        return (f"{_n(n)} trường chưa đạt chỉ tiêu {target} học sinh phát triển toàn diện: "
                f"{_n(others)} em chưa đạt mức Đạt cả học tập và rèn luyện.")
    if key == "grade6_intake_age11":
        return (f"{_n(n)} trường chưa huy động đủ trẻ 11 tuổi vào lớp 6: {_n(others)} trẻ 11 "
                f"tuổi trên địa bàn chưa vào lớp 6.")
    if key == "toilets_hygienic_share":
        return (f"{_n(n)} trường còn nhà vệ sinh học sinh chưa đạt chuẩn hợp vệ sinh: "
                f"{_n(others)} nhà vệ sinh.")
    if key == "psych_service":
        return f"{_n(n)} trường chưa có dịch vụ hỗ trợ tâm lý trẻ em."
    return f"{_n(n)} trường chưa đạt chỉ tiêu «{_label(key)}»."


def _most(rows: pd.DataFrame, key: str, top: int = 3) -> str:
    if key == "psych_service" or rows["shortfall"].isna().all():
        names = list(rows["school"])
        return f" Gồm: {', '.join(names[:top])}{' …' if len(names) > top else ''}."
    unit = _COUNTED.get(key, "")
    counts = rows["numerator"] if key == "dropout_rate" else rows["shortfall"]
    parts = [f"{s} ({_n(c)}{' ' + unit if unit else ''})"
             for s, c in zip(rows["school"].head(top), counts.head(top), strict=True)]
    what = "Nhiều nhất" if key == "dropout_rate" else "Xa chỉ tiêu nhất"
    return f" {what}: {', '.join(parts)}."


def target_sentences(matrix: pd.DataFrame, furthest: pd.DataFrame) -> pd.DataFrame:
    """One sentence per target: how many schools miss it and by how many pupils (children,
    toilets …), the furthest named; how many have no data or are still being followed."""
    out = []
    for (number, key), rows in matrix.groupby(["number", "indicator"], sort=False,
                                              dropna=False):
        missed = furthest.iloc[:0] if pd.isna(number) or furthest.empty else furthest[
            (furthest["indicator"] == key).to_numpy()
            & (furthest["number"].astype("int64") == int(number)).to_numpy()]
        counts = rows["status"].value_counts()
        met = int(counts.get(targets.MET, 0))
        no_data = int(counts.get(targets.NO_VALUE, 0))
        text = ((_missed_sentence(key, missed, float(rows["threshold"].iloc[0]))
                 + _most(missed, key)) if len(missed) else "")
        if met:
            text += f" {_n(met)} trường đạt."
        if no_data:
            text += f" {_n(no_data)} trường chưa có số liệu."
        for status, k in counts.items():
            if status not in (targets.MET, targets.NOT_MET, targets.NO_VALUE):
                text += f" {_n(k)} trường: {str(status).lower()}."
        out.append({"number": number, "indicator": key, "indicator_label": _label(key),
                    "sentence": text.strip()})
    return pd.DataFrame(out, columns=["number", "indicator", "indicator_label", "sentence"])


def _equity_rows(table: pd.DataFrame, school_year: str, keys: tuple[str, ...]) -> pd.DataFrame:
    """The rows suppression works on: the rates ``keys`` of the year for the whole school and
    every equity dimension (minority, not each ethnic group), their parity indices, and the
    end-of-year enrolment a hidden dropout count hides (``disclosure.LINKED``)."""
    dims = ["school", *EQUITY_DIMENSION_LABELS]
    linked = {k for key in keys for k in disclosure.LINKED.get(key, ())}
    year = (table["school_year"] == school_year).to_numpy()
    rates = table["indicator"].isin([*keys, *linked]).to_numpy() \
        & table["dimension"].isin(dims).to_numpy()
    parity = table["indicator"].isin([_PARITY + k for k in keys]).to_numpy()
    return table[year & (rates | parity)]


def _equity_shown(sup: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    """The equity rows of a suppressed table, ordered: rate, dimension, group; the parity
    indices after each rate's groups."""
    out = sup[(sup["indicator"].isin(list(keys)) & sup["dimension"].isin(
        list(EQUITY_DIMENSION_LABELS))) | sup["indicator"].str.startswith(_PARITY)].copy()
    order = {k: i for i, k in enumerate(keys)}
    dims = {d: i for i, d in enumerate(EQUITY_DIMENSION_LABELS)}
    out["_k"] = out["indicator"].str.removeprefix(_PARITY).map(order)
    out["_d"] = out["dimension"].map(dims).fillna(len(dims))
    out = out.sort_values(["school_code", "_k", "_d", "group"], kind="stable")
    out["indicator_label"] = out["indicator"].map(_label)
    out["dimension_label"] = np.where(out["indicator"].str.startswith(_PARITY),
                                      "Bình đẳng giới",
                                      out["dimension"].map(EQUITY_DIMENSION_LABELS).fillna(""))
    return out


def equity_table(pooled: pd.DataFrame, school_year: str,
                 keys: tuple[str, ...] = EQUITY_RATES,
                 threshold: int = disclosure.DEFAULT_THRESHOLD) -> pd.DataFrame:
    """The pooled pupil rates by equity group (``dimension`` ≠ school), with the gender parity
    indices, after the small-cell rule (:func:`disclosure.suppress` with ``threshold``, on the
    pool as on one school: the pooled whole-group row is the total the groups add up to).
    Columns :data:`EQUITY_COLUMNS` and the flags ``hidden_value``, ``hidden_numerator``,
    ``hidden_denominator``, ``suppression``; a hidden figure is NaN."""
    rows = _equity_rows(pooled, school_year, keys)
    cols = [*EQUITY_COLUMNS, *EQUITY_FLAGS]
    if rows.empty:
        return pd.DataFrame(columns=cols)
    sup = disclosure.suppress(rows.reset_index(drop=True), threshold).table
    out = _equity_shown(sup, keys)
    hidden = out["hidden_value"].astype(bool)
    # a hidden row says nothing: the small-group and parity notes carry counts, the parity
    # row's numerator and denominator are the rates by sex, the school count tells how many
    # schools have such pupils
    parity = out["indicator"].str.startswith(_PARITY)
    out.loc[hidden & parity, ["numerator", "denominator"]] = np.nan
    out["schools"] = out["schools"].astype("Int64").mask(hidden)
    out.loc[hidden, "note"] = HIDDEN_NOTE
    return out[cols].reset_index(drop=True)


def completeness(group: Group, school_year: str, facts: _Facts, mid_year: bool,
                 registry: dict) -> tuple[pd.DataFrame, list[str], pd.DataFrame]:
    """Per school: which files of the year are there, whether the year is still running, the
    latest import, and the number of cross-year findings (year before → this year); the
    sentences the report prints; the findings by school and check, in counts."""
    kinds = facts.imports.groupby("school_code")["kind"].agg(set)
    latest = facts.imports.groupby("school_code")["imported_at"].max()
    running = _pairs_index(facts.running)
    n_checks = facts.checks.groupby("school_code")["count"].sum()
    rows = []
    for code in group.codes:
        have = kinds.get(code, set())
        in_progress = (code, school_year) in running
        missing = [contract.FILE_KINDS[k] for k in REPORTED_KINDS if k not in have]
        if in_progress and not mid_year and "pupils" in have:
            missing.append("kết quả cuối năm (năm học chưa kết thúc)")
        rows.append({"school_code": code, "school": _school_label(code, registry),
                     "has_pupils": "pupils" in have, "has_school": "school" in have,
                     "has_population": "population" in have, "in_progress": in_progress,
                     "missing": "; ".join(missing), "last_import": latest.get(code, pd.NaT),
                     "findings": int(n_checks.get(code, 0))})
    table = pd.DataFrame(rows, columns=COMPLETENESS_COLUMNS)
    sentences = []
    nothing = table[~table["has_pupils"] & ~table["has_school"] & ~table["has_population"]]
    if len(nothing):
        sentences.append(f"{_n(len(nothing))} trường chưa gửi số liệu nào của năm học "
                         f"{school_year}: {', '.join(nothing['school'])}.")
    some = table[~table.index.isin(nothing.index)]
    for kind in REPORTED_KINDS:
        lacking = some[~some[f"has_{kind}"]]
        if len(lacking):
            sentences.append(f"{_n(len(lacking))} trường chưa gửi {contract.FILE_KINDS[kind]} "
                             f"năm học {school_year}: {', '.join(lacking['school'])}.")
    if not mid_year:
        late = table[table["in_progress"]]
        if len(late):
            sentences.append(f"{_n(len(late))} trường chưa nhập kết quả cuối năm (năm học còn "
                             f"«đang học»): {', '.join(late['school'])}; các chỉ tiêu cuối năm "
                             f"của {'trường này' if len(late) == 1 else 'các trường này'} "
                             f"chưa được tính vào số liệu gộp.")
    with_findings = table[table["findings"] > 0]
    if len(with_findings):
        sentences.append(
            f"{_n(len(with_findings))} trường có phát hiện khi đối chiếu với năm học trước "
            f"(tổng {_n(with_findings['findings'].sum())} trường hợp cần xác minh): "
            + ", ".join(f"{s} ({_n(k)})" for s, k in zip(with_findings["school"],
                                                         with_findings["findings"],
                                                         strict=True)) + ".")
    if not sentences:
        sentences.append(f"Cả {_n(len(table))} trường đã gửi đủ số liệu năm học {school_year}.")
    checks = facts.checks[facts.checks["school_code"].isin(group.codes)].copy()
    checks.insert(1, "school", checks["school_code"].map(lambda c: _school_label(c, registry)))
    checks["description"] = checks["check_name"].map(lambda k: CHECKS.get(k, (k, ""))[0])
    checks["action"] = checks["check_name"].map(lambda k: CHECKS.get(k, ("", ""))[1])
    checks["count"] = checks["count"].astype("int64")
    return table, sentences, checks[FINDINGS_COLUMNS].reset_index(drop=True)


def pooled_trend(pooled: pd.DataFrame, plan: targets.Targets, label: str,
                 keys: list[str] | None = None) -> pd.DataFrame:
    """The pooled value of each rate target (every phase's) in every year of ``pooled``, with
    the target of that year's phase and its status."""
    if keys is None:
        keys = list(dict.fromkeys(t.indicator for p in plan.phases for t in p.targets
                                  if indicators.INDICATORS[t.indicator].unit == "rate"))
    school = pooled[(pooled["dimension"] == "school") & pooled["indicator"].isin(keys)]
    frames = []
    for year in sorted(school["school_year"].unique()):
        ev = evaluate_pooled(school, plan, year, label).drop_duplicates(
            "indicator").set_index("indicator")
        rows = school[school["school_year"] == year]
        for r in rows.itertuples(index=False):
            v = ev.loc[r.indicator] if r.indicator in ev.index else None
            frames.append({"indicator": r.indicator, "indicator_label": _label(r.indicator),
                           "school_year": year, "value": r.value, "numerator": r.numerator,
                           "denominator": r.denominator, "schools": r.schools,
                           "threshold": v["threshold"] if v is not None else np.nan,
                           "direction": v["direction"] if v is not None else "",
                           "status": v["status"] if v is not None else "", "note": r.note})
    out = pd.DataFrame(frames, columns=TREND_COLUMNS)
    order = {k: i for i, k in enumerate(keys)}
    out["_k"] = out["indicator"].map(order)
    return out.sort_values(["_k", "school_year"], kind="stable").drop(
        columns="_k").reset_index(drop=True)


def group_view(db: str | Path, school_year: str,
               schools: str | Iterable[str] | Group | None = None,
               *, mid_year: bool = False, label: str | None = None,
               recipient: str | None = None, targets_file: str | Path | None = None,
               schools_file: str | Path | None = None, suppress: int | None = None,
               table: pd.DataFrame | None = None, engine: str = "sql",
               furthest_limit: int | None = None) -> GroupView:
    """The group report's tables for ``school_year`` and the schools ``schools`` (a group name of
    ``data/schools.yaml``, ``"all"``/None, a list of codes, or a resolved :class:`Group`).

    ``mid_year``: a report on a year in progress (schools still «đang học» are expected); in a
    full-year report they are listed as not having sent their end-of-year results.
    ``recipient``: the receiving body, from the report configuration.  ``suppress``: the
    small-cell threshold of the equity tables (:func:`disclosure.suppress`, per school and on
    the pool); None: ``suppression.min_count`` of ``data/report.yaml``.  ``table``: an
    indicator table already computed (else :func:`indicator_table` with ``engine``).
    """
    db = Path(db)
    facts = _facts(db, school_year)
    present = sorted(set(facts.pairs["school_code"]))
    group = schools if isinstance(schools, Group) else resolve_group(schools, present,
                                                                      schools_file)
    registry = load_registry(schools_file)
    years = sorted(set(facts.pairs["school_year"]))
    if school_year not in years:
        raise LocsonError(f"Năm học {school_year} không có trong cơ sở dữ liệu. Các năm học hiện "
                          f"có: {', '.join(years) or 'không có'}.")
    mine = facts.pairs[facts.pairs["school_code"].isin(group.codes)
                       & (facts.pairs["school_year"] == school_year)]
    running_now = facts.running[facts.running["school_code"].isin(group.codes)
                                & (facts.running["school_year"] == school_year)]
    if mid_year and mine.shape[0] and running_now.empty:
        raise LocsonError(f"Năm học {school_year} đã kết thúc ở mọi trường của nhóm: hãy lập báo "
                          f"cáo cả năm (bỏ --mid-year).")
    if not mid_year and len(mine) and set(mine["school_code"]) <= set(running_now["school_code"]):
        raise LocsonError(f"Năm học {school_year} chưa kết thúc ở trường nào của nhóm (học sinh "
                          f"còn ở trạng thái «Đang học»). Hãy lập báo cáo giữa năm (--mid-year) "
                          f"hoặc chờ các trường nhập kết quả cuối năm.")
    label = label or group.name
    threshold = report_config.suppression_threshold() if suppress is None else int(suppress)
    plan = targets.load_targets(Path(targets_file) if targets_file else None)
    if table is None:
        table = indicator_table(db, engine, detail_year=school_year)
    t = contract.start_year(school_year)
    upto = [y for y in years if contract.start_year(y) <= t]
    # every dimension of the year; the whole-population rows of the years before (trend)
    rows = table[table["school_year"].isin(upto).to_numpy()
                 & ((table["school_year"] == school_year).to_numpy()
                    | (table["dimension"] == "school").to_numpy())]
    names = {c: _school_label(c, registry) for c in group.codes}
    pooled_all = pool(rows, group.codes, label, facts.running, names)
    matrix = target_matrix(rows, plan, school_year, list(group.codes),
                           _pairs_index(facts.running), registry)
    furthest = furthest_schools(matrix, furthest_limit)
    sentences = target_sentences(matrix, furthest_schools(matrix))
    done, done_sentences, findings = completeness(group, school_year, facts, mid_year, registry)
    return GroupView(
        school_year=school_year, mid_year=mid_year, group=group, label=label,
        recipient=recipient, matrix=matrix,
        pooled=pooled_targets(pooled_all, plan, school_year, label),
        pooled_table=pooled_all[pooled_all["school_year"] == school_year].reset_index(
            drop=True),
        furthest=furthest, sentences=sentences,
        equity=equity_table(pooled_all, school_year, threshold=threshold),
        threshold=threshold,
        completeness=done, completeness_sentences=done_sentences, findings=findings,
        trend=pooled_trend(pooled_all, plan, label))
