"""UNESCO pupil-flow rates and the reconstructed cohort model, from aggregate counts.

Three public functions:

* :func:`aggregate_from_pupils` turns the pupil register (one row per pupil per year, see
  ``CONTRIBUTING.md``) into the aggregate table the UNESCO method works on: start-of-year
  enrolment, repeaters and graduates by school year and grade.
* :func:`flow_rates` computes the promotion, repetition and dropout rates by grade from that
  table (the "reconstructed cohort" flow rates).
* :func:`reconstructed_cohort` runs a notional cohort (1 000 pupils by default) through the
  grades with one base year's rates, and returns survival by grade, graduates, dropouts, the
  coefficient of efficiency and the pupil-years spent.

Definitions follow UNESCO Institute for Statistics (UIS), *Education Indicators — Technical
Guidelines* (2009): "Promotion rate by grade", "Repetition rate by grade", "Dropout rate by
grade", "Survival rate by grade", "Coefficient of efficiency" and "Years input per graduate";
and the reconstructed cohort method as taught by UNESCO/IIEP (UNESCO, *Education for All: The
Year 2000 Assessment — Technical Guidelines*, 1998, section "Assessing internal efficiency by
means of cohort analysis"; UNESCO Bangkok, EFA training module A3, annex 3).

Everything a user may read (error messages, notes) is Vietnamese.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import contract
from .errors import LocsonError
from .numbers import NO_DATA

__all__ = [
    "CohortResult",
    "FLOW_TABLE_COLUMNS",
    "LINKED_COLUMNS",
    "aggregate_from_pupils",
    "best_flow_rates",
    "cohort_by_year",
    "flow_rates",
    "has_linked_records",
    "linked_flow_rates",
    "reconstructed_cohort",
    "unusable_reason",
]

#: Columns of the aggregate table (input of :func:`flow_rates`), besides an optional
#: ``school_code`` in front.
FLOW_TABLE_COLUMNS: tuple[str, ...] = (
    "school_year", "grade", "enrolment", "repeaters", "graduates",
)
_COUNT_COLUMNS = ("enrolment", "repeaters", "graduates")
_COUNT_LABELS = {
    "enrolment": "sĩ số đầu năm",
    "repeaters": "số học sinh lưu ban",
    "graduates": "số học sinh hoàn thành chương trình",
}
_RATE_LABELS = {"promotion": "tỉ lệ lên lớp", "repetition": "tỉ lệ lưu ban"}
#: Without a cap on repetitions the cohort is run until fewer than this share of it remains.
EXHAUSTED_SHARE = 1e-9
#: Safety net for the uncapped model: a repetition rate very close to 1 would keep pupils in a
#: grade for ever.
_MAX_YEARS = 200_000


# --------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------

def _raise_all(title: str, problems: list[str]) -> None:
    """Raise one LocsonError listing every problem (the standard: all problems at once)."""
    if not problems:
        return
    lines = [f"{title}: phát hiện {len(problems)} lỗi. Hãy sửa các lỗi sau:"]
    lines += [f"  {i}. {p}" for i, p in enumerate(problems, 1)]
    raise LocsonError("\n".join(lines))


def _show(value: object) -> str:
    """A value as the user would recognise it in a message."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _is_int_like(x: float) -> bool:
    return math.isfinite(x) and float(x).is_integer()


def _school_groups(df: pd.DataFrame) -> list[tuple[object, pd.DataFrame]]:
    """Split by ``school_code`` when the column is present; one group (key None) otherwise."""
    if "school_code" not in df.columns:
        return [(None, df)]
    return [(code, part) for code, part in df.groupby("school_code", sort=True, dropna=False)]


# --------------------------------------------------------------------------------------------
# flow_rates
# --------------------------------------------------------------------------------------------

