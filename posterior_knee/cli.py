"""The ``posterior-knee`` command: diagnose from a shell, list ids, validate priors.

Hand-written with :mod:`argparse` (standard library): a CLI library such as click
would add a dependency and about 14 ms of import time for what argparse does here
(see docs/cli.md). Everything heavy (pandas, the model) is imported only once the
arguments are known, so ``--help`` and usage errors answer at once.

Output contract (docs/cli.md): with ``--json`` standard output carries exactly one
JSON document (``"version"``: the schema version shared with
:meth:`posterior_knee.Diagnosis.to_dict`); prompts, notes and warnings go to standard
error. Exit codes: 0 success, 1 bad input, 2 bad usage, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import stat
import sys
import textwrap
import warnings
from collections.abc import Iterable, Mapping, Sequence

from ._text import printable
from ._version import __version__
from .errors import PosteriorKneeError, PosteriorKneeWarning, closest

EXAMPLES = """\
examples:
  posterior-knee diagnose --yes lump_behind_knee tightness_behind_knee --no fever
  posterior-knee diagnose --yes calf_swelling,leg_swelling_one_side --json
  posterior-knee interview
  posterior-knee interview --answers answers.json --json
  posterior-knee findings
  posterior-knee validate my_priors/ --json
  posterior-knee evaluate --priors my_priors/
