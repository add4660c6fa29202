"""Robustness: bad input through the CLI and flake8, deep nesting, huge files, a sweep over real code
(the installed torch package) and property-based fuzzing of the engine.

The tool must never show a traceback and never report TRP900 (an internal error): a file it cannot
read or parse is one clear line on stderr (CLI, exit 2) or flake8's own E999/E902.

    pytest tests/test_robustness.py                      # everything, the sweep on a 400-file sample
    TORCHLINT_FULL_SWEEP=1 pytest tests/test_robustness.py -k sweep   # every .py of torch (~1.5 min, 2 cores)
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from torchlint_repro.config import Settings
from torchlint_repro.engine import lint_source

BIN = Path(sys.executable).parent
CHECK = BIN / "torchlint-repro"
FLAKE8 = BIN / "flake8"
HEADER = "import torch\nfrom torch import nn\n"
SWEEP_SAMPLE = 400


def _env(tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TORCHLINT_", "FLAKE8"))}
    env["TORCHLINT_CACHE_DIR"] = str(tmp_path / "cache")
    env["NO_COLOR"] = "1"
    return env


def cli(path: Path, *args: str, timeout: int = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CHECK), "check", *args, path.name],
        cwd=path.parent,
        capture_output=True,
        text=True,
        env=_env(path.parent),
        timeout=timeout,
    )


def flake8(path: Path, *args: str, timeout: int = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(FLAKE8), "--isolated", "--select", "TRP,E999,E902", *args, path.name],
        cwd=path.parent,
        capture_output=True,
        text=True,
        env=_env(path.parent),
        timeout=timeout,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess, name: str, fragment: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"torchlint-repro: error: {name}: "), lines[0]
    assert fragment in lines[0], lines[0]
    assert "None" not in lines[0], f"unclear message: {lines[0]}"
    assert "Traceback" not in proc.stderr


def codes(stdout: str) -> list[tuple[int, int, str]]:
    out = []
    for ln in stdout.splitlines():
        m = re.match(r"^.+?:(\d+):(\d+): ([A-Z]+\d+) ", ln)
        assert m, ln
        out.append((int(m[1]), int(m[2]), m[3]))
    return sorted(out)


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    p = tmp_path / name
    p.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return p


# ------------------------------------------------------------------------------ bad input
def test_syntax_error(tmp_path):
    p = write(tmp_path, "broken.py", HEADER + "x = (\n")
    assert_one_line_error(cli(p), "broken.py", "syntax error at line 3")
    f8 = flake8(p)
    assert "Traceback" not in f8.stderr and f8.stderr == ""
    assert codes(f8.stdout) == [(3, 6, "E999")]  # flake8's own report; no TRP on a file that does not parse


def test_syntax_error_among_good_files(tmp_path):
    bad = write(tmp_path, "broken.py", HEADER + "def f(:\n")
    write(tmp_path, "good.py", HEADER + "m = nn.Linear(2, 2)\ntorch.manual_seed(0)\n")
    proc = subprocess.run(
        [str(CHECK), "check", "."], cwd=tmp_path, capture_output=True, text=True, env=_env(tmp_path), timeout=180
    )
    assert proc.returncode == 3  # findings and an error
    assert codes(proc.stdout) == [(3, 5, "TRP101")]
    assert proc.stderr.splitlines() == [f"torchlint-repro: error: {bad.name}: syntax error at line 3: invalid syntax"]


def test_latin1_without_coding_line(tmp_path):
    p = write(tmp_path, "latin.py", b"import torch\n# caf\xe9\nm = torch.nn.Linear(2, 2)\n")
    assert_one_line_error(cli(p), "latin.py", "cannot decode")
    f8 = flake8(p)
    assert "Traceback" not in f8.stderr
    # flake8 decodes undecodable files as latin-1 and hands the plugin that text: whatever it reports
    # about it is the TRP101 of line 3, never an internal error
    assert set(codes(f8.stdout)) <= {(3, 5, "TRP101"), (1, 1, "E902")}


def test_latin1_with_coding_line_lints_normally(tmp_path):
    p = write(
        tmp_path,
        "latin_ok.py",
        b"# -*- coding: latin-1 -*-\nimport torch\n# caf\xe9\nm = torch.nn.Linear(2, 2)  # \xe9\n",
    )
    proc = cli(p)
    assert proc.returncode == 1 and proc.stderr == ""
    assert codes(proc.stdout) == [(4, 5, "TRP101")]
    f8 = flake8(p)
    assert f8.stderr == ""
    assert codes(f8.stdout) == [(4, 5, "TRP101")]


def test_utf8_bom_and_non_ascii_columns(tmp_path):
    p = write(tmp_path, "bom.py", "\ufeffimport torch\nnom = 'é'; m = torch.nn.Linear(2, 2)\n")
    proc = cli(p)
    assert proc.stderr == ""
    f8 = flake8(p)
    assert f8.stderr == ""
    # character columns, not UTF-8 byte columns: `m = torch...` starts at character 12 (printed 16)
    assert codes(proc.stdout) == codes(f8.stdout) == [(2, 16, "TRP101")]


@pytest.mark.parametrize(
    "content", ["", "\n\n\n", "# only a comment\n", "   \n\t\n"], ids=["empty", "newlines", "comment", "blank"]
)
def test_empty_files(tmp_path, content):
    p = write(tmp_path, "empty.py", content)
    proc = cli(p)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    f8 = flake8(p)
    assert (f8.stdout, f8.stderr) == ("", "")


def test_null_bytes(tmp_path):
    p = write(tmp_path, "nul.py", b"import torch\nx = 1\x00\nm = torch.nn.Linear(2, 2)\n")
    assert_one_line_error(cli(p), "nul.py", "null bytes")
    f8 = flake8(p)
    assert "Traceback" not in f8.stderr
    assert [c for *_, c in codes(f8.stdout)] == ["E999"]


def test_a_directory_named_like_a_file_and_a_missing_path(tmp_path):
    (tmp_path / "pkg.py").mkdir()
    proc = subprocess.run(
        [str(CHECK), "check", "pkg.py", "missing.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=180,
    )
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 2
    assert "torchlint-repro: error: missing.py: no such file or directory" in proc.stderr.splitlines()


def generated_file(n_lines: int = 50_000, n_funcs: int = 4_000) -> tuple[str, int]:
    """A generated module: thousands of small functions, a huge table, and a main() that builds a model
    before seeding. Returns the source and the line of the construction."""
    head = ["import torch", "from torch import nn", "", ""]
    funcs: list[str] = []
    for i in range(n_funcs):
        funcs += [f"def scale_{i}(x):", f"    return x * {i}", ""]
    tail = [
        "",
        "",
        "def main():",
        "    model = nn.Linear(4, 2)",
        "    torch.manual_seed(0)",
        "    return model",
        "",
        "",
        'if __name__ == "__main__":',
        "    main()",
    ]
    table = (
        ["TABLE = ["]
        + [f'    ({i}, {i / 7:.4f}, "row{i}"),' for i in range(n_lines - len(head) - len(funcs) - len(tail) - 2)]
        + ["]"]
    )
    lines = head + funcs + table + tail
    assert len(lines) == n_lines
    return "\n".join(lines) + "\n", lines.index("    model = nn.Linear(4, 2)") + 1


def test_50000_line_generated_file(tmp_path):
    source, line = generated_file()
    p = write(tmp_path, "generated.py", source)
    t0 = time.perf_counter()
    proc = cli(p, "--no-cache")
    took = time.perf_counter() - t0
    assert proc.stderr == ""
    assert codes(proc.stdout) == [(line, 13, "TRP101")]
    assert took < 60, f"check took {took:.1f}s on a 50,000-line file"
    t0 = time.perf_counter()
    f8 = flake8(p)
    took = time.perf_counter() - t0
    assert f8.stderr == ""
    assert codes(f8.stdout) == [(line, 13, "TRP101")]
    assert took < 90, f"flake8 took {took:.1f}s on a 50,000-line file"


def test_many_functions_scale_linearly():
    """Screening whether a function is worth walking must not cost O(functions) per function."""

    def run(n: int) -> float:
        src = (
            HEADER
            + "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(n))
            + "m = nn.Linear(2, 2)\ntorch.manual_seed(0)\n"
        )
        tree = ast.parse(src)
        # this process's CPU time, not the clock: a loaded machine (other jobs on its cores) slows the
        # clock by any factor, while a quadratic screen shows in the work done
        t0 = time.process_time()
        found = lint_source(src, None, Settings(cache=False), tree)
        took = time.process_time() - t0
        assert [(d.code, d.line) for d in found] == [("TRP101", 3 * n + 3)]
        return took

    run(500)  # warm imports
    small, big = min(run(2_000) for _ in range(3)), min(run(8_000) for _ in range(3))
    # 4x the functions: linear work is ~4x; the quadratic screen made it ~10x and more
    assert big < 7 * small + 0.5, f"2,000 functions: {small:.2f}s, 8,000 functions: {big:.2f}s"


# ------------------------------------------------------------------------------ deep nesting
def _nested_ifs(depth: int) -> str:
    lines = [HEADER.rstrip("\n"), "flag = bool(torch.rand(1) > 0.5)"]
    lines += ["    " * d + "if flag:" for d in range(depth)]
    lines += ["    " * depth + "m = nn.Linear(2, 2)", "torch.manual_seed(0)"]
    return "\n".join(lines) + "\n"


def _elif_chain(n: int) -> str:
    return (
        HEADER
        + "v = len(__name__)\nif v == 0:\n    m = nn.Linear(2, 2)\n"
        + "".join(f"elif v == {i}:\n    m = nn.Linear(2, {i + 1})\n" for i in range(1, n))
        + "torch.manual_seed(0)\n"
    )


# (name, source, expected findings of the CLI (line, printed col, code))
NESTED_OK = [
    (
        "parens190",
        HEADER + "m = " + "(" * 190 + "nn.Linear(2, 2)" + ")" * 190 + "\ntorch.manual_seed(0)\n",
        [(3, 195, "TRP101")],
    ),
    (
        "list100",
        HEADER + "m = " + "[" * 100 + "nn.Linear(2, 2)" + "]" * 100 + "\ntorch.manual_seed(0)\n",
        [(3, 105, "TRP101")],
    ),
    (
        "sequential100",
        HEADER + "m = " + "nn.Sequential(" * 100 + "nn.Linear(2, 2)" + ")" * 100 + "\ntorch.manual_seed(0)\n",
        [(3, 5, "TRP101")],
    ),
    ("if90", _nested_ifs(90), [(94, 365, "TRP101")]),
    ("elif300", _elif_chain(300), [(5 + 2 * i, 9, "TRP101") for i in range(300)]),
    # a 500-long elif chain is 500 nested If nodes: deeper than Python's default recursion limit allows the
    # tracker to walk; the constructions are still all before the seed
    ("elif500", _elif_chain(500), [(5 + 2 * i, 9, "TRP101") for i in range(500)]),
    # deeper than Python's default recursion limit lets `ast.parse` go: the limit is raised when the package
    # is imported (before flake8 or the CLI parses anything), so these parse and are analysed, the same
    # whichever file came first
    ("binop3000", HEADER + "x = torch.ones(1)\ny = " + " + ".join(["x"] * 3000) + "\n", []),
    ("attrs5000", HEADER + "m = nn.Linear(2, 2)\ny = m" + ".weight.T" * 2500 + "\n", [(3, 5, "TRP101")]),
]
# nested deeper than CPython's own parser accepts: a clear error, like the interpreter's
NESTED_TOO_DEEP = [
    ("parens500", HEADER + "x = " + "(" * 500 + "1" + ")" * 500 + "\n", "too many nested parentheses"),
    ("if101", _nested_ifs(101), "too many levels of indentation"),
]


@pytest.mark.parametrize(("name", "source", "expected"), NESTED_OK, ids=[c[0] for c in NESTED_OK])
def test_deeply_nested_code_is_analysed(tmp_path, name, source, expected):
    p = write(tmp_path, f"{name}.py", source)
    proc = cli(p)
    assert "Traceback" not in proc.stderr and proc.stderr == ""
    assert codes(proc.stdout) == expected
    f8 = flake8(p)
    assert "torchlint_repro" not in f8.stderr  # our code is never in a traceback
    assert '"torchlint-repro' not in f8.stdout and "[TRP]" not in f8.stdout  # our plugin never fails
    # pyflakes itself may give up on deep code: flake8 then prints `"pyflakes[F]" failed during execution`
    if f8.stderr == "" and "failed during execution" not in f8.stdout:
        assert codes(f8.stdout) == expected


@pytest.mark.parametrize(("name", "source", "fragment"), NESTED_TOO_DEEP, ids=[c[0] for c in NESTED_TOO_DEEP])
def test_code_too_deep_for_python_is_a_clear_error(tmp_path, name, source, fragment):
    p = write(tmp_path, f"{name}.py", source)
    assert_one_line_error(cli(p), p.name, fragment)
    f8 = flake8(p)
    # flake8 itself may crash building the ast (RecursionError in flake8/processor.py, with or without
    # plugins): our plugin is never in that traceback
    assert "torchlint_repro" not in f8.stderr
    assert "TRP" not in f8.stdout


def test_deep_code_in_process_never_raises():
    for name, source, _ in NESTED_OK:
        try:
            tree = ast.parse(source)
        except (SyntaxError, RecursionError):
            tree = None
        found = lint_source(source, f"{name}.py", Settings(cache=False), tree)
        assert not [d for d in found if d.code == "TRP900"], name
    for name, source, _ in NESTED_TOO_DEEP:
        assert lint_source(source, f"{name}.py", Settings(cache=False)) == [], name


# ------------------------------------------------------------------------------ sweep over real code
def torch_dir() -> Path:
    spec = importlib.util.find_spec("torch")
    assert spec is not None and spec.submodule_search_locations, "torch is not installed"
    return Path(list(spec.submodule_search_locations)[0])


def torch_sample(n: int) -> list[Path]:
    """``n`` .py files of the installed torch, chosen by hash of their path (the bench's rule)."""
    top = torch_dir()
    rels = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        rels += [os.path.relpath(os.path.join(dirpath, f), top.parent) for f in filenames if f.endswith(".py")]
    chosen = sorted(rels, key=lambda r: hashlib.sha256(r.encode()).hexdigest())[:n]
    return [top.parent / r for r in sorted(chosen)]


@pytest.mark.slow
def test_sweep_installed_torch(tmp_path, record_property):
    pytest.importorskip("torch", reason="the sweep lints the installed torch package")
    full = os.environ.get("TORCHLINT_FULL_SWEEP") == "1"
    targets = [str(torch_dir())] if full else [str(p) for p in torch_sample(SWEEP_SAMPLE)]
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(CHECK), "check", "-j2", "--no-cache", "--exit-zero", "--format", "json", *targets],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=1800,
    )
    took = time.perf_counter() - t0
    assert "Traceback" not in proc.stderr
    data = json.loads(proc.stdout)
    trp900 = [d for d in data if d["code"] == "TRP900"]
    assert trp900 == []
    # the only files the CLI may refuse are those this Python cannot parse either
    for ln in proc.stderr.splitlines():
        m = re.match(r"torchlint-repro: error: (.+?): syntax error at line \d+: ", ln)
        assert m, f"unexpected error: {ln}"
        with pytest.raises(SyntaxError):
            ast.parse(Path(m[1]).read_bytes())
    assert proc.returncode in (0, 2)
    record_property("sweep_files", "all" if full else len(targets))
    record_property("sweep_findings", len(data))
    record_property("sweep_seconds", round(took, 1))
    print(
        f"\nsweep: {'all of torch' if full else f'{len(targets)} files'}, {len(data)} findings, "
        f"{len(proc.stderr.splitlines())} unparseable, {took:.1f}s"
    )


