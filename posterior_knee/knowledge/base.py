"""Loading, validating and saving a knowledge base (a folder of CSV files).

The CSV files are the single source of truth; everything else (the pgmpy network,
the compiled engine, triage) is built from a :class:`KnowledgeBase`.
"""

from __future__ import annotations

import dataclasses
import graphlib
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..clinical._condition import condition_ids, parse_condition
from ..errors import (
    FormulaCellWarning,
    KnowledgeBaseError,
    Problem,
    check_parameter,
    did_you_mean,
)
from . import _io
from ._codes import check_codes
from ._schema import (
    LEVELS,
    NUMERIC_KINDS,
    RANGED,
    TABLES,
    TEXT_KINDS,
    Table,
    is_formula_like,
    neutralise_formula,
    parse_cell,
    restore_formula,
)

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
    # optional: a tuned copy without codes.csv loads with no codes
    codes: pd.DataFrame = field(default_factory=lambda: _empty("codes"))
    origin: str = field(default="knowledge base", compare=False)
    # how each file was written where it was loaded from (column order, byte-order
    # mark, line endings), so that saving keeps it; table name -> layout
    # (a plain dict, private: a mapping proxy would not pickle)
    _layouts: Mapping[str, _io.FileLayout] = field(
        default_factory=dict, compare=False, repr=False)

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
        missing = [name for name in TABLES if name not in tables and not TABLES[name].optional]
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
            if name in tables or table.optional:
                given = tables[name] if name in tables else _empty(name)
                repeated = _repeated_columns(given)
                problems += [Problem(table.file, 1, column, "is repeated in the header; "
                                     "keep one column of each name") for column in repeated]
                if not repeated:
                    parsed[name] = _parse_table(table, _as_strings(given), problems)
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
        kb = KnowledgeBase.from_tables(merged, origin=f"{self.origin} (edited)")
        return dataclasses.replace(kb, _layouts=self._layouts)

    # -- saving ---------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write every table as CSV into the folder ``path`` (created if needed).

        The files are saved as one unit: whatever happens (an error, a full disk, the
        process killed), loading the folder gives the whole old knowledge base or the
        whole new one, never a mix (see "Saving" in ``docs/csv-format.md``). Nothing
        is written unless the new files would load back to this very knowledge base.

        What a tuner wrote is kept where possible: an existing file keeps its column
        order, byte-order mark and line endings (otherwise those of the file the table
        was loaded from), its permissions, and stays a symbolic link if it is one;
        other files in the folder are never touched. Numbers are written with full
        precision. A text cell that a spreadsheet would run as a formula (starting
        with ``=``, ``+``, ``-``, ``@``) is written with a leading apostrophe, which
        loading removes. The optional ``low`` / ``high`` range columns are written
        for a table when one of its rows gives a range or the file already has them.

        Raises
        ------
        KnowledgeBaseError
            When the tables would not load back (nothing is written).
        KnowledgeBaseWriteError
            When the folder cannot be written (the path is a file, permission denied,
            disk full...); the message names the path.

        Examples
        --------
        >>> import tempfile
        >>> kb = load_knowledge_base()
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     kb.save(folder)
        ...     load_knowledge_base(folder).cause_ids == kb.cause_ids
        True
        """
        function = "KnowledgeBase.save"
        check_parameter(isinstance(path, (str, os.PathLike)), "path", function,
                        "a folder path (str or pathlib.Path)", path)
        check_parameter(_nonempty(path), "path", function,
                        "a folder path that is not empty", path)
        folder = Path(path)
        contents = {table.file: self._file_bytes(name, folder / table.file)
                    for name, table in TABLES.items()}
        self._check_loads_back(contents, folder)
        _io.write_files(folder, contents)

    def _file_bytes(self, name: str, target: Path) -> bytes:
        """One table as the bytes of its CSV file, in the layout it should keep."""
        existing, _ = _io.read_regular(target)
        layout = ((_io.layout_of(existing) if existing is not None else None)
                  or self._layouts.get(name) or _io.DEFAULT_LAYOUT)
        frame = getattr(self, name)
        if (name in RANGED and frame[["low", "high"]].isna().all(axis=None)
                and not {"low", "high"} & set(layout.columns)):
            # optional range columns with no range: leave them out, as loaded
            frame = frame.drop(columns=["low", "high"])
        columns = _column_order(layout.columns, list(frame.columns))
        text = _text_columns(TABLES[name], columns)
        rows = ([neutralise_formula(cell) if column in text else cell
                 for column, cell in zip(columns, map(_cell_text, values))]
                for values in frame[columns].itertuples(index=False))
        return _io.render_csv(columns, rows, layout)

    def _check_loads_back(self, contents: Mapping[str, bytes], folder: Path) -> None:
        """Never write a knowledge base that would not load: read the bytes back."""
        origin = f"{folder} (nothing was written)"
        tables, _, problems, _ = _parse_files(contents)
        if problems:
            raise KnowledgeBaseError(problems, origin)
        again = KnowledgeBase.from_tables(tables, origin=origin)
        for name, table in TABLES.items():
            mine, theirs = getattr(self, name), getattr(again, name)
            if not _same_table(table, mine, theirs):
                raise KnowledgeBaseError([Problem(
                    table.file, None, None,
                    "would not load back to the same table (a cell changed on the way "
                    "through CSV); please report this as a bug")], origin)

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
        Listing every problem found, each with its file, line and column: a file that
        is missing, not a regular file, unreadable, larger than 10 MB, not CSV, or a
        bad cell. Loading only reads: a failed load changes no file.

    Warns
    -----
    FormulaCellWarning
        For text cells that a spreadsheet would run as a formula (see
        ``docs/csv-format.md``); the knowledge base is loaded all the same.

    Examples
    --------
    >>> kb = load_knowledge_base()
    >>> "dvt" in kb.cause_ids
    True
    """
    function = "load_knowledge_base"
    check_parameter(path is None or isinstance(path, (str, os.PathLike)), "path",
                    function, "None or a folder path (str or pathlib.Path)", path)
    check_parameter(path is None or _nonempty(path), "path", function,
                    "None (the shipped priors) or a folder path that is not empty (use "
                    "'.' for the current folder)", path)
    folder = default_priors_path() if path is None else Path(path)
    origin = "default priors" if path is None else str(folder)
    problem = _io.folder_problem(folder)
    if problem:
        raise KnowledgeBaseError([Problem(str(folder), None, None, problem)], origin)
    files, unread = _io.read_files(folder, [table.file for table in TABLES.values()])
    tables, layouts, problems, formulas = _parse_files(files)
    problems = [Problem(file, None, None, why) for file, why in unread] + problems
    if problems:
        raise KnowledgeBaseError(problems, origin)
    kb = KnowledgeBase.from_tables(tables, origin=origin)
    if formulas:
        shown = "; ".join(str(p) for p in formulas[:10])
        more = f" (and {len(formulas) - 10} more)" if len(formulas) > 10 else ""
        warnings.warn(FormulaCellWarning(
            f"{origin}: {len(formulas)} text cell(s) start like a spreadsheet formula "
            f"(=, +, -, @, tab or carriage return) and could run when the file is opened "
            f"in a spreadsheet: {shown}{more}. Check them; saving the knowledge base "
            "writes them with a leading apostrophe so that they stay text."),
            stacklevel=2)
    return dataclasses.replace(kb, _layouts=layouts)


