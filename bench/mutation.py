#!/usr/bin/env python
"""A small mutation-testing driver for torchlint-repro's analysis and rules (issue 19).

    python bench/mutation.py --module analysis/state.py                       # every mutant of one module
    python bench/mutation.py --module rules/ --limit 50 --seed 1              # a sample of 50 per module
    python bench/mutation.py --module analysis/tracker.py --function _loop --function s_If
    python bench/mutation.py --module analysis/calls.py --function _method_call --lines 413-436
    python bench/mutation.py --module analysis/state.py --list                # the mutants, not run
    python bench/mutation.py --module analysis/state.py --json out.json       # results for bench/MUTATION.md
    python bench/mutation.py --module analysis/state.py --survivors-of out.json   # again, after new tests

Each mutant is one small change of the module's syntax tree, applied alone:

- ``operator``: a binary operator swapped (``+``/``-``, ``*``/``/``, ``|``/``&``, ``-`` of a set...);
- ``boolean``: ``and``/``or`` swapped, a ``not`` dropped;
- ``comparison``: ``==``/``!=``, ``<``/``<=``, ``>``/``>=``, ``in``/``not in``, ``is``/``is not`` swapped;
- ``constant``: ``True``/``False`` swapped, an int ``n`` made ``n + 1``, a string made ``"XX" + s + "XX"``
  (docstrings, annotations, ``__all__`` and rule ``doc=`` pages excepted: documentation and type hints;
  the pages are checked by tests/test_docs.py);
- ``return``: ``return x`` made ``return None``.

The repository (without .git) is copied once per worker into a temporary folder; the mutated module is
written there (``ast.unparse`` of the changed tree), the fast static tests run against that copy with
``-x`` (the first failure kills the mutant) and a fresh result cache, and the original is put back. The
worktree itself is never written. A mutant that makes the tests run longer than ``--timeout`` (default:
four times the unmutated run) counts as killed (it hangs). The unmutated module is first run through
the same ``ast.unparse`` round trip: the tests must pass on it, or the run stops.

Not part of CI (too slow): run it when the core changes and update bench/MUTATION.md.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "src" / "torchlint_repro"
FAST_TESTS = (
    "tests/test_mutants.py",
    "tests/test_core.py",
    "tests/test_program.py",
    "tests/test_fixtures.py",
    "tests/test_snapshots.py",
)
COPY_IGNORE = shutil.ignore_patterns(
    ".git", "__pycache__", ".pytest_cache", ".hypothesis", "corpus", ".venvs", ".ci-venv", "*.egg-info", "build", "dist"
)

BINOP_SWAP = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult,
    ast.Mod: ast.Mult,
    ast.BitOr: ast.BitAnd,
    ast.BitAnd: ast.BitOr,
    ast.BitXor: ast.BitOr,
    ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
    ast.Pow: ast.Mult,
}
CMP_SWAP = {
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}


@dataclass
class Mutant:
    module: str  # relative to src/torchlint_repro
    index: int  # the node's position in ast.walk order (with the kind: identifies the mutant)
    kind: str
    line: int
    col: int
    function: str  # the enclosing function or class ("<module>" at module level)
    description: str
    status: str = "pending"  # killed / survived / timeout / error
    seconds: float = 0.0
    killed_by: str = ""


def _docstring_nodes(tree: ast.AST) -> set[int]:
    """The ids of docstring constants, rule ``doc=`` pages, ``__all__`` and annotations (not behaviour)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                out.add(id(first.value))
        if isinstance(node, ast.keyword) and node.arg == "doc":
            out |= {id(n) for n in ast.walk(node.value)}
        # `__all__`: no module of the package is star-imported, so its names are documentation
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            out |= {id(n) for n in ast.walk(node.value)}
        # annotations (`-> "State"`): type hints, never evaluated (every module has
        # `from __future__ import annotations`)
        annotations = [getattr(node, "returns", None), getattr(node, "annotation", None)]
        out |= {id(n) for a in annotations if a is not None for n in ast.walk(a)}
    return out


