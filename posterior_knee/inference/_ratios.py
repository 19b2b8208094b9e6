"""Every answer of a question ranking from one Quickscore pass, by ratios of unit factors.

Given a hub configuration h and a subset S of the present findings, Quickscore's term is
``coef(h, S) * prod_U g_U(h, S)``: the units of causes are independent there, and each
contributes its weighted sum g_U (:mod:`._factored`). An answer changes few units:

- "no" to finding j multiplies the weight of each of its parent causes by
  ``1 - strength`` (and the whole by ``1 - leak``): only the units holding a parent of
  j change;
- a risk factor's answer changes its mask: a hub's answer weighs the hub
  configurations, any other risk factor's only the one unit whose table it enters.

So the answer's term is the current term times ``prod_{U changed} g'_U / g_U``, and its
cause marginals are the current ones' readouts ``y_k = (cause k present part) / g_U``,
replaced where the unit changed. The cost is one Quickscore pass, then per answer one
product over the changed units and one row of a matrix product over (h, S), instead
of a whole Quickscore pass per answer (about ``n`` units times more).

Every factor of a unit is a sum of positive terms, so a ratio adds a few roundings to
each term; the alternating sum over S is bounded exactly as in Quickscore (the steps
times eps times the sum of the terms' magnitudes), and the caller treats an answer not
certain to its limit as before (the rounding of the tables and of the answer's weights
counts against P(e') itself, as in Quickscore).
"""

from __future__ import annotations

import numpy as np

from ._cases import Cases, Sums
from ._factored import FactoredEngine, _quickscore_error

CHUNK = 2 ** 21  # entries of (answers x hubs x subsets) per step of the corrections


