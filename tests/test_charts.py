"""The trend chart's labels (report/charts.py): drawn, then measured with the renderer.

No label's box overlaps another label, a point's marker, the line through the points or a
target's dashed line; every target is labelled on the chart or, when there is no room, in the
legend.  The series are the sample school's completion and dropout trends (where the target
label used to sit on «96,9 %») and crafted worst cases.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402

from locson_analysis.report import charts as C  # noqa: E402

NAN = float("nan")
OUTSIDE = "Ngoài thời kỳ của kế hoạch"
SAMPLE_YEARS = ["2019-2020", "2020-2021", "2021-2022", "2022-2023", "2023-2024", "2024-2025",
                "2025-2026"]


def _series(values: list[float], thresholds: list[float], labels: list[str | None],
            phases: list[str], years: list[str] | None = None) -> pd.DataFrame:
    years = years or [f"{2000 + i}-{2001 + i}" for i in range(len(values))]
    return pd.DataFrame({"school_year": years, "value": values, "threshold": thresholds,
                         "target_label": labels, "phase": phases})


SERIES = {
    # the sample school's completion trend (make report): «Mục tiêu ≥ 97,5 % (2022–2025)»
    # sat on the point label «96,9 %» of 2022-2023
    "sample_completion": (_series(
        [0.9692307692307692, 0.9742268041237113, 0.9796954314720813, 0.9692307692307692,
         0.9849246231155779, 0.984375, 0.985781990521327],
        [NAN, NAN, NAN, 0.975, 0.975, 0.975, 0.998],
        [None] * 3 + ["Mục tiêu ≥ 97,5 %"] * 3 + ["Mục tiêu ≥ 99,8 %"],
        [OUTSIDE] * 3 + ["2022-2025"] * 3 + ["2025-2030"], SAMPLE_YEARS), True, 1),
    "sample_dropout": (_series(
        [0.0101, 0.0089, 0.0063, 0.0025, 0.0025, 0.00125, 0.00124],
        [NAN, NAN, NAN, 0.0006, 0.0006, 0.0006, 0.0003],
        [None] * 3 + ["Mục tiêu < 0,06 %"] * 3 + ["Mục tiêu < 0,03 %"],
        [OUTSIDE] * 3 + ["2022-2025"] * 3 + ["2025-2030"], SAMPLE_YEARS), True, 2),
    # the sample's intake: target at 100 %, the line dipping twice below it
    "sample_intake": (_series(
        [1.0, 0.9950738916256158, 1.0, 1.0, 0.995, 1.0, 1.0],
        [NAN, NAN, NAN, 1.0, 1.0, 1.0, 1.0],
        [None] * 3 + ["Mục tiêu ≥ 100,0 %"] * 4,
        [OUTSIDE] * 3 + ["2022-2025"] * 3 + ["2025-2030"], SAMPLE_YEARS), True, 1),
    # every point on its target line: the labels have to leave the line
    "on_the_line": (_series(
        [0.975] * 3 + [0.998] * 5, [0.975] * 3 + [0.998] * 5,
        ["Mục tiêu ≥ 97,5 %"] * 3 + ["Mục tiêu ≥ 99,8 %"] * 5,
        ["2022-2025"] * 3 + ["2025-2030"] * 5), True, 1),
    # a zig-zag across the target, ten years, a one-year phase in the middle
    "zigzag": (_series(
        [0.96, 0.99, 0.96, 0.99, 0.96, 0.99, 0.96, 0.99, 0.96, 0.99],
        [0.975] * 4 + [0.98] + [0.975] * 5,
        ["Mục tiêu ≥ 97,5 %"] * 4 + ["Mục tiêu ≥ 98,0 %"] + ["Mục tiêu ≥ 97,5 %"] * 5,
        ["2020-2022"] * 4 + ["2024"] + ["2025-2030"] * 5), True, 1),
    # one year only, the value just under the target
    "one_year": (_series([0.974], [0.975], ["Mục tiêu ≥ 97,5 %"], ["2022-2025"]), True, 1),
    # counts, with a missing year and targets close together
    "counts": (_series([12, 14, NAN, 15, 15], [13, 13, 14, 14, 15],
                       ["Mục tiêu ≥ 13"] * 2 + ["Mục tiêu ≥ 14"] * 2 + ["Mục tiêu ≥ 15"],
                       ["2022-2025"] * 2 + ["2025-2027"] * 2 + ["2027-2030"]), False, 0),
}


def _draw(series: pd.DataFrame, percent: bool, digits: int):
    C.set_theme()
    fig, ax = plt.subplots()
    sns.lineplot(x=range(len(series)), y=series["value"], marker="o", markersize=7,
                 linewidth=2, color=C.LINE_COLOUR, label="Kết quả", ax=ax)
    C.trend_look(ax, series, title="Biểu đồ thử", percent=percent, digits=digits,
                 alt_text="Biểu đồ thử")
    fig.canvas.draw()
    return fig, ax


@pytest.mark.parametrize("name", list(SERIES))
def test_no_label_overlaps_a_label_a_marker_or_a_line(name: str) -> None:
    series, percent, digits = SERIES[name]
    fig, ax = _draw(series, percent, digits)
    renderer = fig.canvas.get_renderer()
    texts = [t for t in ax.texts if t.get_visible()]
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    assert not [(a, b) for i, (a, ba) in enumerate(boxes) for b, bb in boxes[i + 1:]
                if ba.overlaps(bb)]
    area = ax.get_window_extent(renderer)
    assert all(area.x0 <= b.x0 and b.x1 <= area.x1 and area.y0 <= b.y0 and b.y1 <= area.y1
               for _, b in boxes)
    # the markers: seaborn's points as drawn (7 pt wide), not the helper's own estimate
    xs = list(range(len(series)))
    ys = [float(v) for v in series["value"]]
    radius = 3.5 * fig.dpi / 72
    points = [ax.transData.transform((x, y)) for x, y in zip(xs, ys, strict=True)
              if not math.isnan(y)]
    for text, box in boxes:
        assert not [p for p in points if box.x0 - radius < p[0] < box.x1 + radius
                    and box.y0 - radius < p[1] < box.y1 + radius], (text, "marker")
    # the lines: the data line as seaborn drew it, and each dashed target segment
    lines = [MplPath(ax.transData.transform(line.get_xydata()))
             for line in ax.lines if len(line.get_xydata()) > 1]
    lines += [MplPath(seg) for coll in ax.collections if hasattr(coll, "get_segments")
              for seg in (ax.transData.transform(s) for s in coll.get_segments())]
    assert len(lines) >= (2 if len(series) > 1 else 1)
    for text, box in boxes:
        assert not [p for p in lines if p.intersects_bbox(box, filled=False)], (text, "line")
    # every phase's target is labelled: on the chart or in the legend
    shown = {t for t, _ in boxes} | {t.get_text() for t in ax.get_legend().get_texts()}
    for label in {x for x in C.target_text(series) if x}:
        assert label in shown
    plt.close(fig)


def test_the_sample_completion_chart_labels_everything_on_the_chart() -> None:
    """The exact series of the report: every point's value and both targets on the chart."""
    series, percent, digits = SERIES["sample_completion"]
    fig, ax = _draw(series, percent, digits)
    shown = [t.get_text() for t in ax.texts if t.get_visible()]
    assert shown.count("96,9 %") == 2
    assert {"97,4 %", "98,0 %", "98,5 %", "98,4 %", "98,6 %"} <= set(shown)
    assert "Mục tiêu ≥ 97,5 % (2022–2025)" in shown
    assert "Mục tiêu ≥ 99,8 % (2025–2030)" in shown
    plt.close(fig)


