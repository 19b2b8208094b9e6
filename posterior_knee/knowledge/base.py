"""Loading, validating and saving a knowledge base (a folder of CSV files).

The CSV files are the single source of truth; everything else (the pgmpy network,
the compiled engine, triage) is built from a :class:`KnowledgeBase`.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..clinical._condition import condition_ids, parse_condition
from ..errors import KnowledgeBaseError, Problem, check_parameter, did_you_mean
from ._schema import LEVELS, NUMERIC_KINDS, RANGED, TABLES, Table, parse_cell

__all__ = ["KnowledgeBase", "load_knowledge_base", "default_priors_path"]


def default_priors_path() -> Path:
    """The folder holding the shipped default priors (inside the installed package).

    Copy it to tune the priors::

        import shutil, posterior_knee as pk
        shutil.copytree(pk.default_priors_path(), "my_priors")
    """
    return Path(str(resources.files("posterior_knee.priors")))


@dataclass(frozen=True, eq=False)
class KnowledgeBase:
    """A validated knowledge base: one pandas DataFrame per CSV file.

    Build one with :func:`load_knowledge_base` or :meth:`from_tables`; the tables are
    checked on construction (a :class:`~posterior_knee.errors.KnowledgeBaseError`
    lists every problem found). Columns are described in ``docs/csv-format.md``.
    Treat the tables as read-only: to change a number, copy a table, edit it and
    build a new knowledge base with :meth:`replace`.
    """

    risk_factors: pd.DataFrame
    causes: pd.DataFrame
    risk_effects: pd.DataFrame
    cause_links: pd.DataFrame
    findings: pd.DataFrame
    finding_links: pd.DataFrame
    red_flags: pd.DataFrame
    thresholds: pd.DataFrame
    tests: pd.DataFrame
    self_care: pd.DataFrame
    cause_advice: pd.DataFrame
    triage_actions: pd.DataFrame
    origin: str = field(default="knowledge base", compare=False)

    # -- construction -------------------------------------------------------------
    @classmethod
    def from_tables(
        cls, tables: Mapping[str, pd.DataFrame], origin: str = "knowledge base"
    ) -> KnowledgeBase:
        """Validate tables (one DataFrame per CSV file name, without '.csv').

        Cells may be strings (as read from CSV) or numbers. Rows are numbered in
        error messages as a spreadsheet would number them (header = line 1) unless
        the frames carry their own file line numbers as index.
        """
        problems: list[Problem] = []
        parsed: dict[str, pd.DataFrame] = {}
        missing = [name for name in TABLES if name not in tables]
        for name in missing:
            problems.append(
                Problem(
                    TABLES[name].file,
                    None,
                    None,
                    "file is missing; copy it from the shipped priors "
                    "(posterior_knee.default_priors_path())",
                )
            )
        unknown = sorted(set(tables) - set(TABLES))
        for name in unknown:
            problems.append(
                Problem(
                    f"{name}.csv",
                    None,
                    None,
                    "is not a knowledge-base table." + did_you_mean(name, TABLES),
                )
            )
        for name, table in TABLES.items():
            if name in tables:
                frame = _as_strings(tables[name])
                parsed[name] = _parse_table(table, frame, problems)
        if not problems:
            problems += _check_consistency(parsed)
        if problems:
            raise KnowledgeBaseError(problems, origin)
        kb = cls(**{name: frame.reset_index(drop=True) for name, frame in parsed.items()},
                 origin=origin)
        from ._safety import check_safety_floor

        safety = check_safety_floor(kb)
        if safety:
            raise KnowledgeBaseError(safety, origin)
        return kb

    def replace(self, **tables: pd.DataFrame) -> KnowledgeBase:
        """A new, validated knowledge base with some tables replaced.

        >>> kb = load_knowledge_base()
        >>> causes = kb.causes.copy()
        >>> causes.loc[causes["id"] == "dvt", "prior"] = 0.05
        >>> tuned = kb.replace(causes=causes)
        """
        merged = {name: getattr(self, name) for name in TABLES}
        merged.update(tables)
        return KnowledgeBase.from_tables(merged, origin=f"{self.origin} (edited)")

    # -- saving ---------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write every table as CSV into the folder ``path`` (created if needed).

        Each file is written to a temporary name in the same folder and then renamed
        over the old one, so an interrupted save never leaves a half-written file.
        Numbers are written with full precision: what is saved loads back to
        identical answers. The optional ``low`` / ``high`` range columns are written
        for a table whenever one of its rows gives a range.
        """
        check_parameter(isinstance(path, (str, os.PathLike)), "path", "KnowledgeBase.save",
                        "a folder path (str or pathlib.Path)", path)
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        for name, table in TABLES.items():
            frame = getattr(self, name)
            if name in RANGED and frame[["low", "high"]].isna().all(axis=None):
                # optional range columns with no range: leave them out, as loaded
                frame = frame.drop(columns=["low", "high"])
            _atomic_write(folder / table.file, _to_csv_text(frame))

    # -- ids ------------------------------------------------------------------------
    @property
    def cause_ids(self) -> tuple[str, ...]:
        return tuple(self.causes["id"])

    @property
    def finding_ids(self) -> tuple[str, ...]:
        return tuple(self.findings["id"])

    @property
    def risk_factor_ids(self) -> tuple[str, ...]:
        return tuple(self.risk_factors["id"])

    @property
    def evidence_ids(self) -> tuple[str, ...]:
        """Every id that may be reported: findings, then risk factors."""
        return self.finding_ids + self.risk_factor_ids

    def questions(self) -> pd.DataFrame:
        """One row per evidence id: ``id``, ``kind`` (finding or risk_factor), ``label``,
        ``question``, ``category``."""
        findings = self.findings[["id", "label", "question", "category"]].assign(
            kind="finding"
        )
        risks = self.risk_factors[["id", "label", "question"]].assign(
            kind="risk_factor", category="risk_factor"
        )
        return pd.concat([findings, risks], ignore_index=True)[
            ["id", "kind", "category", "label", "question"]
        ]

    def __repr__(self) -> str:
        return (
            f"KnowledgeBase({self.origin!r}: {len(self.causes)} causes, "
            f"{len(self.findings)} findings, {len(self.risk_factors)} risk factors, "
            f"{len(self.red_flags)} red-flag rules)"
        )


