"""Clinical safety: the classes of the clinical review (sections A and B), red flags that
survive every failure, and a floor no tuned copy can weaken.

Each test is named in docs/safety.md, the hazard log, beside the hazard it guards.
"""

import itertools
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import posterior_knee as pk
from posterior_knee import TriageLevel
from posterior_knee.clinical.wells import ITEMS
from posterior_knee.errors import ImpossibleEvidenceError, KnowledgeBaseError
from posterior_knee.knowledge._safety import (
    FLOOR_RULES,
    MANDATED_CANT_MISS,
    SCREENING,
    minimal_presentations,
)

from .strategies import evidence

KB = pk.load_knowledge_base()
E, U, S = TriageLevel.EMERGENCY, TriageLevel.URGENT, TriageLevel.SOON
INJURIES = ("injury_twist", "injury_blow_or_fall", "injury_push_off")
# every reported injury: with the knee forced backwards and a blow to the bent knee, the
# two mechanisms of a knee dislocation
ALL_INJURIES = (*INJURIES, "hyperextension_at_onset", "fall_on_bent_knee")
WELLS = tuple(name for _, name in ITEMS if name)


# -- A1: a suspected clot without swelling ------------------------------------------


def _wells_vignettes():
    """Every combination of the seven answerable Wells items scoring 2 or more, with
    calf pain and no injury; items not present reported unknown, or reported "no"."""
    assert len(WELLS) == 7
    for k in range(2, 8):
        for chosen in itertools.combinations(WELLS, k):
            for absent_as in ("unknown", "no"):
                case = {"calf_pain": True, **dict.fromkeys(INJURIES, False)}
                case.update(dict.fromkeys(chosen, True))
                if absent_as == "no":
                    case.update({name: False for name in WELLS if name not in chosen})
                yield pytest.param(case, id=f"{'+'.join(chosen)}-{absent_as}")


@pytest.mark.parametrize("case", list(_wells_vignettes()))
def test_wells_two_or_more_with_calf_pain_is_urgent(model, case):
    assert model.diagnose(case).triage.level >= U


@pytest.mark.parametrize("risk", ["recent_surgery", "immobilisation", "active_cancer",
                                  "previous_clot", "pregnancy"])
@pytest.mark.parametrize("symptom", ["calf_pain", "tenderness"])
def test_clot_risk_with_calf_pain_is_urgent_without_swelling(model, risk, symptom):
    case = {risk: True, symptom: True, "calf_swelling": False,
            "leg_swelling_one_side": False, **dict.fromkeys(INJURIES, False)}
    dx = model.diagnose(case)
    assert dx.triage.level >= U
    assert "clot_risk_with_calf_pain" in dx.red_flags


# -- A2 and A6: the same day for a clot or a joint infection still in the differential -


@pytest.mark.parametrize("cause", ["dvt", "septic_arthritis"])
def test_cant_miss_causes_at_a_few_percent_mean_the_same_day(model, cause):
    """P(dvt) at the Wells-low level (5 %) and septic arthritis at 3 % are urgent."""
    probabilities = dict.fromkeys(model.structure.cause_ids, 0.0)
    probabilities[cause] = 0.05 if cause == "dvt" else 0.03
    assert model.rules.assess([], probabilities).level >= U


# -- A3, A4, A5: limb threat -------------------------------------------------------------

LIMB = [("bluish_discoloration", other) for other in
        ("severe_pain", "numbness_tingling", "sudden_onset", "leg_swelling_one_side",
         "calf_swelling", "sudden_leg_swelling")]
LIMB += [("cold_pale_foot", other) for _, other in LIMB]


@pytest.mark.parametrize("pair", LIMB, ids="+".join)
def test_a_blue_pale_or_cold_leg_with_pain_numbness_onset_or_swelling_is_an_emergency(
        model, pair):
    assert model.diagnose(dict.fromkeys(pair, True)).triage.level == E


def test_a_cold_pale_foot_is_asked_first_and_urgent_alone(model):
    assert "cold_pale_foot" in model.ask_first
    assert model.diagnose({"cold_pale_foot": True}).triage.level >= U


