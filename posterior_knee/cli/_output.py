"""What the command prints: one JSON document on standard output, or text wrapped to
the terminal with anything that would act on it shown escaped."""

from __future__ import annotations

import json
import re
import shutil
import sys
import textwrap

from .._text import printable
from ..errors import PosteriorKneeError


def _stderr(text: str) -> None:
    print(_wrap(text), file=sys.stderr, flush=True)


def _short(value: object, limit: int = 40) -> str:
    """``repr(value)``, cut to ``limit`` characters (a 1 MB string is not echoed back);
    repr escapes control characters, so no terminal escape code is printed raw."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 5] + "...'" + f" ({len(text)} chars)"


def _version() -> str:
    """The schema version of every JSON document the command prints: the version of
    :meth:`Diagnosis.to_dict`, which they share."""
    from ..result import SCHEMA_VERSION

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
    from ..clinical.triage import DISCLAIMER

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
