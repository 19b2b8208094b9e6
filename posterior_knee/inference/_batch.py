"""Scoring a frame of cases at once (``Model.diagnose_many``).

Each chunk of rows is read into two boolean matrices (reported present, reported
absent) in a few whole-chunk calls; bad values and contradictory rows are collected
with their row position, never dropped. The good rows become the factored
engine's arrays (risk-factor masks, the weight and constant of the findings reported
absent, the indices of those reported present), built with a loop over columns, not
over rows. Rows are grouped by the number m of findings present and each group is one
engine batch (:class:`._dispatch.Engines` picks the engine by cost: the factored one up
to MAX_PRESENT_POSITIVE present findings, variable elimination beyond, one batch per
pattern of present findings); the rows not answered by the factored engine are counted.
Triage is vectorised too
(:meth:`TriageRules.levels`). The frame is processed in chunks of rows, so memory
stays bounded whatever the number of rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

from ..errors import (
    EvidenceValueError,
    ImpossibleEvidenceError,
    UnknownIdError,
    check_int,
    check_parameter,
)
from ._cases import Cases

if TYPE_CHECKING:
    from ..model import Model

_IMPOSSIBLE = "the model gives this evidence probability zero; check the reported values"
SHOWN = 10  # bad rows listed in full in an error message; the rest are counted
ERROR_MODES = ("raise", "mark")
_FIX = ("Use True (present), False (absent) or a missing value (None, NaN, pd.NA) in "
        "every cell, and at most one True per exclusive group (the age bands); or pass "
        "errors='mark' to score the other rows and get each bad row's problem in an "
        "'error' column.")


@dataclass
class Parsed:
    """One chunk of the frame as boolean matrices over its columns (``ids``)."""

    present: np.ndarray  # (C, k) bool: reported True
    absent: np.ndarray  # (C, k) bool: reported False
    problems: dict[int, list[str]] = field(default_factory=dict)  # row position -> why
    value_errors: bool = False  # some problem is a bad value (not only a contradiction)


@dataclass
class Scores:
    """Posteriors of the good rows of a chunk (bad rows hold NaN)."""

    causes: np.ndarray  # (C, causes)
    groups: np.ndarray  # (C, groups)
    scored: np.ndarray  # (C,) bool
    problems: dict[int, list[str]]  # rows the model gives probability zero
    enumerated: int  # rows not answered by the factored engine (elimination, enumeration)


class BatchScorer:
    """The per-model arrays that turn a frame into engine input; built once per Model."""

    def __init__(self, model: Model):
        self.model = model
        structure = model.structure
        self.causes = structure.cause_ids
        self.groups = tuple(structure.groups)
        self._finding = structure.finding_index
        arrays = structure.finding_arrays  # per finding: 1 - strength, 1 - leak, parents
        self._q, self._keep, self._parents = arrays.q, arrays.keep, arrays.parents
        self._cards = {node.name: len(node.states) for node in structure.risk_nodes}
        self._exclusive = [tuple(node.members) for node in structure.risk_nodes
                           if len(node.members) > 1]

    # -- columns and values ----------------------------------------------------------
    def check_columns(self, frame: pd.DataFrame) -> tuple[str, ...]:
        valid = self.model._valid
        for column in frame.columns:
            if column not in valid:
                hint = "Rename or drop that column."
                if column in self.causes:
                    hint = (f"{column!r} is a cause, which the model infers; keep only "
                            "finding and risk-factor columns.")
                raise UnknownIdError(str(column), "finding or risk-factor (column)",
                                     valid, hint)
        duplicated = frame.columns[frame.columns.duplicated()]
        if len(duplicated):
            raise EvidenceValueError(
                f"The column {duplicated[0]!r} appears more than once in the frame; keep "
                "one (for example frame.loc[:, ~frame.columns.duplicated()]).")
        return tuple(frame.columns)

    def parse(self, chunk: pd.DataFrame, ids: tuple[str, ...]) -> Parsed:
        present, absent, bad = _read_cells(chunk)
        parsed = Parsed(present, absent)
        for pos, k in zip(*np.nonzero(bad)):  # only bad cells: the error path
            value = _plain(chunk.iloc[pos, k])
            parsed.problems.setdefault(int(pos), []).append(
                f"column {ids[k]!r} holds {value!r} ({type(value).__name__}), not True, "
                "False or missing")
            parsed.value_errors = True
        column = {name: k for k, name in enumerate(ids)}
        for members in self._exclusive:
            cols = [column[m] for m in members if m in column]
            if len(cols) < 2:
                continue
            for pos in np.flatnonzero(present[:, cols].sum(axis=1) > 1):
                both = [ids[c] for c in cols if present[pos, c]]
                parsed.problems.setdefault(int(pos), []).append(
                    f"{' and '.join(map(repr, both))} are True together, but they are exclusive "
                    "states of one risk factor; report at most one as True")
        return parsed

    # -- scoring ---------------------------------------------------------------------
    def score(self, present: np.ndarray, absent: np.ndarray, ids: tuple[str, ...]) -> Scores:
        """Posteriors for rows of checked evidence (present / absent matrices over ids)."""
        count = len(present)
        causes = np.full((count, len(self.causes)), np.nan)
        groups = np.full((count, len(self.groups)), np.nan)
        model = self.model
        problems: dict[int, list[str]] = {}
        enumerated = 0
        if model._engines is None:  # the pgmpy engine: one query per row
            for row in range(count):
                evidence = {ids[k]: bool(present[row, k])
                            for k in np.flatnonzero(present[row] | absent[row])}
                try:
                    post = model.posterior(evidence)
                except ImpossibleEvidenceError:
                    problems[row] = [_IMPOSSIBLE]
                    continue
                causes[row], groups[row] = post.causes, post.groups
        else:
            engines = model._engines
            cases, found = self._cases(present, absent, ids)
            for m in np.unique(found):
                rows = np.flatnonzero(found == m)
                batch = cases(rows, int(m))
                if engines.choose(batch) != "factored":
                    enumerated += len(rows)
                sums = engines.certain_sums(batch)
                ok = sums.total > 0.0
                c, g = sums.posteriors()
                causes[rows[ok]], groups[rows[ok]] = c[ok], g[ok]
                for row in rows[~ok]:
                    problems[int(row)] = [_IMPOSSIBLE]
        scored = np.ones(count, dtype=bool)
        scored[list(problems)] = False
        return Scores(causes, groups, scored, problems, enumerated)

    def _cases(self, present, absent, ids):
        """A function (rows, m) -> Cases, and the number of findings present per row."""
        count = len(present)
        # columns in the structure's finding order, whatever the frame's column order:
        # the products below (and the engine's) then match Model.diagnose bit for bit
        findings = sorted((k for k, name in enumerate(ids) if name in self._finding),
                          key=lambda k: self._finding[ids[k]])
        index = np.array([self._finding[ids[k]] for k in findings], dtype=np.intp)
        weight = np.ones((count, len(self.causes)))
        constant = np.ones(count)
        steps = np.zeros(count)  # multiplications, for the engine's rounding bound
        for k, j in zip(findings, index):  # a loop over columns, vectorised over rows
            weight *= np.where(absent[:, k, None], self._q[j], 1.0)
            constant *= np.where(absent[:, k], self._keep[j], 1.0)
            steps += absent[:, k] * (self._parents[j] + 1)
        masks: dict[str, np.ndarray] = {}
        for k, name in enumerate(ids):
            if name in self._finding:
                continue
            node, state = self.model.structure.risk_evidence[name]
            mask = masks.setdefault(node, np.ones((count, self._cards[node])))
            # present: only that state is possible; absent: every state but that one
            yes = np.zeros(self._cards[node])
            yes[state] = 1.0
            mask[present[:, k]] *= yes
            mask[absent[:, k], state] = 0.0
        on = present[:, findings]
        found = on.sum(axis=1)

        def cases(rows: np.ndarray, m: int) -> Cases:
            # row-major nonzero lists each row's present columns in turn
            cols = np.nonzero(on[rows])[1].reshape(len(rows), m)
            return Cases({node: mask[rows] for node, mask in masks.items()},
                         weight[rows], constant[rows], index[cols], steps[rows])

        return cases, found


def _read_cells(chunk: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(present, absent, bad) boolean matrices for a chunk, in a few whole-chunk calls."""
    shape = chunk.shape
    if all(dtype == np.dtype(bool) for dtype in chunk.dtypes):
        on = chunk.to_numpy(dtype=bool)
        return on, ~on, np.zeros(shape, dtype=bool)
    # every other layout (object, pandas "boolean" with NA, all-NaN float columns,
    # strings) as Python objects: one missing-value test and one type check in C
    cells = chunk.to_numpy(dtype=object)
    known = ~pd.isna(cells)
    given = cells[known]
    if infer_dtype(given, skipna=False) in ("boolean", "empty"):
        ok = np.ones(len(given), dtype=bool)
    else:  # some cell is not a boolean: find which (only chunks with bad values)
        ok = np.fromiter((isinstance(v, (bool, np.bool_)) for v in given), bool, len(given))
    truth = np.zeros(len(given), dtype=bool)
    truth[ok] = given[ok].astype(bool)
    on, off, bad = (np.zeros(shape, dtype=bool) for _ in range(3))
    on[known] = truth
    off[known] = ok & ~truth
    bad[known] = ~ok
    return on, off, bad


