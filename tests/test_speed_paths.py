"""The fast paths give the reference numbers: categorical ``store.load``, the year filter, and
the DuckDB path (``indicators.compute_sql``): its FULL table against ``indicators.compute_all``
(the reference) row for row, on the sample school over every year (the last one running),
several schools, linked cohorts and edge cases.

Speed itself is measured in ``bench/``, never here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench import run as bench
from locson_analysis import indicators, sample, store
from locson_analysis.dataset import SourceFile, YearData
from tests.store_builders import pupil, year_data

Y0, Y1, Y2 = "2022-2023", "2023-2024", "2024-2025"


def _reference(db: Path, school_year: str | None, school_code: str | None = None
               ) -> pd.DataFrame:
    return indicators.compute_all(store.load(db), school_year=school_year,
                                  school_code=school_code)


def _same(db: Path, school_year: str | None, school_code: str | None = None) -> None:
    expected = _reference(db, school_year, school_code)
    got = indicators.compute_sql(db, school_year=school_year, school_code=school_code)
    assert len(expected) > 0
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_exact=True)


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample school, every year (the last one still running), written as the store does."""
    years = sample.generate(seed=2025)
    ds = sample.to_dataset(years)
    db = tmp_path_factory.mktemp("speed") / "sample.duckdb"
    bench.bulk_store(db, ds.pupils, ds.school, ds.population)
    return db


def _crafted_rows(school: str) -> dict[str, list[dict]]:
    """Edge cases: small and missing ethnic groups, unknown sex and flags, arrivals, old scale,
    grade-9 results, transfers, a running year; two schools share pupil IDs on purpose."""
    many_kinh = [pupil(f"{school}K{i}", 6 + i % 4, sex="F" if i % 3 else "M",
                       learning_year="Tốt", conduct_year="Khá", poor=i % 5 == 0,
                       near_poor=None if i % 7 == 0 else i % 2 == 0)
                 for i in range(30)]
    edge = [
        pupil("E1", 9, "completed", ethnicity="K'Ho", learning_year="Đạt", conduct_year="Tốt"),
        pupil("E2", 9, "not_completed", ethnicity="K'Ho", sex="F", disability=True),
        pupil("E3", 8, "dropped_out", ethnicity="Mạ", entry_date="2024-11-02"),
        pupil("E4", 7, "dropped_out", ethnicity=None, sex=None, special_circumstances=True),
        pupil("E5", 6, "transferred_out", ethnicity="Châu Mạ", poor=None),
        pupil("E6", 6, "repeating", entry_date="2024-10-01", learning_year="Chưa đạt",
              conduct_year="Tốt"),
        pupil("E7", 9, "promoted", grade_note=None),
        pupil("E8", 8, "promoted", learning_year="Trung bình", conduct_year="Trung bình"),
    ]
    for r in edge:
        r.pop("grade_note", None)
    return {"base": many_kinh, "edge": edge}


@pytest.fixture(scope="module")
def crafted_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("speed") / "crafted.duckdb"
    for school in ("LOCSON", "LOCPHAT", "LOCTHANH"):
        rows = _crafted_rows(school)
        store.write_year(db, year_data(Y1, rows["base"] + rows["edge"], school_code=school))
        if school != "LOCTHANH":
            old = year_data(Y0, rows["base"][:20], school_code=school)
            old.pupils["result_scale"] = "tt58"
            store.write_year(db, old)
        running = [{**r, "outcome": "in_progress", "learning_year": None,
                    "conduct_year": None, "learning_s1": "Khá", "conduct_s1": "Tốt"}
                   for r in rows["base"][:15]]
        if school == "LOCSON":
            store.write_year(db, year_data(Y2, running, school_code=school))
    # a school sheet without a pupil list: every pupil indicator says the list is missing
    sheet_only = year_data(Y2, [], school={"toilets": 4, "toilets_hygienic": 4},
                           school_code="LOCPHAT")
    sheet_only.pupils = None
    sheet_only.files = [f for f in sheet_only.files if f.kind == "school"]
    store.write_year(db, sheet_only)
    return db


