"""The interview, driven by a program as the command line and notebooks drive it.

The hazards of issue 9 each have a test here named after the mitigation; the search
for a bypass (``test_no_sequence_of_answers_*``) tries random answer orders, back,
don't know, answers told at once and going on after an emergency.
"""

import json
import math
import subprocess
import sys

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import posterior_knee as pk
from posterior_knee.clinical._condition import minimal_presentations
from posterior_knee.clinical.triage import TriageLevel
from posterior_knee.errors import (
    EvidenceValueError,
    ImpossibleEvidenceError,
    ParameterError,
    PosteriorKneeError,
    UnknownIdError,
)
from posterior_knee.inference._answers import (
    REPLIES,
    answer_value,
    normalise_reply,
    parse_reply,
)
from posterior_knee.interview import Interview
from posterior_knee.reasoning import rank_questions
from posterior_knee.reasoning.checklists import SCREEN, checklists

from . import strategies

ANSWERS = {"fever": False, "shortness_of_breath": False, "lump_behind_knee": True,
           "tightness_behind_knee": True, "calf_swelling": False}


def snapshot(interview):
    """Everything back() must restore."""
    return (dict(interview.findings), interview.unknown, interview.history,
            interview.given, interview.outcomes, interview.emergency_stop)


def firing_sets(model, level):
    """For each red-flag rule at ``level``: the smallest reports that fire it (the
    first minimal presentation), read from the model's rules, whatever they are."""
    return [(rule.id, sorted(minimal_presentations(rule.condition)[0]))
            for rule in model.rules.red_flags if rule.level is level]


def test_scripted_interview_equals_diagnose_on_the_same_answers(model):
    interview = Interview(model, max_questions=16)
    dx = interview.run(ANSWERS)
    direct = model.diagnose(ANSWERS)
    pd.testing.assert_frame_equal(dx.ranking, direct.ranking)
    assert dx.triage == direct.triage
    assert dict(interview.findings) == ANSWERS  # every answer used, nothing invented
    assert interview.questions_asked == len(interview.history) <= 16


def test_screening_questions_are_asked_first(model):
    interview = Interview(model, max_questions=len(model.ask_first), grouped=False)
    interview.run({})
    assert set(interview.history) == model.ask_first
    assert interview.unknown == interview.history  # nothing in the script: don't know


def test_the_red_flag_screen_is_the_first_question_and_lists_every_screening_id(model):
    interview = Interview(model, max_questions=1)
    question = interview.next_question()
    assert question.grouped and question.ask_first and question.finding == SCREEN
    assert set(question.items) == model.ask_first and len(question.labels) == len(
        question.items) == len(question.item_questions)
    interview.run({})
    assert interview.history == (SCREEN,) and interview.questions_asked == 1
    assert set(interview.items_asked) == set(interview.unknown) == model.ask_first


def test_each_id_is_in_one_checklist_at_most_and_every_id_is_a_valid_one(model):
    lists = checklists(model)
    items = [name for checklist in lists for name in checklist.items]
    assert len(items) == len(set(items)) and set(items) <= set(model.kb.evidence_ids)
    assert not {c.id for c in lists} & set(model.kb.evidence_ids)  # ids never clash
    assert [c.id for c in lists if c.ask_first] == [SCREEN]


@pytest.mark.parametrize("grouped", [True, False])
def test_back_undoes_the_last_answer(model, grouped):
    interview = Interview(model, grouped=grouped)
    first = interview.next_question()
    interview.answer(first.finding, {first.items[0]: True} if grouped else True)
    assert interview.back() == first.finding
    assert dict(interview.findings) == {} and interview.history == ()
    assert interview.next_question() == first  # the same question comes back
    assert interview.back() is None


def test_bad_answers_are_rejected(model):
    interview = Interview(model)
    with pytest.raises(UnknownIdError):
        interview.answer("feverr", True)
    with pytest.raises(EvidenceValueError):
        interview.answer("fever", "yess")


