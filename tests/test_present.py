"""Vietnamese formatting and chart helpers: exact strings."""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from html.parser import HTMLParser

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from locson_analysis import present as P  # noqa: E402


class TestPercent:
    @pytest.mark.parametrize(("value", "digits", "expected"), [
        (0.975, 1, "97,5 %"),
        (0.998, 1, "99,8 %"),
        (1.0, 1, "100,0 %"),
        (0.0, 1, "0,0 %"),
        (0.5, 0, "50 %"),
        (0.0006, 2, "0,06 %"),
        (0.00125, 2, "0,13 %"),  # half-up, as people round (Babel alone gives 0,12)
        (0.0125, 1, "1,3 %"),
        (12.345, 1, "1.234,5 %"),
    ])
    def test_values(self, value: float, digits: int, expected: str) -> None:
        assert P.fmt_pct(value, digits) == expected

    @pytest.mark.parametrize("missing", [float("nan"), None, pd.NA, math.nan])
    def test_missing_is_a_dash(self, missing: object) -> None:
        assert P.fmt_pct(missing) == "—"

    def test_missing_text_can_be_chosen(self) -> None:
        assert P.fmt_pct(float("nan"), missing="Chưa có số liệu") == "Chưa có số liệu"


class TestNumbers:
    @pytest.mark.parametrize(("value", "digits", "expected"), [
        (1234, 0, "1.234"),
        (1234567.891, 2, "1.234.567,89"),
        (2.5, 1, "2,5"),
        (0, 0, "0"),
        (-0.0001, 1, "0,0"),
        (-1234, 0, "-1.234"),
        (2.5, 0, "3"),
    ])
    def test_fmt_num(self, value: float, digits: int, expected: str) -> None:
        assert P.fmt_num(value, digits) == expected

    def test_money(self) -> None:
        assert P.fmt_money(1234000) == "1.234.000 đ"
        assert P.fmt_money(float("nan")) == "—"

    def test_changes(self) -> None:
        assert P.fmt_pp(0.005) == "+0,5 điểm %"
        assert P.fmt_pp(-0.0125, 2) == "−1,25 điểm %"
        assert P.fmt_pp(0.0) == "không đổi"
        assert P.fmt_signed(3) == "+3"
        assert P.fmt_signed(-2) == "−2"
        assert P.fmt_signed(0) == "không đổi"

    def test_bool(self) -> None:
        assert P.fmt_bool(1.0) == "Có"
        assert P.fmt_bool(0.0) == "Không"
        assert P.fmt_bool(None) == "—"

    def test_not_the_os_locale(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("LC_ALL", "C")
        assert P.fmt_num(1234.5, 1) == "1.234,5"


class TestDates:
    def test_date(self) -> None:
        assert P.fmt_date(dt.date(2025, 5, 31)) == "31/05/2025"
        assert P.fmt_date("2024-09-05") == "05/09/2024"
        assert P.fmt_date(pd.Timestamp("2026-01-02 13:45")) == "02/01/2026"
        assert P.fmt_date(pd.NaT) == "—"

    def test_datetime(self) -> None:
        assert P.fmt_datetime("2025-05-31 14:03:22") == "31/05/2025 14:03"


class TestHtml:
    def test_status_badge(self) -> None:
        assert ">Đạt</span>" in P.status_badge("Đạt")
        assert ">Chưa đạt</span>" in P.status_badge("Chưa đạt")
        assert ">Chưa có số liệu</span>" in P.status_badge(None)
        assert "#b71c1c" in P.status_badge("Chưa đạt")

    def test_table_html_formats_and_escapes(self) -> None:
        df = pd.DataFrame({"Nhóm": ["K'Ho <b>", None], "Tỷ lệ": [0.975, float("nan")],
                           "Số": [1234.0, 2.0]})
        html = P.table_html(df, formats={"Tỷ lệ": "pct"})
        assert "97,5 %" in html
        assert "1.234,0" in html  # unnamed numeric column: Styler decimal="," thousands="."
        assert "&lt;b&gt;" in html and "<b>" not in html
        assert "—" in html
        assert 'class="locson-table"' in html
        assert "<th " in html and "row_heading" not in html  # index hidden

    def test_html_columns_not_escaped(self) -> None:
        df = pd.DataFrame({"Đánh giá": [P.status_badge("Đạt")]})
        html = P.table_html(df, html_columns=("Đánh giá",))
        assert "<span" in html


class TestCharts:
    """The one chart helper (report.charts): seaborn theme, Vietnamese axes on 1-2-5 ticks."""

    def test_theme_pins_dejavu_sans(self) -> None:
        import matplotlib.pyplot as plt

        from locson_analysis.report import charts as C

        C.set_theme()
        assert plt.rcParams["font.sans-serif"][0] == "DejaVu Sans"

    def test_count_axis_from_zero_with_thousands_dot(self) -> None:
        import matplotlib.pyplot as plt

        from locson_analysis.report import charts as C

        C.set_theme()
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 4800])
        C.count_axis(ax)
        fig.canvas.draw()
        assert ax.get_ylim()[0] == 0
        labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
        assert "1.000" in labels and "4.000" in labels  # 1-2-5 steps: every 1.000
        plt.close(fig)

    def test_percent_axis_decimals_follow_the_step(self) -> None:
        import matplotlib.pyplot as plt

        from locson_analysis.report import charts as C

        C.set_theme()
        fig, ax = plt.subplots()
        ax.set_ylim(0.97, 1.01)
        C.percent_axis(ax)
        fig.canvas.draw()
        labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
        assert labels == ["97 %", "98 %", "99 %", "100 %"]  # nothing above 100 %
        ax.set_ylim(0, 0.004)
        fig.canvas.draw()
        labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
        assert "0,1 %" in labels and "0,0 %" in labels
        plt.close(fig)


