"""Vietnamese formatting and chart helpers: exact strings."""

from __future__ import annotations

import datetime as dt
import math

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


class TestTextTable:
    def test_same_cells_as_table_html(self) -> None:
        """A frame of text shows the same cells as table_html, without the pandas Styler."""
        import re

        df = pd.DataFrame({"Nhóm": ["<b>Nam</b>", None], "Tỷ lệ": ["97,5 %", "—"],
                           "Đánh giá": [P.status_badge("Đạt"), None]})
        old = P.table_html(df, formats={"Nhóm": "text", "Tỷ lệ": "text"},
                           html_columns=("Đánh giá",))
        new = P.text_table(df, html_columns=("Đánh giá",), right_align=("Tỷ lệ",),
                           col_css={"Nhóm": "min-width:6em"})

        def cells(html: str) -> list[str]:
            return [c.strip() for c in re.findall(r"<t[hd](?:\s[^>]*)?>(.*?)</t[hd]>", html, re.S)]

        assert cells(new) == cells(old)
        assert "&lt;b&gt;Nam&lt;/b&gt;" in new and "<span" in new
        assert 'class="locson-table"' in new and "<style>" in new
        assert '<td style="text-align:right;white-space:nowrap">97,5 %</td>' in new
        assert '<th style="min-width:6em">Nhóm</th>' in new
        assert "<td></td>" in new  # a missing HTML cell is empty, a missing text cell "—"
