"""Small-cell suppression: hand-made tables and the indicators of a crafted school.

The planted case of issue 11: the only pupil in special circumstances drops out; a reader
of the equity rows (sex, ethnicity, grade, poverty, …) and the school total must not be able
to tell.
"""

from __future__ import annotations

from itertools import product

import numpy as np
import pandas as pd
import pytest

from locson_analysis import disclosure, indicators
from locson_analysis.disclosure import HIDDEN_MARK, suppress

from . import builders as b
from . import disclosure_reference

YEAR = "2024-2025"


def tidy(rows: list[tuple]) -> pd.DataFrame:
    """(indicator, dimension, group, numerator, denominator) → a tidy table of one year."""
    df = pd.DataFrame(rows, columns=["indicator", "dimension", "group", "numerator",
                                     "denominator"])
    df.insert(0, "school_year", YEAR)
    df.insert(0, "school_code", "LOCSON")
    df["value"] = np.where(df["denominator"].notna(), df["numerator"] / df["denominator"],
                           df["numerator"])
    df["note"] = ""
    return df


def hidden(res: disclosure.Suppressed) -> set[tuple[str, str, str]]:
    t = res.table[res.table["suppressed"]]
    return set(zip(t["indicator"], t["dimension"], t["group"], strict=True))


S = "special_circumstances"
YES, NO = "Hoàn cảnh đặc biệt", "Không có hoàn cảnh đặc biệt"


def test_a_single_pupil_group_and_its_sibling_are_hidden_the_school_row_is_not():
    t = tidy([("dropout_rate", "school", "Toàn trường", 7, 100),
              ("dropout_rate", S, YES, 1, 1),
              ("dropout_rate", S, NO, 6, 99)])
    res = suppress(t)
    assert hidden(res) == {("dropout_rate", S, YES), ("dropout_rate", S, NO)}
    school = res.table.iloc[0]
    assert (school["numerator"], school["denominator"]) == (7, 100)
    assert res.table.loc[1, ["value", "numerator", "denominator"]].isna().all()
    # the sibling's pupils (99 = 100 − 1) would give the single pupil away: hidden too
    assert res.table.loc[2, ["numerator", "denominator"]].isna().all()
    assert res.table["suppression"].tolist() == ["", "primary", "complementary"]
    assert "dưới 5 học sinh" in res.note and HIDDEN_MARK in res.note
    assert disclosure.disclosed(res.table) == []


def test_zero_events_in_a_big_group_is_shown_unless_it_gives_a_sibling_away():
    t = tidy([("dropout_rate", "school", "Toàn trường", 20, 800),
              ("dropout_rate", "poor", "Hộ nghèo", 0, 26),
              ("dropout_rate", "poor", "Không thuộc hộ nghèo", 20, 774)])
    assert suppress(t).hidden == 0 and suppress(t).note == ""
    t = tidy([("dropout_rate", "school", "Toàn trường", 2, 800),
              ("dropout_rate", "poor", "Hộ nghèo", 0, 26),
              ("dropout_rate", "poor", "Không thuộc hộ nghèo", 2, 774)])
    res = suppress(t)
    # 2 − 0 = 2: the zero must be hidden with the 2, and the pupils stay shown (26, 774)
    assert res.table["numerator"].iloc[1:].isna().all()
    assert res.table["denominator"].tolist() == [800, 26, 774]
    assert res.table["suppression"].tolist() == ["", "complementary", "primary"]


C9 = "completion_rate_grade9"
MIN, KINH = "Dân tộc thiểu số", "Kinh"


def _completion(school: tuple, nam: tuple, nu: tuple, dtts: tuple, kinh: tuple) -> list[tuple]:
    """Completion rows (numerator, denominator) of the school, by sex and by minority."""
    return [(C9, "school", "Toàn trường", *school), (C9, "sex", "Nam", *nam),
            (C9, "sex", "Nữ", *nu), (C9, "minority", MIN, *dtts),
            (C9, "minority", KINH, *kinh)]


