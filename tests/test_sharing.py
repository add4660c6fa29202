"""Work shared between processes: a program's walk, a file's checkpoint saves and a module's facts are
computed once and read by every other worker of a parallel run (and by later runs) from the cache,
with claims so that two workers never compute the same entry at the same time, and a private scratch
cache for a parallel run made with ``--no-cache``."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from torchlint_repro.analysis import context as C
from torchlint_repro.analysis import program
from torchlint_repro.analysis import project as P
from torchlint_repro.analysis.cache import RUN_ENV_VAR, DiskCache, decode_value, encode_value
from torchlint_repro.analysis.project import project_for, reset_projects
from torchlint_repro.analysis.tracker import collect_saves
from torchlint_repro.config import Settings
from torchlint_repro.engine import lint_file, lint_source
from torchlint_repro.runner import lint_files

KEY = bytes(range(32))


# ------------------------------------------------------------------------------ tagged values
def test_tagged_values_come_back_with_their_types():
    value = {
        ("a", 1): [(1, 2.5), {"x": None}, frozenset({("p", 3)})],
        "s": {True, "t"},
        "t": ((), [], {}),
    }
    back = decode_value(encode_value(value))
    assert back == value
    assert type(back[("a", 1)][0]) is tuple and type(back["s"]) is set
    assert type(back[("a", 1)][2]) is frozenset and type(back["t"][1]) is list
    # the written text does not depend on set order
    assert encode_value({"b", "a", "c"}) == {"s": ["a", "b", "c"]}


@pytest.mark.parametrize(
    "data",
    [
        {"x": []},  # an unknown tag
        {"t": 1},  # a tag without a list
        {"t": [], "l": []},  # two tags
        [1, 2],  # a bare JSON list: never written
        {"d": [[{"l": []}, 1]]},  # an unhashable key
        {"d": [[1]]},  # a pair of one
        {"s": [{"l": []}]},  # an unhashable member
    ],
)
def test_a_value_of_another_shape_is_refused(data):
    with pytest.raises(ValueError):
        decode_value(data)


def test_what_cannot_be_cached_says_so():
    with pytest.raises(TypeError):
        encode_value({"a": object()})


# ------------------------------------------------------------------------------ claims
def test_a_claim_is_held_until_released(tmp_path):
    cache = DiskCache(tmp_path, KEY)
    assert cache.claim("walks", "k") is True
    assert cache.claimed("walks", "k")
    assert cache.claim("walks", "k") is False  # held (by this live process)
    assert cache.claim("walks", "other") is True
    cache.release("walks", "k")
    assert not cache.claimed("walks", "k")
    assert cache.claim("walks", "k") is True


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


@pytest.mark.skipif(os.name == "nt", reason="no claims on Windows")
@pytest.mark.parametrize("content", ["dead", b"not a pid", b"-3", b""])
def test_a_dead_or_unreadable_claim_is_taken_over(tmp_path, content):
    cache = DiskCache(tmp_path, KEY)
    assert cache.claim("walks", "k")
    claim = cache._claim_path("walks", "k")
    claim.write_bytes(str(_dead_pid()).encode() if content == "dead" else content)
    if content == b"":  # an empty claim is one being written: left so for 10 s, its worker died
        old = time.time() - 10
        os.utime(claim, (old, old))
    assert not cache.claimed("walks", "k")
    assert cache.claim("walks", "k") is True
    assert claim.read_bytes() == str(os.getpid()).encode()


@pytest.mark.skipif(os.name == "nt", reason="no claims on Windows")
def test_a_claim_whose_pid_is_not_written_yet_is_held(tmp_path):
    """claim() creates the file, then writes its pid: another worker that finds it empty in between
    waits, instead of taking it over and building the same entry too (the race that made two workers
    build the word index once in a while)."""
    cache = DiskCache(tmp_path, KEY)
    assert cache.claim("walks", "k")
    cache._claim_path("walks", "k").write_bytes(b"")
    assert cache.claimed("walks", "k")
    assert cache.claim("walks", "k") is False


def test_a_key_another_process_made_after_the_read_is_kept(tmp_path, monkeypatch):
    """The workers of a first run (a fresh user cache folder) all find no signing key. One whose read came
    before another worker made the key must take that key, not delete it and make its own: else each signs
    with its own key, takes the other's entries for misses and computes them again (the race that made two
    workers build the word index once in a while)."""
    from torchlint_repro.analysis import cache as cache_module

    path = tmp_path / "key"
    theirs = cache_module._load_or_create_key(path)
    assert theirs is not None
    real = cache_module._read_key
    reads: list[Path] = []

    def read_before_theirs_was_made(p):
        reads.append(p)
        return None if len(reads) == 1 else real(p)

    monkeypatch.setattr(cache_module, "_read_key", read_before_theirs_was_made)
    assert cache_module._load_or_create_key(path) == theirs
    assert real(path) == theirs  # still the key the other worker signs with


def test_waiting_ends_with_the_entry_or_with_the_claim(tmp_path):
    cache = DiskCache(tmp_path, KEY)
    # nobody computing it: no wait at all
    start = time.monotonic()
    assert cache.wait_for("saves", "k", timeout=5) is None
    assert time.monotonic() - start < 1
    # another thread writes it while this one waits
    assert cache.claim("saves", "k")
    value = {"sites": [], "deps": {}}

    def write():
        time.sleep(0.1)
        cache.put_json("saves", "k", value)
        cache.release("saves", "k")

    t = threading.Thread(target=write)
    t.start()
    assert cache.wait_for("saves", "k", timeout=20) == value
    t.join()
    # a claim that never ends: the wait is bounded
    assert cache.claim("saves", "never")
    start = time.monotonic()
    assert cache.wait_for("saves", "never", timeout=0.2) is None
    assert 0.2 <= time.monotonic() - start < 5


# ------------------------------------------------------------------------------ programs' walks
HELPER = """\
import torch


