"""The posterior-knee command."""

import io
import json
import shutil
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from posterior_knee import DISCLAIMER
from posterior_knee.cli import main
from posterior_knee.cli._terminal import _ask_in_terminal, _Console
from posterior_knee.clinical.triage import TriageLevel
from posterior_knee.errors import PosteriorKneeError
from posterior_knee.interview import Interview

from .fresh import run_python


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    """These tests read content, not layout: no line is wrapped (test_cli_output.py
    checks the wrapping)."""
    monkeypatch.setenv("COLUMNS", "1000")


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_diagnose_table(capsys):
    code, out, err = run(capsys, "diagnose", "--yes", "lump_behind_knee",
                         "tightness_behind_knee", "--no", "fever")
    assert code == 0 and err == ""
    assert "Triage:" in out and "bakers_cyst" in out and DISCLAIMER in out


def test_diagnose_json(capsys):
    code, out, _ = run(capsys, "diagnose", "--yes", "fever,hot_painful_knee", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["triage"]["level"] == "emergency"
    assert result["red_flags"]
    assert result["findings"] == {"fever": True, "hot_painful_knee": True}
    assert {"cause", "probability", "prior"} <= set(result["ranking"][0])
    assert result["disclaimer"] == DISCLAIMER


def test_unknown_finding_is_one_line_error(capsys):
    code, out, err = run(capsys, "diagnose", "--yes", "feverr")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "Did you mean 'fever'" in err


def test_same_id_yes_and_no(capsys):
    code, _, err = run(capsys, "diagnose", "--yes", "fever", "--no", "fever")
    assert code == 1 and "'fever' is given as yes (--yes) and as no (--no)" in err


def test_lists(capsys, kb):
    code, out, _ = run(capsys, "findings", "--json")
    assert code == 0
    assert {r["id"] for r in json.loads(out)["findings"]} == set(kb.evidence_ids)
    code, out, _ = run(capsys, "causes")
    assert code == 0 and "septic_arthritis" in out


def test_causes_show_the_prior_a_diagnosis_shows_and_the_csv_baseline(capsys, kb, model):
    code, out, _ = run(capsys, "causes", "--json")
    rows = {row["id"]: row for row in json.loads(out)["causes"]}
    shown = model.diagnose({}).ranking.set_index("cause")["prior"]
    baseline = kb.causes.set_index("id")["prior"]
    for name, row in rows.items():
        assert row["prior"] == pytest.approx(shown[name], rel=1e-9)
        assert row["baseline"] == baseline[name]
    # a cause that needs another: its baseline is given that one, far above its prior
    assert rows["bakers_cyst_rupture"]["baseline"] > 3 * rows["bakers_cyst_rupture"]["prior"]


def test_validate(capsys, priors_copy):
    code, out, _ = run(capsys, "validate", str(priors_copy))
    assert code == 0 and out.startswith("OK")
    (priors_copy / "causes.csv").write_text("id,label\n")
    code, _, err = run(capsys, "validate", str(priors_copy))
    assert code == 1 and "causes.csv" in err and "Traceback" not in err


def test_bad_usage_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["diagnose", "--top", "many"])
    assert info.value.code == 2


