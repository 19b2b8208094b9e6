"""The result of a diagnosis: ranked causes, groups, triage, with text and HTML views."""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._text import percent, printable
from .clinical.triage import DISCLAIMER, Triage, TriageLevel
from .errors import UnknownIdError, check_int, check_parameter
from .knowledge import fingerprint

if TYPE_CHECKING:
    from .model import Model

__all__ = ["Diagnosis", "SCHEMA_VERSION"]

SCHEMA_VERSION = "1"
"""The version of the :meth:`Diagnosis.to_dict` schema; it changes when a key is
renamed or removed (adding a key does not change it)."""

_LEVEL_COLOURS = {
    TriageLevel.EMERGENCY: "#b00020",
    TriageLevel.URGENT: "#d35400",
    TriageLevel.SOON: "#b7950b",
    TriageLevel.SELF_CARE: "#1e8449",
}
_PRIOR_COLOUR = "#aab7b8"
_POSTERIOR_COLOUR = "#2e86c1"


@dataclass(frozen=True)
class Diagnosis:
    """Ranked causes, cause groups and triage for one set of findings.

    Attributes
    ----------
    findings
        The evidence used (id -> True / False); unknown ids were left out.
    ranking
        One row per cause, ordered by :attr:`rank_by`. Columns: ``cause`` (id),
        ``label``, ``group``, ``probability`` (posterior: is it present?), ``prior``
        (probability before any evidence), ``disablement`` (expected number of the
        findings reported present that would go away if this cause were cured: does it
        explain them?) and ``sufficiency`` (expected number this cause alone would
        produce); see :mod:`posterior_knee.reasoning.counterfactual`;
        ``must_not_miss`` (the probability has reached the cause's lowest can't-miss
        threshold in ``thresholds.csv``, so the triage names it). Then the cause's
        codes from ``codes.csv``: ``icd10`` (WHO ICD-10), ``icd10cm`` (ICD-10-CM) and
        ``snomed`` (SNOMED CT), missing where it has none.
    groups
        One row per cause group, most probable first. Columns: ``group``, ``label``,
        ``probability`` (that at least one cause of the group is present), ``prior``.
    triage
        The :class:`~posterior_knee.triage.Triage`: ``level`` and ``reasons``.
    rank_by
        How :attr:`ranking` is ordered: ``"probability"``, ``"disablement"``,
        ``"sufficiency"`` or ``"differential"``.
    unexplained
        "None of these fits": the expected share of the findings reported present that
        none of the modelled causes produced (only the leak did; 0 when nothing is
        reported present). See :attr:`none_fits`.
    disclaimer
        The statement that this does not replace a clinician.
    model
        The :class:`~posterior_knee.Model` that produced it (used by :meth:`explain`
        and :meth:`next_questions`).

    Notes
    -----
    ``repr(dx)`` is one line (the level and the top causes); ``str(dx)`` and
    :meth:`summary` give the full report with the disclaimer; Jupyter shows the HTML
    view. A diagnosis pickles and copies (``copy.copy``, ``copy.deepcopy``; the model
    travels with it). Two diagnoses are equal when they come from the same findings on
    knowledge bases with the same content (the same
    :func:`~posterior_knee.knowledge.fingerprint`) and hold the same results: triage,
    ranking and groups, cell for cell. The hash is taken from the findings, the ranking
    order and the fingerprint only, so it stays consistent with equality and never
    depends on the tables (which pandas lets anyone change in place).

    The result holds its numbers as arrays and builds :attr:`ranking` and
    :attr:`groups` when they are first read (then keeps them): a diagnosis whose tables
    are never read costs no pandas. :attr:`top`, :meth:`probability` and the one-line
    ``repr`` read the arrays.
    """

    @property
    def ranking(self) -> pd.DataFrame:
        """One row per cause, ordered by :attr:`rank_by` (built when first read)."""
        return self._ranking.frame

    @property
    def groups(self) -> pd.DataFrame:
        """One row per cause group, most probable first (built when first read)."""
        return self._groups.frame

    findings: Mapping[str, bool]
    # the tables as arrays; the DataFrames are built when first asked for (see
    # :class:`Table`): at a few findings pandas would cost more than the arithmetic
    _ranking: _Table = field(repr=False, compare=False)
    _groups: _Table = field(repr=False, compare=False)
    triage: Triage = field(repr=False)
    model: Model = field(repr=False, compare=False)
    rank_by: str = "disablement"
    unexplained: float = 0.0
    disclaimer: str = field(default=DISCLAIMER, repr=False)

    def explain(self, cause: str | None = None) -> pd.DataFrame:
        """The evidence for and against ``cause`` (default: the top cause), weighted.

        Each reported item's ``weight`` is the change in the cause's log-odds that the
        item makes (leave-one-out, recomputed exactly); positive supports the cause.
        See :func:`posterior_knee.reasoning.explain` for the columns.

        >>> import posterior_knee as pk
        >>> dx = pk.diagnose({"lump_behind_knee": True, "fever": False})
        >>> why = dx.explain("bakers_cyst")
        >>> why.loc[why["evidence"] == "lump_behind_knee", "weight"].item() > 0
        True
        """
        from .reasoning import explain

        cause = self.top if cause is None else cause
        known = dict(zip(self._ranking.columns["cause"], self._ranking.columns["probability"]))
        return explain(self.model, self.findings, cause, probability=known.get(cause))

    def next_questions(self, k: int | None = 5, focus: Sequence[str] | None = None,
                       by: str = "causes") -> pd.DataFrame:
        """The ``k`` most useful questions to ask next (all with ``k=None``).

        Screening questions (``ask_first`` in findings.csv) come first, then the
        rest by expected information gain about the causes (``by="causes"``) or the
        groups (``by="groups"``); ``focus`` restricts the gain to named causes. See
        :func:`posterior_knee.reasoning.rank_questions` for the columns.
        """
        from .reasoning import rank_questions

        return rank_questions(self.model, self.findings, k=k, focus=focus, by=by,
                              diagnosis=self)

    def sensitivity(self, target: str | None = None) -> pd.DataFrame:
        """How P(target) moves with each number in the CSV files (default target: the
        top cause); see :func:`posterior_knee.sensitivity.sensitivity` for the columns.

        >>> import posterior_knee as pk
        >>> table = pk.diagnose({"calf_pain": True}).sensitivity("dvt")
        >>> table.attrs["target"], len(table) > 100
        ('dvt', True)
        """
        from .reasoning import sensitivity

        return sensitivity(self.model, self.findings, target, diagnosis=self)

    def intervals(self, n: int = 500, seed: int | None = 0,
                  level: float = 0.95) -> pd.DataFrame:
        """Monte Carlo credible intervals of each cause's posterior under the ranges
        given in the CSV files: ``cause``, ``probability`` (the point answer), ``low``,
        ``high``, ordered as :attr:`ranking`. The same ``seed`` gives the same frame;
        see :func:`posterior_knee.sensitivity.intervals`.

        >>> import posterior_knee as pk
        >>> dx = pk.diagnose({"hot_painful_knee": True, "fever": True})
        >>> table = dx.intervals(n=200, seed=0)  # fever's link strength carries a range
        >>> bool((table["low"] <= table["probability"]).all())
        True
        """
        from .reasoning import intervals

        return intervals(self.model, self.findings, n, seed, level, diagnosis=self)

    def to_dict(self) -> dict:
        """The result as plain JSON-ready data (a versioned schema).

        Keys: ``version`` (:data:`SCHEMA_VERSION`), ``findings`` (id -> true / false),
        ``rank_by``, ``ranking`` and ``groups`` (one object per row of :attr:`ranking`
        and :attr:`groups`, codes included; a missing code is null), ``unexplained``
        and ``none_fits`` (see :attr:`none_fits`; null when it says nothing), ``triage``
        (``level``, ``action``, ``reasons``, ``red_flags``) and ``disclaimer``.

        Examples
        --------
        >>> import json, posterior_knee as pk
        >>> data = pk.diagnose({"lump_behind_knee": True}).to_dict()
        >>> data["ranking"][0]["cause"], data["ranking"][0]["icd10"]
        ('bakers_cyst', 'M71.2')
        >>> json.loads(json.dumps(data)) == data
        True
        """
        return {
            "version": SCHEMA_VERSION,
            "findings": {name: bool(value) for name, value in self.findings.items()},
            "rank_by": self.rank_by,
            "ranking": _records(self.ranking),
            "unexplained": float(self.unexplained),
            "none_fits": self.none_fits,
            "groups": _records(self.groups),
            "triage": {
                "level": self.triage.level.value,
                "action": self.triage.action,
                "reasons": list(self.triage.reasons),
                "red_flags": list(self.triage.red_flags),
            },
            "disclaimer": self.disclaimer,
        }

    def to_json(self, **kwargs: Any) -> str:
        """The result as JSON text: :meth:`to_dict` (the same versioned schema, which
        the command line's ``--json`` writes), passed to :func:`json.dumps`.

        Keyword arguments go to :func:`json.dumps` (``indent=2``, ``sort_keys=True``
        ...). Numbers that are not finite are refused (``allow_nan=False``): the output
        is strict JSON that any parser reads.

        Examples
        --------
        >>> import json, posterior_knee as pk
        >>> dx = pk.diagnose({"lump_behind_knee": True})
        >>> json.loads(dx.to_json()) == dx.to_dict()
        True
        """
        kwargs.setdefault("allow_nan", False)
        return json.dumps(self.to_dict(), **kwargs)

    def probability(self, cause: str) -> float:
        """The posterior probability that ``cause`` is present (``"group:<id>"``: that
        at least one cause of the group is).

        Raises :class:`~posterior_knee.errors.UnknownIdError`, with the closest valid
        id, for an id this diagnosis does not rank.

        Examples
        --------
        >>> import posterior_knee as pk
        >>> dx = pk.diagnose({"calf_pain": True, "calf_swelling": True})
        >>> dx.probability("dvt") > dx.ranking["prior"][dx.ranking["cause"] == "dvt"].item()
        True
        >>> 0.0 <= dx.probability("group:dvt") <= 1.0
        True
        """
        check_parameter(isinstance(cause, str), "cause", "Diagnosis.probability",
                        "a cause id or 'group:<group id>' (str)", cause)
        causes = self._ranking.column("cause")
        groups = [f"group:{g}" for g in self._groups.column("group")]
        if cause in causes:
            return float(self._ranking.column("probability")[causes.index(cause)])
        if cause in groups:
            return float(self._groups.column("probability")[groups.index(cause)])
        raise UnknownIdError(cause, "cause", [*causes, *groups],
                             "See dx.ranking['cause'], or use 'group:<id>' for a group.")

    def to_fhir(self, *, intervals: int | None = None, seed: int | None = 0,
                subject: str | None = None, occurrence: str | None = None) -> dict:
        """The result as an HL7 FHIR R4 ``RiskAssessment`` (JSON-ready dict).

        One prediction per cause (coded outcome, probability, rationale from
        :meth:`explain`), the reported findings as contained Observations in
        ``basis``, the model and a fingerprint of its knowledge base in ``method``,
        and the triage as a contained Observation. ``intervals`` (a number of
        Monte Carlo draws) adds each cause's credible interval as
        ``probabilityRange``. See :func:`posterior_knee.interop.risk_assessment`
        and ``docs/interop.md``.
        """
        # a convenience over the presentation layer, imported when called (the one
        # import upwards the layer contract allows, see docs/architecture.md)
        from .interop.fhir import risk_assessment

        return risk_assessment(self, intervals=intervals, seed=seed, subject=subject,
                               occurrence=occurrence)

    @property
    def red_flags(self) -> tuple[str, ...]:
        """Ids of the red-flag rules that fired."""
        return self.triage.red_flags

    @property
    def plan(self):
        """What to do next: a :class:`~posterior_knee.plan.Plan` (action, tests,
        self-care with cautions, treatments, warning signs). Above ``soon`` it offers
        no self-care."""
        from .clinical.plan import make_plan

        return make_plan(self.model.kb, self.triage, self.ranking)

    @property
    def wells(self):
        """The Wells score for DVT as far as the findings determine it, beside the
        model's P(dvt): a :class:`~posterior_knee.wells.WellsScore`."""
        from .clinical.wells import wells_score

        return wells_score(self.findings, self.ranking)

    @property
    def top(self) -> str:
        """Id of the first cause of the ranking (see :attr:`rank_by`)."""
        return str(self._ranking.column("cause")[0])

    @property
    def none_fits(self) -> str | None:
        """Plain advice when much of the presentation fits none of the modelled causes
        (at least half of the reported findings expected to come from elsewhere), else
        None."""
        if self.unexplained < NONE_FITS:
            return None
        return (f"About {self.unexplained:.0%} of what you reported fits none of the "
                "causes this tool knows. Something it does not cover may be the cause, "
                "so take the list below as incomplete and let a clinician examine you.")

    @property
    def _finding_ids(self) -> frozenset[str]:
        return frozenset(self.model.kb.finding_ids)

    def _present_absent(self) -> tuple[list[str], list[str]]:
        return (sorted(k for k, v in self.findings.items() if v),
                sorted(k for k, v in self.findings.items() if not v))

    def summary(self, n: int = 8) -> str:
        """A plain-text report: triage with reasons, the top ``n`` causes, the groups."""
        n = check_int(n, "n", "Diagnosis.summary", minimum=1, expected="a positive integer")
        present, absent = self._present_absent()
        lines = [
            f"Findings present: {', '.join(present) or 'none'}",
            f"Findings absent:  {', '.join(absent) or 'none'}",
            "",
            f"Triage: {self.triage.level.value.upper()}. {self.triage.action}",
            *(f"  - {reason}" for reason in self.triage.reasons),
            "",
            _RANK_TITLE[self.rank_by],
        ]
        top = self.ranking.head(n)
        width = max(len(label) for label in top["label"])
        m = len([f for f in present if f in self._finding_ids])
        for row in top.itertuples(index=False):
            explains = f"  explains {row.disablement:4.1f} of {m}" if m else ""
            mark = "!" if row.must_not_miss else " "
            lines.append(f" {mark}{row.label:<{width}}  {percent(row.probability):>6}  "
                         f"(prior {percent(row.prior):>5}){explains}  [{row.cause}]")
        if top["must_not_miss"].any():
            lines.append(f"  {_MUST_NOT_MISS}")
        if m:
            lines.append(f"  None of these: {self.unexplained:6.1%} of the reported "
                         "findings expected to come from a cause not listed")
        if self.none_fits:
            lines += ["", self.none_fits]
        from .clinical.wells import covers_wells

        if covers_wells(self.findings):
            lines += ["", self.wells.summary()]
        lines += ["", "By group:"]
        width = max(len(label) for label in self.groups["label"])
        for row in self.groups.itertuples(index=False):
            lines.append(f"  {row.label:<{width}}  {percent(row.probability):>6}")
        lines += ["", self.plan.summary()]
        # labels, reasons and advice come from editable CSV files: shown, never obeyed
        return printable("\n".join(lines))

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        top = ", ".join(f"{cause} {probability:.0%}" for cause, probability in zip(
            self._ranking.column("cause")[:REPR_CAUSES],
            self._ranking.column("probability")[:REPR_CAUSES]))
        return (f"<Diagnosis {self.triage.level.value}: {top}; does not replace a "
                "clinician, print() for the report>")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Diagnosis):
            return NotImplemented
        if self is other:
            return True
        return (dict(self.findings) == dict(other.findings)
                and self.rank_by == other.rank_by
                and self.triage == other.triage
                and self.disclaimer == other.disclaimer
                and _same_float(self.unexplained, other.unexplained)
                and self._fingerprint() == other._fingerprint()
                and self.ranking.equals(other.ranking)
                and self.groups.equals(other.groups))

    def __hash__(self) -> int:
        return hash((frozenset(self.findings.items()), self.rank_by, self._fingerprint()))

    def _fingerprint(self) -> str:
        return fingerprint(self.model.kb)

    # A mappingproxy (the read-only view of the findings) does not pickle: the state
    # holds a plain dict and unpickling wraps it again, so the copy is read-only too.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["findings"] = dict(self.findings)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        state["findings"] = MappingProxyType(dict(state["findings"]))
        self.__dict__.update(state)  # frozen: no __setattr__, as dataclasses do

    def _repr_html_(self) -> str:
        """The Jupyter view: a banner coloured by triage level with its reasons, one
        row per cause with a bar for its prior and one for its posterior, the
        strongest evidence for the top cause, the plan, and the disclaimer.

        Every piece of text is escaped: labels and reasons come from CSV files that
        anyone may edit.
        """
        level = self.triage.level.value
        colour = _LEVEL_COLOURS[self.triage.level]
        reasons = "".join(f"<li>{html.escape(r)}</li>" for r in self.triage.reasons)
        present, absent = self._present_absent()
        rows = "".join(
            f"<tr class='pk-cause' data-cause='{html.escape(row.cause, quote=True)}'>"
            f"<td>{html.escape(row.label)}{_MUST_NOT_MISS_HTML if row.must_not_miss else ''}"
            f"<br><code>{html.escape(row.cause)}</code></td>"
            f"<td>{html.escape(row.group)}</td>"
            f"<td style='min-width:160px'>{_bar('pk-prior', row.prior, _PRIOR_COLOUR)}"
            f"{_bar('pk-posterior', row.probability, _POSTERIOR_COLOUR)}</td>"
            f"<td style='text-align:right'>{html.escape(percent(row.prior))}</td>"
            f"<td style='text-align:right'><strong>{html.escape(percent(row.probability))}"
            "</strong></td>"
            f"<td style='text-align:right'>{row.disablement:.2f}</td></tr>"
            for row in self.ranking.itertuples(index=False)
        )
        return (
            "<div class='posterior-knee'>"
            f"<div class='pk-triage pk-level-{level}' style='border-left:8px solid "
            f"{colour};background:{colour}1a;padding:4px 10px;margin:4px 0'>"
            f"<strong style='color:{colour}'>Triage: {level.replace('_', ' ').upper()}"
            f"</strong> &mdash; {html.escape(self.triage.action)}"
            f"<ul class='pk-reasons'>{reasons}</ul></div>"
            f"<p>Present: {html.escape(', '.join(present) or 'none')}. "
            f"Absent: {html.escape(', '.join(absent) or 'none')}. "
            "Anything not reported is unknown and averaged over.</p>"
            "<table><thead><tr><th>cause</th><th>group</th>"
            f"<th>prior (<span style='color:{_PRIOR_COLOUR}'>grey</span>) and posterior "
            f"(<span style='color:{_POSTERIOR_COLOUR}'>blue</span>)</th>"
            "<th>prior</th><th>posterior</th>"
            "<th title='expected number of the findings reported present that would go "
            "away if this cause were cured'>explains</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
            f"{self._none_fits_html()}"
            f"<p><small>{html.escape(_RANK_TITLE[self.rank_by].rstrip(':'))}. "
            f"{html.escape(_MUST_NOT_MISS) + ' ' if self.ranking['must_not_miss'].any() else ''}"
            "Causes are not mutually exclusive: the probabilities need not sum to "
            "100 %.</small></p>"
            f"{self._why_html()}{self.plan._repr_html_(disclaimer=False)}"
            f"<p class='pk-disclaimer'><em>{html.escape(self.disclaimer)}</em></p></div>"
        )

    def _none_fits_html(self) -> str:
        if not any(v and f in self._finding_ids for f, v in self.findings.items()):
            return ""
        share = (f"<p class='pk-none-fits'>None of these: {self.unexplained:.1%} of the "
                 "reported findings are expected to come from a cause not listed.</p>")
        advice = self.none_fits
        return share + (f"<p class='pk-none-fits-advice'><strong>{html.escape(advice)}"
                        "</strong></p>" if advice else "")

    def _why_html(self, n: int = 6) -> str:
        """The strongest evidence for and against the top cause."""
        if not self.findings:
            return ""
        why = self.explain()
        why = why[why["kind"] != "prior"]
        why = why.reindex(why["weight"].abs().sort_values(ascending=False).index).head(n)
        rows = "".join(
            f"<tr><td><code>{html.escape(r.evidence)}</code></td>"
            f"<td>{'' if r.value is None else ('yes' if r.value else 'no')}</td>"
            f"<td style='text-align:right'>{r.weight:+.2f}</td>"
            f"<td>{'supports' if r.weight > 0 else 'counts against'}</td></tr>"
            for r in why.itertuples())
        return (f"<p>Why <strong>{html.escape(self.top)}</strong> ranks first "
                "(change in log-odds when each item is taken away):</p>"
                f"<table><tbody>{rows}</tbody></table>")


