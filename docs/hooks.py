"""MkDocs hooks: the evidence table from the CSV files, the vignette tables, and the
notebooks as downloads.

The evidence page is generated at every build from the knowledge base, so it cannot
drift from the CSV files; the vignette page's case list and its dev-split results are
computed at every build from the shipped suite and priors (never the test split); the
notebooks in notebooks/ are copied into the site so
that docs/notebooks.md can link to them (the links also work on a code host).
"""

from __future__ import annotations

import html
import pathlib

from mkdocs.structure.files import File

ROOT = pathlib.Path(__file__).parents[1]
MARKER = "<!-- evidence-table -->"
VIGNETTE_MARKERS = ("<!-- vignette-counts -->", "<!-- vignette-dev-results -->",
                    "<!-- vignette-cases -->")


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
                                                   "modelled causes"]), "lrr")

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
