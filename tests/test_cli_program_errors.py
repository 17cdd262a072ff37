"""A program error (a bug, not the machine and not the data) in the ``locson`` command (issue
12, point 6): a Vietnamese message naming the command and the step, saying what happened to
the database only as far as it is known, the traceback in a log file that holds no pupil's
data, exit 1; ``LOCSON_DEBUG=1`` shows Python's own traceback.

The bug is real code raising inside the command: a package function replaced by one that
raises, as a bug in it would, with a pupil's name and ID in its message (as a message quoting
a cell would)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from locson_analysis import cli, crossyear, faults, importer, store
from locson_analysis.sample import write_sample
from tests.store_builders import pupil, year_data

Y = "2024-2025"
SECRET_NAME, SECRET_ID = "Nguyễn Thị Lan", "4296806952"


def _bug(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202 - stands for any package function
    raise KeyError(f"{SECRET_NAME} {SECRET_ID}")


@pytest.fixture
def logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "logs"
    monkeypatch.setenv(faults.LOG_DIR_ENV, str(folder))
    monkeypatch.delenv(faults.DEBUG_ENV, raising=False)
    return folder


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "x.duckdb"
    store.write_year(path, year_data(Y, [pupil("HS001", 6), pupil("HS002", 7)]))
    return path


def _one_log(folder: Path) -> str:
    (log,) = folder.glob("loi_*.txt")
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    return log.read_text(encoding="utf-8")


def test_a_bug_in_a_reading_command_is_told_in_vietnamese(
        db: Path, logs: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setattr(store, "summary", _bug)
    assert cli.main(["summary", "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Lỗi chương trình ở bước «đọc cơ sở dữ liệu» (lệnh locson summary): "
                          "đây là lỗi của chương trình, không phải của dữ liệu trong tệp. "
                          "Cơ sở dữ liệu không bị thay đổi.")
    assert f"đã ghi vào {logs}" in err and "LOCSON_DEBUG=1" in err
    assert "Traceback" not in err and SECRET_NAME not in err
    text = _one_log(logs)
    assert "Traceback (most recent call last):" in text
    assert "in cmd_summary" in text and "builtins.KeyError" in text  # where, and what kind
    assert SECRET_NAME not in text and SECRET_ID not in text  # never the message


def test_a_bug_while_reading_the_files_of_an_import_changed_nothing(
        tmp_path: Path, db: Path, logs: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    before = store.history(db)
    monkeypatch.setattr(importer, "read_years", _bug)
    assert cli.main(["import", str(tmp_path), "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert "ở bước «đọc tệp dữ liệu» (lệnh locson import)" in err
    assert "Cơ sở dữ liệu không bị thay đổi." in err
    assert store.history(db).equals(before)  # (what the message says is true)
    assert SECRET_ID not in _one_log(logs)


@pytest.fixture(scope="module")
def sample_year(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("bug_sample")
    write_sample(base, first_year=Y, last_year=Y, in_progress=False, entrants_per_year=20)
    return base / Y


def test_a_bug_while_writing_says_it_is_unknown_whether_data_changed(
        sample_year: Path, tmp_path: Path, logs: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    """A bug inside the import's transaction (the cross-year refresh): the message does not
    claim nothing changed; it says to look with locson history."""
    monkeypatch.setattr(crossyear, "check_all", _bug)
    db = tmp_path / "new.duckdb"
    assert cli.main(["import", str(sample_year), "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert "ở bước «ghi dữ liệu vào cơ sở dữ liệu» (lệnh locson import)" in err
    assert faults.UNKNOWN in err and faults.UNCHANGED not in err
    assert "_bug" in _one_log(logs)


def test_a_bug_after_the_import_was_written_says_it_was_written(
        sample_year: Path, tmp_path: Path, logs: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setattr(cli, "_print_year", _bug)
    db = tmp_path / "new.duckdb"
    assert cli.main(["import", str(sample_year), "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert "ở bước «in kết quả sau khi đã ghi dữ liệu» (lệnh locson import)" in err
    assert "Dữ liệu đã được ghi vào cơ sở dữ liệu trước lỗi này" in err
    assert len(store.history(db)) >= 1  # (it was)


def test_locson_debug_shows_pythons_traceback(db: Path, logs: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "summary", _bug)
    monkeypatch.setenv(faults.DEBUG_ENV, "1")
    with pytest.raises(KeyError, match=SECRET_ID):
        cli.main(["summary", "--db", str(db)])
    assert not logs.exists()


def test_the_log_goes_to_the_next_folder_when_one_cannot_be_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """outputs/logs first, else the user's cache folder; the report keeps the chain of errors
    (types and frames) and never a message."""
    blocked = tmp_path / "outputs"
    blocked.write_text("một tệp, không phải thư mục")  # outputs/logs cannot be made
    monkeypatch.delenv(faults.LOG_DIR_ENV, raising=False)
    monkeypatch.setattr(faults.config, "OUTPUTS_DIR", blocked)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert faults.log_dirs() == [blocked / "logs", tmp_path / "cache" / "locson" / "logs"]
    try:
        try:
            _bug()
        except KeyError as inner:
            raise ValueError(SECRET_NAME) from inner
    except ValueError as exc:
        path = faults.write_log(exc, "report")
    assert path is not None and path.parent == tmp_path / "cache" / "locson" / "logs"
    text = path.read_text(encoding="utf-8")
    assert text.index("builtins.KeyError") < text.index("builtins.ValueError")
    assert SECRET_NAME not in text and SECRET_ID not in text
