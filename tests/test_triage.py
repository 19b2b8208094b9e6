"""Triage: red flags can never be lowered; can't-miss thresholds escalate early."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

import posterior_knee as pk
from posterior_knee import TriageLevel
from posterior_knee.clinical._condition import condition_ids, holds, parse_condition
from posterior_knee.errors import KnowledgeBaseError
from posterior_knee.knowledge._safety import MANDATED_RED_FLAGS, minimal_presentations

from .strategies import evidence

KB = pk.load_knowledge_base()
PRESENTATIONS = [(present, level) for condition, level in MANDATED_RED_FLAGS
                 for present in minimal_presentations(condition)]


def test_levels_are_ordered():
    assert TriageLevel.SELF_CARE < TriageLevel.SOON < TriageLevel.URGENT < \
        TriageLevel.EMERGENCY
    assert max(TriageLevel.SOON, TriageLevel.EMERGENCY) is TriageLevel.EMERGENCY
    assert TriageLevel.URGENT == "urgent"


@pytest.mark.parametrize(("present", "level"), PRESENTATIONS,
                         ids=lambda x: "+".join(sorted(x)) if isinstance(x, frozenset) else str(x))
def test_each_demanded_red_flag_fires(model, present, level):
    dx = model.diagnose(dict.fromkeys(present, True))
    assert dx.triage.level >= level
    assert dx.red_flags, "the level must come from a named red-flag rule"
    assert any("Red flag" in reason for reason in dx.triage.reasons)


@given(pair=st.sampled_from(PRESENTATIONS), other=evidence(KB, max_size=25))
def test_no_other_evidence_lowers_a_red_flag(model, pair, other):
    """Search for a bypass: any extra evidence, reassuring or not, with a red flag."""
    present, level = pair
    case = {**other, **dict.fromkeys(present, True)}
    for name in present:  # keep the case consistent (one age band)
        group = KB.risk_factors.set_index("id")["exclusive_group"].get(name)
        if group:
            for member in KB.risk_factors.query("exclusive_group == @group")["id"]:
                if member != name:
                    case[member] = False
    assert model.diagnose(case).triage.level >= level


@given(other=evidence(KB, max_size=25))
def test_triage_is_at_least_the_red_flag_level(model, other):
    dx = model.diagnose(other)
    present = [k for k, v in dx.findings.items() if v]
    assert dx.triage.level >= model.rules.red_flag_level(present)


@given(data=st.data())
def test_tuned_priors_cannot_lower_a_red_flag(model, data):
    """Whatever the probabilities say (here: random priors), red flags hold."""
    present, level = data.draw(st.sampled_from(PRESENTATIONS))
    scale = data.draw(st.floats(0.01, 1.0))
    causes = KB.causes.assign(prior=KB.causes["prior"] * scale)
    tuned = pk.Model(KB.replace(causes=causes))
    assert tuned.diagnose(dict.fromkeys(present, True)).triage.level >= level


def test_cant_miss_thresholds_escalate(model):
    rules = [t for t in model.rules.thresholds if t.kind == "cant_miss"]
    assert {"dvt", "septic_arthritis"} <= {t.cause for t in rules}
    for rule in rules:
        probabilities = dict.fromkeys(model.structure.cause_ids, 0.0)
        probabilities[rule.cause] = rule.probability
        triage = model.rules.assess([], probabilities)
        assert triage.level >= rule.level
        assert any(rule.cause in reason for reason in triage.reasons)
        probabilities[rule.cause] = rule.probability * 0.999
        below = model.rules.assess([], probabilities)
        assert all(f">= {rule.probability * 100:g}%" not in r or rule.cause not in r
                   for r in below.reasons)


def test_dvt_escalated_before_it_is_the_top_cause(model):
    dvt_rules = [t for t in model.rules.thresholds
                 if t.cause == "dvt" and t.kind == "cant_miss"]
    assert min(t.probability for t in dvt_rules) <= 0.15


def test_no_flags_gives_a_reason_anyway(model):
    dx = model.diagnose({})
    assert dx.triage.reasons


# -- the safety floor cannot be weakened by a tuned knowledge base -------------------


def test_deleting_a_demanded_rule_is_rejected(kb):
    flags = kb.red_flags
    fever_rules = flags["condition"].str.contains("hot_painful_knee")
    with pytest.raises(KnowledgeBaseError, match="safety floor"):
        kb.replace(red_flags=flags[~fever_rules])


def test_lowering_a_demanded_rule_is_rejected(kb):
    flags = kb.red_flags.copy()
    flags["level"] = "soon"
    with pytest.raises(KnowledgeBaseError, match="must triage at least emergency"):
        kb.replace(red_flags=flags)


def test_dropping_the_dvt_threshold_is_rejected(kb):
    thresholds = kb.thresholds[kb.thresholds["cause"] != "dvt"]
    with pytest.raises(KnowledgeBaseError, match="'dvt' needs a 'cant_miss' threshold"):
        kb.replace(thresholds=thresholds)


def test_raising_a_level_is_allowed(kb):
    flags = kb.red_flags.copy()
    flags.loc[flags["level"] == "soon", "level"] = "urgent"
    tuned = pk.Model(kb.replace(red_flags=flags))
    assert tuned.diagnose({"lump_behind_knee": True}).triage.level >= "urgent"


def test_model_refuses_an_unvalidated_weakened_kb(kb):
    """Even a KnowledgeBase built with the bare constructor cannot lower the floor."""
    import dataclasses

    weakened = dataclasses.replace(kb, red_flags=kb.red_flags.assign(level="soon"))
    with pytest.raises(KnowledgeBaseError, match="safety floor"):
        pk.Model(weakened)


_RULE_IDS = sorted({name for text in KB.red_flags["condition"]
                    for name in condition_ids(parse_condition(text)[0])})


@given(present=st.sets(st.sampled_from(_RULE_IDS)),
       as_list=st.booleans())
def test_fired_red_flags_are_the_rules_whose_condition_holds(model, present, as_list):
    """The set-intersection reading of each rule is the condition's own meaning
    (``holds``: every term has at least its count of ids present), given as a set or as
    any other collection."""
    rules = model.rules
    given_ = sorted(present) if as_list else present
    want = [rule for rule in rules.red_flags if holds(rule.condition, present)]
    assert rules.fired_red_flags(given_) == want
