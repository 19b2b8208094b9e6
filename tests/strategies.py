"""Hypothesis strategies shared by the tests."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import posterior_knee as pk


def evidence(kb: pk.KnowledgeBase, max_size: int = 12) -> st.SearchStrategy[dict]:
    """Random evidence on a random subset of ids, never two exclusive members both True."""
    ids = list(kb.evidence_ids)
    groups = kb.risk_factors.set_index("id")["exclusive_group"].to_dict()

    def consistent(case: dict) -> dict:
        seen: set[str] = set()
        out = {}
        for name, value in case.items():
            group = groups.get(name) or None
            if value and group:
                if group in seen:
                    continue
                seen.add(group)
            out[name] = value
        return out

    return st.dictionaries(st.sampled_from(ids), st.booleans(), max_size=max_size).map(
        consistent)


def perturbed_kb(kb: pk.KnowledgeBase) -> st.SearchStrategy[pk.KnowledgeBase]:
    """The knowledge base with every number redrawn at random (same ids and links)."""

    def build(seed: int) -> pk.KnowledgeBase:
        rng = np.random.default_rng(seed)
        tables = {}
        for name, column, low, high in (
            ("risk_factors", "prevalence", 0.01, 0.6),
            ("causes", "prior", 0.001, 0.5),
            ("risk_effects", "odds_ratio", 0.2, 8.0),
            ("findings", "leak", 0.001, 0.5),
            ("finding_links", "strength", 0.01, 0.99),
        ):
            frame = getattr(kb, name).copy()
            frame[column] = rng.uniform(low, high, len(frame))
            frame["low"], frame["high"] = np.nan, np.nan  # ranges of the old numbers
            tables[name] = frame
        groups = tables["risk_factors"]["exclusive_group"]
        for group in set(groups) - {""}:
            members = groups == group
            tables["risk_factors"].loc[members, "prevalence"] = rng.dirichlet(
                np.ones(members.sum() + 1))[:-1]
        links = kb.cause_links.copy()
        ratio = links["kind"] == "odds_ratio"
        links.loc[ratio, "odds_ratio"] = rng.uniform(0.2, 8.0, int(ratio.sum()))
        links["low"], links["high"] = np.nan, np.nan
        tables["cause_links"] = links
        return kb.replace(**tables)

    return st.integers(0, 2**32 - 1).map(build)
