"""Kill a saving process and see what a reader loads: run by tests/test_kb_io.py.

Runs in a process of its own (``python -m tests.savecrash MODE FOLDER SEED``), which
forks the processes that save: a fresh interpreter is single-threaded, so forking
is safe there, unlike inside pytest. Prints one JSON object: the outcome of every
trial ("old", "new", or what went wrong), and what the folder held at the end.

Modes
-----
points
    Crash a save of the new knowledge base over the old one at every filesystem
    operation that changes something, in turn (the k-th call of os.open for
    writing, os.write, fsync, replace, unlink or mkdir ends the process at once,
    with no clean-up), then load.
kill
    SIGKILL the saving process after a random delay (seeded), then load; the next
    trial saves the other knowledge base over whatever the kill left.
read
    Load over and over while another process saves the old and the new knowledge
    base alternately.

Outcomes are "before" (the knowledge base the folder held before that save) or
"after" (the one being saved) for the first two modes, "old" or "new" for reads; or
"error: ..." / "mix", which the tests reject.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import time
from pathlib import Path

import posterior_knee as pk
from posterior_knee.knowledge._schema import TABLES

OPERATIONS = ("open", "write", "fsync", "replace", "unlink", "mkdir")
_WRITING = os.O_WRONLY | os.O_RDWR | os.O_CREAT
CRASH_STATUS = 77


def old_and_new() -> tuple[pk.KnowledgeBase, pk.KnowledgeBase]:
    """The shipped priors, and a tuned copy differing in four of the twelve files."""
    old = pk.load_knowledge_base()
    causes = old.causes.copy()
    point = causes["low"].isna()  # numbers without a range: a change needs no new range
    causes.loc[point, "prior"] = causes.loc[point, "prior"] * 0.9
    causes["label"] = causes["label"] + " (tuned)"
    links = old.finding_links.assign(source=old.finding_links["source"] + " (tuned)")
    tests = old.tests.copy()
    tests.loc[0, "label"] = "=a label a spreadsheet would run\rwith a carriage return"
    flags = old.red_flags.copy()
    flags["reason"] = flags["reason"] + " (tuned)"
    return old, old.replace(causes=causes, finding_links=links, tests=tests,
                            red_flags=flags)


def outcome(folder: Path, old: pk.KnowledgeBase, new: pk.KnowledgeBase) -> str:
    try:
        loaded = pk.load_knowledge_base(folder)
    except pk.errors.PosteriorKneeError as error:
        return f"error: {error}"
    for name, kb in (("old", old), ("new", new)):
        if all(getattr(loaded, t).equals(getattr(kb, t)) for t in TABLES):
            return name
    return "mix"


def wait(pid: int, timeout: float = 60.0) -> int:
    """The child's exit status; a child still running after ``timeout`` is killed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.002)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    raise RuntimeError("a saving process hung")


def save_in_child(kb: pk.KnowledgeBase, folder: Path, crash_at: int | None = None) -> int:
    pid = os.fork()
    if pid:
        return pid
    status = 0
    try:
        if crash_at is not None:
            calls = [0]

            def crashing(real):
                def call(*args, **kwargs):
                    reading = real is REAL_OPEN and not (args[1] & _WRITING)
                    if not reading:  # opening a file to read it changes nothing
                        calls[0] += 1
                        if calls[0] == crash_at:
                            os._exit(CRASH_STATUS)  # no clean-up, no finally: a kill
                    return real(*args, **kwargs)
                return call

            for name in OPERATIONS:
                setattr(os, name, crashing(getattr(os, name)))
        kb.save(folder)
    except BaseException:
        status = 1
    finally:
        os._exit(status)


REAL_OPEN = os.open


def relative(result: str, saved: str) -> str:
    """An outcome relative to a save of the knowledge base named ``saved``."""
    if result not in ("old", "new"):
        return result
    return "after" if result == saved else "before"


def restore(folder: Path, files: dict[str, bytes]) -> None:
    """Put the old files back and remove what a crashed save left (quickly: no save)."""
    for path in folder.iterdir():
        if path.name.startswith("."):
            path.unlink()
    for name, data in files.items():
        (folder / name).write_bytes(data)


def crash_points(folder: Path, old, new) -> list[str]:
    old.save(folder)
    files = {t.file: (folder / t.file).read_bytes() for t in TABLES.values()}
    outcomes = []
    for k in range(1, 1000):
        status = wait(save_in_child(new, folder, crash_at=k))
        outcomes.append(relative(outcome(folder, old, new), "new"))
        if os.waitstatus_to_exitcode(status) != CRASH_STATUS:  # the save ran to its end
            outcomes.append("completed")
            break
        restore(folder, files)
    return outcomes


def random_kills(folder: Path, old, new, seed: int, trials: int = 12) -> list[str]:
    rng = random.Random(seed)
    start = time.perf_counter()
    new.save(folder)
    old.save(folder)
    one_save = (time.perf_counter() - start) / 2  # to spread the kills over a save
    outcomes = []
    current = "old"
    for _ in range(trials):
        saved = "new" if current == "old" else "old"
        pid = save_in_child(new if saved == "new" else old, folder)
        time.sleep(rng.uniform(0.0, 1.5 * one_save))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        result = outcome(folder, old, new)
        outcomes.append(relative(result, saved))
        current = result if result in ("old", "new") else current
    return outcomes


def concurrent_reads(folder: Path, old, new, saves: int = 8) -> list[str]:
    old.save(folder)
    pid = os.fork()
    if pid == 0:
        status = 0
        try:
            for k in range(saves):
                (new if k % 2 == 0 else old).save(folder)
        except BaseException:
            status = 1
        finally:
            os._exit(status)
    outcomes = []
    while not os.waitpid(pid, os.WNOHANG)[0]:
        outcomes.append(outcome(folder, old, new))
    return outcomes


def leftovers(folder: Path) -> list[str]:
    """What the folder holds besides the CSV files of the knowledge base."""
    files = {table.file for table in TABLES.values()}
    return sorted(p.name for p in folder.iterdir() if p.name not in files)


def main(mode: str, folder: str, seed: str) -> None:
    folder_path = Path(folder)
    old, new = old_and_new()
    if mode == "points":
        outcomes = crash_points(folder_path, old, new)
    elif mode == "kill":
        outcomes = random_kills(folder_path, old, new, int(seed))
    else:
        outcomes = concurrent_reads(folder_path, old, new)
    before_tidy = leftovers(folder_path)
    new.save(folder_path)  # a completed save tidies whatever a killed one left
    json.dump({"outcomes": outcomes, "leftovers_before": before_tidy,
               "leftovers_after": leftovers(folder_path),
               "final": outcome(folder_path, old, new)}, sys.stdout)


if __name__ == "__main__":
    main(*sys.argv[1:4])
