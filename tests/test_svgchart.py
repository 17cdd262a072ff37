"""The report's SVG line charts: axes, coordinates, labels, escaping, odd series."""

from __future__ import annotations

import itertools
import math
import random
import re

import pytest

from locson_analysis import svgchart as S

NAN = float("nan")
TOP = 10 + S.TITLE_SIZE * 1.5  # the plot's top edge in the drawing
BOTTOM = TOP + S.PLOT_HEIGHT


def _circles(svg: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)"',
                                                         svg)]


def _texts(svg: str) -> list[str]:
    return re.findall(r">([^<>]+)</text>", svg)


def _data_circles(svg: str) -> list[tuple[float, float]]:
    """The markers on the line (the legend's marker is the last circle)."""
    return _circles(svg)[:-1]


# --------------------------------------------------------------------------------------------
# Axes
# --------------------------------------------------------------------------------------------

def test_rate_axis_from_zero_for_small_rates() -> None:
    axis = S.y_axis([0.01, 0.02], "pct")
    assert axis.lo == 0 and axis.hi == pytest.approx(0.026)
    # 2,6 points of span: steps of 0,5 % (at most 8 ticks), one decimal
    assert [t for _, t in axis.ticks] == ["0,0 %", "0,5 %", "1,0 %", "1,5 %", "2,0 %", "2,5 %"]


def test_rate_axis_near_100_percent_leaves_ticks_above_100_unlabelled() -> None:
    axis = S.y_axis([1.0, 0.991, NAN, 1.0], "pct")
    # the band from 99,1 % − 0,8 × 0,9 points to 100 % + 0,3 × 0,9 points: 1,89 points, so
    # steps of 0,5 % (0,2 % would give more than 8 ticks), one decimal
    assert axis.lo == pytest.approx(0.9838) and axis.hi == pytest.approx(1.0027)
    labels = [t for _, t in axis.ticks]
    assert labels == ["98,5 %", "99,0 %", "99,5 %", "100,0 %"]


def test_count_axis_from_zero_with_thousands_dot() -> None:
    axis = S.y_axis([1000, 1234], "count")
    assert axis.lo == 0 and axis.hi == pytest.approx(1542.5)
    assert [t for _, t in axis.ticks] == ["0", "500", "1.000", "1.500"]
    assert [t for _, t in S.y_axis([40, 42], "count").ticks] == ["0", "10", "20", "30", "40",
                                                                  "50"]


@pytest.mark.parametrize(("values", "unit", "lo", "hi"), [
    ([0.0, 0.0, 0.0], "pct", 0.0, 0.001),
    ([1.0, 1.0], "pct", 0.996, 1.0015),
    ([0, 0], "count", 0.0, 1.0),
    ([NAN, NAN], "pct", 0.0, 1.3),
])
def test_all_equal_or_missing_values_still_give_a_range(values: list[float], unit: str,
                                                        lo: float, hi: float) -> None:
    axis = S.y_axis(values, unit)
    assert axis.lo == pytest.approx(lo) and axis.hi == pytest.approx(hi)
    assert axis.hi > axis.lo and axis.ticks


def test_runs_of_the_same_target() -> None:
    assert S.runs([NAN, 0.0006, 0.0006, 0.0006, 0.0003]) == [(1, 3, 0.0006), (4, 4, 0.0003)]
    assert S.runs([NAN, NAN]) == []


# --------------------------------------------------------------------------------------------
# The chart
# --------------------------------------------------------------------------------------------

