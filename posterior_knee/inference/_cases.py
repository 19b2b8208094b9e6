"""The batch of cases the factored engines work on, and their unnormalised answers.

Shared by Quickscore (:mod:`._factored`) and the cancellation-free sums
(:mod:`._positive`), so that neither needs the other at import time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ImpossibleEvidenceError
from ._engine import Posterior
from ._structure import EvidenceParts, Structure

MAX_PRESENT = 3  # past this, Quickscore rarely certifies: positive sums straight away
MAX_PRESENT_POSITIVE = 8  # past this, enumeration is cheaper (2**8 pending sets)
MAX_UNIT = 12  # causes linked into one unit: a table of 2**12 configurations per row
ERROR_LIMIT = 1e-10  # ten times below the 1e-9 agreement the tests demand
# elements of the largest intermediate (cases x hubs x subsets x units) per chunk:
# 2**22 doubles is 32 MiB, which keeps a batch's peak memory bounded
CHUNK_ELEMENTS = 2 ** 22
EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True, eq=False)
class Cases:
    """Evidence for C cases that report the same number m of findings present."""

    masks: Mapping[str, np.ndarray]  # risk node -> (C, states) 0/1; only nodes with evidence
    weight: np.ndarray  # (C, causes): product of (1 - strength) over findings reported absent
    constant: np.ndarray  # (C,): product of (1 - leak) over findings reported absent
    present: np.ndarray  # (C, m): indices into Structure.findings of the present findings
    # (C,): multiplications that made weight and constant: their rounding enters the bound
    steps: np.ndarray

    def __len__(self) -> int:
        return len(self.weight)

    @classmethod
    def from_parts(cls, parts: Sequence[EvidenceParts], structure: Structure) -> Cases:
        """Stack per-case evidence (all with the same number of present findings)."""
        index = structure.finding_index
        nodes = {name for p in parts for name in p.masks}
        masks = {name: np.array([p.masks.get(name, np.ones(structure.cardinality(name)))
                                 for p in parts]) for name in nodes}
        present = np.array([[index[f.name] for f in p.present] for p in parts],
                           dtype=np.intp).reshape(len(parts), -1)
        return cls(masks, np.array([p.weight for p in parts]),
                   np.array([p.constant for p in parts]), present,
                   np.array([p.steps for p in parts], dtype=float))

    def take(self, rows: np.ndarray) -> Cases:
        return Cases({k: v[rows] for k, v in self.masks.items()}, self.weight[rows],
                     self.constant[rows], self.present[rows], self.steps[rows])


@dataclass(frozen=True, eq=False)
class Sums:
    """Unnormalised answers for a batch: P(e), P(cause, e), P(no cause of group, e)."""

    total: np.ndarray  # (C,)
    causes: np.ndarray  # (C, causes)
    none: np.ndarray  # (C, groups)
    error: np.ndarray  # (C,): bound on the absolute rounding error of every sum

    @property
    def ok(self) -> np.ndarray:
        """Cases whose answers are certain to within ERROR_LIMIT (relative to P(e))."""
        return self.within(ERROR_LIMIT)

    def within(self, limit: float) -> np.ndarray:
        """Cases whose sums are certain to within ``limit`` of P(e)."""
        return (self.total > 0.0) & (self.error <= limit * self.total)

    @classmethod
    def join(cls, parts: Sequence[Sums]) -> Sums:
        """The answers of consecutive batches of rows as one (``none`` may be None in
        every part: answers without groups)."""
        if len(parts) == 1:
            return parts[0]
        none = parts[0].none
        return cls(np.concatenate([p.total for p in parts]),
                   np.concatenate([p.causes for p in parts]),
                   none if none is None else np.concatenate([p.none for p in parts]),
                   np.concatenate([p.error for p in parts]))

    def put(self, rows: np.ndarray, values: Sums) -> None:
        """Overwrite the answers of ``rows`` with ``values`` (one row each, in order)."""
        for name in ("total", "causes", "none", "error"):
            getattr(self, name)[rows] = getattr(values, name)

    def first(self) -> Posterior:
        """The first case's posterior (a batch of one query), or ImpossibleEvidenceError
        when its evidence has probability zero."""
        if not self.total[0] > 0.0:
            raise ImpossibleEvidenceError(
                "The evidence has probability zero under the model (for example two "
                "exclusive age bands both reported present); check the reported values.")
        causes, groups = self.posteriors()
        return Posterior(causes[0], groups[0], float(self.total[0]))

    def posteriors(self) -> tuple[np.ndarray, np.ndarray]:
        """(C, causes) and (C, groups) posterior probabilities."""
        with np.errstate(invalid="ignore", divide="ignore"):
            causes = self.causes / self.total[:, None]
            groups = 1.0 - self.none / self.total[:, None]
        return np.clip(causes, 0.0, 1.0), np.clip(groups, 0.0, 1.0)
