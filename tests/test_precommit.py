"""The pre-commit hook, run by the real `pre-commit try-repo` against a temporary git repository.

`try-repo` installs the hook repository into a fresh isolated virtualenv on every call (pip, from the
package index: libcst, flake8, click; never torch), so the test makes two calls: one that must fail
with our diagnostics, and one, after the fix, that must pass.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRE_COMMIT = shutil.which("pre-commit", path=str(Path(sys.executable).parent)) or shutil.which("pre-commit")

pytestmark = [
    pytest.mark.skipif(PRE_COMMIT is None, reason="pre-commit is not installed (it is in the test extra)"),
    pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git"),
]

HAZARD = """\
import torch
import torch.nn as nn

model = nn.Linear(4, 2)
torch.manual_seed(0)
print(model(torch.ones(1, 4)))
"""
FIXED = HAZARD.replace(
    "model = nn.Linear(4, 2)\ntorch.manual_seed(0)\n", "torch.manual_seed(0)\nmodel = nn.Linear(4, 2)\n"
)
NOTEBOOK = (
    '{"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# try"]}, '
    '{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": null, '
    '"source": ["%matplotlib inline\\n", "import torch\\n", "SEED\\n", "model = torch.nn.Linear(2, 2)\\n"]}], '
    '"metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
)


def git(*args: str, cwd: Path) -> None:
    subprocess.run(
        [
            "git",
            "-c",
            "user.name=torchlint-test",
            "-c",
            "user.email=test@example.invalid",
            "-c",
            "commit.gpgsign=false",
            *args,
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory) -> Path:
    """What installing needs (the package, pyproject.toml, README.md, the hook manifest), committed."""
    repo = tmp_path_factory.mktemp("hook-repo")
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE", ".pre-commit-hooks.yaml"):
        shutil.copy(ROOT / name, repo / name)
    shutil.copytree(ROOT / "src", repo / "src", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    git("init", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "hook", cwd=repo)
    return repo


def try_repo(hook_repo: Path, target: Path) -> tuple[int, str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(target.parent / "pre-commit-home"), "PRE_COMMIT_COLOR": "never"}
    proc = subprocess.run(
        [PRE_COMMIT, "try-repo", str(hook_repo), "torchlint-repro", "--verbose"],
        cwd=target,
        capture_output=True,
        text=True,
        env=env,
        timeout=540,
    )
    return proc.returncode, proc.stdout + proc.stderr


def test_manifest_is_valid() -> None:
    proc = subprocess.run(
        [PRE_COMMIT, "validate-manifest", str(ROOT / ".pre-commit-hooks.yaml")], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_hook_fails_on_hazards_then_passes_once_fixed(hook_repo: Path, tmp_path: Path) -> None:
    target = tmp_path / "project"
    target.mkdir()
    git("init", "-q", cwd=target)
    (target / "pyproject.toml").write_text('[tool.torchlint-repro]\nexclude = ["legacy"]\n')
    (target / "train.py").write_text(HAZARD)
    (target / "explore.ipynb").write_text(NOTEBOOK.replace("SEED", "print('no seed yet')"))
    (target / "legacy").mkdir()
    (target / "legacy" / "old.py").write_text(HAZARD)  # excluded: the hook passes --force-exclude
    (target / "notes.txt").write_text("model = nn.Linear(4, 2)\n")  # not Python: never passed to the hook
    git("add", "-A", cwd=target)

    code, output = try_repo(hook_repo, target)
    assert code == 1, output  # an install failure exits 3 and says why in the output
    assert "torchlint-repro....." in output and "Failed" in output and "- exit code: 1" in output
    assert (
        "train.py:4:9: TRP101 `Linear` is built before torch is seeded: its random init differs on every run; "
        "torch.manual_seed is called at line 5, after this construction"
    ) in output
    assert (
        "explore.ipynb:cell 1:line 4:9: TRP101 `Linear` is built before torch is seeded: its random init "
        "differs on every run"
    ) in output
    assert "legacy/old.py" not in output and "notes.txt" not in output

    (target / "train.py").write_text(FIXED)
    (target / "explore.ipynb").write_text(NOTEBOOK.replace("SEED", "torch.manual_seed(0)"))
    git("add", "-A", cwd=target)
    code, output = try_repo(hook_repo, target)
    assert code == 0, output
    assert "Passed" in output
