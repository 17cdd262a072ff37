"""Line charts of one indicator by school year, drawn as inline SVG (no plotting library).

The annual report's trend charts: the values as a blue line with a labelled point for each
school year, the plan's target as a dashed red line with its label, a y axis of Vietnamese
percentages (``97,5 %``) or counts (``1.234``) and a legend under the chart.  The look follows
the report's matplotlib theme (``present.trend_chart``): DejaVu Sans, the same colours, sizes
and axis ranges.  An SVG is a few kilobytes of text, sharp at any zoom and on A4 paper, and
takes milliseconds to write.

Accessible: the ``<svg>`` has ``role="img"`` and ``aria-label`` (the alt text), a ``<title>``
(the chart's title) and a ``<desc>`` (the alt text again).

Labels never overlap: :func:`layout` places every point label (above, below, right or left of
its point) and every target label (above or below the dashed line, at either end) so that no
two label boxes intersect and no label covers a point; a label that cannot be placed is left
out (the value is in the sentence and the tables, the target in the legend) — a target label
before a point label.
"""

from __future__ import annotations

import functools
import html
import itertools
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from .numbers import fmt_num, fmt_pct, is_missing

LINE_COLOUR = "#1565c0"
TARGET_COLOUR = "#c62828"
GRID_COLOUR = "#cccccc"
TEXT_COLOUR = "#262626"
FONT_FAMILY = "DejaVu Sans, Noto Sans, Segoe UI, Arial, sans-serif"

#: The drawing in pixels at 100 dpi, as the matplotlib figure (7,0 in wide).
WIDTH = 700.0
PLOT_HEIGHT = 190.0
TITLE_SIZE = 16.0
TICK_SIZE = 12.0
XTICK_SIZE = 11.0
LABEL_SIZE = 11.0
LEGEND_SIZE = 12.5
MARKER_RADIUS = 4.2
POINT_OFFSET = 11.0  # baseline of a point label above its point (8 pt)
ASCENT, DESCENT = 0.8, 0.25  # of the font size, for label boxes

# Advance widths of DejaVu Sans in em, for estimating how wide a label is.
_WIDTHS = {
    **dict.fromkeys("0123456789", 0.636), " ": 0.318, ",": 0.318, ".": 0.318, ":": 0.337,
    ";": 0.337, "%": 0.950, "-": 0.361, "–": 0.5, "—": 1.0, "(": 0.390, ")": 0.390,
    "/": 0.337, "<": 0.838, ">": 0.838, "≥": 0.838, "≤": 0.838, "=": 0.838, "+": 0.838,
    "−": 0.838, "i": 0.278, "l": 0.278, "j": 0.278, "f": 0.352, "t": 0.392, "r": 0.411,
    "m": 0.974, "w": 0.818, "I": 0.295, "M": 0.863, "W": 0.989,
}


@functools.lru_cache(maxsize=4096)
def text_width(text: str, size: float, bold: bool = False) -> float:
    """An estimate (a little generous) of the width of ``text`` in DejaVu Sans."""
    total = 0.0
    for ch in text:
        base = unicodedata.normalize("NFD", ch)[:1] or ch
        if base in _WIDTHS:
            w = _WIDTHS[base]
        elif base.isupper():
            w = 0.72
        else:
            w = 0.62
        total += w
    return total * size * (1.1 if bold else 1.0) * 1.04


# --------------------------------------------------------------------------------------------
# Scales
# --------------------------------------------------------------------------------------------

def nice_pct_step(span: float) -> float:
    """A tick step (as a fraction) giving at most 8 ticks over ``span``, from 1-2-5 steps (and
    25 %), so that a tick label never needs more decimals than the step itself (no "99,25 %")."""
    for step_pct in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 25):
        if span * 100 / step_pct <= 8:
            return step_pct / 100
    return 0.5


def pct_decimals(step: float) -> int:
    """Decimals a percentage tick needs for ``step`` (0,0025 → 2: "99,25 %")."""
    text = f"{step * 100:.4f}".rstrip("0").rstrip(".")
    return len(text.split(".")[1]) if "." in text else 0


