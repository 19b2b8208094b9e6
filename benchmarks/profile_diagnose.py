#!/usr/bin/env python
"""Where the time of one ``diagnose`` goes, by number m of present findings.

Run by hand (not a test)::

    python benchmarks/profile_diagnose.py                 # medians by m, beside pyAgrum Lazy
    python benchmarks/profile_diagnose.py --profile 2     # cProfile of diagnose at m = 2
    python benchmarks/profile_diagnose.py --other /path/to/other/checkout
    python benchmarks/profile_diagnose.py --what sensitivity --m 0 2 5 10 --other ...
    python benchmarks/profile_diagnose.py --what next_questions --m 0 4 8 --other ...
    python benchmarks/profile_diagnose.py --what next_questions --m 4 8 --single-query-plans

The cases are drawn as section 6 of bench.py draws them (``cases_with_present``).
``--other`` times a second checkout of the package in a child process on the same
cases, printed side by side (for before / after comparisons in one run).
``--what sensitivity`` times ``dx.sensitivity()`` (the table of every number, with the
diagnosis already made) beside ``diagnose`` instead, ``--what next_questions`` the
ranking of every unasked question, ``--what explain`` the explanation of the top
cause, and ``--profile M --what ...`` profiles any of them.

The process's address space is capped at three quarters of the machine's memory
(``--memory``): at m = 15 pyAgrum's LazyPropagation exhausts 24 GiB on some cases, and
without the cap the kernel killed the whole run before it printed anything. A Lazy query
that runs out is left out of the Lazy median, and the line says on how many cases.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench import (  # noqa: E402
    SEED,
    cases_with_present,
    limit_memory,
    make_pyagrum,
    out_of_memory,
    yes_no,
)

# operations timed on a diagnosis already made (``--what``), beside diagnose
OPERATIONS = {"sensitivity": lambda dx: dx.sensitivity(),
              "next_questions": lambda dx: dx.next_questions(k=None),
              "explain": lambda dx: dx.explain()}


def timed(fn, reps: int, budget: float) -> float:
    """Median seconds of ``fn`` over up to ``reps`` runs after one warm-up call."""
    fn()
    times = []
    start = time.perf_counter()
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if time.perf_counter() - start > budget:
            break
    return statistics.median(times)


def single_query_plans(on: bool) -> None:
    """Plan every elimination batch as for one query (the planning tier off), or not."""
    from posterior_knee.inference import _elimination

    _elimination._tier = (lambda rows: 0) if on else _TIER[0]


_TIER: list = []


def measure(ms: list[int], n_cases: int, reps: int, lazy: bool, what: str,
            compare_plans: bool = False) -> dict:
    import posterior_knee as pk

    model = pk.Model()
    causes = list(model.structure.cause_ids)
    engine = make_pyagrum(model, causes)[1]["lazy"] if lazy else None
    out = {}
    for m in ms:
        cases = cases_with_present(model, m, n_cases, SEED + 1000 + m)
        row: dict[str, list[float]] = {"posterior": [], "diagnose": [], "lazy": [],
                                       what: []}
        failed = 0  # cases on which pyAgrum Lazy ran out of memory
        for case in cases:
            if what in OPERATIONS:  # the operation alone, on a diagnosis already made
                dx = model.diagnose(case)
                row[what].append(timed(lambda: OPERATIONS[what](dx), reps, 3.0))
                if compare_plans:  # the same cases on the single query's plans
                    single_query_plans(True)
                    row.setdefault("single-query plans", []).append(
                        timed(lambda: OPERATIONS[what](dx), reps, 3.0))
                    single_query_plans(False)
            row["posterior"].append(timed(
                lambda: model.posterior(model.evidence(case)), reps, 1.0))
            row["diagnose"].append(timed(lambda: model.diagnose(case), reps, 1.0))
            if engine is not None:
                def lazy_query(case=case):
                    engine.setEvidence(yes_no(case))
                    engine.makeInference()
                    return [engine.posterior(c)[1] for c in causes]
                try:
                    row["lazy"].append(timed(lazy_query, reps, 1.0))
                except Exception as error:  # noqa: BLE001 (pyAgrum's std::bad_alloc)
                    if not out_of_memory(error):
                        raise
                    failed += 1
                    print(f"m = {m}: pyAgrum Lazy ran out of memory on a case (left out "
                          "of its median)", file=sys.stderr, flush=True)
        out[m] = {k: 1e3 * statistics.median(v) for k, v in row.items() if v}
        if failed:
            out[m]["lazy_failed"] = failed
    return out


def profile(m: int, n_cases: int, what: str) -> None:
    import posterior_knee as pk

    model = pk.Model()
    cases = cases_with_present(model, m, n_cases, SEED + 1000 + m)
    call = {"diagnose": model.diagnose,
            "posterior": lambda c: model.posterior(model.evidence(c)),
            **{name: (lambda c, op=op: op(model.diagnose(c)))
               for name, op in OPERATIONS.items()}}[what]
    for case in cases:
        call(case)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(10 if what in OPERATIONS else 200):
        for case in cases:
            call(case)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


def print_operation(what: str, mine: dict, other: dict | None) -> None:
    """Median ms of the operation and of diagnose, and their ratio, by m (and the
    other's)."""
    lazy = any("lazy" in row for row in mine.values())
    head = f"m  {what:>14}  diagnose  ratio" + ("  pyAgrum Lazy  / Lazy" if lazy else "")
    if other:
        head += f"  | other: {what:>14}  diagnose  ratio  | other / this"
    print(head)
    for m, row in mine.items():
        line = (f"{m:<2} {row[what]:14.2f} {row['diagnose']:9.3f} "
                f"{row[what] / row['diagnose']:6.1f}")
        if lazy:
            row_lazy = row.get("lazy", float("nan"))
            line += f"  {row_lazy:12.2f} {row[what] / row_lazy:6.2f}"
            if "lazy_failed" in row:
                line += f" (Lazy out of memory on {row['lazy_failed']} of the cases)"
        if "single-query plans" in row:
            single = row["single-query plans"]
            line += f"  | single-query plans {single:9.2f} ms: {single / row[what]:.2f}x"
        if other:
            o = other[m]
            line += (f"  | {o[what]:21.2f} {o['diagnose']:9.3f} "
                     f"{o[what] / o['diagnose']:6.1f}  | "
                     f"{o[what] / row[what]:11.1f}")
        print(line)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--m", type=int, nargs="*", default=list(range(16)))
    parser.add_argument("--cases", type=int, default=5)
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--no-lazy", action="store_true")
    parser.add_argument("--profile", type=int, default=None, metavar="M")
    parser.add_argument("--what", choices=("diagnose", "posterior", *OPERATIONS),
                        default="diagnose")
    parser.add_argument("--other", default=None,
                        help="a second checkout of the package, timed in a child")
    parser.add_argument("--single-query-plans", action="store_true",
                        help="with an operation: also time it with every elimination "
                             "batch planned as for one query, in this process")
    parser.add_argument("--memory", type=float, default=0.75, metavar="FRACTION",
                        help="cap the address space at this share of the machine's "
                             "memory (default 0.75; 0 for no cap)")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory > 0:
        limit_memory(args.memory)
    if args.profile is not None:
        profile(args.profile, args.cases, args.what)
        return 0
    operation = args.what in OPERATIONS
    if args.single_query_plans:
        from posterior_knee.inference import _elimination

        _TIER.append(_elimination._tier)
    mine = measure(args.m, args.cases, args.reps,
                   lazy=not (args.no_lazy or args.json), what=args.what,
                   compare_plans=args.single_query_plans and operation)
    if args.json:
        print(json.dumps(mine))
        return 0
    other = None
    if args.other:
        env = {**os.environ, "PYTHONPATH": args.other}
        done = subprocess.run(
            [sys.executable, __file__, "--json", "--cases", str(args.cases), "--reps",
             str(args.reps), "--what", args.what, "--m", *map(str, args.m)],
            env=env, capture_output=True, text=True, check=True, cwd=args.other)
        other = {int(k): v for k, v in json.loads(done.stdout).items()}
    print(f"load average {os.getloadavg()[0]:.2f}")
    if operation:
        print_operation(args.what, mine, other)
        print(f"load average {os.getloadavg()[0]:.2f}")
        return 0
    head = "m  posterior  diagnose  lazy   lazy/diagnose"
    if other:
        head += "  | other: posterior  diagnose  lazy/diagnose"
    print(head)
    for m, row in mine.items():
        lazy = row.get("lazy", float("nan"))
        line = (f"{m:<2} {row['posterior']:9.3f} {row['diagnose']:9.3f} {lazy:6.2f} "
                f"{lazy / row['diagnose']:8.1f}")
        if other:
            o = other[m]
            line += f"  | {o['posterior']:9.3f} {o['diagnose']:9.3f} {lazy / o['diagnose']:8.1f}"
        if "lazy_failed" in row:
            line += f"  (Lazy out of memory on {row['lazy_failed']} of the cases)"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
