"""The on-disk cache: invalidation across files, concurrent writers, corrupt entries, where it lives.

Everything runs `torchlint-repro check` (and flake8) in subprocesses, so no in-process state survives
between runs: what a second run knows, it read from the cache folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
CHECK = BIN / "torchlint-repro"
FLAKE8 = BIN / "flake8"

UTILS_SEEDED = """\
import random

import torch


def set_seed(seed):
    random.seed(seed)
    torch.manual_seed(seed)
"""
UTILS_UNSEEDED = """\
import random

import torch


def set_seed(seed):
    random.seed(seed)
"""
TRAIN = """\
import torch
from torch import nn

from utils import set_seed


def main():
    set_seed(0)
    model = nn.Linear(4, 2)
    print(model(torch.ones(1, 4)))


if __name__ == "__main__":
    main()
"""
# train.py:9 `    model = nn.Linear(4, 2)`: column 13 as printed (1-based)
UNSEEDED = [("train.py", 9, 13, "TRP101")]
MODELS = """\
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, {n})
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.drop(self.fc(x))
"""
USE_MODEL = """\
import torch

from models{i} import Net

net = Net()
with torch.no_grad():
    out = net(torch.ones(1, 4))
torch.manual_seed(0)
"""


def _env(cache: Path | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TORCHLINT_", "FLAKE8"))}
    if cache is not None:
        env["TORCHLINT_CACHE_DIR"] = str(cache)
    env["NO_COLOR"] = "1"
    return env


def check(root: Path, cache: Path | None, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CHECK), "check", "-j1", "--format", "json", *args, "."],
        cwd=root,
        capture_output=True,
        text=True,
        env=_env(cache),
        timeout=180,
    )


def diags(proc: subprocess.CompletedProcess) -> list[tuple[str, int, int, str]]:
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr == "", proc.stderr
    data = json.loads(proc.stdout) if proc.stdout.strip() else []
    return sorted((os.path.normpath(d["path"]), d["line"], d["column"], d["code"]) for d in data)


def messages(proc: subprocess.CompletedProcess) -> list[tuple[str, int, int, str, str]]:
    data = json.loads(proc.stdout) if proc.stdout.strip() else []
    return sorted((os.path.normpath(d["path"]), d["line"], d["column"], d["code"], d["message"]) for d in data)


def cache_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "proj"\nversion = "0"\n\n[tool.torchlint-repro]\n')
    (root / "utils.py").write_text(UTILS_SEEDED)
    (root / "train.py").write_text(TRAIN)
    return root


@pytest.fixture()
def bigger_project(project: Path) -> Path:
    """The two-file project plus pairs of files whose findings depend on each other."""
    for i in range(6):
        (project / f"models{i}.py").write_text(MODELS.format(n=i + 2))
        (project / f"use{i}.py").write_text(USE_MODEL.format(i=i))
    return project


# use{i}.py: `net = Net()` before the seed (TRP101, 5:7) and a forward under no_grad in training mode
# with dropout (TRP201, 7:11)
BIGGER = sorted(
    [(f"use{i}.py", 5, 7, "TRP101") for i in range(6)] + [(f"use{i}.py", 7, 11, "TRP201") for i in range(6)]
)


# ------------------------------------------------------------------------------ invalidation
def test_editing_an_imported_helper_invalidates_the_importers_result(project, tmp_path):
    cache = tmp_path / "cache"
    assert diags(check(project, cache)) == []
    assert diags(check(project, cache)) == []  # warm
    (project / "utils.py").write_text(UTILS_UNSEEDED)  # train.py itself is unchanged
    unseeded = check(project, cache)
    assert diags(unseeded) == UNSEEDED
    assert unseeded.returncode == 1
    assert diags(check(project, cache)) == UNSEEDED  # warm again, on the new state
    (project / "utils.py").write_text(UTILS_SEEDED)
    assert diags(check(project, cache)) == []
    # the no-cache run agrees at every step
    assert diags(check(project, None, "--no-cache")) == []


def test_same_content_same_mtime_change_is_still_seen(project, tmp_path):
    """Keys are content hashes, not modification times: an edit that keeps size and mtime counts."""
    cache = tmp_path / "cache"
    assert diags(check(project, cache)) == []
    utils = project / "utils.py"
    st = utils.stat()
    edited = UTILS_SEEDED.replace("    torch.manual_seed(seed)\n", "    torch.manual_s33d(seed)\n")
    assert len(edited) == len(UTILS_SEEDED)
    utils.write_text(edited)
    os.utime(utils, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert diags(check(project, cache)) == UNSEEDED


def test_flake8_and_check_share_invalidation(project, tmp_path):
    cache = tmp_path / "cache"

    def flake8() -> list[tuple[int, int, str]]:
        proc = subprocess.run(
            [str(FLAKE8), "--isolated", "--select", "TRP", "train.py"],
            cwd=project,
            capture_output=True,
            text=True,
            env=_env(cache),
            timeout=180,
        )
        assert proc.stderr == ""
        return [
            tuple(int(x) if x.isdigit() else x for x in ln.split(" ")[0].split(":")[1:3]) + (ln.split(" ")[1],)
            for ln in proc.stdout.splitlines()
        ]

    assert flake8() == []
    assert diags(check(project, cache)) == []
    (project / "utils.py").write_text(UTILS_UNSEEDED)
    assert flake8() == [(9, 13, "TRP101")]
    assert diags(check(project, cache)) == UNSEEDED
    (project / "utils.py").write_text(UTILS_SEEDED)
    assert diags(check(project, cache)) == []
    assert flake8() == []


def test_a_new_file_in_the_project_is_seen(bigger_project, tmp_path):
    cache = tmp_path / "cache"
    assert diags(check(bigger_project, cache)) == BIGGER
    (bigger_project / "use6.py").write_text(USE_MODEL.format(i=0))
    assert diags(check(bigger_project, cache)) == sorted(
        BIGGER + [("use6.py", 5, 7, "TRP101"), ("use6.py", 7, 11, "TRP201")]
    )
    (bigger_project / "models0.py").write_text(
        MODELS.format(n=2)
        .replace("        self.drop = nn.Dropout(0.5)\n", "")
        .replace("self.drop(self.fc(x))", "self.fc(x)")
    )
    # Net of models0 has no dropout any more: its forward under no_grad is mode-independent
    expected = [d for d in BIGGER + [("use6.py", 5, 7, "TRP101")] if not (d[0] == "use0.py" and d[3] == "TRP201")]
    assert diags(check(bigger_project, cache)) == sorted(expected)


# ------------------------------------------------------------------------------ concurrency
def test_concurrent_writers_agree(bigger_project, tmp_path):
    cache = tmp_path / "cache"
    reference = messages(check(bigger_project, None, "--no-cache"))
    assert [d[:4] for d in reference] == BIGGER

    def cli(_):
        return check(bigger_project, cache)

    def flake8(_):
        return subprocess.run(
            [str(FLAKE8), "--isolated", "-j2", "--select", "TRP101,TRP201", "."],
            cwd=bigger_project,
            capture_output=True,
            text=True,
            env=_env(cache),
            timeout=180,
        )

    for _round in range(2):  # a cold round (every process writes) and a warm one (reads what the others wrote)
        with ThreadPoolExecutor(max_workers=6) as pool:
            cli_runs = [pool.submit(cli, i) for i in range(4)]
            f8_runs = [pool.submit(flake8, i) for i in range(2)]
            cli_results = [f.result() for f in cli_runs]
            f8_results = [f.result() for f in f8_runs]
        for proc in cli_results:
            assert proc.returncode == 1
            assert diags(proc) == BIGGER
            assert messages(proc) == reference
        for proc in f8_results:
            assert proc.stderr == ""
            assert len(proc.stdout.splitlines()) == len(BIGGER)
    leftovers = [p for p in cache_files(cache) if p.name.startswith(".tmp-")]
    assert leftovers == []


# ------------------------------------------------------------------------------ corrupt entries
CORRUPTIONS = {
    "garbage": lambda p: p.write_bytes(b"\x00\xff garbage \x80"),
    "empty": lambda p: p.write_bytes(b""),
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
    "not-json-object": lambda p: p.write_text("[1, 2, 3]"),
    "unsigned": lambda p: p.write_bytes(p.read_bytes().split(b"\n", 1)[1]),  # the old format, without its HMAC
    "other-version": lambda p: p.write_text(json.dumps({"version": "0.0.0-other", "value": {"x": 1}})),
    # well-formed entries of this version, signed with this user's key, whose value has another shape (a
    # schema change that forgot to bump SCHEMA, or an editable install whose code moved on while
    # __version__ stayed the same)
    "wrong-shape-list": lambda p: _resign(p, lambda value: [1, 2]),
    "wrong-shape-dict": lambda p: _resign(p, lambda value: {"module": "x"}),
    "stale-schema": lambda p: _keep_only_module(p),
}


def _resign(p: Path, change) -> None:
    """Rewrite the entry at ``p`` with ``change(value)``, signed as this user's tool signs (the test
    process and the runs it starts share one user cache folder, so one key)."""
    from torchlint_repro.analysis.cache import DiskCache

    cache = DiskCache(p.parent.parent.parent)
    entry = cache.read_entry(p)
    assert entry is not None, f"cannot read back {p}"
    key, value = entry
    cache.write_entry(p.parent.parent.name, key, json.dumps(change(value)))


def _keep_only_module(p: Path) -> None:
    """Facts of an older shape: the module name still matches, the other keys are gone (and the results
    are dropped, so that the facts are read)."""
    if p.parent.parent.name == "results":
        p.unlink()
        return
    _resign(
        p,
        lambda value: (
            {"module": value["module"], "is_package": value.get("is_package", False)}
            if isinstance(value, dict) and "module" in value
            else value
        ),
    )


@pytest.mark.parametrize("how", sorted(CORRUPTIONS))
def test_corrupt_entries_are_ignored(bigger_project, tmp_path, how):
    (bigger_project / "utils.py").write_text(UTILS_UNSEEDED)
    cache = tmp_path / "cache"
    cold = check(bigger_project, cache)
    expected = sorted(BIGGER + UNSEEDED)
    assert diags(cold) == expected
    entries = [p for p in cache_files(cache) if p.suffix == ".json"]
    assert entries, "the cold run wrote no cache entries"
    for p in entries:
        CORRUPTIONS[how](p)
    again = check(bigger_project, cache)
    assert diags(again) == expected
    assert messages(again) == messages(cold)
    assert diags(check(bigger_project, cache)) == expected  # and the rebuilt cache is good


def test_a_cache_folder_that_cannot_be_written_is_only_slower(project, tmp_path):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder should be")
    (project / "utils.py").write_text(UTILS_UNSEEDED)
    assert diags(check(project, blocked)) == UNSEEDED
    assert blocked.read_text() == "a file where the cache folder should be"


# ------------------------------------------------------------------------------ where it lives
def user_cache() -> Path:
    """The user cache folder of this test (conftest gives each test its own XDG_CACHE_HOME)."""
    return Path(os.environ["XDG_CACHE_HOME"]) / "torchlint-repro"


def test_default_cache_folder_is_per_user(project):
    """By default the cache lives in the user's cache folder, one subfolder per project root, never in the
    project (a cache committed to a repository would be served to every clone); the key that signs its
    entries is the user's own, readable by nobody else."""
    proc = check(project, None)
    assert diags(proc) == []
    assert sorted(p.name for p in project.iterdir()) == ["pyproject.toml", "train.py", "utils.py"]
    folder = user_cache() / hashlib.sha256(str(project.resolve()).encode()).hexdigest()[:16]
    assert any(p.suffix == ".json" for p in cache_files(folder))
    key = user_cache() / "key"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert len(bytes.fromhex(key.read_text().strip())) == 32
    assert diags(check(project, None)) == []  # warm, from the same folder


