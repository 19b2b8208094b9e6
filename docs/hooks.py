"""MkDocs hooks: the evidence table from the CSV files, the vignette tables, and the
notebooks executed for the site.

The evidence page is generated at every build from the knowledge base, so it cannot
drift from the CSV files; the vignette page's case list and its dev-split results are
computed at every build from the shipped suite and priors (never the test split).

The notebooks in notebooks/ are committed without outputs. Every build executes them
(a cell that fails fails the build) and hands the executed copies to mkdocs-jupyter,
which makes them pages; the copies in git are published beside them as downloads. A
test session that has executed them already names its copies in
``POSTERIOR_KNEE_EXECUTED_NOTEBOOKS``: a copy is used only if its code is the code in
git. The pages fetch nothing from the internet: an output that a widget would draw
(which needs the widget library from a CDN) shows its plain HTML form instead.
"""

from __future__ import annotations

import html
import os
import pathlib
import re
import shutil
import tempfile

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

ROOT = pathlib.Path(__file__).parents[1]
NOTEBOOKS = ROOT / "notebooks"
MARKER = "<!-- evidence-table -->"
RANGES_MARKER = "<!-- shipped-ranges -->"
VIGNETTE_MARKERS = ("<!-- vignette-counts -->", "<!-- vignette-dev-results -->",
                    "<!-- vignette-cases -->")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
CELL_TIMEOUT = 300  # seconds: a hung kernel fails the build instead of blocking it
_executed: dict[str, pathlib.Path] = {}


@event_priority(100)  # before mkdocs-jupyter looks for notebook pages
def on_files(files, config):
    # a real folder (not generated files): mkdocs-jupyter reads the source path
    folder = pathlib.Path(tempfile.mkdtemp(prefix="posterior-knee-docs-")) / "executed"
    _executed["folder"] = folder.parent  # removed after the build, or when it fails
    (folder / "notebooks").mkdir(parents=True)
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        uri = f"notebooks/{path.name}"
        (folder / uri).write_text(_executed_notebook(path), encoding="utf-8")
        files.append(File(uri, src_dir=str(folder), dest_dir=config["site_dir"],
                          use_directory_urls=config["use_directory_urls"]))
        files.append(File.generated(config, f"notebooks/download/{path.name}",
                                    abs_src_path=str(path)))
    return files