def load_knowledge_base(path: str | os.PathLike[str] | None = None) -> KnowledgeBase:
    """Load and validate a knowledge base from a folder of CSV files.

    Parameters
    ----------
    path
        A folder holding the CSV files described in ``docs/csv-format.md``; None (the
        default) loads the priors shipped with the package.

    Raises
    ------
    KnowledgeBaseError
        Listing every problem found, each with its file, line and column. Loading
        only reads: a failed load changes no file.

    Examples
    --------
    >>> kb = load_knowledge_base()
    >>> "dvt" in kb.cause_ids
    True
    """
    check_parameter(path is None or isinstance(path, (str, os.PathLike)), "path",
                    "load_knowledge_base", "None or a folder path (str or pathlib.Path)",
                    path)
    folder = default_priors_path() if path is None else Path(path)
    origin = "default priors" if path is None else str(folder)
    if not folder.is_dir():
        what = "does not exist" if not folder.exists() else "is not a folder"
        raise KnowledgeBaseError(
            [Problem(str(folder), None, None,
                     f"{what}; give the folder that holds the CSV files "
                     "(e.g. a copy of posterior_knee.default_priors_path())")],
            origin,
        )
    tables: dict[str, pd.DataFrame] = {}
    problems: list[Problem] = []
    for name, table in TABLES.items():
        file = folder / table.file
        if not file.exists():
            continue  # reported as missing by from_tables
        try:
            tables[name] = _read_csv(file)
        except _ReadError as error:
            problems.append(Problem(table.file, error.line, None, error.message))
    if problems:
        raise KnowledgeBaseError(problems, origin)
    return KnowledgeBase.from_tables(tables, origin=origin)


# -- reading ----------------------------------------------------------------------


class _ReadError(Exception):
    def __init__(self, message: str, line: int | None = None):
        self.message = message
        self.line = line


