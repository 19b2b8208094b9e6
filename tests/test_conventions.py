"""Python conventions of the results: one-line reprs, full text in str(), pickling,
copying, equality and hashing, JSON, and lookup of one probability."""

import copy
import csv
import json
import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import posterior_knee as pk
from posterior_knee.errors import ParameterError, UnknownIdError
from posterior_knee.reasoning.counterfactual import counterfactual_scores

from .strategies import evidence

CASES = [
    {},
    {"lump_behind_knee": True, "fever": False},
    {"calf_swelling": True, "recent_surgery": True, "chest_pain": True},
]


def _one_line(text: str) -> bool:
    return "\n" not in text and len(text) <= 200


@pytest.mark.parametrize("case", CASES)
def test_reprs_are_one_short_line_and_str_is_the_report(model, case):
    dx = model.diagnose(case)
    assert _one_line(repr(dx)), repr(dx)
    assert dx.triage.level.value in repr(dx) and dx.top in repr(dx)
    assert str(dx) == dx.summary() and pk.DISCLAIMER in str(dx)
    for part, full in ((dx.plan, dx.plan.summary()), (dx.triage, None)):
        assert _one_line(repr(part)), repr(part)
        assert part.level.value in repr(part)
        assert pk.DISCLAIMER in str(part)
        if full is not None:
            assert str(part) == full
    scores = counterfactual_scores(model, dx.findings)
    assert _one_line(repr(scores)), repr(scores)


def test_every_public_result_has_a_one_line_repr(model):
    dx = model.diagnose(CASES[2])
    interview = pk.Interview(model)
    objects = [dx, dx.plan, dx.triage, dx.wells, model, model.kb, interview,
               interview.next_question(), pk.evaluate(model)]
    for obj in objects:
        assert _one_line(repr(obj)), f"{type(obj).__name__}: {repr(obj)[:300]}"


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("clone", [
    lambda dx: pickle.loads(pickle.dumps(dx)),
    copy.copy,
    copy.deepcopy,
], ids=["pickle", "copy", "deepcopy"])
def test_a_diagnosis_pickles_and_copies_to_an_equal_object(model, case, clone):
    dx = model.diagnose(case)
    twin = clone(dx)
    assert twin == dx and dx == twin and hash(twin) == hash(dx)
    assert dict(twin.findings) == dict(dx.findings)
    with pytest.raises(TypeError):
        twin.findings["fever"] = True  # still read-only
    # the copy still works: its model came along
    assert twin.explain().equals(dx.explain())
    assert repr(twin) == repr(dx)


def test_equality_means_the_same_case_the_same_knowledge_and_the_same_results(
        kb, model, priors_copy):
    case = CASES[1]
    dx = model.diagnose(case)
    # another model on a knowledge base with the same content: equal, same hash
    again = pk.Model(pk.load_knowledge_base(pk.default_priors_path())).diagnose(case)
    assert again == dx and hash(again) == hash(dx)
    assert len({dx, again, model.diagnose(CASES[0])}) == 2
    assert dx != model.diagnose(CASES[0])
    assert dx != model.diagnose(case, rank_by="probability")
    assert dx != "a diagnosis" and (dx == 1) is False
    # a knowledge base with one prior changed gives a different diagnosis
    causes = pd.read_csv(priors_copy / "causes.csv", dtype=str, keep_default_na=False)
    causes.loc[causes["id"] == "bakers_cyst", "prior"] = "0.2"
    causes.to_csv(priors_copy / "causes.csv", index=False, quoting=csv.QUOTE_ALL)
    other = pk.diagnose(case, kb=pk.load_knowledge_base(priors_copy))
    assert other != dx and other.probability("bakers_cyst") != dx.probability("bakers_cyst")


@pytest.mark.parametrize("case", CASES)
def test_tables_are_built_when_first_read_and_kept(model, case):
    dx = model.diagnose(case)
    # the one-line repr, the top cause and a probability read the arrays, not pandas
    line, top, p = repr(dx), dx.top, dx.probability(dx.top)
    assert dx._ranking._frame is None and dx._groups._frame is None
    twin = pickle.loads(pickle.dumps(dx))  # pickled before any table was built
    assert dx.ranking is dx.ranking and dx.groups is dx.groups  # built once, then kept
    assert top == dx.ranking["cause"].iloc[0] and p == dx.ranking["probability"].iloc[0]
    names = ", ".join(f"{r.cause} {r.probability:.0%}"
                      for r in dx.ranking.head(3).itertuples())
    assert names in line
    assert twin == dx and twin._ranking._frame is not None  # comparing built them