# ------------------------------------------------------------------------------ fuzzing
@pytest.fixture(scope="module")
def fuzz_project(tmp_path_factory) -> Path:
    return make_fuzz_project(tmp_path_factory.mktemp("fuzzproj"))


def make_fuzz_project(root: Path) -> Path:
    """A project for the fuzzed file: a seeding helper in utils.py and a model class in a package."""
    (root / "pyproject.toml").write_text('[project]\nname = "fuzz"\nversion = "0"\n\n[tool.torchlint-repro]\n')
    (root / "utils.py").write_text(
        "import random\n\nimport torch\n\n\ndef set_seed(seed):\n"
        "    random.seed(seed)\n    torch.manual_seed(seed)\n\n\n"
        "def half_seed(seed):\n    random.seed(seed)\n"
    )
    (root / "models").mkdir()
    (root / "models" / "__init__.py").write_text("from .net import Net\n")
    (root / "models" / "net.py").write_text(
        "import torch\nfrom torch import nn\n\n\nclass Net(nn.Module):\n    def __init__(self, p=0.5):\n"
        "        super().__init__()\n        self.fc = nn.Linear(4, 2)\n        self.drop = nn.Dropout(p)\n\n"
        "    def forward(self, x):\n        return self.drop(self.fc(x))\n"
    )
    return root