def _enclosing(tree: ast.AST) -> dict[int, str]:
    """Node id -> name of the innermost enclosing function (``Class.method``) or class."""
    names: dict[int, str] = {}

    def visit(node: ast.AST, name: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = name
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                inner = child.name if name == "<module>" else f"{name}.{child.name}"
            names[id(child)] = inner
            visit(child, inner)

    visit(tree, "<module>")
    return names


def _candidates(tree: ast.AST) -> list[tuple[int, str, ast.AST, str]]:
    """Every (walk index, kind, node, description) this driver can mutate, in a fixed order."""
    docs = _docstring_nodes(tree)
    out = []
    for i, node in enumerate(ast.walk(tree)):
        if id(node) in docs:
            continue
        if isinstance(node, ast.BinOp) and type(node.op) in BINOP_SWAP:
            out.append((i, "operator", node, f"{type(node.op).__name__} -> {BINOP_SWAP[type(node.op)].__name__}"))
        elif isinstance(node, ast.BoolOp):
            other = "Or" if isinstance(node.op, ast.And) else "And"
            out.append((i, "boolean", node, f"{type(node.op).__name__} -> {other}"))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            out.append((i, "boolean", node, "drop not"))
        elif isinstance(node, ast.Compare):
            for j, op in enumerate(node.ops):
                if type(op) in CMP_SWAP:
                    out.append(
                        (i * 100 + j, "comparison", node, f"{type(op).__name__} -> {CMP_SWAP[type(op)].__name__}")
                    )
        elif isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool):
                out.append((i, "constant", node, f"{v} -> {not v}"))
            elif isinstance(v, int):
                out.append((i, "constant", node, f"{v} -> {v + 1}"))
            elif isinstance(v, str):
                shown = v if len(v) <= 30 else v[:27] + "..."
                out.append((i, "constant", node, f"{shown!r} -> 'XX'+s+'XX'"))
        elif (
            isinstance(node, ast.Return)
            and node.value is not None
            and not (isinstance(node.value, ast.Constant) and node.value.value is None)
        ):
            out.append((i, "return", node, "return ... -> return None"))
    return out


