"""The ``locson`` command when things go wrong (issue 12, points 4, 5, 6, 8): checked school
codes, concurrent imports, a full disk, a read-only folder, a closed pipe, a console that is not
UTF-8, a busy database, owner-only files.  Real processes, real files, real DuckDB."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import openpyxl
import pytest

from locson_analysis import cli, config, crossyear, run, schools, store
from locson_analysis.errors import LocsonError
from locson_analysis.sample import write_sample
from tests.store_builders import pupil, year_data

Y0, Y1 = "2023-2024", "2024-2025"
LOCSON = [sys.executable, "-m", "locson_analysis.cli"]


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two schools' folders, two years each (small: 40 entrants a year); in each school's
    second year a pupil of the first is missing (a cross-year finding per school)."""
    base = tmp_path_factory.mktemp("faults") / "pgd"
    kw = {"first_year": Y0, "last_year": Y1, "in_progress": False, "entrants_per_year": 40}
    write_sample(base / "locphat", school_code="LOCPHAT", **kw)
    write_sample(base / "locson", **kw)
    for school in ("locphat", "locson"):
        (xlsx,) = (base / school / Y1).glob("Danh sách*.xlsx")
        wb = openpyxl.load_workbook(xlsx)
        ws = wb.active
        ws.delete_rows(ws.max_row // 2)  # a pupil in the middle of the list (not an entrant)
        wb.save(xlsx)
    return base


@pytest.fixture(scope="module")
def base_db(district: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both schools' first year imported (through the command)."""
    db = tmp_path_factory.mktemp("faults_db") / "base.duckdb"
    assert cli.main(["import", str(district / "locson" / Y0), str(district / "locphat" / Y0),
                     "--db", str(db)]) == 0
    return db


def _locson(*args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*LOCSON, *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=config.PROJ_ROOT, **kw)


def _content(db: Path) -> dict[str, list]:
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
        ).fetchall()]
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}


# --------------------------------------------------------------------------------------------
# School codes (point 4)
# --------------------------------------------------------------------------------------------

def test_school_codes_are_the_listed_ones_in_any_case() -> None:
    assert schools.check_code("locson") == "LOCSON"
    assert schools.check_code(" QuangTrung ") == "QUANGTRUNG"
    for bad in ("../../../../elsewhere/X", "LOCSON/../x", "x/internal", "LOCSON2", ""):
        with pytest.raises(LocsonError, match="Các mã trường đã biết: LOCSON, LOCPHAT"):
            schools.check_code(bad)


def test_a_code_that_could_name_a_folder_elsewhere_is_refused_in_the_list(
        tmp_path: Path) -> None:
    path = tmp_path / "schools.yaml"
    path.write_text("schools:\n  - code: ../x/internal\n    name: THCS X\n", encoding="utf-8")
    with pytest.raises(LocsonError, match="mã trường «../x/internal» chỉ được gồm"):
        schools.load_registry(path)


