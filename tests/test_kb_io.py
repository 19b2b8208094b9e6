"""Reading and writing a knowledge-base folder: all or nothing, clear errors, no hangs.

The hazards of issue 12 (sections 1 and 2): a save interrupted at any moment, files
that are not regular files, sizes without bound, separators other than commas,
numbers ``float`` accepts but a tuner never means, and spreadsheet formulas.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import posterior_knee as pk
from posterior_knee.errors import (
    FormulaCellWarning,
    KnowledgeBaseError,
    KnowledgeBaseWriteError,
    ParameterError,
    PosteriorKneeError,
)
from posterior_knee.knowledge import _io
from posterior_knee.knowledge._schema import TABLES, parse_number

ROOT = Path(__file__).resolve().parents[1]
POSIX = pytest.mark.skipif(os.name != "posix", reason="needs POSIX (fork, FIFOs, links)")
NOT_ROOT = pytest.mark.skipif(os.name == "posix" and os.geteuid() == 0,
                              reason="root reads and writes whatever the permissions say")
CSV_FILES = {table.file for table in TABLES.values()}


def read_rows(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.reader(f))


def write_rows(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file()}


def same(a: pk.KnowledgeBase, b: pk.KnowledgeBase) -> bool:
    return all(getattr(a, t).equals(getattr(b, t)) for t in TABLES)


def tuned(kb: pk.KnowledgeBase) -> pk.KnowledgeBase:
    """A copy differing in two files (causes.csv, red_flags.csv)."""
    causes = kb.causes.assign(label=kb.causes["label"] + " (tuned)")
    flags = kb.red_flags.assign(reason=kb.red_flags["reason"] + " (tuned)")
    return kb.replace(causes=causes, red_flags=flags)


def messages(error: KnowledgeBaseError, file: str) -> str:
    found = [str(p) for p in error.problems if p.file == file]
    assert found, f"no problem reported for {file}: {error}"
    return " ".join(found)


@contextlib.contextmanager
def deadline(seconds: int):
    """Fail instead of hanging (a named pipe opened for reading waits for a writer)."""
    def timeout(*_):
        raise AssertionError(f"did not finish within {seconds} s: it hangs")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# -- 1. saving: all or nothing ---------------------------------------------------------


def run_harness(mode: str, folder: Path, seed: int = 0) -> dict:
    """tests/savecrash.py in a fresh process (single-threaded, so it may fork)."""
    done = subprocess.run([sys.executable, "-W", "error", "-m", "tests.savecrash", mode,
                           str(folder), str(seed)], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@POSIX
def test_save_crashed_at_every_step_loads_the_old_or_the_new_set(priors_copy):
    """Crash at each filesystem operation of a save (no clean-up runs): every load gives
    exactly the knowledge base before the save or the one saved, never a mix."""
    (priors_copy / "notes.txt").write_text("the tuner's own notes\n")
    result = run_harness("points", priors_copy)
    outcomes = result["outcomes"]
    assert outcomes[-1] == "completed"
    steps = outcomes[:-1]
    assert set(steps) <= {"before", "after"}, steps
    # the commit is one moment: every crash before it gives the old set, after it the new
    commit = steps.index("after")
    assert steps == ["before"] * commit + ["after"] * (len(steps) - commit)
    assert commit > 4 and len(steps) - commit > 4  # crashes on both sides were tried
    assert result["leftovers_after"] == ["notes.txt"]  # other files untouched, no debris
    assert result["final"] == "new"


@POSIX
def test_save_killed_at_random_moments_loads_the_old_or_the_new_set(priors_copy):
    """SIGKILL a saving process after random (seeded) delays, each save starting over
    what the last kill left: loads give the set before that save or the one saved."""
    (priors_copy / "notes.txt").write_text("the tuner's own notes\n")
    result = run_harness("kill", priors_copy, seed=20260612)
    assert set(result["outcomes"]) <= {"before", "after"}, result["outcomes"]
    assert result["leftovers_after"] == ["notes.txt"]  # a completed save tidies up
    assert result["final"] == "new"


@POSIX
def test_a_reader_while_saves_run_never_sees_a_mix(priors_copy):
    result = run_harness("read", priors_copy)
    assert result["outcomes"], "no load happened while the saves ran"
    assert set(result["outcomes"]) <= {"old", "new"}, result["outcomes"]


def failing_replace(monkeypatch, k: int) -> list:
    """Make the k-th os.replace raise, as a full disk would."""
    calls = []
    real = os.replace

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == k:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    return calls


@pytest.mark.parametrize("k", [1, 2, 3])
def test_a_failed_save_names_the_path_and_loads_as_old_or_new(kb, priors_copy, monkeypatch, k):
    """The first rename is the journal's (the commit); then causes.csv, red_flags.csv."""
    new = tuned(kb)
    calls = failing_replace(monkeypatch, k)
    with pytest.raises(KnowledgeBaseWriteError) as info:
        new.save(priors_copy)
    assert isinstance(info.value, (PosteriorKneeError, OSError))
    assert str(calls[k - 1]) in str(info.value) and "no space left" in str(info.value)
    monkeypatch.undo()
    before = digest(priors_copy)
    loaded = pk.load_knowledge_base(priors_copy)
    assert digest(priors_copy) == before  # loading never writes
    if k == 1:  # the commit failed: the old set, and nothing left behind
        assert same(loaded, kb)
        assert {p.name for p in priors_copy.iterdir()} == CSV_FILES
    else:  # committed: the new set, from the renamed files and the pending copies
        assert same(loaded, new)
        assert _io.JOURNAL in before
    new.save(priors_copy)  # finishes the job and tidies up
    assert {p.name for p in priors_copy.iterdir()} == CSV_FILES
    assert same(pk.load_knowledge_base(priors_copy), new)