def _apply(tree: ast.Module, index: int, kind: str) -> str:
    """The source of ``tree`` with mutant ``(index, kind)`` applied (the tree itself is not changed)."""
    tree = copy.deepcopy(tree)
    walk_index, j = (index // 100, index % 100) if kind == "comparison" else (index, 0)
    node = next(n for i, n in enumerate(ast.walk(tree)) if i == walk_index)
    if kind == "operator":
        node.op = BINOP_SWAP[type(node.op)]()
    elif kind == "boolean" and isinstance(node, ast.BoolOp):
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif kind == "boolean":  # drop `not`: replace the UnaryOp by its operand in its parent
        for parent in ast.walk(tree):
            for field, value in ast.iter_fields(parent):
                if value is node:
                    setattr(parent, field, node.operand)
                elif isinstance(value, list):
                    for k, item in enumerate(value):
                        if item is node:
                            value[k] = node.operand
    elif kind == "comparison":
        node.ops[j] = CMP_SWAP[type(node.ops[j])]()
    elif kind == "constant":
        v = node.value
        node.value = (not v) if isinstance(v, bool) else (v + 1) if isinstance(v, int) else f"XX{v}XX"
    elif kind == "return":
        node.value = ast.Constant(None)
    return ast.unparse(ast.fix_missing_locations(tree))


def mutants_of(module: str, functions: tuple[str, ...] = ()) -> tuple[ast.Module, list[Mutant]]:
    path = PACKAGE / module
    tree = ast.parse(path.read_text(encoding="utf-8"))
    where = _enclosing(tree)
    out = []
    for index, kind, node, desc in _candidates(tree):
        fn = where.get(id(node), "<module>")
        if functions and not any(fn == f or fn.endswith("." + f) or fn.startswith(f + ".") for f in functions):
            continue
        out.append(Mutant(module, index, kind, getattr(node, "lineno", 0), getattr(node, "col_offset", 0), fn, desc))
    return tree, out


class Workspace:
    """One temporary copy of the repository, where one mutant at a time is written and tested."""

    def __init__(self, tests: tuple[str, ...], timeout: float | None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="torchlint-mutation-"))
        self.root = self.dir / "repo"
        shutil.copytree(REPO, self.root, ignore=COPY_IGNORE)
        self.tests = tests
        self.timeout = timeout
        self.originals: dict[str, str] = {}

    def run(self, module: str, source: str | None) -> tuple[str, float, str]:
        """Write ``source`` as ``module`` (None: the original), run the tests; (status, seconds, failure)."""
        target = self.root / "src" / "torchlint_repro" / module
        # the copy's own text, read once: the worktree may change while a run goes on
        original = self.originals.setdefault(module, target.read_text(encoding="utf-8"))
        cache = tempfile.mkdtemp(prefix="cache-", dir=self.dir)  # a fresh result cache: no answer is reused
        env = dict(
            os.environ,
            PYTHONPATH=str(self.root / "src"),
            TORCHLINT_CACHE_DIR=cache,
            PYTHONDONTWRITEBYTECODE="1",
            PYTHONHASHSEED="0",
        )
        target.write_text(source if source is not None else original, encoding="utf-8")
        start = time.monotonic()
        try:
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pytest",
                    "-x",
                    "-q",
                    "-p",
                    "no:cacheprovider",
                    "-p",
                    "no:randomly",
                    "-o",
                    "addopts=",
                    *self.tests,
                ],
                cwd=self.root,
                env=env,
                capture_output=True,
                text=True,
                timeout=self.timeout,
            )
        except subprocess.TimeoutExpired:
            return "timeout", time.monotonic() - start, ""
        finally:
            target.write_text(original, encoding="utf-8")
            shutil.rmtree(cache, ignore_errors=True)
        seconds = time.monotonic() - start
        failed = next(
            (
                ln.split(" ", 1)[1].split(" - ")[0]
                for ln in proc.stdout.splitlines()
                if ln.startswith(("FAILED ", "ERROR "))
            ),
            "",
        )
        if proc.returncode == 0:
            return "survived", seconds, ""
        if proc.returncode == 1:
            return "killed", seconds, failed
        # 2 (interrupted: an import error in the mutant), 3 (internal error), ...
        return "killed", seconds, failed or f"pytest exit {proc.returncode} (collection/import failed)"

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--module",
        action="append",
        required=True,
        help="a module or folder under src/torchlint_repro (analysis/state.py, rules/); repeatable",
    )
    ap.add_argument(
        "--function",
        action="append",
        default=[],
        help="only mutants inside this function or method (bare or Class.method); repeatable",
    )
    ap.add_argument(
        "--lines", action="append", default=[], help="only mutants on these lines of the module (A-B); repeatable"
    )
    ap.add_argument("--limit", type=int, default=0, help="sample at most N mutants per module (0: all)")
    ap.add_argument("--seed", type=int, default=0, help="the sample's random seed")
    ap.add_argument("--jobs", type=int, default=1, help="mutants tested at once (one repository copy each)")
    ap.add_argument("--timeout", type=float, default=0, help="seconds per mutant (default: 4x the clean run)")
    ap.add_argument("--tests", nargs="+", default=list(FAST_TESTS), help="the test files to run")
    ap.add_argument("--list", action="store_true", help="list the (sampled) mutants and exit")
    ap.add_argument("--json", help="write every mutant and its result to this file")
    ap.add_argument(
        "--survivors-of",
        metavar="JSON",
        help="run only the mutants that survived in this earlier --json result (same modules)",
    )
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # killed: still remove the repository copies

    modules: list[str] = []
    for m in args.module:
        m = m.removeprefix("src/torchlint_repro/")
        p = PACKAGE / m
        if p.is_dir():
            modules += sorted(str(f.relative_to(PACKAGE)) for f in p.glob("*.py") if f.name != "__init__.py")
        elif p.is_file():
            modules.append(m)
        else:
            ap.error(f"no module {m} under {PACKAGE}")

    rng = random.Random(args.seed)
    plan: list[tuple[Mutant, str]] = []
    for m in modules:
        tree, muts = mutants_of(m, tuple(args.function))
        if args.lines:
            spans = [tuple(int(x) for x in span.split("-")) for span in args.lines]
            muts = [mu for mu in muts if any(a <= mu.line <= b for a, b in spans)]
        if args.limit and len(muts) > args.limit:
            muts = sorted(rng.sample(muts, args.limit), key=lambda x: (x.line, x.col, x.index))
        if args.survivors_of:
            earlier = json.loads(Path(args.survivors_of).read_text(encoding="utf-8"))
            alive = {(e["module"], e["index"], e["kind"]) for e in earlier if e["status"] == "survived"}
            _, every = mutants_of(m, tuple(args.function))
            muts = [mu for mu in every if (mu.module, mu.index, mu.kind) in alive]
        plan += [(mu, _apply(tree, mu.index, mu.kind)) for mu in muts]
    if args.list:
        for mu, _ in plan:
            print(f"{mu.module}:{mu.line}:{mu.col} {mu.function} [{mu.kind}] {mu.description}")
        print(f"{len(plan)} mutants")
        return 0

    workspaces = [Workspace(tuple(args.tests), None) for _ in range(max(1, args.jobs))]
    try:
        # the round trip through ast.unparse must keep the tests green, or every mutant "is killed"
        base = 0.0
        for m in modules:
            tree = ast.parse((PACKAGE / m).read_text(encoding="utf-8"))
            status, seconds, failed = workspaces[0].run(m, ast.unparse(tree))
            if status != "survived":
                print(f"the unmutated {m} (through ast.unparse) fails the tests: {failed}", file=sys.stderr)
                return 2
            base = max(base, seconds)
        timeout = args.timeout or max(60.0, 4 * base)
        for w in workspaces:
            w.timeout = timeout
        print(f"clean run: {base:.1f}s; {len(plan)} mutants, timeout {timeout:.0f}s each", flush=True)

        free = list(workspaces)

        def run_one(item: tuple[Mutant, str]) -> Mutant:
            mu, src = item
            w = free.pop()
            try:
                mu.status, mu.seconds, mu.killed_by = w.run(mu.module, src)
            finally:
                free.append(w)
            mark = {"killed": "K", "timeout": "T", "survived": "S"}.get(mu.status, "?")
            print(
                f"{mark} {mu.module}:{mu.line}:{mu.col} {mu.function} [{mu.kind}] {mu.description} "
                f"({mu.seconds:.0f}s) {mu.killed_by}",
                flush=True,
            )
            return mu

        with ThreadPoolExecutor(max_workers=len(workspaces)) as pool:
            done = list(pool.map(run_one, plan))
    finally:
        for w in workspaces:
            w.close()

    print("\nmodule                         mutants  killed  survived  kill rate")
    for m in modules:
        ms = [mu for mu, _ in plan if mu.module == m]
        killed = sum(mu.status in ("killed", "timeout") for mu in ms)
        rate = f"{100 * killed / len(ms):.0f}%" if ms else "-"
        print(f"{m:<30} {len(ms):>7} {killed:>7} {len(ms) - killed:>9}  {rate:>9}")
    survivors = [mu for mu in done if mu.status == "survived"]
    if survivors:
        print("\nsurvivors:")
        for mu in survivors:
            print(f"  {mu.module}:{mu.line}:{mu.col} {mu.function} [{mu.kind}] {mu.description}")
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(mu) for mu in done], indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
