"""The documentation site builds with no warnings, and its evidence page matches the
CSV files."""

import html
import pathlib
import re
import subprocess
import sys

import pytest

import posterior_knee as pk

from .optional import require

ROOT = pathlib.Path(__file__).parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    require("mkdocs", "docs")
    require("mkdocstrings_handlers.python", "docs")
    target = tmp_path_factory.mktemp("site")
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict",
                          "--site-dir", str(target)], cwd=ROOT, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "WARNING" not in run.stdout + run.stderr, run.stdout + run.stderr
    return target


def test_every_page_is_in_the_navigation():
    yml = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = set(re.findall(r"^  - [^:]+: (\S+\.md)$", yml, re.M))
    assert nav == {p.name for p in (ROOT / "docs").glob("*.md")}


def test_the_site_builds_strictly(site):
    for page in ("index.html", "api/index.html", "limitations/index.html",
                 "evidence/index.html", "notebooks/index.html"):
        assert (site / page).is_file(), page
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    for name in ("diagnose", "Model", "Diagnosis", "evidence_table", "plots.plot_tornado"):
        assert f'id="posterior_knee.{name}"' in api, name


def test_the_evidence_page_lists_every_number_with_its_source(site):
    page = (site / "evidence" / "index.html").read_text(encoding="utf-8")
    cell = r"\s*<td[^>]*>([^<]*)</td>"
    rows = re.findall(r"<tr>\s*<td><code>([^<]*)</code></td>" + cell * 4 + r"\s*</tr>", page)
    table = pk.evidence_table()
    assert len(rows) == len(table)
    for (key, column, value, basis, source), row in zip(rows, table.itertuples()):
        assert (html.unescape(key), column, basis) == (row.id, row.column, row.basis)
        assert float(value) == pytest.approx(row.value, rel=1e-5)
        assert html.unescape(source) == " ".join(row.source.split())


def test_the_notebooks_page_links_every_notebook(site):
    page = (site / "notebooks" / "index.html").read_text(encoding="utf-8")
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):
        assert f'href="{notebook.name}"' in page
        assert (site / "notebooks" / notebook.name).is_file()


def test_the_vignette_page_lists_every_case_with_its_source(site):
    page = html.unescape((site / "vignettes" / "index.html").read_text(encoding="utf-8"))
    suite = pk.vignettes()
    for row in suite.itertuples():
        assert f"<td>{row.id}</td>" in page, row.id
    links = set(re.findall(r'<a href="(http[^"]+)"', page))
    assert len(links & set(suite["url"].str.replace("(", "%28").str.replace(")", "%29"))) \
        == suite["url"].nunique()
    assert "<!-- vignette" not in page  # every generated table was filled in
