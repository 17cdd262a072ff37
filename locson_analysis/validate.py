"""Check one school year's canonical tables: pandera schemas and whole-year rules.

Every failure becomes a :class:`~locson_analysis.errors.Problem` that points at the file, sheet,
Excel row and the column *as written in the file* — the reader keeps, per table, a mapping from
canonical names to the headers it found (:data:`HeaderMap`).  Nothing here raises for bad data:
the functions return the list of problems, and the importer raises them all together.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from . import contract as C
from .errors import Problem
from .read import (
    CONDUCT_LABELS,
    LEARNING_LABELS,
    RESULT_COLUMNS,
    grade_scales,
    result_scales_many,
    row_scales,
)

#: (source file, sheet) → canonical column → header as written in that file.
HeaderMap = dict[tuple[str, str | None], dict[str, str]]
#: Cells the reader could not read (already reported): (file, sheet, Excel row, column).
BadCells = set[tuple[str, str | None, int, str]]

ABSENCE_MAX = 200
BIRTH_YEAR_MIN = 1990
#: Age (start calendar year − birth year) allowed in grade g: g + AGE_MIN_OVER … g + AGE_MAX_OVER.
AGE_MIN_OVER, AGE_MAX_OVER = 4, 9


class PupilSchema(pa.DataFrameModel):
    """One row per pupil of a school year, canonical values (see contract.PUPIL_COLUMNS)."""

    pupil_id: Series[str] = pa.Field(nullable=False)
    full_name: Series[str] = pa.Field(nullable=False)
    birth_date: Series[pa.DateTime] = pa.Field(nullable=False)
    sex: Series[str] = pa.Field(isin=["M", "F"], nullable=False)
    ethnicity: Series[str] = pa.Field(nullable=False)
    grade: Series[pd.Int64Dtype] = pa.Field(in_range={"min_value": 6, "max_value": 9},
                                            nullable=False)
    class_name: Series[str] = pa.Field(nullable=False)
    entry_date: Series[pa.DateTime] = pa.Field(nullable=True)
    poor: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    near_poor: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    disability: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    special_circumstances: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    absences_s1: Series[pd.Int64Dtype] = pa.Field(
        in_range={"min_value": 0, "max_value": ABSENCE_MAX}, nullable=True)
    absences_s2: Series[pd.Int64Dtype] = pa.Field(
        in_range={"min_value": 0, "max_value": ABSENCE_MAX}, nullable=True)
    learning_s1: Series[str] = pa.Field(isin=list(LEARNING_LABELS), nullable=True)
    conduct_s1: Series[str] = pa.Field(isin=list(CONDUCT_LABELS), nullable=True)
    learning_year: Series[str] = pa.Field(isin=list(LEARNING_LABELS), nullable=True)
    conduct_year: Series[str] = pa.Field(isin=list(CONDUCT_LABELS), nullable=True)
    outcome: Series[str] = pa.Field(isin=list(C.OUTCOMES), nullable=False)
    leave_date: Series[pa.DateTime] = pa.Field(nullable=True)
    dropout_reason: Series[str] = pa.Field(nullable=True)
    can_swim: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    result_scale: Series[str] = pa.Field(isin=["tt22", "tt58"], nullable=False)
    source_file: Series[str] = pa.Field(nullable=False)
    source_row: Series[pd.Int64Dtype] = pa.Field(nullable=False)


class ItemSchema(pa.DataFrameModel):
    """The long table of a two-column sheet (school or population items)."""

    item: Series[str] = pa.Field(nullable=False)
    value: Series[float] = pa.Field(ge=0, nullable=False)
    source_file: Series[str] = pa.Field(nullable=False)
    source_row: Series[pd.Int64Dtype] = pa.Field(nullable=False)


class InterventionSchema(pa.DataFrameModel):
    """The intervention log (contract.INTERVENTION_COLUMNS)."""

    action_date: Series[pa.DateTime] = pa.Field(nullable=False)
    pupil_id: Series[str] = pa.Field(nullable=False)
    action: Series[str] = pa.Field(nullable=False)
    staff: Series[str] = pa.Field(nullable=True)
    result: Series[str] = pa.Field(nullable=True)
    source_file: Series[str] = pa.Field(nullable=False)
    source_row: Series[pd.Int64Dtype] = pa.Field(nullable=False)


_RANGE_MESSAGES = {
    "grade": "khối phải là 6, 7, 8 hoặc 9 (trường trung học cơ sở)",
    "absences_s1": f"số buổi nghỉ phải từ 0 đến {ABSENCE_MAX}",
    "absences_s2": f"số buổi nghỉ phải từ 0 đến {ABSENCE_MAX}",
    "value": "số liệu không được âm",
}
_ISIN_MESSAGES = {
    "sex": "giới tính phải là «Nam» hoặc «Nữ»",
    "outcome": "kết quả cuối năm phải là một trong: " + ", ".join(C.OUTCOME_LABELS.values()),
    "learning_s1": "cần một trong: " + ", ".join(LEARNING_LABELS),
    "learning_year": "cần một trong: " + ", ".join(LEARNING_LABELS),
    "conduct_s1": "cần một trong: " + ", ".join(CONDUCT_LABELS),
    "conduct_year": "cần một trong: " + ", ".join(CONDUCT_LABELS),
}


def _default_header(name: str) -> str:
    for cols in (C.PUPIL_COLUMNS, C.INTERVENTION_COLUMNS):
        for c in cols:
            if c.name == name:
                return c.header
    return {"value": C.VALUE_HEADER[0], "item": C.ITEM_HEADER[0]}.get(name, name)


def _sheet(df: pd.DataFrame, i: object) -> str | None:
    if "source_sheet" not in df.columns:
        return None
    s = df.at[i, "source_sheet"]
    return None if s is None or s != s else str(s)


def _loc(df: pd.DataFrame, i: object) -> tuple[str, str | None, int | None]:
    row = df.at[i, "source_row"] if "source_row" in df.columns else None
    return (str(df.at[i, "source_file"]), _sheet(df, i),
            None if row is None or row is pd.NA else int(row))


def _header(headers: HeaderMap, file: str, sheet: str | None, name: str) -> str:
    return headers.get((file, sheet), {}).get(name, _default_header(name))


def _shown(v: object) -> object:
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):
        return None
    if isinstance(v, pd.Timestamp):
        return v.strftime("%d/%m/%Y")
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def problem_at(df: pd.DataFrame, i: object, column: str, message: str, headers: HeaderMap,
               value: object = "__cell__") -> Problem:
    """A problem located at row ``i`` of a canonical frame, column named as in its file."""
    file, sheet, row = _loc(df, i)
    if isinstance(value, str) and value == "__cell__":
        value = df.at[i, column] if column in df.columns else None
    return Problem(file, message, sheet, row, _header(headers, file, sheet, column), _shown(value))


def schema_problems(schema: type[pa.DataFrameModel], df: pd.DataFrame, headers: HeaderMap,
                    bad: BadCells,
                    absent: Iterable[tuple[str, str | None, str]] = ()) -> list[Problem]:
    """Run a pandera schema lazily and turn every failure case into a located Problem.

    Cells the reader already reported (``bad``) and columns missing from a table (``absent``:
    (file, sheet, column), reported once by :func:`missing_columns`) are not reported again.
    """
    cases = _failure_cases(schema, df)
    return [] if cases is None else _case_problems(cases.itertuples(index=False), df, headers,
                                                    bad, absent)


def _failure_cases(schema: type[pa.DataFrameModel], df: pd.DataFrame) -> pd.DataFrame | None:
    """pandera's failure cases (lazy validation), None when the frame passes."""
    try:
        schema.validate(df, lazy=True)
        return None
    except pa.errors.SchemaErrors as exc:
        return exc.failure_cases


