"""The files of a knowledge-base folder: reading them safely, saving them as one unit.

Saving (:func:`write_files`) uses a small write-ahead journal, so that a reader sees
either the whole old set of files or the whole new set, never a mix, even when the
saving process is killed at any moment:

1. every file whose bytes change is written in full beside its target under a fixed
   hidden name (``.causes.csv.posterior-knee-save.tmp``) and flushed to disk;
2. the journal ``.posterior-knee-save.json`` names those files with the SHA-256 of
   their old and new contents; it is written under a temporary name, flushed and
   renamed into place. That rename is the moment of the save (the commit);
3. each pending file is renamed over its target;
4. the journal is deleted.

A reader (:func:`read_files`) that finds a journal takes each listed file from its
target if that already holds the new bytes, or else from the pending copy; the old
set is never mixed with the new one. Before the commit no journal exists and the
targets are untouched: the old set. Anything that is neither (a file edited by hand
after a save stopped part-way) is reported as an error naming the file, never
loaded. Readers change no file: a later save finishes or replaces what is pending.

Why a journal and not a new folder swapped in: a tuner's folder holds more than the
knowledge-base CSV files (notes, a git checkout, files that are symbolic links to a shared
copy), and a folder cannot be replaced by rename without losing those or leaving a
moment with no folder at all. The journal touches only the CSV files it writes.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import hashlib
import io
import json
import os
import re
import stat
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import KnowledgeBaseWriteError

MAX_FILE_BYTES = 10_000_000
"""The largest CSV file read (10 MB). The shipped files are each under 100 kB; a file
far larger is not a knowledge-base table (or holds a runaway copy-paste)."""

JOURNAL = ".posterior-knee-save.json"
"""The save journal: present only while a save is committing (or after one stopped)."""

PENDING = ".posterior-knee-save.tmp"
"""Suffix of the hidden file a save writes beside each target before the commit."""

_BOM = b"\xef\xbb\xbf"
_READ_ATTEMPTS = 5  # a folder that keeps changing while read gives an error, not a hang


# -- layout of a file --------------------------------------------------------------


@dataclass(frozen=True)
class FileLayout:
    """How a CSV file was written, so that saving over it keeps it that way."""

    columns: tuple[str, ...] = ()  # header order ((): the schema's order)
    bom: bool = False  # starts with a UTF-8 byte-order mark (Excel's "CSV UTF-8")
    newline: str = "\n"  # "\n", "\r\n" (Excel on Windows) or "\r"


DEFAULT_LAYOUT = FileLayout()


def _newline(data: bytes) -> str:
    end = data.find(b"\n")
    if end > 0 and data[end - 1:end] == b"\r":
        return "\r\n"
    if end < 0 and b"\r" in data:
        return "\r"
    return "\n"


# -- parsing ------------------------------------------------------------------------


class ReadError(Exception):
    """A file that cannot be read as a table; ``line`` as a spreadsheet numbers it."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


_SEPARATORS = ((";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars"))


def _separator_hint(cells: list[str]) -> str:
    """Name a separator other than the comma found in a row read as too few cells."""
    joined = ",".join(cells)
    for separator, name in _SEPARATORS:
        if separator in joined:
            return name
    return ""


def parse_csv(data: bytes) -> tuple[pd.DataFrame, FileLayout]:
    """Read CSV bytes as strings; the index is the file line of each row.

    The csv module is used rather than pandas.read_csv because it reports the exact
    line of every row (quoted cells may span lines, blank lines are skipped) and never
    guesses types: every cell is checked by the schema.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ReadError(
            f"is not UTF-8 text ({error.reason} at byte {error.start}); "
            "save it as 'CSV UTF-8' from your spreadsheet"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise ReadError("is empty; it needs a header row and at least one row", 1)
        header = [cell.strip() for cell in header]
        name = _separator_hint(header) if len(header) == 1 else ""
        if name:
            raise ReadError(
                f"separates its cells with {name}, not commas (the header is one cell, "
                f"{header[0][:60]!r}); save it as 'CSV UTF-8 (comma delimited)' from your "
                "spreadsheet, or change the list separator to a comma", 1)
        rows, lines = [], []
        start = reader.line_num + 1
        for row in reader:
            if not any(cell.strip() for cell in row):
                start = reader.line_num + 1
                continue
            if len(row) != len(header):
                name = _separator_hint(row) if len(row) < len(header) else ""
                hint = (f"; the row holds {name}: cells must be separated by commas"
                        if name else "; check for a missing or extra comma, or quote "
                        "cells that contain commas")
                raise ReadError(
                    f"has {len(row)} cells but the header has {len(header)}{hint}", start)
            rows.append([cell.strip() for cell in row])
            lines.append(start)
            start = reader.line_num + 1
    except csv.Error as error:
        raise ReadError(f"is not valid CSV ({error})", reader.line_num) from None
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        raise ReadError(f"has duplicate column(s) {duplicated} in its header", 1)
    if any(not c for c in header):
        raise ReadError("has a column without a name in its header", 1)
    frame = pd.DataFrame(rows, columns=header, index=pd.Index(lines, name="line"),
                         dtype=object)
    return frame, FileLayout(tuple(header), data.startswith(_BOM), _newline(data))


def layout_of(data: bytes) -> FileLayout | None:
    """The layout of existing file bytes (None when they are not a readable CSV)."""
    try:
        text = data.decode("utf-8-sig")
        header = next(csv.reader(io.StringIO(text, newline="")), None)
    except (UnicodeDecodeError, csv.Error):
        return None
    if not header:
        return None
    return FileLayout(tuple(c.strip() for c in header), data.startswith(_BOM), _newline(data))


def _quoted(cell: str) -> str:
    # every character the csv reader treats specially, \r included: a bare carriage
    # return inside a cell would end the row when the file is read back
    if any(c in cell for c in ',"\r\n'):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def render_csv(header: Iterable[str], rows: Iterable[Iterable[str]],
               layout: FileLayout) -> bytes:
    """CSV bytes in ``layout``'s encoding and line endings (cells already as text)."""
    newline = layout.newline
    lines = [",".join(map(_quoted, header))]
    lines += [",".join(map(_quoted, row)) for row in rows]
    data = (newline.join(lines) + newline).encode("utf-8")
    return _BOM + data if layout.bom else data


