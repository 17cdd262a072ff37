"""Checks between consecutive school years of linked pupil records.

Run after every import over all years in the database; the findings are stored (table
``crossyear_checks``) so the report can count them and staff can resolve them.  Each finding
names a pupil ID — the list is internal; the PGD report shows counts only.
"""

from __future__ import annotations

import pandas as pd

from .contract import next_year

#: check_name → Vietnamese description (what it means and what to do), used by reports and CLI.
CHECKS: dict[str, tuple[str, str]] = {
    "missing_next_year": (
        "Học sinh không hoàn thành, không chuyển đi, không bỏ học nhưng không có trong danh sách "
        "năm sau",
        "Kiểm tra xem em đã bỏ học hay chuyển trường mà chưa ghi nhận; cập nhật kết quả cuối năm.",
    ),
    "promoted_same_grade": (
        "Được lên lớp nhưng năm sau vẫn học cùng khối",
        "Kiểm tra kết quả cuối năm hoặc khối lớp năm sau.",
    ),
    "repeating_moved_up": (
        "Ở lại lớp nhưng năm sau học khối cao hơn",
        "Kiểm tra kết quả cuối năm hoặc khối lớp năm sau.",
    ),
    "returned_after_leaving": (
        "Đã bỏ học hoặc chuyển đi nhưng năm sau lại có trong danh sách",
        "Xác nhận em đã quay lại trường (ghi ngày vào trường) hoặc sửa kết quả năm trước.",
    ),
    "birth_date_changed": (
        "Ngày sinh khác với năm trước",
        "Đối chiếu giấy khai sinh và sửa ở năm bị sai.",
    ),
    "sex_changed": (
        "Giới tính khác với năm trước",
        "Đối chiếu hồ sơ và sửa ở năm bị sai.",
    ),
}

COLUMNS = ["school_code", "school_year", "next_year", "check_name", "pupil_id", "detail"]
_STAYING = {"promoted", "repeating", "not_completed"}
_LEAVING = {"dropped_out", "transferred_out", "completed"}


def _fmt_date(value: object) -> str:
    return "—" if pd.isna(value) else pd.Timestamp(value).strftime("%d/%m/%Y")


def check_pair(this: pd.DataFrame, nxt: pd.DataFrame) -> pd.DataFrame:
    """Findings for one school and one pair of consecutive years (``this`` then ``nxt``)."""
    cols = ["pupil_id", "grade", "outcome", "birth_date", "sex"]
    merged = this[cols].merge(nxt[cols], on="pupil_id", how="left", suffixes=("", "_next"),
                              indicator=True)
    present = merged["_merge"] == "both"
    found: list[pd.DataFrame] = []

    def add(mask: pd.Series, name: str, detail: pd.Series | str) -> None:
        rows = merged.loc[mask, ["pupil_id"]].copy()
        rows["check_name"] = name
        rows["detail"] = detail[mask] if isinstance(detail, pd.Series) else detail
        found.append(rows)

    outcome = merged["outcome"].astype("string")
    add(~present & outcome.isin(_STAYING), "missing_next_year",
        "kết quả cuối năm: " + outcome.fillna("—") + "; khối " + merged["grade"].astype(str))
    add(present & (outcome == "promoted") & (merged["grade_next"] <= merged["grade"]),
        "promoted_same_grade",
        "khối " + merged["grade"].astype(str) + " → khối " + merged["grade_next"].astype(str))
    add(present & (outcome == "repeating") & (merged["grade_next"] > merged["grade"]),
        "repeating_moved_up",
        "khối " + merged["grade"].astype(str) + " → khối " + merged["grade_next"].astype(str))
    add(present & outcome.isin(_LEAVING), "returned_after_leaving",
        "kết quả năm trước: " + outcome.fillna("—"))
    bd, bd_next = merged["birth_date"], merged["birth_date_next"]
    add(present & bd.notna() & bd_next.notna() & (bd != bd_next), "birth_date_changed",
        bd.map(_fmt_date) + " → " + bd_next.map(_fmt_date))
    sx, sx_next = merged["sex"].astype("string"), merged["sex_next"].astype("string")
    add(present & sx.notna() & sx_next.notna() & (sx != sx_next), "sex_changed",
        sx.fillna("") + " → " + sx_next.fillna(""))
    return pd.concat(found, ignore_index=True) if found else pd.DataFrame(
        columns=["pupil_id", "check_name", "detail"])


def check_all(pupils: pd.DataFrame) -> pd.DataFrame:
    """Findings for every school and every pair of consecutive years present in ``pupils``."""
    out: list[pd.DataFrame] = []
    for school, by_school in pupils.groupby("school_code", sort=True):
        years = set(by_school["school_year"])
        for year in sorted(years):
            following = next_year(year)
            if following not in years:
                continue
            found = check_pair(by_school[by_school["school_year"] == year],
                               by_school[by_school["school_year"] == following])
            if len(found):
                found.insert(0, "school_code", school)
                found.insert(1, "school_year", year)
                found.insert(2, "next_year", following)
                out.append(found)
    if not out:
        return pd.DataFrame(columns=COLUMNS)
    return pd.concat(out, ignore_index=True)[COLUMNS]


def counts(checks: pd.DataFrame) -> pd.DataFrame:
    """Counts by year pair and check, with the Vietnamese description and what to do."""
    if checks.empty:
        return pd.DataFrame(columns=["school_year", "next_year", "check_name", "count",
                                     "description", "action"])
    c = (checks.groupby(["school_year", "next_year", "check_name"], as_index=False)
         .size().rename(columns={"size": "count"}))
    c["description"] = c["check_name"].map(lambda k: CHECKS[k][0])
    c["action"] = c["check_name"].map(lambda k: CHECKS[k][1])
    return c
