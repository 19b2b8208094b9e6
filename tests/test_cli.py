"""The posterior-knee command."""

import json
import shutil
import subprocess
import sys

import pytest

from posterior_knee import DISCLAIMER
from posterior_knee.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_diagnose_table(capsys):
    code, out, err = run(capsys, "diagnose", "--yes", "lump_behind_knee",
                         "tightness_behind_knee", "--no", "fever")
    assert code == 0 and err == ""
    assert "Triage:" in out and "bakers_cyst" in out and DISCLAIMER in out


def test_diagnose_json(capsys):
    code, out, _ = run(capsys, "diagnose", "--yes", "fever,hot_painful_knee", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["triage"]["level"] == "emergency"
    assert result["red_flags"]
    assert result["findings"] == {"fever": True, "hot_painful_knee": True}
    assert {"cause", "probability", "prior"} <= set(result["ranking"][0])
    assert result["disclaimer"] == DISCLAIMER


def test_unknown_finding_is_one_line_error(capsys):
    code, out, err = run(capsys, "diagnose", "--yes", "feverr")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "Did you mean 'fever'" in err


def test_same_id_yes_and_no(capsys):
    code, _, err = run(capsys, "diagnose", "--yes", "fever", "--no", "fever")
    assert code == 1 and "both" in err


def test_lists(capsys, kb):
    code, out, _ = run(capsys, "findings", "--json")
    assert code == 0 and {r["id"] for r in json.loads(out)} == set(kb.evidence_ids)
    code, out, _ = run(capsys, "causes")
    assert code == 0 and "septic_arthritis" in out


def test_validate(capsys, priors_copy):
    code, out, _ = run(capsys, "validate", str(priors_copy))
    assert code == 0 and out.startswith("OK")
    (priors_copy / "causes.csv").write_text("id,label\n")
    code, _, err = run(capsys, "validate", str(priors_copy))
    assert code == 1 and "causes.csv" in err and "Traceback" not in err


def test_bad_usage_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["diagnose", "--top", "many"])
    assert info.value.code == 2


def test_installed_entry_point():
    exe = shutil.which("posterior-knee")
    if exe is None:
        pytest.skip("the package is not installed with its entry point")
    done = subprocess.run([exe, "diagnose", "--yes", "calf_pain", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ranking"]


def test_module_runs_without_pgmpy_import():
    """The main job never imports pgmpy (it takes seconds to import)."""
    code = ("import sys; from posterior_knee.cli import main; "
            "main(['diagnose', '--yes', 'calf_pain']); "
            "assert 'pgmpy' not in sys.modules, 'pgmpy was imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
