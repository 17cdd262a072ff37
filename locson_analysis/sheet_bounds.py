"""Where the cells holding data lie in an .ods or .xls file, found before any reader opens it.

python-calamine builds each sheet as a dense grid from its first to its last cell holding a
value: one value in IV65536 of an .xls asks for 65.536 × 256 cells (about 1 GB), one in row
1.000.000 of an .ods for a million rows.  ``read`` checks the cells found here against its
bounds (``read.MAX_ROWS``, ``read.MAX_COLUMNS``) and refuses the file with a message naming the
sheet and the cell, before calamine opens it.  (The .xlsx check is ``read._far_cell``.)

What counts as a cell holding data is what calamine puts in its grid (checked on hostile files
in ``tests/test_read_bounds.py``):

- .ods (``content.xml``): a ``table-cell`` or ``covered-table-cell`` with an ``value-type``
  attribute, repeated ``number-columns-repeated`` times, in a row repeated
  ``number-rows-repeated`` times.  Empty cells and rows — LibreOffice writes the rest of the
  sheet as one empty row repeated to row 1.048.576 — are not data, however often repeated.
- .xls (BIFF5/BIFF8 records of the ``Workbook``/``Book`` stream): the records that put a value
  in a cell (NUMBER, RK, MULRK, LABELSST, LABEL, RSTRING, BOOLERR, FORMULA), each sheet read
  from the offset its BOUNDSHEET record gives, as calamine reads it.  BLANK and MULBLANK
  (formatting only), ROW and the declared DIMENSIONS are not data (calamine ignores them).

The check is exact for both: every record or element calamine would turn into a cell is seen.
(A table inside an .ods cell — a sub-table, never written by Calc — is skipped: python-calamine
0.9 does not read it either.)
"""

from __future__ import annotations

import html
import re
import struct
from dataclasses import dataclass


@dataclass(frozen=True)
class FarCell:
    """The first cell holding data past the bounds in one sheet (1-based row and column)."""

    sheet: str
    row: int
    col: int


class BadStructure(Exception):
    """The file's inner structure cannot be walked (the caller says the file is damaged)."""


# --- OpenDocument (.ods) ------------------------------------------------------------------------

#: A start or end tag of a table, row or cell, any namespace prefix, attributes kept whole
#: (a quoted value may hold ">").  "table-row-group", "table-rows" and "table-column" are not
#: matched (the name must end there).
_ODS_TAG = re.compile(
    rb"<(/?)(?:[A-Za-z_][\w.-]*:)?(table|table-row|table-cell|covered-table-cell)(?=[\s/>])"
    rb"((?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(/?)>")
_ODS_ATTR = re.compile(rb"(?:^|\s)(?:[A-Za-z_][\w.-]*:)?([\w.-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")


_VALUE_TYPE = re.compile(rb"(?:^|\s)(?:[A-Za-z_][\w.-]*:)?value-type\s*=")


def _attrs(raw: bytes) -> dict[bytes, list[bytes]]:
    """Attribute values by local name (every namespace's, in order)."""
    out: dict[bytes, list[bytes]] = {}
    for m in _ODS_ATTR.finditer(raw):
        out.setdefault(m.group(1), []).append(
            m.group(2) if m.group(2) is not None else m.group(3))
    return out


def _repeat(attrs: dict[bytes, list[bytes]], key: bytes) -> int:
    """A repeat count; of several (in different namespaces) the largest, so that no count a
    reader might use is missed."""
    counts = [1]
    for value in attrs.get(key, []):
        try:
            counts.append(int(value.strip()))
        except ValueError:
            continue
    return max(counts)


def ods_far_cells(content_xml: bytes, max_rows: int, max_cols: int) -> list[FarCell]:
    """The first cell holding data beyond ``max_rows`` or ``max_cols`` of each sheet of an
    OpenDocument spreadsheet's ``content.xml`` (sheets in order; none when all are inside)."""
    out: list[FarCell] = []
    sheet: str | None = None
    depth = 0  # a table inside a cell (a sub-table) is skipped, as calamine skips it
    row = 0  # rows of the sheet before the current row element
    row_rep = 1
    in_row = False
    col = 0
    found: tuple[int, int] | None = None  # this sheet's first far cell
    first_data_col = 0  # first column holding data in the current row (0: none)

    def end_row() -> None:
        nonlocal row, found, in_row
        if in_row and first_data_col and row + row_rep > max_rows:
            cand = (max(row + 1, max_rows + 1), first_data_col)
            found = cand if found is None or cand < found else found
        if in_row:
            row += row_rep
        in_row = False

    for m in _ODS_TAG.finditer(content_xml):
        closing, name, raw, selfclosing = m.groups()
        if name == b"table":
            if closing:
                depth -= 1
                if depth == 0 and sheet is not None:
                    end_row()
                    if found is not None:
                        out.append(FarCell(sheet, *found))
                    sheet = None
            elif not selfclosing:
                depth += 1
                if depth == 1:
                    a = _attrs(raw)
                    raw_name = (a.get(b"name") or [b""])[0]
                    sheet = html.unescape(raw_name.decode("utf-8", "replace"))
                    row, in_row, found, first_data_col = 0, False, None, 0
            continue
        if sheet is None or depth > 1:
            continue
        if name == b"table-row":
            if closing:
                end_row()
                continue
            end_row()
            row_rep = _repeat(_attrs(raw), b"number-rows-repeated")
            in_row, col, first_data_col = True, 0, 0
            if selfclosing:
                end_row()
            continue
        if closing or not in_row:
            continue
        if not raw:  # <table:table-cell/>, the commonest
            col += 1
            continue
        # (attributes parsed only when they may matter: the check runs on every cell)
        rep = _repeat(_attrs(raw), b"number-columns-repeated") if b"repeated" in raw else 1
        if b"value-type" in raw and _VALUE_TYPE.search(raw):
            if not first_data_col:
                first_data_col = col + 1
            if col + rep > max_cols:
                cand = (row + 1, max(col + 1, max_cols + 1))
                found = cand if found is None or cand < found else found
        col += rep
    if sheet is not None:  # a document cut short: what was seen still counts
        end_row()
        if found is not None:
            out.append(FarCell(sheet, *found))
    return out


