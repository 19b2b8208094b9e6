"""Inclusion-exclusion without cancellation: the present findings as a sum of positive terms.

Quickscore's alternating sum loses precision when the present findings are improbable
together. This module computes the same sums with every term positive, for the cases
Quickscore cannot certify.

For a present finding j, P(j present | causes) = 1 - a_j * prod_U r_jU, where a_j is
1 - leak and r_jU is the product of (1 - strength) over the causes of unit U that are
present. Split it as (1 - a_j) [the leak] + a_j * (1 - prod_U r_jU) [a cause], and
telescope the product over the units in a fixed order:

    1 - r_1 r_2 ... r_n = (1 - r_1) + r_1 (1 - r_2) + r_1 r_2 (1 - r_3) + ...

Every piece is nonnegative, and 1 - r is computed as a sum of positive terms too. So
P(e) is a sum over "pending" sets: walking through the units, each finding whose
cause branch is still open is either carried through a unit (factor r) or closed in
it (factor 1 - r); at the end none may be open. This is a recursion over the units
on an array indexed by the 2**m pending sets (m present findings): a forward pass
gives P(e), a backward pass gives every cause's marginal, and one forward pass per
group gives the group probabilities. Its cost grows as 3**m-like per unit
configuration instead of Quickscore's 2**m, which is why it is the second choice.

Because all terms are positive, the relative rounding error of each sum is at most
its number of sequential steps times the machine epsilon: the answer is always
certain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from . import _cases
from ._cases import EPS, Cases, Sums

if TYPE_CHECKING:
    from ._factored import FactoredEngine


DENSE_PRESENT = 4
"""Present findings up to which a larger unit's carry is a matrix per configuration
(2**m x 2**m, built once per case) applied by one product, rather than m in-place
steps (:func:`_carry`): a few numpy calls instead of a dozen per unit, while its
4**m entries per configuration stay small. The first unit in the order carries the
start alone, once, and keeps :func:`_carry`. Measured with benchmarks/ab.py on the
shipped priors, 16 cases: ``diagnose`` 1.12x at m = 3 and 4, the same at m = 2;
``diagnose_many`` of 400 rows with 1-4 present findings the same or faster."""


def positive_sums(engine: FactoredEngine, cases: Cases, groups: bool = True) -> Sums:
    """Unnormalised answers, every sum over positive terms, in bounded-memory chunks."""
    m = cases.present.shape[1]
    # kept per case: the arrays before and after every unit (hubs x pending sets), each
    # larger unit's carry over its configurations (the largest one without the hubs)
    sizes = sorted((len(engine._readouts[u][0]) for u in engine._multi), reverse=True)
    hubs = len(engine._hub_prior)
    per_case = 2 ** m * (hubs * (2 * len(engine.units) + 2 + sum(sizes[1:]))
                         + (sizes[0] if sizes else 0))
    size = max(1, _cases.CHUNK_ELEMENTS // per_case)
    # rows that rule out the same hub configurations (a stated age band, sport ...) run
    # together: a chunk carries only the configurations some row of it allows, so
    # mixing rows that allow different ones would carry the union through every unit
    order, starts = _by_hub_pattern(engine, cases)
    bounds = [(start, min(start + size, stop)) for first, stop in zip(starts[:-1], starts[1:])
              for start in range(first, stop, size)]
    parts = [_recursion(engine, cases.take(order[a:b]), groups)[0] for a, b in bounds]
    sums = Sums.join(parts)
    if np.array_equal(order, np.arange(len(order))):  # already in the rows' order
        return sums
    out = Sums(np.empty_like(sums.total), np.empty_like(sums.causes),
               None if sums.none is None else np.empty_like(sums.none),
               np.empty_like(sums.error))
    out.put(order, sums)
    return out


def _by_hub_pattern(engine: FactoredEngine, cases: Cases) -> tuple[np.ndarray, list[int]]:
    """Row order grouping the rows by the hub configurations their evidence allows, and
    where each group starts (then the number of rows)."""
    count = len(cases)
    stated = [k for k, name in enumerate(engine.hubs) if name in cases.masks]
    if count == 1 or not stated:
        return np.arange(count), [0, count]
    allowed = np.ones((count, len(engine._hub_prior)), dtype=bool)
    for k in stated:
        allowed &= cases.masks[engine.hubs[k]][:, engine._hub_states[:, k]] > 0.0
    # a number per distinct row, through bytes (np.unique over rows is slower than
    # the whole recursion for one small batch)
    keys: dict[bytes, int] = {}
    inverse = np.array([keys.setdefault(row.tobytes(), len(keys))
                        for row in np.packbits(allowed, axis=1)])
    order = np.argsort(inverse, kind="stable")
    starts = np.flatnonzero(np.diff(inverse[order])) + 1
    return order, [0, *starts.tolist(), count]


def _carry(alpha: np.ndarray, r: np.ndarray, d: np.ndarray, m: int,
           backward: bool = False) -> np.ndarray:
    """Pass the pending-set array through one unit configuration.

    ``alpha`` is (..., 2**m) with bit j of the last index set while finding j is
    pending; ``r`` and ``d`` are (..., m) broadcastable: for each finding, the factor
    if it stays pending and the factor if it closes here. Closed findings stay closed.
    ``backward=True`` applies the transpose (weights read from the end backwards).
    Single causes use the same map as a matrix (:func:`_single_map`).
    """
    shape = np.broadcast_shapes(alpha.shape, r.shape[:-1] + (1,))
    out = np.empty(shape, dtype=np.result_type(alpha, r, d))
    out[...] = alpha
    for j in range(m):  # in place: each step reads a half and updates the other
        shaped = out.reshape(shape[:-1] + (2 ** (m - j - 1), 2, 2 ** j))
        closed, pending = shaped[..., 0, :], shaped[..., 1, :]
        rj = r[..., j, None, None]
        dj = d[..., j, None, None]
        if backward:
            pending *= rj
            pending += dj * closed
        else:
            closed += dj * pending
            pending *= rj
    return out


def _through(weights: np.ndarray, maps: np.ndarray) -> np.ndarray:
    """A larger unit's configurations weighed into one matrix per case and hub
    configuration: ``weights`` (C, H, K) times ``maps`` (C, K, A, B), summed over the
    configurations, as one batched matrix product: (C, H, A, B)."""
    count, configs = maps.shape[:2]
    return (weights @ maps.reshape(count, configs, -1)).reshape(
        weights.shape[:2] + maps.shape[2:])


def _single_map(r: np.ndarray, d: np.ndarray, m: int) -> np.ndarray:
    """:func:`_carry` for one single cause as a (C, 2**m, 2**m) matrix per case, so that
    it applies as one batched matrix product: ``alpha @ map.T`` forward, ``beta @ map``
    backward. ``r`` and ``d`` are (C, m)."""
    out = np.ones((len(r), 1, 1))
    for j in range(m):  # bit j of the state is the j-th factor of the Kronecker product
        step = np.zeros((len(r), 2, 2))
        step[:, 0, 0] = 1.0
        step[:, 0, 1] = d[:, j]
        step[:, 1, 1] = r[:, j]
        out = (step[:, :, None, :, None] * out[:, None, :, None, :]).reshape(
            len(r), 2 ** (j + 1), 2 ** (j + 1))
    return out


@dataclass(frozen=True)
class Schedule:
    """The order in which the recursion visits the units, fixed per engine.

    ``order``: unit numbers, the largest unit first (its input is the start array times
    P(h), so its carry needs no hub axis) and after each larger unit the single causes
    of the groups it touches, so that each group's probability is a short pass.
    ``single``: per position, the index of its cause among the engine's single causes,
    or -1 for a larger unit. ``spans``: per group, the positions it restricts (a
    single cause of the group to "absent", a larger unit to the readout column
    "none of the group"), from the first to the last such position: ``(first, last,
    restrict)`` where ``restrict[p - first]`` is None, ``-1`` (absent) or a column.
    """

    order: tuple[int, ...]
    single: tuple[int, ...]
    spans: tuple[tuple[int, int, tuple[int | None, ...]], ...]


def schedule(engine: FactoredEngine) -> Schedule:
    """The :class:`Schedule` of a factored engine (built once, with it)."""
    group_of_single = {}
    for k, j in enumerate(engine._groups_with_singles):
        stop = ([*engine._group_starts[1:], len(engine._single)])[k]
        for pos in range(engine._group_starts[k], stop):
            group_of_single[engine._single[pos]] = int(j)
    order: list[int] = []
    for u in sorted(engine._multi, key=lambda u: -len(engine.units[u])):
        order.append(u)
        touched = engine._readouts[u][2]
        order += [v for v in engine._single if group_of_single[v] in touched
                  and v not in order]
    order += [v for v in engine._single if v not in order]
    where = {u: k for k, u in enumerate(engine._single)}
    spans = []
    for j in range(engine._n_groups):
        restricts: list[int | None] = []
        for u in order:
            if u in where:
                restricts.append(-1 if group_of_single.get(u) == j else None)
            else:
                touched = engine._readouts[u][2]
                restricts.append(1 + len(engine.units[u]) + touched.index(j)
                                 if j in touched else None)
        span = [p for p, r in enumerate(restricts) if r is not None]
        spans.append((span[0], span[-1], tuple(restricts[span[0]:span[-1] + 1])))
    return Schedule(tuple(order), tuple(where.get(u, -1) for u in order), tuple(spans))


@dataclass(frozen=True, eq=False)
class VariantSums:
    """One case's counterfactual variants from the positive recursion, all certain:
    ``total`` (m + 1,), ``causes`` (m + 1, causes) and ``error`` (m + 1,) for the
    evidence (row 0) and each present finding reported absent (rows 1..m), in the
    order of ``present`` (indices into Structure.findings). A finding taken out is the
    evidence plus the finding reported absent (present or absent, the two weights
    adding up to 1): a sum of two positive sums. The same interface as the Quickscore
    sums by subset (:class:`._factored.SubsetSums`), from which the dispatcher reads
    the variants of a counterfactual score."""

    present: np.ndarray
    total: np.ndarray
    causes: np.ndarray
    error: np.ndarray

    def variant(self, j: int, absent: bool) -> tuple[float, np.ndarray, float]:
        """P(e'), P(cause, e') and a bound on their rounding error for the evidence
        with present finding ``j`` (its position in ``present``) taken out
        (``absent=False``) or reported absent (``absent=True``)."""
        if absent:
            return float(self.total[1 + j]), self.causes[1 + j], float(self.error[1 + j])
        return (float(self.total[0] + self.total[1 + j]), self.causes[0] + self.causes[1 + j],
                float(self.error[0] + self.error[1 + j]))


def variant_finals(m: int) -> np.ndarray:
    """(m + 1, 2**m): which pending sets may remain at the end of the recursion, for
    the evidence (none) and each present finding j reported absent (exactly j: it took
    the 'not produced by its leak' branch, weight 1 - leak, and no cause produced
    it)."""
    finals = np.zeros((m + 1, 2 ** m))
    finals[0, 0] = 1.0
    finals[np.arange(1, m + 1), 2 ** np.arange(m)] = 1.0
    return finals


def positive_variants(engine: FactoredEngine, cases: Cases) -> tuple[Sums, VariantSums]:
    """:func:`positive_sums` of one case, with its counterfactual variants
    (:class:`VariantSums`) from the same passes: a variant changes only which pending
    sets may remain at the end, so the backward pass carries one column per variant
    and the forward pass is shared."""
    m = cases.present.shape[1]
    sums, (total, causes, error) = _recursion(engine, cases, True, variant_finals(m))
    return sums, VariantSums(cases.present[0], total[0], causes[0].T, error[0])


def _recursion(engine: FactoredEngine, cases: Cases, groups: bool,
               finals: np.ndarray | None = None
               ) -> tuple[Sums, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The sums of :func:`positive_sums` for one chunk, and with ``finals`` (V, 2**m),
    the pending sets allowed at the end for each of V variants (row 0 the evidence
    itself: nothing pending), each variant's totals (C, V), joint sums with every
    cause (C, causes, V) and error bounds (C, V); without, the evidence's alone."""
    hub_p, constant, tables = engine._tables(cases)
    # hub configurations the evidence rules out in every row (a stated age band rules
    # out two thirds) add exact zeros to every sum below: carry only the others
    live = np.flatnonzero((hub_p > 0.0).any(axis=0))
    if not len(live):
        live = np.arange(hub_p.shape[1])
    hub_p = hub_p[:, live]
    count, m = cases.present.shape
    n_hub = hub_p.shape[1]
    keep = engine._keep[cases.present]  # (C, m): 1 - leak
    w = cases.weight
    plan = engine._schedule

    # start: each finding either present through its leak (closed) or through a cause
    # (pending, weight 1 - leak)
    start = np.ones((count, 1))
    for j in range(m):
        start = np.concatenate([start * (1.0 - keep[:, j, None]),
                                start * keep[:, j, None]], axis=1)
    scale = (hub_p * constant[:, None])[:, :, None]
    alpha0 = scale * start[:, None, :]  # (C, H, 2**m)

    # the single causes all at once: "absent" and "present" weights (n1, C, H, 1) and
    # each one's map (n1, C, 2**m, 2**m)
    single = engine._single_causes
    n1 = len(single)
    shape = (n1, count, len(engine._hub_prior), 2)
    stacked = getattr(tables, "single", None)  # every case's tables alike: kept
    t_single = (np.broadcast_to(stacked, shape) if stacked is not None
                else engine._single_tables(tables, shape))[:, :, live]
    t0 = t_single[..., 0, None]  # (n1, C, H, 1)
    t1 = t_single[..., 1, None] * w[:, single].T[:, :, None, None]
    maps, carries = _present_maps(engine, cases.present)

    # larger units: per configuration, each finding's factor if it stays pending (r)
    # and if it closes there (d), and the configurations' weights
    multi: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    unit_maps: dict[int, np.ndarray] = {}
    steps_list = [4] * n1
    first_rows = (np.zeros(0, dtype=np.intp), np.zeros((0, 0)))
    for u in engine._multi:
        configs = engine._readouts[u][0]
        members = engine.units[u]
        r, d, unit_map = carries[u]
        weight = np.ones((count, len(configs)))
        for k, i in enumerate(members):
            weight = weight * np.where(configs[:, k], w[:, i, None], 1.0)
        distinct, which = tables[u]
        if u == plan.order[0]:  # the first unit's table on its distinct rows (C, R, K),
            # the row each live hub configuration reads and, per row, which ones read it
            used, inverse = np.unique(engine._rows[u][live], return_inverse=True)
            t = distinct[which][:, used]
            first_rows = (inverse.ravel(), (np.arange(len(used))[:, None]
                                            == inverse.ravel()).astype(float))
        else:
            t = distinct[which][:, engine._rows[u][live]]  # (C, H, K)
        multi[u] = (t * weight[:, None, :], r, d)
        if unit_map is not None:
            unit_maps[u] = unit_map
        steps_list.append(2 * len(members) + len(configs))

    carried_at: dict[int, np.ndarray] = {}  # the main pass's carry at each position

    def forward(p, alpha, restrict=None):
        """alpha after the unit at position p; ``restrict``: -1 keeps a single cause
        absent, a number keeps a larger unit's configurations of that readout column."""
        k = plan.single[p]
        main = alpha is alphas[p]
        if k >= 0:
            if restrict is not None:
                return t0[k] * alpha
            moved = carried_at[p] if main and p in carried_at else \
                alpha @ maps[k].transpose(0, 2, 1)
            if main:
                carried_at[p] = moved  # the marginal of this cause reuses it
            return t0[k] * alpha + t1[k] * moved
        u = plan.order[p]
        t, r, d = multi[u]
        weights = t if restrict is None else t * engine._readouts[u][1][restrict]
        if p == 0:  # alpha is alpha0 = P(h) x start: carry the start only, per row of
            # the unit's table (the hub configurations that read a row share its sums)
            if 0 not in carried_at:
                carried_at[0] = _carry(start[:, None, :], r, d, m)  # (C, K, 2**m)
            return scale * np.take(weights @ carried_at[0], first_rows[0], axis=1)
        if main and p in carried_at:  # the main pass's input: reuse
            carried = carried_at[p]
        elif u in unit_maps:
            if not main:  # a group's restricted pass: the unit's one matrix per hub
                return (_through(weights, unit_maps[u]) @ alpha[..., None])[..., 0]
            maps_u = unit_maps[u]  # (C, K, 2**m, 2**m): a carry matrix per configuration
            carried = (alpha @ maps_u.reshape(count, -1, 2 ** m).transpose(0, 2, 1)
                       ).reshape(maps_u.shape[:1] + alpha.shape[1:2] + maps_u.shape[1:3])
        else:
            carried = _carry(alpha[:, :, None, :], r[:, None], d[:, None], m)  # (C,H,K,2**m)
        if main:
            carried_at[p] = carried
        return (weights[:, :, None, :] @ carried)[:, :, 0, :]

    # forward pass, keeping the array before each unit
    alphas = [alpha0]
    for p in range(len(plan.order)):
        alphas.append(forward(p, alphas[p]))
    total = alphas[-1][:, :, 0].sum(axis=1)

    # backward pass: beta after each unit, one column per variant (V, before the
    # pending sets): which pending sets may remain at the end (for the evidence, none)
    ends = np.eye(1, 2 ** m) if finals is None else finals
    n_v = len(ends)
    beta = np.repeat(np.broadcast_to(ends, (n_hub, n_v, 2 ** m))[None], count, axis=0)
    betas = [beta]
    for p in range(len(plan.order) - 1, 0, -1):  # nothing needs beta before the first
        k = plan.single[p]
        if k >= 0:
            beta = t0[k][..., None] * beta + t1[k][..., None] * (beta @ maps[k][:, None])
        elif plan.order[p] in unit_maps:  # the unit as one matrix per case and hub
            # configuration, applied to every variant's column at once
            beta = beta @ _through(multi[plan.order[p]][0], unit_maps[plan.order[p]])
        else:
            t, r, d = multi[plan.order[p]]
            carried = _carry(beta[:, :, :, None, :], r[:, None, None], d[:, None, None], m,
                             backward=True)  # (C, H, V, K, 2**m)
            beta = np.einsum("chk,chvks->chvs", t, carried)
        betas.append(beta)
    after_unit = betas[::-1]  # after_unit[p]: weights after the unit at position p

    joint = np.empty((count, engine.n, n_v))
    if n1:  # every single cause in one product: present, carried, then the rest
        at = [p for p, k in enumerate(plan.single) if k >= 0]
        ks = [plan.single[p] for p in at]
        moved = np.stack([carried_at[p] for p in at])
        after = np.stack([after_unit[p] for p in at])
        reach = (after @ moved[..., None])[..., 0]  # (k, C, H, V)
        joint[:, single[ks]] = (t1[ks, ..., 0][..., None, :] @ reach)[..., 0, :].transpose(
            1, 0, 2)
    for p, u in enumerate(plan.order):
        if plan.single[p] >= 0:
            continue
        t = multi[u][0]
        after = after_unit[p]
        if p == 0:  # the weights after it summed over the hub configurations of each
            # row of its table (with P(h)), then the rows against the table
            by_row = first_rows[1] @ (scale[..., None] * after).reshape(count, n_hub, -1)
            reach = (t.transpose(0, 2, 1) @ by_row).reshape(count, -1, n_v, 2 ** m)
            per_config = (reach @ carried_at[0][..., None])[..., 0]  # (C, K, V)
        else:
            per_config = (t[..., None] * (carried_at[p] @ after.transpose(0, 1, 3, 2))
                          ).sum(axis=1)
        members = engine.units[u]
        joint[:, members] = engine._readouts[u][1][1:1 + len(members)] @ per_config
    causes = joint[..., 0]

    if groups:
        # restricted where the group's causes are; forward from the first such unit
        # to the last, then the backward weights take it to the end
        none = np.empty((count, engine._n_groups))
        for j, (first, last, restricts) in enumerate(plan.spans):
            alpha = alphas[first]
            for p in range(first, last + 1):
                alpha = forward(p, alpha, restricts[p - first])
            none[:, j] = (alpha * after_unit[last][:, :, 0]).sum(axis=(1, 2))
    else:
        none = np.full((count, engine._n_groups), np.nan)

    # every term is positive: relative error at most the sequential steps times eps
    steps = (engine._term_steps + cases.steps + m * (engine.n + 3) + sum(steps_list)
             + (2 * m + 2 ** m) * len(plan.order) + n_hub)
    error = steps * EPS * total
    sums = Sums(total, causes, none, error)
    totals = total[:, None] if finals is None else np.einsum("chs,vs->cv", alphas[-1], finals)
    return sums, (totals, joint, steps * EPS * totals)


