"""The shipped knowledge base cut to a size the enumeration engine can take.

The enumeration engine (every cause configuration) is the exact reference of many engine
tests, and it is built up to ``ENUMERATE_CAUSES`` causes. The shipped network has more,
so those tests run on ``core_kb``: the shipped numbers, less the causes below. Every
can't-miss cause of the safety floor stays (so the cut copy still loads), and so does
every cause linked to another (the cyst, its rupture, the causes that make a cyst or a
meniscus tear likelier), so that each engine path still meets linked causes.
"""

from __future__ import annotations

import numpy as np

import posterior_knee as pk
from posterior_knee.inference._dispatch import ENUMERATE_CAUSES
from posterior_knee.inference._structure import (
    STATES,
    CauseNode,
    FindingNode,
    RiskNode,
    Structure,
    cause_p_yes,
)

# non-mandated causes with no cause link of their own, or only a link into a cause that
# stays: the cut removes least structure
DROPPED = ("patellar_tendinopathy", "leg_cramps", "chondromalacia", "pcl_injury",
           "hyperextension_injury", "chronic_exertional_compartment_syndrome",
           "peripheral_artery_disease", "referred_pain", "popliteus_tendinopathy",
           "fabella_syndrome", "hamstring_strain", "stress_fracture")


def core_kb(kb: pk.KnowledgeBase, also: tuple[str, ...] = ()) -> pk.KnowledgeBase:
    """``kb`` without the ``DROPPED`` causes (and ``also``) and every row that names
    one of them."""
    drop = set(DROPPED) | set(also)
    causes = set(kb.cause_ids) - drop
    tables = {
        "causes": kb.causes[kb.causes["id"].isin(causes)],
        "cause_links": kb.cause_links[kb.cause_links["parent"].isin(causes)
                                      & kb.cause_links["child"].isin(causes)],
        "risk_effects": kb.risk_effects[kb.risk_effects["cause"].isin(causes)],
        "finding_links": kb.finding_links[kb.finding_links["cause"].isin(causes)],
        "thresholds": kb.thresholds[kb.thresholds["cause"].isin(causes)],
        "cause_advice": kb.cause_advice[kb.cause_advice["cause"].isin(causes)],
        "codes": kb.codes[~kb.codes["id"].isin(drop)],
    }
    core = kb.replace(**{name: table.reset_index(drop=True)
                         for name, table in tables.items()})
    assert len(core.cause_ids) <= ENUMERATE_CAUSES, "the core must stay enumerable"
    return core


def tiny_structure(seed: int, certain: bool = False) -> Structure:
    """A random network small enough to sum over every node: a categorical and two
    binary risk nodes, 6 causes with random cause links (units, latent causes with no
    finding), 8 findings with random noisy-OR links; with ``certain``, about one link
    in four has strength exactly 1."""
    rng = np.random.default_rng(seed)
    risk = (RiskNode("band", ("other", "young", "old"), rng.dirichlet(np.ones(3)),
                     {"young": 1, "old": 2}),
            RiskNode("r1", STATES, np.array([0.7, 0.3]), {"r1": 1}),
            RiskNode("r2", STATES, np.array([0.4, 0.6]), {"r2": 1}))
    cards = {"band": 3, "r1": 2, "r2": 2}
    names = [f"c{i}" for i in range(6)]
    causes = []
    for i, name in enumerate(names):
        parents = [r for r in cards if rng.random() < 0.4]
        parents += [p for p in names[:i] if rng.random() < 0.35]
        log_or = [rng.normal(0, 1, cards.get(p, 2)) for p in parents]
        required = [k for k, p in enumerate(parents) if p in names and rng.random() < 0.2]
        causes.append(CauseNode(name, tuple(parents),
                                cause_p_yes(float(rng.uniform(0.05, 0.6)), log_or, required)))
    latent = set(rng.choice(names, 2, replace=False))
    findings = []
    for j in range(8):
        parents = [c for c in names if c not in latent and rng.random() < 0.5] or [names[0]]
        strengths = rng.uniform(0.05, 1.0, len(parents))
        if certain:
            strengths[rng.random(len(parents)) < 0.25] = 1.0
        findings.append(FindingNode(f"f{j}", float(rng.uniform(0.0, 0.3)), tuple(parents),
                                    strengths))
    groups = {"one": ("c0", "c1", "c2"), "two": ("c3",), "three": ("c4", "c5")}
    evidence = {"young": ("band", 1), "old": ("band", 2), "r1": ("r1", 1), "r2": ("r2", 1)}
    return Structure(risk, tuple(causes), tuple(findings), groups, evidence)
