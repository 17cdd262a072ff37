"""The managing office's view of a group of schools (:mod:`locson_analysis.group`) and the groups
of ``data/schools.yaml``, against hand counts on a crafted three-school database.

The database (written by the store, real DuckDB):

* AN (2023-2024 and 2024-2025, every file).  2024-2025: grade 9 — 20 boys, 19 completed,
  1 not completed; grade 6 — 10 girls (2 dropped out, one of them in special circumstances) and
  10 boys (2 of them with learning result «Chưa đạt»).  School sheet: 10 toilets, 9 hygienic,
  no psychological service.  Population: 20 children aged 11, 19 in grade 6.
  2023-2024: 3 grade-8 pupils (A01, A02 go on to grade 9; A03 is missing the next year — one
  cross-year finding), school sheet 10 toilets / 9 hygienic, service yes.
* BINH (2024-2025 only, NO school sheet).  Grade 9 — 10 boys completed; grade 6 — 9 boys
  promoted, 1 girl in special circumstances dropped out.  Population: 10 aged 11, 10 in grade 6.
* CUONG (2023-2024 ended; 2024-2025 IN PROGRESS).  2024-2025: grade 9 — 10 pupils in progress
  (C01, C02 from grade 8 the year before); grade 6 — 10 in progress and 1 girl dropped out so
  far.  School sheet: 4 toilets, 4 hygienic, psychological service yes.  Population: 12 / 12.
  2023-2024: C01, C02 in grade 8 promoted; school sheet 4 / 4, service yes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from locson_analysis import crossyear, disclosure, group, indicators, schools, store, targets
from locson_analysis.dataset import SourceFile, YearData
from locson_analysis.errors import LocsonError
from tests.builders import pupil
from tests.store_builders import pupils_frame

Y0, Y1 = "2023-2024", "2024-2025"
NAMES = {"AN": "THCS An", "BINH": "THCS Bình", "CUONG": "THCS Cường"}
SCHOOLS_YAML = """schools:
  - code: AN
    name: THCS An
  - code: BINH
    name: THCS Bình
  - code: CUONG
    name: THCS Cường
groups:
  ba-truong:
    name: Ba trường thử
    schools: [AN, BINH, CUONG]
  hai: [AN, BINH]
  cuong: [CUONG]
