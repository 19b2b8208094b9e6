"""Exceptions raised by posterior-knee.

Every error the library raises on bad input is a subclass of
:class:`PosteriorKneeError`, so one ``except`` clause catches them all. Messages name
the offending input (file, line, column or id) and suggest a fix.
"""

from __future__ import annotations

import difflib
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, SupportsIndex, cast, overload

__all__ = [
    "PosteriorKneeError",
    "KnowledgeBaseError",
    "Problem",
    "UnknownIdError",
    "EvidenceValueError",
    "ImpossibleEvidenceError",
    "EngineLimitError",
    "ParameterError",
    "KnowledgeBaseWriteError",
    "PosteriorKneeWarning",
    "FormulaCellWarning",
    "InteropError",
    "check_int",
]


class PosteriorKneeError(Exception):
    """Base class of every error posterior-knee raises on bad input.

    An error raised while diagnosing carries the triage that the red flags of the valid
    answers set (:attr:`triage`): a case that cannot be scored still says when to seek
    care. It is None for errors unrelated to a person's answers.
    """

    triage: object | None = None
    """The red-flag triage of the valid answers (a :class:`~posterior_knee.Triage`,
    or for :meth:`~posterior_knee.Model.diagnose_many` a Series of levels per bad row)."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a knowledge base.

    ``line`` counts from 1 with the header as line 1, as a spreadsheet shows it;
    ``None`` where the problem is not tied to one line (a missing file, a cycle).
    """

    file: str
    line: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.column is not None:
            where += f", column '{self.column}'"
        return f"{where}: {self.message}"


class KnowledgeBaseError(PosteriorKneeError, ValueError):
    """A knowledge base (a folder of CSV files) is missing, malformed or inconsistent.

    All problems found are collected before raising; they are in :attr:`problems`.
    """

    SHOWN = 50
    """Problems listed in the message; the rest are counted (all are in ``problems``),
    so a file of 100 000 bad rows gives a short message, not megabytes."""

    def __init__(self, problems: Sequence[Problem], origin: str = "knowledge base"):
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.origin = origin
        n = len(self.problems)
        lines = [f"{origin}: {n} problem{'s' if n != 1 else ''} found:"]
        lines += [f"  - {p}" for p in self.problems[:self.SHOWN]]
        if n > self.SHOWN:
            rest = n - self.SHOWN
            lines.append(f"  - ... and {rest} more problem{'s' if rest != 1 else ''} "
                         "(all of them are in the error's .problems)")
        super().__init__("\n".join(lines))


class KnowledgeBaseWriteError(PosteriorKneeError, OSError):
    """A knowledge base could not be written: the folder path is a file, permission is
    denied, the disk is full, another save into the same folder is running...

    The message names the path. Also an :class:`OSError`, for callers that catch that.
    """

    def __init__(self, message: str, path: str | None = None):
        super().__init__(message)
        self.path = path

    def __str__(self) -> str:  # OSError would format a one-argument error the same way
        return str(self.args[0])


def closest(name: str, valid: Iterable[str]) -> str | None:
    """The valid id closest to ``name``, or None when nothing is close.

    Case and surrounding spaces are ignored when comparing (ids are lower case, but
    people type 'Fever' or 'fever '), so the suggestion for those is the exact id.

    >>> closest("FEVER ", ["fever", "chest_pain"])
    'fever'
    """
    folded: dict[str, str] = {}
    for option in valid:
        folded.setdefault(str(option).casefold(), str(option))
    key = str(name).strip().casefold()
    if key in folded:
        return folded[key]
    matches = difflib.get_close_matches(key, list(folded), n=1, cutoff=0.6)
    return folded[matches[0]] if matches else None


def did_you_mean(name: str, valid: Iterable[str]) -> str:
    """A " Did you mean 'x'?" suffix for an error message (empty when nothing is close)."""
    match = closest(name, valid)
    return f" Did you mean '{match}'?" if match else ""


