"""Cross-year checks on crafted pairs of years."""

from __future__ import annotations

import pandas as pd

from locson_analysis import crossyear
from tests import crossyear_reference
from tests.store_builders import pupil, pupils_frame


def _two_years(this: list[dict], nxt: list[dict]) -> pd.DataFrame:
    a = pupils_frame(this).assign(school_year="2023-2024", school_code="LOCSON")
    b = pupils_frame(nxt).assign(school_year="2024-2025", school_code="LOCSON")
    return pd.concat([a, b], ignore_index=True)


def _found(pupils: pd.DataFrame) -> set[tuple[str, str]]:
    c = crossyear.check_all(pupils)
    return set(zip(c["check_name"], c["pupil_id"]))


def test_consistent_years_have_no_findings():
    p = _two_years(
        [pupil("A", 6), pupil("B", 7, "repeating"), pupil("C", 9, "completed"),
         pupil("D", 8, "dropped_out", leave_date="2024-01-10"),
         pupil("E", 8, "transferred_out", leave_date="2023-12-01")],
        [pupil("A", 7), pupil("B", 7), pupil("N", 6)])
    assert _found(p) == set()


def test_each_check_finds_its_case():
    p = _two_years(
        [pupil("MISS", 7), pupil("SAME", 6), pupil("UP", 8, "repeating"),
         pupil("BACK", 7, "dropped_out", leave_date="2024-02-01"),
         pupil("BD", 6), pupil("SX", 6), pupil("NC", 9, "not_completed")],
        [pupil("SAME", 6), pupil("UP", 9), pupil("BACK", 7),
         pupil("BD", 7, birth_date="2012-04-03"), pupil("SX", 7, sex="F")])
    assert _found(p) == {("missing_next_year", "MISS"), ("missing_next_year", "NC"),
                         ("promoted_same_grade", "SAME"), ("repeating_moved_up", "UP"),
                         ("returned_after_leaving", "BACK"), ("birth_date_changed", "BD"),
                         ("sex_changed", "SX")}
    c = crossyear.check_all(p)
    detail = c.loc[c["check_name"] == "birth_date_changed", "detail"].item()
    assert detail == "04/03/2012 → 03/04/2012"
    assert set(c["school_year"]) == {"2023-2024"} and set(c["next_year"]) == {"2024-2025"}


def test_no_next_year_means_no_missing_findings():
    p = pupils_frame([pupil("A", 6)]).assign(school_year="2024-2025", school_code="LOCSON")
    assert crossyear.check_all(p).empty


def test_a_gap_year_is_not_compared():
    a = pupils_frame([pupil("A", 6)]).assign(school_year="2022-2023", school_code="LOCSON")
    b = pupils_frame([pupil("B", 8)]).assign(school_year="2024-2025", school_code="LOCSON")
    assert crossyear.check_all(pd.concat([a, b])).empty


def test_counts_carry_description_and_action():
    p = _two_years([pupil("M1", 7), pupil("M2", 7)], [pupil("N", 6)])
    c = crossyear.counts(crossyear.check_all(p))
    assert c[["check_name", "count"]].values.tolist() == [["missing_next_year", 2]]
    assert "Không có tên năm sau" in c["description"].item()
    assert "pupil_id" not in c.columns


def test_return_after_a_gap_year_is_found_once():
    a = pupils_frame([pupil("T", 6, "transferred_out", leave_date="2023-01-10"), pupil("Q", 6)])
    b = pupils_frame([pupil("Q", 7)])
    c = pupils_frame([pupil("T", 8), pupil("Q", 8)])
    years = [x.assign(school_year=y, school_code="LOCSON")
             for x, y in ((a, "2022-2023"), (b, "2023-2024"), (c, "2024-2025"))]
    found = crossyear.check_all(pd.concat(years, ignore_index=True))
    assert found[["check_name", "pupil_id", "school_year", "next_year"]].values.tolist() == [
        ["returned_after_leaving", "T", "2022-2023", "2024-2025"]]
    assert found["detail"].item() == (
        "Năm học 2022-2023: Chuyển đi ngày 10/01/2023; năm học 2024-2025 lại có tên ở lớp 8A1. "
        "Cần ghi ngày vào trường hoặc sửa kết quả năm trước.")


def test_all_pairs_at_once_equal_pair_by_pair() -> None:
    """check_all joins every school's consecutive years at once: the same findings as
    comparing each school's pairs one by one (random schools with gap years, pupils leaving,
    coming back, changing grade, birth date or sex; categorical columns as store.load gives)."""
    import numpy as np

    rng = np.random.default_rng(11)
    outcomes = ["promoted", "repeating", "not_completed", "dropped_out", "transferred_out",
                "completed", "in_progress", None]
    years = ["2020-2021", "2021-2022", "2022-2023", "2023-2024", "2024-2025"]
    for trial in range(8):
        rows = []
        for school in ("A", "B", "C"):
            kept = [y for y in years if rng.random() < 0.8]
            for y in kept:
                ids = rng.choice(30, size=int(rng.integers(0, 30)), replace=False)
                for k, n in enumerate(ids):  # (a pupil once per year, as imports ensure)
                    pid = f"{school}{int(n)}"
                    rows.append({
                        "school_code": school, "school_year": y, "pupil_id": pid,
                        "grade": None if rng.random() < 0.05 else int(rng.integers(6, 10)),
                        "class_name": None if rng.random() < 0.05 else f"{k % 4 + 6}A",
                        "outcome": outcomes[int(rng.integers(0, len(outcomes)))],
                        "birth_date": pd.Timestamp(2010, 1, 1 + int(rng.integers(0, 3)))
                        if rng.random() < 0.95 else pd.NaT,
                        "sex": ["M", "F", None][int(rng.integers(0, 3))],
                        "leave_date": pd.Timestamp(2021, 3, 1) if rng.random() < 0.3
                        else pd.NaT})
        p = pd.DataFrame(rows, columns=crossyear._RECORD)
        p["grade"] = p["grade"].astype("Int64")
        if trial % 2:
            p = p.astype({c: pd.CategoricalDtype(sorted(p[c].dropna().unique()), ordered=True)
                          for c in ("school_code", "school_year", "class_name", "outcome",
                                    "sex")})
        a, b = crossyear.check_all(p), crossyear_reference.check_all_by_pair(p)
        assert len(b)
        pd.testing.assert_frame_equal(a.astype(object), b.astype(object))
