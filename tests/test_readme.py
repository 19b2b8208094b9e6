"""The README's two commands stay true, and CI runs the README's test command."""

import pathlib
import re

ROOT = pathlib.Path(__file__).parents[1]


def readme_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Two commands.*?```bash\n(.*?)```", text, re.S).group(1)
    return [line for line in block.splitlines() if line and not line.startswith("#")]


def test_two_commands():
    commands = readme_commands()
    assert len(commands) == 2
    assert "posterior-knee diagnose" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert readme_commands()[1] in ci.splitlines()


def test_priors_are_one_copy():
    """The shipped priors are the top-level folder itself, not a second copy."""
    import posterior_knee as pk

    assert not (ROOT / "posterior_knee" / "priors").exists()
    shipped = pk.default_priors_path()
    if shipped.resolve() == (ROOT / "priors").resolve():
        return  # an editable install maps the folder itself
    for csv in (ROOT / "priors").glob("*.csv"):
        assert (shipped / csv.name).read_bytes() == csv.read_bytes(), csv.name


def test_the_test_extra_installs_the_workers_the_test_command_asks_for():
    """``-n`` is pytest-xdist's option: without it in the test extra, command 2 stops."""
    import tomllib

    if not re.search(r"pytest .*-n ", readme_commands()[1]):
        return
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    test_extra = config["project"]["optional-dependencies"]["test"]
    assert any(re.match(r"pytest-xdist\b", requirement) for requirement in test_extra)