def _lint_fuzzed(source: str, project: Path) -> None:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        tree = None
    path = str(project / "fuzz.py")
    first = lint_source(source, path, Settings(cache=False), tree)
    internal = [d for d in first if d.code == "TRP900"]
    assert not internal, f"{internal[0].message}\n--- source ---\n{source}"
    again = lint_source(source, path, Settings(cache=False), None)
    assert again == first  # deterministic, and the same with or without the caller's tree
    assert lint_source(source, "fuzz.py", Settings(cache=False)) is not None  # a relative path works too


FUZZ_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


@pytest.mark.slow
@FUZZ_SETTINGS
@given(src=hypothesmith.from_grammar())
def test_fuzz_grammar(fuzz_project, src):
    _lint_fuzzed(HEADER + src, fuzz_project)


@pytest.mark.slow
@settings(FUZZ_SETTINGS, max_examples=40)
@given(src=hypothesmith.from_node())
def test_fuzz_libcst_nodes(fuzz_project, src):
    _lint_fuzzed(HEADER + src, fuzz_project)


# PyTorch-flavoured programs: statements from a vocabulary that reaches the tracker's paths
IMPORTS = [
    "import random",
    "import numpy as np",
    "import torch",
    "import torch.nn as nn",
    "from torch import nn as tnn",
    "import torch.nn.functional as F",
    "from utils import set_seed, half_seed",
    "from models import Net",
    "import lightning as L",
    "from transformers import set_seed as hf_seed",
]
SIMPLE = [
    "torch.manual_seed(0)",
    "torch.random.manual_seed(1)",
    "torch.cuda.manual_seed_all(0)",
    "random.seed(0)",
    "np.random.seed(0)",
    "set_seed(0)",
    "half_seed(0)",
    "L.seed_everything(0)",
    "hf_seed(0)",
    "model = nn.Linear(4, 2)",
    "model = tnn.Sequential(nn.Linear(4, 8), nn.Dropout(0.1), nn.Linear(8, 2))",
    "model = Net()",
    "model = Net(p=0.0)",
    "other = nn.BatchNorm1d(4)",
    "model = build()",
    "model = other",
    "model.eval()",
    "model.train()",
    "model.train(False)",
    "model.eval",
    "model = model.eval()",
    "model = model.to('cpu')",
    "out = model(x)",
    "out = model.forward(x)",
    "out = other(x)",
    "x = torch.randn(3, 4)",
    "loss = F.mse_loss(model(x), x[:, :2])",
    "loss.backward()",
    "opt = torch.optim.SGD(model.parameters(), lr=0.1)",
    "opt.step()",
    "opt.zero_grad()",
    "torch.save(model.state_dict(), 'ckpt.pt')",
    "torch.save(model, path)",
    "torch.save({'model': model.state_dict(), 'epoch': 1}, path)",
    "state = torch.load('ckpt.pt')",
    "state = torch.load(path, weights_only=True)",
    "model.load_state_dict(state)",
    "model.load_state_dict(torch.load('ckpt.pt'), strict=False)",
    "model = model.load_state_dict(state)",
    "res = model.load_state_dict(state['model'])",
    "Net.load_state_dict(state)",
    "helper(model)",
    "evaluate(model)",
    "train(model)",
    "model = main()",
    "path = f'runs/{name}/ckpt.pt'",
    "name = 'exp'",
    "torch.set_grad_enabled(False)",
    "torch.set_grad_enabled(True)",
    "del model",
    "global model",
    "nonlocal x",
    "pass",
    "break",
    "continue",
    "return model",
    "return",
    "yield model",
    "raise ValueError('x')",
    "model, other = other, model",
    "models = [Net() for _ in range(2)]",
    "model = models[0]",
    "lam = lambda m: m.eval()",
    "lam(model)",
    "x = [model(x) for _ in range(2)]",
    "print(model)",
    "assert model is not None",
    "model: nn.Module = Net()",
    "model += 1",
    "other.weight = model",
    "model.fc = nn.Linear(2, 2)",
    "torch.multiprocessing.spawn(worker, nprocs=2)",
    "model = torch.compile(model)",
    "model = nn.DataParallel(model)",
    "model.module.eval()",
    "ema = torch.optim.swa_utils.AveragedModel(model)",
]
CONDITIONS = ["flag", "args.seed is not None", "torch.cuda.is_available()", "model.training", "not flag", "x is None"]
WITH_ITEMS = [
    "torch.no_grad()",
    "torch.inference_mode()",
    "torch.enable_grad()",
    "open(path) as fh",
    "torch.autocast('cpu')",
    "torch.set_grad_enabled(False)",
]
FUNC_NAMES = ["main", "build", "evaluate", "train", "helper", "validate", "predict", "worker", "infer_batch", "run"]
PARAMS = ["", "model", "model, x", "seed=0", "*args, **kwargs", "model, loader=None"]
DECORATORS = ["@torch.no_grad()", "@torch.inference_mode()", "@staticmethod", "@functools.lru_cache()"]