def evaluate_{n}(model, x):
    {eval_call}with torch.no_grad():
        return model(x)
"""
TRAIN = """\
import torch
from torch import nn

from helper_a import evaluate_a
from helper_b import evaluate_b

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
x = torch.ones(2, 4)
print(evaluate_a(model, x), evaluate_b(model, x))
"""
# helper_?.py:6 `        return model(x)`: the forward reached from train.py with the model in training mode
FOUND = [(6, 15, "TRP201")]


@pytest.fixture()
def walks_project(tmp_path, monkeypatch):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text("[tool.torchlint-repro]\n")
    for n in "ab":
        (root / f"helper_{n}.py").write_text(HELPER.format(n=n, eval_call=""))
    (root / "train.py").write_text(TRAIN)
    monkeypatch.setenv("TORCHLINT_CACHE_DIR", str(tmp_path / "cache"))
    reset_projects()
    yield root
    reset_projects()


def _found(path: Path, source: str | None = None, settings: Settings | None = None) -> list[tuple[int, int, str]]:
    settings = settings or Settings()
    if source is None:
        diags = lint_file(path, settings)
    else:
        diags = lint_source(source, str(path), settings)
    return [(d.line, d.col, d.code) for d in diags]


def _no_walks(monkeypatch) -> list[str]:
    walked: list[str] = []
    real = program._walk_program

    def counting(project, path, settings):
        walked.append(Path(path).name)
        return real(project, path, settings)

    monkeypatch.setattr(program, "_walk_program", counting)
    return walked


def test_a_programs_walk_is_read_back_by_another_process(walks_project, monkeypatch):
    walked = _no_walks(monkeypatch)
    assert _found(walks_project / "helper_a.py") == FOUND
    assert walked == ["train.py"]
    reset_projects()  # a new process: nothing in memory, the cache folder as it was left
    assert _found(walks_project / "helper_b.py") == FOUND
    assert walked == ["train.py"]  # train.py's program was not walked again


def test_a_walk_is_not_read_once_a_file_it_read_changed(walks_project, monkeypatch):
    walked = _no_walks(monkeypatch)
    assert _found(walks_project / "helper_a.py") == FOUND
    (walks_project / "helper_b.py").write_text(HELPER.format(n="b", eval_call="model.eval()\n    "))
    reset_projects()
    assert _found(walks_project / "helper_b.py") == []
    assert walked == ["train.py", "train.py"]


def test_an_editors_buffer_is_what_the_walk_must_have_read(walks_project, monkeypatch):
    """The walk stored from the files on disk read helper_b.py as saved; an editor's unsaved buffer of
    helper_b.py (stdin) differs, so the walk is done again with the buffer."""
    walked = _no_walks(monkeypatch)
    assert _found(walks_project / "helper_a.py") == FOUND
    reset_projects()
    buffer = HELPER.format(n="b", eval_call="model.eval()\n    ")
    assert _found(walks_project / "helper_b.py", buffer) == []
    assert walked == ["train.py", "train.py"]
    reset_projects()
    assert _found(walks_project / "helper_b.py") == FOUND  # the disk's copy again: the first walk serves


# ------------------------------------------------------------------------------ other modules' summaries
def _summarised(monkeypatch) -> list[str]:
    """The modules whose summary parts (relevance, context units, ...) this process computes."""
    done: list[str] = []
    for name, compute in list(C._PARTS.items()):

        def counting(ctx, _compute=compute, _name=name):
            done.append(Path(ctx.path).name)
            return _compute(ctx)

        monkeypatch.setitem(C._PARTS, name, counting)
    return done


def test_another_modules_summary_is_read_back_by_another_process(walks_project, monkeypatch):
    """An editor's buffer of train.py is walked again on every edit; the helpers it enters are not
    summarised again: their summaries come from the cache another process filled."""
    done = _summarised(monkeypatch)
    assert _found(walks_project / "train.py") == []
    assert {"helper_a.py", "helper_b.py"} <= set(done)
    reset_projects()
    done.clear()
    buffer = TRAIN + "# edited\n"
    assert _found(walks_project / "train.py", buffer) == []
    assert "helper_a.py" not in done and "helper_b.py" not in done
    assert _found(walks_project / "helper_a.py") == FOUND  # the same answer from the stored summaries


LAYERS_PY = """\
from torch import nn


