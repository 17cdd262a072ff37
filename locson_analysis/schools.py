"""The PGD's schools (``data/schools.yaml``): codes, names, and which school a command is about.

One database may hold several schools (every row carries ``school_code``).  The school's own
analyst works with Lộc Sơn (``contract.DEFAULT_SCHOOL``); the PGD works with all of them.
:func:`school_in_titles` recognises a school from the title rows of a staff file ("TRƯỜNG THCS
LỘC SƠN"); :func:`choose_school` picks the school a command reports on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from . import config
from .contract import DEFAULT_SCHOOL, SCHOOL_NAME, fold
from .errors import LocsonError

#: What a school code may hold: it names folders (outputs/<code>/…), so no "/", "..", space.
CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class School:
    code: str
    name: str  # as written, without "Trường": "THCS Lộc Sơn"
    other_names: tuple[str, ...] = field(default_factory=tuple)

    def folded_names(self) -> list[str]:
        return [fold(n) for n in (self.name, *self.other_names)]


def load_registry(path: str | Path | None = None) -> dict[str, School]:
    """code → :class:`School`, in file order.  A bad file is a :class:`LocsonError`."""
    path = Path(path) if path else config.SCHOOLS_FILE
    if not path.exists():
        return {DEFAULT_SCHOOL: School(DEFAULT_SCHOOL, SCHOOL_NAME.removeprefix("Trường "))}
    return _registry(_read(path), path)


def _read(path: Path) -> object:
    return config.read_yaml(path, "Tệp danh sách trường") or {}


def _registry(raw: object, path: Path) -> dict[str, School]:
    entries = raw.get("schools") if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise LocsonError(f"Tệp danh sách trường {config.shown(path)} cần mục «schools:» là "
                          "một danh sách các trường (code, name).")
    out: dict[str, School] = {}
    for i, e in enumerate(entries, 1):
        if not isinstance(e, dict) or not e.get("code") or not e.get("name"):
            raise LocsonError(f"Tệp danh sách trường {config.shown(path)}: trường thứ {i} "
                              "thiếu «code» hoặc «name».")
        code = str(e["code"]).strip()
        if not CODE_RE.fullmatch(code):
            raise LocsonError(f"Tệp danh sách trường {config.shown(path)}: mã trường «{code}» "
                              "chỉ được gồm chữ không dấu, chữ số, «_» hoặc «-» (không "
                              "khoảng trắng, không «/»).")
        if code in out:
            raise LocsonError(f"Tệp danh sách trường {config.shown(path)}: mã trường {code} "
                              "ghi hai lần.")
        others = e.get("other_names") or []
        out[code] = School(code, str(e["name"]).strip(),
                           tuple(str(n).strip() for n in others))
    return out


def check_code(requested: str, registry: dict[str, School] | None = None) -> str:
    """The listed code for a code a user typed or a file gave (``--school locson`` →
    ``LOCSON``): it must be a code of ``data/schools.yaml``, compared without regard to case;
    otherwise a :class:`LocsonError` listing the known codes.  Only such codes name folders."""
    registry = registry if registry is not None else load_registry()
    text = str(requested).strip()
    by_folded = {c.casefold(): c for c in registry}
    code = by_folded.get(text.casefold())
    if code is None or not CODE_RE.fullmatch(code):
        raise LocsonError(f"Mã trường «{requested}» không có trong danh sách trường "
                          f"data/schools.yaml. Các mã trường đã biết: {', '.join(registry)}. "
                          f"Nếu là trường mới, Phòng GD&ĐT thêm trường vào tệp đó trước.")
    return code


def school_name(code: str, registry: dict[str, School] | None = None) -> str:
    """"Trường THCS Lộc Sơn" for LOCSON; the code itself for a school not in the registry."""
    try:
        registry = registry if registry is not None else load_registry()
    except LocsonError:
        registry = {}
    school = registry.get(code)
    return f"Trường {school.name}" if school else f"Trường {code}"


# A title row that names a school: "TRƯỜNG THCS LỘC SƠN", "THCS Lộc Sơn - TP Bảo Lộc".
_SCHOOL_LINE = re.compile(r"^(truong\s+)?(thcs|th\s+thcs|thcs\s+thpt|pt\s*dtnt|ptdtnt)\b")


@dataclass(frozen=True)
class TitleSchool:
    """What a title row says about the school: its text and, when known, its code."""

    text: str  # as written
    code: str | None  # None: the name is not in the registry


def school_in_titles(texts: Iterable[str],
                     registry: dict[str, School]) -> list[TitleSchool]:
    """The school names found in title-row texts (each text once, in order)."""
    found: list[TitleSchool] = []
    seen: set[str] = set()
    names = [(f, s.code) for s in registry.values() for f in s.folded_names()]
    for text in texts:
        folded = fold(text)
        if not _SCHOOL_LINE.match(folded) or folded in seen:
            continue
        seen.add(folded)
        body = folded.removeprefix("truong ")
        codes = {code for f, code in names
                 if body == f or re.search(rf"(^|\s){re.escape(f)}(\s|$)", body)}
        found.append(TitleSchool(str(text).strip(), codes.pop() if len(codes) == 1 else None))
    return found


def choose_school(codes: Iterable[str], requested: str | None = None) -> str:
    """The school a command is about.

    ``requested`` if given (it must be in the database); else Lộc Sơn when the database has it;
    else the only school; several schools without Lộc Sơn need ``--school``.  An empty database
    gives the default school (the command then says the data are missing).
    """
    present = sorted({str(c) for c in codes})
    if requested:
        if present and requested not in present:
            raise LocsonError(f"Cơ sở dữ liệu không có trường mã «{requested}». Các mã trường "
                              f"hiện có: {', '.join(present)}.")
        return requested
    if not present or DEFAULT_SCHOOL in present:
        return DEFAULT_SCHOOL
    if len(present) == 1:
        return present[0]
    raise LocsonError(f"Cơ sở dữ liệu có {len(present)} trường ({', '.join(present)}) và không "
                      f"có trường mặc định {DEFAULT_SCHOOL}: hãy chọn một trường bằng "
                      f"--school MÃ, ví dụ --school {present[0]}.")


def codes_in(*frames: object) -> list[str]:
    """Every school code of the given DataFrames (those with a ``school_code`` column)."""
    out: set[str] = set()
    for df in frames:
        cols = getattr(df, "columns", ())
        if "school_code" in cols and len(df):  # type: ignore[arg-type]
            out.update(str(c) for c in df["school_code"].dropna().unique())  # type: ignore[index]
    return sorted(out)


# --- groups of schools (the managing office's report) -------------------------------------------

#: The group name that means every school: the registry's and the database's.
ALL_GROUP = "all"
ALL_GROUP_NAME = "Tất cả các trường"
_GROUP_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class Group:
    """A named set of schools reported together (``data/schools.yaml``, key ``groups:``)."""

    key: str  # as written in the file and on the command line ("phuong-1"); "" for a list
    name: str  # shown to readers ("Các trường THCS phường 1")
    codes: tuple[str, ...]


def _group_entry(key: object, entry: object, registry: dict[str, School],
                 problems: list[str]) -> Group | None:
    before = len(problems)
    where = f"nhóm «{key}»"
    if not isinstance(key, str) or not _GROUP_KEY.match(key):
        problems.append(f"{where}: tên nhóm chỉ gồm chữ thường không dấu, chữ số, «-» hoặc «_» "
                        f"(tên này dùng trong lệnh và làm tên thư mục), ví dụ «phuong-1»")
    elif key == ALL_GROUP:
        problems.append(f"{where}: tên «{ALL_GROUP}» dành cho tất cả các trường; hãy đặt tên "
                        f"khác")
    name: object = None
    codes: object = entry
    if isinstance(entry, dict):
        name, codes = entry.get("name"), entry.get("schools")
        if name is not None and not (isinstance(name, str) and name.strip()):
            problems.append(f"{where}: «name» cần là tên nhóm để in trên báo cáo, nhận được "
                            f"«{name}»")
    if not isinstance(codes, list) or not codes:
        problems.append(f"{where}: cần danh sách mã trường, ví dụ «[LOCSON, LOCPHAT]» (hoặc "
                        f"«name:» và «schools:»), nhận được «{codes}»")
        return None
    seen: set[str] = set()
    for c in codes:
        code = str(c).strip()
        if code not in registry:
            problems.append(f"{where}: mã trường «{code}» không có trong danh sách trường (mục "
                            f"«schools:»)")
        elif code in seen:
            problems.append(f"{where}: mã trường «{code}» ghi hai lần")
        seen.add(code)
    if len(problems) > before:
        return None
    title = name.strip() if isinstance(name, str) else f"Nhóm trường {key}"
    return Group(str(key), title, tuple(str(c).strip() for c in codes))


def load_groups(path: str | Path | None = None) -> dict[str, Group]:
    """key → :class:`Group`, in file order (key ``groups:`` of ``data/schools.yaml``; none when
    the file or the key is absent).  Every problem of the file is reported at once."""
    path = Path(path) if path else config.SCHOOLS_FILE
    if not path.exists():
        return {}
    raw = _read(path)  # read once: the schools and the groups
    registry = _registry(raw, path)
    entries = raw.get("groups") if isinstance(raw, dict) else None
    if entries is None:
        return {}
    if not isinstance(entries, dict):
        raise LocsonError(f"Tệp danh sách trường {config.shown(path)}: mục «groups:» cần là "
                          "một bảng «tên nhóm: [mã trường, …]», "
                          f"nhận được «{entries}».")
    problems: list[str] = []
    out: dict[str, Group] = {}
    for key, entry in entries.items():
        group = _group_entry(key, entry, registry, problems)
        if group is not None:
            out[group.key] = group
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise LocsonError(f"Tệp danh sách trường {config.shown(path)} có {len(problems)} lỗi "
                          f"ở mục «groups:»:\n{lines}")
    return out


def resolve_group(selection: str | Iterable[str] | None = None, present: Iterable[str] = (),
                  path: str | Path | None = None) -> Group:
    """The schools a group report covers.

    ``selection``: ``None`` or ``"all"`` — every school of the registry and of the database
    (``present``: the codes in the database), registry order first; a group name of the file;
    or a list of school codes (each in the registry or the database).
    """
    registry = load_registry(path)
    present = sorted({str(c) for c in present})
    known = [*registry, *[c for c in present if c not in registry]]
    if selection is None or selection == ALL_GROUP:
        return Group(ALL_GROUP, ALL_GROUP_NAME, tuple(known))
    if isinstance(selection, str):
        groups = load_groups(path)
        if selection not in groups:
            names = ", ".join([*groups, ALL_GROUP])
            raise LocsonError(f"Không có nhóm trường «{selection}» trong tệp "
                              f"{config.shown(path or config.SCHOOLS_FILE)}. Các nhóm hiện có: "
                              f"{names}.")
        return groups[selection]
    codes = list(dict.fromkeys(str(c).strip() for c in selection))
    unknown = [c for c in codes if c not in known]
    if unknown or not codes:
        raise LocsonError(f"Không có trường mã {', '.join(f'«{c}»' for c in unknown)} trong "
                          f"danh sách trường hay trong cơ sở dữ liệu. Các mã trường hiện có: "
                          f"{', '.join(known)}." if unknown else
                          "Danh sách trường để báo cáo đang trống.")
    return Group("", f"{len(codes)} trường được chọn", tuple(codes))