"""

MAX_COUNT = 10_000
"""The largest --top or --max-questions accepted (far more than there are causes or
questions: a bound, so that no option asks for unbounded work)."""

MAX_ANSWERS_BYTES = 1_000_000
"""The largest --answers file read (an answer for every id is a few kilobytes)."""

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C

FINDING_HINT = "Run 'posterior-knee findings' to list the valid ids."


# -- the parser ------------------------------------------------------------------------

def _count(text: str) -> int:
    """A whole number from 1 to MAX_COUNT, in ASCII digits (int() would also take
    '1_000', ' 5' or Arabic-Indic digits)."""
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_COUNT:
        raise argparse.ArgumentTypeError(
            f"must be a whole number from 1 to {MAX_COUNT}, not {_short(text)}")
    return int(text)


def _folder(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "must name a folder (use '.' for the current folder), not an empty string")
    return text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="posterior-knee",
        description="Bayesian differential diagnosis of pain behind the knee. "
        "Decision support only: it does not replace a clinician.",
        epilog=EXAMPLES + "\nexit codes: 0 success, 1 bad input, 2 bad usage, "
        "130 interrupted\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    priors = argparse.ArgumentParser(add_help=False)
    priors.add_argument("--priors", metavar="DIR", type=_folder,
                        help="folder of CSV files to use instead of the shipped priors")
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true",
                         help="print one JSON document on standard output (schema in "
                         "docs/cli.md); notes go to standard error")

    run = commands.add_parser(
        "diagnose", parents=[priors, as_json],
        help="rank the causes and triage for the findings given",
        description="Rank the causes and triage. Findings not named are unknown.")
    run.add_argument("--yes", nargs="+", action="extend", default=[], metavar="ID",
                     help="findings or risk factors that are present (space or comma separated)")
    run.add_argument("--no", nargs="+", action="extend", default=[], metavar="ID",
                     help="findings or risk factors that are absent")
    run.add_argument("--top", type=_count, default=8, metavar="N",
                     help="how many causes to show in the table (default 8)")
    run.add_argument("--engine", choices=("exact", "pgmpy"), default="exact",
                     help="inference engine (default: exact)")

    talk = commands.add_parser(
        "interview", parents=[priors, as_json],
        help="ask questions one at a time, screening for red flags first",
        description="Ask one question at a time (answer yes, no, don't know, back or "
        "quit; a checklist is answered with the numbers of the items that apply) "
        "until more questions would not change the result, or at once when an "
        "answer means an emergency; then print the ranking, triage and what to do.")
    talk.add_argument("--yes", nargs="+", action="extend", default=[], metavar="ID",
                      help="what brings you (the main complaint), known before the first "
                      "question: ids present (space or comma separated)")
    talk.add_argument("--no", nargs="+", action="extend", default=[], metavar="ID",
                      help="ids known to be absent before the first question")
    talk.add_argument("--answers", metavar="FILE",
                      help="take answers from a JSON file ('-': standard input) mapping "
                      "ids to true / false / null (or \"yes\" / \"no\" / \"don't know\"); "
                      "questions not in it are answered \"don't know\", and answers never "
                      "asked are used too")
    talk.add_argument("--max-questions", type=_count, default=None, metavar="N",
                      help=f"stop after N questions (1 to {MAX_COUNT})")
    talk.add_argument("--one-at-a-time", action="store_true",
                      help="ask about one finding per question, never a checklist "
                      "(\"which of these apply?\")")

    commands.add_parser("findings", parents=[priors, as_json],
                        help="list the finding and risk-factor ids with their questions")
    commands.add_parser("causes", parents=[priors, as_json],
                        help="list the cause ids with their groups and priors")
    score = commands.add_parser(
        "evaluate", parents=[priors, as_json],
        help="score the priors on the shipped vignettes of published cases",
        description="Rank and triage every published case of the vignette suite and "
        "report top-1/3/5, mean reciprocal rank, triage against the lowest acceptable "
        "level, the Brier score and calibration, with Wilson 95 % intervals. Tune on "
        "the dev split; score the test split only when a change is finished and record "
        "that score in CHANGELOG.md.")
    score.add_argument("--split", choices=("dev", "test", "all"), default="dev",
                       help="which part of the suite to score (default: dev)")
    score.add_argument("--interview", action="store_true",
                       help="answer the interview's questions from each case instead "
                       "(slow: about two seconds a case)")
    score.add_argument("--vocabulary", choices=("full", "required"), default="full",
                       help="'required': keep only the ids of the design contract in "
                       "each case, as an outside scorer's cases state them "
                       "(default: full)")
    check = commands.add_parser("validate", parents=[as_json],
                                help="check a folder of CSV priors")
    check.add_argument("folder", type=_folder, help="the folder to check")
    return parser


# -- running ---------------------------------------------------------------------------

def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (0 success, 1 bad input, 2 bad usage,
    130 interrupted). Bad usage exits through argparse (SystemExit 2)."""
    args = _parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            # the library's warnings (a formula cell in a tuned copy) as one line each
            warnings.filterwarnings("default", category=PosteriorKneeWarning)
            # pgmpy (--engine pgmpy) warns about its own modules: not the user's concern
            warnings.filterwarnings("ignore", category=FutureWarning, module="pgmpy")
            warnings.showwarning = _show_warning
            return _run(args)
    except PosteriorKneeError as error:
        _report(args, error)
        return 1
    except KeyboardInterrupt:
        _stderr("\nposterior-knee: interrupted.")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # output piped into a command that stopped reading (head)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    _stderr(f"posterior-knee: warning: {message}")


def _stderr(text: str) -> None:
    print(_wrap(text), file=sys.stderr, flush=True)


def _report(args: argparse.Namespace, error: PosteriorKneeError) -> None:
    """A bad input: the message (and any red flags the valid answers raise) on
    standard error; with --json also the error document on standard output."""
    _stderr(f"posterior-knee: error: {error}")
    for note in getattr(error, "__notes__", ()):  # the red flags still raised
        _stderr(f"posterior-knee: {note}")
    if getattr(args, "json", False):
        _print_json(_error_json(error))


def _run(args: argparse.Namespace) -> int:
    from .knowledge.base import load_knowledge_base

    if args.command == "validate":
        return _validate(args)
    kb = load_knowledge_base(args.priors)
    if args.command == "findings":
        return _findings(args, kb)
    if args.command == "causes":
        return _causes(args, kb)
    if args.command == "evaluate":
        return _evaluate(args, kb)
    if args.command == "interview":
        return _interview(args, kb)
    findings = _checked(kb, _given(args))
    from .model import Model

    dx = Model(kb, engine=args.engine).diagnose(findings)
    if args.json:
        _print_json(_as_json(dx))
    else:
        _print_text(_diagnosis_text(dx, args.top))
    return 0


