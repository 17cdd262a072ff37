"""One formatter for every number a user reads: notes, tables and lists round alike."""

from locson_analysis.indicators.base import vn_number, vn_percent
from locson_analysis.numbers import fmt_num, fmt_pct


def test_prose_and_tables_round_half_up_alike() -> None:
    # 1 dropout of 800 pupils = 0.125 %: half-up gives 0,13 % everywhere (half-even gave 0,12).
    assert fmt_pct(1 / 800, 2) == "0,13 %"
    assert vn_percent(1 / 800, 2) == "0,13 %"


def test_trim_drops_trailing_zeros_for_prose() -> None:
    assert vn_percent(0.0006) == "0,06 %"
    assert vn_percent(0.975) == "97,5 %"
    assert fmt_pct(0.975, 2) == "97,50 %"
    assert vn_number(1234) == "1.234"
    assert vn_number(0.5) == "0,5"
    assert fmt_num(-0.0001, 2) == "0,00"


def test_a_change_is_never_called_unchanged_when_it_is_not() -> None:
    from locson_analysis.numbers import fmt_pp, fmt_signed, is_no_change

    # 0,24 % → 0,25 % (issue 11): 0.0025 − 0.0024 = 0.0001 = 0,01 point, not "không đổi"
    assert fmt_pp(0.0025 - 0.0024) == "+0,01 điểm %"
    assert fmt_pp(0.0024 - 0.0025) == "−0,01 điểm %"
    # 2/812 → 2/813 (unrounded): −0,000303 points; widened to the first digit that shows it
    assert fmt_pp(2 / 813 - 2 / 812) == "−0,0003 điểm %"
    assert fmt_pp(0.005) == "+0,5 điểm %" and fmt_pp(0.0) == "không đổi"
    assert fmt_pp(0.3 - 0.1 - 0.2) == "không đổi"  # float noise (−2,8e-17) is no change
    assert fmt_pp(1e-10) == "+< 0,000001 điểm %"
    assert fmt_signed(0.004, 2) == "+0,004" and fmt_signed(0) == "không đổi"
    assert is_no_change(0.0) and not is_no_change(0.0001)


def test_fmt_num_writes_what_babel_format_decimal_writes() -> None:
    """fmt_num applies babel's parsed pattern directly (parsed once); the text is exactly
    babel.numbers.format_decimal's for the vi_VN locale, for any number and digits."""
    from decimal import Decimal

    from babel.numbers import format_decimal
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from locson_analysis.numbers import _round_half_up

    @settings(max_examples=400, deadline=None)
    @given(st.one_of(st.floats(-1e9, 1e9, allow_nan=False), st.integers(-10**9, 10**9),
                     st.decimals(-10**6, 10**6, allow_nan=False, allow_infinity=False,
                                 places=6)),
           st.integers(0, 4), st.booleans())
    def check(x: object, digits: int, trim: bool) -> None:
        d = _round_half_up(x if isinstance(x, Decimal) else float(x), digits)
        d = abs(d) if d == 0 else d
        pattern = "#,##0" + ("." + ("#" if trim else "0") * digits if digits > 0 else "")
        assert fmt_num(x, digits, trim=trim) == format_decimal(
            d, pattern, locale="vi_VN", decimal_quantization=True)

    check()
    assert fmt_num(1234567.891, 2) == "1.234.567,89"
