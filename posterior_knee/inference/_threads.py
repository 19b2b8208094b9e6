"""One BLAS thread inside the engines.

The engines make many small matrix products; with a multi-threaded BLAS each one wakes
the other threads, which costs more than the product itself and slows everything down
when the machine is busy (measured: a query on the shipped priors took twice as long
with OpenBLAS on two threads as on one). :func:`one_thread` limits BLAS to one thread
for the duration of an engine call and restores the caller's setting afterwards.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

# (number of imported modules when the controller was made, the controller): a
# controller knows only the BLAS libraries loaded when it was made (scanning costs
# about half a millisecond), so it is made again after new imports (pgmpy and SciPy
# bring their own OpenBLAS)
_controller: list = [-1, None]


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    if _controller[0] != len(sys.modules):
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # optional at run time: without it, BLAS keeps its threads
            _controller[:] = [len(sys.modules), None]
        else:
            _controller[:] = [len(sys.modules), ThreadpoolController()]
    controller = _controller[1]
    if controller is None:
        yield
        return
    with controller.limit(limits=1, user_api="blas"):
        yield
