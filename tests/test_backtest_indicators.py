"""Back-test: the sample school's indicators, recomputed through the whole pipeline (Excel files
→ importer → DuckDB → indicators), must equal a stored known-good table.

The table was produced by this same pipeline and its headline numbers checked independently
below (straight from the pupil rows, without the indicator engine).  When a definition changes
on purpose, regenerate it and review the diff like any other change to a published number:

    .venv/bin/python -m tests.test_backtest_indicators
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from locson_analysis import importer, indicators, sample, store

KNOWN_GOOD = Path(__file__).parent / "fixtures" / "known_good_indicators_seed2025.csv"
KEY = ["school_code", "school_year", "indicator", "dimension", "group"]


def _recompute(workdir: Path) -> tuple[pd.DataFrame, store.Dataset]:
    sample.write_sample(workdir / "files", seed=2025)
    db = workdir / "backtest.duckdb"
    for folder in sorted(p for p in (workdir / "files").iterdir() if p.is_dir()):
        store.write_year(db, importer.read_year(folder))
    ds = store.load(db)
    table = indicators.compute_all(ds)
    return table.sort_values(KEY, ignore_index=True), ds


def _read_known_good() -> pd.DataFrame:
    return pd.read_csv(KNOWN_GOOD, dtype={"group": str, "note": str},
                       keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def recomputed(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, store.Dataset]:
    return _recompute(tmp_path_factory.mktemp("backtest"))


def test_indicators_equal_the_known_good_table(recomputed) -> None:
    table, _ = recomputed
    expected = _read_known_good()
    got = table[expected.columns].copy()
    got["note"] = got["note"].replace("", pd.NA)
    expected["note"] = expected["note"].replace("", pd.NA)
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True).astype({"note": object, "group": object}),
        expected.reset_index(drop=True).astype({"note": object, "group": object}),
        check_dtype=False, rtol=1e-12, atol=0)


def test_headline_numbers_agree_with_a_direct_count(recomputed) -> None:
    """Independent of the engine: dropout and grade-9 completion counted from the rows."""
    table, ds = recomputed
    p = ds.pupils
    school = table[table["dimension"] == "school"].set_index(["school_year", "indicator"])
    for year, rows in p.groupby("school_year"):
        if (rows["outcome"] == "in_progress").any():
            continue
        start = rows[rows["entry_date"].isna()]
        dropouts = int((rows["outcome"] == "dropped_out").sum())  # every one (GSO formula)
        r = school.loc[(year, "dropout_rate")]
        assert (r["numerator"], r["denominator"]) == (dropouts, len(start)), year
        assert r["value"] == pytest.approx(dropouts / len(start), abs=1e-15)
        g9 = rows[(rows["grade"] == 9)
                  & ~rows["outcome"].isin(["dropped_out", "transferred_out"])]
        completed = int((g9["outcome"] == "completed").sum())
        c = school.loc[(year, "completion_rate_grade9")]
        assert (c["numerator"], c["denominator"]) == (completed, len(g9)), year
        known = start["can_swim"].notna()
        s = school.loc[(year, "swim_share")]  # start-of-year pupils, as every other rate
        assert (s["numerator"], s["denominator"]) == (
            int(start.loc[known, "can_swim"].astype(bool).sum()), int(known.sum())), year


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        fresh, _ = _recompute(Path(tmp))
    KNOWN_GOOD.parent.mkdir(exist_ok=True)
    fresh.to_csv(KNOWN_GOOD, index=False, float_format="%.17g")
    print(f"wrote {len(fresh)} rows to {KNOWN_GOOD}", file=sys.stderr)
