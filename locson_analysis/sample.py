"""The synthetic school: Trường THCS Lộc Sơn as its staff files would show it, all made up.

:func:`generate` simulates the school year by year (about 800 pupils in 20–24 classes, about
200 grade-6 entrants a year, pupils moving up under the same ID) and returns, for each school
year, the canonical pupil table plus the school sheet and the population (phổ cập) sheet as
``{item key: value}``.  :func:`write_sample` writes those years as the files staff keep: one
folder per school year with a pupil-list workbook (title rows, STT column, personal columns the
importer must drop, footer), a school-facts workbook and a population workbook — or plain CSVs.
:func:`generate_pupils_fast` builds one valid year of any size, vectorised, for benchmarks.

Everything is deterministic from the seed (``numpy.random.Generator``).  No real person is in
here: names are drawn from common family, middle and given names.

How the synthetic school behaves (default arguments)
----------------------------------------------------
* Grade-6 entrants: about ``entrants_per_year`` a year, ~95 % aged 11 (born start year − 11),
  a few older, very few a year younger.  A handful of pupils transfer in during each year
  (``entry_date`` set, new ID); nobody arrives in grades 7–9 without an ``entry_date`` except
  in the first simulated year.
* Dropout: ~1 % in 2019-2020 falling to ~0.1 % in 2025-2026 (0 or 1 pupil) and ~0.05 % after.
  Who drops out is decided by a mechanism the data only partly show, so that a back-test on
  the sample is a demonstration with realistic difficulty — and proves nothing about a model's
  accuracy on a real school:

  - a *visible* part: the risk rises with poverty, minority, special circumstances, over-age,
    weak ability and absence proneness (moderate weights);
  - *latent causes* no staff file records, drawn afresh each year (``DROPOUT_CAUSES``): a
    family shock (~2 % of pupils a year; risk ×25), a household move (~1,5 %; ×20) and
    disengagement (~4 %; ×25).  Most pupils hit by one do not drop out; most dropouts have one.
  - What shows before leaving: only the semester the pupil leaves in.  Disengagement shows
    *late*, as ~10 extra absences in that semester; other visible dropouts ~3; family shocks
    and moves nothing.  Nothing is added to the semester before, so semester-1 absences do
    not hand a mid-year model the answer; and each semester's absences are a separate draw
    around the pupil's proneness (log-normal noise), not one rate for both.
  - The recorded reason follows the cause (shock: hardship or work; move: following the
    family or distance; disengagement: not liking school or weak results).
    ``SampleYear.dropout_causes`` keeps each dropout's cause (``"visible"`` when none): the
    truth a back-test never sees, for tests of the mechanism.

  Dropouts and transfers out have ``leave_date`` (September–May); dropouts have a reason.
* Repetition ~1 % (grades 6–8, weak results); grade-9 completion 97–98.5 % of those finishing
  the year; every pupil not completing repeats grade 9 the next year.
* Results: Circular 22 scale (Tốt/Khá/Đạt/Chưa đạt) for grade 6 from 2021-2022, grade 7 from
  2022-2023, grade 8 from 2023-2024, grade 9 from 2024-2025; otherwise the Circular 58 scale
  (học lực Giỏi/Khá/Trung bình/Yếu/Kém, hạnh kiểm Tốt/Khá/Trung bình/Yếu).  One scale per row.
  Promoted and completing pupils have passing year results and at most 45 absences; repeaters
  and pupils not completing have a failing learning result.
* The in-progress year (the last one, when ``in_progress``) has outcome ``in_progress`` for
  everyone still there, semester-1 results and absences only, and no school sheet
  (``SampleYear.school is None``); its population sheet is present.  Its dates (entries,
  leavings) fall between 5 September and 31 October of the start year, so they are never in the
  future for a sample written after October.

Planted cross-year inconsistencies (``SampleYear.anomalies``)
-------------------------------------------------------------
The names are those of ``crossyear.CHECKS``; with the default arguments these are the only
findings of ``crossyear.check_all``, so tests of other modules can rely on them.  Each is listed
in ``anomalies`` of the *earlier* year of the pair as
``{"check": …, "pupil_id": …, "school_year": …, "next_year": …}``:

* ``"missing_next_year"`` — a pupil promoted in grades 6–8 in year *t* who is absent from year
  *t+1* with no recorded reason.  Planted in the transitions with index 1 and 4 (counting from
  the first year: 2020-2021 → 2021-2022 and 2023-2024 → 2024-2025 by default).
* ``"returned_after_leaving"`` — a pupil who dropped out in year *t* and is back, in the same
  grade, in year *t+1* (re-enrolled, no ``entry_date``).  Planted in the transition with index
  2 (2021-2022 → 2022-2023 by default), when that year has a dropout.

Apart from these (at most two a year), the years are consistent: a pupil promoted in grade g in
year t is in grade g+1 in t+1 with the same ID, birth date, sex and name; repeaters stay in the
same grade; dropouts, transfers out and completers are gone.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import math
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from statistics import NormalDist
from typing import Any, Literal

import numpy as np
import pandas as pd

from . import contract
from .dataset import Dataset

# ---------------------------------------------------------------------------------------------
# Vocabularies
# ---------------------------------------------------------------------------------------------

FAMILY_NAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng",
                "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý")
FAMILY_WEIGHTS = (38, 11, 9.5, 7, 5, 4, 4.5, 3.9, 3.5, 2.1, 2, 1.4, 1.3, 1.3, 1, 0.5)
MIDDLE_M = ("Văn", "Hữu", "Đức", "Minh", "Quốc", "Gia", "Bảo", "Thành", "Hoàng", "Anh",
            "Trọng", "Công", "Thanh", "Đình")
MIDDLE_F = ("Thị", "Ngọc", "Thanh", "Thu", "Bảo", "Khánh", "Minh", "Gia", "Kim", "Hoài",
            "Phương", "Mai", "Diệu", "Thùy")
GIVEN_M = ("An", "Bình", "Cường", "Dũng", "Duy", "Đạt", "Hải", "Hào", "Hiếu", "Hoàng", "Huy",
           "Hùng", "Khang", "Khoa", "Kiên", "Long", "Lộc", "Minh", "Nam", "Nghĩa", "Nhân",
           "Phong", "Phúc", "Quân", "Sơn", "Tài", "Thắng", "Thịnh", "Tiến", "Trí", "Trung",
           "Tuấn", "Vinh", "Vũ", "Khôi", "Bảo", "Đăng", "Kiệt", "Phát", "Thiện")
GIVEN_F = ("Anh", "Châu", "Chi", "Diệp", "Dung", "Giang", "Hà", "Hân", "Hằng", "Hiền", "Hoa",
           "Hương", "Huyền", "Lan", "Linh", "Ly", "Mai", "My", "Nga", "Ngân", "Nhi", "Nhung",
           "Oanh", "Phương", "Quỳnh", "Tâm", "Thảo", "Thư", "Trang", "Trâm", "Uyên", "Vy",
           "Yến", "Ngọc", "Như", "Tiên", "Hạnh", "Loan", "Thy", "Vân")
#: K'Ho / Mạ naming: an optional clan name, then K' (boys) or Ka (girls), then the given name.
MINORITY_CLANS = ("", "", "Kơ Să", "Bon", "Điểu", "Lơ Mu", "Liêng", "Cil", "Ro Ông", "Bon Niêng")
MINORITY_GIVEN_M = ("Brơi", "Điệp", "Ha", "Hưng", "Jăng", "Sơ", "Tin", "Đin", "Prông", "Kră",
                    "Sang", "Thuận", "Brel", "Dũng", "Bình", "Ngọc", "Ha Lu", "Tiếp")
MINORITY_GIVEN_F = ("Hoa", "Huệ", "Nhi", "Thi", "Tuyết", "Mai", "Bé", "Lan", "Sương", "Hương",
                    "Thủy", "Duyên", "Phương", "Nhung", "Mơ", "Điểm", "Hồng", "Yên")

ETHNICITIES = ("Kinh", "K'Ho", "Mạ", "Châu Mạ", "Tày", "Nùng", "Hoa", "Mường", "Thái")
ETHNICITY_WEIGHTS = (85.0, 7.0, 2.5, 1.5, 1.5, 1.2, 0.8, 0.3, 0.2)
#: Minorities named in the K'Ho/Mạ style; the others use Vietnamese-style names.
HIGHLAND_ETHNICITIES = {"K'Ho", "Mạ", "Châu Mạ"}

DROPOUT_REASONS = ("Hoàn cảnh gia đình khó khăn", "Học yếu", "Đi làm", "Xa trường",
                   "Không thích đi học", "Theo gia đình đi làm ăn xa")
DROPOUT_REASON_WEIGHTS = (0.3, 0.25, 0.2, 0.1, 0.1, 0.05)

# Latent causes of dropping out (see the module docstring): yearly chance that a pupil is hit,
# how much it raises the dropout risk, and the reasons staff then record.
DROPOUT_CAUSES = ("family_shock", "move", "disengagement")
CAUSE_CHANCE = {"family_shock": 0.02, "move": 0.015, "disengagement": 0.04}
CAUSE_RISK = {"family_shock": 25.0, "move": 20.0, "disengagement": 25.0}
CAUSE_REASONS = {
    "family_shock": (("Hoàn cảnh gia đình khó khăn", "Đi làm"), (0.7, 0.3)),
    "move": (("Theo gia đình đi làm ăn xa", "Xa trường"), (0.7, 0.3)),
    "disengagement": (("Không thích đi học", "Học yếu"), (0.5, 0.5)),
}

HAMLETS = ("Tổ 1", "Tổ 2", "Tổ 3", "Tổ 4", "Tổ 5", "Tổ 6", "Tổ 7", "Tổ 8", "Tổ 9", "Tổ 10",
           "Tổ 11", "Tổ 12")
STREETS = ("Trần Phú", "Lê Hồng Phong", "Nguyễn Văn Cừ", "Phan Chu Trinh", "Lý Thường Kiệt",
           "Hà Giang", "Trần Nhân Tông", "Nguyễn Thái Học", "Lam Sơn", "Trần Quốc Toản")

# Dropout rate by school start year (the real trend: ~1 % falling towards zero).
DROPOUT_RATES = {2017: 0.013, 2018: 0.012, 2019: 0.010, 2020: 0.008, 2021: 0.0055,
                 2022: 0.0035, 2023: 0.0025, 2024: 0.0015, 2025: 0.001}
LATE_DROPOUT_RATE = 0.0005  # from 2026-2027 on
TRANSFER_OUT_RATE = 0.010
TRANSFER_IN_RATE = 0.008
REPEAT_RATE = 0.010
NOT_COMPLETED_RANGE = (0.015, 0.03)
CLASS_SIZE = 40
SEMESTER2_START = (1, 15)  # 15 January of the end year

# Result scales: shares from the bottom label up (they sum to 1).
_TT22 = ("Chưa đạt", "Đạt", "Khá", "Tốt")
_LEARN22 = (0.02, 0.30, 0.40, 0.28)
_COND22 = (0.003, 0.03, 0.17, 0.797)
_LEARN58 = ("Kém", "Yếu", "Trung bình", "Khá", "Giỏi")
_LEARN58_P = (0.004, 0.03, 0.32, 0.40, 0.246)
_COND58 = ("Yếu", "Trung bình", "Khá", "Tốt")
_COND58_P = (0.003, 0.037, 0.16, 0.80)


def _cuts(shares: tuple[float, ...]) -> np.ndarray:
    """Standard-normal cut points between consecutive labels (bottom label first)."""
    cum = np.cumsum(shares)[:-1]
    return np.array([NormalDist().inv_cdf(float(c)) for c in cum])


_CUTS = {"l22": _cuts(_LEARN22), "c22": _cuts(_COND22), "l58": _cuts(_LEARN58_P),
         "c58": _cuts(_COND58_P)}

# ---------------------------------------------------------------------------------------------
# Public containers
# ---------------------------------------------------------------------------------------------

CANONICAL_COLUMNS: list[str] = (["school_code", "school_year"]
                                + [c.name for c in contract.PUPIL_COLUMNS] + ["result_scale"])
PERSONAL_EXTRA_HEADERS = ("Họ tên cha", "Họ tên mẹ", "Địa chỉ", "Số ĐDCN")


@dataclass
class SampleYear:
    """One synthetic school year.

    pupils:     canonical table (``CANONICAL_COLUMNS``: school_code, school_year, every
                ``contract.PUPIL_COLUMNS`` name, result_scale), one row per pupil.
    school:     ``{SCHOOL_ITEMS key: value}`` (bool for yes/no items, int otherwise) or None
                when the school sheet has not arrived (the in-progress year).
    population: ``{POPULATION_ITEMS key: int}`` or None.
    personal:   the extra personal columns staff files carry (pupil_id, father_name,
                mother_name, address, national_id); written to files, never to be stored.
    anomalies:  planted cross-year inconsistencies starting in this year (see module doc).
    dropout_causes: ``{pupil_id: cause}`` for this year's dropouts: one of
                ``DROPOUT_CAUSES`` or ``"visible"`` (the truth a back-test never sees).
    """

    school_year: str
    pupils: pd.DataFrame
    school: dict[str, Any] | None
    population: dict[str, int] | None
    personal: pd.DataFrame
    in_progress: bool = False
    anomalies: list[dict[str, str]] = field(default_factory=list)
    dropout_causes: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Small vectorised helpers
# ---------------------------------------------------------------------------------------------


def _sround(rng: np.random.Generator, x: float) -> int:
    """Stochastic rounding: 0.8 → 1 with probability 0.8, else 0 (keeps small counts honest)."""
    return int(math.floor(x + rng.random()))


def _pick(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """Indices of ``k`` items drawn without replacement with the given weights (O(n))."""
    w = np.asarray(weights, dtype=float)
    k = int(min(k, int((w > 0).sum())))
    if k <= 0:
        return np.array([], dtype=np.int64)
    pos = w > 0
    keys = np.full(len(w), -np.inf)
    keys[pos] = np.log(rng.random(int(pos.sum()))) / w[pos]
    return np.argpartition(-keys, k - 1)[:k]


def _days(start: date, end: date, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` uniform dates in [start, end], as datetime64[D]."""
    a = np.datetime64(start, "D")
    span = (np.datetime64(end, "D") - a).astype(int)
    return a + rng.integers(0, span + 1, n).astype("timedelta64[D]")


