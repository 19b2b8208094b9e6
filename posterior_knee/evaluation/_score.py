"""Scoring a knowledge base on the vignette suite: ranking, triage and calibration."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from .._text import printable
from ..clinical.triage import DISCLAIMER
from ..errors import ParameterError, PosteriorKneeError, check_parameter
from ..knowledge._contract import REQUIRED_CAUSES, REQUIRED_EVIDENCE
from ..knowledge._schema import GROUPS
from ..knowledge.base import KnowledgeBase
from ..model import Model
from ._metrics import rate, reliability_table
from ._vignettes import LEVELS, SPLITS, vignettes

if TYPE_CHECKING:
    from ..model import RankBy

__all__ = ["Evaluation", "evaluate", "METRICS", "SCHEMA", "SCOPES", "VOCABULARIES"]

VOCABULARIES = ("full", "required")
"""What a case may state: every id it was mapped to, or only the ids of the design
contract (``shared/VOCABULARY.md``), as an outside scorer's cases can."""

SCHEMA = "posterior-knee/evaluation/1"
"""The version of :meth:`Evaluation.to_dict` (and of ``posterior-knee evaluate --json``)."""

SCOPES: dict[str, str] = {
    "all": "every case",
    "modelled": "the cases whose confirmed cause the knowledge base models",
    "contract": "the cases whose confirmed cause is one of the design contract's 18 "
                "(shared/VOCABULARY.md), the causes an outside scorer can name",
}
"""The ids in :attr:`Evaluation.summary` ``scope`` and which cases each covers."""

NOT_MODELLED = "not_modelled"
"""The group given to cases whose confirmed cause the knowledge base does not model."""

METRICS: dict[str, str] = {
    "cases": "cases",
    "errors": "cases that raised (scored by their red flags)",
    "unknown_ids": "finding ids dropped (not in the knowledge base)",
    "top1": "confirmed cause ranked first",
    "top3": "confirmed cause in the top 3",
    "top5": "confirmed cause in the top 5",
    "mrr": "mean reciprocal rank",
    "group_top1": "group of the confirmed cause ranked first",
    "brier": "Brier score over all causes (lower is better)",
    "triage_ok": "strict triage (at or above the minimum)",
    "triage_within_one": "triage at most one level below the minimum",
    "over_triage_2": "over-triage by two or more levels",
    "questions_asked": "questions asked (mean)",
    "emergency_stops": "interview stopped at an emergency",
}
"""The ids in :attr:`Evaluation.summary` ``metric`` and what each measures."""

_CASE_COLUMNS = ("id", "split", "cause", "group", "modelled", "rank", "probability",
                 "top_cause", "top_probability", "top3", "hit1", "hit3", "hit5",
                 "reciprocal_rank", "group_rank", "brier", "triage", "min_triage",
                 "triage_ok", "triage_within_one", "over_triage_2", "red_flags",
                 "unknown_ids", "questions_asked", "emergency_stop", "error")