class UnknownIdError(PosteriorKneeError, ValueError):
    """An evidence or cause id that the knowledge base does not define."""

    def __init__(self, name: str, kind: str, valid: Iterable[str], hint: str = ""):
        self.name = name
        self.kind = kind
        self.suggestion = closest(name, valid)
        message = f"Unknown {kind} id {name!r}."
        if self.suggestion:
            message += f" Did you mean {self.suggestion!r}?"
        if hint:
            message += f" {hint}"
        super().__init__(message)


class EvidenceValueError(PosteriorKneeError, TypeError):
    """An evidence value that is not True, False or missing."""


class ImpossibleEvidenceError(PosteriorKneeError, ValueError):
    """Evidence the model gives probability zero (for example two age bands at once)."""


class EngineLimitError(PosteriorKneeError, ValueError):
    """A knowledge base too large for the chosen inference engine."""


class ParameterError(PosteriorKneeError, TypeError, ValueError):
    """A function parameter of the wrong type or out of range.

    Messages follow one template: "The 'x' parameter of f must be ... Got ... instead."
    """


class InteropError(PosteriorKneeError, ValueError):
    """A FHIR or CDS Hooks document that cannot be read (a missing or malformed part,
    an answer to an unknown question)."""


def check_parameter(ok: bool, name: str, function: str, expected: str,
                    value: object) -> None:
    """Raise ParameterError unless ``ok``."""
    if not ok:
        raise ParameterError(
            f"The {name!r} parameter of {function} must be {expected}. "
            f"Got {value!r} ({type(value).__name__}) instead.")


@overload
def check_int(value: object, name: str, function: str, *, minimum: int | None = None,
              maximum: int | None = None, none: Literal[False] = False,
              expected: str | None = None) -> int: ...
@overload
def check_int(value: object, name: str, function: str, *, minimum: int | None = None,
              maximum: int | None = None, none: bool = False,
              expected: str | None = None) -> int | None: ...
def check_int(value: object, name: str, function: str, *, minimum: int | None = None,
              maximum: int | None = None, none: bool = False,
              expected: str | None = None) -> int | None:
    """``value`` as a Python int, or raise ParameterError.

    Anything that is an integer to Python's ``operator.index`` is accepted (``int``,
    numpy integers such as ``np.int64(3)``); ``bool`` is refused (``True`` is not a
    count), and so are floats (``3.0``), strings and numbers outside
    ``[minimum, maximum]``. With ``none=True``, None passes through.

    >>> import numpy as np
    >>> check_int(np.int64(3), "k", "f", minimum=1)
    3
    >>> check_int(True, "k", "f")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    posterior_knee.errors.ParameterError: The 'k' parameter ... Got True (bool) instead.
    """
    if none and value is None:
        return None
    if expected is None:
        bounds = []
        if minimum is not None:
            bounds.append(f">= {minimum}")
        if maximum is not None:
            bounds.append(f"<= {maximum}")
        expected = ("None or " if none else "") + "an integer" + (
            f" {' and '.join(bounds)}" if bounds else "")
    number: int | None = None
    if not isinstance(value, bool) and not _is_numpy_bool(value):
        try:
            # anything with __index__; what has none raises TypeError, refused below
            number = operator.index(cast(SupportsIndex, value))
        except TypeError:
            number = None
    ok = number is not None and (minimum is None or number >= minimum) and (
        maximum is None or number <= maximum)
    check_parameter(ok, name, function, expected, value)
    return number


def _is_numpy_bool(value: object) -> bool:
    return type(value).__name__ == "bool" and type(value).__module__ == "numpy"


class PosteriorKneeWarning(UserWarning):
    """Base class of every warning posterior-knee emits."""


class FormulaCellWarning(PosteriorKneeWarning):
    """A text cell of a knowledge-base CSV file that a spreadsheet would run as a formula.

    A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (and that
    is not a plain number) is a formula to Excel, LibreOffice and Google Sheets: opening
    the file can run it (CSV or formula injection). Loading warns with the file, line
    and column of each such cell; saving writes it with a leading apostrophe, which
    spreadsheets read as "this is text" and loading removes again.
    See ``docs/csv-format.md``.
    """