"""


def _year(school_year: str, code: str, rows: list[dict], school: dict | None = None,
          population: dict | None = None) -> YearData:
    y = YearData(school_year=school_year, school_code=code)
    for r in rows:
        r.pop("school_code", None)
        r.pop("school_year", None)
    y.pupils = pupils_frame(rows)
    y.files.append(SourceFile(f"/tmp/{code}/ds.xlsx", "pupils", "ab" * 32, "DS", len(rows)))
    for kind, items in (("school", school), ("population", population)):
        if items is None:
            continue
        setattr(y, kind, pd.DataFrame({"item": list(items), "value": list(items.values()),
                                       "source_file": f"{kind}.xlsx",
                                       "source_row": range(5, 5 + len(items))}))
        y.files.append(SourceFile(f"/tmp/{code}/{kind}.xlsx", kind, "cd" * 32, "S",
                                  len(items)))
    return y


def _rows(n: int, year: str, grade: int, outcome: str, prefix: str, start: int = 0,
          **fields: object) -> list[dict]:
    return [pupil(year, grade, outcome, pupil_id=f"{prefix}{start + i:02d}", **fields)
            for i in range(n)]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("group") / "group.duckdb"
    an0 = _rows(3, Y0, 8, "promoted", "A", 1)
    an1 = (_rows(2, Y1, 9, "completed", "A", 1) + _rows(17, Y1, 9, "completed", "A", 10)
           + _rows(1, Y1, 9, "not_completed", "A", 30)
           + _rows(1, Y1, 6, "dropped_out", "A", 40, sex="F", special_circumstances=True)
           + _rows(1, Y1, 6, "dropped_out", "A", 41, sex="F")
           + _rows(8, Y1, 6, "promoted", "A", 42, sex="F")
           + _rows(2, Y1, 6, "promoted", "A", 50, learning_year="Chưa đạt")
           + _rows(8, Y1, 6, "promoted", "A", 52))
    binh1 = (_rows(10, Y1, 9, "completed", "B", 1) + _rows(9, Y1, 6, "promoted", "B", 20)
             + _rows(1, Y1, 6, "dropped_out", "B", 30, sex="F", special_circumstances=True))
    cuong0 = _rows(2, Y0, 8, "promoted", "C", 1)
    cuong1 = (_rows(2, Y1, 9, "in_progress", "C", 1) + _rows(8, Y1, 9, "in_progress", "C", 10)
              + _rows(10, Y1, 6, "in_progress", "C", 20)
              + _rows(1, Y1, 6, "dropped_out", "C", 40, sex="F"))
    store.write_years(path, [
        _year(Y0, "AN", an0, {"toilets": 10, "toilets_hygienic": 9, "psych_service": 1}),
        _year(Y1, "AN", an1, {"toilets": 10, "toilets_hygienic": 9, "psych_service": 0},
              {"pop_age11": 20, "pop_age11_in_grade6": 19}),
        _year(Y1, "BINH", binh1, None, {"pop_age11": 10, "pop_age11_in_grade6": 10}),
        _year(Y0, "CUONG", cuong0, {"toilets": 4, "toilets_hygienic": 4, "psych_service": 1}),
        _year(Y1, "CUONG", cuong1, {"toilets": 4, "toilets_hygienic": 4, "psych_service": 1},
              {"pop_age11": 12, "pop_age11_in_grade6": 12}),
    ])
    store.replace_checks(path, crossyear.check_all(store.load(path).pupils))
    return path


@pytest.fixture(scope="module")
def schools_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    f = tmp_path_factory.mktemp("schools") / "schools.yaml"
    f.write_text(SCHOOLS_YAML, encoding="utf-8")
    return f


@pytest.fixture(scope="module")
def view(db: Path, schools_file: Path) -> group.GroupView:
    return group.group_view(db, Y1, "ba-truong", schools_file=schools_file)


def _cell(frame: pd.DataFrame, code: str, key: str) -> pd.Series:
    hit = frame[(frame["school_code"] == code) & (frame["indicator"] == key)]
    assert len(hit) == 1
    return hit.iloc[0]


# --- groups in data/schools.yaml ---------------------------------------------------------------

def test_groups_are_read_from_the_schools_file(schools_file: Path) -> None:
    groups = schools.load_groups(schools_file)
    assert list(groups) == ["ba-truong", "hai", "cuong"]
    assert groups["ba-truong"] == schools.Group("ba-truong", "Ba trường thử",
                                                ("AN", "BINH", "CUONG"))
    assert groups["hai"].codes == ("AN", "BINH") and groups["hai"].name == "Nhóm trường hai"
    assert schools.resolve_group("hai", [], schools_file).codes == ("AN", "BINH")
    # "all": the registry's schools, then those only in the database
    every = schools.resolve_group(None, ["ZED", "AN"], schools_file)
    assert every.key == "all" and every.codes == ("AN", "BINH", "CUONG", "ZED")
    assert schools.resolve_group("all", [], schools_file).codes == ("AN", "BINH", "CUONG")
    assert schools.resolve_group(["CUONG", "ZED"], ["ZED"], schools_file).codes == (
        "CUONG", "ZED")


def test_the_repository_schools_file_has_a_valid_example_group() -> None:
    groups = schools.load_groups()
    registry = schools.load_registry()
    assert groups and all(set(g.codes) <= set(registry) for g in groups.values())


def test_group_errors_are_all_reported_in_vietnamese(tmp_path: Path) -> None:
    f = tmp_path / "schools.yaml"
    f.write_text("schools:\n  - code: AN\n    name: THCS An\n"
                 "groups:\n  all: [AN]\n  Phường 1: [AN]\n  rong: []\n"
                 "  lap: [AN, AN]\n  la: [AN, XYZ]\n  ten:\n    name: ''\n    schools: [AN]\n",
                 encoding="utf-8")
    with pytest.raises(LocsonError) as err:
        schools.load_groups(f)
    text = str(err.value)
    assert "có 6 lỗi ở mục «groups:»" in text
    for part in ("nhóm «all»: tên «all» dành cho tất cả các trường",
                 "nhóm «Phường 1»: tên nhóm chỉ gồm chữ thường không dấu",
                 "nhóm «rong»: cần danh sách mã trường",
                 "nhóm «lap»: mã trường «AN» ghi hai lần",
                 "nhóm «la»: mã trường «XYZ» không có trong danh sách trường",
                 "nhóm «ten»: «name» cần là tên nhóm"):
        assert part in text
    f.write_text("schools:\n  - code: AN\n    name: THCS An\ngroups: [AN]\n", encoding="utf-8")
    with pytest.raises(LocsonError, match="mục «groups:» cần là một bảng"):
        schools.load_groups(f)


def test_unknown_group_or_school_is_a_clear_error(schools_file: Path) -> None:
    with pytest.raises(LocsonError, match="Không có nhóm trường «ba» .* Các nhóm hiện có: "
                                          "ba-truong, hai, cuong, all"):
        schools.resolve_group("ba", [], schools_file)
    with pytest.raises(LocsonError, match="Không có trường mã «XYZ»"):
        schools.resolve_group(["AN", "XYZ"], [], schools_file)


# --- the indicator table: DuckDB and pandas ----------------------------------------------------

def test_sql_table_equals_compute_all_on_the_crafted_database(db: Path) -> None:
    pd.testing.assert_frame_equal(group.indicator_table(db, "sql"),
                                  group.indicator_table(db, "pandas"), check_exact=True)
    # the report's call: every row of its year, the whole-school rows of the others
    detail = group.indicator_table(db, "sql", detail_year=Y1)
    pd.testing.assert_frame_equal(detail, group.indicator_table(db, "pandas", detail_year=Y1),
                                  check_exact=True)
    assert set(detail.loc[detail["school_year"] != Y1, "dimension"]) == {"school"}
    assert (detail["school_year"] != Y1).any() and (detail["dimension"] != "school").any()


def test_view_is_the_same_from_either_engine(db: Path, schools_file: Path,
                                             view: group.GroupView) -> None:
    other = group.group_view(db, Y1, "ba-truong", schools_file=schools_file, engine="pandas")
    for name in ("matrix", "pooled", "pooled_table", "furthest", "sentences", "equity",
                 "completeness", "findings", "trend"):
        pd.testing.assert_frame_equal(getattr(view, name), getattr(other, name),
                                      check_exact=True, obj=name)


# --- (a) the matrix ----------------------------------------------------------------------------

def test_matrix_values_and_counts_by_hand(view: group.GroupView) -> None:
    m = view.matrix
    assert list(dict.fromkeys(m["school_code"])) == ["AN", "BINH", "CUONG"]
    assert list(dict.fromkeys(m["school"])) == ["Trường THCS An", "Trường THCS Bình",
                                                "Trường THCS Cường"]
    expected = {  # (school, indicator): (numerator, denominator, status)
        ("AN", "dropout_rate"): (2, 40, targets.NOT_MET),
        ("AN", "completion_rate_grade9"): (19, 20, targets.NOT_MET),
        ("AN", "allround_rate"): (38, 40, targets.NOT_MET),
        ("AN", "grade6_intake_age11"): (19, 20, targets.NOT_MET),
        ("AN", "toilets_hygienic_share"): (9, 10, targets.NOT_MET),
        ("BINH", "dropout_rate"): (1, 20, targets.NOT_MET),
        ("BINH", "completion_rate_grade9"): (10, 10, targets.MET),
        ("BINH", "allround_rate"): (20, 20, targets.MET),
        ("BINH", "grade6_intake_age11"): (10, 10, targets.MET),
    }
    for (code, key), (num, den, status) in expected.items():
        r = _cell(m, code, key)
        assert (r["numerator"], r["denominator"], r["status"]) == (num, den, status), (code, key)
        assert r["value"] == pytest.approx(num / den)
    assert _cell(m, "AN", "psych_service")["status"] == targets.NOT_MET
    # the school sheet and the population count of the year in progress are known already
    toilets = _cell(m, "CUONG", "toilets_hygienic_share")
    assert (toilets["numerator"], toilets["denominator"]) == (4, 4)
    intake = _cell(m, "CUONG", "grade6_intake_age11")
    assert (intake["numerator"], intake["denominator"]) == (12, 12)
    # BINH sent no school sheet: no data for the two targets read from it
    for key in ("toilets_hygienic_share", "psych_service"):
        r = _cell(m, "BINH", key)
        assert r["status"] == targets.NO_VALUE and np.isnan(r["value"])
        assert "chưa nhập số liệu nhà trường" in r["note"]
    assert m.loc[m["school_code"] == "CUONG", "in_progress"].all()
    assert not m.loc[m["school_code"] != "CUONG", "in_progress"].any()
    # the year in progress: the dropout so far 1 / 21, completion not known yet
    drop = _cell(m, "CUONG", "dropout_rate")
    assert (drop["numerator"], drop["denominator"]) == (1, 21)
    assert np.isnan(_cell(m, "CUONG", "completion_rate_grade9")["value"])


def test_a_running_school_without_a_value_has_no_data(db: Path, schools_file: Path) -> None:
    """Mid-year as in a full-year report: CUONG's completion (not known before the year ends)
    reads «Chưa có số liệu», as the pooled row's note says; its targets with a value so far are
    followed."""
    mid = group.group_view(db, Y1, "ba-truong", mid_year=True, schools_file=schools_file)
    comp = _cell(mid.matrix, "CUONG", "completion_rate_grade9")
    assert np.isnan(comp["value"]) and comp["status"] == targets.NO_VALUE
    assert "Trường THCS Cường" in mid.pooled.set_index("indicator").loc[
        "completion_rate_grade9", "note"]
    for key in ("dropout_rate", "allround_rate", "toilets_hygienic_share"):
        assert _cell(mid.matrix, "CUONG", key)["status"] == targets.TRACKING, key
    s = mid.sentences.set_index("indicator")["sentence"]
    assert s["completion_rate_grade9"].endswith("1 trường đạt. 1 trường chưa có số liệu.")


def test_matrix_status_is_passed_through_from_evaluate(db: Path, view: group.GroupView) -> None:
    """Every school's rows are targets.evaluate's, the year in progress included (whatever
    status evaluate gives a running year, the matrix shows it, never its own) — but a running
    school's target without any value has no data, not «Đang theo dõi»."""
    table = group.indicator_table(db)
    plan = targets.load_targets()
    for code in ("AN", "BINH", "CUONG"):
        ev = targets.evaluate(table, plan, Y1, school_code=code)
        mine = view.matrix[view.matrix["school_code"] == code].reset_index(drop=True)
        empty = ((ev["status"] == targets.TRACKING) & ev["value"].isna()).to_numpy()
        assert empty.sum() == (code == "CUONG")  # CUONG's completion: not known yet
        assert mine["status"].tolist() == ev["status"].mask(empty, targets.NO_VALUE).tolist()
        assert mine["note"].tolist() == ev["note"].tolist()
        np.testing.assert_array_equal(mine["value"], ev["value"])


