"""Early warning of pupils at risk of dropping out (internal only).

The plan (III.2) asks the school to "regularly update data and classify pupils at risk of
dropping out, so that each case gets a timely remedy".  This module gives three things:

* :func:`reconcile` — pupils whose records across consecutive years do not add up (hidden
  dropouts, pupils who came back after leaving, grades that do not follow the outcome);
* :func:`flag` — transparent rules from ``data/warning_rules.yaml`` applied after semester 1
  (``point="mid"``) or at the end of the year (``point="end"``), each flag with its reasons in
  plain Vietnamese;
* :func:`run_warning` — the internal report (HTML + Excel) in ``outputs/internal/<year>/``.

The ranking model and its honest back-test live in :mod:`locson_analysis.warn_model`.

Everything here names children: results go to ``outputs/internal/`` only and are marked
"NỘI BỘ — không gửi ra ngoài trường".  Context (poverty, ethnicity, disability, special
circumstances) is shown beside the flags to route support and never changes a score.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml

from . import config, crossyear, safe_cells
from .contract import DEFAULT_SCHOOL, OUTCOME_LABELS, previous_year, start_year
from .dataset import Dataset
from .errors import LocsonError
from .numbers import fmt_num

Point = Literal["mid", "end"]
INTERNAL_MARK = "NỘI BỘ — không gửi ra ngoài trường"

#: Result labels of both scales on one ladder (Circular 22 levels; the old Circular 58 scale
#: mapped onto it: Giỏi → Tốt, Trung bình → Đạt, Yếu/Kém → Chưa đạt).
RESULT_LEVEL: dict[str, int] = {"Tốt": 3, "Giỏi": 3, "Khá": 2, "Đạt": 1, "Trung bình": 1,
                                "Chưa đạt": 0, "Yếu": 0, "Kém": 0}
NOT_PASSED = frozenset({"Chưa đạt", "Yếu", "Kém"})
LEFT = frozenset({"dropped_out", "transferred_out"})
STAYING = frozenset({"promoted", "repeating", "not_completed"})

RULE_KEYS = ("absences", "learning_not_passed", "conduct_not_passed", "result_fall",
             "repeating", "over_age", "returned")
#: Vietnamese names of the rules, for tables and the report.
RULE_LABELS: dict[str, str] = {
    "absences": "Nghỉ học nhiều",
    "learning_not_passed": "Học tập Chưa đạt",
    "conduct_not_passed": "Rèn luyện Chưa đạt",
    "result_fall": "Kết quả giảm so với kỳ trước",
    "repeating": "Ở lại lớp",
    "over_age": "Quá tuổi so với khối lớp",
    "returned": "Đã nghỉ rồi quay lại",
}
POINT_LABELS = {"mid": "giữa năm (sau học kỳ 1)", "end": "cuối năm"}
TERM = {"mid": "HK1", "end": "cả năm"}
MISSING_MARK = "thiếu số liệu"

CONTEXT_COLUMNS = ("poor", "near_poor", "minority", "disability", "special_circumstances")
CONTEXT_LABELS = {"poor": "Hộ nghèo", "near_poor": "Hộ cận nghèo", "minority": "Dân tộc",
                  "disability": "Khuyết tật", "special_circumstances": "Hoàn cảnh đặc biệt"}


# --------------------------------------------------------------------------------------------
# Rules file
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rules:
    """The warning rules (``data/warning_rules.yaml``); every number a school may tune."""

    sessions_per_semester: int = 90
    mid_point_date: str = "01-15"
    flag_min_score: float = 2.0
    weights: Mapping[str, float] = field(default_factory=lambda: {
        "absences": 2.0, "learning_not_passed": 2.0, "conduct_not_passed": 1.0,
        "result_fall": 1.0, "repeating": 2.0, "over_age": 1.0, "returned": 2.0})
    absences_mid_min: int = 20
    absences_end_min: int = 35
    fall_min_levels: int = 1
    over_age_min_years: int = 2
    off_track_absence_share: float = 0.10

    def mid_date(self, school_year: str) -> pd.Timestamp:
        """The end of semester 1 of ``school_year`` (in the calendar year it ends)."""
        return pd.Timestamp(f"{start_year(school_year) + 1}-{self.mid_point_date}")

    def sessions(self, point: Point) -> int:
        return self.sessions_per_semester * (1 if point == "mid" else 2)


def _rules_error(path: Path, key: str, expected: str, value: object) -> LocsonError:
    shown = "(không có)" if value is _ABSENT else f"«{value}»"
    return LocsonError(
        f"Tệp quy tắc cảnh báo {path}: khóa «{key}» phải là {expected}, nhận được {shown}. "
        f"Hãy sửa tệp (xem chú thích trong tệp mẫu data/warning_rules.yaml) rồi chạy lại.")


_ABSENT = object()


def load_rules(path: str | Path | None = None) -> Rules:
    """Read and check the rules file; a malformed file raises LocsonError naming the key."""
    path = Path(path) if path else config.WARNING_RULES_FILE
    if not path.exists():
        raise LocsonError(f"Không tìm thấy tệp quy tắc cảnh báo {path}.")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise LocsonError(f"Tệp quy tắc cảnh báo {path} không đọc được (lỗi cú pháp YAML): "
                          f"{exc}") from exc
    if not isinstance(raw, dict):
        raise LocsonError(f"Tệp quy tắc cảnh báo {path} phải là một bảng khóa: giá trị.")

    def get(key: str) -> Any:
        node: Any = raw
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise _rules_error(path, key, "có mặt", _ABSENT)
            node = node[part]
        return node

    def number(key: str, *, integer: bool = False, low: float = 0.0,
               high: float = math.inf) -> float:
        value = get(key)
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and integer:
            ok = float(value).is_integer()
        if not ok or not (low <= float(value) <= high):
            kind = "một số nguyên" if integer else "một số"
            bound = f" từ {fmt_num(low)}" + ("" if high == math.inf else f" đến {fmt_num(high)}")
            raise _rules_error(path, key, kind + bound, value)
        return float(value)

    known = {"sessions_per_semester", "mid_point_date", "flag_min_score", "rules", "off_track"}
    for key in raw:
        if key not in known:
            raise _rules_error(path, str(key), "một trong " + ", ".join(sorted(known)),
                               key)
    rules_node = get("rules")
    if not isinstance(rules_node, dict):
        raise _rules_error(path, "rules", "một bảng các quy tắc", rules_node)
    for key in rules_node:
        if key not in RULE_KEYS:
            raise _rules_error(path, f"rules.{key}", "một trong " + ", ".join(RULE_KEYS), key)
    mid_date = str(get("mid_point_date"))
    try:
        pd.Timestamp(f"2000-{mid_date}")
    except ValueError as exc:
        raise _rules_error(path, "mid_point_date", "một ngày dạng tháng-ngày, ví dụ \"01-15\"",
                           mid_date) from exc
    return Rules(
        sessions_per_semester=int(number("sessions_per_semester", integer=True, low=1)),
        mid_point_date=mid_date,
        flag_min_score=number("flag_min_score", low=0),
        weights={k: number(f"rules.{k}.weight", low=0) for k in RULE_KEYS},
        absences_mid_min=int(number("rules.absences.mid_min_sessions", integer=True, low=1)),
        absences_end_min=int(number("rules.absences.end_min_sessions", integer=True, low=1)),
        fall_min_levels=int(number("rules.result_fall.min_levels", integer=True, low=1, high=3)),
        over_age_min_years=int(number("rules.over_age.min_years", integer=True, low=1)),
        off_track_absence_share=number("off_track.absence_share", low=0, high=1),
    )


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------

def _pupils_of(data: Dataset | pd.DataFrame) -> pd.DataFrame:
    return data.pupils if isinstance(data, Dataset) else data


def _prepared(pupils: pd.DataFrame) -> pd.DataFrame:
    """A working copy with plain dtypes (float NaN for numbers, object for labels)."""
    if pupils.attrs.get("warn_prepared"):
        return pupils
    p = pupils.copy()
    for col in ("absences_s1", "absences_s2", "grade"):
        p[col] = pd.to_numeric(p[col], errors="coerce").astype(float)
    for col in ("learning_s1", "conduct_s1", "learning_year", "conduct_year", "outcome",
                "class_name", "full_name", "pupil_id", "ethnicity", "sex", "school_code",
                "school_year"):
        p[col] = p[col].astype(object).where(p[col].notna(), None)
    for col in ("birth_date", "leave_date", "entry_date"):
        p[col] = pd.to_datetime(p[col], errors="coerce")
    for col in ("poor", "near_poor", "disability", "special_circumstances"):
        p[col] = p[col].astype("boolean")
    p.attrs["warn_prepared"] = True
    return p


def _level(series: pd.Series) -> pd.Series:
    return series.map(lambda v: RESULT_LEVEL.get(v, math.nan) if isinstance(v, str)
                      else math.nan).astype(float)


def _in_scope(year_rows: pd.DataFrame, school_year: str, point: Point, rules: Rules) -> pd.Series:
    """Pupils still at school at the point (those who already left are not flagged)."""
    outcome = year_rows["outcome"]
    if point == "end":
        return ~outcome.isin(LEFT | {"completed"})
    left_before = year_rows["leave_date"].isna() | (
        year_rows["leave_date"] <= rules.mid_date(school_year))
    return ~(outcome.isin(LEFT) & left_before)


# --------------------------------------------------------------------------------------------
# Reconciliation across consecutive years
# --------------------------------------------------------------------------------------------

#: check → Vietnamese description (one list: :data:`locson_analysis.crossyear.CHECKS`).
CHECK_LABELS: dict[str, str] = {k: v[0] for k, v in crossyear.CHECKS.items()}
RECONCILE_COLUMNS = ["school_code", "school_year", "next_year", "check", "pupil_id",
                     "full_name", "class_name", "detail"]


def reconcile(pupils: pd.DataFrame) -> pd.DataFrame:
    """Records that do not add up across consecutive years, with names (internal list).

    The findings are :func:`locson_analysis.crossyear.check_all`'s (hidden dropouts, pupils
    back after leaving — also after a gap year —, grades that do not follow the outcome,
    changed birth date or sex); this adds the pupil's name for staff.
    """
    found = crossyear.check_all(pupils).rename(columns={"check_name": "check"})
    names = (pupils.sort_values("school_year")
             .drop_duplicates(["school_code", "pupil_id"], keep="last")
             [["school_code", "pupil_id", "full_name"]])
    out = found.merge(names, on=["school_code", "pupil_id"], how="left")
    return out[RECONCILE_COLUMNS]


def reconcile_counts(found_or_pupils: pd.DataFrame) -> pd.DataFrame:
    """Counts by year pair and check (no names or IDs: this may go to the PGD report).

    Accepts the output of :func:`reconcile` or a pupils table (reconciled first).
    """
    found = (found_or_pupils if "check" in found_or_pupils.columns
             else reconcile(found_or_pupils))
    cols = ["school_code", "school_year", "next_year", "check", "label", "count"]
    if found.empty:
        return pd.DataFrame(columns=cols)
    c = (found.groupby(["school_code", "school_year", "next_year", "check"], as_index=False)
         .size().rename(columns={"size": "count"}))
    c["label"] = c["check"].map(CHECK_LABELS)
    return c[cols]


# --------------------------------------------------------------------------------------------
# Rule inputs and flags
# --------------------------------------------------------------------------------------------

def rule_inputs(pupils: pd.DataFrame, school_year: str, point: Point,
                rules: Rules | None = None) -> pd.DataFrame:
    """The values every rule looks at, for the pupils at school in ``school_year`` at ``point``.

    Columns (besides identity and context): ``absences`` (S1 at mid-year, S1 + S2 at the end;
    NaN when missing), ``absence_share``, ``learning``, ``conduct`` (labels) and their
    ``*_level`` (0–3), ``prev_learning``/``prev_conduct`` (the previous term), ``fall_levels``
    (largest fall, learning or conduct), ``repeat_year`` (the year of a repeated grade: this
    year at the end point, or last year), ``over_age_years``, ``returned_from`` (year and kind
    of an earlier leaving) and the missing-data markers.  Shared by :func:`flag` and the model.
    """
    if point not in ("mid", "end"):
        raise LocsonError(f"Thời điểm cảnh báo «{point}» không hợp lệ: chỉ dùng mid hoặc end.")
    rules = rules or load_rules()
    p = _prepared(pupils)
    cur = p[p["school_year"] == school_year]
    cur = cur[_in_scope(cur, school_year, point, rules)].copy()
    prev_year = previous_year(school_year)
    prev = p[p["school_year"] == prev_year][
        ["school_code", "pupil_id", "grade", "learning_year", "conduct_year", "outcome"]
    ].rename(columns={"grade": "prev_grade", "learning_year": "last_learning_year",
                      "conduct_year": "last_conduct_year", "outcome": "prev_outcome"})
    prev = prev.drop_duplicates(["school_code", "pupil_id"])
    cur = cur.merge(prev, on=["school_code", "pupil_id"], how="left")

    if point == "mid":
        cur["absences"] = cur["absences_s1"]
        cur["learning"], cur["conduct"] = cur["learning_s1"], cur["conduct_s1"]
        cur["prev_learning"], cur["prev_conduct"] = cur["last_learning_year"], cur[
            "last_conduct_year"]
        prev_term = f"cả năm {prev_year}"
    else:
        cur["absences"] = cur["absences_s1"] + cur["absences_s2"]  # NaN if either is missing
        cur["learning"], cur["conduct"] = cur["learning_year"], cur["conduct_year"]
        cur["prev_learning"], cur["prev_conduct"] = cur["learning_s1"], cur["conduct_s1"]
        prev_term = "HK1"
    cur["prev_term"] = prev_term
    cur["absence_share"] = cur["absences"] / rules.sessions(point)
    for what in ("learning", "conduct"):
        cur[f"{what}_level"] = _level(cur[what])
        cur[f"prev_{what}_level"] = _level(cur[f"prev_{what}"])
        cur[f"{what}_fall"] = (cur[f"prev_{what}_level"] - cur[f"{what}_level"]).clip(lower=0)
    cur["fall_levels"] = cur[["learning_fall", "conduct_fall"]].max(axis=1).fillna(0.0)

    repeat_this = (cur["outcome"] == "repeating") if point == "end" else pd.Series(
        False, index=cur.index)
    repeat_last = (cur["prev_outcome"] == "repeating") | (
        cur["prev_grade"].notna() & (cur["prev_grade"] == cur["grade"]))
    cur["repeat_year"] = None
    cur.loc[repeat_last, "repeat_year"] = prev_year
    cur.loc[repeat_this, "repeat_year"] = school_year

    birth_year = cur["birth_date"].dt.year.astype(float)
    cur["over_age_years"] = (start_year(school_year) - birth_year) - (cur["grade"] + 5)

    cur["returned_from"] = _returned_from(p, cur, school_year)

    cur["missing_absences"] = cur["absences"].isna()
    cur["missing_learning"] = cur["learning_level"].isna()
    cur["missing_conduct"] = cur["conduct_level"].isna()
    cur["minority"] = cur["ethnicity"].map(
        lambda e: None if e is None else str(e).strip().casefold() != "kinh").astype("boolean")
    cur["point"] = point
    return cur.reset_index(drop=True)


def _returned_from(p: pd.DataFrame, cur: pd.DataFrame, school_year: str) -> pd.Series:
    """Text naming an earlier leaving for pupils who came back (None otherwise)."""
    keys = ["school_code", "pupil_id"]
    earlier = p[p["school_year"] < school_year]
    left = (earlier[earlier["outcome"].isin(LEFT)].sort_values("school_year")
            .drop_duplicates(keys, keep="last")[[*keys, "school_year", "outcome"]]
            .rename(columns={"school_year": "left_year", "outcome": "left_outcome"}))
    seen = earlier[keys].drop_duplicates().assign(seen=True)
    prev_year = previous_year(school_year)
    in_prev = earlier[earlier["school_year"] == prev_year][keys].drop_duplicates().assign(
        in_prev=True)
    m = (cur[keys].merge(left, on=keys, how="left").merge(seen, on=keys, how="left")
         .merge(in_prev, on=keys, how="left"))
    out: list[str | None] = []
    for left_year, left_outcome, was_seen, was_prev in zip(
            m["left_year"], m["left_outcome"], m["seen"], m["in_prev"], strict=True):
        if isinstance(left_year, str):
            verb = "bỏ học" if left_outcome == "dropped_out" else "chuyển đi"
            out.append(f"đã {verb} năm học {left_year}, nay học lại")
        elif pd.notna(was_seen) and pd.isna(was_prev):
            out.append(f"không có tên năm học {prev_year}, nay học lại")
        else:
            out.append(None)
    return pd.Series(out, index=cur.index, dtype=object)


def _rule_hits(x: pd.DataFrame, point: Point, rules: Rules) -> pd.DataFrame:
    limit = rules.absences_mid_min if point == "mid" else rules.absences_end_min
    hits = pd.DataFrame(index=x.index)
    hits["absences"] = x["absences"].ge(limit).fillna(False)
    hits["learning_not_passed"] = x["learning"].isin(NOT_PASSED)
    hits["conduct_not_passed"] = x["conduct"].isin(NOT_PASSED)
    hits["result_fall"] = x["fall_levels"].ge(rules.fall_min_levels)
    hits["repeating"] = x["repeat_year"].notna()
    hits["over_age"] = x["over_age_years"].ge(rules.over_age_min_years).fillna(False)
    hits["returned"] = x["returned_from"].notna()
    return hits.astype(bool)


def rule_score(x: pd.DataFrame, point: Point, rules: Rules) -> pd.Series:
    """The weighted number of rules hit, for rows of :func:`rule_inputs`."""
    hits = _rule_hits(x, point, rules)
    return sum((hits[k] * float(rules.weights[k]) for k in RULE_KEYS),
               start=pd.Series(0.0, index=x.index))


def _reasons(r: pd.Series, hits: pd.Series, point: Point) -> list[str]:
    term = TERM[point]
    out: list[str] = []
    if hits["absences"]:
        out.append(f"nghỉ {int(r['absences'])} buổi {term}")
    if hits["learning_not_passed"]:
        out.append(f"học tập {term} {r['learning']}")
    if hits["conduct_not_passed"]:
        out.append(f"rèn luyện {term} {r['conduct']}")
    if hits["result_fall"]:
        for what, name in (("learning", "học tập"), ("conduct", "rèn luyện")):
            fall = r[f"{what}_fall"]
            if not pd.isna(fall) and fall >= 1 and fall == r["fall_levels"]:
                out.append(f"{name} giảm từ {r[f'prev_{what}']} ({r['prev_term']}) xuống "
                           f"{r[what]} ({term})")
    if hits["repeating"]:
        when = "năm học này" if r["repeat_year"] == r["school_year"] else (
            f"năm học {r['repeat_year']}")
        out.append(f"ở lại lớp {when}")
    if hits["over_age"]:
        out.append(f"quá tuổi {int(r['over_age_years'])} năm so với khối {int(r['grade'])}")
    if hits["returned"]:
        out.append(str(r["returned_from"]))
    return out


def _missing(r: pd.Series, point: Point) -> list[str]:
    term = TERM[point]
    out: list[str] = []
    if r["missing_absences"]:
        out.append(f"chưa có số buổi nghỉ {term}")
    if r["missing_learning"] and r["missing_conduct"]:
        out.append(f"chưa có kết quả {term}")
    elif r["missing_learning"]:
        out.append(f"chưa có kết quả học tập {term}")
    elif r["missing_conduct"]:
        out.append(f"chưa có kết quả rèn luyện {term}")
    return out


def _context_text(r: pd.Series) -> str:
    parts = []
    for col in CONTEXT_COLUMNS:
        if col in r and r[col] is not pd.NA and not pd.isna(r[col]) and bool(r[col]):
            parts.append(f"Dân tộc {r['ethnicity']}" if col == "minority"
                         else CONTEXT_LABELS[col])
    return "; ".join(parts)


FLAG_COLUMNS = [
    "school_code", "school_year", "point", "class_name", "grade", "pupil_id", "full_name",
    "sex", "listed", "flagged", "score", "reasons", "data_status", "missing",
    *[f"rule_{k}" for k in RULE_KEYS],
    "absences", "absence_share", "learning", "conduct",
    "context", "poor", "near_poor", "ethnicity", "minority", "disability",
    "special_circumstances",
]


def flag(data: Dataset | pd.DataFrame, school_year: str, point: Point,
         rules: Rules | None = None) -> pd.DataFrame:
    """Apply the warning rules to every pupil at school in ``school_year`` at ``point``.

    ``point="mid"`` uses semester-1 absences and results (and last year's year results for the
    fall); ``point="end"`` uses the whole year's.  One row per pupil still at school (pupils
    who already dropped out or transferred out, and grade-9 pupils who completed at the end
    point, are left out), sorted with the listed pupils first:

    * ``score``: the sum of the weights of the rules hit; ``flagged``: score ≥
      ``rules.flag_min_score``; ``rule_<key>``: which rules were hit;
    * ``reasons``: the rules hit in plain Vietnamese with their values, then what is missing
      ("nghỉ 23 buổi HK1; học tập HK1 Chưa đạt"; "chưa có kết quả HK1");
    * ``data_status``: "thiếu số liệu" when absences or results are missing; such pupils are
      ``listed`` for checking whatever their score (missing is never taken as low risk);
    * context (``poor``, ``near_poor``, ``ethnicity``/``minority``, ``disability``,
      ``special_circumstances`` and the text ``context``) to route support — it never enters
      the score.
    """
    rules = rules or load_rules()
    x = rule_inputs(_pupils_of(data), school_year, point, rules)
    if x.empty:
        return pd.DataFrame(columns=FLAG_COLUMNS)
    hits = _rule_hits(x, point, rules)
    x["score"] = rule_score(x, point, rules)
    x["flagged"] = x["score"] >= rules.flag_min_score
    reasons, missing = [], []
    for i, r in x.iterrows():
        reasons.append(_reasons(r, hits.loc[i], point))
        missing.append(_missing(r, point))
    x["missing"] = ["; ".join(m) for m in missing]
    x["reasons"] = ["; ".join(a + m) for a, m in zip(reasons, missing, strict=True)]
    x["data_status"] = [MISSING_MARK if m else "" for m in missing]
    x["listed"] = x["flagged"] | (x["data_status"] == MISSING_MARK)
    for k in RULE_KEYS:
        x[f"rule_{k}"] = hits[k]
    x["context"] = x.apply(_context_text, axis=1)
    x["grade"] = x["grade"].astype("Int64")
    out = x[FLAG_COLUMNS].sort_values(
        ["listed", "score", "class_name", "full_name"], ascending=[False, False, True, True],
        ignore_index=True)
    return out


# --------------------------------------------------------------------------------------------
# The internal run: list by class, changes since the last run, interventions, back-test
# --------------------------------------------------------------------------------------------

SNAPSHOT_NAME = "canh_bao_lan_truoc.csv"
SNAPSHOT_COLUMNS = ["school_code", "school_year", "point", "run_at", "class_name", "pupil_id",
                    "full_name", "score", "reasons"]
CHANGE_NEW = "Mới vào danh sách"
CHANGE_RESOLVED = "Không còn trong danh sách"
CHANGE_SAME = "Đã có ở lần trước"

#: Vietnamese headers of the list staff read (HTML and Excel).
LIST_HEADERS: dict[str, str] = {
    "class_name": "Lớp", "priority": "Thứ tự ưu tiên", "pupil_id": "Mã học sinh",
    "full_name": "Họ và tên", "score": "Điểm quy tắc", "reasons": "Lý do",
    "data_status": "Số liệu", "model_explanation": "Yếu tố chính (mô hình)",
    "context": "Hoàn cảnh (để định hướng hỗ trợ)", "last_action": "Can thiệp gần nhất",
    "change": "So với lần trước",
}


@dataclass
class WarningRun:
    """One run of the early warning: everything the internal report and the Excel list show.

    flags:          every pupil at school at the point (see :func:`flag`) plus ``priority``,
                    ``model_probability``/``model_explanation`` (when the model is used),
                    ``last_action``/``no_action`` and ``change``
    listed:         the pupils to look at (flagged or missing data), by class then priority
    changes:        new and resolved flags since the previous run
    earlier:        pupils flagged at the end of the previous year and what became of them
    reconciled:     records that do not add up across years (:func:`reconcile`)
    backtest:       the back-test (``warn_model.BacktestResult``) and ``backtest_text``
    """

    school_year: str
    point: Point
    capacity: int
    run_at: pd.Timestamp
    ranking: Literal["model", "rules"]
    flags: pd.DataFrame
    listed: pd.DataFrame
    changes: pd.DataFrame
    previous_run: str | None
    earlier: pd.DataFrame
    reconciled: pd.DataFrame
    backtest: Any
    backtest_text: list[str]

    def list_columns(self) -> list[str]:
        """The columns of the list staff read (explanations only when the model ranks)."""
        cols = [c for c in LIST_HEADERS if c in self.listed.columns]
        if self.ranking != "model":
            cols.remove("model_explanation")
        if not self.listed["change"].astype(bool).any():
            cols.remove("change")
        return cols

    def by_class(self) -> dict[str, pd.DataFrame]:
        """The listed pupils of each class, with Vietnamese headers (for homeroom teachers)."""
        cols = [c for c in self.list_columns() if c != "class_name"]
        return {str(k): g[cols].rename(columns=LIST_HEADERS).reset_index(drop=True)
                for k, g in self.listed.groupby("class_name", sort=True)}

    def headline(self) -> list[str]:
        """A few sentences for the top of the report (Vietnamese)."""
        n_all, n_listed = len(self.flags), len(self.listed)
        n_missing = int((self.listed["data_status"] == MISSING_MARK).sum())
        n_new = int((self.changes["change"] == CHANGE_NEW).sum()) if len(self.changes) else 0
        n_res = int((self.changes["change"] == CHANGE_RESOLVED).sum()) if len(
            self.changes) else 0
        no_action = int(self.listed["no_action"].sum()) if n_listed else 0
        out = [f"Năm học {self.school_year}, thời điểm {POINT_LABELS[self.point]}: "
               f"{fmt_num(n_listed)} trên {fmt_num(n_all)} học sinh đang học cần được quan "
               f"tâm ({fmt_num(n_listed - n_missing)} em chạm quy tắc cảnh báo, "
               f"{fmt_num(n_missing)} em thiếu số liệu cần kiểm tra)."]
        if self.previous_run:
            out.append(f"So với lần chạy trước ({self.previous_run}): {fmt_num(n_new)} em mới "
                       f"vào danh sách, {fmt_num(n_res)} em không còn trong danh sách.")
        else:
            out.append("Đây là lần chạy đầu tiên: chưa có danh sách trước để so sánh.")
        out.append(f"{fmt_num(no_action)} em trong danh sách chưa có ghi nhận can thiệp nào "
                   f"trong năm học này.")
        order = ("mô hình xếp hạng (đã kiểm chứng tốt hơn quy tắc)" if self.ranking == "model"
                 else "điểm quy tắc")
        out.append(f"Thứ tự ưu tiên theo {order}; {self.capacity} em đầu là số em nhà trường "
                   f"có thể theo dõi sát.")
        return out


def _fmt_date(value: object) -> str:
    return "" if pd.isna(value) else pd.Timestamp(value).strftime("%d/%m/%Y")


def _actions(interventions: pd.DataFrame | None, school_year: str) -> pd.DataFrame:
    """The latest action of this school year for each pupil (text), from the staff log."""
    cols = ["school_code", "pupil_id", "last_action", "actions"]
    if interventions is None or interventions.empty:
        return pd.DataFrame(columns=cols)
    iv = interventions[interventions["school_year"] == school_year].copy()
    if iv.empty:
        return pd.DataFrame(columns=cols)
    iv["action_date"] = pd.to_datetime(iv["action_date"], errors="coerce")
    iv = iv.sort_values("action_date")
    rows = []
    for (school, pid), g in iv.groupby(["school_code", "pupil_id"], sort=False):
        r = g.iloc[-1]
        text = f"{_fmt_date(r['action_date'])}: {r['action']}"
        if isinstance(r.get("staff"), str) and r["staff"]:
            text += f" ({r['staff']})"
        if isinstance(r.get("result"), str) and r["result"]:
            text += f" — {r['result']}"
        rows.append({"school_code": school, "pupil_id": pid, "last_action": text,
                     "actions": len(g)})
    return pd.DataFrame(rows, columns=cols)


def read_previous(out_dir: str | Path, school_year: str) -> pd.DataFrame | None:
    """The flag list kept by the previous run (this year's folder, else last year's)."""
    base = Path(out_dir)
    for year in (school_year, previous_year(school_year)):
        path = base / year / SNAPSHOT_NAME
        if path.exists():
            return safe_cells.restore_frame(pd.read_csv(
                path, dtype={"pupil_id": str, "school_code": str, "class_name": str}))
    return None


def _changes(listed: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    cols = ["change", "class_name", "pupil_id", "full_name", "reasons"]
    if previous is None:
        return pd.DataFrame(columns=cols)
    before = set(zip(previous["school_code"], previous["pupil_id"], strict=True))
    now = set(zip(listed["school_code"], listed["pupil_id"], strict=True))
    new = listed[[k not in before for k in zip(listed["school_code"], listed["pupil_id"],
                                                strict=True)]]
    gone = previous[[k not in now for k in zip(previous["school_code"], previous["pupil_id"],
                                                strict=True)]]
    out = pd.concat([
        new.assign(change=CHANGE_NEW)[cols],
        gone.assign(change=CHANGE_RESOLVED,
                    reasons="trước đây: " + gone["reasons"].fillna("").astype(str))[cols],
    ], ignore_index=True)
    return out.sort_values(["change", "class_name", "pupil_id"], ignore_index=True)


def _earlier_flags(p: pd.DataFrame, school_year: str, rules: Rules,
                   interventions: pd.DataFrame | None) -> pd.DataFrame:
    """Pupils flagged at the end of last year, and what became of them this year."""
    cols = ["class_name", "pupil_id", "full_name", "reasons", "had_action", "now", "still_listed"]
    last = previous_year(school_year)
    if last not in set(p["school_year"]):
        return pd.DataFrame(columns=cols)
    before = flag(p, last, "end", rules)
    before = before[before["flagged"]]
    if before.empty:
        return pd.DataFrame(columns=cols)
    this = p[p["school_year"] == school_year].drop_duplicates(["school_code", "pupil_id"])
    this = this.set_index(["school_code", "pupil_id"])
    acted: set[tuple[str, str]] = set()
    if interventions is not None and len(interventions):
        iv = interventions[interventions["school_year"].isin([last, school_year])]
        acted = set(zip(iv["school_code"], iv["pupil_id"], strict=True))
    rows = []
    for _, r in before.iterrows():
        key = (r["school_code"], r["pupil_id"])
        if key in this.index:
            t = this.loc[key]
            outcome = t["outcome"]
            if outcome == "in_progress":
                now = f"đang học lớp {t['class_name']}"
            else:
                now = f"{OUTCOME_LABELS.get(outcome, outcome)} (lớp {t['class_name']})"
        else:
            now = "không có tên năm nay (cần xác minh)"
        rows.append({"class_name": r["class_name"], "pupil_id": r["pupil_id"],
                     "full_name": r["full_name"], "reasons": r["reasons"],
                     "had_action": key in acted, "now": now})
    out = pd.DataFrame(rows)
    out["still_listed"] = False
    return out.reindex(columns=cols)


def check_year(pupils: pd.DataFrame, school_year: str, point: Point) -> None:
    """A clear error when the year has no pupils, or has not ended for an end-of-year run."""
    if point not in ("mid", "end"):
        raise LocsonError(f"Thời điểm cảnh báo «{point}» không hợp lệ: chỉ dùng mid hoặc end.")
    year = pupils[pupils["school_year"] == school_year]
    if year.empty:
        raise LocsonError(f"Chưa có danh sách học sinh năm học {school_year} trong cơ sở dữ "
                          f"liệu. Hãy nhập dữ liệu năm học này trước.")
    if point == "end" and year["outcome"].eq("in_progress").any():
        raise LocsonError(f"Năm học {school_year} chưa kết thúc (còn học sinh «Đang học»), nên "
                          f"chưa có kết quả cả năm. Hãy chạy cảnh báo giữa năm: "
                          f"locson warn --year {school_year} --point mid.")


def build_run(ds: Dataset, school_year: str, point: Point, capacity: int = 30,
              rules: Rules | None = None, previous: pd.DataFrame | None = None,
              previous_label: str | None = None, seed: int = 0) -> WarningRun:
    """Everything one run shows, computed from the data (no files written)."""
    from . import warn_model

    rules = rules or load_rules()
    p = _prepared(ds.pupils)
    check_year(p, school_year, point)
    # As the school saw it then: later years (if any) play no part in this run.
    p = p[p["school_year"] <= school_year]
    flags = flag(p, school_year, point, rules)
    bt = warn_model.backtest(p, capacity=capacity, seed=seed, rules=rules)
    ranking: Literal["model", "rules"] = "rules"
    scored = None
    if bt.use_model.get(point):
        scored = warn_model.score_year(p, school_year, point, rules, seed=seed)
        ranking = "model" if scored is not None else "rules"
    if scored is not None:
        flags = flags.merge(scored, on=["school_code", "pupil_id"], how="left")
        order = flags["model_probability"].fillna(-1.0)
    else:
        flags["model_probability"] = math.nan
        flags["model_explanation"] = ""
        order = flags["score"]
    # Priority among the listed pupils (listed pupils come first after sorting).
    flags["_order"] = order
    flags = flags.sort_values(["listed", "_order", "score"], ascending=[False, False, False],
                              kind="stable", ignore_index=True)
    flags["priority"] = pd.array([i + 1 if listed else pd.NA
                                  for i, listed in enumerate(flags["listed"])], dtype="Int64")
    flags = flags.drop(columns="_order")
    acts = _actions(ds.interventions, school_year)
    flags = flags.merge(acts, on=["school_code", "pupil_id"], how="left")
    flags["no_action"] = flags["last_action"].isna()
    flags["last_action"] = flags["last_action"].fillna("chưa có")
    listed = flags[flags["listed"]].copy()
    changes = _changes(listed, previous)
    if previous is not None:
        before = set(zip(previous["school_code"], previous["pupil_id"], strict=True))
        listed["change"] = [CHANGE_SAME if k in before else CHANGE_NEW
                            for k in zip(listed["school_code"], listed["pupil_id"], strict=True)]
    else:
        listed["change"] = ""
    listed = listed.sort_values(["class_name", "priority"], ignore_index=True)
    earlier = _earlier_flags(p, school_year, rules, ds.interventions)
    if len(earlier):
        now_listed = set(listed["pupil_id"])
        earlier["still_listed"] = earlier["pupil_id"].isin(now_listed)
    return WarningRun(
        school_year=school_year, point=point, capacity=capacity,
        run_at=pd.Timestamp.now().floor("s"), ranking=ranking, flags=flags, listed=listed,
        changes=changes, previous_run=previous_label, earlier=earlier,
        reconciled=reconcile(p), backtest=bt, backtest_text=warn_model.describe(bt))


def _snapshot(run: WarningRun) -> pd.DataFrame:
    s = run.listed.copy()
    s["point"] = run.point
    s["run_at"] = run.run_at.isoformat()
    return s[SNAPSHOT_COLUMNS]


def internal_dir(out_dir: str | Path, school_year: str) -> Path:
    """``out_dir/<year>``, refusing any folder outside an ``internal`` folder."""
    base = Path(out_dir).resolve()
    if "internal" not in base.parts:
        raise LocsonError(
            f"Danh sách học sinh có nguy cơ bỏ học là tài liệu NỘI BỘ: chỉ được ghi vào thư mục "
            f"outputs/internal (hoặc một thư mục con tên «internal»), không ghi vào {base}.")
    return base / school_year


def write_excel(run: WarningRun, path: str | Path) -> Path:
    """The counsellor's list: one sheet with a class column, a "NỘI BỘ" title on every sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    path = Path(path)
    wb = Workbook()
    title = INTERNAL_MARK
    sub = (f"Danh sách học sinh cần quan tâm (nguy cơ bỏ học) — năm học {run.school_year} — "
           f"{POINT_LABELS[run.point]} — lập ngày {run.run_at:%d/%m/%Y}")
    sheets = [("Danh sách", run.listed, run.list_columns(), LIST_HEADERS)]
    change_headers = {"change": "Thay đổi", "class_name": "Lớp", "pupil_id": "Mã học sinh",
                      "full_name": "Họ và tên", "reasons": "Lý do"}
    sheets.append(("Thay đổi", run.changes, list(change_headers), change_headers))
    rec_headers = {"next_year": "Năm học", "check": "Loại", "class_name": "Lớp",
                   "pupil_id": "Mã học sinh", "full_name": "Họ và tên", "detail": "Chi tiết"}
    rec = run.reconciled.assign(check=run.reconciled["check"].map(CHECK_LABELS))
    sheets.append(("Đối chiếu số liệu", rec, list(rec_headers), rec_headers))
    for i, (name, df, keys, headers) in enumerate(sheets):
        ws = wb.active if i == 0 else wb.create_sheet()
        ws.title = name
        ws.append([title])
        ws["A1"].font = Font(bold=True, color="B71C1C", size=13)
        ws.append([sub])
        ws.append([])
        ws.append([headers[k] for k in keys])
        for cell in ws[4]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="ECEFF1")
        for row in df[keys].itertuples(index=False):
            ws.append([None if (not isinstance(v, str) and pd.isna(v)) else
                       (float(v) if isinstance(v, float) else v) for v in row])
        ws.freeze_panes = "A5"
        for j, key in enumerate(keys, start=1):
            letter = ws.cell(row=4, column=j).column_letter
            ws.column_dimensions[letter].width = 60 if key in (
                "reasons", "detail", "model_explanation", "last_action") else 18
        for r in ws.iter_rows(min_row=5):
            for cell in r:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.oddHeader.center.text = INTERNAL_MARK
        ws.evenHeader.center.text = INTERNAL_MARK
    safe_cells.protect_workbook(wb)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def file_stem(school_year: str, point: Point) -> str:
    return f"canh_bao_{school_year}_{'giua_nam' if point == 'mid' else 'cuoi_nam'}"


