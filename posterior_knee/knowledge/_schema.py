"""The CSV files of a knowledge base: their names, columns and cell types.

Documented for people in ``docs/csv-format.md``; keep the two in step.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass

GROUPS: dict[str, str] = {
    "strain": "Muscle or tendon strain",
    "bakers_cyst": "Baker's cyst",
    "arthritis": "Arthritis",
    "meniscus_ligament": "Meniscus or ligament injury",
    "dvt": "Blood clot (DVT)",
    "entrapment": "Artery or nerve entrapment",
    "infection": "Joint infection",
    "other": "Other causes",
}
"""Cause groups, in the order results report them (id -> label)."""

LEVELS_RAISED = ("emergency", "urgent", "soon")
LEVELS = ("emergency", "urgent", "soon", "self_care")
ADVICE_KINDS = ("test", "self_care", "treatment", "warning")
CATEGORIES = ("history", "local", "whole_body")
LINK_KINDS = ("odds_ratio", "requires")
THRESHOLD_KINDS = ("cant_miss", "likely")
CODE_KINDS = ("cause", "finding", "risk_factor")
CODE_SYSTEMS = ("icd10", "icd10cm", "snomed")
CODE_MATCHES = ("equivalent", "wider", "narrower", "inexact")
"""How a code relates to the cause or finding (the FHIR R4 ConceptMap equivalence
words): ``wider`` means the code covers more than the id, ``narrower`` less,
``inexact`` that each covers something the other does not."""
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Column:
    """One column of a table: its name, the kind of value its cells hold."""

    name: str
    kind: str  # id | ref | text | optional_id | probability | threshold | odds_ratio
    #            | optional_odds_ratio | optional_probability | choice
    choices: tuple[str, ...] = ()
    optional_column: bool = False  # the column itself may be absent


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # columns whose values must be unique together
    doc: str
    optional: bool = False  # the file may be absent (then the table is empty)

    @property
    def file(self) -> str:
        return f"{self.name}.csv"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


_SOURCE = Column("source", "text")


def _range(kind: str) -> tuple[Column, Column]:
    """The optional ``low`` / ``high`` columns: a plausible range for the value beside
    them (see docs/sensitivity.md); both empty means the value is a point."""
    return (Column("low", kind, optional_column=True),
            Column("high", kind, optional_column=True))


_PROBABILITY_RANGE = _range("optional_probability")
_ODDS_RATIO_RANGE = _range("optional_odds_ratio")

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "risk_factors",
            (
                Column("id", "id"),
                Column("label", "text"),
                Column("question", "text"),
                Column("prevalence", "probability"),
                *_PROBABILITY_RANGE,
                Column("exclusive_group", "optional_id", optional_column=True),
                _SOURCE,
            ),
            ("id",),
            "root nodes: who the person is and what happened before",
        ),
        Table(
            "causes",
            (
                Column("id", "id"),
                Column("label", "text"),
                Column("group", "choice", tuple(GROUPS)),
                Column("prior", "probability"),
                *_PROBABILITY_RANGE,
                _SOURCE,
            ),
            ("id",),
            "the causes being ranked, with their baseline probability",
        ),
        Table(
            "risk_effects",
            (
                Column("risk_factor", "ref"),
                Column("cause", "ref"),
                Column("odds_ratio", "odds_ratio"),
                *_ODDS_RATIO_RANGE,
                _SOURCE,
            ),
            ("risk_factor", "cause"),
            "odds ratios by which risk factors change the odds of causes",
        ),
        Table(
            "cause_links",
            (
                Column("parent", "ref"),
                Column("child", "ref"),
                Column("kind", "choice", LINK_KINDS),
                Column("odds_ratio", "optional_odds_ratio"),
                *_ODDS_RATIO_RANGE,
                _SOURCE,
            ),
            ("parent", "child"),
            "causes that make other causes more likely, or are required by them",
        ),
        Table(
            "findings",
            (
                Column("id", "id"),
                Column("label", "text"),
                Column("question", "text"),
                Column("category", "choice", CATEGORIES),
                Column("leak", "probability"),
                *_PROBABILITY_RANGE,
                Column("ask_first", "flag", optional_column=True),
                _SOURCE,
            ),
            ("id",),
            "symptoms, signs and history, with their leak probability",
        ),
        Table(
            "finding_links",
            (
                Column("cause", "ref"),
                Column("finding", "ref"),
                Column("strength", "probability"),
                *_PROBABILITY_RANGE,
                _SOURCE,
            ),
            ("cause", "finding"),
            "noisy-OR link strengths from causes to findings",
        ),
        Table(
            "red_flags",
            (
                Column("id", "id"),
                Column("condition", "text"),
                Column("level", "choice", LEVELS_RAISED),
                Column("reason", "text"),
                _SOURCE,
            ),
            ("id",),
            "rules that set a minimum triage level",
        ),
        Table(
            "thresholds",
            (
                Column("cause", "ref"),
                Column("kind", "choice", THRESHOLD_KINDS),
                Column("probability", "threshold"),
                Column("level", "choice", LEVELS_RAISED),
                Column("reason", "text"),
                # what to do when this threshold alone sets the level (empty: the
                # level's own action from triage_actions.csv)
                Column("action", "optional_text", optional_column=True),
                _SOURCE,
            ),
            ("cause", "kind", "level"),
            "posterior probabilities at which the triage level rises",
        ),
        Table(
            "tests",
            (Column("id", "id"), Column("label", "text"), Column("purpose", "text"), _SOURCE),
            ("id",),
            "tests a clinician may use",
        ),
        Table(
            "self_care",
            (
                Column("id", "id"),
                Column("label", "text"),
                Column("instruction", "text"),
                Column("caution", "optional_text"),
                _SOURCE,
            ),
            ("id",),
            "self-care measures with their cautions",
        ),
        Table(
            "cause_advice",
            (
                Column("cause", "ref"),
                Column("kind", "choice", ADVICE_KINDS),
                Column("item", "text"),
                _SOURCE,
            ),
            ("cause", "kind", "item"),
            "tests, self-care, treatments and warning signs per cause",
        ),
        Table(
            "triage_actions",
            (Column("level", "choice", LEVELS), Column("action", "text"), _SOURCE),
            ("level",),
            "what to do at each triage level",
        ),
        Table(
            "codes",
            (
                Column("id", "ref"),
                Column("kind", "choice", CODE_KINDS),
                Column("system", "choice", CODE_SYSTEMS),
                Column("code", "text"),
                Column("display", "text"),
                Column("match", "choice", CODE_MATCHES),
                _SOURCE,
            ),
            ("id", "system"),
            "codes of causes and findings in ICD-10, ICD-10-CM and SNOMED CT (optional)",
            optional=True,
        ),
    )
}

NUMERIC_KINDS = ("probability", "threshold", "odds_ratio", "optional_odds_ratio",
                 "optional_probability")

RANGED: dict[str, str] = {
    "risk_factors": "prevalence",
    "causes": "prior",
    "risk_effects": "odds_ratio",
    "cause_links": "odds_ratio",
    "findings": "leak",
    "finding_links": "strength",
}
"""Tables whose number may carry a plausible range (``low``, ``high``): table -> column."""


def parse_cell(column: Column, text: str) -> tuple[object, str | None]:
    """Convert one stripped cell; return (value, None) or (None, what is wrong)."""
    kind = column.kind
    if kind in ("id", "ref"):
        if not text:
            return None, "is empty; an id is required"
        if kind == "id" and not ID_PATTERN.match(text):
            return None, (
                f"{text!r} is not a valid id: use lower-case letters, digits and "
                "underscores, starting with a letter (e.g. 'calf_strain')"
            )
        return text, None
    if kind == "optional_id":
        if text and not ID_PATTERN.match(text):
            return None, f"{text!r} is not a valid id (lower-case snake_case)"
        return text, None
    if kind == "flag":
        if text in ("", "yes", "no"):
            return text, None
        return None, f"{text!r} is not allowed; use 'yes', 'no' or leave it empty"
    if kind == "text":
        return (text, None) if text else (None, "is empty; write some text here")
    if kind == "optional_text":
        return text, None
    if kind == "choice":
        if text in column.choices:
            return text, None
        from ..errors import did_you_mean

        return None, (
            f"{text!r} is not allowed; use one of {', '.join(column.choices)}."
            + did_you_mean(text, column.choices)
        )
    if kind in ("optional_odds_ratio", "optional_probability") and not text:
        return math.nan, None
    # numbers
    if not text:
        return None, "is empty; a number is required"
    value, error = parse_number(text)
    if error:
        return None, error
    if kind in ("probability", "optional_probability") and not 0.0 <= value <= 1.0:
        return None, f"{text} is outside [0, 1]; a probability is needed"
    if kind == "threshold" and not 0.0 < value <= 1.0:
        return None, f"{text} is outside (0, 1]; a threshold probability is needed"
    if kind in ("odds_ratio", "optional_odds_ratio"):
        if not value > 0.0:
            return None, f"{text} is not above 0; an odds ratio must be positive"
        low, high = ODDS_RATIO_LIMITS
        if not low <= value <= high:
            return None, (
                f"{text} is outside [{low:g}, {high:g}], the range of odds ratios this "
                "library accepts; no clinical odds ratio is that extreme (for a cause "
                "that cannot occur without another, use a 'requires' link in "
                "cause_links.csv)")
    return value, None


def parse_number(text: str) -> tuple[float, str | None]:
    """A plain decimal number as a spreadsheet writes it; (value, None) or (nan, why).

    Stricter than ``float``: only ASCII digits, one optional sign, a dot as the decimal
    separator and an optional exponent. ``float`` also accepts '0.0_1', full-width and
    other Unicode digits, 'nan' and 'inf', none of which a tuner means as a number.
    A value that underflows (1e-400 becomes 0) or is subnormal (below about
    2.2e-308, where precision is lost) is refused rather than silently changed.
    """
    if not NUMBER_PATTERN.fullmatch(text):
        return math.nan, _not_a_number(text)
    value = float(text)
    if not math.isfinite(value):
        return math.nan, f"{text!r} is not a finite number (it is too large)"
    mantissa = re.split("[eE]", text)[0]
    if (value == 0.0 and re.search("[1-9]", mantissa)) or 0.0 < abs(value) < sys.float_info.min:
        return math.nan, (
            f"{text!r} is too small to compute with (below about 2.2e-308 it underflows "
            "to 0 or loses precision); write 0 if you mean zero")
    return value, None


def _not_a_number(text: str) -> str:
    bare = text.lstrip("+-").lower()
    if bare in ("inf", "infinity", "nan"):
        return f"{text!r} is not a finite number"
    if not text.isascii():
        odd = sorted({c for c in text if not c.isascii()})
        return (f"{text!r} is not a number: it holds the character(s) "
                f"{', '.join(map(repr, odd))}, not plain digits 0-9 (full-width or other "
                "non-ASCII digits, a non-breaking space?); type it again with plain digits")
    hint = ""
    if "_" in text:
        hint = " Write it without the '_' digit separator."
    elif re.fullmatch(r"\d+,\d+", text):
        hint = f" Use a dot as the decimal separator: {text.replace(',', '.')}"
    elif text.endswith("%"):
        hint = " Write a probability as a fraction, e.g. 0.15 rather than 15%."
    return f"{text!r} is not a number.{hint}"


NUMBER_PATTERN = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
"""What a number cell may hold (ASCII only)."""

ODDS_RATIO_LIMITS = (1e-6, 1e6)
"""The odds ratios accepted (both ends included); beyond them a value is a typo."""

# -- spreadsheet formulas in text cells -------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet treat a cell as a formula (OWASP's list)."""

TEXT_KINDS = ("text", "optional_text")
"""Column kinds holding free text; with the extra columns a tuner adds, the only cells
that may start like a formula (ids, choices and numbers are checked strictly)."""


def is_formula_like(text: str) -> bool:
    """True when a spreadsheet would run ``text`` as a formula (a plain number is fine).

    >>> is_formula_like("=1+1"), is_formula_like("@SUM(A1)"), is_formula_like("-0.5")
    (True, True, False)
    """
    return text[:1] in FORMULA_START and not NUMBER_PATTERN.fullmatch(text)


def neutralise_formula(text: str) -> str:
    """The cell as saved: a leading apostrophe when it would run as a formula.

    Apostrophes already in front of such a cell get one more, so that
    :func:`restore_formula` gives back exactly ``text``.

    >>> neutralise_formula("=1+1"), neutralise_formula("-0.5"), neutralise_formula("ok")
    ("'=1+1", '-0.5', 'ok')
    """
    return "'" + text if is_formula_like(text.lstrip("'")) else text


def restore_formula(text: str) -> str:
    """Undo :func:`neutralise_formula` (the cell as loaded)."""
    return text[1:] if text[:1] == "'" and is_formula_like(text.lstrip("'")) else text
