"""Exact inference by variable elimination in which every term is positive.

The other engines give out somewhere: enumeration at about 24 causes (2**n
configurations), Quickscore where its alternating sum cancels (many present findings
that are improbable together), the positive recursion at 8 present findings (it carries
every one of them through every unit) and at 12 causes linked into one unit. This
engine answers every case exactly, at a cost set by how the present findings and the
causes are wired together, not by their number alone.

How a present finding enters
----------------------------
A present finding j with noisy-OR parents multiplies the joint by
``1 - keep_j * prod_i q_ji ** c_i`` (keep = 1 - leak, q = 1 - strength), a factor over
all its parents at once. Written that way it ties every parent into one clique; written
as Quickscore's sum of two products (Diez & Galan 2003's multiplicative factorisation)
it is cheap but has a minus sign, and the sum cancels when the findings are improbable
together (ten digits lost at ten present findings is common). Here each present finding
gets one binary variable u_j, "some modelled cause produced it", the OR of one
independent switch per parent link (Heckerman & Breese's temporal transformation, read
as a tree instead of a chain). Each link is a small positive factor over
(cause, u_j): with the cause absent u_j stays 0; present, it turns u_j on with
probability s (the strength) and leaves it off with 1 - s. Two factors that both carry
u_j are combined by the OR rule,

    C[0] = A[0] B[0],    C[1] = A[1] B[0] + A[1] B[1] + A[0] B[1],

which has no minus sign (Quickscore's sum is the same product in another basis, where
it does need one). Eliminating u_j weighs its two states by (1 - keep_j, 1): a finding
not produced by any modelled cause still appears through its leak. Every factor, every
intermediate and every derivative is then a sum of positive products, so the relative
rounding error of every answer is at most the number of steps times the machine
epsilon, whatever the evidence.

Elimination order, cost and batches
-----------------------------------
The variables are the risk nodes, the causes and one u_j per present finding. The
order is chosen greedily (smallest intermediate first, shared u axes counted as three
states, since an OR merge of two factors sharing k of them passes through 3**k
entries), once per pattern of evidence: which findings are present and which risk
nodes carry evidence. The plan is cached; everything else (the findings reported
absent, which fold into one weight per cause, and the risk-factor masks) is data, so
every case with the same pattern, and every answer of a next-question ranking that
only says "no", runs through the same plan in one batch. Factors that hold no case
data (the CPTs, the link factors) are contracted once per plan and kept.

All cause marginals come from one backward pass (reverse-mode differentiation of the
elimination: P(c_i = 1, e) is the weight of cause i times the derivative of P(e) with
respect to it, Darwiche 2003), so a query costs about three forward passes, not one per
cause. "No cause of the group" needs the group's causes forced absent: one more
forward pass per group with more than one cause, done as extra rows of the batch.

Cost: the sum over elimination steps of the intermediate sizes, reported by
:attr:`Plan.cost` and used by the dispatcher to choose between the engines.
"""

from __future__ import annotations

import functools
import itertools
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeVar, cast

import numpy as np

from ._cases import EPS, Cases, Sums
from ._circuit import Circuit
from ._engine import Posterior
from ._lru import BoundedCache
from ._products import (
    _LETTERS,
    _contract,
    _delta_basis,
    _delta_other,
    _expand,
    _or_product,
    _or_product_grad,
    _or_product_grad_delta,
    _product_meta,
)
from ._structure import Structure

PLAN_CACHE = 4096  # plans kept (least recently used dropped)
# bytes of the plans' constant slots kept, for an engine and those cut from it: about
# 0.2 MiB a plan on the shipped priors, and diagnose_many on 8000 random rows kept 97 MiB
# of them in 536 plans, growing with the rows (a cut engine's own count bound did not
# stop it)
CONSTANTS_BYTES = 2 ** 26
CIRCUIT_CACHE = 32  # flattened plans kept, of every engine (0.5-25 MB each)
CIRCUIT_BYTES = 2 ** 26  # and at most this many bytes of them (64 MiB)
# a single query on a plan cheaper than this runs flattened (see _circuit): such a plan's
# time is Python's per op, a flattened one's its terms (on the shipped priors, about
# 2.5-5 terms per unit of cost, 24 bytes each). Measured per case, a diagnosis's silent
# sums on a plan already made (m = 5-15, 54 cases): 1.3-7.5x faster below 1e5, 0.7-1.65x
# at 1.2-2.1e5, 0.07-0.8x at most costs above; a new presentation's diagnosis, its
# flattening included, 1.0-1.1x at m = 5-9 (medians over 8 cases)
CIRCUIT_COST = 1e5
TERMS_CACHE = 8192  # product shapes whose flattened terms an engine keeps
RESTRICTED_CACHE = 64  # engines cut to the states the evidence leaves (then start again)
# rows of one plan run together up to this much plan cost (entries) in all: a run keeps
# 1-17 bytes per unit of cost per row (tracemalloc peaks, shipped and 40-cause networks,
# m = 8-15), so a chunk stays under about half a GiB; on the shipped network a question
# ranking's 80 rows (cost 2-4e5 each) still run as one batch
ROWS_COST = 2 ** 25
RESTART_COST = 2e5  # plans cheaper than this are not worth more planning
MAX_RESTARTS = 60
PLAN_UNIT = 4e4  # planning one order costs about as much as running this many entries
RESTART_SHARE = 0.1
# a plan run on many rows (a batch, or forward and backward passes) is worth more
# planning, in proportion: ``rows`` is rounded down to a power of two (the tier, part of
# the cache key, so that a given call always gets the same plan), up to 2**MAX_TIER.
# Measured on the shipped priors: the orders vary widely (with no evidence at all the
# two deterministic orders cost 3.8e5, the best of 300 random ones 1.1e5: 30 against
# 6 ms for 3 rows forward and backward), and the question ranking's batches of 80
# rows ran 1.2-3.4x faster on their tier's plan than on the single query's (median
# over cases, m = 0-12). The search past the single query's orders is capped: an order
# takes 2-5 ms to plan at m = 2-12, so 60 of them cost a first ranking 60-290 ms
# (and the test suite, which plans thousands of new patterns, 2.5 minutes); 12 keep
# most of the gain (20 orders came within 20 % of the best of 60 at m = 0-8)
MAX_TIER = 8
# a single query (tier 0) whose first order costs less than this is not planned a second
# time: at such sizes its time is Python's per step, not the plan's entries, and a
# second greedy order took about half as long as the query. Measured on the shipped priors
# (12 cases per m, plan cache and kept constants cleared before each call): a new
# presentation's `diagnose` 1.31-1.43x faster at m = 5-10, the warm query 1.00-1.28x;
# at 1e6 the warm query was up to 1.27x slower at m = 12-14
ONE_RULE_COST = 1e5
BATCH_RESTARTS = 12
_OFF = np.array([[1.0, 0.0]])  # a u variable no cause can turn on
_SWITCH = np.array([[[1.0, 0.0], [0.0, 1.0]]])  # a cause present turns its group's OR on
_PLANS: OrderedDict[tuple, Plan] = OrderedDict()  # (graph signature, pattern) -> plan
# (engine, plan, silent) -> the plan flattened with that engine's numbers (one cache for
# all engines, the cut ones included, so that its memory is bounded)
_CIRCUITS: OrderedDict[tuple, Circuit] = OrderedDict()
_LOCK = threading.Lock()


