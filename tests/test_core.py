"""The analysis core on its own: name resolution, the cross-file project index, and the tracker's flow
joins, with exact expected facts (before any rule formats a message)."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from torchlint_repro.analysis import names as N
from torchlint_repro.analysis.program import analyze as analyze_module
from torchlint_repro.analysis.project import Project, build_facts, project_for, reset_projects
from torchlint_repro.analysis.syntax import local_reads, src_name
from torchlint_repro.config import Settings


def resolve_all(src: str, module: str = "pkg.train", is_package: bool = False) -> dict[str, str | None]:
    tree = ast.parse(textwrap.dedent(src))
    im = N.ImportMap.from_tree(tree, module, is_package)
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, (ast.Name, ast.Attribute)):
            out[ast.unparse(node.value)] = im.resolve(node.value)
    return out


@pytest.mark.parametrize(
    "src, expr",
    [
        ("import torch.nn as nn\nnn.Linear\n", "nn.Linear"),
        ("from torch import nn\nnn.Linear\n", "nn.Linear"),
        ("from torch.nn import Linear as L\nL\n", "L"),
        ("import torch\ntorch.nn.Linear\n", "torch.nn.Linear"),
        ("import torch.nn\ntorch.nn.Linear\n", "torch.nn.Linear"),
        ("import torch as T\nT.nn.Linear\n", "T.nn.Linear"),
        ("from torch.nn.modules.linear import Linear\nLinear\n", "Linear"),
        ("import torch.nn as nn\nDense = nn.Linear\nDense\n", "Dense"),
    ],
)
def test_every_spelling_of_linear_resolves_to_torch_nn_linear(src: str, expr: str) -> None:
    assert resolve_all(src)[expr] == "torch.nn.Linear"


def test_relative_imports_resolve_against_the_package() -> None:
    got = resolve_all("from .models import Net\nfrom ..utils import seed\nNet\nseed\n", module="pkg.sub.train")
    assert got == {"Net": "pkg.sub.models.Net", "seed": "pkg.utils.seed"}
    got = resolve_all("from . import models\nmodels.Net\n", module="pkg", is_package=True)
    assert got == {"models.Net": "pkg.models.Net"}


def test_unimported_and_local_names() -> None:
    got = resolve_all("class Net: pass\nNet\nundefined.attr\n", module="train")
    assert got == {"Net": "train.Net", "undefined.attr": None}


def test_builders_and_layers() -> None:
    assert N.is_builder("torchvision.models.resnet18")
    assert N.is_builder("timm.create_model")
    assert not N.is_builder("torchvision.models.feature_extraction.create_feature_extractor")
    assert not N.is_builder("torchvision.models.get_weight")
    assert N.torch_nn_layer("torch.nn.modules.conv.Conv2d") == "Conv2d"
    assert N.torch_nn_layer("torch.nn.functional.relu") is None


# ------------------------------------------------------------------------------------ project index
def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text), encoding="utf-8")


@pytest.fixture()
def three_file_project(tmp_path: Path) -> Path:
    write(
        tmp_path,
        {
            "pyproject.toml": "",
            "pkg/__init__.py": "",
            "pkg/base.py": """
            import torch.nn as nn
            class BaseNet(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.drop = nn.Dropout(0.1)
        """,
            "pkg/models.py": """
            from .base import BaseNet
            from torch import nn
            class Net(BaseNet):
                def __init__(self, num_classes=10):
                    super().__init__()
                    self.fc = nn.Linear(4, num_classes)
            class Plain(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.act = nn.ReLU()
        """,
            "pkg/train.py": """
            from .models import Net
        """,
        },
    )
    reset_projects()
    return tmp_path


def test_subclass_across_three_files(three_file_project: Path) -> None:
    proj = Project(three_file_project, Settings(cache=False), None)
    here = str(three_file_project / "pkg")
    assert proj.is_module_class("pkg.models.Net", here)
    assert proj.is_module_class("pkg.base.BaseNet", here)
    assert not proj.is_module_class("pkg.train", here)
    # facts inherited through the base class in another file
    assert proj.mode_dependent("pkg.models.Net", None, here) == "yes"  # Dropout comes from BaseNet
    assert proj.has_params("pkg.models.Net", None, here) == "yes"
    assert proj.has_params("pkg.models.Plain", None, here) == "no"
    assert proj.mode_dependent("pkg.models.Plain", None, here) == "no"
    facts, _ = proj.class_facts("pkg.models.Net", here)
    assert facts["bases"] == ["pkg.base.BaseNet"]
    assert facts["init_params"] == ["num_classes"] and facts["init_defaults"] == {"num_classes": 10}


def test_submodules_from_project_factories_are_mode_dependent_when_the_factory_can_build_such_a_layer(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": "",
            "pkg/__init__.py": "",
            "pkg/layers.py": """
            import torch.nn as nn
            def make_norm(kind, width):
                if kind == "batch":
                    return nn.BatchNorm1d(width)
                return nn.Identity()
            def make_act(kind):
                return nn.GELU() if kind == "gelu" else nn.ReLU()
            def make_block(width, norm):
                return nn.Sequential(nn.Linear(width, width), make_norm(norm, width))
            def init_weights(module):
                for m in module.modules():
                    if isinstance(m, (nn.BatchNorm1d, nn.Dropout)):
                        m.reset_parameters()
        """,
            "pkg/models.py": """
            import torch.nn as nn
            from .layers import init_weights, make_act, make_block, make_norm
            class Normed(nn.Module):
                def __init__(self, norm="batch"):
                    super().__init__()
                    self.fc = nn.Linear(4, 4)
                    self.norm = make_norm(norm, 4)
            class Blocky(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.block = make_block(4, "batch")
            class Activated(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(4, 4)
                    self.act = make_act("gelu")
                    init_weights(self)
        """,
        },
    )
    reset_projects()
    proj = Project(tmp_path, Settings(cache=False), None)
    here = str(tmp_path / "pkg")
    assert proj.mode_dependent("pkg.models.Normed", None, here) == "maybe"
    assert proj.mode_dependent("pkg.models.Blocky", None, here) == "maybe"  # a factory calling a factory
    # only ReLU/GELU from its factory; a weight initialiser called for its effect builds no submodule
    assert proj.mode_dependent("pkg.models.Activated", None, here) == "no"


def test_reexport_through_package_init(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "setup.cfg": "",
            "lib/__init__.py": "from .impl import Model\n",
            "lib/impl.py": "import torch\nclass Model(torch.nn.Module):\n    pass\n",
        },
    )
    proj = Project(tmp_path, Settings(cache=False), None)
    assert proj.is_module_class("lib.Model", str(tmp_path))


def test_module_facts_record_constants_and_argparse_defaults() -> None:
    tree = ast.parse(
        textwrap.dedent("""
        import os
        CKPT_DIR = "ckpt"
        CKPT = os.path.join(CKPT_DIR, "best.pt")
        import argparse
        p = argparse.ArgumentParser()
        p.add_argument("--resume", default="last.pt")
    """)
    )
    facts = build_facts(tree, "config", False)
    assert facts["constants"] == {"CKPT_DIR": "ckpt", "CKPT": "ckpt/best.pt"}
    assert facts["argparse"] == {"resume": "last.pt"}


def test_module_facts_refs_name_super_calls_and_what_is_only_named() -> None:
    """A method's `super().m()` refers to each base's `m` (what the program runs there); a project name a
    unit only mentions (`isinstance(m, Ema)`, a function handed as a value) is recorded as named, not called."""
    tree = ast.parse(
        textwrap.dedent("""
        from exp.base import Experiment
        from lib.ema import Ema, worker_init
        from lib.data import make_loader

        class Run(Experiment):
            def __init__(self, args):
                super(Run, self).__init__(args)

            def check(self, m):
                loader = make_loader(worker_init_fn=worker_init)
                return isinstance(m, Ema), self.width, self.fit()
    """)
    )
    facts = build_facts(tree, "exp.run", False)
    assert facts["refs"]["Run.__init__"] == ["exp.base.Experiment.__init__", "exp.run.Run"]
    assert facts["refs"]["Run.check"] == [
        "exp.run.Run.fit",
        "exp.run.Run.width",
        "lib.data.make_loader",
        "lib.ema.Ema",
        "lib.ema.worker_init",
    ]
    assert facts["named"] == {
        "Run.__init__": ["exp.run.Run"],
        "Run.check": ["exp.run.Run.width", "lib.ema.Ema", "lib.ema.worker_init"],
    }


def test_module_facts_record_tables_of_classes_and_literal_getattr_refs() -> None:
    """`_ARCHS = {"ssd": SSDDetector}` at the top is a table of what each key names; `getattr(nets, "Det")(3)`
    refers to (and calls) `nets.Det`."""
    tree = ast.parse(
        textwrap.dedent("""
        from det import nets
        from det.nets import Detector

        class Tiny:
            pass

        _ARCHS = {"ssd": Detector, "tiny": Tiny, 3: Detector}
        SIZES = {"ssd": 300}

        def build():
            return getattr(nets, "Det")(3), getattr(nets, "Other")
    """)
    )
    facts = build_facts(tree, "det.build", False)
    assert facts["registries"] == {"_ARCHS": {"ssd": "det.nets.Detector", "tiny": "det.build.Tiny"}}
    assert facts["refs"]["build"] == ["det.nets", "det.nets.Det", "det.nets.Other"]
    assert facts["named"]["build"] == ["det.nets", "det.nets.Other"]


# ------------------------------------------------------------------------------------ flow joins
def events(src: str, path: str = "/nonexistent/t.py") -> list[tuple]:
    source = textwrap.dedent(src)
    facts = analyze_module(source, ast.parse(source), None, Settings(select=("TRP",), cache=False))
    return sorted((e.kind, e.line, e.col, e.data.get("seed")) for e in facts.events)


def test_state_keys_are_equal_exactly_when_the_states_are() -> None:
    """The key a loop's fixpoint and the inline memo compare: the maps as sets of items, so the order in
    which names were bound does not matter, and any value, mode or flag that differs does."""
    from torchlint_repro.analysis.state import State
    from torchlint_repro.analysis.values import EVAL, TRAIN, Lit

    def state(order: tuple[str, ...], mode=TRAIN, seed: str = "no") -> State:
        st = State()
        st.globals = {}
        for name in order:
            st.locals[name] = frozenset({Lit(name)})
        st.modes["m"] = frozenset({mode})
        st.seed = seed
        return st

    a = state(("x", "y"))
    assert a.key() == state(("y", "x")).key()
    assert hash(a.key()) == hash(state(("y", "x")).key())
    assert a.key() != state(("x",)).key()
    assert a.key() != state(("x", "y"), mode=EVAL).key()
    assert a.key() != state(("x", "y"), seed="yes").key()
    b = state(("x", "y"))
    b.locals["y"] = frozenset({Lit("x")})
    assert a.key() != b.key()
    at_module = State()
    at_module.globals = at_module.locals
    at_module.locals["x"] = frozenset({Lit("x")})
    assert at_module.key()[4] == ()  # module level: its globals are its locals, counted once
    # what a callee sees: all but a function's own variables (at module level those are the globals)
    assert a.key(with_locals=False) == state(("z",)).key(with_locals=False)
    assert a.key(with_locals=False) != state(("x", "y"), mode=EVAL).key(with_locals=False)
    assert at_module.key(with_locals=False) == at_module.key()


def test_a_join_keeps_the_sets_a_side_already_holds() -> None:
    """Joining a state with a copy of itself (the two paths of an `if` that changed nothing) gives back the
    very sets it had, and a join only builds a new set where the two sides differ: the walk's states share
    their values instead of holding copies of them."""
    from torchlint_repro.analysis.state import State, join
    from torchlint_repro.analysis.values import EVAL, OPAQUE, TRAIN, Lit, join_values

    one, two = frozenset({Lit(1)}), frozenset({Lit(1), Lit(2)})
    assert join_values(two, one) is two
    assert join_values(one, two) is two
    assert join_values(one, frozenset({Lit(3)})) == frozenset({Lit(1), Lit(3)})
    assert join_values(frozenset(), one) == frozenset({Lit(1), OPAQUE})  # unknown on one path: not exactly 1
    st = State()
    st.globals = {}
    st.locals["x"] = two
    st.modes["m"] = frozenset({TRAIN})
    st.pending["m"] = frozenset({"fresh"})
    out = join(st, st.copy())
    assert out is not None
    assert out.locals["x"] is two and out.modes["m"] is st.modes["m"] and out.pending["m"] is st.pending["m"]
    other = st.copy()
    other.modes["m"] = frozenset({EVAL})
    out = join(st, other)
    assert out is not None and out.modes["m"] == frozenset({TRAIN, EVAL})


def test_a_memoised_call_keeps_what_apply_exit_gives_the_caller_and_not_its_locals() -> None:
    from torchlint_repro.analysis.state import State
    from torchlint_repro.analysis.syntax import apply_exit, exit_effects
    from torchlint_repro.analysis.values import EVAL, Lit

    st = State()
    st.globals = {"g": frozenset({Lit(1)})}
    st.locals = {"x": frozenset({Lit(2)})}
    st.modes["m"] = frozenset({EVAL})
    kept = exit_effects(st)
    assert kept.locals == {} and kept.globals == st.globals and kept.modes == st.modes
    caller = State()
    caller.globals = {}
    caller.locals = {"y": frozenset({Lit(3)})}
    apply_exit(caller, kept)
    assert caller.locals == {"y": frozenset({Lit(3)})}
    assert caller.globals == {"g": frozenset({Lit(1)})} and caller.modes == {"m": frozenset({EVAL})}
    module = State()
    module.globals = module.locals
    module.locals["x"] = frozenset({Lit(2)})
    assert exit_effects(module).locals == {"x": frozenset({Lit(2)})}  # the module's locals are its globals


def test_seed_on_one_branch_is_maybe() -> None:
    assert events("""
        import sys, torch
        if len(sys.argv) > 1:
            torch.manual_seed(0)
        m = torch.nn.Linear(2, 2)
    """) == [("unseeded_build", 5, 4, "maybe")]


def test_seed_on_both_branches_is_yes() -> None:
    assert (
        events("""
        import sys, torch
        if len(sys.argv) > 1:
            torch.manual_seed(0)
        else:
            torch.manual_seed(1)
        m = torch.nn.Linear(2, 2)
    """)
        == []
    )


def test_loop_body_may_run_zero_times() -> None:
    assert events("""
        import torch
        for s in []:
            torch.manual_seed(s)
        m = torch.nn.Linear(2, 2)
    """) == [("unseeded_build", 5, 4, "maybe")]


def test_loop_head_joins_the_end_of_the_body() -> None:
    # the second iteration sees the seed set at the end of the first one: seeded on some paths
    assert events("""
        import torch
        for epoch in range(3):
            m = torch.nn.Linear(2, 2)
            torch.manual_seed(epoch)
    """) == [("unseeded_build", 4, 8, "maybe")]


def test_early_return_in_a_helper_is_maybe() -> None:
    assert events("""
        import os, torch
        def seed_all():
            if os.environ.get("NO_SEED"):
                return
            torch.manual_seed(0)
        seed_all()
        m = torch.nn.Linear(2, 2)
    """) == [("unseeded_build", 8, 4, "maybe")]


def test_try_handler_starts_from_every_state_of_the_body() -> None:
    assert events("""
        import torch
        try:
            torch.manual_seed(int(open("seed.txt").read()))
        except OSError:
            pass
        m = torch.nn.Linear(2, 2)
    """) == [("unseeded_build", 7, 4, "maybe")]


def mode_events(src: str) -> list[tuple]:
    """The mode events with their *maybe* flag (the model is in that mode on some paths only)."""
    source = textwrap.dedent(src)
    facts = analyze_module(source, ast.parse(source), None, Settings(select=("TRP",), cache=False))
    return sorted((e.kind, e.line, e.col, e.data.get("maybe")) for e in facts.events)


def test_mode_joins_at_if_else() -> None:
    """Training mode on one branch, eval mode on the other: after the join the model *may* be training."""
    got = mode_events("""
        import sys, torch
        torch.manual_seed(0)
        m = torch.nn.Dropout(0.5)
        if len(sys.argv) > 1:
            m.eval()
        with torch.no_grad():
            m(torch.ones(2))
    """)
    assert got == [("forward_in_train", 8, 4, True)]


def test_mode_without_a_join_is_certain() -> None:
    got = mode_events("""
        import torch
        torch.manual_seed(0)
        m = torch.nn.Dropout(0.5)
        with torch.no_grad():
            m(torch.ones(2))
    """)
    assert got == [("forward_in_train", 6, 4, False)]


def test_eval_mode_joins_into_a_maybe_training_step() -> None:
    got = mode_events("""
        import sys, torch
        torch.manual_seed(0)
        m = torch.nn.Dropout(0.5)
        if len(sys.argv) > 1:
            m.eval()
        m(torch.ones(2)).sum().backward()
        torch.optim.SGD(m.parameters(), lr=0.1).step()
    """)
    assert got == [("train_in_eval", 7, 0, True)]


def test_spawned_worker_starts_unseeded() -> None:
    assert events("""
        import torch
        import torch.multiprocessing as mp
        def worker(rank):
            m = torch.nn.Linear(2, 2)
        if __name__ == "__main__":
            torch.manual_seed(0)
            mp.spawn(worker, nprocs=1)
    """) == [("unseeded_build", 5, 8, "no")]


def test_other_modules_keep_only_the_bodies_a_walk_can_enter(tmp_path: Path) -> None:
    """A module reached from the linted file is kept without its module level and with the bodies of
    functions that set no mode, seed, load or save dropped; the walk through it still sees the seed."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (tmp_path / "helpers.py").write_text(
        textwrap.dedent("""\
        import torch

        TABLE = {"a": 1, "b": 2}

        def seed_all(n):
            torch.manual_seed(n)

        def plain(x):
            return [x, x, x]
        """)
    )
    train = tmp_path / "train.py"
    train.write_text(
        "import torch.nn as nn\nfrom helpers import plain, seed_all\nseed_all(0)\nm = nn.Linear(2, 2)\nn = plain(1)\n"
    )
    reset_projects()
    source = train.read_text()
    facts = analyze_module(source, ast.parse(source), str(train), Settings(cache=False))
    assert [e.kind for e in facts.events] == []
    from torchlint_repro.analysis import project as P

    ctxs = [c for c, _ in P.CONTEXTS.items.values() if c.path.endswith("helpers.py")]
    assert len(ctxs) == 1
    ctx = ctxs[0]
    assert ctx.tree.body == []
    assert isinstance(ctx.functions["seed_all"].body[0], ast.Expr)
    assert [type(s) for s in ctx.functions["plain"].body] == [ast.Pass]
    # the linted file's own tree (flake8's) is not kept by anything once its lint is over
    import gc
    import weakref

    tree = ast.parse(source)
    alive = weakref.ref(tree)
    analyze_module(source, tree, str(train), Settings(cache=False))
    del tree
    gc.collect()
    assert alive() is None
    reset_projects()


@pytest.mark.parametrize(
    "expr",
    [
        "os.path.join(os.path.dirname(__file__), 'lib')",
        "os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib')",
        "os.path.join(os.path.dirname(os.path.realpath(__file__)), 'lib')",
        "os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))",
    ],
)
def test_sys_path_additions_relative_to_the_script_folder(expr: str) -> None:
    from torchlint_repro.analysis.project import _sys_path_additions

    tree = ast.parse(f"import os, sys\nsys.path.insert(0, {expr})\n")
    assert _sys_path_additions(tree) == ["lib"]


@pytest.mark.parametrize(
    ("source", "added"),
    [
        # faster-rcnn's _init_paths.py: `os.path` by another name, a module-level name, a helper that adds its
        # parameter
        (
            "import os.path as osp\nimport sys\n\ndef add_path(path):\n    if path not in sys.path:\n"
            "        sys.path.insert(0, path)\n\nthis_dir = osp.dirname(__file__)\n"
            "add_path(osp.join(this_dir, 'lib'))\nadd_path(osp.join(this_dir, 'data', 'coco'))\n",
            ["lib", "data/coco"],
        ),
        (
            "import sys\nfrom os import path\nROOT = path.dirname(path.dirname(__file__))\nsys.path.append(ROOT)\n",
            [".."],
        ),
        ("import sys\nLIB = 'lib'\nsys.path.append(LIB)\n", ["lib"]),
        # what cannot be told: a name bound in a function, a call of another module's helper
        ("import sys, os\ndef f():\n    d = 'lib'\n    sys.path.append(d)\n", []),
        ("import sys\nfrom tools import add_path\nadd_path('lib')\n", []),
    ],
)
def test_sys_path_additions_through_names_and_helpers(source: str, added: list[str]) -> None:
    from torchlint_repro.analysis.project import _sys_path_additions

    assert _sys_path_additions(ast.parse(source)) == added


_STRIPPED_LIB = """\
import torch.nn as nn

if True:
    def plain(x):
        total = 0
        for i in range(x):
            total += i * i
        return total


def evaluate(model, x):
    model.eval()
    return model(x)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def helper(self, n):
        out = [n * 2 for _ in range(n)]
        return sorted(out)

    def freeze(self):
        self.eval()
"""


def test_another_modules_stripped_tree_keeps_no_stale_node_list_and_frees_the_stripped_bodies(tmp_path):
    """A module walked from elsewhere keeps only the bodies a walk can enter (context._strip_unwalked). The
    node lists the summary kept on its nodes go with the bodies they listed: a stubbed function or a class
    lists its stub, not its old body, and no list keeps a stripped body alive (collector off)."""
    import gc
    import weakref

    from torchlint_repro.analysis.context import ModuleCtx, _strip_unwalked

    (tmp_path / "lib.py").write_text(_STRIPPED_LIB)
    (tmp_path / "train.py").write_text("from lib import evaluate\n")
    project = project_for(str(tmp_path / "train.py"), Settings(cache=False))
    assert project is not None
    tree = ast.parse(_STRIPPED_LIB)
    ctx = ModuleCtx(str(tmp_path / "lib.py"), tree, project, linted=False)
    for node in [tree, *ctx.functions.values(), *ctx.classes.values()]:
        N.subtree(node)  # lists on the module, the `if` and every definition, as the summary leaves them
    N.subtree(tree.body[1])
    ctx.complete_summary()
    helper = ctx.classes["Net"].body[1]
    assert ctx.walkable(ctx.functions["evaluate"], None) and not ctx.walkable(ctx.functions["plain"], None)
    assert not ctx.walkable(helper, ctx.classes["Net"])
    stripped = [*ast.walk(ctx.functions["plain"].body[0]), *ast.walk(helper.body[0])]
    shared = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)  # (singletons: Load, Mult...)
    probes = [weakref.ref(n) for n in stripped if not isinstance(n, shared)]
    del stripped
    gc.disable()
    try:
        _strip_unwalked(ctx)
        del tree
        assert [p() for p in probes if p() is not None] == []
    finally:
        gc.enable()
    for fn in [*ctx.functions.values(), *ctx.classes.values(), *ctx.classes["Net"].body]:
        assert N.subtree(fn) == list(ast.walk(fn)), fn.name
    assert [type(n).__name__ for n in ctx.functions["plain"].body] == ["Pass"]
    assert [type(n).__name__ for n in helper.body] == ["Pass"]
    assert any(isinstance(n, ast.Return) for n in N.subtree(ctx.functions["evaluate"]))  # kept whole
    assert N.subtree(ctx.tree) == [ctx.tree] and ctx.tree.body == []


def test_node_lists_are_ast_walk_in_its_order_and_are_forgotten_on_demand():
    """names.subtree keeps ast.walk's list on a node (the facts, summaries and walker read each function
    many times); a tree about to change drops every list in it."""
    import weakref
    from pathlib import Path

    from torchlint_repro.analysis import names as N

    for path in sorted(Path(__file__).resolve().parent.parent.joinpath("fixtures").rglob("*.py"))[:40]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert N.subtree(tree) == list(ast.walk(tree)), path
        for fn in [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))]:
            assert N.subtree(fn) == list(ast.walk(fn)), (path, fn.name)
            assert N.subtree(fn)[1:] and all(a is b for a, b in zip(N.subtree(fn), N.subtree(fn), strict=True))
    tree = ast.parse("def f(x):\n    return g(x)\n")
    fn = tree.body[0]
    before = N.subtree(fn)
    N.forget_node(fn)  # the node whose children change
    fn.body = [ast.Pass()]
    kinds = [type(n) for n in N.subtree(fn)]
    assert ast.Pass in kinds and ast.Return not in kinds and ast.Return in [type(n) for n in before]
    # no list kept on a node holds that node (a cycle would keep a dropped tree alive until a collection)
    import gc

    gc.disable()
    try:
        tree = ast.parse("def f(x):\n    return g(x)\n")
        N.subtree(tree), N.subtree(tree.body[0])
        probe = weakref.ref(tree)
        del tree
        assert probe() is None
    finally:
        gc.enable()