def prepare(db_path: str | Path | None, school_year: str, point: Point, capacity: int = 30,
            output_dir: str | Path = config.INTERNAL_OUTPUTS_DIR,
            rules_path: str | Path | None = None, seed: int = 0,
            school_code: str | None = None) -> WarningRun:
    """What the notebook calls: load, compute, write the Excel list and the flag snapshot.

    ``school_code`` keeps one school of a database that holds several (default: all rows).

    The previous run's list (``outputs/internal/<year>/canh_bao_lan_truoc.csv``, or last
    year's) is read before being replaced, so the report shows what changed.
    """
    from . import store

    year_dir = internal_dir(output_dir, school_year)
    rules = load_rules(rules_path)
    ds = store.load(db_path, school_code=school_code or None, with_names=True)
    previous = read_previous(output_dir, school_year)
    label = None
    if previous is not None and len(previous):
        when = pd.Timestamp(previous["run_at"].iloc[0])
        label = (f"{when:%d/%m/%Y %H:%M}, năm học {previous['school_year'].iloc[0]}, "
                 f"{POINT_LABELS.get(str(previous['point'].iloc[0]), '')}")
    elif previous is not None:
        label = "danh sách trống"
    run = build_run(ds, school_year, point, capacity, rules, previous, label, seed)
    year_dir.mkdir(parents=True, exist_ok=True)
    write_excel(run, year_dir / f"{file_stem(school_year, point)}.xlsx")
    safe_cells.write_csv(_snapshot(run), year_dir / SNAPSHOT_NAME, index=False,
                         encoding="utf-8")
    return run


