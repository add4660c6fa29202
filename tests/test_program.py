"""The analysis core as a whole program: no depth limit, no cliffs, objects that live across methods,
functions judged with the state their callers (in other files too) hand them. Each test is one of the
reproductions of the core issue, with the exact findings it must give."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from torchlint_repro.analysis.project import reset_projects
from torchlint_repro.config import Settings
from torchlint_repro.engine import lint_file, lint_source

ALL = Settings(select=("TRP",), cache=False)


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    for name, text in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text), encoding="utf-8")
    reset_projects()
    return tmp_path


def findings(path: Path, settings: Settings = ALL) -> list[tuple[int, int, str]]:
    return [(d.line, d.col + 1, d.code) for d in lint_file(path, settings)]


def messages(path: Path) -> list[str]:
    return [d.message for d in lint_file(path, ALL)]


# ---------------------------------------------------------------------------- seeds at any depth
def _seed_chain(depth: int, seeded: bool) -> str:
    lines = ["import torch", "import torch.nn as nn", ""]
    for i in range(depth):
        inner = f"helper{i + 1}()" if i + 1 < depth else ("torch.manual_seed(0)" if seeded else "print('no seed')")
        lines += [f"def helper{i}():", f"    {inner}", ""]
    lines += ["def main():", "    helper0()", "    model = nn.Linear(2, 2)", "    return model", "", "main()"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("depth", [5, 6, 12, 40])
def test_a_seed_helper_chain_of_any_depth_seeds(tmp_path: Path, depth: int) -> None:
    path = project(tmp_path, {"train.py": _seed_chain(depth, seeded=True)}) / "train.py"
    assert findings(path) == []
    (tmp_path / "train.py").write_text(_seed_chain(depth, seeded=False))
    reset_projects()
    line = 3 * depth + 6  # `model = nn.Linear(2, 2)` inside main()
    assert findings(tmp_path / "train.py") == [(line, 13, "TRP101")]


# ---------------------------------------------------------------------------- no count cliff
@pytest.mark.parametrize("n", [400, 401, 1000])
def test_every_inference_call_is_judged_however_many(tmp_path: Path, n: int) -> None:
    lines = [
        "import torch",
        "import torch.nn as nn",
        "torch.manual_seed(0)",
        "model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))",
        "",
    ]
    for i in range(n):
        lines += [f"def infer{i}(x):", "    with torch.no_grad():", "        return model(x)", ""]
    lines += [f"infer{i}(torch.ones(1, 2))" for i in range(n)]
    path = project(tmp_path, {"many.py": "\n".join(lines) + "\n"}) / "many.py"
    got = findings(path)
    assert got == [(5 + 4 * i + 3, 16, "TRP201") for i in range(n)]


def test_a_finding_at_line_4_of_a_file_with_10010_functions_is_reported(tmp_path: Path) -> None:
    lines = ["import torch", "import torch.nn as nn", "", "model = nn.Linear(2, 2)", ""]
    lines += [f"def f{i}():\n    return {i}\n" for i in range(10_010)]
    path = project(tmp_path, {"big.py": "\n".join(lines) + "\n"}) / "big.py"
    assert findings(path) == [(4, 9, "TRP101")]


def test_one_function_called_with_many_states_is_summarised_not_dropped(tmp_path: Path) -> None:
    """More walks of one function than the bound: the rest are applied through its summary (its seed
    reaches the caller), and the widening is recorded, never a dropped entry point."""
    calls = "".join(f"    step(m{i}, {i})\n" for i in range(40))
    models = "".join(f"    m{i} = nn.Linear(2, 2)\n" for i in range(40))
    source = (
        "import torch\nimport torch.nn as nn\n\n\ndef step(m, i):\n    m.eval()\n    if i == 39:\n"
        "        torch.manual_seed(i)\n    else:\n        torch.manual_seed(0)\n\n\ndef main():\n"
        "    torch.manual_seed(1)\n" + models + calls + "    net = nn.Linear(2, 2)\n    return net\n\n\nmain()\n"
    )
    path = project(tmp_path, {"loop.py": source}) / "loop.py"
    assert findings(path) == []
    # the same without the seeds in step(): every construction is unseeded, the last one too
    path.write_text(
        source.replace("    torch.manual_seed(1)\n", "")
        .replace("torch.manual_seed(i)", "pass")
        .replace("torch.manual_seed(0)", "pass")
    )
    reset_projects()
    built = [
        (n, ln.index("nn.Linear") + 1, "TRP101")
        for n, ln in enumerate(path.read_text().splitlines(), 1)
        if "= nn.Linear(" in ln
    ]
    assert len(built) == 41 and findings(path) == built


# ---------------------------------------------------------------------------- recursion
def test_mutual_recursion_across_two_files_reaches_a_fixpoint(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "a.py": """\
            import torch

            from b import helper


            def seed_all(n):
                if n > 0:
                    return helper(n - 1)
                torch.manual_seed(0)
            """,
            "b.py": """\
            from a import seed_all


            def helper(n):
                return seed_all(n)
            """,
            "main.py": """\
            import torch.nn as nn

            from a import seed_all

            seed_all(3)
            model = nn.Linear(2, 2)
            """,
        },
    )
    assert findings(root / "main.py") == []
    (root / "a.py").write_text((root / "a.py").read_text().replace("torch.manual_seed(0)", "print(n)"))
    reset_projects()
    assert findings(root / "main.py") == [(6, 9, "TRP101")]


# ---------------------------------------------------------------------------- objects across methods
def test_a_method_only_class_runs_its_generator_in_training_mode(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "gan.py": """\
        import torch
        import torch.nn as nn


        class Generator(nn.Module):
            def __init__(self):
                super().__init__()
                self.net = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))

            def forward(self, z):
                return self.net(z)


        class Trainer:
            def __init__(self):
                torch.manual_seed(0)
                self.G = Generator()
                self.opt = torch.optim.Adam(self.G.parameters())

            def train(self, steps):
                for _ in range(steps):
                    loss = self.G(torch.randn(8, 4)).pow(2).mean()
                    self.opt.zero_grad()
                    loss.backward()
                    self.opt.step()

            def test(self, n):
                with torch.no_grad():
                    return self.G(torch.randn(n, 4))
        """
        },
    )
    assert findings(root / "gan.py") == [(29, 20, "TRP201")]
    assert messages(root / "gan.py")[0].startswith("`self.G` is in training mode when it runs under `torch.no_grad`")


def test_eval_in_one_method_and_train_in_another_is_maybe_training(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "runner.py": """\
        import torch
        import torch.nn as nn


        class Runner:
            def setup(self):
                torch.manual_seed(0)
                self.net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))

            def evaluate(self):
                self.net.eval()
                with torch.no_grad():
                    return self.net(torch.ones(2, 4))

            def fit(self):
                self.net.train()
                self.net(torch.ones(2, 4)).sum().backward()

            def sample(self):
                with torch.no_grad():
                    return self.net(torch.ones(2, 4))
        """
        },
    )
    assert findings(root / "runner.py") == [(21, 20, "TRP201")]
    assert messages(root / "runner.py")[0].startswith("`self.net` may be in training mode")


def test_an_attribute_only_ever_put_in_eval_mode_is_not_reported(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "runner.py": """\
        import torch
        import torch.nn as nn


        class Predictor:
            def __init__(self):
                torch.manual_seed(0)
                self.net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
                self.net.eval()

            def predict(self, x):
                with torch.no_grad():
                    return self.net(x)
        """
        },
    )
    assert findings(root / "runner.py") == []
    # without the `.eval()` the same forward is reported: the class was judged, not skipped
    text = (root / "runner.py").read_text()
    (root / "runner.py").write_text(text.replace("        self.net.eval()\n", ""))
    reset_projects()
    assert findings(root / "runner.py") == [(12, 20, "TRP201")]


# ---------------------------------------------------------------------------- objects a factory builds
_DETECTOR = """\
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.drop(self.fc(x))


class Detector:
    def __init__(self):
        self.net = Net()

    def detect(self, x):
        with torch.no_grad():
            return self.net(x)
"""

_FACTORY = """\
import torch

from detector import Detector


def load_detector(path):
    det = Detector()
    det.net.load_state_dict(torch.load(path, weights_only=True))
    det.net.eval()
    return det