@dataclass(frozen=True, eq=False)
class Evaluation:
    """How well a knowledge base ranks and triages the vignette suite.

    Proportions carry Wilson 95 % intervals (``low``, ``high``). Figures are given for
    all cases, for the cases whose confirmed cause the knowledge base models and for
    those whose confirmed cause is one of the design contract's (``scope`` ``"all"``,
    ``"modelled"`` and ``"contract"``, see :data:`SCOPES`): a case whose cause is not
    modelled is a miss for the ranking but still tests the triage.

    Attributes
    ----------
    summary
        One row per metric and scope. Columns: ``metric`` (an id of :data:`METRICS`),
        ``scope`` (an id of :data:`SCOPES`), ``value``, ``low``, ``high`` (the
        Wilson interval where the value is a proportion, else NaN) and ``n`` (the
        cases it is computed on). ``cases``, ``errors`` and ``unknown_ids`` are counts.
    per_cause
        One row per confirmed cause among the cases: ``cause``, ``label``, ``group``,
        ``modelled``, ``n``, then for each proportion of :data:`METRICS` the value and
        its ``_low`` / ``_high`` interval, ``mrr``, ``probability`` (mean probability
        given to the confirmed cause) and ``errors``.
    per_group
        The same per group of the confirmed cause (``group``, ``label``); cases whose
        cause is not modelled form the group ``"not_modelled"``.
    reliability
        Calibration of the top cause: one row per bin of its probability (``bin``,
        ``low_edge``, ``high_edge``, ``count``), ``mean_probability`` (mean predicted),
        ``observed`` (share of those cases where the top cause is the confirmed one)
        with ``observed_low`` / ``observed_high``. Cases that raised are left out.
    cases
        One row per case: ``id``, ``split``, ``cause``, ``group``, ``modelled``,
        ``rank`` (of the confirmed cause, 1 = first; NaN when not modelled or the case
        raised), ``probability`` (of the confirmed cause), ``top_cause``,
        ``top_probability``, ``top3`` (tuple), ``hit1`` / ``hit3`` / ``hit5``,
        ``reciprocal_rank`` (0 for a miss), ``group_rank``, ``brier``, ``triage``,
        ``min_triage``, ``triage_ok``, ``triage_within_one``, ``over_triage_2``,
        ``red_flags`` (tuple), ``unknown_ids`` (tuple of ids dropped),
        ``questions_asked`` (NaN without the interview), ``emergency_stop`` (whether
        the interview stopped at an emergency; None without the interview) and
        ``error`` (the message, or None).
    split, interview, carry_on, rank_by, knowledge_base, vocabulary
        What was scored: the split, whether through the interview and whether its
        simulated person went on past an emergency stop, the ranking asked for, the
        knowledge base's origin and the vocabulary the cases were cut to (``"full"``
        or ``"required"``).
    """

    summary: pd.DataFrame = field(repr=False)
    per_cause: pd.DataFrame = field(repr=False)
    per_group: pd.DataFrame = field(repr=False)
    reliability: pd.DataFrame = field(repr=False)
    cases: pd.DataFrame = field(repr=False)
    split: str = "dev"
    interview: bool = False
    carry_on: bool = False
    rank_by: str | None = None
    knowledge_base: str = "knowledge base"
    vocabulary: str = "full"
    disclaimer: str = field(default=DISCLAIMER, repr=False)

    def value(self, metric: str, scope: str = "all") -> float:
        """One figure of :attr:`summary`, e.g. ``value("top3")``."""
        check_parameter(metric in METRICS, "metric", "Evaluation.value",
                        f"one of {', '.join(METRICS)}", metric)
        check_parameter(scope in SCOPES, "scope", "Evaluation.value",
                        f"one of {', '.join(map(repr, SCOPES))}", scope)
        row = self.summary[(self.summary["metric"] == metric)
                           & (self.summary["scope"] == scope)]
        return float(row["value"].iloc[0]) if len(row) else math.nan

    def __repr__(self) -> str:
        def pct(metric: str) -> str:
            value = self.value(metric)
            return "nan" if math.isnan(value) else f"{value:.0%}"

        return (f"Evaluation(split={self.split!r}, cases={int(self.value('cases'))}, "
                f"top1={pct('top1')}, top3={pct('top3')}, triage_ok={pct('triage_ok')}"
                f"{', interview' if self.interview else ''}"
                f"{', carry on' if self.carry_on else ''}"
                f"{', required vocabulary' if self.vocabulary == 'required' else ''})")

    def _heading(self) -> str:
        how = "through the interview" if self.interview else "from every stated finding"
        if self.carry_on:
            how += ", going on past an emergency stop"
        ranking = f", ranked by {self.rank_by}" if self.rank_by is not None else ""
        words = (" (the cases cut to the required vocabulary)"
                 if self.vocabulary == "required" else "")
        return (f"Vignette evaluation: split {self.split}, {self.knowledge_base}, "
                f"{how}{words}{ranking}")

    def _summary_text(self) -> pd.DataFrame:
        table = {}
        for scope, frame in self.summary.groupby("scope", sort=False):
            # a figure's n is given only where it is not the scope's number of cases
            # (the first row): three columns of intervals stay within 120 characters
            cases = int(frame["value"].iloc[0])
            table[f"{scope} cases"] = [_cell(r, cases) for r in frame.itertuples()]
            index = [METRICS[m] for m in frame["metric"]]
        return pd.DataFrame(table, index=index)

    def _per_group_text(self) -> pd.DataFrame:
        columns = {"n": "n", "top1": "top-1", "top3": "top-3", "triage_ok": "triage ok",
                   "over_triage_2": "over-triage 2+"}
        table = pd.DataFrame(index=self.per_group["group"])
        for key, title in columns.items():
            if key == "n":
                table[title] = list(self.per_group["n"])
            else:
                table[title] = [_share(r, key) for _, r in self.per_group.iterrows()]
        table["mrr"] = [f"{v:.2f}" if not math.isnan(v) else "" for v in
                        self.per_group["mrr"]]
        return table

    def __str__(self) -> str:
        return printable("\n".join([
            self._heading(), "",
            self._summary_text().to_string(), "",
            "By group of the confirmed cause (share, Wilson 95 % interval):",
            self._per_group_text().to_string(), "",
            "Brier: sum over causes of (probability - outcome)^2, mean over cases.",
            self.disclaimer,
        ]))

    def _repr_html_(self) -> str:
        return (f"<div class='posterior-knee pk-evaluation'><p><strong>"
                f"{html.escape(self._heading())}</strong></p>"
                f"{self._summary_text().to_html(escape=True)}"
                "<p>By group of the confirmed cause (share, Wilson 95 % interval):</p>"
                f"{self._per_group_text().to_html(escape=True)}"
                f"<p class='pk-disclaimer'><em>{html.escape(self.disclaimer)}</em></p></div>")

    def to_dict(self) -> dict:
        """Plain JSON-ready data (NaN as None, tuples as lists), schema :data:`SCHEMA`."""
        return {
            "schema": SCHEMA,
            "split": self.split,
            "interview": self.interview,
            "carry_on": self.carry_on,
            "rank_by": self.rank_by,
            "knowledge_base": self.knowledge_base,
            "vocabulary": self.vocabulary,
            "metrics": dict(METRICS),
            "summary": _records(self.summary),
            "per_cause": _records(self.per_cause),
            "per_group": _records(self.per_group),
            "reliability": _records(self.reliability),
            "cases": _records(self.cases),
            "disclaimer": self.disclaimer,
        }