def test_a_file_edited_after_an_interrupted_save_is_named(kb, priors_copy, monkeypatch):
    failing_replace(monkeypatch, 2)  # committed, causes.csv not yet renamed
    with pytest.raises(KnowledgeBaseWriteError):
        tuned(kb).save(priors_copy)
    monkeypatch.undo()
    rows = read_rows(priors_copy / "causes.csv")
    rows[1][rows[0].index("label")] = "edited by hand meanwhile"
    write_rows(priors_copy / "causes.csv", rows)
    with pytest.raises(KnowledgeBaseError) as info:
        pk.load_knowledge_base(priors_copy)
    text = messages(info.value, "causes.csv")
    assert "changed after a save into this folder stopped part-way" in text
    assert _io.JOURNAL in text
    # the fix the message gives: delete the journal, and the files load as they are
    (priors_copy / _io.JOURNAL).unlink()
    loaded = pk.load_knowledge_base(priors_copy)
    assert loaded.causes.loc[0, "label"] == "edited by hand meanwhile"


def test_a_missing_pending_copy_is_named(kb, priors_copy, monkeypatch):
    failing_replace(monkeypatch, 2)
    with pytest.raises(KnowledgeBaseWriteError):
        tuned(kb).save(priors_copy)
    monkeypatch.undo()
    (priors_copy / f".causes.csv{_io.PENDING}").unlink()
    with pytest.raises(KnowledgeBaseError, match="missing or damaged"):
        pk.load_knowledge_base(priors_copy)


def test_a_damaged_journal_is_named(priors_copy):
    (priors_copy / _io.JOURNAL).write_text("{not json")
    with pytest.raises(KnowledgeBaseError) as info:
        pk.load_knowledge_base(priors_copy)
    assert "not a save journal" in messages(info.value, _io.JOURNAL)


def test_only_changed_files_are_rewritten(kb, priors_copy):
    before = {p.name: p.stat().st_ino for p in priors_copy.iterdir()}
    tuned(kb).save(priors_copy)
    after = {p.name: p.stat().st_ino for p in priors_copy.iterdir()}
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"causes.csv", "red_flags.csv"}


