"""What produced these symptoms: counterfactual scores of each cause (Richens et al. 2020).

The posterior answers "what is probably present". A differential diagnosis asks which
cause *explains the presentation*: a cyst that a rupture requires, or osteoarthritis at
seventy, is probably present without explaining a swollen calf. Richens, Lee and Johri
(Nature Communications 2020, 11:3923) rank causes by counterfactual measures on the
noisy-OR network, where each link k -> f fires with probability p_kf and the leak with
probability l_f, the same "activations" in the factual and the counterfactual world:

- **expected disablement** of cause k: the expected number of the findings reported
  present that would go away if k were cured (intervention ``do(k = absent)``);
- **expected sufficiency** of cause k: the expected number of them that k alone would
  keep if every other cause, and the leak, were switched off.

Both have closed forms for noisy-OR. A present finding f goes away when k is cured
exactly when k is present, its link to f fired, and nothing else (no other cause's
link, no leak) fired; k alone keeps f when k is present and its link fired:

    P(f goes away, e) = p_kf * P(k, e with f's other causes and leak all silent)
                      = p_kf / (1 - p_kf) * P(k, e with f reported absent)
    P(k alone keeps f, e) = p_kf * P(k, e without f)

so each needs the joint P(k present, e') for one evidence variant per present finding,
all causes at once: 2m engine queries for m present findings. A link of strength
exactly 1 is handled with the link removed (the first line, read literally).

The leak is the "cause" of whatever the modelled causes do not explain. By the first
line with the leak l_f in place of p_kf, the expected number of present findings that
only the leak produced, none of the modelled causes, is the sum over f of
l_f / (1 - l_f) * P(e with f reported absent) / P(e): "none of these fits".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ImpossibleEvidenceError

if TYPE_CHECKING:
    from ..inference._elimination import SilentSums
    from ..inference._engine import Posterior
    from ..model import Model

__all__ = ["Counterfactuals", "counterfactual_scores", "scores_from_joint",
           "scores_from_silent"]


@dataclass(frozen=True)
class Counterfactuals:
    """Counterfactual scores for one evidence set.

    ``disablement`` and ``sufficiency`` are (causes,) arrays in the model's cause
    order; ``outside`` is the expected number of the ``present`` findings that none of
    the modelled causes produced (only the leak did); all count present findings.
    """

    disablement: np.ndarray
    sufficiency: np.ndarray
    outside: float
    present: int

    @property
    def outside_share(self) -> float:
        """The expected share of the present findings no modelled cause explains
        (0 when nothing is reported present)."""
        return self.outside / self.present if self.present else 0.0

    def __repr__(self) -> str:
        # one line: the arrays are in the model's cause order, so they mean little alone
        return (f"<Counterfactuals for {len(self.disablement)} causes: {self.present} "
                f"present finding{'' if self.present == 1 else 's'}, "
                f"{self.outside_share:.0%} explained by none, most disabled "
                f"{float(self.disablement.max(initial=0.0)):.2f}>")

JointMany = Callable[[Sequence[Mapping[str, bool]]], "tuple[np.ndarray, np.ndarray]"]
"""joint_many(variants) -> ((V, causes) P(cause k present, variant), (V,) P(variant))."""

Joint = Callable[[Mapping[str, bool], "tuple[int, str]"], "tuple[np.ndarray, float]"]
"""joint(evidence, (k, f)) -> the same for one evidence set on the network with the link
k -> f removed (needed only for links of strength exactly 1)."""


def scores_from_joint(joint_many: JointMany, evidence: Mapping[str, bool],
                      present: Sequence[str], strength: Mapping[str, np.ndarray],
                      joint_without_link: Joint | None = None,
                      leak: Mapping[str, float] | None = None) -> Counterfactuals:
    """Expected disablement and sufficiency of every cause from a joint-probability oracle.

    Parameters
    ----------
    joint_many
        See :data:`JointMany`; called once, with the evidence and its 2m variants.
    evidence
        The checked evidence (id -> bool).
    present
        The findings reported present that the scores count (not risk factors).
    strength
        Finding id -> (causes,) link strengths p_kf (0 where k does not cause f).
    joint_without_link
        See :data:`Joint`; needed only where a strength is exactly 1.
    leak
        Finding id -> its leak (default 0: nothing is outside the model).

    Returns
    -------
    Counterfactuals
        Each score between 0 and ``len(present)``.
    """
    absent = [{**evidence, f: False} for f in present]
    without = [{name: v for name, v in evidence.items() if name != f} for f in present]
    causes, totals = joint_many([evidence, *absent, *without])
    m = len(present)
    total = float(totals[0])
    disablement = np.zeros(causes.shape[1])
    sufficiency = np.zeros(causes.shape[1])
    outside = 0.0
    if total <= 0.0:
        return Counterfactuals(disablement, sufficiency, outside, m)
    for i, f in enumerate(present):
        l_f = float((leak or {}).get(f, 0.0))
        outside += (l_f / (1.0 - l_f) * float(totals[1 + i]) / total if l_f < 1.0
                    else 1.0)
        p = np.asarray(strength[f], dtype=float)
        certain = p >= 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            disablement += np.where(certain, 0.0, p / (1.0 - p) * causes[1 + i]) / total
        for k in np.flatnonzero(certain):
            if joint_without_link is None:
                raise TypeError("a link of strength 1 needs joint_without_link")
            dropped, _ = joint_without_link(absent[i], (int(k), f))
            disablement[k] += dropped[k] / total
        sufficiency += p * causes[1 + m + i] / total
    return Counterfactuals(disablement, sufficiency, outside, m)


def scores_from_silent(sums: SilentSums, strength: np.ndarray,
                       keep: np.ndarray) -> Counterfactuals:
    """Expected disablement and sufficiency of every cause from the engine's sums for
    one case (:class:`~posterior_knee.inference._elimination.SilentSums`, the first
    row): the closed forms above with

        P(f goes away if k is cured, e) = s_kf * silent[f, k]
        P(k, e without f) = P(k, e) + P(k, e with f absent)
                          = P(k, e) + (1 - s_kf) * silent[f, k]

    (P(e) is linear in f's end weights: "without f" weighs f's u variable (1, 1), the
    sum of "present", (leak, 1), and "absent", (keep, 0)). A link of strength 1 needs
    nothing special here.

    Parameters
    ----------
    sums
        The engine's sums for the evidence.
    strength, keep
        (findings, causes) link strengths and (findings,) 1 - leak, as in
        ``Structure.finding_arrays``.
    """
    m = len(sums.present)
    total = float(sums.total[0])
    disablement = np.zeros(sums.causes.shape[1])
    sufficiency = np.zeros(sums.causes.shape[1])
    outside = 0.0
    if not total > 0.0:
        return Counterfactuals(disablement, sufficiency, outside, m)
    for t, j in enumerate(sums.present):
        p, silent = strength[j], sums.silent[0, t]
        disablement += p * silent
        sufficiency += p * (sums.causes[0] + (1.0 - p) * silent)
        k = float(keep[j])
        outside += (1.0 - k) / k * float(sums.absent[0, t]) / total if k > 0.0 else 1.0
    return Counterfactuals(disablement / total, sufficiency / total, outside, m)


def counterfactual_scores(model: Model, evidence: Mapping[str, bool],
                          posterior: Posterior | None = None) -> Counterfactuals:
    """Expected disablement and sufficiency of every cause, in the model's cause order.

    ``evidence`` must be checked (:meth:`Model.evidence`). Only findings count, not risk
    factors: a risk factor is a reason for a cause, not a symptom it produces. The 2m
    evidence variants share m - 1 present findings, so the factored engine answers them
    in one batch (or elimination, in one batch through the plan of the evidence).
    ``posterior``, the evidence's posterior when the caller has it already
    (:meth:`Model.diagnose` does), spares one query; without it, the posterior is
    asked for first, since it brings the sums the scores are read from. With nothing
    reported present every score is 0 and no query is made.

    >>> import posterior_knee as pk
    >>> model = pk.Model()
    >>> case = model.evidence({"sudden_calf_swelling": True, "known_arthritis": True,
    ...                        "age_over_50": True})
    >>> scores = counterfactual_scores(model, case)
    >>> causes = list(model.structure.cause_ids)
    >>> # probably present, but osteoarthritis does not explain a sudden calf swelling
    >>> bool(scores.disablement[causes.index("bakers_cyst_rupture")]
    ...      > scores.disablement[causes.index("osteoarthritis")])
    True
    >>> 0.0 <= scores.outside_share <= 1.0
    True
    """
    structure = model.structure
    arrays = structure.finding_arrays
    row = structure.finding_index
    present = [name for name, value in evidence.items() if value and name in row]
    if not present:
        zeros = np.zeros(len(structure.cause_ids))
        return Counterfactuals(zeros, zeros.copy(), 0.0, 0)
    engines = getattr(model, "_engines", None)
    if engines is not None and posterior is None:
        # the posterior brings the sums the scores read (the variants, or the silent
        # sums of its elimination pass), so ask for it first
        posterior = engines.posterior(evidence)
    if engines is not None and engines.counterfactual_route(evidence) == "silent":
        return scores_from_silent(engines.silent_sums(evidence), arrays.strength,
                                  arrays.keep)
    strength = {name: arrays.strength[row[name]] for name in present}
    leak = {name: 1.0 - float(arrays.keep[row[name]]) for name in present}
    dropped_models: dict[tuple[int, str], Model] = {}

    def joint_without_link(e: Mapping[str, bool], drop: tuple[int, str]):
        target = dropped_models.setdefault(
            drop, _without_link(model, structure.cause_ids[drop[0]], drop[1]))
        causes, totals = _joint_many(target, [e])
        return causes[0], float(totals[0])

    return scores_from_joint(lambda variants: _joint_many(model, variants, posterior),
                             evidence, present, strength, joint_without_link, leak)


def _joint_many(model: Model, variants: Sequence[Mapping[str, bool]],
                first: Posterior | None = None) -> tuple[np.ndarray, np.ndarray]:
    """P(cause k present, variant) and P(variant) for each variant: the factored engine
    in batches of equal present counts where it can certify the answer, one query
    otherwise (zero for evidence of probability zero)."""
    structure = model.structure
    causes = np.zeros((len(variants), len(structure.cause_ids)))
    totals = np.zeros(len(variants))
    todo = set(range(len(variants)))
    engines = getattr(model, "_engines", None)
    if engines is not None and len(variants) > 1:
        # every variant changes the first (the evidence) only by taking a present
        # finding out or reporting it absent: one batch through one elimination plan
        base = variants[0]
        changes = [{name: v.get(name) for name in base if v.get(name) != base[name]}
                   for v in variants[1:]]
        sums = engines.variants(base, changes, groups=False, first=first)
        for j in np.flatnonzero(sums.total > 0):
            causes[j], totals[j] = sums.causes[j], sums.total[j]
            todo.discard(int(j))
        todo -= {j for j in range(len(variants)) if sums.total[j] <= 0
                 and np.isfinite(sums.total[j])}
    for i in sorted(todo):
        try:
            post = model.posterior(variants[i])
        except ImpossibleEvidenceError:
            continue
        totals[i] = float(post.evidence_probability)
        causes[i] = np.asarray(post.causes, dtype=float) * totals[i]
    return causes, totals


def _without_link(model: Model, cause: str, finding: str) -> Model:
    links = model.kb.finding_links
    keep = ~((links["cause"] == cause) & (links["finding"] == finding))
    return type(model)(model.kb.replace(finding_links=links[keep]), model.engine)
