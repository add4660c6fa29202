#!/usr/bin/env python
"""torchlint-repro's benchmark and robustness sweep, on real code nobody here wrote.

    python bench/run.py                 # torch-sample and pip corpora, medians of 3 runs, table on stdout
    python bench/run.py --all           # ... and the whole torch package (torch-all: slow)
    python bench/run.py --quick         # 1 run each
    python bench/run.py --record        # ... and append a dated section to bench/RESULTS.md
    python bench/run.py --sweep         # lint every .py of the installed torch: no traceback, no TRP900
    python bench/run.py --fix-only      # only `check --no-cache` against `fix` (corpora + a 40k-line file)
    python bench/run.py --corpus torch-sample --corpus pip   # a subset
    python bench/run.py --parallel --attribute --project PATH  # check -j1 against -j2 on a project, and why
    python bench/run.py --editor --project PATH                 # an edited buffer: flake8 +TRP against flake8 alone

Corpora (built once under bench/corpus/, which git ignores):

- ``torch-sample``: 300 .py files of the installed torch package, chosen deterministically (the 300
  smallest sha256 digests of their paths inside the package), copied with their package layout under
  a root holding an empty ``[tool.torchlint-repro]`` pyproject.toml, so that the root and the
  configuration are the corpus's own and not this repository's.
- ``torch-all``: every .py of the installed torch package, laid out the same way.
- ``pip``: the sdists of pytorch-ignite (its ``examples/``: real training scripts), timm and accelerate,
  fetched with ``pip download --no-deps --no-binary :all:`` (pinned versions), unpacked side by side:
  three whole libraries (~290k lines, 25x pytorch/examples), the stress corpus.
- ``examples``: the training scripts alone, the issue's pytorch/examples-sized corpus: the
  ``examples/`` folder of the pytorch-ignite sdist above (CIFAR-10, MNIST, GANs, segmentation, ...:
  ~50 scripts, ~8k lines) copied under a root of its own.

What is measured, each as the wall time of a fresh process (python start-up included) on one core:

- ``libcst parse``: ``libcst.parse_module`` of every file, in a subprocess (the floor any libcst-based
  linter pays); ``ast parse``: the same with ``ast.parse``.
- ``check no-cache``: ``torchlint-repro check -j1 --no-cache``; ``check cold``: ``check -j1`` with
  ``TORCHLINT_CACHE_DIR`` a fresh empty folder (writes the cache); ``check warm``: the same command
  again on the same cache folder, nothing changed.
- ``flake8 alone``: flake8 with its default checks and *no* torchlint-repro. flake8 loads every
  installed plugin and runs it whatever ``--select`` says (``--select E,W,F,C90`` only filters the
  output), so the only correct baseline is a flake8 of the same version with the same pycodestyle,
  pyflakes and mccabe in a separate venv without torchlint-repro: bench/.venvs/flake8 (created on
  first use; ``flake8 --version`` there is checked not to list torchlint-repro).
- ``flake8 +TRP (select)``: the project venv's flake8 with ``--select TRP``; ``flake8 +TRP`` its
  default checks plus TRP (cold: fresh cache folder); ``flake8 +TRP warm``: again on that cache.
- ``flake8 +TorchFix``: flake8 + TorchFix (``TOR``) in bench/.venvs/torchfix (TorchFix pins
  libcst<1.6, so it cannot live in the project venv); same flake8 version. Skipped when it cannot be
  installed.
- ``fix``: ``torchlint-repro fix .`` on a fresh copy of the corpus (the copy is not timed), against
  ``check no-cache`` (fix never uses the cache); ``--fix-only`` also times both on a generated
  40,000-line file with one fixable finding (``big-file``), the case where libcst's whole-module
  metadata made fix 8x check.

flake8 always runs with ``--isolated`` (no configuration file of the corpus counts) and ``-j1``.

``--parallel`` and ``--editor`` (issue 12: "every process redoes the project") measure one project folder
instead (``--project PATH``, repeatable; default: the pip corpus), on a scratch copy of it (nothing is ever
written into the folder), with this checkout's ``src/`` first on PYTHONPATH:

- ``--parallel``: ``check --no-cache -j1`` against ``-j2`` on the whole project, alternating: CPU time (user +
  sys of the command and its workers) and wall time; budget CPU(-j2) <= 1.05x CPU(-j1). ``--attribute`` adds
  one run of each under timers (ATTRIBUTE_SCRIPT): the CPU of each project-wide step (module facts, caller
  walks, caller search, other modules' contexts, the name index, the save-site scan), summed over processes,
  and how many of its per-file computations were done in both workers.
- ``--editor``: the 5 largest .py files of the project that mention torch, each read on stdin with a comment
  appended (a new edit per command and run), the project's cache warm: ``flake8 --select TRP
  --stdin-display-name PATH -`` (project venv) against flake8 alone (bench/.venvs/flake8) on the same
  buffer, and ``check --stdin-filename PATH -``; budget flake8+TRP <= 1.5x flake8 alone.

Both take their ratios on CPU time, not wall time: the machine may be shared with other jobs.
Peak memory is the command's ``ru_maxrss``, read by a small launcher process (see ``run_cmd``: the
bench's own memory must not leak into the children's figures).
"""

from __future__ import annotations

import argparse
import ast
import datetime as _dt
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
CORPUS = BENCH / "corpus"
VENVS = BENCH / ".venvs"
RESULTS = BENCH / "RESULTS.md"

PY = Path(sys.executable)
BIN = PY.parent
CHECK = BIN / "torchlint-repro"
FLAKE8 = BIN / "flake8"

SAMPLE_SIZE = 300
PIP_SDISTS = ("pytorch-ignite==0.5.5", "timm==1.0.31", "accelerate==1.15.0")
TORCHFIX = "torchfix==0.7.0"
CORPORA = ("examples", "torch-sample", "pip", "torch-all")
# torch-all: ~1.2M lines, about 45 minutes per run of every command
DEFAULT_CORPORA = ("examples", "torch-sample", "pip")
SKIP_DIRS = {
    ".git",
    "__pycache__",
    ".torchlint_cache",
    ".tox",
    ".nox",
    ".eggs",
    ".venv",
    "venv",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    "_build",
}

BUDGETS = (
    # (label, numerator, denominator, max ratio)
    ("check cold <= 2.5x libcst parse", "check cold", "libcst parse", 2.5),
    ("check warm <= 0.3x check cold", "check warm", "check cold", 0.3),
    ("plugin adds <= 3x libcst parse", "plugin added", "libcst parse", 3.0),
    ("peak memory flake8+plugin <= 1.5x flake8 alone", "rss flake8 +TRP", "rss flake8 alone", 1.5),
    ("fix <= 2x check no-cache", "fix", "check no-cache", 2.0),
)


# ------------------------------------------------------------------------------ corpora
def torch_dir() -> Path:
    """The installed torch package, found without importing it (that takes seconds)."""
    import importlib.util

    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("bench: torch is not installed in this interpreter")
    return Path(list(spec.submodule_search_locations)[0])


def torch_files(top: Path | None = None) -> list[str]:
    """Every .py of the torch package, as paths relative to the folder that holds ``torch/``."""
    top = top or torch_dir()
    out = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            if name.endswith(".py"):
                out.append(os.path.relpath(os.path.join(dirpath, name), top.parent))
    return sorted(out)


def deterministic_sample(rels: list[str], n: int) -> list[str]:
    """The ``n`` paths with the smallest sha256 digests: stable when files are added or removed."""
    return sorted(sorted(rels, key=lambda r: hashlib.sha256(r.encode()).hexdigest())[:n])