def _labels(score: np.ndarray, cuts: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    return np.asarray(labels, dtype=object)[np.searchsorted(cuts, score)]


def _school_offset(school_code: str) -> int:
    return int(hashlib.sha256(school_code.encode()).hexdigest()[:8], 16)


def _pupil_ids(seq: np.ndarray, school_code: str, seed: int) -> np.ndarray:
    """10-digit MOET-like IDs ("42" + 8 digits), unique for distinct ``seq`` < 10**8."""
    # 7919 * 13 is coprime with 10**8, so seq → (a + b*seq) mod 10**8 is a bijection.
    offset = (_school_offset(school_code) + seed * 7_654_321) % 10**8
    body = (offset + np.asarray(seq, dtype=np.int64) * 102_947) % 10**8
    digits = np.empty((len(body), 10), dtype=np.uint8)
    digits[:, 0], digits[:, 1] = ord("4"), ord("2")
    digits[:, 2:] = (body[:, None] // 10 ** np.arange(7, -1, -1)) % 10 + ord("0")
    return digits.view("S10").ravel().astype("U10").astype(object)


def _choose(rng: np.random.Generator, values: tuple[str, ...], n: int,
            weights: tuple[float, ...] | None = None) -> np.ndarray:
    arr = np.asarray(values, dtype=object)
    if weights is None:
        return arr[rng.integers(0, len(arr), n)]
    p = np.asarray(weights, dtype=float)
    return arr[rng.choice(len(arr), n, p=p / p.sum())]


_FAMILY_EXTRA = ("Trương", "Lâm", "Quách", "Hứa", "Nông", "Lương", "Vi")
FAMILY_ALL = FAMILY_NAMES + _FAMILY_EXTRA
_FAMILY_P: dict[str, np.ndarray] = {}
for _eth, _fams in (("Kinh", dict(zip(FAMILY_NAMES, FAMILY_WEIGHTS, strict=True))),
                    ("Hoa", dict.fromkeys(("Lý", "Trương", "Lâm", "Quách", "Hứa"), 1.0)),
                    ("Tày", dict.fromkeys(("Hoàng", "Nông", "Lương", "Vi"), 1.0)),
                    ("Nùng", dict.fromkeys(("Hoàng", "Nông", "Lý", "Vi"), 1.0))):
    _w = np.array([_fams.get(f, 0.0) for f in FAMILY_ALL])
    _FAMILY_P[_eth] = _w / _w.sum()
_ETH_CODE = {e: i for i, e in enumerate(ETHNICITIES)}
_HIGHLAND_CODES = np.array([_ETH_CODE[e] for e in sorted(HIGHLAND_ETHNICITIES)])


@functools.cache
def _name_table(female: bool, highland: bool) -> tuple[np.ndarray, int, int]:
    """Every possible name (first part × middle part × given name), and the two inner sizes."""
    if highland:
        first = MINORITY_CLANS
        mids = ("Ka",) if female else ("K'",)
        givs = MINORITY_GIVEN_F if female else MINORITY_GIVEN_M
    else:
        first = FAMILY_ALL
        mids = MIDDLE_F if female else MIDDLE_M
        givs = GIVEN_F if female else GIVEN_M
    table = np.array([" ".join(x for x in (f, m, g) if x) for f in first for m in mids
                      for g in givs], dtype=object)
    return table, len(mids), len(givs)


def _names(rng: np.random.Generator, female: np.ndarray, eth_code: np.ndarray) -> np.ndarray:
    """Synthetic full names (vectorised: a lookup in a table of all combinations)."""
    n = len(female)
    fam = rng.choice(len(FAMILY_ALL), n, p=_FAMILY_P["Kinh"])
    for eth in ("Hoa", "Tày", "Nùng"):
        m = eth_code == _ETH_CODE[eth]
        if m.any():
            fam[m] = rng.choice(len(FAMILY_ALL), int(m.sum()), p=_FAMILY_P[eth])
    clan = rng.integers(0, len(MINORITY_CLANS), n)
    u_mid, u_giv = rng.random(n), rng.random(n)

    def lookup(is_female: bool, highland: bool) -> np.ndarray:
        table, n_mid, n_giv = _name_table(is_female, highland)
        first = clan if highland else fam
        idx = ((first * n_mid + (u_mid * n_mid).astype(np.int64)) * n_giv
               + (u_giv * n_giv).astype(np.int64))
        return table[idx]

    name = np.where(female, lookup(True, False), lookup(False, False))
    hl = np.isin(eth_code, _HIGHLAND_CODES)
    if hl.any():
        name[hl] = np.where(female, lookup(True, True), lookup(False, True))[hl]
    return name


def _scale_tt22(start: int, grade: np.ndarray) -> np.ndarray:
    """Circular 22 reached grade 6 in 2021-2022 and one more grade each year after."""
    return (start - 2021) >= (grade - 6)


def _dropout_rate(start: int) -> float:
    if start in DROPOUT_RATES:
        return DROPOUT_RATES[start]
    return DROPOUT_RATES[2017] if start < 2017 else LATE_DROPOUT_RATE


def _window(start: int, in_progress: bool) -> tuple[date, date]:
    """The dates within which entries and leavings happen in a year."""
    if in_progress:
        return date(start, 9, 5), date(start, 10, 31)
    return date(start, 9, 10), date(start + 1, 5, 20)


# ---------------------------------------------------------------------------------------------
# Pupils: attributes, then one year of school life
# ---------------------------------------------------------------------------------------------


def _new_pupils(rng: np.random.Generator, grade: np.ndarray, start: int,
                over_age_p: tuple[float, ...] = (0.003, 0.955, 0.032, 0.008, 0.002)
                ) -> pd.DataFrame:
    """Attributes of new pupils (no ID yet).  ``over_age_p``: ages grade+4 … grade+8."""
    n = len(grade)
    female = rng.random(n) < 0.49
    p_eth = np.asarray(ETHNICITY_WEIGHTS) / sum(ETHNICITY_WEIGHTS)
    eth_code = rng.choice(len(ETHNICITIES), n, p=p_eth)
    eth = np.asarray(ETHNICITIES, dtype=object)[eth_code]
    minority = eth_code != _ETH_CODE["Kinh"]
    poor = rng.random(n) < np.where(minority, 0.14, 0.02)
    near_poor = ~poor & (rng.random(n) < np.where(minority, 0.12, 0.035))
    disability = rng.random(n) < 0.015
    special = rng.random(n) < np.where(poor, 0.05, 0.01)
    over = rng.choice(np.arange(-1, len(over_age_p) - 1), n, p=np.asarray(over_age_p))
    age = grade + 5 + over
    birth_year = start - age
    jan1 = (birth_year - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    leap = ((birth_year % 4 == 0) & (birth_year % 100 != 0)) | (birth_year % 400 == 0)
    birth = jan1 + (rng.random(n) * np.where(leap, 366, 365)).astype("timedelta64[D]")
    ability = rng.normal(0, 1, n) - 0.25 * poor - 0.15 * near_poor - 0.2 * minority - 0.3 * (
        over > 0)
    swim_p = np.clip(0.30 + 0.04 * (start - 2019) + 0.03 * (grade - 6), 0.15, 0.85)
    return pd.DataFrame({
        "full_name": _names(rng, female, eth_code),
        "birth_date": birth,
        "sex": np.where(female, "F", "M").astype(object),
        "ethnicity": eth,
        "grade": grade.astype(np.int64),
        "poor": poor, "near_poor": near_poor, "disability": disability,
        "special_circumstances": special,
        "can_swim": rng.random(n) < swim_p,
        "ability": ability,
        "conduct_trait": rng.normal(0, 1, n),
        "minority": minority,
    })


def _assign_classes(rng: np.random.Generator, grade: np.ndarray, class_no: np.ndarray
                    ) -> np.ndarray:
    """Keep each pupil's class number when it still exists; place the others evenly."""
    class_no = class_no.copy()
    for g in np.unique(grade):
        m = np.flatnonzero(grade == g)
        k = max(1, math.ceil(len(m) / CLASS_SIZE))
        keep = class_no[m]
        ok = (keep >= 1) & (keep <= k)
        free = m[~ok]
        counts = np.bincount(keep[ok], minlength=k + 1)[1:]
        order = free[rng.permutation(len(free))]
        for i in order:  # fill the smallest class first
            c = int(np.argmin(counts))
            class_no[i] = c + 1
            counts[c] += 1
    return class_no


def _live_year(rng: np.random.Generator, roster: pd.DataFrame, start: int,
               in_progress: bool, dropout_rate: float, transfer_rate: float = TRANSFER_OUT_RATE,
               repeat_rate: float = REPEAT_RATE,
               not_completed_rate: float | None = None) -> pd.DataFrame:
    """One school year for ``roster`` (attributes, grade, class_no, entry_date): outcomes,
    leave dates, absences and results.  Returns the roster with canonical columns added."""
    n = len(roster)
    grade = roster["grade"].to_numpy(np.int64)
    entry = roster["entry_date"].to_numpy("datetime64[D]")
    ability = roster["ability"].to_numpy(float)
    birth_year = roster["birth_date"].to_numpy("datetime64[Y]").astype(np.int64) + 1970
    age = start - birth_year
    over = age - (grade + 5)
    poor = roster["poor"].to_numpy(bool)
    near_poor = roster["near_poor"].to_numpy(bool)
    minority = roster["minority"].to_numpy(bool)
    special = roster["special_circumstances"].to_numpy(bool)
    arrived = ~np.isnat(entry)
    part = 0.35 if in_progress else 1.0

    # Absence proneness first: dropouts are chosen partly on it.
    lam = np.exp(rng.normal(0.5, 0.9, n) - 0.3 * ability + 0.4 * poor)
    outcome = np.where(grade == contract.LAST_GRADE, "completed", "promoted").astype(object)
    if in_progress:
        outcome[:] = "in_progress"
    left = np.zeros(n, bool)

    # Few change school in their final year.
    transfer = _pick(rng, np.where(arrived, 0.0, np.where(grade == contract.LAST_GRADE, 0.3, 1.0)),
                     _sround(rng, transfer_rate * n * part))
    outcome[transfer] = "transferred_out"
    left[transfer] = True

    # Dropout: what the data show (poverty, age, weak results, absence proneness) explains
    # part of it; latent causes the school's files never record explain the rest.
    cause = np.full(n, "visible", dtype=object)
    for name in DROPOUT_CAUSES:
        hit = (cause == "visible") & (rng.random(n) < CAUSE_CHANCE[name])
        cause[hit] = name
    latent = np.ones(n)
    for name in DROPOUT_CAUSES:
        latent[cause == name] = CAUSE_RISK[name]
    risk = latent * np.exp(0.7 * poor + 0.3 * near_poor + 0.4 * minority + 0.3 * special
                           + 0.5 * np.clip(over, 0, None) - 0.5 * ability + 0.15 * np.log(lam))
    dropout = _pick(rng, np.where(left | arrived, 0.0, risk), _sround(rng, dropout_rate * n * part))
    outcome[dropout] = "dropped_out"
    left[dropout] = True

    failing = np.zeros(n, bool)
    if not in_progress:
        weak = np.exp(-2.5 * ability)
        can_repeat = (grade < contract.LAST_GRADE) & ~left & (age + 1 <= grade + 9)
        n678 = int((grade < contract.LAST_GRADE).sum())
        rep = _pick(rng, np.where(can_repeat, weak, 0.0), _sround(rng, repeat_rate * n678))
        outcome[rep] = "repeating"
        nine = (grade == contract.LAST_GRADE) & ~left & (age + 1 <= grade + 9)
        nc_rate = (rng.uniform(*NOT_COMPLETED_RANGE) if not_completed_rate is None
                   else not_completed_rate)
        nc = _pick(rng, np.where(nine, weak, 0.0), _sround(rng, nc_rate * int(nine.sum())))
        outcome[nc] = "not_completed"
        failing[rep] = True
        failing[nc] = True

    # Leave dates: September–May (Sept–Oct in the in-progress year), after any entry date.
    lo, hi = _window(start, in_progress)
    leave = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    leave[left] = _days(lo, hi, rng, int(left.sum()))
    s2_start = np.datetime64(date(start + 1, *SEMESTER2_START), "D")
    left_s1 = left & (leave < s2_start)  # no semester-2 data, no semester-1 results
    reason = np.full(n, None, dtype=object)
    is_drop = outcome == "dropped_out"
    cause = np.where(is_drop, cause, None)
    visible = is_drop & (cause == "visible")
    reason[visible] = _choose(rng, DROPOUT_REASONS, int(visible.sum()), DROPOUT_REASON_WEIGHTS)
    for name in DROPOUT_CAUSES:
        mask = is_drop & (cause == name)
        labels, weights = CAUSE_REASONS[name]
        reason[mask] = _choose(rng, labels, int(mask.sum()), weights)

    # Absences: most pupils few, a tail with many.  Each semester has its own draw around the
    # pupil's proneness, so semester 1 does not copy semester 2.  Only the semester a dropout
    # leaves in may show it: disengagement as many absences then (late), other visible
    # dropouts a few; family shocks and moves show nothing beforehand.
    noise1 = np.exp(rng.normal(0.0, 0.5, n))
    noise2 = np.exp(rng.normal(0.0, 0.5, n))
    late = np.where(cause == "disengagement", 10.0, np.where(cause == "visible", 3.0, 0.0))
    in_s1 = left_s1 & is_drop
    abs1 = np.minimum(rng.poisson(lam * noise1 + np.where(in_s1, late, 0.0)), 60)
    abs2 = np.minimum(rng.poisson(lam * 1.1 * noise2 + np.where(is_drop & ~in_s1, late, 0.0)),
                      60)
    passing = np.isin(outcome, ["promoted", "completed"])
    abs1 = np.where(passing, np.minimum(abs1, 40), abs1)
    abs2 = np.where(passing, np.minimum(abs2, contract.ABSENCE_LIMIT - abs1), abs2)
    abs2_na = left_s1 | in_progress

    # Results on one scale per row.
    tt22 = _scale_tt22(start, grade)
    s_s1 = ability + rng.normal(0, 0.45, n)
    s_yr = ability + rng.normal(0, 0.35, n) + 0.1
    c_s1 = 0.4 * ability + roster["conduct_trait"].to_numpy(float) * 0.9 + rng.normal(0, 0.4, n)
    c_yr = c_s1 + 0.15 + rng.normal(0, 0.2, n)
    l1 = np.where(tt22, _labels(s_s1, _CUTS["l22"], _TT22), _labels(s_s1, _CUTS["l58"], _LEARN58))
    k1 = np.where(tt22, _labels(c_s1, _CUTS["c22"], _TT22), _labels(c_s1, _CUTS["c58"], _COND58))
    floor_l = _CUTS["l22"][0] + 1e-9, _CUTS["l58"][1] + 1e-9
    floor_c = _CUTS["c22"][0] + 1e-9, _CUTS["c58"][0] + 1e-9
    s_yr_pass = np.where(tt22, np.maximum(s_yr, floor_l[0]), np.maximum(s_yr, floor_l[1]))
    c_yr_pass = np.where(tt22, np.maximum(c_yr, floor_c[0]), np.maximum(c_yr, floor_c[1]))
    ly = np.where(tt22, _labels(s_yr_pass, _CUTS["l22"], _TT22),
                  _labels(s_yr_pass, _CUTS["l58"], _LEARN58))
    ky = np.where(tt22, _labels(c_yr_pass, _CUTS["c22"], _TT22),
                  _labels(c_yr_pass, _CUTS["c58"], _COND58))
    fail58 = np.where(rng.random(n) < 0.15, "Kém", "Yếu")
    ly = np.where(failing, np.where(tt22, "Chưa đạt", fail58), ly)
    year_na = left | in_progress
    l1 = np.where(left_s1, None, l1)
    k1 = np.where(left_s1, None, k1)
    ly = np.where(year_na, None, ly)
    ky = np.where(year_na, None, ky)
    # The scale that applies to the row, even when a leaver has no result yet.
    scale = np.where(tt22, "tt22", "tt58").astype(object)

    out = roster.copy()
    out["entry_date"] = entry
    out["absences_s1"] = pd.arrays.IntegerArray(abs1.astype(np.int64), np.zeros(n, bool))
    out["absences_s2"] = pd.arrays.IntegerArray(abs2.astype(np.int64), abs2_na.copy())
    out["learning_s1"] = l1
    out["conduct_s1"] = k1
    out["learning_year"] = ly
    out["conduct_year"] = ky
    out["result_scale"] = scale
    out["outcome"] = outcome
    out["leave_date"] = leave
    out["dropout_reason"] = reason
    out["_cause"] = cause
    return out


_TEXT_COLUMNS = ("school_code", "school_year", "pupil_id", "full_name", "sex", "ethnicity",
                 "class_name", "learning_s1", "conduct_s1", "learning_year", "conduct_year",
                 "outcome", "dropout_reason", "result_scale")


def _class_names(grade: np.ndarray, class_no: np.ndarray) -> np.ndarray:
    """"6A1" … from grade and class number (a lookup, fast at millions of rows)."""
    k = int(class_no.max(initial=1))
    table = np.array([f"{g}A{c}" for g in contract.GRADES for c in range(1, k + 1)],
                     dtype=object)
    return table[(grade - contract.GRADES[0]) * k + (class_no - 1)]


def _canonical(df: pd.DataFrame, school_code: str, school_year: str) -> pd.DataFrame:
    """The canonical pupil table from a simulated year, with the importer's dtypes
    (``str``, ``Int64``, ``boolean``, ``datetime64[ns]``)."""
    n = len(df)

    def day(c: str) -> np.ndarray:
        return df[c].to_numpy("datetime64[D]").astype("datetime64[ns]")

    cols: dict[str, Any] = {
        "school_code": np.full(n, school_code, dtype=object),
        "school_year": np.full(n, school_year, dtype=object),
        "birth_date": day("birth_date"),
        "grade": pd.array(df["grade"].to_numpy(np.int64), dtype="Int64"),
        "class_name": _class_names(df["grade"].to_numpy(np.int64),
                                   df["class_no"].to_numpy(np.int64)),
        "entry_date": day("entry_date"),
        "leave_date": day("leave_date"),
    }
    for c in ("poor", "near_poor", "disability", "special_circumstances", "can_swim"):
        cols[c] = pd.array(df[c].to_numpy(bool), dtype="boolean")
    for c in ("absences_s1", "absences_s2"):
        cols[c] = pd.array(df[c], dtype="Int64")
    for c in _TEXT_COLUMNS:
        cols[c] = pd.array(cols[c] if c in cols else df[c].to_numpy(object), dtype="str")
    return pd.DataFrame({c: cols[c] for c in CANONICAL_COLUMNS})


def _personal(rng: np.random.Generator, df: pd.DataFrame) -> pd.DataFrame:
    """Synthetic parents' names, address and national ID number (Số ĐDCN)."""
    n = len(df)
    names = df["full_name"].to_numpy(object)
    eth = df["ethnicity"].to_numpy(object)
    codes = np.array([_ETH_CODE.get(e, 0) for e in eth], dtype=np.int64)
    father = _names(rng, np.zeros(n, bool), codes)
    # Vietnamese-style names: the father shares the child's family name.
    viet = ~np.isin(codes, _HIGHLAND_CODES)
    fam = np.array([s.split(" ", 1)[0] for s in names], dtype=object)
    rest = np.array([s.split(" ", 1)[1] for s in father], dtype=object)
    father = np.where(viet, fam + " " + rest, father)
    mother = _names(rng, np.ones(n, bool), codes)
    street = _choose(rng, STREETS, n)
    hamlet = _choose(rng, HAMLETS, n)
    address = hamlet + ", đường " + street + ", phường Lộc Sơn, TP. Bảo Lộc, Lâm Đồng"
    by = df["birth_date"].to_numpy("datetime64[Y]").astype(np.int64) + 1970
    century = np.where(df["sex"].to_numpy(object) == "F", "3", "2")
    tail = np.char.zfill(rng.integers(0, 10**6, n).astype(str), 6).astype(object)
    national_id = "068" + century + np.char.zfill((by % 100).astype(str), 2).astype(object) + tail
    return pd.DataFrame({"pupil_id": df["pupil_id"].to_numpy(object), "father_name": father,
                         "mother_name": mother, "address": address,
                         "national_id": national_id})


# ---------------------------------------------------------------------------------------------
# School and population sheets
# ---------------------------------------------------------------------------------------------


def _school_items(rng: np.random.Generator, pupils: pd.DataFrame, start: int,
                  index: int) -> dict[str, Any]:
    n = len(pupils)
    k = start - 2019
    toilets = int(min(16, max(12, 12 + (k + 1) // 2)))
    hygienic = int(max(0, toilets - max(0, 3 - k)))
    psych = start >= 2022
    sessions = int(24 + 4 * (start - 2022) + rng.integers(0, 6)) if psych else int(
        rng.integers(0, 4))
    counselled = int(min(n, round(sessions * rng.uniform(1.2, 1.8)))) if psych else sessions
    received = int(rng.integers(0, 4))
    resolved = received - int(received > 1 and rng.random() < 0.3)
    support = int((pupils["poor"] | pupils["near_poor"] | pupils["disability"]).sum())
    return {
        "toilets": toilets,
        "toilets_hygienic": hygienic,
        "clean_water": True,
        "psych_service": psych,
        "counselling_sessions": sessions,
        "pupils_counselled": counselled,
        "dialogue_sessions": int(2 + 2 * psych + rng.integers(0, 2)),
        "staff_trained_social_work": int(min(20, 2 + 2 * max(0, start - 2020)
                                             + rng.integers(0, 2))),
        "violence_incidents": 1 if index == 1 else 0,
        "abuse_cases": 0,
        "complaints_received": received,
        "complaints_resolved": resolved,
        "sports_clubs": int(3 + (start >= 2022) + (start >= 2024)),
        "club_members": int(round(n * rng.uniform(0.15, 0.25))),
        "pupils_taught_swimming": int(round(n * min(0.6, 0.2 + 0.04 * max(0, k)
                                                     + rng.uniform(0, 0.05)))),
        "pupils_policy_support": support,
        "policy_support_amount": int(support * 1_350_000 + 1000 * rng.integers(0, 500)),
    }


def _population_items(rng: np.random.Generator, pupils: pd.DataFrame,
                      start: int) -> dict[str, int]:
    age = start - pupils["birth_date"].dt.year
    entrants = (pupils["grade"] == 6) & pupils["entry_date"].isna()
    entrants11 = int((entrants & (age == 11)).sum())
    share = rng.uniform(0.88, 0.92)
    pop11 = int(round(entrants11 / share))
    in11_14 = int(age.between(11, 14).sum())
    pop11_14 = int(round(in11_14 / rng.uniform(0.88, 0.92)))
    return {
        "pop_age11": pop11,
        "pop_age11_in_grade6": pop11 - int(rng.choice([0, 0, 1, 1, 2])),
        "pop_age11_14": pop11_14,
        "pop_age11_14_in_school": int(round(pop11_14 * rng.uniform(0.98, 0.99))),
    }


# ---------------------------------------------------------------------------------------------
# generate
# ---------------------------------------------------------------------------------------------


def generate(seed: int = 2025, first_year: str = "2019-2020", last_year: str = "2026-2027",
             in_progress: bool = True, school_code: str = contract.DEFAULT_SCHOOL,
             entrants_per_year: int = 200) -> dict[str, SampleYear]:
    """Simulate the school from ``first_year`` to ``last_year`` (the last one in progress when
    ``in_progress``).  Returns ``{school_year: SampleYear}`` in year order; pure and
    deterministic from ``seed`` and ``school_code``."""
    years = contract.school_years_between(first_year, last_year)
    if not years:
        raise ValueError(f"no school years between {first_year} and {last_year}")
    rng = np.random.default_rng([seed, _school_offset(school_code)])
    next_seq = 0

    def with_ids(df: pd.DataFrame) -> pd.DataFrame:
        nonlocal next_seq
        df = df.copy()
        df.insert(0, "pupil_id", _pupil_ids(np.arange(next_seq, next_seq + len(df)),
                                            school_code, seed))
        next_seq += len(df)
        return df

    first_start = contract.start_year(years[0])
    # The school as found in the first year: four cohorts, older ones with a few repeaters.
    grades = np.repeat(np.array(contract.GRADES), int(entrants_per_year * 0.99))
    roster = with_ids(_new_pupils(rng, grades, first_start,
                                  (0.003, 0.94, 0.042, 0.012, 0.003)))
    roster["class_no"] = 0
    roster["entry_date"] = np.datetime64("NaT", "D")

    result: dict[str, SampleYear] = {}
    personal_all: list[pd.DataFrame] = []
    pending: list[dict[str, str]] = []
    for idx, year in enumerate(years):
        start = contract.start_year(year)
        prog = in_progress and idx == len(years) - 1
        if idx > 0:
            n_entrants = max(1, int(round(rng.normal(entrants_per_year,
                                                     0.03 * entrants_per_year))))
            entrants = with_ids(_new_pupils(rng, np.full(n_entrants, 6), start))
            entrants["class_no"] = 0
            entrants["entry_date"] = np.datetime64("NaT", "D")
            roster = pd.concat([roster, entrants], ignore_index=True)
        # Transfers in during the year: new IDs with an entry date.
        k_in = _sround(rng, TRANSFER_IN_RATE * len(roster) * (0.35 if prog else 1.0))
        if k_in:
            g_in = rng.choice(np.array(contract.GRADES), k_in, p=[0.3, 0.3, 0.25, 0.15])
            newcomers = with_ids(_new_pupils(rng, g_in, start))
            newcomers["class_no"] = 0
            lo, hi = _window(start, prog)
            newcomers["entry_date"] = _days(lo, hi, rng, k_in)
            roster = pd.concat([roster, newcomers], ignore_index=True)
        roster["class_no"] = _assign_classes(rng, roster["grade"].to_numpy(np.int64),
                                             roster["class_no"].to_numpy(np.int64))
        lived = _live_year(rng, roster, start, prog, _dropout_rate(start))
        # Class lists are in Vietnamese order: by given name, then the full name.
        lived["_given"] = lived["full_name"].str.rsplit(" ", n=1).str[-1]
        lived = lived.sort_values(["grade", "class_no", "_given", "full_name", "pupil_id"],
                                  kind="stable", ignore_index=True).drop(columns="_given")
        pupils = _canonical(lived, school_code, year)
        personal = _personal(rng, lived)
        personal_all.append(personal)
        school = None if prog else _school_items(rng, pupils, start, idx)
        population = _population_items(rng, pupils, start)
        sy = SampleYear(year, pupils, school, population, personal, in_progress=prog)
        drops = lived["_cause"].notna().to_numpy()
        sy.dropout_causes = dict(zip(lived.loc[drops, "pupil_id"].astype(str),
                                     lived.loc[drops, "_cause"].astype(str), strict=True))
        result[year] = sy
        if idx == len(years) - 1:
            break

        # Next year's roster.
        out = lived["outcome"].to_numpy(object)
        keep = np.isin(out, ["promoted", "repeating", "not_completed"])
        nxt_year = contract.next_year(year)
        promoted = np.flatnonzero(out == "promoted")
        if idx in (1, 4) and len(promoted):
            victim = int(rng.choice(promoted))
            keep[victim] = False
            pending.append({"check": "missing_next_year", "school_year": year,
                            "next_year": nxt_year, "pupil_id": str(lived.at[victim, "pupil_id"])})
        if idx == 2:
            dropped = np.flatnonzero((out == "dropped_out") & (
                (start + 1 - (lived["birth_date"].to_numpy("datetime64[Y]").astype(np.int64)
                              + 1970)) <= lived["grade"].to_numpy(np.int64) + 9))
            if len(dropped):
                back = int(rng.choice(dropped))
                keep[back] = True
                pending.append({"check": "returned_after_leaving", "school_year": year,
                                "next_year": nxt_year,
                                "pupil_id": str(lived.at[back, "pupil_id"])})
        sy.anomalies = pending
        pending = []
        nxt = lived.loc[keep, roster.columns].copy()
        moved = (out[keep] == "promoted")
        nxt.loc[moved, "grade"] = nxt.loc[moved, "grade"] + 1
        nxt.loc[~moved, "class_no"] = 0
        nxt["entry_date"] = np.datetime64("NaT", "D")
        # Households move in and out of poverty; pupils learn to swim.
        m = len(nxt)
        poor = nxt["poor"].to_numpy(bool).copy()
        near = nxt["near_poor"].to_numpy(bool).copy()
        exit_poor = poor & (rng.random(m) < 0.15)
        exit_near = near & (rng.random(m) < 0.2)
        become_near = ~poor & ~near & (rng.random(m) < 0.004)
        nxt["poor"] = poor & ~exit_poor
        nxt["near_poor"] = (near & ~exit_near) | exit_poor | become_near
        nxt["can_swim"] = nxt["can_swim"].to_numpy(bool) | (rng.random(m) < 0.12)
        nxt["ability"] = nxt["ability"].to_numpy(float) * 0.9 + rng.normal(0, 0.3, m)
        roster = nxt.reset_index(drop=True)
    return result


def generate_pupils_fast(n_pupils: int, school_year: str = "2024-2025", seed: int = 2025,
                         school_code: str = contract.DEFAULT_SCHOOL,
                         in_progress: bool = False) -> pd.DataFrame:
    """One valid school year of ``n_pupils`` pupils, fully vectorised (millions in seconds).

    Same canonical columns and rules as :func:`generate` (grades evenly spread, classes of 40,
    IDs unique, results on the right scale, outcomes, leave dates, dropout reasons), but no
    history: every pupil is new, about 1 % arrived during the year."""
    rng = np.random.default_rng([seed, _school_offset(school_code), n_pupils])
    start = contract.start_year(school_year)
    grade = np.sort(rng.choice(np.array(contract.GRADES), n_pupils))
    df = _new_pupils(rng, grade, start)
    df.insert(0, "pupil_id", _pupil_ids(np.arange(n_pupils), school_code, seed))
    # Class numbers: consecutive blocks of CLASS_SIZE within each grade.
    first_of_grade = np.searchsorted(grade, grade, side="left")
    df["class_no"] = (np.arange(n_pupils) - first_of_grade) // CLASS_SIZE + 1
    arrived = rng.random(n_pupils) < TRANSFER_IN_RATE
    lo, hi = _window(start, in_progress)
    entry = np.full(n_pupils, np.datetime64("NaT"), dtype="datetime64[D]")
    entry[arrived] = _days(lo, hi, rng, int(arrived.sum()))
    df["entry_date"] = entry
    lived = _live_year(rng, df, start, in_progress, _dropout_rate(start))
    return _canonical(lived, school_code, school_year)


def to_dataset(sample: dict[str, SampleYear]) -> Dataset:
    """The sample as ``store.load`` would return it after importing every year (no importer
    involved): handy for testing indicators.  ``source_file`` is the year's pupil file name."""
    pupils = []
    school_rows: list[dict[str, Any]] = []
    pop_rows: list[dict[str, Any]] = []
    for year, sy in sample.items():
        p = sy.pupils.copy()
        p["source_file"] = pd.array([f"DS_hoc_sinh_{year}.xlsx"] * len(p), dtype="string")
        p["source_row"] = pd.array(np.arange(len(p)) + 7, dtype="Int64")
        pupils.append(p)
        code = str(p["school_code"].iloc[0]) if len(p) else contract.DEFAULT_SCHOOL
        for rows, items in ((school_rows, sy.school), (pop_rows, sy.population)):
            for key, value in (items or {}).items():
                rows.append({"school_code": code, "school_year": year, "item": key,
                             "value": float(value)})
    long_cols = ["school_code", "school_year", "item", "value"]
    return Dataset(
        pupils=pd.concat(pupils, ignore_index=True),
        school=pd.DataFrame(school_rows, columns=long_cols),
        population=pd.DataFrame(pop_rows, columns=long_cols),
        imports=pd.DataFrame(columns=["school_code", "school_year", "kind", "import_id"]),
        checks=pd.DataFrame(columns=["school_code", "school_year", "next_year", "check_name",
                                     "pupil_id", "detail"]),
        interventions=pd.DataFrame(columns=["school_code", "school_year", "action_date",
                                            "pupil_id", "action", "staff", "result"]),
    )


# ---------------------------------------------------------------------------------------------
# Files as staff keep them
# ---------------------------------------------------------------------------------------------

TITLE_ROWS = ("PHÒNG GIÁO DỤC VÀ ĐÀO TẠO BẢO LỘC", "TRƯỜNG THCS LỘC SƠN")
_FIXED_TIME = datetime(2025, 6, 1, 8, 0, 0)
_OUTCOME_VARIANT_LABELS = {"promoted": "Được lên lớp", "repeating": "Lưu ban",
                           "dropped_out": "Thôi học", "transferred_out": "Chuyển trường",
                           "completed": "Tốt nghiệp THCS", "not_completed": "Chưa tốt nghiệp",
                           "in_progress": "Đang học"}


@dataclass(frozen=True)
class FileStyle:
    """How one year's export looks (software versions differ from year to year)."""

    dates_as_text: bool  # dd/mm/yyyy text instead of Excel dates
    id_header: str
    class_header: str
    old_result_headers: bool  # "Học lực …"/"Hạnh kiểm …" instead of "Kết quả học tập …"
    number_row: bool  # a row of column numbers (1), (2), … under the header
    grade_column: bool
    outcome_variants: bool
    pupil_file: str  # file name pattern, {year}


def file_style(school_year: str) -> FileStyle:
    """The export style of a year: a fixed 8-year cycle, so every style appears in 2019–2026.

    2019-2020 "Học lực/Hạnh kiểm …" headers, a column-number row; 2020-2021 dates as
    dd/mm/yyyy text, "Học lực/Hạnh kiểm …" headers, outcome variants ("Được lên lớp", "Lưu ban",
    "Thôi học", "Chuyển trường", "Tốt nghiệp THCS", "Chưa tốt nghiệp"); 2021-2022 "Mã lớp",
    file "Danh sách học sinh năm học …"; 2022-2023 "Mã định danh Bộ GD&ĐT (trên CSDL ngành)",
    a column-number row; 2023-2024 dates as text, no "Khối" column (grade from the class name);
    2024-2025 the MOET ID header, file "Danh sách học sinh năm học …"; 2025-2026 "Mã lớp",
    a column-number row; 2026-2027 the contract's headers.  The in-progress year also has
    "Tình trạng" for the outcome and no semester-2 or whole-year columns."""
    k = (contract.start_year(school_year) - 2019) % 8
    return FileStyle(
        dates_as_text=k in (1, 4),
        id_header=("Mã định danh Bộ GD&ĐT (trên CSDL ngành)" if k in (3, 5)
                   else contract.pupil_column("pupil_id").header),
        class_header="Mã lớp" if k in (2, 6) else contract.pupil_column("class_name").header,
        old_result_headers=k in (0, 1),
        number_row=k in (0, 3, 6),
        grade_column=k != 4,
        outcome_variants=k == 1,
        pupil_file=("Danh sách học sinh năm học {year}.xlsx" if k in (2, 5)
                    else "DS_hoc_sinh_{year}.xlsx"),
    )


_HEADER_OVERRIDES_OLD = {"learning_s1": "Học lực HK1", "conduct_s1": "Hạnh kiểm HK1",
                         "learning_year": "Học lực cả năm", "conduct_year": "Hạnh kiểm cả năm"}
_S2_COLUMNS = {"absences_s2", "learning_year", "conduct_year"}


def _pupil_layout(style: FileStyle, in_progress: bool) -> list[tuple[str, str]]:
    """(source, header) in file order; source is a canonical column or "stt"/"personal:…"."""
    col = contract.pupil_column
    headers = {c.name: c.header for c in contract.PUPIL_COLUMNS}
    headers["pupil_id"] = style.id_header
    headers["class_name"] = style.class_header
    if style.old_result_headers:
        headers.update(_HEADER_OVERRIDES_OLD)
    if in_progress:
        headers["outcome"] = "Tình trạng"
    order = ["stt", "pupil_id", "full_name", "birth_date", "sex", "ethnicity", "grade",
             "class_name", "personal:father_name", "personal:mother_name", "personal:address",
             "personal:national_id", "entry_date", "poor", "near_poor", "disability",
             "special_circumstances", "can_swim", "absences_s1", "absences_s2", "learning_s1",
             "conduct_s1", "learning_year", "conduct_year", "outcome", "leave_date",
             "dropout_reason"]
    personal = dict(zip(("personal:father_name", "personal:mother_name", "personal:address",
                         "personal:national_id"), PERSONAL_EXTRA_HEADERS, strict=True))
    layout = []
    for src in order:
        if src == "grade" and not style.grade_column:
            continue
        if in_progress and src in _S2_COLUMNS:
            continue
        if src == "stt":
            layout.append((src, "STT"))
        elif src.startswith("personal:"):
            layout.append((src, personal[src]))
        else:
            layout.append((src, headers[col(src).name]))
    return layout


def _cell_values(sy: SampleYear, style: FileStyle, layout: list[tuple[str, str]],
                 for_csv: bool = False) -> list[list[Any]]:
    """Rows of cell values as staff files hold them (dates, "x", Vietnamese labels)."""
    p = sy.pupils
    pers = sy.personal.set_index("pupil_id")
    labels = _OUTCOME_VARIANT_LABELS if style.outcome_variants else contract.OUTCOME_LABELS
    columns: list[list[Any]] = []
    n = len(p)
    for src, _ in layout:
        if src == "stt":
            columns.append(list(range(1, n + 1)))
        elif src.startswith("personal:"):
            columns.append(pers.loc[p["pupil_id"], src.split(":", 1)[1]].tolist())
        else:
            kind = contract.pupil_column(src).kind
            s = p[src]
            if kind == "date":
                if style.dates_as_text or for_csv:
                    vals = s.dt.strftime("%d/%m/%Y").astype(object).where(s.notna(), None)
                else:
                    vals = pd.Series([None if pd.isna(v) else v.date() for v in s], dtype=object)
                columns.append(vals.tolist())
            elif kind == "bool":
                columns.append(np.where(s.fillna(False).to_numpy(bool), "x", None).tolist())
            elif kind == "sex":
                columns.append(s.map(contract.SEX_LABELS).tolist())
            elif kind == "outcome":
                columns.append(s.map(labels).tolist())
            elif kind in ("int", "grade"):
                columns.append([None if pd.isna(v) else int(v) for v in s])
            else:
                columns.append([None if pd.isna(v) else str(v) for v in s])
    return [list(r) for r in zip(*columns, strict=True)] if columns else []


def _deterministic_zip(data: bytes) -> bytes:
    """Rewrite an .xlsx with fixed timestamps so the same seed gives the same bytes."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(<)",
                                 rb"\g<1>2025-06-01T08:00:00Z\g<2>", content)
            zi = zipfile.ZipInfo(info.filename, date_time=(2025, 6, 1, 8, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = info.external_attr
            dst.writestr(zi, content)
    return buf.getvalue()


def _save(wb: Any, path: Path) -> Path:
    wb.properties.creator = "Trường THCS Lộc Sơn"
    wb.properties.created = _FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(_deterministic_zip(buf.getvalue()))
    return path


@dataclass(frozen=True)
class _Cell:
    """A cell that needs a style (plain values are written as they are)."""

    value: Any
    bold: bool = False
    size: float | None = None
    number_format: str | None = None
    center: bool = False


@dataclass
class _Sheet:
    """One worksheet's rows, written in openpyxl's fast write-only mode."""

    title: str
    rows: list[list[Any]] = field(default_factory=list)
    merges: list[tuple[int, int, int]] = field(default_factory=list)  # row, first, last col
    widths: dict[int, float] = field(default_factory=dict)

    def add(self, *cells: Any, at: int = 1) -> int:
        """Append a row whose first value goes in column ``at``; returns its row number."""
        self.rows.append([None] * (at - 1) + list(cells))
        return len(self.rows)

    def merge(self, row: int, first: int, last: int) -> None:
        if last > first:
            self.merges.append((row, first, last))

    def save(self, path: Path) -> Path:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, Font
        from openpyxl.utils import get_column_letter

        wb = Workbook(write_only=True)
        ws = wb.create_sheet(self.title)
        for j, w in sorted(self.widths.items()):
            ws.column_dimensions[get_column_letter(j)].width = w
        fonts: dict[tuple[bool, float | None], Font] = {}
        for row in self.rows:
            out = []
            for v in row:
                if isinstance(v, _Cell):
                    c = WriteOnlyCell(ws, value=v.value)
                    if v.bold or v.size:
                        key = (v.bold, v.size)
                        c.font = fonts.setdefault(key, Font(bold=v.bold, size=v.size))
                    if v.number_format:
                        c.number_format = v.number_format
                    if v.center:
                        c.alignment = Alignment(horizontal="center")
                    out.append(c)
                else:
                    out.append(v)
            ws.append(out)
        for r, a, b in self.merges:
            ws.merged_cells.add(f"{get_column_letter(a)}{r}:{get_column_letter(b)}{r}")
        return _save(wb, path)


def _school_line(sy: SampleYear) -> str:
    """"TRƯỜNG THCS LỘC SƠN", or the name of the school the sample was generated for
    (data/schools.yaml; a code not listed there gives "TRƯỜNG THCS <code>")."""
    from . import schools

    codes = sy.pupils["school_code"].dropna().unique() if "school_code" in sy.pupils else []
    code = str(codes[0]) if len(codes) else contract.DEFAULT_SCHOOL
    if code == contract.DEFAULT_SCHOOL:
        return TITLE_ROWS[1]
    known = schools.load_registry().get(code)
    return f"TRƯỜNG {known.name if known else 'THCS ' + code}".upper()


def _titles(sheet: _Sheet, title: str, width: int, sy: SampleYear) -> None:
    """The title block: office, school, blank, title, blank."""
    sheet.merge(sheet.add(TITLE_ROWS[0]), 1, 4)
    sheet.merge(sheet.add(_Cell(_school_line(sy), bold=True)), 1, 4)
    sheet.add()
    sheet.merge(sheet.add(_Cell(title, bold=True, size=13, center=True)), 1, width)
    sheet.add()


def _signature_date(sy: SampleYear) -> date:
    start = contract.start_year(sy.school_year)
    return date(start, 11, 5) if sy.in_progress else date(start + 1, 5, 28)


def _signature_line(d: date) -> str:
    return f"Lộc Sơn, ngày {d.day} tháng {d.month} năm {d.year}"


_WIDTHS = {"full_name": 26, "personal:address": 44, "personal:father_name": 24,
           "personal:mother_name": 24, "dropout_reason": 28}


def _write_pupil_xlsx(sy: SampleYear, path: Path) -> Path:
    style = file_style(sy.school_year)
    layout = _pupil_layout(style, sy.in_progress)
    width = len(layout)
    sheet = _Sheet("DSHS", widths={j: _WIDTHS.get(src, 12)
                                   for j, (src, _) in enumerate(layout, 1)})
    _titles(sheet, f"DANH SÁCH HỌC SINH NĂM HỌC {sy.school_year}", width, sy)
    sheet.add(*(_Cell(header, bold=True) for _, header in layout))
    if style.number_row:
        sheet.add(*(f"({j})" for j in range(1, width + 1)))
    date_cols = [j for j, (src, _) in enumerate(layout)
                 if not src.startswith(("stt", "personal:"))
                 and contract.pupil_column(src).kind == "date"]
    for values in _cell_values(sy, style, layout):
        if not style.dates_as_text:
            for j in date_cols:
                if values[j] is not None:
                    values[j] = _Cell(values[j], number_format="dd/mm/yyyy")
        sheet.add(*values)
    sheet.add()
    sheet.merge(sheet.add(_Cell(f"Tổng cộng: {len(sy.pupils)} học sinh", bold=True)), 1, 3)
    sheet.add()
    sign_col = max(2, width - 4)
    sheet.add(_signature_line(_signature_date(sy)), at=sign_col)
    sheet.add(_Cell("Người lập biểu", bold=True), *([None] * (sign_col - 3)),
              _Cell("HIỆU TRƯỞNG", bold=True), at=2)
    return sheet.save(path)


def _item_values(items: dict[str, Any], spec: tuple[contract.Item, ...]) -> list[tuple[str, Any]]:
    rows = []
    for it in spec:
        v = items[it.key]
        rows.append((it.label, ("Có" if v else "Không") if it.kind == "bool" else int(v)))
    return rows


def _write_items_xlsx(items: dict[str, Any], spec: tuple[contract.Item, ...], title: str,
                      sheet_name: str, sy: SampleYear, path: Path) -> Path:
    sheet = _Sheet(sheet_name, widths={1: 62, 2: 18})
    _titles(sheet, title, 2, sy)
    sheet.add(_Cell(contract.ITEM_HEADER[0], bold=True), _Cell(contract.VALUE_HEADER[0], bold=True))
    for label, value in _item_values(items, spec):
        big = isinstance(value, int) and value >= 10_000
        sheet.add(label, _Cell(value, number_format="#,##0") if big else value)
    sheet.add()
    sheet.add(_signature_line(_signature_date(sy)), at=2)
    sheet.add(_Cell("HIỆU TRƯỞNG", bold=True), at=2)
    return sheet.save(path)


def _format_dates(s: pd.Series) -> pd.Series:
    """dd/mm/yyyy text, formatting each distinct date once (few distinct, many rows)."""
    codes, uniques = pd.factorize(s)
    text = np.append(pd.DatetimeIndex(uniques).strftime("%d/%m/%Y").to_numpy(object), None)
    return pd.Series(text[codes], index=s.index, dtype=object)  # code -1 (missing) → None


def write_pupils_csv(pupils: pd.DataFrame, path: str | Path) -> Path:
    """A canonical pupil table as a plain UTF-8 CSV with the contract's Vietnamese headers
    (dates dd/mm/yyyy, yes as "x", blanks empty), vectorised for millions of rows: DuckDB
    writes the file (several times faster than ``DataFrame.to_csv``), rows in order."""
    import duckdb

    path = Path(path)
    out = pd.DataFrame(index=pupils.index)
    for c in contract.PUPIL_COLUMNS:
        s = pupils[c.name]
        if c.kind == "date":
            v = _format_dates(s)
        elif c.kind == "bool":
            v = pd.Series(np.where(s.fillna(False).to_numpy(bool), "x", None), index=s.index)
        elif c.kind == "sex":
            v = s.map(contract.SEX_LABELS)
        elif c.kind == "outcome":
            v = s.map(contract.OUTCOME_LABELS)
        else:
            v = s
        out[c.header] = v.astype(object).where(v.notna(), None) if c.kind != "int" else v
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.register("pupil_csv", out.reset_index(drop=True))
        target = str(path).replace("'", "''")
        con.execute(f"COPY pupil_csv TO '{target}' (HEADER, DELIMITER ',')")
    finally:
        con.close()
    return path


def write_items_csv(items: dict[str, Any], spec: tuple[contract.Item, ...],
                    path: str | Path) -> Path:
    """A school or population sheet (``SampleYear.school``/``.population``) as a plain CSV:
    "Nội dung,Giá trị", then one row per item (booleans "Có"/"Không")."""
    path = Path(path)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow([contract.ITEM_HEADER[0], contract.VALUE_HEADER[0]])
        w.writerows(_item_values(items, spec))
    return path


_write_items_csv = write_items_csv  # the name bench/run.py used first


def write_sample(out_dir: str | Path, seed: int = 2025, fmt: Literal["xlsx", "csv"] = "xlsx",
                 **generate_kwargs: Any) -> list[Path]:
    """Write the synthetic school as staff files, one folder per school year
    (``out_dir/2024-2025/``); returns the files written.

    xlsx: "DS_hoc_sinh_<year>.xlsx" (or "Danh sách học sinh năm học <year>.xlsx"),
    "So lieu truong <year>.xlsx" and "Phổ cập <year>.xlsx", with title rows and footers and the
    year's export style (:func:`file_style`).  csv: "hoc_sinh_<year>.csv",
    "so_lieu_truong_<year>.csv", "pho_cap_<year>.csv", header row first.  The in-progress year
    has no school-facts file."""
    out = Path(out_dir)
    sample = generate(seed=seed, **generate_kwargs)
    written: list[Path] = []
    for year, sy in sample.items():
        folder = out / year
        folder.mkdir(parents=True, exist_ok=True)
        if fmt == "csv":
            written.append(write_pupils_csv(sy.pupils, folder / f"hoc_sinh_{year}.csv"))
            if sy.school is not None:
                written.append(write_items_csv(sy.school, contract.SCHOOL_ITEMS,
                                                folder / f"so_lieu_truong_{year}.csv"))
            if sy.population is not None:
                written.append(write_items_csv(sy.population, contract.POPULATION_ITEMS,
                                                folder / f"pho_cap_{year}.csv"))
            continue
        if fmt != "xlsx":
            raise ValueError(f"fmt must be 'xlsx' or 'csv', not {fmt!r}")
        style = file_style(year)
        written.append(_write_pupil_xlsx(sy, folder / style.pupil_file.format(year=year)))
        if sy.school is not None:
            written.append(_write_items_xlsx(
                sy.school, contract.SCHOOL_ITEMS, f"SỐ LIỆU NHÀ TRƯỜNG NĂM HỌC {year}",
                "Số liệu", sy, folder / f"So lieu truong {year}.xlsx"))
        if sy.population is not None:
            written.append(_write_items_xlsx(
                sy.population, contract.POPULATION_ITEMS,
                f"SỐ LIỆU ĐIỀU TRA PHỔ CẬP GIÁO DỤC NĂM HỌC {year}", "Phổ cập", sy,
                folder / f"Phổ cập {year}.xlsx"))
    return written