def test_a_target_label_with_no_room_goes_to_the_legend() -> None:
    """A chart too small for any label on it: the targets are named in the legend."""
    series, percent, digits = SERIES["zigzag"]
    C.set_theme()
    fig, ax = plt.subplots(figsize=(2.2, 1.2))
    sns.lineplot(x=range(len(series)), y=series["value"], marker="o", ax=ax)
    C.trend_look(ax, series, title="Nhỏ", alt_text="Nhỏ")
    fig.canvas.draw()
    on_chart = {t.get_text() for t in ax.texts if t.get_visible()}
    legend = {t.get_text() for t in ax.get_legend().get_texts()}
    for label in {x for x in C.target_text(series) if x}:
        assert label in legend and label not in on_chart
    plt.close(fig)


def test_targets_all_named_in_the_legend_replace_the_generic_entry() -> None:
    """The sample's intake chart: no room on the chart for either target (100 % at the top,
    the line crossing below), so both are named in the legend, without a third generic
    «Mục tiêu của kế hoạch» entry."""
    series, percent, digits = SERIES["sample_intake"]
    fig, ax = _draw(series, percent, digits)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Kết quả", "Mục tiêu ≥ 100,0 % (2022–2025)",
                      "Mục tiêu ≥ 100,0 % (2025–2030)"]
    plt.close(fig)


