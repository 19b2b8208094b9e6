"""An interview: one question at a time, screening questions first, until asking more
would not change the result."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from .model import Model
from .reasoning import rank_questions, stop_reason
from .result import Diagnosis

__all__ = ["Interview", "Question"]


@dataclass(frozen=True)
class Question:
    """The next question: its evidence id, text, and why it is asked."""

    finding: str
    question: str
    ask_first: bool
    expected_gain: float


@dataclass
class Interview:
    """Drive an interview from any front end (terminal, notebook, a script).

    >>> interview = Interview(Model(), max_questions=3)
    >>> question = interview.next_question()
    >>> question.ask_first        # screening questions come first
    True
    >>> interview.answer(question.finding, False)
    >>> len(interview.findings)
    1
    """

    model: Model
    min_gain: float = 0.02
    patience: int | None = 10
    max_questions: int | None = None
    findings: dict[str, bool] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)  # asked, answered "don't know"
    history: list[str] = field(default_factory=list)  # every id asked, in order
    # (top three causes, triage level) after each answer to a non-screening question
    # (None for screening answers): what the patience rule looks at
    outcomes: list[tuple[frozenset[str], str] | None] = field(default_factory=list)
    stopped: str | None = None

    def _table(self) -> pd.DataFrame:
        return rank_questions(self.model, self.model.evidence(self.findings),
                              exclude=self.unknown)

    def next_question(self) -> Question | None:
        """The next question, or None when the interview should stop (see :attr:`stopped`)."""
        if self.max_questions is not None and len(self.history) >= self.max_questions:
            self.stopped = f"the limit of {self.max_questions} questions was reached"
            return None
        table = self._table()
        self.stopped = stop_reason(table, self.min_gain) or self._settled(table)
        if self.stopped:
            return None
        row = table.iloc[0]
        return Question(row["finding"], row["question"], bool(row["ask_first"]),
                        float(row["expected_gain"]))

    def _settled(self, table: pd.DataFrame) -> str | None:
        """Stop once screening is done and ``patience`` answers in a row changed nothing.

        "Don't know" answers count: a person who cannot answer is not helped by more
        questions of the same kind.
        """
        n = self.patience
        counted = [o for o in self.outcomes if o is not None]
        if n is None or table["ask_first"].any() or len(counted) <= n:
            return None
        if len(set(counted[-(n + 1):])) == 1:
            return (f"the top three causes and the triage level did not change over the "
                    f"last {n} answers")
        return None

    def answer(self, finding: str, value: bool | None) -> None:
        """Record an answer: True (yes), False (no) or None (don't know)."""
        self.model.evidence({finding: value})  # checks the id and the value
        self.history.append(finding)
        if value is None:
            self.unknown.append(finding)
        else:
            self.findings[finding] = bool(value)
        if finding in self.model.ask_first:
            self.outcomes.append(None)
        else:
            dx = self.result()
            self.outcomes.append((frozenset(dx.ranking["cause"].head(3)),
                                  dx.triage.level.value))

    def back(self) -> str | None:
        """Undo the last answer; returns the id it was for (None if nothing to undo)."""
        if not self.history:
            return None
        finding = self.history.pop()
        self.outcomes.pop()
        self.findings.pop(finding, None)
        if finding in self.unknown:
            self.unknown.remove(finding)
        return finding

    @property
    def questions_asked(self) -> int:
        return len(self.history)

    def result(self) -> Diagnosis:
        return self.model.diagnose(self.findings)

    def run(self, answers: Mapping[str, bool]) -> Diagnosis:
        """Answer every question from ``answers`` (missing ids: don't know) until the stop."""
        while (question := self.next_question()) is not None:
            self.answer(question.finding, answers.get(question.finding))
        return self.result()
