"""Every uncertain number of a knowledge base, and Structures rebuilt from new values.

Sensitivity sweeps and Monte Carlo draws change a few hundred numbers thousands of
times; going back through pandas and the loader each time would take seconds per
change. :class:`Parameters` reads the numbers once, remembers which node each one
feeds, and rebuilds only the nodes a change touches (``dataclasses.replace``),
with the same formulas as :mod:`._structure`, so the point values rebuild the
loaded structure exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property, partial
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from ..errors import EngineLimitError
from ..knowledge._schema import RANGED, TABLES
from ..knowledge.base import KnowledgeBase
from ._elimination import EliminationEngine
from ._engine import Posterior
from ._factored import FactoredEngine
from ._gradient import gradients
from ._structure import Structure, cause_p_yes
from ._threads import one_thread

COLUMNS = ["file", "id", "column", "value", "low", "high"]
T = TypeVar("T")

# default plausible range where the CSV gives none: odds or odds ratio times / divided by 2
DEFAULT_FACTOR = 2.0


@dataclass(frozen=True, eq=False)
class Sweep:
    """Unnormalised answers of a batch of rows as every parameter moves alone.

    ``total`` (rows,) is P(row) at the point values, ``derivative`` (rows asked for,
    parameters) d P(row) / d value, ``at`` (rows, parameters, ends) P(row) with that
    parameter alone at each of the values asked for, and ``ratios`` (parameters, ends,
    2) the smallest and the largest ratio moved / point value of the entries of the
    parameter's factor that the first row reads (1 included where some entry does not
    move; None unless asked for): P(row) moved is
    P(row) times an average of these ratios, weighted by the positive terms
    factor x G, so it lies between P(row) times each bound, for every row whose G is
    zero where the first row's is (any row that forces causes present or absent).
    """

    total: np.ndarray
    derivative: np.ndarray
    at: np.ndarray
    ratios: np.ndarray | None


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
        # tables rebuilt with each number at the ends of its range: name -> (ends, value);
        # also the ratios of each cause's and risk node's numbers over the parent states
        # an evidence leaves, by those states (a few hundred bytes for each pattern of
        # stated risk answers that reaches the node)
        self._at_ends: dict[object, tuple[bytes, Any]] = {}
        self._slopes: dict[int, np.ndarray] = {}
        self._compile(kb, index)

    def _compile(self, kb: KnowledgeBase, index: Mapping[tuple[str, str], int]) -> None:
        """Which parameters feed which node, in the order the structure uses them."""
        s = self.structure
        risk_of = {m: node.name for node in s.risk_nodes for m in node.members}
        self._risk = [[index["risk_factors", m] for m in node.members]
                      for node in s.risk_nodes]
        self._risk_states = [np.array(list(node.members.values()), dtype=np.intp)
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

    # -- every parameter at once ---------------------------------------------------------
    def sweep(self, evidence: Mapping[str, bool], clamps: Sequence[Mapping[int, int]],
              ends: np.ndarray, wanted: Sequence[int] | None = None, bounds: bool = False,
              engine: EliminationEngine | None = None) -> Sweep:
        """Exact derivatives and moved values of P(row) for every parameter, from one
        backward pass (:func:`._gradient.gradients`; rows and ``clamps`` as there).

        ``ends`` (parameters, k) holds k values per parameter; the derivatives are
        given for the rows ``wanted`` only (all rows when None), and ``ratios`` only
        with ``bounds`` (else None). Each parameter feeds one
        factor, in which P(row) is linear: the derivative is <d factor / d value, G>
        and P(row) with the parameter moved is <factor rebuilt with it, G>, with the
        factor rebuilt by the same code as :meth:`build` (so an exclusive group's
        'other' state and a cause's logistic form are treated as everywhere else).
        Sums of products of positive numbers: the moved values lose no digits.
        """
        s = self.structure
        g = gradients(s, evidence, clamps, engine or self._elimination)
        values = self.values
        rows, count = len(g.total), len(values)
        asked = np.arange(rows) if wanted is None else np.asarray(wanted, dtype=np.intp)
        derivative = np.zeros((rows, count))
        at = np.repeat(np.repeat(g.total[:, None, None], count, axis=1), ends.shape[1], axis=2)
        # unreported findings: in no factor
        ratios = np.ones(ends.shape + (2,)) if bounds else None

        for k, (node, members) in enumerate(zip(s.risk_nodes, self._risk)):
            grad = g.risk[k]  # (rows, states)
            moved = self._moved_prior(k, ends[members])  # (members, ends, states)
            derivative[:, members] = grad[:, self._risk_states[k]] - grad[:, :1]
            at[:, members] = np.einsum("rs,mes->rme", grad, moved)
            if ratios is not None:  # over the states the first row reads
                read = grad[0] != 0.0
                ratios[members] = self._kept(("risk ratios", k, read.tobytes()),
                                             ends[members],
                                             partial(_risk_ratios, moved, read, node.prior))
        with one_thread():  # small matrix products: see _threads.py
            self._sweep_small(g.cpt, asked, derivative, at, ratios, ends)
            for k in self._small.large:
                self._sweep_cause(k, g.cpt[k], ends, asked, derivative, at, ratios)
        absent = [j for j, f in enumerate(s.findings)
                  if f.name in evidence and not evidence[f.name]]
        kinds: dict[str, list[int]] = {"present leak": [], "present link": [],
                                       "absent leak": [], "absent link": []}
        q = s.finding_arrays.q
        forced_off = np.array([[clamp.get(i) == 0 for i in range(len(s.causes))]
                               for clamp in clamps], dtype=bool).reshape(rows, -1)
        cause_index = {c: i for i, c in enumerate(s.cause_ids)}
        for j, (leak, links) in enumerate(self._findings):
            finding = s.findings[j]
            if j in g.ends:  # present: weights (leak, 1) of 'not produced' / 'produced'
                weights = g.ends[j]
                derivative[:, leak] = weights[:, 0]
                at[:, leak] = weights[:, :1] * ends[leak] + weights[:, 1:]
                kinds["present leak"].append(leak)
                position = {int(i): n for n, i in enumerate(g.link_causes.get(j, ()))}
                for cause, p in zip(finding.parents, links):
                    link = g.link[j][:, position[cause_index[cause]]]  # (rows, 2, 2)
                    derivative[:, p] = link[:, 1, 1] - link[:, 1, 0]
                    at[:, p] = (link[:, :1, 0] + link[:, 1:, 0] * (1.0 - ends[p])
                                + link[:, 1:, 1] * ends[p])
                    kinds["present link"].append(p)
            elif j in absent:  # a factor (1 - leak) on every configuration alike
                keep = 1.0 - values[leak]
                derivative[:, leak] = -g.total / keep
                at[:, leak] = g.total[:, None] * (1.0 - ends[leak]) / keep
                kinds["absent leak"].append(leak)
                for cause, p in zip(finding.parents, links):
                    i = cause_index[cause]
                    # the cause's weight is a product over the absent findings: the
                    # others times this link's 1 - strength (no division by it)
                    others = np.prod([q[a, i] for a in absent if a != j])
                    on = ~forced_off[:, i] * others  # 0 where forced absent
                    derivative[:, p] = -on * g.d_unary[:, i, 1]
                    at[:, p] = (g.unary[:, i, 0, None] * g.d_unary[:, i, 0, None]
                                + on[:, None] * (1.0 - ends[p]) * g.d_unary[:, i, 1, None])
                    kinds["absent link"].append(p)
        if ratios is not None:
            self._finding_ratios(kinds, ends, ratios)
        return Sweep(g.total, derivative[asked], at, ratios)

    def _finding_ratios(self, kinds: Mapping[str, list[int]], ends: np.ndarray,
                        ratios: np.ndarray) -> None:
        """``Sweep.ratios`` of the findings' numbers, whose factors' entries are the
        number itself or one minus it (and entries that do not move)."""
        v = self.values[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            # a present finding: 'not produced' weighs the leak, 'produced' 1
            p = kinds["present leak"]
            ratios[p] = _bounds(_ratio(ends[p], v[p])[None])
            # its link to a cause: 1 - strength (not produced), strength (produced)
            p = kinds["present link"]
            ratios[p] = _bounds(np.stack([_ratio(1.0 - ends[p], 1.0 - v[p]),
                                          _ratio(ends[p], v[p])]))
            # an absent finding: the cause's weight holds 1 - strength
            p = kinds["absent link"]
            ratios[p] = _bounds(_ratio(1.0 - ends[p], 1.0 - v[p])[None])
            # and 1 - leak multiplies every entry alike (1 left out: no entry stays)
            p = kinds["absent leak"]
            ratios[p] = np.repeat(_ratio(1.0 - ends[p], 1.0 - v[p])[..., None], 2, axis=-1)

    def _sweep_cause(self, k: int, grad: np.ndarray, ends: np.ndarray, wanted: np.ndarray,
                     derivative: np.ndarray, at: np.ndarray,
                     ratios: np.ndarray | None) -> None:
        """Columns of ``derivative``, ``at`` and ``ratios`` for the numbers of cause k's
        table.

        ``grad`` (rows, parent states..., 2) is d P / d P(cause = state | parents);
        the derivatives are filled in for the rows ``wanted`` only.
        Only the parent states where some row's ``grad`` is not zero can move P (the
        others are ruled out by the evidence on the risk factors): the work is done on
        those, for every number of the table and every end at once, as matrix
        products. P(row) moved is the sum of positive terms grad_0 (1 - p) + grad_1 p,
        with p the table as ``build`` makes it (kept: :meth:`_moved_p_yes`).
        """
        prior, terms, _ = self._causes[k]
        rows = grad.shape[0]
        params = np.array([prior] + [p for _, _, p in terms], dtype=np.intp)
        g0 = grad[..., 0].reshape(rows, -1)
        g1 = grad[..., 1].reshape(rows, -1)
        live = np.flatnonzero((g0 != 0.0).any(axis=0) | (g1 != 0.0).any(axis=0))
        g0, g1 = g0[:, live], g1[:, live]
        if len(wanted):  # d P / d p = grad_1 - grad_0, through d p / d each number
            derivative[np.ix_(wanted, params)] = \
                (g1[wanted] - g0[wanted]) @ self._slope(k)[live]
        yes, no = self._moved_p_yes(k, ends[params])  # (parent states, params * ends)
        at[:, params] = (g0 @ no[live] + g1 @ yes[live]).reshape(rows, len(params), -1)
        if ratios is not None:
            # the same parent states come back with the same stated risk answers
            ratios[params] = self._kept(("cause ratios", k, live.tobytes()), ends[params],
                                        lambda: self._cause_ratios(k, live, ends[params]))

    def _cause_ratios(self, k: int, live: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """``Sweep.ratios`` of cause k's numbers (numbers, ends, 2), over the ``live``
        parent states: the entry (x, yes) moves from p to p', (x, no) from 1 - p to
        1 - p'.

        Moving a number of the logistic form shifts the log-odds by some d on the
        entries it touches, which multiplies p by e^d / (1 + p (e^d - 1)) and 1 - p
        by 1 / (1 + p (e^d - 1)): both monotone in p. So the extremes lie at the
        touched entries with the smallest and the largest p, and only those are read.
        Where a prior or an end is 0 or 1, or some p is, and in small tables (fewer
        numpy calls), every entry is read.
        """
        prior, terms, _ = self._causes[k]
        yes, no = self._moved_p_yes(k, ends)
        flat = self.structure.causes[k].p_yes.ravel()
        point = flat[live]
        logistic = len(live) > _DIRECT and (
            0.0 < self.values[prior] < 1.0 and np.all(np.isfinite(ends))
            and np.all((0.0 < ends[0]) & (ends[0] < 1.0)) and np.all(ends[1:] > 0.0)
            and np.all((0.0 < point) & (point < 1.0)))
        if not logistic:
            both = np.concatenate([_ratio(yes[live], point[:, None]),
                                   _ratio(no[live], 1.0 - point[:, None])])
            return _bounds(both).reshape(len(ends), -1, 2)
        touched = np.ones((len(live), len(ends)), dtype=bool)  # the prior: every entry
        if terms:
            index = np.unravel_index(live, self.structure.causes[k].p_yes.shape)
            for j, (axis, state, _) in enumerate(terms, start=1):
                touched[:, j] = index[axis] == state
        # an odds ratio that touches no live entry moves nothing read: ratio 1 there
        # (the entry picked, untouched, is unchanged in its moved table)
        smallest = np.where(touched, point[:, None], np.inf).argmin(axis=0)
        largest = np.where(touched, point[:, None], -np.inf).argmax(axis=0)
        entry = live[np.stack([smallest, largest])][:, :, None]  # (2, numbers, 1)
        column = np.arange(yes.shape[1]).reshape(len(ends), -1)[None]  # (1, numbers, ends)
        p = flat[entry]
        r = np.concatenate([yes[entry, column] / p, no[entry, column] / (1.0 - p)])
        return np.stack([np.minimum(r.min(axis=0), 1.0), np.maximum(r.max(axis=0), 1.0)],
                        axis=-1)

    def _slope(self, k: int) -> np.ndarray:
        """d P(cause k = yes | parents) / d each of its numbers (its prior, then its odds
        ratios): (parent states flattened, numbers), kept. In the logistic form
        d p / d log-odds = p (1 - p), zero where a required parent is absent (p = 0
        there whatever the numbers); with a prior of 0 or 1, p is the prior wherever
        allowed and the odds ratios cannot move it."""
        kept = self._slopes.get(k)
        if kept is not None:
            return kept
        prior, terms, required = self._causes[k]
        p_yes = self.structure.causes[k].p_yes
        values = self.values
        slope = np.zeros((p_yes.size, 1 + len(terms)))
        v = float(values[prior])
        if 0.0 < v < 1.0:
            pq = (p_yes * (1.0 - p_yes)).ravel()
            slope[:, 0] = pq / (v * (1.0 - v))
            for j, (axis, state, p) in enumerate(terms, start=1):
                touched = np.zeros(p_yes.shape, dtype=bool)
                np.moveaxis(touched, axis, 0)[state] = True
                slope[:, j] = np.where(touched.ravel(), pq / values[p], 0.0)
        else:
            slope[:, 0] = cause_p_yes(1.0, [np.zeros(n) for n in p_yes.shape],
                                      required).ravel()
        self._slopes[k] = slope
        return slope

    def _kept(self, name: object, ends: np.ndarray, make: Callable[[], T]) -> T:
        """``make()``, kept under ``name`` for these ``ends``: the same ends come back at
        every sweep of a model (its ranges)."""
        key = ends.tobytes()
        kept = self._at_ends.get(name)
        if kept is None or kept[0] != key:
            kept = self._at_ends[name] = (key, make())
        return kept[1]

    def _each_end(self, params: Sequence[int], ends: np.ndarray,
                  rebuild: Callable[[np.ndarray], np.ndarray]) -> list[np.ndarray]:
        """``rebuild(values)`` with each of ``params`` alone at each of its ``ends``
        (one row of ``ends`` per parameter), in that order."""
        out = []
        for p, row in zip(params, ends):
            for end in row:
                changed = self.values.copy()
                changed[p] = end
                out.append(rebuild(changed))
        return out

    def _moved_p_yes(self, k: int, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """P(cause k = yes | parents) and P(no | parents), flattened, with each of its
        numbers (prior, then the odds ratios) alone at each of its ``ends``: (parent
        states, numbers * ends) each, made by :meth:`_p_yes` as :meth:`build` makes
        it, and kept."""
        def make() -> tuple[np.ndarray, np.ndarray]:
            prior, terms, _ = self._causes[k]
            table = np.stack([t.ravel() for t in self._each_end(
                [prior] + [p for _, _, p in terms], ends, lambda v: self._p_yes(k, v))],
                axis=1)
            return table, 1.0 - table

        return self._kept(("cause", k), ends, make)

    def _moved_prior(self, k: int, ends: np.ndarray) -> np.ndarray:
        """Risk node k's prior with each of its numbers alone at each of its ``ends``:
        (members, ends, states), made as :meth:`build` makes it, and kept."""
        states = len(self.structure.risk_nodes[k].states)
        return self._kept(("risk", k), ends, lambda: np.array(self._each_end(
            self._risk[k], ends, lambda v: self._risk_prior(k, v))).reshape(
                ends.shape + (states,)))

    @cached_property
    def _small(self) -> _Block:
        """The causes whose tables have at most ``SMALL_TABLE`` entries, side by side."""
        s = self.structure
        small = [k for k, node in enumerate(s.causes) if node.p_yes.size <= SMALL_TABLE]
        large = tuple(k for k in range(len(s.causes)) if k not in small)
        sizes = [s.causes[k].p_yes.size for k in small]
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.intp)
        columns = [[prior] + [p for _, _, p in terms]
                   for prior, terms, _ in (self._causes[k] for k in small)]
        starts = np.concatenate([[0], np.cumsum([len(c) for c in columns])]).astype(np.intp)
        entries, width = int(offsets[-1]), int(starts[-1])
        owner = np.zeros((entries, width), dtype=bool)
        slope = np.zeros((entries, width))
        for n, k in enumerate(small):
            rows, cols = slice(offsets[n], offsets[n + 1]), slice(starts[n], starts[n + 1])
            owner[rows, cols] = True
            slope[rows, cols] = self._slope(k)
        point = np.concatenate([np.zeros(0)] + [s.causes[k].p_yes.ravel() for k in small])
        flat = np.array([p for c in columns for p in c], dtype=np.intp)
        return _Block(tuple(small), large, offsets, starts, flat, owner, point, slope)

    def _small_moved(self, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The small causes' tables with each number alone at each of its ``ends``
        ((columns, ends), in the order of ``_Block.columns``): P(no) and
        P(yes) side by side as (entries, columns * ends), zero off each cause's own
        entries, and the ratios moved / point of both as (2 * entries, columns, ends),
        NaN off them (:func:`_bounds` leaves NaN out). Kept for the same ends."""
        return self._kept("small", ends, lambda: self._make_small_moved(ends))

    def _make_small_moved(self, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        block = self._small
        count = ends.shape[1]
        entries, width = block.owner.shape
        yes = np.zeros((entries, width, count))
        for n, k in enumerate(block.causes):
            rows = slice(block.offsets[n], block.offsets[n + 1])
            cols = slice(block.starts[n], block.starts[n + 1])
            table, _ = self._moved_p_yes(k, ends[cols])
            yes[rows, cols] = table.reshape(len(table), -1, count)
        owner = block.owner[:, :, None]
        no = np.where(owner, 1.0 - yes, 0.0)
        point = block.point[:, None, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = np.concatenate([np.where(owner, yes / point, np.nan),
                                     np.where(owner, no / (1.0 - point), np.nan)])
        both = np.concatenate([no.reshape(entries, -1), yes.reshape(entries, -1)])
        return both, ratios

    def _sweep_small(self, cpt: Sequence[np.ndarray], wanted: np.ndarray,
                     derivative: np.ndarray, at: np.ndarray, ratios: np.ndarray | None,
                     ends: np.ndarray) -> None:
        """:meth:`_sweep_cause` for every small cause at once, as a few matrix
        products over their tables side by side (``cpt`` as ``Gradients.cpt``): the
        same sums, with zeros for the other causes' entries, and the same bounds over
        the entries some row reads."""
        block = self._small
        if not block.causes:
            return
        rows = cpt[0].shape[0]
        grad = np.concatenate([cpt[k].reshape(rows, -1, 2) for k in block.causes], axis=1)
        both, moved = self._small_moved(ends[block.columns])
        g = np.concatenate([grad[..., 0], grad[..., 1]], axis=1)  # (rows, no then yes)
        at[:, block.columns] = (g @ both).reshape(rows, len(block.columns), -1)
        if len(wanted):
            slope = grad[wanted, :, 1] - grad[wanted, :, 0]
            derivative[np.ix_(wanted, block.columns)] = slope @ block.slope
        if ratios is not None:
            live = np.tile((grad != 0.0).any(axis=(0, 2)), 2)
            ratios[block.columns] = _bounds(np.where(live[:, None, None], moved, np.nan))

    @cached_property
    def _elimination(self) -> EliminationEngine:
        return EliminationEngine(self.structure)

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


_DIRECT = 64  # live entries up to which a cause's ratios are read off every entry
# causes whose tables have at most this many entries are swept side by side, in one
# set of matrix products (:meth:`Parameters._sweep_small`); on the shipped priors every
# cause but the clot (24 576 entries) has at most 48
SMALL_TABLE = 256


@dataclass(frozen=True, eq=False)
class _Block:
    """The small causes' conditional tables side by side (``Parameters._small``).

    ``causes`` are their indices and ``large`` the other causes'; cause ``causes[n]``
    has the entries ``offsets[n]:offsets[n + 1]`` (its table flattened) and the
    columns ``starts[n]:starts[n + 1]``, whose parameters are ``columns`` (its prior,
    then its odds ratios, as ``Parameters._causes``). ``owner`` (entries, columns)
    marks each cause's own block, ``point`` holds P(yes | parents) and ``slope`` the
    derivative of each entry with respect to each column's number.
    """

    causes: tuple[int, ...]
    large: tuple[int, ...]
    offsets: np.ndarray
    starts: np.ndarray
    columns: np.ndarray
    owner: np.ndarray
    point: np.ndarray
    slope: np.ndarray


def _risk_ratios(moved: np.ndarray, read: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """``Sweep.ratios`` of a risk node's numbers (members, ends, 2): ``moved`` (members,
    ends, states) over ``prior``, on the states ``read``."""
    return _bounds(np.moveaxis(_ratio(moved[..., read], prior[read]), -1, 0))


def _ratio(moved: np.ndarray, point: np.ndarray) -> np.ndarray:
    """moved / point entry by entry: NaN where both are 0 (an entry that adds nothing
    to any row), infinite where only the point value is (no bound)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(moved, dtype=float) / point


def _bounds(ratio: np.ndarray) -> np.ndarray:
    """(..., 2): the smallest and the largest of 1 and the ratios along the first axis
    (one entry of a factor per row), NaNs left out."""
    return np.stack([np.fmin.reduce(ratio, axis=0, initial=1.0),
                     np.fmax.reduce(ratio, axis=0, initial=1.0)], axis=-1)


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


def _factored(structure: Structure, evidence: Mapping[str, bool]) -> Posterior | None:
    try:
        return FactoredEngine(structure).posterior(evidence)
    except EngineLimitError:  # causes linked into a unit too large for its tables
        return None
