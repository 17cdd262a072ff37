"""Faults of the machine (disk full, no permission, read-only folder) in words staff can act on.

The store and the ``locson`` command turn an ``OSError`` or a DuckDB I/O error into a
:class:`StepFailed`: which step failed, why (in Vietnamese), and what happened to the data —
said only when it is known.
"""

from __future__ import annotations

import errno

from .errors import LocsonError

#: What a failed step did to the database, as the message says it.
UNCHANGED = "Cơ sở dữ liệu không bị thay đổi."
UNKNOWN = ("Không xác định được cơ sở dữ liệu đã thay đổi hay chưa: hãy xem bằng "
           "locson history trước khi chạy lại.")

_BY_ERRNO = {
    errno.ENOSPC: "ổ đĩa đã đầy",
    errno.EDQUOT: "đã hết dung lượng được cấp trên ổ đĩa",
    errno.EFBIG: "tệp vượt quá dung lượng tối đa được phép ghi (ổ đĩa đầy hoặc bị giới hạn)",
    errno.EACCES: "không có quyền ghi",
    errno.EPERM: "không có quyền ghi",
    errno.EROFS: "thư mục chỉ cho đọc (ổ đĩa hay thư mục không cho ghi)",
    errno.ENOENT: "không tìm thấy tệp hoặc thư mục",
    errno.ENOTDIR: "đường dẫn có một phần là tệp chứ không phải thư mục",
    errno.EISDIR: "đường dẫn là một thư mục, cần một tệp",
    errno.EIO: "lỗi đọc/ghi của ổ đĩa",
}
_BY_TEXT = [
    ("no space left", errno.ENOSPC),
    ("disk quota", errno.EDQUOT),
    ("file too large", errno.EFBIG),
    ("permission denied", errno.EACCES),
    ("operation not permitted", errno.EPERM),
    ("read-only file system", errno.EROFS),
]


def fault_errno(exc: BaseException) -> int | None:
    """The ``errno`` of an OSError, or the one a DuckDB error's text names (it gives only text)."""
    if isinstance(exc, OSError) and exc.errno in _BY_ERRNO:
        return exc.errno
    text = str(exc).lower()
    for needle, code in _BY_TEXT:
        if needle in text:
            return code
    return exc.errno if isinstance(exc, OSError) else None


def is_machine_fault(exc: BaseException) -> bool:
    """An error of the disk or the file system (not of the data)."""
    return isinstance(exc, OSError) or fault_errno(exc) is not None


def reason(exc: BaseException) -> str:
    """Why, in Vietnamese, with the file named when it is known."""
    code = fault_errno(exc)
    why = _BY_ERRNO.get(code) if code is not None else None
    if why is None:
        why = f"lỗi hệ thống ({type(exc).__name__}: {exc})"
    name = getattr(exc, "filename", None)
    return f"{why} ({name})" if name else why


class StepFailed(LocsonError):
    """A step that failed because of the machine; the message says what the data became."""

    def __init__(self, step: str, exc: BaseException, outcome: str) -> None:
        self.step = step
        self.outcome = outcome
        super().__init__(message(step, exc, outcome))


def message(step: str, exc: BaseException, outcome: str) -> str:
    """«bước «…» không làm được: why. what the data became» (the CLI puts «Lỗi: » before)."""
    return f"bước «{step}» không làm được: {reason(exc)}. {outcome}"