def test_installed_entry_point():
    exe = shutil.which("posterior-knee")
    if exe is None:
        pytest.skip("the package is not installed with its entry point")
    done = subprocess.run([exe, "diagnose", "--yes", "calf_pain", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ranking"]


def test_module_runs_without_pgmpy_import():
    """The main job never imports pgmpy (it takes seconds to import), nor the parts of
    the package it does not use."""
    code = ("import sys; from posterior_knee.cli import main; "
            "main(['diagnose', '--yes', 'calf_pain']); "
            "extra = [m for m in ('pgmpy', 'posterior_knee.interview', "
            "'posterior_knee.evaluation', 'posterior_knee.interop', "
            "'posterior_knee.plots') if m in sys.modules]; "
            "assert not extra, f'{extra} imported'")
    run_python(code)


def test_help_imports_neither_pandas_nor_numpy():
    code = ("import sys; from posterior_knee.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('pandas', 'numpy') if m in sys.modules]\n"
            "assert not heavy, f'{heavy} imported'")
    done = run_python(code)
    assert "usage: posterior-knee" in done.stdout


@pytest.mark.parametrize("command", [[], ["diagnose"], ["interview"], ["findings"],
                                     ["causes"], ["evaluate"], ["validate"]])
def test_help_shows_percent_signs_once(capsys, command):
    # argparse %-formats argument help but prints a parser's description as written,
    # so a doubled percent sign there reached the reader as "95 %%"
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    shown = capsys.readouterr().out
    assert "usage: posterior-knee" in shown
    assert "%%" not in shown


# -- the interview ---------------------------------------------------------------------

def interview_run(capsys, monkeypatch, stdin, *argv):
    """One finding per question (yes / no typed to each); checklists have tests of
    their own below."""
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return run(capsys, "interview", "--one-at-a-time", *argv)


def single_id_rule(model, level, screening=True):
    """An id that fires a red flag at ``level`` alone (read from the model's rules)."""
    for rule in model.rules.red_flags:
        if rule.level is level and len(rule.condition) == 1:
            for name in rule.condition[0]:
                if (name in model.ask_first) == screening:
                    return name
    pytest.skip(f"no single-id {level.value} rule")


def replies_until(model, target):
    """How many 'no' replies come before ``target`` is asked, as the interview runs."""
    interview = Interview(model, grouped=False)
    while (question := interview.next_question()).finding != target:
        interview.answer(question.finding, False)
    return interview.questions_asked


def test_interview_shows_the_disclaimer_first(capsys, monkeypatch):
    code, out, _ = interview_run(capsys, monkeypatch, "q\n")
    assert code == 0 and out.splitlines()[0] == DISCLAIMER


def test_interview_stops_at_an_emergency_answer(capsys, monkeypatch, model):
    name = single_id_rule(model, TriageLevel.EMERGENCY)
    k = replies_until(model, name)
    # the replies after "y" would answer more questions if the loop went on
    code, out, _ = interview_run(capsys, monkeypatch, "n\n" * k + "y\n" + "n\n" * 4)
    assert code == 0
    after = out.split(model._question_text[name], 1)[1]
    assert "EMERGENCY" in after.split("Please act", 1)[0]  # at once, before anything
    assert f"Q{k + 2}." not in out
    assert f"{k + 1} questions asked; stopped because the triage level is emergency" in out


def test_interview_goes_on_after_an_emergency_if_asked(capsys, monkeypatch, model):
    name = single_id_rule(model, TriageLevel.EMERGENCY)
    k = replies_until(model, name)
    code, out, _ = interview_run(capsys, monkeypatch,
                                 "n\n" * k + "y\ngo on\nn\nq\n", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["questions_asked"] == k + 2 and result["asked"][k] == name
    assert result["triage"]["level"] == "emergency" and not result["emergency_stop"]
    assert result["alert"]["level"] == "emergency"


def test_interview_back_at_the_emergency_prompt_undoes_a_mistake(capsys, monkeypatch,
                                                                  model):
    name = single_id_rule(model, TriageLevel.EMERGENCY)
    k = replies_until(model, name)
    code, out, _ = interview_run(capsys, monkeypatch,
                                 "n\n" * k + "y\nback\nn\nq\n", "--json")
    result = json.loads(out)
    assert result["findings"][name] is False and result["alert"] is None


def test_interview_shows_an_urgent_warning_at_once(capsys, monkeypatch, model):
    name = single_id_rule(model, TriageLevel.URGENT)
    k = replies_until(model, name)
    code, out, _ = interview_run(capsys, monkeypatch, "n\n" * k + "y\nn\nq\n")
    after = out.split(model._question_text[name], 1)[1]
    assert "Warning (urgent)" in after.split(f"Q{k + 2}.", 1)[0]
    assert f"{k + 2} questions asked" in out  # and the questions went on


def test_interview_quitting_early_says_the_result_is_incomplete(capsys, monkeypatch,
                                                                 model):
    code, out, _ = interview_run(capsys, monkeypatch, "n\nq\n")
    n = len(model.ask_first) - 1
    assert f"This result is incomplete: {n} screening questions unanswered" in out
    assert out.index("incomplete") < out.index("Triage:")
    code, out, _ = interview_run(capsys, monkeypatch, "n\nq\n", "--json")
    assert json.loads(out)["incomplete"].startswith(
        f"this result is incomplete: {n} screening questions unanswered")


@pytest.mark.parametrize("reply", ["don\u2019t know", "Not sure", "?", "unsure",
                                   "DONT KNOW"])
def test_interview_reads_every_dont_know(capsys, monkeypatch, reply):
    code, out, _ = interview_run(capsys, monkeypatch, f"{reply}\nq\n", "--json")
    result = json.loads(out)
    assert result["questions_asked"] == 1 and result["unknown"] == result["asked"]


def test_interview_with_a_main_complaint(capsys, monkeypatch, model):
    code, out, err = interview_run(capsys, monkeypatch, "", "--yes", "lump_behind_knee",
                                   "--no", "fever", "--json")
    assert code == 0
    result = json.loads(out)  # the questions went to stderr
    assert result["findings"] == {"lump_behind_knee": True, "fever": False}
    assert result["given"] == ["lump_behind_knee", "fever"]
    assert result["questions_asked"] == 0 and "Q1." in err
    assert "fever" not in result["screening_unanswered"]


def test_interview_emergency_given_up_front(capsys, monkeypatch, model):
    name = single_id_rule(model, TriageLevel.EMERGENCY)
    code, out, err = interview_run(capsys, monkeypatch, "\n", "--yes", name, "--json")
    result = json.loads(out)
    assert result["emergency_stop"] and result["questions_asked"] == 0
    assert "EMERGENCY" in err and "Q1." not in err


def test_interview_answers_never_asked_are_used(capsys, monkeypatch, tmp_path):
    """The issue's case: a lump behind the knee, one question."""
    path = tmp_path / "answers.json"
    path.write_text('{"lump_behind_knee": true}')
    code, out, _ = run(capsys, "interview", "--answers", str(path), "--max-questions",
                       "1", "--json")
    result = json.loads(out)
    code, direct, _ = run(capsys, "diagnose", "--yes", "lump_behind_knee", "--json")
    assert result["triage"] == json.loads(direct)["triage"]
    assert result["given"] == ["lump_behind_knee"]


def test_interview_answers_file_with_an_emergency_says_so(capsys, tmp_path, model):
    name = single_id_rule(model, TriageLevel.EMERGENCY)
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({name: True}))
    code, out, _ = run(capsys, "interview", "--answers", str(path), "--json")
    result = json.loads(out)
    assert result["emergency_stop"] and result["alert"]["level"] == "emergency"
    assert name in result["items_asked"] and "emergency" in result["stopped"]
    assert result["questions_asked"] == 1  # the red-flag screen, and no further


@pytest.mark.parametrize(("answers", "message"), [
    ('{"Fever": true}', "unknown id 'Fever' (answers.json). Did you mean 'fever'?"),
    ('{"fever ": true}', "unknown id 'fever ' (answers.json). Did you mean 'fever'?"),
    ('{"feverr": null}', "unknown id 'feverr' (answers.json). Did you mean 'fever'?"),
    ('{"fever": "yess"}', "'fever' (answers.json) must be yes (y), no (n) or don't know"),
    ('{"fever": 1}', "'fever' (answers.json) must be true, false or null"),
    ('{"dvt": true}', "'dvt' (answers.json) is a cause"),
])
def test_interview_answers_file_errors_name_the_id(capsys, tmp_path, monkeypatch, answers,
                                                   message):
    path = tmp_path / "answers.json"
    path.write_text(answers)
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "interview", "--answers", "answers.json")
    assert code == 1 and out == "" and message in err and err.count("\n") == 1


def test_interview_options_are_checked(capsys, tmp_path):
    with pytest.raises(SystemExit) as info:
        main(["interview", "--max-questions", "0"])
    assert info.value.code == 2 and "from 1 to" in capsys.readouterr().err
    path = tmp_path / "answers.json"
    path.write_text('{"fever": "no"}')
    code, _, err = run(capsys, "interview", "--yes", "fever", "--answers", str(path))
    assert code == 1 and "'fever'" in err


class Recorder(_Console):
    """A console that replies from a list and records what the person saw when."""

    def __init__(self, interview, replies):
        super().__init__(io.StringIO())
        self.interview, self.replies, self.events = interview, list(replies), []

    def write(self, text=""):
        self.events.append(("write", text))

    def ask(self, prompt):
        self.events.append(("ask", prompt, self.interview.emergency_stop))
        return self.replies.pop(0) if self.replies else None


@given(replies=st.lists(st.sampled_from(
    ["y", "y", "n", "n", "n", "d", "b", "go on", "", "maybe", "don\u2019t know", "q",
     "1", "2 3", "9? 10", "4,5", "none", "13"]), max_size=12))
def test_no_typed_replies_get_a_question_past_an_emergency(model, replies):
    interview = Interview(model)
    console = Recorder(interview, replies)
    _ask_in_terminal(interview, console)
    shown, waiting = False, False
    for event in console.events:
        if event[0] == "write" and "EMERGENCY" in event[1]:
            shown = waiting = True
        elif event[0] == "ask":
            if event[1].startswith("Q"):
                assert not event[2], "a question was asked during an emergency stop"
            # the first thing asked after the emergency is whether to stop
            assert not waiting or "Please act on this now" in event[1]
            waiting = False
    if interview.level is TriageLevel.EMERGENCY:
        assert shown
    present = [name for name, value in interview.findings.items() if value]
    assert interview.level >= model.rules.red_flag_level(present)
    assert console.events[0] == ("write", DISCLAIMER)


# -- checklists in the terminal ---------------------------------------------------------

def test_a_checklist_is_answered_with_the_numbers_that_apply(capsys, monkeypatch, model):
    """The red-flag screen lists its items; the number of an emergency item stops the
    interview at once."""
    name = single_id_rule(model, TriageLevel.EMERGENCY)
    screen = Interview(model).next_question()
    number = screen.items.index(name) + 1
    monkeypatch.setattr("sys.stdin", io.StringIO(f"y\n{number} 1?\nn\nn\n"))
    code, out, _ = run(capsys, "interview", "--json")
    result = json.loads(out)
    assert result["questions_asked"] == 1 and result["emergency_stop"]
    assert result["findings"][name] is True and screen.items[0] in result["unknown"]
    assert all(result["findings"][item] is False for item in screen.items
               if item not in (name, screen.items[0]))


def test_checklist_replies(model):
    from posterior_knee.cli._terminal import _checklist_reply

    question = Interview(model).next_question()
    first, second, *rest = question.items
    assert _checklist_reply("n", question) is False
    assert _checklist_reply("none", question) is False
    assert _checklist_reply("don\u2019t know", question) is None
    assert _checklist_reply("1, 2?", question) == {
        first: True, second: None, **dict.fromkeys(rest, False)}
    for bad in ("y", "", "0", f"{len(question.items) + 1}", "1 x"):
        with pytest.raises(PosteriorKneeError):
            _checklist_reply(bad, question)


def test_an_unticked_item_that_a_ticked_one_answers_is_a_yes(model):
    """Ticking only "pain for more than 2 weeks" says more than 3 days too, and a knee
    already called hot and swollen is a swollen knee though "none" is typed."""
    from posterior_knee.cli._terminal import _checklist_reply
    from posterior_knee.interview import Question

    how_long = Question("how_long", "How long?", False, 0.1,
                        items=("duration_over_3_days", "duration_over_2_weeks",
                               "slowly_worsening"))
    assert _checklist_reply("2", how_long) == {
        "duration_over_3_days": True, "duration_over_2_weeks": True,
        "slowly_worsening": False}
    assert all(_checklist_reply("3", how_long).values())
    # followed through an id not on the checklist (answered before)
    shorter = Question("how_long", "How long?", False, 0.1,
                       items=("duration_over_3_days", "slowly_worsening"))
    assert _checklist_reply("2", shorter) == dict.fromkeys(shorter.items, True)
    swelling = Question("swelling", "Swollen?", False, 0.1,
                        items=("knee_swelling", "calf_swelling"))
    assert _checklist_reply("n", swelling) is False
    assert _checklist_reply("n", swelling, ["hot_painful_knee"]) == {
        "knee_swelling": True, "calf_swelling": False}
    assert _checklist_reply("d", swelling, ["hot_painful_knee"]) is None
    skin = Question("skin", "Skin?", False, 0.1, items=("warmth", "redness"))
    assert _checklist_reply("2", skin, ["hot_painful_knee"]) == {
        "warmth": True, "redness": True}
    # a "not sure" on the implied item stays a yes only when ticked: the implication
    # fills in a "no" left by default, never a reply the person typed
    assert _checklist_reply("1? 2", swelling, ["hot_painful_knee"]) == {
        "knee_swelling": None, "calf_swelling": True}


def test_an_interview_at_the_terminal_records_what_a_ticked_item_implies(model):
    """Through the terminal: ticking only the longest duration records both."""
    interview = Interview(model)
    screen = interview.next_question()
    interview.answer(screen.finding, False)
    asked = []
    replies = {"how_long": "2"}

    def reply(prompt):
        question = interview.next_question()
        asked.append(question.finding)
        return replies.get(question.finding, "n")

    from posterior_knee.cli._terminal import _ask_in_terminal

    class Console:
        def write(self, text=""):
            pass

        def ask(self, prompt):
            return reply(prompt) if len(asked) < 40 else "q"

    _ask_in_terminal(interview, Console())
    assert "how_long" in asked
    assert interview.findings["duration_over_2_weeks"] is True
    assert interview.findings["duration_over_3_days"] is True
