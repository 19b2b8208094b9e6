"""Reasoning on a compiled model: why a cause ranks where it does, what to ask next,
when to stop, how sensitive an answer is to each number, and intervals.

Each function takes the model as its first argument; :class:`posterior_knee.Diagnosis`
calls them for its methods.
"""

from .explain import explain
from .questions import rank_questions, stop_reason
from .sensitivity import intervals, sensitivity

__all__ = ["explain", "rank_questions", "stop_reason", "sensitivity", "intervals"]
