"""Triage: the safety layer.

The level is the highest of three things, so no input can lower what one of them
sets: the red-flag rules (``red_flags.csv``), the can't-miss thresholds on dangerous
causes and the baseline of likely causes (both ``thresholds.csv``). Red-flag
conditions only test for findings reported present, so reporting more can never
switch one off.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

import numpy as np
import pandas as pd

from .._text import printable
from ..errors import check_parameter
from ._condition import Condition, format_condition, parse_condition

__all__ = ["TriageLevel", "Triage", "DISCLAIMER"]

DISCLAIMER = (
    "posterior-knee is decision support and teaching material: it does not replace "
    "a doctor, nurse or physiotherapist who can examine you. If you are worried, "
    "seek care."
)


class TriageLevel(str, Enum):
    """How soon to be seen, ordered: ``SELF_CARE < SOON < URGENT < EMERGENCY``.

    A ``str`` enum: ``TriageLevel.URGENT == "urgent"``.
    """

    SELF_CARE = "self_care"
    SOON = "soon"
    URGENT = "urgent"
    EMERGENCY = "emergency"

    @property
    def rank(self) -> int:
        return _ORDER.index(self)

    def __lt__(self, other: object) -> bool:
        return self.rank < TriageLevel(other).rank

    def __le__(self, other: object) -> bool:
        return self.rank <= TriageLevel(other).rank

    def __gt__(self, other: object) -> bool:
        return self.rank > TriageLevel(other).rank

    def __ge__(self, other: object) -> bool:
        return self.rank >= TriageLevel(other).rank

    def __str__(self) -> str:
        return self.value


_ORDER = (TriageLevel.SELF_CARE, TriageLevel.SOON, TriageLevel.URGENT, TriageLevel.EMERGENCY)


@dataclass(frozen=True)
class Triage:
    """The triage level and why.

    ``reasons`` names every red-flag rule and threshold that fired, most serious
    first; ``red_flags`` holds the ids of the red-flag rules that fired.
    """

    level: TriageLevel
    reasons: tuple[str, ...]
    red_flags: tuple[str, ...]
    action: str  # what to do at this level, from triage_actions.csv

    def __str__(self) -> str:
        reasons = "".join(f"\n  - {r}" for r in self.reasons)
        # the action and reasons come from editable CSV files: shown, never obeyed
        return printable(f"Triage: {self.level.value}. {self.action}{reasons}\n{DISCLAIMER}")

    def __repr__(self) -> str:
        # one line; str() has the action, the reasons and the disclaimer
        shown = ", ".join(self.red_flags[:3]) + (
            f" and {len(self.red_flags) - 3} more" if len(self.red_flags) > 3 else "")
        flags = f", red flags: {shown}" if self.red_flags else ""
        n = len(self.reasons)
        return (f"<Triage {self.level.value}: {n} reason{'' if n == 1 else 's'}{flags}; "
                "print() for the advice>")


@dataclass(frozen=True)
class RedFlagRule:
    id: str
    condition: Condition
    level: TriageLevel
    reason: str


@dataclass(frozen=True)
class ThresholdRule:
    cause: str
    kind: str
    probability: float
    level: TriageLevel
    reason: str
    # what to do when this threshold alone sets the level (None: the level's action);
    # a clot made likely by the signs alone needs the emergency department today, not
    # an ambulance, while chest symptoms (a red flag) keep the ambulance
    action: str | None = None


def _threshold_words(limit: ThresholdRule) -> tuple[str, str]:
    """The words of a threshold's reason before and after the probability that fired it."""
    name = "Can't-miss threshold" if limit.kind == "cant_miss" else "Likely cause"
    return (f"{name} {limit.cause} >= {limit.probability * 100:g}% ({limit.level.value}): "
            f"P({limit.cause}) = ", f". {limit.reason}")