class Block({base}):
    def __init__(self):
        super().__init__()
"""
BUILD_PY = """\
import torch
from layers import Block


def build():
    return Block()
"""


def test_a_stored_summary_is_not_read_once_a_class_it_asked_about_changed(walks_project, monkeypatch):
    """build.py's summary asks whether layers.Block is an nn.Module (does `build` build a model?): when
    layers.py changes, the stored summary of build.py, whose own text did not change, is a miss."""
    (walks_project / "layers.py").write_text(LAYERS_PY.format(base="nn.Module"))
    (walks_project / "build.py").write_text(BUILD_PY)
    (walks_project / "run.py").write_text("import torch\nfrom build import build\n\nmodel = build()\n")
    done = _summarised(monkeypatch)
    _found(walks_project / "run.py")
    assert "build.py" in done
    reset_projects()
    done.clear()
    _found(walks_project / "run.py", "import torch\nfrom build import build\n\nmodel = build()\n\n")
    assert "build.py" not in done  # read back
    (walks_project / "layers.py").write_text(LAYERS_PY.format(base="object"))
    reset_projects()
    done.clear()
    _found(walks_project / "run.py", "import torch\nfrom build import build\n\nmodel = build()\n\n\n")
    assert "build.py" in done  # what it read changed: summarised again


# ------------------------------------------------------------------------------ the callers' search
def _searched(monkeypatch) -> list[str]:
    """The files whose callers this process searches for (Project._caller_files) instead of reading them."""
    searched: list[str] = []
    real = P.Project._caller_files

    def counting(self, path, start):
        searched.append(Path(path).name)
        return real(self, path, start)

    monkeypatch.setattr(P.Project, "_caller_files", counting)
    return searched


def test_a_caller_search_is_read_back_while_what_it_read_is_unchanged(walks_project, monkeypatch):
    """An editor lints helper_a.py's buffer after every edit: which programs call into it is stored (the
    search reads the facts of every file that spells its names), and read back while those files are
    unchanged and the buffer calls nothing new. A new call in a caller file, or in the buffer, is searched
    again."""
    monkeypatch.setattr(P, "_RACY_NS", 0)
    searched = _searched(monkeypatch)
    # with no program calling it, its forward is judged as an interface: callers must call .eval() (TRP204)
    ALONE = [(6, 15, "TRP204")]
    helper = walks_project / "helper_a.py"
    assert _found(helper) == FOUND
    assert searched == ["helper_a.py"]
    reset_projects()
    edited = HELPER.format(n="a", eval_call="") + "\n\nRATE = 0.5\n"  # a new line that calls nothing
    assert _found(helper, edited) == FOUND
    assert searched == ["helper_a.py"]  # read back: not searched again
    # the caller file changes (its call of evaluate_a goes): the stored search is stale
    (walks_project / "train.py").write_text(TRAIN.replace("print(evaluate_a(model, x), ", "print("))
    reset_projects()
    assert _found(helper, edited) == ALONE
    assert searched == ["helper_a.py", "helper_a.py"]
    # the buffer calls something new: its references are part of the search's key
    reset_projects()
    assert _found(helper, edited + "\n\ndef again(m, x):\n    return evaluate_a(m, x)\n") == ALONE
    assert searched == ["helper_a.py", "helper_a.py", "helper_a.py"]
    reset_projects()
    assert _found(helper, edited) == ALONE
    assert searched == ["helper_a.py", "helper_a.py", "helper_a.py"]  # the first edit's search, stored


def test_a_stored_caller_search_keeps_its_bound(walks_project, monkeypatch):
    """A search that hit its file bound says so (--verbose) when it is read back, as when it was made."""
    import ast

    monkeypatch.setattr(P, "_RACY_NS", 0)
    monkeypatch.setattr(P, "MAX_CALLER_FILES", 1)
    searched = _searched(monkeypatch)
    path = walks_project / "helper_a.py"
    text = path.read_text()
    said = []
    for _ in range(2):
        reset_projects()
        facts = program.analyze(text, ast.parse(text), str(path), Settings())
        said.append([n for n in facts.widened if "callers searched" in n])
    assert (
        said[0]
        == said[1]
        == [
            "helper_a.py: callers searched in 1 files, up to 1 calls deep: functions reached only past that keep "
            "the state they have with no caller"
        ]
    )
    assert searched == ["helper_a.py"]


# ------------------------------------------------------------------------------ the word index (callers' search)
def _reads_during_mentions(root: Path, monkeypatch) -> tuple[list[str], dict[str, list[str]]]:
    """A new process's Project.mentions(): the project files it read, and the index."""
    reset_projects()
    project = project_for(str(root / "train.py"), Settings())
    assert project is not None
    read: list[str] = []
    real = P.read_regular

    def counting(path, *args):
        read.append(Path(path).name)
        return real(path, *args)

    monkeypatch.setattr(P, "read_regular", counting)
    index = project.mentions()
    monkeypatch.setattr(P, "read_regular", real)
    return sorted(read), {w: sorted(Path(p).name for p in ps) for w, ps in index.items()}