@dataclass(eq=False)
class Plan:
    """An elimination order compiled for one pattern of evidence.

    ``leaves`` lists the input factors: (kind, index, variables) with kind one of
    ``"cpt"`` (constant), ``"link"`` (constant; index = (present position, cause)),
    ``"unlinked"`` (constant; a present finding no cause produces), ``"risk"`` and
    ``"cause"`` (case data). ``ops`` are ("mul", a, b) or
    ("sum", a, variable) on slots; every slot's variables are in ``scopes``.
    """

    present: tuple[int, ...]
    masked: tuple[int, ...]
    groups: bool  # one OR variable per group of several causes (P(none of it))
    # index: an int (a cpt, risk factor or cause), or (present position, cause) for a link
    leaves: list[tuple[str, Any, tuple[int, ...]]]
    ops: list[tuple]
    scopes: list[tuple[int, ...]]
    constant: list[bool]
    root: int
    cost: float
    tier: int = 0  # planned for about 2**tier rows (see MAX_TIER)
    meta: list | None = None  # per op: subscripts and axes (filled when first run)
    consumer: dict | None = None  # slot -> the op that uses it
    fixed: list | None = None  # per slot: constant whatever the end weights
    reads: frozenset | None = None  # slots a plain backward pass reaches (_read_slots)


@dataclass(frozen=True, eq=False)
class SilentSums:
    """What the counterfactual scores of C cases that share their present findings
    need: ``present`` (m,) the present findings (indices into Structure.findings) in
    the order of the axes below, and

    - ``total`` (C,): P(e); ``causes`` (C, causes): P(cause present, e);
    - ``absent`` (C, m): P(e with finding f reported absent instead of present);
    - ``silent`` (C, m, causes): for each parent k of f, P(k present, e without f,
      and neither f's leak nor any link to f but k's fired), counted without k's own
      link (0 where k is not a parent of f). So P(k present, e with f absent) is
      (1 - s_kf) times it and P(k present, f present only through k's link, e) is
      s_kf times it.
    """

    total: np.ndarray
    causes: np.ndarray
    present: np.ndarray
    absent: np.ndarray
    silent: np.ndarray


@dataclass(frozen=True, eq=False)
class RemovalSums:
    """P(e) of C rows and its leave-one-out variants from one backward pass:
    ``without`` (C, m): P(e without the present finding ``present[t]``); ``risk``:
    risk node (with evidence) -> (C, states), whose dot product with a mask over the
    node's states is P(e with that mask instead of the node's evidence)."""

    total: np.ndarray
    present: np.ndarray
    without: np.ndarray
    risk: Mapping[str, np.ndarray]


_Method = TypeVar("_Method", bound=Callable[..., Any])


def _on_cut_engine(method: _Method) -> _Method:
    """Run an engine method that takes cases first on the engine cut to the states they
    leave each risk node (:meth:`EliminationEngine._conditioned`; on a cut engine the
    cut is itself)."""

    @functools.wraps(method)
    def run(self, cases, *args, **kwargs):
        engine, cases = self._conditioned(cases)
        return method(engine, cases, *args, **kwargs)

    return cast(_Method, run)


