"""The one chart helper: seaborn on matplotlib, with the look of every chart of the workbook.

The notebooks draw with seaborn in their own cells; this module only gives the shared look:

* :func:`set_theme` — seaborn's "whitegrid" theme with DejaVu Sans (every Vietnamese letter),
  sizes readable on A4, and figures shown as sharp PNG (:data:`DPI`) carrying their alt text, so
  that a chart reaches the exported HTML exactly as JupyterLab shows it (``plt.show()``, a figure
  or axes left as the cell's last expression, ``display(fig)``).
* :func:`percent_axis`, :func:`count_axis` — Vietnamese numbers (``97,5 %``, ``1.234``) on 1-2-5
  ticks; a rate axis never below 0 %, no tick past 100 % (:func:`rate_range`: a dot plot's
  range).
* :func:`target_lines` — the plan's target of each phase as a dashed red line, each labelled.
* :func:`label_points` — each point's value in Vietnamese, labels never overlapping.
* :func:`alt` — the text read out in place of the chart (every chart has one: without it, the
  chart's titles are used).
* :func:`trend_look` — all of the above for a report trend chart (one indicator by school year).
"""

from __future__ import annotations

import base64
import io
import math
import warnings
from collections.abc import Sequence

import pandas as pd

from ..numbers import fmt_num, fmt_pct, is_missing

FONT = "DejaVu Sans"
LINE_COLOUR = "#1565c0"
TARGET_COLOUR = "#c62828"
#: Figure width that fits A4 portrait between 15 mm margins (180 mm ≈ 7.1 in).
A4_WIDTH_IN = 7.0
#: Resolution of the PNG images in the notebook and the report (sharp on paper).
DPI = 150
#: Width in CSS pixels of one inch of figure on screen.
SCREEN_DPI = 96
ALT_ATTR = "locson_alt"

RC: dict[str, object] = {
    "font.family": "sans-serif", "font.sans-serif": [FONT, "Noto Sans", "Arial"],
    "figure.figsize": (A4_WIDTH_IN, 3.3),
    "axes.titlesize": 12, "axes.titleweight": "bold", "axes.labelsize": 10,
    "xtick.labelsize": 9, "ytick.labelsize": 9, "legend.fontsize": 9,
    "axes.spines.top": False, "axes.spines.right": False,
    "axes.formatter.use_locale": False, "savefig.dpi": DPI,
    # figures are made at the resolution they are shown at: drawn once (see figure_png)
    "figure.dpi": DPI,
}


# --------------------------------------------------------------------------------------------
# Theme and display
# --------------------------------------------------------------------------------------------

def set_theme() -> None:
    """seaborn's theme for every chart; in a notebook, figures are shown as PNG with alt text."""
    import matplotlib.pyplot as plt  # noqa: F401 - activates the notebook's inline backend first
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook", font=FONT, rc=RC)
    warnings.filterwarnings("ignore", message="Glyph .* missing from")
    _register_png()


def _register_png() -> None:
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    from matplotlib.figure import Figure

    if hasattr(shell, "kernel"):  # a Jupyter kernel: pick the inline backend now, so that its
        shell.run_line_magic("matplotlib", "inline")  # set-up does not replace ours later
    formatters = shell.display_formatter.formatters
    for mime in ("image/svg+xml", "image/jpeg", "application/pdf", "image/png"):
        if mime in formatters:
            formatters[mime].pop(Figure, None)
    formatters["image/png"].for_type(Figure, figure_png)


def alt(fig_or_ax, text: str) -> None:
    """Attach the alt text (read out in place of the chart) to a figure or to an axes' figure."""
    fig = getattr(fig_or_ax, "figure", fig_or_ax)
    setattr(fig, ALT_ATTR, " ".join(str(text).split()))