def diagnose_many(model: Model, frame: pd.DataFrame, chunk_size: int, progress: bool,
                  errors: str) -> pd.DataFrame:
    """The body of :meth:`Model.diagnose_many` (see there)."""
    function = "diagnose_many"
    check_parameter(isinstance(frame, pd.DataFrame), "frame", function,
                    "a pandas DataFrame with one column per finding id", frame)
    chunk_size = check_int(chunk_size, "chunk_size", function, minimum=1,
                           expected="a positive integer")
    check_parameter(isinstance(progress, (bool, np.bool_)), "progress", function,
                    "True or False", progress)
    check_parameter(isinstance(errors, str) and errors in ERROR_MODES, "errors", function,
                    "'raise' or 'mark'", errors)
    scorer = model._batch
    ids = scorer.check_columns(frame)
    count = len(frame)
    causes = np.full((count, len(scorer.causes)), np.nan)
    groups = np.full((count, len(scorer.groups)), np.nan)
    levels = np.full(count, None, dtype=object)
    problems: dict[int, list[str]] = {}
    value_errors = False
    bar = _progress_bar(count) if progress else None
    try:
        for start in range(0, count, int(chunk_size)):
            chunk = frame.iloc[start:start + int(chunk_size)]
            parsed = scorer.parse(chunk, ids)
            # red flags first, from the valid cells alone: a row that cannot be scored
            # (a bad cell, a contradiction, evidence of probability zero) keeps them
            levels[start:start + len(chunk)] = scorer.model.rules.levels(
                parsed.present, ids, None)
            value_errors |= parsed.value_errors
            problems.update((start + pos, why) for pos, why in parsed.problems.items())
            # once a row is bad in "raise" mode, only check the rest (to name them all)
            if not (problems and errors == "raise"):
                _score_chunk(scorer, parsed, ids, start, causes, groups, levels, problems)
            if bar is not None:
                bar.update(len(chunk))
    finally:
        if bar is not None:
            bar.close()
    if problems and errors == "raise":
        raise _bad_rows_error(frame.index, problems, value_errors, levels)

    columns = {cause: causes[:, i] for i, cause in enumerate(scorer.causes)}
    columns.update((f"group:{group}", groups[:, j]) for j, group in enumerate(scorer.groups))
    columns["triage"] = pd.array(levels, dtype="str")
    if errors == "mark":
        why = np.full(count, None, dtype=object)
        for pos, reasons in problems.items():
            why[pos] = "; ".join(reasons)
        columns["error"] = pd.array(why, dtype="str")
    return pd.DataFrame(columns, index=frame.index, copy=False)


