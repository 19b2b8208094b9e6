"""The knowledge base as numbers: nodes, parents and conditional probability arrays.

Both the pgmpy network and the compiled engine are built from one
:class:`Structure`, so they cannot disagree about what the CSV files mean.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np

from ..knowledge._schema import GROUPS

if TYPE_CHECKING:

    from ..knowledge.base import KnowledgeBase

STATES = ("no", "yes")
OTHER_STATE = "other"


@dataclass(frozen=True, eq=False)
class RiskNode:
    """A root node: a binary risk factor, or a categorical exclusive group."""

    name: str
    states: tuple[str, ...]
    prior: np.ndarray  # P(state), one entry per state
    members: Mapping[str, int]  # evidence id -> the state meaning "yes" for that id


@dataclass(frozen=True, eq=False)
class CauseNode:
    name: str
    parents: tuple[str, ...]  # node names, in the order of the axes of p_yes
    p_yes: np.ndarray  # P(cause = yes | parents); one axis per parent


@dataclass(frozen=True, eq=False)
class FindingNode:
    name: str
    leak: float
    parents: tuple[str, ...]  # cause ids
    strengths: np.ndarray  # one per parent


@dataclass(frozen=True, eq=False)
class EvidenceParts:
    masks: dict[str, np.ndarray]  # risk node -> 0/1 mask over its states
    weight: np.ndarray  # per cause: product of (1 - strength) over findings reported absent
    constant: float  # product of (1 - leak) over findings reported absent
    present: tuple[FindingNode, ...]  # findings reported present
    steps: int  # multiplications that made weight and constant (for rounding bounds)


@dataclass(frozen=True, eq=False)
class FindingArrays:
    strength: np.ndarray  # (findings, causes); 0 where a cause does not produce it
    q: np.ndarray  # 1 - strength
    keep: np.ndarray  # (findings,): 1 - leak
    parents: np.ndarray  # (findings,): number of causes linked to each


@dataclass(frozen=True, eq=False)
class Structure:
    risk_nodes: tuple[RiskNode, ...]
    causes: tuple[CauseNode, ...]
    findings: tuple[FindingNode, ...]
    groups: Mapping[str, tuple[str, ...]]  # group id -> cause ids, groups in GROUPS order
    risk_evidence: Mapping[str, tuple[str, int]]  # evidence id -> (node, "yes" state)

    @property
    def cause_ids(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.causes)

    @cached_property
    def _lookup(self) -> tuple[dict[str, FindingNode], dict[str, int]]:
        return ({f.name: f for f in self.findings},
                {c: i for i, c in enumerate(self.cause_ids)})

    @cached_property
    def evidence_order(self) -> tuple[str, ...]:
        """Every evidence id in one fixed order (findings, then risk factors): the
        order in which evidence is multiplied in, whatever order it was given in."""
        return tuple(f.name for f in self.findings) + tuple(self.risk_evidence)

    @cached_property
    def finding_arrays(self) -> FindingArrays:
        """The noisy-OR numbers of every finding as arrays (findings x causes)."""
        index = self._lookup[1]
        strength = np.zeros((len(self.findings), len(self.causes)))
        for j, finding in enumerate(self.findings):
            for cause, s in zip(finding.parents, finding.strengths):
                strength[j, index[cause]] = s
        return FindingArrays(
            strength, 1.0 - strength, np.array([1.0 - f.leak for f in self.findings]),
            np.array([len(f.parents) for f in self.findings]))

    def split_evidence(self, evidence: Mapping[str, bool]) -> EvidenceParts:
        """Evidence as the engines use it: risk-factor masks, the per-cause weight of
        the findings reported absent, their constant, and the findings reported present."""
        findings, index = self._lookup
        masks: dict[str, np.ndarray] = {}
        weight = np.ones(len(self.causes))
        constant = 1.0
        present = []
        steps = 0
        # a fixed order, so that the products below do not depend on the caller's
        for name in sorted(evidence, key=self._rank.__getitem__):
            value = evidence[name]
            if name in self.risk_evidence:
                node, state = self.risk_evidence[name]
                card = self.cardinality(node)
                mask = np.zeros(card) if value else np.ones(card)
                mask[state] = 1.0 if value else 0.0
                masks[node] = masks.get(node, np.ones(card)) * mask
            elif value:
                present.append(findings[name])
            else:
                finding = findings[name]
                constant *= 1.0 - finding.leak
                for cause, s in zip(finding.parents, finding.strengths):
                    weight[index[cause]] *= 1.0 - s
                steps += len(finding.parents) + 1
        return EvidenceParts(masks, weight, constant, tuple(present), steps)

    @cached_property
    def _rank(self) -> dict[str, int]:
        return {name: k for k, name in enumerate(self.evidence_order)}

    def cardinality(self, name: str) -> int:
        for node in self.risk_nodes:
            if node.name == name:
                return len(node.states)
        return 2

    @classmethod
    def from_knowledge_base(cls, kb: KnowledgeBase) -> Structure:
        risk_nodes = _risk_nodes(kb)
        risk_evidence = {
            member: (node.name, state)
            for node in risk_nodes
            for member, state in node.members.items()
        }
        cards = {node.name: len(node.states) for node in risk_nodes}
        causes = tuple(_cause_node(kb, row, risk_evidence, cards)
                       for row in kb.causes.itertuples(index=False))
        findings = []
        for row in kb.findings.itertuples(index=False):
            links = kb.finding_links[kb.finding_links["finding"] == row.id]
            findings.append(FindingNode(row.id, float(row.leak), tuple(links["cause"]),
                                        links["strength"].to_numpy(dtype=float)))
        groups = {
            group: tuple(kb.causes.loc[kb.causes["group"] == group, "id"])
            for group in GROUPS
        }
        groups = {g: ids for g, ids in groups.items() if ids}
        return cls(risk_nodes, causes, tuple(findings), MappingProxyType(groups),
                   MappingProxyType(risk_evidence))


def _risk_nodes(kb: KnowledgeBase) -> tuple[RiskNode, ...]:
    nodes: list[RiskNode] = []
    done: set[str] = set()
    for row in kb.risk_factors.itertuples(index=False):
        group = row.exclusive_group
        if not group:
            p = float(row.prevalence)
            nodes.append(RiskNode(row.id, STATES, np.array([1.0 - p, p]),
                                  MappingProxyType({row.id: 1})))
        elif group not in done:
            done.add(group)
            members = kb.risk_factors[kb.risk_factors["exclusive_group"] == group]
            p = members["prevalence"].to_numpy(dtype=float)
            prior = np.concatenate([[max(0.0, 1.0 - p.sum())], p])
            nodes.append(RiskNode(
                group, (OTHER_STATE, *members["id"]), prior,
                MappingProxyType({m: i + 1 for i, m in enumerate(members["id"])})))
    return tuple(nodes)


def _cause_node(kb, row, risk_evidence, cards) -> CauseNode:
    """P(cause | parents): odds(prior) times the odds ratios of the parents present."""
    effects = kb.risk_effects[kb.risk_effects["cause"] == row.id]
    links = kb.cause_links[kb.cause_links["child"] == row.id]
    parents: list[str] = []
    log_or: list[np.ndarray] = []  # per parent: log odds ratio for each parent state
    for effect in effects.itertuples(index=False):
        node, state = risk_evidence[effect.risk_factor]
        if node not in parents:
            parents.append(node)
            log_or.append(np.zeros(cards.get(node, 2)))
        log_or[parents.index(node)][state] += np.log(effect.odds_ratio)
    required: list[str] = []
    for link in links.itertuples(index=False):
        parents.append(link.parent)
        if link.kind == "requires":
            required.append(link.parent)
            log_or.append(np.zeros(2))
        else:
            log_or.append(np.array([0.0, np.log(link.odds_ratio)]))
    p_yes = cause_p_yes(float(row.prior), log_or, [parents.index(p) for p in required])
    return CauseNode(row.id, tuple(parents), p_yes)


def cause_p_yes(prior: float, log_or: list[np.ndarray], required: list[int]) -> np.ndarray:
    """P(cause = yes | parents): one axis per parent, ``log_or[axis]`` holding the log
    odds ratio of each of its states; ``required`` lists the axes of 'requires' parents.

    Shared with the parameter sweeps (``_parameters.py``), so a rebuilt node equals
    the loaded one exactly.
    """
    shape = tuple(len(v) for v in log_or)
    total = np.zeros(shape)
    for axis, values in enumerate(log_or):
        total = total + values.reshape([-1 if a == axis else 1 for a in range(len(shape))])
    if prior <= 0.0 or prior >= 1.0:
        p_yes = np.full(shape, prior)
    else:
        # logistic form, written to stay exact for very large or small odds
        p_yes = 1.0 / (1.0 + np.exp(-(np.log(prior) - np.log1p(-prior) + total)))
    for axis in required:
        p_yes = p_yes * np.array([0.0, 1.0]).reshape(
            [-1 if a == axis else 1 for a in range(len(shape))])
    return np.asarray(p_yes, dtype=float)
