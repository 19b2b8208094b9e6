#!/usr/bin/env python
"""Speed of the sensitivity table and the Monte Carlo intervals (run by hand).

    python benchmarks/sensitivity.py            # 20 random cases
    python benchmarks/sensitivity.py --cases 5

Cases are drawn with a fixed seed: 2-6 findings reported present, 0-4 reported absent
and 0-2 risk factors, at most one age band. Prints the median and the largest time per
case of ``model.diagnose``, ``dx.sensitivity()`` and ``dx.intervals(n=500)``, after one
warm-up call, with the model already built, separately for the cases the factored
engine answers and those it leaves to enumeration. See docs/sensitivity.md; the cost
against m, beside the other operations, is in benchmarks/bench.py.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import posterior_knee as pk
from posterior_knee.inference._factored import FactoredEngine
from posterior_knee.inference._parameters import Parameters


def cases(kb: pk.KnowledgeBase, n: int, seed: int = 0) -> list[dict[str, bool]]:
    rng = np.random.default_rng(seed)
    findings = list(kb.finding_ids)
    risks = [r for r in kb.risk_factor_ids if r not in ("age_under_30", "age_over_50")]
    out = []
    for _ in range(n):
        chosen = rng.choice(findings, size=rng.integers(2, 11), replace=False)
        present = int(rng.integers(2, 7))
        case = {str(f): i < present for i, f in enumerate(chosen)}
        case.update({str(r): True for r in rng.choice(risks, size=rng.integers(0, 3),
                                                      replace=False)})
        out.append(case)
    return out


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20)
    args = parser.parse_args()
    kb = pk.load_knowledge_base()
    model = pk.Model(kb)
    build = timed(lambda: Parameters(kb, model.structure))
    diagnoses = [model.diagnose(c) for c in cases(kb, args.cases)]
    diagnoses[0].sensitivity()
    diagnoses[0].intervals()
    engine = FactoredEngine(model.structure)
    # cases the factored engine declines (too many findings present, or cancellation)
    # are answered by enumeration, which costs tens of ms per evaluation
    kinds = ["factored" if engine.posterior(dict(dx.findings)) is not None
             else "enumeration" for dx in diagnoses]
    times = {
        "model.diagnose": [timed(lambda dx=dx: model.diagnose(dict(dx.findings)))
                           for dx in diagnoses],
        "dx.sensitivity()": [timed(dx.sensitivity) for dx in diagnoses],
        "dx.intervals(n=500)": [timed(dx.intervals) for dx in diagnoses],
    }
    print(f"parameter table built once per model: {build * 1e3:.1f} ms")
    print(f"{'call':<22}{'engine':<13}{'cases':>6}{'median ms':>11}{'max ms':>10}")
    for name, values in times.items():
        for kind in ("factored", "enumeration"):
            mine = [t for t, k in zip(values, kinds) if k == kind]
            if mine:
                print(f"{name:<22}{kind:<13}{len(mine):>6}"
                      f"{1e3 * statistics.median(mine):>11.1f}{1e3 * max(mine):>10.1f}")


if __name__ == "__main__":
    main()