def test_the_word_index_reads_again_only_the_files_that_changed(walks_project, monkeypatch):
    """An editor lints on every save: the search for callers must not read the whole project each time.
    The identifiers of each file are kept in the cache with its size, times and inode."""
    monkeypatch.setattr(P, "_RACY_NS", 0)  # (files written by the test are otherwise too new to trust)
    read, index = _reads_during_mentions(walks_project, monkeypatch)
    assert read == ["helper_a.py", "helper_b.py", "train.py"]
    assert index["evaluate_a"] == ["helper_a.py", "train.py"]
    read, again = _reads_during_mentions(walks_project, monkeypatch)
    assert read == [] and again == index
    # nothing changed: the stored index itself is read, not rebuilt from the files' words
    real = P.Project._file_words
    monkeypatch.setattr(P.Project, "_file_words", lambda self, sigs: pytest.fail("rebuilt"))
    assert _reads_during_mentions(walks_project, monkeypatch)[1] == index
    monkeypatch.setattr(P.Project, "_file_words", real)
    (walks_project / "helper_a.py").write_text(HELPER.format(n="a", eval_call="") + "\nevaluate_c(None)\n")
    (walks_project / "helper_c.py").write_text("def evaluate_c(m):\n    return m\n")
    (walks_project / "helper_b.py").unlink()
    read, index = _reads_during_mentions(walks_project, monkeypatch)
    assert read == ["helper_a.py", "helper_c.py"]
    assert "evaluate_b" not in index  # helper_b.py, which defined it, is gone
    assert index["evaluate_c"] == ["helper_a.py", "helper_c.py"]  # a new file, spelled by a changed one
    assert _reads_during_mentions(walks_project, monkeypatch)[0] == []


