"""The catalogue of ``docs/indicators.md`` ("## Danh mục chỉ số" to the end), written from the
registry so that the document and the code cannot say two different things.

``.venv/bin/python -m locson_analysis.indicators.catalogue`` rewrites that part of the file;
``tests/test_indicators_registry.py`` checks it is up to date.  The same entries (label,
definition, numerator, denominator, reference date, source) are what the report's appendix
shows: :func:`entry_lines` is the one rendering.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .base import Indicator

HEADING = "## Danh mục chỉ số"
UNITS = {"rate": "tỷ lệ (phân số, 0,975 = 97,5 %)", "count": "số đếm",
         "money": "số tiền (đồng)", "ratio": "tỷ số", "yesno": "có/không (1/0)"}
IN_PROGRESS = {"known": "tính bình thường",
               "so_far": "tính đến thời điểm nhập, có ghi chú",
               "s1": "dùng kết quả học kỳ I, có ghi chú",
               "unknown": "NaN, ghi chú «Chưa có (năm học đang diễn ra)»"}
FAMILY_TITLES = {"enrolment": "Sĩ số và bỏ học", "flow": "Luồng học sinh theo khối",
                 "completion": "Hoàn thành cấp THCS", "intake": "Tuyển sinh lớp 6",
                 "allround": "Phát triển toàn diện",
                 "facilities": "Cơ sở vật chất và dịch vụ"}


def entry_lines(ind: Indicator) -> list[str]:
    """One indicator's entry (heading and bullet lines)."""
    return [f"#### `{ind.key}` — {ind.label_vi}", "",
            f"- Định nghĩa: {ind.definition_vi}", f"- Tử số: {ind.numerator_vi}",
            f"- Mẫu số: {ind.denominator_vi}", f"- Đơn vị: {UNITS[ind.unit]}",
            f"- Thời điểm tham chiếu: {ind.reference_date_vi}",
            f"- Nguồn định nghĩa: {ind.source}",
            f"- Năm học đang diễn ra: {IN_PROGRESS[ind.in_progress]}", ""]


def catalogue_markdown() -> str:
    """The catalogue section, from :data:`locson_analysis.indicators.INDICATORS`."""
    from . import _FAMILIES, INDICATORS, equity

    lines = [HEADING, ""]
    for family in _FAMILIES:
        name = family.__name__.rsplit(".", 1)[-1]
        lines += [f"### {FAMILY_TITLES[name]} (`{name}.py`)", ""]
        for ind in family.INDICATORS:
            lines += entry_lines(ind)
    lines += ["### Chỉ số bình đẳng giới (`equity.py`)", ""]
    for key in equity.PARITY_RATES:
        ind = INDICATORS[f"gender_parity_index_{key}"]
        lines.append(f"- `{ind.key}` — {ind.label_vi}: {ind.numerator_vi} ÷ "
                     f"{ind.denominator_vi[:1].lower()}{ind.denominator_vi[1:]}.")
    return "\n".join(lines) + "\n"


def write(doc: Path) -> bool:
    """Replace the catalogue of ``doc``; True when the file changed."""
    text = doc.read_text(encoding="utf-8")
    head = text[:text.index(HEADING)] if HEADING in text else text.rstrip("\n") + "\n\n"
    new = head + catalogue_markdown()
    if new != text:
        doc.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":
    from ..config import PROJ_ROOT

    changed = write(PROJ_ROOT / "docs" / "indicators.md")
    sys.stdout.write(f"docs/indicators.md: {'đã cập nhật' if changed else 'không đổi'}\n")
