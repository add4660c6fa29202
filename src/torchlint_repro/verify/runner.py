"""Find fixtures, run each in fresh processes under the harness, lint it, and combine both verdicts.

Nothing outside the given paths is executed: only ``bad_*.py`` / ``good_*.py`` files under a
``TRPnnn`` folder, and for a project fixture (``bad_<case>/``) only the scripts its ``RUN`` file lists,
each of which must lie inside the fixture folder. ``cases_*`` files are static-only and never run.
Every run happens in a fresh temporary copy of the fixture (the working directory), so checkpoints
land there and are removed with it.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..rules import RULES_BY_CODE
from ..rules.base import Expect, Rule
from .criteria import CRITERIA, Finding, judge

HARNESS = Path(__file__).with_name("harness.py")
CODE_DIR = re.compile(r"^TRP\d{3}$")
DEFAULT_TIMEOUT = 60.0
ORIGIN_MARK = "origin"  # fixtures whose name contains this are the seed document's scenarios

# A clean, CPU-only, offline, single-threaded environment for the observed programs.
RUN_ENV = {
    "CUDA_VISIBLE_DEVICES": "",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONUNBUFFERED": "1",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "WANDB_MODE": "disabled",
    "MPLBACKEND": "Agg",
}


class FixtureError(ValueError):
    """A path that is not a runnable fixture (bad RUN file, unknown rule folder ...)."""


# --------------------------------------------------------------------------- fixtures
@dataclass
class Fixture:
    path: Path  # the file, or the project folder
    code: str  # the rule folder's code, e.g. TRP201
    label: str  # "bad" or "good"
    case: str
    scripts: list[str]  # what to run, relative to the folder (a single file: its name)
    is_dir: bool = False
    requires: tuple[str, ...] = ()  # what its files import beyond torch and the standard library
    fixed: bool = False  # a bad fixture with its fixes applied (verify --fixed), judged as a good twin

    @property
    def expect(self) -> Expect | None:
        """The runtime contrast it is judged by: the rule's, or for a fixed copy the rule's fixed_verify."""
        rule = self.rule
        if rule is None:
            return None
        return rule.fixed_verify if self.fixed and rule.fixed_verify is not None else rule.verify

    def missing(self) -> list[str]:
        """The modules it ``requires`` that this interpreter cannot import: the fixture is skipped."""
        return [m for m in self.requires if not module_available(m)]

    @property
    def name(self) -> str:
        return self.path.name + ("/" if self.is_dir else "")

    @property
    def origin(self) -> bool:
        return ORIGIN_MARK in self.case

    @property
    def rule(self) -> Rule | None:
        return RULES_BY_CODE.get(self.code)


def read_run_file(folder: Path) -> list[str]:
    """The scripts a project fixture runs, in order; each must be a .py file inside ``folder``."""
    run = folder / "RUN"
    if not run.is_file():
        raise FixtureError(f"{folder}: a project fixture needs a RUN file listing the scripts to run")
    scripts = []
    base = folder.resolve()
    for raw in run.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        rel = Path(line)
        target = (base / rel).resolve()
        if rel.is_absolute() or base not in target.parents or target.suffix != ".py" or not target.is_file():
            raise FixtureError(f"{run}: {line!r} is not a .py file inside the fixture folder")
        scripts.append(rel.as_posix())
    if not scripts:
        raise FixtureError(f"{run}: lists no script")
    return scripts


_REQUIRES = re.compile(r"^#\s*requires:\s*(?P<names>.*)$")
_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$")


def read_requires(path: Path) -> tuple[str, ...]:
    """The modules a fixture file declares in ``# requires: numpy, transformers`` comments (anywhere in
    the file, typically beside the import): what it imports beyond torch and the standard library."""
    import io
    import tokenize

    names: list[str] = []
    try:
        text = path.read_text(encoding="utf-8")
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type != tokenize.COMMENT:
                continue
            m = _REQUIRES.match(tok.string)
            if m is None:
                continue
            for name in re.split(r"[,\s]+", m.group("names").strip()):
                if not _MODULE.match(name):
                    raise FixtureError(f"{path}:{tok.start[0]}: {name!r} in `# requires:` is not a module name")
                names.append(name)
    except (OSError, UnicodeDecodeError, tokenize.TokenError, SyntaxError) as exc:
        raise FixtureError(f"{path}: cannot read its `# requires:` lines: {exc}") from exc
    return tuple(dict.fromkeys(names))


def module_available(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _fixture(path: Path) -> Fixture:
    code = path.parent.name
    if not CODE_DIR.match(code):
        raise FixtureError(f"{path}: a fixture must live in a rule folder named like TRP201")
    if code not in RULES_BY_CODE:
        raise FixtureError(f"{path}: {code} is not a known rule")
    label, _, case = path.name.partition("_")
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.py") if "__pycache__" not in p.parts)
        requires = tuple(dict.fromkeys(m for f in files for m in read_requires(f)))
        return Fixture(path, code, label, case, read_run_file(path), is_dir=True, requires=requires)
    return Fixture(path, code, label, case.removesuffix(".py"), [path.name], requires=read_requires(path))


def _is_fixture_name(p: Path) -> bool:
    return p.name.startswith(("bad_", "good_")) and (p.is_dir() or p.suffix == ".py")


@dataclass
class Discovery:
    fixtures: list[Fixture] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # paths that could not be used
    skipped: list[str] = field(default_factory=list)  # static-only files named explicitly
    full_roots: list[Path] = field(default_factory=list)  # fixture roots scanned whole: coverage applies


def discover(paths: list[str | Path]) -> Discovery:
    """Fixtures under ``paths``: a fixtures root, a rule folder, or single fixtures (files or folders)."""
    found = Discovery()
    seen: set[Path] = set()

    def add(p: Path) -> None:
        rp = p.resolve()
        if rp in seen:
            return
        seen.add(rp)
        try:
            found.fixtures.append(_fixture(p))
        except FixtureError as exc:
            found.errors.append(str(exc))

    def scan_rule_dir(d: Path) -> None:
        for entry in sorted(d.iterdir()):
            if _is_fixture_name(entry):
                add(entry)

    for raw in paths:
        p = Path(raw)
        if not p.exists():
            found.errors.append(f"{p}: no such file or directory")
        elif p.is_file():
            if p.name.startswith("cases_"):
                found.skipped.append(f"{p}: static-only cases file, not run")
            elif _is_fixture_name(p):
                add(p)
            else:
                found.errors.append(f"{p}: not a fixture (the name must start with bad_ or good_)")
        elif _is_fixture_name(p):
            add(p)
        elif CODE_DIR.match(p.name):
            scan_rule_dir(p)
        else:
            rule_dirs = sorted(d for d in p.iterdir() if d.is_dir() and CODE_DIR.match(d.name))
            if not rule_dirs:
                found.errors.append(f"{p}: no rule folders (TRPnnn/) with fixtures in it")
            for d in rule_dirs:
                scan_rule_dir(d)
            if rule_dirs:
                found.full_roots.append(p)
    found.fixtures.sort(key=_order)
    return found


def default_fixtures_dir() -> Path | None:
    """The fixtures shipped with the package (``torchlint_repro/data/fixtures`` of an installed wheel,
    ``fixtures/`` of a source checkout), whatever the current folder."""
    from ..resources import fixtures_dir

    return fixtures_dir()


# --------------------------------------------------------------------------- running
@dataclass
class RunResult:
    docs: list[dict] = field(default_factory=list)  # one observation document per script
    error: str | None = None  # timed out, crashed, no observations
    seconds: float = 0.0
    output_tail: str = ""


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except (ValueError, AttributeError):
        return str(-code)


class Zygote:
    """A fork server (``harness.py --zygote``) that has imported torch once: each run is a fork of it.

    Importing torch costs a second or two per interpreter; a fork costs milliseconds. The child is a
    new process in its own session, with its own working directory, environment and log, and the
    generators a new interpreter would seed from the OS are reseeded (see ``harness.zygote_main``).
    """

    def __init__(self, python: str | None = None, env: dict | None = None) -> None:
        self.proc = subprocess.Popen(
            [python or sys.executable, str(HARNESS), "--zygote"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=tempfile.gettempdir(),
            start_new_session=True,
        )
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}
        self._ids = itertools.count()
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._ready.wait(180) or self.proc.poll() is not None or self._reader_done():
            self.close()
            raise RuntimeError("the verifier's fork server did not start")

    def _reader_done(self) -> bool:
        self._reader.join(0.05)
        return not self._reader.is_alive()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            parts = raw.decode("utf-8", "replace").split()
            if parts == ["ready"]:
                self._ready.set()
            elif len(parts) == 3 and parts[0] in ("started", "done"):
                with self._lock:
                    job = self._jobs.get(parts[1])
                if job is None:
                    continue
                if parts[0] == "started":
                    job.pid = int(parts[2])
                    job.started.set()
                else:
                    job.code = int(parts[2])
                    job.started.set()
                    job.done.set()
        self._ready.set()  # (if it never said "ready", the constructor sees it has exited)
        with self._lock:  # the server is gone: nothing more will finish
            for job in self._jobs.values():
                job.lost = True
                job.started.set()
                job.done.set()

    def spawn(self, argv: list[str], cwd: Path, env: dict, log: Path) -> _Job:
        job = _Job()
        with self._lock:
            rid = str(next(self._ids))
            self._jobs[rid] = job
            line = json.dumps({"id": rid, "argv": argv, "cwd": str(cwd), "env": env, "log": str(log)}) + "\n"
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(line.encode())
                self.proc.stdin.flush()
            except (OSError, ValueError):
                job.lost = True
                job.started.set()
                job.done.set()
        return job

    def close(self) -> None:
        try:
            if self.proc.stdin:
                self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            _kill_group(self.proc)
            self.proc.wait()


@dataclass
class _Job:
    pid: int | None = None
    code: int | None = None
    lost: bool = False
    started: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)


def _run_one(
    cmd_argv: list[str], workdir: Path, env: dict, log: Path, timeout: float, python: str, zygote: Zygote | None
) -> tuple[int | None, bool]:
    """Run one harness invocation; (exit code or None, timed out?)."""
    if zygote is None:
        with open(log, "wb") as fh:
            proc = subprocess.Popen(
                [python, str(HARNESS), *cmd_argv],
                cwd=workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                proc.wait(timeout=timeout)
                return proc.returncode, False
            except subprocess.TimeoutExpired:
                return None, True
            finally:
                _kill_group(proc)  # a timeout, or whatever the program left running
                proc.wait()
    job = zygote.spawn(cmd_argv, workdir, env, log)
    finished = job.done.wait(timeout)
    if job.pid is not None:
        try:
            os.killpg(job.pid, signal.SIGKILL)  # the group: a timeout, or whatever the program left running
        except (ProcessLookupError, PermissionError, OSError):
            pass
    if not finished:
        job.done.wait(10)
        return None, True
    return (None if job.lost else job.code), False


def run_scripts(
    workdir: Path,
    scripts: list[str],
    obsdir: Path,
    timeout: float,
    python: str | None = None,
    script_args: list[str] | None = None,
    zygote: Zygote | None = None,
) -> RunResult:
    """Run ``scripts`` one after another in ``workdir``, each in a fresh process under the harness.

    A script that raised ends the run (later scripts depend on it). A timeout kills the whole
    process group; a crash of the interpreter is reported, never raised.
    """
    python = python or sys.executable
    env = run_env()
    result = RunResult()
    start = time.monotonic()
    deadline = start + timeout
    probe_dir = obsdir / "probes"
    for i, script in enumerate(scripts):
        out = obsdir / f"{i}.json"
        log = obsdir / f"{i}.log"
        argv = [
            "--out",
            str(out),
            "--root",
            str(workdir),
            "--probe-dir",
            str(probe_dir),
            str(workdir / script),
            *(script_args or []),
        ]
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            result.error = f"timed out after {timeout:g}s before {script}"
            break
        code, timed_out = _run_one(argv, workdir, env, log, remaining, python, zygote)
        result.output_tail = _tail(log)
        if timed_out:
            result.error = f"timed out after {timeout:g}s in {script}"
            break
        if code == 0 and not out.is_file():
            result.error = f"{script} left without observations (os._exit?)"
            break
        if code != 0 or not out.is_file():
            how = (
                "lost (the fork server died)"
                if code is None
                else f"killed by {_signal_name(code)}"
                if code < 0
                else f"exit status {code}"
            )
            result.error = f"the interpreter crashed in {script} ({how}); no observations"
            break
        try:
            doc = json.loads(out.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            result.error = f"unreadable observations for {script}: {exc}"
            break
        result.docs.append(doc)
        if doc.get("exception"):
            break
    result.seconds = time.monotonic() - start
    return result


def run_env() -> dict:
    env = {**os.environ, **RUN_ENV}
    env.pop("PYTHONSTARTUP", None)
    return env


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass


def _tail(log: Path, n: int = 1500) -> str:
    try:
        with open(log, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - n))
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def run_fixture_once(fx: Fixture, timeout: float, python: str | None = None, zygote: Zygote | None = None) -> RunResult:
    """One fresh run: copy the fixture to a new temporary directory and run its scripts there.

    A run forked from the torch-preloaded server that times out is run once more in a new interpreter:
    a fork can deadlock where a new process does not (a lock one of the server's threads held when it
    forked; seen on CI under load, a one-process gloo DDP fixture hanging past the timeout). The result
    says so in its output; a new interpreter that times out too is the fixture's answer."""
    result = _run_copy(fx, timeout, python, zygote)
    if zygote is None or not (result.error or "").startswith("timed out"):
        return result
    again = _run_copy(fx, timeout, python, None)
    again.seconds += result.seconds
    note = f"(forked from the torch-preloaded server it {result.error}; run again in a new interpreter)"
    again.output_tail = f"{note}\n{again.output_tail}"
    return again


