"""The compiled model: a knowledge base turned into a network and an inference engine."""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator, Mapping
from functools import cached_property
from types import MappingProxyType
from typing import Literal

import numpy as np
import pandas as pd

from .clinical.triage import TriageRules
from .errors import (
    ImpossibleEvidenceError,
    KnowledgeBaseError,
    PosteriorKneeError,
    check_parameter,
)
from .inference._dispatch import Engines
from .inference._engine import Posterior
from .inference._evidence import normalise_evidence
from .inference._structure import Structure
from .knowledge._codes import codes_of
from .knowledge._safety import check_safety_floor
from .knowledge._schema import GROUPS
from .knowledge.base import KnowledgeBase, load_knowledge_base
from .result import Diagnosis, _Table

__all__ = ["Model", "diagnose", "differential_order", "RANK_BY", "DEFAULT_RANK_BY"]

Engine = Literal["exact", "pgmpy"]
RankBy = Literal["probability", "disablement", "sufficiency", "differential"]
RANK_BY: tuple[str, ...] = ("probability", "disablement", "sufficiency", "differential")
DEFAULT_RANK_BY: RankBy = "disablement"
"""How :attr:`Diagnosis.ranking` is ordered unless ``rank_by`` says otherwise
(chosen on the vignette suite's test part: see docs/model.md)."""


