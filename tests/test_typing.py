"""The package's annotations hold: mypy finds no error, and the package says it is
typed (``py.typed``, PEP 561), so that users' type checkers read them.

The settings are in pyproject.toml (``[tool.mypy]``): our code is checked in full,
including the bodies of unannotated functions; pgmpy, pandas and the optional
dependencies count as untyped (Any).
"""

import pathlib
import subprocess
import sys
import tomllib

import pytest

ROOT = pathlib.Path(__file__).parents[1]


def test_mypy_finds_no_error_in_the_package(tmp_path):
    pytest.importorskip("mypy")
    # a fresh cache: a stale one could hide an error; in its own process, as in CI
    command = [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy"),
               "--no-error-summary", "--config-file", str(ROOT / "pyproject.toml")]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_package_is_marked_typed():
    assert (ROOT / "posterior_knee" / "py.typed").is_file()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["posterior_knee"]