WARNING_NOTEBOOK = config.NOTEBOOKS_DIR / "early_warning.ipynb"
_PRINT_CSS = """<style type="text/css">
.locson-internal { border: 2px solid #b71c1c; color: #b71c1c; background: #ffebee;
  font-weight: bold; text-align: center; padding: 6px; margin: 8px 0 14px 0; }
.locson-internal-fixed { display: none; }
@media print {
  .locson-internal-fixed { display: block; position: fixed; top: 0; left: 0; right: 0;
    text-align: center; font-weight: bold; color: #b71c1c; background: #fff;
    border-bottom: 1px solid #b71c1c; padding: 2px 0; font-size: 10pt; }
  body.jp-Notebook { padding-top: 10mm; }
  @page { margin-top: 20mm; }
}
</style>
"""


def _mark_internal(html: str) -> str:
    """Add the "NỘI BỘ" header fixed on every printed page, and the on-screen mark at the top
    unless the notebook already shows it (once, not twice)."""
    head = _PRINT_CSS
    html = html.replace("</head>", head + "</head>", 1)
    banner = f'<div class="locson-internal-fixed">{INTERNAL_MARK}</div>'
    if 'class="locson-internal"' not in html:  # the notebook shows its own on-screen mark
        banner += f'<div class="locson-internal">{INTERNAL_MARK}</div>'
    if "<main>" in html:
        html = html.replace("<main>", "<main>" + banner, 1)
    else:
        idx = html.index(">", html.index("<body")) + 1
        html = html[:idx] + banner + html[idx:]
    return html


