"""The ``posterior-knee`` command: diagnose from a shell, list ids, validate priors."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from . import __version__
from .errors import PosteriorKneeError
from .triage import DISCLAIMER

EXAMPLES = """\
examples:
  posterior-knee diagnose --yes lump_behind_knee tightness_behind_knee --no fever
  posterior-knee diagnose --yes calf_swelling,leg_swelling_one_side --json
  posterior-knee findings
  posterior-knee validate my_priors/
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

    commands.add_parser("findings", parents=[priors, as_json],
                        help="list the finding and risk-factor ids with their questions")
    commands.add_parser("causes", parents=[priors, as_json],
                        help="list the cause ids with their groups and priors")
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
        return 1


def _run(args: argparse.Namespace) -> int:
    from .knowledge_base import load_knowledge_base

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
    from .model import Model

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
        "ranking": dx.ranking.to_dict(orient="records"),
        "groups": dx.groups.to_dict(orient="records"),
        "disclaimer": DISCLAIMER,
    }


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