@pytest.mark.parametrize("injury", ALL_INJURIES)
@given(other=evidence(KB, max_size=8))
def test_a_misshapen_knee_after_an_injury_is_an_emergency_whatever_else(model, injury, other):
    """Including a knee forced backwards or a blow to the bent knee (H50): before, those
    two reached the emergency only through the dislocation threshold, which other
    answers (a sudden start with grinding and night pain) could explain away."""
    dx = model.diagnose({**other, "knee_misshapen": True, injury: True})
    assert dx.triage.level == E
    assert "injured_misshapen_knee" in dx.red_flags


@pytest.mark.parametrize("signs", list(itertools.combinations(
    ("tense_calf", "severe_pain", "numbness_tingling", "pain_out_of_proportion"), 2)),
    ids="+".join)
@given(injury=st.sampled_from(ALL_INJURIES), other=evidence(KB, max_size=6))
def test_compartment_syndrome_features_after_an_injury_are_an_emergency_whatever_else(
        model, signs, injury, other):
    dx = model.diagnose({**other, injury: True, **dict.fromkeys(signs, True)})
    assert dx.triage.level == E
    assert "compartment_syndrome" in dx.red_flags


# -- H51-H53: signs that reached their level only through thresholds ----------------------
# Found by adding random answers to each pair of findings and looking for a lower level:
# a weak foot pulse with a sudden start went to self-care, a foot drop and pain far worse
# than expected after a blow to the bent knee to "within days" or self-care.

@pytest.mark.parametrize("pain", ["sudden_onset", "severe_pain", "pain_at_rest"])
@given(other=evidence(KB, max_size=8))
def test_a_weak_foot_pulse_with_sudden_or_rest_pain_is_urgent_whatever_else(
        model, pain, other):
    """Pain with a missing pulse is how a failing blood supply shows (acute or critical
    limb ischaemia): seen today, whatever else is answered."""
    dx = model.diagnose({**other, "weak_foot_pulse": True, pain: True})
    assert dx.triage.level >= U
    assert "weak_pulse_sudden_or_rest_pain" in dx.red_flags


@given(other=evidence(KB, max_size=8))
def test_a_weak_foot_pulse_or_unexpectedly_bad_pain_is_never_self_care(model, other):
    for sign in ("weak_foot_pulse", "pain_out_of_proportion"):
        assert model.diagnose({**other, sign: True}).triage.level >= S


@given(other=evidence(KB, max_size=8))
def test_a_foot_drop_is_urgent_whatever_else(model, other):
    """A weak foot (toes catch, the foot slaps down): a pressed nerve at the knee or in
    the back, or pressure in the shin muscles; seen today."""
    dx = model.diagnose({**other, "foot_drop": True})
    assert dx.triage.level >= U
    assert "foot_drop_today" in dx.red_flags


@given(other=evidence(KB, max_size=8))
def test_a_badly_swollen_knee_is_urgent_whatever_else(model, other):
    """NHS advice sends a badly swollen knee (not any swollen knee) to a same-day
    appointment: blood from a torn ligament or a broken bone, or fluid from gout or an
    infection, which only an examination and the fluid tell apart."""
    dx = model.diagnose({**other, "knee_badly_swollen": True})
    assert dx.triage.level >= U
    assert "badly_swollen_knee" in dx.red_flags


@given(context=st.sampled_from([*ALL_INJURIES, "calf_swelling", "tense_calf",
                                 "leg_swelling_one_side", "sudden_calf_swelling"]),
       other=evidence(KB, max_size=8))
def test_pain_out_of_proportion_after_an_injury_or_with_a_swollen_calf_is_urgent_whatever_else(
        model, context, other):
    """Pain far worse than the injury or the swelling should cause is the earliest sign
    of compartment syndrome: seen today, whatever else is answered."""
    dx = model.diagnose({**other, "pain_out_of_proportion": True, context: True})
    assert dx.triage.level >= U
    assert "unexpected_pain_today" in dx.red_flags


# -- septic joint, limb ischaemia and compartment syndrome without a reported injury -----

_NO_INJURY_NEEDED = ("hot_swollen_stiff_knee", "fever_swollen_tender_knee",
                     "sudden_severe_pain", "swollen_numb_calf")


@pytest.mark.parametrize("present", [
    present for rule, condition, _ in FLOOR_RULES if rule in _NO_INJURY_NEEDED
    for present in minimal_presentations(condition)], ids=lambda p: "+".join(sorted(p)))
