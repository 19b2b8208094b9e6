"""An interview: one question at a time, screening questions first, until asking more
would not change the result, or at once when an answer means an emergency.

A question is one finding (yes, no or don't know) or, by default, a checklist: "which
of these apply?" over several related findings (the red-flag screen, where it hurts,
how it started ...), each item answered yes, no or don't know, counted as one
question (:mod:`posterior_knee.reasoning.checklists`).

Safety rules the interview keeps whatever the order of answers (tests/test_interview.py
searches for a way round them):

- its triage level is always ``model.diagnose(interview.findings)``'s, so it is never
  below the red-flag level of what was reported present;
- an answer that raises the level to emergency stops the questions (the person may
  choose to go on with :meth:`Interview.carry_on`); urgent and emergency are reported
  by the answer that reached them;
- the red-flag screen is asked first and whole (every screening item in one checklist);
- it does not stop (for patience, low gain or nothing left to change) while one
  remaining answer, or one topic's items answered all yes or all no, would raise the
  level;
- every answer given is used, asked or not; a rejected answer changes nothing;
  :meth:`Interview.back` restores the state before the last step exactly;
- a result that stopped before the screening questions were answered, or that rests on
  nothing reported present, says so (:attr:`Interview.incomplete`).
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType

import numpy as np

from ._text import printable
from .clinical.triage import Triage, TriageLevel
from .errors import EvidenceValueError, ImpossibleEvidenceError, check_int, check_parameter
from .inference._answers import answer_value
from .model import Model
from .reasoning import rank_questions, stop_reason
from .reasoning.checklists import Checklist, checklists
from .result import Diagnosis

__all__ = ["Interview", "Question", "MAX_PRESENT", "PATIENCE_GAIN"]

MAX_PRESENT = 20
"""Findings reported present at which an interview stops asking, by default (see
``max_present`` of :class:`Interview`)."""

PATIENCE_GAIN = 0.05
"""Expected gain, in bits, of a question left that holds the patience stop, by default
(see ``patience_gain`` of :class:`Interview`). Five answers in a row that changed
nothing say that those questions were weak, not that none is left: a person with calf
pain alone, asked about pain, movement, swelling and their clot risks, was not asked
whether the calf is tender (0.27 bits) or red. Expert estimate: two and a half times
``min_gain``. On the vignette suite's dev split (``pk.evaluate(split="dev",
interview=True)``, 189 cases) it asks 10.61 -> 11.56 questions for the same top-3
(64.6 %) and strict triage (92.6 %) when stopping at an emergency, and 12.83 -> 14.30
questions for top-3 65.1 -> 66.7 % going on past one (``carry_on=True``), against
67.7 % from the full cases; 0.1 bits gave 66.1 % there, in 13.98."""

Answer = bool | None  # True (yes), False (no), None (don't know)


@dataclass(frozen=True)
class Question:
    """The next question: its id, text, and why it is asked.

    A single question asks about one finding: ``finding`` is its evidence id and
    ``items`` is empty. A checklist ("which of these apply?") asks about several:
    ``finding`` is the checklist's id, ``items`` the evidence ids it lists (only those
    still worth asking), ``labels`` and ``item_questions`` their short labels and full
    questions. Answer a checklist with :meth:`Interview.answer` and a mapping of item
    to reply (an item left out is "don't know"), or with one "no" / "don't know" for
    every item. ``expected_gain``: in bits; for a checklist, the sum over its items
    of the gain each would bring asked alone.
    """

    finding: str
    question: str
    ask_first: bool
    expected_gain: float
    items: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    item_questions: tuple[str, ...] = ()

    @property
    def grouped(self) -> bool:
        """True for a checklist (answered item by item), False for one finding."""
        return bool(self.items)

    def __repr__(self) -> str:
        # one short line; the items' texts are in labels and item_questions
        items = f", {len(self.items)} items" if self.items else ""
        return (f"Question({self.finding!r}{items}, ask_first={self.ask_first}, "
                f"expected_gain={self.expected_gain:.3f})")

    def reply(self, answers: Mapping[str, object]) -> object:
        """What to pass to :meth:`Interview.answer` when the answers are known in
        advance (a script, a case): the value of ``finding``, or for a checklist a
        mapping of each item to its value (None, don't know, where not given).

        >>> Question("fever", "Fever?", True, 0.1).reply({"fever": False})
        False
        >>> Question("onset", "How did it start?", False, 0.3,
        ...          items=("sudden_onset", "injury_twist")).reply({"injury_twist": True})
        {'sudden_onset': None, 'injury_twist': True}
        """
        if self.items:
            return {name: answers.get(name) for name in self.items}
        return answers.get(self.finding)


@dataclass(frozen=True)
class _State:
    """Everything an answer changes. Immutable, so undo is a stack of these."""

    findings: Mapping[str, bool]
    unknown: tuple[str, ...]  # answered "don't know"
    history: tuple[str, ...]  # question ids asked (a checklist's id counts once)
    given: tuple[str, ...]  # ids told without a question (findings=, tell, run)
    asked_items: tuple[str, ...]  # evidence ids asked, checklist items one by one
    # (top three causes, triage level) after each answer to a non-screening question
    # (None for screening answers): what the patience rule looks at
    outcomes: tuple[tuple[frozenset[str], str] | None, ...]
    diagnosis: Diagnosis  # model.diagnose(findings), computed once per state
    step: tuple[str, ...] = ()  # the ids whose answers made this state (for back)
    going_on: bool = False  # the person chose to go on after an emergency


class Interview:
    """Drive an interview from any front end (terminal, notebook, a script).

    Parameters
    ----------
    model
        The compiled model.
    min_gain
        Stop when no question is expected to gain this many bits (0 or more).
    patience
        Stop when the top three causes and the triage level have not changed over this
        many answers in a row (after screening) and no question left is expected to
        gain ``patience_gain`` bits; None: never stop for that. Neither
        rule stops the interview while an answer to some remaining question would
        raise the triage level (those questions come right after the screening ones),
        or while one topic's items still to ask, answered all yes or all no, would
        (that topic is asked next).
    patience_gain
        Expected gain, in bits, of a question left that holds the patience stop (0 or
        more; default :data:`PATIENCE_GAIN`).
    max_questions
        Ask at most this many questions (1 or more); None: no limit.
    grouped
        True (default): ask checklists ("which of these apply?", one question for
        several related findings; the red-flag screen is one of them); False: one
        finding per question.
    max_present
        Stop asking once this many answers are "yes", the screening questions are all
        answered and no question left could raise a red flag above the current level
        (default :data:`MAX_PRESENT`, 20; None: no limit). Exact inference grows with
        the findings present: an interview answered "yes" throughout spent about a
        minute of CPU on its last twenty questions alone. The published vignettes
        report at most 13 findings present, so the default stops only a presentation
        far beyond any of them. An emergency still stops the questions at once, and
        every answer given still counts.
    findings
        Answers known before the first question (a main complaint, answers taken at
        the door): id -> True, False or None (don't know), or a typed reply such as
        ``"yes"``. They are used from the start and never asked.

    Examples
    --------
    >>> interview = Interview(Model(), max_questions=3)
    >>> question = interview.next_question()
    >>> question.ask_first, question.grouped   # the red-flag screen comes first
    (True, True)
    >>> len(question.items) == len(interview.model.ask_first)
    True
    >>> interview.answer(question.finding, {"fever": False}) is None  # no alert raised
    True
    >>> dict(interview.findings)
    {'fever': False}
    >>> len(interview.unknown) == len(question.items) - 1  # the items left out: don't know
    True
    >>> interview.questions_asked, interview.history
    (1, ('red_flag_screen',))

    "No" to a checklist means none of its items applies.

    A reply that means an emergency stops the questions at once:

    >>> interview = Interview(Model())
    >>> alert = interview.answer("shortness_of_breath", "yes")
    >>> alert.level.value, interview.emergency_stop, interview.next_question()
    ('emergency', True, None)
    """

    def __init__(self, model: Model, min_gain: float = 0.02, patience: int | None = 5,
                 max_questions: int | None = None,
                 findings: Mapping[str, object] | None = None,
                 max_present: int | None = MAX_PRESENT, grouped: bool = True,
                 patience_gain: float = PATIENCE_GAIN):
        check_parameter(isinstance(model, Model), "model", "Interview",
                        "a posterior_knee.Model", model)
        check_parameter(_is_number(min_gain) and min_gain >= 0, "min_gain", "Interview",
                        "a number of bits, 0 or more", min_gain)
        patience = check_int(patience, "patience", "Interview", minimum=1, none=True,
                             expected="None or an integer of 1 or more")
        check_parameter(_is_number(patience_gain) and patience_gain >= 0, "patience_gain",
                        "Interview", "a number of bits, 0 or more", patience_gain)
        max_questions = check_int(max_questions, "max_questions", "Interview", minimum=1,
                                  none=True, expected="None or an integer of 1 or more")
        max_present = check_int(max_present, "max_present", "Interview", minimum=1,
                                none=True, expected="None or an integer of 1 or more")
        check_parameter(isinstance(grouped, bool), "grouped", "Interview",
                        "True or False", grouped)
        self.model = model
        self.min_gain = float(min_gain)
        self.patience = patience
        self.patience_gain = float(patience_gain)
        self.max_questions = max_questions
        self.max_present = max_present
        self.grouped = grouped
        topics = checklists(model)
        self.checklists: Mapping[str, Checklist] = MappingProxyType(
            {c.id: c for c in topics} if grouped else {})
        self._topics = topics  # the stop checks them grouped or not (_raising_topic)
        empty = _State(MappingProxyType({}), (), (), (), (), (), model.diagnose({}))
        self._state = empty
        self._undo: list[_State] = []
        # the next question (or the stop reason) of each state, worked out once: going
        # back to a state asks its question again without ranking again. Keyed by id;
        # the state is kept in the value, so the id cannot be reused while cached.
        self._decisions: dict[int, tuple[_State, Question | None, str | None]] = {}
        if findings is not None:
            self._state = self._step(self._checked(findings), asked=None)

    def __repr__(self) -> str:
        return (f"Interview({self.questions_asked} questions asked, level "
                f"{self.level.value!r}, stopped={self.stopped!r})")

    # -- the state, read-only ------------------------------------------------------
    @property
    def findings(self) -> Mapping[str, bool]:
        """Every answer yes / no so far, asked or given (a read-only mapping)."""
        return self._state.findings

    @property
    def unknown(self) -> tuple[str, ...]:
        """Ids answered "don't know", in order."""
        return self._state.unknown

    @property
    def history(self) -> tuple[str, ...]:
        """Every question asked, in order: a finding's id, or a checklist's id
        (answers given without a question are in :attr:`given`)."""
        return self._state.history

    @property
    def items_asked(self) -> tuple[str, ...]:
        """Every evidence id asked, in order, a checklist's items one by one."""
        return self._state.asked_items

    @property
    def given(self) -> tuple[str, ...]:
        """Ids answered without being asked (``findings=``, :meth:`tell`, :meth:`run`)."""
        return self._state.given

    @property
    def outcomes(self) -> tuple[tuple[frozenset[str], str] | None, ...]:
        """(top three causes, triage level) after each answer to a non-screening
        question; None for screening answers. The patience rule reads these."""
        return self._state.outcomes

    @property
    def questions_asked(self) -> int:
        return len(self._state.history)

    def result(self) -> Diagnosis:
        """The diagnosis on every answer so far (``model.diagnose(self.findings)``)."""
        return self._state.diagnosis

    @property
    def triage(self) -> Triage:
        return self._state.diagnosis.triage

    @property
    def level(self) -> TriageLevel:
        """The triage level now: the model's on every answer so far, red flags included."""
        return self._state.diagnosis.triage.level

    @property
    def alert(self) -> Triage | None:
        """The triage when it is urgent or emergency (show it now), else None."""
        triage = self.triage
        return triage if triage.level >= TriageLevel.URGENT else None

    @property
    def emergency_stop(self) -> bool:
        """True while the interview is stopped because the level is emergency."""
        return self.level is TriageLevel.EMERGENCY and not self._state.going_on

    @property
    def stopped(self) -> str | None:
        """Why the interview stopped, or None while it goes on.

        Set by :meth:`next_question` (it returns None then); an emergency sets it at
        once, as soon as the answer that raised the level is recorded.
        """
        if self.emergency_stop:
            return "the triage level is emergency: act on it now (see the triage)"
        decided = self._decisions.get(id(self._state))
        if decided is not None:
            return decided[2]
        return None

    @property
    def screening_unanswered(self) -> tuple[str, ...]:
        """Screening (``ask_first``) ids not answered yes or no ("don't know" counts as
        unanswered), in the order of ``findings.csv``."""
        answered = set(self._state.findings)
        for node in self.model.structure.risk_nodes:
            if any(self._state.findings.get(member) for member in node.members):
                answered |= set(node.members)  # one age band known fixes the others
        return tuple(name for name in self.model.kb.evidence_ids
                     if name in self.model.ask_first and name not in answered)

    @property
    def incomplete(self) -> str | None:
        """Why the result cannot be read as a full assessment, or None.

        Either screening questions are unanswered (the red-flag checks were not all
        done, so "no red flag fired" means little), or nothing was reported present.
        """
        parts = []
        missing = self.screening_unanswered
        if missing:
            parts.append(f"{len(missing)} screening question{'s' if len(missing) > 1 else ''}"
                         " unanswered")  # which: screening_unanswered
        if not any(self._state.findings.values()):
            parts.append("nothing was reported present, so it rests on the prior "
                         "probabilities alone")
        return "this result is incomplete: " + "; ".join(parts) if parts else None

    # -- asking --------------------------------------------------------------------
    def next_question(self) -> Question | None:
        """The next question, or None when the interview should stop (see :attr:`stopped`).

        Ranks the questions once per state: calling it again before answering is free.
        """
        state = self._state
        decided = self._decisions.get(id(state))
        if decided is not None:
            return decided[1]
        question, reason = self._decide(state)
        self._decisions[id(state)] = (state, question, reason)
        return question

    def _decide(self, state: _State) -> tuple[Question | None, str | None]:
        if self.emergency_stop:
            return None, None  # the reason comes from the state (see stopped)
        if self.max_questions is not None and len(state.history) >= self.max_questions:
            return None, f"the limit of {self.max_questions} questions was reached"
        if self.max_present is not None and self._screened(state) and sum(
                1 for value in state.findings.values() if value) >= self.max_present \
                and not self._red_flag_open(state):
            return None, (f"{self.max_present} findings were reported present, the "
                          "limit for one interview: a clinician should see the whole "
                          "picture")
        table = rank_questions(self.model, state.findings, exclude=state.unknown,
                               diagnosis=state.diagnosis)
        reason = stop_reason(table, self.min_gain) or self._settled(state, table)
        if not reason:
            return self._choose(state, table), None
        topic = self._raising_topic(state, set(table["finding"]))
        if topic is None:
            return None, reason
        return self._topic_question(state, table, *topic), None

    def _raising_topic(self, state: _State,
                       askable: set[str]) -> tuple[Checklist, list[str]] | None:
        """The topic whose items still to ask (in ``askable``), answered all yes or all
        no, would raise the triage level the most (the first of equals), and those
        items; None when none would raise it.

        ``raises_level`` looks at one answer at a time, but answers add up: after a
        swollen leg, several clot risks together can make a clot likely enough for an
        emergency where no one of them does alone. Checked only when a stop rule would
        end the interview (two diagnoses per topic). "All yes" keeps one state of an
        exclusive risk factor (a tuned copy may put two in one topic), and answers
        that cannot happen together (probability zero) cannot raise anything."""
        best, level = None, state.diagnosis.triage.level
        node_of = self.model.structure.risk_evidence
        for topic in self._topics:
            items = [name for name in topic.items if name in askable]
            if not items:
                continue
            # the first state of each exclusive node (a finding is a node of its own)
            first = {("node", node_of[name][0]) if name in node_of else name: name
                     for name in reversed(items)}
            yes = list(first.values())
            for answers in (dict.fromkeys(yes, True), dict.fromkeys(items, False)):
                try:
                    after = self.model.diagnose({**state.findings, **answers})
                except ImpossibleEvidenceError:
                    continue
                if after.triage.level > level:
                    best, level = (topic, items), after.triage.level
                    if level is TriageLevel.EMERGENCY:  # nothing later can raise it more
                        return best
        return best

    def _topic_question(self, state: _State, table, topic: Checklist,
                        items: list[str]) -> Question:
        """The question that asks a raising topic's items: its checklist where it has
        not been asked and has more than one item left, else the item with the largest
        expected gain."""
        records = _by_finding(table)
        rows = [records[name] for name in items]
        if (self.grouped and topic.id in self.checklists and topic.id not in state.history
                and len(rows) > 1):
            return self._grouped(topic, rows)
        # the first of the largest gains, as a stable sort would put it first
        return _single(max(rows, key=lambda row: row["expected_gain"]))

    def _choose(self, state: _State, table) -> Question:
        """The best question: a checklist or one finding, ranked as the rows of
        ``table`` are (screening first, then what an answer could make more urgent,
        then expected gain).

        A checklist lists only its items still worth asking (screening, raising the
        level, or gaining ``min_gain`` bits); with one such item it is asked alone.
        A checklist is asked once: items it left out come back as single questions
        when they become worth asking. Stopping is decided on every single item
        (:meth:`_decide`), so no item that could raise the level is left unasked.
        """
        # plain records, and a question built for the winner alone: the table's rows
        # through pandas, and a Question for every option, were half of an interview
        # step's time
        rows = _by_finding(table)
        options: list[tuple[tuple[bool, bool, float], Callable[[], Question]]] = []
        covered: set[str] = set()
        for checklist in self.checklists.values():
            if checklist.id in state.history:
                continue
            items = [name for name in checklist.items if name in rows]
            covered.update(items)
            worth = [rows[name] for name in items
                     if rows[name]["ask_first"] or rows[name]["raises_level"]
                     or rows[name]["expected_gain"] >= self.min_gain]
            if len(worth) >= 2:
                options.append(((any(row["ask_first"] for row in worth),
                                 any(row["raises_level"] for row in worth),
                                 _gain(worth)),
                                functools.partial(self._grouped, checklist, worth)))
            elif len(worth) == 1:
                options.append((_sort_key(worth[0]), functools.partial(_single, worth[0])))
        options += [(_sort_key(row), functools.partial(_single, row))
                    for name, row in rows.items() if name not in covered]
        return max(options, key=lambda option: option[0])[1]()  # ties: the first

    @functools.cached_property
    def _labels(self) -> dict[str, str]:
        """Each evidence id's short label (the questions' table, read once)."""
        questions = self.model.kb.questions()
        return dict(zip(questions["id"], questions["label"]))

    def _grouped(self, checklist: Checklist, rows: Sequence[Mapping]) -> Question:
        """A checklist of these rows of :func:`rank_questions` (as records)."""
        names = [row["finding"] for row in rows]
        # texts from editable CSV files, printed by front ends: shown, never obeyed
        return Question(
            checklist.id, printable(checklist.question, newlines=False),
            checklist.ask_first, _gain(rows), items=tuple(names),
            labels=tuple(printable(str(self._labels.get(name, name)), newlines=False)
                         for name in names),
            item_questions=tuple(printable(str(row["question"]), newlines=False)
                                 for row in rows))

    def _screened(self, state: _State) -> bool:
        """Every screening question (``ask_first``) answered, "don't know" included."""
        answered = set(state.findings) | set(state.unknown)
        return self.model.ask_first <= answered

    def _red_flag_open(self, state: _State) -> bool:
        """Could a red flag above the current level still fire, whatever is asked?

        Red-flag conditions read only what is reported present, so reporting more never
        switches one off: the most the unasked questions can do is what they would do
        all answered "yes".
        """
        present = {name for name, value in state.findings.items() if value}
        unasked = set(self.model.kb.evidence_ids) - set(state.findings) - set(state.unknown)
        rules = self.model.rules
        return rules.red_flag_level(present | unasked) > state.diagnosis.triage.level

    def _settled(self, state: _State, table) -> str | None:
        """Stop once screening is done and ``patience`` answers in a row changed nothing,
        unless a question left is expected to gain ``patience_gain`` bits.

        "Don't know" answers count: a person who cannot answer is not helped by more
        questions of the same kind.
        """
        n = self.patience
        counted = [o for o in state.outcomes if o is not None]
        if n is None or table["ask_first"].any() or len(counted) <= n:
            return None
        if table["raises_level"].any():
            return None  # never stop while an answer could make the advice more urgent
        if (table["expected_gain"] >= self.patience_gain).any():
            return None  # the answers so far said little; one left may say much
        if len(set(counted[-(n + 1):])) == 1:
            return (f"the top three causes and the triage level did not change over the "
                    f"last {n} answers")
        return None

    # -- answering -----------------------------------------------------------------
    def answer(self, finding: str, value: object, *,
               shown: Sequence[str] | None = None) -> Triage | None:
        """Record the answer to one question and return the alert it raised, if any.

        ``value``: True (yes), False (no), None / NaN / pd.NA (don't know), or a typed
        reply (``"yes"``, ``"n"``, ``"don't know"``, ``"not sure"``, ``"?"`` ...).
        A later answer to the same id replaces the earlier one.

        ``shown`` (checklists only): the items the person was shown. Items shown and
        left out of a mapping are "don't know"; items not shown stay unasked and may
        come back as questions of their own. By default the items of the question on
        screen (:meth:`next_question`), else every item not yet answered yes or no.
        A front end that replays answers recorded elsewhere (an SDC
        QuestionnaireResponse) passes the items it recorded.

        Returns the triage when this answer raised the level to urgent or emergency
        (show it at once), else None. After an emergency :meth:`next_question`
        returns None until :meth:`carry_on`.

        Raises UnknownIdError, EvidenceValueError or ImpossibleEvidenceError (with
        the message naming the id) and then changes nothing.
        """
        if isinstance(finding, str) and finding in self.checklists:
            return self._commit(self._step(self._checklist_answers(finding, value, shown),
                                           asked=finding))
        if shown is not None:
            raise EvidenceValueError(
                f"shown= names the items a checklist showed; {finding!r} is not a "
                f"checklist (the checklists: {', '.join(self.checklists)})")
        checked = self._checked({finding: value})
        return self._commit(self._step(checked, asked=finding))

    def _checklist_answers(self, name: str, value: object,
                           shown: Sequence[str] | None = None) -> dict[str, Answer]:
        """The answers to the checklist ``name``: a mapping item -> reply (items shown
        and left out: don't know), or one "no" or "don't know" for every item shown."""
        checklist = self.checklists[name]
        decided = self._decisions.get(id(self._state))
        if shown is not None:
            if isinstance(shown, str):
                raise EvidenceValueError(
                    f"shown= takes a list of the items of {name!r} that were shown, "
                    f"not one string: shown=[{shown!r}]")
            shown = tuple(shown)
            _only_items(checklist, shown, "shown= lists the items it showed.")
        elif decided is not None and decided[1] is not None and decided[1].finding == name:
            shown = decided[1].items  # the items as asked
        else:
            # not the question on screen: every item not answered yes or no yet
            shown = tuple(item for item in checklist.items
                          if item not in self._state.findings)
        if isinstance(value, Mapping):
            checked = self._checked(value)
            _only_items(checklist, checked, "answer it on its own with answer({item!r}, ...).")
            return {**dict.fromkeys(shown), **checked}
        reply = answer_value(name, value)
        if reply is True:
            example = shown[0] if shown else checklist.items[0]
            raise EvidenceValueError(
                f"{name!r} is a checklist: say which items apply, e.g. "
                f"answer({name!r}, {{{example!r}: True}}) (items left out: don't know); "
                "a single 'no' means none of them, 'don't know' don't know for all.")
        return dict.fromkeys(shown, reply)

    def tell(self, answers: Mapping[str, object]) -> Triage | None:
        """Record answers given without a question (a main complaint, a form).

        All are checked first; if one is wrong nothing changes. One step for
        :meth:`back`. Returns the alert they raised, as :meth:`answer` does.
        """
        checked = self._checked(answers)
        if not checked:
            return None
        return self._commit(self._step(checked, asked=None))

    def carry_on(self) -> None:
        """Go on asking after an emergency stop, because the person chose to.

        The level stays emergency and every answer still counts; only the questions
        resume. :meth:`back` past the emergency answer restores the stop. The choice
        holds while the level stays at emergency: if later answers bring it down and
        another raises it again, the questions stop again.
        """
        if self.emergency_stop:
            self._state = replace(self._state, going_on=True)

    def back(self) -> str | None:
        """Undo the last step (an answer, or the answers told together), restoring the
        state before it exactly. Returns its id (the first, for answers told together),
        or None when there is nothing to undo."""
        if not self._undo:
            return None
        undone = self._state
        self._state = self._undo.pop()
        return undone.step[0] if undone.step else None

    def run(self, answers: Mapping[str, object]) -> Diagnosis:
        """Answer each question from ``answers`` until the stop, as a person would.

        Questions not in ``answers`` are answered "don't know". When the interview
        stops (an emergency included), the answers it never asked are recorded too
        (:attr:`given`), so the result uses every one. All answers are checked before
        the first question: a wrong one raises and changes nothing.
        """
        checked = self._checked(answers)
        self._step(checked, asked=None)  # would they all fit together? (raises if not)
        while (question := self.next_question()) is not None:
            self.answer(question.finding, question.reply(checked))
        reason = self.stopped
        state = self._state
        late = {name: value for name, value in checked.items()
                if name not in state.asked_items and not (
                    name in state.unknown if value is None
                    else state.findings.get(name) is value)}  # not already recorded
        if late:
            self.tell(late)
            # the run is over: it stopped for that reason, then recorded the rest
            self._decisions[id(self._state)] = (self._state, None, reason)
        return self.result()

    # -- internals -----------------------------------------------------------------
    def _checked(self, answers: Mapping[str, object]) -> dict[str, Answer]:
        """Ids and values checked with diagnose's rules; replies read; nothing stored."""
        if not isinstance(answers, Mapping):
            raise EvidenceValueError(
                "Answers must be a mapping of id to True / False / None (a dict such as "
                f"{{'fever': False}}); got {type(answers).__name__} instead.")
        checked: dict[str, Answer] = {}
        for name, value in answers.items():
            self.model.evidence({name: None})  # the id: UnknownIdError names it
            checked[name] = answer_value(name, value)
        return checked

    def _step(self, answers: Mapping[str, Answer], asked: str | None) -> _State:
        """The state after ``answers``: built whole, so a failure changes nothing."""
        state = self._state
        findings = dict(state.findings)
        unknown = list(state.unknown)
        for name, value in answers.items():
            findings.pop(name, None)
            if name in unknown:
                unknown.remove(name)
            if value is None:
                unknown.append(name)
            else:
                findings[name] = value
        self.model.evidence(findings)  # two exclusive states both yes: refused here
        try:
            dx = self.model.diagnose(findings)
        except ImpossibleEvidenceError as error:
            raise ImpossibleEvidenceError(self._impossible(error, findings)) from None
        outcomes = state.outcomes
        asked_items = state.asked_items
        step = tuple(answers)
        if asked is not None:
            history = (*state.history, asked)
            asked_items = (*asked_items, *answers)
            checklist = self.checklists.get(asked)
            screening = checklist.ask_first if checklist is not None else (
                asked in self.model.ask_first)
            outcome = None if screening else (
                frozenset(dx.ranking["cause"].head(3)), dx.triage.level.value)
            outcomes = (*outcomes, outcome)
            given = state.given
            if checklist is not None:
                step = (asked, *step)  # back() names the checklist
        else:
            history = state.history
            given = (*state.given, *(name for name in answers if name not in state.given))
        # the choice to go on covers this emergency only: once the level falls below
        # it, an answer that raises it again stops the questions again
        going_on = state.going_on and dx.triage.level is TriageLevel.EMERGENCY
        return _State(MappingProxyType(findings), tuple(unknown), history, given,
                      asked_items, outcomes, dx, step, going_on)

    def _commit(self, new: _State) -> Triage | None:
        before = self._state.diagnosis.triage.level
        self._undo.append(self._state)
        self._state = new
        after = new.diagnosis.triage
        return after if after.level >= TriageLevel.URGENT and after.level > before else None

    def _impossible(self, error: Exception, findings: Mapping[str, bool]) -> str:
        """The engine's message, and the red flags of these answers, which hold even
        when the model cannot score them (they read only what is reported present)."""
        present = [name for name, value in findings.items() if value]
        fired = self.model.rules.fired_red_flags(present)
        if not fired:
            return f"{error} The answer was not recorded."
        level = max(rule.level for rule in fired)
        return (f"{error} The answer was not recorded, but these answers are a red flag "
                f"({level.value}): {self.model.rules.actions[level]} "
                + " ".join(rule.reason for rule in fired if rule.level == level))


def _only_items(checklist: Checklist, ids: Iterable[str], fix: str) -> None:
    """Raise EvidenceValueError naming the first of ``ids`` that is not an item of
    ``checklist``; ``fix`` says what to do instead (``{item}``: that id)."""
    stray = next((item for item in ids if item not in checklist.items), None)
    if stray is not None:
        raise EvidenceValueError(
            f"{stray!r} is not an item of the checklist {checklist.id!r} (its items: "
            f"{', '.join(checklist.items)}); " + fix.format(item=stray))


def _by_finding(table) -> dict[str, dict]:
    """The rows of a :func:`rank_questions` table as plain records, by finding."""
    return {row["finding"]: row for row in table.to_dict("records")}


def _single(row: Mapping) -> Question:
    """A row of :func:`rank_questions` (a record) as a question."""
    # the question comes from an editable CSV file and front ends print it: a
    # terminal control sequence in it is shown, never obeyed
    return Question(row["finding"], printable(row["question"], newlines=False),
                    bool(row["ask_first"]), float(row["expected_gain"]))


def _sort_key(row: Mapping) -> tuple[bool, bool, float]:
    """How :meth:`Interview._choose` ranks a row asked alone."""
    return bool(row["ask_first"]), bool(row["raises_level"]), float(row["expected_gain"])


def _gain(rows: Sequence[Mapping]) -> float:
    """A checklist's expected gain: its rows' gains summed as numpy sums them (the
    same bits as the table's column summed)."""
    return float(np.sum(np.array([row["expected_gain"] for row in rows], dtype=float)))


def _is_number(value: object) -> bool:
    # numbers.Real: numpy numbers too (np.int64, np.float32); bool is not a number here
    return (isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
            and math.isfinite(value))

