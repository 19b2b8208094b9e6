"""Monte Carlo intervals: reproducible, exact when nothing is uncertain, and drawn as
documented (the CSV range is the central 95 % of each parameter's distribution)."""

import statistics

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

import posterior_knee as pk
from posterior_knee.knowledge._schema import RANGED

from .strategies import evidence

CASE = {"lump_behind_knee": True, "calf_pain": True, "fever": False, "age_over_50": True}


def without_ranges(kb):
    tables = {}
    for name in RANGED:
        frame = getattr(kb, name).copy()
        frame["low"], frame["high"] = np.nan, np.nan
        tables[name] = frame
    return kb.replace(**tables)


def with_ranges(kb, relative):
    """Every number given a range of value -/+ relative * value (inside its domain)."""
    tables = {}
    for name, column in RANGED.items():
        frame = getattr(kb, name).copy()
        value = frame[column]
        frame["low"], frame["high"] = value * (1 - relative), value * (1 + relative)
        if column != "odds_ratio":
            frame["high"] = np.minimum(frame["high"], 1.0)
        tables[name] = frame
    risks = tables["risk_factors"]
    group = risks["exclusive_group"] != ""
    risks.loc[group, "high"] = risks.loc[group, "prevalence"]  # keep the group <= 1
    return kb.replace(**tables)


@pytest.fixture(scope="module")
def ranged_kb(kb):
    return with_ranges(without_ranges(kb), 0.3)


def test_same_seed_same_frame_other_seed_other_frame(ranged_kb):
    dx = pk.diagnose(CASE, kb=ranged_kb)
    a, b = dx.intervals(n=200, seed=7), dx.intervals(n=200, seed=7)
    pd.testing.assert_frame_equal(a, b)
    c = dx.intervals(n=200, seed=8)
    assert not np.array_equal(a["low"], c["low"])
    pd.testing.assert_frame_equal(a[["cause", "probability"]], c[["cause", "probability"]])


def test_point_answer_and_order_are_the_ranking(ranged_kb):
    dx = pk.diagnose(CASE, kb=ranged_kb)
    table = dx.intervals(n=100)
    assert list(table.columns) == ["cause", "probability", "low", "high"]
    pd.testing.assert_frame_equal(table[["cause", "probability"]],
                                  dx.ranking[["cause", "probability"]])


def test_order_is_the_ranking_the_diagnosis_was_made_with(ranged_kb):
    case = {"calf_pain": True, "pregnancy": True, "age_under_30": True}
    model = pk.Model(ranged_kb)
    dx = model.diagnose(case, rank_by="differential")
    assert list(dx.ranking["cause"]) != list(model.diagnose(case).ranking["cause"])
    table = dx.intervals(n=50)
    pd.testing.assert_frame_equal(table[["cause", "probability"]],
                                  dx.ranking[["cause", "probability"]])


def test_intervals_contain_the_point_and_are_wide_enough(ranged_kb):
    table = pk.diagnose(CASE, kb=ranged_kb).intervals(n=400, seed=3)
    assert ((table["low"] <= table["probability"]) & (table["probability"] <= table["high"])
            ).all()
    top = table.iloc[0]
    assert top["high"] - top["low"] > 0.01  # 30 % ranges on every number do move it


@pytest.mark.parametrize("make", ["absent", "zero"])
def test_no_uncertainty_gives_the_point_exactly(kb, make):
    bare = without_ranges(kb)
    tuned = bare if make == "absent" else with_ranges(bare, 0.0)
    table = pk.diagnose(CASE, kb=tuned).intervals(n=50, seed=1)
    assert (table["low"] == table["probability"]).all()
    assert (table["high"] == table["probability"]).all()


def test_intervals_shrink_with_the_ranges(kb):
    bare = without_ranges(kb)
    widths = []
    for relative in (0.3, 0.03, 0.003):
        table = pk.diagnose(CASE, kb=with_ranges(bare, relative)).intervals(n=200, seed=2)
        widths.append(float((table["high"] - table["low"]).max()))
        assert ((table["low"] - table["probability"]).abs().max()
                <= 2 * relative * table["probability"].max())
    assert widths[0] > widths[1] > widths[2] > 0


