"""Exact inference that never builds the 2**n table of cause configurations.

Given the few "hub" risk factors (those that influence more than one unit), the causes
fall into independent *units*: the connected components of the cause-to-cause links
(most units are single causes). So the prior is a mixture over hub configurations h of
products of small per-unit tables T_U[h, c_U], with every other risk factor summed out
inside its unit.

Findings reported absent multiply each cause's "yes" weight (noisy-OR factorises).
Findings reported present are expanded by inclusion-exclusion over their subsets S
(Quickscore, Heckerman 1989):

    P(e) = sum_h P(h) sum_S (-1)^|S| a_S prod_U g_U(h, w_S)

where g_U is unit U's table weighted by w_S. Marginals replace one unit's factor by
its "cause present" part; group probabilities zero the group's causes.

The alternating sum can lose precision (cancellation) when many findings are present
and P(e) is small. After each query the engine bounds the rounding error of the sum;
if it could exceed 1e-10, it redoes the sums in extended precision, and if that is
not certain either it returns None so the caller falls back to enumeration (the
ExactEngine). Cost grows as
(hub configurations) x 2**m x (sum over units of 2**|U|), so it is fast for the few
present findings of a typical case and gives way to enumeration past ``MAX_PRESENT``.
"""

from __future__ import annotations

import itertools
import math
import string
from collections.abc import Mapping

import networkx as nx
import numpy as np

from ._engine import Posterior
from ._structure import Structure

MAX_PRESENT = 6  # past this, enumeration is cheaper (measured on the shipped priors)
MAX_PRESENT_EXTENDED = 5  # extended precision runs in plain loops: slower per step
ERROR_LIMIT = 1e-10  # ten times below the 1e-9 agreement the tests demand