def _indent(block: list[str]) -> list[str]:
    return ["    " + ln for ln in block]


def _compound(children):
    return st.one_of(
        st.builds(lambda c, b: [f"if {c}:", *_indent(b)], st.sampled_from(CONDITIONS), children),
        st.builds(
            lambda c, b, e: [f"if {c}:", *_indent(b), "else:", *_indent(e)],
            st.sampled_from(CONDITIONS),
            children,
            children,
        ),
        st.builds(lambda b: ["for epoch in range(3):", *_indent(b)], children),
        st.builds(lambda b, e: ["for batch in loader:", *_indent(b), "else:", *_indent(e)], children, children),
        st.builds(lambda c, b: [f"while {c}:", *_indent(b)], st.sampled_from(CONDITIONS), children),
        st.builds(lambda b, h: ["try:", *_indent(b), "except Exception:", *_indent(h)], children, children),
        st.builds(lambda b, f: ["try:", *_indent(b), "finally:", *_indent(f)], children, children),
        st.builds(lambda w, b: [f"with {w}:", *_indent(b)], st.sampled_from(WITH_ITEMS), children),
        st.builds(
            lambda n, a, b: [f"def {n}({a}):", *_indent(b)],
            st.sampled_from(FUNC_NAMES),
            st.sampled_from(PARAMS),
            children,
        ),
        st.builds(
            lambda d, n, a, b: [d, f"def {n}({a}):", *_indent(b)],
            st.sampled_from(DECORATORS),
            st.sampled_from(FUNC_NAMES),
            st.sampled_from(PARAMS),
            children,
        ),
        st.builds(
            lambda b: [
                "class Wrapper(nn.Module):",
                "    def __init__(self):",
                "        super().__init__()",
                *_indent(_indent(b)),
                "    def forward(self, x):",
                "        return self.model(x)",
            ],
            children,
        ),
        st.builds(lambda b: ["class Runner:", "    def run(self, model):", *_indent(_indent(b))], children),
        st.builds(lambda b: ['if __name__ == "__main__":', *_indent(b)], children),
    )