"""


def test_a_method_starts_from_the_object_its_factories_in_other_files_return(tmp_path: Path) -> None:
    """CodeFormer's `YoloDetector` is built only by `init_yolov5face_model` in another module, which puts its
    detector in eval mode and returns it: `detect_faces()`, which no program calls, runs in eval mode. The
    answer follows the factory's file, and a new place that builds the class its own way (a method that
    keeps it as built) brings the report back: the answer is kept in the cache with both as dependencies."""
    root = project(tmp_path, {"detector.py": _DETECTOR, "factory.py": _FACTORY})
    cached = Settings(select=("TRP",), cache=True)
    assert findings(root / "detector.py", cached) == []
    (root / "factory.py").write_text(_FACTORY.replace("    det.net.eval()\n", ""))
    reset_projects()
    assert findings(root / "detector.py", cached) == [(21, 20, "TRP201")]
    (root / "factory.py").write_text(_FACTORY)
    reset_projects()
    assert findings(root / "detector.py", cached) == []
    (root / "app.py").write_text(
        "from detector import Detector\n\n\nclass App:\n    def __init__(self):\n        self.det = Detector()\n"
    )
    reset_projects()
    assert findings(root / "detector.py", cached) == [(21, 20, "TRP201")]


def test_a_factory_that_evaluates_on_some_paths_leaves_maybe(tmp_path: Path) -> None:
    factory = _FACTORY.replace("    det.net.eval()\n", "    if not path.endswith('.train'):\n        det.net.eval()\n")
    root = project(tmp_path, {"detector.py": _DETECTOR, "factory.py": factory})
    assert findings(root / "detector.py") == [(21, 20, "TRP201")]
    assert messages(root / "detector.py")[0].startswith("`self.net` may be in training mode")


# ---------------------------------------------------------------------------- callers in other files
def test_an_evaluate_helper_called_from_another_file_after_train(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "helpers.py": """\
            import torch


            def run_eval(net, batches):
                outs = []
                with torch.no_grad():
                    for b in batches:
                        outs.append(net(b))
                return outs
            """,
            "train.py": """\
            import torch
            import torch.nn as nn

            from helpers import run_eval

            torch.manual_seed(0)
            model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
            opt = torch.optim.SGD(model.parameters(), lr=0.1)
            for _ in range(3):
                model.train()
                loss = model(torch.ones(4, 2)).sum()
                loss.backward()
                opt.step()
                run_eval(model, [torch.ones(1, 2)])
            """,
        },
    )
    assert findings(root / "helpers.py") == [(8, 25, "TRP201")]
    assert "(called from train.py:14 with the model in training mode)" in messages(root / "helpers.py")[0]
    assert findings(root / "train.py") == []  # reported where the forward is, not at the call
    (root / "train.py").write_text(
        (root / "train.py").read_text().replace("    run_eval(model", "    model.eval()\n    run_eval(model")
    )
    reset_projects()
    assert findings(root / "helpers.py") == []


def test_a_train_call_of_another_file_is_not_in_an_if_of_this_one(tmp_path: Path) -> None:
    """A `.train()` written in a branch that a caller's flag decided is that caller's choice (not reported);
    one made by a helper of another file is not written in that branch, even where its line number falls
    within the branch's lines (helpers.py's line 9, the `if train:` at lines 8-9 here)."""
    root = project(
        tmp_path,
        {
            "helpers.py": "# pad\n" * 7 + "def set_train(model):\n    model.train()\n",
            "test.py": """\
            import torch
            import torch.nn as nn
            from helpers import set_train


            def test(model, train):
                set_train(model)
                if train:
                    print("with training mode")
                with torch.no_grad():
                    return model(torch.ones(1, 2))


            torch.manual_seed(0)
            net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
            net.eval()
            test(net, train=True)
            """,
        },
    )
    assert findings(root / "test.py") == [(11, 16, "TRP201")]
    # the same `.train()` written in the branch: the flag's choice
    (root / "test.py").write_text(
        (root / "test.py").read_text().replace('        print("with training mode")', "        model.train()")
    )
    reset_projects()
    assert findings(root / "test.py") == []


def test_a_training_step_after_another_files_eval_names_that_file(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "helpers.py": "# pad\n" * 8 + "def prepare(model):\n    model.eval()\n",
            "train.py": """\
            import torch
            import torch.nn as nn
            from helpers import prepare

            torch.manual_seed(0)
            model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
            prepare(model)
            opt = torch.optim.SGD(model.parameters(), lr=0.1)
            model(torch.ones(1, 2)).sum().backward()
            opt.step()
            model.eval()
            model(torch.ones(1, 2)).sum().backward()
            """,
        },
    )
    assert findings(root / "train.py") == [(9, 1, "TRP203"), (12, 1, "TRP203")]
    first, second = messages(root / "train.py")
    assert "`model` is in eval mode after `.eval()` at helpers.py:10:" in first
    assert "`model` is in eval mode after `.eval()` at line 11:" in second


# ---------------------------------------------------------------------------- unrelated code changes nothing
BASE = """\
import torch
import torch.nn as nn


def evaluate(model, x):
    with torch.no_grad():
        return model(x)


model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
torch.manual_seed(0)
evaluate(model, torch.ones(1, 2))
"""
BASE_FINDINGS = [(7, 16, "TRP201"), (10, 9, "TRP101")]
UNRELATED = [
    "def helper_{i}(a, b=2):\n    return a * b + {i}\n",
    "def parse_{i}(text):\n    out = []\n    for word in text.split():\n"
    "        if word:\n            out.append(word)\n"
    "    return out\n",
    "class Config{i}:\n    def __init__(self, path):\n        self.path = path\n\n    def read(self):\n"
    "        with open(self.path) as fh:\n            return fh.read()\n",
    "CONSTANT_{i} = {i} * 2\n",
    "def loop_{i}(n):\n    total = 0\n    while n > 0:\n        try:\n            total += n\n        finally:\n"
    "            n -= 1\n    return total\n",
]


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(st.tuples(st.integers(0, len(UNRELATED) - 1), st.sampled_from([3, 9, 13])), max_size=12))
def test_adding_unrelated_functions_never_changes_the_findings(tmp_path: Path, inserts) -> None:
    """Unrelated functions inserted before, between and after the code (at top-level statement
    boundaries) shift the findings' lines and change nothing else."""
    lines = BASE.splitlines(keepends=True)
    added_before = {3: 0, 9: 0, 13: 0}
    for i, (kind, at) in enumerate(inserts):
        added_before[at] += UNRELATED[kind].format(i=i).count("\n") + 2
    chunks: dict[int, list[str]] = {3: [], 9: [], 13: []}
    for i, (kind, at) in enumerate(inserts):
        chunks[at].append("\n" + UNRELATED[kind].format(i=i) + "\n")
    out: list[str] = []
    for n, line in enumerate(lines, 1):
        if n in chunks:
            out.extend(chunks[n])
        out.append(line)
    out.extend(chunks[13])
    source = "".join(out)
    reset_projects()
    got = [(d.line, d.col + 1, d.code) for d in lint_source(source, None, ALL)]

    def shifted(line: int) -> int:
        return line + sum(n for at, n in added_before.items() if at <= line)

    assert got == [(shifted(line), col, code) for line, col, code in BASE_FINDINGS]


# ---------------------------------------------------------------------------- one answer, whatever the order
ORDER_PROJECT = {
    "main.py": """\
        import torch

        from trainers import GanTrainer

        torch.manual_seed(0)
        trainer = GanTrainer()
        trainer.train(3)
        """,
    "trainers.py": """\
        import torch
        import torch.nn as nn


        class Generator(nn.Module):
            def __init__(self):
                super().__init__()
                self.net = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))

            def forward(self, z):
                return self.net(z)


        class GanTrainer:
            def __init__(self):
                self.G = Generator()
                self.opt = torch.optim.Adam(self.G.parameters())

            def train(self, steps):
                for step in range(steps):
                    loss = self.G(torch.randn(8, 4)).pow(2).mean()
                    self.opt.zero_grad()
                    loss.backward()
                    self.opt.step()
                    images = self.sample(4)

            def sample(self, n):
                return self.G(torch.randn(n, 4)).data.cpu().numpy()
        """,
    "other.py": """\
        import torch

        from trainers import GanTrainer

        torch.manual_seed(1)
        GanTrainer().train(1)
        """,
}


def test_findings_do_not_depend_on_which_files_were_linted_before(tmp_path: Path) -> None:
    """The same process lints the files in two orders: identical findings. (A helper stubbed out in the
    copy of a module walked from another file once made the file's own analysis skip it.)"""
    root = project(tmp_path, ORDER_PROJECT)
    names = ["main.py", "trainers.py", "other.py"]
    runs = []
    for order in (names, list(reversed(names))):
        reset_projects()
        got = {}
        for name in order:
            got[name] = findings(root / name)
        runs.append(got)
    assert runs[0] == runs[1]
    assert runs[0]["trainers.py"] == [(28, 16, "TRP201")]
    assert "(called from main.py:7 and other.py:6 with the model in training mode)" in messages(root / "trainers.py")[0]


# ---------------------------------------------------------------------------- one answer per run
_TWO_MODELS_ONE_SITE = """\
import torch
import torch.nn as nn


class A(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))

    def forward(self, x):
        return self.net(x)


class B(A):
    pass


def build(fresh):
    if fresh:
        return A()
    m = B()
    m.load_state_dict(torch.load("b.pt"))
    return m


torch.manual_seed(0)
model = build(False)
print(model(torch.zeros(1, 4)).tolist())
"""


def test_a_site_reached_by_two_models_has_one_answer_whatever_the_hash_seed(tmp_path: Path) -> None:
    """Two models reach one forward (one per branch): the restored one is run for its outputs in
    training mode. Which of the two the walk met first depends on set order, so on PYTHONHASHSEED; the
    finding must not."""
    import subprocess
    import sys

    project(tmp_path, {"run.py": _TWO_MODELS_ONE_SITE})
    outs = set()
    for seed in range(6):
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "torchlint_repro",
                "check",
                "--no-cache",
                "--select",
                "TRP",
                "--format",
                "text",
                "run.py",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env={**__import__("os").environ, "PYTHONHASHSEED": str(seed)},
        )
        outs.add(proc.stdout)
    assert len(outs) == 1, outs
    assert [line.split(" ")[0:2] for line in outs.pop().splitlines()] == [["run.py:28:7:", "TRP201"]]


_PHASE_LOOP = """\
import torch
import torch.nn as nn


def fit(model, loaders, optimizer):
    for phase in ["train", "val"]:
        for x, y in loaders[phase]:
            out = model(x)
            loss = nn.functional.mse_loss(out, y)
            if phase == "train":
                loss.backward()
                optimizer.step()
            else:
                print(loss.item())


def fit_switching(model, loaders, optimizer):
    for phase in ["train", "val"]:
        model.train() if phase == "train" else model.eval()
        for x, y in loaders[phase]:
            with torch.set_grad_enabled(phase == "train"):
                loss = nn.functional.mse_loss(model(x), y)
                if phase == "train":
                    loss.backward()
                    optimizer.step()


torch.manual_seed(0)
net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
opt = torch.optim.SGD(net.parameters(), lr=0.1)
fit(net, {}, opt)
net.train()
fit_switching(net, {}, opt)
"""


def test_a_literal_phase_loop_is_walked_once_per_phase(tmp_path: Path) -> None:
    """`for phase in ["train", "val"]` runs its body once per element: `phase == "train"` is decided in
    each, so the 'val' forward that is never trained on is an inference use, and the switching loop's
    modes are exact (no TRP203 for the 'train' phase after the previous epoch's eval)."""
    path = project(tmp_path, {"fit.py": _PHASE_LOOP}) / "fit.py"
    assert findings(path) == [(8, 19, "TRP201")]
    assert "the `phase = 'val'` iteration of the loop at line 6" in messages(path)[0]


# ---------------------------------------------------------------------------- declared programs
_CLI = """\
import torch.nn as nn

from .evaluation import evaluate


def main():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    print(evaluate(model))


def helper():
    return nn.Linear(2, 2)
"""
_EVALUATION = """\
import torch


def evaluate(model):
    with torch.no_grad():
        return model(torch.zeros(1, 4)).sum().item()
"""