def test_the_interview_stops(model):
    """Nothing can gain 10 bits: after the screening it asks only what could raise the
    triage level, one answer or one topic's answers together, and stops when nothing
    could."""
    interview = Interview(model, min_gain=10.0)
    asked = []
    while (question := interview.next_question()) is not None:
        table = rank_questions(model, interview.findings, exclude=interview.unknown)
        items = question.items or (question.finding,)  # a checklist: each item
        rows = table.set_index("finding").loc[list(items)]
        if not (rows["ask_first"] | rows["raises_level"]).all():  # its topic's, then
            topic = next(t for t in checklists(model) if items[0] in t.items)
            askable = set(table["finding"])
            left = [name for name in topic.items if name in askable]
            assert any(model.diagnose({**interview.findings, **dict.fromkeys(left, value)}
                                      ).triage.level > interview.level
                       for value in (True, False)), items
        asked += items
        interview.answer(question.finding, False)  # a checklist: none of them
    assert "10.0 bits" in interview.stopped
    assert set(model.ask_first) <= set(asked) and len(asked) > len(model.ask_first)


def test_one_ranking_per_question(model, monkeypatch):
    """The interview stays fast: questions are ranked once per state, and going back
    asks the earlier question again without ranking again."""
    import posterior_knee.interview as module

    calls = []
    real = module.rank_questions

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "rank_questions", counted)
    interview = Interview(model, max_questions=5)
    interview.run({"lump_behind_knee": True})
    assert len(calls) == interview.questions_asked == 5  # the limit needs no ranking
    first = Interview(model)
    question = first.next_question()
    first.answer(question.finding, False)
    first.next_question()
    calls.clear()
    first.back()
    assert first.next_question() == question and first.next_question() == question
    assert calls == []


# -- hazard: the emergency advice came seven questions late -------------------------

def test_an_emergency_answer_stops_the_interview_at_once(model):
    rules = firing_sets(model, TriageLevel.EMERGENCY)
    assert rules, "the shipped rules have emergency red flags"
    for rule, present in rules:
        interview = Interview(model)
        alerts = [interview.answer(name, True) for name in present]
        raised = [a for a in alerts if a is not None]
        assert raised and raised[-1].level is TriageLevel.EMERGENCY, rule
        assert rule in interview.triage.red_flags
        assert interview.emergency_stop and interview.alert.level is TriageLevel.EMERGENCY
        assert interview.next_question() is None
        assert "emergency" in interview.stopped
        interview.carry_on()  # the person chooses to go on
        assert not interview.emergency_stop and interview.next_question() is not None
        assert interview.level is TriageLevel.EMERGENCY  # going on lowers nothing


def test_going_on_covers_one_emergency_only(model):
    """A person who went on past an emergency, whose level then fell (an answer
    corrected), is stopped again by the next emergency (found by hypothesis in the
    terminal interview: the level fell under the clot threshold and rose back)."""
    interview = Interview(model)
    assert interview.answer("chest_pain", True).level is TriageLevel.EMERGENCY
    interview.carry_on()
    assert not interview.emergency_stop
    assert interview.answer("chest_pain", False) is None  # corrected: no longer emergency
    assert interview.level < TriageLevel.EMERGENCY
    alert = interview.answer("shortness_of_breath", True)
    assert alert is not None and alert.level is TriageLevel.EMERGENCY
    assert interview.emergency_stop and interview.next_question() is None
    interview.carry_on()  # and going on again works as before
    assert not interview.emergency_stop and interview.next_question() is not None


def test_an_urgent_answer_is_a_warning_and_the_questions_go_on(model):
    for rule, present in firing_sets(model, TriageLevel.URGENT):
        interview = Interview(model)
        alerts = [a for a in (interview.answer(name, True) for name in present) if a]
        assert alerts and alerts[-1].level >= TriageLevel.URGENT, rule
        assert interview.alert is not None
        if interview.level is TriageLevel.URGENT:
            assert not interview.emergency_stop and interview.next_question() is not None


def test_an_emergency_in_the_given_answers_stops_before_any_question(model):
    rule, present = firing_sets(model, TriageLevel.EMERGENCY)[0]
    interview = Interview(model, findings=dict.fromkeys(present, True))
    assert interview.emergency_stop and interview.next_question() is None
    assert interview.given == tuple(present) and interview.questions_asked == 0


def test_answers_that_raise_nothing_alert_nobody(model):
    interview = Interview(model)
    assert interview.answer("fever", False) is None and interview.alert is None
    assert interview.answer("fever", True) is None or interview.level >= TriageLevel.URGENT


# -- hazard: quitting early printed "no red flag fired" ------------------------------

