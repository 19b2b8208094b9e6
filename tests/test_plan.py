"""What to do next: the plan never offers self-care above 'soon' and always ends with the
disclaimer."""

from hypothesis import given

import posterior_knee as pk
from posterior_knee import DISCLAIMER, TriageLevel

from .strategies import evidence

KB = pk.load_knowledge_base()


@given(case=evidence(KB, max_size=10))
def test_no_self_care_above_soon(model, case):
    dx = model.diagnose(case)
    plan = dx.plan
    assert plan.level == dx.triage.level and plan.action == dx.triage.action
    if dx.triage.level > TriageLevel.SOON:
        assert plan.self_care.empty
        assert "Self-care" not in plan.summary()
    assert plan.summary().endswith(DISCLAIMER)
    assert DISCLAIMER in plan._repr_html_()


def test_self_care_comes_with_its_cautions(model):
    dx = model.diagnose({"overuse": True, "pain_with_activity": True, "plays_sport": True})
    assert dx.triage.level <= TriageLevel.SOON
    care = dx.plan.self_care.set_index("measure")
    assert "pain_relief" in care.index
    caution = care.loc["pain_relief", "caution"].lower()
    for problem in ("kidney", "heart", "stomach", "bleeding"):
        assert problem in caution
    assert "numb" in care.loc["compression", "caution"].lower()


def test_emergency_plan_leads_with_the_action(model):
    dx = model.diagnose({"fever": True, "hot_painful_knee": True})
    assert dx.plan.level == TriageLevel.EMERGENCY
    assert dx.plan.summary().startswith("What to do: " + dx.triage.action)
    assert "joint_aspiration" in set(dx.plan.tests["test"])


def test_tests_follow_the_source_documents(model):
    """Ultrasound for a clot or cyst, MRI for ligaments, X-ray for arthritis."""
    advice = KB.cause_advice[KB.cause_advice["kind"] == "test"]
    tests = advice.groupby("cause")["item"].apply(set)
    assert "ultrasound" in tests["dvt"] and "ultrasound" in tests["bakers_cyst"]
    assert "mri" in tests["acl_injury"] and "mri" in tests["meniscus_tear"]
    assert "x_ray" in tests["osteoarthritis"]
    assert "blood_tests" in tests["septic_arthritis"]
    assert set(KB.triage_actions["level"]) == {level.value for level in TriageLevel}


def test_every_cause_has_advice():
    kinds = KB.cause_advice.groupby("cause")["kind"].apply(set)
    for cause in KB.cause_ids:
        assert {"test", "treatment", "warning"} <= kinds[cause], cause


def test_summary_lists_the_first_warning_signs_or_all(model):
    from posterior_knee.clinical.plan import SHOWN_WARNINGS

    plan = model.diagnose({"calf_swelling": True, "calf_pain": True,
                           "leg_swelling_one_side": True}).plan
    assert len(plan.warning_signs) > SHOWN_WARNINGS  # a case with many
    short, full = plan.summary(), plan.summary(warnings=None)
    hidden = len(plan.warning_signs) - SHOWN_WARNINGS
    assert f"({hidden} more in plan.warning_signs)" in short
    assert all(f"  - {sign}" in full for sign in plan.warning_signs)
    assert "more in plan.warning_signs" not in full and DISCLAIMER in full