@given(other=evidence(KB, max_size=8))
def test_a_septic_looking_joint_or_a_threatened_calf_is_an_emergency_whatever_else(
        model, present, other):
    """A hot swollen stiff knee, a fever with a swollen tender knee, sudden severe pain, or
    a suddenly swollen calf with numbness: the emergency department now, with or without
    an injury, whatever else is answered."""
    case = {**other, **dict.fromkeys(present, True)}
    assert model.diagnose(case).triage.level == E


@given(other=evidence(KB, max_size=10))
def test_numbness_between_the_legs_or_new_bladder_trouble_is_an_emergency_whatever_else(
        model, other):
    """Pain behind the knee can be sciatica; with numbness between the legs or new
    bladder or bowel trouble the nerve roots may be compressed (cauda equina syndrome):
    the emergency department now, with or without back pain, whatever else is
    answered. It is a screening question, so every interview asks it first."""
    case = {**other, "saddle_numbness_or_bladder": True}
    assert model.diagnose(case).triage.level == E
    assert "saddle_numbness_or_bladder" in SCREENING


# -- an injured knee that needs an X-ray or an examination today -------------------------

_INJURED_TODAY = ("fall_over_50_xray", "rapid_swelling_after_injury", "numb_after_injury",
                  "locked_knee_after_injury", "injured_swollen_stiff_knee")


@pytest.mark.parametrize("present", [
    ("injury_blow_or_fall", "age_over_50"), ("fall_on_bent_knee", "age_over_50"),
    ("swelling_within_hours",),
    *(("numbness_tingling", injury) for injury in ALL_INJURIES)],
    ids="+".join)
@given(other=evidence(KB, max_size=8))
def test_an_injured_knee_needing_an_x_ray_or_a_check_today_is_urgent_whatever_else(
        model, present, other):
    """A fall or blow at over 50 (Pittsburgh knee rule), a knee that swelled within hours
    of an injury (bleeding into the joint), numbness below an injured knee: seen today,
    whatever else is answered (other answers may only raise the level)."""
    groups = KB.risk_factors.set_index("id")["exclusive_group"]
    groups = groups[groups.fillna("") != ""]
    taken = {groups[name] for name in present if name in groups}
    # the other age band cannot be true beside age_over_50: "no" is its only answer
    other = {name: value and groups.get(name) not in taken for name, value in other.items()}
    case = {**other, **dict.fromkeys(present, True)}
    assert model.diagnose(case).triage.level >= U


_STARTS = (*ALL_INJURIES, "sudden_onset")


@pytest.mark.parametrize("start", _STARTS)
@given(other=evidence(KB, max_size=8))
def test_a_knee_locked_after_an_injury_or_a_sudden_start_is_urgent_whatever_else(
        model, start, other):
    """A knee that catches and cannot be fully straightened after an injury or a sudden
    start is a true locked knee (a torn cartilage caught in the joint), which knee
    pathways send for assessment the same day, whatever else is answered."""
    case = {**other, "locking": True, "reduced_range": True, start: True}
    dx = model.diagnose(case)
    assert dx.triage.level >= U
    assert "locked_knee_after_injury" in dx.red_flags


@pytest.mark.parametrize("start", _STARTS)
@given(other=evidence(KB, max_size=8))
def test_a_knee_swollen_and_stiff_after_an_injury_or_a_sudden_start_is_urgent_whatever_else(
        model, start, other):
    """A knee that has swollen and cannot be fully bent or straightened after an injury
    (the Ottawa knee rule X-rays a knee that cannot bend to 90 degrees) or after a sudden
    start without one (an acute monoarthritis: infection until the fluid is tested) is
    seen today, whatever else is answered."""
    case = {**other, "knee_swelling": True, "reduced_range": True, start: True}
    dx = model.diagnose(case)
    assert dx.triage.level >= U
    assert "injured_swollen_stiff_knee" in dx.red_flags


@pytest.mark.parametrize("sign", ["warmth", "redness"])
@given(other=evidence(KB, max_size=8))
def test_a_swollen_knee_that_is_warm_or_red_is_urgent_whatever_else(model, sign, other):
    """A swollen knee that is warm or red is an inflamed joint, which the guideline on
    the hot swollen joint treats as infected until its fluid is tested: seen today, with
    or without a fever or an injury, whatever else is answered. Before this rule a
    swollen warm knee was urgent only through the joint-infection threshold, and
    reporting a twist explained the warmth away (5.4 % -> 2.6 %, soon)."""
    case = {**other, "knee_swelling": True, sign: True}
    dx = model.diagnose(case)
    assert dx.triage.level >= U
    assert "warm_swollen_knee" in dx.red_flags


