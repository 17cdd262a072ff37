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