def _validate_table(table: pd.DataFrame) -> pd.DataFrame:
    """Check the aggregate table and return a clean copy (numeric counts, int grades)."""
    title = "Không tính được tỉ lệ lên lớp, lưu ban, bỏ học"
    if not isinstance(table, pd.DataFrame):
        raise LocsonError(f"{title}: dữ liệu vào phải là một bảng (pandas DataFrame), "
                          f"nhận được {type(table).__name__}.")
    missing = [c for c in FLOW_TABLE_COLUMNS if c not in table.columns]
    if missing:
        names = ", ".join(f"«{c}»" for c in missing)
        raise LocsonError(
            f"{title}: bảng số liệu thiếu cột {names}. Cần đủ các cột "
            + ", ".join(f"«{c}»" for c in FLOW_TABLE_COLUMNS)
            + " (cột «graduates» chỉ cần có số ở khối cuối cấp).")
    if table.empty:
        raise LocsonError(f"{title}: bảng số liệu không có dòng nào.")

    df = table.reset_index(drop=True).copy()
    problems: list[str] = []

    def where(i: int) -> str:
        year, grade = df.at[i, "school_year"], df.at[i, "grade"]
        school = (f"trường {df.at[i, 'school_code']}, " if "school_code" in df.columns else "")
        return f"dòng {i + 1} ({school}năm học «{_show(year)}», khối «{_show(grade)}»)"

    # school_year: "2024-2025"
    years_ok = pd.Series(False, index=df.index)
    for i, year in df["school_year"].items():
        text = "" if pd.isna(year) else str(year).strip()
        if text and contract.parse_school_year(text) == text:
            df.at[i, "school_year"] = text
            years_ok[i] = True
        else:
            problems.append(f"{where(i)}, cột «school_year»: giá trị «{_show(year)}» không phải "
                            "năm học; cần dạng «2024-2025» (hai năm liền nhau).")

    # grade: a whole number
    grade_num = pd.to_numeric(df["grade"], errors="coerce").astype("float64")
    grades_ok = pd.Series(False, index=df.index)
    for i, g in grade_num.items():
        if pd.isna(g) or not _is_int_like(float(g)):
            problems.append(f"{where(i)}, cột «grade»: giá trị «{_show(df.at[i, 'grade'])}» "
                            "không phải khối lớp; cần một số nguyên (ví dụ 6).")
        else:
            grades_ok[i] = True

    # counts: empty (no data) or a whole number >= 0
    counts: dict[str, pd.Series] = {}
    for col in _COUNT_COLUMNS:
        raw = df[col]
        num = pd.to_numeric(raw, errors="coerce").astype("float64")
        for i, x in num.items():
            given = raw.iloc[i]
            if pd.isna(x):
                if not pd.isna(given) and str(given).strip() != "":
                    problems.append(f"{where(i)}, cột «{col}» ({_COUNT_LABELS[col]}): giá trị "
                                    f"«{given}» không phải là số; cần một số nguyên không âm.")
                continue
            if x < 0:
                problems.append(f"{where(i)}, cột «{col}» ({_COUNT_LABELS[col]}): giá trị "
                                f"«{_show(float(x))}» là số âm; cần một số nguyên không âm.")
            elif not _is_int_like(float(x)):
                problems.append(f"{where(i)}, cột «{col}» ({_COUNT_LABELS[col]}): giá trị "
                                f"«{_show(float(x))}» không phải số nguyên; cần số học sinh "
                                "(số nguyên không âm, không dùng dấu chấm phân cách hàng nghìn).")
        counts[col] = num
    enr, rep = counts["enrolment"], counts["repeaters"]
    too_many = (rep > enr) & enr.notna() & rep.notna() & (enr >= 0) & (rep >= 0)
    for i in df.index[too_many]:
        problems.append(f"{where(i)}: số học sinh lưu ban («repeaters» = {_show(rep[i])}) lớn "
                        f"hơn sĩ số đầu năm («enrolment» = {_show(enr[i])}); học sinh lưu ban "
                        "là một phần của sĩ số nên không thể nhiều hơn.")

    # duplicates of (school, year, grade)
    key_cols = (["school_code"] if "school_code" in df.columns else []) + ["school_year"]
    ok = years_ok & grades_ok
    keyed = df.loc[ok, key_cols].copy()
    keyed["grade"] = grade_num[ok].astype("int64")
    dup = keyed.duplicated(keep=False)
    if dup.any():
        for _, rows in keyed[dup].groupby(list(keyed.columns), sort=True):
            numbers = ", ".join(str(i + 1) for i in rows.index)
            first = rows.index[0]
            school = (f"trường {df.at[first, 'school_code']}, "
                      if "school_code" in df.columns else "")
            problems.append(f"các dòng {numbers} trùng nhau (cùng {school}năm học "
                            f"«{keyed.at[first, 'school_year']}», khối "
                            f"«{keyed.at[first, 'grade']}»); mỗi năm học và khối chỉ được có "
                            "một dòng.")

    # grades must form a contiguous range (per school)
    for code, part in _school_groups(keyed):
        present = sorted(set(part["grade"].tolist()))
        if present and present != list(range(present[0], present[-1] + 1)):
            gap = sorted(set(range(present[0], present[-1] + 1)) - set(present))
            school = f"trường {code}: " if code is not None else ""
            problems.append(f"{school}các khối trong bảng ({', '.join(map(str, present))}) không "
                            f"liên tục, thiếu khối {', '.join(map(str, gap))}; cần đủ các khối "
                            "từ khối đầu đến khối cuối cấp.")

    _raise_all(title, problems)

    df["grade"] = grade_num.astype("int64")
    for col in _COUNT_COLUMNS:
        df[col] = counts[col]
    return df