def test_the_injured_knee_rules_are_not_fired_by_their_parts_alone(model):
    """Each rule needs its whole presentation: an age over 50, or numbness, with no
    injury reported does not by itself make the visit urgent through these rules."""
    for case in ({"age_over_50": True}, {"numbness_tingling": True},
                 {"injury_blow_or_fall": True},
                 # catching with stiffness and no injury or sudden start: a worn knee
                 {"locking": True, "reduced_range": True, "age_over_50": True},
                 {"locking": True, "injury_twist": True},
                 {"reduced_range": True, "sudden_onset": True},
                 # a swollen knee after a twist that still bends and straightens fully,
                 # or a stiff one after a twist that is not swollen
                 {"knee_swelling": True, "injury_twist": True},
                 {"reduced_range": True, "injury_twist": True},
                 # a swollen, stiff worn knee with no injury or sudden start
                 {"knee_swelling": True, "reduced_range": True, "age_over_50": True}):
        fired = set(model.diagnose(case).red_flags)
        assert not fired & set(_INJURED_TODAY), case
    for case in ({"warmth": True}, {"redness": True}, {"knee_swelling": True},
                 {"calf_swelling": True, "warmth": True}):
        assert "warm_swollen_knee" not in model.diagnose(case).red_flags, case


# -- A7: a tear with weakness ------------------------------------------------------------


@given(other=evidence(KB, max_size=10))
def test_cannot_stand_on_tiptoe_is_at_least_soon(model, other):
    case = {**other, "weakness_tiptoe": True}
    assert model.diagnose(case).triage.level >= S


@given(other=evidence(KB, max_size=10),
       finding=st.sampled_from(["palpable_gap", "hyperextension_at_onset"]))
def test_a_tendon_gap_or_a_knee_bent_backwards_is_at_least_soon(model, other, finding):
    """A complete tear, or a ligament injury at the back of the knee: examined within
    days whatever else is reported."""
    case = {**other, finding: True}
    assert model.diagnose(case).triage.level >= S


@given(other=evidence(KB, max_size=10),
       finding=st.sampled_from(["lump_behind_knee", "painless_lump", "pulsatile_lump",
                                "lump_growing", "duration_over_2_weeks",
                                "swelling_within_hours", "claudication"]))
def test_every_question_that_implies_a_soon_sign_is_at_least_soon(model, other, finding):
    """A lump is examined whichever lump question found it (one that does not hurt is the
    classic presentation of a tumour, one that pulses of an aneurysm, one that grows is
    scanned within two weeks for a sarcoma, NICE NG12); pain for more than
    2 weeks has lasted more than 3 days; a knee that swelled within hours of an injury
    is a swollen knee; calf pain on exercise that eases with rest is assessed for narrowed
    or squeezed arteries."""
    case = {**other, finding: True}
    assert model.diagnose(case).triage.level >= S


@given(other=evidence(KB, max_size=10))
def test_weight_loss_or_night_sweats_is_at_least_soon(model, other):
    """Unexplained weight loss or drenching night sweats with leg pain is a red flag of
    an infection or a growth: examined within days, whatever else is reported (after a
    twist with activity pain the tumour's own threshold is not reached)."""
    case = {**other, "weight_loss_night_sweats": True}
    assert model.diagnose(case).triage.level >= S


@given(other=evidence(KB, max_size=10),
       sign=st.sampled_from(["knee_swelling", "reduced_range"]))
def test_a_swollen_or_stiff_knee_with_other_joints_is_at_least_soon(model, other, sign):
    """Other joints painful or swollen as well, with a swollen or stiff knee, may be an
    inflammatory arthritis, which NICE QS33 refers within 3 working days: examined within
    days, whatever else makes another cause likelier (two-sided kneecap pain explains
    both knees, and took a multi-joint presentation to self-care once)."""
    case = {**other, "other_joints_affected": True, sign: True}
    assert model.diagnose(case).triage.level >= S


# -- B: over-triage ------------------------------------------------------------------------


def test_short_of_breath_asks_about_breathlessness_that_is_new(kb):
    question = kb.questions().set_index("id").loc["shortness_of_breath", "question"]
    assert "recently" in question and "usual" in question


