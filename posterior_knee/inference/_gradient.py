"""The derivative of P(evidence) with respect to every number of the network, in one
backward pass.

P(e) is the network polynomial (Darwiche 2003): a sum of products in which each input
factor of an elimination plan (a risk node's prior, a cause's conditional table, a
cause's weight from the findings reported absent, a link of a present finding, and the
two weights with which a present finding's "produced" variable is summed out) appears
exactly once in every term. So P(e) is linear in each factor taken as a whole: with G
the derivative of P(e) with respect to the factor's entries, P(e) = <factor, G>, and
with that factor alone replaced, P(e) = <new factor, G> exactly. One forward and one
backward pass through the elimination plan of the evidence (:mod:`._elimination`, run
here on every factor, constant or not) gives G for every factor at once; the chain
rule to the CSV numbers is :meth:`._parameters.Parameters.sweep`.

Rows of a batch differ only in the per-cause unary factors, so a cause can be forced
present (its "absent" entry set to 0) or absent: P(cause, e) and P(no cause of a
group, e) and all their derivatives come from the same pass, one row each.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ._cases import CHUNK_ELEMENTS, Cases
from ._elimination import EliminationEngine
from ._products import _or_product, _or_product_grad
from ._structure import Structure
from ._threads import one_thread


@dataclass(frozen=True, eq=False)
class Gradients:
    """P(row) and its derivative with respect to every factor, for each row of a batch.

    Every array has the rows first. ``risk[k]`` is d P / d prior of risk node k (the
    evidence mask already applied), ``cpt[i]`` d P / d P(cause i = state | parents)
    (parents' axes in ``CauseNode.parents`` order, then the cause's state), ``unary``
    the rows' unary factors (rows, causes, 2) and ``d_unary`` d P / d them, ``link[j]``
    d P / d the (cause, produced) link factors of present finding j, shape (rows,
    parents, 2, 2), its causes in index order (``link_causes[j]``),
    and ``ends[j]`` d P / d the weights (leak, 1) of present finding j's two states.
    """

    total: np.ndarray
    risk: list[np.ndarray]
    cpt: list[np.ndarray]
    unary: np.ndarray
    d_unary: np.ndarray
    link: dict[int, np.ndarray]
    link_causes: dict[int, np.ndarray]
    ends: dict[int, np.ndarray]


PLAN_ROWS = 4.0
"""The rows a batch's elimination plan is searched for, whatever the batch's own: a
sensitivity table's two usual rows (the evidence and the top cause present), forward
and backward. Planned for its own rows, a table's first sweep (with the rows of the
causes near the top or a threshold, some 16 rows forward and backward) and its second
(the rows left open) each searched an order of their own for a new presentation. The
first table of each of 40 new bench cases per m (a throwaway script, after a warm-up on
8 others; old and new code in one process, the old being 1be3cd3, before the near
rows) took 0.97-1.37x less time at m = 0-8 with each batch planned for its own rows,
and 1.16-1.49x with one plan per evidence planned for 4 rows (1.13-1.40x for 8);
warm tables (``benchmarks/ab.py --what sensitivity``) gain as much either way."""


def gradients(structure: Structure, evidence: Mapping[str, bool],
              clamps: Sequence[Mapping[int, int]],
              engine: EliminationEngine | None = None) -> Gradients:
    """:class:`Gradients` for the evidence with, in row r, each cause i of ``clamps[r]``
    forced to state ``clamps[r][i]`` (0 absent, 1 present); ``{}`` is the evidence alone.

    Rows are run in chunks of at most ``CHUNK_ELEMENTS`` entries of the plan's cost
    (about what a run keeps for its backward pass), so memory stays bounded on large
    plans.
    """
    engine = engine or EliminationEngine(structure)
    parts = structure.split_evidence(evidence)
    # on the states the evidence leaves each risk node: the derivatives at the others
    # are zero (their masks are), filled in below
    engine, cases = engine._conditioned(Cases.from_parts([parts], structure))
    kept = engine.kept_states
    plan = engine.plan(cases.present[0], tuple(sorted(cases.masks)), groups=False,
                       rows=PLAN_ROWS)
    unary = np.ones((len(clamps), engine.n, 2))
    unary[:, :, 1] = cases.weight[0]
    for r, clamp in enumerate(clamps):
        for i, state in clamp.items():
            unary[r, i, 1 - state] = 0.0
    width = max(1, int(CHUNK_ELEMENTS // max(plan.cost, _widest(engine, plan))))
    chunks = [_run(engine, plan, cases, unary[k:k + width])
              for k in range(0, len(clamps), width)]
    constant = float(cases.constant[0])

    def join(get):
        return np.concatenate([get(c) for c in chunks]) * constant

    risk: list = [None] * engine.r
    cpt: list = [None] * engine.n
    d_unary = np.zeros_like(unary)
    links: dict[int, dict[int, np.ndarray]] = {}
    for slot, (kind, index, _) in enumerate(plan.leaves):
        grad = join(lambda c, slot=slot: c["slots"][slot])
        if kind == "risk":
            name = structure.risk_nodes[index].name
            risk[index] = grad * cases.masks[name] if name in cases.masks else grad
        elif kind == "cpt":
            cpt[index] = grad
        elif kind == "cause":
            d_unary[:, index] = grad
        elif kind == "unlinked":
            continue  # fixed (u off); the finding's leak enters through ``ends``
        else:
            t, i = index
            links.setdefault(int(plan.present[t]), {})[int(i)] = grad
    for k, node in enumerate(structure.risk_nodes):
        if node.name in kept:
            risk[k] = _widened(risk[k], 1, kept[node.name], len(node.states))
    for i, cause in enumerate(structure.causes):
        for axis, parent in enumerate(cause.parents):
            if parent in kept:
                cpt[i] = _widened(cpt[i], 1 + axis, kept[parent], cause.p_yes.shape[axis])
    link = {j: np.stack([by[i] for i in sorted(by)], axis=1) for j, by in links.items()}
    link_causes = {j: np.array(sorted(by), dtype=np.intp) for j, by in links.items()}
    ends = {int(j): join(lambda c, t=t: c["ends"][t]) for t, j in enumerate(plan.present)}
    return Gradients(join(lambda c: c["total"]), risk, cpt, unary, d_unary, link,
                     link_causes, ends)


def _widened(grad: np.ndarray, axis: int, states: np.ndarray, card: int) -> np.ndarray:
    """``grad`` over the kept ``states`` of ``axis`` put back among all ``card`` states,
    zero at the others."""
    shape = list(grad.shape)
    shape[axis] = card
    out = np.zeros(shape)
    index: list = [slice(None)] * grad.ndim
    index[axis] = states
    out[tuple(index)] = grad
    return out


def _widest(engine: EliminationEngine, plan) -> float:
    """Entries per row of the largest array a run keeps (a shared u axis widens to 3);
    kept per plan (plans are kept by the engine, one per pattern of evidence)."""
    widest = _WIDEST.get(plan)
    if widest is None:
        cards = engine._cards
        widest = _WIDEST[plan] = max(
            float(np.prod([cards[x] if x < len(cards) else 3 for x in scope]))
            for scope in plan.scopes)
    return widest


_WIDEST: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _run(engine: EliminationEngine, plan, cases: Cases, unary: np.ndarray) -> dict:
    """One forward pass keeping every product's operands, then the backward pass down
    to every input factor (constant ones too, unlike the engine's own)."""
    rows = len(unary)
    with one_thread():
        values = engine._leaf_values(plan, cases, unary)
        meta = engine._meta(plan)
        first = len(plan.leaves)
        saved = {}
        for k, m in enumerate(meta):
            if m[0] == "mul":
                values[first + k], saved[first + k] = _or_product(
                    values[m[1]], values[m[2]], m[3], m[4])
            elif m[3] is None:
                values[first + k] = values[m[1]].sum(axis=m[2])
            else:
                values[first + k] = np.einsum(m[5], values[m[1]],
                                              engine._weights(plan, m[3], m[4], None))
        ends: dict[int, np.ndarray] = {}
        out = {"total": np.broadcast_to(values[plan.root], (rows,)).copy(), "ends": ends}
        grads = {plan.root: np.ones(rows)}
        for k in range(len(meta) - 1, -1, -1):
            g = grads.pop(first + k, None)
            if g is None:
                continue
            m = meta[k]
            if m[0] == "mul":
                grads[m[1]], grads[m[2]] = _or_product_grad(g, saved[first + k], m[5], m[6],
                                                            True, True)
            else:
                weights = engine._weights(plan, m[3], m[4], None)
                if m[3] is not None:  # a present finding's u: d P / d its two weights
                    ends[m[3]] = np.broadcast_to(
                        np.einsum(m[7], values[m[1]], g), (rows, 2)).copy()
                shape = (-1,) + (1,) * (-m[2] - 1)
                grads[m[1]] = np.expand_dims(g, m[2]) * weights.reshape(shape)
        # every leaf feeds exactly one product or sum; the root is never a leaf here
        # (the risk nodes and the causes are always several factors)
        out["slots"] = [np.broadcast_to(grads[slot], (rows,) + np.shape(grads[slot])[1:])
                        for slot in range(first)]
    return out
