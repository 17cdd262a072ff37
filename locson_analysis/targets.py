"""The plan's targets by phase (``data/targets.yaml``), their evaluation and their trend.

The plan numbers its targets differently in each phase (completion is No. 5 in 2022–2025 and
No. 4 in 2025–2030), so a target is always cited with the number of the phase of the year.
Thresholds live in the YAML file, not in code: the plan says it may be amended.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

from . import config, contract
from .errors import LocsonError
from .indicators import INDICATORS
from .indicators.base import NO_DATA, RUNNING_MARK, vn_number, vn_percent

DIRECTIONS = (">=", "<", "==", "yes")
MET, NOT_MET, NO_VALUE = "Đạt", "Chưa đạt", NO_DATA
#: The status of every target of a year still in progress: the figure so far, no verdict.
TRACKING = "Đang theo dõi"
OUTSIDE = "Ngoài thời kỳ của kế hoạch"
TOO_FEW_YEARS = "Chưa đủ số năm để đánh giá xu hướng"
MIN_TREND_YEARS = 3

EVALUATION_COLUMNS = ["phase", "number", "target_text", "indicator", "value", "threshold",
                      "direction", "status", "gap", "previous_value", "change", "numerator",
                      "denominator", "allowed_dropouts", "allowed_noncompleters", "definition",
                      "note", "in_progress", "previous_indicator", "previous_basis"]
#: The indicator a running year's value is compared with in the year before, when the value
#: itself is a semester-1 figure (``in_progress = "s1"``): last year's semester 1, never last
#: year's full year.
SEMESTER1_OF = {"allround_rate": "allround_rate_s1"}
OUTLOOK_COLUMNS = ["phase", "number", "target_text", "indicator", "threshold", "direction",
                   "years", "last_year", "last_value", "slope", "projected_year",
                   "projected_value", "reaches", "method", "outlook"]


@dataclass(frozen=True)
class Target:
    number: int
    text: str
    indicator: str
    threshold: float
    direction: str
    definition: str = ""


@dataclass(frozen=True)
class Phase:
    name: str
    label: str
    first_year: str
    last_year: str
    targets: tuple[Target, ...]

    @property
    def years(self) -> list[str]:
        return contract.school_years_between(self.first_year, self.last_year)


@dataclass(frozen=True)
class Targets:
    phases: tuple[Phase, ...]
    source: str = ""

    def phase(self, name: str) -> Phase:
        for p in self.phases:
            if p.name == name:
                return p
        names = ", ".join(p.name for p in self.phases)
        raise LocsonError(f"Không có giai đoạn «{name}» trong tệp chỉ tiêu (có: {names}).")


# --- loading ---------------------------------------------------------------------------------

def _is_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _school_year_ok(x: object) -> bool:
    return isinstance(x, str) and contract.parse_school_year(x) == x


def _check_target(raw: object, where: str, problems: list[str]) -> Target | None:
    if not isinstance(raw, dict):
        problems.append(f"khóa «{where}»: cần một bảng có các khóa number, text, indicator, "
                        f"threshold, direction; nhận được «{raw}»")
        return None
    before = len(problems)
    number, text = raw.get("number"), raw.get("text")
    indicator, threshold = raw.get("indicator"), raw.get("threshold")
    direction, definition = raw.get("direction"), raw.get("definition", "")
    if not (isinstance(number, int) and not isinstance(number, bool) and number > 0):
        problems.append(f"khóa «{where}.number»: cần số thứ tự chỉ tiêu là số nguyên dương "
                        f"(ví dụ 5), nhận được «{number}»")
    if not (isinstance(text, str) and text.strip()):
        problems.append(f"khóa «{where}.text»: cần nguyên văn câu chỉ tiêu trong kế hoạch, "
                        f"nhận được «{text}»")
    if indicator not in INDICATORS:
        problems.append(f"khóa «{where}.indicator»: cần một khóa chỉ số có trong "
                        f"docs/indicators.md (ví dụ completion_rate_grade9), nhận được "
                        f"«{indicator}»")
    if not _is_number(threshold):
        problems.append(f"khóa «{where}.threshold»: cần một số (tỷ lệ viết dạng phân số, ví dụ "
                        f"0.975 cho 97,5 %), nhận được «{threshold}»")
    if direction not in DIRECTIONS:
        problems.append(f"khóa «{where}.direction»: cần một trong "
                        f"{', '.join(repr(d) for d in DIRECTIONS)}, nhận được «{direction}»")
    if not isinstance(definition, str):
        problems.append(f"khóa «{where}.definition»: cần một câu mô tả, nhận được "
                        f"«{definition}»")
    if len(problems) > before:
        return None
    return Target(number, text.strip(), indicator, float(threshold), direction, definition)


def _check_phase(raw: object, where: str, problems: list[str]) -> Phase | None:
    if not isinstance(raw, dict):
        problems.append(f"khóa «{where}»: cần một bảng có các khóa name, first_year, last_year, "
                        f"targets; nhận được «{raw}»")
        return None
    before = len(problems)
    name = raw.get("name")
    if not (isinstance(name, str) and name.strip()):
        problems.append(f"khóa «{where}.name»: cần tên giai đoạn (ví dụ \"2022-2025\"), nhận "
                        f"được «{name}»")
    for k in ("first_year", "last_year"):
        if not _school_year_ok(raw.get(k)):
            problems.append(f"khóa «{where}.{k}»: cần một năm học dạng \"2022-2023\" (trong "
                            f"ngoặc kép), nhận được «{raw.get(k)}»")
    first, last = raw.get("first_year"), raw.get("last_year")
    if (_school_year_ok(first) and _school_year_ok(last)
            and contract.start_year(first) > contract.start_year(last)):
        problems.append(f"khóa «{where}.last_year»: năm học cuối ({last}) phải sau năm học đầu "
                        f"({first})")
    raw_targets = raw.get("targets")
    targets = []
    if not (isinstance(raw_targets, list) and raw_targets):
        problems.append(f"khóa «{where}.targets»: cần danh sách các chỉ tiêu (mỗi chỉ tiêu bắt "
                        f"đầu bằng «- number: …»), nhận được «{raw_targets}»")
    else:
        for i, t in enumerate(raw_targets):
            targets.append(_check_target(t, f"{where}.targets[{i}]", problems))
    if len(problems) > before:
        return None
    label = raw.get("label") or f"Giai đoạn {name}"
    return Phase(name.strip(), str(label), first, last, tuple(targets))


def load_targets(path: Path | None = None) -> Targets:
    """Read and check the targets file; every problem is reported at once, in Vietnamese."""
    if path is None:
        from .config import TARGETS_FILE

        path = TARGETS_FILE
    path = Path(path)
    if not path.exists():
        raise LocsonError(f"Không tìm thấy tệp chỉ tiêu {path}.")
    raw = config.read_yaml(path, "Tệp chỉ tiêu")
    problems: list[str] = []
    phases: list[Phase] = []
    if not isinstance(raw, dict) or not isinstance(raw.get("phases"), list) \
            or not raw.get("phases"):
        problems.append("khóa «phases»: cần danh sách các giai đoạn của kế hoạch")
    else:
        for i, p in enumerate(raw["phases"]):
            phase = _check_phase(p, f"phases[{i}]", problems)
            if phase is not None:
                phases.append(phase)
        seen: dict[str, str] = {}
        for phase in phases:
            for y in phase.years:
                if y in seen:
                    problems.append(f"khóa «phases»: năm học {y} thuộc cả giai đoạn "
                                    f"{seen[y]} và {phase.name}; mỗi năm học chỉ thuộc một "
                                    f"giai đoạn")
                seen[y] = phase.name
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise LocsonError(f"Tệp chỉ tiêu {path} có {len(problems)} lỗi:\n{lines}")
    return Targets(tuple(phases), str(path))


def phase_for(targets: Targets, school_year: str) -> Phase | None:
    """The phase a school year belongs to, or None outside the plan's phases."""
    for p in targets.phases:
        if school_year in p.years:
            return p
    return None