def _empty(name: str) -> pd.DataFrame:
    """An optional table with no rows (its file is absent)."""
    return pd.DataFrame(columns=list(TABLES[name].column_names), dtype=object)


# -- reading ----------------------------------------------------------------------


def _nonempty(path: str | os.PathLike[str]) -> bool:
    """'' is not a folder: Path('') would silently mean the current folder."""
    text = os.fspath(path)
    return isinstance(text, str) and text.strip() != ""


def _parse_files(files: Mapping[str, bytes]) -> tuple[
        dict[str, pd.DataFrame], dict[str, _io.FileLayout], list[Problem], list[Problem]]:
    """Tables (table name -> frame of stripped strings, formula escapes removed), the
    layout of each file, the problems that stop loading, and the cells that look like
    formulas."""
    tables: dict[str, pd.DataFrame] = {}
    layouts: dict[str, _io.FileLayout] = {}
    problems: list[Problem] = []
    formulas: list[Problem] = []
    for name, table in TABLES.items():
        data = files.get(table.file)
        if data is None:
            continue  # reported as missing by from_tables
        try:
            frame, layouts[name] = _io.parse_csv(data)
        except _io.ReadError as error:
            problems.append(Problem(table.file, error.line, None, error.message))
            continue
        for column in _text_columns(table, frame.columns):
            cells = frame[column]
            for line, cell in zip(frame.index, cells):
                if is_formula_like(cell):
                    formulas.append(Problem(table.file, int(line), column, repr(cell[:40])))
            restored = [restore_formula(cell) for cell in cells]
            if restored != cells.tolist():  # most columns have no escaped formula
                frame[column] = restored
        tables[name] = frame
    return tables, layouts, problems, formulas