class FactoredEngine:
    """Compiled once per knowledge base; :meth:`posterior` answers one query or None."""

    def __init__(self, structure: Structure):
        self.structure = structure
        causes = list(structure.cause_ids)
        self.n = len(causes)
        index = {c: i for i, c in enumerate(causes)}
        risk = {node.name: node for node in structure.risk_nodes}

        links = nx.Graph()
        links.add_nodes_from(causes)
        for cause in structure.causes:
            links.add_edges_from((cause.name, p) for p in cause.parents if p in index)
        self.units = [sorted(index[c] for c in unit)
                      for unit in nx.connected_components(links)]
        self.units.sort()
        unit_of = {i: u for u, members in enumerate(self.units) for i in members}

        touches: dict[str, set[int]] = {name: set() for name in risk}
        for cause in structure.causes:
            for parent in cause.parents:
                if parent in risk:
                    touches[parent].add(unit_of[index[cause.name]])
        self.hubs = [name for name in risk if len(touches[name]) > 1]
        self.loose = [name for name in risk if not touches[name]]  # touch no cause
        self.hub_cards = [len(risk[h].states) for h in self.hubs]
        letters = iter(string.ascii_letters)
        letter = {name: next(letters) for name in list(risk) + causes}

        # one einsum per unit: private risk factors and the unit's causes summed
        # to a table over (hubs the unit uses..., unit causes...)
        self._unit_plans = []
        for u, members in enumerate(self.units):
            names = [causes[i] for i in members]
            private = [r for r in risk if touches[r] == {u} and r not in self.hubs]
            hubs_used = sorted({p for c in names for p in structure.causes[index[c]].parents
                                if p in self.hubs}, key=self.hubs.index)
            subscripts = [letter[r] for r in private]
            cpts = []
            for c in names:
                node = structure.causes[index[c]]
                subscripts.append("".join(letter[p] for p in node.parents) + letter[c])
                cpts.append(np.stack([1.0 - node.p_yes, node.p_yes], axis=-1))
            out = "".join(letter[h] for h in hubs_used) + "".join(letter[c] for c in names)
            self._unit_plans.append((",".join(subscripts) + "->" + out, private, cpts,
                                     hubs_used))
        self._risk = risk
        self._configs = [np.array(list(itertools.product((0, 1), repeat=len(m))),
                                  dtype=bool) for m in self.units]
        self._index = index
        self._unit_of = unit_of  # cause index -> its unit
        self._groups = [[index[c] for c in members] for members in structure.groups.values()]
        # rounding steps in one term: the unit sums (nonnegative, so relative error at
        # most their length) and the products across units and findings
        self._term_steps = sum(2 ** len(u) for u in self.units) + len(self.units) + 8

    # -- the prior, given risk-factor evidence -----------------------------------------
    def _prior(self, masks: Mapping[str, np.ndarray]):
        """P(h) over hub configurations (zeros dropped) and each unit's table T_U[h, c_U]."""
        def prior(name):
            node = self._risk[name]
            return node.prior * masks[name] if name in masks else node.prior

        hub = np.ones(1)
        for name in self.hubs:
            hub = np.multiply.outer(hub, prior(name)).reshape(-1)
        constant = float(np.prod([prior(name).sum() for name in self.loose]))
        keep = hub > 0.0
        tables = []
        for (subscripts, private, cpts, hubs_used), members in zip(self._unit_plans,
                                                                  self.units):
            t = np.einsum(subscripts, *[prior(r) for r in private], *cpts)
            # broadcast over every hub, then flatten: rows are hub configurations
            shape = [card if h in hubs_used else 1
                     for h, card in zip(self.hubs, self.hub_cards)] + [2] * len(members)
            t = np.broadcast_to(t.reshape(shape), self.hub_cards + [2] * len(members))
            tables.append(t.reshape(-1, 2 ** len(members))[keep])
        return hub[keep] * constant, tables

    def posterior(self, evidence: Mapping[str, bool]) -> Posterior | None:
        parts = self.structure.split_evidence(evidence)
        present = parts.present
        if len(present) > MAX_PRESENT:
            return None
        hub_p, tables = self._prior(parts.masks)
        # double precision first; if cancellation could cost accuracy, the same sums
        # in extended precision (80-bit on x86; where longdouble is plain double the
        # bound is the same and this adds nothing), and only then enumeration
        for dtype in (np.float64, np.longdouble):
            if dtype is np.longdouble and len(present) > MAX_PRESENT_EXTENDED:
                break
            answer = self._quickscore(hub_p, tables, parts.weight, parts.constant,
                                      present, dtype)
            if answer is not None:
                return answer
        return None

    def _quickscore(self, hub_p, tables, weight, constant, present, dtype):
        m = len(present)
        eps = float(np.finfo(dtype).eps)
        hub_p = hub_p.astype(dtype)
        tables = [t.astype(dtype) for t in tables]
        weight = weight.astype(dtype)

        # subsets S of the present findings: weights w_S and signed coefficients
        subsets = np.array(list(itertools.product((0, 1), repeat=m)), dtype=bool).reshape(
            2 ** m, m)
        w = np.tile(weight, (len(subsets), 1))
        coef = np.full(len(subsets), constant, dtype=dtype)
        for j, finding in enumerate(present):
            q = np.ones(self.n, dtype=dtype)
            for cause, s in zip(finding.parents, finding.strengths):
                q[self._index[cause]] = 1.0 - s
            chosen = subsets[:, j]
            w[chosen] *= q
            coef[chosen] *= -(1.0 - finding.leak)
        coef_h = hub_p[:, None] * coef[None, :]  # (H, S)

        g, g_yes = [], {}
        for members, configs, table in zip(self.units, self._configs, tables):
            # phi[S, config] = product over the unit's causes present of w_S
            phi = np.ones((len(subsets), len(configs)), dtype=dtype)
            for k, i in enumerate(members):
                phi *= np.where(configs[:, k], w[:, [i]], 1.0)
            g.append(table @ phi.T)  # (H, S)
            for k, i in enumerate(members):
                on = configs[:, k]
                g_yes[i] = table[:, on] @ phi[:, on].T
        g = np.array(g)
        ones = np.ones((1,) + g.shape[1:], dtype=dtype)
        prefix = np.cumprod(np.vstack([ones, g[:-1]]), axis=0)
        suffix = np.cumprod(np.vstack([g[1:], ones])[::-1], axis=0)[::-1]
        others = prefix * suffix  # product over every unit but one

        terms = coef_h * prefix[-1] * g[-1]
        # the terms alternate in sign. Each carries its own rounding, at most
        # steps * eps of its size, and adding them costs at most about log2(N) * eps
        # of sum|term| more (exact for float64 with fsum). Every marginal's numerator
        # adds terms no larger, so the same bound covers them.
        total = _sum(terms)
        steps = self._term_steps + m + (0 if dtype is np.float64
                                        else math.ceil(math.log2(terms.size)) + 2)
        bound = steps * eps * float(np.abs(terms).sum())
        if not total > 0.0 or bound / total > ERROR_LIMIT:
            return None  # zero, or too close to cancellation
        causes = np.array([_sum(coef_h * others[self._unit_of[i]] * g_yes[i])
                           for i in range(self.n)]) / total
        groups = []
        for group in self._groups:
            product = np.ones_like(g[0])
            for u, (members, configs, table) in enumerate(zip(self.units, self._configs,
                                                              tables)):
                inside = [k for k, i in enumerate(members) if i in group]
                if not inside:
                    product = product * g[u]
                    continue
                off = ~configs[:, inside].any(axis=1)
                phi = np.ones((len(subsets), int(off.sum())), dtype=dtype)
                for k, i in enumerate(members):
                    phi *= np.where(configs[off][:, k], w[:, [i]], 1.0)
                product = product * (table[:, off] @ phi.T)
            groups.append(1.0 - _sum(coef_h * product) / total)
        return Posterior(np.clip(causes.astype(float), 0.0, 1.0),
                         np.clip(np.array(groups, dtype=float), 0.0, 1.0), float(total))


def _sum(values: np.ndarray) -> float:
    """Exact (fsum) for float64; pairwise in the array's own precision otherwise."""
    if values.dtype == np.float64:
        return math.fsum(values.ravel())
    return values.sum()
