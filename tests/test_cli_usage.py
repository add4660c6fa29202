"""What users of flake8 and ruff expect from `check`: `python -m`, stdin, --quiet, FORCE_COLOR,
--exit-zero, readable help, a progress estimate that holds, and one project (one cache) per run."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from torchlint_repro.analysis.project import find_root
from torchlint_repro.cli import main
from torchlint_repro.runner import Progress

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


def run(
    *args: str, cwd: Path, stdin: str | bytes | None = None, env: dict | None = None, exe: list[str] | None = None
) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TORCHLINT_CACHE_DIR")}
    return subprocess.run(
        [*(exe or [str(EXE)]), *args],
        cwd=cwd,
        capture_output=True,
        timeout=120,
        input=stdin.encode() if isinstance(stdin, str) else stdin,
        env={**base, **(env or {})},
    )


# ------------------------------------------------------------------------------ python -m, help
def test_python_dash_m_is_the_same_command(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(HAZARD)
    module = run("check", "--no-cache", "bad.py", cwd=tmp_path, exe=[sys.executable, "-m", "torchlint_repro"])
    script = run("check", "--no-cache", "bad.py", cwd=tmp_path)
    assert module.returncode == script.returncode == 1
    assert module.stdout == script.stdout == f"bad.py:4:9: TRP101 {MESSAGE}\n".encode()
    usage = run("--help", cwd=tmp_path, exe=[sys.executable, "-m", "torchlint_repro"])
    assert usage.returncode == 0 and usage.stdout.decode().startswith("Usage: torchlint-repro [OPTIONS] COMMAND")


def test_explain_one_line_help_is_not_cut() -> None:
    out = CliRunner().invoke(main, ["--help"]).output
    assert "  explain  Print the documentation page of a rule, for example TRP201.\n" in out


# ------------------------------------------------------------------------------ stdin
def test_check_reads_standard_input(tmp_path: Path) -> None:
    proc = run("check", "--no-cache", "-", cwd=tmp_path, stdin=HAZARD)
    assert (proc.returncode, proc.stdout.decode(), proc.stderr) == (1, f"-:4:9: TRP101 {MESSAGE}\n", b"")
    clean = run(
        "check",
        "--no-cache",
        "-",
        cwd=tmp_path,
        stdin=HAZARD.replace("model = nn.Linear(4, 2)\n", "").replace(
            "print(model(torch.ones(1, 4)))\n", "model = nn.Linear(4, 2)\n"
        ),
    )
    assert (clean.returncode, clean.stdout) == (0, b"")
    # bytes are decoded like a file's: the coding line counts
    latin = ("# -*- coding: latin-1 -*-\n# caf\xe9\n" + HAZARD).encode("latin-1")
    proc = run("check", "--no-cache", "--format", "json", "-", cwd=tmp_path, stdin=latin)
    assert [(d["path"], d["line"], d["code"]) for d in json.loads(proc.stdout)] == [("-", 6, "TRP101")]


def test_stdin_filename_gives_the_project_the_configuration_and_the_name(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.torchlint-repro]\nper-file-ignores = { "tests/*" = ["TRP1"] }\nexclude = ["legacy"]\n'
    )
    (tmp_path / "utils.py").write_text("import torch\n\n\ndef set_seed(s):\n    torch.manual_seed(s)\n")
    helper = (
        "import torch\nimport torch.nn as nn\n\nfrom utils import set_seed\n\nset_seed(0)\nmodel = nn.Linear(4, 2)\n"
    )
    named = run("check", "--no-cache", "--stdin-filename", "train.py", "-", cwd=tmp_path, stdin=helper)
    assert (named.returncode, named.stdout) == (0, b"")  # utils.set_seed is found through the name's project
    anonymous = run("check", "--no-cache", "-", cwd=tmp_path / "..", stdin=helper)
    assert anonymous.returncode == 1 and anonymous.stdout.decode().startswith("-:7:9: TRP101 ")
    proc = run("check", "--no-cache", "--stdin-filename", "src/x.py", "-", cwd=tmp_path, stdin=HAZARD)
    assert proc.stdout.decode() == f"src/x.py:4:9: TRP101 {MESSAGE}\n"
    ignored = run("check", "--no-cache", "--stdin-filename", "tests/test_x.py", "-", cwd=tmp_path, stdin=HAZARD)
    assert (ignored.returncode, ignored.stdout) == (0, b"")
    excluded = run(
        "check", "--no-cache", "--force-exclude", "--stdin-filename", "legacy/x.py", "-", cwd=tmp_path, stdin=HAZARD
    )
    assert (excluded.returncode, excluded.stdout) == (0, b"")


def test_stdin_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(HAZARD)
    mixed = run("check", "-", "bad.py", cwd=tmp_path, stdin=HAZARD)
    assert (mixed.returncode, mixed.stderr.decode()) == (
        2,
        "torchlint-repro: error: `-` (standard input) cannot be combined with other paths\n",
    )
    named = run("check", "--stdin-filename", "x.py", "bad.py", cwd=tmp_path)
    assert (named.returncode, named.stderr.decode()) == (
        2,
        "torchlint-repro: error: --stdin-filename needs the path `-`\n",
    )
    broken = run("check", "-", cwd=tmp_path, stdin="import torch\ndef f(:\n")
    assert broken.returncode == 2
    assert broken.stderr.decode() == "torchlint-repro: error: -: syntax error at line 2: invalid syntax\n"


# ------------------------------------------------------------------------------ colour, quiet, exit-zero
def test_force_color_and_no_color(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(HAZARD)
    coloured = "\033[1mbad.py:4:9:\033[0m \033[1m\033[31mTRP101\033[0m "
    assert run("check", "--no-cache", "bad.py", cwd=tmp_path).stdout.decode().startswith("bad.py:4:9: TRP101")
    forced = run("check", "--no-cache", "bad.py", cwd=tmp_path, env={"FORCE_COLOR": "1"})
    assert forced.stdout.decode().startswith(coloured)
    assert run("check", "--no-cache", "bad.py", cwd=tmp_path, env={"FORCE_COLOR": ""}).stdout.startswith(b"bad.py")
    both = run("check", "--no-cache", "bad.py", cwd=tmp_path, env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert both.stdout.decode().startswith("bad.py:4:9: TRP101")  # NO_COLOR wins, as in CPython
    told = run("check", "--no-cache", "--no-color", "bad.py", cwd=tmp_path, env={"FORCE_COLOR": "1"})
    assert told.stdout.decode().startswith("bad.py:4:9: TRP101")
    machine = run("check", "--no-cache", "--format", "json", "bad.py", cwd=tmp_path, env={"FORCE_COLOR": "1"})
    assert json.loads(machine.stdout)[0]["code"] == "TRP101"


@pytest.mark.parametrize(("args", "progress"), [((), True), (("--quiet",), False), (("-q",), False)])
def test_quiet_turns_the_progress_bar_off(tmp_path: Path, monkeypatch, args, progress) -> None:
    import torchlint_repro.cli as cli
    import torchlint_repro.runner as runner

    (tmp_path / "bad.py").write_text(HAZARD)
    seen = []
    real = runner.lint_files

    def spy(work, jobs=1, progress=False):
        seen.append(progress)
        return real(work, jobs=1, progress=False)

    monkeypatch.setattr(runner, "lint_files", spy)
    monkeypatch.setattr(cli, "_stderr_is_terminal", lambda: True)
    result = CliRunner().invoke(main, ["check", "--no-cache", *args, str(tmp_path / "bad.py")])
    assert result.exit_code == 1
    assert seen == [progress]


def test_exit_zero_keeps_findings_and_errors(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(HAZARD)
    zero = run("check", "--no-cache", "--exit-zero", "bad.py", cwd=tmp_path)
    assert (zero.returncode, zero.stdout.decode()) == (0, f"bad.py:4:9: TRP101 {MESSAGE}\n")
    errors = run("check", "--no-cache", "--exit-zero", "bad.py", "nope.py", cwd=tmp_path)
    assert errors.returncode == 2  # --exit-zero is about findings; an error still exits 2 (as in ruff)


# ------------------------------------------------------------------------------ progress estimate
def test_progress_estimates_from_lines_not_files() -> None:
    """One 900-line file done in 9 s leaves 100 lines: about 1 s, not the 9 s a file count predicts."""
    now = [0.0]
    out = io.StringIO()
    bar = Progress(2, out, clock=lambda: now[0], weights=[900, 100])
    now[0] = 9.0
    bar.update(1)
    assert out.getvalue() == "\r\033[K[###############...............] 1/2 files (9s, ~1s left)"
    unweighted = io.StringIO()
    bar = Progress(2, unweighted, clock=lambda: now[0] - 9.0 if now[0] > 9 else 0.0)
    now[0] = 18.0
    bar.update(1)
    assert unweighted.getvalue().endswith("1/2 files (9s, ~9s left)")


def test_lint_files_weighs_the_bar_by_line_counts(tmp_path: Path, monkeypatch) -> None:
    import torchlint_repro.runner as runner

    (tmp_path / "a.py").write_text("x = 1\n" * 9)
    (tmp_path / "b.py").write_text("")
    made = []
    real = runner.Progress

    def spy(*args, **kwargs):
        made.append(kwargs.get("weights"))
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "Progress", spy)
    runner.lint_files(
        [
            (str(tmp_path / "a.py"), runner.Settings(cache=False)),
            (str(tmp_path / "b.py"), runner.Settings(cache=False)),
        ],
        progress=io.StringIO(),
    )
    runner.lint_files([(str(tmp_path / "a.py"), runner.Settings(cache=False))], progress=False)
    assert made == [[10, 1], None]


# ------------------------------------------------------------------------------ one root, one cache per run
SEEDING = "import torch\n\n\ndef set_seed(seed):\n    torch.manual_seed(seed)\n"
TRAIN = (
    "import torch\nfrom torch import nn\n\nfrom common.seeding import set_seed\n\nset_seed(0)\n"
    "model = nn.Linear(4, 2)\nprint(model(torch.ones(1, 4)))\n"
)


@pytest.fixture()
def loose_tree(tmp_path: Path) -> Path:
    """Sibling folders with no pyproject.toml, setup.cfg, setup.py or .git anywhere above them."""
    root = tmp_path / "loose"
    for rel, text in {
        "common/__init__.py": "",
        "common/seeding.py": SEEDING,
        "experiments/train.py": TRAIN,
        "experiments/deep/more.py": TRAIN,
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    if find_root(root / "experiments" / "train.py") != root / "experiments":
        pytest.skip("a project marker above the temporary folder")
    return root


def _caches(root: Path) -> list[str]:
    """The folders of the tree (relative to ``root``) that are a project root with a cache: the cache lives
    in the user's cache folder, one subfolder per project root, and nothing is written into the tree."""
    from torchlint_repro.analysis.cache import project_folder_name, user_cache_home

    assert not list(root.rglob(".torchlint_cache"))
    folders = [root, *(p for p in root.rglob("*") if p.is_dir())]
    return sorted(
        p.relative_to(root).as_posix()
        for p in folders
        if (user_cache_home() / project_folder_name(p.resolve())).is_dir()
    )


