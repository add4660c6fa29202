"""The analysis is layered (issue 12, docs/architecture.md "Layers"): its modules import one another only
downwards, at the top of the module, and no module imports another's underscore names.

Read from the source with ``ast`` (nothing is imported): a function-local import that dodges a cycle, an
import up the table below, a module nobody placed in the table, or ``from .x import _y`` fails here with
the module, the line and what to do.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = ROOT / "src" / "torchlint_repro"
PACKAGE = "torchlint_repro"
ANALYSIS = f"{PACKAGE}.analysis"

# Lowest first. A module of the analysis may import at run time only from its own layer or a lower one
# (and the whole graph must stay acyclic, within a layer too). Imports under a module-level
# `if TYPE_CHECKING:` are for the type checker only and are not edges. A new module fails until placed.
LAYERS: list[tuple[str, frozenset[str]]] = [
    ("helpers", frozenset({"names", "paths", "values", "state"})),  # pure: what names, paths, values mean
    ("facts", frozenset({"cache", "project"})),  # per-module facts, the project index and its disk cache
    ("summaries", frozenset({"syntax", "relevance", "context"})),  # one module: its summary, its context
    ("flow", frozenset({"smoke", "walker_base", "calls", "loads", "tracker"})),  # the abstract interpreter
    ("program", frozenset({"edits", "program"})),  # a file's findings from every program that reaches it
]
RANK = {module: rank for rank, (_, modules) in enumerate(LAYERS) for module in modules}
LAYER_NAME = {module: name for name, modules in LAYERS for module in modules}

# Modules outside analysis/ that the analysis may import: they are below it (none imports the analysis
# when it is imported). Anything else of the package (engine, pipeline, rules, ...) is above it.
BELOW_ANALYSIS = frozenset(
    {
        PACKAGE,
        f"{PACKAGE}.config",
        f"{PACKAGE}._io",
        f"{PACKAGE}._digest",
        f"{PACKAGE}._record",
        f"{PACKAGE}.diagnostics",
    }
)

# Imports excused from the rules: (module, function, imported module, name). None today; an entry must
# say why the import cannot go.
EXCUSED: frozenset[tuple[str, str, str, str]] = frozenset()


@dataclass(frozen=True)
class Import:
    module: str  # the importing module (dotted)
    line: int
    inside: str  # "" at the module's top level, else where: a function or class ("Project.module_ctx"), a block
    type_only: bool  # under a module-level `if TYPE_CHECKING:`
    target: str  # the module imported from (dotted; the submodule when the name imported is one)
    name: str  # the name imported ("*" for a star import, the module for `import x`)

    def key(self) -> tuple[str, str, str, str]:
        return (self.module, self.inside, self.target, self.name)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(module: str, source: str, is_package: bool, modules: frozenset[str]) -> list[Import]:
    """Every import statement of ``source`` (the module ``module``) and where it stands. ``modules`` are the
    package's module names: ``from . import names`` imports the module ``names``, ``from .x import y`` x."""
    package = module if is_package else module.rpartition(".")[0]
    out: list[Import] = []

    def targets(st: ast.Import | ast.ImportFrom) -> list[tuple[str, str]]:
        if isinstance(st, ast.Import):
            return [(a.name, a.name) for a in st.names]
        if st.level == 0:
            base = st.module or ""
        else:
            parts = package.split(".")
            base = ".".join(parts[: len(parts) - (st.level - 1)] + ([st.module] if st.module else []))
        return [(f"{base}.{a.name}", a.name) if f"{base}.{a.name}" in modules else (base, a.name) for a in st.names]

    def visit(stmts: list[ast.stmt], scope: tuple[str, ...], block: str, type_only: bool) -> None:
        for st in stmts:
            if isinstance(st, (ast.Import, ast.ImportFrom)):
                inside = ".".join(scope) or block
                out.extend(Import(module, st.lineno, inside, type_only, t, n) for t, n in targets(st))
            elif isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                visit(st.body, (*scope, st.name), block, type_only)
            elif not scope and not block and isinstance(st, ast.If) and _is_type_checking(st.test):
                visit(st.body, scope, "", True)  # type-only, and still the module's top level
                visit(st.orelse, scope, "<the else of if TYPE_CHECKING>", False)
            else:  # any other compound statement: what it holds is not at the module's top level
                inner = block or (f"<{type(st).__name__.lower()} at line {st.lineno}>" if not scope else "")
                for field in ("body", "orelse", "finalbody"):
                    visit(getattr(st, field, None) or [], scope, inner, type_only)
                for child in [*getattr(st, "handlers", ()), *getattr(st, "cases", ())]:
                    visit(child.body, scope, inner, type_only)

    visit(ast.parse(source).body, (), "", False)
    return out


