"""Hypothesis strategies shared by the tests."""

from __future__ import annotations

import networkx as nx
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
        if links.empty:  # the table needs a row: keep one shipped link
            links = kb.cause_links.iloc[:1]
        return kb.replace(risk_effects=effects, finding_links=findings, cause_links=links)

    return st.integers(0, 2**32 - 1).map(build)


def grown_kb(kb: pk.KnowledgeBase, seed: int, causes: int = 30, findings: int = 78,
             unit: int = 0, latent: int = 0, links_per_finding: tuple[int, int] = (2, 9),
             hubs: int = 0) -> pk.KnowledgeBase:
    """The knowledge base grown through its API to ``causes`` causes and ``findings``
    findings: new causes and findings with random links (each new finding linked to a
    random number of causes, each new cause to some old findings), ``unit`` causes
    chained by odds-ratio links into one unit of linked causes, ``latent`` causes with
    no finding of their own that are parents of several other causes, and ``hubs``
    extra risk effects that tie risk factors to causes in different units."""
    rng = np.random.default_rng(seed)
    cause_rows = kb.causes.copy()
    groups = sorted(set(cause_rows["group"]))
    new_causes = [f"grown_cause_{k}" for k in range(causes - len(cause_rows))]
    latent_ids = new_causes[:latent]
    add = pd.DataFrame({
        "id": new_causes, "label": [f"Grown cause {k}" for k in range(len(new_causes))],
        "group": rng.choice(groups, len(new_causes)),
        "prior": rng.uniform(0.005, 0.3, len(new_causes)),
        "low": np.nan, "high": np.nan, "source": "test: grown network"})
    cause_rows = pd.concat([cause_rows, add], ignore_index=True)
    all_causes = list(cause_rows["id"])

    finding_rows = kb.findings.copy()
    new_findings = [f"grown_finding_{k}" for k in range(findings - len(finding_rows))]
    add = pd.DataFrame({
        "id": new_findings, "label": [f"Grown finding {k}" for k in range(len(new_findings))],
        "question": [f"Grown question {k}?" for k in range(len(new_findings))],
        "category": "local", "leak": rng.uniform(0.001, 0.3, len(new_findings)),
        "low": np.nan, "high": np.nan, "ask_first": "", "source": "test: grown network"})
    finding_rows = pd.concat([finding_rows, add], ignore_index=True)

    producing = [c for c in all_causes if c not in latent_ids]
    links = []
    for finding in new_findings:
        k = int(rng.integers(links_per_finding[0], links_per_finding[1] + 1))
        for cause in rng.choice(producing, min(k, len(producing)), replace=False):
            links.append((cause, finding))
    old = list(kb.findings["id"])
    for cause in new_causes[latent:]:
        for finding in rng.choice(old, int(rng.integers(2, 8)), replace=False):
            links.append((cause, finding))
    add = pd.DataFrame({"cause": [c for c, _ in links], "finding": [f for _, f in links],
                        "strength": rng.uniform(0.02, 0.95, len(links)),
                        "low": np.nan, "high": np.nan, "source": "test: grown network"})
    finding_links = pd.concat([kb.finding_links, add], ignore_index=True)
    finding_links = finding_links.drop_duplicates(["cause", "finding"])

    cause_links = kb.cause_links.copy()
    existing = set(zip(cause_links["parent"], cause_links["child"]))
    # new links point forward in an order that the shipped links keep too (the file's
    # order does not: a cause may be listed before its parent), so none closes a cycle
    graph = nx.DiGraph(list(existing))
    graph.add_nodes_from(all_causes)
    listed = {c: i for i, c in enumerate(all_causes)}
    ranked = list(nx.lexicographical_topological_sort(graph, key=listed.__getitem__))
    order = {c: i for i, c in enumerate(ranked)}
    extra = []
    if unit:
        # a chain through `unit` causes in a random order, each link pointing forward
        # in that order (acyclic); they join one unit with what they touch
        chosen = sorted(rng.choice(len(ranked), unit, replace=False))
        for a, b in zip(chosen[:-1], chosen[1:]):
            extra.append((ranked[a], ranked[b]))
    for parent in latent_ids:
        later = [c for c in all_causes if order[c] > order[parent]]
        for child in rng.choice(later, min(3, len(later)), replace=False):
            extra.append((parent, child))
    extra = [(p, c) for p, c in extra if (p, c) not in existing and (c, p) not in existing]
    add = pd.DataFrame({"parent": [p for p, _ in extra], "child": [c for _, c in extra],
                        "kind": "odds_ratio", "odds_ratio": rng.uniform(0.3, 6.0, len(extra)),
                        "low": np.nan, "high": np.nan, "source": "test: grown network"})
    cause_links = pd.concat([cause_links, add], ignore_index=True).drop_duplicates(
        ["parent", "child"])

    effects = kb.risk_effects
    if hubs:
        pairs = set(zip(effects["risk_factor"], effects["cause"]))
        risks = [r for r in kb.risk_factors["id"] if not r.startswith("age_")]
        rows = []
        for _ in range(hubs):
            risk, cause = str(rng.choice(risks)), str(rng.choice(all_causes))
            if (risk, cause) not in pairs:
                pairs.add((risk, cause))
                rows.append({"risk_factor": risk, "cause": cause,
                             "odds_ratio": float(rng.uniform(0.3, 5.0)), "low": np.nan,
                             "high": np.nan, "source": "test: grown network"})
        effects = pd.concat([effects, pd.DataFrame(rows, columns=effects.columns)],
                            ignore_index=True)
    return kb.replace(causes=cause_rows, findings=finding_rows, finding_links=finding_links,
                      cause_links=cause_links, risk_effects=effects)
