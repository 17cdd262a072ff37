"""The ``locson`` command: argument parsing and printing only; the work is in the modules."""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from . import config, safe_cells
from .contract import DEFAULT_SCHOOL, FILE_KINDS
from .errors import ImportProblems, LocsonError

KIND_LABELS = {k: v.capitalize() for k, v in FILE_KINDS.items()}

# argparse's own messages, in Vietnamese (argparse looks ``_`` up at call time).
_ARGPARSE_VI = {
    "usage: ": "cách dùng: ",
    "%(prog)s: error: %(message)s\n": "%(prog)s: lỗi: %(message)s\n",
    "positional arguments": "tham số",
    "options": "tùy chọn",
    "show this help message and exit": "hiện hướng dẫn này rồi thoát",
    "the following arguments are required: %s": "thiếu tham số bắt buộc: %s",
    "unrecognized arguments: %s": "không hiểu các tham số: %s",
    "invalid choice: %(value)r (choose from %(choices)s)": (
        "lựa chọn không hợp lệ: %(value)r (chọn một trong: %(choices)s)"
    ),
    "invalid %(type)s value: %(value)r": "giá trị không hợp lệ (cần kiểu %(type)s): %(value)r",
    "expected one argument": "cần một giá trị",
    "argument %(argument_name)s: %(message)s": "tham số %(argument_name)s: %(message)s",
    "not allowed with argument %s": "không dùng cùng với tham số %s",
    "ambiguous option: %(option)s could match %(matches)s": (
        "tùy chọn không rõ: %(option)s có thể là %(matches)s"
    ),
}
argparse._ = lambda message: _ARGPARSE_VI.get(message, message)  # type: ignore[attr-defined]


def _print_table(df, columns: dict[str, str]) -> None:  # noqa: ANN001 - a DataFrame
    shown = df[list(columns)].rename(columns=columns)
    print(shown.to_string(index=False))


def _refresh_checks(db: Path, schools: set[str] | None = None):  # noqa: ANN202 - a DataFrame
    """Recompute the cross-year checks and store them (one transaction); returns every
    school's findings.

    With ``schools``, only those schools' checks are recomputed (over all their years) and the
    other schools' stored findings are kept: the checks compare a school's years with each
    other only, so importing one school into a province's database does not redo 150.
    """
    from . import crossyear, store

    return store.refresh_checks(db, crossyear.check_all, schools)


def _print_year(year, ids: list[int], db: Path) -> None:  # noqa: ANN001 - a YearData
    """What one school year's import wrote (the whole summary, as for one folder)."""
    from .schools import school_name

    print(
        f"Đã nhập năm học {year.school_year} của {school_name(year.school_code)} "
        f"(mã {year.school_code}) vào {db}."
    )
    for f in year.files:
        print(f"  - {Path(f.path).name} [{f.sheet}]: {KIND_LABELS[f.kind]}, {f.rows} dòng")
    if year.pupils is not None:
        print(f"  Học sinh: {len(year.pupils)}")
    missing = [FILE_KINDS[k] for k in ("pupils", "school", "population") if k not in year.kinds()]
    if missing:
        print(
            "  Chưa có: " + ", ".join(missing) + " (các chỉ số cần đến sẽ ghi «Chưa có số liệu»)."
        )
    for note in year.notes:
        print(f"  Lưu ý: {note}")
    print(f"  Mã lần nhập: {', '.join(map(str, ids))} (xem: locson history)")


_ROWS_READ = re.compile(r", \d+ dòng \((dòng|không có).*\)\.$")


def _routine(note: str) -> bool:
    """A note every import of a staff file repeats: a column not stored (personal data) or
    not used, a sheet skipped, how many rows were read."""
    from .read import PERSONAL_NOTE, UNUSED_NOTE

    return note.startswith("Tệp «") and (
        PERSONAL_NOTE in note or UNUSED_NOTE in note or "bỏ qua (không nhận ra" in note
        or _ROWS_READ.search(note) is not None)


