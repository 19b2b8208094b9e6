"""The result of a diagnosis: ranked causes, groups, triage, with text and HTML views."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from .triage import DISCLAIMER, Triage, TriageLevel

__all__ = ["Diagnosis"]

_LEVEL_COLOURS = {
    TriageLevel.EMERGENCY: "#b00020",
    TriageLevel.URGENT: "#d35400",
    TriageLevel.SOON: "#b7950b",
    TriageLevel.SELF_CARE: "#1e8449",
}


@dataclass(frozen=True)
class Diagnosis:
    """Ranked causes, cause groups and triage for one set of findings.

    Attributes
    ----------
    findings
        The evidence used (id -> True / False); unknown ids were left out.
    ranking
        One row per cause, most probable first. Columns: ``cause`` (id), ``label``,
        ``group``, ``probability`` (posterior), ``prior`` (probability before any
        evidence).
    groups
        One row per cause group, most probable first. Columns: ``group``, ``label``,
        ``probability`` (that at least one cause of the group is present), ``prior``.
    triage
        The :class:`~posterior_knee.triage.Triage`: ``level`` and ``reasons``.
    disclaimer
        The statement that this does not replace a clinician.
    """

    findings: Mapping[str, bool]
    ranking: pd.DataFrame = field(repr=False)
    groups: pd.DataFrame = field(repr=False)
    triage: Triage = field(repr=False)
    disclaimer: str = field(default=DISCLAIMER, repr=False)

    @property
    def red_flags(self) -> tuple[str, ...]:
        """Ids of the red-flag rules that fired."""
        return self.triage.red_flags

    @property
    def top(self) -> str:
        """Id of the most probable cause."""
        return str(self.ranking["cause"].iloc[0])

    def summary(self, n: int = 8) -> str:
        """A plain-text report: triage with reasons, the top ``n`` causes, the groups."""
        present = sorted(k for k, v in self.findings.items() if v)
        absent = sorted(k for k, v in self.findings.items() if not v)
        lines = [
            f"Findings present: {', '.join(present) or 'none'}",
            f"Findings absent:  {', '.join(absent) or 'none'}",
            "",
            f"Triage: {self.triage.level.value.upper()}. {self.triage.action}",
            *(f"  - {reason}" for reason in self.triage.reasons),
            "",
            "Most likely causes (not mutually exclusive):",
        ]
        top = self.ranking.head(n)
        width = max(len(label) for label in top["label"])
        for row in top.itertuples(index=False):
            lines.append(f"  {row.label:<{width}}  {row.probability:6.1%}  "
                         f"(prior {row.prior:5.1%})  [{row.cause}]")
        lines += ["", "By group:"]
        width = max(len(label) for label in self.groups["label"])
        for row in self.groups.itertuples(index=False):
            lines.append(f"  {row.label:<{width}}  {row.probability:6.1%}")
        lines += ["", self.disclaimer]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Diagnosis(top={self.top!r}, triage={self.triage.level.value!r})\n" + (
            self.summary())

    def _repr_html_(self) -> str:
        colour = _LEVEL_COLOURS[self.triage.level]
        reasons = "".join(f"<li>{html.escape(r)}</li>" for r in self.triage.reasons)
        rows = "".join(
            "<tr>"
            f"<td>{html.escape(row.label)}<br><code>{html.escape(row.cause)}</code></td>"
            f"<td>{html.escape(row.group)}</td>"
            f"<td style='text-align:right'>{row.probability:.1%}</td>"
            f"<td style='min-width:160px'>{_bar(row.prior, '#aab7b8')}"
            f"{_bar(row.probability, '#2e86c1')}</td>"
            f"<td style='text-align:right'>{row.prior:.1%}</td></tr>"
            for row in self.ranking.itertuples(index=False)
        )
        return (
            "<div class='posterior-knee'>"
            f"<div style='border-left:6px solid {colour};padding:4px 8px;margin:4px 0'>"
            f"<strong style='color:{colour}'>Triage: {self.triage.level.value}</strong>"
            f" &mdash; {html.escape(self.triage.action)}<ul>{reasons}</ul></div>"
            "<table><thead><tr><th>cause</th><th>group</th><th>probability</th>"
            "<th>prior (grey) and posterior (blue)</th><th>prior</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
            f"<p><em>{html.escape(self.disclaimer)}</em></p></div>"
        )


def _bar(value: float, colour: str) -> str:
    return (f"<div style='background:{colour};height:7px;margin:1px 0;"
            f"width:{max(0.0, min(1.0, value)) * 100:.1f}%'></div>")
