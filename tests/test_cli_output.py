"""The posterior-knee command under bad input and in a terminal (issue 12, section 4):
no traceback anywhere, JSON alone on standard output, every warning sign, output that
fits the terminal, every bad id at once, ``python -m posterior_knee``."""

import json
import os
import select
import signal
import subprocess
import sys
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

import posterior_knee as pk
from posterior_knee.cli import MAX_ANSWERS_BYTES, main
from posterior_knee.clinical.triage import TriageLevel
from posterior_knee.result import SCHEMA_VERSION

# a calf that swells on one side: more warning signs than the library's text view lists
MANY_SIGNS = "calf_swelling,calf_pain,leg_swelling_one_side"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def usage_error(capsys, *argv) -> str:
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    assert info.value.code == 2
    return capsys.readouterr().err


def flat(text: str) -> str:
    """The words of ``text`` with single spaces (wrapping moves only line breaks)."""
    return " ".join(text.split())


def strict_json(text: str):
    """JSON as the standard has it: NaN or Infinity is an error."""
    def refuse(name):
        raise AssertionError(f"{name} is not JSON")
    return json.loads(text, parse_constant=refuse)


def emergency_id(kb) -> str:
    model = pk.Model(kb)
    for rule in model.rules.red_flags:
        if rule.level is TriageLevel.EMERGENCY and len(rule.condition) == 1:
            return sorted(rule.condition[0])[0]
    pytest.skip("no single-id emergency rule")


@pytest.fixture
def wide(monkeypatch):
    monkeypatch.setenv("COLUMNS", "1000")


# -- numeric options -------------------------------------------------------------------

@pytest.mark.parametrize("argv", [
    ["diagnose", "--top", "0"],
    ["diagnose", "--top", "-1"],
    ["diagnose", "--top", "\u0663"],  # an Arabic-Indic 3: int() takes it, a shell user
    ["diagnose", "--top", "1_0"],     # would not mean it
    ["diagnose", "--top", "9" * 30],
    ["interview", "--max-questions", "-5"],
    ["interview", "--max-questions", "0"],
])
def test_numeric_options_are_checked(capsys, argv):
    err = usage_error(capsys, *argv)
    assert f"argument {argv[1]}: must be a whole number from 1 to" in err
    assert "Traceback" not in err


def test_top_takes_any_count_up_to_the_bound(capsys, wide, kb):
    code, out, _ = run(capsys, "diagnose", "--yes", "calf_pain", "--top", "10000")
    assert code == 0
    assert all(f"[{cause}]" in out for cause in kb.cause_ids)


@pytest.mark.parametrize("argv", [["diagnose", "--priors", ""], ["validate", ""]])
def test_an_empty_folder_name_is_bad_usage(capsys, argv):
    assert "not an empty string" in usage_error(capsys, *argv)


# -- the answers file ------------------------------------------------------------------

@pytest.mark.parametrize(("content", "message"), [
    (b"[" * 100_000 + b"]" * 100_000, "nests arrays or objects too deeply"),
    (b'\xff\xfe{"fever": true}', "is not UTF-8 text (byte 0xff at position 0)"),
    (b'{"fever": ' + b"9" * 5000 + b"}", "'fever' (answers.json) must be true, false or "
     "null"),
    (b'{"fever": -Infinity}', "'fever' (answers.json) must be true, false or null"),
    (b'{"fever": [true]}', "got an array"),
    (b'{"fever": true' + b" " * MAX_ANSWERS_BYTES + b"}", "is larger than"),
    (b"[true]", "must hold a JSON object"),
    (b'{"fever": tru}', "is not valid JSON"),
])
def test_bad_answers_files_are_one_clear_error(capsys, tmp_path, monkeypatch, content,
                                               message):
    (tmp_path / "answers.json").write_bytes(content)
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "interview", "--answers", "answers.json")
    assert code == 1 and out == "" and message in flat(err)
    assert "Traceback" not in err and len(err) < 1000


