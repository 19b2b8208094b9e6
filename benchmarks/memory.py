#!/usr/bin/env python
"""Peak resident memory of ``diagnose_many`` on random rows, each size in a fresh process.

Run by hand (not a test)::

    python benchmarks/memory.py                      # 1000, 8000 and 20 000 rows
    python benchmarks/memory.py --rows 100000        # about 12 minutes on 2 cores

The rows are drawn as bench.py draws its 100 000 rows (10 stated ids each, the same
seed). Each size runs in its own interpreter, so that one size's caches and high-water mark do
not count towards the next. Printed per size: the time per row, the peak resident set
before the rows are scored (the model, the rows as dicts and their frame) and after,
and what the engines' bounded caches hold at the end.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def one(rows: int, seed: int) -> dict:
    """Score ``rows`` random rows in this process; the figures as a dict."""
    sys.path.insert(0, str(HERE))
    from bench import cases_frame, hwm_mib, random_cases

    import posterior_knee as pk
    from posterior_knee.inference import _elimination

    model = pk.Model()
    model.network  # noqa: B018  (built before measuring)
    frame = cases_frame(model, random_cases(model, rows, seed, lo=10, hi=10, check=False))
    before = hwm_mib()
    start = time.perf_counter()
    model.diagnose_many(frame)
    seconds = time.perf_counter() - start
    engines = model._engines
    return {
        "rows": rows, "ms_per_row": 1e3 * seconds / rows,
        "peak_before_mib": before, "peak_after_mib": hwm_mib(),
        "factored_tables_mib": (engines.factored._kept.nbytes
                                + engines.factored._kept_rows.nbytes) / 2 ** 20,
        "plan_constants_mib": engines.elimination._constants.nbytes / 2 ** 20,
        "plans": len(_elimination._PLANS),
        "cut_engines": len(engines.elimination._restricted),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 8000, 20_000])
    parser.add_argument("--seed", type=int, default=20240612)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child's size
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.seed)))
        return
    print(f"{'rows':>7} {'ms/row':>7} {'peak before MiB':>16} {'peak after MiB':>15} "
          f"{'tables MiB':>11} {'constants MiB':>14} {'plans':>6} {'cut engines':>12}")
    for rows in args.rows:
        out = subprocess.run([sys.executable, __file__, "--one", str(rows),
                              "--seed", str(args.seed)],
                             check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(f"{r['rows']:>7} {r['ms_per_row']:>7.2f} {r['peak_before_mib']:>16.0f} "
              f"{r['peak_after_mib']:>15.0f} {r['factored_tables_mib']:>11.1f} "
              f"{r['plan_constants_mib']:>14.1f} {r['plans']:>6} {r['cut_engines']:>12}",
              flush=True)


if __name__ == "__main__":
    main()