def _readings(table: pd.DataFrame, dimension: str, group: str) -> set[int]:
    """Every numerator of ``group`` a reader finds consistent with the visible figures of the
    dimension (events 0 … pupils, the groups adding up to the school row), by enumeration."""
    school = table[table["dimension"] == "school"].iloc[0]
    rows = table[table["dimension"] == dimension]
    pupils = dict(zip(rows["group"], rows["denominator"], strict=True))
    assert not any(pd.isna(v) for v in pupils.values())  # the pupils stay shown
    shown = rows.dropna(subset=["numerator"])
    free = [g for g in rows["group"] if g not in set(shown["group"])]
    left = int(school["numerator"] - shown["numerator"].sum())
    out = set()
    for combo in product(*[range(int(pupils[g]) + 1) for g in free]):
        if sum(combo) == left:
            out |= {combo[free.index(group)]} if group in free else set()
    return out if group in free else {int(shown.set_index("group").at[group, "numerator"])}


def test_one_pupil_of_a_group_not_completing_is_hidden_like_one_completing():
    """25/26 says one minority pupil did not complete: the complement counts like events."""
    t = tidy(_completion((208, 211), (108, 109), (100, 102), (25, 26), (183, 185)))
    res = suppress(t)
    got = res.table
    # 26 − 25 = 1 (primary); its sibling Kinh (185 − 183 = 2) is primary too; sex alike
    assert got["numerator"].iloc[1:].isna().all()
    assert got["suppression"].tolist() == ["", "primary", "primary", "primary", "primary"]
    # only the counts go: the pupils per group stay, and so does the school row
    assert got["denominator"].tolist() == [211, 109, 102, 26, 185]
    assert (got.at[0, "numerator"], got.at[0, "value"]) == (208, 208 / 211)
    assert disclosure.disclosed(got) == [] and res.unprotected == []
    # by hand: the minority could have 23 … 26 completing (0 … 3 not), Nam 106 … 109
    assert _readings(got, "minority", MIN) == {23, 24, 25, 26}
    assert _readings(got, "sex", "Nam") == {106, 107, 108, 109}
    # the rate text shows neither the count nor the rate
    assert got.loc[3, "value"] != got.loc[3, "value"]  # NaN
    # without the rule it would have been shown (the test can fail)
    assert suppress(t, threshold=1).hidden == 0
    # the note says why a count of 25 is hidden
    assert "số học sinh còn lại của nhóm" in res.note and "dưới 5" in res.note


def test_a_complement_of_the_threshold_or_more_is_shown():
    t = tidy(_completion((200, 211), (104, 109), (96, 102), (20, 26), (180, 185)))
    res = suppress(t)
    assert res.hidden == 0 and res.note == ""
    assert res.table["numerator"].tolist() == [200, 104, 96, 20, 180]
    # the threshold counts the complement as it counts events: 26 − 20 = 6 < 7
    res7 = suppress(t, threshold=7)
    assert {g for _, d, g in hidden(res7) if d == "minority"} == {MIN, KINH}
    assert disclosure.disclosed(res7.table) == []


def test_every_pupil_of_a_group_completing_is_shown_unless_it_gives_a_sibling_away():
    """26/26 names no child, as 0 events do: shown, but hidden as a complementary cell."""
    t = tidy(_completion((206, 211), (104, 109), (102, 102), (26, 26), (180, 185)))
    res = suppress(t)
    assert res.hidden == 0
    t = tidy(_completion((208, 211), (103, 109), (105, 105), (26, 26), (182, 185)))
    res = suppress(t)
    got = res.table
    # Kinh: 185 − 182 = 3 (primary); 26/26 must go with it (211 − 208 − 0 = 3 again)
    assert got.loc[[3, 4], "numerator"].isna().all()
    assert got.loc[[3, 4], "suppression"].tolist() == ["complementary", "primary"]
    assert got.loc[[1, 2], "numerator"].tolist() == [103, 105]  # 6 and 0 not completing
    assert got["denominator"].tolist() == [211, 109, 105, 26, 185]
    assert disclosure.disclosed(got) == []
    assert _readings(got, "minority", MIN) == {23, 24, 25, 26}