def test_env_override(project, tmp_path):
    cache = tmp_path / "elsewhere"
    assert diags(check(project, cache)) == []
    assert not (project / ".torchlint_cache").exists()
    written = cache_files(cache)
    assert any(p.suffix == ".json" for p in written)
    assert (cache / ".gitignore").is_file()


def test_no_cache_writes_nothing(project, tmp_path):
    cache = tmp_path / "cache"
    assert diags(check(project, cache, "--no-cache")) == []
    assert not cache.exists()
    assert diags(check(project, None, "--no-cache")) == []
    assert not user_cache().exists()
    proc = subprocess.run(
        [str(FLAKE8), "--isolated", "--trp-no-cache", "."],
        cwd=project,
        capture_output=True,
        text=True,
        env=_env(None),
        timeout=180,
    )
    assert proc.stderr == ""
    assert not user_cache().exists()
    assert sorted(p.name for p in project.iterdir()) == ["pyproject.toml", "train.py", "utils.py"]


def test_cache_false_in_pyproject_writes_nothing(project):
    (project / "pyproject.toml").write_text(
        '[project]\nname = "proj"\nversion = "0"\n\n[tool.torchlint-repro]\ncache = false\n'
    )
    (project / "utils.py").write_text(UTILS_UNSEEDED)  # a finding: the run did lint, it wrote nothing
    proc = check(project, None)
    assert proc.returncode == 1 and diags(proc) == UNSEEDED
    assert not (project / ".torchlint_cache").exists()
    assert not user_cache().exists()