def test_a_clot_emergency_from_probability_alone_sends_to_the_emergency_department(model):
    probabilities = dict.fromkeys(model.structure.cause_ids, 0.0)
    probabilities["dvt"] = 0.9
    alone = model.rules.assess([], probabilities)
    assert alone.level == E
    assert "emergency department today" in alone.action
    assert "Call an ambulance" not in alone.action
    with_chest_pain = model.rules.assess(["chest_pain"], probabilities)
    assert with_chest_pain.level == E
    assert with_chest_pain.action == model.rules.actions[E]  # the ambulance


def test_sudden_swelling_of_the_whole_leg_is_an_emergency_on_its_own(model):
    dx = model.diagnose({"sudden_leg_swelling": True})
    assert dx.triage.level == E


# -- the floor keeps every shipped emergency and urgent rule ---------------------------


def test_every_shipped_emergency_and_urgent_rule_is_in_the_floor(kb):
    floor = {(rule, str(level.value)) for rule, _, level in FLOOR_RULES}
    serious = kb.red_flags[kb.red_flags["level"].isin(["emergency", "urgent"])]
    for row in serious.itertuples():
        assert (row.id, row.level) in floor, f"{row.id} is not covered by the safety floor"
    rules = {rule.id: rule for rule in pk.Model(kb).rules.red_flags}
    for rule_id, condition, level in FLOOR_RULES:
        if level >= U and rule_id in rules and rules[rule_id].level == level:
            assert rules[rule_id].condition == condition, rule_id


def test_the_shipped_thresholds_are_the_floor(kb):
    shipped = {(row.cause, row.level, row.probability)
               for row in kb.thresholds.itertuples() if row.kind == "cant_miss"}
    for cause, floor in MANDATED_CANT_MISS.items():
        for level, highest in floor:
            assert (cause, level.value, highest) in shipped


def test_screening_questions_are_the_shipped_ask_first(model):
    assert model.ask_first == SCREENING


# -- the tuned copies are refused, naming file, row and rule -------------------


def test_a_copy_without_the_hot_knee_rules_and_with_septic_thresholds_at_one_is_refused(kb):
    flags = kb.red_flags[~kb.red_flags["condition"].str.contains("hot_painful_knee")]
    thresholds = kb.thresholds.copy()
    thresholds.loc[thresholds["cause"] == "septic_arthritis", "probability"] = 1.0
    with pytest.raises(KnowledgeBaseError) as caught:
        kb.replace(red_flags=flags, thresholds=thresholds)
    text = str(caught.value)
    assert "rule 'joint_infection'" in text and "red_flags.csv" in text
    assert "thresholds.csv, line" in text and "septic_arthritis" in text


def test_rewriting_the_emergency_action_is_refused(kb):
    actions = kb.triage_actions.copy()
    actions.loc[actions["level"] == "emergency", "action"] = "Rest at home."
    with pytest.raises(KnowledgeBaseError, match="triage_actions.csv, line 2, column 'action'"):
        kb.replace(triage_actions=actions)


def test_silencing_the_screening_questions_is_refused(kb):
    findings = kb.findings.assign(ask_first="")
    with pytest.raises(KnowledgeBaseError, match="red-flag screening question") as caught:
        kb.replace(findings=findings)
    assert len(caught.value.problems) == len(SCREENING)


@pytest.mark.parametrize(("table", "column", "row_id"), [
    ("causes", "prior", "dvt"), ("findings", "leak", "shortness_of_breath"),
    ("risk_factors", "prevalence", "recent_surgery")])
@pytest.mark.parametrize("value", [0.0, 1.0])
def test_a_probability_of_zero_or_one_that_could_hide_a_red_flag_is_refused(
        kb, table, column, row_id, value):
    frame = getattr(kb, table).copy()
    frame.loc[frame["id"] == row_id, column] = value
    with pytest.raises(KnowledgeBaseError, match=f"{table}.csv, line .*{row_id}"):
        kb.replace(**{table: frame})


# -- hypothesis: search for a tuned copy that loads and weakens the floor --------------