class TestFigurePng:
    """report.charts.figure_png: what savefig(bbox_inches="tight") gives, drawn once."""

    @staticmethod
    def _chart(**legend):
        import matplotlib.pyplot as plt
        import seaborn as sns

        from locson_analysis.report import charts as C

        C.set_theme()
        fig, ax = plt.subplots()
        sns.lineplot(x=[0, 1, 2], y=[0.95, 0.97, 0.99], marker="o", label="Kết quả", ax=ax)
        C.percent_axis(ax)
        ax.set_title("Tỷ lệ lên lớp", loc="left")
        if legend:
            ax.legend(**legend)
        return fig

    @staticmethod
    def _savefig(fig):
        import io

        import numpy as np
        from PIL import Image

        from locson_analysis.report import charts as C

        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=C.DPI, bbox_inches="tight", facecolor="white")
        return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("L"), dtype=float)

    @staticmethod
    def _image(b64: str):
        import base64
        import io

        import numpy as np
        from PIL import Image

        return np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))).convert("L"),
                          dtype=float)

    def test_drawn_once_looks_like_savefig_tight(self) -> None:
        import matplotlib.pyplot as plt

        from locson_analysis.report import charts as C

        fig = self._chart()
        assert fig.dpi == C.DPI and C._png_drawn_once(fig) is not None  # the one-draw path
        data, meta = C.figure_png(fig)
        once, saved = self._image(data), self._savefig(fig)
        plt.close(fig)
        assert abs(once.shape[0] - saved.shape[0]) <= 2
        assert abs(once.shape[1] - saved.shape[1]) <= 2
        h, w = min(once.shape[0], saved.shape[0]), min(once.shape[1], saved.shape[1])
        best = min(abs(once[dy:dy + h - 2, dx:dx + w - 2]
                       - saved[ey:ey + h - 2, ex:ex + w - 2]).mean()
                   for dy in (0, 1, 2) for dx in (0, 1, 2) for ey in (0, 1, 2)
                   for ex in (0, 1, 2))
        assert best < 3.0  # the same picture (grey levels 0–255), up to a pixel's shift
        assert (once < 128).mean() > 0.005  # and not a blank one
        assert meta["width"] == round(once.shape[1] * C.SCREEN_DPI / C.DPI)

    def test_a_legend_outside_the_figure_is_kept(self) -> None:
        """savefig widens the image to what reaches outside the figure; so does figure_png."""
        import matplotlib.pyplot as plt

        from locson_analysis.report import charts as C

        fig = self._chart(loc="upper left", bbox_to_anchor=(1.1, 1.0))
        assert C._png_drawn_once(fig) is None
        data, _ = C.figure_png(fig)
        image = self._image(data)
        assert image.shape == self._savefig(fig).shape
        assert image.shape[1] > fig.get_figwidth() * C.DPI  # wider than the figure itself
        plt.close(fig)

    def test_a_figure_at_another_resolution_goes_through_savefig(self) -> None:
        import matplotlib.pyplot as plt

        from locson_analysis.report import charts as C

        fig = self._chart()
        fig.set_dpi(72)
        assert C._png_drawn_once(fig) is None
        image = self._image(C.figure_png(fig)[0])
        assert image.shape == self._savefig(fig).shape  # still at DPI, tight
        plt.close(fig)