def _cell(row, cases: int) -> str:
    if math.isnan(row.value):
        return ""
    if row.metric in ("cases", "errors", "unknown_ids"):
        return f"{row.value:.0f}"
    n = "" if row.n == cases else f"n={row.n}"
    note = f"  ({n})" if n else ""
    if row.metric in ("mrr", "brier"):
        return f"{row.value:.3f}{note}"
    if row.metric == "questions_asked":
        return f"{row.value:.1f}{note}"
    return f"{row.value:6.1%}  ({row.low:.0%}-{row.high:.0%}{', ' + n if n else ''})"


def _share(row: pd.Series, key: str) -> str:
    value = row[key]
    if math.isnan(value):
        return ""
    return f"{value:.0%} ({row[key + '_low']:.0%}-{row[key + '_high']:.0%})"


def _plain(value: object) -> object:
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{key: _plain(value) for key, value in row.items()}
            for row in frame.to_dict(orient="records")]


# --- reading the cases -------------------------------------------------------------

def _id_tuple(value: object, column: str, case: object) -> tuple[str, ...]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(";") if part.strip())
    if isinstance(value, (Sequence, set, frozenset, np.ndarray)):
        ids = tuple(value)
        if all(isinstance(v, str) for v in ids):
            return ids
    raise ParameterError(
        f"The 'cases' parameter of evaluate must have '{column}' cells holding finding "
        f"ids (a tuple, a list or a ';'-separated string). Got {value!r} "
        f"({type(value).__name__}) in case {case!r} instead.")