def _population(school_year: str, school_code: str, items: dict[str, float]) -> YearData:
    y = YearData(school_year=school_year, school_code=school_code)
    y.population = pd.DataFrame({"item": list(items), "value": list(items.values()),
                                 "source_file": "pho_cap.xlsx",
                                 "source_row": range(5, 5 + len(items))})
    y.files.append(SourceFile(f"/tmp/{school_year}/pho_cap.xlsx", "population", "cd" * 32,
                              "PC", len(items)))
    return y


@pytest.fixture(scope="module")
def cohort_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Linked records over five years: a grade-6 cohort of 2020-2021 with a repeater, a
    dropout, transfers out before and after its completion year, a late completer and a pupil
    who moves to the other school; entrants of several ages; zero denominators (no grade 9,
    no toilet, no 11-year-olds in the population sheet); a school whose first year has no
    previous year."""
    db = tmp_path_factory.mktemp("speed") / "cohort.duckdb"
    years = [f"{y}-{y + 1}" for y in range(2020, 2025)]
    # each pupil of school A: (entry year, grade-6 birth year, sex, ethnicity, path of outcomes)
    paths = {
        "C1": ["repeating", "promoted", "promoted", "promoted", "completed"],
        "C2": ["promoted", "promoted", "transferred_out"],
        "C3": ["promoted", "dropped_out"],
        "C4": ["promoted", "promoted", "promoted", "not_completed", "completed"],
        "C5": ["promoted", "promoted", "promoted", "completed"],
        "C6": ["promoted", "promoted", "promoted", "completed"],
        "C7": ["transferred_out"],
    }
    rows: dict[str, list[dict]] = {y: [] for y in years}
    for i, (pid, outcomes) in enumerate(paths.items()):
        grade = 6
        for k, outcome in enumerate(outcomes):
            rows[years[k]].append(pupil(
                pid, grade, outcome, sex="F" if i % 2 else "M",
                ethnicity="K'Ho" if i % 3 == 0 else "Kinh", birth_date=f"{2009 - i % 2}-05-01"))
            if outcome not in ("repeating", "not_completed"):
                grade += 1
    for k, y in enumerate(years[1:], start=1):  # later entrants, some aged 12
        rows[y] += [pupil(f"N{k}{j}", 6, sex="F" if j % 2 else "M",
                          birth_date=f"{2009 + k - j % 2}-02-01") for j in range(5)]
    rows[years[3]].append(pupil("C5B", 9, "transferred_out"))  # late transfer, after target
    for k, y in enumerate(years):
        school = {"toilets": 0 if k == 2 else 4, "toilets_hygienic": 0 if k == 2 else 3}
        store.write_year(db, year_data(y, rows[y], school=school, school_code="COHORTA"))
        store.write_year(db, _population(y, "COHORTA", {
            "pop_age11": 0 if k == 2 else 40, "pop_age11_in_grade6": 0 if k == 2 else 38,
            "pop_age11_14": 150, "pop_age11_14_in_school": 149}))
    # school B: two years, the first without a previous year; C2 arrives from A and completes;
    # no grade 9 at the end of 2024-2025
    store.write_year(db, year_data(years[3], [
        pupil("C2", 9, "completed", entry_date="2023-10-02"),
        *[pupil(f"B{j}", 6 + j % 3, sex="F" if j % 2 else "M") for j in range(12)]],
        school_code="COHORTB"))
    store.write_year(db, year_data(years[4], [
        pupil(f"B{j}", 7 + j % 2, "promoted") for j in range(12)], school_code="COHORTB"))
    return db


@pytest.mark.parametrize("school_year", [None, "2020-2021", "2021-2022", "2022-2023",
                                         "2023-2024", "2024-2025"])
def test_sql_path_equals_pandas_on_linked_cohorts(cohort_db: Path,
                                                  school_year: str | None) -> None:
    _same(cohort_db, school_year)
    _same(cohort_db, school_year, "COHORTA")


def test_linked_cohorts_give_cohort_values(cohort_db: Path) -> None:
    """The fixture reaches the cohort, intake and zero-denominator rows it is meant for."""
    got = indicators.compute_sql(cohort_db, school_year="2023-2024", school_code="COHORTA")
    whole = got[got["dimension"] == "school"].set_index("indicator")
    # entrants of 2020-2021: C1…C7 (C7 left that year); C2, C7 transferred out by 2023-2024
    assert whole.loc["completion_rate_true_cohort", "denominator"] == 5
    assert whole.loc["completion_rate_true_cohort", "numerator"] == 2  # C5, C6 (C1, C4 late)
    assert whole.loc["completion_rate_apparent_cohort", "denominator"] == 7
    previous = indicators.compute_sql(cohort_db, school_year="2022-2023")
    zero = previous[(previous["school_code"] == "COHORTA")
                    & (previous["dimension"] == "school")].set_index("indicator")
    assert np.isnan(zero.loc["grade6_intake_age11", "value"])
    assert np.isnan(zero.loc["toilets_hygienic_share", "value"])
    first_b = indicators.compute_sql(cohort_db, school_year="2023-2024", school_code="COHORTB")
    share = first_b[(first_b["indicator"] == "grade6_entrants_age11_share")
                    & (first_b["dimension"] == "school")]
    assert share["note"].str.contains("năm học trước").all()


@pytest.mark.parametrize("school_year", [None, "2019-2020", "2020-2021", "2024-2025",
                                         "2025-2026", "2026-2027"])
def test_sql_path_equals_pandas_on_the_sample_school(sample_db: Path,
                                                     school_year: str | None) -> None:
    _same(sample_db, school_year)


@pytest.mark.parametrize("school_year", [None, Y0, Y1, Y2])
def test_sql_path_equals_pandas_on_crafted_schools(crafted_db: Path,
                                                   school_year: str | None) -> None:
    _same(crafted_db, school_year)


def test_sql_path_one_school(crafted_db: Path) -> None:
    _same(crafted_db, Y1, "LOCTHANH")
    _same(crafted_db, None, "LOCPHAT")


def test_sql_path_notes_a_missing_pupil_list(crafted_db: Path) -> None:
    _same(crafted_db, Y2, "LOCPHAT")
    got = indicators.compute_sql(crafted_db, school_year=Y2, school_code="LOCPHAT")
    from_pupils = {k for k, i in indicators.INDICATORS.items()
                   if i.input in ("pupils", "derived")}
    rows = got[got["indicator"].isin(from_pupils)]
    assert set(rows["indicator"]) == from_pupils
    assert rows["value"].isna().all()
    assert rows["note"].str.contains("danh sách học sinh").all()


def test_load_reads_categoricals_without_names_when_asked(crafted_db: Path) -> None:
    full = store.load(crafted_db, with_names=True)
    lean = store.load(crafted_db, with_names=False)
    assert "full_name" in full.pupils.columns and "full_name" not in lean.pupils.columns
    for c in ("school_code", "school_year", "sex", "ethnicity", "class_name", "outcome",
              "result_scale", "source_file"):
        assert isinstance(lean.pupils[c].dtype, pd.CategoricalDtype), c
    assert list(lean.pupils.columns) == [c for c in full.pupils.columns if c != "full_name"]
    pd.testing.assert_frame_equal(lean.pupils, full.pupils.drop(columns="full_name"))


def test_load_years_filter_is_pushed_down(crafted_db: Path) -> None:
    ds = store.load(crafted_db, years=[Y1])
    assert set(ds.pupils["school_year"].astype(str)) == {Y1}
    assert ds.years() == [Y1]
    both = store.load(crafted_db, years=[Y0, Y1], school_code="LOCSON")
    assert set(both.pupils["school_code"].astype(str)) == {"LOCSON"}
    assert sorted(set(both.pupils["school_year"].astype(str))) == [Y0, Y1]


def test_one_year_loaded_gives_that_years_year_local_indicators(crafted_db: Path) -> None:
    """Loading t−4 … t (indicators.years_needed) gives the same year-t table as all years."""
    all_years = indicators.compute_all(store.load(crafted_db), school_year=Y1)
    needed = indicators.years_needed(Y1)
    assert needed[-1] == Y1 and needed[0] == "2019-2020"
    some = indicators.compute_all(store.load(crafted_db, years=needed), school_year=Y1)
    cohort = all_years["indicator"].str.startswith("completion_rate_true_cohort")
    pd.testing.assert_frame_equal(some[~cohort.to_numpy()].reset_index(drop=True),
                                  all_years[~cohort].reset_index(drop=True))


def test_linking_by_hash_equals_linking_by_id(sample_db: Path) -> None:
    """The pupil_hash store.load adds links the same records as the ID strings; colliding
    hashes (forced here) are detected and the IDs are used instead."""
    ds = store.load(sample_db)
    assert store.PUPIL_HASH in ds.pupils.columns
    with_hash = indicators.compute_all(ds)
    by_id = indicators.compute_all(store.Dataset(
        ds.pupils.drop(columns=store.PUPIL_HASH), ds.school, ds.population, ds.imports,
        ds.checks, ds.interventions))
    collided = indicators.compute_all(store.Dataset(
        ds.pupils.assign(**{store.PUPIL_HASH: 7}), ds.school, ds.population, ds.imports,
        ds.checks, ds.interventions))
    pd.testing.assert_frame_equal(with_hash, by_id)
    pd.testing.assert_frame_equal(collided, by_id)


@pytest.mark.parametrize(("school_year", "school_code"), [("2030-2031", None), (None, "NOPE")])
def test_sql_path_without_data_gives_the_same_empty_table(sample_db: Path, school_year: str | None,
                                                          school_code: str | None) -> None:
    got = indicators.compute_sql(sample_db, school_year=school_year, school_code=school_code)
    expected = indicators.compute_all(store.load(sample_db), school_year=school_year,
                                      school_code=school_code)
    assert got.empty
    pd.testing.assert_frame_equal(got, expected)


def test_every_flag_counts_the_same_in_sql_and_numpy() -> None:
    """Each flag is one expression: DuckDB's count of its SQL equals numpy's sum of it, on
    every combination of atoms (random rows)."""
    import duckdb

    from locson_analysis.indicators import flags
    from locson_analysis.indicators.sql import all_flags

    rng = np.random.default_rng(7)
    names = [*flags.ATOMS, "entrant", "age11"]
    atoms = {n: rng.random(500) < 0.5 for n in names}
    frame = pd.DataFrame({f"a_{n}": v for n, v in atoms.items()})
    con = duckdb.connect()
    con.register("t", frame)
    every = all_flags()
    got = con.execute("SELECT " + ", ".join(f'count_if({f.sql}) AS "{n}"'
                                            for n, f in every.items()) + " FROM t").fetchone()
    expected = [int(v.sum()) for v in flags.values(every, atoms).values()]
    assert list(got) == expected
    assert min(expected) > 0  # (every flag is met by some rows: the check is not empty)


# --- one year in detail, the other years' whole-school rows (the group report's call) ----------

@pytest.fixture(scope="module")
def two_sample_schools_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two sample schools with different years: LOCSON 2019-2020 … 2026-2027 (the last one
    running), LOCPHAT 2021-2022 … 2025-2026 (ended); both with school and population sheets."""
    first = sample.to_dataset(sample.generate(seed=2025, entrants_per_year=120))
    second = sample.to_dataset(sample.generate(
        seed=2025, first_year="2021-2022", last_year="2025-2026", in_progress=False,
        school_code="LOCPHAT", entrants_per_year=90))
    db = tmp_path_factory.mktemp("speed") / "two_samples.duckdb"
    bench.bulk_store(db, *[pd.concat([getattr(first, k), getattr(second, k)], ignore_index=True)
                           for k in ("pupils", "school", "population")])
    return db