def test_stopping_before_screening_is_complete_says_so(model):
    interview = Interview(model, grouped=False)
    assert interview.incomplete.startswith(
        f"this result is incomplete: {len(model.ask_first)} screening questions unanswered")
    question = interview.next_question()
    interview.answer(question.finding, False)
    n = len(model.ask_first) - 1
    assert f"{n} screening questions unanswered" in interview.incomplete
    assert question.finding not in interview.screening_unanswered
    assert set(interview.screening_unanswered) == model.ask_first - {question.finding}
    grouped = Interview(model)
    screen = grouped.next_question()
    grouped.answer(screen.finding, {screen.items[0]: False})  # the others: don't know
    assert set(grouped.screening_unanswered) == model.ask_first - {screen.items[0]}
    grouped.answer(screen.finding, "no")  # none of the rest
    assert grouped.screening_unanswered == ()


# -- checklists: one question, several findings ---------------------------------------

def test_a_checklist_is_one_question_one_step_and_back_undoes_it_whole(model):
    interview = Interview(model)
    interview.answer(SCREEN, False)
    before = snapshot(interview)
    question = interview.next_question()
    assert question.grouped and not question.ask_first and len(question.items) >= 2
    reply = {question.items[0]: True, question.items[1]: False}
    interview.answer(question.finding, reply)
    assert interview.questions_asked == 2 and interview.history[-1] == question.finding
    assert interview.findings[question.items[0]] is True
    assert interview.findings[question.items[1]] is False
    assert set(question.items[2:]) <= set(interview.unknown)  # left out: don't know
    assert interview.items_asked[-len(question.items):] == question.items
    assert interview.result().triage == model.diagnose(interview.findings).triage
    assert interview.back() == question.finding and snapshot(interview) == before
    assert interview.next_question() == question


def test_a_checklist_refuses_yes_for_all_and_items_it_does_not_list(model):
    interview = Interview(model)
    question = interview.next_question()
    before = snapshot(interview)
    with pytest.raises(EvidenceValueError, match="say which items apply"):
        interview.answer(question.finding, "yes")
    other = next(name for name in model.kb.evidence_ids if name not in question.items)
    with pytest.raises(EvidenceValueError, match="not an item of the checklist"):
        interview.answer(question.finding, {other: True})
    with pytest.raises(UnknownIdError):
        interview.answer(question.finding, {"feverr": True})
    with pytest.raises(EvidenceValueError):
        interview.answer(question.finding, {question.items[0]: "maybe"})
    assert snapshot(interview) == before


def test_a_checklist_answered_with_the_items_shown_leaves_the_others_unasked(model):
    """A front end replaying a recorded checklist (an SDC response) names the items it
    showed: only those left out are "don't know"; the items not shown stay unasked and
    can come back as questions of their own. Without ``shown=`` a checklist that is not
    the question on screen counts every unanswered item as shown."""
    name, checklist = next((n, c) for n, c in Interview(model).checklists.items()
                           if n != SCREEN and len(c.items) >= 3)
    shown = checklist.items[:2]
    replay = Interview(model)
    replay.answer(name, {shown[0]: True}, shown=shown)
    assert replay.findings[shown[0]] is True and shown[1] in replay.unknown
    assert not set(checklist.items[2:]) & (set(replay.unknown) | set(replay.findings))
    assert set(checklist.items[2:]) <= set(rank_questions(
        model, replay.findings, exclude=replay.unknown)["finding"])
    unshown = Interview(model)
    unshown.answer(name, {shown[0]: True})
    assert set(checklist.items[1:]) <= set(unshown.unknown)
    before = snapshot(replay)
    with pytest.raises(EvidenceValueError, match="not an item of the checklist"):
        replay.answer(name, {}, shown=["fever" if "fever" not in checklist.items
                                       else "calf_pain"])
    with pytest.raises(EvidenceValueError, match="not one string"):
        replay.answer(name, {}, shown=shown[0])
    with pytest.raises(EvidenceValueError, match="is not a checklist"):
        replay.answer("fever", False, shown=["fever"])
    assert snapshot(replay) == before


def test_an_emergency_item_of_the_screen_stops_the_interview_at_once(model):
    for rule, present in firing_sets(model, TriageLevel.EMERGENCY):
        if not set(present) <= model.ask_first:
            continue
        interview = Interview(model)
        screen = interview.next_question()
        alert = interview.answer(screen.finding, {**dict.fromkeys(screen.items, False),
                                                  **dict.fromkeys(present, True)})
        assert alert is not None and alert.level is TriageLevel.EMERGENCY, rule
        assert interview.emergency_stop and interview.next_question() is None
        assert interview.questions_asked == 1