@st.composite
def tuned_copies(draw):
    """A knowledge base edited the way a careless or hostile tuner might."""
    flags = KB.red_flags.copy()
    drop = draw(st.lists(st.sampled_from(list(flags.index)), max_size=4, unique=True))
    flags = flags.drop(index=drop)
    for k in draw(st.lists(st.sampled_from(list(flags.index)), max_size=3, unique=True)):
        flags.loc[k, "level"] = draw(st.sampled_from(["soon", "urgent", "emergency"]))
    thresholds = KB.thresholds.copy()
    for k in draw(st.lists(st.sampled_from(list(thresholds.index)), max_size=3, unique=True)):
        thresholds.loc[k, "probability"] = draw(st.floats(0.001, 1.0))
    findings = KB.findings.copy()
    for k in draw(st.lists(st.sampled_from(list(findings.index)), max_size=2, unique=True)):
        if draw(st.booleans()):
            findings.loc[k, "ask_first"] = ""
        else:
            findings.loc[k, "leak"] = 0.0
    causes = KB.causes.copy()
    if draw(st.booleans()):
        k = draw(st.sampled_from(list(causes.index)))
        causes.loc[k, "prior"] = draw(st.sampled_from([0.0, 1.0, 0.5, 1e-6]))
    return dict(red_flags=flags, thresholds=thresholds, findings=findings, causes=causes)


FLOOR_PRESENTATIONS = [(present, level) for _, condition, level in FLOOR_RULES
                       for present in minimal_presentations(condition)]


@given(tables=tuned_copies())
def test_a_tuned_copy_that_loads_keeps_the_floor(tables):
    """Either the copy is refused with a KnowledgeBaseError, or every floor
    presentation is triaged at least at its level and can be diagnosed."""
    try:
        tuned = KB.replace(**tables)
    except KnowledgeBaseError as error:
        assert error.problems and all(p.file.endswith(".csv") for p in error.problems)
        return
    model = pk.Model(tuned)
    for present, level in FLOOR_PRESENTATIONS:
        assert model.rules.red_flag_level(present) >= level
    for cause, floor in MANDATED_CANT_MISS.items():
        for level, highest in floor:
            probabilities = dict.fromkeys(model.structure.cause_ids, 0.0)
            probabilities[cause] = highest
            assert model.rules.assess([], probabilities).level >= level
    for present, level in FLOOR_PRESENTATIONS[::7]:
        assert model.diagnose(dict.fromkeys(present, True)).triage.level >= level


# -- red flags survive every failure -----------------------------------------------------


def test_impossible_evidence_still_carries_its_red_flags(model):
    case = {"age_under_30": True, "age_over_50": True, "shortness_of_breath": True}
    with pytest.raises(ImpossibleEvidenceError) as caught:
        model.diagnose(case)
    assert caught.value.triage.level == E
    assert "clot_in_lungs" in caught.value.triage.red_flags
    assert any("red flags" in note for note in caught.value.__notes__)
    assert any("not checked" in r or "could not be computed" in r
               for r in caught.value.triage.reasons)


@given(other=evidence(KB, max_size=8), bad=st.sampled_from(
    [("fevr", True), ("fever", "yes"), ("fever", 1), ("calf_pain", 0.5)]))
def test_a_bad_answer_still_carries_the_red_flags_of_the_valid_ones(model, other, bad):
    name, value = bad
    case = {**other, name: value, "chest_pain": True}
    with pytest.raises(pk.PosteriorKneeError) as caught:
        model.diagnose(case)
    assert caught.value.triage.level == E


def test_a_batch_row_with_a_bad_cell_keeps_its_red_flag_level(model):
    frame = pd.DataFrame({"shortness_of_breath": [True, True, None],
                          "fever": [1, None, None],
                          "age_under_30": [None, True, None],
                          "age_over_50": [None, True, None]}, index=["bad", "two", "ok"])
    marked = model.diagnose_many(frame, errors="mark")
    assert marked.loc["bad", "triage"] == "emergency"
    assert marked.loc["two", "triage"] == "emergency"
    assert np.isnan(marked.loc["bad", "dvt"])
    with pytest.raises(pk.PosteriorKneeError) as caught:
        model.diagnose_many(frame)
    assert caught.value.triage.to_dict() == {"bad": "emergency", "two": "emergency"}
    assert "raise red flags: triage emergency" in str(caught.value)


@given(rows=st.lists(st.tuples(evidence(KB, max_size=6), st.booleans()), min_size=1,
                     max_size=6))
