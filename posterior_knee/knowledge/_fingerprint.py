"""A fingerprint of a knowledge base: the SHA-256 of its CSV tables.

Two knowledge bases with the same fingerprint give the same answers, so a result that
names it can be reproduced: load the CSV files whose fingerprint matches.
"""

from __future__ import annotations

import csv
import hashlib
import io
import weakref

import pandas as pd

from ._schema import TABLES
from .base import KnowledgeBase, _cell_text

__all__ = ["fingerprint"]

_cache: weakref.WeakKeyDictionary[KnowledgeBase, str] = weakref.WeakKeyDictionary()


def fingerprint(kb: KnowledgeBase) -> str:
    """The SHA-256 (hex) of the knowledge base's tables written as CSV text.

    Each table is hashed as plain CSV (its columns in the table's order, cells as
    :meth:`KnowledgeBase.save` writes them: numbers in full precision), file name
    first, in a fixed order. So the fingerprint depends only on the content: how the
    files were laid out (column order, byte-order mark, line endings) and where they
    were loaded from do not change it; any changed cell does.

    Examples
    --------
    >>> import posterior_knee as pk
    >>> from posterior_knee.knowledge import fingerprint
    >>> kb = pk.load_knowledge_base()
    >>> len(fingerprint(kb)), fingerprint(kb) == fingerprint(pk.load_knowledge_base())
    (64, True)
    """
    found = _cache.get(kb)
    if found is None:
        digest = hashlib.sha256()
        for name, table in TABLES.items():
            frame = getattr(kb, name)
            digest.update(f"{table.file}\n".encode())
            digest.update(_canonical_csv(frame).encode("utf-8"))
            digest.update(b"\0")
        found = _cache[kb] = digest.hexdigest()
    return found


def _canonical_csv(frame: pd.DataFrame) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(frame.columns))
    for row in frame.itertuples(index=False):
        writer.writerow([_cell_text(value) for value in row])
    return out.getvalue()
