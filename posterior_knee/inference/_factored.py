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
its "cause present" part; group probabilities use each unit's "no cause of the group"
part.

Every step is vectorised over a batch of cases that share the number m of present
findings (a cohort is split by m; the candidate answers of a next-question ranking all
share it), so a batch costs a fixed number of numpy calls, not a Python loop per case.

The alternating sum can lose precision (cancellation) when the present findings are
improbable together. Each case carries a bound on the rounding error of its sums;
where it could exceed ``ERROR_LIMIT`` of the answer, or past ``MAX_PRESENT`` present
findings, the case is computed as sums of positive terms instead (:mod:`._positive`),
which are always certain; past ``MAX_PRESENT_POSITIVE`` the caller enumerates (the
ExactEngine). Quickscore's cost grows as
(cases) x (hub configurations) x 2**m x (units, groups and each larger unit's
configurations).
"""

from __future__ import annotations

import functools
import itertools
import string
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import EngineLimitError
from . import _cases
from ._cases import (
    EPS,
    MAX_PRESENT,
    MAX_PRESENT_POSITIVE,
    MAX_UNIT,
    Cases,
    Sums,
)
from ._engine import Posterior
from ._lru import BoundedCache
from ._positive import VariantSums, positive_sums, positive_variants, schedule
from ._structure import Structure

TABLE_CACHE = 4096  # masks patterns whose tables are kept (least recently used dropped)
# and at most this many bytes of them: a pattern's tables are about 1.6 MiB on the
# shipped priors, so 4096 of them could hold 6.5 GiB (diagnose_many on 100 000 random
# rows peaked at 6.2 GiB); 64 MiB keeps some 40 patterns, more than one interview needs
TABLE_BYTES = 2 ** 26
# batches of up to ROWS_KEPT rows whose masks differ: ROWS_CACHE of them kept (keys of
# up to about 20 kB each), at most ROWS_BYTES of tables in all
ROWS_KEPT = 64
ROWS_CACHE = 256
ROWS_BYTES = 2 ** 26
# present-finding patterns whose recursion maps are kept (a few MiB at most each)
PRESENT_CACHE = 64
PRESENT_BYTES = 2 ** 25


class FactoredEngine:
    """Compiled once per knowledge base; answers one query (:meth:`posterior`) or a
    batch (:meth:`sums`)."""

    def __init__(self, structure: Structure):
        self.structure = structure
        causes = list(structure.cause_ids)
        self.n = len(causes)
        index = {c: i for i, c in enumerate(causes)}
        risk = {node.name: node for node in structure.risk_nodes}

        import networkx as nx  # here, not at the top: the package stays quick to import

        links = nx.Graph()
        links.add_nodes_from(range(len(causes)))
        links.add_edges_from((index[cause.name], index[p]) for cause in structure.causes
                             for p in cause.parents if p in index)
        units = sorted(sorted(unit) for unit in nx.connected_components(links))
        if max(map(len, units)) > MAX_UNIT:
            raise EngineLimitError(
                f"{max(map(len, units))} causes are linked into one unit, above the "
                f"factored engine's limit of {MAX_UNIT}.")
        unit_of = {i: u for u, members in enumerate(units) for i in members}

        touches: dict[str, set[int]] = {name: set() for name in risk}
        for cause in structure.causes:
            for parent in cause.parents:
                if parent in risk:
                    touches[parent].add(unit_of[index[cause.name]])
        self.hubs = [name for name in risk if len(touches[name]) > 1]
        self.loose = [name for name in risk if not touches[name]]  # touch no cause
        self._risk = risk
        hub_cards = [len(risk[h].states) for h in self.hubs]
        # each hub configuration h: the state of every hub, and its prior probability
        configurations = list(itertools.product(*map(range, hub_cards)))  # [()] if none
        self._hub_states = np.array(configurations, dtype=np.intp).reshape(
            len(configurations), len(self.hubs))
        self._hub_prior = np.ones(len(configurations))
        for k, h in enumerate(self.hubs):
            self._hub_prior = self._hub_prior * risk[h].prior[self._hub_states[:, k]]
        letters = iter(string.ascii_letters)
        letter = {name: next(letters) for name in list(risk) + causes}

        # per unit, one einsum: its private risk factors kept as axes (weighted by their
        # priors) and its causes' CPTs, broadcast over every hub configuration:
        # T_U[h, private states..., unit configuration]
        self._private: list[list[str]] = []
        self._unit_tables: list[np.ndarray] = []
        self._rows: list[np.ndarray] = []
        for members in units:
            names = [causes[i] for i in members]
            private = [r for r in risk
                       if touches[r] == {unit_of[members[0]]} and r not in self.hubs]
            hubs_used = sorted({p for c in names for p in structure.causes[index[c]].parents
                                if p in self.hubs}, key=self.hubs.index)
            operands, subscripts = [], []
            for r in private:
                operands.append(risk[r].prior)
                subscripts.append(letter[r])
            for c in names:
                node = structure.causes[index[c]]
                operands.append(np.stack([1.0 - node.p_yes, node.p_yes], axis=-1))
                subscripts.append("".join(letter[p] for p in node.parents) + letter[c])
            out = "".join(letter[x] for x in hubs_used + private + names)
            t = np.einsum(",".join(subscripts) + "->" + out, *operands)
            # rows: the configurations of the hubs this unit uses (a larger unit's work
            # is done once per row, then spread over every hub configuration with
            # `_rows`); single causes are spread at once
            cards = [len(risk[h].states) for h in hubs_used]
            t = t.reshape([int(np.prod(cards))] + [len(risk[r].states) for r in private]
                          + [2 ** len(names)])
            rows = np.ravel_multi_index(
                tuple(self._hub_states[:, self.hubs.index(h)] for h in hubs_used), cards
            ) if hubs_used else np.zeros(len(self._hub_states), dtype=np.intp)
            if len(members) == 1:
                t = t[rows]
            self._rows.append(rows)
            self._private.append(private)
            self._unit_tables.append(np.ascontiguousarray(t))
        self._default = [t.sum(axis=tuple(range(1, t.ndim - 1))) for t in self._unit_tables]
        # risk factor -> the unit whose table it enters as a private axis (a private
        # risk factor touches one unit only)
        self._private_unit = {name: u for u, private in enumerate(self._private)
                              for name in private}
        self._paths: dict[tuple, list] = {}  # einsum paths of _tables, by shape
        # P(h) and the unit tables by risk-factor masks (see _tables), and the same
        # for batches of a few rows; read-only arrays, bounded in bytes (_lru)
        self._kept = BoundedCache(TABLE_CACHE, TABLE_BYTES)
        self._kept_rows = BoundedCache(ROWS_CACHE, ROWS_BYTES)
        # the positive recursion's maps by present findings (_positive._present_maps)
        self._present_maps = BoundedCache(PRESENT_CACHE, PRESENT_BYTES)

        # single-cause units are handled together, as one axis; larger units one by
        # one, each through one matrix of "readouts" over its configurations: the unit's
        # total (a column of ones), each member present, and, per group that shares
        # causes with the unit, "none of the group's causes present"
        self.units = units
        groups = [[index[c] for c in members] for members in structure.groups.values()]
        group_of = {i: j for j, members in enumerate(groups) for i in members}
        self._n_groups = len(groups)
        # single-cause units sorted by group, so each group's singles are consecutive
        # (the positive recursion reads them by _group_starts)
        self._single = sorted((u for u, m in enumerate(units) if len(m) == 1),
                              key=lambda u: group_of[units[u][0]])
        self._multi = [u for u, m in enumerate(units) if len(m) > 1]
        self._single_causes = np.array([units[u][0] for u in self._single], dtype=np.intp)
        single_groups = [group_of[units[u][0]] for u in self._single]
        self._groups_with_singles = np.unique(single_groups)
        self._group_starts = np.array([single_groups.index(j)
                                       for j in self._groups_with_singles], dtype=np.intp)
        self._readouts = {}
        for u in self._multi:
            configs = np.array(list(itertools.product((0, 1), repeat=len(units[u]))),
                               dtype=bool)
            touched = [j for j, members in enumerate(groups)
                       if any(i in members for i in units[u])]
            columns = [np.ones(len(configs), dtype=bool)]
            columns += [configs[:, k] for k in range(len(units[u]))]
            columns += [np.asarray(~configs[:, [k for k, i in enumerate(units[u])
                                                if i in groups[j]]].any(axis=1))
                        for j in touched]
            self._readouts[u] = (configs, np.array(columns, dtype=float), touched)
        # every larger unit's configuration weights gathered at once (:meth:`_phis`):
        # (members, configurations of all), the cause of each present member in order,
        # else ``n`` (a column of ones). Members first: a product down the first axis is
        # a few elementwise steps, 4x faster than numpy's along a short last axis
        widest = max((len(units[u]) for u in self._multi), default=0)
        self._phi_index = np.full((widest, sum(2 ** len(units[u]) for u in self._multi)),
                                  self.n, dtype=np.intp)
        self._phi_slices, start = {}, 0
        for u in self._multi:
            configs = self._readouts[u][0]
            block = self._phi_index[:configs.shape[1], start:start + len(configs)]
            block[...] = np.where(configs, np.array(units[u]), self.n).T
            self._phi_slices[u] = slice(start, start + len(configs))
            start += len(configs)
        # "none of group j" per unit, as rows of the stack that _none_of_groups builds
        # (g, then the single causes' "absent" parts, then each larger unit's "none of
        # the group" readouts): a single cause of the group is absent, a larger unit
        # that shares causes with it is read out as none of them present, any other
        # unit enters whole
        n_units, n1 = len(units), len(self._single)
        offsets, start = {}, n_units + n1
        for u in self._multi:
            offsets[u] = start
            start += len(self._readouts[u][2])
        self._none_rows = np.array([
            [n_units + p if single_groups[p] == j else p for p in range(n1)]
            + [offsets[u] + self._readouts[u][2].index(j) if j in self._readouts[u][2]
               else n1 + k for k, u in enumerate(self._multi)]
            for j in range(self._n_groups)], dtype=np.intp).reshape(self._n_groups, n_units)

        # findings reported present, as arrays indexed by finding
        arrays = structure.finding_arrays
        self._q, self._s = arrays.q, arrays.strength
        self._keep, self._parents = arrays.keep, arrays.parents
        # rounding steps in one term, as a bound on its relative error. First those
        # that make the tables themselves, per unit (a sum over private risk-factor
        # states, a product of CPTs) and the hub prior: an error there perturbs the
        # inputs of a sum whose exact value is P(e), a positive function of them, so
        # it is a relative error of P(e), not of each alternating term (see _sums).
        # Then the term's own arithmetic: per unit the weights of a configuration and
        # the sum over configurations (nonnegative, so at most its length), the
        # product across units and the coefficient. The evidence adds its own
        # (Cases.steps, and m per cause for the present ones).
        self._table_steps = sum(
            int(np.prod(t.shape[1:-1])) + len(private) + len(members)
            for t, private, members in zip(self._unit_tables, self._private, units)
        ) + len(self.hubs)
        self._term_steps = self._table_steps + sum(
            len(members) + 2 ** len(members) for members in units) + len(units) + 4
        self._schedule = schedule(self)  # the positive recursion's order of units

    def cost(self, m: int) -> float:
        """Estimated entries touched per case with m present findings (Quickscore up to
        MAX_PRESENT, the positive recursion beyond: every unit carries all 2**m pending
        sets through each of its configurations, per hub configuration)."""
        hubs = len(self._hub_prior)
        configs = sum(len(c) for c, _, _ in self._readouts.values())
        if m <= MAX_PRESENT:
            widest = 2 * self._n_groups + 2 * len(self.units) + len(self._single_causes)
            return float(hubs * 2 ** m * (widest + configs))
        return float(hubs * 2 ** m * (2 * len(self.units) + configs) * (2 + m))

    # -- single queries ------------------------------------------------------------------
    def posterior(self, evidence: Mapping[str, bool]) -> Posterior | None:
        """The posteriors, or None when this engine cannot answer to ERROR_LIMIT."""
        parts = self.structure.split_evidence(evidence)
        if len(parts.present) > MAX_PRESENT_POSITIVE:
            return None
        sums = self.certain_sums(Cases.from_parts([parts], self.structure))
        if not sums.ok[0]:
            return None
        causes, groups = sums.posteriors()
        return Posterior(causes[0], groups[0], float(sums.total[0]))

    # -- batches -------------------------------------------------------------------------
    def certain_sums(self, cases: Cases, groups: bool = True) -> Sums:
        """Quickscore first; cases it cannot certify (cancellation) are redone as sums of
        positive terms (:mod:`._positive`), which are always certain. Past
        MAX_PRESENT_POSITIVE present findings nothing is computed (``ok`` is False)."""
        m = cases.present.shape[1]
        if m > MAX_PRESENT_POSITIVE:
            nan = np.full(len(cases), np.nan)
            return Sums(nan, np.full((len(cases), self.n), np.nan),
                        np.full((len(cases), self._n_groups), np.nan), nan.copy())
        if m > MAX_PRESENT:
            return positive_sums(self, cases, groups)
        return self._positive_where_uncertain(self.sums(cases, groups=groups), cases, groups)

    def _positive_where_uncertain(self, sums: Sums, cases: Cases, groups: bool) -> Sums:
        """``sums`` with the cases Quickscore could not certify redone as positive sums."""
        redo = np.flatnonzero(~sums.ok)
        if len(redo):
            sums.put(redo, positive_sums(self, cases.take(redo), groups))
        return sums

    def sums(self, cases: Cases, groups: bool = True) -> Sums:
        """Unnormalised answers for every case, in bounded-memory chunks.

        ``groups=False`` skips the group probabilities (``none`` is NaN).
        """
        m = cases.present.shape[1]
        hubs = len(self._hub_prior)
        # the largest intermediates per case: (hubs, subsets) times units, groups or
        # singles, each larger unit's readouts and its configurations' weights (the
        # weighted tables themselves do not grow with the cases)
        widest = 2 * self._n_groups + 2 * len(self.units) + len(self._single_causes)
        per_case = hubs * 2 ** m * widest + sum(
            (hubs * len(r) + len(configs)) * 2 ** m
            for configs, r, _ in self._readouts.values())
        size = max(1, _cases.CHUNK_ELEMENTS // per_case)
        if len(cases) <= size:
            return self._sums(cases, groups)
        parts = [self._sums(cases.take(np.arange(start, min(start + size, len(cases)))),
                            groups) for start in range(0, len(cases), size)]
        return Sums.join(parts)

    def _tables(self, cases: Cases):
        """P(h) per case (C, H); the constant; per unit, its distinct tables given the
        evidence (D, rows, K) and which one each case uses (C,).

        A batch whose rows all carry the same risk-factor masks (one query, or the
        variants of one) reads P(h) and the tables from a cache keyed by those masks:
        they depend on nothing else, and a diagnosis would otherwise contract the
        same tables again for every query it makes."""
        count = len(cases)
        key = _same_masks(cases.masks) if count else None
        if key is not None:
            kept = self._kept.get(key)
            if kept is None:
                first = Cases({k: v[:1] for k, v in cases.masks.items()},
                              cases.weight[:1], cases.constant[:1], cases.present[:1],
                              cases.steps[:1])
                hub_p, _, tables = self._compute_tables(first)
                hub_p = _frozen(np.array(hub_p))
                tables = [(_frozen(t), _frozen(which)) for t, which in tables]
                single = _frozen(self._single_tables(tables, (0, 1, len(self._hub_prior), 2)))
                live = _live(hub_p)
                if live is not None:
                    live = _frozen(live)
                kept = (hub_p, tables, single, live, self._cut_to(tables, single, live))
                self._kept.put(key, kept)
            hub_p, tables, single, live, cut = kept
            zeros = np.zeros(count, dtype=np.intp)
            out = _Tables((t, zeros if count > 1 else which) for t, which in tables)
            out.single, out.live, out.cut = single, live, cut
            return np.broadcast_to(hub_p, (count, hub_p.shape[1])), \
                self._loose_constant(cases), out
        if count > ROWS_KEPT:
            return self._compute_tables(cases)
        # a few rows whose masks differ: the risk factors' answers of a question
        # ranking, the same at every ranking of the same evidence
        key = tuple((name, masks.shape, masks.tobytes())
                    for name, masks in sorted(cases.masks.items()))
        kept = self._kept_rows.get(key)
        if kept is None:
            hub_p, _, tables = self._compute_tables(cases)
            kept = (_frozen(np.array(hub_p)),
                    [(_frozen(t), _frozen(which)) for t, which in tables])
            self._kept_rows.put(key, kept)
        return kept[0], self._loose_constant(cases), kept[1]

    def _single_tables(self, tables, empty: tuple[int, ...]) -> np.ndarray:
        """Each single cause's table per case, stacked (n1, C, H, 2); ones of shape
        ``empty`` when there is no single cause."""
        if not len(self._single_causes):
            return np.ones(empty)
        return np.stack([tables[u][0][tables[u][1]] for u in self._single])

    def _weighted(self, u: int, distinct: np.ndarray) -> np.ndarray:
        """Unit ``u``'s distinct tables times its readout columns, as one matrix
        (D * rows * R, K)."""
        configs, columns, _ = self._readouts[u]
        return (distinct[:, :, None, :] * columns).reshape(-1, len(configs))

    def _loose_constant(self, cases: Cases) -> np.ndarray:
        """The cases' constant times the masked prior of each risk factor that touches
        no cause."""
        constant = cases.constant
        for name in self.loose:
            if name in cases.masks:
                constant = constant * (cases.masks[name] @ self._risk[name].prior)
        return constant

    def _compute_tables(self, cases: Cases):
        """:meth:`_tables` without the cache."""
        count = len(cases)
        hub_p = np.broadcast_to(self._hub_prior, (count, len(self._hub_prior)))
        for k, name in enumerate(self.hubs):
            if name in cases.masks:
                hub_p = hub_p * cases.masks[name][:, self._hub_states[:, k]]
        constant = self._loose_constant(cases)
        tables = []
        for u, (table, default, private) in enumerate(
                zip(self._unit_tables, self._default, self._private)):
            used = [k for k, r in enumerate(private) if r in cases.masks]
            if not used:
                tables.append((default[None], np.zeros(count, dtype=np.intp)))
                continue
            # weight the private axes by the masks of the evidence and sum them; cases
            # share few distinct masks (a cohort's yes / no / unknown, or the answers
            # of a question ranking), so contract each distinct one once
            stacked = np.concatenate([cases.masks[private[k]] for k in used], axis=1)
            distinct, inverse = np.unique(stacked, axis=0, return_inverse=True)
            split = np.cumsum([cases.masks[private[k]].shape[1] for k in used])[:-1]
            batch = table.ndim
            operands: list = [table, list(range(table.ndim))]
            for k, mask in zip(used, np.split(distinct, split, axis=1)):
                operands += [mask, [batch, k + 1]]
            operands.append([batch, 0, table.ndim - 1])
            # the contraction order depends on the shapes only: planned once per shape
            key = (u, tuple(used), len(distinct))
            path = self._paths.get(key)
            if path is None:
                path = self._paths[key] = np.einsum_path(*operands, optimize="greedy")[0]
            tables.append((np.einsum(*operands, optimize=path), inverse.ravel()))
        return hub_p, constant, tables

    def _none_of_groups(self, coef_h, g, absent, readouts) -> np.ndarray:
        """Unnormalised P(no cause of the group, e) per case and group: the group's
        single causes absent (T[no] in place of their unit's sum), and each larger unit
        it touches read out as "none of the group present" (``_none_rows``)."""
        parts = [g, np.broadcast_to(absent, absent.shape[:1] + g.shape[1:])]
        parts += [readouts[u][1 + len(self.units[u]):] for u in self._multi]
        stack = np.concatenate(parts)  # (rows, C, H, S)
        # groups gathered a slice at a time: all at once for one query, and for a batch
        # slices no larger than the stack itself, which the chunk size already bounds
        rows = self._none_rows
        step = len(rows) if len(coef_h) == 1 else max(1, len(stack) // rows.shape[1])
        none = np.concatenate([np.prod(stack[rows[j:j + step]], axis=1)
                               for j in range(0, len(rows), step)])
        return np.einsum("chs,gchs->cg", coef_h, none)

    def _coefficients(self, cases: Cases, parts=None):
        """Per case: the signed Quickscore coefficient of every hub configuration and
        subset S (C, H, S), the cause weights w_S (C, S, causes) and the unit tables
        (``parts``: :meth:`_tables` of these cases, when already known)."""
        hub_p, constant, tables = self._tables(cases) if parts is None else parts
        m = cases.present.shape[1]
        subsets = _subsets(m)
        n_sub = len(subsets)

        # per case and subset S: the cause weights w_S and the signed coefficient
        w = np.repeat(cases.weight[:, None, :], n_sub, axis=1)
        coef = np.repeat(constant[:, None], n_sub, axis=1)
        q, keep = self._q, self._keep
        for j in range(m):
            chosen = subsets[:, j]
            w[:, chosen, :] *= q[cases.present[:, j]][:, None, :]
            coef[:, chosen] *= -keep[cases.present[:, j]][:, None]
        return hub_p[:, :, None] * coef[:, None, :], w, tables

    def _unit_factors(self, tables, w: np.ndarray, count: int,
                      live: np.ndarray | None = None):
        """Each unit's weighted sum g_U (C, H, S), single units first: returns the
        single causes' "absent" parts (n1, C or 1, H, 1) and "present" parts (n1, C, H, S),
        g (units, C, H, S), and each larger unit's readouts (R, C, H, S). ``live``: only
        these hub configurations (H of them), where None means all."""
        n_sub = w.shape[1]
        # Arrays below put the unit (or cause, or readout) first: every step is then
        # a short Python loop over units of whole contiguous (C, H, S) blocks.
        # Single-cause units: g = T[no] + T[yes] * w
        single = self._single_causes
        n1 = len(single)
        # every case's tables alike: kept, and cut to the live configurations
        cut = tables.cut if isinstance(tables, _Tables) and live is tables.live else None
        if cut is not None:
            absent, yes = cut[0]  # (n1, 1, H, 1) each
        else:
            t_single = self._single_tables(tables, (n1, count, len(self._hub_prior), 2))
            if live is not None:
                t_single = t_single[:, :, live]
            absent, yes = t_single[..., 0, None], t_single[..., 1, None]  # (n1, C, H, 1)
        yes_single = yes * w[:, :, single].transpose(2, 0, 1)[:, :, None]  # (n1, C, H, S)
        singles = absent + yes_single
        # larger units: every readout of the weighted sum over configurations at once
        readouts = {}
        phis = self._phis(w)
        for u in self._multi:
            configs, columns, _ = self._readouts[u]
            phi = phis[..., self._phi_slices[u]]
            distinct, which = tables[u]
            # every distinct table against every case's weights in one matrix product,
            # then each case keeps its own table's rows (few tables: yes / no / unknown)
            if cut is not None:
                weighted, rows = cut[1][u]
            else:
                weighted = self._weighted(u, distinct)
                rows = self._rows[u] if live is None else self._rows[u][live]
            out = weighted @ phi.reshape(-1, len(configs)).T
            out = out.reshape(len(distinct), -1, len(columns), count, n_sub)
            out = out[which, :, :, np.arange(count)] if len(distinct) > 1 else out[0]
            # from (rows, R, C, S) or (C, rows, R, S) to (R, C, H, S), contiguous, in one
            # take (twice as fast as indexing, then copying)
            order = (1, 2, 0, 3) if len(distinct) == 1 else (2, 0, 1, 3)
            readouts[u] = np.take(out.transpose(order), rows, axis=2)
        g = np.concatenate([singles, *(readouts[u][:1] for u in self._multi)])
        return absent, yes_single, g, readouts

    def _cut_to(self, tables, single: np.ndarray,
                live: np.ndarray | None) -> tuple[tuple[np.ndarray, np.ndarray], dict]:
        """What :meth:`_unit_factors` reads from the tables of cases that share their
        masks, cut to the hub configurations ``live`` (None: all) those masks leave,
        once per pattern of masks (kept with the tables): the single causes' tables
        (``single``, (n1, 1, H, 2)) as their "absent" and "present" parts (n1, 1, H, 1),
        and per larger unit, its table times its readout columns (:meth:`_weighted`) on
        the rows those configurations use, and the row each one reads."""
        units = {}
        for u in self._multi:
            rows = self._rows[u] if live is None else self._rows[u][live]
            used, rows = np.unique(rows, return_inverse=True)
            matrix = np.ascontiguousarray(self._weighted(u, tables[u][0][:, used]))
            units[u] = (_frozen(matrix), _frozen(rows.ravel()))
        if live is not None:
            single = single[:, :, live]
        absent, yes = (_frozen(np.ascontiguousarray(single[..., k, None])) for k in (0, 1))
        return (absent, yes), units

    def _phis(self, w: np.ndarray, index: np.ndarray | None = None) -> np.ndarray:
        """:meth:`_phi` of every larger unit side by side (..., S, configurations of all;
        a unit's are ``[..., self._phi_slices[u]]``), or of the columns of ``index``
        (part of ``_phi_index``): one gather, then the products down its members, the
        same products in the same order as member by member (``n`` names an exact one)."""
        index = self._phi_index if index is None else index
        ones = np.ones(w.shape[:-1] + (1,))
        return np.prod(np.concatenate([w, ones], axis=-1)[..., index], axis=-2)

    def _phi(self, u: int, w: np.ndarray) -> np.ndarray:
        """(..., S, K): the weight of each configuration K of larger unit ``u``, the
        product of its present members' weights (``w``: (..., S, causes)), multiplied
        in the order of its members."""
        return self._phis(w, self._phi_index[:len(self.units[u]), self._phi_slices[u]])

    def sums_with_variants(self, cases: Cases) -> tuple[Sums, SubsetSums | VariantSums]:
        """:meth:`certain_sums` of one case with at most MAX_PRESENT_POSITIVE present
        findings, and the sums its counterfactual variants are read from: Quickscore's
        by subset where it certifies the case (tried up to QUICKSCORE_VARIANTS present
        findings), else the positive recursion's (:func:`._positive.positive_variants`,
        every variant certain, at little more than the cost of the case alone)."""
        if cases.present.shape[1] <= QUICKSCORE_VARIANTS:
            sums, subsets = self._sums(cases, True, subsets=True)
            if sums.ok[0]:
                return sums, subsets
        return positive_variants(self, cases)

    def _sums(self, cases: Cases, groups: bool, subsets: bool = False):
        count, m = cases.present.shape
        n_sub = 2 ** m
        # only the hub configurations some case can be in: each stated age band or hub
        # risk factor rules out a share of them, whose terms are all zero
        hub_p, constant, tables = self._tables(cases)
        live = tables.live if isinstance(tables, _Tables) else _live(hub_p)
        if live is not None:
            hub_p = hub_p[:, live]
        coef_h, w, tables = self._coefficients(cases, (hub_p, constant, tables))
        absent, yes_single, g, readouts = self._unit_factors(tables, w, count, live)
        others = _products_but_one(g)  # per unit: the product over every other unit
        full = others[0] * g[0]

        terms = coef_h * full
        total = terms.sum(axis=(1, 2))
        # the terms alternate in sign. Each carries the rounding of its own arithmetic,
        # at most `arithmetic` times eps of its size (summing over hubs, then subsets,
        # adds at most (H - 1) + (S - 1) more), and that of its inputs, `tables`
        # times eps of P(e) (:func:`_quickscore_error`). Every marginal's numerator
        # adds terms no larger elementwise, so the same bound covers them.
        arithmetic = (self._term_steps - self._table_steps + m * (self.n + 1)
                      + terms.shape[1] + n_sub)
        tables_steps = self._table_steps + cases.steps
        error = _quickscore_error(arithmetic, tables_steps, np.abs(terms).sum(axis=(1, 2)),
                                  total)

        # each cause's numerator: its "present" part (a single cause's T[yes] w, a larger
        # unit's readout of the member) times every other unit's factor; by subset when
        # asked for (the causes are then their sums)
        single, n1 = self._single_causes, len(self._single_causes)
        spec = "chs,kchs->cks" if subsets else "chs,kchs->ck"
        by = np.empty((count, self.n, n_sub) if subsets else (count, self.n))
        if n1:
            by[:, single] = np.einsum(spec, coef_h, others[:n1] * yes_single)
        for pos, u in enumerate(self._multi, start=n1):
            members = self.units[u]
            by[:, members] = np.einsum(spec, coef_h * others[pos],
                                       readouts[u][1:1 + len(members)])
        causes = by.sum(axis=2) if subsets else by
        by_cause = by if subsets else None
        if groups:
            none = self._none_of_groups(coef_h, g, absent, readouts)
        else:
            none = np.full((count, self._n_groups), np.nan)
        sums = Sums(total, causes, none, error)
        if by_cause is None:
            return sums
        return sums, SubsetSums(cases.present[0], _subsets(m), terms[0].sum(axis=0),
                                by_cause[0].T, np.abs(terms[0]).sum(axis=0),
                                float(arithmetic), float(tables_steps[0]))


def _quickscore_error(arithmetic, tables, magnitude, total):
    """A bound on the rounding error of Quickscore's alternating sum.

    ``arithmetic`` steps round each term (the subset weights, each unit's sum over its
    configurations, the product across units, the sums over hubs and subsets): that
    error is relative to each term, so it counts against ``magnitude``, the sum of the
    terms' sizes, which cancellation can make far larger than P(e). The ``tables``
    steps round what the terms are made of (the unit tables, the hub prior, the
    weights and constant of the absent findings). Quickscore's sum is exact algebra:
    with those inputs as rounded it equals P(e) of slightly perturbed tables, and P(e)
    is a sum of products of them with nonnegative coefficients, so their error is
    relative to P(e) itself, bounded through the computed total and the first error.
    """
    first = arithmetic * EPS * magnitude
    return first + tables * EPS * (np.abs(total) + first)


@dataclass(frozen=True, eq=False)
class SubsetSums:
    """One case's Quickscore sums by subset S of its present findings, before the
    alternating sum: ``total`` (S,) and ``causes`` (S, causes) hold the signed terms
    summed over the hub configurations, ``magnitude`` (S,) their absolute values,
    ``subsets`` (S, m) which findings each subset holds, ``present`` (m,) the findings
    (indices into Structure.findings), ``steps`` the rounding steps of one term's
    arithmetic and ``tables`` those of its inputs (see :func:`_quickscore_error`).

    The variants of a counterfactual score are partial sums of these terms: the
    evidence with present finding j taken out is the sum over the subsets without j
    (the same terms, the same coefficients), and with j reported absent instead, minus
    the sum over the subsets with j (its weight q_j and keep_j are in those terms;
    the minus undoes the sign Quickscore gives j). See :meth:`variant`."""

    present: np.ndarray
    subsets: np.ndarray
    total: np.ndarray
    causes: np.ndarray
    magnitude: np.ndarray
    steps: float
    tables: float

    def variant(self, j: int, absent: bool) -> tuple[float, np.ndarray, float]:
        """P(e'), P(cause, e') and a bound on their rounding error for the evidence
        with present finding ``j`` (its position in ``present``) taken out
        (``absent=False``) or reported absent (``absent=True``)."""
        rows = self.subsets[:, j] if absent else ~self.subsets[:, j]
        sign = -1.0 if absent else 1.0
        total = sign * float(self.total[rows].sum())
        # the same terms, so the same bound: the variant's P(e') is also a positive
        # function of the tables
        return (total, sign * self.causes[rows].sum(axis=0),
                float(_quickscore_error(self.steps, self.tables,
                                        float(self.magnitude[rows].sum()), total)))


class _Tables(list):
    """:meth:`FactoredEngine._tables` of cases that share their masks, with what is read
    from them computed once: the single causes' tables stacked (``single``, (n1, 1, H,
    2)), the hub configurations the masks leave (``live``, see :func:`_live`) and what
    :meth:`FactoredEngine._unit_factors` reads, cut to those (``cut``, see
    :meth:`FactoredEngine._cut_to`)."""

    single: np.ndarray
    live: np.ndarray | None
    cut: tuple


def _same_masks(masks: Mapping[str, np.ndarray]) -> tuple | None:
    """The masks as a hashable key when every case carries the same ones, else None."""
    key = []
    for name in sorted(masks):
        mask = masks[name]
        if len(mask) > 1 and not (mask == mask[0]).all():
            return None
        key.append((name, mask[0].tobytes()))
    return tuple(key)


def _live(hub_p: np.ndarray) -> np.ndarray | None:
    """The hub configurations with P(h) > 0 in some row of ``hub_p`` (C, H), or None
    when every one is (or none is: impossible evidence, whose terms are zero anyway)."""
    live = (hub_p > 0.0).any(axis=0)
    if live.all() or not live.any():
        return None
    return np.flatnonzero(live)


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


QUICKSCORE_VARIANTS = 2
"""Present findings up to which a posterior with its counterfactual variants
(:meth:`FactoredEngine.sums_with_variants`) tries Quickscore first. Beyond, the
positive recursion answers straight away: Quickscore seldom certifies three present
findings, and its pass is then wasted (measured with benchmarks/ab.py on the shipped
priors, 16 cases: ``diagnose`` at m = 3 2.12 ms straight away against 2.47 with
Quickscore first; at m = 2 straight away was 1.6 times slower)."""


SMALL_BLOCK = 192
"""Entries per unit (cases x hubs x subsets) up to which :func:`_products_but_one`
takes cumulative products: measured on this machine, np.cumprod along the first axis
wins below about 200 entries (12 against 26 us at 64) and loses above (221 against
47 us at 1536)."""


def _products_but_one(values: np.ndarray) -> np.ndarray:
    """For each entry along the first axis, the product of all the others: the product
    of those before it times that of those after it, each multiplied in order."""
    out = np.empty_like(values)
    if not len(values):
        return out
    out[0] = 1.0
    if values[0].size <= SMALL_BLOCK:  # one query with few present findings
        np.cumprod(values[:-1], axis=0, out=out[1:])
        out[:-1] *= np.cumprod(values[:0:-1], axis=0)[::-1]
        return out
    # larger blocks: a loop of whole-block products, for the same bits (np.cumprod
    # along the first axis costs about 0.14 us an entry: 6x the loop at 3072 entries)
    for k in range(1, len(values)):
        np.multiply(out[k - 1], values[k - 1], out=out[k])
    after = values[-1].copy()
    for k in range(len(values) - 2, -1, -1):
        out[k] *= after
        after *= values[k]
    return out


@functools.lru_cache(maxsize=None)
def _subsets(m: int) -> np.ndarray:
    """Every subset of m items, as a (2**m, m) boolean array (read-only, kept)."""
    return _frozen(np.array(list(itertools.product((0, 1), repeat=m)),
                            dtype=bool).reshape(2 ** m, m))