def test_an_answers_folder_is_named(capsys, tmp_path):
    code, _, err = run(capsys, "interview", "--answers", str(tmp_path))
    assert code == 1 and "is a folder, not a regular file" in flat(err)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_is_refused_without_waiting(tmp_path):
    """Reading a pipe with no writer would wait for ever; it is refused at once."""
    pipe = tmp_path / "answers.json"
    os.mkfifo(pipe)
    done = subprocess.run([sys.executable, "-m", "posterior_knee", "interview",
                           "--answers", str(pipe)], capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 1, done.stderr
    assert "is a named pipe, not a regular file" in flat(done.stderr)
    assert "Traceback" not in done.stderr


def test_answers_from_standard_input(capsys, monkeypatch, kb):
    import io

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(
        b'{"lump_behind_knee": "yes", "fever": "no"}')))
    code, out, _ = run(capsys, "interview", "--answers", "-", "--max-questions", "1",
                       "--json")
    assert code == 0
    assert strict_json(out)["findings"] == {"lump_behind_knee": True, "fever": False}


def test_a_bad_answer_keeps_the_red_flags_of_the_good_ones(capsys, tmp_path, kb):
    name = emergency_id(kb)
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({name: True, "fever": 12}))
    code, out, err = run(capsys, "interview", "--answers", str(path))
    assert code == 1 and out == ""
    assert "still raise red flags: triage emergency" in flat(err)
    code, out, err = run(capsys, "interview", "--answers", str(path), "--json")
    document = strict_json(out)
    assert code == 1 and document["triage"]["level"] == "emergency"
    assert document["problems"][0]["id"] == "fever"
    assert document["version"] == SCHEMA_VERSION


# -- every bad id at once, in shell words ----------------------------------------------

def test_every_bad_id_is_reported_at_once(capsys, wide):
    code, out, err = run(capsys, "diagnose", "--yes", "feverr,calff_pain,dvt",
                         "--no", "xyz")
    assert code == 1 and out == ""
    assert "4 problems" in err
    for text in ("'feverr' (--yes). Did you mean 'fever'?",
                 "'calff_pain' (--yes). Did you mean 'calf_pain'?",
                 "'dvt' (--yes) is a cause", "unknown id 'xyz' (--no)"):
        assert text in err
    assert "posterior-knee findings" in err


@pytest.mark.parametrize("argv", [
    ["diagnose", "--yes", "feverr"],
    ["diagnose", "--yes", "fever", "--no", "fever"],
    ["diagnose", "--yes", "dvt"],
])
def test_messages_use_shell_words(capsys, argv):
    code, _, err = run(capsys, *argv)
    assert code == 1
    for python in ("kb.", "()", "True", "False", "None"):
        assert python not in err, (python, err)


def test_exclusive_risk_factors_are_named(capsys, kb):
    table = kb.risk_factors
    groups = table[table["exclusive_group"].astype(bool)].groupby("exclusive_group")
    members = next((list(rows["id"]) for _, rows in groups if len(rows) > 1), None)
    if members is None:
        pytest.skip("no exclusive risk factors")
    code, _, err = run(capsys, "diagnose", "--yes", ",".join(members[:2]))
    assert code == 1 and "cannot both be yes" in flat(err)
    assert all(repr(name) in err for name in members[:2])


def test_escape_codes_in_an_id_are_not_printed_raw(capsys):
    code, _, err = run(capsys, "diagnose", "--yes", "\x1b[2Jfever")
    assert code == 1 and "\x1b" not in err


@given(ids=st.lists(st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
                    max_size=4))
