"""Every uncertain number of a knowledge base, and Structures rebuilt from new values.

Sensitivity sweeps and Monte Carlo draws change a few hundred numbers thousands of
times; going back through pandas and the loader each time would take seconds per
change. :class:`Parameters` reads the numbers once, remembers which node each one
feeds, and rebuilds only the nodes a change touches (``dataclasses.replace``),
with the same formulas as :mod:`._structure`, so the point values rebuild the
loaded structure exactly.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace

import numpy as np
import pandas as pd

from ..errors import EngineLimitError
from ..knowledge._schema import RANGED, TABLES
from ..knowledge.base import KnowledgeBase
from ._elimination import EliminationEngine
from ._engine import Posterior
from ._factored import FactoredEngine
from ._structure import Structure, cause_p_yes

COLUMNS = ["file", "id", "column", "value", "low", "high"]

# default plausible range where the CSV gives none: odds or odds ratio times / divided by 2
DEFAULT_FACTOR = 2.0


class Parameters:
    """The numbers behind a :class:`Structure`: one entry per CSV cell that is a parameter.

    ``frame`` has the columns ``file``, ``id`` (the row's key columns joined by ':'),
    ``column``, ``value``, ``low`` and ``high`` (the CSV range, NaN where the row is a
    point); ``values`` is ``frame["value"]`` as an array.
    """

    def __init__(self, kb: KnowledgeBase, structure: Structure):
        self.structure = structure
        rows = []
        for name, column in RANGED.items():
            table = getattr(kb, name)
            if name == "cause_links":  # 'requires' links have no number
                table = table[table["kind"] == "odds_ratio"]
            keys = [":".join(map(str, k)) for k in zip(*(table[c] for c in TABLES[name].key))]
            rows.append(pd.DataFrame({
                "file": TABLES[name].file, "id": keys, "column": column,
                "value": table[column].to_numpy(dtype=float),
                "low": table["low"].to_numpy(dtype=float),
                "high": table["high"].to_numpy(dtype=float),
                "table": name,
            }))
        frame = pd.concat(rows, ignore_index=True)
        self.is_odds_ratio = (frame["column"] == "odds_ratio").to_numpy()
        self.is_leak = (frame["column"] == "leak").to_numpy()
        # every posterior is a ratio of two functions linear in these numbers: each
        # enters the joint through one factor, linearly (noisy-OR terms, root priors)
        self.is_linear = frame["column"].isin(["prevalence", "leak", "strength"]).to_numpy()
        self.values = frame["value"].to_numpy()
        index = {(t, i): n for n, (t, i) in enumerate(zip(frame["table"], frame["id"]))}
        self.frame = frame[COLUMNS]
        self._compile(kb, index)

    def _compile(self, kb: KnowledgeBase, index: Mapping[tuple[str, str], int]) -> None:
        """Which parameters feed which node, in the order the structure uses them."""
        s = self.structure
        risk_of = {m: node.name for node in s.risk_nodes for m in node.members}
        self._risk = [[index["risk_factors", m] for m in node.members]
                      for node in s.risk_nodes]
        # per cause: prior, then (axis, state, parameter) terms in _cause_node's order
        self._causes = []
        for node in s.causes:
            terms = []
            effects = kb.risk_effects[kb.risk_effects["cause"] == node.name]
            for risk, cause in zip(effects["risk_factor"], effects["cause"]):
                _, state = s.risk_evidence[risk]
                terms.append((node.parents.index(risk_of[risk]), state,
                              index["risk_effects", f"{risk}:{cause}"]))
            required = []
            links = kb.cause_links[kb.cause_links["child"] == node.name]
            for parent, kind in zip(links["parent"], links["kind"]):
                axis = node.parents.index(parent)
                if kind == "requires":
                    required.append(axis)
                else:
                    terms.append((axis, 1, index["cause_links", f"{parent}:{node.name}"]))
            self._causes.append((index["causes", node.name], terms, required))
        self._findings = [(index["findings", f.name],
                           [index["finding_links", f"{c}:{f.name}"] for c in f.parents])
                          for f in s.findings]
        # parameter -> (kind of node, position) for rebuilding only what changed
        self._node_of: dict[int, tuple[str, int]] = {}
        for k, members in enumerate(self._risk):
            self._node_of.update({p: ("risk", k) for p in members})
        for k, (prior, terms, _) in enumerate(self._causes):
            self._node_of.update({p: ("cause", k) for p in [prior] + [t[2] for t in terms]})
        for k, (leak, links) in enumerate(self._findings):
            self._node_of.update({p: ("finding", k) for p in [leak] + links})
        finding_names = [f.name for f in s.findings]
        self.finding = np.array([finding_names[self._node_of[p][1]]
                                 if self._node_of[p][0] == "finding" else ""
                                 for p in range(len(self.values))], dtype=object)

    # -- rebuilding -------------------------------------------------------------------
    def build(self, values: np.ndarray, changed: Collection[int] | None = None) -> Structure:
        """The structure with parameter values ``values`` (rebuilding only the nodes of
        the parameters in ``changed``; all nodes when None)."""
        s = self.structure
        if changed is None:
            changed = range(len(values))
        touched: dict[str, set[int]] = {"risk": set(), "cause": set(), "finding": set()}
        for p in changed:
            kind, k = self._node_of[p]
            touched[kind].add(k)
        risk_nodes = list(s.risk_nodes)
        for k in touched["risk"]:
            risk_nodes[k] = replace(risk_nodes[k], prior=self._risk_prior(k, values))
        causes = list(s.causes)
        for k in touched["cause"]:
            causes[k] = replace(causes[k], p_yes=self._p_yes(k, values))
        findings = list(s.findings)
        for k in touched["finding"]:
            leak, links = self._findings[k]
            findings[k] = replace(findings[k], leak=float(values[leak]),
                                  strengths=values[links].astype(float))
        return Structure(tuple(risk_nodes), tuple(causes), tuple(findings), s.groups,
                         s.risk_evidence)

    def _risk_prior(self, k: int, values: np.ndarray) -> np.ndarray:
        node = self.structure.risk_nodes[k]
        p = values[self._risk[k]].astype(float)
        if node.name in node.members:  # a binary risk factor
            return np.array([1.0 - p[0], p[0]])
        total = p.sum()
        if total > 1.0:  # random draws of an exclusive group: leave no room for 'other'
            p = p / total
        return np.concatenate([[max(0.0, 1.0 - p.sum())], p])

    def _p_yes(self, k: int, values: np.ndarray) -> np.ndarray:
        prior, terms, required = self._causes[k]
        node = self.structure.causes[k]
        log_or = [np.zeros(self.structure.cardinality(p)) for p in node.parents]
        for axis, state, p in terms:
            log_or[axis][state] += np.log(values[p])
        return cause_p_yes(float(values[prior]), log_or, required)

    # -- which parameters matter ----------------------------------------------------
    def relevant(self, evidence: Mapping[str, bool]) -> np.ndarray:
        """Mask of the parameters that can change a posterior given ``evidence``.

        The numbers of a finding nobody reported sum out of every posterior exactly
        (its two states add up to one), and the leak of a finding reported absent is
        a constant factor that normalisation removes; neither can matter.
        """
        return np.array([not f or f in evidence and (evidence[f] or not leak)
                         for f, leak in zip(self.finding, self.is_leak)])

    # -- ranges -----------------------------------------------------------------------
    def default_range(self) -> tuple[np.ndarray, np.ndarray]:
        """Odds (probabilities) or odds ratios times / divided by ``DEFAULT_FACTOR``,
        capped so an exclusive group's prevalences still sum to at most one."""
        v, f = self.values, DEFAULT_FACTOR
        low, high = v / f, v * f  # odds ratios
        p = ~self.is_odds_ratio  # probabilities: the same on the odds
        low[p] = v[p] / (f - (f - 1.0) * v[p])
        high[p] = f * v[p] / (1.0 + (f - 1.0) * v[p])
        for node, members in zip(self.structure.risk_nodes, self._risk):
            if node.name not in node.members:  # an exclusive group
                room = 1.0 - v[members].sum()
                high[members] = np.minimum(high[members], v[members] + room)
        return low, high

    def ranges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(low, high, from_csv): the CSV range where a row gives one, else the default."""
        low, high = self.frame["low"].to_numpy(), self.frame["high"].to_numpy()
        from_csv = ~np.isnan(low)
        d_low, d_high = self.default_range()
        return np.where(from_csv, low, d_low), np.where(from_csv, high, d_high), from_csv


def posterior(structure: Structure, evidence: Mapping[str, bool],
              factored: bool = True) -> Posterior:
    """Exact posteriors on a structure: the factored engine, else variable elimination.

    ``factored=False`` goes straight to elimination (for a case the factored engine
    already declined on the point values: it declines on the neighbours too, mostly).
    Elimination plans depend only on the graph, so a sweep over rebuilt structures
    plans each pattern of evidence once.
    """
    fast = _factored(structure, evidence) if factored else None
    return fast if fast is not None else EliminationEngine(structure).posterior(evidence)


def factored_answers(structure: Structure, evidence: Mapping[str, bool]) -> bool:
    """Whether the factored engine answers this case (else elimination does)."""
    return _factored(structure, evidence) is not None


def _factored(structure: Structure, evidence: Mapping[str, bool]) -> Posterior | None:
    try:
        return FactoredEngine(structure).posterior(evidence)
    except EngineLimitError:  # causes linked into a unit too large for its tables
        return None
