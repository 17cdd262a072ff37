"""Equity: the grouping dimensions, the one vectorised aggregator, the gender parity index.

Every pupil-level indicator is a pair of boolean columns over the pupil-year rows (numerator,
denominator; counts have no denominator).  :func:`aggregate` sums them by school, year and the
group label of each dimension in a single ``groupby`` per dimension, so the cost does not grow
with the number of groups and no Python code runs per pupil.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import contract
from ..store import PUPIL_HASH
from .base import (
    MIN_GROUP_PUPILS,
    MIN_PARITY_EVENTS,
    NO_DATA,
    SMALL_GROUP_LIMIT,
    SOURCE_UIS,
    TIDY_COLUMNS,
    Indicator,
    empty_table,
    school_year_pairs,
    small_group_note,
    tidy,
    vn_number,
)

SCHOOL = "Toàn trường"
KINH = "Kinh"
MINORITY = "Dân tộc thiểu số"
OTHER_ETHNIC = "Dân tộc khác"
#: An ethnic group is shown by name only when it has this many pupils in the school that year
#: (counted over everyone enrolled at any time); smaller groups are pooled as OTHER_ETHNIC.
ETHNIC_GROUP_MIN = 20

BOOL_LABELS = {
    "poor": ("Hộ nghèo", "Không thuộc hộ nghèo"),
    "near_poor": ("Hộ cận nghèo", "Không thuộc hộ cận nghèo"),
    "disability": ("Khuyết tật", "Không khuyết tật"),
    "special_circumstances": ("Hoàn cảnh đặc biệt", "Không có hoàn cảnh đặc biệt"),
}

#: The group label of each grade (dimension "grade").
GRADE_LABELS = {g: f"Khối {g}" for g in contract.GRADES}

ALL_DIMENSIONS = ("school", "grade", "sex", "minority", "ethnicity", "poor", "near_poor",
                  "disability", "special_circumstances")
EQUITY_DIMENSIONS = ("sex", "minority", "ethnicity", "poor", "near_poor", "disability",
                     "special_circumstances")
#: Pupil rates that get a gender parity index (female rate ÷ male rate).
PARITY_RATES = ("dropout_rate", "promotion_rate", "repetition_rate", "completion_rate_grade9",
                "allround_rate", "swim_share")

LEFT_OUTCOMES = ("dropped_out", "transferred_out")


def dim_column(dimension: str) -> str:
    return f"dim_{dimension}"


def years_present(prep: pd.DataFrame) -> pd.DataFrame:
    """(school_code, school_year, year_start) with pupils, as plain strings and ints."""
    out = school_year_pairs(prep)
    out["year_start"] = [contract.start_year(y) for y in out["school_year"]]
    return out


def as_category(col: pd.Series) -> pd.Series:
    """Text as a categorical (``store.load`` already returns one; others are converted)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col
    return col.astype("str").astype("category")


def _pupil_codes(p: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """Dense integer codes of ``pupil_id`` on ``rows`` (-1 for a missing ID), from the hashes
    ``store.load`` computed when they are there and never merge two different IDs."""
    ids = p["pupil_id"][rows]
    if PUPIL_HASH in p.columns:
        hashes = p[PUPIL_HASH].to_numpy()[rows]
        codes = pd.factorize(hashes)[0].astype(np.int64)
        missing = ids.isna().to_numpy()
        first = np.zeros(codes.max() + 1, dtype=np.int64)
        first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)  # first row of each code
        # only rows whose hash is shared can differ from their code's first row
        shared = np.flatnonzero(np.bincount(codes)[codes] > 1)
        rep = first[codes[shared]]
        values = ids.array.take(shared).to_numpy(dtype=object, na_value=None)
        rep_values = ids.array.take(rep).to_numpy(dtype=object, na_value=None)
        same = (values == rep_values) | (missing[shared] & missing[rep])
        if same.all() and (missing[shared] == missing[rep]).all():
            missing_codes = np.unique(codes[missing])
            if len(missing_codes) <= 1:
                # renumber so that the missing ID has -1, like pd.factorize of the strings
                return np.where(missing, -1, codes)
    return pd.factorize(ids)[0].astype(np.int64)


