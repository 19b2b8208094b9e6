"""What to do next: the action for the triage level, tests, self-care, treatments and
warning signs for the likely causes, all from the knowledge base's CSV files."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from .._text import printable
from .triage import DISCLAIMER, Triage, TriageLevel

if TYPE_CHECKING:
    from ..knowledge.base import KnowledgeBase

__all__ = ["Plan", "make_plan"]

MAX_CAUSES = 5
MIN_PROBABILITY = 0.10
SHOWN_WARNINGS = 8  # in the text view; all are in Plan.warning_signs


@dataclass(frozen=True)
class Plan:
    """The plan for one diagnosis.

    Attributes
    ----------
    level, action
        The triage level and what to do, in plain words (``triage_actions.csv``).
    causes
        The causes the plan covers: the three most likely, any other at 10 % or more,
        and any dangerous cause whose threshold fired (at most five, most likely first).
    tests
        Columns ``test``, ``label``, ``purpose``, ``for_causes``.
    self_care
        Columns ``measure``, ``label``, ``instruction``, ``caution``. Always empty above
        ``soon``: at ``urgent`` and ``emergency`` the plan is to be seen, not self-care.
    treatments
        Columns ``cause``, ``treatment``: what a clinician may offer.
    warning_signs
        Signs that change the plan and need care sooner.
    disclaimer
        The statement that this does not replace a clinician.

    Notes
    -----
    ``repr(plan)`` is one line (the level, the causes covered and how much advice
    there is); ``str(plan)`` and :meth:`summary` give the full text with the
    disclaimer; Jupyter shows the HTML view.
    """

    level: TriageLevel
    action: str
    causes: tuple[str, ...]
    tests: pd.DataFrame = field(repr=False)
    self_care: pd.DataFrame = field(repr=False)
    treatments: pd.DataFrame = field(repr=False)
    warning_signs: tuple[str, ...] = field(repr=False)
    disclaimer: str = field(default=DISCLAIMER, repr=False)

    def summary(self, warnings: int | None = SHOWN_WARNINGS) -> str:
        """The plan as plain text: the action, tests, self-care, warning signs (the
        first ``warnings`` of them, or all with None) and the disclaimer."""
        lines = [f"What to do: {self.action}"]
        if len(self.tests):
            lines += ["", "Tests a clinician may use:"]
            lines += [f"  - {r.label}: {r.purpose}" for r in self.tests.itertuples()]
        if len(self.self_care):
            lines += ["", "Self-care while the pain is mild:"]
            for r in self.self_care.itertuples():
                caution = f" Caution: {r.caution}" if r.caution else ""
                lines.append(f"  - {r.label}: {r.instruction}{caution}")
        if self.warning_signs:
            lines += ["", "Get help sooner if:"]
            shown = self.warning_signs if warnings is None else self.warning_signs[:warnings]
            lines += [f"  - {sign}" for sign in shown]
            hidden = len(self.warning_signs) - len(shown)
            if hidden > 0:
                lines.append(f"  ({hidden} more in plan.warning_signs)")
        lines += ["", self.disclaimer]
        return printable("\n".join(lines))  # CSV text: shown, never obeyed

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return (f"<Plan {self.level.value} for {', '.join(self.causes) or 'no cause'}: "
                f"{_count(len(self.tests), 'test')}, "
                f"{_count(len(self.self_care), 'self-care measure')}, "
                f"{_count(len(self.warning_signs), 'warning sign')}; does not replace a "
                "clinician, print() for the plan>")

    def _repr_html_(self, disclaimer: bool = True) -> str:
        # disclaimer=False: the caller (a Diagnosis) shows the disclaimer itself
        def items(values):
            return "".join(f"<li>{html.escape(v)}</li>" for v in values)

        parts = [f"<p><strong>What to do:</strong> {html.escape(self.action)}</p>"]
        if len(self.tests):
            parts.append("<p>Tests a clinician may use:</p><ul>" + items(
                f"{r.label}: {r.purpose}" for r in self.tests.itertuples()) + "</ul>")
        if len(self.self_care):
            parts.append("<p>Self-care while the pain is mild:</p><ul>" + items(
                f"{r.label}: {r.instruction} {r.caution}".strip()
                for r in self.self_care.itertuples()) + "</ul>")
        if self.warning_signs:
            parts.append("<p>Get help sooner if:</p><ul>" + items(self.warning_signs)
                         + "</ul>")
        if disclaimer:
            parts.append(f"<p><em>{html.escape(self.disclaimer)}</em></p>")
        return "<div class='posterior-knee-plan'>" + "".join(parts) + "</div>"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _covered_causes(kb: KnowledgeBase, ranking: pd.DataFrame) -> tuple[str, ...]:
    probability = dict(zip(ranking["cause"], ranking["probability"]))
    fired = {row.cause for row in kb.thresholds.itertuples()
             if probability[row.cause] >= row.probability}
    chosen = [c for i, c in enumerate(ranking["cause"])
              if i < 3 or probability[c] >= MIN_PROBABILITY or c in fired]
    return tuple(chosen[:MAX_CAUSES])


def make_plan(kb: KnowledgeBase, triage: Triage, ranking: pd.DataFrame) -> Plan:
    """Combine the advice of the likely causes with the triage level's action."""
    causes = _covered_causes(kb, ranking)
    advice = kb.cause_advice[kb.cause_advice["cause"].isin(causes)]
    order = {cause: i for i, cause in enumerate(causes)}
    advice = advice.sort_values("cause", key=lambda s: s.map(order), kind="stable")

    def items(kind: str) -> pd.DataFrame:
        return advice[advice["kind"] == kind]

    tests = items("test").groupby("item", sort=False)["cause"].agg(", ".join)
    tests = kb.tests.set_index("id").loc[tests.index, ["label", "purpose"]].assign(
        for_causes=tests.to_numpy()).rename_axis("test").reset_index()
    if triage.level <= TriageLevel.SOON:
        measures = list(dict.fromkeys(items("self_care")["item"]))
        self_care = kb.self_care.set_index("id").loc[
            measures, ["label", "instruction", "caution"]].rename_axis("measure").reset_index()
    else:
        self_care = pd.DataFrame(columns=["measure", "label", "instruction", "caution"])
    treatments = items("treatment")[["cause", "item"]].rename(columns={"item": "treatment"})
    warnings = tuple(dict.fromkeys(items("warning")["item"]))
    return Plan(triage.level, triage.action, causes, tests.reset_index(drop=True),
                self_care, treatments.reset_index(drop=True), warnings)