# -- checking what was given -----------------------------------------------------------

class InputError(PosteriorKneeError, ValueError):
    """Everything wrong with the ids and answers given on the command line, at once.

    :attr:`problems` holds one ``{"source", "id", "message"}`` per problem;
    :attr:`triage` the red-flag triage of the valid answers (None when none fired).
    """

    def __init__(self, problems: Sequence[dict], hint: str = ""):
        self.problems = tuple(problems)
        if len(self.problems) == 1:
            message = self.problems[0]["message"]
        else:
            message = f"{len(self.problems)} problems with the answers given:" + "".join(
                f"\n  - {p['message']}" for p in self.problems)
        super().__init__(message + (f" {hint}" if hint and len(self.problems) == 1
                                    else f"\n{hint}" if hint else ""))


class _JsonNumber:
    """A number in an answers file, kept as text: never an answer, and never turned
    into an int (a 5 000-digit number would raise inside json)."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


def _constant(text: str) -> object:
    """NaN (what pandas writes for a missing value) means don't know, as it does for
    ``diagnose``; Infinity is a number, never an answer."""
    return None if text == "NaN" else _JsonNumber(text)


_JSON_TYPES = ((_JsonNumber, "a number"), (list, "an array"), (dict, "an object"))


def _given(args: argparse.Namespace) -> list[tuple[str, str, bool]]:
    """(source, id, value) for every id of --yes and --no, in the order given."""
    return ([("--yes", name, True) for name in _split(args.yes)]
            + [("--no", name, False) for name in _split(args.no)])


def _split(values: Sequence[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _checked(kb, given: Iterable[tuple[str, object, object]]) -> dict[str, bool | None]:
    """The answers as {id: True / False / None}, or one InputError naming every
    problem: unknown ids (with the closest valid one), causes, bad values, an id given
    twice with different answers, two exclusive risk factors both present."""
    from .inference._answers import REPLY_HINT, answer_value

    valid, causes = list(kb.evidence_ids), set(kb.cause_ids)
    known = set(valid)
    answers: dict[str, bool | None] = {}
    where: dict[str, str] = {}
    problems: list[dict] = []
    unknown = False

    def problem(source: str, name: object, message: str) -> None:
        problems.append({"source": source, "id": name, "message": message})

    for source, name, value in given:
        if not isinstance(name, str) or name not in known:
            text = _short(name)
            if name in causes:
                problem(source, name, f"{text} ({source}) is a cause, which the tool "
                        "infers: give findings and risk factors only.")
                continue
            unknown = True
            match = closest(str(name), valid)
            problem(source, name, f"unknown id {text} ({source})."
                    + (f" Did you mean {match!r}?" if match else ""))
            continue
        kind = next((label for type_, label in _JSON_TYPES if isinstance(value, type_)),
                    None)
        if kind is not None:
            problem(source, name, f"the answer for {name!r} ({source}) must be true, "
                    f"false or null, or {REPLY_HINT}; got {kind}.")
            continue
        try:
            value = answer_value(name, value)
        except PosteriorKneeError:
            match = closest(str(value), ["yes", "no", "don't know"])
            problem(source, name, f"the answer for {name!r} ({source}) must be "
                    f"{REPLY_HINT}; got {_short(value)}."
                    + (f" Did you mean {match!r}?" if match else ""))
            continue
        if name in answers and answers[name] is not value:
            problem(source, name, f"{name!r} is given as {_word(answers[name])} "
                    f"({where[name]}) and as {_word(value)} ({source}); give each id "
                    "once.")
            continue
        answers[name], where[name] = value, source
    for members in _exclusive_groups(kb):
        present = [m for m in members if answers.get(m)]
        if len(present) > 1:
            problem(", ".join(where[m] for m in present), present[1],
                    f"{' and '.join(repr(m) for m in present)} cannot both be yes: they "
                    "are alternatives (one age band, say); give at most one as yes.")
    if problems:
        error = InputError(problems, FINDING_HINT if unknown else "")
        _add_red_flags(error, kb, answers)
        raise error
    return answers


def _exclusive_groups(kb) -> list[list[str]]:
    table = kb.risk_factors
    groups: dict[str, list[str]] = {}
    for name, group in zip(table["id"], table["exclusive_group"]):
        if isinstance(group, str) and group:
            groups.setdefault(group, []).append(name)
    return [members for members in groups.values() if len(members) > 1]


def _add_red_flags(error: PosteriorKneeError, kb, answers: Mapping[str, object]) -> None:
    """Red flags read only what is reported present: the valid answers still set
    the triage they demand, even when others are wrong (as Model.diagnose does)."""
    from .clinical.triage import TriageRules

    rules = TriageRules.from_tables(kb.red_flags, kb.thresholds, kb.triage_actions)
    triage = rules.assess([name for name, value in answers.items() if value], None)
    error.triage = triage
    if triage.red_flags:
        error.add_note(
            f"The valid answers still raise red flags: triage {triage.level.value} "
            f"({', '.join(triage.red_flags)}). {triage.action}")


def _word(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "don't know"}[value]


def _short(value: object, limit: int = 40) -> str:
    """``repr(value)``, cut to ``limit`` characters (a 1 MB string is not echoed back);
    repr escapes control characters, so no terminal escape code is printed raw."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 5] + "...'" + f" ({len(text)} chars)"