_leaf = st.sampled_from(SIMPLE).map(lambda s: [s])
_block = st.recursive(
    st.lists(_leaf, min_size=1, max_size=4).map(lambda ls: [ln for b in ls for ln in b]),
    lambda children: st.lists(st.one_of(_leaf, _compound(children)), min_size=1, max_size=5).map(
        lambda ls: [ln for b in ls for ln in b]
    ),
    max_leaves=40,
)
torch_programs = st.builds(
    lambda imports, body, tail: "\n".join([*imports, "", *body, *tail]) + "\n",
    st.lists(st.sampled_from(IMPORTS), min_size=3, max_size=len(IMPORTS), unique=True).map(
        lambda ims: ["import functools", "import torch", "import torch.nn as nn", *ims]
    ),
    _block,
    st.sampled_from([[], ["main()"], ['if __name__ == "__main__":', "    main()"], ["evaluate(Net())"]]),
)


@pytest.mark.slow
@settings(FUZZ_SETTINGS, max_examples=150)
@given(src=torch_programs)
def test_fuzz_pytorch_programs(fuzz_project, src):
    _lint_fuzzed(src, fuzz_project)


@pytest.mark.slow
@settings(FUZZ_SETTINGS, max_examples=40)
@given(src=torch_programs)
def test_fuzz_pytorch_programs_through_the_flake8_plugin(fuzz_project, src):
    """The plugin adapter on the same programs: tuples of (line, col, "TRPnnn message", type), never TRP900."""
    from torchlint_repro.flake8_plugin import Plugin

    try:
        tree = ast.parse(src)
    except SyntaxError:
        return
    lines = src.splitlines(keepends=True)
    results = list(Plugin(tree, str(fuzz_project / "fuzz.py"), lines).run())
    for line, col, text, kind in results:
        assert isinstance(line, int) and isinstance(col, int) and kind is Plugin
        assert re.match(r"TRP\d{3} ", text) and not text.startswith("TRP900"), text


# ------------------------------------------------------------------------------ hostile repositories, careless users
# What a cloned repository or an unlucky file system can hold: special files, links, broken configuration,
# a planted git config, a committed cache. The tool must never hang, never run a command, never serve an
# entry it did not write, and `fix` must never lose or corrupt a byte.
FIXABLE = (
    "import torch\n"
    "torch.manual_seed(0)\n"
    "model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.5))\n"
    "name = 'café'\n"
    "model.eval\n"
    "print(model(torch.ones(1, 2)), name)\n"
)
FIXED = FIXABLE.replace("model.eval\n", "model.eval()\n")
MEMORY_LIMIT = 3 << 30  # a run reading /dev/zero is stopped by this, not by the machine running out