def _case_frame(cases: object, split: str) -> pd.DataFrame:
    if cases is None:
        frame = vignettes()
    elif isinstance(cases, pd.DataFrame):
        frame = cases.copy()
    elif (isinstance(cases, Sequence) and not isinstance(cases, str)
          and all(isinstance(c, Mapping) for c in cases)):
        frame = pd.DataFrame(list(cases))
    else:
        check_parameter(False, "cases", "evaluate",
                        "None (the shipped vignettes), a DataFrame like "
                        "posterior_knee.vignettes() or a list of dicts", cases)
    missing = [c for c in ("cause", "min_triage") if c not in frame.columns]
    if missing or not len(frame.columns):
        raise ParameterError(
            f"The 'cases' parameter of evaluate must have the columns 'cause' and "
            f"'min_triage' (and usually 'id', 'present', 'absent'). Got a frame without "
            f"{', '.join(repr(m) for m in missing)} instead.")
    if "id" not in frame.columns:
        frame["id"] = [str(i) for i in frame.index]
    if split != "all" and "split" in frame.columns:
        frame = frame[frame["split"] == split]
    bad = [(case, level) for case, level in zip(frame["id"], frame["min_triage"])
           if level not in LEVELS]
    if bad:
        raise ParameterError(
            f"The 'cases' parameter of evaluate must give 'min_triage' as one of "
            f"{', '.join(LEVELS)}. Got {bad[0][1]!r} in case {bad[0][0]!r} instead"
            f"{f' (and {len(bad) - 1} more)' if len(bad) > 1 else ''}.")
    return frame.reset_index(drop=True)


def _cut_to_required(frame: pd.DataFrame) -> pd.DataFrame:
    """The cases with only the ids of the required vocabulary in present and absent."""
    frame = frame.copy()
    for column in ("present", "absent"):
        if column in frame.columns:
            frame[column] = [tuple(i for i in _id_tuple(value, column, case)
                                   if i in REQUIRED_EVIDENCE)
                             for value, case in zip(frame[column], frame["id"])]
    return frame


# --- scoring one case --------------------------------------------------------------

def _diagnose(model: Model, findings: dict[str, bool], rank_by: str | None,
              interview: bool, carry_on: bool = False):
    """The diagnosis of one case, the number of questions asked (or NaN) and whether
    the interview stopped at an emergency (or None without it)."""
    asked, stopped = math.nan, None
    if interview:
        from ..interview import Interview

        # the person gives their age at the door, as to every checker; everything else
        # is known to the interview only if it asks (a case's other findings it never
        # asks about do not count: the score is what the questions found)
        ages = _door(model)
        door = {name: value for name, value in findings.items() if name in ages}
        session = Interview(model, findings=door)
        stopped = False
        while True:
            question = session.next_question()
            if question is None and session.emergency_stop:
                stopped = True
                if carry_on:  # the person chose to go on: the questions resume
                    session.carry_on()
                    continue
            if question is None:
                break
            # a checklist: each item answered from the case (unstated: don't know)
            session.answer(question.finding, question.reply(findings))
        dx = session.result()
        asked = session.questions_asked
        if rank_by is not None:  # the interview's answers, ranked as asked
            # diagnose checks the name: evaluate passes on what it was given
            dx = model.diagnose(dict(dx.findings), rank_by=cast("RankBy", rank_by))
    elif rank_by is not None:
        dx = model.diagnose(findings, rank_by=cast("RankBy", rank_by))
    else:
        dx = model.diagnose(findings)
    return dx, asked, stopped


def _door(model: Model) -> frozenset[str]:
    """The ids a simulated interview is told up front: the age bands."""
    risks = model.kb.risk_factors
    return frozenset(risks.loc[risks["exclusive_group"] == "age_band", "id"])