_Carries = dict[int, tuple[np.ndarray, np.ndarray, "np.ndarray | None"]]


def _present_maps(engine: FactoredEngine,
                  present: np.ndarray) -> tuple[np.ndarray, _Carries]:
    """What the recursion carries the pending sets with, which depends on the present
    findings alone: each single cause's map (n1, C, 2**m, 2**m), and per larger unit
    each configuration's factors if a finding stays pending (r) and if it closes there
    (d), (C, K, m) each, with its carry as a matrix (C, K, 2**m, 2**m) where it is
    applied as one (else None). One case's are kept by its present findings: an
    interview, and a ranking's diagnosis, query the same ones again."""
    count, m = present.shape
    key = tuple(present[0].tolist()) if count == 1 else None
    if key is not None:
        kept = engine._present_maps.get(key)
        if kept is not None:
            return kept
    q = engine._q[present]  # (C, m, causes): 1 - strength
    s = engine._s[present]  # (C, m, causes): strength, exactly as given
    single = engine._single_causes
    n1 = len(single)
    maps = _single_map(np.moveaxis(q[:, :, single], -1, 0).reshape(n1 * count, m),
                       np.moveaxis(s[:, :, single], -1, 0).reshape(n1 * count, m), m
                       ).reshape(n1, count, 2 ** m, 2 ** m)
    carries: _Carries = {}
    for u in engine._multi:
        configs = engine._readouts[u][0]
        r = np.ones((count, len(configs), m))
        d = np.zeros((count, len(configs), m))
        for k, i in enumerate(engine.units[u]):  # 1 - prod(1 - s) as positive terms
            on = configs[:, k][None, :, None]
            d = d + np.where(on, r * s[:, None, :, i], 0.0)
            r = r * np.where(on, q[:, None, :, i], 1.0)
        unit_map = None
        if 0 < m <= DENSE_PRESENT and u != engine._schedule.order[0]:  # (the first
            # unit carries the start alone, once) each configuration's carry as a matrix
            unit_map = _single_map(r.reshape(-1, m), d.reshape(-1, m), m).reshape(
                count, len(configs), 2 ** m, 2 ** m)
        carries[u] = (r, d, unit_map)
    if key is not None:
        for array in (maps, *(a for c in carries.values() for a in c if a is not None)):
            array.flags.writeable = False
        engine._present_maps.put(key, (maps, carries))
    return maps, carries
