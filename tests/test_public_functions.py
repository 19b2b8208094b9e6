"""One common test: every public function answers bad values with a clear error."""

import numpy as np
import pandas as pd
import pytest

import posterior_knee as pk
from posterior_knee.errors import ParameterError, PosteriorKneeError
from posterior_knee.widget import InterviewWidget  # checks its argument before ipywidgets

DX = pk.diagnose({"calf_pain": True})
KB = pk.load_knowledge_base()
FRAME = pd.DataFrame({"fever": [True]})

BAD_CALLS = {
    "load_knowledge_base(123)": lambda: pk.load_knowledge_base(123),
    "KnowledgeBase.save(123)": lambda: KB.save(123),
    "Model('priors/')": lambda: pk.Model("priors/"),
    "Model(engine='fast')": lambda: pk.Model(KB, engine="fast"),
    "diagnose(None)": lambda: pk.diagnose(None),
    "diagnose(kb='x')": lambda: pk.diagnose({}, kb="x"),
    "diagnose({1: True})": lambda: pk.diagnose({1: True}),
    "explain(5)": lambda: DX.explain(5),
    "explain('dvtt')": lambda: DX.explain("dvtt"),
    "next_questions(k=0)": lambda: DX.next_questions(k=0),
    "next_questions(k='a')": lambda: DX.next_questions(k="a"),
    "next_questions(by='x')": lambda: DX.next_questions(by="x"),
    "next_questions(focus='dvtt')": lambda: DX.next_questions(focus="dvtt"),
    "diagnose_many([1])": lambda: DX.model.diagnose_many([1]),
    "diagnose_many(bad column)": lambda: DX.model.diagnose_many(pd.DataFrame({"x": [1]})),
    "diagnose_many(chunk_size=0)": lambda: DX.model.diagnose_many(FRAME, chunk_size=0),
    "diagnose_many(chunk_size=True)": lambda: DX.model.diagnose_many(FRAME, chunk_size=True),
    "diagnose_many(chunk_size=2.5)": lambda: DX.model.diagnose_many(FRAME, chunk_size=2.5),
    "diagnose_many(progress='yes')": lambda: DX.model.diagnose_many(FRAME, progress="yes"),
    "diagnose_many(errors='ignore')": lambda: DX.model.diagnose_many(FRAME, errors="ignore"),
    "rules.levels(bad shape)": lambda: DX.model.rules.levels([[True, False]], ["fever"], {}),
    "Interview.answer(3, True)": lambda: pk.Interview(DX.model).answer(3, True),
    "evidence_table('priors/')": lambda: pk.evidence_table("priors/"),
    "plot_posterior('x')": lambda: pk.plots.plot_posterior("x"),
    "plot_posterior(k=0)": lambda: pk.plots.plot_posterior(DX, k=0),
    "draw_network(kb)": lambda: pk.plots.draw_network(KB),
    "draw_network(labels='x')": lambda: pk.plots.draw_network(DX.model, labels="x"),
    "draw_network(dx, evidence)": lambda: pk.plots.draw_network(DX, {"fever": True}),
    "draw_network(k=0)": lambda: pk.plots.draw_network(DX, k=0),
    "plot_tornado(ranking)": lambda: pk.plots.plot_tornado(DX.ranking),
    "plot_tornado(no baseline)": lambda: pk.plots.plot_tornado(
        pd.DataFrame(columns=["file", "id", "column", "p_low", "p_high"])),
    "plot_cohort(ranking)": lambda: pk.plots.plot_cohort(DX.ranking),
    "plot_cohort(axes=1)": lambda: pk.plots.plot_cohort(
        DX.model.diagnose_many(pd.DataFrame({"fever": [True]})), axes=1),
    "Model.sensitivity(target=3)": lambda: DX.model.sensitivity({"calf_pain": True}, 3),
    "Model.sensitivity(bad finding)": lambda: DX.model.sensitivity({"calf_pian": True}),
    "Diagnosis.sensitivity('dvtt')": lambda: DX.sensitivity("dvtt"),
    "Diagnosis.intervals(n=0)": lambda: DX.intervals(n=0),
    "Diagnosis.intervals(seed=1.5)": lambda: DX.intervals(seed=1.5),
    "Diagnosis.intervals(level=95)": lambda: DX.intervals(level=95),
    "Diagnosis.intervals(n=10**6)": lambda: DX.intervals(n=10**6),
    "Diagnosis.intervals(n=np.float64(50))": lambda: DX.intervals(n=np.float64(50)),
    "Diagnosis.summary(n=0)": lambda: DX.summary(n=0),
    "Diagnosis.summary(n=True)": lambda: DX.summary(n=True),
    "Diagnosis.probability('dvtt')": lambda: DX.probability("dvtt"),
    "Interview(max_present=0)": lambda: pk.Interview(DX.model, max_present=0),
    "Interview(max_questions=np.bool_)": lambda: pk.Interview(DX.model,
                                                            max_questions=np.True_),
    "evaluate(split='train')": lambda: pk.evaluate(DX.model, split="train"),
    "evaluate(cases='x.csv')": lambda: pk.evaluate(DX.model, cases="x.csv"),
    "vignettes('train')": lambda: pk.vignettes("train"),
    "Diagnosis.to_fhir(intervals=True)": lambda: DX.to_fhir(intervals=True),
    "Diagnosis.to_fhir(intervals=10**6)": lambda: DX.to_fhir(intervals=10**6),
    "Diagnosis.to_fhir(occurrence=1)": lambda: DX.to_fhir(occurrence=1),
    "interop.risk_assessment('x')": lambda: pk.interop.risk_assessment("x"),
    "interop.card(ranking)": lambda: pk.interop.card(DX.ranking),
    "interop.card(top=0)": lambda: pk.interop.card(DX, top=0),
    "interop.questionnaire(model='x')": lambda: pk.interop.questionnaire("x"),
    "interop.next_question('x')": lambda: pk.interop.next_question("x"),
    "interop.answers_of(5)": lambda: pk.interop.answers_of(5),
    "interop.hook_response([])": lambda: pk.interop.hook_response([]),
    "InterviewWidget('x')": lambda: InterviewWidget("x"),
}


@pytest.mark.parametrize("call", list(BAD_CALLS), ids=list(BAD_CALLS))
def test_bad_values_give_a_clear_error(call):
    with pytest.raises(PosteriorKneeError) as info:
        BAD_CALLS[call]()
    message = str(info.value)
    assert len(message) > 20 and "Traceback" not in message


def test_parameter_errors_follow_one_template():
    with pytest.raises(ParameterError, match=r"The 'k' parameter of next_questions must be"):
        DX.next_questions(k=-1)
    with pytest.raises(ParameterError, match=r"The 'errors' parameter of diagnose_many"):
        DX.model.diagnose_many(FRAME, errors="drop")
    with pytest.raises(TypeError):  # also the built-in type, for callers that catch it
        pk.load_knowledge_base(123)
