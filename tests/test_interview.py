"""The interview, driven by a program as the command line and notebooks drive it."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from posterior_knee.errors import EvidenceValueError, UnknownIdError
from posterior_knee.interview import Interview

ANSWERS = {"fever": False, "shortness_of_breath": False, "lump_behind_knee": True,
           "tightness_behind_knee": True, "calf_swelling": False}


def test_scripted_interview_equals_diagnose_on_the_same_answers(model):
    interview = Interview(model, max_questions=16)
    dx = interview.run(ANSWERS)
    direct = model.diagnose(interview.findings)
    pd.testing.assert_frame_equal(dx.ranking, direct.ranking)
    assert dx.triage == direct.triage
    assert set(interview.findings) <= set(ANSWERS)  # nothing invented
    assert interview.questions_asked == len(interview.history) <= 16


def test_screening_questions_are_asked_first(model):
    interview = Interview(model, max_questions=len(model.ask_first))
    interview.run({})
    assert set(interview.history) == model.ask_first
    assert interview.unknown == interview.history  # nothing in the script: don't know


def test_back_undoes_the_last_answer(model):
    interview = Interview(model)
    first = interview.next_question()
    interview.answer(first.finding, True)
    assert interview.back() == first.finding
    assert interview.findings == {} and interview.history == []
    assert interview.back() is None


def test_bad_answers_are_rejected(model):
    interview = Interview(model)
    with pytest.raises(UnknownIdError):
        interview.answer("feverr", True)
    with pytest.raises(EvidenceValueError):
        interview.answer("fever", "yes")


def test_the_interview_stops(model):
    interview = Interview(model, min_gain=10.0)  # nothing can gain 10 bits
    interview.run({})
    assert interview.stopped and interview.questions_asked == len(model.ask_first)


def test_cli_interview_from_answers_file(tmp_path):
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(ANSWERS))
    done = subprocess.run(
        [sys.executable, "-m", "posterior_knee.cli", "interview", "--answers", str(path),
         "--max-questions", "14", "--json"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["questions_asked"] == len(result["asked"]) <= 14
    assert set(result["findings"]) <= set(ANSWERS)
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
    assert "Please answer yes, no" in done.stdout
    assert "2 questions asked" in done.stdout and "does not replace" in done.stdout