@POSIX
def test_saved_files_keep_their_permissions(kb, tmp_path):
    kb.save(tmp_path / "kb")
    (tmp_path / "kb" / "causes.csv").chmod(0o640)
    tuned(kb).save(tmp_path / "kb")
    assert stat.S_IMODE((tmp_path / "kb" / "causes.csv").stat().st_mode) == 0o640
    previous = os.umask(0o022)
    try:
        kb.save(tmp_path / "fresh")
    finally:
        os.umask(previous)
    modes = {stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "fresh").iterdir()}
    assert modes == {0o644}  # the usual permissions, not a temporary file's 0600


@POSIX
def test_a_csv_that_is_a_symbolic_link_stays_one(kb, priors_copy, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    (priors_copy / "causes.csv").rename(shared / "causes.csv")
    (priors_copy / "causes.csv").symlink_to(shared / "causes.csv")
    new = tuned(kb)
    new.save(priors_copy)
    assert (priors_copy / "causes.csv").is_symlink()
    assert same(pk.load_knowledge_base(priors_copy), new)
    assert [p.name for p in shared.iterdir()] == ["causes.csv"]  # no pending copy left


@pytest.mark.parametrize("text", ["first line\rsecond", "a\r\nb", "a\nb", 'say "x", then y'])
def test_line_breaks_and_quotes_inside_text_cells_round_trip(kb, tmp_path, text):
    causes = kb.causes.copy()
    causes.loc[0, "label"] = text
    edited = kb.replace(causes=causes)
    edited.save(tmp_path)
    assert pk.load_knowledge_base(tmp_path).causes.loc[0, "label"] == text


def test_nothing_is_written_when_the_tables_would_not_load(kb, tmp_path):
    broken = kb.replace()
    broken.causes.loc[0, "prior"] = 2.0  # edited in place, past validation
    with pytest.raises(KnowledgeBaseError, match="nothing was written"):
        broken.save(tmp_path / "out")
    assert not (tmp_path / "out").exists()
    kb.save(tmp_path / "kb")
    before = digest(tmp_path / "kb")
    with pytest.raises(KnowledgeBaseError, match="outside"):
        broken.save(tmp_path / "kb")
    assert digest(tmp_path / "kb") == before


def test_save_keeps_column_order_byte_order_mark_and_line_endings(kb, priors_copy):
    """A file as a spreadsheet on Windows writes it keeps its look when saved over."""
    path = priors_copy / "causes.csv"
    rows = read_rows(path)
    order = [rows[0].index(c) for c in ("source", "prior", "id", "group", "label")]
    rows = [[row[k] for k in order] + [note] for row, note in
            zip(rows, ["notes"] + [f"note {i}" for i in range(len(rows) - 1)])]
    text = "\r\n".join(",".join(f'"{c}"' if "," in c else c for c in r) for r in rows)
    path.write_bytes(b"\xef\xbb\xbf" + (text + "\r\n").encode("utf-8"))
    loaded = pk.load_knowledge_base(priors_copy)
    causes = loaded.causes.copy()
    causes.loc[0, "prior"] = 0.0123
    loaded.replace(causes=causes).save(priors_copy)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.count(b"\r\n") == len(rows) and b"\n" not in data.replace(b"\r\n", b"")
    again = read_rows(path)
    assert again[0] == rows[0]  # column order, extra column included
    assert again[1][1] == "0.0123" and again[1][2:] == rows[1][2:]
    assert again[2:] == rows[2:]


def test_the_layout_travels_with_the_knowledge_base(priors_copy, tmp_path):
    for path in priors_copy.glob("*.csv"):
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    pk.load_knowledge_base(priors_copy).save(tmp_path / "copy")
    for path in (tmp_path / "copy").glob("*.csv"):
        assert path.read_bytes() == (priors_copy / path.name).read_bytes(), path.name


def test_a_new_range_column_goes_after_its_number(kb, priors_copy):
    causes = kb.causes.copy()
    causes.loc[0, ["low", "high"]] = [causes.loc[0, "prior"] / 2, causes.loc[0, "prior"] * 2]
    kb.replace(causes=causes).save(priors_copy)
    header = read_rows(priors_copy / "causes.csv")[0]
    assert header[header.index("prior") + 1:header.index("prior") + 3] == ["low", "high"]


def test_save_into_a_file_or_under_one_names_the_path(kb, tmp_path):
    plain = tmp_path / "a_file"
    plain.write_text("x")
    for path, words in ((plain, "exists and is not a folder"),
                        (plain / "kb", "is a file, not a folder")):
        with pytest.raises(KnowledgeBaseWriteError) as info:
            kb.save(path)
        assert str(path) in str(info.value) and words in str(info.value)


def test_save_over_a_csv_that_is_a_folder_names_it(kb, tmp_path):
    (tmp_path / "causes.csv").mkdir()
    with pytest.raises(KnowledgeBaseWriteError, match="causes.csv.*is a folder"):
        kb.save(tmp_path)


@NOT_ROOT
@POSIX
def test_save_into_a_read_only_folder_names_it(kb, tmp_path):
    folder = tmp_path / "kb"
    kb.save(folder)
    folder.chmod(0o555)
    try:
        with pytest.raises(KnowledgeBaseWriteError, match="permission denied") as info:
            tuned(kb).save(folder)
        assert str(folder) in str(info.value)
    finally:
        folder.chmod(0o755)


@POSIX
def test_a_second_save_into_the_same_folder_at_once_is_refused(kb, tmp_path):
    import fcntl

    kb.save(tmp_path)
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as a save in progress holds it
        with pytest.raises(KnowledgeBaseWriteError, match="another save"):
            tuned(kb).save(tmp_path)
    finally:
        os.close(fd)


def test_temporary_files_of_killed_saves_are_removed(kb, tmp_path):
    kb.save(tmp_path)
    leftovers = [".causes.csv.k2j4h1x9.tmp", f".tests.csv{_io.PENDING}",
                 f"{_io.JOURNAL}{_io.PENDING}"]
    for name in leftovers:
        (tmp_path / name).write_bytes(b"x" * 1000)
    (tmp_path / ".mine.tmp").write_text("not ours")
    tuned(kb).save(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == CSV_FILES | {".mine.tmp"}


# -- spreadsheet formulas -------------------------------------------------------------


def test_formula_cells_are_neutralised_on_save_and_restored_on_load(kb, tmp_path):
    causes = kb.causes.copy()
    causes.loc[0, "label"] = "=HYPERLINK(\"http://example.invalid\")"
    causes.loc[1, "source"] = "@SUM(A1:A9)"
    causes.loc[2, "label"] = "'=already quoted"
    causes["log_odds"] = [f"{v:.3f}" for v in np.log(causes["prior"] / (1 - causes["prior"]))]
    causes["note"] = ["+49 30 1234"] + ["-"] + [""] * (len(causes) - 2)
    edited = kb.replace(causes=causes)
    edited.save(tmp_path)
    rows = read_rows(tmp_path / "causes.csv")
    column = {name: k for k, name in enumerate(rows[0])}
    assert rows[1][column["label"]] == "'=HYPERLINK(\"http://example.invalid\")"
    assert rows[2][column["source"]] == "'@SUM(A1:A9)"
    assert rows[3][column["label"]] == "''=already quoted"
    assert rows[1][column["note"]] == "'+49 30 1234" and rows[2][column["note"]] == "'-"
    # numbers are not text: a negative log-odds or a prior is written as it is
    assert [r[column["log_odds"]] for r in rows[1:]] == list(causes["log_odds"])
    assert all(r[column["log_odds"]].startswith("-") for r in rows[1:])
    assert [float(r[column["prior"]]) for r in rows[1:]] == list(causes["prior"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a neutralised cell does not warn
        again = pk.load_knowledge_base(tmp_path)
    assert same(again, edited)


def test_a_formula_written_by_hand_warns_naming_file_line_and_column(priors_copy):
    rows = read_rows(priors_copy / "tests.csv")
    rows[2][rows[0].index("label")] = "=1+1"
    write_rows(priors_copy / "tests.csv", rows)
    with pytest.warns(FormulaCellWarning, match=r"tests.csv, line 3, column 'label'"):
        kb = pk.load_knowledge_base(priors_copy)
    assert kb.tests.loc[1, "label"] == "=1+1"  # loaded as written


def test_the_shipped_priors_hold_no_formula_like_cell(kb):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pk.load_knowledge_base()


# -- 2. loading: a clear error, never a hang ------------------------------------------


def replace_with(folder: Path, name: str, make) -> None:
    (folder / name).unlink()
    make(folder / name)


@POSIX
@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: p.mkdir(), "is a folder, not a regular file"),
        (lambda p: os.mkfifo(p), "is a named pipe, not a regular file"),
        (lambda p: p.symlink_to("/dev/zero"), "character device"),
        (lambda p: p.symlink_to(p.with_name("gone.csv")), "which does not exist"),
        (lambda p: p.symlink_to(p), "symbolic-link loop"),
    ],
    ids=["folder", "named pipe", "/dev/zero", "dangling link", "link loop"],
)
def test_a_csv_that_is_not_a_regular_file_is_named(priors_copy, make, words):
    replace_with(priors_copy, "causes.csv", make)
    with deadline(20), pytest.raises(KnowledgeBaseError) as info:
        pk.load_knowledge_base(priors_copy)
    assert words in messages(info.value, "causes.csv")


@POSIX
def test_a_folder_that_is_a_link_loop_is_named(tmp_path):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    with pytest.raises(KnowledgeBaseError, match="symbolic-link loop"):
        pk.load_knowledge_base(loop)
    with pytest.raises(KnowledgeBaseWriteError, match="symbolic-link loop"):
        pk.load_knowledge_base().save(loop)


@NOT_ROOT
@POSIX
def test_unreadable_file_and_folder_are_named(priors_copy):
    (priors_copy / "causes.csv").chmod(0)
    with pytest.raises(KnowledgeBaseError) as info:
        pk.load_knowledge_base(priors_copy)
    assert "permission denied" in messages(info.value, "causes.csv")
    (priors_copy / "causes.csv").chmod(0o644)
    priors_copy.chmod(0)
    try:
        with pytest.raises(KnowledgeBaseError, match="permission denied"):
            pk.load_knowledge_base(priors_copy)
    finally:
        priors_copy.chmod(0o755)


def test_permission_denied_names_the_file(priors_copy, monkeypatch):
    """The same as above where tests run as root (which no permission stops)."""
    real = os.open

    def denied(path, *args, **kwargs):
        if Path(path).name == "findings.csv":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", denied)
    with pytest.raises(KnowledgeBaseError) as info:
        pk.load_knowledge_base(priors_copy)
    assert "cannot be read: permission denied" in messages(info.value, "findings.csv")


def test_a_file_above_the_size_limit_is_refused_with_a_short_message(priors_copy):
    path = priors_copy / "finding_links.csv"
    rows = path.read_bytes().split(b"\n", 1)[1]
    with open(path, "ab") as f:
        while f.tell() <= _io.MAX_FILE_BYTES:
            f.write(rows)
    with pytest.raises(KnowledgeBaseError) as info:
        pk.load_knowledge_base(priors_copy)
    assert "above the limit of 10 MB" in messages(info.value, "finding_links.csv")
    assert len(str(info.value)) < 1000


def test_many_bad_rows_give_a_short_message(priors_copy):
    """100 000 duplicate rows: every problem is kept, the message lists the first ones."""
    path = priors_copy / "tests.csv"
    with open(path, "a", encoding="utf-8") as f:
        f.write("t,a,b,c\n" * 100_001)
    with pytest.raises(KnowledgeBaseError) as info:
        pk.load_knowledge_base(priors_copy)
    assert len(info.value.problems) == 100_000
    message = str(info.value)
    assert len(message) < 20_000 and "and 99950 more problems" in message


def test_an_empty_path_is_not_the_current_folder(priors_copy, monkeypatch, kb):
    monkeypatch.chdir(priors_copy)  # a folder that would load
    for path in ("", "  "):
        with pytest.raises(ParameterError, match="not empty"):
            pk.load_knowledge_base(path)
        with pytest.raises(ParameterError, match="not empty"):
            kb.save(path)
    assert pk.load_knowledge_base(".").cause_ids == kb.cause_ids  # said explicitly: fine


@pytest.mark.parametrize(("separator", "name"), [(";", "semicolons"), ("\t", "tabs")])
def test_another_separator_is_named(priors_copy, separator, name):
    path = priors_copy / "causes.csv"
    rows = read_rows(path)
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, delimiter=separator, lineterminator="\n").writerows(rows)
    with pytest.raises(KnowledgeBaseError) as info:
        pk.load_knowledge_base(priors_copy)
    text = messages(info.value, "causes.csv")
    assert f"separates its cells with {name}" in text and "line 1" in text