def test_one_at_a_time_asks_one_finding_per_question(model):
    interview = Interview(model, grouped=False, max_questions=3)
    interview.run({})
    assert interview.history == interview.items_asked and len(interview.history) == 3
    assert not interview.checklists


def test_dont_know_to_a_screening_question_leaves_it_unanswered(model):
    interview = Interview(model, findings=dict.fromkeys(model.ask_first, False))
    assert "nothing was reported present" in interview.incomplete
    assert interview.screening_unanswered == ()
    name = sorted(model.ask_first)[0]
    interview.answer(name, None)
    assert interview.screening_unanswered == (name,)
    assert "1 screening question unanswered" in interview.incomplete


def test_a_complete_interview_is_not_called_incomplete(model):
    findings = {**dict.fromkeys(model.ask_first, False), "lump_behind_knee": True}
    assert Interview(model, findings=findings).incomplete is None


# -- hazard: answers the interview never reached were dropped ------------------------

def test_run_uses_every_answer_even_those_never_asked(model):
    answers = {"lump_behind_knee": True, "known_bakers_cyst": False,
               "duration_over_3_days": True}
    interview = Interview(model, max_questions=1)
    dx = interview.run(answers)
    assert dict(interview.findings) == answers
    assert set(interview.given) == set(answers) - set(interview.history)
    assert dx.triage == model.diagnose(answers).triage
    assert "limit of 1 questions" in interview.stopped


@given(data=st.data())
def test_no_supplied_answer_is_lost(model, data):
    answers = data.draw(strategies.evidence(model.kb, max_size=10))
    limit = data.draw(st.integers(1, 2))
    interview = Interview(model, max_questions=limit, patience=2)
    dx = interview.run(answers)
    assert dict(interview.findings) == answers
    assert dx.triage.level == model.diagnose(answers).triage.level
    present = [name for name, value in answers.items() if value]
    assert dx.triage.level >= model.rules.red_flag_level(present)


def test_a_main_complaint_given_up_front_is_used_and_not_asked(model):
    interview = Interview(model, findings={"lump_behind_knee": "yes"})
    assert interview.findings == {"lump_behind_knee": True}
    assert interview.given == ("lump_behind_knee",)
    assert interview.result().triage == model.diagnose({"lump_behind_knee": True}).triage
    for _ in range(3):
        question = interview.next_question()
        assert question.finding != "lump_behind_knee"
        interview.answer(question.finding, False)
    assert interview.back() is not None and interview.back() is not None
    assert interview.back() is not None and interview.back() is None  # given stays
    assert interview.findings == {"lump_behind_knee": True}


def test_tell_records_answers_without_asking_and_back_undoes_them_together(model):
    interview = Interview(model)
    interview.answer("fever", False)
    before = snapshot(interview)
    interview.tell({"lump_behind_knee": True, "calf_pain": "not sure"})
    assert interview.findings == {"fever": False, "lump_behind_knee": True}
    assert interview.unknown == ("calf_pain",)
    assert interview.given == ("lump_behind_knee", "calf_pain")
    assert interview.back() == "lump_behind_knee"
    assert snapshot(interview) == before


# -- hazard: misspelt ids, capitals, spaces, NaN, 'not sure', curly apostrophes -----

@pytest.mark.parametrize("name", ["feverr", "fever ", " fever", "FEVER", "Fever"])
def test_an_unknown_id_is_an_error_that_names_it_and_suggests_the_nearest(model, name):
    interview = Interview(model)
    before = snapshot(interview)
    with pytest.raises(UnknownIdError, match="Did you mean 'fever'") as info:
        interview.answer(name, True)
    assert repr(name) in str(info.value)
    with pytest.raises(UnknownIdError) as same_as_diagnose:
        model.diagnose({name: True})
    assert same_as_diagnose.value.suggestion == info.value.suggestion == "fever"
    with pytest.raises(UnknownIdError):
        Interview(model).run({name: True, "calf_pain": True})
    assert snapshot(interview) == before


def test_a_cause_is_not_an_answer(model):
    with pytest.raises(UnknownIdError, match="is a cause"):
        Interview(model).answer("dvt", True)


@pytest.mark.parametrize("value", [1, 0, 1.5, "yess", "maybe", [True], {"a": 1}])
def test_a_wrong_value_is_an_error_naming_the_id(model, value):
    interview = Interview(model)
    with pytest.raises(EvidenceValueError, match="'fever'"):
        interview.answer("fever", value)
    with pytest.raises(EvidenceValueError, match="'knee_swelling'"):
        # a wrong answer deep in a script fails before the first question
        interview.run({"calf_pain": True, "knee_swelling": value})
    assert interview.history == () and dict(interview.findings) == {}


