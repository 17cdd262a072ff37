"""All-round development (target 2): year results in learning and conduct, and staying the year."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..dataset import Dataset
from . import flags as F
from .base import SOURCE_NATIONAL, Indicator
from .equity import Measure, aggregate, prepare
from .flags import passing  # noqa: F401 - re-exported (one definition in .flags)

INDICATORS = [
    Indicator(
        "allround_rate", "Tỷ lệ học sinh phát triển toàn diện", "rate",
        "Số học sinh có kết quả học tập VÀ kết quả rèn luyện cả năm từ mức Đạt trở lên chia cho "
        "số học sinh có đủ hai kết quả cả năm. Thang Thông tư 22/2021: Tốt, Khá, Đạt. Thang cũ "
        "Thông tư 58/2011: học lực Giỏi, Khá, Trung bình và hạnh kiểm Tốt, Khá, Trung bình được "
        "tính là đạt (Thông tư 58 cho học sinh có học lực và hạnh kiểm Trung bình lên lớp). Năm "
        "học đang diễn ra: dùng kết quả học kỳ I.",
        SOURCE_NATIONAL, "Học sinh có cả hai kết quả từ Đạt trở lên",
        "Học sinh có đủ kết quả học tập và rèn luyện", "Cuối năm học (năm đang học: cuối học kỳ I)",
        in_progress="s1"),
    Indicator(
        "allround_rate_s1", "Tỷ lệ học sinh phát triển toàn diện (học kỳ I)", "rate",
        "Như tỷ lệ học sinh phát triển toàn diện nhưng theo kết quả học tập và rèn luyện học kỳ "
        "I: số học sinh có cả hai kết quả học kỳ I từ mức Đạt trở lên chia cho số học sinh có "
        "đủ hai kết quả học kỳ I. Tính cho mọi năm học, để giữa năm so sánh học kỳ I năm nay "
        "với học kỳ I năm trước (không so với kết quả cả năm).",
        SOURCE_NATIONAL, "Học sinh có cả hai kết quả học kỳ I từ Đạt trở lên",
        "Học sinh có đủ kết quả học tập và rèn luyện học kỳ I", "Cuối học kỳ I",
        in_progress="known"),
    Indicator(
        "finished_year_rate", "Tỷ lệ học sinh học hết năm học", "rate",
        "Số học sinh còn học đến cuối năm (không bỏ học, không chuyển đi) chia cho mọi học sinh "
        "có tên trong danh sách của năm học ở bất kỳ thời điểm nào.",
        SOURCE_NATIONAL, "Học sinh cuối năm học", "Học sinh có học trong năm", "Cuối năm học"),
]


#: The pupil flags of the measures (one definition for pandas and DuckDB, see .flags): the
#: year's results and semester 1's (a running year counts semester 1, see measures_of).
FLAGS = {"allround_pass_year": F.YEAR_PASS, "allround_known_year": F.YEAR_KNOWN,
         "allround_pass_s1": F.S1_PASS, "allround_known_s1": F.S1_KNOWN,
         "end": F.ENDED, "any": F.ANY}


def measures(prep: pd.DataFrame) -> list[Measure]:
    return measures_of(F.values(FLAGS, F.PupilAtoms(prep)), prep["in_progress_year"].to_numpy())


def measures_of(f: Mapping[str, np.ndarray], running: np.ndarray) -> list[Measure]:
    """The measures from the flags (pupil flags, or their sums per cell; ``sql.FLAG_SQL``
    has the same flags in DuckDB); ``running``: the row's year is in progress, so its
    semester-1 results count."""
    return [Measure("allround_rate", np.where(running, f["allround_pass_s1"],
                                              f["allround_pass_year"]),
                    np.where(running, f["allround_known_s1"], f["allround_known_year"])),
            Measure("allround_rate_s1", f["allround_pass_s1"], f["allround_known_s1"]),
            Measure("finished_year_rate", f["end"], f["any"])]


def compute(ds: Dataset, prep: pd.DataFrame | None = None) -> pd.DataFrame:
    """All-round development rate and the share of pupils who finished the year."""
    prep = prepare(ds.pupils) if prep is None else prep
    return aggregate(prep, measures(prep))
