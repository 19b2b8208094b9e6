"""Explanations, the next best question and the stopping rule, against direct computation."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

import posterior_knee as pk
from posterior_knee.errors import UnknownIdError
from posterior_knee.inference._whatif import branches
from posterior_knee.reasoning.questions import _candidates, rank_questions, stop_reason

from .strategies import evidence

CASE = {"calf_swelling": True, "calf_pain": True, "fever": False, "age_over_50": True}


def logit(p):
    return np.log(p) - np.log1p(-p)


def p_cause(model, evidence, cause):
    return model.posterior(model.evidence(evidence)).causes[
        model.structure.cause_ids.index(cause)]


def test_explanation_weights_match_recomputation(model):
    dx = model.diagnose(CASE)
    why = dx.explain("dvt")
    full = p_cause(model, CASE, "dvt")
    assert why.attrs["probability"] == pytest.approx(full, abs=1e-12)
    for row in why[why["kind"].isin(["finding", "risk_factor"])].itertuples():
        rest = {k: v for k, v in CASE.items() if k != row.evidence}
        expected = logit(full) - logit(p_cause(model, rest, "dvt"))
        assert row.weight == pytest.approx(expected, abs=1e-9)
    assert set(why["evidence"]) >= set(CASE) | {"(prior)", "(all risk factors)"}
    prior = why.loc[why["kind"] == "prior", "weight"].item()
    assert prior == pytest.approx(logit(p_cause(model, {}, "dvt")), abs=1e-9)
    assert why["weight"].is_monotonic_decreasing


def test_a_diagnosis_explains_with_its_own_probability_as_the_function_computes_it(model):
    from posterior_knee.reasoning import explain

    dx = model.diagnose(CASE)
    for cause in (dx.top, "dvt", "tumour"):
        pd.testing.assert_frame_equal(dx.explain(cause),
                                      explain(model, dx.findings, cause), rtol=1e-12)


def test_explanation_signs_make_sense(model):
    why = model.diagnose({"lump_behind_knee": True, "fever": False}).explain("bakers_cyst")
    weights = why.set_index("evidence")["weight"]
    assert weights["lump_behind_knee"] > 1.0


def test_explain_defaults_to_the_top_cause(model):
    dx = model.diagnose(CASE)
    assert dx.explain().attrs["cause"] == dx.top


def test_explain_unknown_cause(model):
    with pytest.raises(UnknownIdError, match="Did you mean 'dvt'"):
        model.diagnose(CASE).explain("dvtt")


def entropy(p):
    p = np.clip(p, 1e-15, 1 - 1e-15)
    return float(-(p * np.log2(p) + (1 - p) * np.log2(1 - p)).sum())


@pytest.mark.parametrize("by", ["causes", "groups"])
def test_expected_gain_matches_direct_computation(model, by):
    dx = model.diagnose(CASE)
    table = dx.next_questions(k=None, by=by).set_index("finding")
    evidence = model.evidence(CASE)
    before = model.posterior(evidence)
    values = (lambda p: p.causes) if by == "causes" else (lambda p: p.groups)
    top = model.structure.cause_ids.index(dx.top)
    for name in ["knee_swelling", "lump_behind_knee", "previous_clot", "age_under_30"]:
        if name not in table.index:
            continue  # age_under_30 is fixed by age_over_50
        yes = model.posterior({**evidence, name: True})
        no = model.posterior({**evidence, name: False})
        p_yes = yes.evidence_probability / before.evidence_probability
        gain = entropy(values(before)) - (p_yes * entropy(values(yes))
                                          + (1 - p_yes) * entropy(values(no)))
        row = table.loc[name]
        assert row["p_yes"] == pytest.approx(p_yes, abs=1e-9)
        assert row["expected_gain"] == pytest.approx(gain, abs=1e-9)
        assert row["if_yes"] == pytest.approx(yes.causes[top], abs=1e-9)
        assert row["if_no"] == pytest.approx(no.causes[top], abs=1e-9)
    assert "age_under_30" not in table.index  # already answered by age_over_50


def test_p_yes_matches_pgmpy(model, reference):
    evidence = model.evidence(CASE)
    table = rank_questions(model, evidence).set_index("finding")
    from posterior_knee.inference._pgmpy import probability_yes

    for name in ("knee_swelling", "smoker"):
        assert table.loc[name, "p_yes"] == pytest.approx(
            probability_yes(reference.network, name, evidence), abs=1e-9)


def test_screening_questions_come_first(model):
    table = model.diagnose({}).next_questions(k=None)
    n = len(model.ask_first)
    assert table["ask_first"].head(n).all() and not table["ask_first"].iloc[n:].any()
    assert set(table["finding"].head(n)) == model.ask_first
    # screening questions check the red flags the source documents demand
    assert {"shortness_of_breath", "chest_pain", "fever", "hot_painful_knee"} <= model.ask_first


def test_next_questions_columns_and_focus(model):
    dx = model.diagnose({**CASE, **dict.fromkeys(model.ask_first, False)})
    table = dx.next_questions(k=3, focus=["dvt"])
    assert list(table.columns[:7]) == ["finding", "question", "ask_first", "expected_gain",
                                       "p_yes", "if_yes", "if_no"]
    assert len(table) == 3
    # by gain within each tier (a "yes" that raises the triage level comes first)
    for _, tier in table.groupby("raises_level"):
        assert tier["expected_gain"].is_monotonic_decreasing
    assert table["raises_level"].is_monotonic_decreasing
    assert ((table["p_yes"] >= 0) & (table["p_yes"] <= 1)).all()
    with pytest.raises(ValueError, match="'causes' or 'groups'"):
        dx.next_questions(by="entropy")


@pytest.mark.parametrize("by", ["causes", "groups"])
def test_a_diagnosis_ranks_its_questions_as_the_function_does_without_it(model, by):
    # dx.next_questions reads the current posteriors from the diagnosis
    dx = model.diagnose(CASE, rank_by="probability")
    pd.testing.assert_frame_equal(dx.next_questions(k=None, by=by),
                                  rank_questions(model, dx.findings, by=by))
    other = model.diagnose({**CASE, "fever": True})
    with pytest.raises(ValueError, match="'diagnosis' parameter of rank_questions"):
        rank_questions(model, dx.findings, diagnosis=other)  # another case's diagnosis


def test_stop_rule():
    empty = pd.DataFrame(columns=["ask_first", "expected_gain", "changes_result"])
    assert "answered" in stop_reason(empty)
    row = {"ask_first": False, "expected_gain": 0.5, "changes_result": True}
    assert stop_reason(pd.DataFrame([row])) is None
    assert stop_reason(pd.DataFrame([{**row, "ask_first": True, "expected_gain": 0}])) is None
    # nothing to gain, but a "yes" could make the advice more urgent: go on
    useless = {**row, "expected_gain": 0.0, "changes_result": False}
    assert stop_reason(pd.DataFrame([{**useless, "raises_level": False}])) is not None
    assert stop_reason(pd.DataFrame([{**useless, "raises_level": True}])) is None
    assert "bits" in stop_reason(pd.DataFrame([{**row, "expected_gain": 0.001}]))
    assert "changes" in stop_reason(pd.DataFrame([{**row, "changes_result": False}]))


@settings(max_examples=25)  # each example queries every answer directly (about 100)
@given(data=evidence(pk.load_knowledge_base(), max_size=5))
def test_answer_branches_match_direct_queries(model, data):
    """The batched answers ("yes" by subtraction) equal a separate query per answer."""
    case = model.evidence(data)
    names = _candidates(model, case)
    fast = branches(model, case, names)
    assert fast.names == tuple(names)
    total = model.posterior(case).evidence_probability
    for k, name in enumerate(names):
        yes, no = (model._posterior_or_none({**case, name: answer}) for answer in (True, False))
        p_yes = 0.0 if yes is None else yes.evidence_probability / total
        assert fast.p_yes[k] == pytest.approx(p_yes, abs=1e-6), name
        yes, no = yes or no, no or yes
        for got, expected in ((fast.yes_causes[k], yes.causes), (fast.no_causes[k], no.causes),
                              (fast.yes_groups[k], yes.groups), (fast.no_groups[k], no.groups)):
            np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6, err_msg=name)


def test_nothing_left_to_ask(model):
    """Every id answered (with many findings present): an empty ranking, and a reason."""
    case = {name: False for name in model.kb.evidence_ids}
    case.update(dict.fromkeys(["fever", "calf_pain", "lump_behind_knee", "crepitus",
                               "redness", "warmth", "locking", "giving_way", "night_pain",
                               "tenderness"], True))
    case.update({"age_under_30": False, "age_over_50": True})
    table = rank_questions(model, model.evidence(case))
    assert table.empty
    assert "answered" in stop_reason(table)


def test_changes_result_matches_direct_assessment(model):
    """An answer "changes the result" when the top three or the triage level move."""
    case = {"calf_pain": True, "fever": False, "age_over_50": True}
    evidence = model.evidence(case)
    table = rank_questions(model, evidence).set_index("finding")
    causes = model.structure.cause_ids

    def result(ev):
        post = model.posterior(ev)
        top3 = frozenset(np.argsort(-post.causes, kind="stable")[:3].tolist())
        present = [k for k, v in ev.items() if v]
        return top3, model.rules.assess(present, dict(zip(causes, post.causes))).level

    before = result(evidence)
    for name in ["leg_swelling_one_side", "shortness_of_breath", "lump_behind_knee",
                 "crepitus", "smoker"]:
        expected = any(result({**evidence, name: answer}) != before
                       for answer in (True, False))
        assert bool(table.loc[name, "changes_result"]) == expected, name
    assert table.loc["shortness_of_breath", "changes_result"]  # a red flag: emergency


def test_question_ranking_on_pgmpy_matches_the_exact_engine(core, core_reference):
    """The pgmpy engine ranks by one query per answer; the figures agree (on the
    20-cause core: one joint pgmpy query per answer instead of one per cause)."""
    case = {"calf_pain": True, "fever": False}
    columns = ["p_yes", "expected_gain", "if_yes", "if_no"]
    fast = rank_questions(core, core.evidence(case)).set_index("finding")
    slow = rank_questions(core_reference, core_reference.evidence(case)).set_index("finding")
    np.testing.assert_allclose(slow.loc[fast.index, columns], fast[columns], atol=1e-9)
