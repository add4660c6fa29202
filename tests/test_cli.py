"""`torchlint-repro check`: the demo project, exit codes, the text format, walking large trees."""

from __future__ import annotations

import collections
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from fixture_expect import expectations as fixture_expectations

from torchlint_repro.cli import main
from torchlint_repro.config import Settings
from torchlint_repro.runner import Progress, collect_files

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo_project"
EXE = Path(sys.executable).with_name("torchlint-repro")

HAZARD = """\
import torch
import torch.nn as nn

model = nn.Linear(4, 2)
torch.manual_seed(0)
print(model(torch.ones(1, 4)))
"""
HAZARD_MESSAGE = (
    "`Linear` is built before torch is seeded: its random init differs on every run; "
    "torch.manual_seed is called at line 5, after this construction"
)
CLEAN = """\
import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Linear(4, 2)
print(model(torch.ones(1, 4)))
"""


def run(*args: str, cwd: Path | str = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(EXE), *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env)


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def expectations(folder: Path) -> collections.Counter:
    """The `# expect:` lines of every file of ``folder`` (the strict reader of the fixture tests)."""
    out: collections.Counter = collections.Counter()
    for path in sorted(folder.rglob("*.py")):
        for e, n in fixture_expectations(path).items():
            out[(path.relative_to(folder).as_posix(), e.line, e.code)] += n
    return out


