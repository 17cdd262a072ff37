"""The synthetic school: valid years, realistic volumes and trends, files as staff keep them."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from locson_analysis import contract
from locson_analysis.sample import (
    CANONICAL_COLUMNS,
    PERSONAL_EXTRA_HEADERS,
    SampleYear,
    file_style,
    generate,
    generate_pupils_fast,
    to_dataset,
    write_pupils_csv,
    write_sample,
)

YEARS = contract.school_years_between("2019-2020", "2026-2027")
COMPLETE = YEARS[:-1]
IN_PROGRESS = YEARS[-1]


@pytest.fixture(scope="module")
def sample() -> dict[str, SampleYear]:
    return generate()


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    out = tmp_path_factory.mktemp("sample")
    return out, write_sample(out)


# --- the rules the importer enforces on one year -------------------------------------------------


def year_violations(p: pd.DataFrame, school_year: str, in_progress: bool) -> list[str]:
    """Every broken rule of one year, as text (empty when the year is valid)."""
    bad: list[str] = []
    start = contract.start_year(school_year)

    def check(mask: pd.Series, what: str) -> None:
        mask = mask.fillna(False).astype(bool)
        if mask.any():
            bad.append(f"{school_year} {what}: {p.loc[mask, 'pupil_id'].head(3).tolist()}")

    if p["pupil_id"].duplicated().any():
        bad.append(f"{school_year}: duplicate pupil IDs")
    check(~p["grade"].isin(contract.GRADES), "grade outside 6–9")
    age = start - p["birth_date"].dt.year
    check((age < p["grade"] + 4) | (age > p["grade"] + 9), "age outside grade+4 … grade+9")
    lo, hi = pd.Timestamp(start, 9, 1), pd.Timestamp(start + 1, 5, 31)
    for c in ("entry_date", "leave_date"):
        check(p[c].notna() & ((p[c] < lo) | (p[c] > hi)), f"{c} outside September–May")
    check(p["entry_date"].notna() & p["leave_date"].notna()
          & (p["leave_date"] <= p["entry_date"]), "left before arriving")
    out = p["outcome"]
    check(out.isin(["completed", "not_completed"]) & (p["grade"] != 9), "completion below 9")
    check((out == "promoted") & (p["grade"] == 9), "promoted in grade 9")
    leaving = out.isin(["dropped_out", "transferred_out"])
    check(leaving != p["leave_date"].notna(), "leave_date without leaving (or the reverse)")
    check((out == "dropped_out") != p["dropout_reason"].notna(), "dropout reason mismatch")
    check(~out.isin(contract.OUTCOMES), "unknown outcome")
    check(~p["sex"].isin(["M", "F"]), "sex")
    check(p["class_name"].str[0] != p["grade"].astype(str), "class not of its grade")
    if in_progress:
        check(~out.isin(["in_progress", "dropped_out", "transferred_out"]), "final outcome")
        for c in ("absences_s2", "learning_year", "conduct_year"):
            check(p[c].notna(), f"{c} in the in-progress year")
        if (p["leave_date"] > pd.Timestamp(start, 10, 31)).any():
            bad.append(f"{school_year}: in-progress dates after October")
    else:
        check(out == "in_progress", "in_progress in a complete year")
    # One scale per row, the right one for the grade and year (Circular 22 roll-out).
    tt22 = (start - contract.TT22_FIRST_YEAR) >= (p["grade"] - 6)
    results = ["learning_s1", "conduct_s1", "learning_year", "conduct_year"]
    check(p["result_scale"] != np.where(tt22, "tt22", "tt58"), "wrong scale")
    for c in results:
        allowed22 = set(contract.RESULTS_TT22)
        allowed58 = set(contract.LEARNING_TT58 if c.startswith("learning")
                        else contract.CONDUCT_TT58)
        v = p[c]
        check(v.notna() & tt22 & ~v.isin(allowed22), f"{c} not on the TT22 scale")
        check(v.notna() & ~tt22 & ~v.isin(allowed58), f"{c} not on the TT58 scale")
    passed = out.isin(["promoted", "completed"])
    passing = contract.TT22_PASSING | contract.TT58_PASSING
    check(passed & ~p["learning_year"].isin(passing), "promoted with a failing result")
    check(passed & ~p["conduct_year"].isin(passing), "promoted with failing conduct")
    check(passed & (p["absences_s1"] + p["absences_s2"] > contract.ABSENCE_LIMIT),
          "promoted with too many absences")
    check(out.isin(["repeating", "not_completed"]) & p["learning_year"].isin(passing),
          "repeating with a passing result")
    return bad


def test_every_year_is_valid(sample: dict[str, SampleYear]) -> None:
    assert list(sample) == YEARS
    for year, sy in sample.items():
        assert list(sy.pupils.columns) == CANONICAL_COLUMNS
        assert (sy.pupils["school_year"] == year).all()
        assert year_violations(sy.pupils, year, sy.in_progress) == []
    assert [sy.in_progress for sy in sample.values()] == [False] * 7 + [True]


@pytest.mark.parametrize(("seed", "first", "last", "entrants"), [
    (1, "2019-2020", "2026-2027", 200),
    (99, "2015-2016", "2030-2031", 60),
    (5, "2024-2025", "2025-2026", 320),
])
def test_other_seeds_and_ranges_are_valid(seed: int, first: str, last: str,
                                          entrants: int) -> None:
    s = generate(seed=seed, first_year=first, last_year=last, entrants_per_year=entrants)
    assert list(s) == contract.school_years_between(first, last)
    for year, sy in s.items():
        assert year_violations(sy.pupils, year, sy.in_progress) == []
    for year in list(s)[:-1]:
        a, b = s[year].pupils, s[contract.next_year(year)].pupils
        planted = {x["pupil_id"] for x in s[year].anomalies}
        stay = a[a["outcome"].isin(["promoted", "repeating", "not_completed"])
                 & ~a["pupil_id"].isin(planted)]
        assert stay["pupil_id"].isin(b["pupil_id"]).all()
        gone = a[a["outcome"].isin(["completed", "dropped_out", "transferred_out"])
                 & ~a["pupil_id"].isin(planted)]
        assert not gone["pupil_id"].isin(b["pupil_id"]).any()


def test_canonical_dtypes(sample: dict[str, SampleYear]) -> None:
    p = sample["2024-2025"].pupils
    assert str(p["grade"].dtype) == "Int64"
    assert str(p["absences_s1"].dtype) == "Int64"
    assert str(p["poor"].dtype) == "boolean"
    assert pd.api.types.is_datetime64_any_dtype(p["birth_date"])
    assert pd.api.types.is_datetime64_any_dtype(p["leave_date"])
    assert set(p["result_scale"].dropna()) <= {"tt22", "tt58"}


def test_check_catches_a_broken_year(sample: dict[str, SampleYear]) -> None:
    """The rule checker above is not vacuous."""
    p = sample["2024-2025"].pupils.copy()
    p.loc[0, "grade"] = 9
    p.loc[1, "outcome"] = "dropped_out"
    p.loc[2, "learning_year"] = "Giỏi"
    assert len(year_violations(p, "2024-2025", False)) >= 3


# --- determinism ---------------------------------------------------------------------------------


def test_same_seed_same_data_other_seed_other_data(sample: dict[str, SampleYear]) -> None:
    again = generate()
    for year in YEARS:
        pd.testing.assert_frame_equal(sample[year].pupils, again[year].pupils)
        assert sample[year].school == again[year].school
        assert sample[year].population == again[year].population
        assert sample[year].anomalies == again[year].anomalies
    other = generate(seed=7)
    assert set(other["2024-2025"].pupils["pupil_id"]) != set(sample["2024-2025"].pupils["pupil_id"])


def test_same_seed_same_file_bytes(tmp_path: Path) -> None:
    kwargs = {"first_year": "2024-2025", "last_year": "2025-2026"}
    files = write_sample(tmp_path / "a", **kwargs)
    again = write_sample(tmp_path / "b", **kwargs)
    assert len(files) == 5
    for a, b in zip(files, again, strict=True):
        assert a.relative_to(tmp_path / "a") == b.relative_to(tmp_path / "b")
        assert a.read_bytes() == b.read_bytes(), a.name
    other = write_sample(tmp_path / "c", seed=1, **kwargs)
    assert other[0].read_bytes() != files[0].read_bytes()


# --- cross-year consistency ----------------------------------------------------------------------


def test_cross_year_consistency(sample: dict[str, SampleYear]) -> None:
    for year in YEARS[:-1]:
        nxt = contract.next_year(year)
        a, b = sample[year].pupils, sample[nxt].pupils
        planted = {x["pupil_id"]: x["check"] for x in sample[year].anomalies}
        m = a.merge(b, on="pupil_id", how="left", suffixes=("", "_n"), indicator=True)
        here = m["_merge"] == "both"
        normal = ~m["pupil_id"].isin(planted)
        stay = m["outcome"].isin(["promoted", "repeating", "not_completed"])
        assert (here | ~stay | ~normal).all(), f"{year}: staying pupils missing next year"
        assert not (here & ~stay & normal).any(), f"{year}: leavers back next year"
        promoted = here & (m["outcome"] == "promoted")
        assert (m.loc[promoted, "grade_n"] == m.loc[promoted, "grade"] + 1).all()
        same = here & m["outcome"].isin(["repeating", "not_completed"])
        assert (m.loc[same, "grade_n"] == m.loc[same, "grade"]).all()
        assert (m.loc[here & (m["outcome"] == "not_completed"), "grade_n"] == 9).all()
        for c in ("birth_date", "sex", "full_name", "ethnicity"):
            assert (m.loc[here, c] == m.loc[here, f"{c}_n"]).all(), (year, c)
        # Newcomers: grade-6 entrants at the start of the year, or transfers with an entry date.
        new = b[~b["pupil_id"].isin(a["pupil_id"])]
        assert ((new["grade"] == 6) | new["entry_date"].notna()).all()
        assert new["entry_date"].notna().sum() >= 1


def test_planted_anomalies_are_the_crossyear_findings(sample: dict[str, SampleYear]) -> None:
    planted = [x for sy in sample.values() for x in sy.anomalies]
    assert [(x["school_year"], x["check"]) for x in planted] == [
        ("2020-2021", "missing_next_year"),
        ("2021-2022", "returned_after_leaving"),
        ("2023-2024", "missing_next_year"),
    ]
    for x in planted:
        a = sample[x["school_year"]].pupils.set_index("pupil_id")
        b = sample[x["next_year"]].pupils
        if x["check"] == "missing_next_year":
            assert a.at[x["pupil_id"], "outcome"] == "promoted"
            assert x["pupil_id"] not in set(b["pupil_id"])
        else:
            assert a.at[x["pupil_id"], "outcome"] == "dropped_out"
            row = b.set_index("pupil_id").loc[x["pupil_id"]]
            assert row["grade"] == a.at[x["pupil_id"], "grade"]
    crossyear = pytest.importorskip("locson_analysis.crossyear")
    found = crossyear.check_all(to_dataset(sample).pupils)
    got = sorted(zip(found["school_year"], found["check_name"], found["pupil_id"], strict=True))
    assert got == sorted((x["school_year"], x["check"], x["pupil_id"]) for x in planted)


# --- volumes and trends --------------------------------------------------------------------------


def test_volumes(sample: dict[str, SampleYear]) -> None:
    ages = []
    for i, year in enumerate(YEARS):
        p = sample[year].pupils
        assert 760 <= len(p) <= 860, year
        assert 20 <= p["class_name"].nunique() <= 24, year
        assert p.groupby("class_name").size().max() <= 45
        if i:
            prev = set(sample[YEARS[i - 1]].pupils["pupil_id"])
            entrants = p[(p["grade"] == 6) & p["entry_date"].isna() & ~p["pupil_id"].isin(prev)]
            assert 180 <= len(entrants) <= 220, year
            age = contract.start_year(year) - entrants["birth_date"].dt.year
            # 95,5 % drawn at 11 from ~200 entrants: one year may fall 3–4 standard errors
            # (1,5 points each) short; every year together must be close to the share
            assert (age == 11).mean() > 0.88, year
            assert (age > 11).sum() >= 1
            ages.append(age)
    assert 0.93 <= (pd.concat(ages) == 11).mean() <= 0.975
    p = pd.concat([sy.pupils for sy in sample.values()])
    assert 0.45 <= (p["sex"] == "F").mean() <= 0.55
    assert 0.80 <= (p["ethnicity"] == "Kinh").mean() <= 0.90
    assert {"K'Ho", "Mạ"} <= set(p["ethnicity"])
    assert 0.01 <= p["poor"].mean() <= 0.06
    assert 0.005 <= p["disability"].mean() <= 0.03
    minority = p["ethnicity"] != "Kinh"
    assert p.loc[minority, "poor"].mean() > 2 * p.loc[~minority, "poor"].mean()
    assert p["full_name"].str.startswith(("K' ", "Ka ")).sum() + p["full_name"].str.contains(
        " K' | Ka ").sum() > 0


@pytest.mark.parametrize("seed", [2025, 7])
def test_dropout_falls_towards_zero(seed: int) -> None:
    s = generate(seed=seed)
    rate = {y: (s[y].pupils["outcome"] == "dropped_out").mean() for y in COMPLETE}
    assert 0.007 <= rate["2019-2020"] <= 0.013
    assert rate["2020-2021"] >= 0.005
    assert rate["2025-2026"] <= 0.002
    assert (s["2025-2026"].pupils["outcome"] == "dropped_out").sum() <= 1
    assert np.mean(list(rate.values())[-3:]) < np.mean(list(rate.values())[:3]) / 3
    drop = pd.concat([s[y].pupils for y in COMPLETE])
    dropped = drop["outcome"] == "dropped_out"
    assert drop.loc[dropped, "poor"].mean() > drop.loc[~dropped, "poor"].mean()
    assert drop.loc[dropped, "absences_s1"].mean() > drop.loc[~dropped, "absences_s1"].mean()
    assert drop.loc[dropped, "dropout_reason"].isin(
        ["Hoàn cảnh gia đình khó khăn", "Học yếu", "Đi làm", "Xa trường",
         "Không thích đi học", "Theo gia đình đi làm ăn xa"]).all()


@pytest.mark.parametrize("seed", [2025, 7])
def test_dropout_mechanism_does_not_hand_the_answer_over(seed: int) -> None:
    s = generate(seed=seed)
    rows = []
    for year in COMPLETE:
        p = s[year].pupils.copy()
        p["cause"] = p["pupil_id"].map(s[year].dropout_causes)
        rows.append(p)
    d = pd.concat(rows, ignore_index=True)
    dropped = d["outcome"] == "dropped_out"
    # every dropout has a cause, and the data never record it; most are latent
    assert d.loc[dropped, "cause"].notna().all() and d.loc[~dropped, "cause"].isna().all()
    assert set(d.loc[dropped, "cause"]) <= {"visible", "family_shock", "move", "disengagement"}
    assert (d.loc[dropped, "cause"] != "visible").mean() > 0.5
    # the reason staff record follows the cause
    moved = dropped & (d["cause"] == "move")
    assert d.loc[moved, "dropout_reason"].isin(["Theo gia đình đi làm ăn xa", "Xa trường"]).all()
    # nothing is added to the semester before leaving: pupils who leave in semester 2 do not
    # stand out on semester-1 absences (the mid-year rule's 20 sessions)
    s2_start = pd.to_datetime(d["school_year"].str[5:] + "-01-15")
    late = dropped & (d["leave_date"] >= s2_start)
    assert late.sum() >= 5
    assert (d.loc[late, "absences_s1"] >= 20).mean() < 0.2
    # the two semesters are separate draws, not one rate
    staying = d["outcome"].isin(["promoted", "repeating"])
    a1 = d.loc[staying, "absences_s1"].astype(float)
    a2 = d.loc[staying, "absences_s2"].astype(float)
    assert 0.2 < np.corrcoef(a1, a2)[0, 1] < 0.8


def test_completion_repetition_transfers(sample: dict[str, SampleYear]) -> None:
    for year in COMPLETE:
        p = sample[year].pupils
        out = p["outcome"]
        finished = out.isin(["completed", "not_completed"]).sum()
        assert 0.96 <= (out == "completed").sum() / finished <= 0.99, year
        nine = (p["grade"] == 9) & (out != "transferred_out")
        assert (out == "completed").sum() / nine.sum() >= 0.95, year
        assert 0.003 <= (out == "repeating").mean() <= 0.02
        assert 0.003 <= (out == "transferred_out").mean() <= 0.02
        assert p["entry_date"].notna().sum() >= 2


def test_results_and_absences(sample: dict[str, SampleYear]) -> None:
    p = sample["2024-2025"].pupils
    assert set(p["result_scale"].dropna()) == {"tt22"}
    assert p["learning_year"].isin(["Tốt", "Khá", "Đạt"]).mean() > 0.97
    first = sample["2019-2020"].pupils
    assert set(first["result_scale"].dropna()) == {"tt58"}
    mixed = sample["2022-2023"].pupils
    assert set(mixed.groupby("grade")["result_scale"].first()) == {"tt22", "tt58"}
    a = p["absences_s1"].dropna()
    assert a.median() <= 3 and a.max() >= 15


def test_in_progress_year_has_semester_1_only(sample: dict[str, SampleYear]) -> None:
    sy = sample[IN_PROGRESS]
    p = sy.pupils
    assert sy.in_progress and sy.school is None and sy.population is not None
    assert (p["outcome"] == "in_progress").mean() > 0.98
    assert p["absences_s2"].isna().all() and p["learning_year"].isna().all()
    assert p["conduct_year"].isna().all()
    staying = p["outcome"] == "in_progress"
    assert p.loc[staying, "learning_s1"].notna().all()
    assert p.loc[staying, "absences_s1"].notna().all()
    done = generate(in_progress=False, first_year="2024-2025", last_year="2025-2026")
    assert all(not sy.in_progress and sy.school is not None for sy in done.values())


def test_school_and_population_sheets(sample: dict[str, SampleYear]) -> None:
    keys = [it.key for it in contract.SCHOOL_ITEMS]
    violence = []
    toilets = []
    for year in COMPLETE:
        s, n = sample[year].school, len(sample[year].pupils)
        assert s is not None and list(s) == keys
        assert 12 <= s["toilets"] <= 16 and 0 <= s["toilets_hygienic"] <= s["toilets"]
        assert s["pupils_counselled"] <= n and s["pupils_taught_swimming"] <= n
        assert s["psych_service"] == (contract.start_year(year) >= 2022)
        assert s["abuse_cases"] == 0
        assert s["complaints_resolved"] <= s["complaints_received"]
        assert isinstance(s["policy_support_amount"], int)
        violence.append(s["violence_incidents"])
        toilets.append(s["toilets_hygienic"] / s["toilets"])
    assert violence.count(1) == 1 and violence.count(0) == len(violence) - 1
    assert toilets == sorted(toilets) and toilets[-1] == 1.0
    for year in YEARS:
        pop = sample[year].population
        assert pop is not None and list(pop) == [it.key for it in contract.POPULATION_ITEMS]
        assert 0.99 <= pop["pop_age11_in_grade6"] / pop["pop_age11"] <= 1.0
        assert 0.97 <= pop["pop_age11_14_in_school"] / pop["pop_age11_14"] <= 0.99
        p = sample[year].pupils
        age11 = ((contract.start_year(year) - p["birth_date"].dt.year) == 11) & (p["grade"] == 6)
        assert 0.85 <= age11.sum() / pop["pop_age11"] <= 0.95


# --- the files -----------------------------------------------------------------------------------


def _rows(path: Path) -> list[tuple]:
    """Cell values of the first sheet (python-calamine: the fast reader; blanks as None)."""
    calamine = pytest.importorskip("python_calamine")
    rows = calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    return [tuple(None if v == "" else v for v in r) for r in rows]


def test_workbook_opens_in_openpyxl_with_merged_titles_and_date_cells(
        written: tuple[Path, list[Path]]) -> None:
    out, _ = written
    year = "2025-2026"
    wb = openpyxl.load_workbook(out / year / file_style(year).pupil_file.format(year=year))
    ws = wb.worksheets[0]
    assert ws.title == "DSHS"
    assert {str(r) for r in ws.merged_cells.ranges} >= {"A1:D1", "A2:D2"}
    assert ws["A2"].font.b
    first = 8 if file_style(year).number_row else 7
    assert ws.cell(first, 4).is_date and ws.cell(first, 4).number_format == "dd/mm/yyyy"


def test_files_per_year(written: tuple[Path, list[Path]]) -> None:
    out, files = written
    assert sorted(d.name for d in out.iterdir()) == YEARS
    by_year = {y: sorted(f.name for f in files if f.parent.name == y) for y in YEARS}
    for year in COMPLETE:
        assert len(by_year[year]) == 3, by_year[year]
        assert f"So lieu truong {year}.xlsx" in by_year[year]
        assert f"Phổ cập {year}.xlsx" in by_year[year]
    assert len(by_year[IN_PROGRESS]) == 2  # no school sheet yet


def test_pupil_workbooks_look_like_staff_files(written: tuple[Path, list[Path]],
                                                sample: dict[str, SampleYear]) -> None:
    out, files = written
    seen_headers: set[str] = set()
    text_dates = excel_dates = 0
    for year in YEARS:
        path = out / year / file_style(year).pupil_file.format(year=year)
        rows = _rows(path)
        assert rows[0][0] == "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO BẢO LỘC"
        assert rows[1][0] == "TRƯỜNG THCS LỘC SƠN"
        assert rows[3][0] == f"DANH SÁCH HỌC SINH NĂM HỌC {year}"
        header = [h for h in rows[5] if h]
        seen_headers.update(header)
        assert header[0] == "STT"
        assert set(PERSONAL_EXTRA_HEADERS) <= set(header)
        flat = [str(v) for r in rows[-6:] for v in r if v is not None]
        n = len(sample[year].pupils)
        assert f"Tổng cộng: {n} học sinh" in flat
        assert any(v.startswith("Lộc Sơn, ngày ") for v in flat)
        assert "Người lập biểu" in flat and "HIỆU TRƯỞNG" in flat
        first = 7 if file_style(year).number_row else 6
        if file_style(year).number_row:
            assert rows[6][:3] == ("(1)", "(2)", "(3)")
        data = rows[first:first + n]
        assert [r[0] for r in data] == list(range(1, n + 1))
        id_col = 1
        assert [r[id_col] for r in data] == sample[year].pupils["pupil_id"].tolist()
        birth = [r[header.index("Ngày sinh")] for r in data]
        if isinstance(birth[0], str):
            text_dates += 1
            assert birth[0].count("/") == 2
        else:
            excel_dates += 1
            assert birth[0] == sample[year].pupils["birth_date"].iloc[0].date()
        marks = {r[header.index("Hộ nghèo")] for r in data}
        assert marks == {"x", None}
        if year == IN_PROGRESS:
            assert "Số buổi nghỉ HK2" not in header and "Tình trạng" in header
            assert {r[header.index("Tình trạng")] for r in data} >= {"Đang học"}
    assert text_dates >= 1 and excel_dates >= 5
    # Header variants of other software versions appear somewhere.
    assert {"Mã định danh Bộ GD&ĐT (trên CSDL ngành)", "Mã lớp", "Học lực cả năm",
            "Hạnh kiểm cả năm", "Mã học sinh", "Kết quả học tập cả năm"} <= seen_headers


def test_item_workbooks(written: tuple[Path, list[Path]], sample: dict[str, SampleYear]) -> None:
    out, _ = written
    for year in COMPLETE:
        for name, spec, items in ((f"So lieu truong {year}.xlsx", contract.SCHOOL_ITEMS,
                                   sample[year].school),
                                  (f"Phổ cập {year}.xlsx", contract.POPULATION_ITEMS,
                                   sample[year].population)):
            rows = _rows(out / year / name)
            assert rows[0][0] == "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO BẢO LỘC"
            assert rows[1][0] == "TRƯỜNG THCS LỘC SƠN"
            assert year in rows[3][0]
            assert rows[5][:2] == ("Nội dung", "Giá trị")
            table = {r[0]: r[1] for r in rows[6:6 + len(spec)]}
            assert list(table) == [it.label for it in spec]
            for it in spec:
                want = items[it.key]
                got = table[it.label]
                assert got == (("Có" if want else "Không") if it.kind == "bool" else want)
            flat = [v for r in rows[-3:] for v in r if v is not None]
            assert "HIỆU TRƯỞNG" in flat


def test_csv_format(tmp_path: Path, sample: dict[str, SampleYear]) -> None:
    files = write_sample(tmp_path, fmt="csv")
    year = "2024-2025"
    pupils = tmp_path / year / f"hoc_sinh_{year}.csv"
    assert pupils in files
    with pupils.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == [c.header for c in contract.PUPIL_COLUMNS]
    assert len(rows) - 1 == len(sample[year].pupils)
    assert rows[1][0] == sample[year].pupils["pupil_id"].iloc[0]
    again = write_pupils_csv(sample[year].pupils, tmp_path / "again.csv")
    assert again.read_bytes() == pupils.read_bytes()
    items = (tmp_path / year / f"so_lieu_truong_{year}.csv").read_text(encoding="utf-8")
    assert items.splitlines()[0] == "Nội dung,Giá trị"
    assert not (tmp_path / IN_PROGRESS / f"so_lieu_truong_{IN_PROGRESS}.csv").exists()
    with pytest.raises(ValueError):
        write_sample(tmp_path / "x", fmt="pdf", first_year="2024-2025",  # type: ignore[arg-type]
                     last_year="2024-2025")


# --- fast path and helpers -----------------------------------------------------------------------


def test_fast_path_is_valid_at_size() -> None:
    p = generate_pupils_fast(50_000, "2022-2023", seed=3)
    assert len(p) == 50_000 and list(p.columns) == CANONICAL_COLUMNS
    assert year_violations(p, "2022-2023", False) == []
    assert p["pupil_id"].is_unique
    assert set(p["result_scale"].dropna()) == {"tt22", "tt58"}
    assert 0.002 <= (p["outcome"] == "dropped_out").mean() <= 0.005
    q = generate_pupils_fast(2_000, "2026-2027", in_progress=True)
    assert year_violations(q, "2026-2027", True) == []
    pd.testing.assert_frame_equal(q, generate_pupils_fast(2_000, "2026-2027", in_progress=True))


@settings(max_examples=15, deadline=None)
@given(n=st.integers(0, 3_000), start=st.integers(2015, 2030), seed=st.integers(0, 10**6),
       in_progress=st.booleans())
def test_fast_path_is_always_valid(n: int, start: int, seed: int, in_progress: bool) -> None:
    year = contract.year_label(start)
    p = generate_pupils_fast(n, year, seed=seed, in_progress=in_progress)
    assert len(p) == n
    assert year_violations(p, year, in_progress) == []


def test_fast_path_csv_imports_cleanly(tmp_path: Path) -> None:
    importer = pytest.importorskip("locson_analysis.importer")
    year = "2023-2024"
    p = generate_pupils_fast(3_000, year, seed=11)
    (tmp_path / year).mkdir()
    write_pupils_csv(p, tmp_path / year / "hoc_sinh.csv")
    yd = importer.read_year(tmp_path / year, today=date(2026, 11, 29))
    got = yd.pupils.sort_values("pupil_id").reset_index(drop=True)
    want = p.sort_values("pupil_id").reset_index(drop=True)
    for c in [col.name for col in contract.PUPIL_COLUMNS] + ["result_scale"]:
        assert _same_values(got[c], want[c]), c


def test_other_school_gets_other_ids() -> None:
    a = generate(first_year="2024-2025", last_year="2024-2025", in_progress=False)
    b = generate(first_year="2024-2025", last_year="2024-2025", in_progress=False,
                 school_code="THCS_B", entrants_per_year=120)
    pa, pb = a["2024-2025"].pupils, b["2024-2025"].pupils
    assert not set(pa["pupil_id"]) & set(pb["pupil_id"])
    assert (pb["school_code"] == "THCS_B").all() and 420 <= len(pb) <= 540


def test_to_dataset(sample: dict[str, SampleYear]) -> None:
    ds = to_dataset(sample)
    assert ds.years() == YEARS
    assert len(ds.pupils) == sum(len(sy.pupils) for sy in sample.values())
    assert set(ds.school["school_year"]) == set(COMPLETE)
    psych = ds.school[(ds.school["item"] == "psych_service")
                      & (ds.school["school_year"] == "2024-2025")]["value"]
    assert psych.tolist() == [1.0]


# --- the importer reads every generated year without a problem ------------------------------------


def _same_values(got: pd.Series, want: pd.Series) -> bool:
    def norm(x: object) -> object:
        if x is None or x is pd.NA or (isinstance(x, float) and np.isnan(x)) or x is pd.NaT:
            return None
        return x.date() if isinstance(x, pd.Timestamp) else x

    return [norm(x) for x in got.astype(object)] == [norm(x) for x in want.astype(object)]


def _import_all(folder: Path, sample: dict[str, SampleYear]) -> pd.DataFrame:
    """Import every year folder and compare each with what was generated."""
    importer = pytest.importorskip("locson_analysis.importer")
    frames = []
    for year in sample:
        yd = importer.read_year(folder / year, school_code=contract.DEFAULT_SCHOOL,
                                today=date(2026, 11, 29))
        assert yd.school_year == year
        got = yd.pupils.sort_values("pupil_id").reset_index(drop=True)
        want = sample[year].pupils.sort_values("pupil_id").reset_index(drop=True)
        assert got["pupil_id"].tolist() == want["pupil_id"].tolist()
        for c in [col.name for col in contract.PUPIL_COLUMNS] + ["result_scale"]:
            assert _same_values(got[c], want[c]), (year, c)
        personal = {"father_name", "mother_name", "address", "national_id",
                    *PERSONAL_EXTRA_HEADERS}
        assert not personal & set(yd.pupils.columns)
        for kind, items in (("school", sample[year].school),
                            ("population", sample[year].population)):
            table = getattr(yd, kind)
            if items is None:
                assert table is None
                continue
            values = dict(zip(table["item"], table["value"], strict=True))
            assert values == {k: float(v) for k, v in items.items()}, (year, kind)
        frames.append(got.assign(school_code=contract.DEFAULT_SCHOOL, school_year=year))
    return pd.concat(frames, ignore_index=True)


def test_every_year_imports_cleanly(written: tuple[Path, list[Path]],
                                    sample: dict[str, SampleYear]) -> None:
    """The importer reads every workbook without a single problem and gets back what was
    generated; the cross-year checks on the imported data find exactly the planted cases."""
    out, _ = written
    pupils = _import_all(out, sample)
    crossyear = pytest.importorskip("locson_analysis.crossyear")
    found = crossyear.check_all(pupils)
    planted = [x for sy in sample.values() for x in sy.anomalies]
    assert sorted(zip(found["school_year"], found["check_name"], found["pupil_id"],
                      strict=True)) == sorted((x["school_year"], x["check"], x["pupil_id"])
                                              for x in planted)


def test_csv_years_import_cleanly(tmp_path: Path) -> None:
    kwargs = {"first_year": "2023-2024", "last_year": "2026-2027", "seed": 3}
    write_sample(tmp_path, fmt="csv", **kwargs)
    _import_all(tmp_path, generate(**kwargs))