def test_no_batch_row_loses_its_red_flags(model, rows):
    """Random rows, some with a bad cell: every row's triage is at least the red-flag
    level of its valid True cells."""
    records = []
    for case, spoil in rows:
        record = dict(case)
        if spoil:
            record["fever"] = "maybe"
        records.append(record)
    columns = sorted(set().union(*records) | {"fever"})
    frame = pd.DataFrame.from_records(records, columns=columns).astype(object)
    frame = frame.where(frame.notna(), None)
    marked = model.diagnose_many(frame, errors="mark")
    for k, record in enumerate(records):
        present = [n for n, v in record.items() if v is True]
        assert TriageLevel(marked["triage"].iloc[k]) >= model.rules.red_flag_level(present)


# -- the advice a cause shows agrees with the red flags its words name -----------------

# words of a warning -> the finding they describe (a sentence naming several describes
# them together); only findings that red flags act on
_WARNING_WORDS = (
    (r"\bnumb", "numbness_tingling"),
    (r"\bcold\b|\bpale\b", "cold_pale_foot"),
    (r"\bblue\b|\bbluish\b|\bpurple\b", "bluish_discoloration"),
    (r"lifting the foot|foot slap|slaps down|dragging|toes catch", "foot_drop"),
    (r"cannot put any weight", "cannot_bear_weight"),
    (r"out of shape|misshapen", "knee_misshapen"),
    (r"breathless|short of breath", "shortness_of_breath"),
    (r"chest pain", "chest_pain"),
    (r"coughing up blood", "coughing_blood"),
    (r"\bfever\b", "fever"),
    (r"\bhot, (?:red, )?swollen", "hot_painful_knee"),
)
# the advised timing, strongest first
_TIMINGS = ((r"emergency|\bnow\b", E), (r"\btoday\b|same[- ]day", U),
            (r"within (?:a few )?days|\bsoon\b|see a doctor|checked|examined", S))


def _advised(sentence: str) -> TriageLevel:
    for pattern, level in _TIMINGS:
        if re.search(pattern, sentence, flags=re.IGNORECASE):
            return level
    return TriageLevel.SELF_CARE


def test_no_warning_tells_a_person_to_wait_longer_than_the_red_flags_its_words_fire(model):
    """A sentence of a cause's warning, or of a threshold's reason or action, must not
    advise a later time than the red flags of the signs it describes: 'numbness or a
    blue foot: the same day' sat below the limb-threat rule (an emergency), 'weakness
    lifting the foot: within days' below the foot-drop rule (today), and 'today if you
    become short of breath' below the clot-in-the-lungs rule (H54). Self-care cautions
    are left out: 'stop if the skin turns numb' is about the ice, not a sign."""
    kb = model.kb
    warnings = kb.cause_advice.loc[kb.cause_advice["kind"] == "warning"]
    texts = [*zip(warnings["cause"], warnings["item"]),
             *zip(kb.thresholds["cause"], kb.thresholds["reason"]),
             *zip(kb.thresholds["cause"], kb.thresholds["action"])]
    checked = 0
    for cause, text in texts:
        for sentence in re.split(r"(?<=\.)\s+", text if isinstance(text, str) else ""):
            named = {finding for pattern, finding in _WARNING_WORDS
                     if re.search(pattern, sentence, flags=re.IGNORECASE)}
            if not named:
                continue
            checked += 1
            needed = model.rules.red_flag_level(named)
            assert _advised(sentence) >= needed, (cause, sentence, sorted(named), needed)
    assert checked > 50


def test_every_red_flag_reason_advises_at_least_its_own_level(kb):
    """The text a fired red flag shows names a time no later than its level (H54)."""
    for _, rule in kb.red_flags.iterrows():
        assert _advised(rule["reason"]) >= TriageLevel(rule["level"]), rule["id"]


def test_every_test_the_hazard_log_names_exists():
    """docs/safety.md names tests as `tests/file.py::test` or `::test` (same file)."""
    import ast
    import pathlib

    root = pathlib.Path(__file__).parents[1]
    text = (root / "docs" / "safety.md").read_text(encoding="utf-8")
    named = []
    current = None
    for file, name in re.findall(r"`(?:(tests/\w+\.py))?::(\w+)", text):
        current = file or current
        named.append((current, name))
    assert len(named) > 40
    defined = {}
    for file, name in named:
        if file not in defined:
            tree = ast.parse((root / file).read_text(encoding="utf-8"))
            defined[file] = {node.name for node in ast.walk(tree)
                             if isinstance(node, ast.FunctionDef)}
        assert name in defined[file], f"{file}::{name} is named in docs/safety.md"