def test_a_wrong_reply_suggests_the_nearest_reply(model):
    with pytest.raises(EvidenceValueError, match="Did you mean 'yes'"):
        Interview(model).answer("fever", "yess")


@pytest.mark.parametrize("value", [float("nan"), pd.NA, None, "don't know",
                                   "don\u2019t know", "Don\u2018t Know", "DONT KNOW",
                                   "dont know", "not sure", "Not  sure", "unsure", "?",
                                   "d"])
def test_nan_na_and_every_dont_know_mean_dont_know(model, value):
    interview = Interview(model)
    interview.answer("fever", True)
    interview.answer("fever", value)
    assert "fever" not in interview.findings and interview.unknown == ("fever",)


@pytest.mark.parametrize(("text", "value"), [
    ("y", True), ("yes", True), ("Yes ", True), (" Y", True),
    ("n", False), ("no", False), ("NO", False),
    ("d", None), ("don't know", None), ("don\u2019t know", None),
    ("don\u02bct know", None), ("don`t know", None), ("dont know", None),
    ("not sure", None), ("unsure", None), ("?", None),
])
def test_human_replies(text, value):
    assert parse_reply(text) is value


def test_every_reply_is_normalised_already():
    assert all(normalise_reply(reply) == reply for reply in REPLIES)


# -- hazard: back() after yes then don't know deleted the yes ------------------------

def test_yes_then_dont_know_then_back_restores_the_yes(model):
    interview = Interview(model)
    interview.answer("lump_behind_knee", True)
    interview.answer("lump_behind_knee", "don't know")
    assert "lump_behind_knee" not in interview.findings
    assert interview.back() == "lump_behind_knee"
    assert interview.findings == {"lump_behind_knee": True}
    assert interview.unknown == () and interview.history == ("lump_behind_knee",)


# -- hazard: a contradictory age answer corrupted the interview ----------------------

def test_a_rejected_answer_changes_nothing(model):
    interview = Interview(model)
    interview.answer("age_under_30", True)
    before = snapshot(interview)
    with pytest.raises(ImpossibleEvidenceError, match="age_over_50"):
        interview.answer("age_over_50", True)
    assert snapshot(interview) == before
    assert interview.result().triage == model.diagnose(interview.findings).triage
    assert interview.back() == "age_under_30"
    assert interview.back() is None  # no IndexError


def test_answers_that_cannot_fit_together_are_refused_before_the_first_question(model):
    interview = Interview(model)
    with pytest.raises(ImpossibleEvidenceError):
        interview.run({"age_under_30": True, "age_over_50": True})
    assert snapshot(interview) == snapshot(Interview(model))


@pytest.mark.parametrize("kwargs", [
    {"max_questions": 0}, {"max_questions": -1}, {"max_questions": True},
    {"max_questions": 2.5}, {"patience": 0}, {"min_gain": -0.1},
    {"min_gain": float("nan")}, {"min_gain": "x"}, {"grouped": "yes"}, {"grouped": 1},
    {"patience_gain": -0.1}, {"patience_gain": float("inf")}, {"patience_gain": "x"},
])
def test_parameters_are_checked(model, kwargs):
    with pytest.raises(ParameterError, match=next(iter(kwargs))):
        Interview(model, **kwargs)


def test_at_least_one_question_is_asked(model):
    interview = Interview(model, max_questions=1)
    interview.run({})
    assert interview.questions_asked == 1


# -- the search for a bypass ---------------------------------------------------------

VALUES = [True, False, None, float("nan"), pd.NA, "yes", "n", "don\u2019t know",
          "not sure", "?", "maybe", 1]


def operations(kb):
    # one id in five is wrong on purpose: misspelt, spaced, in capitals, a cause
    ids = st.one_of(*[st.sampled_from(list(kb.evidence_ids))] * 4,
                    st.sampled_from(["feverr", "fever ", "FEVER", "dvt"]))
    answer = st.tuples(st.just("answer"), ids, st.sampled_from(VALUES))
    # one reply: for a checklist, all of them at once (yes is refused); a list of
    # replies: a checklist's items answered one by one, in turn
    asked = st.tuples(st.just("next"), st.one_of(
        st.sampled_from(VALUES), st.lists(st.sampled_from(VALUES), min_size=1, max_size=4)))
    tell = st.tuples(st.just("tell"), st.dictionaries(ids, st.sampled_from(VALUES),
                                                      max_size=3))
    simple = st.sampled_from([("back",), ("carry_on",)])
    return st.lists(st.one_of(answer, asked, tell, simple), max_size=14)


