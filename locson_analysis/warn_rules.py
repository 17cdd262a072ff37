"""Early-warning rules and the data they look at (internal only; no model, no report).

The lower layer of the early warning (``warn_rules`` → ``warn_data`` → ``warn_model`` →
``warn``):

* :func:`load_rules` — ``data/warning_rules.yaml`` (thresholds, weights, the training proxy and
  the evaluation protocol's fixed numbers), checked key by key;
* :func:`reconcile` — pupils whose records across consecutive years do not add up (hidden
  dropouts, pupils who came back after leaving, grades that do not follow the outcome);
* :func:`rule_inputs` / :func:`rule_score` / :func:`flag` — transparent rules applied after
  semester 1 (``point="mid"``) or at the end of the year (``point="end"``), each flag with its
  reasons in plain Vietnamese.

Context (poverty, ethnicity, disability, special circumstances) is shown beside the flags to
route support and never changes a score.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from . import config, crossyear
from .contract import previous_year, start_year
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
    held_out_years: int = 2
    min_events: int = 10
    bootstrap_samples: int = 1000

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
    raw = config.read_yaml(path, "Tệp quy tắc cảnh báo")
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

    known = {"sessions_per_semester", "mid_point_date", "flag_min_score", "rules", "off_track",
             "evaluation"}
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
        held_out_years=int(number("evaluation.held_out_years", integer=True, low=1)),
        min_events=int(number("evaluation.min_events", integer=True, low=1)),
        bootstrap_samples=int(number("evaluation.bootstrap_samples", integer=True, low=100)),
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
