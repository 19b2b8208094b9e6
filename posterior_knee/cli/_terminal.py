"""The interview at a terminal: questions on standard output (standard error with
``--json``), replies from standard input, an emergency shown at once."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Collection

from ..errors import PosteriorKneeError
from ._answers import _checked, _given, _read_answers
from ._output import _as_json, _diagnosis_text, _print_json, _print_text, _stderr, _wrap


def _interview(args: argparse.Namespace, kb) -> int:
    from ..interview import Interview
    from ..model import Model

    given = _given(args)
    answers = None
    if args.answers is not None:
        source = "standard input" if args.answers == "-" else args.answers
        answers = _read_answers(args.answers)
        # every problem in the flags and the file, in one message
        checked = _checked(kb, given + [(source, k, v) for k, v in answers.items()])
        answers = {name: checked[name] for name in answers}
    findings = _checked(kb, given)
    interview = Interview(Model(kb), max_questions=args.max_questions, findings=findings,
                          grouped=not args.one_at_a_time)
    if answers is not None:
        interview.run(answers)
    else:  # with --json, questions go to stderr so that stdout stays JSON
        console = _Console(sys.stderr if args.json else sys.stdout)
        try:
            _ask_in_terminal(interview, console)
        except KeyboardInterrupt:
            # stopped mid-question: any warning already raised is said again, so that
            # the last thing on the screen is what to do
            if interview.alert is not None:
                triage = interview.alert
                _stderr(f"\nposterior-knee: interrupted; the answers so far say: "
                        f"{triage.level.value.upper()}. {triage.action}")
            raise
    dx = interview.result()
    if args.json:
        result = _as_json(dx)
        alert = interview.alert
        result.update(
            questions_asked=interview.questions_asked, asked=list(interview.history),
            items_asked=list(interview.items_asked),
            given=list(interview.given), unknown=list(interview.unknown),
            stopped=interview.stopped, emergency_stop=interview.emergency_stop,
            alert=None if alert is None else {"level": alert.level.value,
                                              "action": alert.action,
                                              "reasons": list(alert.reasons)},
            incomplete=interview.incomplete,
            screening_unanswered=list(interview.screening_unanswered))
        _print_json(result)
    else:
        lines = [f"\n{interview.questions_asked} questions asked; stopped because "
                 f"{interview.stopped or 'you chose to stop'}.\n"]
        if interview.incomplete:
            lines.append(_incomplete_note(interview))
        lines.append(_diagnosis_text(dx))
        _print_text("\n".join(lines))
    return 0


def _incomplete_note(interview) -> str:
    """The incomplete statement, with the screening questions left to answer."""
    lines = [f"NOTE: {interview.incomplete[0].upper()}{interview.incomplete[1:]}."]
    missing = interview.screening_unanswered
    if missing and not interview.emergency_stop:  # an emergency needs no more questions
        text = interview.model._question_text
        lines.append("These screening questions were not answered; if the answer to "
                     "any is yes, seek care now:")
        lines += [f"  - {text.get(name, name)}" for name in missing]
    return "\n".join(lines) + "\n"


class _Console:
    """Where the terminal interview writes and reads (tests pass their own)."""

    def __init__(self, out, read=None):
        self.out = out
        self._read = read

    def write(self, text: str = "") -> None:
        print(_wrap(text), file=self.out, flush=True)

    def ask(self, prompt: str) -> str | None:
        """The reply typed, or None at the end of input."""
        wrapped = _wrap(prompt)
        print(wrapped + (" " if prompt.endswith(" ") and not wrapped.endswith(" ") else ""),
              end="", file=self.out, flush=True)
        if self._read is not None:
            reply = self._read()
        else:
            reply = sys.stdin.readline()
            if not sys.stdin.isatty() and reply:
                print(reply.rstrip("\n"), file=self.out, flush=True)  # a readable transcript
        if not reply:
            return None
        return reply.rstrip("\r\n")


_BACK = ("b", "back")
_QUIT = ("q", "quit", "stop", "exit")
_GO_ON = ("go on", "continue")


def _ask_in_terminal(interview, console: _Console) -> None:
    """Ask until the interview stops, the person quits, or an emergency (unless the
    person chooses to go on). The disclaimer comes first."""
    from ..clinical.triage import DISCLAIMER
    from ..inference._answers import normalise_reply, parse_reply

    console.write(DISCLAIMER)
    console.write("\nAnswer each question with yes (y), no (n) or don't know (d), and "
                  "a list with the numbers of the items that apply (n: none, d: don't "
                  "know); type back (b) to change the last answer or quit (q) to stop.\n")
    if interview.alert is not None:  # from what was given with --yes
        _show_alert(interview, console)
        if interview.emergency_stop and not _go_on(interview, console):
            return
    while (question := interview.next_question()) is not None:
        reply = console.ask(_prompt(question, interview.questions_asked + 1))
        if reply is None:
            return
        command = normalise_reply(reply)
        if command in _QUIT:
            return
        if command in _BACK:
            if interview.back() is None:
                console.write("  (nothing to go back to)")
            continue
        try:
            value = (_checklist_reply(reply, question,
                                      [name for name, yes in interview.findings.items() if yes])
                     if question.grouped else parse_reply(reply, question.finding))
        except PosteriorKneeError as error:
            hint = str(error).partition("instead.")[2]
            console.write("  Please type the numbers of those that apply, n if none "
                          "does or d if you don't know (or back, quit)." if question.grouped
                          else f"  Please answer yes, no or don't know (or back, quit).{hint}")
            continue
        alert = interview.answer(question.finding, value)
        if alert is not None:
            _show_alert(interview, console)
            if interview.emergency_stop and not _go_on(interview, console):
                return


def _prompt(question, number: int) -> str:
    """The question as typed on the terminal: a checklist lists its items, numbered."""
    if not question.grouped:
        return f"Q{number}. {question.question} "
    lines = [f"Q{number}. {question.question}"]
    lines += [f"  {k:>2}. {label}" for k, label in enumerate(question.labels, start=1)]
    lines.append("  Type the numbers of those that apply (e.g. 1 3; 2? if unsure), n if "
                 "none does, d if you don't know: ")
    return "\n".join(lines)


_NUMBER = re.compile(r"(\d+)(\?)?")


def _checklist_reply(text: str, question, said: Collection[str] = ()) -> object:
    """A typed reply to a checklist: "no" (none applies) or "don't know" (for every
    item), or the numbers of the items that apply (a number with "?": not sure), the
    others no. An item left out that a "yes" answers too, ticked here or among ``said``
    (the ids answered yes before), is a yes: ticking only "pain for more than 2 weeks"
    does not say "not more than 3 days" (:data:`~posterior_knee.reasoning.checklists.IMPLIES`)."""
    from ..errors import EvidenceValueError
    from ..inference._answers import REPLIES, normalise_reply

    key = normalise_reply(text)
    if key in ("none", "none of them") or (key in REPLIES and REPLIES[key] is not True):
        value = False if key.startswith("none") else REPLIES[key]
        if value is not False:
            return value
        none = _with_implied(dict.fromkeys(question.items, False), said)
        return none if any(none.values()) else False
    reply: dict[str, bool | None] = dict.fromkeys(question.items, False)
    tokens = [t for t in re.split(r"[\s,;]+", key) if t]
    for token in tokens:
        match = _NUMBER.fullmatch(token)
        if match is None or not 1 <= int(match.group(1)) <= len(question.items):
            raise EvidenceValueError(
                f"The answer to {question.finding!r} must be the numbers of the items "
                f"that apply (1 to {len(question.items)}), n (none) or d (don't know); "
                f"got {text!r} instead.")
        reply[question.items[int(match.group(1)) - 1]] = None if match.group(2) else True
    if not tokens:
        raise EvidenceValueError(f"The answer to {question.finding!r} is empty.")
    return _with_implied(reply, said)


def _with_implied(reply: dict[str, bool | None], said: Collection[str]) -> dict:
    """``reply`` with each "no" that a "yes" in it or in ``said`` answers turned "yes"."""
    from ..reasoning.checklists import implied_by

    ticked = [name for name, value in reply.items() if value is True]
    for name in implied_by(dict.fromkeys([*said, *ticked], True), reply):
        if reply[name] is False:
            reply[name] = True
    return reply


def _show_alert(interview, console: _Console) -> None:
    """An urgent or emergency level, at once: the action, then why in plain words (the
    red flags' reasons; a threshold's reason when no red flag set the level)."""
    triage = interview.triage
    present = [name for name, value in interview.findings.items() if value]
    reasons = [rule.reason for rule in interview.model.rules.fired_red_flags(present)
               if rule.level is triage.level]
    if not reasons:
        marker = f"({triage.level.value})"
        reasons = [r for r in triage.reasons if marker in r] or list(triage.reasons[:1])
    if triage.level.value == "emergency":
        console.write(f"\n  !!! EMERGENCY: {triage.action}")
    else:
        console.write(f"\n  ! Warning ({triage.level.value}): {triage.action}")
    for reason in reasons:
        console.write(f"    - {reason}")
    console.write()


def _go_on(interview, console: _Console) -> bool:
    """After an emergency: stop (the default: any reply but 'go on' or 'back'), go on,
    or go back on a mistaken answer."""
    from ..inference._answers import normalise_reply

    reply = console.ask("  Please act on this now. Press Enter to stop here, type 'go on' "
                        "to answer more questions, or 'back' if that answer was a "
                        "mistake: ")
    command = normalise_reply(reply or "")
    if command in _GO_ON:
        interview.carry_on()
        return True
    if command in _BACK:
        if interview.back() is not None:
            return True
        console.write("  (nothing to go back to: that was given before the questions)")
    return False
