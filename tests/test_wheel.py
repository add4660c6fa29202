"""The package as a user installs it: an sdist built from the checkout, a wheel built from the sdist,
installed into a fresh virtual environment, used from a folder outside the checkout.

The environment reuses this one's packages (torch, libcst, flake8, click, and the fixtures' numpy,
Lightning, transformers when installed) through a .pth file instead of downloading them: only the wheel
is installed into it, with --no-deps, and nothing is fetched from an index.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

from torchlint_repro import __version__
from torchlint_repro.rules import ALL_RULES
from torchlint_repro.rules.base import Expect

ROOT = Path(__file__).resolve().parent.parent
# the runnable fixtures (bad_/good_ files and project folders) of the source tree
N_FIXTURES = sum(
    1 for d in (ROOT / "fixtures").glob("TRP*") for e in d.iterdir() if e.name.startswith(("bad_", "good_"))
)
# what building the package reads (pyproject.toml names README.md and LICENSE; setup.py ships fixtures/ and
# docs/rules/; MANIFEST.in puts them in the sdist)
BUILD_INPUTS = ["pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE", "src", "fixtures", "docs"]
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".torchlint_cache", "*.pt")

pytestmark = pytest.mark.slow


def _python(env: Path) -> Path:
    return env / ("Scripts" if os.name == "nt" else "bin") / "python"


def _run(cmd: list, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TORCHLINT_", "PYTHON", "PIP_"))}
    env.update(NO_COLOR="1", PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    return subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> tuple[Path, Path]:
    """(sdist, wheel): the sdist from a copy of the build inputs, the wheel from the unpacked sdist, both
    through setuptools' PEP 517 hooks in this environment (no build isolation, no download)."""
    work = tmp_path_factory.mktemp("build")
    source = work / "source"
    for name in BUILD_INPUTS:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, source / name, ignore=IGNORE)
        else:
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, source / name)
    out = work / "dist"
    out.mkdir()
    hook = "import sys; from setuptools import build_meta as b; print(getattr(b, sys.argv[1])(sys.argv[2]))"
    proc = _run([sys.executable, "-c", hook, "build_sdist", out], cwd=source)
    assert proc.returncode == 0, proc.stderr
    sdist = out / proc.stdout.strip().splitlines()[-1]
    with tarfile.open(sdist) as tar:
        tar.extractall(work / "unpacked", filter="data")
    (unpacked,) = (work / "unpacked").iterdir()
    proc = _run([sys.executable, "-c", hook, "build_wheel", out], cwd=unpacked)
    assert proc.returncode == 0, proc.stderr
    return sdist, out / proc.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def installed(dists, tmp_path_factory) -> Path:
    """A fresh venv that sees this environment's site-packages (a .pth: its own .pth files, such as the
    editable install of the checkout, are not run) with the wheel installed into it."""
    env = tmp_path_factory.mktemp("venv") / "env"
    proc = _run([sys.executable, "-m", "venv", "--without-pip", env], cwd=env.parent)
    assert proc.returncode == 0, proc.stderr
    purelib = Path(
        _run(
            [_python(env), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=env.parent
        ).stdout.strip()
    )
    parents = [
        p for p in dict.fromkeys([sysconfig.get_paths()["purelib"], *site.getsitepackages()]) if Path(p).is_dir()
    ]
    (purelib / "_parent_env.pth").write_text("\n".join(parents) + "\n")
    proc = _run(
        [_python(env), "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--ignore-installed", dists[1]],
        cwd=env.parent,
    )
    assert proc.returncode == 0, proc.stderr
    return env


def test_the_wheel_ships_the_fixtures_the_rule_pages_the_licence_and_py_typed(dists) -> None:
    sdist, wheel = dists
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        metadata = zf.read(f"torchlint_repro-{__version__}.dist-info/METADATA").decode()
    data = "torchlint_repro/data/"
    fixtures = sorted({"/".join(n.split("/")[3:5]) for n in names if n.startswith(data + "fixtures/TRP")})
    expected = sorted(
        f"{d.name}/{e.name}"
        for d in (ROOT / "fixtures").glob("TRP*")
        for e in d.iterdir()
        if e.name.startswith(("bad_", "good_"))
    )
    # every runnable fixture of the source tree, and not a handful: a glob that matched nothing would pass
    assert fixtures == expected and len(fixtures) == N_FIXTURES and N_FIXTURES > 100
    assert not [n for n in names if "/cases_" in n or "demo_project" in n or "__pycache__" in n]
    pages = sorted(n.rsplit("/", 1)[1] for n in names if n.startswith(data + "docs/rules/"))
    assert pages == sorted(["README.md", *(f"{r.code}.md" for r in ALL_RULES)])
    assert "torchlint_repro/py.typed" in names
    assert f"torchlint_repro-{__version__}.dist-info/licenses/LICENSE" in names
    assert "License-Expression: MIT" in metadata
    with tarfile.open(sdist) as tar:
        members = {m.name.split("/", 1)[1] for m in tar.getmembers() if "/" in m.name}
    assert {"LICENSE", "setup.py", "fixtures/TRP201/bad_origin_dropout.py", "docs/rules/TRP201.md"} <= members


def test_the_extras_declare_a_torch_range_and_everything_the_fixtures_import(dists) -> None:
    with zipfile.ZipFile(dists[1]) as zf:
        metadata = zf.read(f"torchlint_repro-{__version__}.dist-info/METADATA").decode()
    requires = [ln.split(": ", 1)[1] for ln in metadata.splitlines() if ln.startswith("Requires-Dist: ")]
    assert 'torch<3,>=2.0; extra == "verify"' in requires
    assert not [r for r in requires if "torch==" in r]  # the exact pin lives in CI only
    for module in ("numpy", "lightning", "transformers", "accelerate"):
        assert any(r.startswith(module) and 'extra == "verify-all"' in r for r in requires), module


def _rows_not_confirmed(report: str) -> str:
    """The rows of a text verify report whose verdict is not `confirmed` (with their continuation lines),
    so that a failure names the fixture wherever it sits in a long report."""
    out: list[str] = []
    keep = False
    for ln in report.splitlines():
        if ln.startswith("  ") and not ln.startswith("   "):
            keep = ln.split()[0] not in ("confirmed", "skipped")
        elif not ln.startswith("  "):
            keep = False
        if keep:
            out.append(ln)
    return "\n".join(out) + "\n...\n"


def test_rows_not_confirmed_keeps_a_failing_row_and_its_lines() -> None:
    report = (
        "TRP101 unseeded-model (runtime: differs)\n"
        "  confirmed  bad_a.py   linter: TRP101 at 3:1\n"
        "             torch: differs\n"
        "  error      bad_b.py   linter: TRP101 at 4:1\n"
        "             torch: timed out after 60s\n"
        "\n"
        "1 rules, 2 fixtures: 1 confirmed, 1 error\n"
    )
    assert _rows_not_confirmed(report) == (
        "  error      bad_b.py   linter: TRP101 at 4:1\n             torch: timed out after 60s\n...\n"
    )


def test_verify_from_the_wheel_outside_the_checkout(installed, tmp_path) -> None:
    pytest.importorskip("torch")
    exe = installed / "bin" / "torchlint-repro"
    where = _run(
        [
            _python(installed),
            "-c",
            "import torchlint_repro.verify.runner as r; print(r.__file__); print(r.default_fixtures_dir())",
        ],
        cwd=tmp_path,
    )
    module, fixtures = where.stdout.split()
    assert module.startswith(str(installed)) and fixtures.startswith(str(installed))
    strict = ["--strict"] if os.environ.get("CI", "").lower() in ("1", "true", "yes") else []
    proc = _run([exe, "verify", "-j2", *strict], cwd=tmp_path)
    assert proc.returncode == 0, _rows_not_confirmed(proc.stdout) + proc.stdout[-1500:] + proc.stderr
    lines = proc.stdout.splitlines()
    assert max(len(ln) for ln in lines) <= 100
    verdicts = [
        ln.split()[0]
        for ln in lines
        if ln.startswith("  ") and ln.split()[0] in ("confirmed", "skipped", "disagrees", "error", "missing")
    ]
    assert len(verdicts) == N_FIXTURES and set(verdicts) <= {"confirmed", "skipped"}
    skipped = [ln for ln in lines if ln.startswith("  skipped ")]
    assert all(ln.rstrip().endswith(")") and "(needs " in ln for ln in skipped)
    rules = sum(1 for r in ALL_RULES if r.verify is not Expect.NONE)
    tail = f", {len(skipped)} skipped" if skipped else ""
    assert lines[-1] == f"{rules} rules, {N_FIXTURES} fixtures: {N_FIXTURES - len(skipped)} confirmed{tail}"
    assert not list(tmp_path.iterdir()), "verify leaves nothing in the current folder"


def test_explain_from_the_wheel_prints_the_full_page(installed, tmp_path) -> None:
    exe = installed / "bin" / "torchlint-repro"
    proc = _run([exe, "explain", "TRP201"], cwd=tmp_path)
    banner, page = (ROOT / "docs" / "rules" / "TRP201.md").read_text(encoding="utf-8").split("\n", 1)
    assert banner.startswith("<!-- generated by")  # (the note to the page's editors: not printed)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == page + "\n"
    assert len(page.splitlines()) > 100  # the generated page, not the docstring alone (36 lines)


def test_check_and_python_m_from_the_wheel(installed, tmp_path) -> None:
    (tmp_path / "train.py").write_text("import torch\nimport torch.nn as nn\n\nmodel = nn.Linear(4, 2)\n")
    for cmd in ([installed / "bin" / "torchlint-repro"], [_python(installed), "-m", "torchlint_repro"]):
        proc = _run([*cmd, "check", "--no-cache", "--format", "json", "train.py"], cwd=tmp_path)
        assert proc.returncode == 1, proc.stderr
        assert [(d["path"], d["line"], d["code"]) for d in json.loads(proc.stdout)] == [("train.py", 4, "TRP101")]