def test_a_row_with_another_separator_is_named(priors_copy):
    path = priors_copy / "findings.csv"
    with open(path, "a", encoding="utf-8") as f:
        f.write("extra;row;with;semicolons\n")
    with pytest.raises(KnowledgeBaseError, match="the row holds semicolons"):
        pk.load_knowledge_base(priors_copy)


@pytest.mark.parametrize(
    ("table", "column", "value", "words"),
    [
        ("causes", "prior", "0.0_1", "'_' digit separator"),
        ("causes", "prior", "０.５", "not plain digits"),  # full-width
        ("findings", "leak", "٠.٥", "not plain digits"),  # Arabic-Indic
        ("finding_links", "strength", "1e-400", "underflows"),
        ("finding_links", "strength", "1e-320", "underflows"),  # subnormal
        ("risk_effects", "odds_ratio", "1e308", "range of odds ratios"),
        ("risk_effects", "odds_ratio", "1e-9", "range of odds ratios"),
        ("causes", "prior", "nan", "finite"),
        ("thresholds", "probability", "1e400", "finite"),
    ],
)
def test_numbers_float_accepts_but_a_tuner_never_means(priors_copy, table, column, value,
                                                       words):
    path = priors_copy / f"{table}.csv"
    rows = read_rows(path)
    rows[1][rows[0].index(column)] = value
    write_rows(path, rows)
    with pytest.raises(KnowledgeBaseError) as info:
        pk.load_knowledge_base(priors_copy)
    found = [p for p in info.value.problems if p.file == f"{table}.csv"]
    assert found and (found[0].line, found[0].column) == (2, column), str(info.value)
    assert words in found[0].message


def test_numbers_in_memory_are_held_to_the_same_rules(kb):
    effects = kb.risk_effects.copy()
    effects.loc[0, "odds_ratio"] = 1e308
    with pytest.raises(KnowledgeBaseError, match="range of odds ratios"):
        kb.replace(risk_effects=effects)


@pytest.mark.parametrize("text", ["0", "0.0", "0e-999", ".0", "-0", "+0.000"])
def test_zero_written_any_way_is_still_zero(text):
    """Only a nonzero number that underflows is refused, not zero itself."""
    assert parse_number(text) == (0.0, None)


def test_extra_columns_are_text_never_parsed(priors_copy):
    path = priors_copy / "cause_links.csv"
    rows = read_rows(path)
    for row, value in zip(rows, ["weight"] + ["1e-400", "0.0_1", "-0.85", "n/a"] * len(rows)):
        row.append(value)
    write_rows(path, rows)
    kb = pk.load_knowledge_base(priors_copy)
    assert list(kb.cause_links["weight"]) == [r[-1] for r in rows[1:]]
