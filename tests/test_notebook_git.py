"""Notebook outputs never reach git: in a fresh repository holding the project's Makefile and
.gitattributes, `make git-filter` (run by `make setup`) installs nbstripout, and a notebook
executed in place is staged without its outputs (its tags kept)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from locson_analysis import config
from locson_analysis.report import runner

ROOT = config.NOTEBOOKS_DIR.parent
SECRET = "Nguyễn Thị Bí Mật 0123456789"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout


def test_a_notebook_run_in_place_is_staged_without_outputs(tmp_path: Path) -> None:
    repo = tmp_path / "clone"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "t@example.org")
    _git(repo, "config", "user.name", "t")
    shutil.copy(ROOT / "Makefile", repo / "Makefile")
    shutil.copy(ROOT / ".gitattributes", repo / ".gitattributes")
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('school_year = ""')
    params.metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "locson", "language": "python",
                                 "display_name": "Python (locson)"}
    nb.cells = [params, nbformat.v4.new_code_cell(f"print({SECRET[::-1]!r}[::-1])")]
    path = repo / "so_tay.ipynb"
    nbformat.write(nb, path)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "sổ tay trống")

    subprocess.run(["make", "--no-print-directory", "git-filter",
                    f"BIN={Path(sys.executable).parent}"], cwd=repo, check=True,
                   capture_output=True)
    runner.execute_notebook(path, path, {"school_year": "2025-2026"})  # run in place
    assert SECRET in path.read_text(encoding="utf-8")  # the working copy has the output

    _git(repo, "add", "-A")
    staged = json.loads(_git(repo, "show", ":so_tay.ipynb"))
    assert SECRET not in json.dumps(staged, ensure_ascii=False)
    code = [c for c in staged["cells"] if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    assert "parameters" in code[0]["metadata"]["tags"]  # papermill's tag survives


#: The kernel `make lab` registers (README, Windows/conda section: the same command).
KERNEL = {"name": "locson", "display_name": "Python (locson)", "language": "python"}


def test_every_notebook_names_the_projects_kernel() -> None:
    """Opened from another Jupyter, each notebook asks for the project's kernel, in the .ipynb
    and in its jupytext pair."""
    import jupytext

    notebooks = sorted(config.NOTEBOOKS_DIR.glob("*.ipynb"))
    assert len(notebooks) >= 3
    wrong = {}
    for path in notebooks:
        for source in (path, path.with_suffix(".py")):
            spec = dict(jupytext.read(source).metadata.get("kernelspec", {}))
            if spec != KERNEL:
                wrong[source.name] = spec
    assert not wrong, f"notebooks not naming the locson kernel: {wrong}"
    assert f"--name {KERNEL['name']}" in (ROOT / "Makefile").read_text(encoding="utf-8")