class EliminationEngine:
    """Compiled once per knowledge base; :meth:`sums` answers a batch of cases."""

    def __init__(self, structure: Structure):
        self.structure = structure
        self.n = len(structure.causes)
        risk = structure.risk_nodes
        self.r = len(risk)
        self._risk_index = {node.name: k for k, node in enumerate(risk)}
        self._cards = [len(node.states) for node in risk] + [2] * self.n
        self._var_of = {node.name: k for k, node in enumerate(risk)}
        self._var_of.update({c: self.r + i for i, c in enumerate(structure.cause_ids)})
        self._cpts = []
        for cause in structure.causes:
            scope = tuple(self._var_of[p] for p in cause.parents) + (
                self._var_of[cause.name],)
            table = np.stack([1.0 - cause.p_yes, cause.p_yes], axis=-1)
            self._cpts.append((scope, table[None]))
        self._priors = [node.prior[None] for node in risk]
        arrays = structure.finding_arrays
        self._s, self._q, self._keep = arrays.strength, arrays.q, arrays.keep
        index = {c: i for i, c in enumerate(structure.cause_ids)}
        self._links = [np.array(sorted({index[p] for p in f.parents}), dtype=np.intp)
                       for f in structure.findings]
        groups = [[index[c] for c in members] for members in structure.groups.values()]
        self._groups = groups
        self._multi = [g for g, members in enumerate(groups) if len(members) > 1]
        # the graph alone decides a plan: structures rebuilt with other numbers (the
        # sensitivity sweeps) share plans; constant slots hold this engine's numbers
        self._signature = (
            tuple(len(node.states) for node in risk),
            tuple(tuple(self._var_of[p] for p in c.parents) for c in structure.causes),
            tuple(map(tuple, self._links)))
        # per plan, the values of its constant slots, filled as queries compute them;
        # one cache bounded in bytes, shared with the engines cut from this one (keys
        # carry the cut: the same plan holds other numbers there)
        self._constants = BoundedCache(PLAN_CACHE, CONSTANTS_BYTES)
        self._cut: tuple = ()
        # the terms of flattened products by rule and scopes (see _circuit; bounded),
        # which depend on the variables' numbers of states too: one dict per such
        # tuple, shared with the engines cut from this one (a new presentation often
        # states a new set of risk answers, so its cut engine is new)
        self._terms_by_cards: dict[tuple, dict[tuple, np.ndarray]] = {}
        self._terms = self._terms_by_cards.setdefault(tuple(self._cards), {})
        # engines of this structure cut to the states the evidence leaves some risk
        # nodes (see _conditioned), by those states
        self._restricted: dict[tuple, EliminationEngine] = {}
        # on such an engine: risk node -> the states of the whole structure it keeps
        self.kept_states: Mapping[str, np.ndarray] = MappingProxyType({})

    # -- plans -------------------------------------------------------------------------
    def plan(self, present: Sequence[int], masked: Sequence[str] = (),
             groups: bool = True, rows: float = 1.0) -> Plan:
        """The (cached) plan for these present findings and risk nodes with evidence;
        ``groups`` adds one OR variable per group of several causes (see
        :meth:`_compile`). ``rows``: about how many rows the caller runs it on, times
        its passes (a backward pass counts as one more); more rows buy more planning
        (see MAX_TIER)."""
        key = (tuple(sorted(int(j) for j in present)),
               tuple(sorted(self._risk_index[name] for name in masked)),
               bool(groups and self._multi), _tier(rows))
        with _LOCK:
            plan = _PLANS.get((self._signature, key))
            if plan is not None:
                _PLANS.move_to_end((self._signature, key))
                return plan
        plan = self._best_plan(*key)
        with _LOCK:  # threads (Dask workers) share the cache
            _PLANS[self._signature, key] = plan
            if len(_PLANS) > PLAN_CACHE:
                _PLANS.popitem(last=False)
        return plan

    def _plan_for(self, present, masked, groups: bool, rows: float = 1.0) -> Plan:
        """With group probabilities asked for: the plan with the groups' OR variables
        (one backward pass reads them all) unless they widen it more than re-running
        the plan once per group would cost."""
        plan = self.plan(present, masked, groups, rows)
        if plan.groups and plan.cost > RESTART_COST:
            plain = self.plan(present, masked, False, rows)
            if plain.cost * (1 + len(self._multi)) < plan.cost:
                return plain
        return plan

    def _constant_values(self, plan: Plan) -> dict[int, np.ndarray]:
        return self._constants.growing(
            (self._cut, plan.present, plan.masked, plan.groups, plan.tier))

    def _conditioned(self, cases: Cases) -> tuple[EliminationEngine, Cases]:
        """This engine cut to the states of each risk node that some case's mask leaves
        (:meth:`Structure.restricted`), and the cases' masks cut alike; itself where
        no state is ruled out in every case. Only zero terms are left out, so every
        sum is the same, from smaller tables: a stated age band keeps one of its three
        states, a stated risk factor one of two (on the shipped priors with three risk
        factors stated, plans cost 3-10 times less at 4-12 present findings)."""
        keep = {}
        for name, mask in cases.masks.items():
            states = np.flatnonzero((mask != 0.0).any(axis=0))
            if 0 < len(states) < mask.shape[1]:  # none left: the evidence is impossible
                keep[name] = states
        if not keep:
            return self, cases
        key = tuple(sorted((name, states.tobytes()) for name, states in keep.items()))
        engine = self._restricted.get(key)
        if engine is None:
            engine = EliminationEngine(self.structure.restricted(keep))
            engine.kept_states = MappingProxyType(keep)
            engine._constants, engine._cut = self._constants, self._cut + key
            terms, cards = self._terms_by_cards, tuple(engine._cards)
            if cards not in terms and len(terms) > RESTRICTED_CACHE:
                # bounded: start again (cut engines keep the dicts they hold)
                terms.clear()
                terms[tuple(self._cards)] = self._terms
            engine._terms_by_cards = terms
            engine._terms = terms.setdefault(cards, {})
            if len(self._restricted) >= RESTRICTED_CACHE:  # bounded: start again
                self._restricted.clear()
            self._restricted[key] = engine
        masks = {name: mask[:, keep[name]] if name in keep else mask
                 for name, mask in cases.masks.items()}
        return engine, Cases(masks, cases.weight, cases.constant, cases.present, cases.steps)

    def cost(self, present: Sequence[int], masked: Sequence[str] = ()) -> float:
        """Estimated work per case (entries touched) for this pattern of evidence."""
        return self.plan(present, masked).cost

    def _best_plan(self, present: tuple[int, ...], masked: tuple[int, ...],
                   groups: bool, tier: int = 0) -> Plan:
        """The cheapest of several greedy orders: two deterministic rules (one for a
        single query whose first order is cheap, ``ONE_RULE_COST``), then, for an
        expensive pattern, randomised ones while planning costs less than about a
        tenth of running the best plan so far on its 2**tier rows (Kjaerulff 1990 on
        why greedy orders vary). A higher tier tries the same orders first, then more,
        so its plan is never dearer."""
        # two deterministic rules ("result" was best in 1 of 72 measured patterns, by
        # 0.01 %; it stays among the randomised restarts)
        plans = [self._compile(present, masked, groups, "size", None)]
        if tier or plans[0].cost >= ONE_RULE_COST:
            plans.append(self._compile(present, masked, groups, "sum", None))
        best = min(plans, key=lambda plan: plan.cost)  # the first of equal costs
        rng = np.random.default_rng(len(present) * 7919 + sum(present))
        tries, extra, work = 0, 0, 2.0 ** tier
        while True:
            single = (best.cost > RESTART_COST and tries < MAX_RESTARTS
                      and tries * PLAN_UNIT < best.cost * RESTART_SHARE)
            # a higher tier goes on past the single query's orders, at most
            # BATCH_RESTARTS more (its own first call pays for them)
            if not single:
                if not (tier and extra < BATCH_RESTARTS and best.cost * work > RESTART_COST
                        and tries * PLAN_UNIT < best.cost * work * RESTART_SHARE):
                    break
                extra += 1
            tries += 1
            plan = self._compile(present, masked, groups, ("size", "result", "sum")[tries % 3],
                                 rng)
            if plan.cost < best.cost:
                best = plan
        best.tier = tier
        return best

    def _compile(self, present: tuple[int, ...], masked: tuple[int, ...], groups: bool,
                 rule: str, rng: np.random.Generator | None) -> Plan:
        """One greedy elimination order. With ``groups``, each group of several causes
        gets an OR variable of its own ("some cause of the group is present", links of
        strength 1, no leak) summed out with weights (1, 1): it changes no answer, and
        the derivative with respect to its "off" weight, read in the backward pass, is
        P(no cause of the group, e), for every group at once."""
        extra = len(present) + (len(self._multi) if groups else 0)
        cards = list(self._cards) + [2] * extra
        is_u = [False] * (self.r + self.n) + [True] * extra
        leaves: list[tuple[str, object, tuple[int, ...]]] = []
        scopes: list[tuple[int, ...]] = []
        constant: list[bool] = []

        def leaf(kind, index, scope, const):
            leaves.append((kind, index, scope))
            scopes.append(scope)
            constant.append(const)

        for k in range(self.r):
            leaf("risk", k, (k,), k not in masked)
        for i, (scope, _) in enumerate(self._cpts):
            leaf("cpt", i, scope, True)
        for i in range(self.n):
            leaf("cause", i, (self.r + i,), False)
        for t, j in enumerate(present):
            u = self.r + self.n + t
            for i in self._links[j]:
                leaf("link", (t, int(i)), (self.r + int(i), u), True)
            if not len(self._links[j]):
                # no cause produces it: u stays off, and the finding weighs its leak
                leaf("unlinked", t, (u,), True)
        if groups:
            for k, g in enumerate(self._multi):
                u = self.r + self.n + len(present) + k
                for i in self._groups[g]:
                    # not folded as a constant: the backward pass must reach its sum
                    leaf("group", k, (self.r + i, u), False)

        live = set(range(len(scopes)))
        ops: list[tuple] = []
        cost = 0.0
        remaining = set(range(len(cards)))
        holders: dict[int, set[int]] = {v: set() for v in remaining}
        for slot, scope in enumerate(scopes):
            for x in scope:
                holders[x].add(slot)

        def size(scope) -> float:
            return float(math.prod(cards[x] for x in scope))

        # the scopes of the factors as bit sets, and the variables grouped by number of
        # states: the greedy rule's estimates (most of the planning time, redone for
        # every variable a step touches) are then a few integer operations per factor
        # instead of a loop over every variable of every factor. Most variables have
        # two states: counted by one shift, the others by number of states
        twos = 0
        others: list[tuple[int, int]] = []
        for c in sorted(set(cards)):
            members = sum(1 << x for x, card in enumerate(cards) if card == c)
            if c == 2:
                twos = members
            elif c != 1:
                others.append((c, members))
        u_bits = sum(1 << x for x, u in enumerate(is_u) if u)
        bits: dict[int, int] = {}
        sizes: dict[int, float] = {}

        def track(f: int) -> None:
            bits[f] = sum(1 << x for x in scopes[f])
            sizes[f] = size(scopes[f])

        for f in range(len(scopes)):
            track(f)

        def estimate(v):
            seen = twice = 0
            for f in holders[v]:
                b = bits[f]
                twice |= seen & b
                seen |= b
            twice &= u_bits  # u variables held by two factors or more: three states
            alone = seen & ~twice
            whole = 3 ** twice.bit_count() << (alone & twos).bit_count()
            for c, members in others:
                whole *= c ** (alone & members).bit_count()
            big = float(whole)  # exact: as the product of the states, one by one
            out = big / (3.0 if is_u[v] and len(holders[v]) > 1 else cards[v])
            if rule == "result":
                return (out, big, v)
            if rule == "sum":
                return (big + out - sum(sizes[f] for f in holders[v]), out, v)
            return (big + out, out, v)

        keys = {v: estimate(v) for v in remaining}

        def add(scope, const):
            scopes.append(scope)
            constant.append(const)
            slot = len(scopes) - 1
            track(slot)
            for x in scope:
                holders[x].add(slot)
            return slot

        def drop(slot):
            for x in scopes[slot]:
                holders[x].discard(slot)

        while remaining:
            if rng is None:
                v = min(remaining, key=keys.__getitem__)
            else:  # one of the three best, the best most often
                ranked = sorted(remaining, key=keys.__getitem__)[:3]
                v = ranked[min(int(rng.exponential(0.7)), len(ranked) - 1)]
            remaining.discard(v)
            bucket = sorted(holders[v], key=lambda f: (not constant[f], sizes[f]))
            touched = set().union(*(scopes[f] for f in bucket)) if bucket else set()
            if bucket:
                acc = bucket[0]
                drop(acc)
                live.discard(acc)
                for k, f in enumerate(bucket[1:], start=2):
                    drop(f)
                    live.discard(f)
                    scope = scopes[acc] + tuple(x for x in scopes[f] if x not in scopes[acc])
                    shared = [x for x in scopes[f] if x in scopes[acc] and is_u[x]]
                    cost += size(scope) * 1.5 ** len(shared)
                    if k == len(bucket) and not is_u[v]:
                        # the last product sums v out in the same einsum
                        ops.append(("mul", acc, f, v))
                        acc = add(tuple(x for x in scope if x != v), constant[acc] and constant[f])
                        live.add(acc)
                        break
                    ops.append(("mul", acc, f))
                    scopes.append(scope)
                    constant.append(constant[acc] and constant[f])
                    acc = len(scopes) - 1
                else:
                    ops.append(("sum", acc, v))
                    cost += size(scopes[acc])
                    live.add(add(tuple(x for x in scopes[acc] if x != v), constant[acc]))
            for x in touched - {v}:
                keys[x] = estimate(x)
        # the survivors are scalars (one per connected piece): multiply them together
        rest = sorted(live)
        acc = rest[0]
        for f in rest[1:]:
            ops.append(("mul", acc, f))
            scopes.append(())
            constant.append(constant[acc] and constant[f])
            acc = len(scopes) - 1
        return Plan(present, masked, groups, leaves, ops, scopes, constant, acc, cost)

    # -- execution ---------------------------------------------------------------------
    def _leaf_values(self, plan: Plan, cases: Cases, cause_unary: np.ndarray) -> list:
        values: list = [None] * len(plan.scopes)
        risk = self.structure.risk_nodes
        known = self._constant_values(plan)
        for slot, (kind, index, _) in enumerate(plan.leaves):
            if plan.constant[slot] and slot in known:
                values[slot] = known[slot]
            elif kind == "risk":
                prior = self._priors[index]
                name = risk[index].name
                values[slot] = prior * cases.masks[name] if name in cases.masks and \
                    not plan.constant[slot] else prior
            elif kind == "cpt":
                values[slot] = self._cpts[index][1]
            elif kind == "group":
                values[slot] = _SWITCH
            elif kind == "cause":
                values[slot] = cause_unary[..., index, :]
            elif kind == "unlinked":
                values[slot] = _OFF
            else:
                t, i = index
                j = plan.present[t]
                values[slot] = np.array([[[1.0, 0.0], [self._q[j, i], self._s[j, i]]]])
        return values

    def _meta(self, plan: Plan) -> list[tuple]:
        """Per op, everything that does not depend on the numbers: einsum subscripts and
        the (negative) axes of the shared u variables; computed once per plan."""
        if plan.meta is not None:
            return plan.meta
        u0 = self.r + self.n
        first = len(plan.leaves)
        meta: list[tuple[Any, ...]] = []
        for k, op in enumerate(plan.ops):
            if op[0] == "mul":
                a, b = op[1], op[2]
                meta.append(("mul", a, b, *_product_meta(
                    plan.scopes[a], plan.scopes[b], plan.scopes[first + k], u0)))
            else:
                _, a, v = op
                scope = plan.scopes[a]
                axis = scope.index(v) - len(scope)
                names = _LETTERS[:len(scope)]
                kept = names.replace(names[scope.index(v)], "")
                mine = names[scope.index(v)]
                meta.append(("sum", a, axis, v - u0 if v >= u0 else None,
                             2 if v >= u0 else self._cards[v],
                             f"...{names},...{mine}->...{kept}", len(scope) + axis,
                             f"...{names},...{kept}->...{mine}"))
        plan.meta = meta
        return meta

    def _weights(self, plan: Plan, t: int | None, card: int, ends) -> np.ndarray:
        """How a variable is summed out: plainly, or for a present finding's u by its
        leak (u off) and 1 (u on); ``ends`` (cases, m, 2) replaces the latter per case
        (the weights (1, 1) take a finding out of the evidence)."""
        if t is None or t >= len(plan.present):  # a plain sum, or a group's OR
            return np.ones(card)
        if ends is not None:
            return ends[:, t]
        return np.array([1.0 - self._keep[plan.present[t]], 1.0])

    def _forward(self, plan: Plan, values: list, keep: bool, only=None, base=None,
                 ends=None):
        """Run the ops; returns the root values and, with ``keep``, the expanded operands
        of every product for the backward pass. ``only`` restricts the run to some ops
        (the others' results are taken from ``base``, another run's values)."""
        first = len(plan.leaves)
        saved = {}
        known = self._constant_values(plan)
        # per-case end weights make the ops that weigh a present finding, and those
        # above them, depend on the batch: only the others use the cache then
        constant = plan.constant if ends is None else self._fixed(plan)
        meta = self._meta(plan)
        for k in (range(len(plan.ops)) if only is None else only):
            out = first + k
            if constant[out] and out in known:
                values[out] = known[out]
                continue
            m = meta[k]
            if m[0] == "mul":
                a = values[m[1]] if values[m[1]] is not None else base[m[1]]
                b = values[m[2]] if values[m[2]] is not None else base[m[2]]
                result, expanded = _or_product(a, b, m[3], m[4])
                if keep:
                    saved[out] = expanded
            else:
                a = values[m[1]] if values[m[1]] is not None else base[m[1]]
                if m[3] is None:
                    result = a.sum(axis=m[2])
                else:
                    result = _contract(m[5], a, self._weights(plan, m[3], m[4], ends))
            values[out] = result
            if constant[out]:
                known[out] = result
        return values[plan.root], saved

    def _fixed(self, plan: Plan) -> list[bool]:
        """Per slot: constant (:attr:`Plan.constant`) and not below a present finding's
        u-sum, so the same whatever the end weights."""
        if plan.fixed is None:
            fixed = list(plan.constant[:len(plan.leaves)])
            m_present = len(plan.present)
            for op in self._meta(plan):
                if op[0] == "mul":
                    fixed.append(fixed[op[1]] and fixed[op[2]])
                else:
                    fixed.append(fixed[op[1]] and not (op[3] is not None
                                                       and op[3] < m_present))
            plan.fixed = [c and f for c, f in zip(plan.constant, fixed)]
        return plan.fixed

    def _backward(self, plan: Plan, values: list, saved: dict, batch: int,
                  ends=None, wanted: frozenset = frozenset(),
                  record: dict | None = None, delta: bool = False,
                  reads: dict | None = None,
                  only: frozenset | None = None) -> dict[int, np.ndarray]:
        """Derivatives of the root with respect to every slot holding case data, and to
        the slots in ``wanted`` (constant or not: their derivatives are per case);
        those of the op outputs in ``record`` are stored there.

        With ``delta``, the derivative along each u axis is held as (at off, at on
        minus at off) instead of (at off, at on), which keeps every term positive (see
        :func:`_or_product_grad_delta`); at a present finding's link that difference
        is P(cause, e, no other link to the finding and not its leak fired) per unit
        of the link. Not with ``ends`` (weights (keep, 0) would make it negative).

        ``only``, if given: the slots whose derivatives are taken at all; an operand
        outside it gets none, nor does anything below it."""
        first = len(plan.leaves)
        meta = self._meta(plan)
        grads: dict[int, np.ndarray] = {plan.root: np.ones((batch,))}
        m_present = len(plan.present)
        # group OR variable -> P(its "off" state, e), read on the way; the caller's
        # dict, not the engine's, as threads share the engine
        reads = {} if reads is None else reads
        # constant slots hold the same values at every query of the plan (not with
        # ``ends``, which change some of them: then nothing is kept)
        known = self._constant_values(plan) if ends is None else {}
        for k in range(len(plan.ops) - 1, -1, -1):
            out = first + k
            g = grads.pop(out, None)
            if g is None or (plan.constant[out] and out not in wanted):
                continue
            if record is not None and out in record:
                record[out] = g
            m = meta[k]
            if m[0] == "mul":
                a, b = m[1], m[2]
                want_a = (not plan.constant[a] or a in wanted) and (only is None or a in only)
                want_b = (not plan.constant[b] or b in wanted) and (only is None or b in only)
                if delta:
                    ga, gb = _or_product_grad_delta(
                        g, self._delta_operand(plan, known, values, b, m, 0) if want_a
                        else None,
                        self._delta_operand(plan, known, values, a, m, 1) if want_b
                        else None, m)
                else:
                    expanded = saved.get(out)
                    if expanded is None:  # a constant op, taken from the cache
                        expanded = (*_expand(values[a], values[b], m[3]), m[3])
                    ga, gb = _or_product_grad(g, expanded, m[5], m[6], want_a, want_b)
                if ga is not None:
                    grads[a] = ga
                if gb is not None:
                    grads[b] = gb
            else:
                if m[3] is not None and m[3] >= m_present:
                    reads[m[3] - m_present] = self._u_parts(plan, k, values, g,
                                                                  delta)[..., 0]
                if only is not None and m[1] not in only:
                    continue
                weights = self._weights(plan, m[3], m[4], ends)
                if delta and m[3] is not None:  # a u variable: (off, on - off)
                    weights = np.array([weights[0], weights[1] - weights[0]])
                axis = m[2]
                shape = (-1,) + (1,) * (-axis - 1)
                if weights.ndim == 2:  # per case: batch first, then the leading axes
                    shape = (len(weights),) + (1,) * m[6] + shape
                grads[m[1]] = np.expand_dims(g, axis) * weights.reshape(shape)
        return grads

    @staticmethod
    def _consumers(plan: Plan) -> dict[int, int]:
        """Slot -> the op that uses it (each slot feeds one op; the root none)."""
        consumer = plan.consumer
        if consumer is None:
            consumer = {}
            for k, op in enumerate(plan.ops):
                for slot in op[1:3] if op[0] == "mul" else op[1:2]:
                    consumer[slot] = k
            plan.consumer = consumer
        return consumer

    def _upwards(self, plan: Plan, slots: Sequence[int]) -> frozenset[int]:
        """These slots and every slot from them up to the root."""
        first = len(plan.leaves)
        consumer = self._consumers(plan)
        out: set[int] = set()
        for slot in slots:
            while slot not in out:
                out.add(slot)
                if slot not in consumer:
                    break
                slot = first + consumer[slot]
        return frozenset(out)

    def _read_slots(self, plan: Plan) -> frozenset[int]:
        """The slots a plain backward pass must reach: every slot from a cause leaf or a
        group's OR sum up to the root (a risk leaf that holds case data, a batch's
        masks, needs no derivative of its own)."""
        if plan.reads is None:
            first = len(plan.leaves)
            m_present = len(plan.present)
            causes = [slot for slot, leaf in enumerate(plan.leaves) if leaf[0] == "cause"]
            groups = [first + k for k, m in enumerate(self._meta(plan))
                      if m[0] == "sum" and m[3] is not None and m[3] >= m_present]
            plan.reads = self._upwards(plan, causes + groups)
        return plan.reads

    def _ancestors(self, plan: Plan, leaves: Sequence[int]) -> list[int]:
        """The ops whose result depends on any of these slots, in order."""
        first = len(plan.leaves)
        consumer = self._consumers(plan)
        ops: set[int] = set()
        for slot in leaves:
            while slot in consumer:
                k = consumer[slot]
                if k in ops:
                    break
                ops.add(k)
                slot = first + k
        return sorted(ops)

    def sums(self, cases: Cases, groups: bool = True) -> Sums:
        """Unnormalised answers for every case; cases may differ in which findings are
        present (they are grouped by pattern, one plan and one batch per pattern)."""
        count = len(cases)
        total = np.empty(count)
        causes = np.empty((count, self.n))
        none = np.full((count, len(self._groups)), np.nan)
        error = np.empty(count)
        present = np.sort(cases.present, axis=1)
        patterns: dict[tuple, list[int]] = {}
        for row, key in enumerate(map(tuple, present)):
            patterns.setdefault(key, []).append(row)
        masked = tuple(sorted(cases.masks))
        for key, members in patterns.items():
            rows = np.array(members, dtype=np.intp)
            engine, part = self._conditioned(cases if len(rows) == count
                                             else cases.take(rows))
            # a single query runs flattened where its plan is cheap
            got = engine._chunked(engine._plan_for(key, masked, groups, len(rows)), part,
                                  groups, flatten=count == 1)
            total[rows], causes[rows], error[rows] = got.total, got.causes, got.error
            if groups:
                none[rows] = got.none
        return Sums(total, causes, none, error)

    def posterior(self, evidence: Mapping[str, bool]) -> Posterior:
        """Exact posteriors for one case of checked evidence."""
        parts = self.structure.split_evidence(evidence)
        return self.sums(Cases.from_parts([parts], self.structure)).first()

    @_on_cut_engine
    def pattern_sums(self, cases: Cases, groups: bool = True,
                     ends: np.ndarray | None = None) -> Sums:
        """:meth:`sums` for cases that share their present findings, with optional
        per-case weights of each present finding's two states (``ends``, (cases, m, 2);
        default (leak, 1); (1, 1) answers as if that finding had not been reported)."""
        plan = self._plan_for(np.sort(cases.present[0]), tuple(sorted(cases.masks)), groups,
                              len(cases))
        if ends is not None:  # the plan orders the present findings by index
            ends = ends[:, np.argsort(cases.present[0], kind="stable")]
        return self._chunked(plan, cases, groups, ends)

    def _chunked(self, plan: Plan, cases: Cases, groups: bool, ends=None,
                 flatten: bool = False) -> Sums:
        """:meth:`_pattern_sums` (without silent sums) in chunks of rows of at most
        ``ROWS_COST`` plan cost in all: a large batch of a large plan held everything
        at once (a question ranking at 15 present findings on a network of 40 causes
        asked for 23 GiB and was killed). ``flatten``: a single query (see
        :meth:`_pattern_sums`)."""
        size = max(1, int(ROWS_COST // max(plan.cost, 1.0)))
        if len(cases) <= size:
            return Sums(*self._pattern_sums(plan, cases, groups, ends, flatten=flatten)[:4])
        parts = []
        for start in range(0, len(cases), size):
            rows = np.arange(start, min(start + size, len(cases)))
            parts.append(Sums(*self._pattern_sums(plan, cases.take(rows), groups,
                                                  None if ends is None else ends[rows])[:4]))
        return Sums.join(parts)

    @staticmethod
    def _delta_operand(plan: Plan, known: dict, values: list, slot: int, meta: tuple,
                       side: int) -> np.ndarray:
        """The operand ``slot`` of a product as the other side's derivative reads it in
        the delta basis (:func:`_delta_other`; ``side``: 0 when it is b, read for a's
        derivative, 1 when it is a). An operand that holds no case data is the same at
        every query of the plan: its reading is kept with the plan's constants (keys
        ("delta", slot, side); never written to)."""
        if plan.constant[slot]:
            key = ("delta", slot, side)
            kept = known.get(key)
            if kept is None:
                kept = known[key] = _delta_other(values[slot], meta[8 - side], meta[3],
                                                 side)
            return kept
        return _delta_other(values[slot], meta[8 - side], meta[3], side)

    def _u_parts(self, plan: Plan, k: int, values: list, g: np.ndarray,
                 delta: bool) -> np.ndarray:
        """The root split by the state of the u variable op k sums out: its operand
        times the derivative ``g`` of its result, summed over everything else (with
        ``delta``, g holds its other u axes as (off, on - off), and the operand is
        read in the matching basis, (off + on, on))."""
        m = self._meta(plan)[k]
        operand = values[m[1]]
        if delta:
            scope = plan.scopes[m[1]]
            u0 = self.r + self.n
            operand = _delta_basis(operand, [j - len(scope) for j, x in enumerate(scope)
                                             if x >= u0 and j - len(scope) != m[2]])
        return _contract(m[7], operand, g)

    def silent_sums(self, cases: Cases) -> SilentSums:
        """P(e), P(cause, e) and, per present finding f, the sums a counterfactual
        score needs (see :class:`SilentSums`), for cases that share their present
        findings, from one forward and one backward pass.

        P(e) is linear in the two end weights of f's u variable, so P(e with f
        reported absent) is keep_f times the derivative of P(e) with respect to the
        "off" weight. The silent sums are, at each of f's links, the derivative at
        "k's switch on" minus the one at "off" (only the worlds where no other switch
        and not the leak turned f on differ between the two); the backward pass holds
        every u axis in that basis (``delta``), where the difference is a sum of
        positive terms, not a difference of two computed numbers.
        """
        return self.sums_with_silent(cases, groups=False)[1]

    @_on_cut_engine
    def sums_with_silent(self, cases: Cases, groups: bool = True) -> tuple[Sums, SilentSums]:
        """:meth:`sums` and :meth:`silent_sums` of cases that share their present
        findings, from the same passes."""
        # one query's backward pass does not count as rows here: a single diagnosis
        # is paid in Python steps, not in the plan's entries, so more planning only
        # slows its first call
        plan = self._plan_for(np.sort(cases.present[0]), tuple(sorted(cases.masks)), groups,
                              len(cases))
        total, causes, none, error, silent = self._pattern_sums(
            plan, cases, groups, silent=True, flatten=len(cases) == 1)
        return Sums(total, causes, none, error), silent

    def _silent_wanted(self, plan: Plan) -> tuple[frozenset, dict[int, int], list[int]]:
        """The slots whose derivatives the silent sums need (every link of a present
        finding and its u-sum, so every slot from them up to the root), the u-sum op
        of each present position, and the link slots."""
        meta = self._meta(plan)
        first = len(plan.leaves)
        m_present = len(plan.present)
        ends = {m[3]: k for k, m in enumerate(meta)
                if m[0] == "sum" and m[3] is not None and m[3] < m_present}
        links = [slot for slot, leaf in enumerate(plan.leaves) if leaf[0] == "link"]
        return self._upwards(plan, links + [first + k for k in ends.values()]), ends, links

    @_on_cut_engine
    def pattern_roots(self, cases: Cases, unary: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """P(e) alone (a forward pass, no derivatives) for cases that share their
        present findings, under L sets of cause weights ``unary`` (L, cases, causes, 2)
        and the present findings' end weights ``ends`` (cases, m, 2) (see
        :meth:`pattern_sums`): (L, cases)."""
        plan = self._plan_for(np.sort(cases.present[0]), tuple(sorted(cases.masks)), False,
                              unary.shape[0] * len(cases))
        ends = ends[:, np.argsort(cases.present[0], kind="stable")]
        values = self._leaf_values(plan, cases, unary)
        root, _ = self._forward(plan, values, keep=False, ends=ends)
        return np.broadcast_to(root, unary.shape[:2]) * cases.constant

    def removal_sums(self, cases: Cases, unary: np.ndarray) -> RemovalSums:
        """P(e) for cases that share their present findings, with the cause weights
        ``unary`` (cases, causes, 2) (a row with a cause's "absent" weight 0 gives
        P(cause, e)), and from the same backward pass the answers with one reported
        item taken out (see :class:`RemovalSums`): P(e) is linear in a present
        finding's end weights and in each risk node's prior times its mask."""
        plan = self._plan_for(np.sort(cases.present[0]), tuple(sorted(cases.masks)), False,
                              2 * len(unary))  # forward and backward
        count = len(unary)
        m_present = len(plan.present)
        first = len(plan.leaves)
        meta = self._meta(plan)
        values = self._leaf_values(plan, cases, unary)
        root, saved = self._forward(plan, values, keep=True)
        total = np.broadcast_to(root, (count,)) * cases.constant
        ends = {m[3]: k for k, m in enumerate(meta)
                if m[0] == "sum" and m[3] is not None and m[3] < m_present}
        wanted = self._upwards(plan, [first + k for k in ends.values()])
        record: dict[int, Any] = dict.fromkeys(first + k for k in ends.values())
        # only the u-sums and the risk leaves are read: the derivatives below them
        # alone (not the causes') are taken (1.06-1.09x an explanation at m = 3-12)
        risk_slots = [slot for slot, leaf in enumerate(plan.leaves) if leaf[0] == "risk"]
        grads = self._backward(plan, values, saved, count, wanted=wanted, record=record,
                               only=wanted | self._upwards(plan, risk_slots))
        without = np.empty((count, m_present))
        for t, k in ends.items():  # weights (1, 1): P(e) + keep_f * (the u-off part)
            part = self._u_parts(plan, k, values, record[first + k], False)[..., 0]
            without[:, t] = total + self._keep[plan.present[t]] * np.broadcast_to(
                part, (count,)) * cases.constant
        risk = {}
        for slot, (kind, index, _) in enumerate(plan.leaves):
            if kind == "risk" and slot in grads:
                node = self.structure.risk_nodes[index]
                risk[node.name] = (np.broadcast_to(grads[slot], (count, len(node.states)))
                                   * self._priors[index] * cases.constant[:, None])
        return RemovalSums(total, np.array(plan.present, dtype=np.intp), without, risk)

    def _circuit_for(self, plan: Plan, cases: Cases, unary: np.ndarray,
                     silent: bool) -> Circuit | None:
        """The plan flattened (:class:`~._circuit.Circuit`) with this engine's numbers,
        for a single query on a plan cheaper than ``CIRCUIT_COST`` (kept in
        ``_CIRCUITS``); None for a dearer plan. Which it is depends on the plan alone,
        so that a query gives the same bits at every call."""
        if plan.cost >= CIRCUIT_COST:
            return None
        key = (self, plan, silent)
        with _LOCK:
            circuit = _CIRCUITS.get(key)
            if circuit is not None:
                _CIRCUITS.move_to_end(key)
                return circuit
        values = self._leaf_values(plan, cases, unary)[:len(plan.leaves)]
        if len(self._terms) > TERMS_CACHE:  # bounded: start again
            self._terms.clear()
        meta = self._meta(plan)
        weights = {k: self._weights(plan, m[3], m[4], None)
                   for k, m in enumerate(meta) if m[0] == "sum"}
        extra = len(plan.present) + (len(self._multi) if plan.groups else 0)
        causes = [slot for _, slot in sorted((leaf[1], slot) for slot, leaf
                                             in enumerate(plan.leaves) if leaf[0] == "cause")]
        circuit = Circuit(plan, values, list(self._cards) + [2] * extra, self.r + self.n,
                          weights, self._silent_wanted(plan)[0] if silent else frozenset(),
                          silent, leading=causes, known=self._terms)
        # where a query's data go and its answers are read (see _run_circuit)
        m_present = len(plan.present)
        risk = [(slot, index, self.structure.risk_nodes[index].name)
                for slot, (kind, index, _) in enumerate(plan.leaves)
                if kind == "risk" and not plan.constant[slot]]
        weight = {meta[k][3]: int(circuit.pos[slot])
                  for k, slot in circuit.weight_slots.items()}
        groups = sorted(t - m_present for t in weight if t >= m_present)
        absent = [t for t in range(m_present) if t in weight]  # all, for the silent sums
        links = [(leaf[1], int(circuit.pos[slot]) + 3)  # entry (cause present, u on)
                 for slot, leaf in enumerate(plan.leaves) if leaf[0] == "link"]
        circuit.readout = (
            risk, (groups, [weight[m_present + k] for k in groups]),
            (np.array(absent, dtype=np.intp),
             np.array([weight[t] for t in absent], dtype=np.intp),
             np.array([self._keep[plan.present[t]] for t in absent])),
            (np.array([t for (t, _), _ in links], dtype=np.intp),
             np.array([i for (_, i), _ in links], dtype=np.intp),
             np.array([at for _, at in links], dtype=np.intp)))
        with _LOCK:
            _CIRCUITS[key] = circuit
            kept = sum(c.nbytes for c in _CIRCUITS.values())
            while len(_CIRCUITS) > 1 and (len(_CIRCUITS) > CIRCUIT_CACHE
                                          or kept > CIRCUIT_BYTES):
                kept -= _CIRCUITS.popitem(last=False)[1].nbytes
        return circuit

    def _run_circuit(self, plan: Plan, circuit: Circuit, cases: Cases, unary: np.ndarray,
                     silent: bool, reads: dict):
        """:meth:`_pattern_sums`' root, the derivatives of the causes (1, causes, 2),
        the sums with each present finding absent and (with ``silent``) the silent
        sums (else zeros) for one query, from the flattened plan; the groups' "none"
        go to ``reads`` (group -> P(none of it, e))."""
        risk, (groups, group_at), (absent_t, absent_at, keep), (link_t, link_i, link_at) = \
            circuit.readout
        fill = [(slot, self._priors[index] * cases.masks[name]) for slot, index, name in risk]
        v, g = circuit.run(unary[0], fill)
        for k, at in zip(groups, group_at):  # P(no cause of the group, e)
            reads[k] = g[at:at + 1]
        absent = np.zeros((1, len(plan.present)))  # keep_f * (the u-off part of f's u-sum)
        absent[0, absent_t] = keep * g[absent_at]
        by_link = np.zeros((1, len(plan.present), self.n))
        if silent:  # (cause, u_f): at the cause present, "on - off"
            by_link[0, link_t, link_i] = g[link_at]
        return (v[circuit.root:circuit.root + 1], g[:2 * self.n].reshape(1, self.n, 2),
                absent, by_link)

    def _run_ops(self, plan: Plan, cases: Cases, values: list, silent: bool, ends,
                 reads: dict):
        """:meth:`_run_circuit` op by op, for any number of rows: the root, the
        derivatives of the causes (C, causes, 2), and with ``silent`` the sums with
        each present finding absent and the silent sums (else zeros)."""
        count = len(cases)
        first = len(plan.leaves)
        m_present = len(plan.present)
        # the silent sums' backward pass needs the operands themselves, not the
        # expanded ones of the plain backward pass
        root, saved = self._forward(plan, values, keep=not silent, ends=ends)
        absent = np.zeros((count, m_present))
        by_link = np.zeros((count, m_present, self.n))
        if silent:
            wanted, u_sums, links = self._silent_wanted(plan)
            record: dict[int, Any] = dict.fromkeys(first + k for k in u_sums.values())
            grads = self._backward(plan, values, saved, count, wanted=wanted,
                                   record=record, delta=True, reads=reads)
            for t, k in u_sums.items():  # keep_f * (the u-off part of f's u-sum)
                part = self._u_parts(plan, k, values, record[first + k], True)[..., 0]
                absent[:, t] = self._keep[plan.present[t]] * np.broadcast_to(part, (count,))
            for slot in links:  # (cause, u_f): at the cause present, "on - off"
                t, i = plan.leaves[slot][1]
                by_link[:, t, i] = np.broadcast_to(grads[slot][..., 1, 1], (count,))
        else:
            grads = self._backward(plan, values, saved, count, ends, reads=reads,
                                   only=self._read_slots(plan))
        derivative = np.zeros((count, self.n, 2))
        for slot, (kind, index, _) in enumerate(plan.leaves):
            if kind == "cause" and slot in grads:
                derivative[:, index] = grads[slot].reshape(count, 2)
        return root, derivative, absent, by_link

    def _pattern_sums(self, plan: Plan, cases: Cases, groups: bool, ends=None,
                      silent: bool = False, flatten: bool = False):
        """(total, causes, none, error) of cases on one plan, and with ``silent`` (no
        ``ends``) their :class:`SilentSums` too (else None). ``flatten``: a single
        query (one case, asked alone), which runs the plan flattened where it is cheap
        (see _circuit); a batch's rows never do (each new pattern would be flattened
        for one run, and kept)."""
        count = len(cases)
        unary = np.ones((count, self.n, 2))
        unary[:, :, 1] = cases.weight
        reads: dict[int, np.ndarray] = {}
        # a single query on a cheap plan runs flattened (see _circuit), unless the
        # groups need the variants' forward pass below
        circuit = (self._circuit_for(plan, cases, unary, silent)
                   if flatten and count == 1 and ends is None
                   and not (groups and self._multi and not plan.groups) else None)
        values: list = []
        if circuit is not None:
            root, derivative, absent, by_link = self._run_circuit(plan, circuit, cases,
                                                                  unary, silent, reads)
        else:
            values = self._leaf_values(plan, cases, unary)
            root, derivative, absent, by_link = self._run_ops(plan, cases, values, silent,
                                                              ends, reads)
        total = np.broadcast_to(root, (count,)) * cases.constant
        joint = unary * derivative
        joint *= cases.constant[:, None, None]
        none = None
        if groups:
            none = np.empty((count, len(self._groups)))
            for g, members in enumerate(self._groups):
                if len(members) == 1:
                    none[:, g] = joint[:, members[0], 0]
            if plan.groups:  # read in the backward pass, every group at once
                for k, g in enumerate(self._multi):
                    none[:, g] = np.broadcast_to(reads[k], (count,)) * cases.constant
            elif self._multi:
                # each group's causes forced absent, as a leading axis of variants; only
                # the ops downstream of those causes are run again
                variants: list = [None] * len(plan.scopes)
                slots = []
                cause_slot = {leaf[1]: slot for slot, leaf in enumerate(plan.leaves)
                              if leaf[0] == "cause"}
                for i in {i for g in self._multi for i in self._groups[g]}:
                    forced = np.broadcast_to(unary[:, i], (len(self._multi), count, 2)).copy()
                    for k, g in enumerate(self._multi):
                        if i in self._groups[g]:
                            forced[k, :, 1] = 0.0
                    variants[cause_slot[i]] = forced
                    slots.append(cause_slot[i])
                out, _ = self._forward(plan, variants, keep=False,
                                       only=self._ancestors(plan, slots), base=values,
                                       ends=ends)
                none[:, self._multi] = (np.broadcast_to(out, (len(self._multi), count))
                                        * cases.constant).T
        # every term is positive: the relative error is at most the sequential steps
        # (products, sums over at most max(cards) terms per step, the backward pass;
        # flattened, the terms added per entry at each level)
        steps = (3 * len(plan.ops) if circuit is None else circuit.steps) \
            + 3 * len(plan.leaves) + cases.steps + 8
        error = steps * EPS * total
        extra = None
        if silent:
            scale = cases.constant
            extra = SilentSums(total, joint[:, :, 1], np.array(plan.present, dtype=np.intp),
                               absent * scale[:, None], by_link * scale[:, None, None])
        return total, joint[:, :, 1], none, error, extra


def brute_force(structure: Structure, evidence: Mapping[str, bool]):
    """P(e), P(cause, e) and P(no cause of group, e) by summing over every configuration
    of every node: the slowest possible reference, for tests on small networks."""
    parts = structure.split_evidence(evidence)
    risk = structure.risk_nodes
    names = [node.name for node in risk] + list(structure.cause_ids)
    cards = [len(node.states) for node in risk] + [2] * len(structure.causes)
    position = {name: k for k, name in enumerate(names)}
    total = 0.0
    causes = np.zeros(len(structure.causes))
    none = np.zeros(len(structure.groups))
    index = {c: i for i, c in enumerate(structure.cause_ids)}
    groups = [[index[c] for c in members] for members in structure.groups.values()]
    for config in itertools.product(*map(range, cards)):
        p = parts.constant
        for k, node in enumerate(risk):
            p *= node.prior[config[k]] * parts.masks.get(node.name, np.ones(cards[k]))[config[k]]
        for i, cause in enumerate(structure.causes):
            state = config[len(risk) + i]
            p_yes = cause.p_yes[tuple(config[position[x]] for x in cause.parents)]
            p *= p_yes if state else 1.0 - p_yes
            if state:
                p *= parts.weight[i]
        for finding in parts.present:
            absent = 1.0 - finding.leak
            for parent, s in zip(finding.parents, finding.strengths):
                if config[position[parent]]:
                    absent *= 1.0 - s
            p *= 1.0 - absent
        total += p
        on = np.array(config[len(risk):], dtype=bool)
        causes += p * on
        none += p * np.array([not on[g].any() for g in groups])
    return total, causes, none


def _tier(rows: float) -> int:
    """The planning tier of a plan run on about ``rows`` rows (see MAX_TIER)."""
    return 0 if rows < 2 else min(int(math.log2(rows)), MAX_TIER)