def test_a_table_changed_in_place_travels_with_the_pickle(model):
    dx = model.diagnose(CASES[1])
    dx.ranking["note"] = "seen"  # pandas lets anyone change a frame in place
    twin = pickle.loads(pickle.dumps(dx))
    assert list(twin.ranking["note"]) == ["seen"] * len(dx.ranking)
    assert twin.top == dx.top  # the result's own answers come from its arrays


@given(case=st.data())
def test_copies_are_equal_on_random_evidence(model, case):
    findings = case.draw(evidence(model.kb))
    dx = model.diagnose(findings)
    assert pickle.loads(pickle.dumps(dx)) == dx == copy.deepcopy(dx)


@pytest.mark.parametrize("case", CASES)
def test_to_json_is_to_dict_as_json(model, case):
    dx = model.diagnose(case)
    text = dx.to_json()
    assert json.loads(text) == dx.to_dict()
    assert json.loads(text)["version"] == pk.result.SCHEMA_VERSION
    assert json.loads(dx.to_json(indent=2, sort_keys=True)) == dx.to_dict()


def test_probability_reads_the_ranking_and_the_groups(model):
    dx = model.diagnose(CASES[2])
    for row in dx.ranking.itertuples():
        assert dx.probability(row.cause) == row.probability
    for row in dx.groups.itertuples():
        assert dx.probability(f"group:{row.group}") == row.probability


def test_probability_of_an_unknown_id_names_the_closest(model):
    dx = model.diagnose(CASES[1])
    with pytest.raises(UnknownIdError, match="Did you mean 'dvt'"):
        dx.probability("dvtt")
    with pytest.raises(UnknownIdError, match="bakers_cyst"):
        dx.probability("Bakers_Cyst ")
    with pytest.raises(ParameterError, match="'cause' parameter"):
        dx.probability(3)


# -- bounds on requested work ------------------------------------------------------------

def test_intervals_refuse_more_draws_than_the_bound_at_once(model):
    from posterior_knee.reasoning.sensitivity import MAX_DRAWS

    dx = model.diagnose({"hot_painful_knee": True, "fever": True})
    with pytest.raises(ParameterError, match=f"from 2 to {MAX_DRAWS}"):
        dx.intervals(n=10**6)  # ran for an hour before
    with pytest.raises(ParameterError, match="intervals"):
        dx.to_fhir(intervals=MAX_DRAWS + 1)


def _answer_yes_throughout(interview):
    """Answer every question "yes", going on after each emergency stop."""
    stops = 0
    while True:
        question = interview.next_question()
        if question is None:
            if interview.emergency_stop:
                stops += 1
                interview.carry_on()
                continue
            return stops
        alert = interview.answer(question.finding, dict.fromkeys(question.items, True)
                                 if question.grouped else "yes")  # a checklist: all yes
        if alert is not None and alert.level is pk.TriageLevel.EMERGENCY:
            # the safety stop: no question until the person chooses to go on
            assert interview.emergency_stop and interview.next_question() is None


def test_an_interview_answered_yes_throughout_stops_at_the_bound(model):
    from posterior_knee.interview import MAX_PRESENT

    # the bound, not patience, ends it; one finding per question, so that it lands on
    # the bound exactly (a checklist answered yes throughout may pass it in one step)
    interview = pk.Interview(model, patience=None, grouped=False)
    stops = _answer_yes_throughout(interview)
    assert stops == 1  # the emergency stopped it once, at once
    present = sum(interview.findings.values())
    assert present == MAX_PRESENT  # it went on to the bound (45 before), not past it
    assert "findings were reported present" in interview.stopped
    assert model.ask_first <= set(interview.findings)  # screening was finished first
    # the level is the red flags' on every answer: nothing was lowered
    assert interview.level is pk.TriageLevel.EMERGENCY
    assert interview.result() == model.diagnose(interview.findings)


def test_the_bound_on_present_findings_can_be_set_and_lifted(model):
    # a small bound: still only after the screening questions
    interview = pk.Interview(model, max_present=3)
    _answer_yes_throughout(interview)
    assert model.ask_first <= set(interview.findings)
    assert sum(interview.findings.values()) == len(model.ask_first)
    assert pk.Interview(model, max_present=None).max_present is None


# -- numpy integers are integers --------------------------------------------------------

NUMPY_INTS = st.sampled_from([np.int8, np.int16, np.int32, np.int64, np.uint8,
                              np.uint16, np.uint32, np.uint64, np.intp])