def alt_of(fig) -> str:
    """The figure's alt text: the one attached by :func:`alt`, else built from its titles."""
    text = getattr(fig, ALT_ATTR, None)
    if text:
        return text
    titles = [t for t in ([fig._suptitle.get_text()] if getattr(fig, "_suptitle", None) else [])
              + [ax.get_title() or ax.get_title(loc="left") for ax in fig.axes] if t]
    return "Biểu đồ" + (": " + "; ".join(titles) if titles else "")


def figure_png(fig) -> tuple[str, dict]:
    """A figure as base64 PNG at :data:`DPI` with its metadata (alt text, size on screen):
    IPython's PNG formatter for figures once :func:`set_theme` has run.

    The image is what ``savefig(dpi=DPI, bbox_inches="tight", facecolor="white")`` gives.  A
    figure made after :func:`set_theme` (already at :data:`DPI`, on matplotlib's Agg canvas) is
    drawn once and cut to its tight bounding box: savefig would draw it twice (once to find
    that box), and the text of a chart is most of its drawing time."""
    data = _png_drawn_once(fig)
    if data is None:
        buf = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fig.canvas.print_figure(buf, format="png", dpi=DPI, bbox_inches="tight",
                                    facecolor="white")
        data = buf.getvalue()
    width = int.from_bytes(data[16:20], "big")  # the PNG header's IHDR
    return (base64.b64encode(data).decode("ascii"),
            {"alt": alt_of(fig), "width": round(width * SCREEN_DPI / DPI)})


def _png_drawn_once(fig) -> bytes | None:
    """The figure drawn once on its own Agg canvas and cut to its tight bounding box padded by
    ``savefig.pad_inches``, as PNG; None (use savefig) when the figure is at another
    resolution, on another canvas, or reaches outside its area (savefig widens the image)."""
    import matplotlib as mpl
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.image import imsave

    pad = mpl.rcParams["savefig.pad_inches"]
    canvas = fig.canvas
    if fig.dpi != DPI or not isinstance(canvas, FigureCanvasAgg) or \
            getattr(canvas, "device_pixel_ratio", 1) != 1 or not isinstance(pad, int | float):
        return None
    face = fig.get_facecolor()
    fig.set_facecolor("white")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            canvas.draw()
            tight = fig.get_tightbbox(canvas.get_renderer())
        page = fig.bbox_inches
        slack = 1.0 / DPI  # one pixel
        if tight is None or tight.x0 < page.x0 - slack or tight.y0 < page.y0 - slack or \
                tight.x1 > page.x1 + slack or tight.y1 > page.y1 + slack:
            return None
        pixels = np.asarray(canvas.buffer_rgba())
        height, width = pixels.shape[0], pixels.shape[1]
        box = tight.padded(float(pad))
        left, right = max(0, math.floor(box.x0 * DPI)), min(width, math.ceil(box.x1 * DPI))
        top = max(0, math.floor(height - box.y1 * DPI))
        bottom = min(height, math.ceil(height - box.y0 * DPI))
        buf = io.BytesIO()
        imsave(buf, pixels[top:bottom, left:right], format="png", dpi=DPI)
        return buf.getvalue()
    finally:
        fig.set_facecolor(face)


# --------------------------------------------------------------------------------------------
# Axes
# --------------------------------------------------------------------------------------------

def _ticks(nbins: int = 6, integer: bool = False):
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(nbins=nbins, steps=[1, 2, 5, 10], integer=integer)


def _decimals(step: float) -> int:
    text = f"{step * 100:.4f}".rstrip("0").rstrip(".")
    return len(text.split(".")[1]) if "." in text else 0