def test_a_hidden_count_hides_what_its_population_leaves_in_another_indicator():
    """Promoted + repeating = the pupils at the end of the year: a shown promotion count gives
    the hidden repetition count of its group back, and the other way round."""
    rep = [("repetition_rate", "school", "Toàn trường", 31, 800)] + [
        ("repetition_rate", "grade", f"Khối {g}", n, 200)
        for g, n in zip((6, 7, 8, 9), (3, 6, 10, 12), strict=True)]
    pro = [("promotion_rate", "school", "Toàn trường", 769, 800)] + [
        ("promotion_rate", "grade", f"Khối {g}", 200 - n, 200)
        for g, n in zip((6, 7, 8, 9), (3, 6, 10, 12), strict=True)]
    res = suppress(tidy(rep + pro))
    got = hidden(res)
    # each alone would hide Khối 6 and its fewest-events sibling: Khối 7 (6 repeating) for
    # repetition, Khối 9 (188 promoted) for promotion; each then hides the other's twin
    assert got == {(ind, "grade", f"Khối {g}") for ind in ("repetition_rate", "promotion_rate")
                   for g in (6, 7, 9)}
    t = res.table
    assert t.loc[t["indicator"] == "promotion_rate", "suppression"].tolist() == [
        "", "primary", "complementary", "", "complementary"]
    assert disclosure.disclosed(t) == []
    # Khối 7 shown in promotion would give 200 − 194 = 6 repeating, then Khối 6 = 31 − 28 = 3
    assert t.loc[(t["indicator"] == "promotion_rate") & (t["group"] == "Khối 7"),
                 "numerator"].isna().all()


def test_one_small_grade_gets_one_complement_the_smallest_sibling():
    t = tidy([("dropout_rate", "school", "Toàn trường", 24, 800),
              ("dropout_rate", "grade", "Khối 6", 2, 200),
              ("dropout_rate", "grade", "Khối 7", 0, 190),
              ("dropout_rate", "grade", "Khối 8", 10, 210),
              ("dropout_rate", "grade", "Khối 9", 12, 200)])
    res = suppress(t)
    assert hidden(res) == {("dropout_rate", "grade", "Khối 6"),
                           ("dropout_rate", "grade", "Khối 7")}
    assert disclosure.disclosed(res.table) == []


def test_the_threshold_is_a_parameter():
    t = tidy([("dropout_rate", "school", "Toàn trường", 10, 800),
              ("dropout_rate", "sex", "Nam", 3, 400),
              ("dropout_rate", "sex", "Nữ", 7, 400)])
    assert suppress(t, threshold=3).hidden == 0
    assert suppress(t, threshold=5).hidden == 2
    assert suppress(t, threshold=8).hidden == 2
    assert "dưới 8 học sinh" in suppress(t, threshold=8).note
    with pytest.raises(ValueError):
        suppress(t, threshold=0)


def test_the_input_is_not_changed():
    t = tidy([("dropout_rate", "school", "Toàn trường", 3, 100),
              ("dropout_rate", S, YES, 1, 1), ("dropout_rate", S, NO, 2, 99)])
    before = t.copy()
    suppress(t)
    pd.testing.assert_frame_equal(t, before)


def test_a_hidden_dropout_hides_the_end_of_year_count_and_its_sibling():
    t = tidy([("enrolment_start", "school", "Toàn trường", 100, None),
              ("enrolment_start", "sex", "Nam", 50, None),
              ("enrolment_start", "sex", "Nữ", 50, None),
              ("enrolment_end", "school", "Toàn trường", 97, None),
              ("enrolment_end", "sex", "Nam", 49, None),
              ("enrolment_end", "sex", "Nữ", 48, None),
              ("dropout_rate", "school", "Toàn trường", 3, 100),
              ("dropout_rate", "sex", "Nam", 1, 50),
              ("dropout_rate", "sex", "Nữ", 2, 50),
              ("gender_parity_index_dropout_rate", "school", "Toàn trường", None, None)])
    t.loc[9, "value"] = 2.0
    res = suppress(t)
    got = hidden(res)
    # start − end = dropouts: the end counts go too; the start counts (50, 50) stay
    assert {("enrolment_end", "sex", "Nam"), ("enrolment_end", "sex", "Nữ")} <= got
    assert ("enrolment_start", "sex", "Nam") not in got
    # the parity index with the enrolment by sex would give the counts back
    assert ("gender_parity_index_dropout_rate", "school", "Toàn trường") in got