def test_in_process_runs_with_reset_projects(project, tmp_path, monkeypatch):
    """The library API: lint_file twice in one process, reset_projects() between edits."""
    from torchlint_repro.analysis.project import reset_projects
    from torchlint_repro.engine import lint_file

    monkeypatch.setenv("TORCHLINT_CACHE_DIR", str(tmp_path / "cache"))
    reset_projects()
    try:
        assert lint_file(project / "train.py") == []
        (project / "utils.py").write_text(UTILS_UNSEEDED)
        reset_projects()
        found = lint_file(project / "train.py")
        assert [(d.line, d.col, d.code) for d in found] == [(9, 12, "TRP101")]  # 0-based column in the API
        (project / "utils.py").write_text(UTILS_SEEDED)
        reset_projects()
        assert lint_file(project / "train.py") == []
    finally:
        reset_projects()


# ------------------------------------------------------------------------------ what is written
SAVES = """\
import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 8, bias=False), nn.Dropout(p=0.1), nn.Linear(8, 2))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
torch.save(model.state_dict(), "w.pt")
torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "epoch": 3}, "ckpt.pt")
torch.save({"weight": torch.ones(2), "bias": torch.zeros(2)}, "d.pt")
torch.save(model, "m.pt")
torch.save(nn.DataParallel(model).state_dict(), "p.pt")
"""
LOADS = """\
import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 2))
model.load_state_dict(torch.load("w.pt"))
model.load_state_dict(torch.load("ckpt.pt")["model"])
model.load_state_dict(torch.load("p.pt"))
"""


