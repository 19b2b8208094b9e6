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
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ImpossibleEvidenceError

if TYPE_CHECKING:
    from ..model import Model

__all__ = ["counterfactual_scores", "scores_from_joint"]

Joint = Callable[[Mapping[str, bool], "tuple[int, str] | None"], "tuple[np.ndarray, float]"]
"""joint(evidence, drop_link) -> (P(cause k present, evidence) per cause, P(evidence));
``drop_link=(k, f)`` asks for the network with the link k -> f removed."""


def scores_from_joint(joint: Joint, evidence: Mapping[str, bool], present: Sequence[str],
                      strength: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Expected disablement and sufficiency of every cause from a joint-probability oracle.

    Parameters
    ----------
    joint
        See :data:`Joint`.
    evidence
        The checked evidence (id -> bool).
    present
        The findings reported present that the scores count (not risk factors).
    strength
        Finding id -> (causes,) link strengths p_kf (0 where k does not cause f).

    Returns
    -------
    (disablement, sufficiency)
        Two (causes,) arrays, each between 0 and ``len(present)``.
    """
    causes, total = joint(evidence, None)
    disablement = np.zeros_like(causes, dtype=float)
    sufficiency = np.zeros_like(causes, dtype=float)
    if total <= 0.0:
        return disablement, sufficiency
    for f in present:
        p = np.asarray(strength[f], dtype=float)
        absent, _ = joint({**evidence, f: False}, None)
        certain = p >= 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            disablement += np.where(certain, 0.0, p / (1.0 - p) * absent) / total
        for k in np.flatnonzero(certain):
            dropped, _ = joint({**evidence, f: False}, (int(k), f))
            disablement[k] += dropped[k] / total
        without, _ = joint({name: v for name, v in evidence.items() if name != f}, None)
        sufficiency += p * without / total
    return disablement, sufficiency


def counterfactual_scores(model: Model, evidence: Mapping[str, bool]
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Expected disablement and sufficiency of every cause, in the model's cause order.

    ``evidence`` must be checked (:meth:`Model.evidence`). Only findings count, not risk
    factors: a risk factor is a reason for a cause, not a symptom it produces.

    >>> import posterior_knee as pk
    >>> model = pk.Model()
    >>> case = model.evidence({"sudden_calf_swelling": True, "known_arthritis": True,
    ...                        "age_over_50": True})
    >>> disablement, sufficiency = counterfactual_scores(model, case)
    >>> causes = list(model.structure.cause_ids)
    >>> # probably present, but osteoarthritis does not explain a sudden calf swelling
    >>> bool(disablement[causes.index("bakers_cyst_rupture")]
    ...      > disablement[causes.index("osteoarthritis")])
    True
    """
    structure = model.structure
    arrays = structure.finding_arrays
    row = {f.name: j for j, f in enumerate(structure.findings)}
    present = [name for name, value in evidence.items() if value and name in row]
    strength = {name: arrays.strength[row[name]] for name in present}
    dropped_models: dict[tuple[int, str], Model] = {}

    def joint(e: Mapping[str, bool], drop: tuple[int, str] | None):
        target = model if drop is None else dropped_models.setdefault(
            drop, _without_link(model, structure.cause_ids[drop[0]], drop[1]))
        try:
            post = target.posterior(e)
        except ImpossibleEvidenceError:
            return np.zeros(len(structure.cause_ids)), 0.0
        total = float(post.evidence_probability)
        return np.asarray(post.causes, dtype=float) * total, total

    return scores_from_joint(joint, evidence, present, strength)


def _without_link(model: Model, cause: str, finding: str) -> Model:
    links = model.kb.finding_links
    keep = ~((links["cause"] == cause) & (links["finding"] == finding))
    return type(model)(model.kb.replace(finding_links=links[keep]), model.engine)