def _read_csv(file: Path) -> pd.DataFrame:
    """Read a CSV file as strings; the index is the file line of each row.

    The csv module is used rather than pandas.read_csv because it reports the exact
    line of every row (quoted cells may span lines, blank lines are skipped) and never
    guesses types: every cell is checked by the schema.
    """
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise _ReadError(
            f"is not UTF-8 text ({error.reason} at byte {error.start}); "
            "save it as 'CSV UTF-8' from your spreadsheet"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise _ReadError("is empty; it needs a header row and at least one row", 1)
        header = [cell.strip() for cell in header]
        rows, lines = [], []
        start = reader.line_num + 1
        for row in reader:
            if not any(cell.strip() for cell in row):
                start = reader.line_num + 1
                continue
            if len(row) != len(header):
                raise _ReadError(
                    f"has {len(row)} cells but the header has {len(header)}; "
                    "check for a missing or extra comma, or quote cells that contain commas",
                    start,
                )
            rows.append([cell.strip() for cell in row])
            lines.append(start)
            start = reader.line_num + 1
    except csv.Error as error:
        raise _ReadError(f"is not valid CSV ({error})", reader.line_num) from None
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        raise _ReadError(f"has duplicate column(s) {duplicated} in its header", 1)
    if any(not c for c in header):
        raise _ReadError("has a column without a name in its header", 1)
    return pd.DataFrame(rows, columns=header, index=pd.Index(lines, name="line"), dtype=object)


def _as_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells as stripped strings (numbers in full precision, missing as '')."""
    out = frame.copy()
    if not (isinstance(out.index, pd.Index) and out.index.name == "line"):
        out.index = pd.RangeIndex(2, 2 + len(out), name="line")
    out.columns = [str(c).strip() for c in out.columns]
    for column in out.columns:
        out[column] = [_cell_text(v) for v in out[column]]
    return out.astype(object)


def _cell_text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(value).strip()


def _parse_table(table: Table, frame: pd.DataFrame, problems: list[Problem]) -> pd.DataFrame:
    file = table.file
    columns_ok = True
    for column in table.columns:
        if column.name not in frame.columns:
            if column.optional_column:
                frame[column.name] = ""
                continue
            problems.append(
                Problem(file, 1, column.name,
                        "column is missing from the header."
                        + did_you_mean(column.name, [c for c in frame.columns]))
            )
            columns_ok = False
    if not columns_ok:
        return frame
    if frame.empty:
        problems.append(Problem(file, None, None, "has no rows; at least one is needed"))
        return frame
    out = frame.copy()
    for column in table.columns:
        values = []
        for line, text in zip(frame.index, frame[column.name]):
            value, error = parse_cell(column, text)
            if error:
                problems.append(Problem(file, int(line), column.name, error))
            values.append(value)
        out[column.name] = values
        if column.kind in NUMERIC_KINDS:
            out[column.name] = out[column.name].astype(float)
    if table.key:
        keys = ["/".join(map(str, values)) for values in zip(*(out[k] for k in table.key))]
        first_line: dict[str, int] = {}
        for line, key in zip(out.index, keys):
            if key in first_line:
                problems.append(
                    Problem(file, int(line), "/".join(table.key),
                            f"duplicate {'/'.join(table.key)} {key!r} (first on line "
                            f"{first_line[key]}); merge the two rows or delete one")
                )
            else:
                first_line[key] = int(line)
    # extra columns (notes a tuner adds) are kept as strings and saved back
    ordered = list(table.column_names) + [c for c in out.columns if c not in table.column_names]
    return out[ordered]


# -- consistency across tables ------------------------------------------------------


def _check_consistency(t: dict[str, pd.DataFrame]) -> list[Problem]:
    problems: list[Problem] = []
    risk_ids = list(t["risk_factors"]["id"])
    cause_ids = list(t["causes"]["id"])
    finding_ids = list(t["findings"]["id"])
    groups = sorted({g for g in t["risk_factors"]["exclusive_group"] if g})

    # one namespace: evidence ids, cause ids and group node names become network nodes
    seen: dict[str, str] = {}
    for file, ids in (("risk_factors.csv", risk_ids), ("causes.csv", cause_ids),
                      ("findings.csv", finding_ids)):
        frame = t[file.removesuffix(".csv")]
        for line, name in zip(frame.index, ids):
            if name in seen:
                problems.append(Problem(file, int(line), "id",
                                        f"{name!r} is already used in {seen[name]}; "
                                        "ids must be unique across files"))
            seen[name] = file
    for group in groups:
        if group in seen:
            problems.append(Problem("risk_factors.csv", None, "exclusive_group",
                                    f"group name {group!r} is also an id in {seen[group]}"))

    def ref(file: str, column: str, valid: list[str], kind: str) -> None:
        frame = t[file.removesuffix(".csv")]
        for line, name in zip(frame.index, frame[column]):
            if name not in valid:
                problems.append(Problem(file, int(line), column,
                                        f"unknown {kind} id {name!r}." + did_you_mean(name, valid)))

    ref("risk_effects.csv", "risk_factor", risk_ids, "risk-factor")
    ref("risk_effects.csv", "cause", cause_ids, "cause")
    ref("cause_links.csv", "parent", cause_ids, "cause")
    ref("cause_links.csv", "child", cause_ids, "cause")
    ref("finding_links.csv", "cause", cause_ids, "cause")
    ref("finding_links.csv", "finding", finding_ids, "finding")
    ref("thresholds.csv", "cause", cause_ids, "cause")
    ref("cause_advice.csv", "cause", cause_ids, "cause")
    advice = t["cause_advice"]
    for kind, table in (("test", "tests"), ("self_care", "self_care")):
        valid = list(t[table]["id"])
        for line, item in zip(advice.index[advice["kind"] == kind],
                              advice.loc[advice["kind"] == kind, "item"]):
            if item not in valid:
                problems.append(Problem("cause_advice.csv", int(line), "item",
                                        f"unknown {table}.csv id {item!r} for kind "
                                        f"'{kind}'." + did_you_mean(item, valid)))
    missing_levels = [lv for lv in LEVELS if lv not in set(t["triage_actions"]["level"])]
    if missing_levels:
        problems.append(Problem("triage_actions.csv", None, "level",
                                f"no action for level(s) {missing_levels}; add one row each"))

    links = t["cause_links"]
    for line, row in links.iterrows():
        if row["parent"] == row["child"]:
            problems.append(Problem("cause_links.csv", int(line), "child",
                                    f"{row['child']!r} links to itself"))
        has_ratio = not np.isnan(row["odds_ratio"])
        if row["kind"] == "odds_ratio" and not has_ratio:
            problems.append(Problem("cause_links.csv", int(line), "odds_ratio",
                                    "is empty; an 'odds_ratio' link needs an odds ratio"))
        if row["kind"] == "requires" and has_ratio:
            problems.append(Problem("cause_links.csv", int(line), "odds_ratio",
                                    "must be empty for a 'requires' link (the child is "
                                    "impossible without the parent); delete the number "
                                    "or change kind to 'odds_ratio'"))
    import networkx as nx  # only needed here; keeps the command line quick to start

    graph = nx.DiGraph(list(zip(links["parent"], links["child"])))
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        pass
    else:
        path = " -> ".join([a for a, _ in cycle] + [cycle[0][0]])
        problems.append(Problem("cause_links.csv", None, None,
                                f"links form a cycle ({path}); remove one of these links"))

    risks = t["risk_factors"]
    for group in groups:
        members = risks[risks["exclusive_group"] == group]
        total = float(members["prevalence"].sum())
        if total > 1.0 + 1e-12:
            problems.append(Problem(
                "risk_factors.csv", int(members.index[0]), "prevalence",
                f"prevalences of exclusive group {group!r} sum to {total:g} > 1; "
                "they are the probabilities of alternatives and must leave room for 'other'"))

    problems += _check_ranges(t)

    evidence = set(risk_ids) | set(finding_ids)
    for line, text in zip(t["red_flags"].index, t["red_flags"]["condition"]):
        condition, error = parse_condition(text)
        if error:
            problems.append(Problem("red_flags.csv", int(line), "condition", error))
            continue
        for name in sorted(condition_ids(condition) - evidence):
            problems.append(Problem("red_flags.csv", int(line), "condition",
                                    f"unknown finding or risk-factor id {name!r}."
                                    + did_you_mean(name, evidence)))
    return problems


def _check_ranges(t: dict[str, pd.DataFrame]) -> list[Problem]:
    """Plausible ranges: both ends or neither, around the value, inside its domain.

    Each end's own domain ([0, 1] or > 0) was checked cell by cell on parsing.
    """
    problems: list[Problem] = []
    for name, column in RANGED.items():
        file = TABLES[name].file
        frame = t[name]
        for line, value, low, high in zip(frame.index, frame[column], frame["low"],
                                          frame["high"]):
            if np.isnan(low) and np.isnan(high):
                continue
            if np.isnan(low) or np.isnan(high):
                empty = "low" if np.isnan(low) else "high"
                problems.append(Problem(file, int(line), empty,
                                        "is empty but the other end of the range is "
                                        "given; fill in both 'low' and 'high', or neither"))
            elif np.isnan(value):  # a 'requires' cause link has no odds ratio to range
                problems.append(Problem(file, int(line), "low",
                                        f"a range needs a value in '{column}'; leave "
                                        "'low' and 'high' empty on this row"))
            elif not low <= value <= high:
                problems.append(Problem(file, int(line), "low" if low > value else "high",
                                        f"the range [{low:g}, {high:g}] must contain the "
                                        f"value {value:g} ('{column}'): low <= {column} "
                                        "<= high"))
    risks = t["risk_factors"]
    for group in sorted({g for g in risks["exclusive_group"] if g}):
        members = risks[risks["exclusive_group"] == group]
        total = float(members["prevalence"].sum())
        for line, value, high in zip(members.index, members["prevalence"], members["high"]):
            if total - value + high > 1.0 + 1e-12:
                problems.append(Problem(
                    "risk_factors.csv", int(line), "high",
                    f"{high:g} with the other prevalences of exclusive group {group!r} "
                    f"sums to {total - value + high:g} > 1; lower 'high' to at most "
                    f"{1.0 - (total - value):g}"))
    return problems


# -- writing ----------------------------------------------------------------------


def _to_csv_text(frame: pd.DataFrame) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(frame.columns))
    for row in frame.itertuples(index=False):
        writer.writerow([_cell_text(v) for v in row])
    return out.getvalue()


def _atomic_write(target: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                         dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
