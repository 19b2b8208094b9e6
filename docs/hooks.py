"""MkDocs hooks: the evidence table from the CSV files, and the notebooks as downloads.

The evidence page is generated at every build from the knowledge base, so it cannot
drift from the CSV files; the notebooks in notebooks/ are copied into the site so
that docs/notebooks.md can link to them (the links also work on a code host).
"""

from __future__ import annotations

import html
import pathlib

from mkdocs.structure.files import File

ROOT = pathlib.Path(__file__).parents[1]
MARKER = "<!-- evidence-table -->"


def on_files(files, config):
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        files.append(File.generated(config, f"notebooks/{path.name}",
                                    abs_src_path=str(path)))
    return files


def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri == "notebooks.md":
        markdown = markdown.replace("](../notebooks/", "](notebooks/")
    if MARKER in markdown:
        markdown = markdown.replace(MARKER, evidence_markdown())
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