def check_invariants(model, interview):
    known = set(model.kb.evidence_ids)
    assert set(interview.findings) <= known and set(interview.unknown) <= known
    assert not set(interview.findings) & set(interview.unknown)  # one answer per id
    assert len(set(interview.unknown)) == len(interview.unknown)
    present = [name for name, value in interview.findings.items() if value]
    level = interview.level
    assert level == model.diagnose(dict(interview.findings)).triage.level
    assert level >= model.rules.red_flag_level(present)
    assert interview.result().findings == interview.findings
    if interview.emergency_stop:
        assert level is TriageLevel.EMERGENCY
        assert interview.next_question() is None and "emergency" in interview.stopped
    assert (interview.alert is not None) == (level >= TriageLevel.URGENT)


def recorded(interview, name, value):
    """What one answer records: id -> reply (a checklist: each item asked)."""
    if name not in interview.checklists:
        return {name: value}
    items = interview.items_asked[len(interview._undo[-1].asked_items):]
    return value if isinstance(value, dict) else dict.fromkeys(items, value)


@given(data=st.data())
def test_no_sequence_of_answers_lowers_the_level_or_loses_state(model, data):
    """Random answers, replies, back, don't know, answers told at once and going on:
    the level is always diagnose's on the recorded answers (never below the red-flag
    level), an emergency always stops the questions, a rejected step changes nothing,
    and back() restores exactly the state before the step it undoes."""
    interview = Interview(model, patience=3)
    undo = []
    for op in data.draw(operations(model.kb)):
        before, level_before = snapshot(interview), interview.level
        if op[0] == "back":
            undone = interview.back()
            if undo:
                assert undone is not None and snapshot(interview) == undo.pop()
            else:
                assert undone is None and snapshot(interview) == before
        elif op[0] == "carry_on":
            interview.carry_on()
            assert not interview.emergency_stop  # not a step: back() skips over it
        else:
            try:
                if op[0] == "answer":
                    alert = interview.answer(op[1], op[2])
                    name, value = op[1], op[2]
                elif op[0] == "next":
                    question = interview.next_question()
                    if question is None:
                        assert interview.stopped
                        continue
                    value = op[1]
                    if isinstance(value, list):
                        value = {item: value[k % len(value)]
                                 for k, item in enumerate(question.items)} \
                            if question.grouped else value[0]
                    alert = interview.answer(question.finding, value)
                    name = question.finding
                else:
                    alert = interview.tell(op[1])
                    if not op[1]:
                        assert snapshot(interview) == before
                        continue
                    name, value = None, None
            except PosteriorKneeError:
                assert snapshot(interview) == before
                continue
            undo.append(before)
            if name is not None:  # the answer is recorded as given
                for item, reply in recorded(interview, name, value).items():
                    expected = answer_value(item, reply)
                    if expected is None:
                        assert item in interview.unknown and item not in interview.findings
                    else:
                        assert interview.findings[item] is expected
            raised = interview.level >= TriageLevel.URGENT and interview.level > level_before
            assert (alert is not None) == raised
            if alert is not None and alert.level is TriageLevel.EMERGENCY:
                assert interview.next_question() is None  # stops at once
        check_invariants(model, interview)


# -- the command line ----------------------------------------------------------------