def _limit_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def tool(cwd: Path, *args: str, env: dict | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    """``torchlint-repro ARGS`` in ``cwd``, bounded in time and memory."""
    return subprocess.run(
        [str(CHECK), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env or _env(cwd),
        timeout=timeout,
        preexec_fn=_limit_memory,
    )


def fix_in_process(target: Path, monkeypatch, after_lint=None):
    """`fix TARGET` through click's runner; ``after_lint(path)`` runs once the analysis has read the file
    (an editor saving, a user deleting it) and before anything is written."""
    from click.testing import CliRunner

    import torchlint_repro.engine as engine
    from torchlint_repro.cli import main

    if after_lint is not None:
        original = engine.lint_source

        def lint_then(source, path=None, *args, **kwargs):
            out = original(source, path, *args, **kwargs)
            after_lint(Path(path))
            return out

        monkeypatch.setattr(engine, "lint_source", lint_then)
    return CliRunner().invoke(main, ["fix", str(target)])


# ---------------------------------------------------------------- fix: encodings and line endings
FIX_ENCODINGS = {
    # (bytes of the file before, bytes after)
    "latin-1-cookie": (
        b"# -*- coding: latin-1 -*-\n" + FIXABLE.encode("latin-1"),
        b"# -*- coding: latin-1 -*-\n" + FIXED.encode("latin-1"),
    ),
    "cp1252-cookie": (
        b"# coding: cp1252\n" + FIXABLE.replace("café", "5€").encode("cp1252"),
        b"# coding: cp1252\n" + FIXED.replace("café", "5€").encode("cp1252"),
    ),
    "utf-8-bom": (b"\xef\xbb\xbf" + FIXABLE.encode(), b"\xef\xbb\xbf" + FIXED.encode()),
    "crlf": (FIXABLE.replace("\n", "\r\n").encode(), FIXED.replace("\n", "\r\n").encode()),
    "cr-only": (FIXABLE.replace("\n", "\r").encode(), FIXED.replace("\n", "\r").encode()),
    "no-final-newline": (FIXABLE.rstrip("\n").encode(), FIXED.rstrip("\n").encode()),
}


@pytest.mark.parametrize("case", sorted(FIX_ENCODINGS))
def test_fix_keeps_encoding_bom_and_line_endings(tmp_path, case):
    before, after = FIX_ENCODINGS[case]
    p = write(tmp_path, "train.py", before)
    proc = tool(tmp_path, "fix", "train.py")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "fixed 1 finding\n")
    assert p.read_bytes() == after
    again = tool(tmp_path, "check", "--no-cache", "train.py")
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")


# ---------------------------------------------------------------- fix: races
def test_fix_never_overwrites_a_save_made_while_it_runs(tmp_path, monkeypatch):
    target = write(tmp_path, "train.py", FIXABLE)
    saved = FIXABLE + "print('saved by the editor')\n"
    result = fix_in_process(target, monkeypatch, lambda p: p.write_text(saved, encoding="utf-8"))
    assert result.exit_code == 2, result.output
    assert target.read_text(encoding="utf-8") == saved
    assert f"torchlint-repro: error: {target}: changed while fixing; not fixed (run fix again)\n" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["train.py"]  # no temporary file left behind


def test_fix_never_recreates_a_file_deleted_while_it_runs(tmp_path, monkeypatch):
    target = write(tmp_path, "train.py", FIXABLE)
    result = fix_in_process(target, monkeypatch, lambda p: p.unlink())
    assert result.exit_code == 2, result.output
    assert not target.exists()
    assert f"torchlint-repro: error: {target}: deleted while fixing; not re-created\n" in result.stderr
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- fix: links, owners, modes, permissions
def test_fix_through_a_symlink_fixes_its_target(tmp_path):
    (tmp_path / "real").mkdir()
    target = write(tmp_path / "real", "train.py", FIXABLE)
    (tmp_path / "link.py").symlink_to("real/train.py")
    proc = tool(tmp_path, "fix", "link.py")
    assert (proc.returncode, proc.stderr) == (0, "fixed 1 finding\n")
    assert (tmp_path / "link.py").is_symlink() and os.readlink(tmp_path / "link.py") == "real/train.py"
    assert target.read_text(encoding="utf-8") == FIXED
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["train.py"]


def test_fix_refuses_to_break_hard_links(tmp_path):
    target = write(tmp_path, "train.py", FIXABLE)
    os.link(target, tmp_path / "alias.py")
    proc = tool(tmp_path, "fix", "train.py")
    assert proc.returncode == 2
    assert proc.stderr == (
        "torchlint-repro: error: train.py: has 2 hard links and replacing it would break them; "
        "not fixed\nfixed 0 findings\n"
    )
    assert target.read_text(encoding="utf-8") == FIXABLE
    assert os.stat(target).st_ino == os.stat(tmp_path / "alias.py").st_ino
    assert os.stat(target).st_nlink == 2


def test_fix_keeps_mode_and_owner(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")
    target = write(tmp_path, "train.py", FIXABLE)
    os.chown(target, 4321, 4322)
    os.chmod(target, 0o640)
    proc = tool(tmp_path, "fix", "train.py")
    assert (proc.returncode, proc.stderr) == (0, "fixed 1 finding\n")
    st = os.stat(target)
    assert (st.st_uid, st.st_gid, oct(st.st_mode & 0o7777)) == (4321, 4322, "0o640")
    assert target.read_text(encoding="utf-8") == FIXED


def test_fix_refuses_when_it_cannot_keep_the_owner(tmp_path, monkeypatch):
    """A file of another user that we may write (a group-writable folder): fixing it as ourselves would
    hand it to us; without the right to give it back, it is left alone."""
    target = write(tmp_path, "train.py", FIXABLE)
    os.chmod(target, 0o666)
    me = os.stat(target).st_uid
    monkeypatch.setattr(os, "geteuid", lambda: me + 1000)  # we are someone else than the file's owner

    def refuse(*args, **kwargs):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "chown", refuse)
    monkeypatch.setattr(os, "fchown", refuse)
    result = fix_in_process(target, monkeypatch)
    assert result.exit_code == 2, result.output
    assert (
        f"torchlint-repro: error: {target}: owned by user {me}, and a fixed copy cannot be given back to it; "
        f"not fixed\n"
    ) in result.stderr
    assert target.read_text(encoding="utf-8") == FIXABLE
    assert [p.name for p in tmp_path.iterdir()] == ["train.py"]


def test_fix_respects_a_read_only_file(tmp_path):
    target = write(tmp_path, "train.py", FIXABLE)
    os.chmod(target, 0o444)
    proc = tool(tmp_path, "fix", "train.py")
    assert proc.returncode == 2
    assert proc.stderr == "torchlint-repro: error: train.py: read-only (mode 0444); not fixed\nfixed 0 findings\n"
    assert target.read_text(encoding="utf-8") == FIXABLE
    assert os.stat(target).st_mode & 0o777 == 0o444


def test_fix_in_a_read_only_folder_is_a_clear_error(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    target = write(folder, "train.py", FIXABLE)
    os.chmod(folder, 0o555)
    try:
        proc = tool(tmp_path, "fix", "ro/train.py")
        assert proc.returncode == 2
        assert proc.stderr == (
            "torchlint-repro: error: ro/train.py: its folder is read-only (mode 0555); not fixed\nfixed 0 findings\n"
        )
        assert target.read_text(encoding="utf-8") == FIXABLE
        assert sorted(p.name for p in folder.iterdir()) == ["train.py"]
    finally:
        os.chmod(folder, 0o755)


# ---------------------------------------------------------------- git is never run
def test_a_planted_git_fsmonitor_command_never_runs(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    marker = tmp_path / "PWNED"
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\necho '{{}}'\n")
    hook.chmod(0o755)
    with open(repo / ".git" / "config", "a") as fh:
        fh.write(f"[core]\n\tfsmonitor = {hook}\n\thooksPath = {tmp_path}\n[include]\n\tpath = {tmp_path / 'more'}\n")
    write(repo, "train.py", FIXABLE)
    write(repo, ".gitignore", "ignored/\n")
    write(repo / ".git" / "info", "exclude", "private_*.py\n")
    (repo / "ignored").mkdir()
    write(repo / "ignored", "gen.py", FIXABLE)
    write(repo, "private_notes.py", FIXABLE)
    proc = tool(repo, "check", "--no-cache", ".")
    assert (proc.returncode, proc.stderr) == (1, "")
    assert codes(proc.stdout) == [(5, 1, "TRP202")]  # train.py only: the ignored files are skipped
    assert not marker.exists(), "check ran a command planted in .git/config"
    proc = tool(repo, "fix", ".")
    assert (proc.returncode, proc.stderr) == (0, "fixed 1 finding\n")
    assert not marker.exists(), "fix ran a command planted in .git/config"
    assert (repo / "ignored" / "gen.py").read_text(encoding="utf-8") == FIXABLE


# ---------------------------------------------------------------- special files: FIFOs, devices, huge files
TRAIN_LOADS = (
    "import torch\n"
    "torch.manual_seed(0)\n"
    "model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.5))\n"
    "model.load_state_dict(torch.load('ckpt.pt'))\n"  # reads every torch.save of the project (TRP307)
    "with torch.no_grad():\n"
    "    print(model(torch.ones(1, 2)))\n"
)
TRAIN_LOADS_FINDINGS = [(6, 11, "TRP201")]


def _special(root: Path, kind: str) -> None:
    if kind == "fifo":
        os.mkfifo(root / "pipe.py")
    elif kind == "dev-zero":
        (root / "zero.py").symlink_to("/dev/zero")
    elif kind == "dev-zero-pkg":
        (root / "pkg").mkdir()
        (root / "pkg" / "__init__.py").symlink_to("/dev/zero")
    elif kind == "fifo-pyproject":
        os.remove(root / "pyproject.toml")
        os.mkfifo(root / "pyproject.toml")


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "dev-zero-pkg"])
def test_special_files_in_the_project_never_hang_check_or_flake8(tmp_path, kind):
    write(tmp_path, "pyproject.toml", "[tool.torchlint-repro]\n")
    write(tmp_path, "train.py", TRAIN_LOADS)
    write(tmp_path, "save.py", "import torch\nimport pkg\ntorch.save({}, 'ckpt.pt')\n")
    _special(tmp_path, kind)
    proc = tool(tmp_path, "check", ".", timeout=60)
    assert (proc.returncode, proc.stderr) == (1, "")
    assert codes(proc.stdout) == TRAIN_LOADS_FINDINGS
    for extra in ([], ["--trp-no-cache"]):
        f8 = subprocess.run(
            [str(FLAKE8), "--isolated", "--select", "TRP", *extra, "train.py"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=_env(tmp_path),
            timeout=60,
            preexec_fn=_limit_memory,
        )
        assert f8.stderr == ""
        assert codes(f8.stdout) == TRAIN_LOADS_FINDINGS


def test_a_fifo_named_pyproject_toml_is_an_error_not_a_hang(tmp_path):
    write(tmp_path, "pyproject.toml", "")
    write(tmp_path, "train.py", TRAIN_LOADS)
    _special(tmp_path, "fifo-pyproject")
    proc = tool(tmp_path, "check", "--no-cache", "train.py", timeout=60)
    assert_one_line_error(proc, str(tmp_path / "pyproject.toml"), "not a regular file (a FIFO)")


def test_a_huge_file_is_skipped_with_a_notice(tmp_path):
    write(tmp_path, "train.py", TRAIN_LOADS)
    big = write(tmp_path, "table.py", "import torch\nTABLE = [\n" + "    1,\n" * 1_800_000 + "]\n")
    assert big.stat().st_size > 10 * 1024 * 1024
    proc = tool(tmp_path, "check", "--no-cache", ".", timeout=60)
    assert proc.returncode == 1
    assert codes(proc.stdout) == TRAIN_LOADS_FINDINGS
    assert proc.stderr == (
        "torchlint-repro: notice: table.py: skipped: 12.6 MB, more than the 10 MB a source file may have\n"
    )


# ---------------------------------------------------------------- broken configuration
def test_a_non_utf8_pyproject_is_a_one_line_error(tmp_path):
    write(tmp_path, "pyproject.toml", b'[tool.torchlint-repro]\nexclude = ["caf\xe9"]\n')
    write(tmp_path, "train.py", FIXABLE)
    for command in ("check", "fix"):
        proc = tool(tmp_path, command, "train.py")
        assert_one_line_error(proc, str(tmp_path / "pyproject.toml"), "not UTF-8")
    assert (tmp_path / "train.py").read_text(encoding="utf-8") == FIXABLE


# ---------------------------------------------------------------- the command line
@pytest.mark.parametrize("command", ["check", "fix"])
@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("dangling", "dangling symbolic link"),
        ("loop", "symbolic link loop"),
        ("fifo", "not a regular file or folder (a FIFO)"),
        ("device", "not a regular file or folder (a character device)"),
    ],
)
def test_unusable_paths_on_the_command_line_are_errors(tmp_path, command, kind, message):
    write(tmp_path, "good.py", FIXED)
    name = f"{kind}.py"
    if kind == "dangling":
        (tmp_path / name).symlink_to("nowhere.py")
    elif kind == "loop":
        (tmp_path / name).symlink_to(name)
    elif kind == "fifo":
        os.mkfifo(tmp_path / name)
    else:
        (tmp_path / name).symlink_to("/dev/zero")
    proc = (
        tool(tmp_path, command, "--no-cache", name, "good.py", timeout=60)
        if command == "check"
        else tool(tmp_path, command, name, "good.py", timeout=60)
    )
    assert proc.returncode == 2
    assert f"torchlint-repro: error: {name}: {message}\n" in proc.stderr
    assert "Traceback" not in proc.stderr


