"""Errors a user sees.  Their text is Vietnamese and says what to do."""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Characters that take no room on screen: zero-width spaces and joiners, the soft hyphen,
#: direction marks and isolates, the byte-order mark, the Mongolian vowel separator.
INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
                       "\u2066-\u2069\ufeff]")


def show_invisible(text: str) -> str:
    """The text with each invisible character written out as ``\\u200b`` (for messages: a
    value that looks right but is not)."""
    return INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class LocsonError(Exception):
    """An error with a message meant for the school's staff (no traceback is shown)."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located as a person would find it in Excel."""

    file: str
    message: str  # what is wrong and what was expected, in Vietnamese
    sheet: str | None = None
    row: int | None = None  # the row number Excel shows
    column: str | None = None  # the header as written in the file
    value: object = None

    def __str__(self) -> str:
        where = [f"tệp {self.file}"]
        if self.sheet:
            where.append(f"trang tính «{self.sheet}»")
        if self.row is not None:
            where.append(f"dòng {self.row}")
        if self.column:
            where.append(f"cột «{self.column}»")
        head = ", ".join(where)
        shown = show_invisible(self.value) if isinstance(self.value, str) else self.value
        val = "" if self.value is None else f" giá trị «{shown}»:"
        return f"{head}:{val} {self.message}"


class ImportProblems(LocsonError):
    """Every problem found in an import, reported together; nothing was written."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(self.render())

    def render(self, limit: int | None = None) -> str:
        shown = self.problems if limit is None else self.problems[:limit]
        lines = [f"Không nhập được: phát hiện {len(self.problems)} lỗi. "
                 "Cơ sở dữ liệu không bị thay đổi. Hãy sửa các lỗi sau rồi nhập lại:"]
        lines += [f"  {i}. {p}" for i, p in enumerate(shown, 1)]
        if limit is not None and len(self.problems) > limit:
            lines.append(f"  … và {len(self.problems) - limit} lỗi khác.")
        return "\n".join(lines)