def test_every_entry_written_passes_its_own_schema(bigger_project, tmp_path):
    """The readers trust an entry only if it has the shape of its kind (analysis/cache.py SCHEMAS): an
    entry the tool itself writes must pass, or the cache silently never serves it. When the facts, the
    results or the save sites change shape, this fails until SCHEMAS (and SCHEMA) follow."""
    from torchlint_repro.analysis.cache import DiskCache, decode_value, valid_value
    from torchlint_repro.analysis.context import _Summary

    (bigger_project / "saves.py").write_text(SAVES)
    (bigger_project / "loads.py").write_text(LOADS)
    cache = tmp_path / "cache"
    check(bigger_project, cache)
    (folder,) = [p for p in cache.iterdir() if p.is_dir()]
    kinds: dict[str, int] = {}
    for p in cache_files(folder):
        if p.suffix != ".json":
            continue
        kind = p.parent.parent.name
        entry = DiskCache(folder).read_entry(p, kind)
        assert entry is not None, f"{p} does not check out"
        assert valid_value(kind, entry[1]), f"{kind} entry of another shape: {json.dumps(entry[1])[:400]}"
        if kind == "walks":  # its events are stored as tagged values: they must decode
            events, reached, widened, entered = decode_value(entry[1]["walk"])
            assert all(len(row) == 5 for row in events) and all(len(r) == 2 for r in reached | entered)
        if kind == "edits":  # a file's last analysis: its events are tagged values too
            assert all(len(row) == 4 for row in decode_value(entry[1]["events"]))
        if kind == "summaries":  # so is a module's summary, and its reader must accept it
            assert _Summary.from_entry(entry[1]).complete()
        kinds[kind] = kinds.get(kind, 0) + 1
    assert set(kinds) == {"callers", "edits", "facts", "mentions", "results", "saves", "summaries", "walks", "words"}, (
        kinds
    )