def _write_root(root: Path, note: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    # notebooks are excluded: flake8 does not read them, and the parse baselines count .py files only
    (root / "pyproject.toml").write_text(
        f'# bench corpus root: {note}\n[project]\nname = "bench-corpus"\nversion = "0"\n\n'
        f'[tool.torchlint-repro]\nexclude = ["*.ipynb"]\n'
    )


def build_torch_corpus(name: str, sample: int | None) -> Path:
    # never import torch here: every child's ru_maxrss starts from this process's peak (see run_cmd)
    from importlib.metadata import version as _version

    torch_version = _version("torch")

    root = CORPUS / name
    src = torch_dir()
    rels = torch_files(src)
    if sample:
        rels = deterministic_sample(rels, sample)
    marker = root / ".bench-corpus.json"
    want = {
        "torch": str(src),
        "version": torch_version,
        "files": len(rels),
        "digest": hashlib.sha256("\n".join(rels).encode()).hexdigest(),
    }
    note = f"{'sample of ' + str(sample) + ' files of ' if sample else ''}torch {torch_version}"
    if marker.is_file() and json.loads(marker.read_text()) == want:
        _write_root(root, note)
        return root
    if root.exists():
        shutil.rmtree(root)
    _write_root(root, note)
    for rel in rels:
        dst = root / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src.parent / rel, dst)
    marker.write_text(json.dumps(want))
    return root


def build_pip_corpus() -> Path:
    root = CORPUS / "pip"
    marker = root / ".bench-corpus.json"
    want = {"sdists": list(PIP_SDISTS)}
    if marker.is_file() and json.loads(marker.read_text()) == want:
        _write_root(root, "sdists " + ", ".join(PIP_SDISTS))
        return root
    downloads = CORPUS / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    missing = [s for s in PIP_SDISTS if not _sdist_path(downloads, s)]
    if missing:
        log(f"downloading sdists {', '.join(missing)} (pip download --no-deps --no-binary :all:)")
        proc = subprocess.run(
            [
                str(PY),
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                "-q",
                "-d",
                str(downloads),
                *missing,
            ],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"pip download failed:\n{proc.stderr[-2000:]}")
    if root.exists():
        shutil.rmtree(root)
    _write_root(root, "sdists " + ", ".join(PIP_SDISTS))
    for spec in PIP_SDISTS:
        archive = _sdist_path(downloads, spec)
        with tarfile.open(archive) as tf:
            try:
                tf.extractall(root, filter="data")
            except TypeError:  # Python without extraction filters
                tf.extractall(root)  # noqa: S202 - a registry sdist we chose
    marker.write_text(json.dumps(want))
    return root


def build_examples_corpus() -> Path:
    pip_root = build_pip_corpus()
    src = next(iter(sorted(pip_root.glob("pytorch_ignite-*/examples"))), None)
    if src is None:
        raise RuntimeError("the pytorch-ignite sdist has no examples/ folder")
    root = CORPUS / "examples"
    marker = root / ".bench-corpus.json"
    want = {"from": src.relative_to(CORPUS).as_posix()}
    if marker.is_file() and json.loads(marker.read_text()) == want:
        _write_root(root, "the examples/ of " + src.parent.name)
        return root
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(src, root / "ignite-examples")
    _write_root(root, "the examples/ of " + src.parent.name)
    marker.write_text(json.dumps(want))
    return root


def _sdist_path(folder: Path, spec: str) -> Path | None:
    name, version = spec.split("==")
    stem = re.sub(r"[-_.]+", "[-_.]", name)
    for p in folder.glob("*.tar.gz"):
        if re.fullmatch(rf"(?i){stem}-{re.escape(version)}\.tar\.gz", p.name):
            return p
    return None


def corpus_files(root: Path) -> list[Path]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        out.extend(Path(dirpath, f) for f in sorted(filenames) if f.endswith(".py"))
    return sorted(out)


def count_lines(files: list[Path]) -> int:
    return sum(p.read_bytes().count(b"\n") for p in files)


# ------------------------------------------------------------------------------ venvs
def ensure_venv(name: str, requirements: list[str], check_mod: str) -> Path | None:
    """bench/.venvs/NAME with ``requirements`` (created once); its bin folder, or None if impossible."""
    venv = VENVS / name
    marker = venv / ".bench-requirements.json"
    if marker.is_file() and json.loads(marker.read_text()) == requirements:
        return venv / "bin"
    if venv.exists():
        shutil.rmtree(venv)
    log(f"creating {venv.relative_to(REPO)}: pip install {' '.join(requirements)}")
    try:
        subprocess.run([str(PY), "-m", "venv", str(venv)], check=True, capture_output=True)
        proc = subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", *requirements],
            capture_output=True,
            text=True,
            timeout=900,
        )
        if proc.returncode != 0:
            log(f"  cannot install: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}")
            return None
        subprocess.run([str(venv / "bin" / "python"), "-c", f"import {check_mod}"], check=True, capture_output=True)
    except (subprocess.SubprocessError, OSError) as exc:
        log(f"  cannot create {name}: {exc}")
        return None
    marker.write_text(json.dumps(requirements))
    return venv / "bin"


def flake8_pins() -> list[str]:
    from importlib.metadata import version

    return [f"{d}=={version(d)}" for d in ("flake8", "pycodestyle", "pyflakes", "mccabe")]


# ------------------------------------------------------------------------------ measuring
class Run:
    def __init__(self, seconds: float, rss_kib: int, stdout: str, stderr: str, code: int, cpu: float = 0.0) -> None:
        self.seconds, self.rss_kib, self.stdout, self.stderr, self.code = seconds, rss_kib, stdout, stderr, code
        self.cpu = cpu  # user + sys seconds of the command and every process it waited for (its workers)


# The child's peak RSS cannot be read by this process: on Linux a child's ru_maxrss starts from the
# high-water mark of the memory image it was forked (or vforked) from, i.e. from this process's peak.
# A tiny launcher (a fresh `python -S`, ~10 MiB) runs the command and reports its RUSAGE_CHILDREN
# peak and wall time, so the floor is the launcher's, not the bench's. Its RUSAGE_CHILDREN user and system
# times are the CPU time of the command's whole process tree (a `-j2` run's workers included: the command
# waits for them, so their times are added to its own when the launcher reaps it).
LAUNCHER = r"""
import json, os, resource, subprocess, sys, time
out = sys.argv[1]
t0 = time.perf_counter()
code = subprocess.call(sys.argv[2:])
seconds = time.perf_counter() - t0
with open(out, "w") as fh:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    json.dump({"seconds": seconds, "maxrss": ru.ru_maxrss, "user": ru.ru_utime, "sys": ru.ru_stime, "code": code}, fh)
"""


def run_cmd(cmd: list[str], cwd: Path, env: dict | None = None, stdin: bytes | None = None) -> Run:
    """Run ``cmd`` as one child (through LAUNCHER): its wall time, CPU time, peak RSS, output and exit code;
    ``stdin``: bytes the command reads on its standard input (else none)."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryFile() as inp,
        tempfile.NamedTemporaryFile(suffix=".json", delete=False) as res,
    ):
        res.close()
        if stdin is not None:
            inp.write(stdin)
            inp.seek(0)
        subprocess.run(
            [str(PY), "-S", "-c", LAUNCHER, res.name, *cmd],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=err,
            stdin=inp if stdin is not None else subprocess.DEVNULL,
            check=False,
        )
        m = json.loads(Path(res.name).read_text())
        os.unlink(res.name)
        out.seek(0)
        err.seek(0)
        return Run(
            m["seconds"],
            m["maxrss"],
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            m["code"],
            m["user"] + m["sys"],
        )


PARSE_SCRIPT = r"""
import sys, json
kind, listing = sys.argv[1], sys.argv[2]
if kind == "libcst":
    import libcst
    parse = libcst.parse_module
else:
    import ast
    parse = ast.parse
failed = 0
paths = open(listing, encoding="utf-8").read().splitlines()
for p in paths:
    with open(p, "rb") as fh:
        data = fh.read()
    try:
        parse(data)
    except Exception:
        failed += 1