def flow_rates(table: pd.DataFrame) -> pd.DataFrame:
    """Promotion, repetition and dropout rates by grade (UNESCO aggregate-count method).

    ``table`` has one row per school year and grade with the columns ``school_year``
    ("2024-2025"), ``grade``, ``enrolment`` (start-of-year enrolment), ``repeaters`` (pupils of
    that year enrolled in the same grade as the year before) and ``graduates`` (only used in the
    last grade; elsewhere leave it empty — a value there is checked as a count but not used).
    An optional ``school_code`` column splits the table by school.  The grades are those of the
    table: any contiguous range (6–9 for a lower-secondary school, 1–5 for a primary one); the
    last of them is the final grade.

    For base year *t* and grade *g*, with *E* enrolment, *R* repeaters, *G* graduates
    (UIS, Education Indicators Technical Guidelines, 2009)::

        promotion_g  = (E[g+1, t+1] - R[g+1, t+1]) / E[g, t]
        promotion_g  = G[t] / E[g, t]                  (last grade: graduation)
        repetition_g = R[g, t+1] / E[g, t]
        dropout_g    = 1 - promotion_g - repetition_g

    Rates need year *t+1*: a base year appears in the result only when the following school
    year is in the table, so **the last year of the table has no rates** (nor does a year
    followed by a gap).  A zero or missing denominator, or a missing count, gives NaN with the
    reason in ``note`` (Vietnamese), never 0 and never an error.  Rates are not clipped: pupils
    arriving between years can push a promotion rate above 1 and the dropout rate below 0,
    which is the method's known limitation (it assumes no transfers), so look at the counts.

    Returns one row per (school,) base year and grade: ``[school_code,] school_year, grade,
    enrolment, promotion, repetition, dropout, note`` — ``enrolment`` is *E[g, t]* so callers can
    weight grades.  Invalid input (missing column, non-numeric or negative counts, repeaters
    above enrolment, duplicate year-grade rows, a gap in the grades) raises
    :class:`~locson_analysis.errors.LocsonError` listing every problem in Vietnamese.
    """
    df = _validate_table(table)
    has_school = "school_code" in df.columns
    out: list[dict[str, object]] = []
    for code, part in _school_groups(df):
        grades = sorted(set(part["grade"].tolist()))
        grades = list(range(grades[0], grades[-1] + 1))
        last = grades[-1]
        cells = part.set_index(["school_year", "grade"])
        years = sorted(set(part["school_year"]), key=contract.start_year)

        def get(year: str, grade: int, col: str, cells: pd.DataFrame = cells) -> float:
            if (year, grade) not in cells.index:
                return math.nan
            return float(cells.at[(year, grade), col])

        for t in years:
            t1 = contract.next_year(t)
            if t1 not in years:
                continue
            for g in grades:
                e = get(t, g, "enrolment")
                if g < last:
                    promoted = get(t1, g + 1, "enrolment") - get(t1, g + 1, "repeaters")
                else:
                    promoted = get(t, g, "graduates")
                repeated = get(t1, g, "repeaters")
                note = ""
                if math.isnan(e):
                    note = f"{NO_DATA}: không có dòng khối {g} năm học {t}."
                elif e == 0:
                    note = f"{NO_DATA}: sĩ số đầu năm khối {g} năm học {t} bằng 0."
                if note:
                    p = r = math.nan
                else:
                    p, r = promoted / e, repeated / e
                    missing = []
                    if math.isnan(promoted):
                        missing.append(f"số học sinh hoàn thành chương trình năm học {t}"
                                       if g == last else
                                       f"sĩ số hoặc số lưu ban khối {g + 1} năm học {t1}")
                    if math.isnan(repeated):
                        missing.append(f"sĩ số hoặc số lưu ban khối {g} năm học {t1}")
                    if missing:
                        note = f"{NO_DATA}: thiếu " + "; ".join(missing) + "."
                row: dict[str, object] = {"school_code": code} if has_school else {}
                row.update(school_year=t, grade=g, enrolment=e, promotion=p, repetition=r,
                           dropout=1.0 - p - r, note=note)
                out.append(row)
    cols = (["school_code"] if has_school else []) + [
        "school_year", "grade", "enrolment", "promotion", "repetition", "dropout", "note"]
    result = pd.DataFrame(out, columns=cols)
    result["grade"] = result["grade"].astype("int64")
    for c in ("enrolment", "promotion", "repetition", "dropout"):
        result[c] = result[c].astype("float64")
    return result


# --------------------------------------------------------------------------------------------
# reconstructed_cohort
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CohortResult:
    """The outcome of a reconstructed cohort (all counts are pupils of the notional cohort).

    survival:           share of the cohort that ever reaches each grade (Series indexed by
                        grade; 1.0 for the first grade)
    graduates:          pupils who complete the last grade
    dropouts:           pupils who leave without completing (including, with ``max_repeats``,
                        those who would have repeated beyond the cap)
    efficiency:         coefficient of efficiency, 0–1: graduates × number of grades ÷ pupil-years
    years_per_graduate: pupil-years ÷ graduates (NaN when nobody graduates)
    pupil_years:        total pupil-years spent by the cohort (graduates and dropouts)
    """

    survival: pd.Series
    graduates: float
    dropouts: float
    efficiency: float
    years_per_graduate: float
    pupil_years: float
    cohort: int
    max_repeats: int | None
    school_year: str | None = None


