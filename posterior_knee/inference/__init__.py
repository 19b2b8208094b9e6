"""Exact inference on the noisy-OR network built from the knowledge base.

The network's structure and parameters, evidence handling, the exact engines
(enumeration, factored Quickscore, cancellation-free positive sums), the answers to
"what if", batch scoring and the bridge to pgmpy. Everything here is internal: the
public entry points are :class:`posterior_knee.Model` and :func:`posterior_knee.diagnose`.
No triage is decided here (an import-linter contract keeps the clinical rules out).
"""
