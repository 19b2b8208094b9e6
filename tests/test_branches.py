"""Every answer of a next-question ranking through variable elimination, on random
network structures, against the sum over every node configuration.

The elimination path of :func:`posterior_knee.inference._whatif.branches` runs one
batch: the current evidence, each finding answered "no" and each risk factor answered
"yes"; a finding's "yes" and a risk factor's "no" are the current sums minus the other
answer (certified against the rounding bound, or queried directly).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from posterior_knee.inference._dispatch import Engines
from posterior_knee.inference._elimination import brute_force
from posterior_knee.inference._whatif import _eliminated

from .networks import tiny_structure

TOLERANCE = 1e-9
RISK_IDS = ("young", "old", "r1", "r2")  # tiny_structure's risk factors


def _model(structure, engines):
    """What the ranking reads of a model: its structure, and one query for an answer
    it cannot certify."""

    def posterior_or_none(evidence):
        total, causes, none = brute_force(structure, evidence)
        if total == 0.0:
            return None
        return SimpleNamespace(causes=causes / total, groups=1.0 - none / total,
                               evidence_probability=total)

    return SimpleNamespace(structure=structure, _posterior_or_none=posterior_or_none)


def _unasked(structure, case):
    names = [f.name for f in structure.findings if f.name not in case]
    band_known = case.get("young") or case.get("old")
    names += [r for r in RISK_IDS if r not in case
              and not (band_known and r in ("young", "old"))]
    return tuple(names)


@given(seed=st.integers(0, 2**32 - 1), data=st.data())
def test_ranking_answers_on_random_structures_match_brute_force(seed, data):
    """P(yes) and the cause and group posteriors after each answer, including the
    members of a three-state risk node (whose "no" leaves two states), equal a sum over
    every configuration with that answer added."""
    structure = tiny_structure(seed)
    ids = [f.name for f in structure.findings] + list(RISK_IDS)
    case = data.draw(st.dictionaries(st.sampled_from(ids), st.booleans(), max_size=8))
    if case.get("young") and case.get("old"):
        del case["old"]
    total, _, _ = brute_force(structure, case)
    names = _unasked(structure, case)
    if total == 0.0 or not names:
        return
    engines = Engines(structure)
    b = _eliminated(_model(structure, engines), engines, case, names, groups=True)
    assert b.names == names
    for k, name in enumerate(names):
        for answer, causes, groups in ((True, b.yes_causes[k], b.yes_groups[k]),
                                       (False, b.no_causes[k], b.no_groups[k])):
            t, c, none = brute_force(structure, {**case, name: answer})
            if answer:
                assert b.p_yes[k] == pytest.approx(t / total, abs=TOLERANCE), name
            if t <= 1e-6 * total:  # a rare answer: the ranking's own limit (1e-6)
                continue
            np.testing.assert_allclose(causes, c / t, rtol=0, atol=TOLERANCE, err_msg=name)
            np.testing.assert_allclose(groups, 1.0 - none / t, rtol=0, atol=TOLERANCE,
                                       err_msg=name)