# --- evaluation --------------------------------------------------------------------------------

def allowed_dropouts(enrolment: int, threshold: float) -> int:
    """Most dropouts keeping dropouts ÷ enrolment strictly below ``threshold``.

    Exact arithmetic (the threshold is read as the decimal it is written as): k < N·t, so
    k = ⌈N·t⌉ − 1.  800 pupils at 0,06 %: 0,48 → 0; 2.000 pupils: 1,2 → 1.
    """
    limit = Fraction(str(threshold)) * int(enrolment)
    return max(math.ceil(limit) - 1, 0)


def allowed_noncompleters(denominator: int, threshold: float) -> int:
    """Most pupils of the denominator who may fail to complete with completers ÷ denominator
    still at least ``threshold``: k ≤ N − ⌈N·t⌉ (exact arithmetic).  188 pupils at 97,5 %:
    183,3 → 184 must complete, 4 may not."""
    need = math.ceil(Fraction(str(threshold)) * int(denominator))
    return max(int(denominator) - need, 0)


def is_running(table: pd.DataFrame, school_year: str, school_code: str | None = None) -> bool:
    """Is ``school_year`` still in progress in ``table`` (an indicator note says so)?"""
    rows = table[table["school_year"] == school_year]
    if school_code is not None:
        rows = rows[rows["school_code"] == school_code]
    return bool(rows["note"].astype("str").str.contains(RUNNING_MARK, regex=False).any())


