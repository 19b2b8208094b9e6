"""The shipped knowledge base cut to a size the enumeration engine can take.

The enumeration engine (every cause configuration) is the exact reference of many engine
tests, and it is built up to ``ENUMERATE_CAUSES`` causes. The shipped network has more,
so those tests run on ``core_kb``: the shipped numbers, less the causes below. Every
can't-miss cause of the safety floor stays (so the cut copy still loads), and so does
every cause linked to another (the cyst, its rupture, the causes that make a cyst or a
meniscus tear likelier), so that each engine path still meets linked causes.
"""

from __future__ import annotations

import posterior_knee as pk
from posterior_knee.inference._dispatch import ENUMERATE_CAUSES

# non-mandated causes with no cause link of their own, or only a link into a cause that
# stays: the cut removes least structure
DROPPED = ("patellar_tendinopathy", "leg_cramps", "chondromalacia", "pcl_injury",
           "hyperextension_injury", "chronic_exertional_compartment_syndrome",
           "peripheral_artery_disease", "referred_pain", "popliteus_tendinopathy",
           "fabella_syndrome")


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
