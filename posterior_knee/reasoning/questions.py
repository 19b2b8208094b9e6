"""What to ask next, and when to stop asking.

The next best question maximises the expected reduction in uncertainty, measured
as the sum of the binary entropies (in bits) of the cause posteriors (``by="causes"``,
the default: causes are not mutually exclusive, so each is a yes/no unknown) or of
the group posteriors (``by="groups"``). ``focus`` restricts the sum to named causes,
e.g. ``focus=["dvt"]`` to rule a clot in or out. Questions flagged ``ask_first`` in
``findings.csv`` (screening for red flags) come before all others.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..clinical.triage import TriageLevel
from ..errors import check_int, check_parameter
from ..inference._whatif import branches
from .explain import _cause_index

if TYPE_CHECKING:
    from ..model import Model
    from ..result import Diagnosis

__all__ = ["rank_questions", "stop_reason"]

_EPS = 1e-15
_ORDER = {level.value: k for k, level in enumerate(TriageLevel)}  # self_care ... emergency


def _entropy_bits(p: np.ndarray) -> np.ndarray:
    """Sum of binary entropies along the last axis, in bits."""
    p = np.clip(np.asarray(p, dtype=float), _EPS, 1.0 - _EPS)
    return -(p * np.log2(p) + (1.0 - p) * np.log2(1.0 - p)).sum(axis=-1)


def _uncertainty(model: Model, by: str, focus: Sequence[str] | None):
    """A function of (cause posteriors, group posteriors) -> uncertainty in bits."""
    check_parameter(by in ("causes", "groups"), "by", "next_questions",
                    "'causes' or 'groups'", by)
    if focus is not None:
        if isinstance(focus, str):
            focus = [focus]
        index = [_cause_index(model, c) for c in focus]
        return lambda causes, groups: _entropy_bits(causes[..., index])
    if by == "groups":
        return lambda causes, groups: _entropy_bits(groups)
    return lambda causes, groups: _entropy_bits(causes)


def _candidates(model: Model, evidence: Mapping[str, bool]) -> list[str]:
    """Unanswered ids whose answer is not already fixed by another answer."""
    fixed = set(evidence)
    for node in model.structure.risk_nodes:
        if any(evidence.get(member) for member in node.members):
            fixed |= set(node.members)  # one age band known fixes the others
    return [name for name in model._valid if name not in fixed]


def rank_questions(model: Model, evidence: Mapping[str, bool], k: int | None = None,
                   focus: Sequence[str] | None = None, by: str = "causes",
                   exclude: Iterable[str] = (), *,
                   diagnosis: Diagnosis | None = None) -> pd.DataFrame:
    """Unanswered questions ranked: ``ask_first`` ones first, then those whose answer
    could raise the triage level, then by expected gain.

    Columns: ``finding``, ``question``, ``ask_first``, ``expected_gain`` (bits),
    ``p_yes`` (the model's probability that the answer is yes), ``if_yes`` and
    ``if_no`` (the current top cause's probability after that answer),
    ``changes_result`` (whether some answer would change the top three causes or the
    triage level) and ``raises_level`` (whether an answer would raise the triage
    level: a "yes" that fires a red flag, or either answer taking a can't-miss cause
    past its threshold; a "no" can, as "the pain began less than three days ago"
    makes an acute cause likelier). ``exclude`` names ids not
    to ask (e.g. answered "don't know"). ``diagnosis`` is ``model.diagnose(evidence)``
    when the caller already has it (as :meth:`Diagnosis.next_questions
    <posterior_knee.Diagnosis.next_questions>` does): its posteriors are the current
    ones, so they are not computed again.
    """
    k = check_int(k, "k", "next_questions", minimum=1, none=True,
                  expected="None or a positive integer")
    measure = _uncertainty(model, by, focus)
    causes, groups = _current(model, evidence, diagnosis)
    top = int(np.argmax(causes))
    top3 = _top3(causes)
    before = float(measure(causes, groups))
    skip = set(exclude)
    names = [c for c in _candidates(model, evidence) if c not in skip]
    b = branches(model, evidence, names, groups=by == "groups")
    after = (b.p_yes * measure(b.yes_causes, b.yes_groups)
             + (1.0 - b.p_yes) * measure(b.no_causes, b.no_groups))
    # triage now and after each answer, all at once: rows are the ids reported present
    # (a "yes" adds its id, a "no" adds none), in the model's order of ids
    ids = list(model._valid)
    column = {name: j for j, name in enumerate(ids)}
    now = np.zeros(len(ids), dtype=bool)
    now[[column[name] for name, value in evidence.items() if value]] = True
    level = _levels(model, ids, now[None, :], causes[None, :])[0]
    n = len(names)
    present = np.repeat(now[None, :], 2 * n, axis=0)
    present[np.arange(n), [column[name] for name in names]] = True
    levels = _levels(model, ids, present, np.concatenate([b.yes_causes, b.no_causes]))
    rank = np.array([_ORDER[x] for x in levels], dtype=int)
    p_no = 1.0 - b.p_yes
    changes = ((((_top3(b.yes_causes) != top3).any(axis=-1) | (levels[:n] != level))
                & (b.p_yes > 0.0))
               | (((_top3(b.no_causes) != top3).any(axis=-1) | (levels[n:] != level))
                  & (p_no > 0.0)))
    # a "no" moves the posteriors too, and can take a can't-miss cause past its threshold
    raises = (((rank[:n] > _ORDER[level]) & (b.p_yes > 0.0))
              | ((rank[n:] > _ORDER[level]) & (p_no > 0.0)))
    ask_first = np.array([name in model.ask_first for name in names], dtype=bool)
    gain = np.maximum(0.0, before - after)
    # safety first: screening, then what could make the advice more urgent (a stable
    # sort, descending on each key, ties in candidate order)
    order = np.lexsort((-gain, -raises.astype(int), -ask_first.astype(int)))
    ranked = [names[j] for j in order]
    text = model._question_text
    table = pd.DataFrame({
        "finding": ranked,
        "question": [text[name] for name in ranked],
        "ask_first": ask_first[order],
        "expected_gain": gain[order],
        "p_yes": b.p_yes[order],
        "if_yes": b.yes_causes[order, top],
        "if_no": b.no_causes[order, top],
        "changes_result": changes[order],
        "raises_level": raises[order],
    })
    table.attrs.update(top_cause=model.structure.cause_ids[top], uncertainty_bits=before)
    return table if k is None else table.head(k)


def _current(model: Model, evidence: Mapping[str, bool],
             diagnosis: Diagnosis | None) -> tuple[np.ndarray, np.ndarray]:
    """The cause and group posteriors of the evidence (engine order), read from its
    diagnosis when there is one."""
    if diagnosis is None:
        current = model.posterior(evidence)
        return current.causes, current.groups
    # a diagnosis of other findings would rank (and triage) the wrong answers
    check_parameter(diagnosis.model is model and dict(diagnosis.findings) == dict(evidence),
                    "diagnosis", "rank_questions",
                    "None or model.diagnose(evidence) of this model and these findings",
                    diagnosis)
    return (np.asarray(diagnosis._ranking.columns["probability"]),
            np.asarray(diagnosis._groups.columns["probability"]))


def _top3(probabilities: np.ndarray) -> np.ndarray:
    """The three most probable causes (ties in engine order), as sorted indices."""
    return np.sort(np.argsort(-probabilities, axis=-1, kind="stable")[..., :3], axis=-1)


def _levels(model: Model, ids: list[str], present: np.ndarray,
            causes: np.ndarray) -> np.ndarray:
    """The triage level of each row (ids reported present, cause posteriors)."""
    return model.rules.levels(present, ids, dict(zip(model.structure.cause_ids, causes.T)))


def stop_reason(questions: pd.DataFrame, min_gain: float = 0.02) -> str | None:
    """Why asking more would not help, or None while it still could.

    ``questions`` is the full table from :func:`rank_questions`. Asking stops once
    every screening (``ask_first``) question is answered, no remaining "yes" would
    raise the triage level (``raises_level``), and either no question is left, the
    best expected gain is below ``min_gain`` bits, or no answer to any remaining
    question would change the top three causes or the triage level.
    """
    if questions.empty:
        return "every question has been answered"
    if questions["ask_first"].any():
        return None
    if "raises_level" in questions and questions["raises_level"].any():
        return None  # an answer could still make the advice more urgent
    if questions["expected_gain"].max() < min_gain:
        return f"no question is expected to gain {min_gain} bits or more"
    if not questions["changes_result"].any():
        return "no answer to any remaining question changes the top three causes or triage"
    return None