def test_ethnic_groups_inside_the_minority_row_are_protected_too():
    t = tidy([("dropout_rate", "school", "Toàn trường", 12, 800),
              ("dropout_rate", "minority", "Dân tộc thiểu số", 6, 117),
              ("dropout_rate", "minority", "Kinh", 6, 683),
              ("dropout_rate", "ethnicity", "Kinh", 6, 683),
              ("dropout_rate", "ethnicity", "K'Ho", 5, 56),
              ("dropout_rate", "ethnicity", "Mạ", 1, 26),
              ("dropout_rate", "ethnicity", "Dân tộc khác", 0, 35)])
    res = suppress(t)
    got = hidden(res)
    assert ("dropout_rate", "ethnicity", "Mạ") in got
    # Mạ = DTTS − K'Ho − khác: a second ethnic minority cell must be hidden as well
    assert len({g for i, d, g in got if d == "ethnicity" and g != "Kinh"}) >= 2
    assert disclosure.disclosed(res.table) == []


# --- the planted pupil, through the real indicators ---------------------------------------------

def _school(special_drops_out: bool) -> pd.DataFrame:
    """The indicators of :func:`builders.planted_school` (world A or B)."""
    return indicators.compute_all(b.dataset(b.planted_school(YEAR, special_drops_out)),
                                  school_year=YEAR)


EQUITY = ("school", "grade", "sex", "minority", "ethnicity", "poor", "near_poor", "disability",
          "special_circumstances")


def _visible(res: disclosure.Suppressed) -> pd.DataFrame:
    t = res.table[res.table["dimension"].isin(EQUITY)]
    return t[["indicator", "dimension", "group", "value", "numerator", "denominator",
              "suppressed"]].reset_index(drop=True)


def test_the_only_pupil_in_special_circumstances_who_drops_out_cannot_be_found():
    a, bb = _school(True), _school(False)
    sa, sb = suppress(a), suppress(bb)
    special = sa.table[(sa.table["dimension"] == S) & (sa.table["group"] == YES)]
    assert len(special) and special["suppressed"].all()
    assert special[["value", "numerator"]].isna().all().all()
    assert disclosure.disclosed(sa.table) == [] and disclosure.disclosed(sb.table) == []
    assert sa.unprotected == [] and sb.unprotected == []
    # the reader's view of the two worlds is the same: nothing tells whether X dropped out
    pd.testing.assert_frame_equal(_visible(sa), _visible(sb))
    # and without suppression the worlds differ exactly there (the test can fail)
    raw = a[(a["indicator"] == "dropout_rate") & (a["dimension"] == S) & (a["group"] == YES)]
    assert raw["numerator"].iloc[0] == 1
    # the school total stays: one dropout
    tot = sa.table[(sa.table["indicator"] == "dropout_rate")
                   & (sa.table["dimension"] == "school")]
    assert tot["numerator"].iloc[0] == 1


def test_every_equation_with_a_hidden_cell_has_two_hidden_cells():
    """The reader's simplest sum (school total − visible siblings) never isolates a cell."""
    res = suppress(_school(True))
    t = res.table[res.table["dimension"] != "school"]
    for (ind, dim), g in t.groupby(["indicator", "dimension"]):
        if len(g) == 1:  # one group is the whole school: it repeats the school row
            continue
        for field in ("numerator", "denominator"):
            n = int(g[f"hidden_{field}"].sum())
            assert n != 1, (ind, dim, field)


def test_shown_text_of_a_cell():
    assert disclosure.shown(0.5, True) == HIDDEN_MARK
    assert disclosure.shown(1234, False) == "1.234"


@pytest.fixture(scope="module")
def sample_table() -> pd.DataFrame:
    """The indicators of every year of the synthetic school (seed 2025)."""
    from locson_analysis import sample

    return indicators.compute_all(sample.to_dataset(sample.generate(seed=2025)))


def test_no_hidden_figure_of_the_sample_school_can_be_worked_out(sample_table):
    """Every year of the synthetic school (≈800 pupils): the reader's solver pins nothing."""
    table = sample_table
    res = suppress(table)
    assert res.hidden > 0
    assert res.unprotected == []
    assert disclosure.disclosed(res.table) == []
    # the school rows, which the targets judge, are all kept (a parity index is hidden only
    # when its sex cells are: it is built from them)
    school = res.table[(res.table["dimension"] == "school")
                       & ~res.table["indicator"].str.startswith(disclosure.PARITY_PREFIX)]
    assert not school["suppressed"].any()
    pd.testing.assert_series_equal(school["value"], table.loc[school.index, "value"],
                                   check_dtype=False)


