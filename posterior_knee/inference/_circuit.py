"""An elimination plan flattened into sums of products of entries, for repeated queries.

A plan of :mod:`._elimination` runs op by op: each product expands its operands along
the shared u axes, contracts them and folds the result, some ten numpy calls for a
table of a few hundred entries. At 5-9 present findings on the shipped priors a plan
costs 2-6e4 entries in all, a fraction of a millisecond of arithmetic, but a query
made some 1000 numpy calls and took 5-8 ms: the time was Python's, per step.

Every op is bilinear in its two operands (a sum is a product with a vector of
weights), so it is a list of terms ``out[o] += a[i] * b[j]``, every coefficient 1:
on a shared u axis the OR rule's four terms (C0 = A0 B0, C1 = A1 B0 + A1 B1 +
A0 B1), on any other variable the same state on every side that holds it. Held in one
buffer of entries, the ops that do not depend on each other's results (a level) run
together: one gather of each side, one product and one ``np.bincount`` per level,
about 40 levels for some 115 ops. The backward pass runs the same terms the other way
(each slot's derivative from the one op that reads it), level by level from the root.

The silent sums' backward pass (:meth:`EliminationEngine.silent_sums`) holds the
derivative along each u axis as (at off, at on - at off); its terms come from the same
rule per variable (:data:`_DELTA_SHARED`, :data:`_DELTA_PAIRED`), all with coefficient
1, so every answer is still a sum of positive products and as exact as the op by op
run (the tests compare the two, and both with brute force).

The ops that read no case data run once, when the plan is flattened. Building the
lists (the terms of each product shape are kept, by rule and scopes) costs about as
much as one op by op run, so a single query on a cheap plan is flattened from its
first query on (:meth:`EliminationEngine._circuit_for`); the choice depends on the
plan alone, so a query gives the same bits whether its plan was flattened before or
not. A batch, or a dear plan, runs op by op: there the time is the arithmetic, and a
flattened product has 2.5-5 terms per entry of the op by op run's.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

# per variable, the terms of one op as (state in one slot, state in another, state in
# a third), None where the slot does not hold the variable
_OR = ((0, 0, 0), (1, 1, 0), (1, 1, 1), (1, 0, 1))  # (out, a, b), a u axis a and b share
# the derivative of one operand held as (off, on - off) on every u axis, from the
# result's derivative so held and the other operand: (operand, result, other)
_DELTA_SHARED = ((0, 0, 0), (0, 0, 1), (0, 1, 1), (1, 1, 0))  # gA0 = (B0+B1) g0 + B1 d
_DELTA_PAIRED = ((None, 0, 0), (None, 0, 1), (None, 1, 1))  # g . b = g0 (b0+b1) + d b1


class Circuit:
    """One plan's ops as lists of terms over one buffer of every slot's entries.

    Parameters
    ----------
    plan
        The :class:`~._elimination.Plan`.
    leaves
        The values of the plan's leaves (leading axis of length 1) for some query:
        those that hold no case data are kept, the ops that depend on them alone run
        once, here.
    cards
        The number of states of every variable of the plan.
    u0
        The first u variable (present findings' and groups' OR variables).
    weights
        Per sum op (by op index): the weights its variable is summed out with.
    wanted
        Slots whose derivatives are wanted even though constant (the links).
    delta
        Hold derivatives along u axes as (at off, at on - at off).
    leading
        Slots laid out first, side by side in this order (the causes: one query fills
        them with one assignment).
    known
        The terms of products already flattened with these ``cards`` and ``u0``, by
        rule and scopes (the engine's; filled here).
    """

    def __init__(self, plan: Any, leaves: Sequence[np.ndarray], cards: Sequence[int],
                 u0: int, weights: dict[int, np.ndarray], wanted: frozenset,
                 delta: bool, leading: Sequence[int] = (), known: dict | None = None):
        known = {} if known is None else known
        first = len(plan.leaves)
        ops = plan.ops
        scopes = list(plan.scopes)
        constant = list(plan.constant)
        fixed: dict[int, np.ndarray] = dict(enumerate(leaves))
        # each sum op's weights are a slot of their own (scope: the variable), and in
        # the delta basis (off, on - off) another, for the operand's derivative
        side: list[tuple[int, int]] = []
        dslot: dict[int, int] = {}
        for k, op in enumerate(ops):
            if op[0] == "mul":
                side.append((op[1], op[2]))
                continue
            side.append((op[1], len(scopes)))
            fixed[len(scopes)] = w = np.asarray(weights[k], dtype=float)
            scopes.append((op[2],))
            constant.append(True)
            if delta and op[2] >= u0:
                dslot[k] = len(scopes)
                fixed[len(scopes)] = np.array([w[0], w[1] - w[0]])
                scopes.append((op[2],))
                constant.append(True)
        sizes = [math.prod(map(cards.__getitem__, scope)) for scope in scopes]
        # levels: the ops on case data (live) and, apart, those on constants alone
        level: dict[int, int] = {}
        for k, (a, b) in enumerate(side):
            out = first + k
            if constant[out]:
                level[out] = -1 - max(-level.get(a, 0), -level.get(b, 0))
            else:
                level[out] = 1 + max(level.get(a, 0) if not constant[a] else 0,
                                     level.get(b, 0) if not constant[b] else 0)
        results = sorted(level, key=lambda s: (level[s] > 0, abs(level[s]), s))
        # the buffer: the leading slots, the other leaves and weights, then the ops'
        # results level by level, each level's side by side
        done = set(leading) | set(level)
        order = list(leading) + [s for s in range(len(scopes)) if s not in done] + results
        pos = np.zeros(len(scopes), dtype=np.intp)
        pos[order] = np.cumsum([0] + [sizes[s] for s in order[:-1]])
        self.size = int(pos[order[-1]]) + sizes[order[-1]]
        self.pos, self.sizes = pos, sizes

        def terms(items: list, rule: str, at: list) -> tuple[np.ndarray, np.ndarray]:
            """Indices (3, T) of the terms of the products over ``items`` (three
            slots each, one per role) by ``rule`` (a key of _RULES), each role's
            entries counted from ``at`` (per item, three numbers); and where each
            item's terms end."""
            parts = []
            for slots in items:
                key = (rule, scopes[slots[0]], scopes[slots[1]], scopes[slots[2]])
                relative = known.get(key)
                if relative is None:
                    canon: dict[int, int] = {}
                    for slot in slots:
                        for x in scopes[slot]:
                            canon.setdefault(x, len(canon))
                    relative = known[key] = _relative_terms(
                        rule, tuple(cards[x] for x in canon), tuple(x >= u0 for x in canon),
                        tuple(tuple(canon[x] for x in scopes[slot]) for slot in slots))
                parts.append(relative)
            counts = [part.shape[1] for part in parts]
            out = np.concatenate(parts, axis=1)
            out += np.repeat(np.array(at, dtype=np.intp).T, counts, axis=1)
            return out, np.cumsum(counts)

        def groups(keys: list) -> list[tuple[int, int]]:
            """(first, last + 1) of each run of equal keys."""
            bounds, begin = [], 0
            for k in range(1, len(keys) + 1):
                if k == len(keys) or keys[k] != keys[begin]:
                    bounds.append((begin, k))
                    begin = k
            return bounds

        def forward(outs: list) -> list:
            """The levels of these ops' results (in order), as (start, stop, out
            indices from start, a indices, b indices)."""
            if not outs:
                return []
            items = [(s, *side[s - first]) for s in outs]
            (o, a, b), ends = terms(items, "forward", [pos[list(item)] for item in items])
            out = []
            for lo, hi in groups([level[s] for s in outs]):
                start = int(pos[outs[lo]])
                stop = int(pos[outs[hi - 1]]) + sizes[outs[hi - 1]]
                t_lo, t_hi = (int(ends[lo - 1]) if lo else 0), int(ends[hi - 1])
                out.append((start, stop, o[t_lo:t_hi] - start, a[t_lo:t_hi],
                            b[t_lo:t_hi]))
            return out

        # the ops on constants alone run once, here
        base = np.zeros(self.size)
        for s, values in fixed.items():
            base[pos[s]:pos[s] + sizes[s]] = np.asarray(values).reshape(-1)[-sizes[s]:]
        constant_levels = forward([s for s in results if level[s] < 0])
        for start, stop, o, a, b in constant_levels:
            base[start:stop] = np.bincount(o, base[a] * base[b], minlength=stop - start)
        self.base = base
        self.forward_levels = forward([s for s in results if level[s] > 0])

        # backward: from the root down, each op once its result's derivative is known
        back: dict[int, int] = {plan.root: 0}
        items: list[tuple[int, int, int]] = []  # (target, result, other) by level
        self.weight_slots: dict[int, int] = {}  # sum op over a u variable -> its slot
        for k in range(len(ops) - 1, -1, -1):
            out = first + k
            if out not in back or (constant[out] and out not in wanted):
                continue
            a, b = side[k]
            targets = []
            if ops[k][0] == "mul":
                for mine, other in ((a, b), (b, a)):
                    if not constant[mine] or mine in wanted:
                        targets.append((mine, other))
            else:
                if not constant[a] or a in wanted:
                    targets.append((a, dslot.get(k, b)))
                if ops[k][2] >= u0:  # the weights: the root split by the u's state
                    targets.append((b, a))
                    self.weight_slots[k] = b
            for mine, other in targets:
                back[mine] = back[out] + 1
                items.append((mine, out, other))
        items.sort(key=lambda item: back[item[1]])  # stable: by level
        bounds = groups([back[item[1]] for item in items])
        # a level's derivatives are its targets' entries side by side, the levels one
        # after the other
        target = np.array([item[0] for item in items], dtype=np.intp)
        width = np.array([sizes[slot] for slot in target], dtype=np.intp)
        start = np.cumsum(width) - width  # each target's first entry, all levels
        span = np.arange(int(width.sum())) + np.repeat(pos[target] - start, width)
        local = start - np.repeat(start[[lo for lo, _ in bounds]],
                                  [hi - lo for lo, hi in bounds])
        (t, g, v), ends = terms(items, "delta" if delta else "backward",
                                [(local[k], pos[item[1]], pos[item[2]])
                                 for k, item in enumerate(items)])
        self.backward_levels = []
        for lo, hi in bounds:
            t_lo, t_hi = (int(ends[lo - 1]) if lo else 0), int(ends[hi - 1])
            e_lo, e_hi = int(start[lo]), int(start[hi - 1] + width[hi - 1])
            self.backward_levels.append((span[e_lo:e_hi], t[t_lo:t_hi], g[t_lo:t_hi],
                                         v[t_lo:t_hi], e_hi - e_lo))
        self.root = int(pos[plan.root])
        # every value and derivative is a sum of positive products: its relative
        # rounding error is at most one epsilon per product and per term added along
        # its chain of levels; summed over every level, the bound of _pattern_sums'
        # ``error``
        self.steps = sum(1 + int(np.bincount(level[2]).max(initial=0))
                         for level in constant_levels + self.forward_levels)
        self.steps += sum(1 + int(np.bincount(level[1]).max(initial=0))
                          for level in self.backward_levels)
        self.nbytes = self.base.nbytes + sum(
            sum(part.nbytes for part in level if isinstance(part, np.ndarray))
            for level in self.forward_levels + self.backward_levels)
        self.readout: Any = None  # the engine's: where a query's answers are read

    def run(self, leading: np.ndarray, fill: Sequence[tuple[int, np.ndarray]] = ()
            ) -> tuple[np.ndarray, np.ndarray]:
        """Every slot's values and the root's derivative with respect to each, as two
        flat buffers (a slot's entries start at ``pos[slot]``), for one query:
        ``leading`` the values of the leading slots, one after the other, and ``fill``
        those of the other slots that hold case data, (slot, values)."""
        v = self.base.copy()
        v[:leading.size] = leading.reshape(-1)
        for slot, values in fill:
            p = self.pos[slot]
            v[p:p + self.sizes[slot]] = np.asarray(values).reshape(-1)
        # products in place: a level of 3e4 terms ran 2.5 times faster than with a
        # third temporary array
        for start, stop, o, a, b in self.forward_levels:
            terms = v.take(a)
            terms *= v.take(b)
            v[start:stop] = np.bincount(o, terms, minlength=stop - start)
        g = np.zeros(self.size)
        g[self.root] = 1.0
        for span, t, gi, vi, count in self.backward_levels:
            terms = g.take(gi)
            terms *= v.take(vi)
            g[span] = np.bincount(t, terms, minlength=count)
        return v, g


def _same_state(card: int, holds: tuple) -> list[tuple]:
    """Each state of the variable in every slot that holds it."""
    return [tuple(s if h else None for h in holds) for s in range(card)]


def _forward_rule(card: int, is_u: bool, holds: tuple) -> Sequence[tuple]:
    """A variable's states in (out, a, b) in one forward product."""
    if is_u and all(holds):
        return _OR
    return _same_state(card, holds)


def _backward_rule(card: int, is_u: bool, holds: tuple) -> Sequence[tuple]:
    """In (operand, result, other): the forward rule read backwards (the OR rule is
    symmetric in a and b)."""
    mine, out, other = holds
    return [(row[1], row[0], row[2]) for row in _forward_rule(card, is_u, (out, mine, other))]


def _delta_rule(card: int, is_u: bool, holds: tuple) -> Sequence[tuple]:
    """In (operand, result, other), derivatives held as (off, on - off) on u axes."""
    mine, out, other = holds
    if is_u and mine and other and out:
        return _DELTA_SHARED
    if is_u and out and other and not mine:
        return _DELTA_PAIRED
    # an ordinary variable; a u axis of the result and of this operand only
    # (identity); or the summed u of a sum op (operand with its weights, or the
    # weights with the operand)
    return _same_state(card, holds)


_RULES = {"forward": _forward_rule, "backward": _backward_rule, "delta": _delta_rule}


@functools.lru_cache(maxsize=None)
def _rule_states(rule: str, card: int, is_u: bool, holds: tuple) -> np.ndarray:
    """A variable's rows of ``rule`` as states (R, 3), 0 in a slot that does not hold
    it (its stride there is 0): a few dozen patterns in all."""
    rows = _RULES[rule](card, is_u, holds)
    return np.array([[0 if v is None else v for v in row] for row in rows], dtype=np.intp)


@functools.lru_cache(maxsize=16384)
def _relative_terms(rule: str, cards: tuple, is_u: tuple, scopes: tuple) -> np.ndarray:
    """The terms (3, T) of a product whose three slots hold the variables ``scopes``
    (numbered 0, 1, ... in order of appearance, with ``cards`` states): each
    slot's entry indices, from 0. Kept: the same shapes recur across ops and plans,
    but a new presentation's plan brings dozens of new ones (on 25 dev vignettes
    through the interview, about 40 % of the time spent flattening plans), so each
    variable's rows come from a table."""
    strides = np.zeros((len(cards), 3), dtype=np.intp)
    for k, scope in enumerate(scopes):
        step = 1
        for x in reversed(scope):
            strides[x, k] = step
            step *= cards[x]
    held = (strides > 0).tolist()
    idx = np.zeros((1, 3), dtype=np.intp)
    for x in range(len(cards)):
        local = _rule_states(rule, cards[x], is_u[x], tuple(held[x])) * strides[x]
        idx = (idx[:, None, :] + local[None, :, :]).reshape(-1, 3)
    out = idx.T.copy()
    out.flags.writeable = False
    return out
