"""Choosing an exact engine for each batch of cases, by its estimated cost.

Three engines give the same answers (tested to 1e-9 against each other, brute force and
pgmpy) at different costs:

- the factored engine (:mod:`._factored`: Quickscore, then the positive recursion of
  :mod:`._positive` for what Quickscore cannot certify), vectorised over cases that
  differ in which findings are present: the cheapest with few present findings, few hub
  risk factors and small units of linked causes, and the only one that batches a cohort
  whose rows all differ;
- variable elimination with positive terms (:mod:`._elimination`), whose cost follows
  how the present findings and causes are wired, not their number: it answers every
  case, at any number of causes, present findings or linked causes;
- enumeration of all cause configurations (:mod:`._engine`), 2**n entries whatever the
  evidence: on small networks it can beat elimination when many findings are present.

:class:`Engines` holds the three (the enumeration table only where there are at most
``ENUMERATE_CAUSES`` causes, built when first chosen) and sends each batch to the
cheapest that can answer it with certainty. Every answer it returns is certain to
``ERROR_LIMIT`` of P(evidence).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property

import numpy as np

from ..errors import EngineLimitError, ImpossibleEvidenceError
from ._cases import ERROR_LIMIT, MAX_PRESENT_POSITIVE, Cases, Sums
from ._elimination import EliminationEngine, SilentSums
from ._engine import ExactEngine, Posterior
from ._factored import FactoredEngine, SubsetSums
from ._positive import VariantSums
from ._structure import Structure
from ._threads import one_thread

ENUMERATE_CAUSES = 20  # 2**20 entries, 8 MiB: the largest table worth enumerating
# entries the factored engine may touch per case before elimination is preferred
FACTORED_BUDGET = 3e6  # measured crossover on the shipped priors: m = 6 (2.6 ms against 2.2)
# a batch of rows that differ in their present findings goes to the factored engine
# (one batch) up to this cost per row, and to elimination (one plan per pattern,
# planning included) beyond: measured on the shipped priors (30 causes, 7 hubs) with
# rows of 10 random stated ids, factored against elimination with a new plan per row:
# m = 5 (cost 8e6) 15 ms against 20, m = 6 (1.8e7) 32 against 22, m = 8 (9e7) 122
# against 31 ms per row
BATCH_BUDGET = 1.2e7
# calibrated on the shipped priors (one BLAS thread): enumeration makes about six
# passes over its 2**n entries plus one per present finding, at numpy's full speed
# (about 3 ns an entry); elimination touches its plan's cost about three times
# (forward, backward) in smaller, strided arrays (15-25 ns per unit of cost, measured
# at m = 11-15) and pays Python's overhead per step
# counterfactual scores: below this factored cost of their 2m evidence variants, the
# variants beat one elimination pass with its per-finding paths (measured on the
# shipped priors: m = 2, 0.8 ms against 2.3; m = 3, 3.8 ms against 2.5)
VARIANTS_BUDGET = 5e5
# an explanation's leave-one-out: below this factored cost of its variants, they beat
# the derivatives of an elimination pass (measured: m = 2, 3.9 ms against 6.6). The
# cost counts each variant at the present findings it keeps: at m = 2 most variants
# take out an absent finding or a risk factor and keep both, which Quickscore often
# cannot certify; counted at m - 1 they were sent to the factored engine, and
# elimination is 1.23x faster there (benchmarks/ab.py, 16 cases). Raised from 1e6 when
# the Baker's cyst unit grew to 8 causes (31 causes, December 2026): that doubled the
# factored cost, so at m = 0 the 8 variants came to 1.1e6 and went to elimination, where
# an explanation took 3.4-10 ms against 1.9-3.5 through the factored engine (10 cases);
# at m = 1 (2.3e6) the two were even then, at m = 2 (4.8e6) elimination was faster in 8
# of 10. Raised to 3e6 (m = 1 with eight stated ids) when measured again on 5 December
# 2026: at m = 1 the factored variants (Quickscore certified them) were 1.5-1.6x faster
# than elimination (benchmarks/ab.py, 16 and 24 cases); m = 0 and 2 unchanged
WITHOUT_BUDGET = 3e6
# a single posterior, and the counterfactual variants its scores need, through the
# factored engine up to this cost: Quickscore's sums by subset where it certifies the
# case, else the positive recursion with one backward column per variant (measured on
# the shipped priors with benchmarks/ab.py, 16 cases: `diagnose` 2.0 and 2.5 ms at m = 3
# and 4 against 3.3 and 4.2 through elimination with the silent sums; at m = 5, cost
# 8e6, 7.0 against 4.7)
VARIANTS_COST = 4e6
ENUMERATION_PASSES = 6
ELIMINATION_WEIGHT = 8.0
ELIMINATION_STEP = 1e4


class Engines:
    """The exact engines of one structure and the rule that picks one per batch."""

    def __init__(self, structure: Structure):
        self.structure = structure
        self.n = len(structure.causes)
        try:
            self.factored: FactoredEngine | None = FactoredEngine(structure)
        except EngineLimitError:  # causes linked into a unit too large for its tables
            self.factored = None
        self.elimination = EliminationEngine(structure)
        # the silent sums the last posterior read on the way (evidence key, sums):
        # replaced whole, so threads sharing the engines see one pair or the other
        self._kept: tuple[tuple, SilentSums] | None = None

    @cached_property
    def enumeration(self) -> ExactEngine | None:
        """The enumeration engine, where the network is small enough for its table."""
        if self.n > ENUMERATE_CAUSES:
            return None
        return ExactEngine(self.structure)

    # -- choosing ------------------------------------------------------------------------
    def choose(self, cases: Cases) -> str:
        """``"factored"``, ``"elimination"`` or ``"enumeration"`` for a batch of cases
        with the same number of present findings."""
        m = cases.present.shape[1]
        if self.factored is not None and m <= MAX_PRESENT_POSITIVE:
            # a batch of rows that differ in their present findings: only the factored
            # engine takes them all in one batch (elimination plans each pattern), which
            # pays while its cost per row stays under BATCH_BUDGET
            cost = self.factored.cost(m)
            if cost <= FACTORED_BUDGET or (len(cases) > 1 and cost <= BATCH_BUDGET):
                return "factored"
        if self.n <= ENUMERATE_CAUSES and len(cases) == 1:
            plan = self.elimination.plan(cases.present[0], tuple(cases.masks))
            enumeration = 2.0 ** self.n * (ENUMERATION_PASSES + m)
            if enumeration < ELIMINATION_WEIGHT * plan.cost + ELIMINATION_STEP * len(plan.ops):
                return "enumeration"
        return "elimination"

    def certain_sums(self, cases: Cases, groups: bool = True) -> Sums:
        """Unnormalised answers for cases with the same number of present findings,
        each certain to ERROR_LIMIT (P(e) = 0 where the evidence is impossible)."""
        with one_thread():
            return self._certain_sums(cases, groups)

    def _certain_sums(self, cases: Cases, groups: bool) -> Sums:
        kind = self.choose(cases)
        if kind == "factored" and self.factored is not None:  # chosen only if it exists
            return self._backed(self.factored.certain_sums(cases, groups), cases, groups)
        if kind == "enumeration":
            return self._enumerated(cases)
        return self.elimination.sums(cases, groups)

    def _backed(self, sums: Sums, cases: Cases, groups: bool) -> Sums:
        """The factored engine's certain sums, any row it still could not certify
        recomputed by elimination (never expected: positive sums are certain)."""
        redo = np.flatnonzero(~sums.ok & (sums.total > 0.0))
        if len(redo):
            sums.put(redo, self.elimination.sums(cases.take(redo), groups))
        return sums

    def _enumerated(self, cases: Cases) -> Sums:
        engine = self.enumeration
        if engine is None:  # chosen only for networks small enough for its table
            raise EngineLimitError(f"{self.n} causes are too many for the enumeration "
                                   f"engine (at most {ENUMERATE_CAUSES}).")
        rows = []
        for k in range(len(cases)):
            table = engine.joint_from_cases(cases, k)
            rows.append(engine.sums(table))
        total = np.array([r[2] for r in rows], dtype=float)
        # enumeration adds positive terms only: the relative error is small (each
        # entry is a product of at most n + m + risk factors, summed in halves)
        error = (4 * self.n + 2 * cases.present.shape[1] + 64) * 2.2e-16 * total
        return Sums(total, np.array([r[0] for r in rows]), np.array([r[1] for r in rows]),
                    error)

    def posterior(self, evidence: Mapping[str, bool]) -> Posterior:
        """Exact posteriors for checked evidence (one case).

        Up to a factored cost of ``VARIANTS_COST`` (m <= 3 on the shipped priors) the
        factored engine answers and the answer carries the sums its counterfactual
        variants are read from (``Posterior.quickscore``, read by :meth:`variants`):
        Quickscore's by subset where it certifies the case, else the positive
        recursion's, one backward column per variant. Beyond, where elimination
        answers and the counterfactual scores of the same evidence would need
        :meth:`silent_sums`, its backward pass also reads them (a diagnosis asks for
        both, one after the other) and keeps them for that call, so the diagnosis
        runs the plan once."""
        parts = self.structure.split_evidence(evidence)
        cases = Cases.from_parts([parts], self.structure)
        if parts.present and self._carries_variants(len(parts.present)):
            # the counterfactual variants come with the answer: Quickscore's terms by
            # subset (SubsetSums), or the positive recursion's columns (VariantSums)
            assert self.factored is not None  # (_carries_variants)
            with one_thread():
                sums, variants = self.factored.sums_with_variants(cases)
                answer = self._backed(sums, cases, True).first()
            return Posterior(answer.causes, answer.groups, answer.evidence_probability,
                             (_key(evidence), variants))
        kind = self.choose(cases) if parts.present else "factored"
        if kind == "elimination" and self.counterfactual_route(evidence) == "silent":
            with one_thread():
                sums, silent = self.elimination.sums_with_silent(cases)
            self._kept = (_key(evidence), silent)
            return sums.first()
        return self.certain_sums(cases).first()

    def route(self, evidence: Mapping[str, bool]) -> str:
        """The engine :meth:`posterior` answers this checked evidence with:
        ``"factored"``, ``"elimination"`` or ``"enumeration"``. Not :meth:`choose`
        alone: up to ``VARIANTS_COST`` a single case goes to the factored engine, for
        its counterfactual variants, where a batch of such cases would not."""
        parts = self.structure.split_evidence(evidence)
        if parts.present and self._carries_variants(len(parts.present)):
            return "factored"
        return self.choose(Cases.from_parts([parts], self.structure))

    def _carries_variants(self, m: int) -> bool:
        """Whether a posterior with m present findings comes from the factored engine
        with its counterfactual variants (:meth:`FactoredEngine.sums_with_variants`)."""
        return (self.factored is not None and m <= MAX_PRESENT_POSITIVE
                and self.factored.cost(m) <= VARIANTS_COST)

    def counterfactual_route(self, evidence: Mapping[str, bool]) -> str:
        """How the counterfactual scores of this evidence are cheapest: ``"variants"``
        (its 2m evidence variants through the factored engine, few present findings)
        or ``"silent"`` (:meth:`silent_sums`)."""
        findings = self.structure._lookup[0]
        m = sum(1 for name, value in evidence.items() if value and name in findings)
        if self._carries_variants(m):  # the posterior brings them (see posterior)
            return "variants"
        if self.factored is not None and m <= MAX_PRESENT_POSITIVE + 1 and \
                self.factored.cost(max(m - 1, 0)) * 2 * m <= VARIANTS_BUDGET:
            return "variants"
        return "silent"

    def silent_sums(self, evidence: Mapping[str, bool]) -> SilentSums:
        """The sums of the counterfactual scores for checked evidence (one case, see
        :class:`~._elimination.SilentSums`): one forward and one backward pass of the
        elimination plan and a short pass per present finding, instead of one query per
        evidence variant."""
        kept = self._kept
        if kept is not None and kept[0] == _key(evidence):
            return kept[1]
        parts = self.structure.split_evidence(evidence)
        with one_thread():
            return self.elimination.silent_sums(Cases.from_parts([parts], self.structure))

    def cause_without(self, evidence: Mapping[str, bool],
                      removals: Sequence[Sequence[str]], cause: int) -> np.ndarray:
        """P(cause | evidence without the ids of each removal), one per removal (an
        explanation's leave-one-out for one cause). A present finding taken out alone, or
        risk answers that all state one node, come from the derivatives of one
        elimination pass (two rows: P(e) and P(cause, e)); other removals (a finding
        reported absent, several ids at once) run as variants through the plan.
        Raises ImpossibleEvidenceError for evidence of probability zero."""
        structure = self.structure
        parts = structure.split_evidence(evidence)
        # a variant keeps every present finding it does not take out (taking out an
        # absent finding or a risk factor leaves all m), and the factored engine's cost
        # grows with them
        present = {name for name, value in evidence.items()
                   if value and name not in structure.risk_evidence}
        m = len(parts.present)
        if self.factored is not None and m <= MAX_PRESENT_POSITIVE + 1 and sum(
                self.factored.cost(m - len(present.intersection(removed)))
                for removed in removals) <= WITHOUT_BUDGET:
            # few present findings: the variants are cheaper
            return np.array([p.causes[cause] for p in
                             self.without(evidence, removals, groups=False)])
        cases = Cases.from_parts([parts], structure)
        unary = np.ones((2, self.n, 2))
        unary[:, :, 1] = cases.weight
        unary[1, cause, 0] = 0.0  # row 1: P(cause, e)
        with one_thread():
            sums = self.elimination.removal_sums(cases, unary)
        if not sums.total[0] > 0.0:
            raise ImpossibleEvidenceError(
                "The evidence has probability zero under the model; check the reported "
                "values.")
        position = {structure.findings[j].name: t for t, j in enumerate(sums.present)}
        out = np.empty(len(removals))
        rest: list[int] = []
        for r, removed in enumerate(removals):
            # risk answers that all state one node (one risk factor, or both age bands
            # answered "no": then also "all risk factors") change only its mask
            nodes = {structure.risk_evidence[name][0] if name in structure.risk_evidence
                     else "" for name in removed}  # "": not a risk answer
            if len(removed) == 1 and removed[0] in position:
                both = sums.without[:, position[removed[0]]]
            elif len(nodes) == 1 and "" not in nodes:
                node = nodes.pop()
                left = structure.split_evidence(
                    {k: v for k, v in evidence.items() if k not in removed})
                mask = left.masks.get(node, np.ones(structure.cardinality(node)))
                both = sums.risk[node] @ mask
            else:
                rest.append(r)
                continue
            out[r] = both[1] / both[0] if both[0] > 0.0 else np.nan
        # as variants through the plan, forward only: P(e') and P(cause, e'); those
        # that keep every risk answer apart, on the engine cut to them, whose plan is
        # several times cheaper than the one that must keep every risk state
        risky = [r for r in rest if structure.risk_evidence.keys() & set(removals[r])]
        for batch in ([r for r in rest if r not in risky], risky):
            if not batch:
                continue
            rows, ends = self._variant_rows(
                evidence, [dict.fromkeys(removals[r]) for r in batch])
            rows = rows.take(np.arange(1, len(batch) + 1))
            count = len(batch)
            unary = np.ones((2, count, self.n, 2))
            unary[..., 1] = rows.weight
            unary[1, :, cause, 0] = 0.0
            with one_thread():
                both = self.elimination.pattern_roots(rows, unary, ends[1:])
            for k, r in enumerate(batch):
                out[r] = both[1, k] / both[0, k] if both[0, k] > 0.0 else np.nan
        return np.clip(out, 0.0, 1.0)

    def without(self, evidence: Mapping[str, bool],
                removals: Sequence[Sequence[str]], groups: bool = True) -> list[Posterior]:
        """Posteriors with each group of reported ids in ``removals`` taken out of the
        evidence, all in one batch (see :meth:`variants`): a leave-one-out explanation
        costs one batch, not one query per item. ``groups=False`` leaves the group
        probabilities out (NaN), which spares the work they need."""
        sums = self.variants(evidence, [dict.fromkeys(removed) for removed in removals],
                             groups=groups)
        if not sums.total[0] > 0.0:
            raise ImpossibleEvidenceError(
                "The evidence has probability zero under the model; check the reported "
                "values.")
        if sums.none is None:  # left out: NaN, as the factored path leaves them
            sums = Sums(sums.total, sums.causes,
                        np.full((len(sums.total), len(self.structure.groups)), np.nan),
                        sums.error)
        causes, by_group = sums.posteriors()
        return [Posterior(causes[k], by_group[k], float(sums.total[k]))
                for k in range(1, len(sums.total))]

    def variants(self, evidence: Mapping[str, bool],
                 changes: Sequence[Mapping[str, bool | None]], groups: bool = True,
                 first: Posterior | None = None) -> Sums:
        """Unnormalised answers for the evidence (row 0) and each variant of it (rows
        1...), in one batch through the elimination plan of the evidence; with few
        present findings, through the factored engine instead (one batch per number of
        present findings: a variant that takes a present finding out, or reports it
        absent, has one fewer), where its cost is below ``FACTORED_BUDGET``.

        ``groups=False`` leaves the group sums out (``none`` may then be NaN or
        missing). ``first``, the evidence's posterior when the caller already has it,
        spares the factored path row 0's query.

        A variant maps reported ids to None (taken out) or False (a finding reported
        present, now absent; any reported id may also be set False or taken out). A
        present finding's "produced" variable is weighed (leak, 1) as reported present,
        (1, 1) taken out and (1 - leak, 0) reported absent, so every variant keeps the
        plan of the evidence; absent findings and risk factors only change the cases'
        weights and masks. The counterfactual scores (expected disablement: each
        present finding reported absent instead; sufficiency: each one taken out) and
        leave-one-out explanations are such batches.
        """
        structure = self.structure
        if not groups and first is not None:
            sums = self._subset_variants(evidence, changes, first)
            if sums is not None:
                return sums
        parts = structure.split_evidence(evidence)
        m = len(parts.present)
        if (self.factored is not None and m <= MAX_PRESENT_POSITIVE + 1
                and self.factored.cost(max(m - 1, 0)) * len(changes) <= FACTORED_BUDGET):
            return self._factored_variants(evidence, parts, changes, groups, first)
        if self.enumeration is not None:
            plan = self.elimination.plan(
                Cases.from_parts([parts], structure).present[0], tuple(parts.masks))
            m = len(parts.present)
            if 2.0 ** self.n * (ENUMERATION_PASSES + m) < (
                    ELIMINATION_WEIGHT * plan.cost + ELIMINATION_STEP * len(plan.ops)):
                return self._enumerated_variants(evidence, changes)
        cases, ends = self._variant_rows(evidence, changes)
        with one_thread():
            return self.elimination.pattern_sums(cases, groups=groups, ends=ends)

    def _subset_variants(self, evidence: Mapping[str, bool],
                         changes: Sequence[Mapping[str, bool | None]],
                         first: Posterior) -> Sums | None:
        """:meth:`variants` (without groups) read from the Quickscore sums by subset
        that the evidence's factored posterior ``first`` carries, where every change
        takes out one present finding or reports it absent and every row is certain
        to ERROR_LIMIT; else None (the caller computes them)."""
        kept = first.quickscore
        if kept is None or kept[0] != _key(evidence):
            return None
        subsets: SubsetSums | VariantSums = kept[1]
        position = {self.structure.findings[j].name: t
                    for t, j in enumerate(subsets.present)}
        count = len(changes) + 1
        total = first.evidence_probability
        out = Sums(np.zeros(count), np.zeros((count, self.n)),
                   np.full((count, len(self.structure.groups)), np.nan), np.zeros(count))
        out.total[0], out.causes[0] = total, first.causes * total
        for k, change in enumerate(changes, start=1):
            if len(change) != 1:
                return None
            [(name, value)] = change.items()
            if name not in position or value not in (None, False):
                return None
            row_total, row_causes, error = subsets.variant(position[name], value is False)
            if not (row_total > 0.0 and error <= ERROR_LIMIT * row_total):
                return None
            out.total[k], out.causes[k], out.error[k] = row_total, row_causes, error
        return out

    def _variant_rows(self, evidence: Mapping[str, bool],
                      changes: Sequence[Mapping[str, bool | None]]) -> tuple[Cases, np.ndarray]:
        """The evidence (row 0) and each variant as cases on the evidence's plan, and
        the end weights (cases, m, 2) of its present findings (see :meth:`variants`)."""
        structure = self.structure
        parts = structure.split_evidence(evidence)
        present = [f.name for f in parts.present]
        keep = structure.finding_arrays.keep
        index = structure.finding_index
        rows, ends = [], []
        for change in [{}, *changes]:
            rest = {}
            for name, value in evidence.items():
                if name in change and not (value and name in index):
                    if change[name] is not None:
                        rest[name] = bool(change[name])
                else:
                    rest[name] = value
            rows.append(structure.split_evidence(rest))
            row = []
            for name in present:
                k = keep[index[name]]
                if name not in change:
                    row.append((1.0 - k, 1.0))
                elif change[name] is None:
                    row.append((1.0, 1.0))
                else:
                    row.append((k, 0.0))
            ends.append(row)
        return (Cases.from_parts(rows, structure),
                np.array(ends, dtype=float).reshape(len(rows), len(present), 2))

    def _factored_variants(self, evidence, parts, changes, groups, first) -> Sums:
        """:meth:`variants` by the dispatcher, one batch per number of present findings
        (few present findings: the factored engine answers each batch in a fixed
        number of numpy calls)."""
        rows = [parts]
        for change in changes:
            case = {name: value for name, value in evidence.items() if name not in change}
            case.update({name: bool(value) for name, value in change.items()
                         if value is not None and name in evidence})
            rows.append(self.structure.split_evidence(case))
        count = len(rows)
        out = Sums(np.zeros(count), np.zeros((count, self.n)),
                   np.full((count, len(self.structure.groups)), np.nan), np.zeros(count))
        todo: dict[int, list[int]] = {}
        for k, part in enumerate(rows):
            if k == 0 and first is not None:
                total = first.evidence_probability
                out.total[0], out.causes[0] = total, first.causes * total
                out.none[0] = (1.0 - first.groups) * total
                continue
            todo.setdefault(len(part.present), []).append(k)
        with one_thread():
            for members in todo.values():
                sums = self._certain_sums(
                    Cases.from_parts([rows[k] for k in members], self.structure), groups)
                if sums.none is None:
                    sums = Sums(sums.total, sums.causes,
                                np.full((len(members), out.none.shape[1]), np.nan),
                                sums.error)
                out.put(np.array(members), sums)
        return out


    def _enumerated_variants(self, evidence, changes) -> Sums:
        """:meth:`variants` one table per variant (small networks, expensive plans)."""
        rows = []
        for change in [{}, *changes]:
            case = {name: value for name, value in evidence.items() if name not in change}
            case.update({name: value for name, value in change.items()
                         if value is not None and name in evidence})
            rows.append(self.structure.split_evidence(case))
        with one_thread():
            cases = [Cases.from_parts([p], self.structure) for p in rows]
            return Sums.join([self._enumerated(c) for c in cases])


def _key(evidence: Mapping[str, bool]) -> tuple:
    return tuple(sorted((name, bool(value)) for name, value in evidence.items()))




