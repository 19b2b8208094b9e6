#!/usr/bin/env python
"""Speed and memory benchmark of posterior-knee against pgmpy and pyAgrum.

Run by hand (it is not a test and pytest does not collect it)::

    pip install pyagrum          # the comparison engine; pgmpy is already a dependency
    python benchmarks/bench.py                # default run: 13.5 minutes on 2 idle cores
    python benchmarks/bench.py --quick        # smoke run, a few minutes
    python benchmarks/bench.py --large        # adds the 100 000-case batch (slow)
    python benchmarks/bench.py --only-large   # that batch alone, beside pyAgrum (15 min)

Everything is measured in one run on the current machine: the table of medians is
printed and the same numbers (and the raw timings) are written as JSON to ``--out``
(default ``benchmarks/results.json``). See docs/benchmarks.md for what each number
means and the targets the ratios are compared with.

Sections
--------
1. Single case: the same random cases (fixed seed; 3-12 random findings and risk
   factors each, at most one age band present), all cause posteriors, by pgmpy's
   ``VariableElimination.query`` (one query per case, engine built once), pyAgrum
   ``LazyPropagation`` and ``ShaferShenoyInference`` on the network exported with
   pgmpy's XMLBIF writer (engine built once, evidence replaced per case; four exports,
   findings with many causes stored through parts of 8 (equal, or filled in turn) or
   13 or whole, and each case counts at the fastest export's time: see
   ``PYAGRUM_EXPORTS``), and
   posterior-knee's ``model.posterior(model.evidence(case))`` and ``model.diagnose``
   (pgmpy: one query per cause, see ``pgmpy_marginals``).
   The posteriors of the three libraries are compared (max abs difference).
2. Batch: ``model.diagnose_many`` throughput for 1, 100 and 1000 cases (and 100 000
   with ``--large``), against a plain per-case loop with pyAgrum LazyPropagation.
3. Next question: ``model.diagnose(case).next_questions(k=None)`` (every unasked
   question ranked) for 5 cases.
4. Start-up: fresh-process ``import posterior_knee``, ``import pgmpy.inference`` and
   the command-line job ``posterior-knee diagnose ...`` end to end.
5. Memory: tracemalloc peak and ru_maxrss for one diagnose and for the batch of
   1000, each in a fresh process.
6. Cost by m: every operation (pgmpy, pyAgrum, diagnose, next questions, explain and
   the sensitivity table of every number) at each number m of present findings.

Timings use time.perf_counter after warm-up calls; reported values are medians.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# the installed package is measured (editable or not): nothing here puts the source
# tree on sys.path, and the fresh processes below start outside it

SEED = 20240611
CLI_ARGS = ["diagnose", "--yes", "lump_behind_knee", "tightness_behind_knee", "--no", "fever"]

# Repetitions. Each timed loop also stops early once it has used its time budget
# (seconds, after at least one run), so a slow engine keeps the run short and a fast
# one gets more repetitions.
# pgmpy answers one query per cause (30 on the shipped priors: 0.1 s to over a minute
# per case, growing steeply and unevenly with m), so at the other methods' repetitions
# it alone would take most of an hour. It is timed once per case (its run-to-run
# spread is small next to its cost), in a forked child killed after ``pgmpy_limit``
# seconds (the limit then stands for its time: a lower bound, counted in the JSON);
# in section 6 only on the first ``pgmpy_by_m_cases`` cases of each m, and no further
# case of that m is started once ``pgmpy_by_m_budget`` seconds are used. Its ratios
# in section 6 pair each pgmpy case with the same case's ``diagnose``.
DEFAULT = dict(
    single_cases=30, single_reps=5, pgmpy_limit=20.0,
    pgmpy_by_m_cases=2, pgmpy_by_m_budget=15.0,
    batch_sizes=(1, 100, 1000), batch_reps={1: 20, 100: 3, 1000: 3, 100_000: 1},
    batch_budget={1: 5.0, 100: 15.0, 1000: 30.0, 100_000: 0.0},
    pyagrum_cases=1000, pyagrum_reps=3, pyagrum_budget=10.0,
    nq_cases=30, nq_reps=3, nq_budget=8.0,
    import_runs=5, memory_batch=1000,
    by_m=tuple(range(16)), by_m_cases=5, by_m_reps=3, by_m_budget=3.0,
)
QUICK = dict(
    single_cases=5, single_reps=3, pgmpy_limit=10.0,
    pgmpy_by_m_cases=1, pgmpy_by_m_budget=5.0,
    batch_sizes=(1, 10), batch_reps={1: 5, 10: 2}, batch_budget={1: 2.0, 10: 2.0},
    pyagrum_cases=100, pyagrum_reps=2, pyagrum_budget=2.0,
    nq_cases=1, nq_reps=2, nq_budget=2.0,
    import_runs=2, memory_batch=10,
    by_m=(0, 5, 10, 15), by_m_cases=1, by_m_reps=1, by_m_budget=1.0,
)

TARGETS = {
    "single_vs_pgmpy": "posterior-knee single case >= 20x faster than pgmpy's best path",
    "single_vs_lazy": "posterior-knee single case faster than pyAgrum LazyPropagation",
    "batch_vs_pyagrum": "diagnose_many throughput >= 20x pyAgrum per-case throughput",
    "next_question": "next-question ranking (all unasked questions) under 20 ms",
    "cli_vs_pgmpy_import": "CLI end to end under a third of a bare 'import pgmpy.inference'",
    "by_m_vs_lazy": "diagnose >= 20x faster than pyAgrum LazyPropagation at every m 0-15",
    "by_m_vs_pgmpy": "diagnose >= 30x faster than pgmpy VE at every m 0-15",
    "by_m_next_question": "next question (all unasked) <= half a LazyPropagation query, m <= 12",
    "by_m_explain": "explain <= 5 diagnoses at every m",
    "by_m_sensitivity": "sensitivity table (every number) <= 10 diagnoses at every m",
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- cases

def _exclusive_groups(model) -> list[list[str]]:
    groups = [list(node.members) for node in model.structure.risk_nodes
              if len(node.members) > 1]
    return groups or [["age_under_30", "age_over_50"]]


def random_cases(model, n: int, seed: int, lo: int = 3, hi: int = 12,
                 check: bool = True) -> list[dict[str, bool]]:
    """``n`` random cases: lo..hi distinct finding / risk-factor ids, each True or False.

    At most one member of an exclusive group (the age bands) is True. With
    ``check`` each case is also scored once by the exact engine and redrawn if the
    model gives it probability zero (none does with the shipped priors).
    """
    import numpy as np

    from posterior_knee.errors import PosteriorKneeError

    rng = np.random.default_rng(seed)
    ids = list(model.kb.finding_ids) + list(model.kb.risk_factor_ids)
    exclusive = _exclusive_groups(model)
    cases: list[dict[str, bool]] = []
    while len(cases) < n:
        k = int(rng.integers(lo, hi + 1))
        names = rng.choice(len(ids), size=k, replace=False)
        values = rng.random(k) < 0.5
        case = {ids[i]: bool(v) for i, v in zip(names, values)}
        for members in exclusive:
            present = [m for m in members if case.get(m)]
            for extra in present[1:]:
                case[extra] = False
        try:
            evidence = model.evidence(case)
            if check:
                model.posterior(evidence)
        except PosteriorKneeError:
            continue
        cases.append(case)
    return cases


def cases_frame(model, cases: list[dict[str, bool]]):
    """The cases as a diagnose_many frame: one column per id, True / False / NaN."""
    import pandas as pd

    ids = list(model.kb.finding_ids) + list(model.kb.risk_factor_ids)
    return pd.DataFrame(cases, columns=ids, dtype=object)


# ----------------------------------------------------------------------- timing

def run_timed(fn, reps: int, budget: float | None = None) -> list[float]:
    """Run ``fn`` up to ``reps`` times (at least once; stop when ``budget`` s is used)."""
    times: list[float] = []
    start = time.perf_counter()
    for _ in range(max(1, reps)):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if budget is not None and time.perf_counter() - start > budget:
            break
    return times


def timed_in_child(fn, limit: float):
    """``(seconds, result)`` of one call of ``fn`` in a forked copy of this process, or
    ``(None, None)`` if it has not answered within ``limit`` seconds: over the time (it
    is then killed), or out of memory (the address space is capped, see ``--memory``).

    pgmpy's time per query has a heavy tail (one case at m = 12 took 89 s where its
    neighbours took 1-15 s), and a query cannot be interrupted in-process; the fork
    shares everything built so far (the network, the engine), and the call is timed
    inside the child, so the fork itself is not counted. On 5 December a pgmpy query
    at m = 10 asked for a 12 GiB table: the child died without an answer, and the
    whole run with it, before this counted such a query as not answered in time.
    """
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)

    def child():
        t0 = time.perf_counter()
        try:
            result = fn()
        except MemoryError:
            send.send((math.inf, None))  # it can never answer: over any limit
            return
        send.send((time.perf_counter() - t0, result))

    worker = ctx.Process(target=child, daemon=True)
    worker.start()
    send.close()
    try:
        if receive.poll(limit + 5.0):  # the child's own timing decides below
            try:
                seconds, result = receive.recv()
            except EOFError:  # the child died without answering (killed for memory)
                return None, None
            if seconds <= limit:
                return seconds, result
        return None, None
    finally:
        if worker.is_alive():
            worker.kill()
        worker.join()
        receive.close()


def med(values) -> float:
    return float(statistics.median(values))


def med_answered(values) -> float:
    """The median of the cases that were answered (NaN marks a query that ran out of
    memory), NaN when none was."""
    answered = [v for v in values if not math.isnan(v)]
    return med(answered) if answered else math.nan


def limit_memory(fraction: float) -> None:
    """Cap this process's address space at ``fraction`` of the machine's memory, so
    that a query that would exhaust it fails with an error here instead of the kernel
    killing the whole run: on two of five cases with 15 present findings pyAgrum's
    LazyPropagation needs 16 GiB and more than 18 GiB (5 December 2026, shipped priors).
    Children (the pgmpy forks, the memory workers) inherit the cap. Without resource
    limits (Windows), nothing."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return
    cap = int(fraction * total)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    if soft == resource.RLIM_INFINITY or soft > cap:
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def out_of_memory(error: Exception) -> bool:
    """Whether ``error`` is a query running out of memory (pyAgrum raises a plain
    Exception whose message is ``std::bad_alloc``)."""
    return isinstance(error, MemoryError) or "bad_alloc" in str(error)


