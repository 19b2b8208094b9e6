"""The documentation site builds with no warnings, its evidence page matches the CSV
files, its API page reads the docstrings, and its notebook pages show their outputs
without fetching anything from the internet."""

import html
import os
import pathlib
import re
import subprocess
import sys

import pytest

import posterior_knee as pk

from .optional import require

ROOT = pathlib.Path(__file__).parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def site(tmp_path_factory, executed_notebooks):
    require("mkdocs", "docs")
    require("mkdocstrings_handlers.python", "docs")
    require("mkdocs_jupyter", "docs")
    for path in NOTEBOOKS:
        try:
            executed_notebooks(path)  # once per session: the build publishes these runs
        except Exception:
            pass  # the build executes it again and fails, naming the cell
    target = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1",
           "POSTERIOR_KNEE_EXECUTED_NOTEBOOKS": str(executed_notebooks.folder)}
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict",
                          "--site-dir", str(target)], cwd=ROOT, capture_output=True,
                         text=True, timeout=900, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "WARNING" not in run.stdout + run.stderr, run.stdout + run.stderr
    return target


def _nav_files(entries):
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        if isinstance(value, list):
            yield from _nav_files(value)
        else:
            yield value


def test_every_page_is_in_the_navigation():
    yaml = require("yaml", "docs")
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    nav = list(_nav_files(config["nav"]))
    assert len(nav) == len(set(nav))
    assert {n for n in nav if n.endswith(".md")} == {p.name for p in (ROOT / "docs").glob("*.md")}
    assert [n for n in nav if n.endswith(".ipynb")] == [f"notebooks/{p.name}"
                                                        for p in NOTEBOOKS]


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


def test_the_sensitivity_page_lists_every_shipped_range(site):
    """The table of shipped ranges is generated, so a range added with a cause shows."""
    page = (site / "sensitivity" / "index.html").read_text(encoding="utf-8")
    table = pk.evidence_table()
    ends = table[table["column"].isin(["low", "high"])]
    cell = r"\s*<td[^>]*>([^<]*)</td>"
    rows = re.findall(r"<tr>" + cell + r"\s*<td[^>]*><code>([^<]*)</code></td>" + cell * 4,
                      page)
    shown = {(f, html.unescape(key)): (float(low), float(high))
             for f, key, _, _, low, high in rows}
    expected = {(f, key): tuple(rows_["value"]) for (f, key), rows_ in ends.groupby(
        ["file", "id"]) if list(rows_["column"]) == ["low", "high"]}
    assert len(expected) == ends.groupby(["file", "id"]).ngroups > 0
    assert set(shown) == set(expected)
    for key, ends_ in expected.items():
        assert shown[key] == pytest.approx(ends_), key


def test_the_notebooks_page_links_every_notebook_and_its_download(site):
    page = (site / "notebooks" / "index.html").read_text(encoding="utf-8")
    for notebook in NOTEBOOKS:
        assert f'href="{notebook.stem}/"' in page
        assert f'href="download/{notebook.name}"' in page
        download = site / "notebooks" / "download" / notebook.name
        assert download.read_bytes() == notebook.read_bytes()  # the copy in git


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_each_notebook_is_a_page_with_its_outputs(site, path, executed_notebooks):
    page = (site / "notebooks" / path.stem / "index.html").read_text(encoding="utf-8")
    run = executed_notebooks(path)
    images = sum("image/png" in output.get("data", {}) for cell in run.cells
                 if cell.cell_type == "code" for output in cell.outputs)
    assert page.count('src="data:image/png;base64,') == images
    outputs = sum(len(cell.outputs) for cell in run.cells if cell.cell_type == "code")
    assert outputs and page.count("jp-OutputArea-output") >= outputs
    assert "does not replace" in html.unescape(page)  # the disclaimer, up front
    # nothing a page needs comes from the internet: no widget library, no CDN
    assert "application/vnd.jupyter.widget" not in page
    assert not re.search(r"<script[^>]+src=\"(https?:)?//", page)


def test_the_pages_show_the_triage_banner_plots_and_the_interview(site):
    tour = (site / "notebooks" / "01_tour" / "index.html").read_text(encoding="utf-8")
    assert "pk-triage" in tour and tour.count("data:image/png") >= 3  # bars, 2 networks
    interview = (site / "notebooks" / "04_interview" / "index.html").read_text(
        encoding="utf-8")
    # the widget in its plain HTML form: at the start, and with the diagnosis at the end
    widgets = re.split(r"class=[\"']pk-interview[\"']", interview)
    assert len(widgets) == 3
    assert "<button disabled" in widgets[1] and "pk-triage" not in widgets[1]
    assert "pk-triage" in widgets[2]


def test_the_api_page_reads_the_docstrings(site):
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    text = html.unescape(re.sub(r"<[^>]+>", "", api))
    # Sphinx roles become links or code, never raw text
    assert not re.search(r":(meth|func|class|attr|data|mod|exc):`", text)
    assert re.search(r'<a class="autorefs autorefs-internal"[^>]*href="#posterior_knee\.'
                     r'Model\.diagnose"[^>]*><code>Model\.diagnose\(\)</code></a>', api)
    # doctests are code, not the nested quotes Markdown makes of ">>>"
    for quote in re.findall(r"<blockquote>.*?</blockquote>", api, re.S):
        assert "&gt;&gt;&gt;" not in quote
    # one outside an Examples section (Model.red_flag_triage's) is coloured code too
    assert re.search(r'<div class="highlight"><pre><span></span><code><span class="gp">'
                     r'&gt;&gt;&gt; </span><span class="n">Model</span>[^\n]*red_flag_triage',
                     api)
    # signatures on their own, wrapped to the line length, not cut
    signatures = re.findall(r'<div class="doc-signature[^"]*">(.*?)</div>', api, re.S)
    assert len(signatures) > 50
    for signature in signatures:
        lines = html.unescape(re.sub(r"<[^>]+>", "", signature)).splitlines()
        assert max(map(len, lines)) <= 88, lines


def test_no_page_fetches_anything_from_the_internet(site):
    for page in site.rglob("*.html"):
        head = page.read_text(encoding="utf-8")
        assert not re.search(r"<(script|img)[^>]+src=\"(https?:)?//", head), page
        assert not re.search(r"<link[^>]+rel=\"stylesheet\"[^>]+href=\"(https?:)?//", head), page


def test_the_vignette_page_lists_every_case_with_its_source(site):
    page = html.unescape((site / "vignettes" / "index.html").read_text(encoding="utf-8"))
    suite = pk.vignettes()
    for row in suite.itertuples():
        assert f"<td>{row.id}</td>" in page, row.id
    links = set(re.findall(r'<a href="(http[^"]+)"', page))
    assert len(links & set(suite["url"].str.replace("(", "%28").str.replace(")", "%29"))) \
        == suite["url"].nunique()
    assert "<!-- vignette" not in page  # every generated table was filled in