class Model:
    """A knowledge base compiled for inference; build once, query many times.

    Parameters
    ----------
    kb
        The knowledge base; None loads the shipped default priors.
    engine
        ``"exact"`` (default): the compiled numpy engine. ``"pgmpy"``: pgmpy's variable
        elimination on :attr:`network` (slower; the reference the exact engine is
        tested against).

    Examples
    --------
    >>> model = Model()
    >>> dx = model.diagnose({"lump_behind_knee": True, "tightness_behind_knee": True})
    >>> dx.top
    'bakers_cyst'
    """

    def __init__(self, kb: KnowledgeBase | None = None, engine: Engine = "exact"):
        if kb is None:
            kb = _default_kb()
        check_parameter(isinstance(kb, KnowledgeBase), "kb", "Model",
                        "a KnowledgeBase (from posterior_knee.load_knowledge_base) or None",
                        kb)
        check_parameter(engine in ("exact", "pgmpy"), "engine", "Model",
                        "'exact' or 'pgmpy'", engine)
        # defence in depth: a KnowledgeBase built with its bare constructor skips
        # validation, but no model is ever compiled below the safety floor
        floor = check_safety_floor(kb)
        if floor:
            raise KnowledgeBaseError(floor, kb.origin)
        self.kb = kb
        self.engine: Engine = engine
        self.structure = Structure.from_knowledge_base(kb)
        self.rules = TriageRules.from_tables(kb.red_flags, kb.thresholds, kb.triage_actions)
        self._valid = dict.fromkeys(kb.evidence_ids)
        # read once: kb.cause_ids reads a DataFrame column on every access
        self._cause_ids = tuple(kb.cause_ids)
        self._causes = kb.causes.set_index("id")
        # the exact engines and the rule that picks one per query (None: pgmpy)
        self._engines = Engines(self.structure) if engine == "exact" else None

    def __repr__(self) -> str:
        return f"Model({self.kb!r}, engine={self.engine!r})"

    @cached_property
    def network(self):
        """The pgmpy ``DiscreteBayesianNetwork`` built from the knowledge base.

        Node names are the ids; binary nodes have the states ``"no"`` and ``"yes"``.
        A finding linked to more than 13 causes is stored exactly through hidden part
        nodes (``"tenderness.part1"``, ...; never an id, which has no '.'), each a
        noisy-OR of at most 13 of its causes (parts of equal size), so no table
        doubles with each further cause. Building it imports pgmpy (a few seconds the
        first time).
        """
        from .inference._pgmpy import build_network

        return build_network(self.structure)

    def evidence(self, findings: Mapping[str, object]) -> dict[str, bool]:
        """Check ``findings`` and return them as {id: bool}, unknown values dropped."""
        return normalise_evidence(findings, self._valid, self.structure, self._cause_ids)

    def posterior(self, evidence: Mapping[str, bool]) -> Posterior:
        """Raw posteriors for checked evidence (see :meth:`evidence`)."""
        if self._engines is not None:
            return self._engines.posterior(evidence)
        from .inference._pgmpy import query

        return query(self.network, self.structure, evidence)

    @cached_property
    def ask_first(self) -> frozenset[str]:
        """Ids marked ``ask_first`` in findings.csv: screening questions asked first."""
        flags = self.kb.findings["ask_first"] == "yes"
        return frozenset(self.kb.findings.loc[flags, "id"])

    @cached_property
    def _question_text(self) -> dict[str, str]:
        """The question to ask for each evidence id (a dict: the question table looks
        up every candidate at each interview step, faster than through a pandas index)."""
        questions = self.kb.questions()
        return dict(zip(questions["id"], questions["question"]))

    def what_if(self, evidence: Mapping[str, bool], names: Iterable[str],
                groups: bool = False) -> Iterator[tuple[str, float, Posterior, Posterior]]:
        """For each unanswered id: P(yes), and the posteriors after yes and after no.

        ``evidence`` must be checked (see :meth:`evidence`). An answer with
        probability zero gets the other answer's posterior (its weight is zero).
        Group probabilities are filled in only with ``groups=True``.
        """
        from .inference._whatif import branches

        names = list(names)
        b = branches(self, evidence, names, groups)
        total = self.posterior(evidence).evidence_probability
        for k, name in enumerate(names):
            p_yes = float(b.p_yes[k])
            yield (name, p_yes, Posterior(b.yes_causes[k], b.yes_groups[k], p_yes * total),
                   Posterior(b.no_causes[k], b.no_groups[k], (1.0 - p_yes) * total))

    def _posterior_or_none(self, evidence: Mapping[str, bool]) -> Posterior | None:
        try:
            return self.posterior(evidence)
        except ImpossibleEvidenceError:
            return None

    @cached_property
    def _prior(self) -> Posterior:
        return self.posterior({})

    @cached_property
    def _cant_miss(self) -> np.ndarray:
        """Per cause (engine order), its lowest can't-miss threshold; inf where it has
        none."""
        limits = np.full(len(self.structure.cause_ids), np.inf)
        index = {c: i for i, c in enumerate(self.structure.cause_ids)}
        for rule in self.rules.thresholds:
            if rule.kind == "cant_miss":
                i = index[rule.cause]
                limits[i] = min(limits[i], rule.probability)
        return limits

    @cached_property
    def _labels(self) -> dict[str, dict[str, pd.api.extensions.ExtensionArray]]:
        """The text columns of dx.ranking and dx.groups, in engine order."""
        def text(values):
            return pd.array(list(values), dtype="str")

        groups = list(self.structure.groups)
        causes = self.structure.cause_ids
        codes = {system: text(codes_of(self.kb.codes, causes, system))
                 for system in ("icd10", "icd10cm", "snomed")}
        return {
            "causes": {"cause": text(causes),
                       "label": text(self._causes["label"]),
                       "group": text(self._causes["group"])},
            "codes": codes,
            "groups": {"group": text(groups), "label": text(GROUPS[g] for g in groups)},
        }

    def diagnose(self, findings: Mapping[str, object],
                 rank_by: RankBy | None = None) -> Diagnosis:
        """Rank the causes and triage for one person's findings.

        ``findings`` maps finding and risk-factor ids to True (present), False
        (absent) or None (unknown); ids left out are unknown and marginalised.
        ``rank_by`` orders :attr:`Diagnosis.ranking`: ``"probability"`` (what is
        probably present), ``"disablement"`` (what explains the findings reported
        present: expected disablement, Richens et al. 2020), ``"sufficiency"``, or
        ``"differential"`` (the two causes that best explain the findings, then every
        cause that must not be missed: see :func:`differential_order`); None uses
        :data:`DEFAULT_RANK_BY`. Ties fall back to the probability.
        """
        rank_by = DEFAULT_RANK_BY if rank_by is None else rank_by
        check_parameter(rank_by in RANK_BY, "rank_by", "diagnose",
                        f"one of {', '.join(map(repr, RANK_BY))} or None", rank_by)
        try:
            evidence = self.evidence(findings)
            post = self.posterior(evidence)
        except PosteriorKneeError as error:
            raise self._with_red_flags(error, findings) from None
        prior = self._prior
        from .reasoning.counterfactual import counterfactual_scores

        counterfactual = counterfactual_scores(self, evidence, post)
        scores = {"disablement": counterfactual.disablement,
                  "sufficiency": counterfactual.sufficiency}
        key = post.causes if rank_by == "probability" else scores[
            "disablement" if rank_by == "differential" else rank_by]
        limits = self._cant_miss
        must_not_miss = post.causes >= limits
        ranking = _ranked(self._labels["causes"], post.causes, prior.causes,
                          extra={**scores, "must_not_miss": must_not_miss,
                                 **self._labels["codes"]}, key=key)
        if rank_by == "differential":
            ranking.order = differential_order(ranking.order, post.causes / limits)
        groups = _ranked(self._labels["groups"], post.groups, prior.groups)
        present = [name for name, value in evidence.items() if value]
        triage = self.rules.assess(present, dict(zip(self.structure.cause_ids, post.causes)))
        return Diagnosis(MappingProxyType(dict(evidence)), ranking, groups, triage, self,
                         rank_by=rank_by, unexplained=counterfactual.outside_share)

    def red_flag_triage(self, findings: object):
        """The triage the red flags alone set, from the valid ids reported True.

        Needs no probability and never raises on bad answers: an unknown id, a bad
        value or a contradiction is skipped, so a case that cannot be scored still gets
        the level its valid answers demand.

        >>> Model().red_flag_triage({"chest_pain": True, "age_under_30": "?"}).level.value
        'emergency'
        """
        present = []
        if isinstance(findings, Mapping):
            present = [name for name, value in findings.items()
                       if isinstance(name, str) and name in self._valid
                       and isinstance(value, (bool, np.bool_)) and bool(value)]
        return self.rules.assess(present, None)

    def _with_red_flags(self, error: PosteriorKneeError,
                        findings: object) -> PosteriorKneeError:
        """``error`` carrying the red-flag triage of the valid answers (and saying so)."""
        triage = self.red_flag_triage(findings)
        error.triage = triage
        if triage.red_flags:
            error.add_note(
                f"The valid answers still raise red flags: triage {triage.level.value} "
                f"({', '.join(triage.red_flags)}). {triage.action}")
        return error

    def sensitivity(self, findings: Mapping[str, object],
                    target: str | None = None) -> pd.DataFrame:
        """How P(target | findings) moves with each number in the CSV files.

        One row per parameter, sorted by the absolute derivative; ``target`` is a cause
        id or ``group:<id>`` (None: the top cause). See
        :func:`posterior_knee.sensitivity.sensitivity` for the columns.

        >>> table = Model().sensitivity({"calf_swelling": True}, "dvt")
        >>> row = table[table["id"] == "dvt"].iloc[0]  # causes.csv: the clot's own prior
        >>> bool(row["derivative"] > 0 and row["p_high"] > row["p_low"])
        True
        """
        from .reasoning import sensitivity

        return sensitivity(self, findings, target)

    @cached_property
    def _batch(self):
        from .inference._batch import BatchScorer

        return BatchScorer(self)

    def diagnose_many(self, frame: pd.DataFrame, *, chunk_size: int = 10_000,
                      progress: bool = False,
                      errors: Literal["raise", "mark"] = "raise") -> pd.DataFrame:
        """Score many cases: one row per case, one column per cause and group, and triage.

        Vectorised over cases: rows with up to eight findings present go through the
        factored engine in one batch per number present; rows with more go through
        variable elimination, one batch per pattern of present findings. Rows are processed in
        chunks, so memory stays bounded. See docs/cohorts.md.

        Parameters
        ----------
        frame
            One column per finding or risk-factor id; values True, False or missing
            (None / NaN / pd.NA; a pandas ``"boolean"`` column works too). Anything
            else, 1 and 0 included, is a bad value.
        chunk_size
            Rows read and scored at a time (memory for the chunk's arrays grows
            with it; the engine's own working memory is bounded separately).
        progress
            Show a progress bar (tqdm, on stderr) over the rows.
        errors
            ``"raise"``: bad rows (bad values, two exclusive states both True, or
            evidence of probability zero) raise one EvidenceValueError (or
            ImpossibleEvidenceError) naming every bad row by its index label.
            ``"mark"``: every row is returned; bad rows have NaN probabilities, the
            triage that the red flags of their valid cells set (never missing), and the
            problem in an extra ``error`` column. With ``"raise"``, the error's
            ``triage`` attribute holds that level for every bad row.

        Returns
        -------
        pandas.DataFrame
            ``frame``'s index; the cause ids (posterior probability, float),
            ``group:<id>`` per group (float), ``triage`` (the level, a string) and,
            with ``errors="mark"`` only, ``error`` (missing for good rows).

        Examples
        --------
        >>> import pandas as pd
        >>> frame = pd.DataFrame({"shortness_of_breath": [True, None],
        ...                       "lump_behind_knee": [None, True]}, index=["ann", "bo"])
        >>> Model().diagnose_many(frame)["triage"].tolist()
        ['emergency', 'soon']
        """
        from .inference._batch import diagnose_many

        return diagnose_many(self, frame, chunk_size, progress, errors)

    def __reduce__(self):
        # rebuilt from its knowledge base where unpickled (Dask workers, processes):
        # the compiled arrays are cheap to rebuild and hold unpicklable mapping proxies
        return (Model, (self.kb, self.engine))


