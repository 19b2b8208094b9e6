"""Triage: the safety layer.

The level is the highest of three things, so no input can lower what one of them
sets: the red-flag rules (``red_flags.csv``), the can't-miss thresholds on dangerous
causes and the baseline of likely causes (both ``thresholds.csv``). Red-flag
conditions only test for findings reported present, so reporting more can never
switch one off.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np
import pandas as pd

from ..errors import check_parameter
from ._condition import Condition, format_condition, holds, parse_condition

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

    def __repr__(self) -> str:
        reasons = "".join(f"\n  - {r}" for r in self.reasons)
        return f"Triage({self.level.value}: {self.action}{reasons}\n  {DISCLAIMER})"


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


@dataclass(frozen=True)
class TriageRules:
    """The triage rules of a knowledge base, parsed once."""

    red_flags: tuple[RedFlagRule, ...]
    thresholds: tuple[ThresholdRule, ...]
    actions: Mapping[TriageLevel, str]

    @classmethod
    def from_tables(cls, red_flags: pd.DataFrame, thresholds: pd.DataFrame,
                    actions: pd.DataFrame) -> TriageRules:
        flags = tuple(
            RedFlagRule(row.id, parse_condition(row.condition)[0], TriageLevel(row.level),
                        row.reason)
            for row in red_flags.itertuples(index=False)
        )
        limits = tuple(
            ThresholdRule(row.cause, row.kind, float(row.probability),
                          TriageLevel(row.level), row.reason)
            for row in thresholds.itertuples(index=False)
        )
        return cls(flags, limits,
                   {TriageLevel(r.level): r.action for r in actions.itertuples(index=False)})

    def fired_red_flags(self, present: Collection[str]) -> list[RedFlagRule]:
        return [rule for rule in self.red_flags if holds(rule.condition, present)]

    def red_flag_level(self, present: Collection[str]) -> TriageLevel:
        return max((r.level for r in self.fired_red_flags(present)),
                   default=TriageLevel.SELF_CARE)

    def assess(self, present: Collection[str], probabilities: Mapping[str, float]) -> Triage:
        """Triage from the ids reported present and the posterior of each cause."""
        fired: list[tuple[TriageLevel, int, str]] = []
        flags = self.fired_red_flags(present)
        for rule in flags:
            fired.append((rule.level, 0,
                          f"Red flag '{rule.id}' [{format_condition(rule.condition)}] "
                          f"({rule.level.value}): {rule.reason}"))
        for limit in self.thresholds:
            p = probabilities[limit.cause]
            if p >= limit.probability:
                name = "Can't-miss threshold" if limit.kind == "cant_miss" else "Likely cause"
                fired.append((limit.level, 1 if limit.kind == "cant_miss" else 2,
                              f"{name} {limit.cause} >= {limit.probability * 100:g}% "
                              f"({limit.level.value}): P({limit.cause}) = {p:.1%}. "
                              f"{limit.reason}"))
        level = max((f[0] for f in fired), default=TriageLevel.SELF_CARE)
        fired.sort(key=lambda f: (-f[0].rank, f[1]))
        reasons = tuple(f[2] for f in fired) or (
            "No red flag fired and no probability threshold was reached.",
        )
        return Triage(level, reasons, tuple(rule.id for rule in flags), self.actions[level])

    def levels(self, present: np.ndarray, ids: Sequence[str],
               probabilities: Mapping[str, np.ndarray]) -> np.ndarray:
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
            threshold.

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
        column = {name: k for k, name in enumerate(ids)}
        count = len(present)
        rank = np.zeros(count, dtype=np.int8)
        for rule in self.red_flags:
            # a conjunction of terms, each "any of these ids present"
            fired = np.ones(count, dtype=bool)
            for term in rule.condition:
                cols = [column[name] for name in term if name in column]
                fired &= present[:, cols].any(axis=1)
            rank[fired] = np.maximum(rank[fired], rule.level.rank)
        for limit in self.thresholds:
            reached = np.asarray(probabilities[limit.cause], dtype=float) >= limit.probability
            rank[reached] = np.maximum(rank[reached], limit.level.rank)
        return _VALUES[rank]


_VALUES = np.array([level.value for level in _ORDER], dtype=object)
