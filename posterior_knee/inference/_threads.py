"""One BLAS thread inside the engines.

The engines make many small matrix products; with a multi-threaded BLAS each one wakes
the other threads, which costs more than the product itself and slows everything down
when the machine is busy (measured: a query on the shipped priors took twice as long
with OpenBLAS on two threads as on one). :func:`one_thread` limits BLAS to one thread
for the duration of an engine call and restores the caller's setting afterwards.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

_controller: list = []


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    if not _controller:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # optional at run time: without it, BLAS keeps its threads
            _controller.append(None)
        else:
            _controller.append(ThreadpoolController())
    controller = _controller[0]
    if controller is None:
        yield
        return
    with controller.limit(limits=1, user_api="blas"):
        yield