@dataclass(frozen=True)
class TriageRules:
    """The triage rules of a knowledge base, parsed once."""

    red_flags: tuple[RedFlagRule, ...]
    thresholds: tuple[ThresholdRule, ...]
    actions: Mapping[TriageLevel, str]
    # the red flags as matrices over a list of ids (see _matrices), per list of ids
    _compiled: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    # each rule's terms as (ids as a set, at_least): a term holds when enough of its ids
    # are among those present (ids within a term are distinct: parse_condition checks)
    _terms: tuple = field(init=False, repr=False, compare=False)

    # id -> the rules whose first term names it: a rule can hold only if one of these
    # is present (every term asks for at least one id)
    _first: dict = field(init=False, repr=False, compare=False)
    # each red flag's reason as assess words it, and each threshold's words around its
    # probability (they depend on the rule alone)
    _flag_reasons: tuple = field(init=False, repr=False, compare=False)
    _limit_words: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_terms", tuple(
            tuple((frozenset(term.ids), term.at_least) for term in rule.condition)
            for rule in self.red_flags))
        first: dict[str, list[int]] = {}
        for k, rule in enumerate(self.red_flags):
            for name in rule.condition[0].ids:
                first.setdefault(name, []).append(k)
        object.__setattr__(self, "_first", first)
        object.__setattr__(self, "_flag_reasons", tuple(
            f"Red flag '{rule.id}' [{format_condition(rule.condition)}] "
            f"({rule.level.value}): {rule.reason}" for rule in self.red_flags))
        object.__setattr__(self, "_limit_words", tuple(map(_threshold_words, self.thresholds)))

    @classmethod
    def from_tables(cls, red_flags: pd.DataFrame, thresholds: pd.DataFrame,
                    actions: pd.DataFrame) -> TriageRules:
        flags = tuple(
            RedFlagRule(row.id, parse_condition(row.condition)[0], TriageLevel(row.level),
                        row.reason)
            for row in red_flags.itertuples(index=False)
        )
        actions_of = thresholds["action"] if "action" in thresholds else None
        limits = tuple(
            ThresholdRule(row.cause, row.kind, float(row.probability),
                          TriageLevel(row.level), row.reason,
                          _text_or_none(actions_of.iloc[k]) if actions_of is not None else None)
            for k, row in enumerate(thresholds.itertuples(index=False))
        )
        return cls(flags, limits,
                   {TriageLevel(r.level): r.action for r in actions.itertuples(index=False)})

    def fired_red_flags(self, present: Collection[str]) -> list[RedFlagRule]:
        return [self.red_flags[k] for k in self._fired(present)]

    def _fired(self, present: Collection[str]) -> list[int]:
        """The positions of the red flags that hold, in order: as holds(rule.condition,
        present) for each rule, by set intersections (every diagnosis asks this)."""
        present = present if isinstance(present, (set, frozenset)) else set(present)
        candidates = sorted({k for name in present for k in self._first.get(name, ())})
        return [k for k in candidates
                if all(len(ids & present) >= at_least for ids, at_least in self._terms[k])]

    def red_flag_level(self, present: Collection[str]) -> TriageLevel:
        return max((r.level for r in self.fired_red_flags(present)),
                   default=TriageLevel.SELF_CARE)

    def assess(self, present: Collection[str],
               probabilities: Mapping[str, float] | None) -> Triage:
        """Triage from the ids reported present and the posterior of each cause.

        ``probabilities=None`` means they could not be computed (bad or impossible
        evidence, a failed computation): the red flags, which need no probability,
        still set the level, and the reasons say that the thresholds were not checked.
        """
        fired: list[tuple[TriageLevel, int, str]] = []
        which = self._fired(present)
        flags = [self.red_flags[k] for k in which]
        for k, rule in zip(which, flags):
            fired.append((rule.level, 0, self._flag_reasons[k]))
        actions: dict[TriageLevel, str] = {}
        given = probabilities if probabilities is not None else {}
        for limit, (before, after) in zip(self.thresholds if probabilities is not None
                                          else (), self._limit_words):
            p = given[limit.cause]
            if p >= limit.probability:
                fired.append((limit.level, 1 if limit.kind == "cant_miss" else 2,
                              f"{before}{p:.1%}{after}"))
                if limit.action:
                    actions.setdefault(limit.level, limit.action)
        level = max((f[0] for f in fired), default=TriageLevel.SELF_CARE)
        fired.sort(key=lambda f: (-f[0].rank, f[1]))
        reasons = tuple(f[2] for f in fired)
        if probabilities is None:
            reasons += (_NOT_COMPUTED,)
        elif not reasons:
            reasons = ("No red flag fired and no probability threshold was reached.",)
        # a red flag at the top level keeps the level's own action (an ambulance for
        # chest symptoms); only a threshold that sets the level alone may narrow it
        flagged = any(rule.level == level for rule in flags)
        action = self.actions[level] if flagged else actions.get(level, self.actions[level])
        return Triage(level, reasons, tuple(rule.id for rule in flags), action)

    def red_flag_levels(self, present: np.ndarray, ids: Sequence[str]) -> np.ndarray:
        """(cases,) level ranks set by the red flags alone (0 = self_care ... 3 = emergency).

        ``present`` is (cases, len(ids)) booleans; ids not in ``ids`` count as not
        reported. Needs no probability, so it can be computed for rows that cannot
        be scored.
        """
        if not self.red_flags:
            return np.zeros(len(present), dtype=np.int8)
        gather, term_starts, at_least, rule_starts, level = self._matrices(ids)
        # one extra column that is never present stands for the ids not in ``ids``;
        # no BLAS here (outside the engines it would start threads for a tiny product)
        wide = np.zeros((len(present), len(ids) + 1), dtype=np.int8)
        wide[:, :-1] = present
        # a term holds when enough of its ids are present, a rule when all its terms do
        met = np.add.reduceat(wide[:, gather], term_starts, axis=1) >= at_least
        fired = np.logical_and.reduceat(met, rule_starts, axis=1)
        return np.where(fired, level, 0).max(axis=1).astype(np.int8)

    def _matrices(self, ids: Sequence[str]) -> tuple[np.ndarray, ...]:
        """The red flags over ``ids``, for :meth:`red_flag_levels`: the column of each
        id of each term, one after another (``len(ids)`` for an id not in ``ids``),
        where each term starts, each term's ``at_least``, where each rule's terms start
        and each rule's level rank. Built once per list of ids (a question ranking or
        a batch asks with the same list again and again)."""
        key = tuple(ids)
        got = self._compiled.get(key)
        if got is None:
            column = {name: k for k, name in enumerate(key)}
            gather: list[int] = []
            term_starts: list[int] = []
            at_least: list[int] = []
            rule_starts: list[int] = []
            for rule in self.red_flags:
                rule_starts.append(len(term_starts))
                for term in rule.condition:
                    term_starts.append(len(gather))
                    at_least.append(term.at_least)
                    gather += [column.get(name, len(key)) for name in term]
            got = (np.array(gather, dtype=np.intp), np.array(term_starts, dtype=np.intp),
                   np.array(at_least), np.array(rule_starts, dtype=np.intp),
                   np.array([rule.level.rank for rule in self.red_flags], dtype=np.int8))
            if len(self._compiled) >= 64:  # bounded: callers use a few lists of ids
                self._compiled.clear()
            self._compiled[key] = got
        return got

    def levels(self, present: np.ndarray, ids: Sequence[str],
               probabilities: Mapping[str, np.ndarray] | None) -> np.ndarray:
        """The triage level of many cases at once, as :meth:`assess` gives it row by row.

        Parameters
        ----------
        present
            (cases, len(ids)) booleans: True where the case reports that id present.
            Ids not in ``ids`` count as not reported.
        ids
            The finding and risk-factor id of each column of ``present``.
        probabilities
            Cause id -> (cases,) posterior probabilities, for every cause with a
            threshold; None where they could not be computed (the red flags alone).

        Returns
        -------
        numpy.ndarray
            (cases,) level values as strings (``"emergency"`` ... ``"self_care"``).

        Examples
        --------
        >>> import numpy as np, posterior_knee as pk
        >>> rules = pk.Model().rules
        >>> present = np.array([[True], [False]])
        >>> low = {c: np.zeros(2) for c in pk.load_knowledge_base().cause_ids}
        >>> rules.levels(present, ["shortness_of_breath"], low).tolist()
        ['emergency', 'self_care']
        """
        present = np.asarray(present)
        check_parameter(present.ndim == 2 and present.shape[1] == len(ids)
                        and present.dtype == bool, "present", "TriageRules.levels",
                        f"a boolean array of shape (cases, {len(ids)}), one column per id",
                        present)
        rank = self.red_flag_levels(present, ids)
        given = probabilities if probabilities is not None else {}
        for limit in self.thresholds if probabilities is not None else ():
            reached = np.asarray(given[limit.cause], dtype=float) >= limit.probability
            rank[reached] = np.maximum(rank[reached], limit.level.rank)
        return _VALUES[rank]


_NOT_COMPUTED = (
    "The probabilities could not be computed for these answers, so only the red flags "
    "set this level: no probability threshold was checked. Correct the answers and ask "
    "again, and if you are worried, seek care."
)


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def level_values(ranks: np.ndarray) -> np.ndarray:
    """Level ranks (0-3) as level strings."""
    return _VALUES[ranks]


_VALUES = np.array([level.value for level in _ORDER], dtype=object)