def _short(module: str) -> str | None:
    """``project`` for ``torchlint_repro.analysis.project``; None outside the analysis."""
    prefix = ANALYSIS + "."
    return module[len(prefix) :] if module.startswith(prefix) and "." not in module[len(prefix) :] else None


def violations(imports: list[Import], excused: frozenset = EXCUSED) -> list[str]:
    """What breaks the layering among ``imports`` (of any modules of the package), one message each."""
    out: list[str] = []
    for i in imports:
        if i.key() in excused:
            continue
        where = f"{i.module}:{i.line}"
        own = i.target == PACKAGE or i.target.startswith(PACKAGE + ".")
        if own and i.name.startswith("_") and not (i.name.startswith("__") and i.name.endswith("__")):
            out.append(
                f"{where}: imports the private name `{i.name}` from {i.target}: make it public (it is an "
                f"interface of its module) or move it to the one module that uses it"
            )
        src = _short(i.module)
        if src is None:
            continue  # the rest of the package: only the private-name rule
        if i.inside:
            out.append(
                f"{where}: `{i.name}` from {i.target} is imported inside {i.inside}: imports of the analysis "
                f"stand at the top of the module (or under a module-level `if TYPE_CHECKING:`); a cycle it "
                f"dodged means some code is in the wrong layer"
            )
        if i.type_only or not own:
            continue
        if src not in RANK:
            out.append(f"{where}: {src}.py is in no layer: place it in LAYERS (tests/test_layering.py) and the docs")
            continue
        dst = _short(i.target)
        if dst is None:
            if i.target not in BELOW_ANALYSIS:
                out.append(f"{where}: {src} imports {i.target}, which is not below the analysis")
        elif i.target == ANALYSIS:
            out.append(f"{where}: {src} imports the analysis package itself")
        elif dst not in RANK:
            out.append(f"{where}: imports {dst}.py, which is in no layer: place it in LAYERS")
        elif RANK[dst] > RANK[src]:
            out.append(
                f"{where}: {src} ({LAYER_NAME[src]}) imports {dst} ({LAYER_NAME[dst]}), a higher layer: move the "
                f"code {src} needs down, or have the higher layer pass it in"
            )
    return out


