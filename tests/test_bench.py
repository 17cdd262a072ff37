"""Smoke test of the benchmark machinery at a toy size (speed is measured, never asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import run as bench

HEADLINE_KEYS = {"report_floor_ratio", "report_stack_floor_ratio", "national_indicators_seconds",
                 "national_indicators_peak_gb", "csv_rows_per_second", "xlsx_rows_per_second",
                 "machine", "date", "sizes", "targets", "growth"}


def test_toy_bench_writes_the_json(tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    lines: list[str] = []
    bench.run_bench(["toy", "country"], out=out, report=False, country_pupils=1_600,
                    country_slice_rows=300, import_budget=30, log=lines.append)
    results = json.loads(out.read_text(encoding="utf-8"))
    assert HEADLINE_KEYS <= set(results)
    assert {"nproc", "memory_gb", "cpu", "python", "pandas", "duckdb"} <= set(
        results["machine"])
    toy = results["sizes"]["toy"]
    assert toy["import_csv"]["rows"] == toy["pupil_rows"] > 0
    assert toy["import_xlsx"]["rows"] == toy["pupil_rows"]
    assert toy["indicators"]["output_rows"] > 0
    # the fast path (headline) and the pandas path give tables of the same size
    assert toy["indicators_pandas"]["output_rows"] == toy["indicators"]["output_rows"]
    assert results["sizes"]["country"]["indicators_pandas"]["load_seconds"] > 0
    assert results["sizes"]["country"]["pupil_rows"] == 2 * 1_600
    assert results["national_indicators_seconds"] > 0
    assert results["csv_rows_per_second"] > 0 and results["xlsx_rows_per_second"] > 0
    assert results["report_floor_ratio"] is None  # report skipped at the toy size
    assert results["report_stack_floor_ratio"] is None
    assert results["growth"]["indicators"]["slope"] is not None
    assert "| toy |" in lines[-2]  # the table is printed


def test_growth_fit_is_linear_for_linear_cost() -> None:
    fit = bench.fit_growth([(1_000, 0.5), (2_000, 1.0), (8_000, 4.0)])
    assert fit is not None
    assert abs(fit["slope"] - 1.0) < 1e-9
    assert abs(fit["per_doubling"] - 2.0) < 1e-9


def test_report_task_on_a_database_of_several_schools(tmp_path: Path) -> None:
    """The toy database holds BENCH00001 and BENCH00002: the report names its school."""
    from dataclasses import asdict

    toy = asdict(bench.SIZES["toy"])
    gen = bench.task_generate({**toy, "xlsx": False}, str(tmp_path / "data"))
    year = toy["years"][-1]
    (tmp_path / "report").mkdir()
    rep = bench.task_report(gen["db"], year, repeats=1, tmp=str(tmp_path / "report"),
                            school_code=bench.school_codes(bench.SIZES["toy"])[0])
    assert rep["report_floor_ratio"] > 0 and rep["report_stack_floor_ratio"] > 0
    assert len(rep["stack_floor_runs"]) == len(rep["report_runs"]) == 1
    assert rep["report_stack_floor_pair_ratios"] == [rep["report_runs"][0]
                                                     / rep["stack_floor_runs"][0]]
    assert len(rep["load_average_1min"]) == 2  # before the round and at the end
    assert {"choose_school_and_year", "papermill_report_notebook",
            "nbconvert_export"} <= set(rep["breakdown_seconds"])
    assert rep["notebook_cell_seconds"]
    assert list((tmp_path / "report" / "outputs").rglob("bao_cao_*.html"))


def test_group_report_task_on_the_toy_database(tmp_path: Path) -> None:
    """The group report task runs the real notebook for every school of the toy database and
    records what the design's own parts (charts, compute_sql, workbook) cost."""
    from dataclasses import asdict

    toy = asdict(bench.SIZES["toy"])
    gen = bench.task_generate({**toy, "xlsx": False}, str(tmp_path / "data"))
    (tmp_path / "group").mkdir()
    rep = bench.task_group_report(gen["db"], toy["years"][-1], repeats=1,
                                  tmp=str(tmp_path / "group"))
    assert rep["group_report_stack_floor_ratio"] == (rep["group_report_seconds"]
                                                     / rep["stack_floor_seconds"])
    d = rep["design_parts"]
    assert d["chart_cells_seconds"] > 0 and d["compute_sql_seconds"] > 0
    assert d["workbook_cell_seconds"] > 0
    assert d["floor_plus_these_ratio"] == pytest.approx(
        (rep["stack_floor_seconds"] + d["chart_cells_seconds"] + d["compute_sql_seconds"]
         + d["workbook_cell_seconds"]) / rep["stack_floor_seconds"])
    assert len(rep["notebook_cells_all_seconds"]) >= 10 and len(rep["load_average_1min"]) == 2
    html = next((tmp_path / "group" / "outputs").rglob("bao_cao_nhom_*.html"))
    from locson_analysis import provenance, store

    assert store.data_origin(gen["db"]) == provenance.SAMPLE  # generated: marked as sample
    assert provenance.SAMPLE_MARK_GROUP in html.read_text(encoding="utf-8")
