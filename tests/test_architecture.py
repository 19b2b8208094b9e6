"""The package's layers, checked by import-linter's contracts in pyproject.toml.

A lower layer never imports a higher one, the engines decide no triage, the clinical
rules stand alone, and no subpackage has an import cycle among its modules.
"""

import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).parents[1]


def test_import_contracts_are_kept():
    pytest.importorskip("importlinter")
    lint = pathlib.Path(sys.executable).with_name("lint-imports")
    command = [str(lint)] if lint.exists() else [sys.executable, "-m", "importlinter.cli"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_contracts_cover_every_subpackage():
    """A new subpackage must be placed in a layer, or the layers say nothing about it."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    layers = next(c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers")
    named = {name.strip() for layer in layers["layers"] for name in layer.split("|")}
    package = ROOT / "posterior_knee"
    subpackages = {f"posterior_knee.{p.parent.name}" for p in package.glob("*/__init__.py")}
    modules = {f"posterior_knee.{p.stem}" for p in package.glob("*.py")
               if not p.stem.startswith("_")}
    assert subpackages - {"posterior_knee.priors"} <= named
    assert modules <= named
