"""What every indicator family shares: the registry entry, the tidy table, Vietnamese notes."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from ..numbers import NO_DATA, fmt_num, fmt_pct

TIDY_COLUMNS = ["school_code", "school_year", "indicator", "dimension", "group", "value",
                "numerator", "denominator", "note"]

#: In every note of a year still in progress (IN_PROGRESS, SO_FAR, SEMESTER1).
RUNNING_MARK = "năm học đang diễn ra"
IN_PROGRESS = "Chưa có (năm học đang diễn ra)"
SO_FAR = "Số liệu đến thời điểm nhập (năm học đang diễn ra)"
SEMESTER1 = "Theo kết quả học kỳ I (năm học đang diễn ra)"
NO_PUPIL_FILE = f"{NO_DATA} (chưa nhập danh sách học sinh năm học này)"
NO_SCHOOL_FILE = f"{NO_DATA} (chưa nhập số liệu nhà trường năm học này)"
NO_POPULATION_FILE = f"{NO_DATA} (chưa nhập số liệu điều tra phổ cập năm học này)"
#: A group rate (a rate of one group of pupils: a grade, a sex, an ethnicity, …) is not
#: computed when the group has fewer pupils than this (value NaN, the counts stay in the
#: numerator and denominator columns, the note says why): one pupil more or less would move it
#: by ten points or more.
MIN_GROUP_PUPILS = 10
SMALL_GROUP_LIMIT = MIN_GROUP_PUPILS  # (the older name)
#: A gender parity index (girls' rate ÷ boys' rate) is not computed when either sex has fewer
#: than this many events (dropouts, completions, …) or fewer than MIN_GROUP_PUPILS pupils: an
#: index from one or two events (4,10 = (4/402)/(1/412)) says nothing about parity.
MIN_PARITY_EVENTS = 5
#: The sources an indicator's definition follows (the registry's ``source``), in Vietnamese.
SOURCE_NATIONAL = "Bộ GD&ĐT; Tổng cục Thống kê (nay là Cục Thống kê)"
SOURCE_MOET = "Bộ GD&ĐT"
SOURCE_UIS = "Viện Thống kê UNESCO (UNESCO UIS)"
SOURCES = (SOURCE_NATIONAL, SOURCE_MOET, SOURCE_UIS)

Unit = Literal["rate", "count", "money", "ratio", "yesno"]
Input = Literal["pupils", "school", "population", "derived"]
#: How a value behaves while its school year is still running:
#: "known" — complete from the start of the year (enrolment at the start);
#: "so_far" — computed, with a note that it counts events up to the import date;
#: "s1" — the family itself uses semester-1 results and says so;
#: "unknown" — value NaN with the note IN_PROGRESS (end-of-year outcomes).
InProgress = Literal["known", "so_far", "s1", "unknown"]


@dataclass(frozen=True)
class Indicator:
    key: str
    label_vi: str
    unit: Unit
    definition_vi: str
    source: str
    numerator_vi: str
    denominator_vi: str
    reference_date_vi: str
    input: Input = "pupils"
    in_progress: InProgress = "unknown"


@functools.lru_cache(maxsize=65536)
def vn_number(x: float | int) -> str:
    """1234 → "1.234", 0.5 → "0,5" (Vietnamese grouping and decimal signs, for notes).

    Cached: notes repeat the same counts thousands of times at province scale, and Babel
    formats one number in ~50 µs."""
    return fmt_num(x, 3, trim=True)


def vn_percent(fraction: float, digits: int = 2) -> str:
    """0.0006 → "0,06 %" (the space before % is the Vietnamese typographic habit)."""
    return fmt_pct(fraction, digits, trim=True)


def small_group_note(n: int) -> str:
    return (f"Nhóm nhỏ (n = {vn_number(int(n))}, dưới {MIN_GROUP_PUPILS} học sinh): không tính "
            f"tỷ lệ, chỉ nêu số đếm")


def small_group_notes(n: pd.Series) -> pd.Series:
    """:func:`small_group_note` of each value, formatted once per distinct value."""
    uniq = n.unique()
    return n.map(dict(zip(uniq, [small_group_note(u) for u in uniq], strict=True)))


def empty_table() -> pd.DataFrame:
    return pd.DataFrame({
        "school_code": pd.Series(dtype="str"), "school_year": pd.Series(dtype="str"),
        "indicator": pd.Series(dtype="str"), "dimension": pd.Series(dtype="str"),
        "group": pd.Series(dtype="str"), "value": pd.Series(dtype="float64"),
        "numerator": pd.Series(dtype="float64"), "denominator": pd.Series(dtype="float64"),
        "note": pd.Series(dtype="str"),
    })


def tidy(rows: pd.DataFrame | list[dict]) -> pd.DataFrame:
    """Coerce to the tidy table's columns and dtypes (missing columns become NaN / "")."""
    df = pd.DataFrame(rows) if isinstance(rows, list) else rows
    if df.empty:
        return empty_table()
    df = df.copy()
    for c in ("value", "numerator", "denominator"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64") if c in df else np.nan
    if "note" not in df:
        df["note"] = ""
    df["note"] = df["note"].fillna("").astype("str")
    for c in ("school_code", "school_year", "indicator", "dimension", "group"):
        df[c] = df[c].astype("str")
    return df[TIDY_COLUMNS].reset_index(drop=True)


def join_notes(*notes: pd.Series) -> pd.Series:
    """Join note columns with "; ", skipping empty ones (vectorised)."""
    out = notes[0].fillna("").astype("str")
    for n in notes[1:]:
        n = n.fillna("").astype("str")
        both = (out != "") & (n != "")
        out = out.where(~both, out + "; " + n)
        out = out.where(out != "", n)
    return out


def school_year_pairs(frame: pd.DataFrame) -> pd.DataFrame:
    """The distinct (school_code, school_year) of ``frame`` as strings, sorted; from the
    category codes when both are categorical (no hashing of the rows)."""
    sc, sy = frame["school_code"], frame["school_year"]
    if not (isinstance(sc.dtype, pd.CategoricalDtype)
            and isinstance(sy.dtype, pd.CategoricalDtype)):
        pairs = frame.groupby(["school_code", "school_year"], observed=True).size().reset_index()
        return pairs[["school_code", "school_year"]].astype("str")
    sc_cats = np.asarray(sc.array.categories, dtype=object)
    sy_cats = np.asarray(sy.array.categories, dtype=object)
    width = len(sy_cats) + 1
    # one integer per row, built in place: (school code + 1) * width + year code + 1
    cell = sc.array.codes.astype(np.intp)
    cell += 1
    cell *= width
    cell += sy.array.codes
    cell += 1
    seen = np.flatnonzero(np.bincount(cell, minlength=(len(sc_cats) + 1) * width))
    sc_i, sy_i = seen // width, seen % width
    ok = (sc_i > 0) & (sy_i > 0)  # (groupby drops missing keys)
    out = pd.DataFrame({"school_code": sc_cats[sc_i[ok] - 1].astype("str"),
                        "school_year": sy_cats[sy_i[ok] - 1].astype("str")})
    return out.sort_values(["school_code", "school_year"], ignore_index=True)


def school_years(*frames: pd.DataFrame) -> pd.DataFrame:
    """Every (school_code, school_year) present in any of the frames, sorted."""
    parts = [school_year_pairs(f) for f in frames
             if f is not None and not f.empty and "school_year" in f.columns]
    if not parts:
        return pd.DataFrame({"school_code": pd.Series(dtype="str"),
                             "school_year": pd.Series(dtype="str")})
    out = pd.concat(parts, ignore_index=True).drop_duplicates()
    out = out.astype({"school_code": "str", "school_year": "str"})
    return out.sort_values(["school_code", "school_year"]).reset_index(drop=True)


def item_table(facts: pd.DataFrame, universe: pd.DataFrame) -> pd.DataFrame:
    """Long item facts → one row per (school, year) of ``universe``, one column per item.

    The column ``has_file`` says whether the year has any fact at all (the file was imported).
    """
    keys = ["school_code", "school_year"]
    wide = universe[keys].copy()
    if facts is None or facts.empty:
        wide["has_file"] = False
        return wide
    f = facts.astype({"school_code": "str", "school_year": "str"})
    piv = f.pivot_table(index=keys, columns="item", values="value", aggfunc="last")
    piv.columns = [str(c) for c in piv.columns]
    piv["has_file"] = True
    wide = wide.merge(piv.reset_index(), on=keys, how="left")
    wide["has_file"] = wide["has_file"].astype("boolean").fillna(False).astype(bool)
    return wide


def item_rows(wide: pd.DataFrame, key: str, numerator: str, denominator: str | None,
              missing_file_note: str, zero_note: str = NO_DATA) -> pd.DataFrame:
    """School-level rows of one indicator from an :func:`item_table` (ratio or plain value)."""
    def col(name: str) -> pd.Series:
        return wide[name] if name in wide.columns else pd.Series(np.nan, index=wide.index)

    num = col(numerator).astype("float64")
    if denominator is None:
        den = pd.Series(np.nan, index=wide.index)
        value = num
        note = np.where(num.isna(), NO_DATA, "")
    else:
        den = col(denominator).astype("float64")
        ok = num.notna() & (den > 0)
        value = (num / den).where(ok)
        note = np.where(num.isna() | den.isna(), NO_DATA, np.where(ok, "", zero_note))
    note = np.where(wide["has_file"], note, missing_file_note)
    return tidy(pd.DataFrame({
        "school_code": wide["school_code"], "school_year": wide["school_year"],
        "indicator": key, "dimension": "school", "group": "Toàn trường", "value": value,
        "numerator": num, "denominator": den, "note": note}))
