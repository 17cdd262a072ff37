"""The cross-year checks one school and one pair of years at a time: the former
implementation, kept only as an independent reference that tests compare
``crossyear.check_all`` (all pairs joined at once) with."""

from __future__ import annotations

import pandas as pd

from locson_analysis.contract import next_year
from locson_analysis.crossyear import COLUMNS, LEFT, STAYING, _fmt_date, _grade, _label


def pair(rows: pd.DataFrame, year: str, nxt: str) -> list[dict]:
    """Findings for one school between ``year`` and the following year ``nxt``."""
    cols = ["pupil_id", "grade", "class_name", "outcome", "birth_date", "sex", "leave_date"]
    this = rows.loc[rows["school_year"] == year, cols].drop_duplicates("pupil_id")
    later = rows.loc[rows["school_year"] == nxt, cols].drop_duplicates("pupil_id")
    m = this.merge(later, on="pupil_id", how="left", suffixes=("", "_next"), indicator=True)
    present = m["_merge"] == "both"
    outcome = m["outcome"].astype(object)
    out: list[dict] = []

    def add(mask: pd.Series, name: str, klass: str, detail) -> None:  # noqa: ANN001
        for r in m[mask].itertuples(index=False):
            out.append({"school_year": year, "next_year": nxt, "check_name": name,
                        "pupil_id": r.pupil_id, "class_name": getattr(r, klass),
                        "detail": detail(r)})

    add(~present & outcome.isin(STAYING), "missing_next_year", "class_name",
        lambda r: f"Năm học {year}: {_label(r.outcome)} (lớp {r.class_name}), nhưng không có "
                  f"trong danh sách năm học {nxt}. Cần xác minh: bỏ học, chuyển trường hay sai "
                  f"mã học sinh?")
    add(present & outcome.eq("promoted") & (m["grade_next"] <= m["grade"]),
        "promoted_same_grade", "class_name_next",
        lambda r: f"Năm học {year} được lên lớp (khối {_grade(r.grade)}) nhưng năm học {nxt} "
                  f"học khối {_grade(r.grade_next)}.")
    add(present & outcome.eq("repeating") & (m["grade_next"] > m["grade"]),
        "repeating_moved_up", "class_name_next",
        lambda r: f"Năm học {year} ở lại lớp (khối {_grade(r.grade)}) nhưng năm học {nxt} "
                  f"học khối {_grade(r.grade_next)}.")
    bd, bd_next = m["birth_date"], m["birth_date_next"]
    add(present & bd.notna() & bd_next.notna() & (bd != bd_next), "birth_date_changed",
        "class_name_next",
        lambda r: f"{_fmt_date(r.birth_date)} → {_fmt_date(r.birth_date_next)}")
    sx, sx_next = m["sex"].astype(object), m["sex_next"].astype(object)
    add(present & sx.notna() & sx_next.notna() & (sx != sx_next), "sex_changed",
        "class_name_next", lambda r: f"{r.sex} → {r.sex_next}")

    # Came back: the latest record up to ``year`` (any earlier year, so a gap year counts)
    # says the pupil left, and the pupil is on next year's list.
    last = (rows[rows["school_year"] <= year].sort_values("school_year")
            .drop_duplicates("pupil_id", keep="last"))
    back = last[last["outcome"].isin(LEFT)].merge(
        later[["pupil_id", "class_name"]], on="pupil_id", suffixes=("_then", ""))
    for r in back.itertuples(index=False):
        on = "" if pd.isna(r.leave_date) else f" ngày {_fmt_date(r.leave_date)}"
        out.append({"school_year": r.school_year, "next_year": nxt,
                    "check_name": "returned_after_leaving", "pupil_id": r.pupil_id,
                    "class_name": r.class_name,
                    "detail": f"Năm học {r.school_year}: {_label(r.outcome)}{on}; năm học {nxt} "
                              f"lại có tên ở lớp {r.class_name}. Cần ghi ngày vào trường hoặc "
                              f"sửa kết quả năm trước."})
    return out


def check_all_by_pair(pupils: pd.DataFrame) -> pd.DataFrame:
    """``crossyear.check_all`` one school and one pair of years at a time (the reference)."""
    found: list[dict] = []
    for school, rows in pupils.groupby("school_code", sort=True):
        years = set(rows["school_year"])
        for year in sorted(years):
            if next_year(year) in years:
                found += [{"school_code": school, **f}
                          for f in pair(rows, year, next_year(year))]
    out = pd.DataFrame(found, columns=COLUMNS)
    return out.sort_values(["school_code", "next_year", "check_name", "class_name", "pupil_id"],
                           ignore_index=True)