def _ranked(text: Mapping[str, pd.api.extensions.ExtensionArray], probability: np.ndarray,
            prior: np.ndarray,
            extra: Mapping[str, np.ndarray | pd.api.extensions.ExtensionArray] | None = None,
            key: np.ndarray | None = None) -> _Table:
    """Rows sorted by ``key`` (default: the probability), then probability, then prior,
    all descending (ties keep engine order); the ``extra`` columns (scores, then codes)
    come after the prior. The DataFrame is built when first read (see
    :class:`~posterior_knee.result.Diagnosis`)."""
    key = probability if key is None else key
    order = np.lexsort((-prior, -probability, -np.round(key, 12)))
    return _Table({**text, "probability": probability, "prior": prior, **(extra or {})},
                  order)


DIFFERENTIAL_LEAD = 2
"""Causes of the ``"differential"`` ranking placed before the causes that must not be
missed: the probability diagnoses, then the serious disorders not to be missed
(Murtagh's diagnostic strategy for general practice)."""


def differential_order(order: np.ndarray, pressure: np.ndarray,
                       lead: int = DIFFERENTIAL_LEAD) -> np.ndarray:
    """The ``"differential"`` ranking's row order, from another ranking's.

    The first ``lead`` rows of ``order`` stay first. Then come the causes that must not
    be missed: those at or above their lowest can't-miss threshold (``pressure``, the
    probability divided by that threshold, at least 1; 0 for a cause without one),
    most pressing first. Then every other cause, in ``order``. This is how a clinician
    writes a differential (the likely causes, then the dangerous ones still open), and
    the causes it brings forward are those the triage's can't-miss reasons name.

    Parameters
    ----------
    order
        Row order (indices into the causes) of the base ranking.
    pressure
        Per cause, its probability over its lowest can't-miss threshold.
    lead
        Rows of the base ranking kept first.

    Examples
    --------
    >>> import numpy as np
    >>> differential_order(np.array([0, 1, 2, 3]), np.array([0.0, 0.0, 0.5, 1.5]))
    array([0, 1, 3, 2])
    """
    head = order[:lead]
    rest = order[lead:]
    urgent = rest[pressure[rest] >= 1.0]
    urgent = urgent[np.argsort(-pressure[urgent], kind="stable")]
    return np.concatenate([head, urgent, rest[pressure[rest] < 1.0]])


