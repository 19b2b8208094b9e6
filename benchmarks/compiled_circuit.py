#!/usr/bin/env python
"""What a compiled kernel would buy on the flattened elimination plans (m = 5-9).

Run by hand (not a test); needs numba, which is not a dependency of posterior-knee::

    pip install numba
    python benchmarks/compiled_circuit.py --m 5 6 7 8 9

A single diagnosis at 5-9 present findings runs its elimination plan flattened
(``inference/_circuit.py``): levels of terms ``out[o] += a[i] * b[j]``, each level one
gather, one product and one ``np.bincount``. This script records every flattened run
that the diagnoses of section 6's cases make (``bench.cases_with_present``), runs the
same terms in the same order in a compiled loop, checks that the values and derivatives
agree, and prints the medians of the best of ``--reps`` runs of each, side by side.
The ratio says how much of a run is Python's and how much is arithmetic and memory.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import SEED, cases_with_present  # noqa: E402


def kernel():
    """The compiled loop (built on first use: numba is optional)."""
    import numba

    @numba.njit(cache=True)
    def run(v, f_start, f_stop, f_lo, f_hi, fo, fa, fb, g, b_lo, b_hi, s_lo, s_hi,
            span, bt, bg, bv):
        for level in range(len(f_start)):
            for i in range(f_start[level], f_stop[level]):
                v[i] = 0.0
            for t in range(f_lo[level], f_hi[level]):
                v[fo[t]] += v[fa[t]] * v[fb[t]]
        for level in range(len(b_lo)):
            for e in range(s_lo[level], s_hi[level]):
                g[span[e]] = 0.0
            for t in range(b_lo[level], b_hi[level]):
                g[span[s_lo[level] + bt[t]]] += g[bg[t]] * v[bv[t]]
        return v, g

    return run


def flat_levels(circuit) -> tuple[np.ndarray, ...]:
    """A circuit's levels as the kernel's flat index arrays, in its order."""
    starts, stops, f_lo, f_hi, outs, lefts, rights = [], [], [], [], [], [], []
    count = 0
    for start, stop, o, a, b in circuit.forward_levels:
        starts.append(start)
        stops.append(stop)
        f_lo.append(count)
        count += len(o)
        f_hi.append(count)
        outs.append(o + start)
        lefts.append(a)
        rights.append(b)
    b_lo, b_hi, s_lo, s_hi, spans, targets, grads, values = [], [], [], [], [], [], [], []
    count = entries = 0
    for span, t, gi, vi, _ in circuit.backward_levels:
        b_lo.append(count)
        count += len(t)
        b_hi.append(count)
        s_lo.append(entries)
        entries += len(span)
        s_hi.append(entries)
        spans.append(span)
        targets.append(t)
        grads.append(gi)
        values.append(vi)

    def joined(parts):
        return (np.concatenate(parts) if parts else np.zeros(0)).astype(np.int64)

    def numbers(items):
        return np.array(items, dtype=np.int64)

    return (numbers(starts), numbers(stops), numbers(f_lo), numbers(f_hi), joined(outs),
            joined(lefts), joined(rights), numbers(b_lo), numbers(b_hi), numbers(s_lo),
            numbers(s_hi), joined(spans), joined(targets), joined(grads), joined(values))


def best(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--m", type=int, nargs="*", default=[5, 6, 7, 8, 9])
    parser.add_argument("--cases", type=int, default=8)
    parser.add_argument("--reps", type=int, default=30)
    args = parser.parse_args(argv)
    try:
        run = kernel()
    except ImportError:
        print("numba is not installed: pip install numba", file=sys.stderr)
        return 1

    import posterior_knee as pk
    from posterior_knee.inference._circuit import Circuit

    recorded: list = []
    original = Circuit.run

    def record(self, leading, fill=()):
        # every run as the engine makes it: the circuit and its query's data
        recorded.append((self, np.array(leading), [(slot, np.array(values))
                                                   for slot, values in fill]))
        return original(self, leading, fill)

    Circuit.run = record  # type: ignore[method-assign]
    model = pk.Model()
    print("m  runs  terms  numpy ms  compiled ms  numpy / compiled  largest relative difference")
    for m in args.m:
        recorded.clear()
        for case in cases_with_present(model, m, args.cases, SEED + 1000 + m):
            model.diagnose(case)
        plain, compiled, differences, terms = [], [], [], []
        for circuit, leading, fill in recorded:
            flat = flat_levels(circuit)
            terms.append(len(flat[4]) + len(flat[12]))

            def compiled_run(circuit=circuit, leading=leading, fill=fill, flat=flat):
                v = circuit.base.copy()
                v[:leading.size] = leading.reshape(-1)
                for slot, values in fill:
                    at = circuit.pos[slot]
                    v[at:at + circuit.sizes[slot]] = np.asarray(values).reshape(-1)
                g = np.zeros(circuit.size)
                g[circuit.root] = 1.0
                return run(v, *flat[:7], g, *flat[7:])

            v1, g1 = original(circuit, leading, fill)
            v2, g2 = compiled_run()
            scale = np.maximum(np.abs(np.concatenate([v1, g1])), 1e-300)
            differences.append(float(np.max(np.abs(np.concatenate([v1 - v2, g1 - g2]))
                                            / scale)))
            plain.append(best(lambda c=circuit, lead=leading, f=fill: original(c, lead, f),
                              args.reps))
            compiled.append(best(compiled_run, args.reps))
        a, b = statistics.median(plain), statistics.median(compiled)
        print(f"{m:<2} {len(recorded):5d} {statistics.median(terms):6.0f} {1e3 * a:9.3f}"
              f" {1e3 * b:12.3f} {a / b:17.2f}  {max(differences):.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
