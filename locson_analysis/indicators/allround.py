"""All-round development (target 2): year results in learning and conduct, and staying the year."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import contract
from ..dataset import Dataset
from .base import Indicator
from .equity import Measure, aggregate, prepare

INDICATORS = [
    Indicator(
        "allround_rate", "Tỷ lệ học sinh phát triển toàn diện", "rate",
        "Số học sinh có kết quả học tập VÀ kết quả rèn luyện cả năm từ mức Đạt trở lên chia cho "
        "số học sinh có đủ hai kết quả cả năm. Thang Thông tư 22/2021: Tốt, Khá, Đạt. Thang cũ "
        "Thông tư 58/2011: học lực Giỏi, Khá, Trung bình và hạnh kiểm Tốt, Khá, Trung bình được "
        "tính là đạt (Thông tư 58 cho học sinh có học lực và hạnh kiểm Trung bình lên lớp). Năm "
        "học đang diễn ra: dùng kết quả học kỳ I.",
        "MOET/GSO", "Học sinh có cả hai kết quả từ Đạt trở lên",
        "Học sinh có đủ kết quả học tập và rèn luyện", "Cuối năm học (năm đang học: cuối học kỳ I)",
        in_progress="s1"),
    Indicator(
        "finished_year_rate", "Tỷ lệ học sinh học hết năm học", "rate",
        "Số học sinh còn học đến cuối năm (không bỏ học, không chuyển đi) chia cho mọi học sinh "
        "có tên trong danh sách của năm học ở bất kỳ thời điểm nào.",
        "MOET/GSO", "Học sinh cuối năm học", "Học sinh có học trong năm", "Cuối năm học"),
]


def passing(results: pd.Series, scale: pd.Series) -> np.ndarray:
    """At least Đạt: TT22 Tốt/Khá/Đạt, or TT58 Giỏi/Khá/Trung bình (learning), Tốt/Khá/Trung
    bình (conduct) — ``contract.TT58_PASSING`` covers both old scales."""
    old = (scale.astype("object") == "tt58").fillna(False).to_numpy(dtype=bool)
    values = results.astype("object")
    return np.where(old, values.isin(contract.TT58_PASSING), values.isin(contract.TT22_PASSING))


def measures(prep: pd.DataFrame) -> list[Measure]:
    running = prep["in_progress_year"].to_numpy()
    learning = prep["learning_year"].astype("object").where(~running, prep["learning_s1"])
    conduct = prep["conduct_year"].astype("object").where(~running, prep["conduct_s1"])
    scale = prep["result_scale"]
    known = (learning.notna() & conduct.notna()).to_numpy()
    both = known & passing(learning, scale) & passing(conduct, scale)
    return [
        Measure("allround_rate", both, known),
        Measure("finished_year_rate", prep["end"].to_numpy(),
                np.ones(len(prep), dtype=bool)),
    ]


def compute(ds: Dataset, prep: pd.DataFrame | None = None) -> pd.DataFrame:
    """All-round development rate and the share of pupils who finished the year."""
    prep = prepare(ds.pupils) if prep is None else prep
    return aggregate(prep, measures(prep))