@pytest.mark.parametrize("year", [Y0, Y1, "2019-2020"])
def test_evaluate_schools_equals_evaluate_school_by_school(db: Path, year: str) -> None:
    """targets.evaluate_schools (one pass, what the matrix uses) gives, school by school,
    exactly the frame of targets.evaluate — a year outside the plan, an ended year, a running
    school and a school without rows included."""
    table = group.indicator_table(db)
    plan = targets.load_targets()
    codes = ["AN", "BINH", "CUONG", "DUNG"]
    running = {"CUONG"} if year == Y1 else set()
    many = targets.evaluate_schools(table, plan, year, codes, running)
    assert list(dict.fromkeys(many["school_code"])) == codes
    for code in codes:
        one = targets.evaluate(table, plan, year, school_code=code,
                               in_progress=code in running)
        mine = many[many["school_code"] == code].drop(columns="school_code").reset_index(
            drop=True)
        pd.testing.assert_frame_equal(mine, one, check_exact=True, obj=code)


def test_status_matrix_is_wide(view: group.GroupView) -> None:
    wide = group.status_matrix(view.matrix)
    assert list(wide.index) == ["Trường THCS An", "Trường THCS Bình", "Trường THCS Cường"]
    assert list(wide.columns)[:2] == ["1. Tỷ lệ nhà vệ sinh học sinh đạt chuẩn hợp vệ sinh",
                                      "2. Tỷ lệ học sinh phát triển toàn diện"]
    assert wide.loc["Trường THCS Bình", "5. Tỷ lệ học sinh bỏ học"] == targets.NOT_MET
    assert wide.loc["Trường THCS Bình", "4. Có dịch vụ hỗ trợ tâm lý"] == targets.NO_VALUE