def _case_problems(cases: Iterable, df: pd.DataFrame, headers: HeaderMap, bad: BadCells,
                   absent: Iterable[tuple[str, str | None, str]] = ()) -> list[Problem]:
    """Located problems from pandera failure cases (rows with ``column``, ``check``,
    ``failure_case`` and ``index``, a label of ``df``; None for a table-wide failure)."""
    skip = set(absent)
    out: list[Problem] = []
    for case in cases:
        column, check, index = case.column, str(case.check), case.index
        if index is None or index != index or column not in df.columns:
            out.append(Problem(str(df["source_file"].iloc[0]) if len(df) else "?",
                               f"lỗi cấu trúc bảng ({column}: {check})"))
            continue
        file, sheet, row = _loc(df, index)
        if (file, sheet, row, column) in bad or (file, sheet, column) in skip:
            continue
        if check == "not_nullable":
            msg = f"ô bỏ trống; cột «{_header(headers, file, sheet, column)}» là bắt buộc"
        elif check.startswith(("in_range", "greater_than", "less_than")):
            msg = _RANGE_MESSAGES.get(column, "giá trị ngoài khoảng cho phép")
        elif check.startswith("isin"):
            msg = _ISIN_MESSAGES.get(column, "giá trị không hợp lệ")
        else:
            msg = f"giá trị không hợp lệ ({check})"
        value = case.failure_case
        if column == "grade" and "class_name" in df.columns and \
                _header(headers, file, sheet, "grade") == _header(headers, file, sheet,
                                                                  "class_name"):
            value = df.at[index, "class_name"]  # the grade was read from the class name
            msg = f"lớp thuộc khối {_shown(case.failure_case)}; {msg}"
        out.append(problem_at(df, index, column, msg, headers, value))
    return out


