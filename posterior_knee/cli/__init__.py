"""The ``posterior-knee`` command: diagnose from a shell, list ids, validate priors.

Hand-written with :mod:`argparse` (standard library): a CLI library such as click
would add a dependency and about 14 ms of import time for what argparse does here
(see docs/cli.md). Everything heavy (pandas, the model) is imported only once the
arguments are known, so ``--help`` and usage errors answer at once.

Output contract (docs/cli.md): with ``--json`` standard output carries exactly one
JSON document (``"version"``: the schema version shared with
:meth:`posterior_knee.Diagnosis.to_dict`); prompts, notes and warnings go to standard
error. Exit codes: 0 success, 1 bad input, 2 bad usage, 130 interrupted (Ctrl-C).

One module a concern: :mod:`._parser` (the arguments), :mod:`._answers` (checking the
ids and answers given, the answers file), :mod:`._terminal` (the interview at a
terminal), :mod:`._commands` (``findings``, ``causes``, ``validate``, ``evaluate``) and
:mod:`._output` (JSON and wrapped text); this module runs them.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence

from ..errors import PosteriorKneeError, PosteriorKneeWarning
from ._answers import MAX_ANSWERS_BYTES, InputError, _checked, _given
from ._commands import _causes, _evaluate, _findings, _validate
from ._output import _as_json, _diagnosis_text, _error_json, _print_json, _print_text, _stderr
from ._parser import _parser
from ._terminal import _interview

__all__ = ["main", "InputError", "MAX_ANSWERS_BYTES", "EXIT_INTERRUPTED"]

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C


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


def _report(args: argparse.Namespace, error: PosteriorKneeError) -> None:
    """A bad input: the message (and any red flags the valid answers raise) on
    standard error; with --json also the error document on standard output."""
    _stderr(f"posterior-knee: error: {error}")
    for note in getattr(error, "__notes__", ()):  # the red flags still raised
        _stderr(f"posterior-knee: {note}")
    if getattr(args, "json", False):
        _print_json(_error_json(error))


def _run(args: argparse.Namespace) -> int:
    from ..knowledge.base import load_knowledge_base

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
    from ..model import Model

    dx = Model(kb, engine=args.engine).diagnose(findings)
    if args.json:
        _print_json(_as_json(dx))
    else:
        _print_text(_diagnosis_text(dx, args.top))
    return 0
