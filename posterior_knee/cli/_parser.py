"""The command line's arguments (:mod:`argparse`, standard library)."""

from __future__ import annotations

import argparse

from .._version import __version__
from ._output import _short

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
        "level, the Brier score and calibration, with 95% Wilson intervals. Tune on "
        "the dev split; score the test split only when a change is finished and record "
        "that score in CHANGELOG.md.")
    score.add_argument("--split", choices=("dev", "test", "all"), default="dev",
                       help="which part of the suite to score (default: dev)")
    score.add_argument("--interview", action="store_true",
                       help="answer the interview's questions from each case instead "
                       "(slow: about two seconds a case)")
    score.add_argument("--carry-on", action="store_true",
                       help="with --interview (implied): go on answering after an "
                       "emergency stop, so that the ranking is scored on every question "
                       "the interview would ask")
    score.add_argument("--vocabulary", choices=("full", "required"), default="full",
                       help="'required': keep only the ids of the design contract in "
                       "each case, as an outside scorer's cases state them "
                       "(default: full)")
    check = commands.add_parser("validate", parents=[as_json],
                                help="check a folder of CSV priors")
    check.add_argument("folder", type=_folder, help="the folder to check")
    return parser