def _run_copy(fx: Fixture, timeout: float, python: str | None, zygote: Zygote | None) -> RunResult:
    """Copy the fixture to a new temporary directory and run its scripts there."""
    tmp = Path(tempfile.mkdtemp(prefix="trp-verify-"))
    try:
        work = tmp / "work"
        obsdir = tmp / "obs"
        obsdir.mkdir()
        if fx.is_dir:
            shutil.copytree(fx.path, work, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            work.mkdir()
            shutil.copy2(fx.path, work / fx.path.name)
        return run_scripts(work, fx.scripts, obsdir, timeout, python, zygote=zygote)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------- static side
@dataclass
class StaticResult:
    diagnostics: list[tuple[str, int, int, str, str]] = field(default_factory=list)  # file, line, col, code, msg
    error: str | None = None

    def of(self, code: str) -> list[tuple[str, int, int, str, str]]:
        return [d for d in self.diagnostics if d[3] == code]


_OPTIONS = re.compile(r"#\s*options:\s*(?P<opts>.+)$")


def file_options(path: Path) -> dict:
    """``# options: key=a,b; key2=c`` on line 1, as a ``[tool.torchlint-repro]`` mapping."""
    try:
        with open(path, encoding="utf-8") as fh:
            first = fh.readline()
    except OSError:
        return {}
    m = _OPTIONS.search(first)
    if not m:
        return {}
    opts = {}
    for part in m.group("opts").split(";"):
        key, _, value = part.strip().partition("=")
        if key.strip():
            opts[key.strip()] = [v.strip() for v in value.split(",") if v.strip()]
    return opts


def _settings_for(path: Path, project: Path | None):
    from dataclasses import replace

    from ..config import Settings, load_settings, settings_from_mapping

    base = Settings()
    if project is not None and (project / "pyproject.toml").is_file():
        base = load_settings(project, str(project / "pyproject.toml"))
    opts = file_options(path)
    if opts:
        extra = settings_from_mapping(opts, f"{path.name} line 1")
        base = replace(
            base,
            seed_functions=extra.seed_functions or base.seed_functions,
            inference_functions=extra.inference_functions
            if "inference-functions" in opts
            else base.inference_functions,
        )
    return replace(base, select=("TRP",), ignore=(), extend_select=(), cache=False)


def _reset_projects() -> None:
    try:
        from ..analysis.project import reset_projects
    except ImportError:  # pragma: no cover
        return
    reset_projects()


def lint_fixture(fx: Fixture, reset: bool = True) -> StaticResult:
    """The linter's diagnostics for every file of the fixture (all TRP rules selected)."""
    from ..engine import SourceError, lint_file

    res = StaticResult()
    if reset:
        _reset_projects()
    # linted as a project of its own, in a copy (as it runs): no other fixture's checkpoints or
    # modules take part in its analysis
    tmp = Path(tempfile.mkdtemp(prefix="trp-lint-"))
    try:
        if fx.is_dir:
            work = tmp / fx.path.name
            shutil.copytree(fx.path, work, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            files = sorted(p for p in work.rglob("*.py") if "__pycache__" not in p.parts)
            project = work
        else:
            work = tmp / fx.path.stem
            work.mkdir()
            (work / "pyproject.toml").write_text("", encoding="utf-8")
            shutil.copy2(fx.path, work / fx.path.name)
            files, project = [work / fx.path.name], None
        for f in files:
            rel = f.relative_to(work).as_posix()
            try:
                for d in lint_file(f, _settings_for(f, project)):
                    res.diagnostics.append((rel, d.line, d.col, d.code, d.message))
            except SourceError as exc:
                res.error = f"{rel}: {exc}"
            except Exception as exc:  # noqa: BLE001 - report, never crash the verifier
                res.error = f"{rel}: {type(exc).__name__}: {exc}"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    internal = [d for d in res.diagnostics if d[3] == "TRP900"]
    if internal and res.error is None:
        res.error = f"internal error: {internal[0][4]}"
    return res


# --------------------------------------------------------------------------- fixed copies
@dataclass
class FixedCopies:
    """``verify --fixed``: the bad fixtures with every fix applied, to run as if they were good."""

    fixtures: list[Fixture] = field(default_factory=list)  # the fixed copies, labelled good
    unfixable: list[Fixture] = field(default_factory=list)  # no finding of the rule offers a fix
    unfixed: list[tuple[Fixture, str]] = field(default_factory=list)  # offered a fix, none applied


def fixed_copies(fixtures: list[Fixture], root: Path) -> FixedCopies:
    """Copy every bad fixture of a rule with a fix under ``root`` and apply all fixes to it, unsafe ones
    included (as ``fix --unsafe-fixes`` would, file by file, with the settings the fixture is linted
    with). The copy keeps the fixture's name and scripts and is labelled good: the verifier then asks
    of it what it asks of a good twin, that torch shows no hazard and the linter says nothing."""
    from ..fixes import fix_source
    from ..pipeline import lint_document

    out = FixedCopies()
    for fx in fixtures:
        if fx.label != "bad" or fx.rule is None or not fx.rule.fix:
            continue
        if fx.is_dir:
            work = root / fx.code / fx.path.name
            shutil.copytree(fx.path, work, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            files, project, path = sorted(p for p in work.rglob("*.py") if "__pycache__" not in p.parts), work, work
        else:
            work = root / fx.code / fx.path.stem
            work.mkdir(parents=True)
            (work / "pyproject.toml").write_text("", encoding="utf-8")
            path = work / fx.path.name
            shutil.copy2(fx.path, path)
            files, project = [path], None
        offered = fixed = 0
        for f in files:
            _reset_projects()  # each file is fixed against the fixture as it is now
            settings = _settings_for(f, project)
            result = lint_document(str(f), settings, keep_source=True, result_cache=False)
            if result.error is not None or result.source is None:
                continue
            mine = [d for d in result.diagnostics if d.code == fx.code]
            offered += sum(d.fix is not None for d in mine)
            new, plan = fix_source(result.source, result.diagnostics, unsafe=True, seed=settings.fix_seed)
            fixed += sum(d.code == fx.code for d in plan.fixed)
            if new != result.source:
                f.write_text(new, encoding="utf-8")
        if not offered:
            out.unfixable.append(fx)
        elif not fixed:
            out.unfixed.append((fx, "its findings offer a fix, but none could be applied"))
        else:
            out.fixtures.append(Fixture(path, fx.code, "good", fx.case, fx.scripts, fx.is_dir, fx.requires, fixed=True))
    _reset_projects()
    return out


# --------------------------------------------------------------------------- verdicts
@dataclass
class FixtureReport:
    fixture: Fixture
    static: StaticResult
    runs: list[RunResult]
    finding: Finding
    static_ok: bool
    runtime_ok: bool
    reasons: list[str]
    needs: list[str] = field(default_factory=list)  # missing requirements: skipped, neither run nor linted

    @property
    def verdict(self) -> str:
        if self.needs:
            return "skipped"
        if any(r.error for r in self.runs):
            return "error"
        return "confirmed" if self.static_ok and self.runtime_ok else "disagrees"

    @property
    def seconds(self) -> float:
        return sum(r.seconds for r in self.runs)


def static_verdict(fx: Fixture, static: StaticResult) -> tuple[bool, str | None]:
    """Bad fixtures need at least one diagnostic of the folder's rule; good ones none of it."""
    if static.error:
        return False, f"static: {static.error}"
    mine = static.of(fx.code)
    if fx.label == "bad" and not mine:
        return False, f"static: linter reported nothing for {fx.code}"
    if fx.label == "good" and mine:
        f, line, col, _, _ = mine[0]
        return False, f"static: linter reported {fx.code} at {f}:{line}:{col + 1} on a good fixture"
    return True, None


def runtime_verdict(fx: Fixture, runs: list[RunResult]) -> tuple[Finding, bool, str | None]:
    rule = fx.rule
    errors = [r.error for r in runs if r.error]
    if errors:
        return Finding(None, errors[0]), False, f"runtime: {errors[0]}"
    crit = CRITERIA.get(fx.expect) if rule and fx.expect is not None else None
    finding = judge(fx.expect, [r.docs for r in runs]) if rule else Finding(None, "unknown rule")
    if crit is None:
        return finding, False, f"runtime: {fx.code} is not runtime-verifiable"
    want = fx.label == "bad"
    if finding.misbehaves is want:
        return finding, True, None
    expected = crit.bad if want else crit.good
    return finding, False, f"runtime: {finding.summary}; expected {expected}"


def combine(fx: Fixture, static: StaticResult, runs: list[RunResult]) -> FixtureReport:
    s_ok, s_reason = static_verdict(fx, static)
    finding, r_ok, r_reason = runtime_verdict(fx, runs)
    reasons = [r for r in (r_reason, s_reason) if r]
    return FixtureReport(fx, static, runs, finding, s_ok, r_ok, reasons)


def runs_needed(fx: Fixture) -> int:
    crit = CRITERIA.get(fx.expect) if fx.rule and fx.expect is not None else None
    return crit.runs if crit else 0


def verify_fixtures(
    fixtures: list[Fixture],
    jobs: int = 1,
    timeout: float = DEFAULT_TIMEOUT,
    python: str | None = None,
    lint: bool = True,
    progress=None,
    fork: bool | None = None,
) -> list[FixtureReport]:
    """Run every fixture (``runs_needed`` fresh runs each, ``jobs`` at a time) and lint it.

    With ``fork`` (the default where ``os.fork`` exists) runs are forked from torch-preloaded
    servers, one per run index; without it each run starts a new interpreter.
    """
    if fork is None:
        fork = hasattr(os, "fork")
    given = list(fixtures)
    needs = {id(fx): fx.missing() for fx in given}
    skipped = [fx for fx in given if needs[id(fx)]]
    fixtures = [fx for fx in given if not needs[id(fx)]]
    units = [(fx, i) for fx in fixtures for i in range(runs_needed(fx))]
    # the slowest first: project fixtures and two-run fixtures
    units.sort(key=lambda u: (-len(u[0].scripts), -runs_needed(u[0])))
    results: dict[int, list[RunResult]] = {id(fx): [] for fx in fixtures}
    statics: dict[int, StaticResult] = {}
    zygotes: dict[int, Zygote] = {}
    try:
        if fork and units:
            env = run_env()
            for i in sorted({i for _, i in units}):
                try:
                    zygotes[i] = Zygote(python, env)
                except (OSError, RuntimeError):
                    break
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = [(fx, pool.submit(run_fixture_once, fx, timeout, python, zygotes.get(i))) for fx, i in units]
            if lint:
                _reset_projects()  # once: files do not change during a run
                for fx in fixtures:  # lint while the programs run
                    statics[id(fx)] = lint_fixture(fx, reset=False)
            for fx, fut in futures:
                results[id(fx)].append(fut.result())
                if progress is not None:
                    progress(fx)
    finally:
        for z in zygotes.values():
            z.close()
    reports = {id(fx): combine(fx, statics.get(id(fx), StaticResult()), results[id(fx)]) for fx in fixtures}
    for fx in skipped:
        reports[id(fx)] = FixtureReport(
            fx, StaticResult(), [], Finding(None, f"needs {', '.join(needs[id(fx)])}"), False, False, [], needs[id(fx)]
        )
    return [reports[id(fx)] for fx in given]


def _order(fx: Fixture) -> tuple:
    return fx.code, fx.case, fx.label != "bad", fx.path.name


def coverage_gaps(fixtures: list[Fixture], codes: list[str] | None = None) -> dict[str, list[str]]:
    """Runtime-verifiable rules (all but Expect.NONE, i.e. TRP9xx) lacking a bad or a good fixture."""
    from ..rules import ALL_RULES

    gaps: dict[str, list[str]] = {}
    for rule in ALL_RULES:
        if rule.verify is Expect.NONE or (codes is not None and rule.code not in codes):
            continue
        labels = {fx.label for fx in fixtures if fx.code == rule.code}
        missing = [lab for lab in ("bad", "good") if lab not in labels]
        if missing:
            gaps[rule.code] = missing
    return gaps