def warm_up() -> None:
    """Build the schemas and let pandera register its validation backends (it imports them on
    first use, ~0.3 s): done once in a process before it forks workers, so they do not each
    pay for it."""
    for schema in (PupilSchema, ItemSchema, InterventionSchema):
        _failure_cases(schema, pd.DataFrame(columns=list(schema.to_schema().columns)))


class SchemaBatch:
    """Schema validations gathered from many school years and run together.

    pandera costs a few milliseconds per call whatever the size of the frame; a batch of 750
    school-year folders would pay that 1,500 times.  :meth:`add` records a validation and
    returns the list its problems will be put in; :meth:`run` validates, per schema, the frames
    with the same columns and dtypes concatenated in one call, and gives each frame's failure
    cases back to it — the same problems, in the same order, as :func:`schema_problems` on each
    frame alone (every check of these schemas looks at one cell; a table-wide failure, such as
    a dtype, belongs to every frame of the group, which all have that dtype).  The whole-year
    pupil checks (:meth:`add_pupil_checks`) are gathered the same way and run over all years
    at once (:func:`check_pupils_many`).
    """

    def __init__(self) -> None:
        self._jobs: list[tuple] = []
        self._years: list[tuple[pd.DataFrame, str, date, HeaderMap]] = []
        self._year_out: list[list[Problem]] = []
        self._scales: list[tuple[pd.DataFrame, str]] = []

    def add_result_scales(self, df: pd.DataFrame, school_year: str) -> None:
        """Give ``df`` its ``result_scale`` column (read.result_scales) when :meth:`run`
        starts, all years at once (read.result_scales_many), before any validation."""
        self._scales.append((df, school_year))

    def add_pupil_checks(self, df: pd.DataFrame, school_year: str, today: date,
                         headers: HeaderMap) -> list[Problem]:
        """:func:`check_pupils` of one year, run with the others' by :meth:`run`
        (:func:`check_pupils_many`); returns the list its problems will be put in."""
        out: list[Problem] = []
        self._years.append((df, school_year, today, headers))
        self._year_out.append(out)
        return out

    def add(self, schema: type[pa.DataFrameModel], df: pd.DataFrame, headers: HeaderMap,
            bad: BadCells, absent: Iterable[tuple[str, str | None, str]] = ()) -> list[Problem]:
        out: list[Problem] = []
        self._jobs.append((schema, df, headers, bad, tuple(absent), out))
        return out

    def run(self) -> None:
        scales, self._scales = self._scales, []
        for (df, _), scale in zip(scales, result_scales_many(scales), strict=True):
            df["result_scale"] = scale
        years, year_out = self._years, self._year_out
        self._years, self._year_out = [], []
        for out, found in zip(year_out, check_pupils_many(years), strict=True):
            out += found
        groups: dict[tuple, list[tuple]] = {}
        for job in self._jobs:
            df = job[1]
            key = (job[0], tuple(df.columns), tuple(str(t) for t in df.dtypes))
            groups.setdefault(key, []).append(job)
        self._jobs = []
        for (schema, _, _), jobs in groups.items():
            if len(jobs) == 1:
                schema_, df, headers, bad, absent, out = jobs[0]
                out += schema_problems(schema_, df, headers, bad, absent)
                continue
            frames = [j[1] for j in jobs]
            cases = _failure_cases(schema, pd.concat(frames, ignore_index=True))
            if cases is None:
                continue
            starts = np.cumsum([0] + [len(f) for f in frames])
            mine: list[list] = [[] for _ in jobs]
            for case in cases.itertuples(index=False):
                index = case.index
                if index is None or index != index:  # table-wide: every frame of the group
                    for m in mine:
                        m.append(case)
                    continue
                k = int(np.searchsorted(starts, index, side="right")) - 1
                mine[k].append(case._replace(index=frames[k].index[int(index) - starts[k]]))
            for (_, df, headers, bad, absent, out), own in zip(jobs, mine, strict=True):
                out += _case_problems(own, df, headers, bad, absent)