def _same_detail(db: Path, detail_year: str, school_code: str | None = None) -> pd.DataFrame:
    """``compute_sql(db, detail_year=…)`` row for row (every column, the order) against the
    full table's rows of ``detail_year`` and the whole-school rows of the other years."""
    full = indicators.compute_sql(db, school_code=school_code)
    keep = (full["school_year"] == detail_year) | (full["dimension"] == "school")
    expected = full[keep.to_numpy()].reset_index(drop=True)
    got = indicators.compute_sql(db, school_code=school_code, detail_year=detail_year)
    assert len(expected) > 0
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    return got


def _covered(got: pd.DataFrame, detail_year: str, later: bool = True,
             cohort_groups: bool = True) -> None:
    """The comparison reaches the rows the detail year changes: the other years' cohort,
    intake, repeater, facility and gender parity rows, the detail year's groups (and, when
    ``cohort_groups``, its cohort rates by sex and minority, made from the groups of the
    grade-6 year t−3, a year summed with fewer labels)."""
    other = got[got["school_year"] != detail_year]
    assert set(other["dimension"]) == {"school"}
    with_value = set(other.loc[other["value"].notna(), "indicator"])
    assert {"completion_rate_apparent_cohort", "completion_rate_true_cohort",
            "completion_rate_true_cohort_later", "grade6_entrants_age11_share",
            "repetition_rate", "toilets_hygienic_share", "grade6_intake_age11",
            "gender_parity_index_promotion_rate"} <= with_value
    if later:
        assert (other["school_year"] > detail_year).any()
    assert (other["school_year"] < detail_year).any()
    mine = got[got["school_year"] == detail_year]
    assert set(mine["dimension"]) == set(indicators.equity.ALL_DIMENSIONS)
    cohort = mine[mine["indicator"].str.contains("cohort")
                  & mine["dimension"].isin(["sex", "minority"])]
    if cohort_groups:
        with_value = cohort.loc[cohort["value"].notna(), "indicator"]
        assert set(with_value) == {"completion_rate_apparent_cohort",
                                   "completion_rate_true_cohort",
                                   "completion_rate_true_cohort_later"}