def _score_chunk(scorer, parsed, ids, start, causes, groups, levels, problems) -> None:
    good = np.ones(len(parsed.present), dtype=bool)
    good[list(parsed.problems)] = False
    rows = np.flatnonzero(good)
    present, absent = parsed.present[rows], parsed.absent[rows]
    scores = scorer.score(present, absent, ids)
    problems.update((start + int(rows[pos]), why) for pos, why in scores.problems.items())
    rows, present = rows[scores.scored], present[scores.scored]
    c, g = scores.causes[scores.scored], scores.groups[scores.scored]
    causes[start + rows], groups[start + rows] = c, g
    probabilities = {cause: c[:, i] for i, cause in enumerate(scorer.causes)}
    levels[start + rows] = scorer.model.rules.levels(present, ids, probabilities)


def _bad_rows_error(index: pd.Index, problems: dict[int, list[str]],
                    value_errors: bool, levels: np.ndarray) -> Exception:
    n = len(problems)
    lines = [f"{n} row{'s' if n != 1 else ''} of the frame cannot be scored "
             "(rows named by their index label):"]
    for pos in sorted(problems)[:SHOWN]:
        flag = "" if levels[pos] == "self_care" else \
            f" (its valid answers raise red flags: triage {levels[pos]})"
        lines.append(f"  - Row {_plain(index[pos])!r}: {'; '.join(problems[pos])}{flag}")
    if n > SHOWN:
        lines.append(f"  - ... and {n - SHOWN} more row{'s' if n - SHOWN != 1 else ''}")
    lines.append(_FIX)
    kind = EvidenceValueError if value_errors else ImpossibleEvidenceError
    error = kind("\n".join(lines))
    bad = sorted(problems)
    # the red-flag level of every bad row, by its index label
    error.triage = pd.Series(pd.array(levels[bad], dtype="str"), index=index[bad],
                             name="triage")
    return error


def _plain(value: object) -> object:
    """A numpy scalar as the Python value it holds, so messages show 11, not np.int64(11)."""
    return value.item() if isinstance(value, np.generic) else value


def _progress_bar(total: int):
    from tqdm import tqdm  # a dependency; imported only when a bar is asked for

    return tqdm(total=total, unit="case", desc="diagnose_many")