def missing_columns(tables: Iterable[tuple[str, str | None, set[str]]],
                    columns: tuple[C.Column, ...]) -> tuple[list[Problem],
                                                            list[tuple[str, str | None, str]]]:
    """A Problem per required column absent from a table (file, sheet, columns present)."""
    problems, absent = [], []
    for file, sheet, present in tables:
        for col in columns:
            if col.required and col.name not in present:
                if col.name == "grade":
                    continue
                names = ", ".join(f"«{h}»" for h in (col.header, *col.variants))
                problems.append(Problem(
                    file, f"thiếu cột bắt buộc «{col.header}» (tên cột được chấp nhận: {names})",
                    sheet))
                absent.append((file, sheet, col.name))
    return problems, absent


@functools.lru_cache(maxsize=256)
def school_year_bounds(school_year: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """1 August of the start year … 31 July of the end year."""
    start = C.start_year(school_year)
    return (pd.Timestamp(date(start, *C.YEAR_START)),
            pd.Timestamp(date(start + 1, *C.YEAR_END)))


@functools.lru_cache(maxsize=256)
def results_from(school_year: str) -> pd.Timestamp:
    """No final results (Lên lớp, Hoàn thành chương trình…) exist before 1 May of the end year."""
    return pd.Timestamp(date(C.start_year(school_year) + 1, 5, 1))


def _fmt(d: pd.Timestamp | date) -> str:
    return d.strftime("%d/%m/%Y")


def check_pupils(df: pd.DataFrame, school_year: str, today: date,
                 headers: HeaderMap) -> list[Problem]:
    """Whole-year rules on the pupil table (rows with unreadable cells are skipped per rule)."""
    return check_pupils_many([(df, school_year, today, headers)])[0]


def check_pupils_many(years: list[tuple[pd.DataFrame, str, date, HeaderMap]]
                      ) -> list[list[Problem]]:
    """:func:`check_pupils` of many school years' pupil tables (``(df, school_year, today,
    headers)`` each), one list per year: the same problems in the same order as one call per
    year.  Tables with the same columns and dtypes are checked together, concatenated, each
    rule once over all of them (a rule that compares rows compares them within one year)."""
    out: list[list[Problem]] = [[] for _ in years]
    groups: dict[tuple, list[int]] = {}
    for k, (df, *_rest) in enumerate(years):
        groups.setdefault((tuple(df.columns), tuple(str(t) for t in df.dtypes)), []).append(k)
    for members in groups.values():
        part = [years[k] for k in members]
        frame = part[0][0] if len(part) == 1 else pd.concat([y[0] for y in part],
                                                            ignore_index=True)
        for k, found in zip(members, _check_pupils_group(frame, part), strict=True):
            out[k] = found
    return out


def _check_pupils_group(p: pd.DataFrame, years: list[tuple[pd.DataFrame, str, date, HeaderMap]]
                        ) -> list[list[Problem]]:
    """The rules of :func:`check_pupils` over ``p``, the tables of ``years`` concatenated in
    that order (positions of ``p`` are those rows, in order)."""
    out: list[list[Problem]] = [[] for _ in years]
    sizes = np.array([len(y[0]) for y in years], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    if not len(p):
        return out
    fid = np.repeat(np.arange(len(years)), sizes)  # the year of each row (position)
    plain = p.index.equals(pd.RangeIndex(len(p)))  # labels are positions
    pos_of = None if plain else pd.Series(np.arange(len(p)), index=p.index)
    school_years = [y[1] for y in years]
    todays = [pd.Timestamp(y[2]) for y in years]
    hdrs = [y[3] for y in years]
    start_k = np.array([C.start_year(s) for s in school_years], dtype=np.int64)
    bounds = [school_year_bounds(s) for s in school_years]

    def frame_of(i: object) -> int:
        return int(fid[i]) if pos_of is None else int(fid[pos_of[i]])  # type: ignore[index]

    def add(i: object, column: str, message: str, value: object = "__cell__") -> None:
        k = frame_of(i)
        out[k].append(problem_at(p, i, column, message, hdrs[k], value))

    def rows(mask: object) -> pd.Index:
        return p.index[np.asarray(mask, dtype=bool)]

    # Pupil IDs unique within the year: name both rows.
    ids = p["pupil_id"]
    keyed = pd.DataFrame({"k": fid, "id": ids.to_numpy()}, index=p.index)
    dup = ids.notna() & keyed.duplicated(keep=False)
    first_of: dict[tuple[int, object], object] = {}
    for i in p.index[dup.to_numpy(dtype=bool)]:
        k, pid = frame_of(i), ids[i]
        if (k, pid) not in first_of:
            first_of[(k, pid)] = i
            continue
        f_file, f_sheet, f_row = _loc(p, first_of[(k, pid)])
        where = f"dòng {f_row}" + (f" trang tính «{f_sheet}»" if f_sheet else "") + \
            f" tệp «{f_file}»"
        add(i, "pupil_id", f"mã học sinh bị trùng: đã có ở {where}; mỗi học sinh chỉ một dòng "
                           "trong năm học")

    today_row = pd.Series(np.array([t.to_datetime64() for t in todays],
                                   dtype="datetime64[ns]")[fid], index=p.index)
    for col in ("birth_date", "entry_date", "leave_date"):
        for i in rows(p[col].notna() & (p[col] > today_row)):
            add(i, col, f"ngày ở tương lai (hôm nay là {_fmt(todays[frame_of(i)])})")

    start = pd.Series(start_k[fid], index=p.index)
    birth_year = p["birth_date"].dt.year
    grade = p["grade"]
    # Only rows that break a rule are visited (vectorised screen, same rules as below).
    known = p["birth_date"].notna()
    year_bad = known & ((birth_year < BIRTH_YEAR_MIN) | (birth_year > start - 5))
    g_num = pd.to_numeric(grade, errors="coerce").astype("float64")
    age_all = start - birth_year
    age_bad = (known & ~year_bad & g_num.between(6, 9)
               & ~age_all.between(g_num + AGE_MIN_OVER, g_num + AGE_MAX_OVER))
    for i in rows((year_bad | age_bad).fillna(False).astype(bool)):
        k = frame_of(i)
        st = int(start_k[k])
        by = int(birth_year[i])
        if by < BIRTH_YEAR_MIN or by > st - 5:
            add(i, "birth_date", f"năm sinh {by} không hợp lý cho học sinh THCS năm học "
                                 f"{school_years[k]}")
            continue
        g = grade[i]
        if g is pd.NA or not 6 <= int(g) <= 9:
            continue
        age = st - by
        lo, hi = int(g) + AGE_MIN_OVER, int(g) + AGE_MAX_OVER
        if not lo <= age <= hi:
            add(i, "birth_date", f"tuổi {age} (tính theo năm {st}) không hợp lý cho khối "
                                 f"{int(g)}: cần từ {lo} đến {hi} tuổi")

    first_row = pd.Series(np.array([b[0].to_datetime64() for b in bounds],
                                   dtype="datetime64[ns]")[fid], index=p.index)
    last_row = pd.Series(np.array([b[1].to_datetime64() for b in bounds],
                                  dtype="datetime64[ns]")[fid], index=p.index)
    for col in ("entry_date", "leave_date"):
        bad = p[col].notna() & ((p[col] < first_row) | (p[col] > last_row))
        for i in rows(bad):
            k = frame_of(i)
            first, last = bounds[k]
            add(i, col, f"ngày nằm ngoài năm học {school_years[k]} (từ {_fmt(first)} đến "
                        f"{_fmt(last)})")
    for i in rows(p["entry_date"].notna() & p["leave_date"].notna()
                  & (p["entry_date"] > p["leave_date"])):
        add(i, "leave_date", "ngày nghỉ trước ngày vào trường")

    outcome = p["outcome"]
    label = C.OUTCOME_LABELS
    last_grade = (grade == C.LAST_GRADE).astype("boolean").fillna(False).astype(bool)
    ends = outcome.isin(["completed", "not_completed"])
    screen = outcome.notna() & grade.notna() & ((ends & ~last_grade)
                                                | ((outcome == "promoted") & last_grade))
    for i in rows(screen.astype(bool)):
        o, g = outcome[i], int(grade[i])
        if o in ("completed", "not_completed") and g != C.LAST_GRADE:
            add(i, "outcome", f"«{label[o]}» chỉ dùng cho học sinh lớp 9 (học sinh này ở khối "
                              f"{g})", label[o])
        if o == "promoted" and g == C.LAST_GRADE:
            add(i, "outcome", "học sinh lớp 9 không «Lên lớp»: ghi «"
                              f"{label['completed']}» hoặc «{label['not_completed']}»", label[o])

    # A year is in progress when pupils are "Đang học"; then no pupil has a final result.
    leavers = {"dropped_out", "transferred_out"}
    in_prog = (outcome == "in_progress").fillna(False).to_numpy(dtype=bool)
    final = (outcome.notna() & ~outcome.isin(["in_progress", *leavers])).to_numpy(dtype=bool)
    n_prog = np.bincount(fid, weights=in_prog, minlength=len(years)).astype(np.int64)
    n_final = np.bincount(fid, weights=final, minlength=len(years)).astype(np.int64)
    for k in np.flatnonzero(n_final > 0):
        a, b = starts[k], starts[k + 1]
        if n_prog[k]:
            if n_prog[k] <= n_final[k]:
                msg = (f"năm học đã kết thúc ({int(n_final[k])} học sinh có kết quả cuối năm) "
                       f"nhưng học sinh này ghi «{label['in_progress']}»")
                these = in_prog[a:b]
            else:
                msg = (f"năm học đang diễn ra ({int(n_prog[k])} học sinh ghi "
                       f"«{label['in_progress']}») nên chưa thể có kết quả cuối năm; chỉ ghi "
                       f"«{label['in_progress']}», «{label['dropped_out']}» hoặc "
                       f"«{label['transferred_out']}»")
                these = final[a:b]
            for i in p.index[a + np.flatnonzero(these)]:
                out[k].append(problem_at(p, i, "outcome", msg, hdrs[k], label[outcome[i]]))
        elif todays[k] < results_from(school_years[k]):
            first_final = p.index[a + np.flatnonzero(final[a:b])[0]]
            out[k].append(problem_at(
                p, first_final, "outcome",
                f"năm học {school_years[k]} chưa kết thúc (hôm nay là {_fmt(todays[k])}) nên "
                f"chưa thể có kết quả cuối năm: {int(n_final[k])} học sinh, đầu tiên ở dòng này; "
                f"danh sách giữa năm ghi «{label['in_progress']}» (hoặc "
                f"«{label['dropped_out']}», «{label['transferred_out']}»)", hdrs[k],
                label[outcome[first_final]]))

    for i in rows(outcome.isin(list(leavers)) & p["leave_date"].isna()):
        add(i, "leave_date", f"học sinh «{label[outcome[i]]}» phải có ngày nghỉ", None)
    for i in rows(p["leave_date"].notna() & outcome.notna() & ~outcome.isin(list(leavers))):
        add(i, "leave_date", f"có ngày nghỉ nhưng kết quả cuối năm là «{label[outcome[i]]}»; "
                             f"ngày nghỉ chỉ ghi cho học sinh «{label['dropped_out']}» hoặc "
                             f"«{label['transferred_out']}»")
    for k, found in enumerate(_result_scale_problems(p, fid, starts, hdrs)):
        out[k] += found
    return out


def check_result_scales(p: pd.DataFrame, headers: HeaderMap) -> list[Problem]:
    """One scale per pupil, and one per grade (the years Circular 22 came in grade by grade
    legitimately mix scales across grades, never within one)."""
    return _result_scale_problems(p, np.zeros(len(p), dtype=np.int64),
                                  np.array([0, len(p)]), [headers])[0]


_SCALE_NAMES = {"tt22": "Thông tư 22/2021 (Tốt/Khá/Đạt/Chưa đạt)",
                "tt58": "Thông tư 58/2011 (Giỏi/Khá/Trung bình/Yếu/Kém)"}


def _result_scale_problems(p: pd.DataFrame, fid: np.ndarray, starts: np.ndarray,
                           hdrs: list[HeaderMap]) -> list[list[Problem]]:
    """:func:`check_result_scales` of each year of ``p`` (rows ``starts[k]:starts[k+1]``,
    ``fid`` the year of each row)."""
    out: list[list[Problem]] = [[] for _ in hdrs]
    cols = [c for c in RESULT_COLUMNS if c in p.columns]
    if not cols or not len(p):
        return out
    names = _SCALE_NAMES
    own = row_scales(p)
    own_np = own.to_numpy(dtype=object)
    for pos in np.flatnonzero(own_np == "mixed"):
        i = p.index[pos]
        col = next(c for c in cols if p.at[i, c] in C.TT58_ONLY)
        out[int(fid[pos])].append(problem_at(p, i, col, "một học sinh dùng lẫn hai thang đánh "
                                             f"giá: {names['tt22']} và {names['tt58']}",
                                             hdrs[int(fid[pos])]))
    # Grades with both scales in one year: (year, grade) groups, grades in order within a year.
    g_codes, g_uniques = pd.factorize(p["grade"], sort=True)  # (a missing grade: -1)
    n_g = max(len(g_uniques), 1)
    n22, n58, majority = grade_scales(fid, g_codes, n_g, len(hdrs), own_np)
    for kg in np.flatnonzero((n22 > 0) & (n58 > 0)):
        k, gc = divmod(int(kg), n_g)
        a, b = starts[k], starts[k + 1]
        in_group = np.flatnonzero(g_codes[a:b] == gc) + a
        major = majority[kg]
        minor = "tt58" if major == "tt22" else "tt22"
        labels = C.TT58_ONLY if minor == "tt58" else C.TT22_ONLY
        g = g_uniques[gc]
        for pos in in_group[own_np[in_group] == minor]:
            i = p.index[pos]
            col = next(c for c in cols if p.at[i, c] in labels)
            out[k].append(problem_at(
                p, i, col, f"khối {int(g)} trộn hai thang đánh giá: phần lớn theo "
                f"{names[major]}, học sinh này theo {names[minor]}", hdrs[k]))
    return out


ITEM_RELATIONS = (
    ("toilets_hygienic", "toilets"), ("complaints_resolved", "complaints_received"),
    ("pop_age11_in_grade6", "pop_age11"), ("pop_age11_14_in_school", "pop_age11_14"),
)


def check_items(df: pd.DataFrame, headers: HeaderMap) -> list[Problem]:
    """Two-column sheets: each item once; a part never above its whole."""
    out: list[Problem] = []
    items = {i.key: i for i in (*C.SCHOOL_ITEMS, *C.POPULATION_ITEMS)}
    seen: dict[str, object] = {}
    for i in df.index:
        key = df.at[i, "item"]
        if key in seen:
            f_file, f_sheet, f_row = _loc(df, seen[key])
            out.append(problem_at(df, i, "item",
                                  f"nội dung «{items[key].label}» ghi hai lần (đã có ở dòng "
                                  f"{f_row}, tệp «{f_file}»)", headers, df.at[i, "label"]))
        else:
            seen[key] = i
    for part, whole in ITEM_RELATIONS:
        if part in seen and whole in seen:
            vp, vw = df.at[seen[part], "value"], df.at[seen[whole], "value"]
            if vp > vw:
                out.append(problem_at(
                    df, seen[part], "value",
                    f"«{items[part].label}» ({_shown(vp)}) lớn hơn «{items[whole].label}» "
                    f"({_shown(vw)})", headers))
    return out


def check_interventions(df: pd.DataFrame, school_year: str, today: date, headers: HeaderMap,
                        pupil_ids: set[str] | None) -> list[Problem]:
    out: list[Problem] = []
    first, last = school_year_bounds(school_year)
    d = df["action_date"]
    for i in df.index[d.notna() & (d > pd.Timestamp(today))]:
        out.append(problem_at(df, i, "action_date",
                              f"ngày ở tương lai (hôm nay là {_fmt(today)})", headers))
    for i in df.index[d.notna() & ((d < first) | (d > last)) & (d <= pd.Timestamp(today))]:
        out.append(problem_at(df, i, "action_date",
                              f"ngày nằm ngoài năm học {school_year} (từ {_fmt(first)} đến "
                              f"{_fmt(last)})", headers))
    if pupil_ids is not None:
        for i in df.index[df["pupil_id"].notna() & ~df["pupil_id"].isin(list(pupil_ids))]:
            out.append(problem_at(df, i, "pupil_id", "mã học sinh không có trong danh sách học "
                                  f"sinh năm học {school_year}", headers))
    return out