class _Table(HTMLParser):
    """What a reader sees of one table: caption, header cells with their CSS, body cells with
    their text (written escaped, so that text reading "<b>" differs from bold markup, which is
    kept as markup) and whether they sit on one line at the right.
    CSS comes from the cell's style attribute or from a <style> rule scoped to the table's id
    and the cell's column class — the two ways the table may carry it."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.rules: dict[str, str] = {}
        self.table_id = ""
        self.caption = ""
        self.head: list[dict] = []
        self.rows: list[list[dict]] = []
        self._where: list[str] = []
        self._cell: dict | None = None
        self._style = ""
        self.feed(html)
        for block in self._styles():
            for sel, props in re.findall(r"([^{}]+)\{([^}]*)\}", block):
                self.rules[" ".join(sel.split())] = props

    def _styles(self) -> list[str]:
        return [self._style]

    @staticmethod
    def _props(text: str) -> str:
        return ";".join("".join(p.split()) for p in text.split(";") if p.strip())

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "table":
            self.table_id = a.get("id") or ""
        if self._cell is not None:
            self._cell["text"] += self.get_starttag_text()
            return
        if tag in ("td", "th"):
            self._cell = {"tag": tag, "text": "", "style": a.get("style") or "",
                          "cls": (a.get("class") or "").split()}
        self._where.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._cell is not None and tag not in ("td", "th"):
            self._cell["text"] += f"</{tag}>"
            return
        if tag in ("td", "th") and self._cell is not None:
            self._finish(self._cell)
            self._cell = None
        if tag == "tr" and "tbody" in self._where:
            self.rows.append([])
        if self._where and self._where[-1] == tag:
            self._where.pop()

    def handle_data(self, data: str) -> None:
        if self._cell is not None:  # text as text: "<" in it stays "&lt;", unlike markup
            self._cell["text"] += html.escape(data, quote=False)
        elif self._where and self._where[-1] == "style":
            self._style += data
        elif self._where and self._where[-1] == "caption":
            self.caption += data

    def _css(self, cell: dict) -> str:
        col = next((c for c in cell["cls"] if re.fullmatch(r"col\d+", c)), None)
        props = [cell["style"]]
        for sel, rule in self.rules.items():
            if col and sel in (f"#{self.table_id} td.{col}",) and cell["tag"] == "td":
                props.append(rule)
            if col and sel == f"#{self.table_id} th.col_heading.{col}" and cell["tag"] == "th":
                props.append(rule)
        return self._props(";".join(props))

    def _finish(self, cell: dict) -> None:
        if cell["tag"] == "th":
            self.head.append(cell)
        else:
            if not self.rows:
                self.rows.append([])
            self.rows[-1].append(cell)

    def seen(self) -> tuple:
        head = [(c["text"].strip(), self._css(c)) for c in self.head]
        rows = [[(c["text"].strip(), "text-align:right" in self._css(c)
                  and "white-space:nowrap" in self._css(c)) for c in r]
                for r in self.rows if r]
        return self.caption.strip(), head, rows


def _hand_assembled(df: pd.DataFrame, html_columns=(), right_align=(), col_css=None,
                    caption=None) -> str:
    """text_table as it was before it used the Styler (commit e579ce3): the reference."""
    col_css = col_css or {}
    cols = list(df.columns)
    right = [c in right_align for c in cols]
    raw = [c in html_columns for c in cols]
    head = "".join((f'<th style="{P.esc(col_css[c])}">' if c in col_css else "<th>")
                   + f"{P.esc(c)}</th>" for c in cols)
    body = []
    for values in df.itertuples(index=False, name=None):
        cells = []
        for v, r, h in zip(values, right, raw, strict=True):
            text = ("" if P.is_missing(v) else str(v)) if h else \
                P.esc(P.MISSING if P.is_missing(v) else v)
            style = ' style="text-align:right;white-space:nowrap"' if r else ""
            cells.append(f"<td{style}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{P.esc(caption)}</caption>" if caption else ""
    return (f'{P.TEXT_TABLE_CSS}<table class="locson-table" style="border-collapse:collapse;'
            f'table-layout:auto;width:100%">{cap}<thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


class TestTextTable:
    TRICKY = pd.DataFrame({
        "Nhóm <i>": ["<b>Nam</b>", None, "K'Ho & \"Mạ\"", "Nữ"],
        "Tỷ lệ": ["97,5 %", "—", None, "1.234"],
        "Đánh giá": [P.status_badge("Đạt"), None, P.status_badge("Chưa đạt"), ""],
        "Ghi chú": ["a < b", "", float("nan"), "Chưa có số liệu"]})
    OPTIONS = {"html_columns": ("Đánh giá",), "right_align": ("Tỷ lệ",),
               "col_css": {"Nhóm <i>": "min-width:6em", "Ghi chú": "min-width:12em"},
               "caption": "Bảng <1> & chú thích"}

    def test_same_cells_as_table_html(self) -> None:
        """A frame of text shows the same cells as table_html."""
        df = pd.DataFrame({"Nhóm": ["<b>Nam</b>", None], "Tỷ lệ": ["97,5 %", "—"],
                           "Đánh giá": [P.status_badge("Đạt"), None]})
        old = P.table_html(df, formats={"Nhóm": "text", "Tỷ lệ": "text"},
                           html_columns=("Đánh giá",))
        new = P.text_table(df, html_columns=("Đánh giá",), right_align=("Tỷ lệ",),
                           col_css={"Nhóm": "min-width:6em"})
        seen_new, seen_old = _Table(new).seen(), _Table(old).seen()
        assert [t for t, _ in seen_new[1]] == [t for t, _ in seen_old[1]]
        assert [[t for t, _ in r] for r in seen_new[2]] == [[t for t, _ in r] for r in seen_old[2]]
        assert "&lt;b&gt;Nam&lt;/b&gt;" in new and "<span" in new
        assert 'class="locson-table"' in new and "<style>" in new

    def test_the_styler_shows_what_the_hand_written_table_showed(self) -> None:
        """Before/after: the same caption, headers, header CSS, cell text (escaped text, markup
        kept in HTML columns, "—" for a missing text cell, nothing for a missing HTML cell) and
        the same cells on one line at the right."""
        new = P.text_table(self.TRICKY, **self.OPTIONS)
        old = _hand_assembled(self.TRICKY, **self.OPTIONS)
        seen = _Table(new).seen()
        assert seen == _Table(old).seen()
        caption, head, rows = seen
        assert caption == "Bảng <1> & chú thích"
        assert head[0] == ("Nhóm &lt;i&gt;", "min-width:6em") and head[1] == ("Tỷ lệ", "")
        assert rows[0][0] == ("&lt;b&gt;Nam&lt;/b&gt;", False)  # shown as text, not bold
        assert rows[2][0] == ('K\'Ho &amp; "Mạ"', False)
        assert rows[0][1] == ("97,5 %", True) and rows[2][1] == ("—", True)
        assert rows[0][2][0].startswith('<span class="locson-badge"')  # markup kept
        assert rows[1][2] == ("", False) and rows[1][0] == ("—", False)
        assert rows[2][3] == ("—", False) and rows[1][3] == ("", False)

    def test_real_report_tables_look_the_same(self) -> None:
        """Every table of a report on the synthetic school, before and after."""
        from locson_analysis import sample
        from locson_analysis.report import tables as T

        ds = sample.to_dataset(sample.generate(seed=2025))
        year = T.complete_years(ds)[-1]
        report = T.build_report(ds, year)
        compared = 0
        for table in report.tables.values():
            if table.shown.empty:
                continue
            options = {"html_columns": table.html_columns, "col_css": table.col_css,
                       "right_align": [c for c in table.shown.columns
                                       if c in table.excel_formats
                                       or c in table.excel_row_formats or c in table.nowrap]}
            new = _Table(P.text_table(table.shown, caption=table.title, **options))
            old = _Table(_hand_assembled(table.shown, caption=table.title, **options))
            assert new.seen() == old.seen(), table.key
            assert sum(len(r) for r in new.seen()[2]) == table.shown.size
            compared += 1
        assert compared >= 6

    def test_no_cell_ids_and_tables_never_clash(self) -> None:
        """No per-cell id; the column rules are scoped by a table id that depends on the
        rules only (the same rules, the same id: harmless; other rules, another id)."""
        a = P.text_table(self.TRICKY, right_align=("Tỷ lệ",))
        b = P.text_table(self.TRICKY, right_align=("Ghi chú",))
        assert not re.search(r"<t[dh][^>]*\bid=", a)
        id_a = re.search(r'<table id="([^"]+)"', a).group(1)
        id_b = re.search(r'<table id="([^"]+)"', b).group(1)
        assert id_a != id_b
        assert id_a == re.search(r'<table id="([^"]+)"',
                                 P.text_table(self.TRICKY.head(1), right_align=("Tỷ lệ",))
                                 ).group(1)
        assert f"#{id_a} td.col1" in a and f"#{id_b} td.col3" in b