def _print_years(years: list, ids: list[list[int]], db: Path, details: bool = False) -> None:
    """Several school years: one line each with the notes that need reading, then the totals;
    the routine notes of each file only with ``details``."""
    from .numbers import fmt_num
    from .schools import school_name

    schools = {y.school_code for y in years}
    pupils = sum(len(y.pupils) for y in years if y.pupils is not None)
    print(
        f"Đã nhập {fmt_num(len(years))} năm học của {fmt_num(len(schools))} trường "
        f"({fmt_num(pupils)} dòng học sinh) vào {db}, trong một lần ghi."
    )
    for y, own in zip(years, ids, strict=True):
        n = len(y.pupils) if y.pupils is not None else 0
        missing = [FILE_KINDS[k] for k in ("pupils", "school", "population")
                   if k not in y.kinds()]
        print(
            f"  - {y.school_year}, {school_name(y.school_code)} (mã {y.school_code}): "
            f"{fmt_num(n)} học sinh, {len(y.files)} bảng; mã lần nhập {', '.join(map(str, own))}"
            + (f"; chưa có: {', '.join(missing)}" if missing else "")
        )
        for note in y.notes[1:]:  # (the first says how many files were read)
            if details or not _routine(note):
                print(f"      Lưu ý: {note}")
    hidden = sum(_routine(n) for y in years for n in y.notes[1:])
    if hidden and not details:
        print(f"  {fmt_num(hidden)} ghi chú thường lệ về từng tệp (cột không lưu hoặc không dùng, "
              "số dòng đã đọc) không in ra; xem bằng --details.")
    print("  Xem từng lần nhập: locson history")


def _school_arg(args: argparse.Namespace) -> str | None:
    """``--school`` as listed in data/schools.yaml (any case), or None when not given."""
    from . import schools

    return schools.check_code(args.school) if getattr(args, "school", None) else None


def cmd_import(args: argparse.Namespace) -> int:
    from . import crossyear, importer, provenance, store

    origin = provenance.origin_of_paths(args.paths)
    years = importer.read_years(args.paths, school_year=args.year,
                                school_code=_school_arg(args))
    # the import and its schools' cross-year findings: one transaction
    args.writing = True
    done = store.import_years(args.db, years, replace=args.replace,
                              refresh=crossyear.check_all, origin=origin)
    args.changed = True  # (what a later failure, e.g. of the console, must not deny)
    if origin == provenance.SAMPLE:
        print(provenance.SAMPLE_MARK)
    if len(years) == 1:
        _print_year(years[0], done.ids[0], args.db)
    else:
        _print_years(years, done.ids, args.db, details=args.details)
    _print_crossyear(done.checks)
    return 0


def _print_crossyear(checks) -> None:  # noqa: ANN001 - a DataFrame
    from . import crossyear

    c = crossyear.counts(checks)
    if c.empty:
        print("Kiểm tra giữa các năm học: không phát hiện điều gì bất thường.")
        return
    print(f"Cảnh báo kiểm tra giữa các năm học ({int(c['count'].sum())} trường hợp):")
    several = c["school_code"].nunique() > 1
    for r in c.itertuples():
        school = f"{r.school_code} " if several else ""
        print(f"  {school}{r.school_year} → {r.next_year}: {r.count} — {r.description}. {r.action}")
    print("  Danh sách chi tiết (nội bộ): locson checks")


