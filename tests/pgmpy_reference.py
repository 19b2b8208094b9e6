"""pgmpy's variable elimination as the reference of the exact engines, by small queries.

``Model(kb, engine="pgmpy")`` also answers P(group) with one joint query over the
group's causes and P(evidence) by the chain rule; on the shipped network the joint
query of the 11 causes of "other" takes most of a query's time (seconds), and the tests
that compare posteriors do not read P(evidence). Here every number is one query of a
single variable on one ``VariableElimination`` object: a cause's marginal, and
P(no cause of the group | e) by the chain rule
P(c1 = no | e) * P(c2 = no | e, c1 = no) * ... (each factor exact, so the product is
exact to rounding).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from posterior_knee.inference._structure import STATES


class Marginals(NamedTuple):
    causes: np.ndarray  # P(cause = yes | e), in the structure's order of causes
    groups: np.ndarray  # P(at least one cause of the group | e), in its order of groups


class PgmpyReference:
    """Cause and group posteriors of ``network`` (pgmpy) for the causes and groups of
    ``structure``."""

    def __init__(self, network, structure):
        from pgmpy.inference import VariableElimination

        self.structure = structure
        self._infer = VariableElimination(network)

    def _p(self, name: str, state: str, given: Mapping[str, str]) -> float:
        with warnings.catch_warnings():
            # as posterior_knee.inference._pgmpy: pgmpy's own deprecation notices
            warnings.simplefilter("ignore", FutureWarning)
            factor = self._infer.query([name], evidence=dict(given), show_progress=False)
        return float(factor.get_value(**{name: state}))

    def posterior(self, evidence: Mapping[str, bool]) -> Marginals:
        """The causes' and the groups' posteriors given ``evidence`` (id -> bool)."""
        states = {name: STATES[int(value)] for name, value in evidence.items()}
        causes = np.array([self._p(c, "yes", states) for c in self.structure.cause_ids])
        groups = []
        for members in self.structure.groups.values():
            none, given = 1.0, dict(states)
            for cause in members:
                none *= self._p(cause, "no", given)
                given[cause] = "no"
            groups.append(1.0 - none)
        return Marginals(causes, np.array(groups))