def _validate_rates(rates: pd.DataFrame) -> tuple[list[int], np.ndarray, np.ndarray,
                                                  str | None]:
    title = "Không dựng được mô hình nhóm học sinh (reconstructed cohort)"
    if not isinstance(rates, pd.DataFrame):
        raise LocsonError(f"{title}: dữ liệu vào phải là một bảng (pandas DataFrame), "
                          f"nhận được {type(rates).__name__}.")
    needed = ("grade", "promotion", "repetition")
    missing = [c for c in needed if c not in rates.columns]
    if missing:
        raise LocsonError(f"{title}: bảng tỉ lệ thiếu cột "
                          + ", ".join(f"«{c}»" for c in missing)
                          + "; cần các cột «grade», «promotion», «repetition» (kết quả của "
                          "flow_rates cho một năm học).")
    if rates.empty:
        raise LocsonError(f"{title}: bảng tỉ lệ không có dòng nào.")
    problems: list[str] = []
    for col, what in (("school_year", "năm học"), ("school_code", "trường")):
        if col in rates.columns:
            values = sorted(rates[col].dropna().astype(str).unique())
            if len(values) > 1:
                problems.append(f"cột «{col}»: bảng có nhiều {what} ({', '.join(values)}); cần "
                                f"tỉ lệ của đúng một {what} (lọc bảng trước khi gọi).")
    df = rates.reset_index(drop=True)
    grade = pd.to_numeric(df["grade"], errors="coerce").astype("float64")
    bad_grade = [i for i, g in grade.items() if pd.isna(g) or not _is_int_like(float(g))]
    for i in bad_grade:
        problems.append(f"dòng {i + 1}, cột «grade»: giá trị «{_show(df.at[i, 'grade'])}» không "
                        "phải khối lớp; cần một số nguyên.")
    if not bad_grade:
        gs = grade.astype("int64")
        dups = sorted(set(gs[gs.duplicated()].tolist()))
        if dups:
            problems.append(f"cột «grade»: khối {', '.join(map(str, dups))} xuất hiện nhiều lần; "
                            "cần đúng một dòng mỗi khối.")
        present = sorted(set(gs.tolist()))
        if present != list(range(present[0], present[-1] + 1)):
            gap = sorted(set(range(present[0], present[-1] + 1)) - set(present))
            problems.append(f"cột «grade»: các khối không liên tục, thiếu khối "
                            f"{', '.join(map(str, gap))}.")
    num = {c: pd.to_numeric(df[c], errors="coerce").astype("float64")
           for c in ("promotion", "repetition")}
    tol = 1e-9
    for i in df.index:
        label = f"dòng {i + 1} (khối «{_show(df.at[i, 'grade'])}»)"
        vals = {}
        for c in ("promotion", "repetition"):
            x = num[c][i]
            if pd.isna(x):
                problems.append(f"{label}, cột «{c}» ({_RATE_LABELS[c]}): «{df.at[i, c]}» — "
                                f"{NO_DATA.lower()}; cần một tỉ lệ từ 0 đến 1.")
            elif not (-tol <= x <= 1 + tol):
                problems.append(f"{label}, cột «{c}» ({_RATE_LABELS[c]}): giá trị «{x:g}» nằm "
                                "ngoài khoảng 0–1; cần một tỉ lệ từ 0 đến 1 (kiểm tra lại số "
                                "liệu: học sinh chuyển đến có thể làm tỉ lệ vượt 1).")
            else:
                vals[c] = x
        if len(vals) == 2 and vals["promotion"] + vals["repetition"] > 1 + tol:
            problems.append(f"{label}: tỉ lệ lên lớp + tỉ lệ lưu ban = "
                            f"{vals['promotion'] + vals['repetition']:g} lớn hơn 1 (tỉ lệ bỏ "
                            "học âm); mô hình cần tổng không vượt quá 1.")
    _raise_all(title, problems)
    order = np.argsort(grade.to_numpy())
    grades = [int(g) for g in grade.to_numpy()[order]]
    p = np.clip(num["promotion"].to_numpy()[order], 0.0, 1.0)
    r = np.clip(num["repetition"].to_numpy()[order], 0.0, 1.0)
    r = np.minimum(r, 1.0 - p)  # absorb rounding (p + r within 1e-9 of 1)
    year = None
    if "school_year" in rates.columns and rates["school_year"].notna().any():
        year = str(rates["school_year"].dropna().iloc[0])
    return grades, p, r, year