def runs(values: Sequence[float]) -> list[tuple[int, int, float]]:
    """(first index, last index, value) of each run of equal, non-missing values."""
    found: list[tuple[int, int, float]] = []
    for i, v in enumerate(values):
        if math.isnan(v):
            continue
        if found and found[-1][1] == i - 1 and found[-1][2] == v:
            found[-1] = (found[-1][0], i, v)
        else:
            found.append((i, i, v))
    return found


def _nice_count_step(top: float) -> float:
    """An integer step of 1, 2, 5 × 10ⁿ giving at most 6 intervals up to ``top``."""
    magnitude = 1.0
    while True:
        for m in (1, 2, 5):
            step = m * magnitude
            if top / step <= 6:
                return step
        magnitude *= 10


@dataclass(frozen=True)
class Axis:
    """The y axis: the range shown and the ticks with their labels ("" above a rate's 100 %)."""

    lo: float
    hi: float
    ticks: tuple[tuple[float, str], ...]


def y_axis(values: Sequence[float], unit: str = "pct") -> Axis:
    """The range and ticks for ``values`` (targets included), as the matplotlib chart chose.

    Rates: near 100 % (lowest value above 50 %) the band that matters up to 100 %, else from 0;
    steps of 1-2-2,5-5; ticks above 100 % unlabelled.  Counts: from 0, whole-number ticks.
    """
    finite = [v for v in values if not math.isnan(v)]
    if unit == "pct":
        top, bottom = max(finite, default=1.0), min(finite, default=0.0)
        if bottom > 0.5:
            span = max(1.0 - bottom, 0.005)
            lo, hi = max(0.0, bottom - span * 0.8), 1.0 + span * 0.3
        else:
            lo, hi = 0.0, max(top * 1.3, 0.001)
        step = nice_pct_step(hi - lo)
        digits = pct_decimals(step)
        ticks = []
        for k in range(math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9) + 1):
            v = round(k * step, 12)
            ticks.append((v, "" if v > 1.0 + 1e-12 else fmt_pct(v, digits)))
        return Axis(lo, hi, tuple(ticks))
    hi = max(max(finite, default=1.0) * 1.25, 1.0)
    step = _nice_count_step(hi)
    count = math.floor(hi / step + 1e-9)
    return Axis(0.0, hi, tuple((k * step, fmt_num(k * step)) for k in range(count + 1)))


# --------------------------------------------------------------------------------------------
# Label placement
# --------------------------------------------------------------------------------------------

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 (y downwards)


def _overlap(a: Box, b: Box, pad: float = 1.0) -> bool:
    return a[0] < b[2] + pad and b[0] < a[2] + pad and a[1] < b[3] + pad and b[1] < a[3] + pad


def _crosses(box: Box, p: tuple[float, float], q: tuple[float, float]) -> bool:
    """Does the segment p–q pass through ``box`` (Liang–Barsky clipping)?"""
    x0, y0, x1, y1 = box
    dx, dy = q[0] - p[0], q[1] - p[1]
    t0, t1 = 0.0, 1.0
    for edge_p, edge_q in ((-dx, p[0] - x0), (dx, x1 - p[0]), (-dy, p[1] - y0),
                           (dy, y1 - p[1])):
        if edge_p == 0:
            if edge_q < 0:
                return False
            continue
        t = edge_q / edge_p
        if edge_p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return False
    return True


@dataclass(frozen=True)
class Label:
    """A piece of text placed on the chart: ``x``, ``baseline``, ``anchor`` as in SVG."""

    text: str
    x: float
    baseline: float
    anchor: str  # "start" | "middle" | "end"
    size: float
    bold: bool
    colour: str
    kind: str  # "point" | "target"

    @functools.cached_property
    def box(self) -> Box:
        w = text_width(self.text, self.size, self.bold)
        x0 = {"start": self.x, "middle": self.x - w / 2, "end": self.x - w}[self.anchor]
        return (x0, self.baseline - ASCENT * self.size, x0 + w,
                self.baseline + DESCENT * self.size)


@dataclass(frozen=True)
class TargetRun:
    """A stretch of the same target: from x0 to x1 (pixels) at height y, with its label."""

    x0: float
    x1: float
    y: float
    text: str | None


