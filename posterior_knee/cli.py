"""The ``posterior-knee`` command: diagnose from a shell, list ids, validate priors."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ._version import __version__
from .clinical.triage import DISCLAIMER
from .errors import PosteriorKneeError

EXAMPLES = """\
examples:
  posterior-knee diagnose --yes lump_behind_knee tightness_behind_knee --no fever
  posterior-knee diagnose --yes calf_swelling,leg_swelling_one_side --json
  posterior-knee interview
  posterior-knee interview --answers answers.json --json
  posterior-knee findings
  posterior-knee validate my_priors/
  posterior-knee evaluate --priors my_priors/
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="posterior-knee",
        description="Bayesian differential diagnosis of pain behind the knee. "
        "Decision support only: it does not replace a clinician.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    priors = argparse.ArgumentParser(add_help=False)
    priors.add_argument("--priors", metavar="DIR",
                        help="folder of CSV files to use instead of the shipped priors")
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print JSON for programs")

    run = commands.add_parser(
        "diagnose", parents=[priors, as_json],
        help="rank the causes and triage for the findings given",
        description="Rank the causes and triage. Findings not named are unknown.")
    run.add_argument("--yes", nargs="+", action="extend", default=[], metavar="ID",
                     help="findings or risk factors that are present (space or comma separated)")
    run.add_argument("--no", nargs="+", action="extend", default=[], metavar="ID",
                     help="findings or risk factors that are absent")
    run.add_argument("--top", type=int, default=8, metavar="N",
                     help="how many causes to show in the table (default 8)")
    run.add_argument("--engine", choices=("exact", "pgmpy"), default="exact",
                     help="inference engine (default: exact)")

    talk = commands.add_parser(
        "interview", parents=[priors, as_json],
        help="ask questions one at a time, screening for red flags first",
        description="Ask one question at a time (answer yes, no, don't know, back or "
        "quit) until more questions would not change the result, or at once when an "
        "answer means an emergency; then print the ranking, triage and what to do.")
    talk.add_argument("--yes", nargs="+", action="extend", default=[], metavar="ID",
                      help="what brings you (the main complaint), known before the first "
                      "question: ids present (space or comma separated)")
    talk.add_argument("--no", nargs="+", action="extend", default=[], metavar="ID",
                      help="ids known to be absent before the first question")
    talk.add_argument("--answers", metavar="FILE",
                      help="take answers from a JSON file mapping ids to true / false / "
                      "null (or \"yes\" / \"no\" / \"don't know\"); questions not in it "
                      "are answered \"don't know\", and answers never asked are used too")
    talk.add_argument("--max-questions", type=_at_least_one, default=None, metavar="N",
                      help="stop after N questions (1 or more)")

    commands.add_parser("findings", parents=[priors, as_json],
                        help="list the finding and risk-factor ids with their questions")
    commands.add_parser("causes", parents=[priors, as_json],
                        help="list the cause ids with their groups and priors")
    score = commands.add_parser(
        "evaluate", parents=[priors, as_json],
        help="score the priors on the shipped vignettes of published cases",
        description="Rank and triage every published case of the vignette suite and "
        "report top-1/3/5, mean reciprocal rank, triage against the lowest acceptable "
        "level, the Brier score and calibration, with Wilson 95 %% intervals. Tune on "
        "the dev split; score the test split only when a change is finished and record "
        "that score in CHANGELOG.md.")
    score.add_argument("--split", choices=("dev", "test", "all"), default="dev",
                       help="which part of the suite to score (default: dev)")
    score.add_argument("--interview", action="store_true",
                       help="answer the interview's questions from each case instead "
                       "(slow: about two seconds a case)")
    check = commands.add_parser("validate", help="check a folder of CSV priors")
    check.add_argument("folder", help="the folder to check")
    return parser


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of 1 or more, not {text!r}")
    return value