def reconstructed_cohort(rates: pd.DataFrame, cohort: int = 1000,
                         max_repeats: int | None = None) -> CohortResult:
    """Run a notional cohort through the grades with constant flow rates (UNESCO/IIEP).

    ``rates`` holds one base year of :func:`flow_rates` (one row per grade; columns ``grade``,
    ``promotion``, ``repetition``; the dropout rate is taken as 1 − promotion − repetition).
    ``cohort`` pupils enter the first grade together.  Each year, of the pupils in grade *g*, the
    share ``promotion`` moves to grade *g+1* (from the last grade: graduates), ``repetition``
    stays in *g* for another year, and the rest drop out.  The usual assumptions of the
    reconstructed cohort method hold: no new entrants after the first year, no re-entry of
    dropouts, the same rates whatever year the pupil reached the grade and however often they
    have repeated, and the rates stay constant over the life of the cohort.

    Pupils are tracked by grade *and* by the number of repetitions they have made so far, so
    the cap is exact:

    * ``max_repeats=None``: no cap; the cohort runs until fewer than ``EXHAUSTED_SHARE`` (1e-9)
      of it is still in school.  That remainder is counted with the dropouts, so
      ``graduates + dropouts == cohort``.  A repetition rate of 1 (pupils never leave the grade)
      is refused: set a cap.
    * ``max_repeats=k``: a pupil may repeat at most *k* times in the whole cycle (all grades
      together).  A pupil who has already repeated *k* times and would repeat again leaves the
      cohort and is **counted as a dropout** (the year just spent is counted in pupil-years).
      The reconstructed cohort model as presented by UNESCO and IIEP (UNESCO, EFA 2000
      Assessment Technical Guidelines, 1998, "Assessing internal efficiency by means of cohort
      analysis"; UNESCO Bangkok, EFA training module A3, annex 3; UIS, Education Indicators
      Technical Guidelines, 2009, "Coefficient of efficiency") commonly fixes a maximum number
      of repetitions (e.g. 2).  Our convention: the cap counts repetitions over the whole
      cycle, and a would-be repeater beyond it leaves school as a dropout.  With a cap
      the simulation ends exactly (after at most grades + k years).

    Coefficient of efficiency = graduates × number of grades ÷ pupil-years spent by the whole
    cohort (graduates and dropouts); 1 when every pupil is promoted every year, 0 when nobody
    graduates.  Years per graduate = pupil-years ÷ graduates (NaN when nobody graduates).
    """
    if isinstance(cohort, bool) or not isinstance(cohort, (int, np.integer)) or cohort <= 0:
        raise LocsonError(f"Cỡ nhóm học sinh (cohort) «{cohort}» không hợp lệ; cần một số "
                          "nguyên dương, ví dụ 1000.")
    if max_repeats is not None and (isinstance(max_repeats, bool)
                                    or not isinstance(max_repeats, (int, np.integer))
                                    or max_repeats < 0):
        raise LocsonError(f"Số lần lưu ban tối đa (max_repeats) «{max_repeats}» không hợp lệ; "
                          "cần None (không giới hạn) hoặc một số nguyên không âm, ví dụ 2.")
    grades, p, r, year = _validate_rates(rates)
    capped = max_repeats is not None
    if not capped and np.any(r >= 1.0):
        stuck = ", ".join(str(g) for g, x in zip(grades, r, strict=True) if x >= 1.0)
        raise LocsonError(f"Tỉ lệ lưu ban khối {stuck} bằng 100 %: học sinh không bao giờ rời "
                          "khối nên mô hình không kết thúc. Hãy đặt số lần lưu ban tối đa "
                          "(max_repeats), ví dụ 2.")
    d = 1.0 - p - r
    n_grades = len(grades)
    depth = (int(max_repeats) if capped else 0) + 1
    # state[g, k]: pupils in grade g (0-based) who have repeated k times so far.
    state = np.zeros((n_grades, depth))
    state[0, 0] = float(cohort)
    entered = np.zeros(n_grades)
    entered[0] = float(cohort)
    graduates = dropouts = pupil_years = 0.0
    threshold = EXHAUSTED_SHARE * cohort
    years = 0
    while True:
        in_school = float(state.sum())
        if in_school == 0.0 or (not capped and in_school < threshold):
            break
        years += 1
        if years > _MAX_YEARS:
            limit = f"{_MAX_YEARS:,}".replace(",", ".")  # Vietnamese thousands separator
            raise LocsonError(f"Tỉ lệ lưu ban quá gần 100 %: mô hình không kết thúc sau {limit} "
                              "năm. Hãy đặt số lần lưu ban tối đa (max_repeats), ví dụ 2.")
        pupil_years += in_school
        promoted = state * p[:, None]
        repeating = state * r[:, None]
        dropouts += float((state * d[:, None]).sum())
        graduates += float(promoted[-1].sum())
        new = np.zeros_like(state)
        new[1:] += promoted[:-1]
        entered[1:] += promoted[:-1].sum(axis=1)
        if capped:
            new[:, 1:] += repeating[:, :-1]
            dropouts += float(repeating[:, -1].sum())  # would exceed the cap: leaves
        else:
            new[:, 0] += repeating[:, 0]
        state = new
    dropouts += float(state.sum())  # uncapped: the remainder below EXHAUSTED_SHARE
    survival = pd.Series(entered / cohort, index=pd.Index(grades, name="grade"),
                         name="survival")
    return CohortResult(
        survival=survival,
        graduates=graduates,
        dropouts=dropouts,
        efficiency=graduates * n_grades / pupil_years,
        years_per_graduate=pupil_years / graduates if graduates > 0 else math.nan,
        pupil_years=pupil_years,
        cohort=int(cohort),
        max_repeats=None if max_repeats is None else int(max_repeats),
        school_year=year,
    )


