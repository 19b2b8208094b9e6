"""Every possible next answer at once: P(yes) and the posteriors after yes and after no.

Ranking the next question needs, for each unanswered id, the posteriors after each
answer. With the factored engine they come from one batch that shares the present
findings of the current evidence: a finding answered "no" only multiplies the cause
weights, and a risk factor's answer only changes its mask. The "yes" answer to a
finding then follows by subtraction, P(c, e, yes) = P(c, e) - P(c, e, no) (which is
exactly Quickscore's expansion with the finding added).

Precision: every answer's sums carry a rounding bound. The figures of a question
ranking are guaranteed to ``BRANCH_LIMIT`` (relative to the answer's probability, so
the posteriors after it are within twice that, 1e-6), looser than the 1e-10 of a
diagnosis: a rare answer divides by its small probability, and a ranking only has to
order questions, not report probabilities to ten places. Answers not certain to that
are redone as sums of positive terms (:mod:`._positive`, no cancellation), and only
then one query at a time by the general engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ImpossibleEvidenceError
from ._cases import MAX_PRESENT_POSITIVE, Cases, Sums
from ._dispatch import ELIMINATION_STEP, ENUMERATION_PASSES, Engines
from ._engine import ExactEngine, Posterior
from ._factored import FactoredEngine
from ._positive import positive_sums
from ._ratios import answer_sums
from ._threads import one_thread

BRANCH_LIMIT = 5e-7  # posteriors after an answer within 1e-6
QUICKSCORE_PRESENT = 3  # present findings up to which the factored engine ranks answers
BATCH_WEIGHT = 2.5
# present findings up to which the ratios rank answers: measured on the shipped priors,
# median over 10 cases, against elimination cut to the states the evidence leaves:
# m = 4, 30 against 37 ms; at m = 5 the two are within this machine's noise
QUICKSCORE_RATIOS = 4
QUICKSCORE_BRANCHES = 6  # present findings up to which Quickscore is tried first

if TYPE_CHECKING:
    from ..model import Model


@dataclass(frozen=True, eq=False)
class Branches:
    """For each name: P(yes) and the cause and group posteriors after each answer.

    An answer with probability zero gets the other answer's posteriors.
    """

    names: tuple[str, ...]
    p_yes: np.ndarray  # (k,)
    yes_causes: np.ndarray  # (k, causes)
    yes_groups: np.ndarray  # (k, groups)
    no_causes: np.ndarray
    no_groups: np.ndarray


def branches(model: Model, evidence: Mapping[str, bool], names: Sequence[str],
             groups: bool = True) -> Branches:
    """P(yes) and both answers' posteriors for each unanswered id in ``names``.

    ``groups=False`` may leave the group posteriors as NaN (less work)."""
    names = tuple(names)
    if not names:
        n, g = len(model.structure.cause_ids), len(model.structure.groups)
        return Branches(names, np.zeros(0), *(np.zeros((0, k)) for k in (n, g, n, g)))
    engines = model._engines
    if engines is None:  # pgmpy: one query per answer
        return _queried(model, evidence, names)
    with one_thread():
        return _branches(model, engines, evidence, names, groups)


def _branches(model: Model, engines: Engines, evidence: Mapping[str, bool],
              names: tuple[str, ...], groups: bool) -> Branches:
    parts = model.structure.split_evidence(evidence)
    base = Cases.from_parts([parts], model.structure)
    m = base.present.shape[1]
    # Quickscore answers few present findings best (measured: up to 3); beyond, one
    # elimination batch over the answers beats the positive recursion (4-8 present:
    # 14-100 ms against 30-600 ms on the shipped priors), and enumeration's single
    # table wins where the elimination plan is expensive on a small network
    # without groups every answer is a ratio of one Quickscore pass (:mod:`._ratios`),
    # cheaper than elimination's batch up to QUICKSCORE_RATIOS
    limit = QUICKSCORE_PRESENT if groups else QUICKSCORE_RATIOS
    if engines.factored is not None and m <= limit and \
            (not groups or engines.choose(base) == "factored"):
        fast = (_factored(model, engines.factored, evidence, names, groups) if groups
                else _ratios(model, engines, evidence, names))
        if fast is not None:
            return fast
    exact = engines.enumeration
    if exact is not None:
        plan = engines.elimination.plan(base.present[0], tuple(base.masks))
        rows = 1 + 2 * len(names)
        # a batch amortises elimination's per-step overhead: measured on the shipped
        # priors, a batch of ~110 answers costs about BATCH_WEIGHT per entry of the plan
        # and row, against ELIMINATION_WEIGHT for a single query
        elimination = BATCH_WEIGHT * plan.cost * rows + ELIMINATION_STEP * len(plan.ops)
        enumeration = 2.0 ** engines.n * (ENUMERATION_PASSES + m + 2 * rows)
        if enumeration < elimination:
            return _enumerated(model, exact, evidence, names)
    return _eliminated(model, engines, evidence, names, groups)


def _queried(model: Model, evidence: Mapping[str, bool],
             names: tuple[str, ...]) -> Branches:
    """The same by one query per answer (the pgmpy engine)."""
    from ._pgmpy import probability_yes

    p_yes, yes, no = [], [], []
    for name in names:
        after_yes, after_no = (model._posterior_or_none({**evidence, name: answer})
                               for answer in (True, False))
        p_yes.append(probability_yes(model.network, name, evidence))
        yes.append(_either(after_yes, after_no))
        no.append(_either(after_no, after_yes))
    return Branches(names, np.array(p_yes, dtype=float),
                    np.array([p.causes for p in yes]), np.array([p.groups for p in yes]),
                    np.array([p.causes for p in no]), np.array([p.groups for p in no]))


def _enumerated(model: Model, exact: ExactEngine, evidence: Mapping[str, bool],
                names: tuple[str, ...]) -> Branches:
    """The same from the enumeration engine's joint table: a finding's no multiplies
    the table and its yes is the rest (all terms are positive: no cancellation)."""
    table = exact.joint(evidence)
    current = exact.sums(table)
    yes_sums: list[tuple[np.ndarray, np.ndarray, float]] = []
    no_sums: list[tuple[np.ndarray, np.ndarray, float]] = []
    for name in names:
        if name in model.structure.risk_evidence:  # changes the prior contraction
            yes_sums.append(exact.sums(exact.joint({**evidence, name: True})))
            no_sums.append(exact.sums(exact.joint({**evidence, name: False})))
        else:
            no_sums.append(exact.sums(exact.split(table, name)[1]))
            (causes, none, total), (no_causes, no_none, no_total) = current, no_sums[-1]
            yes_sums.append((causes - no_causes, none - no_none, total - no_total))
    yes, no = (Sums(np.array([s[2] for s in side], dtype=float).reshape(-1),
                    np.array([s[0] for s in side]).reshape(len(side), -1),
                    np.array([s[1] for s in side]).reshape(len(side), -1),
                    np.zeros(len(side))) for side in (yes_sums, no_sums))
    total = current[2]
    yes_causes, yes_groups = yes.posteriors()
    no_causes, no_groups = no.posteriors()
    never, always = yes.total <= 0.0, no.total <= 0.0
    yes_causes[never], yes_groups[never] = no_causes[never], no_groups[never]
    no_causes[always], no_groups[always] = yes_causes[always], yes_groups[always]
    return Branches(names, np.clip(yes.total / total, 0.0, 1.0), yes_causes, yes_groups,
                    no_causes, no_groups)


def _answers(model: Model, evidence: Mapping[str, bool], names: tuple[str, ...]):
    """One batch of cases: row 0 the current evidence; then each finding answered no;
    then each risk factor answered yes, then no. All share the present findings."""
    structure = model.structure
    parts = structure.split_evidence(evidence)
    base = Cases.from_parts([parts], structure)
    finding_index = structure.finding_index
    risky = [name for name in names if name in structure.risk_evidence]
    asked = [name for name in names if name not in structure.risk_evidence]
    found = np.array([finding_index[name] for name in asked], dtype=np.intp)
    arrays = structure.finding_arrays
    count = 1 + len(asked) + 2 * len(risky)
    weight = np.repeat(base.weight, count, axis=0)
    constant = np.repeat(base.constant, count)
    no_rows = np.arange(1, 1 + len(asked))
    weight[no_rows] *= arrays.q[found]
    constant[no_rows] *= arrays.keep[found]
    masks = {}
    touched = {structure.risk_evidence[name][0] for name in risky}
    for node in set(base.masks) | touched:
        mask = base.masks.get(node, np.ones((1, structure.cardinality(node))))
        masks[node] = np.repeat(mask, count, axis=0)
    risk_yes = 1 + len(asked) + np.arange(len(risky))
    risk_no = risk_yes + len(risky)
    for k, name in enumerate(risky):
        node, state = structure.risk_evidence[name]
        keep = masks[node][risk_yes[k], state]
        masks[node][risk_yes[k]] = 0.0
        masks[node][risk_yes[k], state] = keep
        masks[node][risk_no[k], state] = 0.0
    steps = np.repeat(base.steps, count)
    steps[no_rows] += arrays.parents[found] + 1
    batch = Cases(masks, weight, constant, np.repeat(base.present, count, axis=0), steps)
    return base, batch, asked, risky, found, no_rows, risk_yes, risk_no


def _eliminated(model: Model, engines: Engines, evidence: Mapping[str, bool],
                names: tuple[str, ...], groups: bool) -> Branches:
    """Every answer through variable elimination: the "no" answers and the risk
    factors' answers share the plan of the current evidence (one batch); a finding's
    yes is the current sums minus its no, and answers that subtraction cannot certify
    are computed directly."""
    base, batch, asked, risky, found, no_rows, risk_yes, risk_no = _answers(
        model, evidence, names)
    # a risk factor's two answers split its node's mask in two (the answer's state, the
    # others), so its "no" is the current sums minus its "yes", as a finding's "yes"
    # is: one row per risk factor instead of two (the rows are the cost here)
    part = _exact(engines, batch, base,
                  np.arange(int(risk_no[0]) if len(risk_no) else len(batch)), groups)
    def and_risk_no(x: np.ndarray) -> np.ndarray:
        return np.concatenate([x, x[:1] - x[risk_yes]])

    sums = Sums(and_risk_no(part.total), and_risk_no(part.causes), and_risk_no(part.none),
                np.concatenate([part.error, part.error[0] + part.error[risk_yes]]))
    return _finish(model, evidence, names, sums, asked, risky, no_rows, risk_yes, risk_no)


def _exact(engines: Engines, batch: Cases, base: Cases, rows: np.ndarray,
           groups: bool) -> Sums:
    """Elimination's sums of ``rows`` of the batch, in their order. The rows that mask
    no risk node beyond the current evidence's (the findings' answers) run apart from
    those that do (a risk factor's answers): a mask makes its node case data in every
    row of a batch, and the findings' rows alone run on the plan that sums the unasked
    risk nodes out once (measured on the shipped priors with benchmarks/ab.py: a
    question ranking 1.05-1.18x faster at 6-12 present findings; at 4, a redo of 6
    uncertain rows that included a risk factor's had cost 18 ms on that plan)."""
    extra = np.zeros(len(rows), dtype=bool)
    for name, mask in batch.masks.items():
        if name not in base.masks:
            extra |= (mask[rows] != 1.0).any(axis=1)
    if not extra.any():
        return engines.elimination.sums(_base_masks(batch.take(rows), base), groups)
    if extra.all():
        return engines.elimination.sums(batch.take(rows), groups)
    plain = engines.elimination.sums(_base_masks(batch.take(rows[~extra]), base), groups)
    masked = engines.elimination.sums(batch.take(rows[extra]), groups)
    out = Sums(np.empty(len(rows)), np.empty((len(rows), plain.causes.shape[1])),
               np.empty((len(rows), plain.none.shape[1])), np.empty(len(rows)))
    out.put(np.flatnonzero(~extra), plain)
    out.put(np.flatnonzero(extra), masked)
    return out


def _base_masks(cases: Cases, base: Cases) -> Cases:
    """``cases`` with only the masks of the nodes the current evidence masks (rows that
    mask no other node: the dropped masks are all ones)."""
    return Cases({k: v for k, v in cases.masks.items() if k in base.masks}, cases.weight,
                 cases.constant, cases.present, cases.steps)


def _finish(model, evidence, names, sums, asked, risky, no_rows, risk_yes, risk_no,
            redo=None) -> Branches:
    total = sums.total[0]
    yes = Sums(sums.total[0] - sums.total[no_rows], sums.causes[0] - sums.causes[no_rows],
               sums.none[0] - sums.none[no_rows], sums.error[0] + sums.error[no_rows])
    yes = _join(yes, _take(sums, risk_yes))
    no = _take(sums, np.concatenate([no_rows, risk_no]))
    if redo is not None:
        redo(yes, no)
    p_yes = np.clip(yes.total / total, 0.0, 1.0)
    yes_causes, yes_groups = yes.posteriors()
    no_causes, no_groups = no.posteriors()
    order = list(asked) + risky
    # anything still uncertain: ask the general engine, one query per answer
    for k in np.flatnonzero(~_certain(yes) | ~_certain(no)):
        p_yes[k], yes_causes[k], yes_groups[k], no_causes[k], no_groups[k] = _direct(
            model, evidence, order[k], total)
    # an impossible answer takes the other answer's posteriors (its weight is zero)
    never = (yes.total == 0.0) & _certain(no)
    yes_causes[never], yes_groups[never] = no_causes[never], no_groups[never]
    always = (no.total == 0.0) & _certain(yes)
    no_causes[always], no_groups[always] = yes_causes[always], yes_groups[always]
    position = [order.index(name) for name in names]
    return Branches(names, p_yes[position], yes_causes[position], yes_groups[position],
                    no_causes[position], no_groups[position])


def _ratios(model: Model, engines: Engines, evidence: Mapping[str, bool],
            names: tuple[str, ...]) -> Branches | None:
    """Every answer from one Quickscore pass (:func:`._ratios.answer_sums`, no groups);
    answers it cannot certify (a rare answer after cancellation) are redone through
    variable elimination in one batch: the current evidence and the rows behind them."""
    base, batch, asked, risky, found, no_rows, risk_yes, risk_no = _answers(
        model, evidence, names)
    if engines.factored is None:
        return None
    nodes = [model.structure.risk_evidence[name][0] for name in risky] * 2
    sums = answer_sums(engines.factored, batch, found, nodes)
    if not sums.within(BRANCH_LIMIT)[0]:
        return None
    no_source = np.concatenate([no_rows, risk_no]).astype(np.intp)

    def redo(yes: Sums, no: Sums) -> None:
        again = np.flatnonzero(~_certain(yes) | ~_certain(no))
        if not len(again):
            return
        risk = again[again >= len(asked)]
        need = np.unique(np.concatenate([[0], no_source[again],
                                         risk_yes[risk - len(asked)]]).astype(np.intp))
        exact = _exact(engines, batch, base, need, groups=False)
        row = {int(r): k for k, r in enumerate(need)}
        current = row[0]
        for k in again:
            n = row[int(no_source[k])]
            no.put(np.array([k]), _take(exact, np.array([n])))
            if k < len(asked):  # a finding's yes: the current sums minus its no
                yes.put(np.array([k]), Sums(
                    exact.total[[current]] - exact.total[[n]],
                    exact.causes[[current]] - exact.causes[[n]],
                    exact.none[[current]] - exact.none[[n]],
                    exact.error[[current]] + exact.error[[n]]))
            else:
                y = row[int(risk_yes[k - len(asked)])]
                yes.put(np.array([k]), _take(exact, np.array([y])))

    return _finish(model, evidence, names, sums, asked, risky, no_rows, risk_yes, risk_no,
                   redo)


def _factored(model: Model, engine: FactoredEngine, evidence: Mapping[str, bool],
              names: tuple[str, ...], groups: bool) -> Branches | None:
    base, batch, asked, risky, found, no_rows, risk_yes, risk_no = _answers(
        model, evidence, names)
    m = base.present.shape[1]
    if m > MAX_PRESENT_POSITIVE:
        return None
    # the looser BRANCH_LIMIT lets Quickscore certify more present findings here
    sums = engine.sums(batch, groups=groups) if m <= QUICKSCORE_BRANCHES else None
    if sums is None or not sums.within(BRANCH_LIMIT)[0]:
        # Quickscore cancels too much for these findings: every answer as positive sums
        sums = positive_sums(engine, batch, groups)
    no_source = np.concatenate([no_rows, risk_no])

    def redo(yes: Sums, no: Sums) -> None:
        # uncertain answers (a rare answer after strong cancellation): again as positive
        # sums, a finding's yes now directly with the finding added to the present ones
        again = np.flatnonzero(~_certain(yes) | ~_certain(no))
        if not len(again) or m >= MAX_PRESENT_POSITIVE:
            return
        no.put(again, positive_sums(engine, batch.take(no_source[again]), groups))
        found_redo = again[again < len(asked)]
        if len(found_redo):
            yes.put(found_redo, positive_sums(engine, Cases(
                {node: mask.repeat(len(found_redo), axis=0)
                 for node, mask in base.masks.items()},
                base.weight.repeat(len(found_redo), axis=0),
                base.constant.repeat(len(found_redo)),
                np.hstack([base.present.repeat(len(found_redo), axis=0),
                           found[found_redo, None]]),
                base.steps.repeat(len(found_redo))), groups))
        risk_redo = again[again >= len(asked)]
        if len(risk_redo):
            yes.put(risk_redo, positive_sums(
                engine, batch.take(risk_yes[risk_redo - len(asked)]), groups))

    return _finish(model, evidence, names, sums, asked, risky, no_rows, risk_yes, risk_no,
                   redo)


def _certain(sums: Sums) -> np.ndarray:
    """Answers known to BRANCH_LIMIT, or impossible (probability exactly zero)."""
    return sums.within(BRANCH_LIMIT) | (sums.total == 0.0)


def _take(sums: Sums, rows: np.ndarray) -> Sums:
    return Sums(sums.total[rows], sums.causes[rows], sums.none[rows], sums.error[rows])


def _join(a: Sums, b: Sums) -> Sums:
    return Sums(*(np.concatenate([getattr(a, f), getattr(b, f)])
                  for f in ("total", "causes", "none", "error")))


def _direct(model: Model, evidence: Mapping[str, bool], name: str, total: float):
    yes = model._posterior_or_none({**evidence, name: True})
    no = model._posterior_or_none({**evidence, name: False})
    p_yes = 0.0 if yes is None else min(1.0, yes.evidence_probability / total)
    after_yes, after_no = _either(yes, no), _either(no, yes)
    return p_yes, after_yes.causes, after_yes.groups, after_no.causes, after_no.groups


def _either(answer: Posterior | None, other: Posterior | None) -> Posterior:
    """An answer's posterior, or the other answer's where this one is impossible (its
    weight is zero then); both impossible means the evidence itself is."""
    found = answer if answer is not None else other
    if found is None:
        raise ImpossibleEvidenceError(
            "The evidence has probability zero under the model; check the reported "
            "values.")
    return found

