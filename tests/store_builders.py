"""Tiny canonical YearData for store and cross-year tests (no Excel involved)."""

from __future__ import annotations

import pandas as pd

from locson_analysis.contract import PUPIL_COLUMNS
from locson_analysis.dataset import SourceFile, YearData


def pupils_frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    for c in PUPIL_COLUMNS:
        if c.name not in df.columns:
            df[c.name] = None
    for c in PUPIL_COLUMNS:
        if c.kind == "date":
            df[c.name] = pd.to_datetime(df[c.name])
    df["result_scale"] = "tt22"
    df["source_file"] = "ds.xlsx"
    df["source_row"] = range(7, 7 + len(df))
    return df


def pupil(pid: str, grade: int, outcome: str = "promoted", **kw) -> dict:
    base = {"pupil_id": pid, "full_name": f"Nguyễn Văn {pid}", "birth_date": "2012-03-04",
            "sex": "M", "ethnicity": "Kinh", "grade": grade, "class_name": f"{grade}A1",
            "outcome": outcome}
    base.update(kw)
    return base


def year_data(school_year: str, rows: list[dict], school: dict | None = None,
              school_code: str = "LOCSON", sha: str = "ab" * 32) -> YearData:
    y = YearData(school_year=school_year, school_code=school_code, pupils=pupils_frame(rows))
    y.files.append(SourceFile(f"/tmp/{school_year}/ds.xlsx", "pupils", sha, "DS", len(rows)))
    if school is not None:
        y.school = pd.DataFrame({"item": list(school), "value": list(school.values()),
                                 "source_file": "truong.xlsx",
                                 "source_row": range(5, 5 + len(school))})
        y.files.append(
            SourceFile(f"/tmp/{school_year}/truong.xlsx", "school", sha, "S", len(school)))
    return y