# --------------------------------------------------------------------------------------------
# aggregate_from_pupils
# --------------------------------------------------------------------------------------------


#: The pupil columns the flows from linked records read.
PUPIL_FLOW_COLUMNS = ("school_year", "pupil_id", "grade", "entry_date", "outcome")


def _require_pupil_columns(pupils: pd.DataFrame, title: str) -> None:
    missing = [c for c in PUPIL_FLOW_COLUMNS if c not in pupils.columns]
    if missing:
        raise LocsonError(f"{title}: thiếu cột " + ", ".join(f"«{c}»" for c in missing)
                          + "; cần các cột " + ", ".join(f"«{c}»" for c in PUPIL_FLOW_COLUMNS)
                          + ".")

def aggregate_from_pupils(pupils: pd.DataFrame) -> pd.DataFrame:
    """Build the :func:`flow_rates` input table from the pupil register.

    ``pupils`` has one row per pupil per school year with at least ``school_year``,
    ``pupil_id``, ``grade``, ``entry_date`` and ``outcome`` (see ``CONTRIBUTING.md``); with a
    ``school_code`` column the table is built per school and keeps that column.

    * ``enrolment`` (year *t*, grade *g*): pupils in grade *g* in *t* who were there when the
      year began (``entry_date`` is NaT; later arrivals are not start-of-year enrolment).
    * ``repeaters`` (*t*, *g*): of those start-of-year pupils, the ones whose record for the
      previous year (same ``pupil_id``, same school) is in the same grade *g* — every pupil
      marked ``repeating`` in *g* in *t−1* who is back in *g*, plus any pupil found in the same
      grade two years running whatever the outcome says (UIS: a repeater is a pupil enrolled
      in the same grade as the previous year).  NaN when year *t−1* is not in the data.
    * ``graduates`` (*t*, last grade): pupils of the last grade with outcome ``completed``;
      NaN in the other grades, and NaN for a year still in progress (any outcome
      ``in_progress``), since its results are not known yet.

    The grades are the school's grades (``contract.GRADES``, 6–9) when the data fit in them,
    otherwise the range from the lowest to the highest grade found; every year of the school
    gets every grade (enrolment 0 when nobody is in it).
    """
    title = "Không lập được bảng số liệu lưu chuyển từ danh sách học sinh"
    if not isinstance(pupils, pd.DataFrame):
        raise LocsonError(f"{title}: dữ liệu vào phải là một bảng (pandas DataFrame).")
    _require_pupil_columns(pupils, title)
    has_school = "school_code" in pupils.columns
    cols = (["school_code"] if has_school else []) + list(FLOW_TABLE_COLUMNS)
    if pupils.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in cols})

    df = pupils.reset_index(drop=True)
    grade = pd.to_numeric(df["grade"], errors="coerce").astype("float64")
    problems = [f"dòng {i + 1}, cột «grade»: giá trị «{_show(df.at[i, 'grade'])}» không phải "
                "khối lớp; cần một số nguyên (ví dụ 6)."
                for i, g in grade.items() if pd.isna(g) or not _is_int_like(float(g))]
    problems += [f"dòng {i + 1}, cột «school_year»: giá trị «{y}» không phải năm học; cần dạng "
                 "«2024-2025»." for i, y in df["school_year"].items()
                 if pd.isna(y) or contract.parse_school_year(str(y)) != str(y).strip()]
    _raise_all(title, problems)

    work = pd.DataFrame({
        "school_code": df["school_code"] if has_school else None,
        "school_year": df["school_year"].astype(str).str.strip(),
        "pupil_id": df["pupil_id"],
        "grade": grade.astype("int64"),
        "at_start": df["entry_date"].isna(),
        "outcome": df["outcome"],
    })
    out: list[dict[str, object]] = []
    for code, part in _school_groups(work if has_school else work.drop(columns="school_code")):
        found = set(part["grade"].tolist())
        if found <= set(contract.GRADES):
            grades = list(contract.GRADES)
        else:
            grades = list(range(min(found), max(found) + 1))
        last = grades[-1]
        years = sorted(set(part["school_year"]), key=contract.start_year)
        by_year = {y: part[part["school_year"] == y] for y in years}
        for y in years:
            cur = by_year[y]
            start = cur[cur["at_start"]]
            prev_year = contract.previous_year(y)
            prev = by_year.get(prev_year)
            in_progress = bool((cur["outcome"] == "in_progress").any())
            for g in grades:
                here = start[start["grade"] == g]
                if prev is None:
                    repeaters = math.nan
                else:
                    before: set[Hashable] = set(
                        prev.loc[prev["grade"] == g, "pupil_id"].dropna().tolist())
                    repeaters = float(here["pupil_id"].isin(before).sum())
                if g != last:
                    graduates = math.nan
                elif in_progress:
                    graduates = math.nan
                else:
                    graduates = float(((cur["grade"] == g)
                                       & (cur["outcome"] == "completed")).sum())
                row: dict[str, object] = {"school_code": code} if has_school else {}
                row.update(school_year=y, grade=g, enrolment=len(here), repeaters=repeaters,
                           graduates=graduates)
                out.append(row)
    result = pd.DataFrame(out, columns=cols)
    result["grade"] = result["grade"].astype("int64")
    result["enrolment"] = result["enrolment"].astype("int64")
    result["repeaters"] = result["repeaters"].astype("float64")
    result["graduates"] = result["graduates"].astype("float64")
    return result


