"""Sensitivity tables, checked against finite differences on edited knowledge bases."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

import posterior_knee as pk
from posterior_knee.errors import ParameterError, UnknownIdError
from posterior_knee.inference._parameters import Parameters
from posterior_knee.knowledge._schema import RANGED, TABLES

from .strategies import evidence

CASE = {"lump_behind_knee": True, "calf_pain": True, "fever": False, "age_over_50": True}
FLIP_CASE = {"knee_swelling": True, "age_over_50": True}  # osteoarthritis just ahead

# (table, key, column): a sample of every file and column. The finding rows cover a
# finding reported present (lump_behind_knee), one reported absent (fever) and one
# not reported (night_pain: its numbers cannot matter)
SAMPLE = [
    ("risk_factors", "plays_sport", "prevalence"),
    ("risk_factors", "age_under_30", "prevalence"),  # exclusive group member
    ("causes", "bakers_cyst", "prior"),
    ("causes", "dvt", "prior"),
    ("risk_effects", "age_over_50:osteoarthritis", "odds_ratio"),
    ("risk_effects", "plays_sport:calf_strain", "odds_ratio"),
    ("cause_links", "osteoarthritis:bakers_cyst", "odds_ratio"),
    ("findings", "lump_behind_knee", "leak"),
    ("findings", "fever", "leak"),
    ("finding_links", "bakers_cyst:lump_behind_knee", "strength"),
    ("finding_links", "dvt:calf_pain", "strength"),
    ("finding_links", "dvt:fever", "strength"),
]


def keys(kb, table):
    frame = getattr(kb, table)
    return [":".join(map(str, k)) for k in zip(*(frame[c] for c in TABLES[table].key))]


def edited(kb, table, key, column, value):
    """The knowledge base with one cell changed, through the public loader path."""
    frame = getattr(kb, table).copy()
    row = keys(kb, table).index(key)
    frame.loc[frame.index[row], column] = value
    return kb.replace(**{table: frame})


def probability(kb, case, target):
    return read(pk.diagnose(case, kb=kb), target)


def most_probable(dx):
    return dx.ranking.loc[dx.ranking["probability"].idxmax(), "cause"]


def read(dx, target):
    if target.startswith("group:"):
        return dx.groups.set_index("group").loc[target.removeprefix("group:"), "probability"]
    return dx.ranking.set_index("cause").loc[target, "probability"]


_EDITED: dict = {}


def edited_diagnosis(kb, case, table, key, column, value):
    """``case`` diagnosed on ``kb`` with one cell changed, remembered: the derivatives
    of every target are checked on the same edited copies (``kb`` is kept with its
    answers, so its id is not reused)."""
    memo = (id(kb), tuple(sorted(case.items())), table, key, column, value)
    if memo not in _EDITED:
        _EDITED[memo] = kb, pk.diagnose(case, kb=edited(kb, table, key, column, value))
    return _EDITED[memo][1]


def finite_difference(kb, case, target, table, key, column):
    """Central difference in the value itself, each side a freshly validated KB."""
    value = getattr(kb, table).loc[keys(kb, table).index(key), column]
    h = 1e-4 * (value if column == "odds_ratio" else min(value, 1.0 - value))
    up, down = (read(edited_diagnosis(kb, case, table, key, column, value + step), target)
                for step in (h, -h))
    # the answers each carry rounding of about 1e-14, so the estimate is only good to
    # about 1e-14 / h in absolute terms
    return (up - down) / (2 * h), 1e-14 / h


def row(table, file_, key):
    return table[(table["file"] == f"{file_}.csv") & (table["id"] == key)].iloc[0]


@pytest.mark.parametrize("target", ["bakers_cyst", "dvt", "group:arthritis"])
def test_derivatives_agree_with_finite_differences(kb, model, target):
    table = model.sensitivity(CASE, target)
    for file_, key, column in SAMPLE:
        expected, noise = finite_difference(kb, CASE, target, file_, key, column)
        got = row(table, file_, key)["derivative"]
        # a missing chain-rule factor or a wrong node would be off by far more
        assert got == pytest.approx(expected, rel=1e-5, abs=max(1e-9, noise)), (
            file_, key, column)
    assert abs(row(table, "finding_links", "dvt:fever")["derivative"]) > 1e-6


def test_leak_of_an_absent_finding_cancels(kb, model):
    """(1 - leak) multiplies every configuration alike when the finding is absent."""
    r = row(model.sensitivity(CASE, "dvt"), "findings", "fever")
    assert r["derivative"] == 0.0
    expected, noise = finite_difference(kb, CASE, "dvt", "findings", "fever", "leak")
    assert abs(expected) <= noise


def test_unreported_findings_have_exactly_zero_effect(kb, model):
    table = model.sensitivity(CASE, "bakers_cyst")
    for file_, key in (("findings", "night_pain"), ("finding_links", "dvt:leg_swelling_one_side")):
        r = row(table, file_, key)
        assert r["derivative"] == 0.0 and r["p_low"] == r["p_high"] == table.attrs["probability"]
        tuned = edited(kb, file_, key, r["column"], r["high"])
        assert probability(tuned, CASE, "bakers_cyst") == pytest.approx(
            table.attrs["probability"], abs=1e-12)


def test_range_ends_agree_with_edited_knowledge_bases(kb, model):
    table = model.sensitivity(CASE, "bakers_cyst")
    for file_, key, column in SAMPLE[::3]:
        r = row(table, file_, key)
        for end in ("low", "high"):
            expected = probability(edited(kb, file_, key, column, r[end]), CASE, "bakers_cyst")
            assert r[f"p_{end}"] == pytest.approx(expected, abs=1e-9), (file_, key, end)


def test_table_shape_order_and_attrs(kb, model):
    table = model.sensitivity(CASE, "bakers_cyst")
    n = sum(len(getattr(kb, t)) for t in RANGED) - int((kb.cause_links["kind"] == "requires")
                                                       .sum())
    assert len(table) == n
    assert list(table.columns[:11]) == ["file", "id", "column", "value", "derivative", "low",
                                        "high", "p_low", "p_high", "flips_top",
                                        "flips_triage"]
    assert not table.duplicated(["file", "id"]).any()
    assert (np.diff(table["derivative"].abs()) <= 0).all()
    dx = model.diagnose(CASE)
    assert table.attrs == {
        "target": "bakers_cyst", "top": dx.top, "most_probable": most_probable(dx),
        "triage": dx.triage.level.value,
        "probability": dx.ranking.set_index("cause").loc["bakers_cyst", "probability"]}
    values = row(table, "finding_links", "bakers_cyst:lump_behind_knee")
    assert values["value"] == kb.finding_links.set_index(["cause", "finding"]).loc[
        ("bakers_cyst", "lump_behind_knee"), "strength"]


def test_default_range_is_odds_times_or_divided_by_two(model):
    table = model.sensitivity(CASE)
    default = table[table["range_source"] == "default"]
    assert len(default)
    probability_rows = default[default["column"] != "odds_ratio"]
    odds = probability_rows["value"] / (1 - probability_rows["value"])
    for end, factor in (("low", 0.5), ("high", 2.0)):
        end_odds = probability_rows[end] / (1 - probability_rows[end])
        capped = probability_rows["id"].isin(["age_under_30", "age_over_50"])
        np.testing.assert_allclose(end_odds[~capped], factor * odds[~capped], rtol=1e-12)
    ratios = default[default["column"] == "odds_ratio"]
    np.testing.assert_allclose(ratios["low"], ratios["value"] / 2, rtol=1e-15)
    np.testing.assert_allclose(ratios["high"], ratios["value"] * 2, rtol=1e-15)
    # age bands share one node: the high end leaves the 'other' band at zero at most
    age = default[default["id"].isin(["age_under_30", "age_over_50"])].set_index("id")
    assert age.loc["age_under_30", "high"] + age.loc["age_over_50", "value"] <= 1.0 + 1e-12


def test_csv_ranges_are_used(kb):
    causes = kb.causes.copy()
    causes["low"], causes["high"] = np.nan, np.nan
    causes.loc[causes["id"] == "dvt", ["low", "high"]] = (0.005, 0.03)
    table = pk.Model(kb.replace(causes=causes)).sensitivity(CASE, "dvt")
    dvt = row(table, "causes", "dvt")
    assert (dvt["low"], dvt["high"], dvt["range_source"]) == (0.005, 0.03, "csv")
    assert row(table, "causes", "tumour")["range_source"] == "default"


def test_flips_agree_with_diagnoses_at_the_range_ends(kb, model):
    table = model.sensitivity(FLIP_CASE)
    top, level = table.attrs["most_probable"], table.attrs["triage"]
    flipped = table[table["flips_top"] | table["flips_triage"]]
    assert table["flips_top"].any()  # the case is built to sit near a tie
    checked = pd.concat([flipped, table[~table["flips_top"] & ~table["flips_triage"]].head(8)])
    for r in checked.itertuples():
        file_ = r.file.removesuffix(".csv")
        ends = [pk.diagnose(FLIP_CASE, kb=edited(kb, file_, r.id, r.column, getattr(r, end)))
                for end in ("low", "high")]
        assert r.flips_top == any(most_probable(dx) != top for dx in ends), r.id
        assert r.flips_triage == any(dx.triage.level.value != level for dx in ends), r.id


def test_flips_watch_the_most_probable_cause_when_the_ranking_puts_another_first(kb, model):
    # a red, warm, swollen calf with a lump behind an arthritic knee: a leg infection
    # explains the most findings (first by disablement), the intact cyst is likelier
    case = {f: True for f in ("age_over_50", "leg_swelling_one_side", "calf_swelling",
                              "warmth", "redness", "bruising", "tenderness",
                              "lump_behind_knee", "known_arthritis")}
    dx = model.diagnose(case)
    assert dx.top != most_probable(dx)  # the situation under test
    table = dx.sensitivity()
    assert table.attrs["top"] == dx.top == table.attrs["target"]
    assert table.attrs["most_probable"] == most_probable(dx)
    # the likelier cause does not count as "overtaking" the ranking's first everywhere
    assert table["flips_top"].mean() < 0.1
    checked = pd.concat([table[table["flips_top"]].head(4),
                         table[~table["flips_top"]].head(4)])
    for r in checked.itertuples():
        file_ = r.file.removesuffix(".csv")
        ends = [pk.diagnose(case, kb=edited(kb, file_, r.id, r.column, getattr(r, end)))
                for end in ("low", "high")]
        assert r.flips_top == any(most_probable(e) != most_probable(dx) for e in ends), r.id
    # made from the diagnosis it belongs to: the same table as made afresh
    pd.testing.assert_frame_equal(table, model.sensitivity(case))


def test_triage_flip_detected(model):
    table = model.sensitivity({"lump_behind_knee": True, "calf_pain": True})
    assert table["flips_triage"].any()


def test_diagnosis_method_defaults_to_the_top_cause(model):
    dx = model.diagnose(CASE)
    pd.testing.assert_frame_equal(dx.sensitivity(), model.sensitivity(CASE, dx.top))
    assert dx.sensitivity().attrs["target"] == dx.top


def test_unknown_target_suggests_a_cause(model):
    with pytest.raises(UnknownIdError, match="Did you mean 'bakers_cyst'"):
        model.sensitivity(CASE, "bakers_cist")
    with pytest.raises(UnknownIdError, match="group:dvt"):
        model.sensitivity(CASE, "group:dvtt")
    with pytest.raises(ParameterError, match="'target' parameter of sensitivity"):
        model.sensitivity(CASE, 3)


def test_point_values_rebuild_the_structure_exactly(model):
    params = Parameters(model.kb, model.structure)
    rebuilt = params.build(params.values)
    for a, b in zip(model.structure.risk_nodes, rebuilt.risk_nodes):
        assert np.array_equal(a.prior, b.prior)
    for a, b in zip(model.structure.causes, rebuilt.causes):
        assert np.array_equal(a.p_yes, b.p_yes)
    for a, b in zip(model.structure.findings, rebuilt.findings):
        assert a.leak == b.leak and np.array_equal(a.strengths, b.strengths)


def test_edge_values_use_a_one_sided_difference(kb):
    """A leak of exactly 0 has no log-odds; its derivative still matches the edit.
    (heaviness_lower_leg: the safety floor keeps the leaks of red-flag findings above 0.)"""
    case = {**CASE, "heaviness_lower_leg": True}
    findings = kb.findings.copy()
    findings.loc[findings["id"] == "heaviness_lower_leg", "leak"] = 0.0
    tuned = kb.replace(findings=findings)
    r = row(pk.Model(tuned).sensitivity(case, "dvt"), "findings", "heaviness_lower_leg")
    h = 1e-5
    expected = (probability(edited(tuned, "findings", "heaviness_lower_leg", "leak", h), case,
                            "dvt")
                - probability(tuned, case, "dvt")) / h
    assert r["derivative"] == pytest.approx(expected, rel=1e-3)


@settings(max_examples=10)
@given(case=evidence(pk.load_knowledge_base(), max_size=5))
def test_random_cases_linear_numbers_are_monotone(case):
    """A posterior is a ratio of linear functions (so monotone) in a prevalence, leak or
    link strength: the point lies between p_low and p_high, and the derivative has the
    sign of p_high - p_low. (A prior or odds ratio need not be monotone.)"""
    table = pk.diagnose(case).sensitivity()
    p = table.attrs["probability"]
    linear = table[table["column"].isin(["prevalence", "leak", "strength"])
                   & ((table["p_high"] - table["p_low"]).abs() > 1e-9)]
    lo = np.minimum(linear["p_low"], linear["p_high"])
    hi = np.maximum(linear["p_low"], linear["p_high"])
    assert ((lo <= p + 1e-12) & (p <= hi + 1e-12)).all()
    assert (np.sign(linear["derivative"]) == np.sign(linear["p_high"] - linear["p_low"])).all()