@pytest.mark.parametrize(
    "packaging",
    [
        (
            "setup.py",
            "from setuptools import setup\nsetup(name='pkg', entry_points={'console_scripts': "
            "['pkg-run = pkg.cli:main']})\n",
        ),
        ("pyproject.toml", "[project]\nname = 'pkg'\n[project.scripts]\npkg-run = 'pkg.cli:main'\n"),
        ("setup.cfg", "[options.entry_points]\nconsole_scripts =\n    pkg-run = pkg.cli:main\n"),
    ],
)
def test_a_declared_console_script_is_a_program(tmp_path: Path, packaging: tuple[str, str]) -> None:
    """main() is only ever called by the installed `pkg-run` script: it starts a process (nothing is seeded
    before it), and evaluate() in another file is judged with the state main() hands it. helper(), which
    nothing declares or calls, stays an interface whose callers are unknown."""
    root = project(tmp_path, {"pkg/__init__.py": "", "pkg/cli.py": _CLI, "pkg/evaluation.py": _EVALUATION})
    (root / packaging[0]).write_text(packaging[1], encoding="utf-8")
    reset_projects()
    assert findings(root / "pkg" / "cli.py") == [(7, 13, "TRP101")]
    assert findings(root / "pkg" / "evaluation.py") == [(6, 16, "TRP201")]
    assert "(called from cli.py:8 with the model in training mode)" in messages(root / "pkg" / "evaluation.py")[0]
    # undeclared, main() is a library function: its seed state is its callers' (none known), so silent
    (root / packaging[0]).write_text("", encoding="utf-8")
    reset_projects()
    assert findings(root / "pkg" / "cli.py") == []


# ---------------------------------------------------------------------------- bounds are reported
def _many_states(n: int) -> str:
    lines = [
        "import torch",
        "import torch.nn as nn",
        "",
        "def run(m, x):",
        "    with torch.no_grad():",
        "        return m(x)",
        "",
        "torch.manual_seed(0)",
    ]
    for i in range(n):
        lines += [f"m{i} = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.{i % 9 + 1}))", f"run(m{i}, torch.zeros(1, 2))"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("cache", [False, True])
def test_a_bound_that_widens_is_counted_by_statistics_and_listed_by_verbose(
    tmp_path: Path, cache: bool, monkeypatch
) -> None:
    """run() called with 20 different states: past 16 the calls are summarised (widened to maybe, the
    finding kept). --statistics counts it, --verbose names it, and a warm cache keeps it."""
    from click.testing import CliRunner

    from torchlint_repro.cli import main

    root = project(tmp_path, {"many.py": _many_states(20), "few.py": _many_states(3)})
    monkeypatch.chdir(root)
    monkeypatch.setenv("TORCHLINT_CACHE_DIR", str(tmp_path / "cache"))
    args = ["check", "--statistics", "-v", "-j", "1", "many.py", "few.py"] + ([] if cache else ["--no-cache"])
    for _ in range(2 if cache else 1):  # the second run reads every result from the cache
        reset_projects()
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 1, res.output
        assert "many.py:6:16: TRP201" in res.stdout and "few.py:6:16: TRP201" in res.stdout
        assert "The analysis widened to *maybe* at 1 bound in 1 file" in res.stdout
        assert res.stderr.splitlines() == [
            "torchlint-repro: widened: many.py: run: called with more than 16 different states from one entry "
            "point: further calls are summarised"
        ]
    res = CliRunner().invoke(main, ["check", "--statistics", "-j", "1", "few.py"])
    assert "widened" not in res.output


# ---------------------------------------------------------------------------- values the code fixes
_DECIDED = """\
import os

import torch
import torch.nn as nn


def build(pretrained, classes):
    if pretrained and classes == 80:
        model = torch.load("whole.pt", weights_only=False)
    else:
        model = nn.Linear(4, classes)
    return model


def maybe_seed(seed):
    if seed is None:
        return
    torch.manual_seed(seed)


def test(model, train):
    if train == True:
        model.train()
    else:
        model.eval()
    with torch.no_grad():
        return model(torch.zeros(1, 4))


build(True, 80)
env = os.environ.get("SEED")
maybe_seed(int(env) if env else None)
net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
print(test(net, train=True))
"""


def test_tests_on_values_the_caller_passed_are_decided_and_unknowns_stay_unknown(tmp_path: Path) -> None:
    """build(True, 80) never takes the else branch (no TRP101 for nn.Linear there); `int(env) if env else
    None` may or may not be None, so maybe_seed may seed (TRP102, not TRP101); test(net, train=True) asks
    for training mode by a flag: a deliberate mode, not reported."""
    path = project(tmp_path, {"run.py": _DECIDED}) / "run.py"
    assert findings(path) == [(33, 7, "TRP102")]
    (tmp_path / "run.py").write_text(_DECIDED.replace("build(True, 80)", "build(True, 10)"))
    reset_projects()
    assert findings(tmp_path / "run.py") == [(11, 17, "TRP101"), (33, 7, "TRP102")]


# ---------------------------------------------------------------------------- objects a program leaves
_TRAINER = """\
import torch
import torch.nn as nn


class Trainer:
    def __init__(self, G, D, G_opt):
        self.G = G
        self.D = D
        self.G_opt = G_opt

    def step(self, z):
        generated = self.G(z)
        d_generated = self.D(generated)
        g_loss = -d_generated.mean()
        g_loss.backward()
        self.G_opt.step()

    def sample(self, z):
        return self.G(z).data.cpu().numpy()

    def _debug(self, z):
        return self.G(z).tolist()


torch.manual_seed(0)
G = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
D = nn.Linear(2, 1)
trainer = Trainer(G, D, torch.optim.SGD(G.parameters(), lr=0.1))
for _ in range(3):
    trainer.step(torch.zeros(4, 2))
"""


def test_the_public_methods_of_an_object_a_program_leaves_are_walked_after_it(tmp_path: Path) -> None:
    """The program trains G through trainer.step() (a method named like an optimizer's, still the
    object's own; D(G(z)).backward() trains G through D). Nothing calls trainer.sample(), the API a
    user calls next: it runs the trained G in training mode for numbers (TRP201). The private _debug()
    is not an API."""
    path = project(tmp_path, {"gan.py": _TRAINER}) / "gan.py"
    assert findings(path) == [(19, 16, "TRP201")]
    (tmp_path / "gan.py").write_text(_TRAINER + "G.eval()\n")
    reset_projects()
    assert findings(tmp_path / "gan.py") == []


@pytest.mark.parametrize("called", [False, True])
def test_what_a_constructor_in_another_module_stores_is_seen_by_its_methods(tmp_path: Path, called: bool) -> None:
    """The class in one module, the program that builds and drives its object in another: ``__init__``
    only stores what it is handed (`self.G = G`, nothing it runs itself), and the methods walked from
    the program, called by it or left for a user to call, see the program's G (trained, in training
    mode), as when both are in one file."""
    cls, program = _TRAINER.split("\n\n\ntorch.manual_seed(0)\n")
    main = "import torch\nimport torch.nn as nn\nfrom trainer import Trainer\n\ntorch.manual_seed(0)\n" + program
    if called:
        main += "print(trainer.sample(torch.zeros(4, 2)))\n"
    root = project(tmp_path, {"trainer.py": cls + "\n", "main.py": main})
    assert findings(root / "trainer.py") == [(19, 16, "TRP201")]
    assert findings(root / "main.py") == []


def test_more_objects_than_are_continued_is_a_counted_widening(tmp_path: Path) -> None:
    """A program that leaves 17 objects behind: the methods of the first 16 are walked after it, and the
    bound says so (never a silent drop)."""
    from torchlint_repro.analysis.context import ModuleCtx
    from torchlint_repro.analysis.tracker import MAX_CONTINUED, Walker

    n = MAX_CONTINUED + 1
    text = _TRAINER + "".join(f"t{i} = Trainer(G, D, None)\n" for i in range(n))
    path = project(tmp_path, {"many.py": text}) / "many.py"
    import ast

    from torchlint_repro.analysis.project import project_for

    ctx = ModuleCtx(str(path), ast.parse(text), project_for(str(path), ALL), linted=True)
    walker = Walker(ctx, ALL)
    walker.run()
    assert (
        str(path),
        "<module>",
        f"{n + 1} objects left by the program: the methods of the first "
        f"{MAX_CONTINUED} are walked after it, those of the rest are not",
    ) in walker.widened


def test_more_package_modules_than_an_eval_name_follows_is_a_counted_widening(tmp_path: Path) -> None:
    """`eval("models." + name + ".build")` over a package with more modules defining `build` than are followed:
    the first MAX_PACKAGE_MEMBERS are, one report names them, and the bound says so (never a silent drop)."""
    from torchlint_repro.analysis.project import MAX_PACKAGE_MEMBERS

    files = {"models/__init__.py": ""}
    for i in range(MAX_PACKAGE_MEMBERS + 2):
        files[f"models/m{i:02d}.py"] = "import torch.nn as nn\n\n\ndef build(n):\n    return nn.Linear(n, n)\n"
    files["train.py"] = (
        "import sys\n\nimport torch\n\nimport models\n\n"
        'model = eval("models." + sys.argv[1] + ".build")(4)\n'
        "opt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "model(torch.zeros(1, 4)).sum().backward()\nopt.step()\n"
    )
    path = project(tmp_path, files) / "train.py"
    widened: list[str] = []
    diags = lint_source(path.read_text(), str(path), ALL, widened=widened)
    assert [(d.line, d.col, d.code) for d in diags] == [(7, 8, "TRP101")]
    assert f"{MAX_PACKAGE_MEMBERS} constructions" in diags[0].message
    assert any(f"the first {MAX_PACKAGE_MEMBERS} (by name) are followed, the rest are not" in w for w in widened)


# ---------------------------------------------------------------------------- argparse defaults as sizes
_UPSAMPLER = """\
import torch.nn as nn


class Up(nn.Module):
    def __init__(self, scale):
        super().__init__()
        self.up = nn.Linear(8, 8 * scale)
"""


def _script(default: str, extra: str = "", save: bool = False) -> str:
    last = 'torch.save(net.state_dict(), "up.pt")' if save else 'net.load_state_dict(torch.load("up.pt"))'
    return (
        "import argparse\n\nimport torch\n\nfrom model import Up\n\n"
        f"parser = argparse.ArgumentParser()\nparser.add_argument({default})\nargs = parser.parse_args()\n"
        f"{extra}torch.manual_seed(0)\nnet = Up(scale=args.scale)\n{last}\n"
    )


@pytest.mark.parametrize(
    ("train_default", "test_default", "test_extra", "expected"),
    [
        ('"--scale", type=int, default=2', '"--scale", type=int, default=4', "", [(12, 1, "TRP307")]),
        ('"--scale", type=int, default=2', '"--scale", type=int, default="4"', "", [(12, 1, "TRP307")]),
        ('"--scale", type=int, default=2', '"--scale", type=int, default=2', "", []),
        # the value the script runs with is not the declared default: nothing to compare
        ('"--scale", type=int, default=2', '"--scale", type=int, default=4', "args.scale = 2\n", []),
        ('"--scale", type=int, default=2', '"--scale", type=int, default=4', "parser.set_defaults(scale=2)\n", []),
        ('"--scale", type=int, default=2', '"--scale", type=int', "", []),
    ],
)
def test_architectures_built_from_each_scripts_argparse_default_are_compared(
    tmp_path: Path, train_default: str, test_default: str, test_extra: str, expected: list
) -> None:
    """train.py builds `Up(scale=args.scale)` with its --scale default, test.py with its own: the checkpoint
    train.py saves does not fit the model test.py builds when the defaults differ (TRP307, naming both)."""
    root = project(
        tmp_path,
        {
            "model.py": _UPSAMPLER,
            "train.py": _script(train_default, save=True),
            "test.py": _script(test_default, test_extra),
        },
    )
    line = 12 + test_extra.count("\n")
    assert findings(root / "test.py") == [(line, c, code) for _, c, code in expected]
    if expected:
        assert messages(root / "test.py") == [
            "`net.load_state_dict`: saved from `Up(scale=2)` (`--scale` default at train.py:8), loaded into "
            "`Up(scale=4)` (`--scale` default at test.py:8) (saved at train.py:12)"
        ]


# ---------------------------------------------------------------------------- modules without random parameters
_FIXED_FILTER = """\
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, weight):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, kernel_size=3, bias=False)
        self.conv.weight = nn.Parameter(weight)


filters = torch.ones(4, 1, 3, 3)
model = Net(filters)
print(model(torch.ones(1, 1, 8, 8)))
"""


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("", "", []),  # every parameter replaced by a fixed one: nothing random survives
        ("self.conv.weight = nn.Parameter(weight)", "self.conv.weight.data = weight", []),
        # the bias keeps its random init
        ("kernel_size=3, bias=False", "kernel_size=3", [(13, 9, "TRP101")]),
        # replaced on some paths only
        (
            "        self.conv.weight = nn",
            "        if weight is not None:\n            self.conv.weight = nn",
            [(14, 9, "TRP101")],
        ),
        # computed from the layer's own random weight
        ("nn.Parameter(weight)", "nn.Parameter(self.conv.weight * weight)", [(13, 9, "TRP101")]),
        # copied into, whole: under no_grad, through .data, shaped by the layer's own metadata
        (
            "        self.conv.weight = nn.Parameter(weight)",
            "        with torch.no_grad():\n            self.conv.weight.copy_(weight)",
            [],
        ),
        (
            "self.conv.weight = nn.Parameter(weight)",
            "self.conv.weight.data.copy_(weight.view(self.conv.weight.size()))",
            [],
        ),
        ("self.conv.weight = nn.Parameter(weight)", "nn.init.ones_(self.conv.weight)", []),
        # drawn at random, a slice only, or the layer's own values
        ("self.conv.weight = nn.Parameter(weight)", "nn.init.normal_(self.conv.weight)", [(13, 9, "TRP101")]),
        ("self.conv.weight = nn.Parameter(weight)", "self.conv.weight.data[0].copy_(weight[0])", [(13, 9, "TRP101")]),
        (
            "self.conv.weight = nn.Parameter(weight)",
            "self.conv.weight.data.copy_(self.conv.weight.data + weight)",
            [(13, 9, "TRP101")],
        ),
        (
            "self.conv.weight = nn.Parameter(weight)",
            "doubled = self.conv.weight.data * 2\n        self.conv.weight.data.copy_(doubled)",
            [(14, 9, "TRP101")],
        ),
    ],
)
def test_a_layer_whose_parameters_init_replaces_with_fixed_ones_is_not_random(
    tmp_path: Path, old: str, new: str, expected: list
) -> None:
    text = _FIXED_FILTER.replace(old, new) if old else _FIXED_FILTER
    path = project(tmp_path, {"viz.py": text}) / "viz.py"
    assert findings(path) == expected