def percent_axis(ax, axis: str = "y", cap: float | None = 1.0,
                 floor: float | None = 0.0) -> None:
    """Fractions shown as Vietnamese percentages on 1-2-5 ticks (0,975 → "97,5 %"), with as many
    decimals as the tick step needs.  A rate is never below ``floor`` (0 %) nor above ``cap``
    (100 %): the axis does not start below ``floor`` (its lower limit is raised to it; the
    limits already set are read, so call this after drawing) and no tick, label or grid line
    is drawn outside the two (the axis may run a little past 100 % to leave room for labels)."""
    import numpy as np
    from matplotlib.ticker import Formatter, MaxNLocator

    class RateTicks(MaxNLocator):
        """1-2-5 ticks (as :func:`_ticks`) between ``floor`` and ``cap`` only."""

        def tick_values(self, vmin: float, vmax: float):
            ticks = np.asarray(super().tick_values(vmin, vmax))
            keep = np.ones(len(ticks), dtype=bool)
            if floor is not None:
                keep &= ticks >= floor - 1e-12
            if cap is not None:
                keep &= ticks <= cap + 1e-12
            return ticks[keep]

    class Percent(Formatter):
        def __call__(self, v: float, pos: int | None = None) -> str:
            if cap is not None and v > cap + 1e-12:
                return ""
            ticks = sorted(self.axis.get_majorticklocs()) if self.axis is not None else []
            locs = ticks if len(ticks) > 1 else [0.0, 0.01]
            return fmt_pct(v, _decimals(locs[1] - locs[0]))

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(RateTicks(nbins=6, steps=[1, 2, 5, 10]))
    target.set_major_formatter(Percent())
    lo, hi = ax.get_ylim() if axis == "y" else ax.get_xlim()
    if floor is not None and min(lo, hi) < floor < max(lo, hi):
        limits = (floor, max(lo, hi)) if lo <= hi else (max(lo, hi), floor)
        (ax.set_ylim if axis == "y" else ax.set_xlim)(*limits)


def rate_range(values: Sequence[float], pad: float = 0.05) -> tuple[float, float]:
    """The range of a rate axis showing ``values`` (the points and the target): high rates
    (above 50 %) from just under the lowest value, at least one percentage point wide (all
    schools at 100 % still show a scale); low rates (dropout) from zero, never below it.
    ``pad``: the share of the range left beside the values — past the highest one too, so
    that a dot or the target on 100 % is seen whole (:func:`percent_axis` draws no tick past
    100 %).  A dot on 0 % is best drawn unclipped (``clip_on=False``)."""
    finite = [float(v) for v in values if not math.isnan(float(v))]
    if not finite:
        return 0.0, 1.0
    lo, hi = min(finite), max(finite)
    if hi > 0.5:
        width = max(hi - lo, 0.01)
        return max(0.0, min(lo, hi - 0.01) - pad * width), hi + pad * width
    return 0.0, max(hi, 0.0005) * (1 + pad)


def count_axis(ax, axis: str = "y") -> None:
    """A count axis from zero: whole numbers on 1-2-5 ticks, a dot between thousands."""
    from matplotlib.ticker import FuncFormatter

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(_ticks(integer=True))
    target.set_major_formatter(FuncFormatter(lambda v, _pos: fmt_num(v)))
    (ax.set_ylim if axis == "y" else ax.set_xlim)(0, None)


def rate_limits(values: Sequence[float]) -> tuple[float, float]:
    """The y range of a rate chart: near 100 % zoomed on the top, else from zero."""
    finite = [v for v in values if not math.isnan(v)]
    top, bottom = max(finite, default=1.0), min(finite, default=0.0)
    if bottom > 0.5:
        span = max(1.0 - bottom, 0.005)
        return max(0.0, bottom - span * 0.8), 1.0 + span * 0.3
    return 0.0, max(top * 1.3, 0.001)


# --------------------------------------------------------------------------------------------
# Labels that never overlap
# --------------------------------------------------------------------------------------------

#: Clear space kept around every label, in points: from other labels, markers and lines.
LABEL_GAP = 1.5


def _hits(box, obstacle) -> bool:
    """``box`` (display pixels) touches ``obstacle``: a Bbox (label, marker) or a Path (line)."""
    from matplotlib.path import Path as MplPath

    if isinstance(obstacle, MplPath):
        return obstacle.intersects_bbox(box, filled=False)
    return box.overlaps(obstacle)