# --- Excel 97–2003 (.xls, BIFF) -----------------------------------------------------------------

#: Records that put a value in one cell: row (u16), column (u16) first.
_BIFF_CELL = frozenset({
    0x0006,  # FORMULA
    0x00D6,  # RSTRING
    0x00FD,  # LABELSST
    0x0203,  # NUMBER
    0x0204,  # LABEL
    0x0205,  # BOOLERR
    0x027E,  # RK
})
_BIFF_MULRK = 0x00BD  # row, first column, (XF, RK) × n, last column (u16 at the end)
_BIFF_BOF = frozenset({0x0809, 0x0409, 0x0209, 0x0009})
_BIFF_EOF = 0x000A
_BIFF_BOUNDSHEET = 0x0085
#: More sheets than this is not a school's workbook (and would make the walk quadratic).
MAX_XLS_SHEETS = 1000


def _boundsheets(stream: bytes) -> list[tuple[int, str]]:
    """(offset of the sheet's BOF, sheet name) of every BOUNDSHEET record of the globals."""
    sheets = []
    pos, n = 0, len(stream)
    biff8 = False
    while pos + 4 <= n:
        typ, size = struct.unpack_from("<HH", stream, pos)
        body = stream[pos + 4:pos + 4 + size]
        if pos == 0 and typ in _BIFF_BOF and len(body) >= 2:
            biff8 = struct.unpack_from("<H", body)[0] == 0x0600
        if typ == _BIFF_BOUNDSHEET and len(body) >= 7:
            offset = struct.unpack_from("<I", body)[0]
            cch = body[6]
            if biff8 and len(body) >= 8:
                wide = body[7] & 1
                raw = body[8:8 + cch * (2 if wide else 1)]
                name = raw.decode("utf-16-le" if wide else "latin-1", "replace")
            else:
                name = body[7:7 + cch].decode("cp1258", "replace")
            sheets.append((offset, name))
        elif typ == _BIFF_EOF:
            break
        pos += 4 + size
    return sheets


def _biff_far_cell(stream: bytes, start: int, max_rows: int,
                   max_cols: int) -> tuple[int, int] | None:
    """The first cell holding data past the bounds in the sheet whose BOF is at ``start``
    (embedded substreams, such as a chart's, are walked too)."""
    pos, n = start, len(stream)
    depth = 0
    while pos + 4 <= n:
        typ, size = struct.unpack_from("<HH", stream, pos)
        if typ in _BIFF_CELL and size >= 4:
            r, c = struct.unpack_from("<HH", stream, pos + 4)
            if r + 1 > max_rows or c + 1 > max_cols:
                return r + 1, c + 1
        elif typ == _BIFF_MULRK and size >= 6:
            r, first = struct.unpack_from("<HH", stream, pos + 4)
            last = struct.unpack_from("<H", stream, pos + 4 + size - 2)[0]
            if last >= first and r + 1 > max_rows:
                return r + 1, first + 1
            if last >= first and last + 1 > max_cols:
                return r + 1, max(first + 1, max_cols + 1)
        elif typ in _BIFF_BOF:
            depth += 1
        elif typ == _BIFF_EOF:
            depth -= 1
            if depth <= 0:
                return None
        pos += 4 + size
    return None


def xls_far_cells(data: bytes, max_rows: int, max_cols: int) -> list[FarCell]:
    """The first cell holding data beyond the bounds in each sheet of an .xls (OLE2) file.

    Raises :class:`BadStructure` when the OLE2 container or its workbook stream cannot be
    read; an OLE2 file without a workbook stream (a Word document renamed .xls) gives no cell
    (the reader then says what it is)."""
    import olefile

    try:
        ole = olefile.OleFileIO(data)
    except Exception as exc:  # noqa: BLE001 - olefile raises several kinds on damaged files
        raise BadStructure(str(exc)) from exc
    try:
        name = next((s for s in ("Workbook", "Book") if ole.exists(s)), None)
        if name is None:
            return []
        try:
            stream = ole.openstream(name).read()
        except Exception as exc:  # noqa: BLE001
            raise BadStructure(str(exc)) from exc
    finally:
        ole.close()
    sheets = _boundsheets(stream)
    if len(sheets) > MAX_XLS_SHEETS:
        raise BadStructure(f"{len(sheets)} sheets")
    out = []
    seen: dict[int, tuple[int, int] | None] = {}
    for offset, sheet in sheets:
        if offset not in seen:
            seen[offset] = _biff_far_cell(stream, offset, max_rows, max_cols)
        found = seen[offset]
        if found is not None:
            out.append(FarCell(sheet, *found))
    return out
