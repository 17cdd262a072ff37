"""Lower-secondary completion, in three labelled definitions (see docs/indicators.md)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .. import contract
from ..dataset import Dataset
from . import flags as F
from .base import (
    NO_DATA,
    SOURCE_NATIONAL,
    SOURCE_UIS,
    Indicator,
    empty_table,
    join_notes,
    school_year_pairs,
    tidy,
)
from .equity import (
    EQUITY_DIMENSIONS,
    Measure,
    aggregate,
    dim_column,
    prepare,
    years_present,
)

COHORT_DIMENSIONS = ("school", "sex", "minority")
NO_GRADE9 = f"{NO_DATA}: năm học không có học sinh lớp 9 cuối năm"
NO_GRADE9_START = f"{NO_DATA}: năm học không có học sinh lớp 9 đầu năm"

INDICATORS = [
    Indicator(
        "completion_rate_grade9", "Tỷ lệ học sinh hoàn thành chương trình THCS (lớp 9)", "rate",
        "(a) Cách các tỉnh báo cáo: số học sinh lớp 9 được công nhận hoàn thành chương trình "
        "THCS chia cho số học sinh lớp 9 cuối năm (không tính học sinh bỏ học, chuyển đi). "
        "Đây là định nghĩa mặc định khi đối chiếu chỉ tiêu.",
        SOURCE_NATIONAL, "Học sinh lớp 9 có kết quả «Hoàn thành chương trình THCS»",
        "Số học sinh lớp 9 cuối năm học", "Cuối năm học"),
    Indicator(
        "completion_rate_grade9_start", "Tỷ lệ hoàn thành THCS trên học sinh lớp 9 đầu năm",
        "rate",
        "(a′) Số học sinh lớp 9 được công nhận hoàn thành chương trình THCS chia cho số học sinh "
        "lớp 9 đầu năm trừ học sinh lớp 9 đầu năm chuyển trường đi. Khác (a): học sinh lớp 9 bỏ "
        "học vẫn nằm trong mẫu số, nên một em bỏ học làm tỷ lệ giảm chứ không tăng. Tử số giống "
        "(a) (cả học sinh chuyển đến trong năm rồi hoàn thành), nên tỷ lệ có thể vượt 100 % khi "
        "nhiều em chuyển đến.",
        SOURCE_NATIONAL, "Học sinh lớp 9 có kết quả «Hoàn thành chương trình THCS»",
        "Số học sinh lớp 9 đầu năm học, trừ học sinh chuyển đi",
        "Đầu năm học (mẫu số) và cuối năm học (tử số)"),
    Indicator(
        "grade9_dropouts", "Số học sinh lớp 9 bỏ học trong năm", "count",
        "Số học sinh lớp 9 có kết quả «Bỏ học» trong năm học (kể cả học sinh chuyển đến). Các em "
        "không có trong mẫu số của (a), nên nêu riêng bên cạnh tỷ lệ hoàn thành.",
        SOURCE_NATIONAL, "Học sinh lớp 9 có kết quả «Bỏ học»", "—", "Cả năm học",
        in_progress="so_far"),
    Indicator(
        "completion_rate_apparent_cohort", "Tỷ lệ hoàn thành THCS theo khóa biểu kiến", "rate",
        "(b) Khóa biểu kiến (Tổng cục Thống kê): số học sinh hoàn thành chương trình THCS năm "
        "t chia cho số học sinh lớp 6 đầu năm học t−3. Không theo dõi từng học sinh: học sinh "
        "chuyển đến, chuyển đi và lưu ban làm tỷ lệ lệch, có thể vượt 100 %.",
        SOURCE_NATIONAL, "Học sinh hoàn thành chương trình THCS năm t",
        "Số học sinh lớp 6 đầu năm học t−3", "Cuối năm học t; đầu năm học t−3"),
    Indicator(
        "completion_rate_true_cohort", "Tỷ lệ hoàn thành THCS đúng hạn theo khóa thực", "rate",
        "(c) Khóa thực, theo mã học sinh: trong các học sinh vào lớp 6 lần đầu năm học t−3 (trừ "
        "học sinh đã chuyển trường đi đến hết năm t), tỷ lệ được công nhận hoàn thành chương "
        "trình THCS đến hết năm học t (đúng 4 năm).",
        SOURCE_UIS, "Học sinh của khóa hoàn thành chương trình THCS đến hết năm học t",
        "Học sinh vào lớp 6 lần đầu năm học t−3, trừ học sinh chuyển đi",
        "Cuối năm học t; khóa vào lớp 6 năm học t−3"),
    Indicator(
        "completion_rate_true_cohort_later", "Tỷ lệ hoàn thành THCS theo khóa thực (kể cả muộn)",
        "rate",
        "(c′) Như (c) nhưng đếm cả học sinh hoàn thành muộn (sau khi lưu ban), đến năm học gần "
        "nhất có dữ liệu; mẫu số trừ mọi học sinh của khóa đã chuyển trường đi.",
        SOURCE_UIS, "Học sinh của khóa hoàn thành chương trình THCS ở bất kỳ năm nào có dữ liệu",
        "Học sinh vào lớp 6 lần đầu năm học t−3, trừ học sinh chuyển đi",
        "Năm học gần nhất có dữ liệu; khóa vào lớp 6 năm học t−3"),
]


def _completed(prep: pd.DataFrame) -> np.ndarray:
    return (prep["outcome"] == "completed").fillna(False).to_numpy(dtype=bool)


#: The pupil flags of (a) and of (b)'s counts (one definition for pandas and DuckDB).
GRADE9_FLAGS = {"g9_completed": F.LAST & F.ENDED & F.COMPLETED, "g9_end": F.LAST & F.ENDED,
                "g9_start_stayed": F.LAST & F.START & ~F.TRANSFERRED,
                "g9_dropped": F.LAST & F.DROPPED}
APPARENT_FLAGS = {"completed": F.COMPLETED, "g6_start": F.G6 & F.START}


def grade9_measures(prep: pd.DataFrame) -> list[Measure]:
    """(a) as flags: grade-9 completers ÷ grade-9 pupils at the end of the year."""
    return grade9_measures_of(F.values(GRADE9_FLAGS, F.PupilAtoms(prep)))


def grade9_measures_of(f: Mapping[str, np.ndarray]) -> list[Measure]:
    """(a) from the flags (pupil flags, or their sums per cell; ``sql.FLAG_SQL`` has the same
    flags in DuckDB)."""
    return [Measure("completion_rate_grade9", f["g9_completed"], f["g9_end"],
                    ("school", *EQUITY_DIMENSIONS), NO_GRADE9),
            Measure("completion_rate_grade9_start", f["g9_completed"],
                    f["g9_start_stayed"], ("school", *EQUITY_DIMENSIONS), NO_GRADE9_START),
            Measure("grade9_dropouts", f["g9_dropped"], None, ("school", *EQUITY_DIMENSIONS))]


def grade9(prep: pd.DataFrame) -> pd.DataFrame:
    """(a) grade-9 completers ÷ grade-9 pupils at the end of the year."""
    return aggregate(prep, grade9_measures(prep))


def _pupil_years(prep: pd.DataFrame) -> dict[str, list[int]]:
    years = years_present(prep)
    return {k: sorted(int(y) for y in v)
            for k, v in years.groupby("school_code")["year_start"]}


def apparent_cohort(prep: pd.DataFrame) -> pd.DataFrame:
    """(b) completers in year t ÷ grade-6 start-of-year enrolment in year t−3."""
    if prep.empty:
        return empty_table()
    counts = aggregate(prep, apparent_measures_of(F.values(APPARENT_FLAGS,
                                                           F.PupilAtoms(prep))))
    return apparent_rows(counts, _pupil_years(prep))


def apparent_measures_of(f: Mapping[str, np.ndarray]) -> list[Measure]:
    """The two counts of (b), from the flags (pupil flags, or their sums per cell)."""
    return [Measure("completers", f["completed"], None, COHORT_DIMENSIONS),
            Measure("g6_start", f["g6_start"], None, COHORT_DIMENSIONS)]


def apparent_rows(counts: pd.DataFrame, present: dict[str, list[int]]) -> pd.DataFrame:
    """(b) from the counts of :func:`apparent_measures_of` summed by :func:`.equity.aggregate`
    (other rows are ignored) and the start years with pupils of each school."""
    keys = ["school_code", "school_year", "dimension", "group"]
    num = counts[counts["indicator"] == "completers"][keys + ["numerator"]]
    den = counts[counts["indicator"] == "g6_start"][keys + ["numerator"]].rename(
        columns={"numerator": "denominator"})
    den["school_year"] = den["school_year"].map(
        lambda y: contract.year_label(contract.start_year(y) + 3))
    rows = num.merge(den, on=keys, how="left")
    rows["indicator"] = "completion_rate_apparent_cohort"
    cohort_missing = np.array([
        contract.start_year(y) - 3 not in present.get(s, []) for s, y in
        zip(rows["school_code"], rows["school_year"], strict=True)], dtype=bool)
    rows["denominator"] = rows["denominator"].fillna(0).where(~cohort_missing)
    ok = rows["denominator"] > 0
    rows["value"] = (rows["numerator"] / rows["denominator"]).where(ok)
    cohort_note = rows["school_year"].map(
        lambda y: f"Chưa có danh sách học sinh năm học "
                  f"{contract.year_label(contract.start_year(y) - 3)} (năm vào lớp 6 của khóa)")
    rows["note"] = np.where(cohort_missing, cohort_note, np.where(ok, "", NO_DATA))
    return tidy(rows)


def true_cohort(prep: pd.DataFrame, years: list[int] | None = None) -> pd.DataFrame:
    """(c) linked records: entrants to grade 6 in t−3 who completed by t (and ever).

    ``years``: the years t (start years) wanted; the cohorts of other years are skipped.
    """
    if prep.empty:
        return empty_table()
    is_g6 = (prep["grade"] == 6).fillna(False).to_numpy(dtype=bool)
    pupil, year = prep["pupil_school_key"].to_numpy(), prep["year_start"].to_numpy()
    rows_g6 = np.flatnonzero(is_g6)
    if not len(rows_g6):
        return empty_table()
    # each pupil's first grade-6 row: sort by pupil then year, keep the first of each pupil
    ordered = rows_g6[np.lexsort((year[rows_g6], pupil[rows_g6]))]
    first = np.r_[True, pupil[ordered][1:] != pupil[ordered][:-1]]
    entry = prep[["school_code", "year_start", *[dim_column(d) for d in COHORT_DIMENSIONS]]
                 ].iloc[ordered[first]]
    entry_pupil = pd.Series(pupil[ordered[first]], index=entry.index)
    if years is not None:
        wanted = np.isin(entry["year_start"].to_numpy() + 3, years)
        entry, entry_pupil = entry[wanted], entry_pupil[wanted]

    def first_year(mask: np.ndarray) -> pd.Series:
        if entry.empty:
            return pd.Series(np.nan, index=entry.index)
        by_pupil = pd.Series(year[mask]).groupby(pupil[mask]).min()
        return entry_pupil.map(by_pupil)

    entry = entry.assign(transfer_year=first_year(prep["transferred"].to_numpy()),
                         completion_year=first_year(_completed(prep)))
    target = entry["year_start"] + 3
    stayed = entry["transfer_year"].isna() | (entry["transfer_year"] > target)
    never_left = entry["transfer_year"].isna()
    on_time = (entry["completion_year"] <= target).fillna(False)
    ever = entry["completion_year"].notna()
    cohort = entry[["school_code", *[dim_column(d) for d in COHORT_DIMENSIONS]]].copy()
    labels = {y: contract.year_label(int(y)) for y in target.unique()}
    cohort["school_year"] = target.map(labels).astype("category")
    rows = aggregate(cohort, true_cohort_measures_of({
        "stayed_on_time": (stayed & on_time).to_numpy(), "stayed": stayed.to_numpy(),
        "never_left_ever": (never_left & ever).to_numpy(), "never_left": never_left.to_numpy()}))
    return true_cohort_rows(rows, _pupil_years(prep))


def true_cohort_measures_of(f: Mapping[str, np.ndarray]) -> list[Measure]:
    """(c) and (c′) from the entrants' flags (or their sums per cell), by the cohort's
    school, completion year t and labels: ``stayed`` (no transfer out up to t),
    ``stayed_on_time`` (and completed by t), ``never_left`` (never transferred out),
    ``never_left_ever`` (and completed in any year loaded)."""
    return [Measure("completion_rate_true_cohort", f["stayed_on_time"], f["stayed"],
                    COHORT_DIMENSIONS),
            Measure("completion_rate_true_cohort_later", f["never_left_ever"], f["never_left"],
                    COHORT_DIMENSIONS)]


def true_cohort_rows(rows: pd.DataFrame, present: dict[str, list[int]]) -> pd.DataFrame:
    """(c)/(c′) rows summed by :func:`.equity.aggregate` → the years in the data, with their
    notes, and "no data" rows for the years whose cohort year is not in the data."""
    in_data = np.array([contract.start_year(y) in present.get(s, []) for s, y in
                        zip(rows["school_code"], rows["school_year"], strict=True)], dtype=bool)
    rows = rows[in_data].reset_index(drop=True)
    first = {s: ys[0] for s, ys in present.items()}
    last = {s: ys[-1] for s, ys in present.items()}
    cohort_start = rows["school_year"].map(contract.start_year) - 3
    first_year = rows["school_code"].map(first)
    caveat = np.where(
        cohort_start == first_year,
        "Năm học " + cohort_start.map(contract.year_label) + " là năm đầu có dữ liệu: học sinh "
        "lưu ban lớp 6 từ năm trước có thể bị tính như học sinh mới vào", "")
    later = rows["indicator"] == "completion_rate_true_cohort_later"
    until = np.where(later, "Tính đến năm học "
                     + rows["school_code"].map(last).map(contract.year_label), "")
    rows["note"] = join_notes(rows["note"], pd.Series(caveat), pd.Series(until))
    # Years in the data whose cohort year is not: say why there is no value.
    missing = []
    for school, years in present.items():
        for y in years:
            if y - 3 not in years:
                for key in ("completion_rate_true_cohort", "completion_rate_true_cohort_later"):
                    missing.append({
                        "school_code": school, "school_year": contract.year_label(y),
                        "indicator": key, "dimension": "school", "group": "Toàn trường",
                        "value": np.nan, "numerator": np.nan, "denominator": np.nan,
                        "note": f"Chưa có danh sách học sinh năm học "
                                f"{contract.year_label(y - 3)} (năm vào lớp 6 của khóa)"})
    if missing:
        rows = pd.concat([rows, tidy(missing)], ignore_index=True)
    return tidy(rows)


def compute(ds: Dataset, prep: pd.DataFrame | None = None,
            local: pd.DataFrame | None = None, with_grade9: bool = True) -> pd.DataFrame:
    """All completion indicators.  ``local``: the rows of the years asked (by default all of
    ``prep``); the cohort indicators read every year of ``prep``.  ``with_grade9=False``:
    without (a) (the caller sums :func:`grade9_measures` with other families')."""
    prep = prepare(ds.pupils) if prep is None else prep
    local = prep if local is None else local
    years = None
    if local is not prep:  # only the cohorts completing in the years of local
        years = [contract.start_year(y) for y in school_year_pairs(local)["school_year"]]
    parts = [grade9(local) if with_grade9 else empty_table(), apparent_cohort(prep),
             true_cohort(prep, years)]
    return pd.concat([p for p in parts if not p.empty] or [empty_table()], ignore_index=True)
