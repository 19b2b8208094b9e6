"""An interview with buttons in Jupyter: :class:`InterviewWidget` around an
:class:`~posterior_knee.interview.Interview`.

Needs ipywidgets, an optional extra: ``pip install "posterior-knee[widgets]"``. It is
imported only when a widget is made. The buttons come from ipywidgets itself, whose
front-end code Jupyter installs locally, so the widget needs no internet. Where no
widget can be drawn (a notebook opened untrusted, a page converted to HTML, a
terminal), the widget shows its current state as plain HTML instead: the question,
the buttons (inactive), the warnings and, once the questions stop, the diagnosis.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from .clinical import DISCLAIMER
from .clinical.triage import TriageLevel
from .errors import check_parameter
from .interview import Interview, Question
from .model import Model

if TYPE_CHECKING:
    from .result import Diagnosis

__all__ = ["InterviewWidget", "ANSWERS"]

ANSWERS = {"yes": True, "no": False, "don't know": None}
"""The answer buttons: label -> the value given to :meth:`Interview.answer`."""

_EMERGENCY_COLOUR = "#b00020"
_WARNING_COLOUR = "#b35900"
_BUTTON_STYLE = ("margin:2px 4px 2px 0;padding:2px 12px;border:1px solid #9e9e9e;"
                 "border-radius:2px;background:#eeeeee;color:#000000;font:inherit;")


def _ipywidgets():
    try:
        import ipywidgets
    except ImportError as error:
        raise ImportError(
            "The interview widget needs ipywidgets, an optional extra: "
            'pip install "posterior-knee[widgets]"') from error
    return ipywidgets


class InterviewWidget:
    """Buttons around an interview: one question at a time, as in a consultation.

    Screening questions for red flags come first, then whichever question is expected
    to tell the most. **yes**, **no** and **don't know** answer; **back** undoes the
    last answer. A checklist ("which of these apply?") shows a yes / no / don't know
    switch per item (each starts at don't know) and **done** sends them; **no** means
    none of them, **don't know** don't know for all. An answer that means an
    emergency stops the questions at once and says what to do; **go on** asks more
    if the person chooses to (the level stays emergency). An answer that means "be
    seen today" shows a warning and the questions go on. When the questions stop,
    the diagnosis is shown below.

    Parameters
    ----------
    interview
        The :class:`~posterior_knee.interview.Interview` to drive, or a
        :class:`~posterior_knee.Model` (a new interview on it with the default
        stopping rules), or None (the shipped model).

    Attributes
    ----------
    interview
        The interview driven; read its answers, history and result from it.
    question
        The question on screen, or None once the questions have stopped.
    buttons
        The answer buttons, by label (see :data:`ANSWERS`).
    back_button, go_on_button, done_button
        **back**, **go on** and **done** (sends a checklist's switches).
    switches
        A checklist's switches on screen, by item id (empty for one finding).
    view
        The ipywidgets box that Jupyter draws.

    Examples
    --------
    ``Button.click()`` runs what a mouse click runs, so a script (or a test) can
    drive the widget without a browser:

    >>> import posterior_knee as pk
    >>> from posterior_knee.widget import InterviewWidget
    >>> ui = InterviewWidget(pk.Interview(pk.Model(), max_questions=2))
    >>> ui.question.ask_first            # screening questions for red flags first
    True
    >>> ui.buttons["no"].click()
    >>> ui.interview.questions_asked
    1
    >>> ui.buttons["no"].click()         # the second and last question of this run
    >>> ui.question is None, "Done" in ui.prompt.value
    (True, True)
    >>> pk.DISCLAIMER in ui.snapshot_html()  # the plain HTML view, for offline pages
    True
    """

    def __init__(self, interview: Interview | Model | None = None):
        if interview is None or isinstance(interview, Model):
            interview = Interview(interview if interview is not None else Model())
        check_parameter(isinstance(interview, Interview), "interview", "InterviewWidget",
                        "an Interview, a Model or None", interview)
        widgets = _ipywidgets()
        self.interview = interview
        self.question: Question | None = None
        self.disclaimer = widgets.HTML(f"<i>{html.escape(DISCLAIMER)}</i>")
        self.prompt = widgets.HTML()
        self.warning = widgets.HTML()
        self.status = widgets.HTML()
        self.result = widgets.HTML()
        self.buttons = {label: widgets.Button(description=label) for label in ANSWERS}
        for label, button in self.buttons.items():
            button.on_click(lambda _button, value=ANSWERS[label]: self.answer(value))
        self.back_button = widgets.Button(description="back")
        self.back_button.on_click(lambda _button: self.back())
        self.go_on_button = widgets.Button(description="go on")
        self.go_on_button.on_click(lambda _button: self.go_on())
        self.done_button = widgets.Button(description="done")
        self.done_button.on_click(lambda _button: self.send_switches())
        self.switches: dict[str, Any] = {}  # ipywidgets.ToggleButtons
        self._labels: dict[str, str] = {}
        self.items = widgets.VBox([])
        self._row = [*self.buttons.values(), self.done_button, self.back_button,
                     self.go_on_button]
        self.view = widgets.VBox([
            self.disclaimer,  # first, before any question
            self.prompt,
            self.items,
            widgets.HBox(self._row),
            self.warning,
            self.status,
            self.result,
        ])
        self.ask()

    def __repr__(self) -> str:
        return f"InterviewWidget({self.interview!r})"

    # -- what the buttons do ---------------------------------------------------------
    def ask(self) -> None:
        """Show the next question, or why the questions stopped and the diagnosis."""
        interview = self.interview
        self.question = interview.next_question()
        for button in self.buttons.values():
            button.disabled = self.question is None
        grouped = self.question is not None and self.question.grouped
        self.buttons["yes"].disabled |= grouped  # which ones: the switches say
        self.done_button.disabled = not grouped
        self._show_items(grouped)
        self.go_on_button.disabled = not interview.emergency_stop
        self._show_status()
        if interview.emergency_stop:  # stop at once and say what to do
            action = html.escape(interview.triage.action)
            self.prompt.value = (f"<b style='color:{_EMERGENCY_COLOUR}'>EMERGENCY: "
                                 f"{action}</b><br>The questions stop here. Click "
                                 "<b>go on</b> to answer more, or <b>back</b> if that "
                                 "answer was a mistake.")
        elif self.question is None:
            self.prompt.value = (f"<b>Done.</b> Stopped because "
                                 f"{html.escape(str(interview.stopped))}.")
        if self.question is None:
            note = interview.incomplete
            self.warning.value = f"<b>Note:</b> {html.escape(note)}." if note else ""
            self.result.value = self.diagnosis._repr_html_()
            return
        self.result.value = ""
        kind = "screening question" if self.question.ask_first else (
            f"expected gain {self.question.expected_gain:.2f} bits")
        if self.question.grouped:
            kind += "; set each item, then click done (no: none of them)"
        self.prompt.value = (f"<b>Question {interview.questions_asked + 1}</b> "
                             f"({kind}): {html.escape(self.question.question)}")

    def _show_items(self, grouped: bool) -> None:
        """A switch per item of a checklist on screen, each at don't know."""
        widgets = _ipywidgets()
        question = self.question
        if not grouped or question is None:
            self.switches, self._labels, self.items.children = {}, {}, ()
            return
        self.switches = {name: widgets.ToggleButtons(options=list(ANSWERS),
                                                     value="don't know")
                         for name in question.items}
        self._labels = dict(zip(question.items, question.labels))
        self.items.children = tuple(
            widgets.HBox([widgets.HTML(html.escape(self._labels[name]),
                                       layout=widgets.Layout(width="22em")), switch])
            for name, switch in self.switches.items())

    def send_switches(self) -> None:
        """Answer a checklist with its switches (what **done** does)."""
        if self.question is not None and self.question.grouped:
            self.answer({name: ANSWERS[switch.value]
                         for name, switch in self.switches.items()})

    def answer(self, value: object) -> None:
        """Answer the question on screen (what the yes / no / don't know buttons do);
        a checklist also takes a mapping of item to True / False / None."""
        if self.question is None:
            return
        alert = self.interview.answer(self.question.finding, value)
        if alert is not None and alert.level is TriageLevel.URGENT:  # a warning, at once
            self.warning.value = (f"<b style='color:{_WARNING_COLOUR}'>Warning:</b> "
                                  f"{html.escape(alert.action)}")
        self.ask()

    def back(self) -> None:
        """Undo the last answer and ask its question again."""
        if self.interview.back() is not None:
            self.warning.value = ""
            self.ask()

    def go_on(self) -> None:
        """Ask more questions after an emergency stop (the level stays emergency)."""
        self.interview.carry_on()
        self.ask()

    # -- what it shows ----------------------------------------------------------------
    @property
    def diagnosis(self) -> Diagnosis:
        """The diagnosis on every answer so far."""
        return self.interview.result()

    def _show_status(self) -> None:
        dx = self.diagnosis
        top = ", ".join(f"{row.cause} {row.probability:.0%}"
                        for row in dx.ranking.head(3).itertuples())
        self.status.value = (f"Triage so far: <b>{dx.triage.level.value}</b>. "
                             f"Top causes: {html.escape(top)}")

    def snapshot_html(self) -> str:
        """The widget as it is now, in plain HTML: no script, no widget library.

        What a page converted from a notebook shows, and what Jupyter shows where it
        cannot draw widgets. The buttons are drawn inactive.
        """
        # styled inline: a page's own style sheet may strip buttons bare
        buttons = "".join(
            f"<button disabled style='{_BUTTON_STYLE}"
            f"{'opacity:0.45;' if button.disabled else ''}'>"
            f"{html.escape(button.description)}</button>" for button in self._row)
        items = "".join(
            f"<li>{html.escape(self._labels[name])}: "
            f"<b>{html.escape(str(switch.value))}</b></li>"
            for name, switch in self.switches.items())
        parts = [self.disclaimer.value, self.prompt.value,
                 f"<ul style='margin:2px 0'>{items}</ul>" if items else "", buttons,
                 self.warning.value, self.status.value, self.result.value]
        return ("<div class='pk-interview' style='border:1px solid #d5d8dc;"
                "padding:8px;border-radius:4px'>"
                + "".join(f"<div style='margin:4px 0'>{part}</div>"
                          for part in parts if part)
                + "</div>")

    def _repr_mimebundle_(self, include=None, exclude=None):
        """The live widget for Jupyter, with the plain HTML snapshot beside it."""
        bundle = dict(self.view._repr_mimebundle_(include=include, exclude=exclude) or {})
        bundle["text/html"] = self.snapshot_html()
        bundle["text/plain"] = repr(self)
        return bundle