def maxrss_mib() -> float:
    """resource.getrusage ru_maxrss in MiB (KiB on Linux).

    On Linux a child started by fork/exec starts from its parent's high-water mark,
    which is why the memory workers run before the main process imports anything big.
    """
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def hwm_mib() -> float | None:
    """Peak resident set of this process image (VmHWM in /proc/self/status), in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return None


# ------------------------------------------------------------------- 1. single

def yes_no(case: dict[str, bool]) -> dict[str, str]:
    return {name: "yes" if value else "no" for name, value in case.items()}


def pgmpy_marginals(elimination, causes, case) -> list[float]:
    """P(cause = yes | case) for every cause, one VariableElimination query per cause.

    One query over all causes with ``joint=False`` contracts to their joint first
    (2**n entries: 8 GiB at 30 causes, which got the benchmark killed for lack of
    memory); a query per cause is pgmpy's path that works at any number of causes.
    """
    evidence = yes_no(case)
    return [elimination.query(variables=[c], evidence=evidence, show_progress=False)
            .get_value(**{c: "yes"}) for c in causes]


class Fastest(NamedTuple):
    """A pyAgrum answer and the time of the export that gave it fastest (seconds)."""

    answer: object
    seconds: float


PYAGRUM_EXPORTS = ((8, True), (8, False), (13, True), (None, True))
"""The exports of the network pyAgrum is given, as (parts, equal) for ``build_network``: a
finding with more causes than ``parts`` stored through part nodes of at most that many
(13 with equal parts is the library's own network; ``equal=False`` fills the parts in
turn, the split before December 2026), None every finding one table. Which is fastest
depends on the evidence and on the split (on the priors of December 2026: parts of 8
2-4x faster than parts of 13 + 3 at m = 4-6, whole tables 5x faster than those at
m = 11 while no finding had more than 16 causes, see WHOLE_CAUSES; in a loop of 300
cases, parts of 8 in turn 89 ms a case against 139 ms with equal parts of 8 and 110 ms
with the library's own), so pyAgrum's time is the fastest export's, per case."""


def make_pyagrum(model, causes, parts: int | None = 13, equal: bool = True):
    """The network exported with pgmpy's XMLBIF writer and loaded by pyAgrum; ``parts``
    and ``equal`` as in :data:`PYAGRUM_EXPORTS`."""
    import pyagrum as gum
    from pgmpy.readwrite import XMLBIFWriter

    from posterior_knee.inference._pgmpy import build_network

    network = build_network(model.structure, table_parents=parts, equal_parts=equal)
    fd, path = tempfile.mkstemp(suffix=".bifxml")
    os.close(fd)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # write_xmlbif's rename
            XMLBIFWriter(network).write_xmlbif(path)
        bn = gum.loadBN(path)
    finally:
        os.unlink(path)
    engines = {}
    for name, cls in (("lazy", gum.LazyPropagation), ("shafer", gum.ShaferShenoyInference)):
        engine = cls(bn)
        engine.setTargets(set(causes))
        engines[name] = engine
    return bn, engines


WHOLE_CAUSES = 16
"""The whole-table export (``parts`` None) is made only while no finding has more causes
than this. With 19 causes to a finding (the priors of 5 December 2026), pgmpy's XMLBIF
writer ran for more than 40 minutes on its tables of 2**20 entries without finishing,
and a throwaway script that built that network in pyAgrum from the same tables was
killed by the system during its first LazyPropagation queries (by all signs for memory,
on a machine of 24 GiB): its junction tree holds such a finding with all its causes.
The exports through parts answer the same queries."""


def pyagrum_exports(model, causes) -> dict:
    """{export: {"lazy": engine, "shafer": engine}} for every export of PYAGRUM_EXPORTS
    (the whole-table one only up to WHOLE_CAUSES causes to a finding)."""
    widest = max((len(f.parents) for f in model.structure.findings), default=0)
    exports = [export for export in PYAGRUM_EXPORTS
               if export[0] is not None or widest <= WHOLE_CAUSES]
    if len(exports) < len(PYAGRUM_EXPORTS):
        log(f"  pyAgrum: whole-table export left out (a finding has {widest} causes, "
            f"more than {WHOLE_CAUSES})")
    return {export: make_pyagrum(model, causes, *export)[1] for export in exports}


def export_name(export: tuple[int | None, bool]) -> str:
    parts, equal = export
    return "whole" if parts is None else f"parts{parts}" + ("" if equal else "-in-turn")


def bench_single(model, cases, settings) -> dict:
    import numpy as np
    from pgmpy.inference import VariableElimination

    causes = list(model.structure.cause_ids)
    elimination = VariableElimination(model.network)
    exports = pyagrum_exports(model, causes)

    def pgmpy_query(case):
        return np.array(pgmpy_marginals(elimination, causes, case))

    def pyagrum_query(kind):
        # each export once, interleaved; the case counts at its fastest export's time
        def run(case):
            best, answer = math.inf, None
            for engines in exports.values():
                engine = engines[kind]
                start = time.perf_counter()
                engine.setEvidence(yes_no(case))
                engine.makeInference()
                result = np.array([engine.posterior(c)[1] for c in causes])
                spent = time.perf_counter() - start
                if spent < best:
                    best, answer = spent, result
            return Fastest(answer, best)
        return run

    def pk_posterior(case):
        return model.posterior(model.evidence(case)).causes

    def pk_diagnose(case):
        return model.diagnose(case)

    def diagnose_causes(dx):
        probs = dict(zip(dx.ranking["cause"], dx.ranking["probability"]))
        return np.array([probs[c] for c in causes])

    methods = {
        "pgmpy_ve": pgmpy_query,
        "pyagrum_lazy": pyagrum_query("lazy"),
        "pyagrum_shafer": pyagrum_query("shafer"),
        "pk_posterior": pk_posterior,
        "pk_diagnose": pk_diagnose,
    }
    # warm-up: every method on a few cases (imports, caches, pyAgrum's junction tree);
    # pgmpy, which keeps nothing between queries but its imports, on no evidence
    pgmpy_query({})
    for case in cases[:3]:
        for name, fn in methods.items():
            if name != "pgmpy_ve":
                fn(case)

    per_case = {name: [] for name in methods}
    timed_out = 0
    diff = {name: 0.0 for name in ("pgmpy_ve", "pyagrum_lazy", "pyagrum_shafer",
                                   "pk_diagnose")}
    for i, case in enumerate(cases):
        results = {}
        for name, fn in methods.items():  # interleaved, so drift hits all alike
            if name == "pgmpy_ve":  # once, in a child with a time limit (see DEFAULT)
                seconds, result = timed_in_child(lambda: fn(case), settings["pgmpy_limit"])
                if seconds is None:
                    timed_out += 1
                    seconds = settings["pgmpy_limit"]  # a lower bound of its time
                per_case[name].append(seconds)
                results[name] = result
                continue
            holder = []
            times = run_timed(lambda: holder.append(fn(case)), settings["single_reps"])
            if isinstance(holder[0], Fastest):  # the fastest export's own time
                times = [h.seconds for h in holder]
                holder = [h.answer for h in holder]
            per_case[name].append(med(times))
            results[name] = holder[0]
        exact = results["pk_posterior"]
        results["pk_diagnose"] = diagnose_causes(results["pk_diagnose"])
        for name in diff:
            if results[name] is not None:
                diff[name] = max(diff[name], float(np.max(np.abs(results[name] - exact))))
        if (i + 1) % 10 == 0:
            log(f"  single case: {i + 1}/{len(cases)}")
    summary = {
        name: {"median_ms": 1e3 * med(t), "min_ms": 1e3 * min(t), "max_ms": 1e3 * max(t)}
        for name, t in per_case.items()
    }
    paired = {
        f"{other}/pk_posterior": med([a / b for a, b in zip(per_case[other],
                                                             per_case["pk_posterior"])])
        for other in ("pgmpy_ve", "pyagrum_lazy", "pyagrum_shafer")
    }
    return {
        "cases": len(cases),
        "reps_per_case": settings["single_reps"],
        "pgmpy_runs_per_case": 1,
        "pgmpy_limit_s": settings["pgmpy_limit"],
        "pgmpy_timed_out": timed_out,
        "findings_per_case_median": med([len(c) for c in cases]),
        "summary": summary,
        "per_case_seconds": per_case,
        "paired_ratio_median": paired,
        "max_abs_diff_vs_pk_exact": diff,
    }


# -------------------------------------------------------------------- 2. batch

def bench_batch(model, cases, settings, sizes) -> dict:
    import numpy as np

    causes = list(model.structure.cause_ids)
    frame = cases_frame(model, cases)
    model.diagnose_many(frame.iloc[:5])  # warm-up
    out = {"diagnose_many": {}}
    first = None
    for n in sizes:
        part = frame.iloc[:n]
        holder = []
        times = run_timed(lambda: holder.append(model.diagnose_many(part)),
                          settings["batch_reps"].get(n, 1),
                          settings["batch_budget"].get(n, 0.0))
        out["diagnose_many"][str(n)] = {
            "runs": len(times), "median_s": med(times),
            "cases_per_s": n / med(times), "ms_per_case": 1e3 * med(times) / n,
        }
        log(f"  diagnose_many({n}): {med(times):.3f} s, {len(times)} run(s)")
        if n == settings["pyagrum_cases"]:
            first = holder[0]

    # pyAgrum: the obvious per-case loop with one engine reused, on each export; the
    # fastest export's loop is the figure
    import pyagrum as gum  # noqa: F401  (imported by make_pyagrum)

    loop_cases = cases[:settings["pyagrum_cases"]]
    loops = {}
    for export, engines in pyagrum_exports(model, causes).items():
        lazy = engines["lazy"]

        def loop(lazy=lazy):
            rows = []
            for case in loop_cases:
                lazy.setEvidence(yes_no(case))
                lazy.makeInference()
                rows.append([lazy.posterior(c)[1] for c in causes])
            return np.array(rows)

        for case in loop_cases[:20]:  # warm-up
            lazy.setEvidence(yes_no(case))
            lazy.makeInference()
        holder = []
        times = run_timed(lambda: holder.append(loop()), settings["pyagrum_reps"],
                          settings["pyagrum_budget"])
        loops[export_name(export)] = (med(times), len(times), holder[0])
        log(f"  pyAgrum loop({len(loop_cases)}, {export_name(export)}): {med(times):.3f} s, "
            f"{len(times)} run(s)")
    best = min(loops, key=lambda name: loops[name][0])
    seconds, runs, answers = loops[best]
    holder = [answers]
    n = len(loop_cases)
    out["pyagrum_lazy_loop"] = {
        "cases": n, "runs": runs, "median_s": seconds,
        "cases_per_s": n / seconds, "ms_per_case": 1e3 * seconds / n, "export": best,
        "median_s_by_export": {name: value[0] for name, value in loops.items()},
    }
    if first is not None:
        out["max_abs_diff_diagnose_many_vs_pyagrum"] = float(
            np.max(np.abs(first[causes].to_numpy(dtype=float) - holder[0])))
    return out


# ------------------------------------------------------------ 3. next question

def bench_next_questions(model, cases, settings) -> dict:
    model.diagnose(cases[0]).next_questions(k=None)  # warm-up
    full, alone, counts = [], [], []
    present = [sum(1 for name, value in model.evidence(case).items()
                   if value and name in model.kb.finding_ids) for case in cases]
    for case in cases:
        holder = []
        times = run_timed(lambda: holder.append(model.diagnose(case).next_questions(k=None)),
                          settings["nq_reps"], settings["nq_budget"])
        full.append(med(times))
        counts.append(len(holder[0]))
        dx = model.diagnose(case)
        alone.append(med(run_timed(lambda: dx.next_questions(k=None), settings["nq_reps"],
                                   settings["nq_budget"])))
        log(f"  next_questions: case {len(full)}/{len(cases)}: {1e3 * full[-1]:.0f} ms")
    return {
        "cases": len(cases), "reps_per_case": settings["nq_reps"],
        "questions_ranked": counts,
        "present_findings": present,
        "diagnose_plus_next_questions_ms": {"median": 1e3 * med(full),
                                            "per_case": [1e3 * t for t in full]},
        "next_questions_only_ms": {"median": 1e3 * med(alone),
                                   "per_case": [1e3 * t for t in alone]},
    }


# ------------------------------------------------------------- 6. cost by m

def cases_with_present(model, m: int, n: int, seed: int) -> list[dict[str, bool]]:
    """``n`` cases with exactly ``m`` findings present, four findings absent, two
    risk factors and one age band stated (the model must give each a probability)."""
    import numpy as np

    from posterior_knee.errors import PosteriorKneeError

    rng = np.random.default_rng(seed)
    findings = list(model.kb.finding_ids)
    plain = [r for r in model.kb.risk_factor_ids if not r.startswith("age_")]
    cases: list[dict[str, bool]] = []
    while len(cases) < n:
        chosen = rng.choice(len(findings), m + 4, replace=False)
        case = {findings[k]: bool(i < m) for i, k in enumerate(chosen)}
        for name in rng.choice(plain, 2, replace=False):
            case[str(name)] = bool(rng.random() < 0.5)
        case["age_over_50" if rng.random() < 0.5 else "age_under_30"] = True
        try:
            model.posterior(model.evidence(case))
        except PosteriorKneeError:
            continue
        cases.append(case)
    return cases


BY_M_METHODS = ("pgmpy_ve", "pyagrum_lazy", "pk_posterior", "pk_diagnose",
                "pk_diagnose_cold", "pk_next_questions", "pk_explain", "pk_sensitivity")


def bench_by_m(model, settings, seed) -> dict:
    """Every operation at each number m of present findings, side by side."""
    from pgmpy.inference import VariableElimination

    causes = list(model.structure.cause_ids)
    elimination = VariableElimination(model.network)
    lazies = {export_name(export): engines["lazy"]
              for export, engines in pyagrum_exports(model, causes).items()}

    def pgmpy_query(case):
        return pgmpy_marginals(elimination, causes, case)

    def cold_diagnose(case):
        # a presentation never seen before: no elimination plan, no cached constants,
        # no flattened plan (what each step of an interview meets; pyAgrum keeps its
        # junction tree)
        from posterior_knee.inference import _elimination

        with _elimination._LOCK:
            _elimination._PLANS.clear()
            _elimination._CIRCUITS.clear()
        model._engines.elimination._constants.clear()
        return model.diagnose(case)

    def lazy_query(lazy, case):
        lazy.setEvidence(yes_no(case))
        lazy.makeInference()
        return [lazy.posterior(c)[1] for c in causes]

    out = {}
    pgmpy_query(cases_with_present(model, 0, 1, seed)[0])  # warm-up: imports
    for m in settings["by_m"]:
        cases = cases_with_present(model, m, settings["by_m_cases"], seed + 1000 + m)
        times = {name: [] for name in BY_M_METHODS}
        by_export: dict[str, list[float]] = {name: [] for name in lazies}
        pgmpy_pairs: list[tuple[float, float]] = []  # (pgmpy, diagnose) on one case
        pgmpy_used, pgmpy_timed_out = 0.0, 0
        lazy_failed = 0  # cases on which every pyAgrum export ran out of memory
        chosen = []
        for k, case in enumerate(cases):
            dx = model.diagnose(case)
            evidence = model.evidence(case)
            chosen.append(model._engines.route(evidence))
            for name, lazy in lazies.items():  # pyAgrum: its fastest export counts
                try:
                    lazy_query(lazy, case)  # warm-up: the junction tree
                    by_export[name].append(med(run_timed(lambda: lazy_query(lazy, case),
                                                         settings["by_m_reps"],
                                                         settings["by_m_budget"])))
                except Exception as error:  # noqa: BLE001 (pyAgrum's std::bad_alloc)
                    if not out_of_memory(error):
                        raise
                    by_export[name].append(math.nan)
                    log(f"  m={m}: pyAgrum ({name}) ran out of memory on case {k}")
            fastest = min((t[-1] for t in by_export.values() if not math.isnan(t[-1])),
                          default=math.nan)
            if math.isnan(fastest):
                lazy_failed += 1
            times["pyagrum_lazy"].append(fastest)
            work = {
                "pk_posterior": lambda: model.posterior(model.evidence(case)),
                "pk_diagnose": lambda: model.diagnose(case),
                "pk_diagnose_cold": lambda: cold_diagnose(case),
                "pk_next_questions": lambda: dx.next_questions(k=None),
                "pk_explain": lambda: dx.explain(),
                "pk_sensitivity": lambda: dx.sensitivity(),
            }
            for name, fn in work.items():  # interleaved, so drift hits all alike
                fn()  # warm-up: plans, pyAgrum's junction tree
                times[name].append(med(run_timed(fn, settings["by_m_reps"],
                                                 settings["by_m_budget"])))
            if k < settings["pgmpy_by_m_cases"] and \
                    (k == 0 or pgmpy_used < settings["pgmpy_by_m_budget"]):
                spent, _ = timed_in_child(lambda: pgmpy_query(case), settings["pgmpy_limit"])
                if spent is None:  # over the limit: the limit is a lower bound
                    pgmpy_timed_out += 1
                    spent = settings["pgmpy_limit"]
                pgmpy_used += spent
                times["pgmpy_ve"].append(spent)
                pgmpy_pairs.append((spent, times["pk_diagnose"][-1]))
        row = {name: 1e3 * med_answered(t) for name, t in times.items()}
        row["engines"] = {k: chosen.count(k) for k in sorted(set(chosen))}
        row["pyagrum_lazy_by_export"] = {name: 1e3 * med_answered(t)
                                         for name, t in by_export.items()}
        row["pyagrum_lazy_out_of_memory"] = lazy_failed
        row["pgmpy_cases"] = len(pgmpy_pairs)
        row["pgmpy_timed_out"] = pgmpy_timed_out  # their time is the limit: a lower bound
        row["ratios"] = {
            "pyagrum_lazy / pk_diagnose": row["pyagrum_lazy"] / row["pk_diagnose"],
            "pyagrum_lazy / pk_diagnose_cold": row["pyagrum_lazy"] / row["pk_diagnose_cold"],
            # paired: pgmpy is timed on fewer cases than the others
            "pgmpy_ve / pk_diagnose": med([a / b for a, b in pgmpy_pairs]),
            "pk_next_questions / pyagrum_lazy": row["pk_next_questions"] / row["pyagrum_lazy"],
            "pk_explain / pk_diagnose": row["pk_explain"] / row["pk_diagnose"],
            "pk_sensitivity / pk_diagnose": row["pk_sensitivity"] / row["pk_diagnose"],
        }
        out[str(m)] = row
        log(f"  m={m}: " + ", ".join(f"{k} {row[k]:.2f} ms" for k in BY_M_METHODS)
            + f" ({row['engines']})")
    return {"cases_per_m": settings["by_m_cases"], "reps": settings["by_m_reps"],
            "pgmpy": {"cases_per_m": settings["pgmpy_by_m_cases"], "reps": 1,
                      "budget_s_per_m": settings["pgmpy_by_m_budget"],
                      "limit_s_per_case": settings["pgmpy_limit"]},
            "median_ms": out}


def plot_by_m(by_m: dict, path: Path, title: str) -> None:
    """Median milliseconds against m, one line per operation and engine (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = by_m["median_ms"]
    ms = [int(m) for m in rows]
    limit = by_m.get("pgmpy", {}).get("limit_s_per_case")
    capped = f"; a case over {limit:.0f} s counts as {limit:.0f} s" if limit else ""
    labels = {"pgmpy_ve": f"pgmpy VariableElimination (causes{capped})",
              "pyagrum_lazy": "pyAgrum LazyPropagation (causes; its fastest export)",
              "pk_posterior": "posterior-knee model.posterior",
              "pk_diagnose": "posterior-knee model.diagnose",
              "pk_diagnose_cold": "posterior-knee model.diagnose, new pattern (plans anew)",
              "pk_next_questions": "posterior-knee next_questions (all unasked)",
              "pk_explain": "posterior-knee explain",
              "pk_sensitivity": "posterior-knee sensitivity table (all numbers)"}
    styles = {"pgmpy_ve": "s--", "pyagrum_lazy": "^--", "pk_posterior": "o-",
              "pk_diagnose": "o-", "pk_diagnose_cold": "o:",
              "pk_next_questions": "d-", "pk_explain": "x-",
              "pk_sensitivity": "v-"}
    fig, ax = plt.subplots(figsize=(11, 5))
    for name, label in labels.items():
        ax.plot(ms, [rows[str(m)][name] for m in ms], styles[name], label=label)
    ax.set_yscale("log")
    ax.set_xlabel("findings reported present (m)")
    ax.set_ylabel("median time per call (ms, log scale)")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    # beside the axes: inside, the legend hid some of pgmpy's points
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ----------------------------------------------------------------- 4. start-up

def bench_startup(settings) -> dict:
    """Fresh-process wall times, with warm file and bytecode caches.

    Bytecode goes to a temporary PYTHONPYCACHEPREFIX (written by the warm-up run), so
    posterior_knee is timed as an installed package with its .pyc files even where
    PYTHONDONTWRITEBYTECODE is set, and nothing is written into the source tree.
    """
    with tempfile.TemporaryDirectory(prefix="pk-bench-pycache-") as cache:
        return _startup(settings, cache)


def _startup(settings, cache: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = cache
    commands = {
        "python_bare": [sys.executable, "-c", "pass"],
        "import_posterior_knee": [sys.executable, "-c", "import posterior_knee"],
        "import_pgmpy_inference": [sys.executable, "-c", "import pgmpy.inference"],
        "cli_diagnose": [sys.executable, "-m", "posterior_knee.cli", *CLI_ARGS],
    }
    out = {}
    for name, command in commands.items():
        def run():
            done = subprocess.run(command, cwd=cache, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr}")
        run()  # warm-up (file cache, .pyc)
        times = run_timed(run, settings["import_runs"])
        out[name] = {"median_s": med(times), "runs": [round(t, 4) for t in times]}
        log(f"  {name}: {med(times):.3f} s")
    out["command_cli"] = " ".join(["python -m posterior_knee.cli", *CLI_ARGS])
    out["bytecode"] = "cached in a temporary PYTHONPYCACHEPREFIX (warm-up run writes it)"
    return out


# ------------------------------------------------------------------- 5. memory

def memory_worker(kind: str, n: int, seed: int) -> dict:
    """Run in a fresh process: peak memory of one diagnose or one diagnose_many."""
    import tracemalloc

    import posterior_knee as pk

    model = pk.Model()
    if kind == "single":
        case = random_cases(model, 1, seed)[0]
        model.diagnose(case)  # warm-up: prior posterior, lazy attributes
        work = lambda: model.diagnose(case)  # noqa: E731
    else:
        frame = cases_frame(model, random_cases(model, n, seed + 1, check=False))
        model.diagnose_many(frame.iloc[:2])  # warm-up
        work = lambda: model.diagnose_many(frame)  # noqa: E731
    rss_before, hwm_before = maxrss_mib(), hwm_mib()
    tracemalloc.start()
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started  # with tracemalloc on: a little slower
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"kind": kind, "cases": 1 if kind == "single" else n, "seconds": seconds,
            "tracemalloc_peak_mib": peak / 2**20,
            "maxrss_before_mib": rss_before, "maxrss_mib": maxrss_mib(),
            "vmhwm_before_mib": hwm_before, "vmhwm_mib": hwm_mib()}


def bench_memory(settings, seed, large: bool = False) -> dict:
    out = {}
    runs = [("single", 1), ("batch", settings["memory_batch"])]
    if large:  # the cohort of section 2's largest batch, with its time
        runs.append(("batch", 100_000))
    for kind, n in runs:
        done = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--_memory", kind, "--_n", str(n),
             "--seed", str(seed)], cwd=tempfile.gettempdir(), capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"memory worker failed:\n{done.stderr}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        out[f"{kind}_{n}" if kind == "batch" else kind] = result
        log(f"  memory {kind} ({n}): tracemalloc peak {result['tracemalloc_peak_mib']:.1f} MiB,"
            f" maxrss {result['maxrss_mib']:.0f} MiB")
    return out


# ----------------------------------------------------------------- reporting

def machine() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for dist in ("posterior-knee", "numpy", "pandas", "pgmpy", "pyagrum", "scipy", "networkx"):
        try:
            versions[dist] = version(dist)
        except PackageNotFoundError:
            versions[dist] = None
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = None
    cpu = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    threads = {}
    try:  # numpy's BLAS and OpenMP pools (threadpoolctl comes with scikit-learn)
        import threadpoolctl

        for pool in threadpoolctl.threadpool_info():
            threads[pool.get("internal_api", "?")] = pool.get("num_threads")
    except Exception:  # noqa: BLE001 - optional, informational only
        pass
    try:
        import pyagrum as gum

        threads["pyagrum"] = gum.getMaxNumberOfThreads()
    except Exception:  # noqa: BLE001
        pass
    return {
        "date_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "threads": threads,
        "nproc": affinity, "cpu_count": os.cpu_count(), "cpu": cpu,
        "platform": platform.platform(), "python": platform.python_version(),
        "versions": versions,
    }


def ratios(results: dict) -> dict:
    single = results["single"]["summary"]
    pk_post = single["pk_posterior"]["median_ms"]
    pk_dx = single["pk_diagnose"]["median_ms"]
    batch = results["batch"]
    sizes = batch["diagnose_many"]
    n_cmp = str(batch["pyagrum_lazy_loop"]["cases"])
    largest = sizes.get(n_cmp) or sizes[max(sizes, key=int)]
    startup = results["startup"]
    out = {
        "pgmpy_ve / pk_posterior": single["pgmpy_ve"]["median_ms"] / pk_post,
        "pgmpy_ve / pk_diagnose": single["pgmpy_ve"]["median_ms"] / pk_dx,
        "pyagrum_lazy / pk_posterior": single["pyagrum_lazy"]["median_ms"] / pk_post,
        "pyagrum_lazy / pk_diagnose": single["pyagrum_lazy"]["median_ms"] / pk_dx,
        "pk_batch_throughput / pyagrum_per_case_throughput":
            largest["cases_per_s"] / batch["pyagrum_lazy_loop"]["cases_per_s"],
        "cli_end_to_end / import_pgmpy_inference":
            startup["cli_diagnose"]["median_s"] / startup["import_pgmpy_inference"]["median_s"],
    }
    nq = results["next_questions"]["diagnose_plus_next_questions_ms"]["median"]
    met = {
        "single_vs_pgmpy": out["pgmpy_ve / pk_posterior"] >= 20.0,
        "single_vs_lazy": out["pyagrum_lazy / pk_posterior"] > 1.0,
        "batch_vs_pyagrum": out["pk_batch_throughput / pyagrum_per_case_throughput"] >= 20.0,
        "next_question": nq < 20.0,
        "cli_vs_pgmpy_import": out["cli_end_to_end / import_pgmpy_inference"] < 1.0 / 3.0,
    }
    rows = results["by_m"]["median_ms"]
    worst = {
        "min over m of pyagrum_lazy / pk_diagnose":
            min(r["ratios"]["pyagrum_lazy / pk_diagnose"] for r in rows.values()),
        "min over m of pgmpy_ve / pk_diagnose":
            min(r["ratios"]["pgmpy_ve / pk_diagnose"] for r in rows.values()),
        "max over m <= 12 of pk_next_questions / pyagrum_lazy":
            max(r["ratios"]["pk_next_questions / pyagrum_lazy"]
                for m, r in rows.items() if int(m) <= 12),
        "max over m of pk_explain / pk_diagnose":
            max(r["ratios"]["pk_explain / pk_diagnose"] for r in rows.values()),
        "max over m of pk_sensitivity / pk_diagnose":
            max(r["ratios"]["pk_sensitivity / pk_diagnose"] for r in rows.values()),
    }
    out.update(worst)
    met.update({
        "by_m_vs_lazy": worst["min over m of pyagrum_lazy / pk_diagnose"] >= 20.0,
        "by_m_vs_pgmpy": worst["min over m of pgmpy_ve / pk_diagnose"] >= 30.0,
        "by_m_next_question":
            worst["max over m <= 12 of pk_next_questions / pyagrum_lazy"] <= 0.5,
        "by_m_explain": worst["max over m of pk_explain / pk_diagnose"] <= 5.0,
        "by_m_sensitivity": worst["max over m of pk_sensitivity / pk_diagnose"] <= 10.0,
    })
    return {"ratios": out, "targets": {k: {"target": TARGETS[k], "met": v}
                                      for k, v in met.items()}}


def report(results: dict) -> str:
    m = results["machine"]
    v = m["versions"]
    lines = [
        f"posterior-knee benchmark ({results['mode']} run, {m['date_utc']})",
        f"machine: {m['nproc']} cores ({m['cpu']}), Python {m['python']}, "
        f"posterior-knee {v['posterior-knee']}, numpy {v['numpy']}, pandas {v['pandas']}, "
        f"pgmpy {v['pgmpy']}, pyAgrum {v['pyagrum']}; threads "
        + (", ".join(f"{k} {n}" for k, n in m["threads"].items()) or "unknown"),
        f"model: {results['model']['causes']} causes (2^{results['model']['causes']} = "
        f"{2 ** results['model']['causes']:,} cause configurations), "
        f"{results['model']['network_nodes']} network nodes, "
        f"{results['model']['evidence_ids']} finding / risk-factor ids",
        "load average (1 min) at start {:.2f}, at end {:.2f}".format(
            m["load_average_at_start"][0], m.get("load_average_at_end", [float("nan")])[0]),
        "",
    ]
    s = results["single"]
    lines.append(f"1. Single case, all cause posteriors ({s['cases']} cases, "
                 f"median {s['findings_per_case_median']:.0f} findings; median over cases "
                 f"of the per-case median of {s['reps_per_case']} runs)")
    names = {
        "pgmpy_ve": "pgmpy VariableElimination.query",
        "pyagrum_lazy": "pyAgrum LazyPropagation",
        "pyagrum_shafer": "pyAgrum ShaferShenoyInference",
        "pk_posterior": "posterior-knee model.posterior",
        "pk_diagnose": "posterior-knee model.diagnose",
    }
    lines.append(f"   {'method':<36}{'median ms':>11}{'min ms':>10}{'max ms':>10}")
    for key, label in names.items():
        row = s["summary"][key]
        lines.append(f"   {label:<36}{row['median_ms']:>11.2f}{row['min_ms']:>10.2f}"
                     f"{row['max_ms']:>10.2f}")
    lines.append(f"   (pgmpy: one run per case, limit {s['pgmpy_limit_s']:.0f} s, "
                 f"{s['pgmpy_timed_out']} case(s) over it, counted at the limit)")
    d = s["max_abs_diff_vs_pk_exact"]
    lines.append("   agreement, max |p - p_exact| over all cases and causes: "
                 + ", ".join(f"{k} {val:.1e}" for k, val in d.items()))
    lines.append("")
    b = results["batch"]
    lines.append("2. Batch throughput")
    lines.append(f"   {'what':<36}{'cases/s':>11}{'ms/case':>10}{'runs':>6}")
    for n, row in b["diagnose_many"].items():
        lines.append(f"   {'diagnose_many, ' + n + ' cases':<36}{row['cases_per_s']:>11.1f}"
                     f"{row['ms_per_case']:>10.2f}{row['runs']:>6}")
    row = b["pyagrum_lazy_loop"]
    lines.append(f"   {'pyAgrum Lazy loop, ' + str(row['cases']) + ' cases':<36}"
                 f"{row['cases_per_s']:>11.1f}{row['ms_per_case']:>10.2f}{row['runs']:>6}")
    if "max_abs_diff_diagnose_many_vs_pyagrum" in b:
        lines.append(f"   agreement diagnose_many vs pyAgrum: max |diff| "
                     f"{b['max_abs_diff_diagnose_many_vs_pyagrum']:.1e}")
    lines.append("")
    q = results["next_questions"]
    lines.append(f"3. Next question, all unasked questions ranked ({q['cases']} cases, "
                 f"{min(q['questions_ranked'])}-{max(q['questions_ranked'])} questions each)")
    lines.append(f"   model.diagnose(case).next_questions(k=None): median "
                 f"{q['diagnose_plus_next_questions_ms']['median']:.1f} ms")
    lines.append(f"   dx.next_questions(k=None) alone:             median "
                 f"{q['next_questions_only_ms']['median']:.1f} ms")
    lines.append("")
    st = results["startup"]
    lines.append(f"4. Start-up, fresh process (median of {len(st['cli_diagnose']['runs'])} runs)")
    for key, label in (("python_bare", "python -c pass"),
                       ("import_posterior_knee", "python -c 'import posterior_knee'"),
                       ("import_pgmpy_inference", "python -c 'import pgmpy.inference'"),
                       ("cli_diagnose", "posterior-knee diagnose ... (CLI)")):
        lines.append(f"   {label:<40}{st[key]['median_s']:>8.3f} s")
    lines.append("")
    mem = results["memory"]
    lines.append("5. Memory (fresh process each; maxrss is the whole process, imports "
                 "included)")
    for key, row in mem.items():
        lines.append(f"   {key:<11} tracemalloc peak {row['tracemalloc_peak_mib']:>7.1f} MiB   "
                     f"ru_maxrss {row['maxrss_mib']:>5.0f} MiB (before the call "
                     f"{row['maxrss_before_mib']:.0f} MiB)"
                     + (f", VmHWM {row['vmhwm_mib']:.0f} MiB" if row.get("vmhwm_mib") else ""))
    lines.append("")
    bm = results["by_m"]
    lines.append(f"6. By number m of present findings ({bm['cases_per_m']} cases per m; "
                 "median ms)")
    lines.append("   " + f"{'m':>3}" + "".join(f"{name:>19}" for name in BY_M_METHODS)
                 + "  engine")
    for m, row in bm["median_ms"].items():
        lines.append("   " + f"{m:>3}" + "".join(f"{row[name]:>19.2f}" for name in BY_M_METHODS)
                     + "  " + ",".join(row["engines"]))
    pg = bm["pgmpy"]
    over = {m: row["pgmpy_timed_out"] for m, row in bm["median_ms"].items()
            if row["pgmpy_timed_out"]}
    lines.append(f"   pgmpy: first {pg['cases_per_m']} case(s) per m, one run each, limit "
                 f"{pg['limit_s_per_case']:.0f} s per case (over it, counted at the limit: "
                 + (", ".join(f"m={m}: {n}" for m, n in over.items()) or "none") + ")")
    lines.append("")
    lines.append("Ratios tracked (targets: see docs/benchmarks.md)")
    for key, val in results["ratios"].items():
        lines.append(f"   {key:<52}{val:>9.2f}")
    for row in results["targets"].values():
        lines.append(f"   [{'met' if row['met'] else 'NOT met'}] {row['target']}")
    lines.append(f"\ntotal benchmark time {results['elapsed_s']:.0f} s")
    return "\n".join(lines)


def only_large(args, settings) -> int:
    """Section 2 alone at 1000 and 100 000 rows (10 stated ids each), the pyAgrum loop
    on the first 1000 in the same run, and the peak memory of this process (rows go
    through ``diagnose_many`` in its default chunks of 10 000)."""
    import posterior_knee as pk

    started = time.perf_counter()
    load_at_start = list(os.getloadavg())
    model = pk.Model()
    model.network  # noqa: B018  (built before timing)
    rss_before = maxrss_mib()
    cases = random_cases(model, 100_000, args.seed + 1, lo=10, hi=10, check=False)
    results = {"mode": "only-large", "seed": args.seed,
               "machine": {**machine(), "load_average_at_start": load_at_start},
               "batch": bench_batch(model, cases, settings,
                                    [settings["pyagrum_cases"], 100_000])}
    batch = results["batch"]
    results["diagnose_many_100000_vs_pyagrum_per_case"] = (
        batch["diagnose_many"]["100000"]["cases_per_s"]
        / batch["pyagrum_lazy_loop"]["cases_per_s"])
    results["memory"] = {"maxrss_before_mib": rss_before, "maxrss_mib": maxrss_mib(),
                         "vmhwm_mib": hwm_mib()}
    results["elapsed_s"] = time.perf_counter() - started
    results["machine"]["load_average_at_end"] = list(os.getloadavg())
    out = Path(args.out if args.out != str(HERE / "results.json")
               else HERE / "results_large.json")
    out.write_text(json.dumps(results, indent=2) + "\n")
    log(f"  100 000 rows: {batch['diagnose_many']['100000']['cases_per_s']:.1f} cases/s, "
        f"{results['diagnose_many_100000_vs_pyagrum_per_case']:.1f}x the pyAgrum loop; "
        f"peak {results['memory']['maxrss_mib']:.0f} MiB (process)")
    log(f"results written to {out}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(HERE / "results.json"),
                        help="where to write the JSON results (default benchmarks/results.json)")
    parser.add_argument("--quick", action="store_true", help="smoke run with few cases")
    parser.add_argument("--large", action="store_true",
                        help="also time diagnose_many on 100 000 cases (slow)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--only-by-m", action="store_true",
                        help="run only the cost-by-m section (and its plot)")
    parser.add_argument("--only-large", action="store_true",
                        help="run only diagnose_many on 1000 and 100 000 rows beside the "
                             "pyAgrum loop, with the process's peak memory (default out: "
                             "benchmarks/results_large.json)")
    parser.add_argument("--plot", default=str(ROOT / "docs" / "img" / "bench_by_m.png"),
                        help="where the cost-by-m figure goes")
    parser.add_argument("--memory", type=float, default=0.75, metavar="FRACTION",
                        help="cap the address space at this share of the machine's memory "
                             "(default 0.75; 0 for no cap), so that a pyAgrum query that "
                             "runs out fails inside the run")
    parser.add_argument("--_memory", choices=("single", "batch"), help=argparse.SUPPRESS)
    parser.add_argument("--_n", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory > 0:
        limit_memory(args.memory)

    warnings.simplefilter("ignore")  # pgmpy's FutureWarnings on import
    if args._memory:
        print(json.dumps(memory_worker(args._memory, args._n, args.seed)))
        return 0

    settings = QUICK if args.quick else DEFAULT
    if args.only_by_m:
        import posterior_knee as pk

        model = pk.Model()
        model.network  # noqa: B018  (built before timing)
        results = {"machine": machine(), "seed": args.seed,
                   "by_m": bench_by_m(model, settings, args.seed)}
        plot_by_m(results["by_m"], Path(args.plot),
                  f"shipped priors: {len(model.structure.causes)} causes, "
                  f"{len(model.structure.findings)} findings")
        out = Path(args.out)
        out.write_text(json.dumps(results, indent=2) + "\n")
        log(f"results written to {out}, figure to {args.plot}")
        return 0
    if args.only_large:
        return only_large(args, settings)
    sizes = list(settings["batch_sizes"]) + ([100_000] if args.large else [])
    started = time.perf_counter()
    load_at_start = list(os.getloadavg())
    # memory first, in fresh processes, while this one is still small: on Linux a
    # child's ru_maxrss starts from its parent's high-water mark
    log("5. memory (fresh processes, measured first) ...")
    memory = bench_memory(settings, args.seed, large=args.large)
    log("building the model and the pgmpy network ...")
    import posterior_knee as pk

    model = pk.Model()
    network = model.network
    results: dict = {
        "mode": "quick" if args.quick else ("large" if args.large else "default"),
        "seed": args.seed,
        "machine": {**machine(), "load_average_at_start": load_at_start},
        "model": {"causes": len(model.structure.cause_ids),
                  "network_nodes": len(network.nodes()),
                  "evidence_ids": len(model.kb.finding_ids) + len(model.kb.risk_factor_ids)},
        "settings": {k: (v if not isinstance(v, dict) else {str(a): b for a, b in v.items()})
                     for k, v in settings.items()},
    }
    results["settings"]["batch_sizes"] = sizes
    results["memory"] = memory  # measured first, see above
    single_cases = random_cases(model, settings["single_cases"], args.seed)
    # cohort rows state 10 ids each (findings and risk factors, True or False)
    batch_cases = random_cases(model, max(max(sizes), settings["pyagrum_cases"]), args.seed + 1,
                               lo=10, hi=10, check=False)

    log("1. single case ...")
    results["single"] = bench_single(model, single_cases, settings)
    log("2. batch ...")
    results["batch"] = bench_batch(model, batch_cases, settings, sizes)
    log("3. next question ...")
    results["next_questions"] = bench_next_questions(
        model, single_cases[:settings["nq_cases"]], settings)
    log("6. cost by m ...")
    results["by_m"] = bench_by_m(model, settings, args.seed)
    plot_by_m(results["by_m"], Path(args.plot),
              f"shipped priors: {len(model.structure.causes)} causes, "
              f"{len(model.structure.findings)} findings")
    log("4. start-up ...")
    results["startup"] = bench_startup(settings)
    results.update(ratios(results))
    results["elapsed_s"] = time.perf_counter() - started
    results["machine"]["load_average_at_end"] = list(os.getloadavg())

    print(report(results))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    log(f"results written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