def test_no_ids_give_a_traceback(ids):
    """Whatever is typed after --yes: a result, an error (1) or bad usage (2)."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            code = main(["diagnose", "--yes", *ids] if ids else ["diagnose"])
        except SystemExit as stop:
            code = stop.code
    assert code in (0, 1, 2)


# -- JSON on standard output, and nothing else -----------------------------------------

def test_diagnose_json_is_the_python_api_dict(capsys):
    code, out, err = run(capsys, "diagnose", "--yes", MANY_SIGNS, "--json")
    document = strict_json(out)
    dx = pk.diagnose(dict.fromkeys(MANY_SIGNS.split(","), True))
    expected = json.loads(json.dumps(dx.to_dict()))
    assert code == 0 and err == ""
    assert {key: document[key] for key in expected} == expected
    assert document["version"] == SCHEMA_VERSION
    assert document["plan"]["warning_signs"] == list(dx.plan.warning_signs)


@pytest.mark.parametrize("command", ["findings", "causes"])
def test_lists_are_versioned_documents(capsys, command, kb):
    code, out, _ = run(capsys, command, "--json")
    document = strict_json(out)
    ids = kb.evidence_ids if command == "findings" else kb.cause_ids
    assert code == 0 and document["version"] == SCHEMA_VERSION
    assert [row["id"] for row in document[command]] == list(ids)


def test_validate_json(capsys, priors_copy):
    code, out, _ = run(capsys, "validate", str(priors_copy), "--json")
    document = strict_json(out)
    assert code == 0 and document["valid"] and document["problems"] == []
    assert document["version"] == SCHEMA_VERSION and document["counts"]["causes"] > 0
    (priors_copy / "causes.csv").write_text("id,label\n")
    code, out, err = run(capsys, "validate", str(priors_copy), "--json")
    document = strict_json(out)
    assert code == 1 and not document["valid"] and "Traceback" not in err
    assert any(p["file"] == "causes.csv" for p in document["problems"])
    assert set(document["problems"][0]) == {"file", "line", "column", "message"}


def test_an_error_with_json_is_a_json_document(capsys):
    code, out, err = run(capsys, "diagnose", "--yes", "feverr", "--json")
    document = strict_json(out)
    assert code == 1 and "feverr" in err
    assert document["version"] == SCHEMA_VERSION and "feverr" in document["error"]
    assert document["triage"]["red_flags"] == []


# -- text: every warning sign, the terminal's width ------------------------------------

def test_every_warning_sign_is_shown(capsys, wide):
    signs = pk.diagnose(dict.fromkeys(MANY_SIGNS.split(","), True)).plan.warning_signs
    assert len(signs) > 8, "choose a case with more signs than the text view lists"
    code, out, _ = run(capsys, "diagnose", "--yes", MANY_SIGNS)
    assert code == 0 and "plan.warning_signs" not in out
    assert all(sign in out for sign in signs)


@pytest.mark.parametrize("argv", [["diagnose", "--yes", MANY_SIGNS], ["findings"],
                                  ["causes"], ["validate", str(pk.default_priors_path())]])
@pytest.mark.parametrize("columns", [50, 80, 120])
def test_text_fits_the_terminal(capsys, monkeypatch, argv, columns):
    monkeypatch.setenv("COLUMNS", "1000")
    _, wide_out, _ = run(capsys, *argv)
    monkeypatch.setenv("COLUMNS", str(columns))
    code, out, _ = run(capsys, *argv)
    assert code == 0 and flat(out) == flat(wide_out)  # the same words, only wrapped
    too_long = [line for line in out.splitlines()
                if len(line) > columns and len(line.split()) > 1]
    assert not too_long


def test_a_cause_marked_not_to_miss_wraps_like_the_other_rows(capsys, monkeypatch):
    """The '!' in a row's margin is not a bullet: its numbers hang where the others' do."""
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run(capsys, "diagnose", "--yes", "calf_pain", "pregnancy")
    lines = out.splitlines()
    marked = [k for k, line in enumerate(lines) if line.startswith(" !Blood clot")]
    plain = [k for k, line in enumerate(lines) if line.startswith("  Calf muscle strain")]
    assert code == 0 and marked and plain
    def hang(k):
        return len(lines[k + 1]) - len(lines[k + 1].lstrip())
    assert hang(marked[0]) == hang(plain[0]) == 6


def test_findings_is_a_table_of_ids_and_questions(capsys, monkeypatch, kb):
    monkeypatch.setenv("COLUMNS", "100")
    code, out, _ = run(capsys, "findings")
    starts = {line.split()[0] for line in out.splitlines() if line.startswith("  ")
              and not line.startswith("   ")}
    assert code == 0 and starts == set(kb.evidence_ids)
    questions = kb.questions()
    assert all(flat(q) in flat(out) for q in questions["question"])
    # each question follows its own id
    text = flat(out)
    for name, question in zip(questions["id"], questions["question"]):
        assert f"{name} {flat(question)}" in text


# -- how it is run ---------------------------------------------------------------------

def test_python_dash_m_posterior_knee():
    done = subprocess.run([sys.executable, "-m", "posterior_knee", "diagnose", "--yes",
                           "calf_pain", "--json"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert strict_json(done.stdout)["findings"] == {"calf_pain": True}


def _read_until(process, marker: bytes, timeout: float = 90.0) -> bytes:
    """What the process wrote to stdout until ``marker`` appeared (a prompt has no
    newline, so read what is there)."""
    seen, deadline = b"", time.monotonic() + timeout
    while marker not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"no {marker!r} in {seen[-500:]!r}"
        ready, _, _ = select.select([process.stdout], [], [], left)
        if ready:
            chunk = os.read(process.stdout.fileno(), 65536)
            assert chunk, f"the process ended: {seen[-500:]!r}"
            seen += chunk
    return seen


def _default_sigint():
    # as in a terminal: a test runner's worker may have left SIGINT ignored, and an
    # ignored disposition is inherited by the child
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupted(argv, replies=b"", marker=b"Q1."):
    process = subprocess.Popen([sys.executable, "-m", "posterior_knee", "interview",
                                *argv], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, preexec_fn=_default_sigint)
    try:
        if replies:
            process.stdin.write(replies)
            process.stdin.flush()
        _read_until(process, marker)
        process.send_signal(signal.SIGINT)
        # stdin stays open until the process has ended: closing it first (communicate
        # does) let an end of input finish the interview before the signal arrived
        process.wait(timeout=60)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    return process.returncode, err.decode()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT as a terminal sends it")
def test_ctrl_c_in_the_interview_exits_130_without_a_traceback():
    code, err = interrupted([])
    assert code == 130 and "interrupted" in err and "Traceback" not in err


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT as a terminal sends it")
def test_ctrl_c_after_an_emergency_says_it_again(kb):
    name = emergency_id(kb)
    code, err = interrupted(["--yes", name], replies=b"go on\n", marker=b"Q1.")
    assert code == 130 and "Traceback" not in err
    assert "the answers so far say: EMERGENCY" in flat(err)


def test_escape_codes_in_a_tuned_copy_are_shown_not_obeyed(capsys, priors_copy, tmp_path):
    """A label and a question edited to hold terminal escapes print as their escapes."""
    import pandas as pd

    path = priors_copy / "findings.csv"
    findings = pd.read_csv(path, dtype=str, keep_default_na=False)
    findings.loc[findings["id"] == "fever", "label"] = "Fever\x1b[2J\x1b]52;c;ZWNobw==\x07"
    findings.loc[findings["id"] == "fever", "question"] = "Fever?\x1b[31m\u202e"
    findings.to_csv(path, index=False)
    answers = tmp_path / "answers.json"
    answers.write_text("{}")
    outputs = []
    for argv in (["findings"], ["diagnose", "--yes", "fever"],
                 ["interview", "--answers", str(answers), "--max-questions", "12"]):
        _, out, err = run(capsys, *argv, "--priors", str(priors_copy))
        outputs.append(out + err)
        assert not {"\x1b", "\x07", "\u202e"} & set(out + err), argv
    assert "Fever?\\x1b[31m" in outputs[0]  # the table shows what the file holds