# -- reading files -----------------------------------------------------------------


def _reason(error: OSError) -> str:
    """A short plain reason for an operating-system error."""
    code = error.errno
    if code == errno.ELOOP:
        return "is a symbolic-link loop (a link that leads back to itself); point it at a real file"
    if code in (errno.EACCES, errno.EPERM):
        return "permission denied; check the permissions of the file and its folder"
    if code == errno.ENOTDIR:
        return "a part of the path is a file, not a folder"
    if code == errno.ENOSPC:
        return "no space left on the device"
    if code == errno.EROFS:
        return "the file system is read-only"
    if code == errno.EISDIR:
        return "is a folder, not a file"
    return error.strerror or type(error).__name__


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"),
          (stat.S_ISCHR, "a character device (like /dev/zero)"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _not_regular(mode: int) -> str:
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    return f"is {kind}, not a regular file; it must be a CSV file"


def _too_big(size: int | None) -> str:
    size_text = f"{size / 1e6:.1f} MB" if size is not None else "larger"
    return (f"is {size_text}, above the limit of {MAX_FILE_BYTES / 1e6:g} MB per file; a "
            "knowledge-base table is far smaller (the shipped ones are under 100 kB): is "
            "this the right file?")


def read_regular(path: Path) -> tuple[bytes | None, str | None]:
    """(bytes, None); (None, None) when missing; (None, why) when it cannot be used.

    Never blocks and never reads without bound: the file is opened non-blocking (a named
    pipe would otherwise wait for a writer for ever), checked to be a regular file, and
    read up to MAX_FILE_BYTES.
    """
    flags = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
             | getattr(os, "O_BINARY", 0))
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        if os.path.islink(path):
            return None, (f"is a symbolic link to {os.readlink(path)!r}, which does not "
                          "exist")
        return None, None
    except OSError as error:
        return None, ("cannot be read: " if error.errno not in (errno.ELOOP, errno.EISDIR)
                      else "") + _reason(error)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None, _not_regular(info.st_mode)
        if info.st_size > MAX_FILE_BYTES:
            return None, _too_big(info.st_size)
        chunks, total = [], 0
        while total <= MAX_FILE_BYTES:
            chunk = os.read(fd, min(1 << 20, MAX_FILE_BYTES + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > MAX_FILE_BYTES:  # grew while read
            return None, _too_big(None)
        return b"".join(chunks), None
    except OSError as error:
        return None, "cannot be read: " + _reason(error)
    finally:
        os.close(fd)


def folder_problem(folder: Path) -> str | None:
    """Why ``folder`` cannot be loaded from (None when it can)."""
    fix = "give the folder that holds the CSV files (e.g. a copy of " \
          "posterior_knee.default_priors_path())"
    try:
        info = os.stat(folder)
    except FileNotFoundError:
        return f"does not exist; {fix}"
    except OSError as error:
        if error.errno == errno.ENOTDIR:
            return f"does not exist (a part of the path is a file); {fix}"
        return _reason(error)
    if not stat.S_ISDIR(info.st_mode):
        return f"is not a folder; {fix}"
    if not os.access(folder, os.X_OK):
        return "cannot be opened: permission denied; check the folder's permissions"
    return None


@dataclass(frozen=True)
class _Entry:
    """One file of a save journal."""

    name: str  # the CSV file name in the folder
    pending: str  # the pending copy, relative to the folder
    old: str | None  # SHA-256 of the target before the save (None: it did not exist)
    new: str


def _sha(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def _read_journal(folder: Path) -> tuple[dict[str, _Entry], str | None]:
    data, problem = read_regular(folder / JOURNAL)
    if data is None:
        return {}, problem
    try:
        document = json.loads(data.decode("utf-8"))
        entries = [_Entry(f["name"], f["pending"], f["old_sha256"], f["new_sha256"])
                   for f in document["files"]]
        if not all(isinstance(e.name, str) and isinstance(e.pending, str)
                   and isinstance(e.new, str) and isinstance(e.old, (str, type(None)))
                   for e in entries):
            raise TypeError
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, RecursionError):
        return {}, ("is not a save journal this version can read; if no save into this "
                    "folder is running, check the CSV files and delete it")
    return {e.name: e for e in entries}, None


def _pending_copy(folder: Path, entry: _Entry, data: bytes | None,
                  problem: str | None) -> tuple[bytes | None, str | None]:
    """The new bytes of a file listed in the journal: the target or its pending copy."""
    if problem is not None:
        return None, problem
    digest = _sha(data)
    if digest == entry.new:
        return data, None
    stopped = (f"a save into this folder stopped part-way (its journal {JOURNAL} is "
               "still there)")
    if digest != entry.old:
        return None, (f"was changed after {stopped}: it is neither the version before that "
                      "save nor the one it wrote. Check the file, then delete "
                      f"{JOURNAL} to load the files as they are, or save again")
    pending, problem = read_regular(folder / entry.pending)
    if pending is not None and _sha(pending) == entry.new:
        return pending, None
    return None, (f"{stopped} and the new version of this file ({entry.pending}) is "
                  "missing or damaged, so the folder holds a mix of old and new files. "
                  f"Save the knowledge base again, or delete {JOURNAL} to load the "
                  "files as they are")


def _read_once(folder: Path, names: Iterable[str]
               ) -> tuple[dict[str, bytes], list[tuple[str, str]]]:
    journal, problem = _read_journal(folder)
    if problem:
        return {}, [(JOURNAL, problem)]
    files: dict[str, bytes] = {}
    problems: list[tuple[str, str]] = []
    for name in names:
        data, problem = read_regular(folder / name)
        if name in journal:
            data, problem = _pending_copy(folder, journal[name], data, problem)
        if problem:
            problems.append((name, problem))
        elif data is not None:
            files[name] = data
    return files, problems


def _fingerprint(folder: Path, names: Iterable[str]) -> tuple:
    def one(path: Path) -> tuple:
        try:
            s = os.stat(path)
        except OSError as error:
            return (error.errno,)
        return (s.st_dev, s.st_ino, s.st_size, s.st_mtime_ns, s.st_ctime_ns)

    return tuple(one(folder / name) for name in (JOURNAL, *names))


def read_files(folder: Path, names: Iterable[str]
               ) -> tuple[dict[str, bytes], list[tuple[str, str]]]:
    """The bytes of the named files as one consistent set, and (file, why) problems.

    Missing files are simply absent from the result. A save committing meanwhile is
    noticed (the files or the journal changed between two looks) and the read is
    repeated, a bounded number of times.
    """
    names = tuple(names)
    for attempt in range(_READ_ATTEMPTS):
        before = _fingerprint(folder, names)
        files, problems = _read_once(folder, names)
        if _fingerprint(folder, names) == before:
            return files, problems
        time.sleep(0.02 * (attempt + 1))
    return {}, [(str(folder), "kept changing while it was read (is a save into it "
                 "running?); try again when it has finished")]


# -- writing ------------------------------------------------------------------------


def _write_error(error: OSError, path: Path | str, doing: str) -> KnowledgeBaseWriteError:
    why = _reason(error)
    if error.errno == errno.EEXIST:
        why = "it exists and is not a folder; give a folder path (a new one is created)"
        try:
            os.stat(path)
        except OSError as again:  # a link loop exists too, but is worth naming
            why = _reason(again)
    return KnowledgeBaseWriteError(f"Cannot {doing} {str(path)!r}: {why}.", str(path))


def _fsync_folder(folder: Path) -> None:
    """Make renames in ``folder`` durable (POSIX; Windows cannot open a folder)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One save at a time per folder (an advisory lock on the folder itself, POSIX)."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks on folders
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise KnowledgeBaseWriteError(
                f"Cannot save into {str(folder)!r}: another save into this folder is "
                "running; wait for it to finish.", str(folder)) from None
        yield
    finally:
        os.close(fd)  # releases the lock


def _target(folder: Path, name: str) -> Path:
    """Where the file's bytes live: a symbolic link is followed, so it stays a link."""
    path = folder / name
    if not os.path.islink(path):
        return path
    try:
        os.stat(path)
    except FileNotFoundError:
        pass  # a dangling link: the save creates the file it points to
    except OSError as error:
        raise _write_error(error, path, "save") from None
    return Path(os.path.realpath(path))


def _write_pending(pending: Path, data: bytes, mode: int | None) -> None:
    """Write ``data`` to a fresh file ``pending`` and flush it to disk."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(pending)  # left by a save that was killed: start afresh
    # O_EXCL: a new file, with the usual permissions (0o666 less the umask); then the
    # target's own permissions when it exists (a temporary file would be 0600)
    fd = os.open(pending, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                 0o666)
    try:
        if mode is not None and hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_leftovers(folder: Path, names: Iterable[str]) -> None:
    """Delete pending copies that no journal needs any more, and the randomly named
    temporary files of earlier versions (``.causes.csv.k2j4h1x9.tmp``), left behind
    by killed saves. Only a folder's own CSV files' leftovers are touched."""
    by_folder: dict[Path, set[str]] = {folder: {f"{JOURNAL}{PENDING}"}}
    legacy: dict[Path, list[str]] = {}
    for name in names:
        target = _target(folder, name)
        by_folder.setdefault(target.parent, set()).add(f".{target.name}{PENDING}")
        legacy.setdefault(target.parent, []).append(re.escape(target.name))
    for parent, exact in by_folder.items():
        old = re.compile(rf"\.(?:{'|'.join(legacy.get(parent, ['(?!)']))})\.[a-z0-9_]{{8}}\.tmp")
        with contextlib.suppress(OSError), os.scandir(parent) as entries:
            doomed = [e.path for e in entries
                      if (e.name in exact or old.fullmatch(e.name))
                      and e.is_file(follow_symlinks=False)]
        for path in doomed:
            with contextlib.suppress(OSError):
                os.unlink(path)


def write_files(folder: Path, contents: Mapping[str, bytes]) -> None:
    """Replace the named files of ``folder`` by ``contents`` as one unit (see the module).

    Files whose bytes are unchanged are not touched. Raises KnowledgeBaseWriteError,
    naming the path, for any operating-system error; a save that fails before its
    commit removes what it wrote, one that fails after it leaves the journal (the
    folder then loads as the new set, and the next save tidies up).
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _write_error(error, folder, "create the folder") from None
    path: Path = folder
    plan: list[tuple[_Entry, Path, Path]] = []
    committed = False
    try:
        with _locked(folder):
            for name, data in contents.items():
                path = target = _target(folder, name)
                old, problem = read_regular(target)
                if problem:
                    raise KnowledgeBaseWriteError(
                        f"Cannot save {name!r} into {str(folder)!r}: {str(target)!r} "
                        f"{problem}.", str(target))
                if old == data:
                    continue
                path = pending = target.parent / f".{target.name}{PENDING}"
                mode = stat.S_IMODE(os.stat(target).st_mode) if old is not None else None
                plan.append((_Entry(name, os.path.relpath(pending, folder), _sha(old),
                                    hashlib.sha256(data).hexdigest()), pending, target))
                _write_pending(pending, data, mode)
            if plan:
                for parent in {pending.parent for _, pending, _ in plan}:
                    _fsync_folder(parent)
                path = folder / JOURNAL
                _commit(folder, [entry for entry, _, _ in plan])
                committed = True
                for _, pending, target in plan:
                    path = target
                    os.replace(pending, target)
                for parent in {target.parent for _, _, target in plan}:
                    _fsync_folder(parent)
            path = folder / JOURNAL
            with contextlib.suppress(FileNotFoundError):
                os.unlink(folder / JOURNAL)  # also one left by an earlier, stopped save
            _fsync_folder(folder)
            _remove_leftovers(folder, contents)
    except BaseException as error:
        if not committed:
            for leftover in [pending for _, pending, _ in plan] + [folder / f"{JOURNAL}{PENDING}"]:
                with contextlib.suppress(OSError):
                    os.unlink(leftover)
        if isinstance(error, OSError) and not isinstance(error, KnowledgeBaseWriteError):
            raise _write_error(error, path, "save") from None
        raise


def _commit(folder: Path, entries: list[_Entry]) -> None:
    """Write the journal atomically: from this rename on, the save has happened."""
    document = {"posterior_knee_save": 1,
                "files": [{"name": e.name, "pending": e.pending, "old_sha256": e.old,
                           "new_sha256": e.new} for e in entries]}
    staged = folder / f"{JOURNAL}{PENDING}"
    _write_pending(staged, json.dumps(document, indent=1).encode("utf-8"), None)
    os.replace(staged, folder / JOURNAL)
    _fsync_folder(folder)
