"""Faults of the machine (disk full, no permission, read-only folder) in words staff can act on.

The store and the ``locson`` command turn an ``OSError`` or a DuckDB I/O error into a
:class:`StepFailed`: which step failed, why (in Vietnamese), and what happened to the data —
said only when it is known.
"""

from __future__ import annotations

import errno
import os
import traceback
from pathlib import Path

from . import config
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


# --- Errors of the program (a bug, not the machine and not the data) ----------------------------

#: ``LOCSON_DEBUG=1``: the ``locson`` command lets a program error end in Python's traceback.
DEBUG_ENV = "LOCSON_DEBUG"
#: Where the technical log of a program error goes (default: outputs/logs, else the user's
#: cache folder ~/.cache/locson/logs).
LOG_DIR_ENV = "LOCSON_LOG_DIR"


def debug() -> bool:
    return os.environ.get(DEBUG_ENV, "").strip() not in ("", "0")


def log_dirs() -> list[Path]:
    """The folders a program error's log may go to, in order of preference."""
    chosen = os.environ.get(LOG_DIR_ENV)
    if chosen:
        return [Path(chosen)]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return [config.OUTPUTS_DIR / "logs", cache / "locson" / "logs"]


def technical_report(exc: BaseException) -> str:
    """The traceback of ``exc`` and of the errors it came from — file, line, function and
    source line of every frame, the errors' types — with no message and no local variable:
    a message may quote a cell of a staff file (a pupil's name), the code never does."""
    chain: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and all(e is not c for c in chain):
        chain.append(e)
        e = e.__cause__ or (None if e.__suppress_context__ else e.__context__)
    parts: list[str] = []
    for i, e in enumerate(reversed(chain)):
        if i:
            parts.append("\nDuring handling of the above exception, another exception "
                         "occurred:\n\n")
        parts.append("Traceback (most recent call last):\n")
        parts += traceback.format_list(traceback.extract_tb(e.__traceback__))
        parts.append(f"{type(e).__module__}.{type(e).__qualname__} "
                     "(message not recorded: it may hold a pupil's data)\n")
    return "".join(parts)


def write_log(exc: BaseException, command: str) -> Path | None:
    """Write :func:`technical_report` of a program error to a new file (owner-only) in the
    first of :func:`log_dirs` that can be written; None when none can."""
    import platform
    from datetime import datetime

    from . import __version__

    now = datetime.now()
    text = (f"locson {command} — lỗi chương trình lúc {now:%d/%m/%Y %H:%M:%S}\n"
            f"locson_analysis {__version__}, Python {platform.python_version()}, "
            f"{platform.system()}\n"
            "Tệp này chỉ có vết lỗi của mã chương trình, không có dữ liệu học sinh.\n\n"
            + technical_report(exc))
    for folder in log_dirs():
        try:
            config.private_dir(folder)
            path = folder / f"loi_{now:%Y%m%d_%H%M%S}_{command}_{os.getpid()}.txt"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            return path
        except OSError:
            continue
    return None


def program_error_message(step: str, command: str, outcome: str, log: Path | None) -> str:
    """What the ``locson`` command says of a program error (Vietnamese, no traceback)."""
    where = (f"Chi tiết kỹ thuật (không có dữ liệu học sinh) đã ghi vào {log}: hãy gửi tệp đó "
             "cho người phụ trách kỹ thuật." if log is not None else
             "Không ghi được tệp chi tiết kỹ thuật.")
    return (f"Lỗi chương trình ở bước «{step}» (lệnh locson {command}): đây là lỗi của chương "
            f"trình, không phải của dữ liệu trong tệp. {outcome} {where} Để xem chi tiết ngay "
            f"trên màn hình, chạy lại lệnh với {DEBUG_ENV}=1.")