# --- (b) pooled rates --------------------------------------------------------------------------

def test_pooled_rates_by_hand(view: group.GroupView) -> None:
    p = view.pooled.set_index("indicator")
    expected = {  # numerator, denominator, schools counted, schools without a value
        # CUONG's dropouts so far are counted (a partial figure, said in the note)
        "dropout_rate": (2 + 1 + 1, 40 + 20 + 21, 3, ""),
        # CUONG's completion is not known yet: left out, named
        "completion_rate_grade9": (19 + 10, 20 + 10, 2, "CUONG"),
        "allround_rate": (38 + 20 + 21, 40 + 20 + 21, 3, ""),
        "grade6_intake_age11": (19 + 10 + 12, 20 + 10 + 12, 3, ""),
        "toilets_hygienic_share": (9 + 4, 10 + 4, 2, "BINH"),
        "psych_service": (1, 2, 2, "BINH"),  # schools with the service / schools reporting
    }
    for key, (num, den, n, without) in expected.items():
        r = p.loc[key]
        assert (r["numerator"], r["denominator"], r["schools"]) == (num, den, n), key
        assert r["schools_selected"] == 3 and r["schools_without_value"] == without, key
        if key != "psych_service":
            assert r["value"] == pytest.approx(num / den), key
    assert p.loc["psych_service", "value"] == 0  # one school has no service: not "yes"
    # completion pools AN and BINH, whose years have ended: judged, 29/30 < 97,5 %
    assert p.loc["completion_rate_grade9", "status"] == targets.NOT_MET
    # the rows holding CUONG's figures of its running year are followed, as CUONG's own are
    for key in ("dropout_rate", "allround_rate", "grade6_intake_age11",
                "toilets_hygienic_share", "psych_service"):
        assert p.loc[key, "status"] == targets.TRACKING, key
        assert _cell(view.matrix, "CUONG", key)["status"] == targets.TRACKING, key
    assert not view.pooled_table.set_index(["indicator", "dimension"]).loc[
        ("completion_rate_grade9", "school"), "in_progress"]
    # the schools left out are named as the reader knows them, not by their codes
    assert "Chưa có số liệu của: Trường THCS Cường" in p.loc["completion_rate_grade9", "note"]
    assert "Số liệu gộp 2/3 trường: tổng tử số ÷ tổng mẫu số" in p.loc[
        "completion_rate_grade9", "note"]
    assert indicators.INDICATORS["dropout_rate"].definition_vi == p.loc["dropout_rate",
                                                                        "definition_vi"]
    assert "đang diễn ra" in p.loc["dropout_rate", "note"]  # a partial figure, said so
    assert "Với 81 học sinh đầu năm" in p.loc["dropout_rate", "note"]
    assert p.loc["dropout_rate", "allowed_dropouts"] == 0


