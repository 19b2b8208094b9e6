"""Comparing a tuned knowledge base with another on a set of cases."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import check_parameter
from .inference._evidence import is_missing
from .knowledge.base import KnowledgeBase
from .model import Model

__all__ = ["compare"]


def _cases(cases: object) -> dict[object, dict[str, object]]:
    if isinstance(cases, pd.DataFrame):
        return {index: {c: v for c, v in row.items() if not is_missing(v)}
                for index, row in cases.iterrows()}
    if isinstance(cases, Mapping):
        return {name: dict(case) for name, case in cases.items()}
    if isinstance(cases, Sequence) and not isinstance(cases, str):
        return {i: dict(case) for i, case in enumerate(cases)}
    check_parameter(False, "cases", "compare",
                    "a DataFrame of cases, a dict of name -> findings, or a list of findings",
                    cases)
    raise AssertionError("unreachable")


def compare(kb_a: KnowledgeBase, kb_b: KnowledgeBase, cases: object) -> pd.DataFrame:
    """How ``kb_b`` (e.g. a tuned copy) changes the ranking and triage of ``kb_a``.

    ``cases`` is a DataFrame (one row per case, columns are ids, values True / False /
    missing), a dict of case name to findings, or a list of findings. One row per
    case, in order, with columns ``case``, ``top_a``, ``top_b``, ``top_changed``,
    ``triage_a``, ``triage_b``, ``triage_changed``, ``largest_change`` (the largest
    absolute change of any cause's probability) and ``most_changed`` (that cause).

    >>> import posterior_knee as pk
    >>> kb = pk.load_knowledge_base()
    >>> causes = kb.causes.copy()
    >>> causes.loc[causes["id"] == "dvt", "prior"] *= 3
    >>> table = compare(kb, kb.replace(causes=causes), [{"calf_swelling": True}])
    >>> table.loc[0, "most_changed"]
    'dvt'
    """
    for parameter, kb in (("kb_a", kb_a), ("kb_b", kb_b)):
        check_parameter(isinstance(kb, KnowledgeBase), parameter, "compare",
                        "a KnowledgeBase", kb)
    model_a, model_b = Model(kb_a), Model(kb_b)
    rows = []
    for name, findings in _cases(cases).items():
        a, b = model_a.diagnose(findings), model_b.diagnose(findings)
        pa = a.ranking.set_index("cause")["probability"]
        pb = b.ranking.set_index("cause")["probability"]
        shared = pa.index.intersection(pb.index)
        change = (pb[shared] - pa[shared]).abs()
        most = str(change.idxmax()) if len(change) else None
        rows.append({
            "case": name, "top_a": a.top, "top_b": b.top, "top_changed": a.top != b.top,
            "triage_a": a.triage.level.value, "triage_b": b.triage.level.value,
            "triage_changed": a.triage.level != b.triage.level,
            "largest_change": float(change.max()) if len(change) else np.nan,
            "most_changed": most,
        })
    return pd.DataFrame(rows, columns=["case", "top_a", "top_b", "top_changed", "triage_a",
                                       "triage_b", "triage_changed", "largest_change",
                                       "most_changed"])
