"""The knowledge base as numbers: nodes, parents and conditional probability arrays.

Both the pgmpy network and the compiled engine are built from one
:class:`Structure`, so they cannot disagree about what the CSV files mean.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np

from ..knowledge._schema import GROUPS

if TYPE_CHECKING:
    import pandas as pd

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
    def finding_index(self) -> dict[str, int]:
        """Finding id -> its row in ``findings`` (and in ``finding_arrays``); kept, as
        every query reads it. Do not change it."""
        return {f.name: j for j, f in enumerate(self.findings)}

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
        findings = self._lookup[0]
        row = self.finding_index
        keep, links = self._absent_terms
        masks: dict[str, np.ndarray] = {}
        present = []
        absent = []
        constant = 1.0
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
                j = row[name]
                absent.append(j)
                constant *= keep[j]
                steps += links[j] + 1
        # each cause's weight: the product of 1 - strength over the findings reported
        # absent, in order down the rows (a cause a finding does not link to multiplies
        # by exactly 1), the same bits as cause by cause, in one numpy call
        weight = (np.multiply.reduce(self.finding_arrays.q[absent], axis=0) if absent
                  else np.ones(len(self.causes)))
        return EvidenceParts(masks, weight, constant, tuple(present), steps)

    @cached_property
    def _absent_terms(self) -> tuple[list[float], list[int]]:
        """Per finding, 1 - leak and its number of causes, as Python numbers (read one
        at a time by :meth:`split_evidence`)."""
        arrays = self.finding_arrays
        return arrays.keep.tolist(), arrays.parents.tolist()

    @cached_property
    def _rank(self) -> dict[str, int]:
        return {name: k for k, name in enumerate(self.evidence_order)}

    def restricted(self, keep: Mapping[str, np.ndarray]) -> Structure:
        """The structure with each risk node named in ``keep`` cut to the states listed
        there, in order: its prior and every cause's table along its axis are cut
        alike, and evidence ids of the states left out are dropped. Every answer whose
        evidence rules out the other states (a mask of zero there) is the same on it:
        only zero terms are left out."""
        risk_nodes = []
        for node in self.risk_nodes:
            states = keep.get(node.name)
            if states is None:
                risk_nodes.append(node)
                continue
            position = {int(state): k for k, state in enumerate(states)}
            risk_nodes.append(RiskNode(
                node.name, tuple(node.states[k] for k in states), node.prior[states],
                MappingProxyType({member: position[state]
                                  for member, state in node.members.items()
                                  if state in position})))
        causes = []
        for cause in self.causes:
            p_yes = cause.p_yes
            for axis, parent in enumerate(cause.parents):
                if parent in keep:
                    p_yes = np.take(p_yes, keep[parent], axis=axis)
            causes.append(cause if p_yes is cause.p_yes
                          else CauseNode(cause.name, cause.parents, p_yes))
        return Structure(tuple(risk_nodes), tuple(causes), self.findings, self.groups,
                         MappingProxyType({member: (node.name, state)
                                           for node in risk_nodes
                                           for member, state in node.members.items()}))

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
        # every table read once, as plain lists grouped by the row they belong to: a
        # boolean mask per cause and per finding cost most of a command-line start-up
        effects = _rows_by(kb.risk_effects, "cause", ("risk_factor", "odds_ratio"))
        links = _rows_by(kb.cause_links, "child", ("parent", "kind", "odds_ratio"))
        causes = tuple(
            _cause_node(cause, prior, effects.get(cause, ()), links.get(cause, ()),
                        risk_evidence, cards)
            for cause, prior in zip(_column(kb.causes, "id"), _column(kb.causes, "prior")))
        produced = _rows_by(kb.finding_links, "finding", ("cause", "strength"))
        findings = []
        for name, leak in zip(_column(kb.findings, "id"), _column(kb.findings, "leak")):
            rows = produced.get(name, ())
            findings.append(FindingNode(name, float(leak), tuple(c for c, _ in rows),
                                        np.array([s for _, s in rows], dtype=float)))
        members: dict[str, list[str]] = {}
        for cause, group in zip(_column(kb.causes, "id"), _column(kb.causes, "group")):
            members.setdefault(group, []).append(cause)
        groups = {group: tuple(members[group]) for group in GROUPS if group in members}
        return cls(risk_nodes, causes, tuple(findings), MappingProxyType(groups),
                   MappingProxyType(risk_evidence))


def _column(frame: pd.DataFrame, name: str) -> list:
    """One column as a list of Python values (cheaper to walk than the frame's rows)."""
    return frame[name].tolist()


def _rows_by(frame: pd.DataFrame, key: str, columns: tuple[str, ...]) -> dict[object, list[tuple]]:
    """The rows of ``frame`` grouped by their ``key`` cell, each as a tuple of
    ``columns``, in file order within each group (the order the nodes' axes follow)."""
    grouped: dict[object, list[tuple]] = {}
    for name, *values in zip(_column(frame, key), *(_column(frame, c) for c in columns)):
        grouped.setdefault(name, []).append(tuple(values))
    return grouped


def _risk_nodes(kb: KnowledgeBase) -> tuple[RiskNode, ...]:
    nodes: list[RiskNode] = []
    rows = list(zip(_column(kb.risk_factors, "id"), _column(kb.risk_factors, "exclusive_group"),
                    _column(kb.risk_factors, "prevalence")))
    done: set[str] = set()
    for name, group, prevalence in rows:
        if not group:
            p = float(prevalence)
            nodes.append(RiskNode(name, STATES, np.array([1.0 - p, p]),
                                  MappingProxyType({name: 1})))
        elif group not in done:
            done.add(group)
            members = [(m, v) for m, g, v in rows if g == group]
            shares = np.array([v for _, v in members], dtype=float)
            prior = np.concatenate([[max(0.0, 1.0 - shares.sum())], shares])
            nodes.append(RiskNode(
                group, (OTHER_STATE, *(m for m, _ in members)), prior,
                MappingProxyType({m: i + 1 for i, (m, _) in enumerate(members)})))
    return tuple(nodes)


def _cause_node(name: str, prior: float, effects: Sequence[tuple], links: Sequence[tuple],
                risk_evidence: Mapping[str, tuple[str, int]],
                cards: Mapping[str, int]) -> CauseNode:
    """P(cause | parents): odds(prior) times the odds ratios of the parents present.

    ``effects`` holds the cause's (risk_factor, odds_ratio) rows of risk_effects.csv,
    ``links`` its (parent, kind, odds_ratio) rows of cause_links.csv, in file order.
    """
    parents: list[str] = []
    log_or: list[np.ndarray] = []  # per parent: log odds ratio for each parent state
    for risk_factor, odds_ratio in effects:
        node, state = risk_evidence[risk_factor]
        if node not in parents:
            parents.append(node)
            log_or.append(np.zeros(cards.get(node, 2)))
        log_or[parents.index(node)][state] += np.log(odds_ratio)
    required: list[str] = []
    for parent, kind, odds_ratio in links:
        parents.append(parent)
        if kind == "requires":
            required.append(parent)
            log_or.append(np.zeros(2))
        else:
            log_or.append(np.array([0.0, np.log(odds_ratio)]))
    p_yes = cause_p_yes(float(prior), log_or, [parents.index(p) for p in required])
    return CauseNode(name, tuple(parents), p_yes)


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