def test_pool_equals_compute_pooled_when_every_year_has_ended(db: Path) -> None:
    """On 2023-2024 (AN and CUONG, both ended) pooling the schools' rows gives the numbers of
    indicators.compute_pooled (the pupils counted as one school), every dimension but the
    per-ethnicity rows: the same value everywhere, the same counts wherever there is a value
    (yes/no items count schools here)."""
    ds = store.load(db)
    mine = group.pool(indicators.compute_all(ds), ["AN", "BINH", "CUONG"], "GỘP")
    mine = mine[mine["school_year"] == Y0]
    ref = indicators.compute_pooled(ds, label="GỘP", school_year=Y0)
    ref = ref[ref["dimension"] != "ethnicity"]
    keys = ["school_year", "indicator", "dimension", "group"]
    both = ref.merge(mine, on=keys, how="outer", suffixes=("_ref", ""), indicator=True)
    assert (both["_merge"] == "both").all(), both[both["_merge"] != "both"][keys]
    yes_no = both["indicator"].map(lambda k: indicators.INDICATORS[k].unit == "yesno")
    np.testing.assert_allclose(both["value"], both["value_ref"], equal_nan=True)
    counted = ~yes_no & both["value_ref"].notna()  # (a "no data" row's counts mean nothing)
    assert counted.sum() > 50
    for c in ("numerator", "denominator"):
        np.testing.assert_allclose(both.loc[counted, c], both.loc[counted, f"{c}_ref"],
                                   equal_nan=True)
    toilets = both[both["indicator"] == "toilets_hygienic_share"].iloc[0]
    assert (toilets["numerator"], toilets["denominator"]) == (13, 14)


def test_pool_equals_compute_pooled_on_two_synthetic_schools() -> None:
    """The same on two simulated schools over four ended years (hundreds of pupils each,
    transfers, repeaters, cohorts): every non-ethnicity row of every year."""
    from locson_analysis import sample
    from locson_analysis.dataset import Dataset

    parts = [sample.to_dataset(sample.generate(first_year="2020-2021", last_year="2023-2024",
                                               in_progress=False, school_code=code,
                                               entrants_per_year=60))
             for code in ("LOCSON", "LOCPHAT")]
    ds = Dataset(*(pd.concat([getattr(d, f) for d in parts], ignore_index=True)
                   for f in ("pupils", "school", "population", "imports", "checks",
                             "interventions")))
    mine = group.pool(indicators.compute_all(ds), ["LOCSON", "LOCPHAT"], "GỘP")
    ref = indicators.compute_pooled(ds, label="GỘP")
    ref = ref[ref["dimension"] != "ethnicity"]
    keys = ["school_year", "indicator", "dimension", "group"]
    both = ref.merge(mine, on=keys, how="outer", suffixes=("_ref", ""), indicator=True)
    assert (both["_merge"] == "both").all(), both[both["_merge"] != "both"][keys]
    np.testing.assert_allclose(both["value"], both["value_ref"], equal_nan=True)
    yes_no = both["indicator"].map(lambda k: indicators.INDICATORS[k].unit == "yesno")
    counted = ~yes_no & both["value_ref"].notna()
    assert counted.sum() > 500
    for c in ("numerator", "denominator"):
        np.testing.assert_allclose(both.loc[counted, c], both.loc[counted, f"{c}_ref"])


# --- (c) the schools furthest from each target -------------------------------------------------

def test_furthest_schools_in_counts(view: group.GroupView) -> None:
    f = view.furthest
    drop = f[(f["indicator"] == "dropout_rate") & (f["school_code"] != "CUONG")]
    assert drop[["school_code", "shortfall", "numerator"]].values.tolist() == [
        ["AN", 2, 2], ["BINH", 1, 1]]
    cuong_status = _cell(view.matrix, "CUONG", "dropout_rate")["status"]
    assert ("CUONG" in set(f.loc[f["indicator"] == "dropout_rate", "school_code"])) == (
        cuong_status == targets.NOT_MET)
    # completion 19/20 at 97,5 %: ⌈19,5⌉ − 19 = 1 more pupil
    comp = f[f["indicator"] == "completion_rate_grade9"]
    assert comp[["school_code", "shortfall"]].values.tolist() == [["AN", 1]]
    allround = f[f["indicator"] == "allround_rate"]
    assert allround[["school_code", "shortfall"]].values.tolist() == [["AN", 2]]
    toilets = f[f["indicator"] == "toilets_hygienic_share"]
    assert toilets[["school_code", "shortfall", "rank"]].values.tolist() == [["AN", 1, 1]]
    psych = f[f["indicator"] == "psych_service"]
    assert psych["school_code"].tolist() == ["AN"]