_WRAPPER = """\
import logging

import torch
import torch.nn as nn

LOGGER = logging.getLogger(__name__)


class Wrapper(nn.Module):
    def __init__(self, model, verbose=True):
        super().__init__()
        if verbose:
            LOGGER.info("wrapping")
        self.plain = isinstance(model, nn.Sequential)
        self.model = model.eval()

    def forward(self, x):
        return self.model(x)


net = torch.load("net.pt", weights_only=False)
wrapped = Wrapper(net)
print(wrapped(torch.ones(1, 4)))
"""


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("", "", []),  # holds the module it is handed, in eval mode: no parameter of its own
        ("model.eval()", "model.head()", [(22, 11, "TRP101")]),  # a call we cannot see into: maybe a new layer
    ],
)
def test_a_wrapper_holding_the_model_it_is_handed_has_no_random_parameters(
    tmp_path: Path, old: str, new: str, expected: list
) -> None:
    path = project(tmp_path, {"wrap.py": _WRAPPER.replace(old, new) if old else _WRAPPER}) / "wrap.py"
    assert findings(path) == expected


# ---------------------------------------------------------------------------- spawned workers import the module
_SPAWN_HEAD = """\
import argparse
import multiprocessing
import torch
import torch.multiprocessing as mp
from torch import nn
"""
_SPAWN_WORKER = """
def worker(rank):
    model = nn.Linear(2, 1)
    print(rank, model(torch.ones(1, 2)).sum().item())
"""


@pytest.mark.parametrize(
    ("before", "after", "main", "expected"),
    [
        # the child re-imports the module: a module-level seed runs in it before the worker
        ("torch.manual_seed(0)\n", "", "mp.spawn(worker, nprocs=2)", []),
        ("", "torch.manual_seed(0)\n", "mp.spawn(worker, nprocs=2)", []),
        ("torch.manual_seed(0)\n", "", "multiprocessing.Process(target=worker, args=(0,)).start()", []),
        ("torch.manual_seed(0)\n", "", "multiprocessing.get_context('spawn').Process(target=worker).start()", []),
        ("torch.cuda.manual_seed_all(0)\n", "", "mp.spawn(worker, nprocs=2)", [(9, 13, "TRP103")]),
        # the seed on some paths of the module level only: seeded on some paths in the child too
        (
            "args = argparse.ArgumentParser().parse_args()\nif args.seed:\n    torch.manual_seed(0)\n",
            "",
            "mp.spawn(worker, nprocs=2)",
            [(11, 13, "TRP102")],
        ),
        # the __main__ block does not run in the child: its seed stays in the parent
        ("", "", "torch.manual_seed(0)\n    mp.spawn(worker, nprocs=2)", [(8, 13, "TRP101")]),
        (
            "",
            "",
            "torch.manual_seed(0)\n    multiprocessing.Process(target=worker, args=(0,)).start()",
            [(8, 13, "TRP101")],
        ),
        # nor does main(), called from it
        (
            "def main():\n    torch.manual_seed(0)\n    mp.spawn(worker, nprocs=2)\n",
            "",
            "main()",
            [(11, 13, "TRP101")],
        ),
    ],
    ids=[
        "module-seed",
        "module-seed-after-worker",
        "module-seed-process",
        "module-seed-spawn-context",
        "module-cuda-seed-only",
        "module-seed-some-paths",
        "main-block-seed",
        "main-block-seed-process",
        "seed-in-main",
    ],
)
def test_a_spawned_worker_starts_where_importing_the_module_leaves_the_generator(
    tmp_path: Path, before: str, after: str, main: str, expected: list
) -> None:
    text = _SPAWN_HEAD + before + _SPAWN_WORKER + after + f'\n\nif __name__ == "__main__":\n    {main}\n'
    path = project(tmp_path, {"train.py": text}) / "train.py"
    assert findings(path, Settings(select=("TRP",), extend_select=("TRP102",), cache=False)) == expected


# ---------------------------------------------------------------------------- whole-module checkpoints
_WHOLE_NET = """
    import torch
    import torch.nn as nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.drop = nn.Dropout(0.5)

        def forward(self, x):
            return self.drop(self.fc(x))
"""
_WHOLE_TRAIN = """
    import torch
    from model import Net

    torch.manual_seed(0)
    model = Net()
    {mode}
    torch.save(model, "whole.pt")
"""
_WHOLE_PREDICT = """
    import torch

    torch.manual_seed(0)
    net = torch.load("whole.pt", weights_only=False)
    with torch.no_grad():
        net(torch.ones(1, 4))
"""


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("model.train()", [(7, 5, "TRP201")]), ("model.eval()", []), ("model.train() if len('') else model.eval()", [])],
)
def test_a_whole_module_loads_in_the_mode_its_save_site_left_it(tmp_path: Path, mode: str, expected: list) -> None:
    files = {"model.py": _WHOLE_NET, "train.py": _WHOLE_TRAIN.format(mode=mode), "predict.py": _WHOLE_PREDICT}
    root = project(tmp_path, files)
    assert findings(root / "predict.py") == expected


def test_a_whole_module_from_unknown_or_mixed_saves_keeps_an_unknown_mode(tmp_path: Path) -> None:
    other = """
        import torch
        import torch.nn as nn

        torch.save({"model": nn.Linear(4, 4).state_dict()}, "whole.pt")
    """
    files = {"model.py": _WHOLE_NET, "train.py": _WHOLE_TRAIN.format(mode=""), "other.py": other}
    root = project(tmp_path, {**files, "predict.py": _WHOLE_PREDICT})
    assert findings(root / "predict.py") == []
    (root / "other.py").unlink()
    (root / "predict.py").write_text(textwrap.dedent(_WHOLE_PREDICT).replace("whole.pt", "elsewhere.pt"))
    reset_projects()
    assert findings(root / "predict.py") == []


def test_a_whole_module_of_a_class_without_mode_dependent_layers_is_not_reported(tmp_path: Path) -> None:
    net = _WHOLE_NET.replace("self.drop = nn.Dropout(0.5)", "self.drop = nn.ReLU()")
    files = {"model.py": net, "train.py": _WHOLE_TRAIN.format(mode=""), "predict.py": _WHOLE_PREDICT}
    root = project(tmp_path, files)
    assert findings(root / "predict.py") == []


# ---------------------------------------------------------------------------- phase loops
_PHASES = """
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


def fit(model, loaders, optimizer, train=False):
    for phase in ("train", "val"):
        if phase == "train":
            model.train()
        {other}
        for x, y in loaders[phase]:
            with torch.set_grad_enabled(phase == "train"):
                loss = F.cross_entropy(model(x), y)
                if phase == "train":
                    loss.backward()
                    optimizer.step()


model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
fit(model, {{"train": [], "val": []}}, torch.optim.SGD(model.parameters(), lr=0.1))
"""