def test_cli_interview_from_answers_file(tmp_path):
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(ANSWERS))
    done = subprocess.run(
        [sys.executable, "-m", "posterior_knee.cli", "interview", "--answers", str(path),
         "--max-questions", "14", "--json"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["questions_asked"] == len(result["asked"]) <= 14
    assert result["findings"] == ANSWERS
    assert result["plan"]["action"] and result["disclaimer"]


def test_cli_interview_bad_answers_file(tmp_path, capsys):
    from posterior_knee.cli import main

    path = tmp_path / "answers.json"
    path.write_text("{fever: no}")
    assert main(["interview", "--answers", str(path)]) == 1
    assert "not valid JSON" in capsys.readouterr().err
    assert main(["interview", "--answers", str(tmp_path / "missing.json")]) == 1


def test_cli_interview_in_a_terminal():
    """Typed replies: no, no, back, no, then quit."""
    done = subprocess.run([sys.executable, "-m", "posterior_knee.cli", "interview"],
                          input="n\nn\nb\nmaybe\nn\nq\n", capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Please type the numbers of those that apply" in done.stdout  # a checklist
    assert "2 questions asked" in done.stdout and "does not replace" in done.stdout
    done = subprocess.run([sys.executable, "-m", "posterior_knee.cli", "interview",
                           "--one-at-a-time"], input="n\nn\nb\nmaybe\nn\nq\n",
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Please answer yes, no" in done.stdout and "2 questions asked" in done.stdout


def test_nan_in_a_json_answers_file_means_dont_know(tmp_path, capsys):
    from posterior_knee.cli import main

    path = tmp_path / "answers.json"
    path.write_text('{"fever": NaN, "calf_pain": "don\u2019t know", "lump_behind_knee": '
                    'true}', encoding="utf-8")
    assert main(["interview", "--answers", str(path), "--max-questions", "1",
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["findings"] == {"lump_behind_knee": True}
    assert {"fever", "calf_pain"} <= set(result["unknown"])
    assert not math.isnan(result["ranking"][0]["probability"])


def test_raises_level_is_what_an_answer_would_do(model):
    """The column agrees with diagnosing each answer directly (a sample of the rows)."""
    order = list(TriageLevel)
    evidence = {"fever": False, "severe_pain": False, "age_under_30": True}
    now = order.index(model.diagnose(evidence).triage.level)
    table = rank_questions(model, model.evidence(evidence))
    assert table["raises_level"].any() and not table["raises_level"].all()
    for row in pd.concat([table[table["raises_level"]].head(6),
                          table[~table["raises_level"]].head(6)]).itertuples():
        after = max(order.index(model.diagnose({**evidence, row.finding: answer}).triage.level)
                    for answer in (True, False))
        assert row.raises_level == (after > now), row.finding
    # screening first, then what could make the advice more urgent, then the rest
    first = table["ask_first"].to_numpy()
    assert (first[:-1] >= first[1:]).all()
    later = table[~table["ask_first"]]["raises_level"].to_numpy()
    assert later[0] and (later[:-1] >= later[1:]).all()


@settings(max_examples=6)  # each example is a whole interview
@given(st.data())
def test_no_stop_while_an_answer_could_raise_the_level(model, data):
    """Whatever the answers, a patience or low-gain stop leaves no question whose answer
    would make the advice more urgent."""
    interview = Interview(model, patience=data.draw(st.integers(1, 4)),
                          grouped=data.draw(st.booleans()))
    while (question := interview.next_question()) is not None:
        replies = {name: data.draw(st.sampled_from([None, None, False, True]))
                   for name in question.items or (question.finding,)}
        if question.ask_first:  # keep the screening quiet, so the interview runs on
            replies = {name: None if reply else reply for name, reply in replies.items()}
        interview.answer(question.finding,
                         replies if question.grouped else replies[question.finding])
    if interview.emergency_stop or "limit" in (interview.stopped or ""):
        return
    table = rank_questions(model, interview.findings, exclude=interview.unknown)
    assert not table["raises_level"].any(), interview.stopped
    if "did not change" in (interview.stopped or ""):  # the patience stop
        assert (table["expected_gain"] < interview.patience_gain).all()
    # nor one topic's items answered together, all yes or all no
    askable = set(table["finding"])
    for topic in checklists(model):
        items = [name for name in topic.items if name in askable]
        for value in (True, False) if items else ():
            after = model.diagnose({**interview.findings, **dict.fromkeys(items, value)})
            assert after.triage.level <= interview.level, (topic.id, value)


def test_patience_waits_for_a_question_worth_asking(model):
    """Answers that changed nothing do not end the interview while a question left is
    expected to gain ``patience_gain`` bits. Found on a published superficial
    thrombophlebitis (vignette i21): aged 30 to 50, calf pain, every other answer
    "don't know", and the patience stop came before the question whether the calf is
    tender (0.27 bits)."""
    def reaches_tenderness(interview):
        while (question := interview.next_question()) is not None:
            if "tenderness" in (question.items or (question.finding,)):
                return True
            interview.answer(question.finding, question.reply({"calf_pain": True}))
        return False

    door = {"age_under_30": False, "age_over_50": False}
    assert reaches_tenderness(Interview(model, findings=door))
    # with the stop held by nothing (the rule before December 2026) it ends first
    impatient = Interview(model, findings=door, patience_gain=1e9)
    assert not reaches_tenderness(impatient)
    assert "did not change" in impatient.stopped


def test_a_no_that_would_raise_the_level_is_asked_before_any_stop(model):
    """A "no" moves the posteriors too. Found on a published compartment syndrome
    (vignette e01, cut to the required vocabulary, the person going on past an
    emergency stop): the interview stopped at "urgent" without asking whether the pain
    had lasted more than three days, and "no" makes compartment syndrome likely enough
    for an emergency."""
    order = list(TriageLevel)
    evidence = {"age_under_30": True, "cannot_bear_weight": True, "severe_pain": True,
                "injury_blow_or_fall": False, "calf_pain": True,
                "numbness_tingling": False}
    now = model.diagnose(evidence).triage.level
    after_no = model.diagnose({**evidence, "duration_over_3_days": False}).triage.level
    after_yes = model.diagnose({**evidence, "duration_over_3_days": True}).triage.level
    assert order.index(after_no) > order.index(now) >= order.index(after_yes)
    table = rank_questions(model, model.evidence(evidence)).set_index("finding")
    assert table.loc["duration_over_3_days", "raises_level"]
    interview = Interview(model, findings=evidence, patience=1, min_gain=10.0)
    while (question := interview.next_question()) is not None:
        if "duration_over_3_days" in (question.items or (question.finding,)):
            break
        interview.answer(question.finding, {name: None for name in question.items}
                         if question.grouped else None)
    assert question is not None, interview.stopped  # asked before any stop


def test_a_topic_whose_answers_together_raise_the_level_is_asked_before_any_stop(model):
    """Answers add up. Found on a published clot (vignette b03, a swollen leg after an
    operation and a birth): the interview stopped at "urgent" without asking about
    clot risks, which would have made it an emergency. Here an operation, a past clot
    and a recent birth together make a clot likely enough for an emergency, and no
    one of them does alone."""
    evidence = {"leg_swelling_one_side": True, "fever": False, "shortness_of_breath": False,
                "chest_pain": False, "injury_blow_or_fall": False, "age_under_30": False,
                "age_over_50": False}
    now = model.diagnose(evidence).triage.level
    table = rank_questions(model, model.evidence(evidence)).set_index("finding")
    risks = {"recent_surgery": True, "previous_clot": True, "postpartum": True}
    assert not table.loc[list(risks), "raises_level"].any()  # not one answer alone
    assert model.diagnose({**evidence, **risks}).triage.level > now
    for grouped in (True, False):
        interview = Interview(model, findings=evidence, patience=1, min_gain=10.0,
                              grouped=grouped)
        asked: set[str] = set()
        while (question := interview.next_question()) is not None:
            asked.update(question.items or (question.finding,))
            interview.answer(question.finding, {name: None for name in question.items}
                             if question.grouped else None)
        if grouped:  # the clot risks in one checklist
            assert set(risks) <= asked, interview.stopped
        else:  # one at a time, until the risks left could not raise it together
            topic = {c.id: c for c in checklists(model)}["clot_risks"]
            left = [name for name in topic.items if name not in asked]
            assert asked & set(risks), interview.stopped
            assert model.diagnose({**interview.findings, **dict.fromkeys(left, True)}
                                  ).triage.level <= interview.level


def test_a_topic_with_exclusive_states_is_checked_without_raising(priors_copy):
    """A tuned copy may put two exclusive states in one topic: "all yes" of the clot
    risks then asked for pregnant and just after a birth at once, and the interview
    raised ImpossibleEvidenceError when it was about to stop."""
    path = priors_copy / "risk_factors.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table.loc[table["id"].isin(["pregnancy", "postpartum"]), "exclusive_group"] = "births"
    table.to_csv(path, index=False)
    model = pk.Model(pk.load_knowledge_base(priors_copy))
    evidence = {"leg_swelling_one_side": True, "fever": False, "shortness_of_breath": False,
                "chest_pain": False, "injury_blow_or_fall": False, "age_under_30": False,
                "age_over_50": False}
    interview = Interview(model, findings=evidence, patience=1, min_gain=10.0)
    asked: set[str] = set()
    while (question := interview.next_question()) is not None:
        asked.update(question.items or (question.finding,))
        interview.answer(question.finding, {name: None for name in question.items}
                         if question.grouped else None)
    assert "10.0 bits" in interview.stopped and "postpartum" in asked