# --------------------------------------------------------------------------------------------
# linked_flow_rates: the same rates from each pupil's own record (closed cohort)
# --------------------------------------------------------------------------------------------

#: Columns of :func:`linked_flow_rates` (after an optional ``school_code``).
LINKED_COLUMNS: tuple[str, ...] = (
    "school_year", "grade", "enrolment", "transfers_out", "cohort", "promoted", "repeated",
    "dropped", "arrivals_next_year", "promotion", "repetition", "dropout", "method", "note")
METHOD_LINKED = "Theo mã học sinh (từng em)"
METHOD_AGGREGATE = "Từ số tổng hợp (UNESCO)"


def _linked_part(part: pd.DataFrame, code: object, has_school: bool) -> list[dict[str, object]]:
    found = set(part["grade"].tolist())
    grades = list(contract.GRADES) if found <= set(contract.GRADES) else list(
        range(min(found), max(found) + 1))
    last = grades[-1]
    years = sorted(set(part["school_year"]), key=contract.start_year)
    by_year = {y: part[part["school_year"] == y] for y in years}
    out: list[dict[str, object]] = []
    for t in years:
        t1 = contract.next_year(t)
        if t1 not in by_year:
            continue
        cur, nxt = by_year[t], by_year[t1]
        if (cur["outcome"] == "in_progress").any():
            continue  # the year's outcomes are not known yet
        next_grade = nxt.drop_duplicates("pupil_id").set_index("pupil_id")["grade"]
        for g in grades:
            start = cur[cur["at_start"] & (cur["grade"] == g)]
            moved = start["outcome"] == "transferred_out"
            stay = start[~moved]
            later = stay["pupil_id"].map(next_grade)
            completed = (stay["outcome"] == "completed").to_numpy()
            if g == last:
                promoted = int(completed.sum())
                repeated = int(((later == g).to_numpy() & ~completed).sum())
            else:
                promoted = int((later == g + 1).sum())
                repeated = int((later == g).sum())
            n = len(stay)
            dropped = n - promoted - repeated
            came_from = set(stay["pupil_id"].tolist())
            if g == last:
                arrivals = 0
            else:
                arrivals = int((~nxt.loc[nxt["grade"] == g + 1, "pupil_id"].isin(
                    came_from | set(cur.loc[cur["grade"] == g + 1, "pupil_id"]))).sum())
            note = "" if n else (f"{NO_DATA}: khối {g} năm học {t} không có học sinh đầu năm "
                                 "ở lại trường đến cuối năm.")
            row: dict[str, object] = {"school_code": code} if has_school else {}
            row.update(school_year=t, grade=g, enrolment=len(start),
                       transfers_out=int(moved.sum()), cohort=n, promoted=promoted,
                       repeated=repeated, dropped=dropped, arrivals_next_year=arrivals,
                       promotion=promoted / n if n else math.nan,
                       repetition=repeated / n if n else math.nan,
                       dropout=dropped / n if n else math.nan, method=METHOD_LINKED, note=note)
            out.append(row)
    return out


def linked_flow_rates(pupils: pd.DataFrame) -> pd.DataFrame:
    """Promotion, repetition and dropout rates by grade from each pupil's linked records.

    The UNESCO method assumes a closed cohort; with pupil IDs the school's own records give
    one.  For base year *t* and grade *g*: the pupils in *g* at the start of *t* (no
    ``entry_date``), less those who transferred out during *t* (``transfers_out``; a transfer
    is not a dropout), form the ``cohort``.  Each is followed by ``pupil_id`` to *t+1* at the
    same school: in *g+1* → promoted, in *g* again → repeated, not there → dropped out (during
    the year or over the summer).  In the last grade, "promoted" is completing the programme
    (outcome ``completed`` in *t*).  Pupils who arrive in *g+1* in *t+1* from elsewhere
    (``arrivals_next_year``) are counted apart and enter no rate, so promotion + repetition +
    dropout = 1 and every rate is between 0 and 1 — the aggregate method's rates above 1 do
    not occur.  Needs year *t+1* in the data and *t* finished.

    Columns: :data:`LINKED_COLUMNS` (``enrolment`` = start-of-year pupils before removing
    transfers), with ``school_code`` in front when the pupils have it.
    """
    title = "Không tính được tỉ lệ lưu chuyển theo mã học sinh"
    _require_pupil_columns(pupils, title)
    has_school = "school_code" in pupils.columns
    cols = (["school_code"] if has_school else []) + list(LINKED_COLUMNS)
    df = pupils[pupils["pupil_id"].notna() & pupils["grade"].notna()]
    work = pd.DataFrame({
        "school_code": df["school_code"].astype("str") if has_school else None,
        "school_year": df["school_year"].astype("str").str.strip(),
        "pupil_id": df["pupil_id"].astype("str"),
        "grade": pd.to_numeric(df["grade"], errors="coerce").astype("int64"),
        "at_start": df["entry_date"].isna().to_numpy(),
        "outcome": df["outcome"].astype("object"),
    })
    out: list[dict[str, object]] = []
    for code, part in _school_groups(work if has_school else work.drop(columns="school_code")):
        out += _linked_part(part, code, has_school)
    result = pd.DataFrame(out, columns=cols)
    for c in ("promotion", "repetition", "dropout"):
        result[c] = result[c].astype("float64")
    return result