# ---------------------------------------------------------------- a cache nobody here wrote
@pytest.mark.parametrize("where", ["../elsewhere", "/tmp/torchlint-shared", "sub/../../elsewhere", "link"])
def test_a_repository_cache_dir_must_stay_inside_the_project(tmp_path, where):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "link").symlink_to(tmp_path)  # inside by name, outside once followed
    write(root, "pyproject.toml", f'[tool.torchlint-repro]\ncache-dir = "{where}"\n')
    write(root, "train.py", FIXABLE)
    env = {k: v for k, v in _env(root).items() if k != "TORCHLINT_CACHE_DIR"}
    proc = tool(root, "check", "train.py", env=env)
    assert_one_line_error(proc, str(root / "pyproject.toml"), "'cache-dir' must stay inside the project")


HELPER = (
    "import torch\nfrom torch import nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n"
    "        super().__init__()\n        self.fc = nn.Linear(2, 2)\n        self.drop = nn.Dropout(0.5)\n\n"
    "    def forward(self, x):\n        return self.drop(self.fc(x))\n"
)
USER = (
    "import torch\n\nfrom helper import Net\n\nnet = Net()\n"
    "with torch.no_grad():\n    out = net(torch.ones(1, 2))\n"
    "torch.manual_seed(0)\n"
)
USER_FINDINGS = [(5, 7, "TRP101"), (7, 11, "TRP201")]


def _cache_project(root: Path, pyproject: str = "") -> Path:
    root.mkdir()
    write(root, "pyproject.toml", f"[tool.torchlint-repro]\n{pyproject}")
    write(root, "helper.py", HELPER)
    write(root, "user.py", USER)
    return root