def test_ranges_of_unreported_findings_do_not_matter(kb):
    """Only the leak and links of a finding nobody reported carry a range: exact point."""
    bare = without_ranges(kb)
    findings = bare.findings.copy()
    night = findings["id"] == "night_pain"
    findings.loc[night, ["low", "high"]] = (0.01, 0.3)
    table = pk.diagnose(CASE, kb=bare.replace(findings=findings)).intervals(n=50)
    assert (table["low"] == table["probability"]).all()


def test_one_ranged_parameter_matches_an_independent_recomputation(kb):
    """With one ranged number, a cause's posterior rising with its own prior, each
    interval end is the posterior at an order statistic of that number's draws. n = 401 puts the
    2.5 % and 97.5 % quantiles exactly on draws 10 and 390."""
    bare = without_ranges(kb)
    causes = bare.causes.copy()
    value, low, high = 0.1, 0.04, 0.2  # bakers_cyst prior: asymmetric on the log-odds
    causes.loc[causes["id"] == "bakers_cyst", ["low", "high"]] = (low, high)
    tuned = bare.replace(causes=causes)
    n, seed = 401, 11
    table = pk.diagnose(CASE, kb=tuned).intervals(n=n, seed=seed).set_index("cause")

    # the documented distribution, computed here on its own
    z = np.random.default_rng(seed).standard_normal((n, 1))[:, 0]
    logit = np.log(value / (1 - value))
    q = statistics.NormalDist().inv_cdf(0.975)
    below = (logit - np.log(low / (1 - low))) / q
    above = (np.log(high / (1 - high)) - logit) / q
    draws = np.sort(1 / (1 + np.exp(-(logit + z * np.where(z < 0, below, above)))))
    ends = []
    for prior in (draws[10], draws[390]):
        c = bare.causes.copy()
        c.loc[c["id"] == "bakers_cyst", "prior"] = prior
        ends.append(pk.diagnose(CASE, kb=bare.replace(causes=c)).ranking.set_index("cause")
                    ["probability"])
    assert [table.loc["bakers_cyst", "low"], table.loc["bakers_cyst", "high"]] == (
        pytest.approx([ends[0]["bakers_cyst"], ends[1]["bakers_cyst"]], abs=1e-12))


def test_draws_put_the_range_at_the_central_95_percent(kb):
    """Many draws of one ranged number: 2.5 % fall below low, 2.5 % above high."""
    from posterior_knee.reasoning.sensitivity import _draw

    value, low, high = np.array([0.1, 2.0]), np.array([0.04, 1.2]), np.array([0.2, 6.0])
    draws = _draw(value, low, high, np.array([False, True]), 200_000, 5)
    below, above = (draws < low).mean(axis=0), (draws > high).mean(axis=0)
    np.testing.assert_allclose(below, 0.025, atol=0.002)
    np.testing.assert_allclose(above, 0.025, atol=0.002)
    np.testing.assert_allclose(np.median(draws, axis=0), value, rtol=0.01)


def test_bad_parameters(model):
    from posterior_knee.errors import ParameterError

    dx = model.diagnose(CASE)
    for kwargs in ({"n": 1}, {"n": 2.5}, {"seed": -1}, {"seed": "a"}, {"level": 1.0},
                   {"level": True}):
        with pytest.raises(ParameterError):
            dx.intervals(**kwargs)


@settings(max_examples=8)
@given(case=evidence(pk.load_knowledge_base(), max_size=5))
def test_random_cases_give_ordered_reproducible_intervals(case):
    dx = pk.diagnose(case)
    a = dx.intervals(n=60, seed=4)
    pd.testing.assert_frame_equal(a, dx.intervals(n=60, seed=4))
    assert ((0 <= a["low"]) & (a["low"] <= a["high"]) & (a["high"] <= 1)).all()