def has_linked_records(pupils: pd.DataFrame) -> bool:
    """Do the pupils carry IDs that link their records across years (every row has one)?"""
    return ("pupil_id" in pupils.columns and len(pupils) > 0
            and bool(pupils["pupil_id"].notna().all()))


def best_flow_rates(pupils: pd.DataFrame) -> pd.DataFrame:
    """The flow rates the cohort model should run on: :func:`linked_flow_rates` when every
    pupil has an ID, else the aggregate method (:func:`flow_rates` of
    :func:`aggregate_from_pupils`) with ``method`` = "Từ số tổng hợp (UNESCO)"."""
    if has_linked_records(pupils):
        return linked_flow_rates(pupils)
    rates = flow_rates(aggregate_from_pupils(pupils))
    rates["method"] = METHOD_AGGREGATE
    return rates


def _pct_words(x: float) -> str:
    return f"{x * 100:.1f}".replace(".", ",") + " %"


def unusable_reason(rates: pd.DataFrame) -> str:
    """Why one base year's rates cannot run the cohort model, in full Vietnamese sentences
    ("" when they can): every grade with a missing rate, or a rate outside 0–1, is named with
    its value and what causes it."""
    reasons = []
    for _, r in rates.sort_values("grade").iterrows():
        g, p, rep = int(r["grade"]), float(r["promotion"]), float(r["repetition"])
        if math.isnan(p) or math.isnan(rep):
            why = str(r.get("note", "") or "").strip() or f"{NO_DATA}."
            reasons.append(f"khối {g} chưa có tỉ lệ ({why.rstrip('.')})")
        elif p > 1 or p + rep > 1:
            reasons.append(
                f"khối {g} có tỉ lệ lên lớp {_pct_words(p)} và tỉ lệ lưu ban {_pct_words(rep)}, "
                f"cộng lại vượt 100 % — vì học sinh chuyển đến trường (trong năm hoặc giữa hai "
                f"năm học) được đếm như học sinh của khối từ đầu, trong khi phương pháp giả "
                f"định không có ai chuyển đến hay chuyển đi")
    if not reasons:
        return ""
    year = str(rates["school_year"].iloc[0]) if "school_year" in rates.columns else ""
    text = (f"Năm học {year} không dùng được làm năm gốc cho mô hình khóa học tái tạo: "
            + "; ".join(reasons) + ".")
    if any("chuyển đến" in r for r in reasons):
        text += (" Khi danh sách học sinh có mã học sinh, tỉ lệ được tính theo từng em, tách "
                 "riêng học sinh chuyển đến và chuyển đi, và năm học này dùng được.")
    return text


def cohort_by_year(rates: pd.DataFrame, cohort: int = 1000,
                   max_repeats: int | None = None) -> pd.DataFrame:
    """Run :func:`reconstructed_cohort` on every base year of ``rates`` (one school).

    One row per base year, latest first: ``school_year, usable, reason`` (a full Vietnamese
    sentence when not usable, see :func:`unusable_reason`), ``graduates, dropouts,
    efficiency, years_per_graduate`` (NaN when not usable) and ``method``.
    """
    out = []
    for year in sorted(rates["school_year"].unique(), key=contract.start_year, reverse=True):
        base = rates[rates["school_year"] == year]
        reason = unusable_reason(base)
        rec: dict[str, object] = {"school_year": year, "usable": not reason, "reason": reason,
                                  "graduates": math.nan, "dropouts": math.nan,
                                  "efficiency": math.nan, "years_per_graduate": math.nan,
                                  "method": str(base["method"].iloc[0])
                                  if "method" in base.columns else METHOD_AGGREGATE}
        if not reason:
            res = reconstructed_cohort(base[["school_year", "grade", "promotion", "repetition"]],
                                       cohort, max_repeats)
            rec.update(graduates=res.graduates, dropouts=res.dropouts,
                       efficiency=res.efficiency, years_per_graduate=res.years_per_graduate)
        out.append(rec)
    return pd.DataFrame(out, columns=["school_year", "usable", "reason", "graduates",
                                      "dropouts", "efficiency", "years_per_graduate",
                                      "method"])