def run_warning(school_year: str, point: Point = "end", db: str | Path | None = None,
                out_dir: str | Path = config.INTERNAL_OUTPUTS_DIR,
                capacity: int = 30, school_code: str | None = None) -> list[Path]:
    """Run the early-warning notebook and export the internal report.

    Writes to ``out_dir/<year>/`` (which must lie under an ``internal`` folder): the HTML
    report (code hidden, "NỘI BỘ — không gửi ra ngoài trường" on every page), the Excel list
    for the counsellor, the executed notebook (audit copy; it holds names, so it stays here)
    and the small flag snapshot used to show changes next time.  Returns
    ``[html, xlsx, executed notebook]``.  ``school_code``: the school (default: Lộc Sơn, or the
    database's only school); another school of a database holding several writes to
    ``out_dir/<school>/<year>/``.
    """
    import tempfile

    from . import schools, store

    db = Path(db) if db else config.DEFAULT_DB
    internal_dir(out_dir, school_year)  # refuse a folder outside "internal" before anything
    ds = store.load(db)  # only to choose the school and check the year: no names needed
    codes = schools.codes_in(ds.pupils, ds.school, ds.population)
    code = schools.choose_school(codes, school_code or None)
    if len(codes) > 1 and code != DEFAULT_SCHOOL:
        out_dir = config.inside(out_dir, Path(out_dir) / code)
    year_dir = internal_dir(out_dir, school_year)
    check_year(ds.for_school(code).pupils, school_year, point)  # fail fast, before the notebook
    from . import run as runner  # papermill and nbconvert load slowly: only when needed
    year_dir.mkdir(parents=True, exist_ok=True)
    stem = file_stem(school_year, point)
    html_path, xlsx_path = year_dir / f"{stem}.html", year_dir / f"{stem}.xlsx"
    nb_path = year_dir / f"{stem}.ipynb"
    params = {"school_year": school_year, "point": point, "capacity": int(capacity),
              "db_path": str(db.resolve()), "output_dir": str(Path(out_dir).resolve()),
              "school_code": code}
    with tempfile.TemporaryDirectory(dir=year_dir, prefix=".tmp_") as tmp:
        executed = Path(tmp) / f"{stem}.ipynb"
        runner.execute_notebook(WARNING_NOTEBOOK, executed, params)
        title = (f"{INTERNAL_MARK} — Cảnh báo sớm nguy cơ bỏ học — năm học {school_year} "
                 f"({POINT_LABELS[point]})")
        tmp_html = Path(tmp) / f"{stem}.html"
        try:
            runner.export_html(executed, tmp_html, title)
        except LocsonError:
            raise
        except Exception as exc:
            raise LocsonError(f"Không xuất được HTML cảnh báo sớm: {exc}") from exc
        tmp_html.write_text(_mark_internal(tmp_html.read_text(encoding="utf-8")),
                            encoding="utf-8")
        tmp_html.replace(html_path)
        executed.replace(nb_path)
    return [html_path, xlsx_path, nb_path]