def cmd_history(args: argparse.Namespace) -> int:
    from . import store

    h = store.history(args.db)
    if h.empty:
        print("Chưa có lần nhập nào.")
        return 0
    h["kind"] = h["kind"].map(KIND_LABELS)
    h["active"] = h["active"].map({True: "đang dùng", False: ""})
    h["imported_at"] = h["imported_at"].dt.strftime("%d/%m/%Y %H:%M")
    h["sha256"] = h["sha256"].str.slice(0, 12)
    h["files"] = h["files"].map(lambda f: ", ".join(json.loads(f)) if f else "")
    _print_table(
        h,
        {
            "import_id": "Mã",
            "school_code": "Trường",
            "school_year": "Năm học",
            "kind": "Loại",
            "imported_at": "Thời gian",
            "files": "Tệp",
            "rows": "Số dòng",
            "sha256": "SHA-256 (đầu)",
            "active": "Trạng thái",
        },
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from . import crossyear, store

    args.writing = True
    r = store.restore(args.db, args.import_id, refresh=crossyear.check_all)
    args.changed = True
    kinds = ", ".join(f"{FILE_KINDS[k]} (lần nhập số {i})"
                      for k, i in zip(r["kinds"], r["import_ids"], strict=True))
    print(f"Đã khôi phục cả lần nhập chứa lần nhập số {args.import_id} của năm học "
          f"{r['school_year']} (trường {r['school_code']}): {kinds}.")
    _print_crossyear(r["checks"])
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    from . import store

    s = store.summary(args.db)
    if s.empty:
        print(f"Cơ sở dữ liệu {args.db} chưa có dữ liệu.")
        return 0
    s["kinds"] = s["kinds"].map(
        lambda ks: ", ".join(FILE_KINDS[k] for k in str(ks).split(",") if k in FILE_KINDS)
    )
    print(f"Cơ sở dữ liệu: {args.db}")
    _print_table(
        s,
        {
            "school_code": "Trường",
            "school_year": "Năm học",
            "pupils": "Học sinh",
            "classes": "Số lớp",
            "kinds": "Dữ liệu đã có",
        },
    )
    ds = store.load(args.db)
    _print_crossyear(ds.checks)
    return 0


def cmd_checks(args: argparse.Namespace) -> int:
    from . import store

    ds = store.load(args.db)
    c = ds.checks
    if args.year:
        c = c[c["school_year"] == args.year]
    print("NỘI BỘ — không gửi ra ngoài trường.")
    if c.empty:
        print("Không có trường hợp nào cần kiểm tra.")
        return 0
    from .crossyear import CHECKS

    c = c.assign(check_name=c["check_name"].map(lambda k: CHECKS[k][0]))
    _print_table(
        c,
        {
            "school_year": "Năm học",
            "next_year": "Năm sau",
            "pupil_id": "Mã HS",
            "check_name": "Vấn đề",
            "detail": "Chi tiết",
        },
    )
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    """Create the database when there is none: staff files in data/raw, else the sample.

    A sample database is set aside (renamed, see ``provenance.set_aside_name``) as soon as
    staff files are in data/raw, and a new database is made from them.
    """
    from . import importer, provenance, sample, store
    from .contract import parse_school_year

    source = Path(args.raw)
    folders = sorted(d for d in source.glob("*") if d.is_dir() and parse_school_year(d.name))
    if Path(args.db).exists():
        origin = store.data_origin(args.db)
        if origin == provenance.SAMPLE and folders:
            args.writing = True
            aside = store.set_aside(args.db)
            print(f"Cơ sở dữ liệu {args.db} chứa dữ liệu mẫu; đã có dữ liệu của trường trong "
                  f"{source}: cất cơ sở dữ liệu mẫu sang {aside} và tạo cơ sở dữ liệu mới từ "
                  "dữ liệu của trường.")
        else:
            print(f"Đã có cơ sở dữ liệu {args.db}; không nhập lại.")
            if origin == provenance.SAMPLE:
                print(f"  {provenance.SAMPLE_MARK}. Để dùng dữ liệu của trường: đặt các tệp vào "
                      f"{source}/<năm học>/ rồi chạy lại lệnh này (dữ liệu mẫu sẽ được cất "
                      "sang một bên).")
            elif origin == store.UNKNOWN_ORIGIN and folders:
                print(f"  Cơ sở dữ liệu này được tạo trước khi chương trình ghi nguồn dữ liệu. "
                      f"Nếu nó là dữ liệu mẫu, hãy đổi tên hoặc xoá tệp {args.db} rồi chạy lại "
                      f"để tạo cơ sở dữ liệu từ {source}; nếu là dữ liệu thật, nhập năm học "
                      f"mới bằng: locson import {source}/<năm học>")
            return 0
    origin = provenance.FILES
    if not folders:
        source = Path(args.sample)
        origin = provenance.SAMPLE
        print(
            f"Chưa có dữ liệu của trường trong {args.raw}: tạo dữ liệu MẪU tổng hợp "
            f"(không phải học sinh thật) trong {source}."
        )
        sample.write_sample(source)
        provenance.mark_sample_dir(source)
        folders = sorted(d for d in source.glob("*") if d.is_dir() and parse_school_year(d.name))
    from . import crossyear

    years = importer.read_years(folders, school_code=_school_arg(args))
    args.writing = True
    store.import_years(args.db, years, refresh=crossyear.check_all, origin=origin)
    args.changed = True
    for y in years:
        n = len(y.pupils) if y.pupils is not None else 0
        print(f"  Đã nhập {y.school_year}: {n} học sinh, {len(y.files)} tệp")
    print(f"Đã tạo cơ sở dữ liệu {args.db} từ {source}.")
    if origin == provenance.SAMPLE:
        print(f"{provenance.SAMPLE_MARK}. Để dùng dữ liệu của trường: đặt các tệp vào "
              f"{args.raw}/<năm học>/ rồi chạy lại locson init (hoặc make report).")
    return cmd_summary(args)


def cmd_sample(args: argparse.Namespace) -> int:
    from . import sample
    from .provenance import SAMPLE_MARK, mark_sample_dir

    paths = sample.write_sample(args.dir, seed=args.seed)
    mark_sample_dir(args.dir)
    print(SAMPLE_MARK)
    print(
        f"Đã tạo {len(paths)} tệp dữ liệu mẫu (tổng hợp, không phải học sinh thật) "
        f"trong {args.dir}."
    )
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    from . import forms

    written, notes = forms.write_templates(args.year, out_dir=args.out, school_code=args.school,
                                           db=args.db)
    folder = written[0].path.parent
    print(f"Đã tạo {len(written)} mẫu năm học {args.year} trong {folder}:")
    for w in written:
        extra = (f" — NỘI BỘ, có họ tên học sinh ({w.rows} học sinh dự kiến học tiếp)"
                 if w.kind == "pupils" else "")
        print(f"  - {w.path.name}{extra}")
    for note in notes:
        print(f"  Lưu ý: {note}")
    print(f"Điền xong, đặt các tệp vào thư mục năm học (ví dụ data/raw/{args.year}/) rồi nhập: "
          f"locson import data/raw/{args.year}")
    return 0


def _school(ds, requested: str | None) -> str:  # noqa: ANN001 - a Dataset
    from . import schools

    requested = schools.check_code(requested) if requested else None
    return schools.choose_school(schools.codes_in(ds.pupils, ds.school, ds.population), requested)


def cmd_indicators(args: argparse.Namespace) -> int:
    import pandas as pd

    from . import indicators, store

    ds = store.load(args.db)
    if args.all_schools:
        table = indicators.compute_all(ds, school_year=args.year)
    else:
        table = indicators.compute_all(
            ds, school_year=args.year, school_code=_school(ds, args.school)
        )
    if args.pooled:
        pooled = indicators.compute_pooled(ds, school_year=args.year)
        table = pd.concat([table, pooled], ignore_index=True)
    if args.out:
        out = Path(args.out)
        if args.format == "xlsx" or out.suffix.lower() == ".xlsx":
            safe_cells.write_excel(table, out, sheet_name="Chỉ số")
        else:
            safe_cells.write_csv(table, out, index=False, encoding="utf-8-sig")
        print(f"Đã ghi {len(table)} dòng chỉ số vào {out}.")
    elif args.format == "xlsx":
        raise LocsonError("Định dạng xlsx cần --out TỆP.xlsx.")
    else:
        safe_cells.write_csv(table, sys.stdout, index=False)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from . import run

    if args.group is not None:
        from .report import group

        if args.all or args.school:
            raise LocsonError("--group lập một báo cáo cho cả nhóm trường của một năm học: không "
                              "dùng cùng --all hay --school.")
        paths = group.run_group_report(args.db, args.year, args.group, mid_year=args.mid_year,
                                       recipient=args.recipient, out_dir=args.out,
                                       notebook=args.notebook)
        print(f"Báo cáo nhóm trường: {paths.html}")
        print(f"  Sổ tay đã chạy: {paths.notebook}")
        print(f"  Tệp Excel: {paths.xlsx}")
        for note in paths.notes:
            print(f"  Cần kiểm tra trước khi gửi: {note}")
        return 0
    args.school = _school_arg(args)
    if args.all:
        results = run.run_all(
            db=args.db, out_dir=args.out, mid_year=args.mid_year, school_code=args.school,
            notebook=args.notebook,
        )
    else:
        results = [
            run.run_report(
                args.year,
                db=args.db,
                out_dir=args.out,
                mid_year=args.mid_year,
                school_code=args.school,
                notebook=args.notebook,
            )
        ]
    for r in results:
        print(f"Báo cáo: {r.html}")
        for note in getattr(r, "notes", ()):
            print(f"  Cần kiểm tra trước khi gửi: {note}")
    return 0


def _year_arg(text: str) -> str:
    """A school year as typed: «2026-2027»; anything else (2026/2027, 2026) is refused with
    the form to use, as ``report`` does."""
    from .contract import parse_school_year

    text = str(text).strip()
    if re.fullmatch(r"\d{4}-\d{4}", text) and parse_school_year(text) == text:
        return text
    m = re.fullmatch(r"(\d{4})(\s*\D{1,3}\s*(\d{2}|\d{4}))?", text)
    start = int(m.group(1)) if m else None
    example = f"{start}-{start + 1}" if start else "2024-2025"
    raise LocsonError(f"Năm học «{text}» không đúng dạng. Hãy ghi như {example}.")


def cmd_warn(args: argparse.Namespace) -> int:
    from . import warn

    year = _year_arg(args.year)
    config.private_dir(config.INTERNAL_OUTPUTS_DIR)  # pupils' names: owner only
    paths = warn.run_warning(
        year, args.point, db=args.db, capacity=args.capacity, school_code=_school_arg(args)
    )
    print("NỘI BỘ — không gửi ra ngoài trường.")
    for p in paths:
        print(f"  {p}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="locson",
        description="Sổ theo dõi chỉ tiêu Chương trình hành động vì trẻ em — Trường THCS Lộc Sơn.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="LỆNH")

    def db_arg(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--db",
            type=Path,
            metavar="TỆP",
            default=config.DEFAULT_DB,
            help=f"tệp cơ sở dữ liệu (mặc định {config.DEFAULT_DB})",
        )

    def school_arg(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--school",
            metavar="MÃ_TRƯỜNG",
            help=f"mã trường (mặc định {DEFAULT_SCHOOL}, hoặc trường duy nhất trong cơ sở dữ liệu)",
        )

    sp = sub.add_parser(
        "import",
        help="nhập dữ liệu một hay nhiều năm học (tệp, thư mục năm học, thư mục của trường)",
        description="Nhập một hay nhiều năm học trong một lần ghi: hoặc tất cả, hoặc không gì "
        "cả (một tệp lỗi ở bất kỳ đâu thì mọi lỗi của mọi thư mục được liệt kê và cơ sở dữ liệu "
        "không bị thay đổi). Mỗi năm học vẫn có lần nhập riêng (locson history, locson restore).",
    )
    sp.add_argument(
        "paths",
        type=Path,
        nargs="+",
        metavar="ĐƯỜNG_DẪN",
        help="tệp Excel/CSV hoặc thư mục năm học (ví dụ data/raw/2024-2025); một thư mục có các "
        "thư mục con theo năm học (thư mục của một trường) là mọi năm học trong đó; một thư mục "
        "gồm các thư mục trường như vậy là mọi năm học của mọi trường",
    )
    sp.add_argument(
        "--year",
        metavar="NĂM_HỌC",
        help="năm học, ví dụ 2024-2025 (mặc định: lấy từ tên thư mục/tệp; áp dụng cho mọi "
        "đường dẫn)",
    )
    sp.add_argument(
        "--school",
        metavar="MÃ_TRƯỜNG",
        help="mã trường (mặc định: trường ghi ở dòng tiêu đề của tệp, xem data/schools.yaml; "
        f"không có thì {DEFAULT_SCHOOL})",
    )
    sp.add_argument(
        "--replace",
        action="store_true",
        help="thay thế dữ liệu đã nhập của (các) năm học này (bản cũ vẫn được giữ)",
    )
    sp.add_argument(
        "--details",
        action="store_true",
        help="khi nhập nhiều năm học: in cả các ghi chú thường lệ về từng tệp",
    )
    sp.add_argument(
        "--all-errors",
        metavar="TỆP",
        help="khi có lỗi: ghi MỌI lỗi vào TỆP (.csv, .xlsx hoặc văn bản); màn hình chỉ in "
        "200 lỗi đầu",
    )
    db_arg(sp)
    sp.set_defaults(func=cmd_import)

    sp = sub.add_parser(
        "init", help="tạo cơ sở dữ liệu nếu chưa có (dữ liệu trường, hoặc dữ liệu mẫu khi chưa có)"
    )
    sp.add_argument(
        "--raw",
        type=Path,
        default=config.RAW_DIR,
        help="thư mục dữ liệu của trường, mỗi năm học một thư mục con",
    )
    sp.add_argument(
        "--sample",
        type=Path,
        default=config.SAMPLE_DIR,
        help="nơi tạo dữ liệu mẫu khi chưa có dữ liệu của trường",
    )
    sp.add_argument(
        "--school",
        metavar="MÃ_TRƯỜNG",
        help="mã trường (mặc định: trường ghi ở dòng tiêu đề của tệp, xem data/schools.yaml; "
        f"không có thì {DEFAULT_SCHOOL})",
    )
    db_arg(sp)
    sp.set_defaults(func=cmd_init)

    sp = sub.add_parser("history", help="lịch sử các lần nhập")
    db_arg(sp)
    sp.set_defaults(func=cmd_history)

    sp = sub.add_parser("restore", help="khôi phục một lần nhập trước (xem mã bằng locson history)")
    sp.add_argument("import_id", type=int, help="mã lần nhập")
    db_arg(sp)
    sp.set_defaults(func=cmd_restore)

    sp = sub.add_parser("summary", help="tóm tắt cơ sở dữ liệu")
    db_arg(sp)
    sp.set_defaults(func=cmd_summary)

    sp = sub.add_parser("checks", help="danh sách kiểm tra giữa các năm học (nội bộ)")
    sp.add_argument("--year", metavar="NĂM_HỌC", help="năm học")
    db_arg(sp)
    sp.set_defaults(func=cmd_checks)

    sp = sub.add_parser("sample", help="tạo dữ liệu mẫu tổng hợp")
    sp.add_argument("dir", type=Path, help="thư mục đích")
    sp.add_argument("--seed", type=int, default=2025, help="hạt giống ngẫu nhiên (mặc định 2025)")
    sp.set_defaults(func=cmd_sample)

    sp = sub.add_parser(
        "template",
        help="tạo các mẫu Excel của năm học để cán bộ điền (số liệu nhà trường, phổ cập, nhật "
        "ký can thiệp, danh sách học sinh chuyển từ năm trước)",
    )
    sp.add_argument("--year", metavar="NĂM_HỌC", required=True, help="năm học, ví dụ 2026-2027")
    sp.add_argument(
        "--out",
        type=Path,
        metavar="THƯ_MỤC",
        help="thư mục ghi mẫu (mặc định data/templates/<năm học>/; không được ở trong outputs/)",
    )
    school_arg(sp)
    db_arg(sp)
    sp.set_defaults(func=cmd_template)

    sp = sub.add_parser("indicators", help="bảng chỉ số cho người phân tích")
    sp.add_argument("--year", metavar="NĂM_HỌC", help="năm học (mặc định: mọi năm)")
    school_arg(sp)
    sp.add_argument("--all-schools", action="store_true", help="mọi trường, mỗi trường riêng")
    sp.add_argument(
        "--pooled", action="store_true", help="thêm các dòng gộp mọi trường (TOÀN THÀNH PHỐ)"
    )
    sp.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    sp.add_argument("--out", help="tệp kết quả (mặc định: CSV ra màn hình)")
    db_arg(sp)
    sp.set_defaults(func=cmd_indicators)

    sp = sub.add_parser("report", help="lập báo cáo HTML gửi Phòng GD&ĐT")
    g = sp.add_mutually_exclusive_group()
    g.add_argument(
        "--year", metavar="NĂM_HỌC", help="năm học (mặc định: năm học gần nhất đã kết thúc)"
    )
    g.add_argument("--all", action="store_true", help="mọi năm học trong cơ sở dữ liệu")
    sp.add_argument("--mid-year", action="store_true", help="báo cáo giữa năm (sau học kỳ 1)")
    school_arg(sp)
    sp.add_argument("--group", nargs="?", const="all", metavar="NHÓM",
                    help="báo cáo của cơ quan quản lý nhiều trường: tên nhóm trong "
                         "data/schools.yaml, mã trường cách nhau dấu phẩy, hoặc bỏ trống (mọi "
                         "trường); vào outputs/<nhóm>/<năm học>/")
    sp.add_argument("--recipient", metavar="CƠ_QUAN",
                    help="cơ quan nhận báo cáo nhóm trường («Kính gửi»)")
    sp.add_argument("--out", type=Path, default=config.OUTPUTS_DIR, help="thư mục kết quả")
    sp.add_argument("--notebook", type=Path, default=None, metavar="TỆP.ipynb",
                    help="chạy bản sổ tay báo cáo đã sửa thay cho notebooks/annual_report.ipynb "
                         "(với --group: notebooks/group_report.ipynb)")
    db_arg(sp)
    sp.set_defaults(func=cmd_report)

    sp = sub.add_parser("warn", help="danh sách học sinh có nguy cơ bỏ học (NỘI BỘ)")
    sp.add_argument("--year", metavar="NĂM_HỌC", required=True, help="năm học")
    sp.add_argument(
        "--point",
        choices=["mid", "end"],
        default="end",
        help="thời điểm: mid = sau học kỳ 1, end = cuối năm",
    )
    sp.add_argument(
        "--capacity",
        type=int,
        default=30,
        help="số học sinh nhà trường có thể hỗ trợ (mặc định 30)",
    )
    school_arg(sp)
    db_arg(sp)
    sp.set_defaults(func=cmd_warn)
    return p


#: Commands that read a database: on sample data they start with the sample mark.
_READERS = ("summary", "history", "checks", "indicators", "report", "warn", "restore")


def _sample_banner(args: argparse.Namespace) -> None:
    """Print ``provenance.SAMPLE_MARK`` first when a reading command works on sample data
    (on stderr when stdout carries a CSV)."""
    from . import provenance, store

    if args.command not in _READERS or not Path(args.db).exists():
        return
    if store.data_origin(args.db) == provenance.SAMPLE:
        to_csv = args.command == "indicators" and not args.out and args.format == "csv"
        print(f"*** {provenance.SAMPLE_MARK} ***", file=sys.stderr if to_csv else sys.stdout)


#: What each command does to the database, for the message of a failure of the machine.
_WRITES_DB = {"import", "init", "restore"}
#: The step a command was at, for that message (the store names its own steps).
_STEP_OF = {
    "import": "đọc tệp dữ liệu", "init": "tạo dữ liệu", "restore": "khôi phục lần nhập",
    "report": "ghi báo cáo vào thư mục kết quả",
    "warn": "ghi danh sách cảnh báo vào thư mục outputs/internal",
    "indicators": "ghi bảng chỉ số", "sample": "ghi dữ liệu mẫu",
    "history": "đọc cơ sở dữ liệu", "summary": "đọc cơ sở dữ liệu",
    "checks": "đọc cơ sở dữ liệu", "template": "ghi mẫu nhập liệu",
}


def _console() -> None:
    """Print Vietnamese on any console: output that is not UTF-8 (a file or pipe under a
    Windows code page such as cp1258) is switched to UTF-8; a terminal that cannot be
    switched shows an escape instead of failing."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if encoding in ("utf8", "utf8sig") or not hasattr(stream, "reconfigure"):
            continue
        try:
            if stream.isatty():
                stream.reconfigure(errors="backslashreplace")
            else:
                stream.reconfigure(encoding="utf-8", errors="backslashreplace")
        except (OSError, ValueError):
            continue


def _write_all_errors(exc: ImportProblems, path: Path) -> None:
    """Every problem of a failed import in ``path``: a table for .csv/.xlsx, text otherwise."""
    import pandas as pd

    if path.suffix.lower() in (".csv", ".xlsx"):
        table = pd.DataFrame(
            [{"STT": i, "Tệp": p.file, "Trang tính": p.sheet, "Dòng": p.row, "Cột": p.column,
              "Giá trị": None if p.value is None else str(p.value), "Lỗi": p.message}
             for i, p in enumerate(exc.problems, 1)])
        if path.suffix.lower() == ".xlsx":
            safe_cells.write_excel(table, path, sheet_name="Lỗi")
        else:
            safe_cells.write_csv(table, path, index=False, encoding="utf-8-sig")
    else:
        path.write_text(exc.render() + "\n", encoding="utf-8")


def _step(args: argparse.Namespace) -> str:
    """The step a command was at when it failed (for a program error's message)."""
    if getattr(args, "changed", False):
        return "in kết quả sau khi đã ghi dữ liệu"
    if getattr(args, "writing", False) and args.command in ("import", "init"):
        return "ghi dữ liệu vào cơ sở dữ liệu"
    return _STEP_OF.get(args.command, args.command)


def _outcome(args: argparse.Namespace) -> str:
    """What a command that failed did to the database, as far as it is known: written
    (``args.changed``), unknown once a writing step began (``args.writing``), else unchanged
    (the other commands never write it)."""
    from . import faults

    if getattr(args, "changed", False):
        return "Dữ liệu đã được ghi vào cơ sở dữ liệu trước lỗi này (xem locson history)."
    if getattr(args, "writing", False):
        return faults.UNKNOWN
    return faults.UNCHANGED


def _fault_message(args: argparse.Namespace, exc: BaseException) -> str:
    from . import faults

    if isinstance(exc, faults.StepFailed):
        return f"Lỗi: {exc}"
    changed = getattr(args, "changed", False)
    if changed:
        outcome = "Dữ liệu đã được ghi vào cơ sở dữ liệu trước lỗi này (xem locson history)."
    elif args.command in _WRITES_DB and args.command != "import":
        outcome = faults.UNKNOWN
    else:  # import fails here only before writing; the others never write the database
        outcome = faults.UNCHANGED
    return "Lỗi: " + faults.message(_STEP_OF.get(args.command, args.command), exc, outcome)


def main(argv: Sequence[str] | None = None) -> int:
    from . import faults

    _console()
    args = build_parser().parse_args(argv)
    try:
        _sample_banner(args)
        return args.func(args)
    except BrokenPipeError:
        # the reader of our output stopped (locson history | head): end quietly
        import os

        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return 0
    except ImportProblems as exc:
        all_errors = getattr(args, "all_errors", None)
        text = exc.render(limit=200)
        if all_errors:
            try:
                _write_all_errors(exc, Path(all_errors))
                text += f"\nDanh sách đầy đủ {len(exc.problems)} lỗi: {all_errors}"
            except OSError as err:
                text += f"\nKhông ghi được danh sách lỗi vào {all_errors}: {faults.reason(err)}."
        elif len(exc.problems) > 200:
            text += "\n  Xem đủ mọi lỗi: chạy lại lệnh với --all-errors TỆP (ví dụ loi.csv)."
        print(text, file=sys.stderr)
        return 2
    except LocsonError as exc:
        print(f"Lỗi: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        duckdb = sys.modules.get("duckdb")  # (not imported for every command)
        known = isinstance(exc, OSError) or (duckdb is not None and isinstance(exc, duckdb.Error))
        if known and faults.is_machine_fault(exc):
            print(_fault_message(args, exc), file=sys.stderr)
            return 1
        if faults.debug():
            raise
        # A program error (a bug): a Vietnamese message, the traceback in a log file without
        # any message or variable (it could quote a pupil's data), exit 1.
        log = faults.write_log(exc, args.command)
        print(faults.program_error_message(_step(args), args.command, _outcome(args), log),
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Đã dừng theo yêu cầu.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
