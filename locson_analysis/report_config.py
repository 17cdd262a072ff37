"""The official-document settings of the report (``data/report.yaml``, Nghị định 30/2020/NĐ-CP).

:func:`official_document` gives everything the title block and the closing block of a report
need for one school, school year and date: national motto and tagline, managing body and
school, document number field, place and date line, «Kính gửi», «Nơi nhận», signature.  The
recipient depends on the school year (``recipients`` ranges): the plan's Phòng GD&ĐT thành phố
Bảo Lộc up to 2024-2025; from 2025-2026 (two-level local government since 1 July 2025) the body
the school configures — the shipped default is marked ``confirmed: false`` and the document
says so until the school confirms it.  :func:`suppression_threshold` reads the small-cell
threshold (:mod:`locson_analysis.disclosure`).

A bad file is one :class:`~locson_analysis.errors.LocsonError` listing every problem, each
naming the file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from . import config
from .contract import parse_school_year, start_year, year_label
from .disclosure import DEFAULT_THRESHOLD
from .errors import LocsonError

MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
TAGLINE = "Độc lập - Tự do - Hạnh phúc"
#: Used when the file has no ``place``.
DEFAULT_PLACE = "Lộc Sơn"
DEFAULT_SIGNER_TITLE = "HIỆU TRƯỞNG"
#: Said on a document whose recipient the school has not confirmed.
UNCONFIRMED_NOTE = ("Nơi nhận báo cáo của năm học {year} là mặc định chưa được nhà trường xác "
                    "nhận: hãy kiểm tra mục «recipients» trong {file} (cơ quan chủ quản, «Kính "
                    "gửi», «Nơi nhận») rồi ghi «confirmed: true».")

#: Said on a group report whose issuing office and recipients are the file's defaults.
GROUP_UNCONFIRMED_NOTE = ("Cơ quan lập và nơi nhận báo cáo nhóm trường năm học {year} là mặc "
                          "định chưa được xác nhận: hãy kiểm tra mục «group_recipients» trong "
                          "{file} (cơ quan lập báo cáo, «Kính gửi», «Nơi nhận») rồi ghi "
                          "«confirmed: true».")


@dataclass(frozen=True)
class Recipients:
    """One ``recipients`` entry: the school years it covers and who receives the report."""

    first: int | None  # start year of the first school year covered (None: from the beginning)
    last: int | None  # start year of the last one (None: open-ended)
    managing_body: str
    to: tuple[str, ...]
    copies: tuple[str, ...]
    confirmed: bool
    # group reports only (``group_recipients``): ``managing_body`` is then the optional line
    # above the issuing office, which is ``issuer``
    issuer: str = ""
    place: str = ""  # the place of the date line (empty: the file's ``place``)
    document_code: str = ""  # «BC-PGDĐT» in «Số:      /BC-PGDĐT»
    signer_title: str = ""
    signer_name: str = ""

    def covers(self, school_year: str) -> bool:
        y = start_year(school_year)
        return (self.first is None or y >= self.first) and (self.last is None or y <= self.last)


@dataclass(frozen=True)
class ReportSettings:
    place: str
    signer_title: str
    signer_name: str
    document_codes: dict[str, str]  # school code → «BC-THCSLS»
    recipients: tuple[Recipients, ...]
    min_count: int
    path: Path
    #: who issues and who receives the report of an office managing many schools
    #: (``group_recipients``); None: the file has no such section
    group_recipients: tuple[Recipients, ...] | None = None


@dataclass(frozen=True)
class OfficialDocument:
    """What the title and closing blocks of one report show (Nghị định 30/2020/NĐ-CP)."""

    motto: str  # CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
    tagline: str  # Độc lập - Tự do - Hạnh phúc
    managing_body: str  # the line above the school's name, upper case
    school: str  # TRƯỜNG THCS LỘC SƠN
    document_number: str  # «Số:      /BC-THCSLS» (the number is written when registered)
    place_date: str  # «Lộc Sơn, ngày 06 tháng 12 năm 2026»
    to: tuple[str, ...]  # «Kính gửi»
    copies: tuple[str, ...]  # «Nơi nhận», punctuated: «- Như trên;» … «- Lưu: VT.»
    signer_title: str
    signer_name: str
    confirmed: bool
    notes: tuple[str, ...] = field(default_factory=tuple)  # Vietnamese, e.g. unconfirmed

    def to_line(self) -> str:
        """«Kính gửi: X.» for one recipient; several are listed one per line after it."""
        if len(self.to) == 1:
            return f"Kính gửi: {self.to[0]}."
        return "Kính gửi:\n" + "\n".join(f"- {t};" for t in self.to[:-1]) + f"\n- {self.to[-1]}."


def date_line(place: str, today: date) -> str:
    """«Lộc Sơn, ngày 06 tháng 02 năm 2026»: a day below 10 and the months 1 and 2 take a
    leading zero (Nghị định 30/2020/NĐ-CP, Phụ lục I)."""
    day = f"{today.day:02d}"
    month = f"{today.month:02d}" if today.month <= 2 else str(today.month)
    return f"{place}, ngày {day} tháng {month} năm {today.year}"


def punctuate(copies: tuple[str, ...]) -> tuple[str, ...]:
    """«- Như trên;» … «- Lưu: VT.» from the bare entries."""
    bare = [c.strip().lstrip("-").strip().rstrip(";.").strip() for c in copies]
    return tuple(f"- {c}{'.' if n == len(bare) - 1 else ';'}" for n, c in enumerate(bare))


def _text(problems: list[str], where: str, value: object, required: bool = True) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append(f"{where}: cần một dòng chữ, đang để trống.")
        return ""
    if isinstance(value, dict) and ("copies" in where or ".to" in where):
        # «- Lưu: VT» without quotes is read as a key and a value
        problems.append(f"{where}: cần một dòng chữ; dòng có dấu hai chấm phải đặt trong "
                        f"ngoặc kép, ví dụ «- \"Lưu: VT\"» (đang đọc thành {value!r}).")
        return ""
    if not isinstance(value, str | int | float):
        problems.append(f"{where}: cần một dòng chữ, nhận được {value!r}.")
        return ""
    return str(value).strip()


def _texts(problems: list[str], where: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        problems.append(f"{where}: cần một danh sách (mỗi dòng bắt đầu bằng «- »), ví dụ "
                        "«- Phòng Giáo dục và Đào tạo thành phố Bảo Lộc».")
        return ()
    inner = where.removesuffix("»")
    return tuple(_text(problems, f"{inner}[{i}]»" if inner != where else f"{where}[{i}]", v)
                 for i, v in enumerate(value, 1))


def _year(problems: list[str], where: str, value: object) -> int | None:
    if value is None:
        return None
    text = str(value).strip()
    found = parse_school_year(text)
    if found is None or found != text:
        problems.append(f"{where}: cần một năm học dạng 2024-2025, nhận được «{value}».")
        return None
    return start_year(found)


def _recipient_entries(problems: list[str], at: str, key: str, entries: object
                       ) -> tuple[Recipients, ...]:
    """The entries of ``recipients`` or ``group_recipients`` (whose entries name the issuing
    office, ``issuer``, and may have ``managing_body``, ``place``, ``document_code`` and
    ``signer``), checked: the years of two entries must not overlap."""
    group = key == "group_recipients"
    body = "issuer" if group else "managing_body"
    out: list[Recipients] = []
    if not isinstance(entries, list) or not entries:
        problems.append(f"{at} «{key}»: cần một danh sách, ít nhất một mục (from/until, {body}, "
                        f"to, copies, confirmed), nhận được «{entries}».")
        entries = []
    for i, e in enumerate(entries, 1):
        where = f"{at} «{key}[{i}]"
        if not isinstance(e, dict):
            problems.append(f"{where}»: cần {body}, to, copies, confirmed.")
            continue
        allowed = {"from", "until", body, "to", "copies", "confirmed"} | (
            {"managing_body", "place", "document_code", "signer"} if group else set())
        for k in e:
            if k not in allowed:
                hint = (" (mục này chỉ dùng trong «group_recipients»)" if not group and k in
                        {"place", "document_code", "signer", "issuer"} else "")
                problems.append(f"{where}.{k}»: không dùng đến{hint}.")
        confirmed = e.get("confirmed", False)
        if not isinstance(confirmed, bool):
            problems.append(f"{where}.confirmed»: cần true hoặc false, nhận được «{confirmed}».")
            confirmed = False
        first, last = _year(problems, f"{where}.from»", e.get("from")), \
            _year(problems, f"{where}.until»", e.get("until"))
        if first is not None and last is not None and first > last:
            problems.append(f"{where}»: năm học «from» sau năm học «until».")
        extra: dict[str, str] = {}
        if group:
            signer = e.get("signer") or {}
            if not isinstance(signer, dict):
                problems.append(f"{where}.signer»: cần «title» (chức vụ) và «name» (họ tên, có "
                                "thể trống).")
                signer = {}
            for k in signer:
                if k not in {"title", "name"}:
                    problems.append(f"{where}.signer.{k}»: không dùng đến (chỉ có title, name).")
            extra = {"issuer": _text(problems, f"{where}.issuer»", e.get("issuer")),
                     "place": _text(problems, f"{where}.place»", e.get("place"), False),
                     "document_code": _text(problems, f"{where}.document_code»",
                                            e.get("document_code"), False),
                     "signer_title": _text(problems, f"{where}.signer.title»",
                                           signer.get("title"), False),
                     "signer_name": _text(problems, f"{where}.signer.name»",
                                          signer.get("name"), False)}
        out.append(Recipients(
            first, last, _text(problems, f"{where}.managing_body»", e.get("managing_body"),
                               required=not group),
            _texts(problems, f"{where}.to»", e.get("to")),
            _texts(problems, f"{where}.copies»", e.get("copies")), confirmed, **extra))
    bad_years = any("năm học dạng" in p for p in problems)
    for a_i, a in enumerate([] if bad_years else out, 1):  # one per school year
        for b_i, b in enumerate(out[a_i:], a_i + 1):
            lo = max(a.first if a.first is not None else -1, b.first if b.first is not None else -1)
            hi = min(a.last if a.last is not None else 10**4, b.last if b.last is not None
                     else 10**4)
            if lo <= hi:
                both = (f"từ năm học {year_label(lo)}" if hi == 10**4 else
                        f"đến năm học {year_label(hi)}" if lo == -1 else
                        f"năm học {year_label(lo)}" if lo == hi else
                        f"các năm học {year_label(lo)} đến {year_label(hi)}")
                problems.append(f"{at} «{key}[{a_i}]» và «{key}[{b_i}]»: cùng áp dụng "
                                f"cho {both}; mỗi năm học chỉ được thuộc một mục.")
    return tuple(out)


def load_settings(path: str | Path | None = None) -> ReportSettings:
    """Read and check ``data/report.yaml``; every problem at once, each naming file and key."""
    path = Path(path) if path else config.REPORT_CONFIG_FILE
    name = config.shown(path)
    if not path.exists():
        raise LocsonError(f"Không thấy tệp {name} (thể thức văn bản báo cáo: cơ quan chủ quản, "
                          "«Kính gửi», «Nơi nhận»). Hãy lấy lại tệp này từ kho mã nguồn.")
    raw = config.read_yaml(path) or {}
    if not isinstance(raw, dict):
        raise LocsonError(f"Tệp {name}: cần các mục place, signer, schools, recipients.")
    problems: list[str] = []
    known = {"place", "signer", "schools", "recipients", "group_recipients", "suppression"}
    for key in raw:
        if key not in known:
            problems.append(f"Tệp {name}, mục «{key}»: không dùng đến (các mục: "
                            f"{', '.join(sorted(known))}).")
    at = f"Tệp {name}, mục"
    place = _text(problems, f"{at} «place»", raw.get("place", DEFAULT_PLACE))
    signer = raw.get("signer") or {}
    if not isinstance(signer, dict):
        problems.append(f"{at} «signer»: cần «title» (chức vụ) và «name» (họ tên, có thể trống).")
        signer = {}
    for k in signer:
        if k not in {"title", "name"}:
            problems.append(f"{at} «signer.{k}»: không dùng đến (chỉ có title, name).")
    signer_title = _text(problems, f"{at} «signer.title»",
                         signer.get("title", DEFAULT_SIGNER_TITLE))
    signer_name = _text(problems, f"{at} «signer.name»", signer.get("name"), required=False)
    codes: dict[str, str] = {}
    schools = raw.get("schools") or {}
    if not isinstance(schools, dict):
        problems.append(f"{at} «schools»: cần các mã trường, mỗi mã có «document_code».")
        schools = {}
    for code, entry in schools.items():
        if not isinstance(entry, dict):
            problems.append(f"{at} «schools.{code}»: cần «document_code», ví dụ BC-THCSLS.")
            continue
        codes[str(code)] = _text(problems, f"{at} «schools.{code}.document_code»",
                                 entry.get("document_code"))
    recipients = _recipient_entries(problems, at, "recipients", raw.get("recipients"))
    group_recipients = None
    if raw.get("group_recipients") is not None:
        group_recipients = _recipient_entries(problems, at, "group_recipients",
                                              raw.get("group_recipients"))
    min_count = DEFAULT_THRESHOLD
    sup = raw.get("suppression") or {}
    if not isinstance(sup, dict):
        problems.append(f"{at} «suppression»: cần «min_count: {DEFAULT_THRESHOLD}».")
    else:
        value = sup.get("min_count", DEFAULT_THRESHOLD)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            problems.append(f"{at} «suppression.min_count»: cần một số nguyên từ 1 trở lên "
                            f"(mặc định 5), nhận được «{value}».")
        else:
            min_count = value
    if problems:
        raise LocsonError(f"Tệp {name} có {len(problems)} lỗi:\n"
                          + "\n".join(f"  - {p}" for p in problems))
    return ReportSettings(place, signer_title, signer_name, codes, recipients,
                          min_count, path, group_recipients)


def _covering(entries: tuple[Recipients, ...], key: str, what: str, school_year: str,
              settings: ReportSettings) -> Recipients:
    for r in entries:
        if r.covers(school_year):
            return r
    raise LocsonError(f"Tệp {config.shown(settings.path)}, mục «{key}»: không có mục nào cho "
                      f"năm học {school_year}. Hãy thêm một mục (from/until) ghi {what} năm học "
                      "này.")


def recipients_for(school_year: str, settings: ReportSettings) -> Recipients:
    """The ``recipients`` entry covering ``school_year`` (an error naming the file if none)."""
    return _covering(settings.recipients, "recipients", "cơ quan nhận báo cáo", school_year,
                     settings)


def group_recipients_for(school_year: str, settings: ReportSettings) -> Recipients | None:
    """The ``group_recipients`` entry covering ``school_year``: the office issuing a group
    report (``issuer``) and who receives it; None when the file has no
    ``group_recipients`` section (an error naming the file if it has one but no entry covers
    the year)."""
    if settings.group_recipients is None:
        return None
    return _covering(settings.group_recipients, "group_recipients",
                     "cơ quan lập và cơ quan nhận báo cáo nhóm trường", school_year, settings)


def official_document(school_code: str, school_year: str, today: date,
                      path: str | Path | None = None) -> OfficialDocument:
    """The title and closing blocks of the report of ``school_code`` for ``school_year``,
    dated ``today`` (settings from ``path``, default ``data/report.yaml``)."""
    from .schools import school_name

    settings = load_settings(path)
    r = recipients_for(school_year, settings)
    code = settings.document_codes.get(school_code, f"BC-{school_code}")
    notes = () if r.confirmed else (
        UNCONFIRMED_NOTE.format(year=school_year, file=config.shown(settings.path)),)
    return OfficialDocument(
        motto=MOTTO, tagline=TAGLINE, managing_body=r.managing_body.upper(),
        school=school_name(school_code).upper(), document_number=f"Số:      /{code}",
        place_date=date_line(settings.place, today), to=r.to, copies=punctuate(r.copies),
        signer_title=settings.signer_title, signer_name=settings.signer_name,
        confirmed=r.confirmed, notes=notes)


#: The signature of a group report whose entry names no signer.
DEFAULT_GROUP_SIGNER_TITLE = "THỦ TRƯỞNG CƠ QUAN"


def group_document(school_year: str, today: date, recipient: str | None = None,
                   path: str | Path | None = None) -> OfficialDocument:
    """The title and closing blocks of the report of an office managing many schools
    (``locson report --group``) for ``school_year``, dated ``today``, from the year's
    ``group_recipients`` entry: issuing office (in ``school``), the line above it, document
    number, place, «Kính gửi» (``recipient`` replaces it), «Nơi nhận», signer.

    A file without ``group_recipients`` (written before it existed) gives the schools' entry
    of the year as a stand-in, said in ``notes``; an unconfirmed entry is said there too."""
    settings = load_settings(path)
    shown = config.shown(settings.path)
    r = group_recipients_for(school_year, settings)
    if r is None:
        school = recipients_for(school_year, settings)
        r = Recipients(school.first, school.last, "", school.to, school.copies, False,
                       issuer=school.managing_body)
        notes: tuple[str, ...] = (
            f"Tệp {shown} chưa có mục «group_recipients» (cơ quan lập và nơi nhận báo cáo nhóm "
            "trường): báo cáo đang dùng tạm nơi nhận báo cáo của trường. Hãy thêm mục này (xem "
            "tệp data/report.yaml trong kho mã nguồn).",)
    else:
        notes = () if r.confirmed else (
            GROUP_UNCONFIRMED_NOTE.format(year=school_year, file=shown),)
    return OfficialDocument(
        motto=MOTTO, tagline=TAGLINE, managing_body=r.managing_body.upper(),
        school=r.issuer.upper(), document_number=f"Số:      /{r.document_code or 'BC'}",
        place_date=date_line(r.place or settings.place, today),
        to=(recipient,) if recipient else r.to, copies=punctuate(r.copies),
        signer_title=r.signer_title or DEFAULT_GROUP_SIGNER_TITLE, signer_name=r.signer_name,
        confirmed=r.confirmed, notes=notes)


def suppression_threshold(path: str | Path | None = None) -> int:
    """``suppression.min_count`` of ``data/report.yaml`` (default
    :data:`locson_analysis.disclosure.DEFAULT_THRESHOLD`, 5)."""
    return load_settings(path).min_count