def _score_case(model: Model, case: Mapping[str, object], rank_by: str | None,
                interview: bool, carry_on: bool,
                groups_of: Mapping[str, str]) -> dict[str, object]:
    name = case["id"]
    cause = str(case["cause"])
    present = _id_tuple(case.get("present"), "present", name)
    absent = _id_tuple(case.get("absent"), "absent", name)
    valid = set(model.kb.evidence_ids)
    unknown = tuple(dict.fromkeys(i for i in (*present, *absent) if i not in valid))
    findings = {i: True for i in present if i in valid}
    both = sorted(i for i in absent if i in findings)
    findings.update({i: False for i in absent if i in valid and i not in findings})
    row: dict[str, object] = {
        "id": name, "split": case.get("split"), "cause": cause,
        "group": groups_of.get(cause, NOT_MODELLED), "modelled": cause in groups_of,
        "rank": math.nan, "probability": math.nan, "top_cause": None,
        "top_probability": math.nan, "top3": (), "group_rank": math.nan,
        "brier": math.nan, "red_flags": (), "unknown_ids": unknown,
        "questions_asked": math.nan, "emergency_stop": None, "error": None,
    }
    try:
        if both:
            raise PosteriorKneeError(
                f"case {name!r} gives {', '.join(both)} both as present and as absent; "
                "list each id once")
        dx, row["questions_asked"], row["emergency_stop"] = _diagnose(
            model, findings, rank_by, interview, carry_on)
    except PosteriorKneeError as error:
        # a case that cannot be scored still says when to seek care: its red flags
        triage = getattr(error, "triage", None)
        if triage is None:
            triage = model.red_flag_triage({i: True for i in present if i in valid})
        row.update(error=str(error).splitlines()[0], triage=triage.level.value,
                   red_flags=tuple(triage.red_flags))
        return row
    ranking = dx.ranking
    causes = [str(c) for c in ranking["cause"]]
    probability = ranking["probability"].to_numpy(dtype=float)
    outcome = np.array([c == cause for c in causes], dtype=float)
    row.update(
        top_cause=causes[0], top_probability=float(probability[0]),
        top3=tuple(causes[:3]), brier=float(((probability - outcome) ** 2).sum()),
        triage=dx.triage.level.value, red_flags=tuple(dx.red_flags))
    if cause in causes:
        row["rank"] = causes.index(cause) + 1
        row["probability"] = float(probability[causes.index(cause)])
        group_order = [str(g) for g in dx.groups["group"]]
        row["group_rank"] = group_order.index(groups_of[cause]) + 1
    return row


def _case_table(rows: list[dict], interview: bool) -> pd.DataFrame:
    table = pd.DataFrame(rows)
    for column in ("error", "top_cause", "split", "emergency_stop"):  # None, not NaN
        table[column] = table[column].astype(object).where(table[column].notna(), None)
    rank = table["rank"] = table["rank"].astype(float)  # NaN where not ranked
    for k in (1, 3, 5):
        table[f"hit{k}"] = (rank <= k).to_numpy()
    table["reciprocal_rank"] = (1.0 / rank).fillna(0.0)
    level = table["triage"].map(LEVELS.index)
    floor = table["min_triage"].map(LEVELS.index)
    table["triage_ok"] = level >= floor
    table["triage_within_one"] = level >= floor - 1
    table["over_triage_2"] = level >= floor + 2
    return table[list(_CASE_COLUMNS)]


# --- aggregating -------------------------------------------------------------------

def _group_figures(frame: pd.DataFrame) -> dict[str, object]:
    out: dict[str, object] = {"n": len(frame)}
    hits = {"top1": "hit1", "top3": "hit3", "top5": "hit5",
            "group_top1": None, "triage_ok": "triage_ok",
            "triage_within_one": "triage_within_one", "over_triage_2": "over_triage_2"}
    for metric, column in hits.items():
        series = frame["group_rank"] == 1 if column is None else frame[column]
        value, low, high, _ = rate(series)
        out.update({metric: value, f"{metric}_low": low, f"{metric}_high": high})
    out["mrr"] = float(frame["reciprocal_rank"].mean()) if len(frame) else math.nan
    out["probability"] = float(frame["probability"].mean()) if len(frame) else math.nan
    out["errors"] = int(frame["error"].notna().sum())
    return out


