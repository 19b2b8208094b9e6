"""Red-flag conditions: ``a; b | c`` means a, and at least one of b or c, reported present."""

from __future__ import annotations

from collections.abc import Collection

Condition = tuple[tuple[str, ...], ...]
"""A conjunction of disjunctions of evidence ids (all positive: 'reported present')."""


def parse_condition(text: str) -> tuple[Condition, str | None]:
    """Parse a condition cell; return (condition, None) or ((), what is wrong)."""
    terms = []
    for raw_term in text.split(";"):
        if not raw_term.strip():
            return (), f"{text!r} has an empty term; separate ids with ';' and '|' only"
        options = tuple(option.strip() for option in raw_term.split("|"))
        if any(not option for option in options):
            return (), f"{text!r} has an empty alternative around '|'"
        terms.append(options)
    return tuple(terms), None


def condition_ids(condition: Condition) -> set[str]:
    return {name for term in condition for name in term}


def holds(condition: Condition, present: Collection[str]) -> bool:
    """True when every term has at least one id among those reported present."""
    return all(any(name in present for name in term) for term in condition)


def format_condition(condition: Condition) -> str:
    return "; ".join(" | ".join(term) for term in condition)
