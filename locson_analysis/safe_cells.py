"""Text we write to .xlsx and .csv files is never a live formula (formula injection).

A pupil's name, an ethnicity or a note can begin with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return (the OWASP list of characters a spreadsheet may treat as the start of a
formula).  Every writer goes through this module:

* Excel (:func:`protect_sheet` / :func:`protect_workbook`, or :func:`write_excel` for a
  DataFrame): such a cell is stored as a text cell with Excel's "quote prefix" style — the
  reader sees exactly the text, and editing the cell does not turn it into a formula;
* CSV (:func:`safe_frame` before ``to_csv``, or :func:`write_csv`): such a text gets one
  leading apostrophe (the OWASP rule); :func:`restore_text` / :func:`restore_frame` take it
  off again when our own program reads the file back, so the round trip is exact.

Numbers stay numbers: only text is touched, and a text that is just a number («-3», «+1,5»)
is left alone.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import IO, Any

import pandas as pd

#: The characters a spreadsheet may read as the start of a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d[\d.,\s]*%?")


def is_risky(text: str) -> bool:
    """True when ``text`` could be read as a formula by a spreadsheet."""
    return text.startswith(FORMULA_STARTS) and _PLAIN_NUMBER.fullmatch(text) is None


def _needs_prefix(text: str) -> bool:
    # A text already starting with apostrophes before a risky start gets one more, so that
    # restore_text can tell our apostrophe from the writer's own.
    return is_risky(text.lstrip("'")) and (text.startswith("'") or is_risky(text))


def neutralise(value: Any) -> Any:
    """The CSV form of one value: a risky text with a leading apostrophe, anything else as is."""
    if isinstance(value, str) and _needs_prefix(value):
        return "'" + value
    return value


def restore_text(value: Any) -> Any:
    """Undo :func:`neutralise` (for files our own program wrote and reads back)."""
    if isinstance(value, str) and value.startswith("'") and _needs_prefix(value[1:]):
        return value[1:]
    return value


def _text_columns(df: pd.DataFrame) -> list[str]:
    text = (pd.StringDtype, pd.CategoricalDtype)
    return [c for c in df.columns if df[c].dtype == object or isinstance(df[c].dtype, text)]


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells (and column names) are neutralised for CSV."""
    out = df.copy()
    for c in _text_columns(out):
        col = out[c]
        if isinstance(col.dtype, pd.CategoricalDtype):
            col = col.astype(object)
        out[c] = col.map(neutralise, na_action="ignore")
    out.columns = [neutralise(c) for c in out.columns]
    return out


def restore_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Undo :func:`safe_frame` on a CSV read back with pandas."""
    out = df.copy()
    for c in _text_columns(out):
        out[c] = out[c].map(restore_text, na_action="ignore")
    out.columns = [restore_text(c) for c in out.columns]
    return out


def write_csv(df: pd.DataFrame, path_or_buf: str | Path | IO[str], **kwargs: Any) -> None:
    """``df.to_csv`` with every text cell neutralised and quoted: a carriage return inside a
    text (which the csv module leaves unquoted) cannot start a line of its own."""
    kwargs.setdefault("quoting", csv.QUOTE_NONNUMERIC)
    safe_frame(df).to_csv(path_or_buf, **kwargs)


def protect_cell(cell: Any) -> None:
    """Make one openpyxl cell holding risky text a plain text cell (quote prefix)."""
    value = cell.value
    if isinstance(value, str) and is_risky(value):
        cell.data_type = "s"  # openpyxl makes any text starting with "=" a formula
        cell.quotePrefix = True  # Excel keeps it text when the cell is edited


def protect_sheet(ws: Any) -> None:
    """Every cell of an openpyxl worksheet (normal mode) checked by :func:`protect_cell`."""
    for row in ws.iter_rows():
        for cell in row:
            protect_cell(cell)


def protect_workbook(wb: Any) -> None:
    """Every sheet of an openpyxl workbook checked; call it just before ``wb.save``."""
    for ws in wb.worksheets:
        protect_sheet(ws)


def write_excel(df: pd.DataFrame, path: str | Path, sheet_name: str = "Sheet1") -> Path:
    """``df`` as a one-sheet workbook (header row, no index), every text cell safe."""
    from openpyxl import Workbook

    path = Path(path)
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_name
    ws.append([str(c) for c in df.columns])
    for row in df.itertuples(index=False):
        ws.append([excel_value(v) for v in row])
    protect_workbook(wb)
    wb.save(path)
    return path


def excel_value(v: Any) -> Any:
    """One DataFrame value as openpyxl takes it: NaN/NaT/None → empty, a Timestamp → datetime,
    a numpy scalar → its Python value, anything else as is."""
    if v is None or (not isinstance(v, str) and pd.api.types.is_scalar(v) and pd.isna(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if hasattr(v, "item") and not isinstance(v, str):
        return v.item()
    return v
