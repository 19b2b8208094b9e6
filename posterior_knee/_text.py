"""Text made safe for a terminal: control characters shown, never obeyed; and
probabilities written for a person (:func:`percent`).

Labels, questions, reasons and advice come from CSV files that anyone may edit. A cell
holding an escape sequence (``ESC [ 2 J`` clears the screen; ``ESC ] 8`` makes a link;
``ESC ] 52`` writes the clipboard), a carriage return (which overwrites what was
printed) or a bidirectional override (which reorders what the reader sees) would act on
the reader's terminal if printed raw. :func:`printable` writes each such character as
its Python escape (``\\x1b``, ``\\x0d``, ``\\u202e``), so the text shows what the file
holds and does nothing else.
"""

from __future__ import annotations

import re

__all__ = ["percent", "printable"]

# C0 controls except tab and newline, DEL and the C1 controls (8-bit CSI is \x9b),
# the bidirectional marks, embeddings, overrides and isolates, and lone surrogates
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
                     "\u2066-\u2069\ud800-\udfff]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, *, newlines: bool = True) -> str:
    r"""``text`` with every character that would act on a terminal written as its escape.

    Tabs are kept, and newlines unless ``newlines=False`` (for text that must stay on
    one line, such as a question or a table cell). Everything else printable, accented
    letters and emoji included, is unchanged.

    Examples
    --------
    >>> print(printable("Pain \x1b[2Jbehind the knee?"))
    Pain \x1b[2Jbehind the knee?
    >>> print(printable("a\rb\u202ec"))
    a\x0db\u202ec
    >>> print(printable("one\ntwo", newlines=False), printable("Genou ? \u00e9"))
    one\x0atwo Genou ? é
    """
    text = _UNSAFE.sub(_escaped, str(text))
    return text if newlines else text.replace("\n", "\\x0a")


def percent(p: float, digits: int = 1) -> str:
    """A probability as a percentage with ``digits`` decimals, and "<0.1%" (for one
    decimal; "<0.01%" for two) where it is small but not zero: a rare cause's prior
    printed as "0.0%" would read as impossible.

    Examples
    --------
    >>> percent(0.1234), percent(0.0004), percent(0.0), percent(0.0004, 2)
    ('12.3%', '<0.1%', '0.0%', '0.04%')
    """
    smallest = 10.0 ** -(digits + 2)  # the last digit shown, as a probability
    if 0.0 < p < smallest / 2:  # would round to zero
        return f"<{smallest:.{digits}%}"
    return f"{p:.{digits}%}"
