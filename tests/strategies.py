"""Hypothesis strategies shared by the tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
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


def restructured_kb(kb: pk.KnowledgeBase) -> st.SearchStrategy[pk.KnowledgeBase]:
    """The knowledge base with a random network: some risk effects and finding links
    dropped, and random cause-to-cause links added (so the hubs and the units of
    linked causes differ from the shipped ones)."""

    def build(seed: int) -> pk.KnowledgeBase:
        rng = np.random.default_rng(seed)
        effects = kb.risk_effects[rng.random(len(kb.risk_effects)) < 0.6]
        findings = kb.finding_links[rng.random(len(kb.finding_links)) < 0.7]
        causes = list(kb.cause_ids)
        # the "requires" link (a burst cyst needs a cyst) is structure, not a number: keep it
        links = kb.cause_links[(rng.random(len(kb.cause_links)) < 0.7)
                               | (kb.cause_links["kind"] == "requires")]
        existing = set(zip(links["parent"], links["child"]))
        added = []
        for _ in range(rng.integers(0, 7)):
            # parent before child in a fixed order of the causes keeps the graph acyclic
            a, b = sorted(rng.choice(len(causes), 2, replace=False))
            pair = (causes[a], causes[b])
            if pair not in existing and (pair[1], pair[0]) not in existing:
                existing.add(pair)
                added.append({"parent": pair[0], "child": pair[1], "kind": "odds_ratio",
                              "odds_ratio": float(rng.uniform(0.3, 6.0)),
                              "source": "test: random link"})
        links = pd.concat([links, pd.DataFrame(added, columns=links.columns)],
                          ignore_index=True)
        order = {c: i for i, c in enumerate(causes)}
        links = links[[order[p] < order[c] for p, c in zip(links["parent"], links["child"])]]
        return kb.replace(risk_effects=effects, finding_links=findings, cause_links=links)

    return st.integers(0, 2**32 - 1).map(build)