def _split(values: Sequence[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (0 success, 1 bad input, 2 bad usage)."""
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except PosteriorKneeError as error:
        print(f"posterior-knee: error: {error}", file=sys.stderr)
        for note in getattr(error, "__notes__", ()):  # e.g. the red flags still raised
            print(f"posterior-knee: {note}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into a command that stopped reading (head)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _evaluate(args: argparse.Namespace, kb) -> int:
    from .evaluation import evaluate

    result = evaluate(kb, split=args.split, interview=args.interview)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(result)
    if args.split != "dev":
        print("posterior-knee: the test split was scored: record this score in "
              "CHANGELOG.md with the change that produced it.", file=sys.stderr)
    return 0


def _run(args: argparse.Namespace) -> int:
    from .knowledge.base import load_knowledge_base

    if args.command == "validate":
        kb = load_knowledge_base(args.folder)
        print(f"OK: {kb!r}")
        return 0
    kb = load_knowledge_base(args.priors)
    if args.command == "findings":
        table = kb.questions()
        _emit(args, table.to_dict(orient="records"),
              table[["id", "kind", "category", "question"]])
        return 0
    if args.command == "causes":
        table = kb.causes[["id", "group", "label", "prior"]]
        _emit(args, table.to_dict(orient="records"), table)
        return 0
    if args.command == "evaluate":
        return _evaluate(args, kb)
    from .model import Model

    if args.command == "interview":
        return _interview(args, Model(kb))
    findings = _yes_no(args)
    dx = Model(kb, engine=args.engine).diagnose(findings)
    if args.json:
        print(json.dumps(_as_json(dx), indent=2))
    else:
        print(dx.summary(n=args.top))
    return 0


def _yes_no(args: argparse.Namespace) -> dict[str, bool]:
    present, absent = _split(args.yes), _split(args.no)
    both = sorted(set(present) & set(absent))
    if both:
        raise PosteriorKneeError(
            f"{', '.join(both)} given both with --yes and --no; name each id once.")
    return {**dict.fromkeys(present, True), **dict.fromkeys(absent, False)}


def _interview(args: argparse.Namespace, model) -> int:
    from .inference._answers import answer_value
    from .interview import Interview

    given = _yes_no(args)
    answers = _read_answers(args.answers) if args.answers is not None else None
    for name, value in (answers or {}).items():
        if name in given and answer_value(name, value) is not given[name]:
            raise PosteriorKneeError(
                f"{name!r} is given with --{'yes' if given[name] else 'no'} and as "
                f"{value!r} in {args.answers!r}; give each id once.")
    interview = Interview(model, max_questions=args.max_questions, findings=given)
    if answers is not None:
        interview.run(answers)
    else:  # with --json, questions go to stderr so that stdout stays JSON
        _ask_in_terminal(interview, _Console(sys.stderr if args.json else sys.stdout))
    dx = interview.result()
    if args.json:
        result = _as_json(dx)
        alert = interview.alert
        result.update(
            questions_asked=interview.questions_asked, asked=list(interview.history),
            given=list(interview.given), unknown=list(interview.unknown),
            stopped=interview.stopped, emergency_stop=interview.emergency_stop,
            alert=None if alert is None else {"level": alert.level.value,
                                              "action": alert.action,
                                              "reasons": list(alert.reasons)},
            incomplete=interview.incomplete,
            screening_unanswered=list(interview.screening_unanswered))
        print(json.dumps(result, indent=2))
    else:
        print(f"\n{interview.questions_asked} questions asked; stopped because "
              f"{interview.stopped or 'you chose to stop'}.\n")
        if interview.incomplete:
            print(_incomplete_note(interview))
        print(dx.summary())
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


def _read_answers(path: str) -> dict:
    try:
        answers = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except OSError as error:
        raise PosteriorKneeError(f"cannot read the answers file {path!r}: "
                                 f"{error.strerror}") from None
    except json.JSONDecodeError as error:
        raise PosteriorKneeError(f"{path!r} is not valid JSON ({error.msg}, line "
                                 f"{error.lineno}); write an object such as "
                                 '{"fever": false}') from None
    if not isinstance(answers, dict):
        raise PosteriorKneeError(f"{path!r} must hold a JSON object mapping ids to "
                                 'true / false, such as {"fever": false}')
    return answers


class _Console:
    """Where the terminal interview writes and reads (tests pass their own)."""

    def __init__(self, out, read=None):
        self.out = out
        self._read = read

    def write(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def ask(self, prompt: str) -> str | None:
        """The reply typed, or None at the end of input."""
        print(prompt, end="", file=self.out, flush=True)
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
    from .inference._answers import normalise_reply, parse_reply

    console.write(DISCLAIMER)
    console.write("\nAnswer each question with yes (y), no (n) or don't know (d); type "
                  "back (b) to change the last answer or quit (q) to stop.\n")
    if interview.alert is not None:  # from what was given with --yes
        _show_alert(interview, console)
        if interview.emergency_stop and not _go_on(interview, console):
            return
    while (question := interview.next_question()) is not None:
        reply = console.ask(f"Q{interview.questions_asked + 1}. {question.question} ")
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
            value = parse_reply(reply, question.finding)
        except PosteriorKneeError as error:
            hint = str(error).partition("instead.")[2]
            console.write(f"  Please answer yes, no or don't know (or back, quit).{hint}")
            continue
        alert = interview.answer(question.finding, value)
        if alert is not None:
            _show_alert(interview, console)
            if interview.emergency_stop and not _go_on(interview, console):
                return


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


def _emit(args, records, table) -> None:
    if args.json:
        print(json.dumps(records, indent=2))
    else:
        print(table.to_string(index=False))
        print(f"\n{DISCLAIMER}")


def _as_json(dx) -> dict:
    # Diagnosis.to_dict()'s schema (a missing code is null, not NaN), with the plan
    data = dx.to_dict()
    data.update(red_flags=list(dx.red_flags), plan=_plan_json(dx.plan))
    return data


def _plan_json(plan) -> dict:
    return {
        "action": plan.action,
        "causes": list(plan.causes),
        "tests": plan.tests.to_dict(orient="records"),
        "self_care": plan.self_care.to_dict(orient="records"),
        "treatments": plan.treatments.to_dict(orient="records"),
        "warning_signs": list(plan.warning_signs),
        "disclaimer": plan.disclaimer,
    }


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