def on_post_build(config):
    folder = _executed.pop("folder", None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def on_build_error(error):
    on_post_build(None)


def _code(notebook) -> list[str]:
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def _executed_notebook(path: pathlib.Path) -> str:
    """The notebook at ``path`` with its outputs, as text, ready for the web."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    ready = os.environ.get("POSTERIOR_KNEE_EXECUTED_NOTEBOOKS")
    copy = pathlib.Path(ready, path.name) if ready else None
    if copy is not None and copy.is_file():
        executed = nbformat.read(copy, as_version=4)
        if _code(executed) == _code(notebook):
            return nbformat.writes(_for_the_web(executed))
    import nbclient
    from jupyter_client.manager import KernelManager

    # local sockets, not TCP: nothing listens on the network while the docs build
    sockets = tempfile.mkdtemp(prefix="posterior-knee-kernel-")
    kernel = KernelManager(kernel_name="python3", transport="ipc",
                           ip=os.path.join(sockets, "kernel"))
    client = nbclient.NotebookClient(
        notebook, km=kernel, timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(path.parent)}})
    # plots inline, as in Jupyter, whatever backend the caller chose for itself
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    try:
        client.execute(env=env)  # raises CellExecutionError, naming the cell: build fails
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
    return nbformat.writes(_for_the_web(notebook))


def _for_the_web(notebook):
    """Outputs that need no script: where a widget view comes with a plain HTML form
    (as the interview widget's does), the page shows that form."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data and "text/html" in data:
                del data[WIDGET_VIEW]
    notebook.metadata.pop("widgets", None)  # the widget state: nothing left to draw
    return notebook


def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri == "notebooks.md":
        # links to the notebooks in git become the pages; "download" links the copies
        markdown = re.sub(r"\]\(\.\./notebooks/([^)\s]+\.ipynb) \"download\"\)",
                          r"](notebooks/download/\1)", markdown)
        markdown = markdown.replace("](../notebooks/", "](notebooks/")
    if MARKER in markdown:
        markdown = markdown.replace(MARKER, evidence_markdown())
    if RANGES_MARKER in markdown:
        markdown = markdown.replace(RANGES_MARKER, ranges_markdown())
    for marker, make in zip(VIGNETTE_MARKERS, (vignette_counts, vignette_dev_results,
                                               vignette_cases)):
        if marker in markdown:
            markdown = markdown.replace(marker, make())
    return markdown


def _cell(text: object) -> str:
    """Table-cell text: HTML-escaped, no line breaks, Markdown's specials escaped."""
    text = html.escape(" ".join(str(text).split())).replace("|", "&#124;")
    for special in "\\`*_[]":
        text = text.replace(special, "\\" + special)
    return text


def evidence_markdown() -> str:
    import posterior_knee as pk

    table = pk.evidence_table()
    counts = table.groupby(["file", "basis"]).size().unstack(fill_value=0)
    lines = ["## How many numbers rest on what", "",
             "| file | " + " | ".join(counts.columns) + " |",
             "|---|" + "---:|" * len(counts.columns)]
    lines += [f"| `{file}` | " + " | ".join(str(n) for n in row) + " |"
              for file, row in counts.iterrows()]
    for file, rows in table.groupby("file", sort=False):
        lines += ["", f"## `{file}`", "", "| id | column | value | basis | source |",
                  "|---|---|---:|---|---|"]
        lines += [f"| `{r.id}` | {r.column} | {r.value:g} | {r.basis} | {_cell(r.source)} |"
                  for r in rows.itertuples()]
    return "\n".join(lines) + "\n"


def ranges_markdown() -> str:
    """Every number shipped with a range, from the knowledge base (a hand-kept table
    went stale when causes were added)."""
    import posterior_knee as pk

    table = pk.evidence_table()
    ends = table[table["column"].isin(["low", "high"])]
    lines = ["| file | id | column | value | low | high | where the range comes from |",
             "|---|---|---|---:|---:|---:|---|"]
    for (file, key), rows in ends.groupby(["file", "id"], sort=False):
        point = table[(table["file"] == file) & (table["id"] == key)
                      & ~table["column"].isin(["low", "high"])].iloc[0]
        end = dict(zip(rows["column"], rows["value"]))
        why = re.search(r"\bRanges?\b[^:]{0,20}:\s*(.*)$", point.source, re.S)
        # "the same transform of the CI" says little without the study it is from
        cited = re.match(r"[^\[:;(]*?\b(?:19|20)\d\d\b", point.source)
        text = why.group(1) if why else point.source
        if why and cited:
            text = f"{cited.group(0)}: {text}"
        lines.append(f"| {file} | `{key}` | {point.column} | {point.value:g} | "
                     f"{end['low']:g} | {end['high']:g} | {_cell(text)} |")
    return "\n".join(lines) + "\n"


def _table(frame, align: str = "") -> list[str]:
    """A Markdown table of ``frame`` (cells escaped); ``align`` one letter per column."""
    align = align or "l" * len(frame.columns)
    rule = {"l": "---", "r": "---:"}
    return (["| " + " | ".join(_cell(c) for c in frame.columns) + " |",
             "|" + "|".join(rule[a] for a in align) + "|"]
            + ["| " + " | ".join(_cell(v) for v in row) + " |"
               for row in frame.itertuples(index=False)])


def vignette_counts() -> str:
    import posterior_knee as pk

    suite = pk.vignettes()
    kb = pk.load_knowledge_base()
    modelled = set(kb.cause_ids)
    counts = suite.groupby(["cause", "split"]).size().unstack(fill_value=0)
    counts = counts.reindex(columns=["dev", "test"], fill_value=0)
    order = [c for c in kb.cause_ids] + sorted(set(counts.index) - modelled)
    counts = counts.reindex(order, fill_value=0)
    counts["modelled"] = ["yes" if c in modelled else "no" for c in counts.index]
    counts = counts.reset_index()[["cause", "modelled", "dev", "test"]]
    lines = _table(counts, "llrr")
    lines += ["", f"In all: {len(suite)} cases, {int((suite['split'] == 'dev').sum())} "
              f"dev and {int((suite['split'] == 'test').sum())} test."]
    for column in ("kind", "quality", "min_triage"):
        shares = suite[column].value_counts()
        lines.append(f"By {column.replace('_', ' ')}: "
                     + ", ".join(f"{key} {n}" for key, n in shares.items()) + ".")
    return "\n".join(lines) + "\n"


def vignette_dev_results() -> str:
    import math

    import posterior_knee as pk

    result = pk.evaluate(split="dev")  # never the test split: see the page

    def share(value, low, high):
        return "" if math.isnan(value) else f"{value:.0%} ({low:.0%}-{high:.0%})"

    summary = []
    for metric, rows in result.summary.groupby("metric", sort=False):
        cells = [pk.evaluation.METRICS[metric]]
        for row in rows.itertuples():
            if metric in ("cases", "errors", "unknown_ids"):
                cells.append(f"{row.value:.0f}")
            elif math.isnan(row.low):
                cells.append(f"{row.value:.3f}")
            else:
                cells.append(share(row.value, row.low, row.high))
        summary.append(cells)
    import pandas as pd

    lines = ["### Summary", ""]
    lines += _table(pd.DataFrame(summary, columns=["figure", "all cases",
                                                   "modelled causes", "contract causes"]),
                    "lrrr")

    def per(frame, key):
        out = pd.DataFrame({
            key: frame[key], "n": frame["n"],
            "top-1": [share(*r) for r in zip(frame["top1"], frame["top1_low"],
                                              frame["top1_high"])],
            "top-3": [share(*r) for r in zip(frame["top3"], frame["top3_low"],
                                              frame["top3_high"])],
            "MRR": [f"{v:.2f}" for v in frame["mrr"]],
            "strict triage": [share(*r) for r in zip(frame["triage_ok"],
                                                      frame["triage_ok_low"],
                                                      frame["triage_ok_high"])],
            "over-triage 2+": [share(*r) for r in zip(frame["over_triage_2"],
                                                       frame["over_triage_2_low"],
                                                       frame["over_triage_2_high"])],
        })
        return _table(out, "lrrrrrr")

    lines += ["", "### Per group of the confirmed cause", ""] + per(result.per_group,
                                                                     "group")
    lines += ["", "### Per cause", ""] + per(result.per_cause, "cause")
    table = result.reliability
    lines += ["", "### Reliability of the top cause", ""]
    lines += _table(pd.DataFrame({
        "P(top cause)": table["bin"], "cases": table["count"],
        "mean predicted": [("" if math.isnan(v) else f"{v:.0%}")
                           for v in table["mean_probability"]],
        "observed correct": [share(*r) for r in zip(table["observed"],
                                                     table["observed_low"],
                                                     table["observed_high"])],
    }), "lrrr")
    return "\n".join(lines) + "\n"


def vignette_cases() -> str:
    import posterior_knee as pk

    suite = pk.vignettes()
    lines = ["| id | split | cause | kind | quality | lowest triage | source |",
             "|---|---|---|---|---|---|---|"]
    for row in suite.itertuples():
        url = row.url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
        link = f"[{_cell(row.citation)}]({url})"
        lines.append(f"| {row.id} | {row.split} | `{row.cause}` | {row.kind} | "
                     f"{row.quality} | {row.min_triage} | {link} |")
    return "\n".join(lines) + "\n"
