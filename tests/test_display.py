"""The Jupyter view of a Diagnosis: structure, bar widths, escaping, disclaimer."""

import re
from html.parser import HTMLParser

import pytest

import posterior_knee as pk


class Page(HTMLParser):
    """Collects the elements of a page: (tag, attributes) in document order, and text."""

    def __init__(self, page):
        super().__init__()
        self.elements, self.text = [], []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def with_class(self, name):
        return [a for _, a in self.elements if name in a.get("class", "").split()]


def width(style):
    return float(re.search(r"width:([0-9.]+)%", style).group(1)) / 100


@pytest.mark.parametrize("findings, level", [
    ({"shortness_of_breath": True}, "emergency"),
    ({"lump_behind_knee": True, "tightness_behind_knee": True, "fever": False}, None),
    ({}, None),
])
def test_every_cause_has_a_row_with_bars_of_its_prior_and_posterior(findings, level):
    dx = pk.diagnose(findings)
    page = Page(dx._repr_html_())
    rows = page.with_class("pk-cause")
    assert [r["data-cause"] for r in rows] == list(dx.ranking["cause"])
    priors, posteriors = page.with_class("pk-prior"), page.with_class("pk-posterior")
    assert len(priors) == len(posteriors) == len(dx.ranking)
    for bar, value in zip(priors, dx.ranking["prior"]):
        assert width(bar["style"]) == pytest.approx(value, abs=5e-5)
    for bar, value in zip(posteriors, dx.ranking["probability"]):
        assert width(bar["style"]) == pytest.approx(value, abs=5e-5)
    banner = page.with_class("pk-triage")
    assert len(banner) == 1
    assert f"pk-level-{dx.triage.level.value}" in banner[0]["class"].split()
    if level:
        assert dx.triage.level.value == level


def test_banner_lists_every_reason_and_the_colour_differs_by_level():
    emergency = pk.diagnose({"shortness_of_breath": True})
    calm = pk.diagnose({"lump_behind_knee": True, "shortness_of_breath": False})
    assert emergency.triage.level != calm.triage.level
    styles = [Page(dx._repr_html_()).with_class("pk-triage")[0]["style"]
              for dx in (emergency, calm)]
    assert styles[0] != styles[1]
    text = "".join(Page(emergency._repr_html_()).text)
    for reason in emergency.triage.reasons:
        assert reason in text


def test_the_disclaimer_is_shown_once():
    page = pk.diagnose({"calf_pain": True})._repr_html_()
    assert page.count(pk.DISCLAIMER) == 1
    assert len(Page(page).with_class("pk-disclaimer")) == 1


def test_text_from_the_csv_files_is_escaped(kb):
    causes = kb.causes.copy()
    causes.loc[causes["id"] == "bakers_cyst", "label"] = "<script>alert('x')</script> & co"
    flags = kb.red_flags.copy()
    flags.loc[flags["id"] == "clot_in_lungs", "reason"] = "Breathless <b>now</b>"
    tuned = kb.replace(causes=causes, red_flags=flags)
    page = pk.diagnose({"lump_behind_knee": True, "shortness_of_breath": True},
                       kb=tuned)._repr_html_()
    assert "<script>" not in page and "<b>now</b>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co" in page
    assert "Breathless &lt;b&gt;now&lt;/b&gt;" in page
    assert not [tag for tag, _ in Page(page).elements if tag in ("script", "b")]


def test_a_rare_cause_is_shown_as_below_a_tenth_of_a_percent_not_as_zero():
    """A prior of 0.05 % (a popliteal aneurysm) rounds to "0.0%", which reads as
    impossible: the text and HTML views show "<0.1%" for any probability that is
    small but not zero, and "0.0%" never stands for one that is not zero."""
    dx = pk.diagnose({"lump_behind_knee": True})
    rare = dx.ranking.set_index("cause").loc["popliteal_artery_aneurysm", "prior"]
    assert 0.0 < rare < 0.0005
    text, page = dx.summary(n=len(dx.ranking)), dx._repr_html_()
    assert "(prior <0.1%)" in text
    assert "&lt;0.1%" in page  # escaped: a "<" opens a tag in HTML
    tiny = (dx.ranking[["prior", "probability"]] > 0.0).to_numpy().all()
    # "0.0%" as a figure of its own, not the end of "20.0%"
    assert tiny and not re.search(r"(?<![\d.])0\.0%", text)


def test_every_probability_a_person_reads_is_below_a_tenth_of_a_percent_not_zero():
    """The groups of the text view, the Wells line and the FHIR rationale write small
    probabilities as the ranking does: a clot group at 0.009 % is "<0.1%", not "0.0%"."""
    dx = pk.diagnose({
        "fever": True, "hot_painful_knee": True, "knee_swelling": True, "tenderness": True,
        "joint_infection_risk": True, "age_under_30": True, **dict.fromkeys((
            "calf_pain", "calf_swelling", "leg_swelling_one_side", "foot_ankle_swelling",
            "heaviness_lower_leg", "pain_standing_walking", "tightness_behind_knee",
            "active_cancer", "immobilisation", "recent_surgery", "previous_clot"), False)})
    clot = dx.groups.set_index("group").loc["dvt", "probability"]
    assert 0.0 < clot < 0.0005 and 0.0 < dx.probability("dvt") < 0.0005
    lines = str(dx).splitlines()
    assert [line.split()[-1] for line in lines if line.strip().startswith("Blood clot")] == \
        ["<0.1%"]
    assert dx.wells.summary().endswith("Model P(dvt) = <0.1%.")
    rationale = [p["rationale"] for p in dx.to_fhir()["prediction"]]
    assert rationale and not any("0.0%" in text for text in rationale)