def test_shortfall_is_exact() -> None:
    assert group.shortfall(19, 20, 0.975, ">=") == 1
    assert group.shortfall(795, 800, 0.998, ">=") == 4  # ⌈798,4⌉ − 795
    assert group.shortfall(2, 2000, 0.0006, "<") == 1  # 1 dropout allowed of 2.000
    assert group.shortfall(1, 2000, 0.0006, "<") == 0
    assert np.isnan(group.shortfall(np.nan, np.nan, 1.0, ">="))
    assert group.shortfall(np.nan, np.nan, 1, "yes") == 1


def test_sentences_a_reader_can_act_on(db: Path, schools_file: Path) -> None:
    two = group.group_view(db, Y1, "hai", schools_file=schools_file)
    s = two.sentences.set_index("indicator")["sentence"]
    assert s["dropout_rate"] == ("2 trường có học sinh bỏ học: 3 em. Nhiều nhất: Trường THCS "
                                 "An (2 em), Trường THCS Bình (1 em).")
    assert s["completion_rate_grade9"] == (
        "1 trường chưa đạt chỉ tiêu 97,5 % học sinh lớp 9 hoàn thành chương trình THCS: 1 em "
        "chưa hoàn thành; cần thêm 1 em hoàn thành để trường này đạt chỉ tiêu. Xa chỉ "
        "tiêu nhất: Trường THCS An (1 em). 1 trường đạt.")
    assert s["toilets_hygienic_share"] == (
        "1 trường còn nhà vệ sinh học sinh chưa đạt chuẩn hợp vệ sinh: 1 nhà vệ sinh. Xa chỉ "
        "tiêu nhất: Trường THCS An (1 nhà vệ sinh). 1 trường chưa có số liệu.")
    assert s["psych_service"] == ("1 trường chưa có dịch vụ hỗ trợ tâm lý trẻ em. Gồm: "
                                  "Trường THCS An. 1 trường chưa có số liệu.")
    assert s["grade6_intake_age11"] == (
        "1 trường chưa huy động đủ trẻ 11 tuổi vào lớp 6: 1 trẻ 11 tuổi trên địa bàn chưa vào "
        "lớp 6. Xa chỉ tiêu nhất: Trường THCS An (1 trẻ). 1 trường đạt.")
    assert s["allround_rate"].startswith("1 trường chưa đạt chỉ tiêu 100 % học sinh phát "
                                         "triển toàn diện: 2 em chưa đạt")


# --- (d) equity pooled across schools ----------------------------------------------------------

def test_equity_pooled_counts_by_hand(db: Path, schools_file: Path) -> None:
    """Threshold 1 hides nothing: the pooled counts by group, hand counted; a pooled group of
    fewer than 10 pupils gets no rate, as a school's would."""
    e = group.group_view(db, Y1, "ba-truong", schools_file=schools_file, suppress=1).equity
    special = e[(e["indicator"] == "dropout_rate") & (e["group"] == "Hoàn cảnh đặc biệt")]
    assert len(special) == 1
    r = special.iloc[0]
    # one such pupil at AN and one at BINH, both dropped out: a small group in the pool too
    assert (r["numerator"], r["denominator"], r["schools"]) == (2, 2, 2)
    assert np.isnan(r["value"]) and "Nhóm nhỏ (n = 2, dưới 10 học sinh)" in r["note"]
    # the HTML table: the rate «Không tính» (the counts and the note say why), not «no data»
    from locson_analysis.report import group as group_report

    view = group.group_view(db, Y1, "ba-truong", schools_file=schools_file, suppress=1)
    shown = group_report.equity_table(view)
    row = shown[(shown["Chỉ số"] == special.iloc[0]["indicator_label"])
                & (shown["Nhóm học sinh"] == "Hoàn cảnh đặc biệt")].iloc[0]
    assert (row["Tỷ lệ"], row["Tử số"], row["Mẫu số"]) == ("Không tính", "2", "2")
    girls = e[(e["indicator"] == "dropout_rate") & (e["group"] == "Nữ")].iloc[0]
    assert (girls["numerator"], girls["denominator"]) == (2 + 1 + 1, 10 + 1 + 1)
    assert girls["value"] == pytest.approx(4 / 12)  # 12 girls: a rate (1 + 1 in two schools)
    assert "ethnicity" not in set(e["dimension"])
    assert set(e["dimension_label"]) >= {"Giới tính", "Hoàn cảnh đặc biệt"}
    gpi = e[e["indicator"] == "gender_parity_index_dropout_rate"].iloc[0]
    assert gpi["dimension_label"] == "Bình đẳng giới"
    boys = e[(e["indicator"] == "dropout_rate") & (e["group"] == "Nam")].iloc[0]
    assert (boys["numerator"], boys["denominator"]) == (0, 30 + 19 + 20)
    assert np.isnan(gpi["value"])  # under 5 dropouts of either sex: no index
    assert not e["hidden_value"].any()