def _summary(table: pd.DataFrame, interview: bool) -> pd.DataFrame:
    rows = []
    frames = {"all": table, "modelled": table[table["modelled"]],
              "contract": table[table["cause"].isin(REQUIRED_CAUSES)]}
    for scope in SCOPES:
        frame = frames[scope]
        n = len(frame)
        scored = frame[frame["error"].isna()]
        # (metric, value, n) or, for a share, (metric, value, low, high, n)
        figures: list[tuple[Any, ...]] = [("cases", n, n), ("errors", n - len(scored), n),
                   ("unknown_ids", sum(len(u) for u in frame["unknown_ids"]),
                    sum(bool(u) for u in frame["unknown_ids"]))]
        for metric, column in (("top1", "hit1"), ("top3", "hit3"), ("top5", "hit5")):
            figures.append((metric, *rate(frame[column])))
        figures.append(("mrr", frame["reciprocal_rank"].mean() if n else math.nan, n))
        figures.append(("group_top1", *rate(frame["group_rank"] == 1)))
        figures.append(("brier", scored["brier"].mean() if len(scored) else math.nan,
                        len(scored)))
        for metric in ("triage_ok", "triage_within_one", "over_triage_2"):
            figures.append((metric, *rate(frame[metric])))
        if interview:
            figures.append(("questions_asked", scored["questions_asked"].mean()
                            if len(scored) else math.nan, len(scored)))
            figures.append(("emergency_stops",
                            *rate(scored["emergency_stop"].astype(bool))))
        for metric, value, *rest in figures:
            low, high, count = rest if len(rest) == 3 else (math.nan, math.nan, rest[0])
            rows.append({"metric": metric, "scope": scope, "value": float(value),
                         "low": low, "high": high, "n": int(count)})
    return pd.DataFrame(rows, columns=["metric", "scope", "value", "low", "high", "n"])


def _per(table: pd.DataFrame, key: str, order: Sequence[str],
         labels: Mapping[str, str]) -> pd.DataFrame:
    present = list(dict.fromkeys(table[key]))
    keys = [k for k in order if k in present] + sorted(k for k in present
                                                       if k not in order)
    rows = []
    for value in keys:
        frame = table[table[key] == value]
        rows.append({key: value, "label": labels.get(value, ""),
                     **({"group": str(frame["group"].iloc[0]),
                         "modelled": bool(frame["modelled"].iloc[0])}
                        if key == "cause" else {}),
                     **_group_figures(frame)})
    return pd.DataFrame(rows)


# --- the public function -----------------------------------------------------------

