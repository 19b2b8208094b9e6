"""The interview widget, driven by Button.click() as a mouse would, without a browser.

The rules are read from the model (whatever they are), as in test_interview.py.
"""

import sys

import pytest

import posterior_knee as pk
from posterior_knee.clinical.triage import TriageLevel
from posterior_knee.errors import ParameterError
from posterior_knee.interview import Interview

from .optional import require
from .test_interview import firing_sets

require("ipywidgets", "widgets")
from posterior_knee.widget import ANSWERS, InterviewWidget  # noqa: E402

LABEL_OF = {value: label for label, value in ANSWERS.items()}


def screening_rule(model, level):
    """A red flag at ``level`` fired by one screening question alone."""
    for rule, present in firing_sets(model, level):
        if len(present) == 1 and present[0] in model.ask_first:
            return rule, present[0]
    pytest.skip(f"no {level.value} red flag is fired by one screening question")


def click_until(ui, target, value):
    """Answer "no" to every question until ``target`` is asked, then ``value`` (in a
    checklist: its switch set to ``value``, the others to no, then done)."""
    while ui.question is not None and target not in (ui.question.finding,
                                                     *ui.question.items):
        ui.buttons["no"].click()
    assert ui.question is not None, f"{target} was never asked"
    if ui.question.grouped:
        for name, switch in ui.switches.items():
            switch.value = LABEL_OF[value] if name == target else "no"
        ui.done_button.click()
    else:
        ui.buttons[LABEL_OF[value]].click()


def test_clicks_answer_the_question_on_screen(model):
    ui = InterviewWidget(Interview(model, max_questions=4))
    script = Interview(model, max_questions=4)
    for label in ("no", "don't know", "no"):
        asked = ui.question.finding
        assert ui.question.question in ui.prompt.value.replace("&#x27;", "'")
        assert script.next_question().finding == asked  # the same order as a script
        ui.buttons[label].click()
        script.answer(asked, ANSWERS[label])
        assert ui.interview.history == script.history
    assert dict(ui.interview.findings) == dict(script.findings)
    assert ui.interview.unknown == script.unknown
    level = ui.interview.level.value
    assert f"<b>{level}</b>" in ui.status.value
    assert ui.result.value == ""  # no diagnosis shown while questions remain


def test_when_the_questions_stop_the_diagnosis_is_shown(model):
    ui = InterviewWidget(Interview(model, max_questions=2))
    while ui.question is not None:
        ui.buttons["no"].click()
    assert ui.interview.questions_asked == 2
    assert all(button.disabled for button in ui.buttons.values())
    assert ui.go_on_button.disabled
    assert "Done" in ui.prompt.value and "limit of 2 questions" in ui.prompt.value
    dx = model.diagnose(ui.interview.findings)
    assert ui.result.value == dx._repr_html_()
    assert "incomplete" in ui.warning.value  # screening was cut short, and it says so
    ui.buttons["yes"].click()  # a click on a disabled button's callback changes nothing
    assert ui.interview.questions_asked == 2


def test_an_emergency_answer_stops_at_once_and_go_on_resumes(model):
    rule, finding = screening_rule(model, TriageLevel.EMERGENCY)
    ui = InterviewWidget(model)
    click_until(ui, finding, True)
    assert ui.interview.emergency_stop and rule in ui.interview.triage.red_flags
    assert ui.question is None
    assert "EMERGENCY" in ui.prompt.value
    assert ui.interview.triage.action.split(".")[0] in ui.prompt.value
    assert all(button.disabled for button in ui.buttons.values())
    assert not ui.go_on_button.disabled
    ui.go_on_button.click()  # the person chooses to go on
    assert ui.question is not None and not ui.buttons["no"].disabled
    assert ui.interview.level is TriageLevel.EMERGENCY  # going on lowers nothing
    assert ui.go_on_button.disabled


def test_an_urgent_answer_warns_and_the_questions_go_on(model):
    rule, finding = screening_rule(model, TriageLevel.URGENT)
    ui = InterviewWidget(model)
    click_until(ui, finding, True)
    assert rule in ui.interview.triage.red_flags
    if ui.interview.level is not TriageLevel.URGENT:
        pytest.skip(f"{finding} alone raised more than urgent with this model")
    assert "Warning" in ui.warning.value
    assert ui.question is not None and ui.question.finding != finding


def test_back_asks_the_same_question_again(model):
    ui = InterviewWidget(model)
    first = ui.question.finding
    ui.buttons["no"].click()
    second = ui.question.finding
    ui.back_button.click()
    assert ui.question.finding == first and ui.interview.history == ()
    ui.buttons["no"].click()
    assert ui.question.finding == second
    ui.back_button.click()
    ui.back_button.click()  # nothing left to undo: nothing changes
    assert ui.question.finding == first


def test_the_plain_html_view_needs_no_script(model):
    ui = InterviewWidget(Interview(model, findings={"calf_pain": True}, max_questions=1))
    page = ui.snapshot_html()
    assert "<script" not in page
    assert pk.DISCLAIMER in page
    assert ui.prompt.value in page and ui.status.value in page
    assert page.count("<button disabled") == len(ANSWERS) + 3
    bundle = ui._repr_mimebundle_()
    assert bundle["text/html"] == page
    view = bundle["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == ui.view.model_id
    ui.buttons["no"].click()  # the last question: the snapshot now holds the diagnosis
    assert ui.diagnosis._repr_html_() in ui.snapshot_html()


def test_parameters_are_checked(model):
    with pytest.raises(ParameterError, match="'interview' parameter of InterviewWidget"):
        InterviewWidget("calf_pain")
    assert isinstance(InterviewWidget(model).interview, Interview)


def test_without_ipywidgets_the_error_names_the_extra(model, monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import fails
    with pytest.raises(ImportError, match=r"posterior-knee\[widgets\]"):
        InterviewWidget(model)


def test_a_checklist_has_a_switch_per_item_and_done_sends_them(model):
    ui = InterviewWidget(model)
    question = ui.question
    assert question.grouped and list(ui.switches) == list(question.items)
    assert ui.buttons["yes"].disabled and not ui.done_button.disabled
    assert all(switch.value == "don't know" for switch in ui.switches.values())
    first, second = question.items[:2]
    ui.switches[first].value = "no"
    ui.switches[second].value = "no"
    assert f"{question.labels[0]}: <b>no</b>" in ui.snapshot_html()
    ui.done_button.click()
    assert ui.interview.history == (question.finding,)
    assert ui.interview.findings == {first: False, second: False}
    assert set(ui.interview.unknown) == set(question.items[2:])
    ui.back_button.click()
    assert ui.question == question and ui.interview.history == ()
