"""Vietnamese formatting and HTML helpers (tables, notes, badges) for the notebooks and the report.

Numbers are formatted with Babel for ``vi_VN`` (never the operating system's locale): a decimal
comma, a dot between thousands, a space before ``%`` (``97,5 %``), dates as ``dd/mm/yyyy``.
Rounding is half-up, as people round by hand (0,125 % → 0,13 %), not Babel's half-even.

Charts are drawn with seaborn through :mod:`locson_analysis.report.charts`.
"""

from __future__ import annotations

import hashlib
import html
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

STATUS_COLOURS = {
    "Đạt": ("#1b5e20", "#e8f5e9"),
    "Chưa đạt": ("#b71c1c", "#ffebee"),
    NO_DATA: ("#455a64", "#eceff1"),
    # a running year: the figure so far, no verdict (targets.TRACKING)
    "Đang theo dõi": ("#0d47a1", "#e3f2fd"),
}



# Numbers, money and dates are formatted in :mod:`locson_analysis.numbers` (re-exported here,
# so notebooks need only ``present``).
# --------------------------------------------------------------------------------------------
# HTML pieces
# --------------------------------------------------------------------------------------------

def esc(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def status_badge(status: object) -> str:
    """A coloured label for a target's status ("Đạt", "Chưa đạt", "Chưa có số liệu",
    "Đang theo dõi")."""
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
RIGHT_CSS = "text-align:right;white-space:nowrap"


def text_table(df: pd.DataFrame, html_columns: Sequence[str] = (),
               right_align: Sequence[str] = (), col_css: Mapping[str, str] | None = None,
               caption: str | None = None) -> str:
    """A table of cells that are text already (e.g. a report table's formatted strings), drawn
    by pandas' Styler with the look of :func:`table_html`.

    Text is shown as it is (HTML-escaped) except in ``html_columns`` (cells built by this
    module, e.g. badges); missing cells read "—" (empty in ``html_columns``);
    ``right_align`` columns stay on one line at the right; ``col_css`` adds CSS to a column's
    header cell (e.g. a minimum width).  No id on any cell: the column rules are scoped by the
    table's id, named after the rules themselves, so two tables on a page never clash.
    """
    from pandas.io.formats.style import Styler

    cols = list(df.columns)
    col_css = col_css or {}
    rules = [{"selector": f"td.col{j}", "props": RIGHT_CSS}
             for j, c in enumerate(cols) if c in right_align]
    rules += [{"selector": f"th.col_heading.col{j}", "props": col_css[c]}
              for j, c in enumerate(cols) if c in col_css]
    uuid = "locson_" + hashlib.sha1(repr(rules).encode("utf-8")).hexdigest()[:10]
    raw = [c for c in cols if c in html_columns]
    styler = (Styler(df, uuid=uuid, uuid_len=0, cell_ids=False)
              .hide(axis="index")
              .format(lambda v: MISSING if is_missing(v) else esc(v),
                      subset=[c for c in cols if c not in raw])
              .format_index(esc, axis=1)
              .set_table_attributes('class="locson-table" style="border-collapse:collapse;'
                                    'table-layout:auto;width:100%"')
              .set_table_styles(rules))
    if raw:
        styler = styler.format(lambda v: "" if is_missing(v) else str(v), subset=raw)
    if caption:
        styler = styler.set_caption(esc(caption))
    return TEXT_TABLE_CSS + styler.to_html()


def paragraph(text: str) -> str:
    return f"<p>{esc(text)}</p>"


def note_box(text: str, kind: str = "note") -> str:
    """A highlighted paragraph (kind "note" or "warn")."""
    colour = "#fff8e1" if kind == "warn" else "#e3f2fd"
    border = "#f9a825" if kind == "warn" else "#1565c0"
    return (f'<div class="locson-note" style="background:{colour};border-left:4px solid {border};'
            f'padding:6px 10px;margin:8px 0">{esc(text)}</div>')