@pytest.mark.parametrize(
    ("other", "expected"),
    [
        ("", [(16, 40, "TRP201")]),  # the 'train' iteration's train() reaches the 'val' pass
        ("else:\n            model.eval()", []),
        ("if train:\n            model.train()", [(17, 40, "TRP201")]),
    ],
)
def test_a_train_call_decided_by_the_phase_loop_is_no_callers_flag(other: str, expected: list) -> None:
    source = _PHASES.format(other=other)
    got = [(d.line, d.col + 1, d.code) for d in lint_source(source, "/nonexistent/phases.py", ALL)]
    assert got == expected


# ---------------------------------------------------------------------------- overwritten on some paths
def test_a_model_overwritten_on_the_resume_path_only_says_so() -> None:
    source = textwrap.dedent(
        """\
        import sys
        import torch
        import torch.nn as nn

        net = nn.Linear(2, 2)
        if len(sys.argv) > 1:
            net.load_state_dict(torch.load(sys.argv[1], weights_only=True))
        net(torch.ones(1, 2)).sum().backward()
        """
    )
    (diag,) = lint_source(source, "/nonexistent/resume.py", ALL)
    assert (diag.line, diag.code) == (5, "TRP101")
    assert "its weights are restored on some paths only, the others keep the random init" in diag.message
    always = source.replace("if len(sys.argv) > 1:\n    ", "")
    assert lint_source(always, "/nonexistent/resume.py", ALL) == []


# ---------------------------------------------------------------------------- classes chosen by name
_ARCHS = """
import torch.nn as nn

class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

class Free(nn.Module):
    def forward(self, x):
        return x
"""


def test_a_class_chosen_by_name_from_a_project_module_is_a_construction(tmp_path: Path) -> None:
    train = """
        import sys
        import torch
        import archs

        name = sys.argv[1]
        a = archs.__dict__[name]()
        b = getattr(archs, name)()
        c = getattr(archs, "Free")()
        d = getattr(sys, name)()
        for m in (a, b, c):
            m(1).backward()
    """
    root = project(tmp_path, {"archs.py": _ARCHS, "train.py": train})
    assert findings(root / "train.py") == [(7, 5, "TRP101"), (8, 5, "TRP101")]
    # a module whose classes have no random parameters: nothing to report
    (root / "archs.py").write_text(textwrap.dedent(_ARCHS).replace("nn.Linear(4, 2)", "nn.ReLU()"))
    reset_projects()
    assert findings(root / "train.py") == []


# ---------------------------------------------------------------------------- conditional DataParallel
_DP = """
import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Linear(2, 2)
if torch.cuda.device_count() > 1:
    model = nn.DataParallel(model)
{save}
restored = nn.Linear(2, 2)
restored.load_state_dict(torch.load("dp.pt", weights_only=True))
"""


@pytest.mark.parametrize(
    ("save", "hazard"),
    [
        ('torch.save(model.state_dict(), "dp.pt")', True),
        (
            "sd = model.module.state_dict() if isinstance(model, nn.DataParallel) else model.state_dict()\n"
            'torch.save(sd, "dp.pt")',
            False,
        ),
        (
            'if hasattr(model, "module"):\n    sd = model.module.state_dict()\n'
            'else:\n    sd = model.state_dict()\ntorch.save(sd, "dp.pt")',
            False,
        ),
        ('if not isinstance(model, nn.DataParallel):\n    torch.save(model.state_dict(), "dp.pt")', False),
    ],
)
def test_a_state_dict_saved_from_a_conditionally_wrapped_model(save: str, hazard: bool) -> None:
    source = _DP.format(save=save)
    load_line = source[: source.index("restored.load")].count("\n") + 1
    got = lint_source(source, "/nonexistent/dp.py", ALL)
    assert [(d.line, d.col + 1, d.code) for d in got] == ([(load_line, 1, "TRP306")] if hazard else [])
    if hazard:
        assert "wrapped conditionally, e.g. for more than one GPU" in got[0].message


# ---------------------------------------------------------------------------- strict=False results unpacked
_UNPACKED = """
import torch
import torch.nn as nn

model = nn.Linear(2, 2)
missing, unexpected = model.load_state_dict(torch.load("w.pt", weights_only=True), strict=False)
{after}
print("loaded", torch.equal(model(torch.ones(1, 2)), torch.ones(1, 2)))
"""


@pytest.mark.parametrize(
    ("after", "hazard"),
    [
        ("", True),  # neither name read (and a print naming torch and the model reports no keys)
        ("_ = 1", True),
        ("if missing:\n    raise RuntimeError('checkpoint does not fit')", False),
        ("print(unexpected)", False),
        ("report = [missing, unexpected]", False),
    ],
)
def test_a_non_strict_result_unpacked_into_names_never_read_is_ignored(after: str, hazard: bool) -> None:
    got = [(d.line, d.code) for d in lint_source(_UNPACKED.format(after=after), "/nonexistent/u.py", ALL)]
    assert [g for g in got if g[1] == "TRP305"] == ([(6, "TRP305")] if hazard else [])


# ---------------------------------------------------------------------------- what is trained, what is looked at
_PERCEPTUAL = """\
    import torch, torch.nn as nn
    torch.manual_seed(0)
    gen = nn.Linear(4, 4)
    feat = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4)); feat.eval()
    {freeze}
    opt = torch.optim.Adam({params})
    for _ in range(3):
        loss = feat(gen(torch.randn(8, 4))).pow(2).mean()
        opt.zero_grad(); loss.backward(); opt.step()
"""


@pytest.mark.parametrize(
    ("freeze", "params", "expected"),
    [
        ("for p in feat.parameters(): p.requires_grad = False", "gen.parameters()", []),
        ("feat.requires_grad_(False)", "[*gen.parameters(), *feat.parameters()]", []),
        ("for n, p in feat.named_parameters(): p.requires_grad_(False)", "gen.parameters()", []),
        ("pass", "gen.parameters()", []),  # no optimizer holds it: not trained
        ("pass", "list(gen.parameters()) + list(feat.parameters())", [(8, 12, "TRP203")]),
        ("pass", "[{'params': gen.parameters()}, {'params': feat.parameters(), 'lr': 1e-4}]", [(8, 12, "TRP203")]),
        ("params = list(gen.parameters())", "params", [(8, 12, "TRP203")]),  # a list built elsewhere: unknown
        ("feat.requires_grad_(False); feat.requires_grad_(True)", "gen.parameters()", []),
        ("feat.requires_grad_(False); feat.requires_grad_(True)", "feat.parameters()", [(8, 12, "TRP203")]),
    ],
)
def test_a_model_that_is_not_trained_is_not_trained_in_eval_mode(
    tmp_path: Path, freeze: str, params: str, expected: list
) -> None:
    """A frozen feature extractor (a perceptual loss's VGG) in eval mode computes the loss; TRP203 is for
    a model whose parameters an optimizer updates while it is in eval mode."""
    root = project(tmp_path, {"train.py": _PERCEPTUAL.format(freeze=freeze, params=params)})
    assert findings(root / "train.py") == expected


def test_smoke_tests_that_look_only_at_metadata_are_not_inference(tmp_path: Path) -> None:
    """`test()` in a model file: an output used only for its shape, dtype or device reaches no result."""
    root = project(
        tmp_path,
        {
            "model.py": """\
            import torch, torch.nn as nn
            torch.manual_seed(0)
            def test():
                net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
                y = net(torch.randn(2, 4))
                print(y.size())
            def test_assert():
                net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
                y = net(torch.randn(2, 4))
                assert y.shape == (2, 4) and y.dtype == torch.float32, y.device
            def test_print():
                net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
                y = net(torch.randn(2, 4))
                print(y)
            def test_view():
                net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
                y = net(torch.randn(2, 4))
                z = y.view(-1)
                print(z.shape)
            """
        },
    )
    assert findings(root / "model.py") == [(13, 9, "TRP201"), (17, 9, "TRP201")]


# ---------------------------------------------------------------------------- checkpoints saved by a project helper
_SAVE_HELPER = """\
import torch


def save_checkpoint(state, filename="checkpoint.pth"):
    torch.save(state, filename)
"""
_TRAIN_WITH_HELPER = """\
import torch
from torch import nn

from utils import save_checkpoint

torch.manual_seed(0)
gen, disc = nn.Linear(4, 2), nn.Linear(2, 1)
opt = torch.optim.SGD(gen.parameters(), lr=0.1)
for epoch in range(2):
    gen(torch.ones(1, 4)).sum().backward()
    opt.step()
    save_checkpoint({"epoch": epoch, "gen_state": gen.state_dict(), ENTRIES}, "ckpt.pth")
"""
_LOAD_WHOLE = """\
import torch
from torch import nn

torch.manual_seed(0)
gen = nn.Linear(4, 2)
gen.load_state_dict(torch.load("ckpt.pth"))
"""


@pytest.mark.parametrize(
    ("entries", "hint"),
    [
        ('"opt": opt.state_dict()', "pass the model's entry, `ckpt['gen_state']`"),  # an optimizer is no model
        ('"disc_state": disc.state_dict()', "pass the model's entry, one of `ckpt['disc_state']`, `ckpt['gen_state']`"),
    ],
)
def test_a_checkpoint_written_by_a_project_helper_names_the_entry_to_load(tmp_path: Path, entries, hint) -> None:
    """Issue 15, shape 2: the dict is built by the caller and saved by a helper in another file; the load
    that passes the whole file to load_state_dict is TRP304, and the message names the key to use."""
    root = project(
        tmp_path,
        {"utils.py": _SAVE_HELPER, "train.py": _TRAIN_WITH_HELPER.replace("ENTRIES", entries), "test.py": _LOAD_WHOLE},
    )
    assert findings(root / "test.py") == [(6, 1, "TRP304")]
    (message,) = messages(root / "test.py")
    assert "(utils.py:5 saved a dict with keys 'epoch', 'gen_state', " in message
    assert message.endswith(hint), message


# ---------------------------------------------------------------------------- a pretrained part, a random head
_PRETRAINED_PARTS = """\
import torch
import torch.nn as nn
import torchvision.models as models


class EncoderCNN(nn.Module):
    def __init__(self, embed_size):
        super().__init__()
        resnet = models.resnet152(pretrained=True)
        self.resnet = nn.Sequential(*list(resnet.children())[:-1])
        self.linear = nn.Linear(resnet.fc.in_features, embed_size)

    def forward(self, images):
        return self.linear(self.resnet(images).flatten(1))


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = models.resnet50(pretrained=True)

    def forward(self, x):
        return self.net(x)


class Restored(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 2)
        self.load_state_dict(torch.load("head.pt"))


for model in (EncoderCNN(256), Backbone(), Restored()):
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    model(torch.randn(2, 3, 8, 8)).sum().backward()
    opt.step()
"""


