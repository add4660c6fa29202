"""The same answer everywhere: the bundled demo project through `torchlint-repro check`, flake8 and the
pre-commit hook (the README's `.pre-commit-config.yaml`, as written) gives the same findings, line for
line, with the demo's own configuration, with a section that also ignores a rule, and with none."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo_project"
BIN = Path(sys.executable).parent
PRE_COMMIT = shutil.which("pre-commit", path=str(BIN)) or shutil.which("pre-commit")
LINE = re.compile(r"^(?:\./)?(?P<path>[^\s:]+\.py):(?P<line>\d+):(?P<col>\d+): (?P<code>TRP\d{3}) (?P<msg>.*)$")

pytestmark = [
    pytest.mark.skipif(PRE_COMMIT is None, reason="pre-commit is not installed (it is in the test extra)"),
    pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git"),
]

DEMO_SECTION = (DEMO / "pyproject.toml").read_text(encoding="utf-8")
VARIANTS = {
    "demo-section": DEMO_SECTION,
    "section-ignoring-a-rule": DEMO_SECTION.replace(
        "[tool.torchlint-repro]\n", '[tool.torchlint-repro]\nignore = ["TRP305"]\n'
    ),
    "no-section": DEMO_SECTION.split("[tool.torchlint-repro]")[0],
}


def readme_pre_commit_config() -> str:
    """The `repo: local` configuration the README shows, verbatim."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## pre-commit") :]
    blocks = re.findall(r"```yaml\n(.*?)```", section, flags=re.S)
    (config,) = [b for b in blocks if "repo: local" in b]
    return config


def _env(tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TORCHLINT_", "FLAKE8", "PRE_COMMIT"))}
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        NO_COLOR="1",
        PRE_COMMIT_COLOR="never",
        PRE_COMMIT_HOME=str(tmp / "pre-commit-home"),
        TORCHLINT_CACHE_DIR=str(tmp / "cache"),
    )
    return env


def _findings(output: str) -> list[tuple[str, int, int, str, str]]:
    out = []
    for ln in output.splitlines():
        m = LINE.match(ln.strip())
        if m:
            out.append((m["path"], int(m["line"]), int(m["col"]), m["code"], m["msg"]))
    return sorted(out)


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_check_flake8_and_pre_commit_agree_on_the_demo(tmp_path: Path, variant: str) -> None:
    demo = tmp_path / "demo_project"
    shutil.copytree(DEMO, demo, ignore=shutil.ignore_patterns("__pycache__", ".torchlint_cache"))
    (demo / "pyproject.toml").write_text(VARIANTS[variant], encoding="utf-8")
    (demo / ".pre-commit-config.yaml").write_text(readme_pre_commit_config(), encoding="utf-8")
    _git("init", "-q", cwd=demo)
    _git("add", "-A", cwd=demo)
    env = _env(tmp_path)

    check = subprocess.run(
        [str(BIN / "torchlint-repro"), "check", "."], cwd=demo, env=env, capture_output=True, text=True, timeout=300
    )
    flake8 = subprocess.run(
        [str(BIN / "flake8"), "--isolated", "."], cwd=demo, env=env, capture_output=True, text=True, timeout=300
    )
    hook = subprocess.run(
        [PRE_COMMIT, "run", "--all-files"], cwd=demo, env=env, capture_output=True, text=True, timeout=300
    )
    for proc in (check, flake8, hook):
        assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert check.returncode == 1 and hook.returncode == 1, hook.stdout + hook.stderr
    assert "torchlint-repro" in hook.stdout and "Failed" in hook.stdout

    found = _findings(check.stdout)
    assert _findings(flake8.stdout) == found
    assert _findings(hook.stdout) == found

    keys = sorted((path, line, code) for path, line, _, code, _ in found)
    demo_keys = [
        ("demo/evaluate.py", 22, "TRP201"),
        ("demo/models.py", 32, "TRP101"),
        ("demo/predict.py", 14, "TRP304"),
        ("demo/predict.py", 15, "TRP202"),
        ("demo/predict.py", 21, "TRP305"),
        ("demo/predict.py", 28, "TRP201"),
        ("demo/train.py", 18, "TRP203"),
    ]
    if variant == "demo-section":
        assert keys == demo_keys
    elif variant == "section-ignoring-a-rule":
        assert keys == [k for k in demo_keys if k[2] != "TRP305"]
    else:  # no exclude, no per-file-ignores: the scratch script reports too (the smoke tests look only at
        # shapes, which neither the mode nor the seed changes: nothing to report there without per-file-ignores)
        assert set(demo_keys) < set(keys)
        assert {path for path, _, _ in keys} - {path for path, _, _ in demo_keys} == {"scratch/try_bigger_model.py"}
