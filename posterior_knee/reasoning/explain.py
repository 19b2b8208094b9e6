"""Why a cause ranks where it does: leave-one-out weights of the reported items.

The weight of a reported item is how much the log-odds of the cause would change if
that one item were taken away (positive: it supports the cause). They are exact
recomputations on the network, not approximations; because findings interact
(explaining away), they need not add up to the total change from the prior.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import UnknownIdError, check_parameter

if TYPE_CHECKING:
    from ..model import Model

__all__ = ["explain"]

_EPS = 1e-15


def _logit(p: float) -> float:
    p = min(max(p, _EPS), 1.0 - _EPS)
    return float(np.log(p) - np.log1p(-p))


def _cause_index(model: Model, cause: str) -> int:
    check_parameter(isinstance(cause, str), "cause", "explain", "a cause id (str)", cause)
    causes = model.structure.cause_ids
    if cause not in causes:
        raise UnknownIdError(cause, "cause", causes, "See dx.ranking['cause'].")
    return causes.index(cause)


def explain(model: Model, evidence: Mapping[str, bool], cause: str, *,
            probability: float | None = None) -> pd.DataFrame:
    """Evidence for and against ``cause``, one row per reported item.

    Columns: ``evidence`` (id), ``kind`` (``finding``, ``risk_factor``, or the summary
    rows ``prior`` and ``all_risk_factors``), ``value`` (as reported), ``weight``
    (change in the log-odds of the cause that this item makes: positive supports it),
    ``probability_without`` (P(cause) if the item were not reported). Sorted by weight,
    strongest support first. ``attrs["probability"]`` holds P(cause | all evidence).
    ``probability`` is that number when the caller already has it (a
    :class:`~posterior_knee.Diagnosis` passes its own); None computes it.
    """
    i = _cause_index(model, cause)
    full = float(model.posterior(evidence).causes[i] if probability is None else probability)
    prior = float(model._prior.causes[i])
    risk_ids = set(model.kb.risk_factor_ids)
    rows = [{"evidence": "(prior)", "kind": "prior", "value": None,
             "weight": _logit(prior), "probability_without": np.nan}]
    risks = {k: v for k, v in evidence.items() if k in risk_ids}
    removals = [[name] for name in evidence] + ([list(risks)] if risks else [])
    if model._engines is not None:  # every leave-one-out answer in one engine batch
        without = [float(p) for p in model._engines.cause_without(evidence, removals, i)]
    else:
        without = [float(model.posterior({k: v for k, v in evidence.items()
                                          if k not in removed}).causes[i])
                   for removed in removals]
    for (name, value), p in zip(evidence.items(), without):
        rows.append({"evidence": name,
                     "kind": "risk_factor" if name in risk_ids else "finding",
                     "value": value, "weight": _logit(full) - _logit(p),
                     "probability_without": p})
    if risks:
        rows.append({"evidence": "(all risk factors)", "kind": "all_risk_factors",
                     "value": None, "weight": _logit(full) - _logit(without[-1]),
                     "probability_without": without[-1]})
    # built from columns and ordered with numpy: at a few findings pandas' record
    # parsing and sort cost as much as the leave-one-out arithmetic
    order = np.argsort(-np.array([row["weight"] for row in rows], dtype=float), kind="stable")
    table = pd.DataFrame({name: [rows[k][name] for k in order] for name in rows[0]})
    table.attrs.update(cause=cause, probability=full, prior=prior)
    return table