def test_import_with_a_lower_case_code_is_the_listed_school(district: Path,
                                                            tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    assert cli.main(["import", str(district / "locson" / Y0), "--school", "locson",
                     "--db", str(db)]) == 0
    assert cli.main(["import", str(district / "locson" / Y1), "--school", "LocSon",
                     "--db", str(db)]) == 0
    assert set(store.load(db).pupils["school_code"].astype(str)) == {"LOCSON"}


def test_an_unknown_code_changes_nothing_and_lists_the_codes(
        district: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    db = tmp_path / "t.duckdb"
    assert cli.main(["import", str(district / "locson" / Y0), "--school",
                     "../../../../elsewhere/X", "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert "«../../../../elsewhere/X» không có trong danh sách trường data/schools.yaml" in err
    assert "LOCSON, LOCPHAT, LOCTHANH" in err
    assert not db.exists()
    assert cli.main(["report", "--school", "x/internal", "--db", str(db),
                     "--out", str(tmp_path / "out")]) == 1
    assert "không có trong danh sách trường" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_output_folders_stay_inside_the_output_folder(tmp_path: Path) -> None:
    out = tmp_path / "outputs"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out.mkdir()
    (out / "link").symlink_to(elsewhere)
    assert run.report_dir(out, Y1, "LOCPHAT") == out / "LOCPHAT" / Y1
    for code in ("../elsewhere", "link"):
        with pytest.raises(LocsonError, match="nằm ngoài thư mục kết quả"):
            run.report_dir(out, Y1, code)
    with pytest.raises(LocsonError, match="nằm ngoài"):
        config.inside(out / "internal", out / "internal" / ".." / ".." / "x" / "internal")


# --------------------------------------------------------------------------------------------
# Small points (8): restore, warn's year, owner-only files
# --------------------------------------------------------------------------------------------

def test_a_failed_restore_creates_nothing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    db = tmp_path / "sub" / "missing.duckdb"
    assert cli.main(["restore", "1", "--db", str(db)]) == 1
    assert "Chưa có cơ sở dữ liệu" in capsys.readouterr().err
    assert not db.exists() and not db.parent.exists()


def test_warn_checks_the_year_format_like_report(capsys: pytest.CaptureFixture,
                                                 tmp_path: Path) -> None:
    for typed, hint in [("2026/2027", "2026-2027"), ("2026", "2026-2027"),
                        ("2026-2028", "2026-2027"), ("năm nay", "2024-2025")]:
        assert cli.main(["warn", "--year", typed, "--db", str(tmp_path / "x.duckdb")]) == 1
        err = capsys.readouterr().err
        assert f"Năm học «{typed}» không đúng dạng. Hãy ghi như {hint}." in err


def test_database_wal_and_internal_folder_are_owner_only(tmp_path: Path) -> None:
    db = tmp_path / "data" / "t.duckdb"
    store.write_year(db, year_data(Y0, [pupil("A1", 6)]))
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    with store.connect(db) as con:
        con.execute("INSERT INTO meta VALUES ('probe', 'x')")
        wal = Path(f"{db}.wal")
        assert wal.exists() and stat.S_IMODE(wal.stat().st_mode) == 0o600
    internal = tmp_path / "outputs" / "internal"
    (tmp_path / "outputs").mkdir(mode=0o755)
    config.private_dir(internal / Y0)
    assert stat.S_IMODE(internal.stat().st_mode) == 0o700
    assert stat.S_IMODE((internal / Y0).stat().st_mode) == 0o700
    internal.chmod(0o755)  # an existing folder is made owner-only too
    config.private_dir(internal)
    assert stat.S_IMODE(internal.stat().st_mode) == 0o700


# --------------------------------------------------------------------------------------------
# Busy database (6): says whether the other program writes or reads
# --------------------------------------------------------------------------------------------

def _holder(db: Path, read_only: bool) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, sys
        con = duckdb.connect({str(db)!r}, read_only={read_only})
        print("held", flush=True)
        sys.stdin.read()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "held"
    return p


def test_busy_says_whether_the_other_program_writes_or_reads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "LOCK_WAIT_SECONDS", 0.3)
    db = tmp_path / "t.duckdb"
    store.write_year(db, year_data(Y0, [pupil("A1", 6)]))
    before = _content(db)
    reader = _holder(db, read_only=True)
    try:
        with pytest.raises(store.DatabaseBusy, match="mở để đọc") as exc:
            store.write_year(db, year_data(Y1, [pupil("A1", 7)]))
        assert "mở để ghi" not in str(exc.value) and "không bị thay đổi" in str(exc.value)
        assert len(store.load(db).pupils) == 1  # readers share the file
    finally:
        reader.communicate("")
    writer = _holder(db, read_only=False)
    try:
        with pytest.raises(store.DatabaseBusy, match="mở để ghi"):
            store.load(db)
        with pytest.raises(store.DatabaseBusy, match="mở để ghi"):
            store.write_year(db, year_data(Y1, [pupil("A1", 7)]))
    finally:
        writer.communicate("")
    assert _content(db) == before


# --------------------------------------------------------------------------------------------
# Concurrent imports (5)
# --------------------------------------------------------------------------------------------

def test_two_imports_at_once_both_tell_the_truth_and_keep_their_findings(
        district: Path, base_db: Path, tmp_path: Path) -> None:
    """Each round: two processes import the second year of two schools at the same moment.
    Both succeed (the second waits for the first's lock), each says what it imported, and the
    stored cross-year findings are those of a full recomputation: none lost."""
    full = crossyear.check_all(store.load(base_db).pupils)
    assert full.empty  # one year each: nothing to compare yet
    for round_no in range(5):
        db = tmp_path / f"round{round_no}.duckdb"
        shutil.copy(base_db, db)

        def one(school: str, db: Path = db) -> subprocess.CompletedProcess:
            return _locson("import", str(district / school / Y1), "--db", str(db),
                           env={"LOCSON_LOCK_WAIT": "120"})

        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(one, ["locson", "locphat"]))
        for school, r in zip(("LOCSON", "LOCPHAT"), results, strict=True):
            assert r.returncode == 0, r.stderr
            assert f"Đã nhập năm học {Y1} của" in r.stdout and f"(mã {school})" in r.stdout
            assert "Lỗi" not in r.stdout + r.stderr
        with duckdb.connect(str(db), read_only=True) as con:
            stored = sorted(con.execute("SELECT * FROM crossyear_checks").fetchall())
        full = crossyear.check_all(store.load(db).pupils)
        assert stored == sorted(map(tuple, full[crossyear.COLUMNS].astype(object)
                                    .to_numpy().tolist()))
        assert set(full["school_code"]) == {"LOCSON", "LOCPHAT"}  # both schools have findings
        assert set(store.load(db).imports["school_year"]) == {Y0, Y1}


# --------------------------------------------------------------------------------------------
# Faults of the machine (6)
# --------------------------------------------------------------------------------------------

@pytest.mark.skipif(not hasattr(os, "getuid"), reason="file-size limits are POSIX")
def test_disk_full_during_import_says_the_step_and_that_nothing_changed(
        district: Path, base_db: Path, tmp_path: Path) -> None:
    import resource
    import signal

    db = tmp_path / "t.duckdb"
    shutil.copy(base_db, db)
    before = _content(db)

    def small_disk() -> None:  # every file this process writes stops at 16 KB: "disk full"
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (16_384, 16_384))

    r = subprocess.run([*LOCSON, "import", str(district / "locson" / Y1), "--db", str(db)],
                       capture_output=True, text=True, preexec_fn=small_disk,
                       cwd=config.PROJ_ROOT)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr and "Error" not in r.stderr, r.stderr
    assert f"Lỗi: bước «ghi dữ liệu vào cơ sở dữ liệu {db}» không làm được:" in r.stderr
    assert "dung lượng" in r.stderr and "Cơ sở dữ liệu không bị thay đổi." in r.stderr
    assert _content(db) == before


@contextlib.contextmanager
def _read_only_folder(path: Path) -> Iterator[Path]:
    """A folder nobody may write into: mode 0555, and for root (who ignores modes) the
    file system's immutable flag (``chattr +i``)."""
    path.mkdir()
    path.chmod(0o555)
    immutable = os.geteuid() == 0
    if immutable and subprocess.run(["chattr", "+i", str(path)]).returncode != 0:
        pytest.skip("running as root where chattr +i is not allowed")
    try:
        yield path
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        path.chmod(0o755)


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_read_only_output_folder(base_db: Path, district: Path, tmp_path: Path) -> None:
    with _read_only_folder(tmp_path / "ket_qua") as locked:
        db = locked / "moi.duckdb"
        r = _locson("import", str(district / "locson" / Y0), "--db", str(db))
        assert r.returncode == 1 and "Traceback" not in r.stderr
        assert (f"Lỗi: bước «mở cơ sở dữ liệu {db}» không làm được: không có quyền ghi. "
                "Cơ sở dữ liệu không bị thay đổi.") in r.stderr, r.stderr
        for fmt in ("xlsx", "csv"):
            out = locked / f"chi_so.{fmt}"
            r = _locson("indicators", "--db", str(base_db), "--out", str(out))
            assert r.returncode == 1, r.stderr
            assert "Traceback" not in r.stderr
            assert (f"Lỗi: bước «ghi bảng chỉ số» không làm được: không có quyền ghi ({out}). "
                    "Cơ sở dữ liệu không bị thay đổi.") in r.stderr
            assert not out.exists()
        r = _locson("report", "--db", str(base_db), "--out", str(locked))
        assert r.returncode == 1, r.stderr
        assert "Traceback" not in r.stderr and "không có quyền ghi" in r.stderr, r.stderr
        assert "Cơ sở dữ liệu không bị thay đổi." in r.stderr


def test_a_closed_pipe_ends_quietly(base_db: Path) -> None:
    """``locson indicators | head -1``: the reader goes away after one line."""
    p = subprocess.Popen([*LOCSON, "indicators", "--db", str(base_db)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, cwd=config.PROJ_ROOT)
    first = p.stdout.readline()
    p.stdout.close()
    err = p.stderr.read().decode("utf-8")
    assert p.wait() == 0
    assert first.startswith(b'"school_code"')
    assert err == ""


def test_the_history_through_head_ends_quietly(base_db: Path) -> None:
    r = subprocess.run(f"{' '.join(LOCSON)} history --db {base_db} | head -n 1; "
                       f"{' '.join(LOCSON)} indicators --db {base_db} | head -n 1",
                       shell=True, capture_output=True, text=True, cwd=config.PROJ_ROOT)
    assert r.stderr == "" and r.stdout.startswith(" Mã")


@pytest.mark.parametrize("encoding", ["cp1258", "cp1252", "ascii"])
def test_any_console_encoding(base_db: Path, tmp_path: Path, encoding: str) -> None:
    """Output redirected under a code page that lacks Vietnamese letters: UTF-8, no error."""
    env = {"PYTHONIOENCODING": encoding, "PYTHONUTF8": "0"}
    r = subprocess.run([*LOCSON, "summary", "--db", str(base_db)], capture_output=True,
                       env={**os.environ, **env}, cwd=config.PROJ_ROOT)
    assert r.returncode == 0, r.stderr.decode("utf-8", "replace")
    assert "Cơ sở dữ liệu" in r.stdout.decode("utf-8") and r.stderr == b""
    r = subprocess.run([*LOCSON, "restore", "1", "--db", str(tmp_path / "none.duckdb")],
                       capture_output=True, env={**os.environ, **env}, cwd=config.PROJ_ROOT)
    assert r.returncode == 1
    assert "Lỗi: Chưa có cơ sở dữ liệu" in r.stderr.decode("utf-8")


def test_all_errors_file_from_the_command(district: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture) -> None:
    """More than 200 problems: the console shows 200 and says how to see all; --all-errors
    writes every one of them."""
    folder = Path(shutil.copytree(district / "locson" / Y0, tmp_path / Y0))
    (xlsx,) = [f for f in folder.glob("*.xlsx") if not f.name.startswith(("Phổ", "So"))]
    wb = openpyxl.load_workbook(xlsx)
    ws = wb.active
    top = next(r[0].row for r in ws.iter_rows() if r[0].value == "STT")
    cols = [c.column for c in ws[top] if c.value in ("Ngày sinh", "Giới tính")]
    assert len(cols) == 2
    for r in range(top + 1, ws.max_row + 1):
        for c in cols:
            ws.cell(row=r, column=c, value="-xyz+1")
    wb.save(xlsx)
    db = tmp_path / "t.duckdb"
    assert cli.main(["import", str(folder), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    total = int(err.split("phát hiện ")[1].split(" lỗi")[0])
    assert total > 200 and "  200. " in err and "  201. " not in err
    assert "--all-errors TỆP" in err
    out = tmp_path / "loi.csv"
    assert cli.main(["import", str(folder), "--db", str(db), "--all-errors", str(out)]) == 2
    assert f"Danh sách đầy đủ {total} lỗi: {out}" in capsys.readouterr().err
    import pandas as pd
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert len(table) == total and table["STT"].tolist() == [str(i) for i in range(1, total + 1)]
    assert set(table["Giá trị"]) == {"'-xyz+1"}  # (no live formula in the list either)
    assert not db.exists()


@pytest.mark.parametrize("legacy", [False, True])
def test_restore_brings_back_every_kind_of_the_import(tmp_path: Path, legacy: bool) -> None:
    """Two imports of a year (list + school sheet each); restoring either id of the first
    makes both its kinds active.  ``legacy``: a database written before imports recorded
    their group (the kinds written together at the same time are found instead)."""
    db = tmp_path / "t.duckdb"
    first = store.write_year(db, year_data(Y0, [pupil("A1", 6)], school={"toilets": 2}))
    second = store.write_year(db, year_data(Y0, [pupil("B1", 6)], school={"toilets": 9}),
                              replace=True)
    other = store.write_year(db, year_data(Y1, [pupil("A1", 7)], school={"toilets": 3}))
    if legacy:
        with duckdb.connect(str(db)) as con:
            con.execute("UPDATE imports SET import_group = NULL")
            con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    for restored, expected in [(first[1], first), (second[0], second), (first[0], first)]:
        r = store.restore(db, restored)
        assert r["import_ids"] == expected and r["kinds"] == ["pupils", "school"]
        ds = store.load(db)
        active = ds.imports.set_index(["school_year", "kind"])["import_id"]
        assert [active[(Y0, "pupils")], active[(Y0, "school")]] == expected
        assert [active[(Y1, "pupils")], active[(Y1, "school")]] == other  # untouched
    y0 = ds.school[ds.school["school_year"] == Y0]
    assert y0["value"].tolist() == [2.0]
