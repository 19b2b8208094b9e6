"""What a non-editable install carries: every subpackage and every data file.

The packages are listed by hand in pyproject.toml (the top-level priors/ folder is
installed as ``posterior_knee.priors``, which automatic discovery cannot express). An
editable install, as CI and the README's command use, finds every module in the source
tree whatever the list says, so a subpackage missing from it passes every other test
and is absent from the wheel: ``posterior_knee.cli`` was, and ``pip install .`` gave
a ``posterior-knee`` command that failed with "No module named posterior_knee.cli".
"""

import fnmatch
import pathlib
import tomllib

ROOT = pathlib.Path(__file__).parents[1]
PACKAGE = ROOT / "posterior_knee"


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _setuptools() -> dict:
    return _pyproject()["tool"]["setuptools"]


def _folder(name: str, package_dir: dict[str, str]) -> pathlib.Path:
    """The source folder of a listed package, through ``package-dir``."""
    for prefix in sorted(package_dir, key=len, reverse=True):
        if name == prefix or name.startswith(prefix + "."):
            rest = name[len(prefix):].lstrip(".").replace(".", "/")
            return ROOT / package_dir[prefix] / rest
    return ROOT / name.replace(".", "/")


def test_every_subpackage_is_listed():
    listed = set(_setuptools()["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for p in PACKAGE.rglob("__init__.py") if "__pycache__" not in p.parts}
    missing = found - listed
    assert not missing, (f"add {sorted(missing)} to [tool.setuptools] packages in "
                         "pyproject.toml, or a wheel installs without them")


def test_every_listed_package_exists():
    tool = _setuptools()
    for name in tool["packages"]:
        folder = _folder(name, tool.get("package-dir", {}))
        assert folder.is_dir(), f"{name}: no folder {folder}"


def test_every_data_file_is_installed():
    """Every non-Python file beside a listed package's modules (the priors' and the
    vignettes' CSV files, py.typed) matches its package's package-data."""
    tool = _setuptools()
    data = tool.get("package-data", {})
    for name in tool["packages"]:
        folder = _folder(name, tool.get("package-dir", {}))
        for path in folder.iterdir():
            if path.is_dir() or path.suffix in {".py", ".pyc"}:
                continue
            patterns = data.get(name, [])
            assert any(fnmatch.fnmatch(path.name, p) for p in patterns), (
                f"{path.relative_to(ROOT)} is not in [tool.setuptools.package-data] "
                f"{name!r}: a wheel installs without it")


def test_the_console_scripts_point_into_listed_packages():
    config = _pyproject()
    listed = set(config["tool"]["setuptools"]["packages"])
    for command, target in config["project"]["scripts"].items():
        module = target.split(":")[0]
        package = module if (ROOT / module.replace(".", "/") / "__init__.py").exists() \
            else module.rpartition(".")[0]
        assert package in listed, f"{command} runs {module}, whose package is not listed"