def test_equity_pooled_with_suppression(db: Path, schools_file: Path,
                                        view: group.GroupView) -> None:
    """The configured threshold (5): disclosure.suppress on the pool, complementary cells
    too; a hidden row keeps no count, in its note neither."""
    assert view.threshold == 5
    e = view.equity.set_index(["indicator", "group"])
    special = e.loc[("dropout_rate", "Hoàn cảnh đặc biệt")]
    assert special["suppression"] == "primary" and special["hidden_value"]
    assert np.isnan(special["numerator"]) and np.isnan(special["denominator"])
    assert pd.isna(special["schools"]) and special["note"] == group.HIDDEN_NOTE
    girls = e.loc[("dropout_rate", "Nữ")]  # 4 dropouts < 5: hidden; the boys' 0 with it
    assert girls["suppression"] == "primary" and np.isnan(girls["numerator"])
    assert girls["denominator"] == 12  # 12 girls is no small cell
    boys = e.loc[("dropout_rate", "Nam")]
    assert boys["suppression"] == "complementary" and np.isnan(boys["numerator"])
    gpi = e.loc[("gender_parity_index_dropout_rate", "Ba trường thử")]
    assert gpi["hidden_value"] and np.isnan(gpi["numerator"]) and np.isnan(gpi["denominator"])
    kinh = e.loc[("dropout_rate", "Kinh")]  # every pupil is Kinh: the school row again
    assert (kinh["numerator"], kinh["denominator"]) == (4, 81) and not kinh["hidden_value"]
    # every hidden row: no figure and no count in the note
    hidden = view.equity[view.equity["hidden_value"].astype(bool)]
    assert len(hidden) >= 6 and hidden["value"].isna().all()
    assert not hidden["note"].str.contains(r"\d").any()


# --- (e) data completeness ---------------------------------------------------------------------

def test_completeness_and_findings(view: group.GroupView) -> None:
    c = view.completeness.set_index("school_code")
    assert c.loc["AN", "missing"] == "" and c.loc["AN", "findings"] == 1
    assert c.loc["BINH", "missing"] == "số liệu nhà trường"
    assert not c.loc["BINH", "has_school"] and c.loc["BINH", "has_pupils"]
    assert c.loc["CUONG", "in_progress"]
    assert c.loc["CUONG", "missing"] == "kết quả cuối năm (năm học chưa kết thúc)"
    assert view.completeness_sentences == [
        "1 trường chưa gửi số liệu nhà trường năm học 2024-2025: Trường THCS Bình.",
        "1 trường chưa nhập kết quả cuối năm (năm học còn «đang học»): Trường THCS Cường; các "
        "chỉ tiêu cuối năm của trường này chưa được tính vào số liệu gộp.",
        "1 trường có phát hiện khi đối chiếu với năm học trước (tổng 1 trường hợp cần xác "
        "minh): Trường THCS An (1)."]
    f = view.findings
    assert f[["school_code", "school_year", "next_year", "check_name", "count"]].values.tolist(
    ) == [["AN", Y0, Y1, "missing_next_year", 1]]
    assert "pupil_id" not in f.columns


def test_mid_year_view_expects_running_years(db: Path, schools_file: Path) -> None:
    mid = group.group_view(db, Y1, "ba-truong", mid_year=True, schools_file=schools_file)
    assert mid.completeness.set_index("school_code").loc["CUONG", "missing"] == ""
    with pytest.raises(LocsonError, match="chưa kết thúc ở trường nào của nhóm"):
        group.group_view(db, Y1, "cuong", schools_file=schools_file)
    with pytest.raises(LocsonError, match="đã kết thúc ở mọi trường của nhóm"):
        group.group_view(db, Y1, "hai", mid_year=True, schools_file=schools_file)
    with pytest.raises(LocsonError, match="Năm học 2019-2020 không có trong cơ sở dữ liệu"):
        group.group_view(db, "2019-2020", "hai", schools_file=schools_file)


def test_a_school_without_any_data_is_listed(db: Path, tmp_path: Path) -> None:
    f = tmp_path / "schools.yaml"
    f.write_text(SCHOOLS_YAML.replace("groups:", "  - code: DUNG\n    name: THCS Dũng\ngroups:")
                 , encoding="utf-8")
    v = group.group_view(db, Y1, None, schools_file=f, label="CẢ HUYỆN")
    assert v.group.codes == ("AN", "BINH", "CUONG", "DUNG")
    assert (v.matrix.loc[v.matrix["school_code"] == "DUNG", "status"] == targets.NO_VALUE).all()
    assert v.completeness_sentences[0] == ("1 trường chưa gửi số liệu nào của năm học "
                                           "2024-2025: Trường THCS Dũng.")
    assert v.pooled["schools_selected"].eq(4).all()
    assert (v.pooled_table["school_code"] == "CẢ HUYỆN").all()
    alone = group.group_view(db, Y1, ["DUNG"], schools_file=f)  # nothing to pool
    assert alone.pooled["status"].eq(targets.NO_VALUE).all() and alone.pooled["schools"].eq(
        0).all()
    assert alone.equity.empty and alone.trend.empty and alone.furthest.empty
    assert alone.sentences["sentence"].eq("1 trường chưa có số liệu.").all()


