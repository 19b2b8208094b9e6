"""The sensitivity table runs a cause's row of the sweep only where its bounds cannot
decide a flip: the bounds must hold, and the table must be the one every row gives."""

import importlib

import numpy as np
import pandas as pd
import pytest

import posterior_knee as pk
from posterior_knee.inference._parameters import Parameters

from .test_sensitivity_exact import case_for, small_kb

# the module (the package exports the function under the same name)
sensitivity_module = importlib.import_module("posterior_knee.reasoning.sensitivity")
SHIPPED = pk.Model()
# near a tie (osteoarthritis just ahead), a triage threshold in reach, and plainer cases
CASES = [
    {"knee_swelling": True, "age_over_50": True},
    {"lump_behind_knee": True, "calf_pain": True},
    {"calf_swelling": True, "recent_surgery": True, "fever": False},
    {"lump_behind_knee": True, "calf_pain": True, "knee_swelling": True, "fever": False,
     "plays_sport": True, "age_over_50": True},
]


def every_row(model, case):
    """The evidence, every cause forced present, and each group's causes forced absent."""
    causes = model.structure.cause_ids
    clamps = [{}] + [{i: 1} for i in range(len(causes))]
    clamps += [{causes.index(c): 0 for c in members}
               for members in model.structure.groups.values()]
    return model.evidence(case), clamps


def ends_of(params):
    low, high, _ = params.ranges()
    return np.stack([low, high], axis=1)


@pytest.mark.parametrize("model, case", [(SHIPPED, case) for case in CASES] + [
    (pk.Model(small_kb(seed)), case_for(small_kb(seed), np.random.default_rng(seed)))
    for seed in (1, 2, 3)])
def test_ratios_bound_every_row(model, case):
    """P(row) moved lies within P(row) times the smallest and largest ratio of the
    moved factor's entries, for the evidence and for every row that forces causes."""
    params = Parameters(model.kb, model.structure)
    evidence, clamps = every_row(model, case)
    sweep = params.sweep(evidence, clamps, ends_of(params), bounds=True)
    point = sweep.total[:, None, None]
    low, high = point * sweep.ratios[..., 0], point * sweep.ratios[..., 1]
    assert np.all(sweep.at >= low * (1.0 - 1e-12))
    assert np.all(sweep.at <= high * (1.0 + 1e-12))
    moving = sweep.ratios[..., 0] < sweep.ratios[..., 1]
    assert moving.any()  # not bounds that cannot fail


def table_of_every_row(model, case, target):
    """The table with every cause's row run (no bound decides anything)."""
    saved = sensitivity_module.MARGIN
    try:
        sensitivity_module.MARGIN = np.inf
        return model.sensitivity(case, target)
    finally:
        sensitivity_module.MARGIN = saved


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("target", [None, "dvt", "group:arthritis"])
@pytest.mark.parametrize("near", [sensitivity_module.NEAR, 0.0])
def test_fewer_rows_same_table(case, target, near, monkeypatch):
    """The table from the rows the bounds leave open equals the one of every row: the
    same rows in the same order, the same flips, numbers to 1e-12; with the rows near
    the top cause or a threshold run in the first sweep, and with none (``NEAR`` 0:
    every row the bounds leave open is run in a second sweep)."""
    monkeypatch.setattr(sensitivity_module, "NEAR", near)
    rows: list[int] = []
    sweep = Parameters.sweep

    def counted(self, evidence, clamps, *args, **kwargs):
        rows.append(len(clamps))
        return sweep(self, evidence, clamps, *args, **kwargs)

    monkeypatch.setattr(Parameters, "sweep", counted)
    table = SHIPPED.sensitivity(case, target)
    run = sum(rows)
    full = table_of_every_row(SHIPPED, case, target)
    assert sum(rows) - run > run  # the full table ran more rows
    pd.testing.assert_frame_equal(table, full, check_exact=False, rtol=1e-12, atol=0.0)
    assert table.attrs == full.attrs


def test_fewer_rows_same_table_random_networks():
    for seed in range(4, 10):
        kb = small_kb(seed)
        model = pk.Model(kb)
        case = case_for(kb, np.random.default_rng(seed))
        pd.testing.assert_frame_equal(model.sensitivity(case),
                                      table_of_every_row(model, case, None),
                                      check_exact=False, rtol=1e-12, atol=0.0)