def test_a_pretrained_backbone_does_not_restore_the_new_layers_beside_it(tmp_path: Path) -> None:
    """`models.resnet152(pretrained=True)` restores the backbone only: the new head keeps a random init, so
    building the class is unseeded (issue 14's precision list names modules that load their *own* weights)."""
    path = project(tmp_path, {"train.py": _PRETRAINED_PARTS}) / "train.py"
    assert findings(path) == [(33, 15, "TRP101")]


def test_a_from_pretrained_encoder_does_not_restore_the_classifier_beside_it(tmp_path: Path) -> None:
    """The standard fine-tuning module: `BertModel.from_pretrained` restores the encoder, the new head is random."""
    path = project(tmp_path, {"m.py": HF_PARTS}) / "m.py"
    assert findings(path) == [(26, 15, "TRP101")]


HF_PARTS = """\
import torch
import torch.nn as nn
from transformers import AutoModel, BertModel


class Classifier(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.bert = BertModel.from_pretrained("bert-base-uncased")
        self.drop = nn.Dropout(0.1)
        self.head = nn.Linear(768, n)

    def forward(self, ids):
        return self.head(self.drop(self.bert(ids).pooler_output))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.bert = AutoModel.from_pretrained("bert-base-uncased")

    def forward(self, ids):
        return self.bert(ids).last_hidden_state


for model in (Classifier(3), Encoder()):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5)
    model(torch.ones(2, 8, dtype=torch.long)).sum().backward()
    opt.step()
"""


# ---------------------------------------------------------------------------- a weights reader of the project's own
_READER = """\
import numpy as np
import torch
import torch.nn as nn


class Darknet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        return self.conv(x)


def load_darknet_weights(self, weights):
    with open(weights, "rb") as f:
        w = np.fromfile(f, dtype=np.float32)
    conv = self.conv
    n = conv.weight.numel()
    conv.weight.data.copy_(torch.from_numpy(w[:n]).view_as(conv.weight))
    conv.bias.data.copy_(torch.from_numpy(w[n : n + 4]))


def describe(self, path):
    with open(path, "w") as f:
        f.write(str(self.conv.weight.shape))
"""
_DETECT = """\
import torch

from models import Darknet, describe, load_darknet_weights

model = Darknet()
try:
    model.load_state_dict(torch.load("w.pt")["model"])
except Exception:
    OTHER(model, "yolov4.weights")
model.eval()
with torch.no_grad():
    print(model(torch.randn(1, 3, 8, 8)))
"""


@pytest.mark.parametrize(
    ("other", "expected"),
    [
        ("load_darknet_weights", []),  # reads the file into the parameters: every path restores weights
        ("describe", [(5, 9, "TRP101")]),  # opens a file, copies nothing into the model: the random init stays
    ],
)
def test_a_project_function_reading_a_file_into_parameters_restores_weights(tmp_path: Path, other, expected) -> None:
    root = project(tmp_path, {"models.py": _READER, "detect.py": _DETECT.replace("OTHER", other)})
    assert findings(root / "detect.py") == expected


_PARTIAL_READER = """\
import numpy as np
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.head = nn.Linear(4, 10)

    def forward(self, x):
        return self.head(self.conv(x).mean((2, 3)))

    def load_backbone_npz(self, path):
        w = np.load(path)
        self.conv.weight.data.copy_(torch.from_numpy(w["conv/kernel"]))
        self.conv.bias.data.copy_(torch.from_numpy(w["conv/bias"]))


net = Net()
net.load_backbone_npz("backbone.npz")
opt = torch.optim.SGD(net.parameters(), lr=0.1)
net(torch.ones(1, 3, 4, 4)).sum().backward()
opt.step()
"""


def test_a_method_reading_a_file_into_some_parameters_leaves_the_init_random(tmp_path: Path) -> None:
    """A model's own method that copies a converted backbone into some of its layers: the new head keeps its
    random init. (Taking any such method for a whole restore lost this finding: the review of 33b929e.)"""
    root = project(tmp_path, {"train.py": _PARTIAL_READER})
    assert findings(root / "train.py") == [(21, 7, "TRP101")]


_ABS_NET = """\
import torch.nn as nn


class SegNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = nn.Conv2d(3, 4, 1)

    def forward(self, x):
        return self.head(x)
"""
_ABS_TRAIN = """\
import sys

sys.path.append("FOLDER")
from net import SegNet

import torch

model = SegNet()
opt = torch.optim.SGD(model.parameters(), lr=0.01)
model(torch.randn(2, 3, 8, 8)).mean().backward()
opt.step()
"""


@pytest.mark.parametrize(
    ("folder", "expected"),
    [
        ("/root/deeplabv3/model", [(8, 9, "TRP101")]),  # the checkout is named as on its author's machine
        ("/home/me/code/deeplabv3/model/", [(8, 9, "TRP101")]),
        ("/root/other/model", []),  # no folder of the project is `other`: the import stays unresolved
        ("/root/deeplabv3/models", []),  # no such folder under it
    ],
)
def test_an_absolute_sys_path_of_the_authors_machine_resolves_in_the_checkout(tmp_path: Path, folder, expected) -> None:
    """fregu856/deeplabv3 (trial 11): `sys.path.append("/root/deeplabv3/model")` in the training script."""
    (tmp_path / "deeplabv3").mkdir()
    root = project(
        tmp_path / "deeplabv3",
        {"model/net.py": _ABS_NET, "training/train.py": _ABS_TRAIN.replace("FOLDER", folder)},
    )
    assert findings(root / "training" / "train.py") == expected


_BY_OPTION_NET = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x)


def SmallNet():
    return Net()
"""
_BY_OPTION_TRAIN = """\
import argparse

import torch

import models

parser = argparse.ArgumentParser()
parser.add_argument("--model", default="DEFAULT")
args = parser.parse_args()

net = LOOKUP
opt = torch.optim.SGD(net.parameters(), lr=0.1)
net(torch.randn(8, 4)).pow(2).mean().backward()
opt.step()
"""


@pytest.mark.parametrize(
    ("lookup", "default", "expected"),
    [
        # mixup-cifar10's idiom (trial 10): the factory's construction, in its own file
        ("models.__dict__[args.model]()", "SmallNet", [("models/net.py", 14, 12, "TRP101")]),
        ("getattr(models, args.model)()", "SmallNet", [("models/net.py", 14, 12, "TRP101")]),
        ("models.__dict__[args.model]()", "Net", [("train.py", 11, 7, "TRP101")]),  # the class, built at the call
        ("models.__dict__[args.model]()", "Missing", []),  # names nothing the package has: not followed
    ],
)
def test_a_definition_a_package_is_asked_for_by_an_options_default_is_followed(
    tmp_path: Path, lookup, default, expected
) -> None:
    """`models.__dict__[args.model]()` with `--model` defaulting to a definition re-exported by
    `models/__init__.py` (`from .net import *`): the script runs it without the option."""
    root = project(
        tmp_path,
        {
            "models/__init__.py": "from .net import *\n",
            "models/net.py": _BY_OPTION_NET,
            "train.py": _BY_OPTION_TRAIN.replace("LOOKUP", lookup).replace("DEFAULT", default),
        },
    )
    got = [(name, *f) for name in ("models/net.py", "train.py") for f in findings(root / name)]
    assert got == expected


# ---------------------------------------------------------------------------- a module that seeds when imported
_SEEDING_MODULE = """\
import torch

SEED

def helper():
    return 1
"""
_IMPORTER = """\
import torch
from torch import nn

BEFORE
model = nn.Linear(4, 2)
AFTER
opt = torch.optim.SGD(model.parameters(), lr=0.1)
model(torch.ones(1, 4)).sum().backward()
opt.step()
"""


@pytest.mark.parametrize(
    ("seed", "before", "after", "expected"),
    [
        ("torch.manual_seed(0)", "import setup_env", "", []),
        ("torch.manual_seed(0)", "from setup_env import helper", "", []),  # the module runs all the same
        ("torch.manual_seed(0)", "from . import setup_env", "", []),
        ("torch.manual_seed(0)", "", "import setup_env", [(5, 9, "TRP101")]),  # imported after the model
        ('if __name__ == "__main__":\n    torch.manual_seed(0)', "import setup_env", "", [(5, 9, "TRP101")]),
        ("torch.seed()", "import setup_env", "", [(5, 9, "TRP101")]),  # a random seed is no seed
    ],
)
def test_a_project_module_that_seeds_at_import_seeds_its_importer(tmp_path: Path, seed, before, after, expected):
    """Issue 14: a module that calls torch.manual_seed at import time seeds every importer from the import on."""
    root = project(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/setup_env.py": _SEEDING_MODULE.replace("SEED", seed),
            "pkg/train.py": _IMPORTER.replace("BEFORE", before).replace("AFTER", after),
        },
    )
    assert findings(root / "pkg" / "train.py") == expected
    if after:
        (message,) = messages(root / "pkg" / "train.py")
        assert message.endswith("; `import setup_env` (it seeds torch) runs at line 6, after this construction")


# ---------------------------------------------------------------------------- seed-functions by bare name
_OWN_SEEDER = """\
import mylib


def seed_all(seed):
    mylib.seed_everything_native(seed)  # seeds torch in C: nothing here says so
"""
_USES_OWN_SEEDER = """\
import torch
from torch import nn

from tools.seeding import seed_all

