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
        "quit) until more questions would not change the result; then print the "
        "ranking, triage and what to do.")
    talk.add_argument("--answers", metavar="FILE",
                      help="take answers from a JSON file mapping ids to true / false; "
                      "questions not in it are answered \"don't know\"")
    talk.add_argument("--max-questions", type=int, default=None, metavar="N",
                      help="stop after N questions")

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
    present, absent = _split(args.yes), _split(args.no)
    both = sorted(set(present) & set(absent))
    if both:
        raise PosteriorKneeError(
            f"{', '.join(both)} given both with --yes and --no; name each id once.")
    findings = {**dict.fromkeys(present, True), **dict.fromkeys(absent, False)}
    dx = Model(kb, engine=args.engine).diagnose(findings)
    if args.json:
        print(json.dumps(_as_json(dx), indent=2))
    else:
        print(dx.summary(n=args.top))
    return 0


_REPLIES = {"y": True, "yes": True, "n": False, "no": False, "d": None, "dk": None,
            "?": None, "don't know": None, "dont know": None}


def _interview(args: argparse.Namespace, model) -> int:
    from .interview import Interview

    interview = Interview(model, max_questions=args.max_questions)
    if args.answers is not None:
        dx = interview.run(_read_answers(args.answers))
    else:
        dx = _ask_in_terminal(interview)
    if args.json:
        result = _as_json(dx)
        result.update(questions_asked=interview.questions_asked,
                      asked=list(interview.history), stopped=interview.stopped)
        print(json.dumps(result, indent=2))
    else:
        print(f"\n{interview.questions_asked} questions asked; stopped because "
              f"{interview.stopped or 'you chose to stop'}.\n")
        print(dx.summary())
    return 0


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


def _ask_in_terminal(interview):
    print("Answer each question with yes, no, don't know (d), back (b) or quit (q).\n")
    while (question := interview.next_question()) is not None:
        try:
            reply = input(f"Q{interview.questions_asked + 1}. {question.question} ")
        except EOFError:
            break
        reply = reply.strip().lower()
        if reply in ("q", "quit"):
            break
        if reply in ("b", "back"):
            if interview.back() is None:
                print("  (nothing to go back to)")
            continue
        if reply not in _REPLIES:
            print("  Please answer yes, no, don't know, back or quit.")
            continue
        interview.answer(question.finding, _REPLIES[reply])
    return interview.result()


def _emit(args, records, table) -> None:
    if args.json:
        print(json.dumps(records, indent=2))
    else:
        print(table.to_string(index=False))
        print(f"\n{DISCLAIMER}")


def _as_json(dx) -> dict:
    return {
        "findings": dict(dx.findings),
        "triage": {
            "level": dx.triage.level.value,
            "action": dx.triage.action,
            "reasons": list(dx.triage.reasons),
        },
        "red_flags": list(dx.red_flags),
        "plan": _plan_json(dx.plan),
        "ranking": dx.ranking.to_dict(orient="records"),
        "groups": dx.groups.to_dict(orient="records"),
        "disclaimer": DISCLAIMER,
    }


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