def test_parent_map_is_every_nodes_parent():
    """``names.parent_map`` (the walker's parents of a function or module) against its definition: the node
    ``ast.iter_child_nodes`` of which yields the child, for every module of the fixtures."""
    checked = 0
    for path in sorted((Path(__file__).resolve().parent.parent / "fixtures").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        expected = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        assert N.parent_map(tree) == expected, path
        checked += 1
    assert checked > 250


def test_what_is_kept_on_a_node_is_dropped_with_its_children():
    fn = ast.parse("def f(x):\n    y = x\n    return y\n").body[0]
    assert isinstance(fn, ast.FunctionDef)
    assert local_reads(fn) == frozenset({"x", "y"})
    assert local_reads(fn) is local_reads(fn)  # computed once: the walk and edits.py ask the same function
    fn.body = ast.parse("z = 1\nreturn q\n").body
    N.forget_node(fn)  # (what changes a node's children says so)
    assert local_reads(fn) == frozenset({"x", "q"})  # `z = 1` binds a literal: not a use


_REFS = """\
import torch.nn as nn
from helpers import evaluate
nn.Linear
nn.Conv2d
evaluate
"""


def test_what_a_walk_keeps_per_node_answers_for_that_node_only(tmp_path: Path) -> None:
    """Names resolved and references looked up are kept per node for a walk's life (loop passes ask them of
    the same nodes again and again). Each kept answer holds its node: a node allocated at the address of a
    freed one (its id) is never given the freed one's answer. A constant's value is kept on its node."""
    from torchlint_repro.analysis.context import ModuleCtx
    from torchlint_repro.analysis.state import State
    from torchlint_repro.analysis.tracker import Walker
    from torchlint_repro.analysis.values import ClassRef, FuncRef, Lit, Str

    (tmp_path / "helpers.py").write_text("def evaluate(model):\n    return model\n")
    path = tmp_path / "train.py"
    path.write_text(_REFS)
    tree = ast.parse(_REFS)
    ctx = ModuleCtx(str(path), tree, project_for(str(path), Settings()), linted=True)
    linear, conv, evaluate = (s.value for s in tree.body[2:])
    walker = Walker(ctx, Settings())
    assert walker.resolve_in(ctx, linear) == "torch.nn.Linear" == walker.resolve_in(ctx, linear)
    walker._memo[("resolve", id(conv), id(ctx))] = (linear, ctx, "torch.nn.Linear")  # a freed node at conv's address
    assert walker.resolve_in(ctx, conv) == "torch.nn.Conv2d"
    assert walker._memo[("resolve", id(conv), id(ctx))] == (conv, ctx, "torch.nn.Conv2d")
    assert walker._global_ref(linear, ctx) == frozenset({ClassRef("torch.nn.Linear", True)})
    assert walker._global_ref(evaluate, ctx) == frozenset({FuncRef("helpers.evaluate")})
    walker._memo[("global-ref", id(conv), id(ctx))] = (linear, ctx, frozenset({FuncRef("stale")}))
    assert walker._global_ref(conv, ctx) == frozenset({ClassRef("torch.nn.Conv2d", True)})

    one, text = ast.Constant(1), ast.Constant("ckpt.pt")
    assert walker.e_Constant(one, State()) == frozenset({Lit(1)})
    assert walker.e_Constant(text, State()) == frozenset({Str("ckpt.pt")})
    assert walker.e_Constant(text, State()) is walker.e_Constant(text, State())  # made once, kept on the node
    assert walker.e_Constant(ast.Constant(1.5), State()) == frozenset()


_WALKED = """\
import torch
import torch.nn as nn
from helpers import evaluate


def main():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    for epoch in range(3):
        model.train()
        evaluate(model)
        with torch.no_grad():
            model(torch.randn(2, 4))


main()
"""


def test_a_finished_walk_keeps_what_it_found_and_lets_go_of_its_states(tmp_path: Path) -> None:
    """A walker that has run keeps its findings (events, the functions reached and entered, the lines read)
    and lets go of what only walking needed: the inline memo's keys and exit states, the per-node answers,
    the last entry point's state. An analysis walks its callers' programs after its own, and they reuse
    that memory instead of adding to the peak."""
    import gc
    from types import FunctionType, ModuleType

    from torchlint_repro.analysis.context import ModuleCtx
    from torchlint_repro.analysis.program import _walk_file
    from torchlint_repro.analysis.state import State

    (tmp_path / "helpers.py").write_text("def evaluate(model):\n    return model(1)\n")
    path = tmp_path / "train.py"
    path.write_text(_WALKED)
    ctx = ModuleCtx(str(path), ast.parse(_WALKED), project_for(str(path), Settings()), linted=True)
    walker = _walk_file(ctx, Settings())
    found = sorted((e.kind, e.line, e.col) for e in walker.events.values() if e.path == str(path))
    assert found == [("forward_in_train", 12, 12), ("unseeded_build", 7, 12)]
    assert (str(tmp_path / "helpers.py"), "evaluate") in walker.reached
    assert walker.read_lines >= {7, 8, 9, 10, 11, 12}
    seen: set[int] = set()
    todo: list = [walker]
    states = []
    while todo:  # everything the finished walker holds, transitively (the project, modules and code aside)
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, (ast.AST, type, Project, ModuleCtx, ModuleType, FunctionType)):
            continue
        seen.add(id(obj))
        if isinstance(obj, State):
            states.append(obj)
        todo.extend(gc.get_referents(obj))
    assert states == []