@pytest.mark.parametrize("detail_year", ["2021-2022", "2023-2024", "2024-2025", "2026-2027"])
def test_detail_year_equals_the_full_table_filtered(two_sample_schools_db: Path,
                                                    detail_year: str) -> None:
    got = _same_detail(two_sample_schools_db, detail_year)
    assert set(got["school_code"]) == {"LOCSON", "LOCPHAT"}
    # (2021-2022: no cohort year t−3 in the data; 2026-2027: running, no cohort rate yet)
    _covered(got, detail_year, later=detail_year != "2026-2027",
             cohort_groups=detail_year in ("2023-2024", "2024-2025"))


def test_detail_year_of_a_running_year_and_a_year_before_it(two_sample_schools_db: Path) -> None:
    """The running year 2026-2027 in detail, then as a later year of 2025-2026: its
    in-progress notes are the full table's either way."""
    running = _same_detail(two_sample_schools_db, "2026-2027")
    assert running["note"].str.contains("đang diễn ra|Đang học|học kỳ", case=False).any()
    _same_detail(two_sample_schools_db, "2025-2026")


@pytest.mark.parametrize("school_code", ["LOCSON", "LOCPHAT"])
def test_detail_year_for_one_school(two_sample_schools_db: Path, school_code: str) -> None:
    got = _same_detail(two_sample_schools_db, "2024-2025", school_code)
    assert set(got["school_code"]) == {school_code}
    _covered(got, "2024-2025")


@pytest.mark.parametrize("detail_year", ["2020-2021", "2022-2023", "2023-2024", "2024-2025"])
def test_detail_year_on_linked_cohorts(cohort_db: Path, detail_year: str) -> None:
    _same_detail(cohort_db, detail_year)
    _same_detail(cohort_db, detail_year, "COHORTA")


@pytest.mark.parametrize("detail_year", [Y0, Y1, Y2])
def test_detail_year_on_crafted_schools(crafted_db: Path, detail_year: str) -> None:
    """Small and missing groups, a running year, a school sheet without a pupil list."""
    _same_detail(crafted_db, detail_year)
    _same_detail(crafted_db, detail_year, "LOCPHAT")


def test_detail_year_without_data_keeps_whole_school_rows(crafted_db: Path) -> None:
    got = _same_detail(crafted_db, "2030-2031")
    assert set(got["dimension"]) == {"school"}


def test_detail_year_is_for_a_table_of_every_year(crafted_db: Path) -> None:
    with pytest.raises(ValueError, match="detail_year"):
        indicators.compute_sql(crafted_db, school_year=Y1, detail_year=Y1)