seed_all(0)
model = nn.Linear(4, 2)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
model(torch.ones(1, 4)).sum().backward()
opt.step()
"""


@pytest.mark.parametrize(
    ("listed", "expected"),
    [
        ((), [(7, 9, "TRP101")]),
        (("seed_all",), []),  # a bare name: the function of that name in any module
        (("tools.seeding.seed_all",), []),
        (("other.seed_all",), [(7, 9, "TRP101")]),  # a dotted name is that function only
    ],
)
def test_seed_functions_by_bare_name_match_any_module(tmp_path: Path, listed, expected) -> None:
    root = project(tmp_path, {"tools/__init__.py": "", "tools/seeding.py": _OWN_SEEDER, "train.py": _USES_OWN_SEEDER})
    settings = Settings(seed_functions=listed, cache=False)
    assert findings(root / "train.py", settings) == expected


def test_an_unreadable_call_named_like_a_seeder_is_named_with_the_option_to_list_it(tmp_path: Path) -> None:
    """Issue 14: when a call the analysis cannot read, whose name says seed, runs before a reported
    construction, the message suggests `seed-functions`."""
    root = project(tmp_path, {"tools/__init__.py": "", "tools/seeding.py": _OWN_SEEDER, "train.py": _USES_OWN_SEEDER})
    (message,) = messages(root / "train.py")
    assert message.endswith(
        "; `mylib.seed_everything_native` (line 6) is not known to seed torch: if it does, list it in `seed-functions`"
    ), message


# ---------------------------------------------------------------------------- models only looked at (TRP104)
NET_MODULE = """\
    import torch
    from torch import nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def forward(self, x):
            return self.fc(x)


    if __name__ == "__main__":
        net = Net()
        print(net(torch.ones(1, 4)).shape)
    """


def selected(path: Path) -> list[tuple[int, int, str]]:
    """The findings of the default selection (TRP104 is off by default)."""
    from torchlint_repro.pipeline import lint_document

    result = lint_document(str(path), Settings(cache=False), result_cache=False)
    return [(d.line, d.col + 1, d.code) for d in result.diagnostics]


def test_a_model_files_smoke_test_is_trp104_and_silent_by_default(tmp_path: Path) -> None:
    """Issue 14: a model built to print its shape is not reported by default; TRP104 (off) names it."""
    root = project(tmp_path, {"model.py": NET_MODULE, "train.py": TRAIN_IMPORTING_NET})
    assert findings(root / "model.py") == [(15, 11, "TRP104")]
    assert selected(root / "model.py") == []
    # the training script that imports Net is reported as ever
    assert selected(root / "train.py") == [(4, 7, "TRP101")]
    assert messages(root / "model.py") == [
        "`Net` is built before torch is seeded, only to be looked at (its shape, parameters or profile): "
        "nothing it computes is kept"
    ]


TRAIN_IMPORTING_NET = """\
    import torch
    from model import Net

    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    """


def test_a_module_level_model_another_file_imports_is_kept(tmp_path: Path) -> None:
    """A module-level model outside the `__main__` block of a module the project imports may be trained by
    the importer: kept (TRP101), even though the module itself only prints its shape."""
    shared = """\
        import torch
        from torch import nn

        backbone = nn.Linear(4, 2)
        print(backbone(torch.ones(1, 4)).shape)
        """
    user = """\
        import torch
        from shared import backbone

        opt = torch.optim.SGD(backbone.parameters(), lr=0.1)
        """
    root = project(tmp_path, {"shared.py": shared, "use.py": user})
    assert findings(root / "shared.py") == [(4, 12, "TRP101")]
    (root / "use.py").unlink()
    reset_projects()
    assert findings(root / "shared.py") == [(4, 12, "TRP104")]


def test_looks_through_project_functions_in_other_files_and_returns(tmp_path: Path) -> None:
    """The model is followed into project functions of another file (their parameter read the same way)
    and through `return` to the call site of the program that reached the construction."""
    utils = """\
        def count_parameters(model):
            return sum(p.numel() for p in model.parameters() if p.requires_grad)


        def freeze(model):
            for p in model.parameters():
                p.requires_grad = False
        """
    main = """\
        import torch
        from torch import nn

        from utils import count_parameters, freeze


        def build(width):
            return nn.Linear(4, width)


        def looks():
            a = build(2)
            print(a, count_parameters(a))


        def keeps():
            b = nn.Linear(4, 2)
            freeze(b)
            print(b)


        if __name__ == "__main__":
            looks()
            keeps()
        """
    root = project(tmp_path, {"utils.py": utils, "main.py": main})
    # build()'s construction only looked at (through looks()); b frozen for a training to come: kept
    assert findings(root / "main.py") == [(8, 12, "TRP104"), (17, 9, "TRP101")]
    # a second caller that trains what build() returns keeps it
    (root / "main.py").write_text(
        textwrap.dedent(main).replace(
            "    keeps()\n", "    keeps()\n    opt = torch.optim.SGD(build(3).parameters(), lr=0.1)\n"
        )
    )
    reset_projects()
    assert findings(root / "main.py") == [(8, 12, "TRP101"), (17, 9, "TRP101")]


@pytest.mark.parametrize(
    "use, code",
    [
        ("print(net)", "TRP104"),
        ("print(net(x).shape, net(x).dtype)", "TRP104"),
        ("out = net(x)\nassert out.shape == (1, 2)", "TRP104"),
        ("print(sum(p.numel() for p in net.parameters()))", "TRP104"),
        ("net = net.to('cpu')\nprint(net)", "TRP104"),
        ("for name, p in net.named_parameters():\n    print(name, p.shape)", "TRP104"),
        ("print(net(x))", "TRP101"),  # output values
        ("loss = net(x).sum()\nprint(loss.item())", "TRP101"),
        ("torch.save(net.state_dict(), 'w.pt')\nprint(net)", "TRP101"),
        ("models = [net]\nprint(net)", "TRP101"),
        ("opt = torch.optim.SGD(net.parameters(), lr=0.1)\nprint(net)", "TRP101"),
        ("other = net\nprint(other)", "TRP104"),  # an alias, followed
        ("other = net\nopt = torch.optim.SGD(other.parameters(), lr=0.1)", "TRP101"),
        ("out = net(x)\nprint(out[0].shape, out[0][1].dtype)", "TRP104"),  # an element's metadata
        ("net.default_cfg = {}\nprint(net(x).shape)", "TRP104"),  # something stored on it
        ("net.weight.data = torch.zeros(2, 4)\nprint(net(x).shape)", "TRP101"),  # its parameters written
        ("net(x)", "TRP101"),  # a forward whose output is dropped says nothing in a script: kept
        ("sd = net.state_dict()\nprint(type(sd), sd.keys())\nfor k, v in sd.items():\n    print(k, v.shape)", "TRP104"),
        ("sd = net.state_dict()\ntorch.save(sd, 'w.pt')", "TRP101"),
        ("pass", "TRP101"),  # never read: kept
        ("def train():\n    opt = torch.optim.SGD(net.parameters(), lr=0.1)\nprint(net)", "TRP101"),
        ("def show(net):\n    opt = torch.optim.SGD(net.parameters(), lr=0.1)\nprint(net)", "TRP104"),
    ],
)
def test_what_counts_as_a_look(tmp_path: Path, use: str, code: str) -> None:
    src = "import torch\nfrom torch import nn\n\nx = torch.ones(1, 4)\nnet = nn.Linear(4, 2)\n" + use + "\n"
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "demo.py").write_text(src)
    reset_projects()
    assert findings(tmp_path / "demo.py") == [(5, 7, code)]


def test_a_package_modules_main_block_that_only_runs_the_model_is_a_look(tmp_path: Path) -> None:
    """A model file of a package whose `__main__` block runs the model and reads nothing of the output (the
    "does it run" check of a library) only looks at it; the same lines as a script of their own say nothing
    either way, and the construction stays TRP101's."""
    body = """\
        import torch
        from torch import nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 2)

            def forward(self, x):
                return self.fc(x)


        if __name__ == "__main__":
            v = Net()
            logits = v(torch.ones(3, 4))  # (3, 2)
        """
    root = project(tmp_path, {"pkg/__init__.py": "", "pkg/simple.py": body, "script.py": body})
    assert findings(root / "pkg" / "simple.py") == [(15, 9, "TRP104")]
    assert findings(root / "script.py") == [(15, 9, "TRP101")]


_PREPARED = """\
import torch
import torch.nn as nn
{imports}
torch.manual_seed(0)
net = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 2))
{setup}
{before}
with torch.no_grad():
    model(torch.randn(2, 4))
"""


@pytest.mark.parametrize(
    ("imports", "setup", "before", "expected"),
    [
        # Lightning Fabric: the module (and the optimizers) handed to setup come back, in order
        (
            "from lightning.fabric import Fabric",
            "model, opt = Fabric().setup(net, torch.optim.SGD(net.parameters(), lr=0.1))",
            "",
            [(9, 5, "TRP201")],
        ),
        ("import lightning as L", "fabric = L.Fabric()\nmodel = fabric.setup_module(net)", "", [(10, 5, "TRP201")]),
        ("import lightning_fabric as lf", "model = lf.Fabric().setup(net)", "", [(9, 5, "TRP201")]),
        ("from lightning.fabric import Fabric", "model, opt = Fabric().setup(net, None)", "model.eval()", []),
        ("from lightning.fabric import Fabric", "model, opt = Fabric().setup(net, None)", "net.eval()", []),
        ("from lightning.fabric import Fabric", "model = Fabric().setup(net.eval())", "", []),
        # accelerate: prepare returns what it is handed (one object: itself)
        (
            "from accelerate import Accelerator",
            "acc = Accelerator()\nmodel, opt, loader = acc.prepare(net, None, [])",
            "",
            [(10, 5, "TRP201")],
        ),
        ("import accelerate", "model = accelerate.Accelerator().prepare_model(net)", "", [(9, 5, "TRP201")]),
        ("from accelerate import Accelerator", "model = Accelerator().prepare(net)", "model.eval()", []),
        # which object is which cannot be told through a starred argument: unknown, never a guess
        ("from accelerate import Accelerator", "model, = Accelerator().prepare(*[net])", "", []),
        # a setup() of anything else says nothing of what it returns
        ("from mylib import Runner", "model = Runner().setup(net)", "", []),
    ],
)
def test_fabric_setup_and_accelerate_prepare_return_the_model_in_its_mode(
    imports: str, setup: str, before: str, expected: list
) -> None:
    """`fabric.setup` / `accelerator.prepare` hand back the module they were given (or a wrapper that runs
    it and passes `.eval()`/`.train()` on): its mode is the module's (issue 13, shape 9)."""
    source = _PREPARED.format(imports=imports, setup=setup, before=before)
    got = [(d.line, d.col + 1, d.code) for d in lint_source(source, "/nonexistent/prepared.py", ALL)]
    assert got == expected


def test_a_wrappers_sampling_method_is_read_like_a_forward(tmp_path: Path) -> None:
    """`samples = diffusion.sample(4)` then only `samples.shape`: the wrapped model is only looked at."""
    src = """\
        import torch
        from torch import nn


        class Sampler(nn.Module):
            def __init__(self, net):
                super().__init__()
                self.net = net

            def sample(self, n):
                return self.net(torch.ones(n, 4))


        if __name__ == "__main__":
            net = nn.Linear(4, 2)
            sampler = Sampler(net)
            samples = sampler.sample(3)
            print(samples.shape)
        """
    root = project(tmp_path, {"sampling.py": src})
    assert findings(root / "sampling.py") == [(15, 11, "TRP104")]
    (root / "sampling.py").write_text(textwrap.dedent(src).replace("print(samples.shape)", "print(samples)"))
    reset_projects()
    assert findings(root / "sampling.py") == [(15, 11, "TRP101")]