def answer_sums(engine: FactoredEngine, batch: Cases, found: np.ndarray,
                nodes: list[str]) -> Sums:
    """Unnormalised answers (no groups) for a ranking batch built by ``_whatif._answers``:
    row 0 the current evidence, rows ``1 .. len(found)`` the findings ``found`` answered
    no, then one row per entry of ``nodes`` (the risk node whose mask that row changes).
    Every row shares row 0's present findings."""
    base = batch.take(np.array([0]))
    count, m = len(batch), base.present.shape[1]
    base_parts = engine._tables(base)
    # only the hub configurations the evidence allows: an answer rules out more of
    # them, never fewer (a stated age band leaves a third of them, each hub stated
    # half as many again)
    # (one row's tables are kept with these, and cut to them: see _Tables); None: every
    # one allowed (or none: impossible evidence, terms all zero)
    allowed = base_parts[2].live
    live = np.arange(base_parts[0].shape[1]) if allowed is None else allowed
    coef, w, tables = engine._coefficients(
        base, (base_parts[0][:, live], base_parts[1], base_parts[2]))
    absent, yes_single, g, readouts = engine._unit_factors(tables, w, 1, allowed)
    hub_rows = {u: engine._rows[u][live] for u in engine._multi}
    coef, w = coef[0], w[0]  # (H, S), (S, causes)
    absent, yes_single = absent[:, 0], yes_single[:, 0]  # (n1, H, 1), (n1, H, S)
    g = g[:, 0]  # (units, H, S): singles first, then larger units
    readouts = {u: r[:, 0] for u, r in readouts.items()}  # (R, H, S)
    n1 = len(engine._single_causes)
    single_pos = np.full(engine.n, -1, dtype=np.intp)
    single_pos[engine._single_causes] = np.arange(n1)
    multi_pos = {u: p for p, u in enumerate(engine._multi, start=n1)}
    terms = coef * np.prod(g, axis=0)
    inverse = _ratio(np.ones_like(g), g)
    # y_k: cause k's "present" part of its unit, relative to the unit's whole factor
    y = np.empty((engine.n,) + terms.shape)
    y[engine._single_causes] = yes_single * inverse[:n1]
    for u in engine._multi:
        members = engine.units[u]
        y[members] = readouts[u][1:1 + len(members)] * inverse[multi_pos[u]]

    scale = np.ones(count)
    hub_scale = np.ones((count, terms.shape[0]))
    extra = np.zeros(count)
    q, keep = engine._q, engine._keep
    found = np.asarray(found, dtype=np.intp)
    first = 1 + len(found)
    if len(nodes):
        risk = batch.take(np.arange(first, count))
        hub_p, constant, risk_tables = engine._tables(risk)
        base_hub, base_constant, _ = base_parts
        hub_scale[first:] = _ratio(hub_p[:, live], base_hub[:, live])
        scale[first:] = _ratio(constant, base_constant)
        extra[first:] = 2
    if len(found):
        scale[1:first] = keep[found]
        extra[1:first] = engine._parents[found] + 1
    weights = np.repeat(terms[None], count, axis=0)
    weights *= (scale[:, None] * hub_scale)[:, :, None]
    fixes: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (rows, cause, new y)

    # a finding's "no" and the single causes among its parents: every pair at once
    # (np.nonzero lists the pairs by answer, so each answer's ratios are consecutive)
    rows, causes_of = np.nonzero(q[found] != 1.0)
    keep_pairs = single_pos[causes_of] >= 0
    rows, causes_of = rows[keep_pairs] + 1, causes_of[keep_pairs]
    if len(rows):
        pos = single_pos[causes_of]
        new_yes = yes_single[pos] * q[found[rows - 1], causes_of][:, None, None]
        new_g = absent[pos] + new_yes
        starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
        weights[rows[starts]] *= np.multiply.reduceat(new_g * inverse[pos], starts, axis=0)
        fixes.append((rows, causes_of, _ratio(new_yes, new_g)))

    # the larger units: the answer multiplies each configuration K of the unit by
    # d_a(K) (the product of 1 - strength over its members present in K), so the new
    # factor is one matrix product over K for every answer at once
    multi: list[tuple] = []
    for u in engine._multi:
        members = engine.units[u]
        touching = np.flatnonzero((q[found][:, members] != 1.0).any(axis=1))
        if not len(touching):
            continue
        configs = engine._readouts[u][0]
        d = np.ones((len(touching), len(configs)))
        for k, i in enumerate(members):
            d *= np.where(configs[:, k], q[found[touching], i][:, None], 1.0)
        parts = _configurations(engine, u, tables[u][0][0], w, hub_rows[u])  # (H, S, K)
        new_g = np.moveaxis(parts @ d.T, -1, 0)  # (A, H, S)
        weights[touching + 1] *= new_g * inverse[multi_pos[u]]
        multi.append((touching + 1, members, configs, d, parts, new_g))

    # risk factors that are no hub: the unit whose table they enter, every answer that
    # changes the same unit at once
    answers_of: dict[int, list[int]] = {}  # unit -> the answers (positions k) changing it
    for k, node in enumerate(nodes):
        if node in engine._private_unit:
            answers_of.setdefault(engine._private_unit[node], []).append(k)
    for u, ks in answers_of.items():
        distinct, which = risk_tables[u]
        table = distinct[which[ks]]  # (A, rows, K): each answer's table
        a = first + np.asarray(ks)
        members = engine.units[u]
        if len(members) == 1:
            i = members[0]
            new_yes = table[:, live, 1, None] * w[None, None, :, i]  # (A, H, S)
            new_g = table[:, live, 0, None] + new_yes
            weights[a] *= new_g * inverse[single_pos[i]]
            fixes.append((a, np.full(len(a), i), _ratio(new_yes, new_g)))
        else:
            out = _unit_readouts(engine, u, table, w, hub_rows[u])  # (A, R, H, S)
            weights[a] *= out[:, 0] * inverse[multi_pos[u]]
            fixes.append((np.repeat(a, len(members)), np.tile(members, len(a)),
                          _ratio(out[:, 1:1 + len(members)], out[:, :1]).reshape(
                              (-1,) + terms.shape)))

    total = weights.sum(axis=(1, 2))
    causes = weights.reshape(count, -1) @ y.reshape(engine.n, -1).T
    if fixes:
        # each cause's readout where its unit changed, every (answer, cause) pair at
        # once, in place of the product above: an answer changes a cause's unit once,
        # so the pairs are distinct
        rows = np.concatenate([f[0] for f in fixes])
        cause = np.concatenate([f[1] for f in fixes])
        new_y = np.concatenate([f[2] for f in fixes])
        step = max(1, CHUNK // max(1, terms.size))
        for start in range(0, len(rows), step):
            part = slice(start, start + step)
            causes[rows[part], cause[part]] = np.einsum("khs,khs->k", weights[rows[part]],
                                                        new_y[part])
    for rows, members, configs, d, parts, new_g in multi:
        # each member's readout, linear in d: the weights without the unit's factor,
        # summed against every configuration once
        spread = (_ratio(weights[rows], new_g).reshape(len(rows), -1)
                  @ parts.reshape(-1, parts.shape[-1])) * d  # (A, K)
        causes[rows[:, None], members] = spread @ configs
    # the steps of a Quickscore term, the answer's own weights, and per changed unit
    # a ratio (a division and a product) and the corrected readout
    steps = (engine._term_steps + base.steps[0] + batch.steps + extra + m * (engine.n + 1)
             + terms.shape[0] + terms.shape[1] + 4 * len(engine.units) + 8)
    # the tables' own rounding and that of each answer's weights are errors of the
    # inputs, relative to P(e') (see _factored._quickscore_error)
    tables = engine._table_steps + batch.steps
    error = _quickscore_error(steps - tables, tables, np.abs(weights).sum(axis=(1, 2)),
                              total)
    none = np.full((count, len(engine.structure.groups)), np.nan)
    return Sums(total, causes, none, error)


def _configurations(engine: FactoredEngine, u: int, table: np.ndarray,
                    w: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """A larger unit's table times its configurations' weights, (H, S, K), at the hub
    configurations whose table rows are ``rows``."""
    return table[rows][:, None, :] * engine._phi(u, w)[None]


def _ratio(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """part / whole, 0 where whole is 0 (the answer's term is 0 there)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(whole > 0.0, part / whole, 0.0)


def _unit_readouts(engine: FactoredEngine, u: int, tables: np.ndarray,
                   w: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """A larger unit's readouts (A, R, H, S) for A tables (A, rows, K) and one set of
    weights (S, causes), at the hub configurations whose table rows are ``rows``."""
    columns = engine._readouts[u][1]  # (R, K)
    # each readout's configuration weights first (R x S x K, a few thousand entries),
    # then one matrix product over K for every answer's table
    per = (columns[:, None, :] * engine._phi(u, w)[None]).reshape(-1, columns.shape[1])
    out = (tables @ per.T).reshape(tables.shape[:2] + (len(columns), w.shape[0]))
    return out[:, rows].transpose(0, 2, 1, 3)  # (A, R, H, S)