@given(kind=NUMPY_INTS, k=st.integers(1, 6))
def test_numpy_integers_are_accepted_wherever_ints_are(model, kind, k):
    dx = model.diagnose({"calf_pain": True, "fever": False})
    n = kind(k)
    assert dx.summary(n=n) == dx.summary(n=k)
    assert dx.next_questions(k=n).equals(dx.next_questions(k=k))
    assert dx.intervals(n=kind(k + 1), seed=n).equals(dx.intervals(n=k + 1, seed=k))
    assert pk.interop.card(dx, top=n) == pk.interop.card(dx, top=k)
    frame = pd.DataFrame({"fever": [True, False, None]})
    assert model.diagnose_many(frame, chunk_size=n).equals(
        model.diagnose_many(frame, chunk_size=k))
    interview = pk.Interview(model, patience=n, max_questions=n, max_present=n)
    assert (interview.patience, interview.max_questions, interview.max_present) == (k,) * 3
    assert all(type(v) is int for v in (interview.patience, interview.max_questions))
    with pytest.raises(ParameterError, match="'k' parameter"):
        dx.next_questions(k=np.float64(k))
    with pytest.raises(ParameterError, match="'max_questions' parameter"):
        pk.Interview(model, max_questions=bool(k))


def test_fhir_with_numpy_draws_is_plain_json(model):
    dx = model.diagnose({"hot_painful_knee": True, "fever": True})
    json.dumps(dx.to_fhir(intervals=np.int64(20)))  # no numpy integer left inside


# -- text from the CSV files never acts on a terminal -------------------------------------

ESCAPES = {  # what a cell holds -> how it is shown
    "\x1b[2J": "\\x1b[2J",  # clear the screen
    "\x1b]52;c;ZWNobw==\x07": "\\x1b]52;c;ZWNobw==\\x07",  # write the clipboard
    "\r": "\\x0d",  # overwrite the line
    "\u202e": "\\u202e",  # right-to-left override
    "\x9b31m": "\\x9b31m",  # the 8-bit CSI
}


@pytest.mark.parametrize("code", list(ESCAPES))
def test_terminal_control_codes_in_the_csv_files_are_shown_not_obeyed(priors_copy, code):
    findings = pd.read_csv(priors_copy / "findings.csv", dtype=str, keep_default_na=False)
    findings["question"] = findings["question"] + code + "trailer"
    findings["label"] = findings["label"] + code
    findings.to_csv(priors_copy / "findings.csv", index=False, quoting=csv.QUOTE_ALL)
    causes = pd.read_csv(priors_copy / "causes.csv", dtype=str, keep_default_na=False)
    causes["label"] = code + causes["label"]
    causes.to_csv(priors_copy / "causes.csv", index=False, quoting=csv.QUOTE_ALL)
    actions = pd.read_csv(priors_copy / "triage_actions.csv", dtype=str,
                          keep_default_na=False)
    actions["action"] = actions["action"] + code
    actions.to_csv(priors_copy / "triage_actions.csv", index=False, quoting=csv.QUOTE_ALL)
    model = pk.Model(pk.load_knowledge_base(priors_copy))
    question = pk.Interview(model, grouped=False).next_question()
    screen = pk.Interview(model).next_question()  # a checklist: its items' questions
    dx = model.diagnose({"calf_pain": True, "fever": False})
    texts = {"question": question.question, "summary": dx.summary(), "str": str(dx),
             "plan": str(dx.plan), "triage": str(dx.triage), "repr": repr(dx),
             **{f"item {k}": text for k, text in enumerate(screen.item_questions)}}
    for name, text in texts.items():
        assert code not in text and "\x1b" not in text and "\r" not in text, name
    for shown in (question.question, screen.item_questions[0]):
        assert "trailer" in shown and "\n" not in shown
        assert ESCAPES[code] + "trailer" in shown


def test_the_bound_never_cuts_short_a_question_that_could_raise_a_red_flag(model):
    """Screening answered "no" but one "yes", with a bound of one finding present: the
    questions go on while a red flag above the level can still fire, and the bound
    stops them only once none can."""
    interview = pk.Interview(model, max_present=1, patience=None, min_gain=0.0)
    first = sorted(model.ask_first)
    interview.tell({name: name == "cannot_bear_weight" for name in first})
    assert interview.level < pk.TriageLevel.EMERGENCY
    present = {name for name, value in interview.findings.items() if value}
    unasked = set(model.kb.evidence_ids) - set(interview.findings)
    assert model.rules.red_flag_level(present | unasked) > interview.level  # some could
    asked = []
    while (question := interview.next_question()) is not None:
        interview.answer(question.finding, False)
        asked.append(question.finding)
    assert asked and "findings were reported present" in interview.stopped
    unasked = set(model.kb.evidence_ids) - set(interview.findings)
    assert model.rules.red_flag_level(present | unasked) <= interview.level  # none can