def _user_env(root: Path, user: str, cache_dir: Path | None = None) -> dict:
    """The environment of one user of the repository: a home cache of their own."""
    env = {k: v for k, v in _env(root).items() if k != "TORCHLINT_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(root.parent / f"home-{user}" / ".cache")
    if cache_dir is not None:
        env["TORCHLINT_CACHE_DIR"] = str(cache_dir)
    return env


def _tamper(folder: Path, how: str) -> int:
    """Edit every cache entry under ``folder`` the way a hostile repository would; the number of entries
    changed."""
    changed = 0
    for p in sorted(folder.rglob("*.json")):
        data = p.read_bytes()
        kind = p.parent.parent.name
        if how == "message" and kind == "results":
            new = data.replace(b"is built before torch", b"is built bef0re torch")
        elif how == "hide" and kind == "facts":  # a class whose body builds nothing: neither seed nor mode matter
            new = re.sub(rb'"ctors": \[\[.*?\]\], "unknown"', b'"ctors": [], "unknown"', data)
        elif how == "hide" and kind == "results":
            p.unlink()
            changed += 1
            continue
        elif how == "inject" and kind == "results":
            new = data.replace(b'"diags": [', b'"diags": [[1, 0, "TRP301", "planted by the repository", null], ')
        else:
            continue
        if new != data:
            p.write_bytes(new)
            changed += 1
    return changed


@pytest.mark.parametrize("how", ["message", "hide", "inject"])
@pytest.mark.parametrize("where", ["old-default", "cache-dir", "shared-env"])
def test_a_cache_written_by_someone_else_is_never_served(tmp_path, how, where):
    """The attacker lints the repository, edits the cache entries it wrote, and ships them: in the old
    default place (.torchlint_cache/ at the root), in a `cache-dir` the repository configures, or in a
    TORCHLINT_CACHE_DIR the victim's CI shares. The victim's results are those of a run without cache."""
    pyproject = 'cache-dir = ".lintcache"\n' if where == "cache-dir" else ""
    root = _cache_project(tmp_path / "proj", pyproject)
    shared = tmp_path / "shared"
    reference = tool(root, "check", "--no-cache", "--format", "json", ".", env=_user_env(root, "victim"))
    assert codes_json(reference) == [("user.py",) + f for f in USER_FINDINGS]
    attacker = tool(root, "check", "--format", "json", ".", env=_user_env(root, "attacker", shared))
    assert attacker.stdout == reference.stdout
    (folder,) = [p for p in shared.iterdir() if p.is_dir()]  # the project's folder in the shared cache
    assert _tamper(folder, how) > 0
    if where == "old-default":
        shutil.copytree(folder, root / ".torchlint_cache")
        shutil.rmtree(shared)
    elif where == "cache-dir":
        shutil.copytree(folder, root / ".lintcache" / folder.name)
        shutil.rmtree(shared)
    victim_env = _user_env(root, "victim", shared if where == "shared-env" else None)
    for _ in range(2):  # cold, then warm from what the victim wrote itself
        victim = tool(root, "check", "--format", "json", ".", env=victim_env)
        assert victim.stderr == ""
        assert victim.stdout == reference.stdout


def codes_json(proc: subprocess.CompletedProcess) -> list[tuple[str, int, int, str]]:
    return sorted((d["path"], d["line"], d["column"], d["code"]) for d in json.loads(proc.stdout))


DEEP = "[" * 200_000 + "]" * 200_000
WRONG_SHAPES = {
    # kind of entry, how its value is spoiled
    "bases-int": ("facts", lambda v: _set_bases(v, 5)),
    "bases-null": ("facts", lambda v: _set_bases(v, None)),
    "bases-of-ints": ("facts", lambda v: _set_bases(v, [1, 2])),
    "classes-list": ("facts", lambda v: {**v, "classes": []}),
    "ctors-strings": ("facts", lambda v: _set_class_key(v, "ctors", ["torch.nn.Linear"])),
    "imports-deep": ("facts", lambda v: {**v, "imports": "DEEP"}),
    "functions-dict": ("facts", lambda v: {**v, "functions": {"a": 1}}),
    "diags-not-rows": ("results", lambda v: {**v, "diags": [[1, 2]]}),
    "diags-deep": ("results", lambda v: {**v, "diags": "DEEP"}),
    "deps-list": ("results", lambda v: {**v, "deps": ["helper.py"]}),
    "deps-dev-zero": ("results", lambda v: {**v, "deps": {"/dev/zero": "0" * 64}}),
    "deps-outside": ("results", lambda v: {**v, "deps": {"/etc/passwd": "0" * 64}}),
}


def _set_bases(value: dict, bases) -> dict:
    return _set_class_key(value, "bases", bases)


def _set_class_key(value: dict, key: str, new) -> dict:
    classes = {name: {**cls, key: new} for name, cls in value.get("classes", {}).items()}
    return {**value, "classes": classes}


@pytest.mark.parametrize("case", sorted(WRONG_SHAPES))
def test_wrong_shaped_cache_entries_are_misses(tmp_path, monkeypatch, case):
    """Entries this user's tool did sign (a bug, an older version) but of the wrong shape: every one is a
    miss, through the CLI and through flake8, never a traceback."""
    from torchlint_repro.analysis.cache import DiskCache

    kind, spoil = WRONG_SHAPES[case]
    root = _cache_project(tmp_path / "proj")
    cache = tmp_path / "cache"
    env = _user_env(root, "me", cache)
    monkeypatch.setenv("XDG_CACHE_HOME", env["XDG_CACHE_HOME"])
    reference = tool(root, "check", "--no-cache", "--format", "json", ".", env=env)
    assert tool(root, "check", "--format", "json", ".", env=env).stdout == reference.stdout  # fills the cache
    (folder,) = [p for p in cache.iterdir() if p.is_dir()]
    disk = DiskCache(folder)
    rewritten = 0
    for p in sorted((folder / kind).rglob("*.json")):
        entry = disk.read_entry(p)
        assert entry is not None, f"cannot read back {p}"
        key, value = entry
        spoiled = spoil(value)
        if spoiled == value:
            continue
        text = json.dumps(spoiled).replace('"DEEP"', DEEP)
        disk.write_entry(kind, key, text)
        rewritten += 1
    assert rewritten > 0
    if kind == "facts":  # the results would be served before any facts are read
        shutil.rmtree(folder / "results")
    for _ in range(2):
        proc = tool(root, "check", "--format", "json", ".", env=env, timeout=60)
        assert proc.stderr == ""
        assert proc.stdout == reference.stdout
        f8 = subprocess.run(
            [str(FLAKE8), "--isolated", "--select", "TRP", "user.py"],
            cwd=root,
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            preexec_fn=_limit_memory,
        )
        assert f8.stderr == ""
        assert codes(f8.stdout) == USER_FINDINGS