def evaluate(kb: KnowledgeBase | Model | None = None, cases: object = None, *,
             split: str | None = "dev", rank_by: str | None = None,
             interview: bool = False, carry_on: bool = False,
             vocabulary: str = "full") -> Evaluation:
    """Score a knowledge base on the vignette suite: ranking, triage and calibration.

    Each case's stated findings go to :meth:`Model.diagnose` (one model is built for
    the run). Finding ids the knowledge base does not define are dropped and counted
    (``unknown_ids``); a case whose confirmed cause the knowledge base does not model is
    a miss for the ranking (rank NaN) and the summary gives every figure for all cases
    and for the modelled ones. A case that raises (for example impossible evidence)
    does not stop the run: its error is recorded and its triage is the one its red
    flags set. Tune on the ``dev`` split only; score ``test`` when a change is finished,
    and record that score in CHANGELOG.md with the change that produced it.

    Parameters
    ----------
    kb
        A knowledge base (for example a tuned copy from
        :func:`~posterior_knee.load_knowledge_base`), a compiled
        :class:`~posterior_knee.Model`, or None for the shipped priors.
    cases
        None for the shipped suite (:func:`~posterior_knee.vignettes`), or a DataFrame
        (or list of dicts) with at least ``cause`` and ``min_triage``, usually ``id``,
        ``present`` and ``absent`` (tuples or ';'-separated strings of ids).
    split
        ``"dev"`` (default), ``"test"``, or ``"all"`` / None for every case. Applied only
        when the cases have a ``split`` column.
    rank_by
        Passed to ``Model.diagnose(findings, rank_by=...)`` when not None; the rank of
        the confirmed cause is its row in the resulting ``ranking``.
    interview
        If True, each case goes through :class:`~posterior_knee.Interview` instead: the
        age band is given up front, each question (each item of a checklist) is
        answered from the case (present yes, absent no, anything the case does not
        state "don't know"), and the case is scored on the diagnosis where the
        interview stops, from the answers it asked for (a stated finding it never
        asked about does not count). The summary adds ``questions_asked`` and
        ``emergency_stops`` (the share of cases whose interview stopped at an
        emergency: there the ranking is read where the emergency advice stopped it).
    carry_on
        With ``interview``: the simulated person goes on answering after an emergency
        stop (:meth:`~posterior_knee.Interview.carry_on`), so the ranking is scored on
        every question the interview would ask. The triage is the same (an emergency
        stays an emergency). This measures the questions; the default measures what
        a person is shown.

    Returns
    -------
    Evaluation
        The summary, per-cause, per-group and reliability tables and one row per case.

    Notes
    -----
    - top-k: the confirmed cause is among the first k rows of the ranking; mean
      reciprocal rank counts a miss as 0.
    - Triage: strict when the level is at or above ``min_triage``; within one level when
      it is at most one level below; over-triage when it is two or more levels above.
    - Brier score: per case the sum over every cause of the knowledge base of
      (probability - outcome)^2, the outcome 1 for the confirmed cause and 0 for the
      others (causes are not exclusive, so it ranges from 0 to the number of causes);
      the mean over the cases that did not raise.
    - Intervals: Wilson 95 % score intervals on the proportions.

    Examples
    --------
    >>> import posterior_knee as pk
    >>> cases = [{"id": "x", "cause": "bakers_cyst", "min_triage": "soon",
    ...           "present": ("lump_behind_knee", "tightness_behind_knee"),
    ...           "absent": ("fever",)}]
    >>> result = pk.evaluate(cases=cases)
    >>> row = result.cases.iloc[0]   # a Baker's cyst ranked first, triage acceptable
    >>> int(row["rank"]), bool(row["triage_ok"])
    (1, True)
    >>> result.value("top1")
    1.0
    """
    if kb is None or isinstance(kb, KnowledgeBase):
        model = Model(kb)
    elif isinstance(kb, Model):
        model = kb
    else:
        check_parameter(False, "kb", "evaluate",
                        "a KnowledgeBase, a Model or None (the shipped priors)", kb)
    check_parameter(split is None or split in (*SPLITS, "all"), "split", "evaluate",
                    "'dev', 'test', 'all' or None", split)
    check_parameter(rank_by is None or isinstance(rank_by, str), "rank_by", "evaluate",
                    "None or the name of a ranking", rank_by)
    check_parameter(isinstance(interview, bool), "interview", "evaluate",
                    "True or False", interview)
    check_parameter(carry_on is False or (carry_on is True and interview), "carry_on",
                    "evaluate", "False, or True together with interview=True", carry_on)
    check_parameter(vocabulary in VOCABULARIES, "vocabulary", "evaluate",
                    "'full' or 'required'", vocabulary)
    split = "all" if split is None else split
    frame = _case_frame(cases, split)
    if vocabulary == "required":
        frame = _cut_to_required(frame)
    causes = model.kb.causes
    groups_of = dict(zip(causes["id"], causes["group"]))
    rows = [_score_case(model, case, rank_by, interview, carry_on, groups_of)
            for case in frame.to_dict(orient="records")]
    for row, level in zip(rows, frame["min_triage"]):
        row["min_triage"] = level
    table = (_case_table(rows, interview) if rows
             else pd.DataFrame(columns=list(_CASE_COLUMNS)))
    scored = table[table["error"].isna()]
    return Evaluation(
        summary=_summary(table, interview),
        per_cause=_per(table, "cause", list(causes["id"]),
                       dict(zip(causes["id"], causes["label"]))),
        per_group=_per(table, "group", [*GROUPS, NOT_MODELLED],
                       {**GROUPS, NOT_MODELLED: "Cause not modelled"}),
        reliability=reliability_table(scored["top_probability"], scored["hit1"]),
        cases=table,
        split=split,
        interview=interview,
        carry_on=carry_on,
        rank_by=rank_by,
        knowledge_base=str(model.kb.origin),
        vocabulary=vocabulary,
    )