def _column_order(written: tuple[str, ...], columns: list[str]) -> list[str]:
    """The file's own column order; a column it lacks goes after the column that
    precedes it in ``columns`` (schema order: a new ``low`` follows its number)."""
    order = [c for c in written if c in columns]
    for k, column in enumerate(columns):
        if column not in order:
            before = [c for c in columns[:k] if c in order]
            order.insert(order.index(before[-1]) + 1 if before else 0, column)
    return order


def _text_columns(table: Table, columns) -> set[str]:
    """Columns of free text: the schema's text columns and any extra column."""
    kinds = {c.name: c.kind for c in table.columns}
    return {c for c in columns if kinds.get(c, "text") in TEXT_KINDS}


def _same_table(table: Table, mine: pd.DataFrame, theirs: pd.DataFrame) -> bool:
    if set(mine.columns) != set(theirs.columns) or len(mine) != len(theirs):
        return False
    kinds = {c.name: c.kind for c in table.columns}
    for column in mine.columns:
        a, b = mine[column].to_numpy(), theirs[column].to_numpy()
        if kinds.get(column) in NUMERIC_KINDS:
            if not np.array_equal(a.astype(float), b.astype(float), equal_nan=True):
                return False
        elif [_cell_text(v) for v in a] != [_cell_text(v) for v in b]:
            return False
    return True


def _repeated_columns(frame: pd.DataFrame) -> list[str]:
    """Column names (stripped) that appear more than once, as a CSV header check does."""
    names = [str(c).strip() for c in frame.columns]
    return sorted({name for name in names if names.count(name) > 1})


def _as_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells as stripped strings (numbers in full precision, missing as '')."""
    index = frame.index
    if not (isinstance(index, pd.Index) and index.name == "line"):
        index = pd.RangeIndex(2, 2 + len(frame), name="line")
    # built in one go: editing frames column by column (here and in _parse_table) cost
    # about a tenth of a command-line diagnosis
    cells = {str(name).strip(): np.array([_cell_text(v) for v in frame.iloc[:, k]],
                                          dtype=object)
             for k, name in enumerate(frame.columns)}
    return pd.DataFrame(cells, index=index, dtype=object)


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
    if frame.empty and not table.optional:
        problems.append(Problem(file, None, None, "has no rows; at least one is needed"))
        return frame
    parsed: dict[str, list[object]] = {}
    for column in table.columns:
        values = []
        for line, text in zip(frame.index, frame[column.name]):
            value, error = parse_cell(column, text)
            if error:
                problems.append(Problem(file, int(line), column.name, error))
            values.append(value)
        parsed[column.name] = values
    # extra columns (notes a tuner adds) are kept as strings and saved back
    ordered = list(table.column_names) + [c for c in frame.columns
                                          if c not in table.column_names]
    numeric = {c.name for c in table.columns if c.kind in NUMERIC_KINDS}
    out = pd.DataFrame({c: np.array(parsed[c], dtype=float) if c in numeric
                        else parsed[c] if c in parsed else frame[c] for c in ordered},
                       index=frame.index)
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
    return out


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
    # the standard library's graphlib rather than networkx: importing networkx cost
    # a sixth of a command-line diagnosis
    parents: dict[str, list[str]] = {}
    for parent, child in zip(links["parent"], links["child"]):
        parents.setdefault(child, []).append(parent)
    try:
        graphlib.TopologicalSorter(parents).prepare()
        cycle: list[str] = []
    except graphlib.CycleError as found:
        cycle = list(found.args[1])  # its first node repeated at the end
    if cycle:
        path = " -> ".join(cycle)
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
    problems += check_codes(t)

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


