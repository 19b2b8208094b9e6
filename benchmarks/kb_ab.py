#!/usr/bin/env python
"""Two knowledge bases timed by this engine in one process, each case on both in turn.

Run by hand (not a test), to see what a grown network costs (a new cause, new links)::

    git worktree add /tmp/prev HEAD~1
    python benchmarks/kb_ab.py /tmp/prev/priors                # diagnose, m = 0-12
    python benchmarks/kb_ab.py /tmp/prev/priors --m 0 3 9 --cases 24 --reps 11

``ab.py`` compares two versions of the code on the same priors; this compares two sets
of priors on the same code. The cases are drawn on the base knowledge base as section 6
of bench.py draws them (``cases_with_present``), so they only name ids both have. Per
case, the best of ``--reps`` calls on each, the calls alternating; the result is the median over
the cases, and the ratio base / this (above 1: this one is faster).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench import SEED, cases_with_present  # noqa: E402

import posterior_knee as pk  # noqa: E402


def best_ms(models: dict[str, pk.Model], case: dict[str, bool], reps: int
            ) -> dict[str, float]:
    """Each model's best of ``reps`` calls on one case, in ms, the calls alternating
    between the models (as ab.py times two checkouts)."""
    best = dict.fromkeys(models, float("inf"))
    for _ in range(reps):
        for name, model in models.items():
            start = time.perf_counter()
            model.diagnose(case)
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: value * 1e3 for name, value in best.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="the other priors directory")
    parser.add_argument("--priors", default=None,
                        help="this side's priors directory (default: the shipped priors)")
    parser.add_argument("--m", type=int, nargs="*", default=[0, 1, 2, 3, 5, 8, 12])
    parser.add_argument("--cases", type=int, default=12)
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args(argv)
    base = pk.Model(pk.load_knowledge_base(args.base))
    this = pk.Model(pk.load_knowledge_base(args.priors) if args.priors else None)
    print(f"base: {base.kb!r}\nthis: {this.kb!r}")
    print(f"diagnose: median over cases of each case's best of {args.reps}, ms; "
          "ratio = base / this (above 1: this is faster)")
    for m in args.m:
        times: dict[str, list[float]] = {"base": [], "this": []}
        models = {"base": base, "this": this}
        for case in cases_with_present(base, m, args.cases, SEED + m):
            for model in models.values():
                model.diagnose(case)  # warm: plans and kept tables, as in bench.py
            for name, value in best_ms(models, case, args.reps).items():
                times[name].append(value)
        old, new = (statistics.median(times[k]) for k in ("base", "this"))
        print(f"m = {m:<3d} base {old:8.3f}  this {new:8.3f}  ratio {old / new:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