# -- the answers file ------------------------------------------------------------------

def _read_answers(path: str) -> dict:
    """The answers file as a dict, or a PosteriorKneeError saying what is wrong with
    it: never a hang (a named pipe), a traceback (deep nesting, a 5 000-digit number,
    bytes that are not UTF-8) or a read without bound."""
    name = "standard input" if path == "-" else repr(path)
    if path == "-":
        data = sys.stdin.buffer.read(MAX_ANSWERS_BYTES + 1)
    else:
        try:
            info = os.stat(path)
            if not stat.S_ISREG(info.st_mode):
                raise PosteriorKneeError(
                    f"the answers file {name} is {_file_kind(info.st_mode)}, not a "
                    "regular file; give a file, or '-' to read standard input.")
            with open(path, "rb") as file:
                data = file.read(MAX_ANSWERS_BYTES + 1)
        except OSError as error:
            raise PosteriorKneeError(f"cannot read the answers file {name}: "
                                     f"{error.strerror or error}.") from None
    if len(data) > MAX_ANSWERS_BYTES:
        raise PosteriorKneeError(
            f"the answers file {name} is larger than {MAX_ANSWERS_BYTES:,} bytes; an "
            "answer for every id takes a few kilobytes.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise PosteriorKneeError(
            f"the answers file {name} is not UTF-8 text (byte "
            f"0x{data[error.start]:02x} at position {error.start}); save it as "
            "UTF-8.") from None
    try:
        answers = json.loads(text, parse_int=_JsonNumber, parse_float=_JsonNumber,
                             parse_constant=_constant)
    except json.JSONDecodeError as error:
        raise PosteriorKneeError(f"the answers file {name} is not valid JSON "
                                 f"({error.msg}, line {error.lineno}); write an object "
                                 'such as {"fever": false}.') from None
    except RecursionError:
        raise PosteriorKneeError(
            f"the answers file {name} nests arrays or objects too deeply; write one "
            'object mapping ids to answers, such as {"fever": false}.') from None
    if not isinstance(answers, dict):
        raise PosteriorKneeError(f"the answers file {name} must hold a JSON object "
                                 'mapping ids to true / false / null, such as '
                                 '{"fever": false}.')
    return answers