def test_a_run_outside_any_project_is_one_project(loose_tree: Path) -> None:
    """Imports between sibling folders resolve from the common folder of the paths named (no false TRP101
    that `git init` would remove), and the run keeps one cache there, not one per folder."""
    proc = run("check", ".", cwd=loose_tree)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"", b"")
    assert _caches(loose_tree) == ["."]
    warm = run("check", "experiments", "common", cwd=loose_tree)
    assert (warm.returncode, warm.stdout) == (0, b"")
    assert _caches(loose_tree) == ["."]


def test_the_run_root_is_the_common_folder_of_the_named_paths(loose_tree: Path) -> None:
    from torchlint_repro.cli import run_root

    real = os.path.realpath(loose_tree)
    assert (
        run_root(
            [str(loose_tree / "common"), str(loose_tree / "experiments")],
            [str(loose_tree / "experiments" / "train.py")],
        )
        == real
    )
    assert run_root(
        [str(loose_tree / "experiments")], [str(loose_tree / "experiments" / "deep" / "more.py")]
    ) == os.path.join(real, "experiments")
    assert run_root(["/"], []) is None  # never the filesystem root
    assert run_root([os.path.expanduser("~")], []) is None  # nor the home folder
    # named alone, the train script cannot see common/ (it is not under the folder named): a finding
    proc = run("check", "--no-cache", "experiments/train.py", cwd=loose_tree)
    assert proc.returncode == 1 and proc.stdout.decode().startswith("experiments/train.py:7:9: TRP101")
    both = run("check", "--no-cache", "experiments/train.py", "common/seeding.py", cwd=loose_tree)
    assert (both.returncode, both.stdout) == (0, b"")


def test_a_project_marker_still_decides_the_root(loose_tree: Path) -> None:
    (loose_tree / "experiments" / "pyproject.toml").write_text("")
    proc = run("check", ".", cwd=loose_tree)
    # experiments/ is a project of its own: common/ is outside it, its helper unknown
    assert proc.returncode == 1
    assert [ln.split(":")[0] for ln in proc.stdout.decode().splitlines()] == [
        "experiments/deep/more.py",
        "experiments/train.py",
    ]
    assert _caches(loose_tree) == [".", "experiments"]