_MUST_NOT_MISS = ("! must not be missed: its probability has reached the level at which "
                  "it has to be ruled out.")
_MUST_NOT_MISS_HTML = (" <strong class='pk-must-not-miss' "
                       f"title='{html.escape(_MUST_NOT_MISS[2:], quote=True)}'>!</strong>")

REPR_CAUSES = 3
"""Causes named in the one-line ``repr`` of a :class:`Diagnosis`."""

NONE_FITS = 0.5
"""Share of the reported findings, expected to come from outside the modelled causes,
at which a diagnosis says that none of its causes fits well (expert estimate: a
presentation mostly unexplained by the list)."""

_RANK_TITLE = {
    "probability": "Most likely causes, by probability (not mutually exclusive):",
    "disablement": "Causes that best explain what you reported (the findings each would "
                   "take away if cured), then by probability:",
    "sufficiency": "Causes that alone would produce most of what you reported, then by "
                   "probability:",
    "differential": "The two causes that best explain what you reported, then any cause "
                    "that must not be missed, then the rest:",
}


class _Table:
    """A result table kept as arrays, built into a DataFrame when first asked for.

    ``columns`` maps each column name, in order, to its values in engine order (numpy
    arrays, or pandas extension arrays for text); ``order`` is the row order of the
    table. The DataFrame is built once, on the first read of :attr:`frame`, and then
    kept, so changes made to it in place persist as they would on a stored frame.
    """

    __slots__ = ("columns", "order", "_frame")

    def __init__(self, columns: Mapping[str, Any], order: np.ndarray):
        self.columns = columns
        self.order = order
        self._frame: pd.DataFrame | None = None

    @property
    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            order = self.order
            self._frame = pd.DataFrame(
                {name: values.take(order) for name, values in self.columns.items()},
                copy=False)
        return self._frame

    def column(self, name: str) -> list:
        """One column in table order, as a list of Python values (no DataFrame)."""
        return [self.columns[name][k] for k in self.order]

    def __len__(self) -> int:
        return len(self.order)

    # the DataFrame travels too once built: it may have been changed in place
    def __getstate__(self) -> dict[str, Any]:
        return {"columns": dict(self.columns), "order": self.order, "frame": self._frame}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.columns, self.order, self._frame = (state["columns"], state["order"],
                                                 state["frame"])


def _same_float(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as JSON-ready dicts: Python numbers and strings, missing values as None."""
    return [{key: (None if pd.isna(value) else value.item() if hasattr(value, "item")
                   else value) for key, value in row.items()}
            for row in frame.to_dict(orient="records")]


def _bar(kind: str, value: float, colour: str) -> str:
    """A horizontal bar whose width is ``value`` (a probability) of the cell."""
    return (f"<div class='{kind}' title='{value:.1%}' style='background:{colour};"
            f"height:7px;margin:1px 0;width:{max(0.0, min(1.0, value)) * 100:.2f}%'></div>")
