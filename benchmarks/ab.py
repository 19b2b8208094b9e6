#!/usr/bin/env python
"""Two versions of the engine timed in one process, each case old and new in turn.

Run by hand (not a test)::

    git worktree add /tmp/base HEAD~1
    python benchmarks/ab.py /tmp/base                          # diagnose, m = 0-3
    python benchmarks/ab.py /tmp/base --what explain --m 0 1 2 --cases 24 --reps 21

``profile_diagnose.py --other`` times the other checkout in a child process; on a
2-core machine two processes drift by +-30 % from run to run, too much for the 5-15 %
a change to the engine usually makes. Here the other checkout's package is copied
under another name (``posterior_knee_base``: every import inside the package is
relative) and both are timed interleaved: per case, the best of ``--reps`` calls of
each, alternating; the result is the median over the cases of the ratio base / this.
Both read the priors installed with *this* package (``posterior_knee.priors``), so the
comparison is of the code, on the same numbers. Each case's answers are checked to
agree to 1e-9 before it is timed.

The cases are drawn as section 6 of bench.py draws them (``cases_with_present``).
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench import SEED, cases_with_present  # noqa: E402
from profile_diagnose import OPERATIONS as ON_A_DIAGNOSIS  # noqa: E402

NAME = "posterior_knee_base"
OPERATIONS = {"diagnose": None, **ON_A_DIAGNOSIS}  # None: the diagnosis itself


def load_base(checkout: Path, into: Path):
    """The package of another checkout, importable under NAME."""
    source = checkout / "posterior_knee"
    if not (source / "__init__.py").is_file():
        raise SystemExit(f"{checkout} holds no posterior_knee package: pass the root of "
                         "a checkout (e.g. made with 'git worktree add /tmp/base HEAD~1')")
    shutil.copytree(source, into / NAME)
    sys.path.insert(0, str(into))
    return importlib.import_module(NAME)


def agree(base_dx, this_dx) -> None:
    """Stop unless the two diagnoses give the same probabilities to 1e-9."""
    a = base_dx.ranking.set_index("cause")["probability"].sort_index().to_numpy()
    b = this_dx.ranking.set_index("cause")["probability"].sort_index().to_numpy()
    if not np.allclose(a, b, rtol=0, atol=1e-9):
        raise SystemExit(f"the versions disagree by {np.abs(a - b).max():.1e}")


def compare(base, this, what: str, ms: list[int], n_cases: int, reps: int) -> None:
    models = {"base": base.Model(), "this": this.Model()}
    print(f"{what}: median over cases of each case's best of {reps}, ms; "
          "ratio = base / this (above 1: this is faster)")
    op = OPERATIONS[what]
    for m in ms:
        cases = cases_with_present(models["this"], m, n_cases, SEED + 1000 + m)
        best: dict[str, list[float]] = {"base": [], "this": []}
        for case in cases:
            dx = {k: model.diagnose(case) for k, model in models.items()}
            agree(dx["base"], dx["this"])
            run = {k: (lambda model=model: model.diagnose(case)) if op is None
                   else (lambda d=dx[k]: op(d)) for k, model in models.items()}
            times: dict[str, list[float]] = {"base": [], "this": []}
            for _ in range(reps):
                for k, call in run.items():
                    start = time.perf_counter()
                    call()
                    times[k].append(time.perf_counter() - start)
            for k in best:
                best[k].append(min(times[k]))
        ratio = statistics.median(np.array(best["base"]) / np.array(best["this"]))
        print(f"m = {m:<2}  base {1e3 * statistics.median(best['base']):8.3f}  "
              f"this {1e3 * statistics.median(best['this']):8.3f}  ratio {ratio:.3f}",
              flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", type=Path, help="root of the other checkout")
    parser.add_argument("--what", choices=list(OPERATIONS), default="diagnose")
    parser.add_argument("--m", type=int, nargs="*", default=[0, 1, 2, 3])
    parser.add_argument("--cases", type=int, default=16)
    parser.add_argument("--reps", type=int, default=9)
    args = parser.parse_args()
    import posterior_knee as this

    with tempfile.TemporaryDirectory() as folder:
        base = load_base(args.base.resolve(), Path(folder))
        compare(base, this, args.what, args.m, args.cases, args.reps)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