def _point_candidates(text: str, x: float, y: float) -> list[Label]:
    above = Label(text, x, y - POINT_OFFSET, "middle", LABEL_SIZE, False, LINE_COLOUR, "point")
    below = Label(text, x, y + POINT_OFFSET + ASCENT * LABEL_SIZE, "middle", LABEL_SIZE, False,
                  LINE_COLOUR, "point")
    mid = y + 0.3 * LABEL_SIZE
    right = Label(text, x + 8, mid, "start", LABEL_SIZE, False, LINE_COLOUR, "point")
    left = Label(text, x - 8, mid, "end", LABEL_SIZE, False, LINE_COLOUR, "point")
    return [above, below, right, left]


def _target_candidates(run: TargetRun) -> list[Label]:
    if not run.text:
        return []
    size = LABEL_SIZE
    above, below = run.y - 4, run.y + 4 + ASCENT * size
    mid = (run.x0 + run.x1) / 2

    def lab(x: float, base: float, anchor: str) -> Label:
        return Label(run.text or "", x, base, anchor, size, True, TARGET_COLOUR, "target")

    return [lab(run.x0 + 2, above, "start"), lab(run.x1 - 2, above, "end"),
            lab(mid, above, "middle"), lab(run.x0 + 2, below, "start"),
            lab(run.x1 - 2, below, "end"), lab(mid, below, "middle")]


def layout(points: Sequence[tuple[float, float, str]], targets: Sequence[TargetRun],
           area: Box) -> list[Label]:
    """Place the point labels (``(x, y, text)`` in pixels, in order along the line: a line
    joins consecutive points) and the target labels in ``area``.

    No two labels overlap, no label covers a point's marker, every label stays inside
    ``area``.  Among the arrangements that do so, the one chosen leaves out the fewest point
    labels, then the fewest target labels, then crosses the data line and the target lines the
    least, then keeps labels closest to their usual place (point labels above, else below, right,
    left; target labels above the line's left end).
    """
    markers = [(x - MARKER_RADIUS, y - MARKER_RADIUS, x + MARKER_RADIUS, y + MARKER_RADIUS)
               for x, y, _ in points]
    # Lines a label should rather not cover: the data line and the dashed targets.
    segments = list(itertools.pairwise([(x, y) for x, y, _ in points]))
    segments += [((t.x0, t.y), (t.x1, t.y)) for t in targets]

    def inside(lab: Label) -> bool:
        b = lab.box
        return b[0] >= area[0] and b[2] <= area[2] and b[1] >= area[1] and b[3] <= area[3]

    def free(lab: Label, placed: list[Label]) -> bool:
        b = lab.box
        return (inside(lab) and not any(_overlap(b, m, 0.5) for m in markers)
                and not any(_overlap(b, p.box) for p in placed))

    def crossings(lab: Label) -> int:
        b = lab.box
        return sum(_crosses(b, p, q) for p, q in segments)

    target_options: list[list[tuple[int, Label | None]]] = []
    for run in targets:
        cands = [c for c in _target_candidates(run) if inside(c)
                 and not any(_overlap(c.box, m, 0.5) for m in markers)]
        target_options.append(list(enumerate(cands)) + [(99, None)])

    best: tuple[tuple, list[Label]] | None = None
    combos = itertools.product(*target_options) if target_options else [()]
    for n, combo in enumerate(combos):
        if n > 2000:  # many stretches of target: enough arrangements tried
            break
        placed: list[Label] = []
        ok = True
        for _, lab in combo:
            if lab is None:
                continue
            if not free(lab, placed):
                ok = False
                break
            placed.append(lab)
        if not ok:
            continue
        dropped_points = 0
        moved = 0
        for x, y, text in points:
            chosen = None
            cands = _point_candidates(text, x, y)
            fitting = [c for c in cands if free(c, placed)]
            clean = [c for c in fitting if crossings(c) == 0]
            chosen = (clean or fitting or [None])[0]
            if chosen is None:
                dropped_points += 1
                continue
            moved += cands.index(chosen)
            placed.append(chosen)
        dropped_targets = sum(lab is None and targets[i].text is not None
                              for i, (_, lab) in enumerate(combo))
        score = (dropped_points, dropped_targets, sum(crossings(p) for p in placed),
                 moved + sum(i for i, lab in combo if lab is not None))
        if best is None or score < best[0]:
            best = (score, placed)
    return best[1] if best else []


# --------------------------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------------------------