def group_sizes(cell: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """For each row, how many rows share its (non-negative integer) cell (with ``weights``:
    the sum of the weights of those rows, e.g. pupils counted per row)."""
    if not len(cell):
        return np.zeros(0, dtype=np.int64)
    if cell.max() < 50_000_000:
        if weights is None:
            return np.bincount(cell)[cell]
        return np.bincount(cell, weights=weights)[cell]
    _, inverse, counts = np.unique(cell, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    if weights is None:
        return counts[inverse]
    return np.bincount(inverse, weights=weights)[inverse]


def ethnic_labels(pair: np.ndarray, eth_codes: np.ndarray, eth_cats: list[str],
                  weights: np.ndarray | None = None) -> tuple[pd.Categorical, pd.Categorical]:
    """The minority and ethnicity labels of rows (pupils, or cells of ``weights`` pupils):
    ``pair`` numbers the (school, year) of each row, ``eth_codes`` (-1: missing) the ethnicity
    among ``eth_cats``.  An ethnic group keeps its name when it has ETHNIC_GROUP_MIN pupils in
    the school that year (missing ethnicity is its own group); smaller groups are pooled."""
    missing = eth_codes < 0
    is_kinh = np.array([c == KINH for c in eth_cats], dtype=bool)[eth_codes] & ~missing
    minority = _from_codes(np.where(missing, -1, np.where(is_kinh, 0, 1)), [KINH, MINORITY])
    size = group_sizes(pair * (len(eth_cats) + 1) + (eth_codes + 1), weights)
    named = is_kinh | (size >= ETHNIC_GROUP_MIN)
    other = len(eth_cats)  # one more category: the pooled small groups
    ethnicity = _from_codes(np.where(missing, -1, np.where(named, eth_codes, other)),
                            [*eth_cats, OTHER_ETHNIC])
    return minority, ethnicity


def _from_codes(codes: np.ndarray, categories: list[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int64), categories=categories)


def _bool_labels(values: pd.Series, yes: str, no: str) -> pd.Categorical:
    v = values.astype("boolean")
    codes = np.where(v.isna().to_numpy(), -1, np.where(v.fillna(False).to_numpy(bool), 0, 1))
    return _from_codes(codes, [yes, no])


def prepare(pupils: pd.DataFrame, rows: np.ndarray | None = None,
            link_leavers: bool = True) -> pd.DataFrame:
    """Pupil-year rows with the flags and group labels every family uses.

    ``rows``: the rows to prepare, in this order (positions, or a boolean mask; default: all),
    taken column by column before any other work.  ``link_leavers=False``: only grade-6 rows
    get a pupil key (enough when no cohort completes in the years returned, see
    ``indicators.compute_all``).

    Adds: ``start`` (enrolled when the year began: no entry date), ``left`` (dropped out or
    transferred out), ``end`` (still enrolled at the end of the year), ``in_progress_year``
    (some pupil of that school and year has outcome ``in_progress``), ``year_start`` (int) and
    one ``dim_<dimension>`` label column per dimension.
    """
    keep = ["school_code", "school_year", "pupil_id", "birth_date", "sex", "ethnicity", "grade",
            "entry_date", "poor", "near_poor", "disability", "special_circumstances",
            "learning_s1", "conduct_s1", "learning_year", "conduct_year", "result_scale",
            "outcome", "can_swim"]
    if PUPIL_HASH in pupils.columns:
        keep = [*keep, PUPIL_HASH]
    if rows is None:
        p = pd.DataFrame({c: (pupils[c] if c in pupils.columns else pd.Series(
            pd.NA, index=pupils.index, dtype="object")) for c in keep})
        p = p.reset_index(drop=True)
    else:
        at = np.flatnonzero(rows) if rows.dtype == bool else np.asarray(rows, dtype=np.intp)
        p = pd.DataFrame({c: (pupils[c].array.take(at) if c in pupils.columns
                              else np.full(len(at), pd.NA, dtype=object)) for c in keep},
                         copy=False)
    # Categorical keys and an integer pupil key: every groupby and merge below reuses the codes
    # instead of hashing millions of strings again (store.load already returns categoricals).
    p["school_code"] = as_category(p["school_code"])
    p["school_year"] = as_category(p["school_year"])
    if p["grade"].dtype != "Int64":
        p["grade"] = pd.to_numeric(p["grade"], errors="coerce").astype("Int64")
    p["entry_date"] = pd.to_datetime(p["entry_date"])
    p["birth_date"] = pd.to_datetime(p["birth_date"])
    p["outcome"] = as_category(p["outcome"])  # NA stays NA
    outcome_codes, outcome_cats = _codes(p["outcome"])

    def is_outcome(*values: str) -> np.ndarray:
        return np.append(False, np.isin(outcome_cats, values))[outcome_codes]

    p["start"] = p["entry_date"].isna().to_numpy()
    p["left"] = is_outcome(*LEFT_OUTCOMES)
    p["end"] = ~p["left"]
    p["dropped"] = is_outcome("dropped_out")
    p["transferred"] = is_outcome("transferred_out")
    school_codes = p["school_code"].cat.codes.to_numpy(dtype=np.int64)
    year_codes = p["school_year"].cat.codes.to_numpy(dtype=np.int64)
    n_years = len(p["school_year"].cat.categories) + 1
    pair = school_codes * n_years + year_codes  # one integer per (school, year)
    running = is_outcome("in_progress")
    if running.any():
        running_pairs = np.unique(pair[running])
        p["in_progress_year"] = np.isin(pair, running_pairs)
    else:
        p["in_progress_year"] = np.zeros(len(p), dtype=bool)
    starts = np.array([contract.start_year(y) for y in p["school_year"].cat.categories],
                      dtype="int64")
    p["year_start"] = starts[year_codes] if len(starts) else np.zeros(len(p), "int64")
    # one integer per (school, pupil): the key of linked records.  Only the rows that are ever
    # linked across years get one (grade 6, completers, transfers out; see completion and
    # intake); every other row has -1.  Factorising millions of ID strings is the dearest step.
    grade = p["grade"].to_numpy(dtype="float64", na_value=np.nan)
    linked = grade == 6
    if link_leavers:
        linked |= is_outcome("completed") | p["transferred"].to_numpy()
    key = np.full(len(p), -1, dtype=np.int64)
    if linked.any():
        key[linked] = _pupil_codes(p, linked)
    n_schools = max(len(p["school_code"].cat.categories), 1)
    p["pupil_key"] = key
    p["pupil_school_key"] = key * n_schools + school_codes

    n = len(p)
    p[dim_column("school")] = _from_codes(np.zeros(n), [SCHOOL])
    known = np.isin(grade, contract.GRADES)
    p[dim_column("grade")] = _from_codes(
        np.where(known, np.nan_to_num(grade) - contract.GRADES[0], -1),
        list(GRADE_LABELS.values()))
    sex_codes, sex_cats = _codes(p["sex"])
    sex_map = np.array([-1, *[{"M": 0, "F": 1}.get(c, -1) for c in sex_cats]], dtype=np.int64)
    p[dim_column("sex")] = _from_codes(sex_map[sex_codes],
                                       [contract.SEX_LABELS["M"], contract.SEX_LABELS["F"]])
    eth = as_category(p["ethnicity"])
    eth_codes = eth.cat.codes.to_numpy().astype(np.int64)
    eth_cats = [str(c) for c in eth.cat.categories]
    p[dim_column("minority")], p[dim_column("ethnicity")] = ethnic_labels(pair, eth_codes,
                                                                          eth_cats)
    for col, (yes, no) in BOOL_LABELS.items():
        p[dim_column(col)] = _bool_labels(p[col], yes, no)
    number_cells(p)
    return p


#: The column of :func:`prepare` that numbers each row's combination of CELL_KEYS labels.
CELL = "_cell"
CELL_KEYS = ("school_code", "school_year",
             *[dim_column(d) for d in ALL_DIMENSIONS if d != "school"])


def _radix(col: pd.Series) -> tuple[int, np.ndarray]:
    cats = col.array.categories
    return len(cats) + 1, np.asarray(cats, dtype=object)


def number_cells(p: pd.DataFrame) -> None:
    """Number the (school, year, every label) combinations once, as a categorical column whose
    categories are the mixed-radix combination: :func:`aggregate` then sums flags with
    ``bincount`` instead of grouping millions of rows per indicator family."""
    if p.empty:
        return
    radix = [_radix(p[k])[0] for k in CELL_KEYS]
    if np.prod(np.array(radix, dtype=np.float64)) >= 2.0**62:
        return  # too many labels to combine in one integer: aggregate groups rows instead
    combined = np.zeros(len(p), dtype=np.int64)
    for k, r in zip(CELL_KEYS, radix, strict=True):  # in place: no temporary arrays
        combined *= r
        combined += p[k].array.codes
        combined += 1
    codes, uniques = pd.factorize(combined)
    p[CELL] = pd.Categorical.from_codes(codes, categories=uniques)


@dataclass
class Measure:
    """One indicator as pupil-level flags: summed by group, then numerator ÷ denominator."""

    key: str
    numerator: np.ndarray
    denominator: np.ndarray | None = None  # None: a count
    dimensions: tuple[str, ...] = ALL_DIMENSIONS
    empty_note: str = NO_DATA


def _codes(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Category codes shifted by one (0 = missing) and the categories."""
    cat = col.array if isinstance(col.dtype, pd.CategoricalDtype) else pd.Categorical(col)
    return cat.codes.astype(np.int64) + 1, np.asarray(cat.categories, dtype=object)


def _sorted_keys(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(key, return_inverse=True)`` of non-negative integers, by counting when
    the keys are dense enough (no sort)."""
    if len(key) and key.max() < max(4 * len(key), 1_000_000):
        seen = np.bincount(key)
        uniq = np.flatnonzero(seen)
        position = np.zeros(len(seen), dtype=np.intp)
        position[uniq] = np.arange(len(uniq))
        return uniq, position[key]
    uniq, inverse = np.unique(key, return_inverse=True)
    return uniq, inverse.ravel()


def aggregate(prep: pd.DataFrame, measures: list[Measure]) -> pd.DataFrame:
    """Sum each measure's flags by (school, year, group) for each of its dimensions.

    The rows are pupils (boolean flags) or cells already summed elsewhere (integer counts per
    combination of labels, as :mod:`.sql` gets them from DuckDB): the roll-up is the same.

    One pass over the pupil rows: the flags are summed by the combination of every label the
    measures need (a few thousand cells), and each dimension is then a roll-up of that small
    table.
    """
    if prep.empty or not measures:
        return empty_table()
    def weights(x: np.ndarray) -> np.ndarray:  # pupil flags, or counts of pre-summed cells
        x = np.asarray(x)
        return x.astype(bool) if x.dtype == object else x

    flags: dict[str, np.ndarray] = {}
    same: dict[str, str] = {}  # a flag array several measures share is summed once
    seen: dict[int, str] = {}
    for m in measures:
        for name, x in ((f"n|{m.key}", m.numerator), (f"d|{m.key}", m.denominator)):
            if x is None:
                continue
            if id(x) in seen:
                same[name] = seen[id(x)]
                continue
            seen[id(x)] = name
            flags[name] = weights(x)
    by_dimension: dict[str, list[Measure]] = defaultdict(list)
    for m in measures:
        for d in m.dimensions:
            by_dimension[d].append(m)
    if CELL in prep.columns:
        # prepare() numbered the cells once: a bincount per flag, no hashing of the rows
        radix = [(k, *_radix(prep[k])) for k in CELL_KEYS]
        cell = prep[CELL].array
        codes = cell.codes.astype(np.intp)
        n_all = len(cell.categories)
        observed = np.bincount(codes, minlength=n_all) > 0
        rest = np.asarray(cell.categories, dtype=np.int64)[observed]

        def cell_sum(f: np.ndarray) -> np.ndarray:
            if f.dtype == bool:  # count the flagged rows (the same sums, exact integers)
                return np.bincount(codes[f], minlength=n_all).astype(np.float64)
            return np.bincount(codes, weights=f, minlength=n_all)

        cell_values = {c: cell_sum(f)[observed] for c, f in flags.items()}
        cell_values.update({c: cell_values[first] for c, first in same.items()})
    else:
        keys = ["school_code", "school_year",
                *[dim_column(d) for d in by_dimension if d != "school"]]
        combined = np.zeros(len(prep), dtype=np.int64)
        radix = []
        for k in keys:
            codes, categories = _codes(prep[k])
            combined = combined * (len(categories) + 1) + codes
            radix.append((k, len(categories) + 1, categories))
        cells = pd.DataFrame(flags, index=prep.index).groupby(combined, sort=False).sum()
        rest = cells.index.to_numpy(dtype=np.int64)
        cell_values = {c: cells[c].to_numpy(dtype=np.float64) for c in cells.columns}
        cell_values.update({c: cell_values[first] for c, first in same.items()})
    n_cells = len(rest)
    decoded: dict[str, np.ndarray] = {}
    for k, r, _ in reversed(radix):
        decoded[k] = rest % r
        rest = rest // r
    labels = {k: cats for k, _, cats in radix}
    n_years = len(labels["school_year"]) + 1
    # the tidy columns as arrays, part by part; the notes from each part's own numbers (no
    # string operations over the whole table)
    empty_notes = {m.key: m.empty_note for m in measures}
    small_text: dict[float, str] = {}
    cols: dict[str, list[np.ndarray]] = {c: [] for c in TIDY_COLUMNS}
    parts: list[tuple[str, str, int]] = []  # (indicator, dimension, rows) of each part
    for dimension, ms in by_dimension.items():
        if dimension == "school":
            group = np.ones(n_cells, dtype=np.int64)
            group_labels = np.array([SCHOOL], dtype=object)
        else:
            group, group_labels = decoded[dim_column(dimension)], labels[dim_column(dimension)]
        n_groups = len(group_labels) + 1
        valid = group > 0
        key = ((decoded["school_code"] * n_years + decoded["school_year"]) * n_groups
               + group)[valid]
        uniq, inverse = _sorted_keys(key)
        g, rest = uniq % n_groups, uniq // n_groups
        frame = {"school_code": labels["school_code"][rest // n_years - 1],
                 "school_year": labels["school_year"][rest % n_years - 1],
                 "group": group_labels[g - 1]}

        def total(col: str, valid: np.ndarray = valid, inverse: np.ndarray = inverse,
                  size: int = len(uniq)) -> np.ndarray:
            return np.bincount(inverse, weights=cell_values[col][valid], minlength=size)

        n_rows = len(uniq)
        for m in ms:
            num = total(f"n|{m.key}")
            note = np.full(n_rows, "", dtype=object)
            if m.denominator is None:  # a count
                den = np.full(n_rows, np.nan)
                value = num
            else:
                den = total(f"d|{m.key}")
                empty = den == 0
                value = num / np.where(empty, np.nan, den)
                specific = empty_notes[m.key] if dimension == "school" else NO_DATA
                note[empty] = NO_DATA if specific is None else specific
                if dimension != "school":
                    small = np.flatnonzero((den > 0) & (den < SMALL_GROUP_LIMIT))
                    if len(small):
                        sizes, which = np.unique(den[small], return_inverse=True)
                        texts = [small_text.setdefault(n, small_group_note(n)) for n in sizes]
                        note[small] = np.array(texts, dtype=object)[which]
                        if dimension in EQUITY_DIMENSIONS:  # (grades: a note only)
                            value[small] = np.nan
            for c in ("school_code", "school_year", "group"):
                cols[c].append(frame[c])
            parts.append((m.key, dimension, n_rows))
            cols["value"].append(value)
            cols["numerator"].append(num)
            cols["denominator"].append(den)
            cols["note"].append(note)
    if not cols["value"]:
        return empty_table()
    sizes = [n for _, _, n in parts]
    for c, i in (("indicator", 0), ("dimension", 1)):  # one repeat, not an array per part
        cols[c] = [np.repeat(np.array([p[i] for p in parts], dtype=object), sizes)]
    # the tidy table's columns and dtypes directly (what tidy() would make, without a copy)
    text = ("school_code", "school_year", "indicator", "dimension", "group", "note")
    return pd.DataFrame({c: (pd.array(np.concatenate(v), dtype="str") if c in text
                             else np.concatenate(v).astype(np.float64))
                         for c, v in cols.items()}, copy=False)


def parity_note(female: tuple[float, float], male: tuple[float, float]) -> str:
    """Why a gender parity index is not computed from these (events, pupils) of girls and
    boys ("" when it is): fewer than MIN_PARITY_EVENTS events or MIN_GROUP_PUPILS pupils in
    either group, or a boys' rate of 0.  The note gives the counts."""
    (fn, fd), (mn, md) = female, male
    if any(math.isnan(x) for x in (fn, fd, mn, md)) or fd == 0 or md == 0:
        return NO_DATA
    counts = (f"nữ {vn_number(int(fn))}/{vn_number(int(fd))}, "
              f"nam {vn_number(int(mn))}/{vn_number(int(md))}")
    if min(fd, md) < MIN_GROUP_PUPILS:
        return (f"Không tính chỉ số: một nhóm có dưới {MIN_GROUP_PUPILS} học sinh ({counts})")
    if min(fn, mn) < MIN_PARITY_EVENTS:
        return (f"Không tính chỉ số: một nhóm có dưới {MIN_PARITY_EVENTS} trường hợp, quá ít "
                f"để so sánh ({counts})")
    return ""


def gender_parity(table: pd.DataFrame) -> pd.DataFrame:
    """``gender_parity_index_<rate>`` = female rate ÷ male rate, for the whole school.

    numerator = the female rate, denominator = the male rate (the counts are the rate's rows of
    dimension "sex").  NaN, with a note giving the counts, when either sex has fewer than
    MIN_PARITY_EVENTS events or MIN_GROUP_PUPILS pupils (so a boys' rate of 0 is never divided
    by), or when either rate is missing.
    """
    sex = table[(table["dimension"] == "sex") & table["indicator"].isin(PARITY_RATES)]
    if sex.empty:
        return empty_table()
    wide = sex.pivot_table(index=["school_code", "school_year", "indicator"], columns="group",
                           values=["numerator", "denominator"], aggfunc="first", dropna=False)
    cols = pd.MultiIndex.from_product([["numerator", "denominator"], ["Nữ", "Nam"]])
    wide = wide.reindex(columns=cols)
    fn, fd = wide[("numerator", "Nữ")], wide[("denominator", "Nữ")]
    mn, md = wide[("numerator", "Nam")], wide[("denominator", "Nam")]
    female = fn / fd.where(fd > 0)
    male = mn / md.where(md > 0)
    note = np.array([parity_note((a, b), (c, d)) for a, b, c, d in zip(
        fn.astype(float), fd.astype(float), mn.astype(float), md.astype(float), strict=True)],
        dtype=object)
    ok = note == ""
    value = (female / male.where(male != 0)).where(ok)
    out = wide.reset_index()[["school_code", "school_year", "indicator"]]
    out.columns = ["school_code", "school_year", "indicator"]
    out["indicator"] = "gender_parity_index_" + out["indicator"].astype("str")
    out["dimension"] = "school"
    out["group"] = SCHOOL
    out["value"] = value.to_numpy()
    out["numerator"] = female.to_numpy()
    out["denominator"] = male.to_numpy()
    out["note"] = note
    return tidy(out)


def parity_indicators(registry: dict[str, Indicator]) -> list[Indicator]:
    """Registry entries for the gender parity index of each rate in PARITY_RATES."""
    out = []
    for key in PARITY_RATES:
        base = registry[key]
        # the first letter in lower case only: «THCS» stays as written
        lowered = base.label_vi[:1].lower() + base.label_vi[1:]
        out.append(Indicator(
            key=f"gender_parity_index_{key}",
            label_vi=f"Chỉ số bình đẳng giới — {lowered}",
            unit="ratio",
            definition_vi=(f"Chỉ số bình đẳng giới (GPI) của «{lowered}»: tỷ lệ "
                           f"của học sinh nữ chia cho tỷ lệ của học sinh nam. Bằng 1 là bình "
                           f"đẳng. Không tính khi một trong hai nhóm có dưới "
                           f"{MIN_PARITY_EVENTS} trường hợp hoặc dưới {MIN_GROUP_PUPILS} học "
                           f"sinh (ghi chú nêu số đếm của hai nhóm)."),
            source=SOURCE_UIS,
            numerator_vi=f"{base.label_vi} của học sinh nữ",
            denominator_vi=f"{base.label_vi} của học sinh nam",
            reference_date_vi=base.reference_date_vi,
            input="derived",
            in_progress=base.in_progress,
        ))
    return out