def _file_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"),
                       (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "not a regular file"


# -- the interview ---------------------------------------------------------------------

def _interview(args: argparse.Namespace, kb) -> int:
    from .interview import Interview
    from .model import Model

    given = _given(args)
    answers = None
    if args.answers is not None:
        source = "standard input" if args.answers == "-" else args.answers
        answers = _read_answers(args.answers)
        # every problem in the flags and the file, in one message
        checked = _checked(kb, given + [(source, k, v) for k, v in answers.items()])
        answers = {name: checked[name] for name in answers}
    findings = _checked(kb, given)
    interview = Interview(Model(kb), max_questions=args.max_questions, findings=findings,
                          grouped=not args.one_at_a_time)
    if answers is not None:
        interview.run(answers)
    else:  # with --json, questions go to stderr so that stdout stays JSON
        console = _Console(sys.stderr if args.json else sys.stdout)
        try:
            _ask_in_terminal(interview, console)
        except KeyboardInterrupt:
            # stopped mid-question: any warning already raised is said again, so that
            # the last thing on the screen is what to do
            if interview.alert is not None:
                triage = interview.alert
                _stderr(f"\nposterior-knee: interrupted; the answers so far say: "
                        f"{triage.level.value.upper()}. {triage.action}")
            raise
    dx = interview.result()
    if args.json:
        result = _as_json(dx)
        alert = interview.alert
        result.update(
            questions_asked=interview.questions_asked, asked=list(interview.history),
            items_asked=list(interview.items_asked),
            given=list(interview.given), unknown=list(interview.unknown),
            stopped=interview.stopped, emergency_stop=interview.emergency_stop,
            alert=None if alert is None else {"level": alert.level.value,
                                              "action": alert.action,
                                              "reasons": list(alert.reasons)},
            incomplete=interview.incomplete,
            screening_unanswered=list(interview.screening_unanswered))
        _print_json(result)
    else:
        lines = [f"\n{interview.questions_asked} questions asked; stopped because "
                 f"{interview.stopped or 'you chose to stop'}.\n"]
        if interview.incomplete:
            lines.append(_incomplete_note(interview))
        lines.append(_diagnosis_text(dx))
        _print_text("\n".join(lines))
    return 0


def _incomplete_note(interview) -> str:
    """The incomplete statement, with the screening questions left to answer."""
    lines = [f"NOTE: {interview.incomplete[0].upper()}{interview.incomplete[1:]}."]
    missing = interview.screening_unanswered
    if missing and not interview.emergency_stop:  # an emergency needs no more questions
        text = interview.model._question_text
        lines.append("These screening questions were not answered; if the answer to "
                     "any is yes, seek care now:")
        lines += [f"  - {text.get(name, name)}" for name in missing]
    return "\n".join(lines) + "\n"


class _Console:
    """Where the terminal interview writes and reads (tests pass their own)."""

    def __init__(self, out, read=None):
        self.out = out
        self._read = read

    def write(self, text: str = "") -> None:
        print(_wrap(text), file=self.out, flush=True)

    def ask(self, prompt: str) -> str | None:
        """The reply typed, or None at the end of input."""
        wrapped = _wrap(prompt)
        print(wrapped + (" " if prompt.endswith(" ") and not wrapped.endswith(" ") else ""),
              end="", file=self.out, flush=True)
        if self._read is not None:
            reply = self._read()
        else:
            reply = sys.stdin.readline()
            if not sys.stdin.isatty() and reply:
                print(reply.rstrip("\n"), file=self.out, flush=True)  # a readable transcript
        if not reply:
            return None
        return reply.rstrip("\r\n")


_BACK = ("b", "back")
_QUIT = ("q", "quit", "stop", "exit")
_GO_ON = ("go on", "continue")


def _ask_in_terminal(interview, console: _Console) -> None:
    """Ask until the interview stops, the person quits, or an emergency (unless the
    person chooses to go on). The disclaimer comes first."""
    from .clinical.triage import DISCLAIMER
    from .inference._answers import normalise_reply, parse_reply

    console.write(DISCLAIMER)
    console.write("\nAnswer each question with yes (y), no (n) or don't know (d), and "
                  "a list with the numbers of the items that apply (n: none, d: don't "
                  "know); type back (b) to change the last answer or quit (q) to stop.\n")
    if interview.alert is not None:  # from what was given with --yes
        _show_alert(interview, console)
        if interview.emergency_stop and not _go_on(interview, console):
            return
    while (question := interview.next_question()) is not None:
        reply = console.ask(_prompt(question, interview.questions_asked + 1))
        if reply is None:
            return
        command = normalise_reply(reply)
        if command in _QUIT:
            return
        if command in _BACK:
            if interview.back() is None:
                console.write("  (nothing to go back to)")
            continue
        try:
            value = (_checklist_reply(reply, question) if question.grouped
                     else parse_reply(reply, question.finding))
        except PosteriorKneeError as error:
            hint = str(error).partition("instead.")[2]
            console.write("  Please type the numbers of those that apply, n if none "
                          "does or d if you don't know (or back, quit)." if question.grouped
                          else f"  Please answer yes, no or don't know (or back, quit).{hint}")
            continue
        alert = interview.answer(question.finding, value)
        if alert is not None:
            _show_alert(interview, console)
            if interview.emergency_stop and not _go_on(interview, console):
                return


def _prompt(question, number: int) -> str:
    """The question as typed on the terminal: a checklist lists its items, numbered."""
    if not question.grouped:
        return f"Q{number}. {question.question} "
    lines = [f"Q{number}. {question.question}"]
    lines += [f"  {k:>2}. {label}" for k, label in enumerate(question.labels, start=1)]
    lines.append("  Type the numbers of those that apply (e.g. 1 3; 2? if unsure), n if "
                 "none does, d if you don't know: ")
    return "\n".join(lines)


_NUMBER = re.compile(r"(\d+)(\?)?")


def _checklist_reply(text: str, question) -> object:
    """A typed reply to a checklist: "no" (none applies) or "don't know" (for every
    item), or the numbers of the items that apply (a number with "?": not sure), the
    others no."""
    from .errors import EvidenceValueError
    from .inference._answers import REPLIES, normalise_reply

    key = normalise_reply(text)
    if key in ("none", "none of them") or (key in REPLIES and REPLIES[key] is not True):
        return False if key.startswith("none") else REPLIES[key]
    reply: dict[str, bool | None] = dict.fromkeys(question.items, False)
    tokens = [t for t in re.split(r"[\s,;]+", key) if t]
    for token in tokens:
        match = _NUMBER.fullmatch(token)
        if match is None or not 1 <= int(match.group(1)) <= len(question.items):
            raise EvidenceValueError(
                f"The answer to {question.finding!r} must be the numbers of the items "
                f"that apply (1 to {len(question.items)}), n (none) or d (don't know); "
                f"got {text!r} instead.")
        reply[question.items[int(match.group(1)) - 1]] = None if match.group(2) else True
    if not tokens:
        raise EvidenceValueError(f"The answer to {question.finding!r} is empty.")
    return reply


def _show_alert(interview, console: _Console) -> None:
    """An urgent or emergency level, at once: the action, then why in plain words (the
    red flags' reasons; a threshold's reason when no red flag set the level)."""
    triage = interview.triage
    present = [name for name, value in interview.findings.items() if value]
    reasons = [rule.reason for rule in interview.model.rules.fired_red_flags(present)
               if rule.level is triage.level]
    if not reasons:
        marker = f"({triage.level.value})"
        reasons = [r for r in triage.reasons if marker in r] or list(triage.reasons[:1])
    if triage.level.value == "emergency":
        console.write(f"\n  !!! EMERGENCY: {triage.action}")
    else:
        console.write(f"\n  ! Warning ({triage.level.value}): {triage.action}")
    for reason in reasons:
        console.write(f"    - {reason}")
    console.write()


def _go_on(interview, console: _Console) -> bool:
    """After an emergency: stop (the default: any reply but 'go on' or 'back'), go on,
    or go back on a mistaken answer."""
    from .inference._answers import normalise_reply

    reply = console.ask("  Please act on this now. Press Enter to stop here, type 'go on' "
                        "to answer more questions, or 'back' if that answer was a "
                        "mistake: ")
    command = normalise_reply(reply or "")
    if command in _GO_ON:
        interview.carry_on()
        return True
    if command in _BACK:
        if interview.back() is not None:
            return True
        console.write("  (nothing to go back to: that was given before the questions)")
    return False


# -- the other commands ----------------------------------------------------------------

_CATEGORIES = {
    "history": "How it started and behaves",
    "local": "The knee and leg",
    "whole_body": "The whole body",
    "risk_factor": "Risk factors",
}


def _findings(args: argparse.Namespace, kb) -> int:
    from .clinical.triage import DISCLAIMER

    table = kb.questions()
    if args.json:
        _print_json({"version": _version(), "findings": _records(table),
                     "disclaimer": DISCLAIMER})
        return 0
    width = max(len(name) for name in table["id"])
    lines = ["Findings and risk factors: give their ids to 'posterior-knee diagnose' "
             "with --yes (present) or --no (absent); ids not given are unknown."]
    for category, rows in table.groupby("category", sort=False):
        lines += ["", f"{_CATEGORIES.get(category, category)} ({len(rows)}):"]
        lines += [_row(f"  {name:<{width}}  ", question)
                  for name, question in zip(rows["id"], rows["question"])]
    _print_text("\n".join([*lines, "", DISCLAIMER]))
    return 0


def _causes(args: argparse.Namespace, kb) -> int:
    from .clinical.triage import DISCLAIMER
    from .knowledge._schema import GROUPS

    table = kb.causes[["id", "group", "label", "prior"]]
    if args.json:
        _print_json({"version": _version(), "causes": _records(table),
                     "disclaimer": DISCLAIMER})
        return 0
    width = max(len(name) for name in table["id"])
    lines = ["Causes the tool ranks, by group, with the prior (how common each is "
             "before anything is reported):"]
    for group, rows in table.groupby("group", sort=False):
        lines += ["", f"{GROUPS.get(group, group)}:"]
        lines += [_row(f"  {name:<{width}}  {prior:6.2%}  ", label)
                  for name, prior, label in zip(rows["id"], rows["prior"], rows["label"])]
    _print_text("\n".join([*lines, "", DISCLAIMER]))
    return 0


def _validate(args: argparse.Namespace) -> int:
    from .errors import KnowledgeBaseError
    from .knowledge.base import load_knowledge_base

    try:
        kb = load_knowledge_base(args.folder)
    except KnowledgeBaseError as error:
        if not args.json:
            raise
        _stderr(f"posterior-knee: error: {error}")
        _print_json({"version": _version(), "folder": args.folder, "valid": False,
                     "problems": _problems(error), "counts": None})
        return 1
    counts = {"causes": len(kb.cause_ids), "findings": len(kb.finding_ids),
              "risk_factors": len(kb.risk_factor_ids), "red_flag_rules": len(kb.red_flags)}
    if args.json:
        _print_json({"version": _version(), "folder": args.folder, "valid": True,
                     "problems": [], "counts": counts})
    else:
        _print_text(f"OK: {args.folder} loads: " + ", ".join(
            f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items()) + ".")
    return 0


def _evaluate(args: argparse.Namespace, kb) -> int:
    from .evaluation import evaluate

    result = evaluate(kb, split=args.split, interview=args.interview,
                      vocabulary=args.vocabulary)
    if args.json:
        _print_json(result.to_dict())
    else:
        # its tables are not wrapped: a wrapped table row reads worse than a wide one
        print(str(result))
    if args.split != "dev":
        _stderr("posterior-knee: the test split was scored: record this score in "
                "CHANGELOG.md with the change that produced it.")
    return 0


# -- JSON ------------------------------------------------------------------------------

def _version() -> str:
    """The schema version of every JSON document the command prints: the version of
    :meth:`Diagnosis.to_dict`, which they share."""
    from .result import SCHEMA_VERSION

    return SCHEMA_VERSION


def _print_json(data: object) -> None:
    # allow_nan=False: NaN is not JSON; the records below turn it into null first
    print(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False))


