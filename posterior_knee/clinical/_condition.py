"""Red-flag conditions over the findings reported present.

``a; b | c`` means a, and at least one of b or c. A term may ask for more than one of
its ids: ``2 of a | b | c`` means at least two of a, b and c (the Wells rule counts
items this way). Every id is tested for being reported *present*, so reporting more
can never switch a condition off.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    """At least ``at_least`` of ``ids`` reported present."""

    ids: tuple[str, ...]
    at_least: int = 1

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids)

    def holds(self, present: Collection[str]) -> bool:
        return sum(name in present for name in self.ids) >= self.at_least

    def __str__(self) -> str:
        options = " | ".join(self.ids)
        return options if self.at_least == 1 else f"{self.at_least} of {options}"


Condition = tuple[Term, ...]
"""A conjunction of terms, each "at least k of these ids reported present"."""

_COUNT = re.compile(r"^\s*(\d+)\s+of\s+(.*)$", re.S)


def parse_condition(text: str) -> tuple[Condition, str | None]:
    """Parse a condition cell; return (condition, None) or ((), what is wrong).

    >>> condition, error = parse_condition("calf_pain; 2 of tenderness | previous_clot")
    >>> str(condition[1]), error
    ('2 of tenderness | previous_clot', None)
    """
    terms = []
    for raw_term in text.split(";"):
        if not raw_term.strip():
            return (), f"{text!r} has an empty term; separate ids with ';' and '|' only"
        at_least = 1
        count = _COUNT.match(raw_term)
        if count:
            at_least, raw_term = int(count.group(1)), count.group(2)
        options = tuple(option.strip() for option in raw_term.split("|"))
        if any(not option for option in options):
            return (), f"{text!r} has an empty alternative around '|'"
        if len(set(options)) != len(options):
            return (), f"{text!r} names an id twice in one term"
        if not 1 <= at_least <= len(options):
            return (), (f"{text!r} asks for {at_least} of {len(options)} id(s); write a "
                        f"number from 1 to {len(options)} before 'of'")
        terms.append(Term(options, at_least))
    return tuple(terms), None


def condition_ids(condition: Condition) -> set[str]:
    return {name for term in condition for name in term}


def holds(condition: Condition, present: Collection[str]) -> bool:
    """True when every term has enough of its ids among those reported present."""
    return all(term.holds(present) for term in condition)


def format_condition(condition: Condition) -> str:
    return "; ".join(str(term) for term in condition)


def minimal_presentations(condition: Condition) -> list[frozenset[str]]:
    """Every smallest choice of ids reported present, term by term, that satisfies
    ``condition`` (what the safety floor tries against a knowledge base's rules).

    >>> sorted(sorted(p) for p in minimal_presentations(parse_condition("a; 2 of b | c | d")[0]))
    [['a', 'b', 'c'], ['a', 'b', 'd'], ['a', 'c', 'd']]
    """
    choices = [itertools.combinations(term.ids, term.at_least) for term in condition]
    return list(dict.fromkeys(frozenset(itertools.chain.from_iterable(pick))
                              for pick in itertools.product(*choices)))