def test_workers_build_the_word_index_once(walks_project, monkeypatch):
    """Two workers of a parallel run need the index at once: one builds it, the other waits and reads it."""
    monkeypatch.setattr(P, "_RACY_NS", 0)
    built: list[str] = []
    real = P.Project._file_words

    def slow_build(self, sigs):
        built.append(threading.current_thread().name)
        time.sleep(0.3)  # long enough for the other worker to find the claim taken
        return real(self, sigs)

    monkeypatch.setattr(P.Project, "_file_words", slow_build)
    projects = []
    for _ in range(2):
        reset_projects()
        projects.append(project_for(str(walks_project / "train.py"), Settings()))
    found: dict[str, dict] = {}
    threads = [
        threading.Thread(target=lambda p=p, n=n: found.__setitem__(n, p.mentions()), name=n)
        for n, p in zip(("w1", "w2"), projects, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(built) == 1
    assert found["w1"] == found["w2"] and found["w1"]["evaluate_a"] == [
        str(walks_project / "helper_a.py"),
        str(walks_project / "train.py"),
    ]
    reset_projects()


def test_a_file_changed_in_the_same_tick_as_the_index_is_read_again(walks_project, monkeypatch):
    """Same size, same modification time (restored), other words: a file touched within _RACY_NS of the
    stored index is never trusted by its signature alone."""
    _reads_during_mentions(walks_project, monkeypatch)
    path = walks_project / "helper_b.py"
    st = path.stat()
    text = path.read_text()
    path.write_text(text.replace("evaluate_b", "evaluate_a"))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size
    read, index = _reads_during_mentions(walks_project, monkeypatch)
    assert "helper_b.py" in read
    assert index["evaluate_a"] == ["helper_a.py", "helper_b.py", "train.py"] and "evaluate_b" not in index


# ------------------------------------------------------------------------------ checkpoint saves
SAVER = """\
import torch
from torch import nn

torch.manual_seed(0)
model = nn.Linear(4, 2)
torch.save(model.state_dict(), "w.pt")
"""


def test_two_copies_of_a_script_keep_their_own_save_sites(tmp_path, monkeypatch):
    root = tmp_path / "proj"
    for d in ("a", "b"):
        (root / d).mkdir(parents=True)
        (root / d / "train.py").write_text(SAVER)
    (root / "pyproject.toml").write_text("[tool.torchlint-repro]\n")
    monkeypatch.setenv("TORCHLINT_CACHE_DIR", str(tmp_path / "cache"))
    for _ in range(2):  # cold, then every file's sites from the cache
        reset_projects()
        project = project_for(str(root / "a" / "train.py"), Settings())
        assert project is not None
        sites = project.save_sites(collect_saves)
        assert sorted((Path(s["file"]).parent.name, s["line"]) for s in sites) == [("a", 6), ("b", 6)]
    reset_projects()


# ------------------------------------------------------------------------------ parallel runs
MODEL = """\
import torch
from torch import nn


class Net{i}(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, {n})
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.drop(self.fc(x))
"""
USE = """\
import torch

from models{i} import Net{i}

net = Net{i}()
with torch.no_grad():
    out = net(torch.ones(1, 4))
torch.manual_seed(0)
"""


def test_a_parallel_run_without_the_cache_shares_a_scratch_that_goes_with_it(tmp_path, monkeypatch):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text("[tool.torchlint-repro]\n")
    for i in range(6):
        (root / f"models{i}.py").write_text(MODEL.format(i=i, n=i + 2))
        (root / f"use{i}.py").write_text(USE.format(i=i))
    scratch_parent = tmp_path / "tmp"
    scratch_parent.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch_parent))
    monkeypatch.delenv("TORCHLINT_CACHE_DIR", raising=False)
    monkeypatch.delenv(RUN_ENV_VAR, raising=False)
    settings = Settings(cache=False)
    work = [(str(p), settings) for p in sorted(root.glob("*.py"))]

    def findings(jobs: int) -> list[tuple[str, int, int, str]]:
        reset_projects()
        return [(Path(r.path).name, d.line, d.col, d.code) for r in lint_files(work, jobs=jobs) for d in r.diagnostics]

    expected = sorted(
        [(f"use{i}.py", 5, 6, "TRP101") for i in range(6)] + [(f"use{i}.py", 7, 10, "TRP201") for i in range(6)]
    )
    assert sorted(findings(1)) == expected
    assert sorted(findings(2)) == expected
    assert RUN_ENV_VAR not in os.environ
    assert list(scratch_parent.iterdir()) == []  # the run's scratch cache is gone with it
    reset_projects()