def _records(table) -> list[dict]:
    """Rows as JSON-ready dicts, a missing value as null."""
    return [{key: (None if value != value else value) for key, value in row.items()}
            for row in table.astype(object).to_dict(orient="records")]


def _as_json(dx) -> dict:
    # Diagnosis.to_dict()'s schema, with the red flags and the whole plan added
    # (setdefault: if to_dict carries them one day, its own are kept)
    data = dx.to_dict()
    data.setdefault("red_flags", list(dx.red_flags))
    data.setdefault("plan", _plan_json(dx.plan))
    return data


def _plan_json(plan) -> dict:
    return {
        "action": plan.action,
        "causes": list(plan.causes),
        "tests": _records(plan.tests),
        "self_care": _records(plan.self_care),
        "treatments": _records(plan.treatments),
        "warning_signs": list(plan.warning_signs),
        "disclaimer": plan.disclaimer,
    }


def _problems(error: PosteriorKneeError) -> list[dict]:
    problems = getattr(error, "problems", None)
    if not problems:
        return [{"message": str(error)}]
    return [p if isinstance(p, dict) else
            {"file": p.file, "line": p.line, "column": p.column, "message": p.message}
            for p in problems]


def _error_json(error: PosteriorKneeError) -> dict:
    from .clinical.triage import DISCLAIMER

    triage = getattr(error, "triage", None)
    return {
        "version": _version(),
        "error": str(error),
        "problems": _problems(error),
        "triage": None if triage is None or not hasattr(triage, "level") else {
            "level": triage.level.value, "action": triage.action,
            "reasons": list(triage.reasons), "red_flags": list(triage.red_flags)},
        "disclaimer": DISCLAIMER,
    }


