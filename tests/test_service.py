"""The CDS Hooks service: through starlette's test client, and once as a real server
started with the documented command on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from posterior_knee import interop

from .optional import require
from .test_interop import check_card, hook_request, run_adaptive, validate


@pytest.fixture(scope="module")
def client(model):
    require("starlette", "service")
    require("httpx", "test")
    from starlette.testclient import TestClient

    from posterior_knee.interop.service import create_app

    return TestClient(create_app(model))


def test_discovery_call(client):
    reply = client.get("/cds-services")
    assert reply.status_code == 200
    assert reply.json() == interop.discovery()


def test_hook_call_answers_with_the_card(client, model):
    done = run_adaptive({"shortness_of_breath": True}, model)
    reply = client.post("/cds-services/posterior-knee", json=hook_request(done))
    assert reply.status_code == 200
    (card,) = reply.json()["cards"]
    check_card(card)
    assert card["indicator"] == "critical"
    assert card == interop.hook_response(hook_request(done), model)["cards"][0]


def test_bad_calls_get_a_message(client):
    reply = client.post("/cds-services/posterior-knee", content=b"{not json")
    assert reply.status_code == 400 and "not JSON" in reply.json()["error"]
    reply = client.post("/cds-services/other", json=hook_request(None))
    assert reply.status_code == 404 and "posterior-knee" in reply.json()["error"]
    reply = client.post("/cds-services/posterior-knee",
                        json={**hook_request(None), "hook": "order-sign"})
    assert reply.status_code == 400 and "patient-view" in reply.json()["error"]


def test_next_question_operation(client, model):
    reply = client.post("/Questionnaire/$next-question", json=None)
    assert reply.status_code == 400
    # the first call of SDC's operation: no question yet, in a Parameters resource
    form = interop.questionnaire(model, adaptive=True)
    start = {"resourceType": "QuestionnaireResponse", "status": "in-progress",
             "questionnaire": f"#{form['id']}", "contained": [form]}
    reply = client.post("/Questionnaire/$next-question", json={
        "resourceType": "Parameters",
        "parameter": [{"name": "questionnaire-response", "resource": start}]})
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("application/fhir+json")
    validate(reply.json())
    assert reply.json() == interop.next_question(start, model)
    assert reply.json()["status"] == "in-progress"
    # asking again without answering is refused, with the reason
    reply = client.post("/Questionnaire/$next-question", json=reply.json())
    assert reply.status_code == 400 and "no answer yet" in reply.json()["error"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _command() -> list[str]:
    """The documented command, from the environment the tests run in."""
    script = Path(sys.executable).parent / "posterior-knee-cds"
    found = str(script) if script.exists() else shutil.which("posterior-knee-cds")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("posterior-knee-cds is not installed")
        pytest.skip("posterior-knee-cds is not installed (pip install -e .)")
    return [found]


def test_real_server_on_localhost(model):
    require("uvicorn", "service")
    port = _free_port()
    server = subprocess.Popen([*_command(), "--port", str(port)], stderr=subprocess.PIPE,
                              text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a bound on waiting, not a speed test
        while True:
            try:
                with urllib.request.urlopen(f"{base}/cds-services", timeout=5) as reply:
                    services = json.load(reply)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("the server did not start: " + server.stderr.read())
                time.sleep(0.2)
        assert services == interop.discovery()
        done = run_adaptive({"lump_behind_knee": True}, model)
        request = urllib.request.Request(
            f"{base}/cds-services/posterior-knee",
            data=json.dumps(hook_request(done)).encode(),
            headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=60) as reply:
            cards = json.load(reply)["cards"]
        assert cards == interop.hook_response(hook_request(done), model)["cards"]
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server.stderr.close()