def _meets(value: float, threshold: float, direction: str,
           numerator: float = np.nan, denominator: float = np.nan) -> bool:
    if direction == "yes":
        return value == 1
    if _is_number(numerator) and _is_number(denominator) and denominator > 0 \
            and float(numerator).is_integer() and float(denominator).is_integer():
        exact = Fraction(int(numerator), int(denominator))  # no float rounding at the edge
    else:
        exact = Fraction(value).limit_denominator(10**12)
    t = Fraction(str(threshold))
    return {">=": exact >= t, "<": exact < t, "==": exact == t}[direction]


def _school_rows(table: pd.DataFrame, school_code: str | None) -> tuple[pd.DataFrame, str]:
    codes = sorted(table["school_code"].dropna().unique().tolist())
    if school_code is None:
        if len(codes) > 1:
            raise LocsonError(f"Bảng chỉ số có nhiều trường ({', '.join(codes)}); hãy chọn một "
                              f"trường (school_code).")
        school_code = codes[0] if codes else contract.DEFAULT_SCHOOL
    rows = table[(table["school_code"] == school_code) & (table["dimension"] == "school")]
    return rows.drop_duplicates(["school_year", "indicator"]).set_index(
        ["school_year", "indicator"]), school_code


def _dropout_note(denominator: float, numerator: float, threshold: float,
                  allowed: int, running: bool) -> str:
    so_far = "đến nay " if running else ""
    return (f"Với {vn_number(int(denominator))} học sinh đầu năm, chỉ tiêu dưới "
            f"{vn_percent(threshold)} cho phép tối đa {vn_number(allowed)} học sinh bỏ học; "
            f"năm nay {so_far}có {vn_number(int(numerator))}.")


def _noncompleter_note(denominator: float, numerator: float, threshold: float,
                       allowed: int) -> str:
    missing = int(denominator) - int(numerator)
    return (f"Với {vn_number(int(denominator))} học sinh lớp 9 cuối năm, chỉ tiêu "
            f"{vn_percent(threshold)} cho phép tối đa {vn_number(allowed)} học sinh chưa hoàn "
            f"thành chương trình THCS; năm nay có {vn_number(missing)}.")


def evaluate(table: pd.DataFrame, targets: Targets, school_year: str,
             school_code: str | None = None, in_progress: bool | None = None) -> pd.DataFrame:
    """Each target of the year's phase: value, status, gap, change on last year, note.

    A year outside the plan's phases gets one row per target indicator with status
    "Ngoài thời kỳ của kế hoạch" (values still shown, nothing to compare against).

    A year still in progress (``in_progress``; by default: a note of the year says "năm học
    đang diễn ra") gets status "Đang theo dõi" for every target: the value so far, no gap and
    no Đạt / Chưa đạt.  A semester-1 value (``allround_rate``) is compared with last year's
    semester-1 value (``allround_rate_s1``), never with last year's full year;
    ``previous_indicator`` and ``previous_basis`` say what the change is measured against.
    The change is always of the unrounded values.
    """
    rows, code = _school_rows(table, school_code)
    running = is_running(table, school_year, code) if in_progress is None else in_progress
    lookup = {key: r for key, r in zip(rows.index, rows[["value", "numerator", "denominator",
                                                          "note"]].itertuples(index=False,
                                                                              name=None),
                                       strict=True)}
    return _frame(_evaluate_rows(lookup, targets, school_year, running))