def _free(bbox, placed: list, area) -> bool:
    return (bbox.x0 >= area.x0 and bbox.x1 <= area.x1 and bbox.y0 >= area.y0
            and bbox.y1 <= area.y1 and not any(_hits(bbox, p) for p in placed))


def _place(ax, text: str, xy: tuple[float, float], offsets: Sequence[tuple], placed: list,
           **style) -> bool:
    """Try each (dx, dy, ha, va) offset in points; keep the first label whose box, with
    :data:`LABEL_GAP` around it, touches nothing in ``placed`` (label boxes, marker boxes, line
    paths, in display pixels) and stays inside the axes; the label's box joins ``placed``."""
    renderer = ax.figure.canvas.get_renderer()
    area = ax.get_window_extent(renderer)
    pad = LABEL_GAP * ax.figure.dpi / 72
    for dx, dy, ha, va in offsets:
        t = ax.annotate(text, xy, xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                        annotation_clip=False, **style)
        box = t.get_window_extent(renderer)
        if _free(box.padded(pad), placed, area):
            placed.append(box)
            return True
        t.remove()
    return False


def _marker_boxes(ax, xs: Sequence[float], ys: Sequence[float], radius: float = 3.6) -> list:
    """The square around each point's marker (``radius`` in points), in display pixels."""
    from matplotlib.transforms import Bbox

    radius = radius * ax.figure.dpi / 72
    out = []
    for x, y in zip(xs, ys, strict=True):
        if math.isnan(y):
            continue
        px, py = ax.transData.transform((x, y))
        out.append(Bbox.from_extents(px - radius, py - radius, px + radius, py + radius))
    return out


def _line_path(ax, xs: Sequence[float], ys: Sequence[float]):
    """The polyline through the non-missing points (as seaborn draws it), in display pixels."""
    from matplotlib.path import Path as MplPath

    pts = [(x, y) for x, y in zip(xs, ys, strict=True) if not math.isnan(y)]
    if len(pts) < 2:
        return None
    return MplPath(ax.transData.transform(pts))


def runs(values: Sequence[float], labels: Sequence[object] | None = None
         ) -> list[tuple[int, int, float]]:
    """(first index, last index, value) of each run of equal, non-missing values (and equal
    ``labels``: the same target in two phases makes two runs)."""
    found: list[tuple[int, int, float]] = []
    labels = list(labels) if labels is not None else [None] * len(values)
    for i, v in enumerate(values):
        if math.isnan(v):
            continue
        if found and found[-1][1] == i - 1 and found[-1][2] == v \
                and labels[i] == labels[found[-1][0]]:
            found[-1] = (found[-1][0], i, v)
        else:
            found.append((i, i, v))
    return found


#: Half the width of a year's stretch of target line (x = 0, 1, … are the years).
HALF_YEAR = 0.4


def target_paths(ax, thresholds: Sequence[object], labels: Sequence[str | None]) -> list:
    """The dashed target segments of :func:`target_lines` as paths in display pixels (labels
    must keep off them)."""
    from matplotlib.path import Path as MplPath

    thr = [float("nan") if is_missing(t) else float(t) for t in thresholds]
    return [MplPath(ax.transData.transform([(first - HALF_YEAR, v), (last + HALF_YEAR, v)]))
            for first, last, v in runs(thr, labels)]