def _esc(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def _n(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _text(lab: Label) -> str:
    weight = ' font-weight="bold"' if lab.bold else ""
    return (f'<text x="{_n(lab.x)}" y="{_n(lab.baseline)}" text-anchor="{lab.anchor}" '
            f'font-size="{_n(lab.size)}"{weight} fill="{lab.colour}">{_esc(lab.text)}</text>')


def _wrap(text: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    for word in text.split(" "):
        if lines and text_width(lines[-1] + " " + word, size) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _values(values: Sequence[object]) -> list[float]:
    return [float("nan") if is_missing(v) else float(v) for v in values]  # type: ignore[arg-type]


def line_chart(years: Sequence[str], values: Sequence[object], title: str, *, alt: str,
               unit: str = "pct", thresholds: Sequence[object] | None = None,
               threshold_labels: Sequence[str | None] | None = None,
               target_label: str = "Mục tiêu của kế hoạch", value_digits: int = 1,
               caption: str | None = None) -> str:
    """One indicator by school year as an inline SVG in a ``<figure>``.

    ``values`` are fractions when ``unit == "pct"`` (shown as percentages with
    ``value_digits`` decimals), counts otherwise; NaN/None are skipped (the line breaks there).
    ``thresholds`` gives the target of each year (NaN where the plan sets none); each stretch of
    the same target is a dashed red line labelled with ``threshold_labels`` of its first year.
    ``target_label`` is the legend's entry for the target; ``alt`` the text read out in place
    of the chart.
    """
    years = [str(y) for y in years]
    vals = _values(values)
    thr = _values(thresholds) if thresholds is not None else []
    labels = list(threshold_labels) if threshold_labels is not None else [None] * len(thr)
    n = max(len(years), 1)
    axis = y_axis(vals + thr, unit)

    tick_w = max((text_width(t, TICK_SIZE) for _, t in axis.ticks), default=20.0)
    left = tick_w + 20.0
    right = WIDTH - 12.0
    top = 10.0 + TITLE_SIZE * 1.5
    bottom = top + PLOT_HEIGHT
    split_years = n > 5  # "2019-\n2020": eight school years side by side stay readable

    def px(i: float) -> float:
        return left + (i + 0.6) / n * (right - left)

    def py(v: float) -> float:
        span = axis.hi - axis.lo or 1.0
        return top + (axis.hi - v) / span * PLOT_HEIGHT

    out: list[str] = []
    # grid (one path: every element costs the HTML export a little) and axes
    grid = "".join(f"M{_n(left)} {_n(py(v))}H{_n(right)}" for v, _ in axis.ticks)
    grid += "".join(f"M{_n(px(i))} {_n(top)}V{_n(bottom)}" for i in range(len(years)))
    out.append(f'<path d="{grid}" fill="none" stroke="{GRID_COLOUR}" stroke-width="1"/>')
    out.append(f'<path d="M{_n(left)} {_n(top)}V{_n(bottom)}H{_n(right)}" fill="none" '
               f'stroke="{GRID_COLOUR}" stroke-width="1.25"/>')
    for v, text in axis.ticks:
        if text:
            out.append(f'<text x="{_n(left - 8)}" y="{_n(py(v) + TICK_SIZE * 0.35)}" '
                       f'text-anchor="end" font-size="{_n(TICK_SIZE)}">{_esc(text)}</text>')
    xtick_y = bottom + 8 + XTICK_SIZE
    for i, year in enumerate(years):
        parts = year.split("-", 1) if split_years and "-" in year else [year]
        if len(parts) == 2:
            parts[0] += "-"
        spans = "".join(
            f'<tspan x="{_n(px(i))}" dy="{0 if k == 0 else _n(XTICK_SIZE * 1.2)}">'
            f'{_esc(p)}</tspan>' for k, p in enumerate(parts))
        out.append(f'<text x="{_n(px(i))}" y="{_n(xtick_y)}" text-anchor="middle" '
                   f'font-size="{_n(XTICK_SIZE)}">{spans}</text>')
    xticks_bottom = xtick_y + (XTICK_SIZE * 1.2 if split_years else 0) + DESCENT * XTICK_SIZE

    # targets
    target_runs = []
    for first, last, value in runs(thr):
        y = py(value)
        x0, x1 = px(first - 0.4), px(last + 0.4)
        out.append(f'<line x1="{_n(x0)}" y1="{_n(y)}" x2="{_n(x1)}" y2="{_n(y)}" '
                   f'stroke="{TARGET_COLOUR}" stroke-width="2.2" stroke-dasharray="8 3.5"/>')
        target_runs.append(TargetRun(x0, x1, y, labels[first] if first < len(labels)
                                     and labels[first] else None))

    # the values: a line broken where a year has no value, a marker on each point
    points = [(px(i), py(v), fmt_pct(v, value_digits) if unit == "pct" else fmt_num(v))
              for i, v in enumerate(vals) if not math.isnan(v)]
    stretch: list[str] = []
    paths: list[str] = []
    for i, v in enumerate(vals + [float("nan")]):
        if math.isnan(v):
            if len(stretch) > 1:
                paths.append("M" + "L".join(stretch))
            stretch = []
        else:
            stretch.append(f"{_n(px(i))} {_n(py(v))}")
    for d in paths:
        out.append(f'<path d="{d}" fill="none" stroke="{LINE_COLOUR}" stroke-width="2.5" '
                   f'stroke-linejoin="round" stroke-linecap="round"/>')
    for x, y, _ in points:
        out.append(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(MARKER_RADIUS)}" '
                   f'fill="{LINE_COLOUR}"/>')
    for lab in layout(points, target_runs, (left + 1, top - 8, right, bottom - 1)):
        out.append(_text(lab))

    # title and legend
    out.append(f'<text x="{_n(left)}" y="{_n(10 + TITLE_SIZE)}" font-size="{_n(TITLE_SIZE)}" '
               f'font-weight="bold">{_esc(title)}</text>')
    entries = [("line", "Kết quả")] + ([("target", target_label)] if target_runs else [])
    legend_y = xticks_bottom + 14
    key_w = 34.0
    text_room = right - left - key_w - 8
    wrapped = [(kind, _wrap(text, LEGEND_SIZE, text_room)) for kind, text in entries]
    block_w = key_w + 8 + max(text_width(ln, LEGEND_SIZE) for _, lines in wrapped
                              for ln in lines)
    lx = max(left, (left + right - block_w) / 2)
    y = legend_y
    for kind, lines in wrapped:
        mid = y + LEGEND_SIZE * 0.4
        if kind == "line":
            out.append(f'<line x1="{_n(lx)}" y1="{_n(mid)}" x2="{_n(lx + key_w)}" '
                       f'y2="{_n(mid)}" stroke="{LINE_COLOUR}" stroke-width="2.5"/>'
                       f'<circle cx="{_n(lx + key_w / 2)}" cy="{_n(mid)}" '
                       f'r="{_n(MARKER_RADIUS)}" fill="{LINE_COLOUR}"/>')
        else:
            out.append(f'<line x1="{_n(lx)}" y1="{_n(mid)}" x2="{_n(lx + key_w)}" '
                       f'y2="{_n(mid)}" stroke="{TARGET_COLOUR}" stroke-width="2.2" '
                       f'stroke-dasharray="8 3.5"/>')
        for k, line in enumerate(lines):
            out.append(f'<text x="{_n(lx + key_w + 8)}" '
                       f'y="{_n(y + LEGEND_SIZE * 0.8 + k * LEGEND_SIZE * 1.25)}" '
                       f'font-size="{_n(LEGEND_SIZE)}">{_esc(line)}</text>')
        y += LEGEND_SIZE * 1.25 * len(lines) + 5
    height = math.ceil(y + 6)

    svg = (f'<svg role="img" aria-label="{_esc(alt)}" '
           f'viewBox="0 0 {_n(WIDTH)} {height}" width="{_n(WIDTH)}" height="{height}" '
           f'style="width:100%;height:auto;display:block" font-family="{FONT_FAMILY}" '
           f'fill="{TEXT_COLOUR}"><title>{_esc(title)}</title><desc>{_esc(alt)}</desc>'
           + "".join(out) + "</svg>")
    cap = f"<figcaption>{_esc(caption)}</figcaption>" if caption else ""
    return (f'<figure class="locson-chart" style="margin:8px 0;break-inside:avoid">'
            f'{svg}{cap}</figure>')
