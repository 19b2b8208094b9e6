"""Running a snippet in a fresh interpreter, for checks of what an import pulls in."""

from __future__ import annotations

import subprocess
import sys


def run_python(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` with ``python -c`` in a new process; fail the test if it fails."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done