def test_points_are_where_the_values_are() -> None:
    svg = S.line_chart(["2023-2024", "2024-2025"], [0.01, 0.02], "Tỷ lệ", alt="x" * 40)
    (x0, y0), (x1, y1) = _data_circles(svg)
    # y: 0 % … 2,6 % over the plot's height, from the top
    assert y0 == pytest.approx(TOP + (0.026 - 0.01) / 0.026 * S.PLOT_HEIGHT, abs=0.06)
    assert y1 == pytest.approx(TOP + (0.026 - 0.02) / 0.026 * S.PLOT_HEIGHT, abs=0.06)
    # x: two years over x from −0,6 to 1,6, so the points are half the plot's width apart
    left = float(re.search(r'<path d="M([\d.]+) ', svg).group(1))
    right = S.WIDTH - 12
    assert x1 - x0 == pytest.approx((right - left) / 2, abs=0.1)
    assert x0 == pytest.approx(left + 0.3 * (right - left), abs=0.1)
    texts = _texts(svg)
    assert "1,0 %" in texts and "2,0 %" in texts  # point labels, Vietnamese notation
    assert "Tỷ lệ" in texts and "Kết quả" in texts
    assert svg.count("<path") == 3  # the grid, the axes and one line


def test_point_labels_use_half_up_vietnamese_rounding() -> None:
    svg = S.line_chart(["a", "b"], [0.00125, 0.0006], "Bỏ học", alt="x", value_digits=2)
    assert "0,13 %" in _texts(svg) and "0,06 %" in _texts(svg)
    counts = S.line_chart(["a", "b"], [1234, 1500], "Số", alt="x", unit="count")
    assert "1.234" in _texts(counts) and "1.500" in _texts(counts)


def test_text_is_escaped_and_the_chart_is_accessible() -> None:
    alt = 'Biểu đồ đường: tỷ lệ <b>"bỏ học"</b> & mục tiêu'
    svg = S.line_chart(["2023-2024", "2024-2025"], [0.01, 0.02], 'A <script> & "B"', alt=alt,
                       thresholds=[0.015, 0.015], threshold_labels=["Mục tiêu < 1,5 %"] * 2,
                       target_label="Mục tiêu: < 1,5 % <x>")
    assert "<script>" not in svg and "<b>" not in svg and "<x>" not in svg
    escaped = "Biểu đồ đường: tỷ lệ &lt;b&gt;&quot;bỏ học&quot;&lt;/b&gt; &amp; mục tiêu"
    opening = svg[svg.index("<svg"):svg.index(">", svg.index("<svg")) + 1]
    assert 'role="img"' in opening and f'aria-label="{escaped}"' in opening
    assert f"<desc>{escaped}</desc>" in svg
    assert "<title>A &lt;script&gt; &amp; &quot;B&quot;</title>" in svg
    assert "Mục tiêu: &lt; 1,5 % &lt;x&gt;" in svg  # the legend
    assert "Mục tiêu &lt; 1,5 %" in svg  # the label on the dashed line
    assert 'stroke-dasharray="8 3.5"' in svg


def test_missing_years_are_skipped_and_break_the_line() -> None:
    svg = S.line_chart(["a", "b", "c", "d"], [0.01, 0.015, NAN, 0.02], "x", alt="x")
    assert len(_data_circles(svg)) == 3
    lines = re.findall(r'<path d="(M[^"]+)" fill="none" stroke="#1565c0"', svg)
    assert len(lines) == 1 and lines[0].count("L") == 1  # a–b; c missing; d alone
    assert "—" not in _texts(svg)
    isolated = S.line_chart(["a", "b", "c"], [0.01, None, 0.02], "x", alt="x")
    assert len(_data_circles(isolated)) == 2
    assert not re.findall(r'stroke="#1565c0" stroke-width="2.5" stroke-linejoin', isolated)


def test_one_point_only() -> None:
    svg = S.line_chart(["2024-2025"], [0.5], "x", alt="x")
    assert len(_data_circles(svg)) == 1 and "50,0 %" in _texts(svg)
    assert "stroke-linejoin" not in svg  # no line to draw


def test_all_equal_values() -> None:
    svg = S.line_chart(["a", "b", "c"], [0.0, 0.0, 0.0], "x", alt="x")
    ys = {y for _, y in _data_circles(svg)}
    assert ys == {BOTTOM}  # 0 % sits on the axis
    assert _texts(svg).count("0,0 %") == 3  # every point labelled
    assert "0,00 %" in _texts(svg) and "0,10 %" in _texts(svg)  # axis 0 … 0,1 %


