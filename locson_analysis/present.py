"""Vietnamese formatting, the chart theme and HTML helpers for the notebooks and the report.

Numbers are formatted with Babel for ``vi_VN`` (never the operating system's locale): a decimal
comma, a dot between thousands, a space before ``%`` (``97,5 %``), dates as ``dd/mm/yyyy``.
Rounding is half-up, as people round by hand (0,125 % → 0,13 %), not Babel's half-even.

Charts follow one theme (:func:`set_theme`): DejaVu Sans (it has every Vietnamese letter),
sizes readable on A4, percentage axes as percentages, count axes from zero, the target drawn
and labelled.  :func:`chart_to_html` turns a figure into an ``<img>`` with alt text and the
image embedded, so the exported report needs no other file.  These matplotlib charts serve the
analyst's notebooks; the annual report draws the same charts as inline SVG (:mod:`svgchart`).
"""

from __future__ import annotations

import base64
import html
import io
import math
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence

import pandas as pd

from .numbers import (  # noqa: F401 - re-exported for notebooks
    FORMATTERS,
    LOCALE,
    MISSING,
    NO_DATA,
    fmt,
    fmt_bool,
    fmt_date,
    fmt_datetime,
    fmt_money,
    fmt_num,
    fmt_pct,
    fmt_pp,
    fmt_signed,
    is_missing,
    today,
)
from .svgchart import nice_pct_step, pct_decimals, runs

FONT = "DejaVu Sans"

#: Figure width that fits A4 portrait between 15 mm margins (180 mm ≈ 7.1 in).
A4_WIDTH_IN = 7.0

STATUS_COLOURS = {
    "Đạt": ("#1b5e20", "#e8f5e9"),
    "Chưa đạt": ("#b71c1c", "#ffebee"),
    NO_DATA: ("#455a64", "#eceff1"),
}

TARGET_COLOUR = "#c62828"
LINE_COLOUR = "#1565c0"


# Numbers, money and dates are formatted in :mod:`locson_analysis.numbers` (re-exported here,
# so notebooks need only ``present``).
# --------------------------------------------------------------------------------------------
# HTML pieces
# --------------------------------------------------------------------------------------------

