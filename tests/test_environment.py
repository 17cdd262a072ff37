"""environment.yml (conda, Windows) and pyproject.toml (pip, Linux) declare the same packages."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"python-duckdb": "duckdb"}


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ \[]", spec.strip(), maxsplit=1)[0].lower()


def test_conda_and_pip_declare_the_same_packages() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pip = {_name(d): d for d in project["dependencies"] + project["optional-dependencies"]["dev"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda = {}
    for d in env["dependencies"]:
        if isinstance(d, str) and _name(d) not in ("python", "pip"):
            conda[CONDA_NAMES.get(_name(d), _name(d))] = d
    assert set(pip) == set(conda)
    for name, spec in pip.items():
        floor = re.search(r">=\s*([\d.]+)", spec)
        assert floor and floor.group(1) in conda[name], f"{name}: {spec} vs {conda[name]}"