# --- (f) the pooled trend ----------------------------------------------------------------------

def test_pooled_trend_by_hand(view: group.GroupView) -> None:
    t = view.trend[view.trend["indicator"] == "dropout_rate"].set_index("school_year")
    assert list(t.index) == [Y0, Y1]
    assert (t.loc[Y0, "numerator"], t.loc[Y0, "denominator"], t.loc[Y0, "schools"]) == (0, 5, 2)
    assert t.loc[Y0, "status"] == targets.MET
    assert (t.loc[Y1, "numerator"], t.loc[Y1, "denominator"]) == (4, 81)
    toilets = view.trend[view.trend["indicator"] == "toilets_hygienic_share"]
    assert toilets[["numerator", "denominator"]].values.tolist() == [[13, 14], [13, 14]]
    assert "psych_service" not in set(view.trend["indicator"])  # rates only


def test_equity_pooled_hides_a_count_that_leaves_few_pupils_out() -> None:
    """The reviewer's case: the pool's completion rows «Dân tộc thiểu số 25/26» and «Nam
    108/109» named the one minority pupil and the one boy who did not complete."""
    c9 = "completion_rate_grade9"
    rows = [("school", "Nhóm", 208, 211), ("sex", "Nam", 108, 109), ("sex", "Nữ", 100, 102),
            ("minority", "Dân tộc thiểu số", 25, 26), ("minority", "Kinh", 183, 185)]
    pooled = pd.DataFrame([{"school_code": "Nhóm", "school_year": "2024-2025", "indicator": c9,
                            "dimension": d, "group": g, "numerator": n, "denominator": den,
                            "value": n / den, "note": "", "schools": 3}
                           for d, g, n, den in rows])
    e = group.equity_table(pooled, "2024-2025", keys=(c9,), threshold=5).set_index("group")
    for g in ("Nam", "Nữ", "Dân tộc thiểu số", "Kinh"):  # 1, 2, 1, 2 did not complete
        r = e.loc[g]
        assert np.isnan(r["value"]) and np.isnan(r["numerator"]), g
        assert r["note"] == group.HIDDEN_NOTE and r["hidden_value"]
    assert e.loc["Dân tộc thiểu số", "denominator"] == 26  # the pupils stay shown
    assert e.loc["Nam", "denominator"] == 109
    # 6 minority pupils and 17 Kinh not completing, 11 boys and 12 girls: all shown
    pooled.loc[pooled["group"] == "Dân tộc thiểu số", ["numerator", "value"]] = [20, 20 / 26]
    pooled.loc[pooled["group"] == "Kinh", ["numerator", "value"]] = [168, 168 / 185]
    pooled.loc[pooled["dimension"] == "school", ["numerator", "value"]] = [188, 188 / 211]
    pooled.loc[pooled["group"] == "Nam", ["numerator", "value"]] = [98, 98 / 109]
    pooled.loc[pooled["group"] == "Nữ", ["numerator", "value"]] = [90, 90 / 102]
    e = group.equity_table(pooled, "2024-2025", keys=(c9,), threshold=5).set_index("group")
    assert not e["hidden_value"].any()
    assert e.loc["Dân tộc thiểu số", "numerator"] == 20


def test_equity_html_leaves_out_rows_with_nothing_and_says_how_many(db: Path,
                                                                    schools_file: Path) -> None:
    """The HTML equity table lists the rows with a figure to read; the rows with every figure
    hidden and the rows with no figure at all are counted in the note (the workbook keeps
    them)."""
    from locson_analysis.report import group as group_report

    for mid in (False, True):
        view = group.group_view(db, Y1, "ba-truong", schools_file=schools_file, mid_year=mid)
        e = view.equity
        blank, empty = group_report._blank_rows(e), group_report._empty_rows(e)
        assert not (blank & empty).any()
        shown = group_report.equity_table(view)
        assert len(shown) == len(e) - blank.sum() - empty.sum()
        assert not ((shown["Tỷ lệ"] == disclosure.HIDDEN_MARK) & (shown["Tử số"] == "…")
                    & (shown["Mẫu số"] == "…")).any()
        rep = group_report.GroupReport(view=view, title="", header=None, sample=False)
        note = group_report.suppression_text(rep)
        if blank.sum():
            assert f"{blank.sum()} dòng có mọi số liệu bị ẩn" in note
        if empty.sum():
            assert f"{empty.sum()} dòng chưa có số liệu" in note