def esc(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def status_badge(status: object) -> str:
    """A coloured label for a target's status ("Đạt", "Chưa đạt", "Chưa có số liệu")."""
    label = NO_DATA if is_missing(status) or not str(status) else str(status)
    fg, bg = STATUS_COLOURS.get(label, ("#263238", "#eceff1"))
    return (f'<span class="locson-badge" style="color:{fg};background:{bg};'
            f'border:1px solid {fg};border-radius:3px;padding:1px 6px;white-space:nowrap;'
            f'font-weight:600">{esc(label)}</span>')


def table_html(df: pd.DataFrame, formats: Mapping[str, str | Callable[[object], str]] | None = None,
               caption: str | None = None, html_columns: Sequence[str] = (),
               right_align: Sequence[str] | None = None,
               col_css: Mapping[str, str] | None = None) -> str:
    """An HTML table (pandas Styler, index hidden) with Vietnamese number formats.

    ``formats`` maps a column to a format name of :data:`FORMATTERS` or a function.  Columns not
    named are formatted by the Styler with ``decimal=","`` and ``thousands="."``.  Text is
    HTML-escaped except in ``html_columns`` (cells built by this module, e.g. badges).
    ``col_css`` adds CSS to a column's cells (``{"Chỉ tiêu": "min-width:12em"}``).
    """
    formats = dict(formats or {})
    shown = df.copy()
    for col in shown.columns:
        if col in html_columns:
            continue
        spec = formats.get(col)
        if spec is None:
            continue
        func = spec if callable(spec) else FORMATTERS.get(spec, FORMATTERS["text"])
        shown[col] = [esc(func(v)) for v in shown[col]]
    for col in html_columns:
        if col in shown.columns:
            shown[col] = ["" if is_missing(v) else str(v) for v in shown[col]]
    # The remaining object columns are plain text: escape them; numbers go through the Styler.
    for col in shown.columns:
        if col in formats or col in html_columns:
            continue
        if shown[col].dtype == object or pd.api.types.is_string_dtype(shown[col]):
            shown[col] = [MISSING if is_missing(v) else esc(v) for v in shown[col]]
    styler = (shown.style.hide(axis="index")
              .format(decimal=",", thousands=".", precision=1, na_rep=MISSING)
              .set_table_attributes('class="locson-table" style="border-collapse:collapse;'
                                    'table-layout:auto;width:100%"'))
    if right_align is None:
        right_align = [c for c in df.columns
                       if (formats.get(c) in {"pct", "pct2", "pp", "pp2", "num", "num1", "num2",
                                              "signed", "money"})
                       or pd.api.types.is_numeric_dtype(df[c])]
    cell = "text-align:left;vertical-align:top;padding:3px 6px;border:1px solid #b0bec5"
    styles = [{"selector": "td", "props": cell}, {"selector": "th", "props": cell},
              {"selector": "thead th", "props": "background:#eceff1;font-weight:bold"}]
    for j, col in enumerate(shown.columns):
        if col in right_align:
            styles.append({"selector": f"td.col{j}",
                           "props": "text-align:right;white-space:nowrap"})
        if col_css and col in col_css:
            styles.append({"selector": f"td.col{j}", "props": col_css[col]})
    styler = styler.set_table_styles(styles)
    if caption:
        styler = styler.set_caption(esc(caption))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return styler.to_html()


#: The look of :func:`text_table` (the same as :func:`table_html`'s), for every table of
#: class ``locson-table`` on the page; the exported report's template says the same.
TEXT_TABLE_CSS = (
    "<style>table.locson-table td,table.locson-table th{text-align:left;vertical-align:top;"
    "padding:3px 6px;border:1px solid #b0bec5}"
    "table.locson-table thead th{background:#eceff1;font-weight:bold}</style>")
_RIGHT = ' style="text-align:right;white-space:nowrap"'


def text_table(df: pd.DataFrame, html_columns: Sequence[str] = (),
               right_align: Sequence[str] = (), col_css: Mapping[str, str] | None = None,
               caption: str | None = None) -> str:
    """A table of cells that are text already (e.g. a report table's formatted strings).

    What :func:`table_html` shows for such a frame, written directly: no pandas Styler (faster,
    and no per-cell ids and classes).  Text is HTML-escaped except in ``html_columns``; missing
    cells read "—" (empty in ``html_columns``); ``right_align`` columns stay on one line at the
    right; ``col_css`` adds CSS to a column (on its header cell, e.g. a minimum width).
    """
    col_css = col_css or {}
    cols = list(df.columns)
    right = [c in right_align for c in cols]
    raw = [c in html_columns for c in cols]
    head = "".join((f'<th style="{esc(col_css[c])}">' if c in col_css else "<th>")
                   + f"{esc(c)}</th>" for c in cols)
    body = []
    for values in df.itertuples(index=False, name=None):
        cells = []
        for v, r, h in zip(values, right, raw, strict=True):
            if h:
                text = "" if is_missing(v) else str(v)
            else:
                text = esc(MISSING if is_missing(v) else v)
            cells.append(f"<td{_RIGHT if r else ''}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return (f'{TEXT_TABLE_CSS}<table class="locson-table" style="border-collapse:collapse;'
            f'table-layout:auto;width:100%">{cap}<thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def paragraph(text: str) -> str:
    return f"<p>{esc(text)}</p>"


def note_box(text: str, kind: str = "note") -> str:
    """A highlighted paragraph (kind "note" or "warn")."""
    colour = "#fff8e1" if kind == "warn" else "#e3f2fd"
    border = "#f9a825" if kind == "warn" else "#1565c0"
    return (f'<div class="locson-note" style="background:{colour};border-left:4px solid {border};'
            f'padding:6px 10px;margin:8px 0">{esc(text)}</div>')


# --------------------------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------------------------

#: seaborn's "deep" palette, the colour cycle the charts have always used.
PALETTE = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3",
           "#8c8c8c", "#ccb974", "#64b5cd")

#: The theme as matplotlib settings: seaborn's "whitegrid" style and "notebook" context, with
#: our sizes.  Written out so that drawing needs matplotlib only: importing seaborn (which
#: imports scipy) cost the report ~0,5 s before the first chart.
THEME_RC: dict[str, object] = {
    # seaborn whitegrid
    "axes.axisbelow": True, "axes.edgecolor": ".8", "axes.facecolor": "white",
    "axes.grid": True, "axes.labelcolor": ".15", "figure.facecolor": "white",
    "grid.color": ".8", "grid.linestyle": "-", "lines.solid_capstyle": "round",
    "patch.edgecolor": "w", "patch.force_edgecolor": True, "text.color": ".15",
    "xtick.bottom": False, "xtick.color": ".15", "xtick.direction": "out",
    "xtick.top": False, "ytick.color": ".15", "ytick.direction": "out", "ytick.left": False,
    "ytick.right": False,
    # seaborn notebook context
    "font.size": 12, "legend.title_fontsize": 12, "axes.linewidth": 1.25,
    "grid.linewidth": 1, "lines.linewidth": 1.5, "lines.markersize": 6,
    "patch.linewidth": 1, "xtick.major.width": 1.25, "ytick.major.width": 1.25,
    "xtick.minor.width": 1, "ytick.minor.width": 1, "xtick.major.size": 6,
    "ytick.major.size": 6, "xtick.minor.size": 4, "ytick.minor.size": 4,
    # ours: DejaVu Sans pinned (every Vietnamese letter), sizes readable on A4
    "font.family": "sans-serif",
    "font.sans-serif": [FONT],
    "figure.figsize": (A4_WIDTH_IN, 3.2),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.formatter.use_locale": False,
}


def set_theme() -> None:
    """The chart theme for every notebook: DejaVu Sans pinned, sizes readable on A4."""
    import matplotlib
    from matplotlib import cycler

    matplotlib.use("Agg", force=False)
    matplotlib.rcParams.update(THEME_RC)
    matplotlib.rcParams["axes.prop_cycle"] = cycler(color=list(PALETTE))
    # Fonts are found from matplotlib's own files; a missing-glyph warning would reach stderr.
    warnings.filterwarnings("ignore", message="Glyph .* missing from")


def new_figure(figsize: tuple[float, float] = (A4_WIDTH_IN, 3.3)):
    """A figure drawn by Agg, outside pyplot (no global figure list, no GUI backend)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def percent_axis(ax, digits: int = 0, axis: str = "y", cap: float | None = None) -> None:
    """Label an axis of fractions as Vietnamese percentages (0.975 → "97,5 %").

    Ticks above ``cap`` (1.0 for a rate, which cannot pass 100 %) are left unlabelled.
    """
    from matplotlib.ticker import FuncFormatter

    def label(v: float, _pos: int) -> str:
        return "" if cap is not None and v > cap + 1e-12 else fmt_pct(v, digits)

    formatter = FuncFormatter(label)
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)


def count_axis(ax, axis: str = "y") -> None:
    """A count axis: from zero, whole numbers with a dot between thousands."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(MaxNLocator(integer=True))
    target.set_major_formatter(FuncFormatter(lambda v, _pos: fmt_num(v)))
    if axis == "y":
        ax.set_ylim(bottom=0)
    else:
        ax.set_xlim(left=0)


def trend_chart(years: Sequence[str], values: Sequence[float], title: str, *,
                unit: str = "pct", thresholds: Sequence[float] | None = None,
                threshold_labels: Sequence[str | None] | None = None,
                target_label: str = "Mục tiêu của kế hoạch", value_digits: int = 1,
                ylabel: str | None = None):
    """A line of one indicator by school year, with the target drawn as a labelled dashed line.

    ``values`` are fractions when ``unit == "pct"`` (axis shown as percentages), counts
    otherwise (axis from zero).  ``thresholds`` gives the target for each year (NaN where the
    plan sets none), so a target that changes between phases is drawn as it was; each stretch
    of the same target is labelled on the chart with ``threshold_labels`` of its first year.
    """
    years = [str(y) for y in years]
    vals = [float("nan") if is_missing(v) else float(v) for v in values]
    fig = new_figure((A4_WIDTH_IN, 3.3))
    ax = fig.add_subplot()
    xs = list(range(len(years)))
    ax.plot(xs, vals, marker="o", color=LINE_COLOUR, linewidth=2, label="Kết quả", zorder=3)
    for x, v in zip(xs, vals, strict=True):
        if not math.isnan(v):
            text = fmt_pct(v, value_digits) if unit == "pct" else fmt_num(v)
            ax.annotate(text, (x, v), textcoords="offset points", xytext=(0, 8), ha="center",
                        fontsize=8, color=LINE_COLOUR, zorder=4)
    thr: list[float] = []
    if thresholds is not None:
        thr = [float("nan") if is_missing(t) else float(t) for t in thresholds]
        labels = list(threshold_labels) if threshold_labels is not None else [None] * len(thr)
        for n, (first, last, value) in enumerate(runs(thr)):
            ax.hlines(value, first - 0.4, last + 0.4, colors=TARGET_COLOUR, linestyles="--",
                      linewidth=1.6, label=target_label if n == 0 else None, zorder=2)
            text = labels[first] if labels[first] else None
            if text and last > first:  # room for a label on the line; the legend has all
                ax.annotate(text, (first - 0.4, value), textcoords="offset points",
                            xytext=(2, 3), ha="left", va="bottom", fontsize=8,
                            color=TARGET_COLOUR, fontweight="bold", zorder=4)
    ax.set_xticks(xs)
    # "2019-\n2020": eight school years side by side stay readable at A4 width
    ax.set_xticklabels([y.replace("-", "-\n", 1) if len(xs) > 5 else y for y in years],
                       fontsize=8)
    ax.set_xlim(-0.6, len(xs) - 0.4)
    ax.set_title(title, loc="left")
    if ylabel:
        ax.set_ylabel(ylabel)
    finite = [v for v in vals + thr if not math.isnan(v)]
    if unit == "pct":
        from matplotlib.ticker import MultipleLocator

        top = max(finite, default=1.0)
        bottom = min(finite, default=0.0)
        if bottom > 0.5:  # rates near 100 %: show the band that matters, up to 100 %
            span = max(1.0 - bottom, 0.005)
            lo, hi = max(0.0, bottom - span * 0.8), 1.0 + span * 0.3
        else:
            lo, hi = 0.0, max(top * 1.3, 0.001)
        step = nice_pct_step(hi - lo)
        ax.yaxis.set_major_locator(MultipleLocator(step))
        ax.set_ylim(lo, hi)
        percent_axis(ax, digits=pct_decimals(step), cap=1.0)
    else:
        count_axis(ax)
        ax.set_ylim(0, max(max(finite, default=1.0) * 1.25, 1))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1, frameon=False)
    fig.tight_layout()
    return fig


def chart_to_html(fig, alt: str, caption: str | None = None) -> str:
    """The figure as an ``<img>`` with alt text and the PNG embedded (base64); closes ``fig``
    when pyplot made it (figures of :func:`new_figure` are not in pyplot's list)."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig.savefig(buf, format="png", bbox_inches="tight")
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return (f'<figure class="locson-chart" style="margin:8px 0;break-inside:avoid">'
            f'<img src="data:image/png;base64,{data}" alt="{esc(alt)}" '
            f'style="max-width:100%;height:auto">{cap}</figure>')
