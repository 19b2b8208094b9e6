"""The commands that list ids, check a folder of priors and score the vignette suite."""

from __future__ import annotations

import argparse

from ._output import (
    _print_json,
    _print_text,
    _problems,
    _records,
    _row,
    _stderr,
    _version,
)

_CATEGORIES = {
    "history": "How it started and behaves",
    "local": "The knee and leg",
    "whole_body": "The whole body",
    "risk_factor": "Risk factors",
}


def _findings(args: argparse.Namespace, kb) -> int:
    from ..clinical.triage import DISCLAIMER

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
    from .._text import percent
    from ..clinical.triage import DISCLAIMER
    from ..knowledge._schema import GROUPS
    from ..model import Model

    # the prior a diagnosis shows (P(cause) with nothing reported, averaged over ages
    # and risk factors), beside causes.csv's baseline, which is conditional (age
    # 30-50, no risk factor, and given the cause it requires, if any)
    model = Model(kb)
    prior = dict(zip(model.structure.cause_ids, model.posterior({}).causes))
    table = kb.causes[["id", "group", "label"]].assign(
        prior=[float(prior[name]) for name in kb.causes["id"]],
        baseline=kb.causes["prior"].astype(float))
    if args.json:
        _print_json({"version": _version(), "causes": _records(table),
                     "disclaimer": DISCLAIMER})
        return 0
    width = max(len(name) for name in table["id"])
    lines = ["Causes the tool ranks, by group. 'prior': how likely each is before anything "
             "is reported, averaged over ages and risk factors (as a diagnosis shows it); "
             "'baseline': its number in causes.csv (age 30-50, no risk factor, and given "
             "the cause it needs, if any).",
             "", f"  {'id':<{width}}  {'prior':>7}  {'baseline':>8}  label"]
    for group, rows in table.groupby("group", sort=False):
        lines += ["", f"{GROUPS.get(group, group)}:"]
        lines += [_row(f"  {name:<{width}}  {percent(p, 2):>7}  {percent(b, 2):>8}  ", label)
                  for name, p, b, label in zip(rows["id"], rows["prior"], rows["baseline"],
                                               rows["label"])]
    _print_text("\n".join([*lines, "", DISCLAIMER]))
    return 0


def _validate(args: argparse.Namespace) -> int:
    from ..errors import KnowledgeBaseError
    from ..knowledge.base import load_knowledge_base

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
    from ..evaluation import evaluate

    result = evaluate(kb, split=args.split, interview=args.interview or args.carry_on,
                      carry_on=args.carry_on, vocabulary=args.vocabulary)
    if args.json:
        _print_json(result.to_dict())
    else:
        # its tables are not wrapped: a wrapped table row reads worse than a wide one
        print(str(result))
    if args.split != "dev":
        _stderr("posterior-knee: the test split was scored: record this score in "
                "CHANGELOG.md with the change that produced it.")
    return 0