def test_long_school_year_lists_split_the_year_labels() -> None:
    years = [f"{y}-{y + 1}" for y in range(2018, 2026)]
    svg = S.line_chart(years, [0.01] * 8, "x", alt="x")
    assert '>2018-</tspan><tspan x="' in svg
    short = S.line_chart(years[:3], [0.01] * 3, "x", alt="x")
    assert ">2018-2019</tspan>" in short


# --------------------------------------------------------------------------------------------
# Labels never overlap
# --------------------------------------------------------------------------------------------

def _check(labels: list[S.Label], points: list[tuple[float, float, str]], area: S.Box) -> None:
    for a, b in itertools.combinations(labels, 2):
        assert not S._overlap(a.box, b.box, 0), (a, b)
    for lab in labels:
        box = lab.box
        assert area[0] <= box[0] and box[2] <= area[2] and area[1] <= box[1] and box[3] <= area[3]
        for x, y, _ in points:
            marker = (x - S.MARKER_RADIUS, y - S.MARKER_RADIUS, x + S.MARKER_RADIUS,
                      y + S.MARKER_RADIUS)
            assert not S._overlap(box, marker, 0), (lab, x, y)


def test_a_value_equal_to_the_target_does_not_hide_the_target_label() -> None:
    """The intake chart's old defect: 100,0 % at the start of a 100,0 % target stretch."""
    points = [(100.0, 60.0, "100,0 %"), (200.0, 60.0, "100,0 %"), (300.0, 120.0, "99,1 %")]
    run = S.TargetRun(160.0, 340.0, 60.0, "Mục tiêu ≥ 100,0 %")
    area = (20.0, 30.0, 360.0, 200.0)
    labels = S.layout(points, [run], area)
    _check(labels, points, area)
    assert sorted(lab.text for lab in labels) == sorted(
        ["100,0 %", "100,0 %", "99,1 %", "Mục tiêu ≥ 100,0 %"])


def test_the_intake_chart_labels_everything_without_overlap() -> None:
    years = [f"{y}-{y + 1}" for y in range(2019, 2026)]
    values = [1.0, 1.0, 0.991, 1.0, 0.9906, 0.995, 0.9906]
    svg = S.line_chart(years, values, "Tỷ lệ huy động trẻ 11 tuổi vào lớp 6", alt="x",
                       thresholds=[NAN, NAN, NAN, 1.0, 1.0, 1.0, 1.0],
                       threshold_labels=[None, None, None] + ["Mục tiêu ≥ 100,0 %"] * 4)
    texts = _texts(svg)
    # three points at 100,0 % (plus the axis tick "100,0 %"), three at 99,1 %
    assert texts.count("100,0 %") == 3 + 1 and texts.count("99,1 %") == 3
    assert "Mục tiêu ≥ 100,0 %" in texts


def test_random_charts_never_overlap() -> None:
    rng = random.Random(7)
    area = (40.0, 30.0, 690.0, 220.0)
    for _ in range(60):
        n = rng.randint(1, 9)
        xs = [area[0] + (i + 0.6) / n * (area[2] - area[0]) for i in range(n)]
        level = rng.uniform(area[1], area[3])
        points = [(x, min(area[3], max(area[1], level + rng.uniform(-40, 40))),
                   f"{rng.uniform(90, 100):.1f} %".replace(".", ",")) for x in xs]
        runs = []
        if n > 1:
            cut = rng.randint(0, n - 1)
            y = rng.choice([p[1] for p in points])
            runs.append(S.TargetRun(xs[cut] - 20, xs[-1] + 20, y, "Mục tiêu ≥ 97,5 %"))
        labels = S.layout(points, runs, area)
        _check(labels, points, area)
        assert not math.isnan(sum(lab.x for lab in labels))