# -- text ------------------------------------------------------------------------------

def _diagnosis_text(dx, n: int = 8) -> str:
    """The diagnosis as text, with every warning sign (the library's text view lists
    the first few and names a Python attribute for the rest)."""
    text = dx.summary(n=min(n, len(dx.ranking)))
    plan = dx.plan
    cut = text.rfind(plan.summary())
    return text if cut < 0 else text[:cut] + plan.summary(warnings=None)


def _width() -> int:
    """The terminal's width (COLUMNS when set; 80 when not a terminal), less one
    column so that no terminal wraps a full line itself; never below 40."""
    return max(shutil.get_terminal_size().columns - 1, 40)


_BULLET = re.compile(r"( *)(- |[-!]+ |Q\d+\. )?")  # a bullet, a warning or a question


def _wrap(text: str, width: int | None = None) -> str:
    """Each line of ``text`` wrapped to ``width``, continuation lines indented under
    their bullet (or by four spaces under an indented table row); characters that
    would act on the terminal (escape codes from an edited CSV cell) are shown escaped."""
    width = width or _width()
    out = []
    for line in printable(text).split("\n"):
        if len(line) <= width:
            out.append(line)
            continue
        match = _BULLET.match(line)  # matches every line (both groups may be empty)
        indent, bullet = match.groups() if match else ("", None)
        if not bullet and line[len(indent):len(indent) + 1] == "!":
            indent += " "  # a row marked in its margin (must not be missed) hangs as the others
        hang = indent + " " * len(bullet) if bullet else indent + "    " if indent else ""
        out.append(textwrap.fill(line, width, subsequent_indent=hang,
                                 break_long_words=False, break_on_hyphens=False))
    return "\n".join(out)


def _row(head: str, text: str) -> str:
    """``head`` then ``text`` wrapped in the column after it (a table row)."""
    width = _width()
    room = width - len(head)
    if room < 20:  # too narrow for a column: the text goes under the id
        return _wrap(head.rstrip() + "\n" + " " * 6 + text, width)
    return textwrap.fill(text, width, initial_indent=head, subsequent_indent=" " * len(head),
                         break_long_words=False, break_on_hyphens=False)


def _print_text(text: str) -> None:
    print(_wrap(text))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