@pytest.mark.parametrize(
    "factory, reported",
    [
        ("def make(c):\n    return nn.Conv2d(c, c, 1)\n", True),
        ("def make(c):\n    return nn.Sequential(nn.Conv2d(c, c, 1), nn.ReLU())\n", True),
        ("from layers import make\n", True),  # a factory in another file
        ("def make(c):\n    return nn.ReLU()\n", False),  # nothing random
        ("def make(c):\n    return nn.BatchNorm2d(c)\n", False),  # constant init
    ],
)
def test_a_class_whose_layers_come_from_a_factory_has_random_parameters(tmp_path: Path, factory, reported) -> None:
    """Issue 14 (found on pytorch-deeplab-xception): `self.conv = make_conv(3)` builds the class's random layer
    in a project function; the class was judged parameter-free and a trained model went unreported."""
    main = (
        "import torch\nfrom torch import nn\n"
        + factory
        + "\n\nclass A(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.conv = make(3)\n"
        + "\n\nif __name__ == '__main__':\n    a = A()\n    opt = torch.optim.SGD(a.parameters(), lr=0.1)\n"
    )
    line = main.splitlines().index("    a = A()") + 1
    layers = "from torch import nn\n\n\ndef make(c):\n    return nn.Conv2d(c, c, 1)\n"
    root = project(tmp_path, {"main.py": main, "layers.py": layers})
    assert findings(root / "main.py") == ([(line, 9, "TRP101")] if reported else [])


# ------------------------------------------------------------------------------ widenings in a long-lived process
def test_a_bound_hit_once_is_reported_for_every_file_it_serves_and_never_piles_up(tmp_path: Path, monkeypatch) -> None:
    """flake8 lints many files in one process. The callers' search of helpers.py stops at its depth bound;
    the memoised answer serves the second analysis too, which must report the same widening, and the
    project's list of widenings is emptied after each file (it grew with every file before)."""
    import ast

    from torchlint_repro.analysis import program
    from torchlint_repro.analysis import project as P

    monkeypatch.setattr(P, "MAX_CALLER_DEPTH", 1)
    (tmp_path / "pyproject.toml").write_text("[tool.torchlint-repro]\n")
    helpers = "import torch\n\n\ndef f0(model, x):\n    with torch.no_grad():\n        return model(x)\n"
    (tmp_path / "helpers.py").write_text(helpers)
    (tmp_path / "mid.py").write_text("from helpers import f0\n\n\ndef f1(model, x):\n    return f0(model, x)\n")
    (tmp_path / "run.py").write_text("import torch\nfrom mid import f1\n\nf1(torch.nn.Linear(2, 2), 1)\n")
    reset_projects()
    settings = Settings(cache=False)
    path = str(tmp_path / "helpers.py")
    bound = "helpers.py: callers searched in 2 files, up to 1 calls deep: functions reached only past that keep"
    for _ in range(2):
        facts = program.analyze(helpers, ast.parse(helpers), path, settings)
        assert [n for n in facts.widened if n.startswith(bound)], facts.widened
        project = P.project_for(path, settings)
        assert project is not None and project.widened == []
    reset_projects()


def test_seed_functions_past_the_scan_bound_are_said_to_be_unchecked(tmp_path: Path, monkeypatch) -> None:
    from torchlint_repro.analysis import project as P

    monkeypatch.setattr(P, "MAX_SCAN_FILES", 2)
    (tmp_path / "pyproject.toml").write_text("[tool.torchlint-repro]\n")
    for n in range(3):
        (tmp_path / f"m{n}.py").write_text("x = 1\n")
    reset_projects()
    settings = Settings(seed_functions=("seed_everything_here", "m0.nothing"))
    warnings = P.seed_function_warnings([(str(tmp_path / "m0.py"), settings)])
    assert warnings == [
        f"seed-functions entry `seed_everything_here` was not checked in {tmp_path}: the project has more than "
        "2 .py files, so a file that spells it may not have been read",
        f"seed-functions entry `m0.nothing` matches nothing in {tmp_path}: the project's `m0` defines no "
        "`nothing`, so it seeds nothing here",
    ]
    reset_projects()


# ------------------------------------------------------------------------------ whose globals a function reads
GLOBALS_HELPERS = """\
import torch

model = None  # this module's own model, set by load()


def load(path):
    global model
    model = torch.jit.load(path)
    model.eval()


def predict(net, x):
    net.eval()
    with torch.no_grad():
        return net(x) + model(x)
"""
GLOBALS_TRAIN = """\
import torch
import torch.nn as nn

from helpers import predict

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(2, 2), nn.Dropout())
net = nn.Sequential(nn.Linear(2, 2), nn.Dropout())
print(predict(net, torch.ones(1, 2)))
"""
CALLBACK_HELPERS = """\
import torch


def evaluate(net, fn, x):
    with torch.no_grad():
        net(x)
        return fn(x)
"""
CALLBACK_TRAIN = """\
import torch
import torch.nn as nn

from helpers import evaluate

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(2, 2), nn.Dropout())


def score(x):
    return model(x)


net = nn.Sequential(nn.Linear(2, 2), nn.Dropout())
net.eval()
print(evaluate(net, score, torch.ones(1, 2)))
"""


@pytest.mark.parametrize(
    "helpers, train, expected",
    [
        # helpers.py's `model` is its own global (None, or a scripted model put in eval mode), not train.py's
        # `model` in training mode: nothing to report (it was a TRP201 at helpers.py:15:25)
        (GLOBALS_HELPERS, GLOBALS_TRAIN, {"helpers.py": [], "train.py": []}),
        # a function of train.py called back from helpers.py reads train.py's globals: its `model` is in
        # training mode under helpers.py's no_grad
        (CALLBACK_HELPERS, CALLBACK_TRAIN, {"helpers.py": [], "train.py": [(11, 11, "TRP201")]}),
    ],
    ids=["another-modules-global", "callback-reads-its-own-globals"],
)
def test_a_function_reads_the_globals_of_its_own_module(tmp_path: Path, helpers, train, expected) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.torchlint-repro]\n")
    (tmp_path / "helpers.py").write_text(helpers)
    (tmp_path / "train.py").write_text(train)
    reset_projects()
    found = {
        name: [(d.line, d.col, d.code) for d in lint_file(tmp_path / name, Settings(cache=False))] for name in expected
    }
    assert found == expected
    reset_projects()


# ---------------------------------------------------------------------------- loop passes
def _statements_walked(path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> dict[int, int]:
    """How many times a walk of the file ``path`` (holding ``text``) walked the statement on each line."""
    import ast

    from torchlint_repro.analysis.context import ModuleCtx
    from torchlint_repro.analysis.project import project_for
    from torchlint_repro.analysis.tracker import Walker

    walked: dict[int, int] = {}
    original = Walker.stmt

    def counting(self, node, st):
        walked[node.lineno] = walked.get(node.lineno, 0) + 1
        return original(self, node, st)

    monkeypatch.setattr(Walker, "stmt", counting)
    ctx = ModuleCtx(str(path), ast.parse(text), project_for(str(path), ALL), linted=True)
    Walker(ctx, ALL).run()
    return walked


_NESTED_LOOPS = """\
import torch
import torch.nn as nn

torch.manual_seed(0)
net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
for epoch in range(3):
    for step in range(4):
        x = step
    total = epoch
    with torch.no_grad():
        print(net(torch.zeros(1, 2)))
"""


def test_a_loop_inside_an_unreported_pass_is_not_walked_again_from_its_settled_head(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The outer loop settles in two muted passes, then is walked once more, reported. In each muted pass
    the inner loop runs its passes to its fixpoint; its reported pass would be the same muted walk from the
    same head again, and is skipped. The inner body: 2 + 1 + 2 walks (it was 3 + 2 + 2); the finding is
    the same."""
    path = project(tmp_path, {"loops.py": _NESTED_LOOPS}) / "loops.py"
    assert findings(path) == [(11, 15, "TRP201")]
    walked = _statements_walked(path, _NESTED_LOOPS, monkeypatch)
    assert (walked[7], walked[8], walked[9]) == (3, 5, 3)


_CALL_IN_LOOP = """\
import torch
import torch.nn as nn


def helper(m):
    m.train()
    return m


def main():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    for epoch in range(3):
        helper(net)
        last = epoch
    with torch.no_grad():
        print(net(torch.zeros(1, 2)))


main()
"""


def test_a_call_in_an_unreported_pass_is_walked_once_per_state_it_can_see(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A callee starts with none of its caller's variables: in the loop's muted passes, `helper(net)` after
    `last` got bound is the same call as before (walked once, then taken from the memo); the reported pass
    walks it again. Its body: 1 + 1 walks (it was 2 + 1), and the finding is the same."""
    path = project(tmp_path, {"calls.py": _CALL_IN_LOOP}) / "calls.py"
    assert findings(path) == [(17, 15, "TRP201")]
    assert _statements_walked(path, _CALL_IN_LOOP, monkeypatch)[6] == 2


_INERT = """\
import torch
import torch.nn as nn


def main():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    limit = 3
    for step in range(limit):
        _note = "typed, not read yet"
        with torch.no_grad():
            model(torch.ones(1, 4))
    return limit


main()
"""


def test_a_literal_bound_to_a_local_no_code_reads_is_skipped_by_the_walk(tmp_path: Path) -> None:
    """`_note = "..."` (line 9) binds a local nothing reads: the walk skips it (not a step, not a line it
    read), so typing it changes no state, loop pass or bound (edits.py relies on it). `limit = 3` (line 7)
    is read: walked."""
    import ast

    from torchlint_repro.analysis.context import ModuleCtx
    from torchlint_repro.analysis.project import project_for
    from torchlint_repro.analysis.tracker import Walker

    path = tmp_path / "train.py"
    (tmp_path / "pyproject.toml").write_text("")

    def walk(text: str) -> Walker:
        path.write_text(text)
        w = Walker(ModuleCtx(str(path), ast.parse(text), project_for(str(path), ALL), linted=True), ALL)
        w.run()
        return w

    with_note = walk(_INERT)
    without = walk(_INERT.replace('        _note = "typed, not read yet"\n', ""))
    assert 7 in with_note.read_lines and 9 not in with_note.read_lines
    assert with_note.total_steps == without.total_steps
    moved = {(e.kind, e.line - (e.line > 9), e.col) for e in with_note.events.values()}
    assert moved == {(e.kind, e.line, e.col) for e in without.events.values()}
    assert ("forward_in_train", 10, 12) in moved
    # read after the loop: walked (a step more for each pass of the loop)
    read = walk(_INERT.replace("    return limit\n", "    return limit, _note\n"))
    assert 9 in read.read_lines and read.total_steps > with_note.total_steps