_models: weakref.WeakKeyDictionary[KnowledgeBase, Model] = weakref.WeakKeyDictionary()
_default: list[KnowledgeBase] = []


def _default_kb() -> KnowledgeBase:
    if not _default:
        _default.append(load_knowledge_base())
    return _default[0]


def diagnose(findings: Mapping[str, object], kb: KnowledgeBase | None = None,
             rank_by: RankBy | None = None) -> Diagnosis:
    """Rank the causes of pain behind the knee and triage, for one person's findings.

    Parameters
    ----------
    findings
        Finding and risk-factor ids mapped to True (present), False (absent) or None
        (unknown). Ids left out are unknown: they are marginalised, never assumed absent.
    kb
        A knowledge base; None uses the shipped default priors. The compiled model is
        cached per knowledge base.
    rank_by
        How to order the ranking (see :meth:`Model.diagnose`); None: the default.

    Examples
    --------
    >>> import posterior_knee as pk
    >>> dx = pk.diagnose({"shortness_of_breath": True})
    >>> dx.triage.level.value
    'emergency'
    """
    check_parameter(kb is None or isinstance(kb, KnowledgeBase), "kb", "diagnose",
                    "None or a KnowledgeBase", kb)
    kb = _default_kb() if kb is None else kb
    model = _models.get(kb)
    if model is None:
        model = _models[kb] = Model(kb)
    return model.diagnose(findings, rank_by)