def cycles(imports: list[Import], excused: frozenset = EXCUSED) -> list[list[str]]:
    """The cycles of the run-time import graph among the analysis modules (each as a path)."""
    graph: dict[str, set[str]] = {}
    for i in imports:
        src, dst = _short(i.module), _short(i.target)
        if src and dst and not i.type_only and i.key() not in excused:
            graph.setdefault(src, set()).add(dst)
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the stack, 2 done

    def dfs(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                found.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                dfs(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            dfs(node, [node])
    return found


def _module_name(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def package_imports() -> list[Import]:
    files = sorted(PACKAGE_DIR.rglob("*.py"))
    modules = frozenset(_module_name(p)[0] for p in files)
    out: list[Import] = []
    for path in files:
        name, is_package = _module_name(path)
        out.extend(imports_of(name, path.read_text(encoding="utf-8"), is_package, modules))
    return out


def analysis_modules() -> list[str]:
    return sorted(p.stem for p in (PACKAGE_DIR / "analysis").glob("*.py") if p.stem != "__init__")


# ------------------------------------------------------------------------------ the package as it is
def test_the_package_keeps_its_layers() -> None:
    found = violations(package_imports())
    assert not found, "the layering of the analysis is broken (docs/architecture.md, Layers):\n" + "\n".join(found)


def test_the_analysis_import_graph_is_acyclic() -> None:
    found = cycles(package_imports())
    assert not found, "import cycles among the analysis modules:\n" + "\n".join(" -> ".join(c) for c in found)


def test_every_analysis_module_is_in_a_layer_and_every_layer_entry_exists() -> None:
    modules = set(analysis_modules())
    assert modules - RANK.keys() == set(), "modules in no layer: place them in LAYERS"
    assert RANK.keys() - modules == set(), "LAYERS names modules that do not exist"
    init = (PACKAGE_DIR / "analysis" / "__init__.py").read_text(encoding="utf-8")
    assert not any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(ast.parse(init)))


def test_the_layers_table_in_the_docs_names_every_module() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    missing = [m for m in analysis_modules() if f"`{m}.py`" not in section]
    assert not missing, f"docs/architecture.md's Layers section does not place {missing}"


# ------------------------------------------------------------------------------ the checker can fail
MODULES = frozenset({PACKAGE, ANALYSIS} | {f"{ANALYSIS}.{m}" for m in RANK} | {f"{ANALYSIS}.newcomer"})


def check(module: str, source: str) -> list[str]:
    imports = imports_of(f"{ANALYSIS}.{module}", source, False, MODULES)
    return violations(imports, excused=frozenset())


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        pytest.param(
            "project",
            "def scan():\n    from .tracker import collect_saves\n",
            ["is imported inside scan", "project (facts) imports tracker (flow), a higher layer"],
            id="function-local-import-up",
        ),
        pytest.param(
            "project",
            "import os\n\nclass P:\n    def f(self):\n        import re\n",
            ["`re` from re is imported inside P.f"],
            id="function-local-stdlib-import",
        ),
        pytest.param(
            "paths",
            "try:\n    from .names import dotted\nexcept ImportError:\n    pass\n",
            ["is imported inside <try at line 1>"],
            id="import-in-a-try",
        ),
        pytest.param(
            "relevance",
            "from .project import _argparse_dest\n",
            ["imports the private name `_argparse_dest` from torchlint_repro.analysis.project"],
            id="private-name",
        ),
        pytest.param(
            "syntax",
            "from .tracker import Walker\n",
            ["syntax (summaries) imports tracker (flow), a higher layer"],
            id="import-up",
        ),
        pytest.param(
            "names",
            "from . import project as P\n",
            ["names (helpers) imports project (facts), a higher layer"],
            id="module-import-up",
        ),
        pytest.param(
            "calls",
            "from ..engine import lint_source\n",
            ["calls imports torchlint_repro.engine, which is not below the analysis"],
            id="import-above-the-analysis",
        ),
        pytest.param(
            "newcomer",
            "from .names import dotted\n",
            ["newcomer.py is in no layer"],
            id="unplaced-module",
        ),
        pytest.param(
            "syntax",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    pass\nelse:\n    from .tracker import Walker\n",
            ["is imported inside <the else of if TYPE_CHECKING>", "syntax (summaries) imports tracker (flow)"],
            id="import-in-the-else-of-type-checking",
        ),
    ],
)
def test_the_checker_flags_a_violating_source(module: str, source: str, expected: list[str]) -> None:
    found = check(module, source)
    for text in expected:
        assert any(text in message for message in found), f"{text!r} not in {found}"


def test_the_checker_accepts_a_layered_source() -> None:
    source = (
        "from __future__ import annotations\n"
        "import ast\n"
        "from typing import TYPE_CHECKING\n"
        "from .. import __version__\n"
        "from ..config import Settings\n"
        "from . import names as N\n"
        "from .project import Project, argparse_dest\n"
        "from .relevance import relevant_units\n"
        "if TYPE_CHECKING:\n"
        "    from .tracker import Walker  # a higher layer, for types only\n"
    )
    assert check("context", source) == []
    # a private name stays private for the type checker too
    type_only = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .context import _Summary\n"
    assert check("program", type_only) == [
        f"{ANALYSIS}.program:3: imports the private name `_Summary` from {ANALYSIS}.context: make it public (it "
        "is an interface of its module) or move it to the one module that uses it"
    ]


def test_the_checker_finds_a_cycle_within_a_layer() -> None:
    imports = imports_of(f"{ANALYSIS}.calls", "from .loads import LoadsMixin\n", False, MODULES) + imports_of(
        f"{ANALYSIS}.loads", "from .calls import CallsMixin\n", False, MODULES
    )
    assert violations(imports, excused=frozenset()) == []  # the same layer: allowed edge by edge
    assert cycles(imports, excused=frozenset()) == [["calls", "loads", "calls"]]