_UNIT_TESTS = """\
import torch
import torch.nn as nn


def test_outputs():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    print(model(torch.ones(1, 4)).sum().item())
"""


def test_a_file_in_a_tests_folder_is_a_test_file_however_its_path_is_spelled(tmp_path, monkeypatch) -> None:
    """pytest's `test_*` functions in a test file are tests, not inference functions: a file under a `tests`
    folder is one whether its path is given relative (`tests/vae.py`, as `check .` and flake8 name it) or
    absolute. The same file outside such a folder keeps `test_*` as an inference name."""
    from torchlint_repro.engine import lint_file

    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "vae.py").write_text(_UNIT_TESTS)
    (tmp_path / "vae.py").write_text(_UNIT_TESTS)
    monkeypatch.chdir(tmp_path)
    for spelled in ("tests/vae.py", "./tests/vae.py", str(tmp_path / "tests" / "vae.py")):
        reset_projects()
        assert [(d.code, d.line) for d in lint_file(spelled, Settings(cache=False))] == [], spelled
    reset_projects()
    assert [(d.code, d.line, d.col) for d in lint_file("vae.py", Settings(cache=False))] == [("TRP201", 8, 10)]


@pytest.mark.parametrize(
    ("expr", "name"),
    [
        ("model", "model"),
        ("self.netG.module", "self.netG.module"),
        ("model.__dict__[config['MODEL']['G']['NAME']]", "model.__dict__[...]"),  # trial 12: cut mid-expression
        ("build_generator(config.model.generator, num_channels=3)", "build_generator(...)"),
        ("a_rather_long_module_name.with_an_even_longer_attribute_path_x", "a_rather_long_module_name.with_an_eve..."),
    ],
)
def test_a_long_expression_is_named_by_what_a_reader_recognises(expr: str, name: str) -> None:
    assert src_name(ast.parse(expr, mode="eval").body) == name