def evaluate_schools(table: pd.DataFrame, targets: Targets, school_year: str,
                     codes: list[str], running: set[str]) -> pd.DataFrame:
    """:func:`evaluate` of each school of ``codes`` (``running``: the codes whose year is in
    progress), the rows of one school after another with its code in ``school_code``: the
    same rows as one :func:`evaluate` per school, read from ``table`` in one pass (a province
    of 150 schools in a tenth of the time)."""
    years = [school_year, contract.previous_year(school_year)]
    sub = table[(table["dimension"] == "school").to_numpy()
                & table["school_year"].isin(years).to_numpy()
                & table["school_code"].isin(codes).to_numpy()].drop_duplicates(
        ["school_code", "school_year", "indicator"])
    lookups: dict[str, dict] = {c: {} for c in codes}
    for code, year, key, *values in sub[["school_code", "school_year", "indicator", "value",
                                         "numerator", "denominator", "note"]].itertuples(
            index=False, name=None):
        lookups[code][(year, key)] = tuple(values)
    out = []
    for code in codes:
        for row in _evaluate_rows(lookups[code], targets, school_year, code in running):
            row["school_code"] = code
            out.append(row)
    frame = _frame(out)
    frame.insert(0, "school_code", pd.Series([r["school_code"] for r in out], dtype="str"))
    return frame