# ------------------------------------------------------------------------------ the demo project
def demo_findings() -> collections.Counter:
    proc = run("check", "--no-cache", "fixtures/demo_project", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    return collections.Counter(
        (Path(d["path"]).relative_to("fixtures/demo_project").as_posix(), d["line"], d["code"])
        for d in json.loads(proc.stdout)
    )


def test_demo_project_reports_exactly_its_expect_lines() -> None:
    found, want = demo_findings(), expectations(DEMO)
    assert want, "the demo project has `# expect:` lines"
    assert found == want, (
        f"missing: {sorted((want - found).elements())}\nunexpected: {sorted((found - want).elements())}"
    )


def test_demo_project_has_a_hazard_of_each_family() -> None:
    codes = {code for _, _, code in expectations(DEMO)}
    assert {"TRP101", "TRP201", "TRP202", "TRP203", "TRP304", "TRP305"} <= codes


def test_demo_project_excludes_scratch_and_applies_per_file_ignores() -> None:
    proc = run("check", "--no-cache", "fixtures/demo_project", "--format", "json")
    paths = {d["path"] for d in json.loads(proc.stdout)}
    assert not any("scratch" in p or "tests/" in p for p in paths)
    # named explicitly, the scratch file is linted (like ruff without --force-exclude)
    proc = run("check", "--no-cache", "fixtures/demo_project/scratch/try_bigger_model.py")
    assert proc.returncode == 1
    assert "try_bigger_model.py:6:9: TRP101" in proc.stdout
    proc = run("check", "--no-cache", "--force-exclude", "fixtures/demo_project/scratch/try_bigger_model.py")
    assert proc.returncode == 0 and proc.stdout == ""


def test_readme_quick_start_commands_are_unchanged() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install . && torchlint-repro check fixtures/demo_project\n" in readme
    assert 'pip install -q -e ".[test]" && python -m pytest -q -n 2\n' in readme
    assert 'pip install -q -e ".[test]" && python -m pytest -q -n 2' in (ROOT / ".ci" / "run").read_text()


# ------------------------------------------------------------------------------ text output, exit codes
def test_text_format_and_exit_codes(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(HAZARD)
    (tmp_path / "good.py").write_text(CLEAN)
    proc = run("check", "--no-cache", "bad.py", "good.py", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == f"bad.py:4:9: TRP101 {HAZARD_MESSAGE}\n"
    assert "\033[" not in proc.stdout  # not a terminal: no colour
    assert run("check", "--no-cache", "good.py", cwd=tmp_path).returncode == 0
    assert run("check", "--no-cache", "--exit-zero", "bad.py", cwd=tmp_path).returncode == 0
    assert run("check", "--no-cache", "--ignore", "TRP1", "bad.py", cwd=tmp_path).returncode == 0


def test_colour_only_when_asked_or_on_a_terminal(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(HAZARD)
    proc = run("check", "--no-cache", "--color", "bad.py", cwd=tmp_path)
    assert proc.stdout.startswith("\033[1mbad.py:4:9:\033[0m \033[1m\033[31mTRP101\033[0m ")


def test_usage_and_internal_errors_exit_2(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(HAZARD)
    (tmp_path / "broken.py").write_text("import torch\ndef f(:\n")
    proc = run("check", "--no-cache", "nope.py", cwd=tmp_path)
    assert proc.returncode == 2 and "nope.py: no such file or directory" in proc.stderr
    proc = run("check", "--no-cache", "--select", "TRP999", "bad.py", cwd=tmp_path)
    assert proc.returncode == 2 and "unknown rule code or prefix 'TRP999' in '--select'" in proc.stderr
    proc = run("check", "--no-cache", "--format", "xml", "bad.py", cwd=tmp_path)
    assert proc.returncode == 2
    proc = run("check", "--no-cache", "-o", "no/such/dir/report.txt", "bad.py", cwd=tmp_path)
    assert proc.returncode == 2 and "cannot write no/such/dir/report.txt" in proc.stderr
    proc = run("check", "--no-cache", "broken.py", cwd=tmp_path)
    assert proc.returncode == 2
    assert "torchlint-repro: error: broken.py: syntax error at line 2" in proc.stderr
    # findings and an error: both bits (1 | 2)
    proc = run("check", "--no-cache", "bad.py", "broken.py", cwd=tmp_path)
    assert proc.returncode == 3


def test_statistics_and_output_file(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(HAZARD)
    (tmp_path / "good.py").write_text(CLEAN)
    proc = run("check", "--no-cache", "--statistics", ".", cwd=tmp_path)
    assert proc.stdout.splitlines()[1:] == [
        "    1  TRP101  unseeded-model",
        "Found 1 finding in 1 file (2 checked).",
    ]
    proc = run("check", "--no-cache", "-o", "report.txt", ".", cwd=tmp_path)
    assert proc.returncode == 1 and proc.stdout == ""
    assert (tmp_path / "report.txt").read_text() == f"bad.py:4:9: TRP101 {HAZARD_MESSAGE}\n"


def test_parallel_run_gives_the_same_report(tmp_path: Path) -> None:
    for i in range(12):
        (tmp_path / f"m{i:02}.py").write_text(HAZARD if i % 3 == 0 else CLEAN)
    serial = run("check", "--no-cache", "-j", "1", ".", cwd=tmp_path)
    parallel = run("check", "--no-cache", "-j", "2", ".", cwd=tmp_path)
    assert serial.returncode == parallel.returncode == 1
    assert serial.stdout == parallel.stdout
    assert [ln.split(":")[0] for ln in serial.stdout.splitlines()] == ["m00.py", "m03.py", "m06.py", "m09.py"]


# ------------------------------------------------------------------------------ walking trees
def _tree(root: Path) -> None:
    files = {
        "pkg/train.py": HAZARD,
        "pkg/clean.py": CLEAN,
        "pkg/notes.txt": "not python",
        "generated/out.py": HAZARD,  # .gitignore'd
        "logs/run.py": HAZARD,  # .gitignore'd through a nested pattern
        "legacy/old.py": HAZARD,  # excluded by the configuration
        "pkg/keep_generated.py": HAZARD,  # re-included by a negated pattern
        "pkg/model_generated.py": HAZARD,  # .gitignore'd by a root pattern
        ".venv/lib/site.py": HAZARD,  # a tool folder
        "nb/.ipynb_checkpoints/x.py": HAZARD,
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / ".gitignore").write_text("generated/\n*_generated.py\n!keep_generated.py\n")
    (root / "pkg" / ".gitignore").write_text("# nested\n")
    (root / "logs" / ".gitignore").write_text("*.py\n")
    (root / "pyproject.toml").write_text('[tool.torchlint-repro]\nexclude = ["legacy"]\n')


WALKED = ["pkg/clean.py", "pkg/keep_generated.py", "pkg/train.py"]


def _walked(root: Path, *folders: str, env: dict | None = None) -> list[str]:
    """The files with findings when `check` walks ``folders`` (default: the root)."""
    proc = run("check", "--no-cache", "--format", "json", "--exit-zero", *(folders or (".",)), cwd=root, env=env)
    assert proc.returncode == 0, proc.stderr
    return sorted({d["path"] for d in json.loads(proc.stdout)})


def _collected(root: Path) -> list[str]:
    cwd = os.getcwd()
    try:
        os.chdir(root)
        files, missing = collect_files(["."], Settings(exclude=("legacy",), root=str(root)))
    finally:
        os.chdir(cwd)
    assert missing == []
    return files


def test_walk_respects_gitignore_in_a_git_repo(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    _tree(tmp_path)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    assert _collected(tmp_path) == WALKED
    assert _walked(tmp_path) == ["pkg/keep_generated.py", "pkg/train.py"]  # only the hazards report
    assert _walked(tmp_path, "pkg") == ["pkg/keep_generated.py", "pkg/train.py"]
    # a .gitignore'd folder named explicitly is walked all the same
    proc = run("check", "--no-cache", "generated", cwd=tmp_path)
    assert proc.stdout.startswith("generated/out.py:4:9: TRP101")


def test_walk_without_git_reads_gitignore_files(tmp_path: Path) -> None:
    _tree(tmp_path)  # not a git repository: the .gitignore files are read all the same
    assert _collected(tmp_path) == WALKED
    assert _walked(tmp_path) == ["pkg/keep_generated.py", "pkg/train.py"]


def test_walk_inside_a_work_tree_without_the_git_program(tmp_path: Path) -> None:
    _tree(tmp_path)
    (tmp_path / ".git").mkdir()  # the repository's root: its .gitignore counts for a walk of pkg/ too
    env = {**os.environ, "PATH": str(tmp_path / "no-such-bin")}
    assert _walked(tmp_path, env=env) == ["pkg/keep_generated.py", "pkg/train.py"]
    assert _walked(tmp_path, "pkg", env=env) == ["pkg/keep_generated.py", "pkg/train.py"]


def test_progress_bar_only_for_long_runs_on_a_stream() -> None:
    now = [0.0]
    out = io.StringIO()
    bar = Progress(10, out, clock=lambda: now[0])
    bar.update(1)
    assert out.getvalue() == ""  # the first seconds are quiet
    now[0] = 3.0
    bar.update(5)
    assert out.getvalue() == "\r\033[K[###############...............] 5/10 files (3s, ~3s left)"
    now[0] = 3.05
    bar.update(6)  # throttled
    assert out.getvalue().count("\r") == 1
    now[0] = 4.0
    bar.update(10)
    bar.close()
    assert out.getvalue().endswith("10/10 files (4s)\r\033[K")
    quiet = Progress(10, False, clock=lambda: 100.0)
    quiet.update(10)  # no stream: nothing to write to, nothing raised


def test_progress_is_off_when_stderr_is_not_a_terminal(tmp_path: Path, monkeypatch) -> None:
    """Three files (one file never draws a bar) and no delay: on a terminal the bar would draw at once;
    CliRunner's stderr is no terminal, so nothing is drawn."""
    import torchlint_repro.cli as cli
    import torchlint_repro.runner as runner

    monkeypatch.setattr(runner.Progress, "DELAY", 0.0)
    monkeypatch.setattr(runner.Progress, "INTERVAL", 0.0)
    files = []
    for i in range(3):
        (tmp_path / f"bad{i}.py").write_text(HAZARD)
        files.append(str(tmp_path / f"bad{i}.py"))
    result = invoke("check", "--no-cache", "-j1", *files)
    assert result.exit_code == 1
    assert result.output.count("TRP101") == 3  # linted, all three
    assert "files (" not in result.stderr
    # the control: the same run when stderr is a terminal draws the bar (so the check above can fail)
    monkeypatch.setattr(cli, "_stderr_is_terminal", lambda: True)
    drawn = invoke("check", "--no-cache", "-j1", *files)
    assert "] 3/3 files (" in drawn.stderr
    assert drawn.stderr.endswith("\r\033[K")  # and clears it at the end