print(json.dumps({"files": len(paths), "failed": failed}))
"""


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def base_env(cache_dir: Path | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TORCHLINT_", "PYTHON", "FLAKE8"))}
    env["PYTHONHASHSEED"] = "0"
    env["NO_COLOR"] = "1"
    if cache_dir is not None:
        env["TORCHLINT_CACHE_DIR"] = str(cache_dir)
    return env


def measure_corpus(name: str, root: Path, runs: int, flake8_bin: Path | None, torchfix_bin: Path | None) -> dict:
    files = corpus_files(root)
    listing = Path(tempfile.mkstemp(prefix="bench-files-", suffix=".txt")[1])
    listing.write_text("\n".join(str(p) for p in files) + "\n", encoding="utf-8")
    res: dict = {"corpus": name, "files": len(files), "lines": count_lines(files), "times": {}, "rss": {}}
    times: dict[str, list[float]] = {}
    rss: dict[str, list[int]] = {}

    def note(key: str, r: Run) -> Run:
        times.setdefault(key, []).append(r.seconds)
        rss.setdefault(key, []).append(r.rss_kib)
        return r

    scratch = Path(tempfile.mkdtemp(prefix="bench-cache-"))
    try:
        for i in range(runs):
            log(f"{name}: run {i + 1}/{runs} ({len(files)} files)")
            for kind in ("libcst", "ast"):
                r = note(f"{kind} parse", run_cmd([str(PY), "-c", PARSE_SCRIPT, kind, str(listing)], root, base_env()))
                if r.code != 0:
                    raise RuntimeError(f"{kind} parse failed: {r.stderr[-2000:]}")
                res[f"{kind} parse failures"] = json.loads(r.stdout)["failed"]

            check = [str(CHECK), "check", "-j1", "--exit-zero", "--format", "json", "."]
            r = note(
                "check no-cache", run_cmd(check[:3] + ["--no-cache"] + check[3:], root, base_env(scratch / "unused"))
            )
            res["check no-cache"] = _check_summary(r)
            cache = scratch / f"check-{i}"
            r = note("check cold", run_cmd(check, root, base_env(cache)))
            res["check"] = _check_summary(r)
            r = note("check warm", run_cmd(check, root, base_env(cache)))
            res["check warm"] = _check_summary(r)
            if (scratch / "unused").exists():
                res["no-cache wrote"] = True
            res["fix"] = _fix_summary(note("fix", _run_fix(root, scratch / f"fix-{i}")))

            f8 = ["-j1", "--isolated", "--exit-zero", "."]
            if flake8_bin is not None:
                r = note("flake8 alone", run_cmd([str(flake8_bin / "flake8"), *f8], root, base_env()))
                res["flake8 alone findings"] = _count_lines(r.stdout)
            cache = scratch / f"flake8-{i}"
            r = note(
                "flake8 TRP only", run_cmd([str(FLAKE8), "--select", "TRP", *f8], root, base_env(scratch / f"sel-{i}"))
            )
            res["flake8 TRP findings"] = _count_lines(r.stdout)
            res["flake8 TRP900"] = r.stdout.count(" TRP900 ")
            res["flake8 tracebacks"] = r.stderr.count("Traceback")
            r = note("flake8 +TRP", run_cmd([str(FLAKE8), *f8], root, base_env(cache)))
            res["flake8 +TRP findings"] = _count_lines(r.stdout)
            res["flake8 +TRP TRP findings"] = sum(
                1 for ln in r.stdout.splitlines() if re.search(r":\d+:\d+: TRP\d", ln)
            )
            res["flake8 +TRP keys"] = sorted(
                _flake8_key(ln) for ln in r.stdout.splitlines() if re.search(r":\d+:\d+: TRP\d", ln)
            )
            note("flake8 +TRP warm", run_cmd([str(FLAKE8), *f8], root, base_env(cache)))
            if torchfix_bin is not None and i == 0:  # slow and only a comparison: measured once
                r = note("flake8 +TorchFix", run_cmd([str(torchfix_bin / "flake8"), *f8], root, base_env()))
                res["TorchFix findings"] = sum(1 for ln in r.stdout.splitlines() if re.search(r":\d+:\d+: TOR\d", ln))
                if r.stderr.count("Traceback"):
                    res["TorchFix tracebacks"] = r.stderr.count("Traceback")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        listing.unlink()
    res["times"] = {k: statistics.median(v) for k, v in times.items()}
    res["rss"] = {k: max(v) for k, v in rss.items()}
    return res


def _run_fix(root: Path, copy: Path) -> Run:
    """``fix .`` on a fresh copy of ``root`` (copying is not timed)."""
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(root, copy, symlinks=True)
    try:
        return run_cmd([str(CHECK), "fix", "."], copy, base_env())
    finally:
        shutil.rmtree(copy, ignore_errors=True)


def _fix_summary(r: Run) -> dict:
    m = re.search(r"^fixed (\d+) findings?$", r.stderr, re.M)
    return {
        "fixed": int(m.group(1)) if m else None,
        "exit": r.code,
        "tracebacks": r.stderr.count("Traceback"),
        "errors": sum(1 for ln in r.stderr.splitlines() if ln.startswith("torchlint-repro: error:")),
    }


def big_fix_file(folder: Path, n_lines: int = 40_000) -> Path:
    """A generated module of ``n_lines`` lines with exactly one fixable finding (TRP202 at line 6)."""
    folder.mkdir(parents=True, exist_ok=True)
    body = [
        "import torch",
        "from torch import nn",
        "",
        "torch.manual_seed(0)",
        "model = nn.Linear(4, 2)",
        "model.eval",
        "",
    ]
    for i in range(6_000):
        body += [f"def scale_{i}(x):", f"    y = x * {i}", "    return y + 1", ""]
    lines = body + ["TABLE = ["] + [f"    ({i}, 'row{i}')," for i in range(n_lines - len(body) - 2)] + ["]"]
    (folder / "pyproject.toml").write_text("[tool.torchlint-repro]\n")
    (folder / "big.py").write_text("\n".join(lines) + "\n")
    return folder


def measure_fix_only(name: str, root: Path, runs: int) -> dict:
    """``check --no-cache`` against ``fix`` only: medians of wall time, peak memory."""
    scratch = Path(tempfile.mkdtemp(prefix="bench-fix-"))
    times: dict[str, list[float]] = {}
    rss: dict[str, list[int]] = {}
    res: dict = {"corpus": name, "files": len(corpus_files(root)), "lines": count_lines(corpus_files(root))}
    try:
        for i in range(runs):
            log(f"{name}: fix run {i + 1}/{runs}")
            r = run_cmd(
                [str(CHECK), "check", "-j1", "--no-cache", "--exit-zero", "--format", "json", "."], root, base_env()
            )
            times.setdefault("check no-cache", []).append(r.seconds)
            rss.setdefault("check no-cache", []).append(r.rss_kib)
            res["check"] = _check_summary(r)
            r = _run_fix(root, scratch / "copy")
            times.setdefault("fix", []).append(r.seconds)
            rss.setdefault("fix", []).append(r.rss_kib)
            res["fix"] = _fix_summary(r)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    res["times"] = {k: statistics.median(v) for k, v in times.items()}
    res["rss"] = {k: max(v) for k, v in rss.items()}
    return res


def fmt_fix_table(results: list[dict], runs: int) -> str:
    lines = [
        f"| corpus (median of {runs}) | files | lines | check no-cache (s) | fix (s) | peak RSS check / fix (MiB) "
        f"| findings | fixed by fix | fix errors | budget: fix <= 2x check no-cache |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        c, f = r["times"]["check no-cache"], r["times"]["fix"]
        ratio = f / c if c > 0 else float("inf")
        lines.append(
            f"| {r['corpus']} | {r['files']:,} | {r['lines']:,} | {c:.2f} | {f:.2f} "
            f"| {_mib(r['rss']['check no-cache'])} / {_mib(r['rss']['fix'])} | {r['check']['findings']} "
            f"| {r['fix']['fixed']} | {r['fix']['errors']} "
            f"| {'PASS' if ratio <= 2 else 'FAIL'} ({ratio:.2f}x) |"
        )
    return "\n".join(lines)


# ------------------------------------------------------------------------------ parallel overhead, editor latency
# Issue 12, "every process redoes the project": `check -j2` should cost no more CPU than `-j1` (<= 1.05x), and an
# edited buffer linted by an editor through flake8 should cost at most 1.5x flake8 alone. Both are measured on
# one project folder (--project; the pip corpus by default), copied to a scratch folder first so that nothing is
# ever written into it. The machine may be shared: ratios are taken on CPU time (user + sys of the command's
# whole process tree), which other jobs disturb far less than wall time; wall times are reported beside them.


def src_env(cache_dir: Path | None = None) -> dict:
    """base_env for the project's own commands, with this checkout's src/ first on the path: the venv's
    editable install may point at another worktree, and the bench measures the code it is committed with."""
    env = base_env(cache_dir)
    env["PYTHONPATH"] = str(REPO / "src")
    return env


def check_src_env() -> None:
    r = subprocess.run(
        [str(PY), "-c", "import torchlint_repro; print(torchlint_repro.__file__)"],
        capture_output=True,
        text=True,
        env=src_env(),
    )
    where = Path(r.stdout.strip() or "?").resolve()
    if REPO / "src" not in where.parents:
        sys.exit(f"bench: torchlint_repro imports from {where}, not from {REPO / 'src'}")


def project_copy(src: Path, scratch: Path) -> Path:
    """A copy of the project folder ``src`` (its VCS and cache folders left out): the bench writes only there."""
    dst = scratch / src.name
    shutil.copytree(
        src, dst, symlinks=True, ignore=shutil.ignore_patterns(".git", ".hg", ".torchlint_cache", "__pycache__")
    )
    # A copy's files are all seconds old: the name index treats files changed within 2 s of it as possibly
    # changed again in the same clock tick and reads them once more (Project.mentions). A project being
    # linted was not all written in the last seconds; let the copy age past that window, or the first
    # measured command pays for re-reading the whole project once (and each worker of a parallel run too).
    time.sleep(2.5)
    return dst


def measure_parallel(name: str, src: Path, runs: int, scratch: Path) -> dict:
    """``check --no-cache -j1`` against ``-j2`` on the whole project: wall and CPU time, medians of ``runs``
    (the two alternate, so drift in the machine's load hits both)."""
    root = project_copy(src, scratch / "parallel")
    files = corpus_files(root)
    res: dict = {"project": name, "files": len(files), "lines": count_lines(files)}
    wall: dict[int, list[float]] = {1: [], 2: []}
    cpu: dict[int, list[float]] = {1: [], 2: []}
    keys: dict[int, list] = {}
    for i in range(runs):
        for jobs in (1, 2):
            log(f"{name}: check --no-cache -j{jobs}, run {i + 1}/{runs}")
            r = run_cmd(
                [str(CHECK), "check", f"-j{jobs}", "--no-cache", "-q", "--exit-zero", "--format", "json", "."],
                root,
                src_env(scratch / "unused"),
            )
            s = _check_summary(r)
            if s["findings"] is None or s["tracebacks"]:
                raise RuntimeError(f"check -j{jobs} failed on {name}: {r.stderr[-2000:]}")
            wall[jobs].append(r.seconds)
            cpu[jobs].append(r.cpu)
            keys[jobs] = s["keys"]
            res["findings"] = s["findings"]
    res["wall"] = {j: statistics.median(v) for j, v in wall.items()}
    res["cpu"] = {j: statistics.median(v) for j, v in cpu.items()}
    res["cpu runs"] = cpu
    res["wall runs"] = wall
    res["same findings"] = keys[1] == keys[2]
    shutil.rmtree(root, ignore_errors=True)
    return res


def fmt_parallel(results: list[dict], runs: int) -> str:
    """The ratio that counts is the median of the per-run ratios: a -j1 run and the -j2 run after it see about
    the same load, while the medians of the two columns may come from runs minutes apart."""
    lines = [
        f"| project (median of {runs}) | files | lines | CPU -j1 (s) | CPU -j2 (s) | CPU -j2 / -j1, per run "
        f"| wall -j1 (s) | wall -j2 (s) | wall speedup | same findings "
        f"| budget: CPU -j2 <= 1.05x -j1 (median per run) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for r in results:
        c1, c2, w1, w2 = r["cpu"][1], r["cpu"][2], r["wall"][1], r["wall"][2]
        per_run = [b / a for a, b in zip(r["cpu runs"][1], r["cpu runs"][2], strict=True)]
        ratio = statistics.median(per_run)
        lines.append(
            f"| {r['project']} | {r['files']:,} | {r['lines']:,} | {c1:.2f} | {c2:.2f} "
            f"| {' '.join(f'{x:.2f}' for x in per_run)} | {w1:.2f} | {w2:.2f} | {w1 / w2:.2f}x "
            f"| {'yes' if r['same findings'] else 'NO'} "
            f"| {'PASS' if ratio <= 1.05 else 'FAIL'} ({ratio:.2f}x) |"
        )
    return "\n".join(lines)


# Where a -j2 run's extra CPU goes: the CLI run in-process with timers around the project-wide steps a worker
# may redo (process CPU time, each step's own time without the nested steps'), dumped per process as JSON.
# Workers are forked (Linux), so they inherit the timers. A step is counted when it computes (a miss of its
# per-process memo); its keys say which file it computed for, so work done in two processes shows.
ATTRIBUTE_SCRIPT = r"""
import collections, json, os, sys, time
out_dir = sys.argv[1]
from torchlint_repro import cli, pipeline, runner
from torchlint_repro.analysis import calls as C, program, project as P

clock = time.process_time
stack = []  # [step, start, time of nested steps]
own = collections.defaultdict(float)
calls = collections.defaultdict(int)
keys = collections.defaultdict(list)

def enter(step):
    stack.append([step, clock(), 0.0])

def leave():
    step, t0, nested = stack.pop()
    total = clock() - t0
    own[step] += total - nested
    calls[step] += 1
    if stack:
        stack[-1][2] += total

def dump():
    with open(os.path.join(out_dir, f"{os.getpid()}.json"), "w") as fh:
        json.dump({"own": own, "calls": calls, "keys": keys}, fh)

def timed(step, fn, miss, key):
    def wrapper(*a, **k):
        if not miss(*a, **k):
            return fn(*a, **k)
        keys[step].append(key(*a, **k))
        enter(step)
        try:
            return fn(*a, **k)
        finally:
            leave()
    return wrapper

FILE = "per file: read, parse, own walk, rules"
_lint_document = runner.lint_document
def lint_document(*a, **k):
    enter(FILE)
    try:
        return _lint_document(*a, **k)
    finally:
        leave()
        dump()
runner.lint_document = lint_document

def _abs(path):
    return path if os.path.isabs(path) else str(P.Path(path).resolve())

def _ctx_miss(project, path, seed):
    rec = project.record_for_path(path)
    return rec is not None and (id(project), path, rec.digest, seed) not in P.CONTEXTS.items

# what is computed (a walk, a file's saves, a module's facts), not what is read from the cache or memo
program._walk_program = timed("caller walks (program._walk_program)", program._walk_program,
                              lambda project, path, settings: True, lambda project, path, settings: path)
P.Project._scan_saves = timed("save-site scan, per file (_scan_saves)", P.Project._scan_saves,
                              lambda self, path, key, scan: True, lambda self, path, key, scan: path)
P.build_facts = timed("module facts computed (build_facts)", P.build_facts,
                      lambda tree, module, is_pkg: True, lambda tree, module, is_pkg: module)
P.Project.record_for_path = timed("module facts (read or parse + build)", P.Project.record_for_path,
                                  lambda self, path, source=None, tree=None:
                                   source is None and _abs(path) not in self._records,
                                  lambda self, path, *a, **k: _abs(path))
C.module_ctx = timed("other modules' contexts (module_ctx)", C.module_ctx, _ctx_miss,
                     lambda project, path, seed: path)
P.Project.caller_files = timed("caller search (caller_files)", P.Project.caller_files,
                               lambda self, path, units=None: True, lambda self, path, units=None: _abs(path))
P.Project.mentions = timed("name index (mentions)", P.Project.mentions, lambda self: self._mentions is None,
                           lambda self: "project")
P.Project.save_sites = timed("save-site scan (save_sites, all files)", P.Project.save_sites,
                             lambda self, scan: self._save_sites is None, lambda self, scan: "project")

sys.argv = ["torchlint-repro", *sys.argv[2:]]
try:
    cli.main()
finally:
    dump()
"""


def attribute_parallel(name: str, src: Path, scratch: Path) -> dict:
    """One instrumented run of ``check --no-cache`` at -j1 and at -j2: CPU per step, summed over processes,
    and how many of a step's computations (per file) were done in more than one process."""
    root = project_copy(src, scratch / "attribute")
    out: dict = {"project": name, "jobs": {}}
    for jobs in (1, 2):
        dumps = scratch / f"attribute-j{jobs}"
        dumps.mkdir()
        log(f"{name}: instrumented check --no-cache -j{jobs}")
        r = run_cmd(
            [
                str(PY),
                "-c",
                ATTRIBUTE_SCRIPT,
                str(dumps),
                "check",
                f"-j{jobs}",
                "--no-cache",
                "-q",
                "--exit-zero",
                "--format",
                "json",
                ".",
            ],
            root,
            src_env(scratch / "unused"),
        )
        if r.code != 0:
            raise RuntimeError(f"instrumented check failed: {r.stderr[-2000:]}")
        own: dict[str, float] = {}
        calls: dict[str, int] = {}
        done_in: dict[str, dict[str, int]] = {}
        workers = 0
        for f in sorted(dumps.glob("*.json")):
            d = json.loads(f.read_text())
            if not any(d["calls"].values()):
                continue  # the parent of a -j2 run: it lints nothing itself
            workers += 1
            for step, t in d["own"].items():
                own[step] = own.get(step, 0.0) + t
                calls[step] = calls.get(step, 0) + d["calls"][step]
            for step, ks in d["keys"].items():
                for k in set(ks):
                    done_in.setdefault(step, {})[k] = done_in.get(step, {}).get(k, 0) + 1
        out["jobs"][jobs] = {
            "cpu": r.cpu,
            "wall": r.seconds,
            "processes": workers,
            "own": own,
            "calls": calls,
            "distinct": {s: len(v) for s, v in done_in.items()},
            "repeated": {s: sum(1 for n in v.values() if n > 1) for s, v in done_in.items()},
        }
    shutil.rmtree(root, ignore_errors=True)
    return out


def fmt_attribution(a: dict) -> str:
    j1, j2 = a["jobs"][1], a["jobs"][2]
    steps = sorted(set(j1["own"]) | set(j2["own"]), key=lambda s: -(j2["own"].get(s, 0) - j1["own"].get(s, 0)))
    lines = [
        f"{a['project']}: one instrumented run each (timers add overhead: compare the columns, not with the "
        f"table above); command CPU -j1 {j1['cpu']:.2f}s, -j2 {j2['cpu']:.2f}s ({j2['processes']} workers)",
        "",
        "| step (own CPU, summed over processes) | -j1 (s) | -j2 (s) | extra (s) | computed -j1 / -j2 "
        "| files computed in both workers |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in steps:
        c1, c2 = j1["own"].get(s, 0.0), j2["own"].get(s, 0.0)
        lines.append(
            f"| {s} | {c1:.2f} | {c2:.2f} | {c2 - c1:+.2f} "
            f"| {j1['calls'].get(s, 0)} / {j2['calls'].get(s, 0)} "
            f"| {j2['repeated'].get(s, '-')}" + (f" of {j2['distinct'][s]}" if s in j2["distinct"] else "") + " |"
        )
    t1, t2 = sum(j1["own"].values()), sum(j2["own"].values())
    lines.append(f"| total timed | {t1:.2f} | {t2:.2f} | {t2 - t1:+.2f} | | |")
    return "\n".join(lines)


def editor_files(root: Path, n: int = 5) -> list[Path]:
    """The ``n`` largest .py files of the project that mention torch (ties: by path): the buffers an editor lints."""
    cands = []
    for p in corpus_files(root):
        data = p.read_bytes()
        if b"torch" in data:
            cands.append((-len(data), p.relative_to(root).as_posix(), p))
    return [p for _, _, p in sorted(cands)[:n]]


EDITOR_COMMANDS = ("flake8 alone", "flake8 --select TRP", "check --stdin-filename")


def edited(text: bytes, edit: str, tag: str) -> bytes:
    """The buffer after an edit: ``comment`` appends a comment (the text's code is unchanged); ``code`` adds a
    statement at the end of the first function of 10+ lines (what a user types: the file's program changes,
    so no result keyed by its code, nor by its syntax tree without positions, can answer); ``largest`` adds
    it to the file's longest function instead (in a training script, its main: code the analysis walks).
    That statement binds a literal to a local nothing reads yet (inert: the walks skip it, see
    syntax.inert_statement); ``largest-call`` types a call instead (``_edited = len('...')``), which the
    walks read: a quiet statement (edits.Quiet: it reads nothing the walks track), answered from the last
    analysis with its facts and summary made again; ``largest-walked`` types a call the judge leaves to the
    walk (``_edited = getattr(object, '...', None)``: getattr is a builtin the walks treat by name), so the
    file is analysed whole, as any other edit of walked code is."""
    if edit == "comment":
        return text + f"\n# edited in the editor ({tag})\n".encode()
    if edit not in ("code", "largest", "largest-call", "largest-walked"):
        raise ValueError(f"--edit: unknown edit {edit!r}")
    typed = {
        "largest-call": f"_edited = len({tag!r})",
        "largest-walked": f"_edited = getattr(object, {tag!r}, None)",
    }.get(edit, f"_edited = {tag!r}")
    lines = text.decode("utf-8").splitlines(keepends=True)
    tree = ast.parse(text)
    fns = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if edit != "code":
        fns = sorted(fns, key=lambda n: -((n.end_lineno or 0) - n.lineno))[:1]
    fn = next((n for n in fns if (n.end_lineno or 0) - n.lineno >= 10), None)
    if fn is None:  # no such function: a statement at the end of the module
        return text + f"\n{typed}\n".encode()
    last = fn.body[-1]
    lines.insert(last.end_lineno or 0, " " * last.col_offset + typed + "\n")
    return "".join(lines).encode("utf-8")


def measure_editor(
    name: str,
    src: Path,
    runs: int,
    scratch: Path,
    flake8_bin: Path,
    buffers: list[str] | None = None,
    edit: str = "comment",
) -> dict:
    """The editor case: one buffer of the project, edited (see ``edited``: no cached result of the file
    answers), linted on stdin with the project's cache warm; flake8 alone, flake8 with the plugin, the CLI.
    ``buffers``: these files (relative to the project) instead of the 5 largest that mention torch."""
    root = project_copy(src, scratch / "editor")
    cache = scratch / "editor-cache"
    files = corpus_files(root)
    res: dict = {"project": name, "files": len(files), "lines": count_lines(files), "buffers": [], "edit": edit}
    # warm the project's cache as a previous whole-project lint leaves it: the CLI's, then the plugin's
    log(f"{name}: warming the cache (check -j1 ., flake8 --select TRP -j1 .)")
    run_cmd([str(CHECK), "check", "-j1", "-q", "--exit-zero", "."], root, src_env(cache))
    run_cmd([str(FLAKE8), "--isolated", "-j1", "--exit-zero", "--select", "TRP", "."], root, src_env(cache))
    for path in [root / b for b in buffers] if buffers else editor_files(root):
        if not path.is_file():
            raise RuntimeError(f"--editor-file: no such file in {name}: {path.relative_to(root)}")
        rel = path.relative_to(root).as_posix()
        text = path.read_bytes()
        cmds = {
            "flake8 alone": (
                [str(flake8_bin / "flake8"), "--isolated", "--exit-zero", "--stdin-display-name", str(path), "-"],
                base_env(),
            ),
            "flake8 --select TRP": (
                [str(FLAKE8), "--isolated", "--exit-zero", "--select", "TRP", "--stdin-display-name", str(path), "-"],
                src_env(cache),
            ),
            "check --stdin-filename": (
                [str(CHECK), "check", "--exit-zero", "-q", "--stdin-filename", str(path), "-"],
                src_env(cache),
            ),
        }
        b: dict = {"file": rel, "lines": text.count(b"\n"), "cpu": {}, "wall": {}, "rss": {}, "findings": {}}
        for i in range(runs):
            log(f"{name}: {rel}, run {i + 1}/{runs}")
            for key, (cmd, env) in cmds.items():
                # a new edit for every command: none may answer from a result another one cached
                buffer = edited(text, edit, f"{key}, {i}")
                r = run_cmd(cmd, root, env, stdin=buffer)
                if r.code != 0 or "Traceback" in r.stderr:
                    raise RuntimeError(f"{key} failed on {rel}: {r.stderr[-2000:]}")
                b["cpu"].setdefault(key, []).append(r.cpu)
                b["wall"].setdefault(key, []).append(r.seconds)
                b["rss"].setdefault(key, []).append(r.rss_kib)
                b["findings"][key] = sum(1 for ln in r.stdout.splitlines() if re.search(r"TRP\d", ln))
        for k in ("cpu", "wall"):
            b[k] = {key: statistics.median(v) for key, v in b[k].items()}
        b["rss"] = {key: max(v) for key, v in b["rss"].items()}
        res["buffers"].append(b)
    shutil.rmtree(root, ignore_errors=True)
    return res


def fmt_editor(results: list[dict], runs: int) -> str:
    lines = [
        f"| project: buffer (median of {runs}) | lines | CPU flake8 alone (s) | CPU flake8 --select TRP (s) "
        f"| CPU check --stdin (s) | CPU ratio flake8+TRP / alone | CPU ratio check / flake8 alone "
        f"| wall alone / +TRP / check (s) | peak RSS ratio +TRP / alone | TRP findings | budget: <= 1.5x |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for res in results:
        ratios = []
        for b in res["buffers"]:
            c, w, m = b["cpu"], b["wall"], b["rss"]
            ratio = c["flake8 --select TRP"] / c["flake8 alone"]
            ratios.append(ratio)
            lines.append(
                f"| {res['project']}: {b['file']} ({res.get('edit', 'comment')} edit) | {b['lines']:,} "
                f"| {c['flake8 alone']:.2f} "
                f"| {c['flake8 --select TRP']:.2f} | {c['check --stdin-filename']:.2f} | {ratio:.2f}x "
                f"| {c['check --stdin-filename'] / c['flake8 alone']:.2f}x "
                f"| {w['flake8 alone']:.2f} / {w['flake8 --select TRP']:.2f} "
                f"/ {w['check --stdin-filename']:.2f} "
                f"| {m['flake8 --select TRP'] / m['flake8 alone']:.2f}x "
                f"| {b['findings']['flake8 --select TRP']} / {b['findings']['check --stdin-filename']} "
                f"| {'PASS' if ratio <= 1.5 else 'FAIL'} |"
            )
        lo, hi, med = min(ratios), max(ratios), statistics.median(ratios)
        lines.append(
            f"| **{res['project']}** ({res['lines']:,} lines): flake8+TRP / alone | | | | | "
            f"**{med:.2f}x** (median; {lo:.2f}x-{hi:.2f}x) | | | | | |"
        )
    return "\n".join(lines)


def _main_parallel_editor(args, runs: int, stamp: str, info: str) -> int:
    check_src_env()
    projects = [Path(p).resolve() for p in args.project] if args.project else [build_pip_corpus()]
    for p in projects:
        if not p.is_dir():
            sys.exit(f"bench: no such project folder: {p}")
    flake8_bin = None
    if args.editor:
        flake8_bin = ensure_venv("flake8", flake8_pins(), "flake8")
        version = (
            subprocess.run([str(flake8_bin / "flake8"), "--version"], capture_output=True, text=True).stdout
            if flake8_bin
            else ""
        )
        if flake8_bin is None or "torchlint" in version:
            sys.exit("bench: no flake8-alone baseline (bench/.venvs/flake8)")
    names = {
        p: (p.name if p.parent.name != "corpus" or p.parent.parent != BENCH else f"{p.name} corpus") for p in projects
    }
    t0 = time.perf_counter()
    par, attr, edit = [], [], []
    for p in projects:
        scratch = Path(tempfile.mkdtemp(prefix="bench-par-"))
        try:
            if args.parallel:
                par.append(measure_parallel(names[p], p, runs, scratch))
                if args.attribute:
                    attr.append(attribute_parallel(names[p], p, scratch))
            if args.editor:
                for kind in args.edit.split(","):
                    edit.append(measure_editor(names[p], p, runs, scratch, flake8_bin, args.editor_file, kind))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        if args.json:  # written after each project: a long run interrupted keeps what it measured
            args.json.write_text(
                json.dumps({"parallel": par, "attribution": attr, "editor": edit}, indent=1, default=str)
            )
    parts = []
    if par:
        parts.append(
            "Parallel overhead: `torchlint-repro check --no-cache -q --format json .` at -j1 and -j2 on a "
            "copy of the project; CPU = user + sys of the command and its workers.\n\n" + fmt_parallel(par, runs)
        )
    for a in attr:
        parts.append("Where -j2's extra CPU goes:\n\n" + fmt_attribution(a))
    if edit:
        parts.append(
            "Editor latency: the 5 largest .py files of the project that mention torch, each read on stdin "
            "with a comment appended (a new edit per command and run: no cached result answers), "
            "the project's cache "
            "warm (a `check .` and a `flake8 --select TRP .` before); flake8 alone = bench/.venvs/flake8 "
            "(default checks, no plugin); flake8 --select TRP = the project venv (flake8 runs its default "
            "checks too: --select only filters the output); TRP findings = flake8 / check.\n\n" + fmt_editor(edit, runs)
        )
    note = (
        f"Ratios are taken on CPU time (user + sys of the command's process tree): the machine is shared, so "
        f"wall times are noisy; every command a fresh process, python start-up included; bench took "
        f"{time.perf_counter() - t0:.0f}s."
    )
    text = "\n\n".join(parts)
    print(info)
    print()
    print(text)
    print()
    print(note)
    if args.json:
        args.json.write_text(json.dumps({"parallel": par, "attribution": attr, "editor": edit}, indent=1, default=str))
    if args.record:
        _record(
            f"## {stamp} — Parallel overhead and editor latency\n\n{info}\n\nProjects: "
            + ", ".join(f"{names[p]} ({p})" for p in projects)
            + f"\n\n{text}\n\n- {note}\n"
        )
    return 0


def _flake8_key(line: str) -> tuple:
    path, ln, col, rest = line.split(":", 3)
    return (os.path.relpath(path), int(ln), int(col), rest.split()[0])


def _count_lines(text: str) -> int:
    return sum(1 for ln in text.splitlines() if ln.strip())


def _check_summary(r: Run) -> dict:
    try:
        diags = json.loads(r.stdout) if r.stdout.strip() else []
    except ValueError:
        return {"findings": None, "exit": r.code, "stderr": r.stderr[-500:]}
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("torchlint-repro: error:")]
    return {
        "findings": len(diags),
        "trp900": sum(1 for d in diags if d["code"] == "TRP900"),
        "by_code": dict(sorted(_counter(d["code"] for d in diags).items())),
        "errors": len(errors),
        "error_lines": errors[:5],
        "tracebacks": r.stderr.count("Traceback"),
        "exit": r.code,
        "keys": sorted((os.path.relpath(d["path"]), d["line"], d["column"], d["code"]) for d in diags),
    }


def _counter(items) -> dict:
    out: dict = {}
    for x in items:
        out[x] = out.get(x, 0) + 1
    return out


# ------------------------------------------------------------------------------ report
ROWS = (
    ("libcst parse", "s"),
    ("ast parse", "s"),
    ("check no-cache", "s"),
    ("check cold", "s"),
    ("check warm", "s"),
    ("flake8 alone", "s"),
    ("flake8 TRP only", "s"),
    ("flake8 +TRP", "s"),
    ("flake8 +TRP warm", "s"),
    ("flake8 +TorchFix", "s"),
    ("fix", "s"),
)


def derived(res: dict) -> dict:
    t = res["times"]
    d: dict = {}

    def ratio(a, b):
        return t[a] / t[b] if a in t and b in t and t[b] > 0 else None

    d["check cold / libcst parse"] = ratio("check cold", "libcst parse")
    d["check no-cache / libcst parse"] = ratio("check no-cache", "libcst parse")
    d["check warm / check cold"] = ratio("check warm", "check cold")
    d["libcst parse / ast parse"] = ratio("libcst parse", "ast parse")
    if "flake8 alone" in t:
        d["plugin added (s)"] = t["flake8 +TRP"] - t["flake8 alone"]
        d["plugin added / libcst parse"] = d["plugin added (s)"] / t["libcst parse"]
        d["plugin added warm / libcst parse"] = (t["flake8 +TRP warm"] - t["flake8 alone"]) / t["libcst parse"]
        if "flake8 +TorchFix" in t:
            d["TorchFix added (s)"] = t["flake8 +TorchFix"] - t["flake8 alone"]
            d["TorchFix added / libcst parse"] = d["TorchFix added (s)"] / t["libcst parse"]
        d["rss flake8 +TRP / flake8 alone"] = res["rss"]["flake8 +TRP"] / res["rss"]["flake8 alone"]
    for key in ("check cold", "check warm", "flake8 +TRP", "libcst parse"):
        if key in t:
            d[f"lines/s {key}"] = res["lines"] / t[key]
    return d


def budgets(res: dict) -> list[tuple[str, float | None, bool | None]]:
    t = dict(res["times"])
    if "flake8 alone" in t:
        t["plugin added"] = t["flake8 +TRP"] - t["flake8 alone"]
        t["rss flake8 +TRP"] = res["rss"]["flake8 +TRP"]
        t["rss flake8 alone"] = res["rss"]["flake8 alone"]
    out = []
    for label, num, den, limit in BUDGETS:
        if num in t and den in t and t[den] > 0:
            r = t[num] / t[den]
            out.append((label, r, r <= limit))
        else:
            out.append((label, None, None))
    return out


def fmt_table(results: list[dict], runs: int) -> str:
    names = [r["corpus"] for r in results]
    rows: list[tuple[str, list[str]]] = []
    rows.append(("files", [f"{r['files']:,}" for r in results]))
    rows.append(("lines", [f"{r['lines']:,}" for r in results]))
    for key, unit in ROWS:
        rows.append((f"{key} ({unit})", [f"{r['times'][key]:.2f}" if key in r["times"] else "n/a" for r in results]))
    ders = [derived(r) for r in results]
    for key in (
        "check cold / libcst parse",
        "check no-cache / libcst parse",
        "check warm / check cold",
        "libcst parse / ast parse",
        "plugin added (s)",
        "plugin added / libcst parse",
        "plugin added warm / libcst parse",
        "TorchFix added (s)",
        "TorchFix added / libcst parse",
    ):
        rows.append((key, [_f(d.get(key)) for d in ders]))
    for key in ("lines/s libcst parse", "lines/s check cold", "lines/s check warm", "lines/s flake8 +TRP"):
        rows.append((key, [f"{d[key]:,.0f}" if d.get(key) else "n/a" for d in ders]))
    rows.append(("peak RSS flake8 alone (MiB)", [_mib(r["rss"].get("flake8 alone")) for r in results]))
    rows.append(("peak RSS flake8 +TRP (MiB)", [_mib(r["rss"].get("flake8 +TRP")) for r in results]))
    rows.append(("peak RSS ratio +TRP / alone", [_f(d.get("rss flake8 +TRP / flake8 alone")) for d in ders]))
    rows.append(("peak RSS check cold (MiB)", [_mib(r["rss"].get("check cold")) for r in results]))
    rows.append(("peak RSS libcst parse (MiB)", [_mib(r["rss"].get("libcst parse")) for r in results]))
    rows.append(("findings (check)", [str(r["check"]["findings"]) for r in results]))
    rows.append(
        (
            "fixed by fix (errors)",
            [f"{r['fix']['fixed']} ({r['fix']['errors']})" if "fix" in r else "n/a" for r in results],
        )
    )
    rows.append(
        ("findings by code", [" ".join(f"{k}:{v}" for k, v in r["check"]["by_code"].items()) or "-" for r in results])
    )
    rows.append(
        ("TRP900 (check / flake8)", [f"{r['check']['trp900']} / {r.get('flake8 TRP900', 'n/a')}" for r in results])
    )
    rows.append(
        ("TRP findings flake8 (default select)", [str(r.get("flake8 +TRP TRP findings", "n/a")) for r in results])
    )
    rows.append(("TRP findings flake8 --select TRP (*)", [str(r.get("flake8 TRP findings", "n/a")) for r in results]))
    rows.append(("check cold = no-cache = warm", [_same(r) for r in results]))
    rows.append(("check = flake8 (path, line, col, code)", [_same_flake8(r) for r in results]))
    rows.append(("files check could not lint", [str(r["check"]["errors"]) for r in results]))
    rows.append(
        (
            "tracebacks (check / flake8)",
            [f"{r['check']['tracebacks']} / {r.get('flake8 tracebacks', 0)}" for r in results],
        )
    )
    rows.append(
        (
            "files libcst / ast cannot parse",
            [f"{r['libcst parse failures']} / {r['ast parse failures']}" for r in results],
        )
    )
    rows.append(("TorchFix findings (TOR)", [str(r.get("TorchFix findings", "n/a")) for r in results]))
    for label, *_ in BUDGETS:
        vals = []
        for r in results:
            b = {x[0]: x for x in budgets(r)}[label]
            vals.append("n/a" if b[1] is None else f"{'PASS' if b[2] else 'FAIL'} ({b[1]:.2f}x)")
        rows.append((f"budget: {label}", vals))
    w0 = max(len(k) for k, _ in rows)
    widths = [max(len(n), *(len(v[i]) for _, v in rows)) for i, n in enumerate(names)]
    lines = [
        f"| {'metric (median of ' + str(runs) + ')':<{w0}} | "
        + " | ".join(f"{n:>{w}}" for n, w in zip(names, widths, strict=True))
        + " |",
        f"|{'-' * (w0 + 2)}|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|",
    ]
    for k, vals in rows:
        lines.append(f"| {k:<{w0}} | " + " | ".join(f"{v:>{w}}" for v, w in zip(vals, widths, strict=False)) + " |")
    return "\n".join(lines)


def _same(r: dict) -> str:
    a, b, c = r["check"].get("keys"), r["check no-cache"].get("keys"), r["check warm"].get("keys")
    return "yes" if a == b == c else "NO"


def _same_flake8(r: dict) -> str:
    py = [k for k in r["check"].get("keys") or [] if k[0].endswith(".py")]
    return "yes" if py == r.get("flake8 +TRP keys") else "NO"


def _f(v) -> str:
    return "n/a" if v is None else f"{v:.2f}"


def _mib(kib) -> str:
    return "n/a" if kib is None else f"{kib / 1024:.0f}"


def machine_info() -> str:
    import libcst

    try:
        import flake8

        f8 = flake8.__version__
    except ImportError:
        f8 = "?"
    cpu = "?"
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    rev = "?"
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(["git", "diff", "--no-ext-diff", "--quiet", "HEAD", "--", "src"], cwd=REPO).returncode
        rev += " (src/ modified)" if dirty else ""
    except OSError:
        pass
    from importlib.metadata import version

    return (
        f"nproc {os.cpu_count()}, {cpu}; Python {platform.python_version()} ({platform.platform()}); "
        f"torch {version('torch')}, "
        f"libcst {libcst.__version__ if hasattr(libcst, '__version__') else version('libcst')}, "
        f"flake8 {f8}, torchlint-repro {version('torchlint-repro')} at {rev}"
    )


# ------------------------------------------------------------------------------ sweep
def sweep(jobs: int = 2) -> dict:
    """Lint every .py of the installed torch package (where it is installed): no traceback, no TRP900."""
    top = torch_dir()
    n_files = len(torch_files(top))
    log(f"sweep: torchlint-repro check -j{jobs} --no-cache --exit-zero --format json {top} ({n_files} .py files)")
    r = run_cmd(
        [str(CHECK), "check", f"-j{jobs}", "--no-cache", "--exit-zero", "--format", "json", str(top)], REPO, base_env()
    )
    s = _check_summary(r)
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("torchlint-repro: error:")]
    # a file the CLI cannot parse must be one this Python cannot parse either (new syntax in torch)
    unexplained = []
    import ast

    for ln in errors:
        m = re.match(r"torchlint-repro: error: (.*?): (syntax error at line \d+|cannot decode|too deeply nested)", ln)
        if not m:
            unexplained.append(ln)
            continue
        try:
            ast.parse(Path(m.group(1)).read_bytes())
            unexplained.append(ln + " (but ast.parse accepts it)")
        except (SyntaxError, ValueError):
            pass
    return {
        "files": n_files,
        "findings": s["findings"],
        "by_code": s["by_code"],
        "trp900": s["trp900"],
        "tracebacks": r.stderr.count("Traceback"),
        "internal_errors": sum("internal error" in ln for ln in errors),
        "unparseable": len(errors) - len(unexplained),
        "unexplained_errors": unexplained,
        "error_lines": errors,
        "seconds": r.seconds,
        "rss_mib": r.rss_kib / 1024,
        "exit": r.code,
        "jobs": jobs,
    }


def fmt_sweep(s: dict) -> str:
    ok = s["trp900"] == 0 and s["tracebacks"] == 0 and not s["unexplained_errors"] and s["findings"] is not None
    lines = [
        f"sweep of the installed torch package: {'PASS' if ok else 'FAIL'}",
        f"- files: {s['files']:,} .py; check -j{s['jobs']} --no-cache: {s['seconds']:.1f}s wall, "
        f"peak RSS {s['rss_mib']:.0f} MiB",
        f"- findings: {s['findings']} ({' '.join(f'{k}:{v}' for k, v in s['by_code'].items()) or 'none'})",
        f"- TRP900: {s['trp900']}; tracebacks: {s['tracebacks']}; internal errors: {s['internal_errors']}",
        f"- files this Python cannot parse either (reported as errors, exit 2): {s['unparseable']}"
        + "".join(f"\n  - {ln.split('error: ', 1)[1]}" for ln in s["error_lines"] if ln not in s["unexplained_errors"]),
    ]
    for ln in s["unexplained_errors"]:
        lines.append(f"- UNEXPLAINED: {ln}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="1 run per measurement instead of 3")
    ap.add_argument("-n", "--runs", type=int, default=None, help="runs per measurement (median); default 3")
    ap.add_argument(
        "--corpus",
        action="append",
        choices=CORPORA,
        help="only these corpora (repeatable; default: torch-sample and pip)",
    )
    ap.add_argument("--all", action="store_true", help="every corpus, the whole torch package included")
    ap.add_argument("--no-torchfix", action="store_true", help="skip the TorchFix venv and measurement")
    ap.add_argument("--record", action="store_true", help="append the results to bench/RESULTS.md")
    ap.add_argument("--sweep", action="store_true", help="robustness sweep over the installed torch package only")
    ap.add_argument("--json", type=Path, help="also write the raw results to this file")
    ap.add_argument(
        "--fix-only",
        action="store_true",
        help="only check --no-cache against fix, on the corpora and a generated 40,000-line file",
    )
    ap.add_argument(
        "--parallel", action="store_true", help="only check --no-cache -j1 against -j2 on --project: CPU and wall time"
    )
    ap.add_argument(
        "--attribute",
        action="store_true",
        help="with --parallel: one instrumented -j1 and -j2 run, the CPU of each project-wide step",
    )
    ap.add_argument(
        "--editor",
        action="store_true",
        help="only the editor case on --project: an edited buffer on stdin, flake8 +TRP against flake8 alone",
    )
    ap.add_argument(
        "--editor-file",
        action="append",
        metavar="REL",
        help="--editor: lint this file of the project (repeatable) instead of its 5 largest that mention torch",
    )
    ap.add_argument(
        "--edit",
        default="comment",
        help="--editor: the edits to measure, comma-separated: comment (appended), code (a statement added "
        "in the first function of 10+ lines), largest (one added in the longest function), largest-call (a "
        "quiet call added there), largest-walked (a call the walk must read added there); default: comment",
    )
    ap.add_argument(
        "--project",
        action="append",
        metavar="PATH",
        help="project folder for --parallel/--editor (repeatable; default: the pip corpus); never written",
    )
    args = ap.parse_args(argv)
    runs = args.runs or (1 if args.quick else 3)
    stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    info = machine_info()
    if args.parallel or args.editor:
        return _main_parallel_editor(args, runs, stamp, info)

    if args.sweep:
        s = sweep()
        text = fmt_sweep(s)
        print(text)
        if args.record:
            _record(f"## {stamp} — sweep\n\n{info}\n\n{text}\n")
        if args.json:
            args.json.write_text(json.dumps(s, indent=1))
        return 0 if s["trp900"] == 0 and s["tracebacks"] == 0 and not s["unexplained_errors"] else 1

    names = list(CORPORA) if args.all else (args.corpus or list(DEFAULT_CORPORA))
    if args.fix_only:
        return _main_fix_only(args, names, runs, stamp, info)
    roots = {}
    for name in names:
        if name == "torch-sample":
            roots[name] = build_torch_corpus(name, SAMPLE_SIZE)
        elif name == "torch-all":
            roots[name] = build_torch_corpus(name, None)
        else:
            try:
                roots[name] = build_pip_corpus() if name == "pip" else build_examples_corpus()
            except RuntimeError as exc:
                log(f"{name} corpus unavailable, skipped: {exc}")
    flake8_bin = ensure_venv("flake8", flake8_pins(), "flake8")
    if flake8_bin is not None:
        version = subprocess.run([str(flake8_bin / "flake8"), "--version"], capture_output=True, text=True).stdout
        if "torchlint" in version:
            log("bench/.venvs/flake8 sees torchlint-repro: not a baseline, skipped")
            flake8_bin = None
    torchfix_bin = None
    if not args.no_torchfix:
        torchfix_bin = ensure_venv("torchfix", [TORCHFIX, *flake8_pins()], "torchfix")
    results = []
    t0 = time.perf_counter()
    for name, root in roots.items():
        results.append(measure_corpus(name, root, runs, flake8_bin, torchfix_bin))
    table = fmt_table(results, runs)
    notes = [
        f"Runs: median of {runs}; every command a fresh process on one core (-j1), python start-up included; "
        f"bench took {time.perf_counter() - t0:.0f}s.",
        "flake8 +TorchFix is measured once (the first run), not a median.",
        "flake8 alone: bench/.venvs/flake8 (same flake8/pycodestyle/pyflakes/mccabe, no torchlint-repro); "
        "flake8 +TRP: the project venv, cold = fresh TORCHLINT_CACHE_DIR; TorchFix: bench/.venvs/torchfix"
        + ("" if torchfix_bin else " (not measured: --no-torchfix)" if args.no_torchfix else " (unavailable: skipped)")
        + ".",
        "plugin added = flake8 +TRP (cold) - flake8 alone; budgets report, they do not gate.",
        "(*) an explicit `--select TRP` also turns on the off-by-default TRP102/TRP204 (flake8's rule: an explicit "
        "select beats the plugin's extended default ignore), as `check --select TRP` does.",
    ]
    print(info)
    print()
    print(table)
    print()
    print("\n".join(notes))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    if args.record:
        _record(f"## {stamp} — benchmark\n\n{info}\n\n{table}\n\n" + "\n".join(f"- {n}" for n in notes) + "\n")
    return 0


def _main_fix_only(args, names: list[str], runs: int, stamp: str, info: str) -> int:
    t0 = time.perf_counter()
    results = []
    scratch = Path(tempfile.mkdtemp(prefix="bench-bigfile-"))
    try:
        results.append(measure_fix_only("big-file (40,000 lines, 1 fix)", big_fix_file(scratch / "big"), runs))
        for name in names:
            try:
                if name == "torch-sample":
                    root = build_torch_corpus(name, SAMPLE_SIZE)
                elif name == "torch-all":
                    root = build_torch_corpus(name, None)
                elif name == "pip":
                    root = build_pip_corpus()
                else:
                    root = build_examples_corpus()
            except RuntimeError as exc:
                log(f"{name} corpus unavailable, skipped: {exc}")
                continue
            results.append(measure_fix_only(name, root, runs))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    table = fmt_fix_table(results, runs)
    note = (
        f"Every command a fresh process on one core (`check -j1 --no-cache`; fix is one process and never uses "
        f"the cache), python start-up included; fix runs on a fresh copy of the corpus; bench took "
        f"{time.perf_counter() - t0:.0f}s."
    )
    print(info)
    print()
    print(table)
    print()
    print(note)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    if args.record:
        _record(f"## {stamp} — fix against check\n\n{info}\n\n{table}\n\n- {note}\n")
    return 0


def _record(section: str) -> None:
    head = "# torchlint-repro benchmark results\n\nAppended by `python bench/run.py --record` (see bench/run.py).\n\n"
    old = RESULTS.read_text() if RESULTS.exists() else head
    RESULTS.write_text(old.rstrip("\n") + "\n\n" + section)
    log(f"recorded in {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    sys.exit(main())
