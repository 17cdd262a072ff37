"""Checks between consecutive school years of linked pupil records — the one implementation.

Run after every import over all years in the database; the findings are stored (table
``crossyear_checks``) so the report can count them and staff can resolve them.  Each finding
names a pupil ID — the list is internal (:func:`locson_analysis.warn.reconcile` adds names and
classes for staff); the PGD report shows counts only (:func:`counts`).

Only pairs of years both present in the data are compared: a pupil missing after the latest
year is not a finding yet.
"""

from __future__ import annotations

import pandas as pd

from .contract import OUTCOME_LABELS, next_year

#: check_name → (Vietnamese description, what to do), used by reports, the CLI and warn.
CHECKS: dict[str, tuple[str, str]] = {
    "missing_next_year": (
        "Không có tên năm sau dù kết quả không ghi bỏ học, chuyển đi hay hoàn thành "
        "(có thể bỏ học không được ghi nhận)",
        "Xác minh em đã bỏ học hay chuyển trường mà chưa ghi nhận; cập nhật kết quả cuối năm.",
    ),
    "promoted_same_grade": (
        "Được lên lớp nhưng năm sau không lên khối",
        "Kiểm tra kết quả cuối năm hoặc khối lớp năm sau.",
    ),
    "repeating_moved_up": (
        "Ở lại lớp nhưng năm sau học khối cao hơn",
        "Kiểm tra kết quả cuối năm hoặc khối lớp năm sau.",
    ),
    "returned_after_leaving": (
        "Đã bỏ học, chuyển đi hoặc hoàn thành rồi lại có tên trong danh sách",
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

#: ``class_name`` is where staff find the pupil: the later year's class, except for
#: ``missing_next_year`` (the earlier one).
COLUMNS = ["school_code", "school_year", "next_year", "check_name", "pupil_id", "class_name",
           "detail"]
STAYING = frozenset({"promoted", "repeating", "not_completed"})
LEFT = frozenset({"dropped_out", "transferred_out", "completed"})


def _fmt_date(value: object) -> str:
    return "—" if pd.isna(value) else pd.Timestamp(value).strftime("%d/%m/%Y")


def _grade(value: object) -> str:
    return "—" if pd.isna(value) else str(int(value))


def _label(outcome: object) -> str:
    return OUTCOME_LABELS.get(outcome, str(outcome)) if isinstance(outcome, str) else "—"


_RECORD = ["school_code", "school_year", "pupil_id", "grade", "class_name", "outcome",
           "birth_date", "sex", "leave_date"]


def check_all(pupils: pd.DataFrame) -> pd.DataFrame:
    """Findings for every school and every pair of consecutive years present in ``pupils``.

    All pairs at once: each pupil's record of a year joined to the same school's record of
    the next year (one join, not one per school and year); the same findings as comparing
    the pairs one by one (the pair-by-pair reference in ``tests/crossyear_reference.py``).
    """
    if not len(pupils):
        return pd.DataFrame(columns=COLUMNS)
    p = pd.DataFrame({c: pupils[c].astype(object) if c in ("school_code", "school_year",
                                                          "pupil_id", "class_name", "outcome",
                                                          "sex") else pupils[c]
                      for c in _RECORD}).reset_index(drop=True)
    years = sorted(set(p["school_year"]))
    nxt_of = {y: next_year(y) for y in years}
    pairs = p[["school_code", "school_year"]].drop_duplicates()
    present = pd.MultiIndex.from_arrays([pairs["school_code"], pairs["school_year"]])
    p["next_year"] = p["school_year"].map(nxt_of)
    keys = ["school_code", "school_year", "pupil_id"]
    first = p.drop_duplicates(keys)  # (a pupil once per year, as the lists are checked)
    has_next = pd.MultiIndex.from_arrays([first["school_code"], first["next_year"]]).isin(
        present)
    this = first[has_next]
    later = first[[*keys, "grade", "class_name", "outcome", "birth_date", "sex",
                   "leave_date"]].rename(columns={"school_year": "next_year"})
    m = this.merge(later, on=["school_code", "next_year", "pupil_id"], how="left",
                   suffixes=("", "_next"), indicator=True)
    both = (m["_merge"] == "both").to_numpy()
    outcome = m["outcome"].astype(object)
    found: list[pd.DataFrame] = []

    def add(mask: object, name: str, klass: str, detail) -> None:  # noqa: ANN001
        rows = m[pd.Series(mask, index=m.index).fillna(False).astype(bool).to_numpy()]
        if len(rows):
            found.append(pd.DataFrame({
                "school_code": rows["school_code"].to_numpy(dtype=object),
                "school_year": rows["school_year"].to_numpy(dtype=object),
                "next_year": rows["next_year"].to_numpy(dtype=object),
                "check_name": name, "pupil_id": rows["pupil_id"].to_numpy(dtype=object),
                "class_name": rows[klass].to_numpy(dtype=object),
                "detail": [detail(r) for r in rows.itertuples(index=False)]}))

    add(~both & outcome.isin(STAYING).to_numpy(), "missing_next_year", "class_name",
        lambda r: f"Năm học {r.school_year}: {_label(r.outcome)} (lớp {r.class_name}), nhưng "
                  f"không có trong danh sách năm học {r.next_year}. Cần xác minh: bỏ học, "
                  f"chuyển trường hay sai mã học sinh?")
    add(both & outcome.eq("promoted").to_numpy() & (m["grade_next"] <= m["grade"]),
        "promoted_same_grade", "class_name_next",
        lambda r: f"Năm học {r.school_year} được lên lớp (khối {_grade(r.grade)}) nhưng năm học "
                  f"{r.next_year} học khối {_grade(r.grade_next)}.")
    add(both & outcome.eq("repeating").to_numpy() & (m["grade_next"] > m["grade"]),
        "repeating_moved_up", "class_name_next",
        lambda r: f"Năm học {r.school_year} ở lại lớp (khối {_grade(r.grade)}) nhưng năm học "
                  f"{r.next_year} học khối {_grade(r.grade_next)}.")
    bd, bd_next = m["birth_date"], m["birth_date_next"]
    add(both & bd.notna() & bd_next.notna() & (bd != bd_next), "birth_date_changed",
        "class_name_next",
        lambda r: f"{_fmt_date(r.birth_date)} → {_fmt_date(r.birth_date_next)}")
    sx, sx_next = m["sex"].astype(object), m["sex_next"].astype(object)
    add(both & sx.notna() & sx_next.notna() & (sx != sx_next), "sex_changed",
        "class_name_next", lambda r: f"{r.sex} → {r.sex_next}")

    # Came back: a pupil on a year's list whose latest earlier record (any earlier year, so a
    # gap year counts) says the pupil left — for years whose previous year is present.
    prev_of = {nxt_of[y]: y for y in years}
    s = p.sort_values(["school_code", "pupil_id", "school_year"], kind="stable")
    s = s.drop_duplicates(["school_code", "pupil_id", "school_year"], keep="last")
    before = s.shift(1)
    listed = first[[*keys, "class_name"]].rename(columns={"class_name": "class_next"})
    same = ((s["school_code"] == before["school_code"]) & (s["pupil_id"] == before["pupil_id"])
            & before["outcome"].isin(LEFT)).to_numpy()
    pair = pd.MultiIndex.from_arrays([s["school_code"], s["school_year"].map(prev_of)]).isin(
        present)
    came = pd.DataFrame({"school_code": s["school_code"].to_numpy(dtype=object),
                         "next_year": s["school_year"].to_numpy(dtype=object),
                         "pupil_id": s["pupil_id"].to_numpy(dtype=object),
                         "school_year": before["school_year"].to_numpy(dtype=object),
                         "outcome": before["outcome"].to_numpy(dtype=object),
                         "leave_date": before["leave_date"].to_numpy()})[same & pair]
    came = came.merge(listed.rename(columns={"school_year": "next_year"}),
                      on=["school_code", "next_year", "pupil_id"])
    if len(came):
        found.append(pd.DataFrame({
            "school_code": came["school_code"], "school_year": came["school_year"],
            "next_year": came["next_year"], "check_name": "returned_after_leaving",
            "pupil_id": came["pupil_id"], "class_name": came["class_next"],
            "detail": [f"Năm học {r.school_year}: {_label(r.outcome)}"
                       f"{'' if pd.isna(r.leave_date) else f' ngày {_fmt_date(r.leave_date)}'}"
                       f"; năm học {r.next_year} lại có tên ở lớp {r.class_next}. Cần ghi ngày "
                       f"vào trường hoặc sửa kết quả năm trước."
                       for r in came.itertuples(index=False)]}))
    out = pd.concat(found, ignore_index=True)[COLUMNS] if found else \
        pd.DataFrame(columns=COLUMNS)
    return out.sort_values(["school_code", "next_year", "check_name", "class_name", "pupil_id"],
                           ignore_index=True)


def counts(checks: pd.DataFrame) -> pd.DataFrame:
    """Counts by school, year pair and check, with the description and what to do (no IDs)."""
    cols = ["school_code", "school_year", "next_year", "check_name", "count", "description",
            "action"]
    if checks.empty:
        return pd.DataFrame(columns=cols)
    c = (checks.groupby(["school_code", "school_year", "next_year", "check_name"],
                        as_index=False).size().rename(columns={"size": "count"}))
    c["description"] = c["check_name"].map(lambda k: CHECKS[k][0])
    c["action"] = c["check_name"].map(lambda k: CHECKS[k][1])
    return c[cols]
