"""Several schools in one database: the registry, the school of an import, per-school and pooled
indicators, the default school of the commands, the district view."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from locson_analysis import cli, config, district, indicators, run, sample, schools, store, warn
from locson_analysis.errors import ImportProblems, LocsonError
from locson_analysis.importer import read_year
from tests.builders import dataset, pupils, row
from tests.xlsx_builders import POPULATION_ROWS, pupil_row, write_items, write_pupils

TODAY = date(2025, 6, 15)
Y = "2024-2025"


# --- the registry and the default school -------------------------------------------------------

def test_registry_lists_loc_son_first() -> None:
    registry = schools.load_registry()
    assert list(registry)[0] == "LOCSON"
    assert registry["LOCSON"].name == "THCS Lộc Sơn"
    assert schools.school_name("LOCSON") == "Trường THCS Lộc Sơn"
    assert schools.school_name("NOWHERE") == "Trường NOWHERE"


def test_registry_file_errors_are_clear(tmp_path: Path) -> None:
    f = tmp_path / "schools.yaml"
    f.write_text("schools:\n  - code: A\n    name: THCS A\n  - code: A\n    name: THCS B\n",
                 encoding="utf-8")
    with pytest.raises(LocsonError, match="mã trường A ghi hai lần"):
        schools.load_registry(f)
    f.write_text("schools:\n  - code: B\n", encoding="utf-8")
    with pytest.raises(LocsonError, match="thiếu «code» hoặc «name»"):
        schools.load_registry(f)


def test_school_in_title_rows_folded() -> None:
    registry = schools.load_registry()
    found = schools.school_in_titles(
        ["PHÒNG GIÁO DỤC VÀ ĐÀO TẠO TP BẢO LỘC", "TRƯỜNG THCS LỘC SƠN",
         "Trường THCS Loc Phat - TP Bảo Lộc", "SỐ LIỆU NHÀ TRƯỜNG NĂM HỌC 2024-2025",
         "TRƯỜNG THCS HOA MAI", "truong thcs loc son"], registry)
    assert [(t.text, t.code) for t in found] == [
        ("TRƯỜNG THCS LỘC SƠN", "LOCSON"), ("Trường THCS Loc Phat - TP Bảo Lộc", "LOCPHAT"),
        ("TRƯỜNG THCS HOA MAI", None)]


@pytest.mark.parametrize(("codes", "requested", "expected"), [
    (["LOCPHAT", "LOCSON"], None, "LOCSON"),
    (["LOCPHAT"], None, "LOCPHAT"),
    (["LOCPHAT", "LOCSON"], "LOCPHAT", "LOCPHAT"),
    ([], None, "LOCSON"),
])
def test_choose_school(codes: list[str], requested: str | None, expected: str) -> None:
    assert schools.choose_school(codes, requested) == expected


def test_choose_school_errors_list_the_codes() -> None:
    with pytest.raises(LocsonError, match=r"có 2 trường \(LOCPHAT, QUANGTRUNG\).*--school"):
        schools.choose_school(["QUANGTRUNG", "LOCPHAT"])
    with pytest.raises(LocsonError, match="không có trường mã «XYZ».*LOCPHAT, LOCSON"):
        schools.choose_school(["LOCSON", "LOCPHAT"], "XYZ")


# --- the school of an import (real .xlsx files) ------------------------------------------------

def _year(tmp_path: Path, pupil_school: str | None, items_school: str | None) -> Path:
    d = tmp_path / Y
    d.mkdir()
    write_pupils(d / "ds.xlsx", [pupil_row("HS1"), pupil_row("HS2", name="Trần Thị Bình",
                                                             sex="Nữ")], school=pupil_school)
    write_items(d / "pho_cap.xlsx", POPULATION_ROWS, school=items_school,
                title="SỐ LIỆU ĐIỀU TRA PHỔ CẬP NĂM HỌC 2024-2025")
    return d


def test_school_from_the_title_rows(tmp_path: Path) -> None:
    y = read_year(_year(tmp_path, "TRƯỜNG THCS LỘC PHÁT", "Trường THCS Lộc Phát"), today=TODAY)
    assert y.school_code == "LOCPHAT"
    assert not any("trường mặc định" in n for n in y.notes)


def test_explicit_school_wins_and_is_noted(tmp_path: Path) -> None:
    y = read_year(_year(tmp_path, "TRƯỜNG THCS LỘC PHÁT", None), school_code="QUANGTRUNG",
                  today=TODAY)
    assert y.school_code == "QUANGTRUNG"
    assert any("QUANGTRUNG (theo --school)" in n and "LỘC PHÁT" in n for n in y.notes)


def test_no_school_name_gives_the_default_school_said_in_the_notes(tmp_path: Path) -> None:
    y = read_year(_year(tmp_path, None, None), today=TODAY)
    assert y.school_code == "LOCSON"
    assert any("Không thấy tên trường" in n and "Trường THCS Lộc Sơn (LOCSON)" in n
               for n in y.notes)


def test_files_naming_different_schools_are_a_problem(tmp_path: Path) -> None:
    with pytest.raises(ImportProblems) as exc:
        read_year(_year(tmp_path, "TRƯỜNG THCS LỘC SƠN", "TRƯỜNG THCS LỘC PHÁT"), today=TODAY)
    problems = exc.value.problems
    assert {p.file for p in problems} == {"ds.xlsx", "pho_cap.xlsx"}
    assert all("tên những trường khác nhau" in p.message
               and "Trường THCS Lộc Phát (LOCPHAT): pho_cap.xlsx" in p.message
               and "Trường THCS Lộc Sơn (LOCSON): ds.xlsx" in p.message for p in problems)


def test_school_not_in_the_registry_is_a_problem(tmp_path: Path) -> None:
    with pytest.raises(ImportProblems) as exc:
        read_year(_year(tmp_path, "TRƯỜNG THCS HOA MAI", None), today=TODAY)
    [p] = exc.value.problems
    assert p.file == "ds.xlsx"
    assert "«TRƯỜNG THCS HOA MAI»" in p.message
    assert "data/schools.yaml" in p.message and "--school" in p.message


# --- pooled indicators -------------------------------------------------------------------------

def test_pooled_dropout_is_sum_over_sum_not_mean_of_rates() -> None:
    a = pupils(3, Y, 6) + pupils(1, Y, 6, "dropped_out")  # 1 / 4
    b = [dict(r, school_code="OTHER")
         for r in pupils(9, Y, 7) + pupils(1, Y, 7, "dropped_out")]  # 1 / 10
    ds = dataset(a + b)
    per_school = indicators.compute_all(ds, school_year=Y)
    assert row(per_school, "dropout_rate", Y).value == 0.25
    assert row(per_school, "dropout_rate", Y, school_code="OTHER").value == 0.1
    pooled = indicators.compute_pooled(ds, school_year=Y)
    r = row(pooled, "dropout_rate", Y, group="TOÀN THÀNH PHỐ", school_code="TOÀN THÀNH PHỐ")
    assert (r.numerator, r.denominator) == (2, 14)
    assert r.value == pytest.approx(2 / 14)  # not (0.25 + 0.1) / 2 = 0.175
    assert "gộp 2 trường (LOCSON, OTHER)" in r.note
    # Groups other than the whole population keep their labels: grade 6 is only school A.
    g6 = row(pooled, "dropout_rate", Y, "grade", "Khối 6", school_code="TOÀN THÀNH PHỐ")
    assert (g6.numerator, g6.denominator) == (1, 4)
    assert set(pooled["school_code"]) == {"TOÀN THÀNH PHỐ"}


def test_pooled_items_are_summed_and_yes_only_if_every_school_says_yes() -> None:
    a = dataset(pupils(2, Y, 6), population={Y: {"pop_age11": 100, "pop_age11_in_grade6": 99}},
                school={Y: {"clean_water": 1, "violence_incidents": 2}})
    b = dataset(pupils(2, Y, 6), population={Y: {"pop_age11": 50, "pop_age11_in_grade6": 45}},
                school={Y: {"clean_water": 0, "violence_incidents": 1}}, school_code="OTHER")
    both = type(a)(*(pd.concat([getattr(a, f), getattr(b, f)], ignore_index=True)
                     for f in ("pupils", "school", "population", "imports", "checks",
                               "interventions")))
    pooled = indicators.compute_pooled(both, label="GỘP", school_year=Y)
    intake = row(pooled, "grade6_intake_age11", Y, group="GỘP", school_code="GỘP")
    assert (intake.numerator, intake.denominator) == (144, 150)
    assert row(pooled, "violence_incidents", Y, group="GỘP", school_code="GỘP").value == 3
    assert row(pooled, "clean_water", Y, group="GỘP", school_code="GỘP").value == 0


# --- two schools imported into one database ----------------------------------------------------

@pytest.fixture(scope="module")
def two_schools(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("two_schools")
    kw = {"first_year": "2023-2024", "last_year": Y, "in_progress": False,
          "entrants_per_year": 40}
    sample.write_sample(base / "locphat", school_code="LOCPHAT", **kw)
    sample.write_sample(base / "locson", **kw)
    db = base / "pgd.duckdb"
    return {"base": base, "db": db}


def _import_all(two_schools: dict, capsys: pytest.CaptureFixture) -> str:
    db = two_schools["db"]
    if not db.exists():
        for school in ("locphat", "locson"):
            for year in ("2023-2024", Y):
                assert cli.main(["import", str(two_schools["base"] / school / year),
                                 "--db", str(db)]) == 0
    return capsys.readouterr().out


def test_import_two_schools_prints_the_school(two_schools: dict,
                                              capsys: pytest.CaptureFixture) -> None:
    out = _import_all(two_schools, capsys)
    assert f"Đã nhập năm học {Y} của Trường THCS Lộc Phát (mã LOCPHAT)" in out
    assert f"Đã nhập năm học {Y} của Trường THCS Lộc Sơn (mã LOCSON)" in out
    summary = store.summary(two_schools["db"])
    assert sorted(set(summary["school_code"])) == ["LOCPHAT", "LOCSON"]


def test_per_school_and_pooled_from_the_database(two_schools: dict,
                                                 capsys: pytest.CaptureFixture) -> None:
    _import_all(two_schools, capsys)
    ds = store.load(two_schools["db"])
    per_school = indicators.compute_all(ds, school_year=Y)
    pooled = indicators.compute_pooled(ds, school_year=Y)
    for key in district.DISTRICT_KEYS:
        a = row(per_school, key, Y, school_code="LOCPHAT")
        b = row(per_school, key, Y, school_code="LOCSON")
        p = row(pooled, key, Y, group="TOÀN THÀNH PHỐ", school_code="TOÀN THÀNH PHỐ")
        assert p.numerator == a.numerator + b.numerator, key
        assert p.denominator == a.denominator + b.denominator, key
        assert p.value == pytest.approx(p.numerator / p.denominator), key
    # Each school alone equals the database of that school alone.
    alone = indicators.compute_all(store.load(two_schools["db"], school_code="LOCPHAT"),
                                   school_year=Y)
    pd.testing.assert_frame_equal(
        alone.reset_index(drop=True),
        per_school[per_school["school_code"] == "LOCPHAT"].reset_index(drop=True))
    side = district.side_by_side(ds, Y)
    assert list(side["school_code"].unique()) == ["LOCPHAT", "LOCSON", "TOÀN THÀNH PHỐ"]
    assert side["pooled"].tolist() == [False] * 8 + [True] * 4
    drop = side[(side["indicator"] == "dropout_rate")].set_index("school_code")
    assert drop.loc["TOÀN THÀNH PHỐ", "denominator"] == (drop.loc["LOCPHAT", "denominator"]
                                                         + drop.loc["LOCSON", "denominator"])
    assert drop.loc["LOCSON", "threshold"] == pytest.approx(0.0006)


def _indicators_csv(capsys: pytest.CaptureFixture, *args: str) -> pd.DataFrame:
    assert cli.main(["indicators", "--year", Y, *args]) == 0
    from io import StringIO

    return pd.read_csv(StringIO(capsys.readouterr().out))


def test_cli_school_choice(two_schools: dict, capsys: pytest.CaptureFixture) -> None:
    _import_all(two_schools, capsys)
    db = str(two_schools["db"])
    assert set(_indicators_csv(capsys, "--db", db)["school_code"]) == {"LOCSON"}
    assert set(_indicators_csv(capsys, "--db", db, "--school", "LOCPHAT")["school_code"]) == \
        {"LOCPHAT"}
    both = _indicators_csv(capsys, "--db", db, "--all-schools", "--pooled")
    assert set(both["school_code"]) == {"LOCPHAT", "LOCSON", "TOÀN THÀNH PHỐ"}
    assert cli.main(["indicators", "--db", db, "--school", "LOCTHANH"]) == 1  # listed, absent
    assert "không có trường mã «LOCTHANH»" in capsys.readouterr().err
    assert cli.main(["indicators", "--db", db, "--school", "XYZ"]) == 1  # not listed
    err = capsys.readouterr().err
    assert "«XYZ» không có trong danh sách trường data/schools.yaml" in err
    assert "LOCSON, LOCPHAT, LOCTHANH" in err
    # any case is the listed code
    assert set(_indicators_csv(capsys, "--db", db, "--school", "locphat")["school_code"]) == \
        {"LOCPHAT"}


def test_cli_several_schools_without_the_default(tmp_path: Path, two_schools: dict,
                                                  capsys: pytest.CaptureFixture) -> None:
    db = str(tmp_path / "other.duckdb")
    folder = two_schools["base"] / "locphat" / Y
    assert cli.main(["import", str(folder), "--db", db]) == 0
    capsys.readouterr()
    # One school: that one is the default.
    assert set(_indicators_csv(capsys, "--db", db)["school_code"]) == {"LOCPHAT"}
    assert cli.main(["import", str(folder), "--db", db, "--school", "QUANGTRUNG"]) == 0
    assert "Trường THCS Quang Trung (mã QUANGTRUNG)" in capsys.readouterr().out
    assert cli.main(["indicators", "--db", db]) == 1
    err = capsys.readouterr().err
    assert "có 2 trường (LOCPHAT, QUANGTRUNG)" in err and "--school" in err
    with pytest.raises(LocsonError, match="có 2 trường"):
        warn.run_warning(Y, "end", db=db, out_dir=tmp_path / "internal")


def test_report_dir_of_the_default_and_other_schools() -> None:
    out = Path("outputs")
    assert run.report_dir(out, Y) == out / Y
    assert run.report_dir(out, Y, "LOCSON") == out / Y
    assert run.report_dir(out, Y, "LOCPHAT") == out / "LOCPHAT" / Y


def test_report_of_another_school_goes_to_its_folder(two_schools: dict, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    _import_all(two_schools, capsys)
    paths = run.run_report(Y, two_schools["db"], out_dir=tmp_path, school_code="LOCPHAT",
                           targets_file=config.TARGETS_FILE)
    assert paths.html == tmp_path / "LOCPHAT" / Y / f"bao_cao_{Y}.html"
    html = paths.html.read_text(encoding="utf-8")
    assert "TRƯỜNG THCS LỘC PHÁT" in html and "TRƯỜNG THCS LỘC SƠN" not in html


def test_explore_notebook_shows_the_schools_side_by_side(two_schools: dict, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture) -> None:
    _import_all(two_schools, capsys)
    out = tmp_path / "explore.ipynb"
    run.execute_notebook(config.NOTEBOOKS_DIR / "explore.ipynb", out,
                         {"db_path": str(two_schools["db"]), "school_year": Y})
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = json.dumps(outputs, ensure_ascii=False)
    assert "Trường: Trường THCS Lộc Sơn (LOCSON)" in text
    assert "Trường THCS Lộc Phát" in text and "TOÀN THÀNH PHỐ (gộp 2 trường)" in text
    assert "chỉ có một trường" not in text
    assert "Các tỷ lệ chính của từng trường và toàn thành phố" in text  # the chart's alt text


def test_read_yaml_reads_every_shipped_file_as_safe_load_does(tmp_path):
    """config.read_yaml (libyaml's loader when PyYAML has it) gives what yaml.safe_load gives,
    on every configuration file the repository ships, and stays safe."""
    import yaml

    files = sorted(config.DATA_DIR.glob("*.yaml"))
    assert len(files) >= 4
    for path in files:
        assert config.read_yaml(path) == yaml.safe_load(path.read_text(encoding="utf-8")), path
    bad = tmp_path / "bad.yaml"
    bad.write_text("schools:\n  - code: A\n   name: x\n", encoding="utf-8")
    with pytest.raises(LocsonError, match="sai cú pháp YAML ở dòng 3"):
        config.read_yaml(bad)
    unsafe = tmp_path / "unsafe.yaml"
    unsafe.write_text("x: !!python/object/apply:os.system ['true']\n", encoding="utf-8")
    with pytest.raises(LocsonError, match="sai cú pháp YAML"):  # refused, never run
        config.read_yaml(unsafe)


def test_a_yaml_syntax_error_is_said_in_vietnamese_with_its_line(tmp_path):
    bad = tmp_path / "schools.yaml"
    bad.write_text("schools:\n  - code: A\n    name: Trường A\n   name: x\n", encoding="utf-8")
    with pytest.raises(LocsonError) as e:
        schools.load_registry(bad)
    msg = str(e.value)
    assert msg.startswith(f"Tệp danh sách trường {bad} không đọc được: sai cú pháp YAML ở dòng 4")
    assert "thụt lề" in msg and "Chi tiết kỹ thuật" in msg