# --- the same answers as the former, row-by-row implementation (tests/disclosure_reference) -----

def _same_as_reference(table: pd.DataFrame, threshold: int) -> disclosure.Suppressed:
    got, ref = suppress(table, threshold), disclosure_reference.suppress(table, threshold)
    pd.testing.assert_frame_equal(got.table, ref.table, check_exact=True)
    assert (got.threshold, got.note, got.hidden, got.unprotected) == (
        ref.threshold, ref.note, ref.hidden, ref.unprotected)
    assert disclosure.disclosed(got.table) == disclosure_reference.disclosed(ref.table)
    return got


def test_every_sample_year_is_suppressed_exactly_as_by_the_former_implementation(
        sample_table):
    years = sorted(sample_table["school_year"].unique())
    hidden_somewhere = 0
    for year in years:
        one = sample_table[sample_table["school_year"] == year]
        hidden_somewhere += _same_as_reference(one, 5).hidden > 0
        if year in (years[0], years[-1]):  # other thresholds hide other cells
            for k in (3, 10):
                _same_as_reference(one, k)
    assert hidden_somewhere == len(years)  # the comparison covers hidden cells every year


CRAFTED = [
    [("dropout_rate", "school", "Toàn trường", 7, 100), ("dropout_rate", S, YES, 1, 1),
     ("dropout_rate", S, NO, 6, 99)],
    [("dropout_rate", "school", "Toàn trường", 2, 800),
     ("dropout_rate", "poor", "Hộ nghèo", 0, 26),
     ("dropout_rate", "poor", "Không thuộc hộ nghèo", 2, 774)],
    [("dropout_rate", "school", "Toàn trường", 24, 800),
     ("dropout_rate", "grade", "Khối 6", 2, 200), ("dropout_rate", "grade", "Khối 7", 0, 190),
     ("dropout_rate", "grade", "Khối 8", 10, 210),
     ("dropout_rate", "grade", "Khối 9", 12, 200)],
    [("dropout_rate", "school", "Toàn trường", 12, 800),
     ("dropout_rate", "minority", "Dân tộc thiểu số", 6, 117),
     ("dropout_rate", "minority", "Kinh", 6, 683),
     ("dropout_rate", "ethnicity", "Kinh", 6, 683),
     ("dropout_rate", "ethnicity", "K'Ho", 5, 56), ("dropout_rate", "ethnicity", "Mạ", 1, 26),
     ("dropout_rate", "ethnicity", "Dân tộc khác", 0, 35)],
    [("enrolment_start", "school", "Toàn trường", 100, None),
     ("enrolment_start", "sex", "Nam", 50, None), ("enrolment_start", "sex", "Nữ", 50, None),
     ("enrolment_end", "school", "Toàn trường", 97, None),
     ("enrolment_end", "sex", "Nam", 49, None), ("enrolment_end", "sex", "Nữ", 48, None),
     ("dropout_rate", "school", "Toàn trường", 3, 100), ("dropout_rate", "sex", "Nam", 1, 50),
     ("dropout_rate", "sex", "Nữ", 2, 50)],
    _completion((208, 211), (108, 109), (100, 102), (25, 26), (183, 185)),
    _completion((208, 211), (103, 109), (105, 105), (26, 26), (182, 185)),
    [("repetition_rate", "school", "Toàn trường", 31, 800),
     *[("repetition_rate", "grade", f"Khối {g}", n, 200) for g, n in ((6, 3), (7, 6), (8, 10),
                                                                     (9, 12))],
     ("promotion_rate", "school", "Toàn trường", 769, 800),
     *[("promotion_rate", "grade", f"Khối {g}", 200 - n, 200) for g, n in ((6, 3), (7, 6),
                                                                          (8, 10), (9, 12))]],
]


@pytest.mark.parametrize("rows", CRAFTED)
@pytest.mark.parametrize("threshold", [3, 5, 8])
def test_crafted_tables_are_suppressed_exactly_as_by_the_former_implementation(rows,
                                                                                threshold):
    _same_as_reference(tidy(rows), threshold)


def test_the_planted_school_is_suppressed_exactly_as_by_the_former_implementation():
    for world in (True, False):
        assert _same_as_reference(_school(world), 5).hidden > 0