def test_without_the_cache_a_process_uses_its_runs_scratch_only(tmp_path, monkeypatch, walks_project):
    from torchlint_repro.analysis.cache import run_scratch

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.delenv("TORCHLINT_CACHE_DIR", raising=False)
    with run_scratch():
        where = Path(os.environ[RUN_ENV_VAR])
        assert (where / "key").stat().st_mode & 0o777 == 0o600 and where.stat().st_mode & 0o777 == 0o700
        reset_projects()
        project = project_for(str(walks_project / "train.py"), Settings(cache=False))
        assert project is not None and project.cache is not None
        assert project.cache.directory.parent == where
        assert _found(walks_project / "helper_a.py", settings=Settings(cache=False)) == FOUND
        kinds = {p.parent.parent.name for p in where.rglob("*.json")}
        assert kinds == {"callers", "edits", "facts", "mentions", "summaries", "walks", "words"}
    assert not where.exists()
    reset_projects()
    project = project_for(str(walks_project / "train.py"), Settings(cache=False))
    assert project is not None and project.cache is None  # outside a run: no cache at all


def test_another_build_of_the_same_version_does_not_read_this_ones_entries(tmp_path, monkeypatch):
    """A development install keeps one version number over many commits: the entries are the build's."""
    from torchlint_repro.analysis import cache as cache_module

    cache = DiskCache(tmp_path, KEY)
    monkeypatch.setattr(cache_module, "_TOOL_ID", ["0.1.0+aaaa"])
    cache.put_json("saves", "k", {"sites": [], "deps": {}})
    assert cache.get_json("saves", "k") == {"sites": [], "deps": {}}
    monkeypatch.setattr(cache_module, "_TOOL_ID", ["0.1.0+bbbb"])
    assert cache.get_json("saves", "k") is None
    monkeypatch.setattr(cache_module, "_TOOL_ID", [])
    assert cache_module.tool_id().startswith(cache_module.__version__ + "+")


def test_a_linted_file_already_read_by_another_files_walk_keeps_its_facts(walks_project, monkeypatch):
    """Without a cache (`--no-cache`, -j1), a file read from disk as another file's dependency and then
    linted with the same text is not parsed into facts twice; an editor's different buffer is."""
    from torchlint_repro.analysis import project as project_module

    built: list[str] = []
    real = project_module.build_facts

    def counting(tree, module, is_pkg):
        built.append(module)
        return real(tree, module, is_pkg)

    monkeypatch.setattr(project_module, "build_facts", counting)
    settings = Settings(cache=False)
    assert _found(walks_project / "helper_a.py", settings=settings) == FOUND  # reads train.py and helper_b.py
    assert _found(walks_project / "train.py", settings=settings) == []
    assert _found(walks_project / "helper_b.py", settings=settings) == FOUND
    assert sorted(built) == ["helper_a", "helper_b", "train"]
    buffer = HELPER.format(n="b", eval_call="model.eval()\n    ")
    assert _found(walks_project / "helper_b.py", buffer, settings) == []
    assert sorted(built) == ["helper_a", "helper_b", "helper_b", "train"]


def test_a_worker_whose_read_missed_reads_what_another_stored_before_its_claim(walks_project, monkeypatch):
    """The race the test above can lose: a worker reads (nothing yet), another stores the index and lets go
    of its claim, then the first claims. It reads again once it holds the claim, and builds nothing."""
    monkeypatch.setattr(P, "_RACY_NS", 0)
    built: list[int] = []
    real = P.Project._file_words

    def counting(self, sigs):
        built.append(1)
        return real(self, sigs)

    monkeypatch.setattr(P.Project, "_file_words", counting)
    reset_projects()
    first = project_for(str(walks_project / "train.py"), Settings()).mentions()
    reset_projects()
    project = project_for(str(walks_project / "train.py"), Settings())
    assert project.cache is not None
    real_get = type(project.cache).get_json
    missed: list[str] = []

    def read_before_the_other_stored(self, kind, key):
        if kind == "mentions" and not missed:
            missed.append(key)
            return None
        return real_get(self, kind, key)

    monkeypatch.setattr(type(project.cache), "get_json", read_before_the_other_stored)
    assert project.mentions() == first
    assert missed and built == [1]
    reset_projects()
