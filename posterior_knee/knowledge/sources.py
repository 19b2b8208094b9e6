"""Where each number comes from: every number in the CSV files beside its source."""

from __future__ import annotations

import math
import re

import pandas as pd

from ..errors import check_parameter
from ._schema import NUMERIC_KINDS, TABLES
from .base import KnowledgeBase, load_knowledge_base

__all__ = ["evidence_table"]

_TAGS = re.compile(r"\[([PSU])\]")
BASES = ("uncertain", "expert estimate", "published", "secondary", "unverified", "source document",
         "cited")
"""The values of ``basis`` in :func:`evidence_table`, in the order the rule tries them."""


def _basis(source: str, tags: str) -> str:
    start = source.strip().lower()
    for basis in ("uncertain", "expert estimate"):
        if start.startswith(basis):
            return basis
    for tag, name in (("P", "published"), ("S", "secondary"), ("U", "unverified")):
        if tag in tags:
            return name
    return "source document" if "source document" in source.lower() else "cited"


def evidence_table(kb: KnowledgeBase | None = None) -> pd.DataFrame:
    """Every number in the knowledge base with the source cell of its row.

    Parameters
    ----------
    kb
        A knowledge base; None loads the shipped default priors.

    Returns
    -------
    pandas.DataFrame
        One row per number, in file and row order. Columns ``file`` (e.g.
        ``causes.csv``), ``id`` (the row's key columns joined by ':', e.g.
        ``bakers_cyst:lump_behind_knee`` in finding_links.csv), ``column``, ``value``,
        ``source`` (the row's ``source`` cell), ``tags`` (the evidence tags the cell
        cites, from medical-evidence.md: ``P`` read in the original article, ``S``
        only in a secondary source, ``U`` not verified; e.g. ``"P S"``) and ``basis``:
        ``expert estimate`` when the cell starts so (it may still cite the figures it
        is anchored on), else ``published`` / ``secondary`` / ``unverified`` by the
        strongest tag, else ``source document`` or ``cited``; ``uncertain`` when the
        cell starts by saying the figure is uncertain. Empty cells (an odds
        ratio a ``requires`` link does not use) are left out.

    Examples
    --------
    >>> import posterior_knee as pk
    >>> table = pk.evidence_table()
    >>> row = table[(table["file"] == "causes.csv") & (table["id"] == "dvt")].iloc[0]
    >>> row["column"]
    'prior'
    >>> causes = pk.load_knowledge_base().causes.set_index("id")
    >>> bool(row["value"] == causes.loc["dvt", "prior"])
    True
    >>> set(table["basis"]) <= set(pk.sources.BASES)
    True
    """
    check_parameter(kb is None or isinstance(kb, KnowledgeBase), "kb", "evidence_table",
                    "None or a KnowledgeBase", kb)
    kb = load_knowledge_base() if kb is None else kb
    rows = []
    for name, table in TABLES.items():
        frame = getattr(kb, name)
        numeric = [c.name for c in table.columns
                   if c.kind in NUMERIC_KINDS and c.name in frame]
        for record in frame.to_dict("records"):
            key = ":".join(str(record[k]) for k in table.key)
            source = str(record["source"])
            tags = " ".join(dict.fromkeys(_TAGS.findall(source)))
            for column in numeric:
                value = float(record[column])
                if math.isnan(value):
                    continue
                rows.append({"file": table.file, "id": key, "column": column,
                             "value": value, "source": source, "tags": tags,
                             "basis": _basis(source, tags)})
    return pd.DataFrame(rows, columns=["file", "id", "column", "value", "source", "tags",
                                       "basis"])