def target_lines(ax, thresholds: Sequence[object], labels: Sequence[str | None],
                 legend: str = "Mục tiêu của kế hoạch", placed: list | None = None,
                 labelled: bool = True) -> list[str]:
    """Each stretch of the same target (one per phase) as a dashed red line over its years
    (x = 0, 1, …), labelled with ``labels`` of its first year — a one-year stretch too
    (:func:`target_labels`; ``labelled=False``: the lines only).  Returns the labels that
    found no room on the chart."""
    thr = [float("nan") if is_missing(t) else float(t) for t in thresholds]
    for n, (first, last, value) in enumerate(runs(thr, labels)):
        ax.hlines(value, first - HALF_YEAR, last + HALF_YEAR, colors=TARGET_COLOUR,
                  linestyles="--", linewidth=1.6, label=legend if n == 0 else None, zorder=2)
    return target_labels(ax, thr, labels, [] if placed is None else placed) if labelled else []


#: How far from its line a target's label may sit (points): beyond, it would seem to belong
#: to something else, and the label goes to the legend instead.
TARGET_LABEL_OFFSETS = (3, 14)


def target_labels(ax, thresholds: Sequence[object], labels: Sequence[str | None],
                  placed: list) -> list[str]:
    """Each target stretch's label just above its line (left end, right end, or centred over
    one of its years), else just below, else a little further; never over anything in
    ``placed`` (label boxes, markers, lines), to which each label placed is added.  Returns the
    labels that found no room: the caller names them in the legend (:func:`trend_look`)."""
    thr = [float("nan") if is_missing(t) else float(t) for t in thresholds]
    style = {"fontsize": 8, "color": TARGET_COLOUR, "fontweight": "bold"}
    left_out = []
    for first, last, value in runs(thr, labels):
        text = labels[first] if first < len(labels) else None
        if not text:
            continue
        spots = [((first - HALF_YEAR, value), 2, "left"), ((last + HALF_YEAR, value), -2, "right")]
        spots += [((x, value), 0, "center") for x in range(first, last + 1)]
        if not any(_place(ax, text, xy, [(dx, sign * dy, ha, va)], placed, **style)
                   for dy in TARGET_LABEL_OFFSETS for sign, va in ((1, "bottom"), (-1, "top"))
                   for xy, dx, ha in spots):
            left_out.append(text)
    return left_out


def label_points(ax, xs: Sequence[float], ys: Sequence[float], texts: Sequence[str],
                 placed: list | None = None) -> list:
    """Each point's text above it, else below, right or left: never over another label, a
    marker, the line through the points or anything already in ``placed`` (e.g. the target
    lines, :func:`target_paths`); a label with no room is left out (the value is in the
    sentence and the tables).  Returns ``placed`` with the markers, the line and the labels."""
    placed = list(placed or [])
    placed += _marker_boxes(ax, xs, ys)
    line = _line_path(ax, xs, ys)
    if line is not None:
        placed.append(line)
    for x, y, text in zip(xs, ys, texts, strict=True):
        if math.isnan(y):
            continue
        _place(ax, text, (x, y), [(0, 6, "center", "bottom"), (0, -6, "center", "top"),
                                  (7, 0, "left", "center"), (-7, 0, "right", "center"),
                                  (7, 7, "left", "bottom"), (-7, 7, "right", "bottom"),
                                  (7, -7, "left", "top"), (-7, -7, "right", "top"),
                                  (0, 17, "center", "bottom"), (0, -17, "center", "top")],
               placed, fontsize=8, color=LINE_COLOUR)
    return placed


# --------------------------------------------------------------------------------------------
# The report's trend chart
# --------------------------------------------------------------------------------------------

def trend_alt(series: pd.DataFrame, label: str, sentence: str) -> str:
    years = series["school_year"].tolist()
    return (f"Biểu đồ đường: {label} theo năm học từ {years[0]} đến {years[-1]}, đường nét đứt "
            f"màu đỏ là mục tiêu của từng giai đoạn. {sentence}")


def target_text(series: pd.DataFrame) -> list[str | None]:
    """Each year's target label with its phase: "Mục tiêu < 0,06 % (2022–2025)"."""
    out: list[str | None] = []
    for _, r in series.iterrows():
        label = r.get("target_label")
        phase = r.get("phase")
        if is_missing(label) or not label:
            out.append(None)
        else:
            phase_text = "" if is_missing(phase) or not phase else \
                f" ({str(phase).replace('-', '–')})"
            out.append(f"{label}{phase_text}")
    return out


