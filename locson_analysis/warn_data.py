"""The early warning's units: one row per pupil, year and point, with both outcomes.

Above :mod:`locson_analysis.warn_rules` (rule inputs and scores), below the model and the
back-test (:mod:`locson_analysis.warn_model`).

Two outcomes, never confused:

* ``dropout`` — **the plan's outcome**, what every reported figure is about: the pupil drops out
  (recorded ``dropped_out``) or does not come back the next year without a recorded transfer or
  completion (the cross-year "hidden dropout"), within 12 months of the warning point.

  - ``point="mid"`` (the end of semester 1, ``Rules.mid_date``): a recorded dropout later in the
    same year; absent from the next year's list although promoted, repeating or not completed;
    or a recorded dropout next year with a leave date up to 12 months after the point (no
    leave date: counted).
  - ``point="end"``: absent from the next year's list (as above) or a recorded dropout during
    the next year.

  1.0/0.0; NaN when it cannot be known: the next year is not in the data or still in progress,
  the pupil transferred out (this year or next) or has no recorded outcome.  Completers are 0
  (they finished).

* ``proxy`` — **a training proxy**, named as such wherever it is shown: "off track" (dropped
  out, repeated or did not complete, learning result Chưa đạt/Yếu/Kém, or missed more than
  ``off_track.absence_share`` of the sessions).  At the end point it is about the next year
  (hidden dropouts count); at mid-year about the rest of the year (semester-2 absences only).
  Dropout is too rare to learn from at one school, so the model learns the proxy; it is judged
  on ``dropout``.
"""

from __future__ import annotations

import math

import pandas as pd

from .contract import next_year
from .warn_rules import (
    NOT_PASSED,
    STAYING,
    Point,
    Rules,
    _prepared,
    load_rules,
    rule_inputs,
    rule_score,
)

#: Vietnamese names of the two outcomes, for tables and sentences.
OUTCOME_LABELS = {
    "dropout": "bỏ học hoặc không trở lại trường trong vòng 12 tháng",
    "proxy": "chệch hướng (nhãn huấn luyện thay thế, không phải bỏ học)",
}

_KEYS = ["school_code", "pupil_id"]


def _finished(year_rows: pd.DataFrame) -> bool:
    return not year_rows.empty and not year_rows["outcome"].eq("in_progress").any()


def _off_track(rows: pd.DataFrame, rules: Rules, rest_of_year: bool = False) -> pd.Series:
    """The proxy: 1.0/0.0 for a finished year's records; NaN when unknown.

    ``rest_of_year`` (the mid-year proxy) counts semester-2 absences only, against the
    semester's sessions: semester-1 absences are what the mid-year flag already sees.
    """
    if rest_of_year:
        absences, sessions = rows["absences_s2"], rules.sessions("mid")
    else:
        absences, sessions = rows["absences_s1"] + rows["absences_s2"], rules.sessions("end")
    off = (rows["outcome"].isin({"dropped_out", "repeating", "not_completed"})
           | rows["learning_year"].isin(NOT_PASSED)
           | (absences > rules.off_track_absence_share * sessions).fillna(False))
    label = off.astype(float)
    if rows["outcome"].eq("in_progress").any():
        return pd.Series(math.nan, index=rows.index)
    unknown = rows["outcome"].eq("transferred_out") | rows["outcome"].isna()
    return label.mask(unknown)


def _labels(p: pd.DataFrame, x: pd.DataFrame, year: str, point: Point,
            rules: Rules) -> tuple[pd.Series, pd.Series]:
    """(dropout, proxy) for the rows ``x`` of ``rule_inputs`` of ``year`` at ``point``."""
    idx = x.index
    own = p[p["school_year"] == year].drop_duplicates(_KEYS)
    nxt_rows = p[p["school_year"] == next_year(year)].drop_duplicates(_KEYS)
    now = x[_KEYS].merge(own[[*_KEYS, "outcome", "leave_date", "absences_s1", "absences_s2",
                              "learning_year"]], on=_KEYS, how="left")
    later = x[_KEYS].merge(nxt_rows[[*_KEYS, "outcome", "leave_date", "absences_s1",
                                     "absences_s2", "learning_year"]],
                           on=_KEYS, how="left", indicator=True)
    outcome_now = now["outcome"]
    absent_next = later["_merge"].eq("left_only")
    hidden = absent_next & outcome_now.isin(STAYING)
    next_known = _finished(nxt_rows)

    # The plan's outcome.
    drop_next = later["outcome"].eq("dropped_out")
    if point == "mid":
        horizon = rules.mid_date(year) + pd.DateOffset(years=1)
        drop_next = drop_next & (later["leave_date"].isna() | (later["leave_date"] <= horizon))
        event = outcome_now.eq("dropped_out") | hidden | drop_next
    else:
        event = hidden | drop_next
    dropout = event.astype(float)
    dropout = dropout.mask(outcome_now.eq("transferred_out") | outcome_now.isna()
                           | (later["outcome"].eq("transferred_out") & ~event), math.nan)
    dropout = dropout.mask(outcome_now.eq("completed"), 0.0)
    if not next_known:  # the 12 months are not over: the whole year is unknown
        dropout = pd.Series(math.nan, index=now.index)

    # The training proxy.
    if point == "mid":
        proxy = _off_track(now, rules, rest_of_year=True)
    elif not next_known:
        proxy = pd.Series(math.nan, index=now.index)
    else:
        proxy = _off_track(later, rules)
        proxy = proxy.mask(absent_next, math.nan).mask(hidden, 1.0)
    return (pd.Series(dropout.to_numpy(), index=idx), pd.Series(proxy.to_numpy(), index=idx))


def units(pupils: pd.DataFrame, point: Point, rules: Rules | None = None) -> pd.DataFrame:
    """Rule inputs, rule score and both outcomes for every school and year present, at ``point``.

    ``dropout`` is the plan's outcome and ``proxy`` the training proxy (module docstring); both
    NaN where not known yet.  Rows of every school in ``pupils``: the model may learn from all
    of them while only one school's pupils are ranked.
    """
    rules = rules or load_rules()
    p = _prepared(pupils)
    frames = []
    for year in sorted(p["school_year"].dropna().unique()):
        x = rule_inputs(p, year, point, rules)
        if x.empty:
            continue
        x["rule_score"] = rule_score(x, point, rules)
        x["dropout"], x["proxy"] = _labels(p, x, year, point, rules)
        frames.append(x)
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)
