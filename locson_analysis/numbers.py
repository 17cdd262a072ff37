"""Vietnamese numbers, money and dates — the one place they are formatted.

Babel for ``vi_VN`` (never the operating system's locale): a decimal comma, a dot between
thousands, a space before ``%`` (``97,5 %``), dates as ``dd/mm/yyyy``.  Rounding is half-up, as
people round by hand (0,125 % → 0,13 %), not Babel's half-even — so a number in a sentence, in a
table and in an indicator's note always reads the same.  Every layer may use this module (it
depends on nothing of the package).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import pandas as pd
from babel import Locale
from babel.numbers import NumberPattern, parse_pattern

LOCALE = "vi_VN"
MISSING = "—"
#: What a user reads where a number cannot be computed (zero denominator, no file): the
#: note of an indicator, a table cell, a target's status.
NO_DATA = "Chưa có số liệu"


def is_missing(x: object) -> bool:
    """True for None, NaN, NaT and pandas NA."""
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _round_half_up(x: float | int | Decimal, digits: int) -> Decimal:
    d = x if isinstance(x, Decimal) else Decimal(repr(float(x)))
    return d.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


@functools.cache
def _pattern(digits: int, trim: bool = False) -> NumberPattern:
    """Babel's parsed pattern of ``digits`` decimals, parsed once (what ``format_decimal``
    does on every call: parse the locale and the pattern, then apply it)."""
    return parse_pattern("#,##0" + ("." + ("#" if trim else "0") * digits if digits > 0 else ""))


@functools.cache
def _locale() -> Locale:
    return Locale.parse(LOCALE)


def fmt_num(x: object, digits: int = 0, missing: str = MISSING, trim: bool = False) -> str:
    """A number in Vietnamese notation: ``1234`` → ``"1.234"``, ``2.5`` (digits=1) → ``"2,5"``.

    ``trim=True`` drops trailing zeros (``0.5`` with digits=2 → ``"0,5"``), for numbers in prose.
    """
    if is_missing(x):
        return missing
    try:
        d = _round_half_up(x if isinstance(x, Decimal) else float(x), digits)  # type: ignore[arg-type]
    except (TypeError, ValueError, InvalidOperation):
        return str(x)
    if d == 0:
        d = abs(d)  # no "-0"
    return _pattern(digits, trim).apply(d, _locale(), decimal_quantization=True)


def fmt_pct(x: object, digits: int = 1, missing: str = MISSING, trim: bool = False) -> str:
    """A fraction as a Vietnamese percentage: ``0.975`` → ``"97,5 %"``; NaN → ``"—"``."""
    if is_missing(x):
        return missing
    try:
        pct = Decimal(repr(float(x))) * 100  # type: ignore[arg-type]
    except (TypeError, ValueError, InvalidOperation):
        return str(x)
    return fmt_num(pct, digits, trim=trim) + " %"


#: A change smaller than this (in the unit shown: percentage points, pupils) is float noise,
#: read as no change; anything larger is a change and is never written "không đổi".
CHANGE_EPSILON = 1e-9
#: The most digits a change is widened to so that it does not round to zero.
MAX_CHANGE_DIGITS = 6


def _change_digits(x: Decimal, digits: int) -> tuple[Decimal, int]:
    """``x`` rounded half-up to ``digits`` decimals, or to as many more (up to
    MAX_CHANGE_DIGITS) as it takes not to round a real change to zero: 0,24 % → 0,25 % is
    "+0,01 điểm %", not "không đổi"."""
    rounded = _round_half_up(x, digits)
    while rounded == 0 and abs(x) >= CHANGE_EPSILON and digits < MAX_CHANGE_DIGITS:
        digits += 1
        rounded = _round_half_up(x, digits)
    return rounded, digits


def is_no_change(x: object) -> bool:
    """True when a change (in the unit shown) is zero up to float noise — the only case that
    is written "không đổi"."""
    return not is_missing(x) and abs(float(x)) < CHANGE_EPSILON  # type: ignore[arg-type]


def fmt_pp(x: object, digits: int = 1, missing: str = MISSING) -> str:
    """A change between two rates, in percentage points, signed: ``0.005`` → ``"+0,5 điểm %"``.

    Give the change of the unrounded rates: "không đổi" only when it is zero; a change too
    small for ``digits`` gets more digits (``0.0001`` → ``"+0,01 điểm %"``)."""
    if is_missing(x):
        return missing
    pct = Decimal(repr(float(x))) * 100  # type: ignore[arg-type]
    if abs(pct) < CHANGE_EPSILON:
        return "không đổi"
    rounded, digits = _change_digits(pct, digits)
    if rounded == 0:  # below MAX_CHANGE_DIGITS: say which way it went
        return ("+" if pct > 0 else "−") + "< " + fmt_num(Decimal(1).scaleb(-digits), digits) \
            + " điểm %"
    sign = "+" if rounded > 0 else "−"
    return f"{sign}{fmt_num(abs(rounded), digits)} điểm %"


def fmt_signed(x: object, digits: int = 0, missing: str = MISSING) -> str:
    """A signed change in a count: ``3`` → ``"+3"``, ``-2`` → ``"−2"``, ``0`` → ``"không đổi"``
    (only an exact zero; ``0.004`` with digits=2 → ``"+0,004"``)."""
    if is_missing(x):
        return missing
    d = Decimal(repr(float(x)))  # type: ignore[arg-type]
    if abs(d) < CHANGE_EPSILON:
        return "không đổi"
    rounded, digits = _change_digits(d, digits)
    if rounded == 0:
        return ("+" if d > 0 else "−") + "< " + fmt_num(Decimal(1).scaleb(-digits), digits)
    sign = "+" if rounded > 0 else "−"
    return f"{sign}{fmt_num(abs(rounded), digits)}"


def fmt_money(x: object, missing: str = MISSING) -> str:
    """An amount in đồng: ``1234000`` → ``"1.234.000 đ"``."""
    if is_missing(x):
        return missing
    return fmt_num(x, 0) + " đ"


def fmt_bool(x: object, missing: str = MISSING) -> str:
    """A yes/no fact (stored as 1.0/0.0 or bool) as ``"Có"`` / ``"Không"``."""
    if is_missing(x):
        return missing
    return "Có" if bool(float(x)) else "Không"  # type: ignore[arg-type]


def _as_timestamp(d: object) -> pd.Timestamp | None:
    if is_missing(d):
        return None
    try:
        ts = pd.Timestamp(d)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if pd.isna(ts) else ts


def fmt_date(d: object, missing: str = MISSING) -> str:
    """A date as ``dd/mm/yyyy`` (``2025-05-31`` → ``"31/05/2025"``)."""
    ts = _as_timestamp(d)
    return missing if ts is None else f"{ts.day:02d}/{ts.month:02d}/{ts.year:04d}"


def fmt_datetime(d: object, missing: str = MISSING) -> str:
    """A time as ``dd/mm/yyyy HH:MM`` (import times)."""
    ts = _as_timestamp(d)
    return missing if ts is None else f"{fmt_date(ts)} {ts.hour:02d}:{ts.minute:02d}"


def today() -> str:
    return fmt_date(dt.date.today())


#: Format names used by table helpers and the Excel writer.
FORMATTERS: dict[str, Callable[[object], str]] = {
    "pct": lambda x: fmt_pct(x, 1),
    "pct2": lambda x: fmt_pct(x, 2),
    "pp": lambda x: fmt_pp(x, 1),
    "pp2": lambda x: fmt_pp(x, 2),
    "num": lambda x: fmt_num(x, 0),
    "num1": lambda x: fmt_num(x, 1),
    "num2": lambda x: fmt_num(x, 2),
    "signed": lambda x: fmt_signed(x, 0),
    "money": fmt_money,
    "bool": fmt_bool,
    "date": fmt_date,
    "datetime": fmt_datetime,
    "text": lambda x: MISSING if is_missing(x) else str(x),
}


def fmt(x: object, kind: str) -> str:
    """Format ``x`` by a format name of :data:`FORMATTERS` (unknown names print as text)."""
    return FORMATTERS.get(kind, FORMATTERS["text"])(x)