def _frame(out: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(out, columns=EVALUATION_COLUMNS)
    df["number"] = df["number"].astype("Int64")
    for c in ("allowed_dropouts", "allowed_noncompleters"):
        df[c] = df[c].astype("Float64").astype("Int64")
    df["in_progress"] = df["in_progress"].astype(bool)
    return df


def _evaluate_rows(rows: dict[tuple[str, str], tuple], targets: Targets, school_year: str,
                   running: bool) -> list[dict]:
    """The rows of :func:`evaluate` for one school: ``rows`` maps (school year, indicator) to
    the school row's (value, numerator, denominator, note)."""
    phase = phase_for(targets, school_year)
    previous = contract.previous_year(school_year)
    if phase is None:
        seen: dict[str, Target] = {}
        for p in targets.phases:
            for t in p.targets:
                seen.setdefault(t.indicator, t)
        items = [(None, Target(0, "", k, np.nan, "", t.definition)) for k, t in seen.items()]
    else:
        items = [(phase, t) for t in phase.targets]
    out = []
    for ph, t in items:
        cur = rows.get((school_year, t.indicator))
        prev_key = t.indicator
        if running and INDICATORS[t.indicator].in_progress == "s1":
            prev_key = SEMESTER1_OF.get(t.indicator, t.indicator)
        prev = rows.get((previous, prev_key))
        value = float(cur[0]) if cur is not None else np.nan
        num = float(cur[1]) if cur is not None else np.nan
        den = float(cur[2]) if cur is not None else np.nan
        note = str(cur[3]) if cur is not None and cur[3] else ""
        if cur is None:
            note = NO_DATA
        prev_value = float(prev[0]) if prev is not None else np.nan
        if prev_key != t.indicator:
            basis = f"Học kỳ I năm học {previous}"
        elif running and INDICATORS[t.indicator].in_progress == "so_far":
            basis = f"Cả năm học {previous} (năm nay mới tính đến thời điểm nhập)"
        else:
            basis = f"Năm học {previous}"
        allowed: float = np.nan
        allowed_nc: float = np.nan
        if ph is None:
            status, gap = OUTSIDE, np.nan
        elif running:
            status, gap = TRACKING, np.nan
        elif math.isnan(value):
            status, gap = NO_VALUE, np.nan
        else:
            status = MET if _meets(value, t.threshold, t.direction, num, den) else NOT_MET
            gap = value - t.threshold
        if ph is not None and t.indicator == "dropout_rate" and t.direction == "<" \
                and _is_number(den) and den > 0:
            allowed = allowed_dropouts(int(den), t.threshold)
            sentence = _dropout_note(den, num, t.threshold, int(allowed), running)
            note = sentence + (f" {note}" if note else "")
        if ph is not None and not running and t.indicator == "completion_rate_grade9" \
                and t.direction == ">=" and _is_number(den) and den > 0 and _is_number(num):
            allowed_nc = allowed_noncompleters(int(den), t.threshold)
            sentence = _noncompleter_note(den, num, t.threshold, int(allowed_nc))
            note = sentence + (f" {note}" if note else "")
        out.append({
            "phase": ph.name if ph else OUTSIDE, "number": t.number if ph else pd.NA,
            "target_text": t.text, "indicator": t.indicator, "value": value,
            "threshold": t.threshold, "direction": t.direction, "status": status, "gap": gap,
            "previous_value": prev_value, "change": value - prev_value, "numerator": num,
            "denominator": den, "allowed_dropouts": allowed,
            "allowed_noncompleters": allowed_nc, "definition": t.definition, "note": note,
            "in_progress": running, "previous_indicator": prev_key, "previous_basis": basis,
        })
    return out


# --- completion: the judged ratio beside the other definitions -------------------------------

#: The completion definitions shown beside the judged one, in order: (key, short label).
COMPLETION_VIEWS = (
    ("completion_rate_grade9", "(a) học sinh hoàn thành ÷ học sinh lớp 9 cuối năm"),
    ("completion_rate_grade9_start",
     "(a′) học sinh hoàn thành ÷ (học sinh lớp 9 đầu năm − học sinh chuyển đi)"),
    ("completion_rate_apparent_cohort", "(b) khóa biểu kiến: hoàn thành năm nay ÷ lớp 6 đầu "
                                        "năm học cách đây 3 năm"),
    ("completion_rate_true_cohort", "(c) khóa thực theo mã học sinh: hoàn thành đúng hạn"),
)
COMPLETION_VIEW_COLUMNS = ["indicator", "label", "value", "numerator", "denominator",
                           "judged", "meets", "note"]


def completion_views(table: pd.DataFrame, school_year: str, school_code: str | None = None,
                     threshold: float | None = None, judged: str = "completion_rate_grade9"
                     ) -> pd.DataFrame:
    """The completion rate by each definition of :data:`COMPLETION_VIEWS` for one school and
    year, beside the grade-9 dropouts of the year.

    Columns: ``indicator, label, value, numerator, denominator, judged`` (the definition the
    target's verdict uses), ``meets`` (value ≥ ``threshold``; NA without a value, a threshold
    or while the year is in progress), ``note``.  The last row is ``grade9_dropouts`` (a
    count: value = numerator, no denominator, ``meets`` NA).
    """
    rows, code = _school_rows(table, school_code)
    running = is_running(table, school_year, code)
    out = []
    for key, label in (*COMPLETION_VIEWS,
                       ("grade9_dropouts", "Học sinh lớp 9 bỏ học trong năm")):
        r = rows.loc[(school_year, key)] if (school_year, key) in rows.index else None
        value = float(r["value"]) if r is not None else np.nan
        num = float(r["numerator"]) if r is not None else np.nan
        den = float(r["denominator"]) if r is not None else np.nan
        meets: object = pd.NA
        if (key != "grade9_dropouts" and threshold is not None and not running
                and not math.isnan(value)):
            meets = _meets(value, threshold, ">=", num, den)
        out.append({"indicator": key, "label": label, "value": value, "numerator": num,
                    "denominator": den, "judged": key == judged, "meets": meets,
                    "note": NO_DATA if r is None else str(r["note"])})
    df = pd.DataFrame(out, columns=COMPLETION_VIEW_COLUMNS)
    df["meets"] = df["meets"].astype("boolean")
    return df


def completion_sentence(views: pd.DataFrame, threshold: float) -> str:
    """Vietnamese sentences for the report: the judged rate and its verdict, the other
    definitions that disagree with it (or that all agree), the grade-9 dropouts, and how many
    non-completers the target allows.  ``views``: :func:`completion_views`."""
    rates = views[views["indicator"] != "grade9_dropouts"]
    judged = rates[rates["judged"]]
    if judged.empty or pd.isna(judged["meets"].iloc[0]):
        return ""
    j = judged.iloc[0]
    verdict = MET if bool(j["meets"]) else NOT_MET
    text = (f"Chỉ tiêu {vn_percent(threshold)} được đánh giá theo {j['label']}: "
            f"{vn_percent(j['value'])} — {verdict}.")
    others = rates[~rates["judged"] & rates["meets"].notna()]
    differ = others[others["meets"] != bool(j["meets"])]
    shown = "; ".join(f"{r['label']} {vn_percent(r['value'])}" for _, r in differ.iterrows())
    if len(differ):
        other_verdict = "đạt" if not bool(j["meets"]) else "chưa đạt"
        text += (f" Theo cách tính khác, kết quả ngược lại ({other_verdict} "
                 f"{vn_percent(threshold)}): {shown}.")
    elif len(others):
        text += " Các cách tính khác cho cùng kết luận."
    drop = views[views["indicator"] == "grade9_dropouts"]
    if len(drop) and not math.isnan(float(drop["value"].iloc[0])):
        n = int(drop["value"].iloc[0])
        text += (f" Năm nay có {vn_number(n)} học sinh lớp 9 bỏ học; các em không nằm trong "
                 f"mẫu số của (a)." if n else " Năm nay không có học sinh lớp 9 bỏ học.")
    if _is_number(j["denominator"]) and j["denominator"] > 0 and _is_number(j["numerator"]):
        text += " " + _noncompleter_note(j["denominator"], j["numerator"], threshold,
                                         allowed_noncompleters(int(j["denominator"]),
                                                               threshold))
    return text


# --- outlook -------------------------------------------------------------------------------------

def _project(years: list[int], values: list[float], at: int) -> tuple[float, float]:
    """Least-squares line through (year, value); returns (slope per year, value at ``at``)."""
    slope, intercept = np.polyfit(np.asarray(years, float), np.asarray(values, float), 1)
    return float(slope), float(intercept + slope * at)


def outlook(table: pd.DataFrame, targets: Targets, phase_name: str,
            school_code: str | None = None) -> pd.DataFrame:
    """Will each target of the phase be met by the phase's last year, on present trends?

    Method: the phase's years that have a value so far (school level).  With the phase's last
    year present, its value decides.  With fewer than 3 years: "Chưa đủ số năm để đánh giá xu
    hướng" — no invented trend.  Otherwise a least-squares line through the values is projected
    to the last year (rates clipped to 0–1); if the latest value already meets the target, the
    target is judged reachable (the line only warns when it points away).  Yes/no targets use
    the latest value.
    """
    rows, _ = _school_rows(table, school_code)
    phase = targets.phase(phase_name)
    end = contract.start_year(phase.last_year)
    out = []
    for t in phase.targets:
        years, values = [], []
        for y in phase.years:
            if (y, t.indicator) in rows.index:
                v = float(rows.loc[(y, t.indicator), "value"])
                if not math.isnan(v):
                    years.append(contract.start_year(y))
                    values.append(v)
        rec = {"phase": phase.name, "number": t.number, "target_text": t.text,
               "indicator": t.indicator, "threshold": t.threshold, "direction": t.direction,
               "years": len(years), "last_year": contract.year_label(years[-1]) if years else None,
               "last_value": values[-1] if values else np.nan, "slope": np.nan,
               "projected_year": phase.last_year, "projected_value": np.nan, "reaches": pd.NA}
        if years and years[-1] == end:
            met = _meets(values[-1], t.threshold, t.direction)
            rec.update(projected_value=values[-1], reaches=met,
                       method="Giá trị năm cuối giai đoạn",
                       outlook=("Đã đạt khi kết thúc giai đoạn" if met
                                else "Không đạt khi kết thúc giai đoạn"))
        elif len(years) < MIN_TREND_YEARS:
            rec.update(method=f"Cần ít nhất {MIN_TREND_YEARS} năm có số liệu",
                       outlook=TOO_FEW_YEARS)
        else:
            last_met = _meets(values[-1], t.threshold, t.direction)
            if t.direction == "yes":
                projected, slope = values[-1], np.nan
                method = "Chỉ tiêu có/không: theo năm gần nhất"
            else:
                slope, projected = _project(years, values, end)
                if INDICATORS[t.indicator].unit == "rate":
                    projected = min(max(projected, 0.0), 1.0)
                method = "Đường thẳng bình phương nhỏ nhất qua các năm của giai đoạn"
            proj_met = _meets(projected, t.threshold, t.direction)
            if last_met and proj_met:
                verdict = "Đang đạt; giữ xu hướng này sẽ đạt vào cuối giai đoạn"
            elif last_met:
                verdict = "Đang đạt nhưng xu hướng đi xuống: cần giữ vững để không trượt"
            elif proj_met:
                verdict = "Chưa đạt; theo xu hướng có thể đạt vào cuối giai đoạn"
            else:
                verdict = "Chưa đạt; theo xu hướng hiện nay sẽ không đạt vào cuối giai đoạn"
            rec.update(slope=slope, projected_value=projected, reaches=last_met or proj_met,
                       method=method, outlook=verdict)
        out.append(rec)
    df = pd.DataFrame(out, columns=OUTLOOK_COLUMNS)
    df["reaches"] = df["reaches"].astype("boolean")
    return df