def _label_all(ax, xs: list[int], vals: list[float], texts: list[str], thr: list[float],
               labels: list[str | None]) -> list[str]:
    """Label the points and the targets; returns the target labels left for the legend.

    The points' labels first (a value matters more), clear of the target lines, then each
    target's label where there is room.  When something found no room, the other order is
    tried too (targets first) and the arrangement that leaves fewer labels out is kept."""
    lines = target_paths(ax, thr, labels)
    wanted = sum(not math.isnan(v) for v in vals) + len(
        {(f, lab) for f, lab in ((r[0], labels[r[0]]) for r in runs(thr, labels)) if lab})

    def attempt(targets_first: bool) -> tuple[int, list[str], list]:
        mark = len(ax.texts)
        placed = list(lines)
        if targets_first:
            placed += _marker_boxes(ax, xs, vals)
            line = _line_path(ax, xs, vals)
            placed += [line] if line is not None else []
            left = target_labels(ax, thr, labels, placed)
            label_points(ax, xs, vals, texts, placed)
        else:
            placed = label_points(ax, xs, vals, texts, placed)
            left = target_labels(ax, thr, labels, placed)
        added = list(ax.texts)[mark:]
        return wanted - len(added), left, added

    missing, left, added = attempt(False)
    if missing:
        for t in added:
            t.remove()
        missing2, left2, added2 = attempt(True)
        if missing2 < missing:
            return left2
        for t in added2:
            t.remove()
        _, left, _ = attempt(False)
    return left


def trend_look(ax, series: pd.DataFrame, *, title: str, alt_text: str, percent: bool = True,
               digits: int = 1, target_legend: str = "Mục tiêu của kế hoạch") -> None:
    """Finish a trend chart drawn on ``ax`` (values at x = 0, 1, … for ``series``' years): the
    years on the x axis, Vietnamese axis, the target of each phase labelled, each point labelled,
    a legend under the chart, the title and the alt text."""
    years = [str(y) for y in series["school_year"]]
    vals = [float("nan") if is_missing(v) else float(v) for v in series["value"]]
    thr = [float("nan") if is_missing(v) else float(v) for v in series["threshold"]]
    xs = list(range(len(years)))
    ax.set_xticks(xs)
    ax.set_xticklabels([y.replace("-", "-\n", 1) if len(xs) > 5 else y for y in years],
                       fontsize=8)
    ax.set_xlim(-0.6, len(xs) - 0.4)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title(title, loc="left")
    if percent:
        ax.set_ylim(*rate_limits(vals + thr))
        percent_axis(ax)
    else:
        ax.set_ylim(0, max([v for v in vals + thr if not math.isnan(v)] or [1.0]) * 1.25)
        count_axis(ax)
    fig = ax.figure
    fig.subplots_adjust(left=0.1, right=0.98, top=0.88, bottom=0.3)
    texts = [fmt_pct(v, digits) if percent else fmt_num(v) for v in vals]
    labels = target_text(series)
    target_lines(ax, thr, labels, legend=target_legend, labelled=False)  # labels: below
    left_out = _label_all(ax, xs, vals, texts, thr, labels)
    handles, names = ax.get_legend_handles_labels()
    if left_out:
        from matplotlib.lines import Line2D

        if set(left_out) == {x for x in labels if x}:  # every target named below: the
            keep = [i for i, n in enumerate(names) if n != target_legend]  # generic entry goes
            handles, names = [handles[i] for i in keep], [names[i] for i in keep]
        handles += [Line2D([], [], color=TARGET_COLOUR, linestyle="--", linewidth=1.6)
                    for _ in left_out]
        names += left_out
    ax.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, -0.18),
              ncol=2, frameon=False)
    alt(fig, alt_text)
