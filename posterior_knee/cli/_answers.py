"""Checking the ids and answers given on the command line or in an answers file: every
problem named at once, and the red flags the valid answers still raise."""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from collections.abc import Iterable, Mapping, Sequence

from ..errors import PosteriorKneeError, closest
from ._output import _short

MAX_ANSWERS_BYTES = 1_000_000
"""The largest --answers file read (an answer for every id is a few kilobytes)."""

FINDING_HINT = "Run 'posterior-knee findings' to list the valid ids."


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
    from ..inference._answers import REPLY_HINT, answer_value

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
    from ..clinical.triage import TriageRules

    rules = TriageRules.from_tables(kb.red_flags, kb.thresholds, kb.triage_actions)
    triage = rules.assess([name for name, value in answers.items() if value], None)
    error.triage = triage
    if triage.red_flags:
        error.add_note(
            f"The valid answers still raise red flags: triage {triage.level.value} "
            f"({', '.join(triage.red_flags)}). {triage.action}")


def _word(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "don't know"}[value]


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