# --- rate axes: never below 0 %, no tick past 100 % ----------------------------------------------

def _tick_labels(ax, axis: str = "y") -> list[str]:
    ax.figure.canvas.draw()
    ticks = ax.get_yticklabels() if axis == "y" else ax.get_xticklabels()
    return [t.get_text() for t in ticks if t.get_text()]


def test_a_rate_axis_does_not_go_below_zero() -> None:
    """One school at 0 % (matplotlib's own range around a single value reaches −4 %): the
    axis starts at 0 %, no tick below it; the same on a y axis (every chart of the package
    uses percent_axis)."""
    C.set_theme()
    fig, ax = plt.subplots()
    sns.scatterplot(x=[0.0], y=[0], ax=ax)
    assert ax.get_xlim()[0] < 0  # (what the dot plot showed: «-4 %, -2 %»)
    C.percent_axis(ax, axis="x")
    assert ax.get_xlim()[0] == 0
    labels = _tick_labels(ax, "x")
    assert labels[0] == "0 %" and not any(t.startswith(("-", "−")) for t in labels), labels
    fig2, ax2 = plt.subplots()
    ax2.plot([0, 1], [0.001, 0.003])
    ax2.set_ylim(-0.002, 0.004)
    C.percent_axis(ax2)
    assert ax2.get_ylim() == (0.0, 0.004)
    assert all(tick >= 0 for tick in ax2.get_yticks())
    plt.close(fig)
    plt.close(fig2)


def test_no_grid_line_past_100_percent() -> None:
    C.set_theme()
    fig, ax = plt.subplots()
    ax.set_xlim(0.94, 1.06)
    C.percent_axis(ax, axis="x")
    assert max(ax.get_xticks()) == pytest.approx(1.0)  # no unlabelled tick (grid line) past
    assert _tick_labels(ax, "x")[-1] == "100 %"
    plt.close(fig)


@pytest.mark.parametrize(("values", "expected"), [
    ([1.0, 1.0, 1.0], (0.9895, 1.0005)),  # all at 100 %: one point wide (and 5 % of it)
    ([0.95, 0.975, 1.0], (0.9475, 1.0025)),  # 5 points of span, 5 % of it beside
    ([0.0, 0.0003], (0.0, 0.000525)),  # dropout: from zero, at least 0,05 % wide
    ([0.0026, 0.0006, NAN], (0.0, 0.00273)),
    ([NAN], (0.0, 1.0)),
])
def test_rate_range_starts_at_0_percent_at_the_lowest(values: list[float],
                                                    expected: tuple[float, float]) -> None:
    assert C.rate_range(values) == pytest.approx(expected)
