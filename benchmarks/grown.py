#!/usr/bin/env python
"""Cost by m on a grown network: is there a cliff past the shipped knowledge base?

Run by hand (not a test)::

    python benchmarks/grown.py              # about 15 minutes on 2 idle cores (m = 0-12)
    python benchmarks/grown.py --quick      # smoke run

Issue 11 asks for no cliff "up to at least 40 causes, 120 findings, latent nodes and
units of 16 linked causes". This grows the shipped knowledge base through its own API
to exactly that network, the one the exactness tests use
(``tests/test_elimination.py``, fixture ``largest``: ``grown_kb(seed=4, causes=40,
findings=120, unit=16, latent=2, hubs=6)``), and runs section 6 of ``bench.py`` on it:
every operation at each number m of present findings, beside pyAgrum LazyPropagation
and pgmpy's VariableElimination on the same network and evidence. JSON to
``benchmarks/results_grown.json`` and the figure to ``docs/img/bench_grown.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
# appended, not prepended: the installed package is what is measured; only the test
# helper that grows the network is read from the source tree
sys.path.append(str(ROOT))

from bench import SEED, bench_by_m, log, machine, plot_by_m  # noqa: E402

GROWN = dict(seed=4, causes=40, findings=120, unit=16, latent=2, hubs=6)
"""The network of ``tests/test_elimination.py``'s ``largest`` fixture."""
TITLE = "Grown network: 40 causes, 120 findings, a unit of 16 linked causes"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run with few cases")
    parser.add_argument("--out", default=str(HERE / "results_grown.json"))
    parser.add_argument("--plot", default=str(ROOT / "docs" / "img" / "bench_grown.png"))
    args = parser.parse_args(argv)

    import posterior_knee as pk
    from tests.strategies import grown_kb

    started = time.perf_counter()
    load_start = os.getloadavg()
    t0 = time.perf_counter()
    model = pk.Model(grown_kb(pk.load_knowledge_base(), **GROWN))
    build_s = time.perf_counter() - t0
    log(f"grown network: {len(model.structure.cause_ids)} causes, "
        f"{len(model.structure.findings)} findings, built in {build_s:.2f} s")
    settings = {
        # not m = 15: there pyAgrum's LazyPropagation needs more than the machine's
        # 24 GiB on two of the three cases (std::bad_alloc under a 9 GB limit), and the
        # kernel kills the whole run; posterior-knee stays at 2.1 GiB there
        "by_m": [0, 2, 4, 6, 8, 10, 12] if not args.quick else [0, 4, 8],
        "by_m_cases": 1 if args.quick else 3,
        "by_m_reps": 2 if args.quick else 5,
        "by_m_budget": 0.5 if args.quick else 2.0,
        "pgmpy_by_m_cases": 1,
        "pgmpy_by_m_budget": 20.0,
        "pgmpy_limit": 5.0 if args.quick else 20.0,
    }
    by_m = bench_by_m(model, settings, SEED)
    results = {
        "network": {**GROWN, "causes_built": len(model.structure.cause_ids),
                    "findings_built": len(model.structure.findings),
                    "model_build_s": build_s,
                    # past 12 linked causes the factored engine is not built
                    "factored_engine": model._engines.factored is not None},
        "settings": settings,
        "by_m": by_m,
        "machine": {**machine(), "load_average_at_start": load_start,
                    "load_average_at_end": os.getloadavg()},
        "elapsed_s": time.perf_counter() - started,
    }
    Path(args.out).write_text(json.dumps(results, indent=1))
    plot_by_m(by_m, Path(args.plot), TITLE)
    log(f"wrote {args.out} and {args.plot} in {results['elapsed_s']:.0f} s")
    rows = by_m["median_ms"]
    log("m  lazy_ms  diagnose_ms  lazy/diagnose  next_q/lazy  explain/diagnose")
    for m, row in rows.items():
        r = row["ratios"]
        log(f"{m:>2} {row['pyagrum_lazy']:8.2f} {row['pk_diagnose']:11.2f} "
            f"{r['pyagrum_lazy / pk_diagnose']:13.1f} "
            f"{r['pk_next_questions / pyagrum_lazy']:11.2f} "
            f"{r['pk_explain / pk_diagnose']:16.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
