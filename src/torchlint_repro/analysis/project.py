"""The project index: modules, classes and their bases, constants and checkpoint saves, across files.

flake8 hands us one file at a time, possibly in several processes; the index is found from the
file's path (nearest pyproject.toml / setup.cfg / setup.py / .git), built lazily — only the modules a
query reaches are read — and each module's facts are cached on disk by content hash, so the second
file and the second run pay nothing.
"""

from __future__ import annotations

import ast
import collections
import configparser
import contextlib
import json
import os
import re
import stat
import sys
import time
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import tomllib

from .._digest import sha256, sha256_hex
from .._io import read_regular
from ..config import Settings
from . import names as N
from .cache import CLAIM_WAIT, DiskCache, file_digest
from .names import FIXED_PARAMS, MAYBE, NO, NONLITERAL, YES
from .paths import HOLE, path_template

ROOT_MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", ".git")
_SKIP_DIRS = {
    ".git",
    ".hg",
    "__pycache__",
    ".venv",
    "venv",
    "env",
    ".tox",
    ".nox",
    "node_modules",
    "build",
    "dist",
    ".eggs",
    ".torchlint_cache",
    ".mypy_cache",
    ".pytest_cache",
    "site-packages",
}
MAX_SCAN_FILES = 4000
MAX_FILE_BYTES = 10 * 1024 * 1024  # a larger .py file is data, not code: never read
# the search for a function's callers (see Project.caller_files) stops, and says so, past this many calls
# up the chain or files read: a library's deepest helpers keep the state they would have with no caller
MAX_CALLER_DEPTH = 12
MAX_CALLER_FILES = 60
FACTS_WAIT = 10.0  # seconds to wait for a module's facts another worker is computing, at most
_RACY_NS = 2_000_000_000  # a file changed this close to the stored word index is read again
MENTIONS_DEP = "<mentions>"  # a result's dependency on which files spell a name (see Project.caller_files)
_TOP_DEF = re.compile(rb"^(?:async[ \t]+)?(?:def|class)[ \t]+([A-Za-z_][A-Za-z0-9_]*)", re.M)
# a module-level table (`model_dict = {...}`): scripts that call what it holds spell its name, not the builder's
_TOP_TABLE = re.compile(rb"^([A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*(?:\{|dict\()", re.M)
_IDENT = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
# other modules kept ready to walk (their unwalked function bodies dropped), counted in syntax nodes
# (~270 bytes each), for the whole process (flake8 may see several project roots)
CTX_CACHE_NODES = 60_000
SUMMARY_CACHE_SIZE = 128  # module summaries (imports, constants, relevance: ~6 KB each) per project


class SizedLRU:
    """An LRU bounded by the total size of its values (the caller says each one's size, 1 to count entries).
    The project layer owns the stores so that ``reset_projects`` empties them; what goes in (another
    module's walkable context, a module's summary) is built by the layer above (context.py)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.items: collections.OrderedDict[Hashable, tuple[Any, int]] = collections.OrderedDict()
        self.total = 0

    def get(self, key: Hashable) -> Any:
        hit = self.items.get(key)
        if hit is None:
            return None
        self.items.move_to_end(key)
        return hit[0]

    def put(self, key: Hashable, value: Any, size: int) -> None:
        old = self.items.pop(key, None)
        if old is not None:
            self.total -= old[1]
        self.items[key] = (value, size)
        self.total += size
        while self.total > self.capacity and len(self.items) > 1:
            _, (_, dropped) = self.items.popitem(last=False)
            self.total -= dropped

    def clear(self) -> None:
        self.items.clear()
        self.total = 0


CONTEXTS = SizedLRU(CTX_CACHE_NODES)


T = TypeVar("T")


# tensor methods that fill the tensor from torch's generator in place
RANDOM_FILLS = frozenset(
    {"uniform_", "normal_", "random_", "bernoulli_", "exponential_", "cauchy_", "log_normal_", "geometric_"}
)
RANDOM_TENSORS = frozenset(
    {
        "torch.randn",
        "torch.rand",
        "torch.randint",
        "torch.randperm",
        "torch.normal",
        "torch.randn_like",
        "torch.rand_like",
        "torch.randint_like",
        "torch.bernoulli",
        "torch.multinomial",
    }
)
# torch.nn.init functions that write the same values in every process (the others draw from the generator)
_FIXED_INITS = frozenset({"constant_", "zeros_", "ones_", "eye_", "dirac_"})
CONSTANT_INITS = _FIXED_INITS | {"calculate_gain"}


def find_root(path: str | os.PathLike, fallback: str | os.PathLike | None = None) -> Path:
    """The nearest folder above ``path`` with a root marker; without one, ``fallback`` (the run's root)
    when it contains ``path``, else the file's own folder."""
    p = Path(path).resolve()
    start = p.parent if not p.is_dir() else p
    for d in (start, *start.parents):
        if any((d / m).exists() for m in ROOT_MARKERS):
            return d
    if fallback is not None:
        base = Path(fallback).resolve()
        if base == start or base in start.parents:
            return base
    return start


# the most modules of a package a name chosen at run time may be looked up in (see Project.package_members)
MAX_PACKAGE_MEMBERS = 24

# ------------------------------------------------------------------------------ per-file facts


def arg_value(node: ast.AST) -> Any:
    """A literal argument's value, else NONLITERAL."""
    v = _literal(node)
    return v if v is not None or (isinstance(node, ast.Constant) and node.value is None) else NONLITERAL


def _literal(node: ast.AST) -> Any:
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, (int, float, str, bool, type(None))) else None


def build_facts(tree: ast.Module, module: str, is_package: bool) -> dict:
    """Everything cheap the index keeps about one module (JSON-serialisable)."""
    imports = N.ImportMap.from_tree(tree, module, is_package)
    classes: dict[str, dict] = {}
    functions: list[str] = []
    constants: dict[str, str] = {}
    argparse_defaults: dict[str, str] = {}
    registries: dict[str, dict[str, str]] = {}  # NAME = {"key": Class, ...} at the top: what each key names

    def lookup_const(key: str) -> str | None:
        return constants.get(key)

    seen_defs: dict[str, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef] = {}
    top = {id(n) for n in tree.body}  # constants: the module's own top level only (not an `if`'s branch)
    node: ast.AST
    for node in module_statements(tree.body):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            earlier = seen_defs.get(node.name)
            if earlier is not None:  # defined again (a notebook's later cell): each one by its line too
                if isinstance(earlier, ast.ClassDef):
                    classes[f"{earlier.name}@{earlier.lineno}"] = classes[earlier.name]
                else:
                    functions.append(f"{earlier.name}@{earlier.lineno}")
                if isinstance(node, ast.ClassDef):
                    classes[f"{node.name}@{node.lineno}"] = _class_facts(node, imports)
                else:
                    functions.append(f"{node.name}@{node.lineno}")
            seen_defs[node.name] = node
        if isinstance(node, ast.ClassDef):
            classes[node.name] = _class_facts(node, imports)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and id(node) in top:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if node.value is not None and len(targets) == 1 and isinstance(targets[0], ast.Name):
                t = path_template(node.value, imports.resolve, lookup_const)
                if t is not None:
                    constants[targets[0].id] = t
                elif isinstance(node.value, ast.Dict):
                    table = _registry(node.value, imports)
                    if table:
                        registries[targets[0].id] = table
    # the top-level functions that read a file into parameters (asked twice below: computed once)
    readers = {
        id(n)
        for n in tree.body
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and _copies_file_into_parameters(n, imports)
    }
    for node in N.subtree(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument":
            dest, default = argparse_dest(node)
            if dest and default is not None:
                argparse_defaults[dest] = default
    refs, named = _unit_refs(tree, imports, argparse_defaults)
    return {
        "module": module,
        "is_package": is_package,
        "imports": imports.bindings,
        "classes": classes,
        "functions": functions,
        "constants": constants,
        "argparse": argparse_defaults,
        "mentions_torch": any(v.split(".", 1)[0] == "torch" for v in imports.bindings.values()),
        "refs": refs,
        "named": named,
        "registries": registries,
        "stars": list(imports.stars),
        # `import models.pose_resnet` at the top of the module (a package's __init__ making its modules reachable
        # as `models.pose_resnet`): the dotted modules it imports whole, without a name of their own
        "submodules": sorted(
            {
                alias.name
                for stmt in module_statements(tree.body)
                if isinstance(stmt, ast.Import)
                for alias in stmt.names
                if alias.asname is None and "." in alias.name
            }
        ),
        "loaders": _loaders(tree, imports, readers),
        "loader_guards": _loader_guards(tree, imports, readers),
        # functions that read a file into the parameters of the model they are given, without load_state_dict
        "readers": sorted(
            n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and id(n) in readers
        ),
        "syspath": _sys_path_additions(tree),
        "seeds_on_import": _seeds_on_import(tree, imports),
    }


def module_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """A module's statements, with those under a top-level ``if``/``try`` (a class defined in the
    ``__main__`` block, a fallback under ``except ImportError``), as the walk collects its definitions."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, ast.If):
            yield from module_statements(stmt.body + stmt.orelse)
        elif isinstance(stmt, ast.Try):
            yield from module_statements(stmt.body + stmt.orelse + stmt.finalbody)
            for h in stmt.handlers:
                yield from module_statements(h.body)


def _seeds_on_import(tree: ast.Module, imports: N.ImportMap) -> bool:
    """Does importing this module seed torch: a seed call among its top-level statements, run on every
    path (not under an `if`, a `try` or the `__main__` block)?"""
    for stmt in tree.body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            q = imports.resolve(stmt.value.func)
            last = N.dotted(stmt.value.func) or ""
            if q is not None and q in N.SEED_CALLS and q not in N.NONDETERMINISTIC_SEEDS and q not in N.CUDA_SEEDS:
                return True
            if q is not None and last.rsplit(".", 1)[-1] in N.SEED_METHODS and not q.startswith("?"):
                return True
    return False


_BUILTINS = frozenset(dir(__import__("builtins")))


def _sys_path_additions(tree: ast.Module) -> list[str]:
    """Folders a script puts on ``sys.path`` (`sys.path.append('..')`, `sys.path.insert(0, os.path.join(
    os.path.dirname(__file__), 'lib'))`), relative to the script's own folder: its imports resolve there
    too. Module-level names bound to such a folder are followed (`this_dir = osp.dirname(__file__)`), and so
    is a function of the module that adds its parameter (faster-rcnn's `_init_paths.py`: `def add_path(path):
    sys.path.insert(0, path)`, then `add_path(osp.join(this_dir, 'lib'))`)."""
    env: dict[str, str] = {}
    # the names `os.path` goes by in the module (`import os.path as osp`: faster-rcnn's `osp.join`)
    for node in tree.body:
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name == "os.path" and a.asname:
                    env[_OS_PATH + a.asname] = ""
        elif isinstance(node, ast.ImportFrom) and node.module == "os" and node.level == 0:
            for a in node.names:
                if a.name == "path":
                    env[_OS_PATH + (a.asname or a.name)] = ""
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and (rel := _relative_dir(node.value, env)) is not None
        ):
            env[node.targets[0].id] = rel
    adders: dict[str, int] = {}  # a module function that puts one of its parameters on sys.path: its position
    for fn in tree.body:
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        params = [a.arg for a in fn.args.args]
        for sub in N.subtree(fn):
            arg = _sys_path_arg(sub)
            if isinstance(arg, ast.Name) and arg.id in params:
                adders[fn.name] = params.index(arg.id)
    out: list[str] = []
    for call in N.subtree(tree):
        arg = _sys_path_arg(call)
        if (
            arg is None
            and isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id in adders
            and len(call.args) > adders[call.func.id]
        ):
            arg = call.args[adders[call.func.id]]
        rel = _relative_dir(arg, env) if arg is not None else None
        if rel is None and isinstance(arg, ast.Constant) and isinstance(arg.value, str) and os.path.isabs(arg.value):
            rel = arg.value  # a folder of its author's machine (`/root/deeplabv3/model`): see Project._checkout_folder
        if rel is not None and rel not in out:
            out.append(rel)
    return out


_OS_PATH = "<os.path>"  # an env key: a name `os.path` is bound to in the module


def _path_function(func: ast.expr, env: dict[str, str]) -> str:
    """`dirname` for `os.path.dirname`, `path.dirname` or `osp.dirname` (`import os.path as osp`); else ''."""
    f = N.dotted(func) or ""
    prefix, _, name = f.rpartition(".")
    if prefix in ("os.path", "path") or _OS_PATH + prefix in env:
        return name
    return ""


def _sys_path_arg(node: ast.AST) -> ast.expr | None:
    """What `sys.path.append(x)` / `sys.path.insert(0, x)` adds; None for any other node."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("append", "insert")
        and N.dotted(node.func.value) == "sys.path"
        and node.args
    ):
        return node.args[-1]
    return None


def _relative_dir(node: ast.AST | None, env: dict[str, str] | None = None) -> str | None:
    """A folder relative to the file's own: '..' for `'..'`, `os.path.dirname(os.path.dirname(__file__))`
    or `os.path.join(os.path.dirname(__file__), '..')`, or a module-level name ``env`` binds to one; None
    when it cannot be told."""
    env = env or {}
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value if not os.path.isabs(node.value) else None
    if isinstance(node, ast.Name):
        return env.get(node.id)
    if isinstance(node, ast.Call):
        f = _path_function(node.func, env)
        if f in ("abspath", "realpath", "normpath") and node.args:
            return _relative_dir(node.args[0], env)
        if f == "dirname" and node.args:
            inner = node.args[0]
            while (
                isinstance(inner, ast.Call)
                and _path_function(inner.func, env) in ("abspath", "realpath", "normpath")
                and inner.args
            ):
                inner = inner.args[0]  # `os.path.dirname(os.path.abspath(__file__))`: the file's folder all the same
            if isinstance(inner, ast.Name) and inner.id == "__file__":
                return "."
            base = _relative_dir(inner, env)
            if base is None:
                return None
            return ".." if base == "." else os.path.join(base, "..")
        if f == "join" and node.args:
            parts = [_relative_dir(node.args[0], env)] + [
                a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None for a in node.args[1:]
            ]
            known = [part for part in parts if part is not None]
            if len(known) != len(parts):
                return None
            return os.path.normpath(os.path.join(*known))
    return None


def _unit_refs(
    tree: ast.Module, imports: N.ImportMap, options: dict | None = None
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """For each unit of the module (``<module>`` for its top-level statements, ``f`` for a function,
    ``C.m`` for a method), the qualified names it refers to that may be code of the project: what it
    calls, builds or hands on (``mp.spawn(worker)``). The project's reverse call graph is made of these.
    Second, per unit, those of them it only names and never calls (`isinstance(m, ModelEma)`,
    `worker_init_fn=_worker_init`): what a call of the unit runs is the rest. A definition a module's table
    is asked for by the name an option holds (`models.__dict__[args.model]`, ``options``: the module's
    command-line defaults) refers to the option's default (`models.SmallNet`), as the walk does."""
    stdlib = sys.stdlib_module_names
    options = options or {}

    def by_option(sub: ast.AST) -> tuple[ast.expr, str] | None:
        found = N.table_lookup(sub)
        if found is None or found[2] or not isinstance(found[1], ast.Attribute):
            return None
        holder, key = found[0], found[1]
        default = options.get(key.attr)
        return (holder, default) if isinstance(default, str) and default.isidentifier() else None

    def names_in(nodes, cls: str | None, uncalled: set[str] | None = None) -> list[str]:
        out: set[str] = set()
        calls: set[str] = set()
        called = {id(n.func) for top in nodes for n in N.subtree(top) if isinstance(n, ast.Call)}
        for top in nodes:
            for sub in N.subtree(top):
                named = evaluated_name(sub, imports)
                if named is not None:
                    # `eval("models." + name + ".get_pose_net")(cfg)`: the definition it spells (calls.py's
                    # _named_by_eval), `models.*.get_pose_net` for any module of the package
                    out.add(named)
                    if id(sub) in called:
                        calls.add(named)
                    continue
                read = N.literal_getattr(sub) or by_option(sub)
                if read is not None:
                    # `getattr(deeplab, "resnet101")`: the module's `resnet101`, named by a literal
                    holder = imports.resolve(read[0])
                    if holder is not None and holder.split(".", 1)[0] not in stdlib:
                        out.add(f"{holder}.{read[1]}")
                        if id(sub) in called:
                            calls.add(f"{holder}.{read[1]}")
                    continue
                if isinstance(sub, (ast.Name, ast.Attribute)) and isinstance(getattr(sub, "ctx", None), ast.Load):
                    found: set[str] = set()
                    if (
                        isinstance(sub, ast.Attribute)
                        and cls is not None
                        and isinstance(sub.value, ast.Name)
                        and sub.value.id in ("self", "cls")
                    ):
                        found.add(f"{imports.module}.{cls}.{sub.attr}" if imports.module else f"{cls}.{sub.attr}")
                    elif isinstance(sub, ast.Attribute) and cls is not None and N.is_super_call(sub.value):
                        # `super().__init__(args)`: each base's method of that name, maybe (the first that
                        # defines it runs; Informer's base `__init__` builds through an override)
                        found.update(f"{b}.{sub.attr}" for b in units.get(cls, ()) if not b.startswith("torch."))
                    else:
                        q = imports.resolve(sub)
                        if q is None:
                            if (
                                imports.stars
                                and isinstance(sub, ast.Name)
                                and sub.id not in _BUILTINS
                                and (id(sub) in called or cls is None and sub.id[:1].isupper())
                            ):
                                # bound by a star import, maybe: each star module is a candidate (locate decides)
                                found.update(f"{m}.{sub.id}" for m in imports.stars)
                        elif q.split(".", 1)[0] not in stdlib:
                            found.add(q)
                    out |= found
                    if id(sub) in called:
                        calls |= found
        if uncalled is not None:
            uncalled |= out - calls
        return sorted(out)

    units: dict[str, list[str]] = {}
    only_named: dict[str, list[str]] = {}
    module_level: list[ast.AST] = []

    def visit(stmts, under_class: str | None = None) -> None:
        for node in stmts:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                # (decorators are left out: a registry decorator runs at import, it does not call the code)
                key = f"{under_class}.{node.name}" if under_class else node.name
                named: set[str] = set()
                units[key] = names_in(node.body + [a for a in node.args.defaults], under_class, named)
                if named:
                    only_named[key] = sorted(named)
            elif isinstance(node, ast.ClassDef) and under_class is None:
                # a subclass reaches its bases' methods: its bases are refs of the class itself
                units[node.name] = names_in(node.bases, None)
                visit(node.body, node.name)
            elif under_class is None and isinstance(node, (ast.If, ast.Try)):
                module_level.append(getattr(node, "test", ast.Pass()))
                visit(node.body)
                visit(node.orelse)
                for h in getattr(node, "handlers", ()):
                    visit(h.body)
                visit(getattr(node, "finalbody", []))
            else:
                module_level.append(node)

    visit(tree.body)
    units["<module>"] = names_in(module_level, None)
    return {k: v for k, v in units.items() if v}, only_named


def evaluated_name(node: ast.AST, imports: N.ImportMap) -> str | None:
    """The qualified name `eval(text)` spells, read (never run) from the text's literal parts: the name, or
    ``pkg.*.name`` when one part of it is chosen at run time (any module of the package `pkg` that defines
    `name`: see Project.package_members); None for any other node or text."""
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "eval"
        and len(node.args) == 1
        and not node.keywords
    ):
        return None
    t = path_template(node.args[0], imports.resolve, lambda key: None)
    spelled = eval_name_parts(t) if t is not None else None
    if spelled is None:
        return None
    head, name = spelled
    q = imports.resolve(head)
    if q is not None and name is not None:
        q = f"{q}.*.{name}"
    return q if q is not None and q.split(".", 1)[0] not in sys.stdlib_module_names else None


def eval_name_parts(template: str) -> tuple[str, str | None] | None:
    """How the text given to `eval` (as a path template: a part chosen at run time is a hole) spells a name:
    (the dotted name, None) with no hole; (the dotted package before the hole, the one name after it) for
    `"models." + arch + ".get_pose_net"`; None for any other text."""
    parts = template.split(".")
    holes = [i for i, part in enumerate(parts) if part == HOLE]
    if len(holes) > 1 or not all(part == HOLE or part.isidentifier() for part in parts):
        return None
    if not holes:
        return template, None
    if 0 < holes[0] == len(parts) - 2:
        return ".".join(parts[: holes[0]]), parts[-1]
    return None


def _registry(table: ast.Dict, imports: N.ImportMap) -> dict[str, str]:
    """A module-level table of classes or functions by name (`_ARCHS = {"ssd": SSDDetector}`): each literal key
    and the qualified name its value resolves to (a definition of the module or an import)."""
    out = {}
    for k, v in zip(table.keys, table.values, strict=True):
        if isinstance(k, ast.Constant) and isinstance(k.value, str) and isinstance(v, (ast.Name, ast.Attribute)):
            q = imports.resolve(v)
            if q is None and isinstance(v, ast.Name):
                q = f"{imports.module}.{v.id}" if imports.module else v.id
            if q is not None:
                out[k.value] = q
    return out


def argparse_dest(call: ast.Call) -> tuple[str | None, str | None]:
    dest = None
    for a in call.args:
        if isinstance(a, ast.Constant) and isinstance(a.value, str) and a.value.startswith("--"):
            dest = a.value[2:].replace("-", "_")
            break
    default = None
    for kw in call.keywords:
        if kw.arg == "dest" and isinstance(kw.value, ast.Constant):
            dest = str(kw.value.value)
        if kw.arg == "default" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
            default = kw.value.value
    return dest, default


# nn.Module methods that return the module itself: `self.model = model.eval()` holds what it was handed
# tensor methods no nn.Module has: what they return is a tensor (or a number), never a submodule
_TENSOR_METHODS = frozenset(
    {
        "detach",
        "clone",
        "item",
        "tolist",
        "numpy",
        "view",
        "reshape",
        "squeeze",
        "unsqueeze",
        "permute",
        "transpose",
        "contiguous",
        "flatten",
        "mean",
        "sum",
        "argmax",
        "softmax",
        "sigmoid",
    }
)
_RETURNS_SELF = frozenset(
    {"eval", "train", "to", "cuda", "cpu", "float", "half", "double", "bfloat16", "requires_grad_"}
)


def _star_bound(func: ast.expr, imports: N.ImportMap) -> str | None:
    """``?name`` for a called name that the module's imports do not resolve and only a star import can bind
    (`from boxes import *`; `center_to_corners(priors)`), resolved through the project when a class's facts
    are read. Callers ask only about names ``imports.resolve`` left unresolved."""
    dotted = N.dotted(func)
    if imports.stars and dotted and dotted.split(".")[0] not in _BUILTINS:
        return "?" + dotted
    return None


def _passed_params(call: ast.Call, method: str, methods: dict, names: dict[str, str]) -> dict[str, str]:
    """The parameters of ``method`` (a method of the class) that the call `self.<method>(...)` passes a
    constructor parameter to: {its parameter: the constructor's}, by position and keyword."""
    fn = methods.get(method)
    if fn is None:
        return {}
    params = [a.arg for a in fn.args.posonlyargs + fn.args.args][1:]
    out: dict[str, str] = {}
    for p, a in zip(params, call.args, strict=False):
        if isinstance(a, ast.Name) and a.id in names:
            out[p] = names[a.id]
    for k in call.keywords:
        if k.arg is not None and isinstance(k.value, ast.Name) and k.value.id in names:
            out[k.arg] = names[k.value.id]
    return out


def _passed_values(call: ast.Call, names: dict[str, str]) -> dict[str, list]:
    """What a call in a constructor passes, by position (`#0`) and keyword: a constructor parameter
    (["p", name]) or a literal (["v", value]); other arguments are left out (unknown where they are read)."""
    out: dict[str, list] = {}
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return {"*": ["v", NONLITERAL]}  # `*args`, `**kwargs`: which parameter gets what is unknown
    given = [(f"#{i}", a) for i, a in enumerate(call.args)] + [(k.arg or "", k.value) for k in call.keywords]
    for key, a in given:
        if isinstance(a, ast.Name) and a.id in names:
            out[key] = ["p", names[a.id]]
        elif isinstance(a, ast.Constant) and isinstance(a.value, (bool, int, float, str, type(None))):
            out[key] = ["v", a.value]
        else:
            out[key] = ["v", NONLITERAL]  # `opts.weights_init == "pretrained"`: known at run time only
    return out


_DYNAMIC_IMPORT = re.compile(rb"\b(?:import_module|__import__)\b")


def _hands_something(call: ast.Call) -> bool:
    """Does the call pass a value that is not a literal (a model to restore, a path in a variable)?"""
    return any(not isinstance(a, ast.Constant) for a in [*call.args, *(k.value for k in call.keywords)])


# libraries whose functions make data (arrays, numbers, strings, paths), never a module: a method of what they
# return is no hidden submodule (`np.stack(grid).astype(np.float32)`). Not importlib, copy or pickle
_DATA_ROOTS = frozenset(
    {"numpy", "math", "os", "re", "json", "random", "time", "string", "itertools", "collections", "pathlib"}
)


def _opaque_call(call: ast.Call, imports: N.ImportMap) -> bool:
    """Does `self.x = call(...)` in a class body hold what a call we cannot see into made (maybe a
    submodule with random parameters)? Not a method of the object itself or of its parts, not a builtin, and not
    a module method that returns its receiver (`model.eval()`, `net.to(device)`): then what it holds is
    the receiver, judged as it is (an object handed in was built elsewhere)."""
    while isinstance(call.func, ast.Attribute) and call.func.attr in _RETURNS_SELF:
        receiver = call.func.value
        if not isinstance(receiver, ast.Call):
            return False
        call = receiver
    func = call.func
    if imports.resolve(func) is not None:
        return False
    if isinstance(func, ast.Attribute) and (func.attr in ("forward", "__call__") or func.attr in _TENSOR_METHODS):
        # `self.pred_fake = net.forward(fake)`, `self.fake_B = fake.detach()`: an output kept (for a loss, a
        # log), a tensor, never a submodule
        return False
    if isinstance(func, ast.Name) and func.id in _BUILTINS:
        return False  # `sorted(blocks)`, `max(ids)`, `list(layers)`: no builtin builds a module
    inner = func.value if isinstance(func, ast.Attribute) else None
    while isinstance(inner, ast.Attribute):
        inner = inner.value
    if isinstance(inner, ast.Call):
        # `np.stack(grid).astype(np.float32)`: a method of what numpy or the standard library made (an array,
        # a string), never a module
        made = imports.resolve(inner.func)
        root = made.split(".", 1)[0] if made is not None else None
        if root is not None and root in _DATA_ROOTS:
            return False
    # not a method of the object itself nor of one of its parts (`self.faster_rcnn.get_optimizer()`: what an
    # object handed in computes, an optimizer, a tensor)
    dotted = N.dotted(func) if isinstance(func, ast.Attribute) else None
    return not (dotted is not None and dotted.startswith("self."))


def _note_fixed_params(body: list[ast.stmt], imports: N.ImportMap, ctors: list, built_at: dict[int, int]) -> None:
    """A layer built into an attribute whose parameters the same method then overwrites, unconditionally,
    with values that are not its own: replaced (`self.conv = nn.Conv2d(1, 4, 3, bias=False)` then
    `self.conv.weight = nn.Parameter(filters)`, or `self.conv.weight.data = filters`), copied into
    (`self.fc.weight.data.copy_(w)`, `self.fc.bias.copy_(b)` under no_grad) or set to a constant
    (`nn.init.zeros_(self.fc.bias)`, `self.fc.bias.data.fill_(0)`): the overwritten names are noted on its
    construction (``FIXED_PARAMS``); a layer all of whose parameters are noted keeps nothing random. A
    statement list is one sequence (a ``with`` body continues it); under an ``if``, a loop, a ``try`` or a
    ``match`` only a layer built in the same block counts. New values read from a layer the method builds
    (`self.conv.weight * w`, or a local computed from it), beyond its metadata (`w.view(self.fc.weight.size())`),
    are its random ones. A replacement drawn at random is a construction of its own (`torch.randn`,
    `nn.init.normal_`), counted as such."""
    nodes = [sub for stmt in body for sub in N.subtree(stmt)]
    if not any(isinstance(sub, (ast.Assign, ast.Call)) and next(param_writes(sub, imports), None) for sub in nodes):
        return  # (most constructors write no parameter: the data flow below costs an editor's lint)
    built: set[str] = set()  # the attributes the method assigns a construction to
    for sub in nodes:
        if isinstance(sub, ast.Assign) and isinstance(sub.value, ast.Call) and id(sub.value) in built_at:
            built.update(a for a in (_self_attr(t) for t in sub.targets) if a is not None)
    tainted = _tainted(nodes, lambda value, names: _reads_values(value, built, names))  # locals computed from them
    _fixed_in_block(body, imports, ctors, built_at, {}, (built, tainted))


def _fixed_in_block(
    body: list[ast.stmt],
    imports: N.ImportMap,
    ctors: list,
    built_at: dict[int, int],
    made: dict[str, int],
    random: tuple[set[str], set[str]],
) -> None:
    """``made``: attribute -> index in ctors of the layer it holds, at this statement; ``random``: the
    attributes holding what the method builds, and the locals computed from their values."""
    for st in body:
        if isinstance(st, (ast.With, ast.AsyncWith)):
            _fixed_in_block(st.body, imports, ctors, built_at, made, random)
            continue
        blocks = _sub_blocks(st)
        if blocks:
            for block in blocks:
                _fixed_in_block(block, imports, ctors, built_at, {}, random)
            for sub in ast.walk(st):  # an attribute assigned there may hold another layer after it
                for t in sub.targets if isinstance(sub, ast.Assign) else []:
                    made.pop(_self_attr(t) or "", None)
            continue
        if isinstance(st, ast.Assign) and len(st.targets) == 1 and (holder := _self_attr(st.targets[0])) is not None:
            idx = built_at.get(id(st.value)) if isinstance(st.value, ast.Call) else None
            if idx is not None and N.torch_nn_layer(ctors[idx][0]) in N.WEIGHT_BIAS_LAYERS:
                made[holder] = idx
            else:
                made.pop(holder, None)
            continue
        node = st.value if isinstance(st, ast.Expr) else st
        for param, _how, values in param_writes(node, imports):
            if param.attr not in ("weight", "bias"):
                continue
            layer = _self_attr(param.value)
            if layer is None or layer not in made:
                continue
            if any(_reads_values(v, *random) for v in values):
                continue  # computed from the random values of a layer the method builds
            kw = ctors[made[layer]][1]
            fixed = {p for p in str(kw.get(FIXED_PARAMS, "")).split(",") if p} | {param.attr}
            kw[FIXED_PARAMS] = ",".join(sorted(fixed))


def _sub_blocks(st: ast.stmt) -> list[list[ast.stmt]]:
    """The statement lists a compound statement runs some of the time (all but a ``with``'s)."""
    if isinstance(st, (ast.If, ast.For, ast.AsyncFor, ast.While)):
        return [st.body, st.orelse]
    if isinstance(st, ast.Try) or type(st).__name__ == "TryStar":
        return [st.body, st.orelse, st.finalbody] + [h.body for h in st.handlers]  # type: ignore[attr-defined]
    if isinstance(st, ast.Match):
        return [c.body for c in st.cases]
    return []


_PARAMETER_CLASSES = frozenset({"torch.nn.Parameter", "torch.nn.parameter.Parameter"})
_CONSTANT_FILLS = frozenset({"fill_", "zero_"})


def tensor_writes(node: ast.AST, imports: N.ImportMap) -> Iterator[tuple[ast.expr, str, list[ast.expr]]]:
    """Whole-tensor writes, as (what is written, how, what the new values are computed from): "copy"
    (`t.data = v`, `t.data.copy_(v)`, `t.copy_(v)`), "parameter" (`x.weight = nn.Parameter(v)`), "constant"
    (`t.data.fill_(0)`, `.zero_()`, `nn.init.constant_/zeros_/ones_/eye_/dirac_(t)`). What is written may be
    any tensor expression: the loop variable of `for p in self.parameters()` as well as `x.weight`. A slice
    written (`x.weight.data[0].copy_(v)`) is none."""
    if isinstance(node, ast.Assign):
        for t in node.targets:
            if isinstance(t, ast.Attribute) and t.attr == "data":
                yield t.value, "copy", [node.value]
            elif (
                isinstance(t, ast.Attribute)
                and isinstance(node.value, ast.Call)
                and imports.resolve(node.value.func) in _PARAMETER_CLASSES
            ):
                yield t, "parameter", [node.value]
        return
    if not isinstance(node, ast.Call):
        return
    f = node.func
    values = list(node.args) + [k.value for k in node.keywords]
    if isinstance(f, ast.Attribute) and (f.attr == "copy_" or f.attr in _CONSTANT_FILLS):
        yield _without_data(f.value), "copy" if f.attr == "copy_" else "constant", values
        return
    q = imports.resolve(f) or ""
    if q.startswith("torch.nn.init.") and q.rsplit(".", 1)[-1] in _FIXED_INITS and node.args:
        yield _without_data(node.args[0]), "constant", values[1:]


def param_writes(node: ast.AST, imports: N.ImportMap) -> Iterator[tuple[ast.Attribute, str, list[ast.expr]]]:
    """The ``tensor_writes`` into an attribute of an object (`x.weight`)."""
    for target, how, values in tensor_writes(node, imports):
        if isinstance(target, ast.Attribute):
            yield target, how, values


def _tainted(nodes: list[ast.AST], reads: Callable[[ast.expr, set[str]], bool]) -> set[str]:
    """The names bound (by an assignment or a loop) among ``nodes`` from a value that ``reads`` holds for, given
    the names found so far: a fixpoint, so a local computed from such a local is one too."""
    tainted: set[str] = set()
    changed = True
    while changed:
        changed = False
        for sub in nodes:
            if isinstance(sub, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For)):
                value = sub.iter if isinstance(sub, ast.For) else sub.value
                targets = [sub.target] if not isinstance(sub, ast.Assign) else sub.targets
                if value is None or not reads(value, tainted):
                    continue
                if isinstance(sub, ast.For) and _named_pairs(sub):
                    assert isinstance(sub.target, ast.Tuple)
                    targets = [sub.target.elts[1]]  # `for name, p in m.named_parameters()`: a name holds no values
                for t in targets:
                    for n in ast.walk(t):
                        if isinstance(n, ast.Name) and n.id not in tainted:
                            tainted.add(n.id)
                            changed = True
    return tainted


def _named_pairs(loop: ast.For) -> bool:
    """`for name, p in x.named_parameters():` (or buffers): a loop whose first target is a name, a string."""
    it = loop.iter
    return (
        isinstance(it, ast.Call)
        and isinstance(it.func, ast.Attribute)
        and it.func.attr in ("named_parameters", "named_buffers")
        and isinstance(loop.target, ast.Tuple)
        and len(loop.target.elts) == 2
    )


def _without_data(node: ast.expr) -> ast.expr:
    """`x.weight` for `x.weight.data`."""
    return node.value if isinstance(node, ast.Attribute) and node.attr == "data" else node


def _reads_values(expr: ast.expr, attrs: set[str], names: set[str]) -> bool:
    """Does ``expr`` read the values held by one of ``attrs`` of the object (`self.conv.weight * w`), not only
    their metadata (`w.view(self.fc.weight.size())`), or one of the local ``names``?"""
    parents = {id(c): n for n in ast.walk(expr) for c in ast.iter_child_nodes(n)}
    for n in ast.walk(expr):
        if isinstance(n, ast.Name) and n.id in names and isinstance(n.ctx, ast.Load):
            return True
        up = parents.get(id(n))
        if not (isinstance(n, ast.Name) and n.id == "self" and isinstance(up, ast.Attribute) and up.attr in attrs):
            continue
        if not N.metadata_read(n, parents):
            return True
    return False


_PARAM_LISTS = frozenset({"parameters", "named_parameters"})


def _param_loop_var(loop: ast.stmt) -> str | None:
    """The name a loop binds to each parameter of the module itself: `for p in self.parameters():`,
    `for name, p in self.named_parameters():`; None for any other loop."""
    if not isinstance(loop, ast.For) or loop.orelse:
        return None
    it = loop.iter
    if not (
        isinstance(it, ast.Call)
        and isinstance(it.func, ast.Attribute)
        and it.func.attr in _PARAM_LISTS
        and isinstance(it.func.value, ast.Name)
        and it.func.value.id == "self"
        and not it.args
        and not it.keywords
    ):
        return None
    target = loop.target
    if it.func.attr == "named_parameters" and isinstance(target, ast.Tuple) and len(target.elts) == 2:
        target = target.elts[1]
    return target.id if isinstance(target, ast.Name) else None


def _random_draws(expr: ast.expr, imports: N.ImportMap, tainted: set[str]) -> bool:
    """Does ``expr`` draw at random (a random tensor, a random init, numpy's or Python's generator), read a
    parameter's values (`.weight`, `.bias`, `.data`, `.parameters()`), or a local in ``tainted``?"""
    for n in ast.walk(expr):
        if isinstance(n, ast.Name) and n.id in tainted:
            return True
        if isinstance(n, ast.Attribute) and n.attr in (
            "weight",
            "bias",
            "data",
            "parameters",
            "named_parameters",
            "state_dict",
        ):
            return True
        if isinstance(n, ast.Call):
            q = imports.resolve(n.func) or ""
            if q in RANDOM_TENSORS or q.startswith(("numpy.random.", "random.")):
                return True
            if q.startswith("torch.nn.init.") and q.rsplit(".", 1)[-1] not in _FIXED_INITS:
                return True
    return False


def _top_level(stmts: list[ast.stmt]) -> list[ast.stmt]:
    """A body's statements that run unconditionally, in order (a `with` body continues its block)."""
    out: list[ast.stmt] = []
    for st in stmts:
        if isinstance(st, (ast.With, ast.AsyncWith)):
            out.extend(_top_level(st.body))
        else:
            out.append(st)
    return out


def _param_fixing_loops(method: ast.FunctionDef | ast.AsyncFunctionDef, imports: N.ImportMap) -> list[ast.stmt]:
    """The loops at the top level of ``method`` that give every parameter of the module fixed values: over
    `self.parameters()` / `self.named_parameters()`, whose body writes the whole parameter (`p.data.copy_(k)`,
    `p.data = k`, `p.copy_(k)`, a constant fill or init) with values that draw nothing at random (MODNet's
    Gaussian blur kernel, computed with scipy from numbers). A local computed from a random draw, or from a
    parameter's values, is random too."""
    loops = [st for st in _top_level(method.body) if _param_loop_var(st) is not None]
    if not loops:
        return []
    tainted = _tainted(N.subtree(method), lambda value, names: _random_draws(value, imports, names))
    out: list[ast.stmt] = []
    for loop in loops:
        var = _param_loop_var(loop)
        assert isinstance(loop, ast.For) and var is not None
        if any(
            isinstance(target, ast.Name)
            and target.id == var
            and not any(_random_draws(v, imports, tainted | {var}) for v in values)
            for st in _top_level(loop.body)
            for target, _how, values in tensor_writes(st.value if isinstance(st, ast.Expr) else st, imports)
        ):
            out.append(loop)
    return out


def _self_attr(node: ast.expr) -> str | None:
    """`x` for `self.x`, else None."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
        return node.attr
    return None


def _walk_outside_forward(cls: ast.ClassDef):
    """The class body's nodes, except what ``forward`` computes per call (a ``torch.randn`` there is data,
    not a parameter); ``self.training`` read in forward still counts, through the second walk below."""
    for item in cls.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == "forward":
            for sub in N.subtree(item):
                if isinstance(sub, ast.Attribute) and sub.attr == "training":
                    yield sub
            continue
        yield from N.subtree(item)


def _ctor_irrelevant(q: str) -> bool:
    """A call in a class body that no class query reads: a torch function that is no layer, no Parameter,
    no random tensor, no init, no dropout/batch_norm and no model builder."""
    if not q.startswith("torch.") or q.startswith(("torch.nn.init.", "torch.hub.")) or q in RANDOM_TENSORS:
        return False
    if q in (
        "torch.nn.Parameter",
        "torch.nn.parameter.Parameter",
        "torch.nn.functional.dropout",
        "torch.nn.functional.batch_norm",
    ) or N.is_builder(q):
        return False
    return q.rsplit(".", 1)[-1][:1].islower()


_LOAD_ATTRS = frozenset({"load_state_dict", "from_pretrained", "load_weights", "load_pretrained"})
_LOAD_CALLS = frozenset(
    {
        "torch.load",
        "torch.serialization.load",
        "torch.jit.load",
        "torch.hub.load",
        "torch.hub.load_state_dict_from_url",
        "torch.utils.model_zoo.load_url",
    }
)


_GUARD_TESTS = {  # how a constructor guard compares an argument's value with the guard's constant
    "truthy": lambda a, b: bool(a),
    "falsy": lambda a, b: not a,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b,
}


_UNKNOWN_GUARD = ["?", "unknown", None]  # a condition the facts cannot decide: never a parameter's name


def _guards_hold(guards, bound: dict) -> bool | None:
    """Do these conditions on constructor parameters hold for these arguments? True / False / None
    (a parameter with no literal value: either)."""
    result: bool | None = True
    for p, op, value in guards:
        if p not in bound or bound[p] == NONLITERAL:
            result = None
            continue
        v = bound[p]
        if v == N.NOT_NONE:  # known only not to be None: only a comparison with None is decided
            ok = (op == "!=") if value is None and op in ("==", "!=") else None
            if ok is False:
                return False
            if ok is None:
                result = None
            continue
        try:
            ok = _GUARD_TESTS[op](v, value)
        except (KeyError, TypeError):
            ok = None
        if ok is False:
            return False
        if ok is None:
            result = None
    return result


_FILE_READS = frozenset({"numpy.fromfile", "numpy.load", "open", "h5py.File", "pickle.load", "scipy.io.loadmat"})
_PARAM_NAMES = frozenset({"weight", "bias", "running_mean", "running_var"})


def _copies_file_into_parameters(fn: ast.AST, imports: N.ImportMap) -> bool:
    """A weights reader of its own (Darknet's `load_darknet_weights(model, path)`): the function reads a file
    and copies into parameters (`conv.weight.data.copy_(...)`, `bn.bias.data = ...`)."""
    reads = copies = False
    for sub in N.subtree(fn):
        if not isinstance(sub, (ast.Call, ast.Assign)):
            continue  # (what _param_writes reads: an editor's lint asks this of every function of the file)
        if isinstance(sub, ast.Call) and not reads:
            f = sub.func
            q = imports.resolve(f) if not (isinstance(f, ast.Name) and f.id == "open") else "open"
            if q in _FILE_READS:
                reads = True
        if not copies and any(kind == "copy" and p.attr in _PARAM_NAMES for p, kind, _ in param_writes(sub, imports)):
            copies = True
        if reads and copies:
            return True
    return False


def _loaders(tree: ast.Module, imports: N.ImportMap, readers: set[int]) -> list[str]:
    """The module's top-level functions that restore weights (torch.load, load_state_dict, from_pretrained,
    a pretrained builder, a file read into parameters: ``readers``, by node id), directly or through the
    module's other functions: `attempt_load(path)`."""
    funcs = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    direct = set()
    calls: dict[str, set[str]] = {}
    for name, fn in funcs.items():
        out = set()
        if id(fn) in readers:
            direct.add(name)
        for sub in N.subtree(fn):
            if isinstance(sub, ast.Call):
                if _loads_weights(sub, imports):
                    direct.add(name)
                if isinstance(sub.func, ast.Name) and sub.func.id in funcs:
                    out.add(sub.func.id)
        calls[name] = out
    changed = True
    while changed:
        changed = False
        for name, out in calls.items():
            if name not in direct and out & direct:
                direct.add(name)
                changed = True
    return sorted(direct)


def _loader_guards(tree: ast.Module, imports: N.ImportMap, readers: set[int]) -> dict[str, dict]:
    """The top-level functions that restore weights only under conditions on their own parameters
    (monodepth2's `resnet_multiimage_input(num_layers, pretrained)`: `if pretrained: model.load_state_dict(...)`):
    {name: its parameters, their literal defaults, and the guards of each load}. A function with a load no
    such condition guards, or that calls another function of the module (which may restore), or reads a file
    into parameters, is left out: it restores on every path (see Project._loader_skipped)."""
    own = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    out: dict[str, dict] = {}
    for fn in tree.body:
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or id(fn) in readers:
            continue
        args = fn.args.posonlyargs + fn.args.args
        params = [a.arg for a in args]
        loads, other = _guarded_loads(fn, imports, own)
        if not loads or other or not all(loads):
            continue
        # a parameter the body assigns (`if path: pretrained = True`) is no longer what the caller passed
        if not any(isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n.id in params for n in ast.walk(fn)):
            defaults = {
                a.arg: d.value
                for a, d in zip(args[len(args) - len(fn.args.defaults) :], fn.args.defaults, strict=True)
                if isinstance(d, ast.Constant) and isinstance(d.value, (bool, int, float, str, type(None)))
            }
            out[fn.name] = {"params": params, "defaults": defaults, "guards": loads}
    return out


def _guarded_loads(
    fn: ast.FunctionDef | ast.AsyncFunctionDef, imports: N.ImportMap, own: set[str]
) -> tuple[list[list], bool]:
    """The loads of a function body, each with the guards on the function's parameters it runs under, and
    whether the body may restore some other way: it calls another function of its module, a function of
    the project or a library it hands something (not a class it builds), or defines code of its own."""
    names = {a.arg: a.arg for a in fn.args.posonlyargs + fn.args.args}
    loads: list[list] = []
    other = False

    def call(sub: ast.Call, guards: list) -> None:
        nonlocal other
        if other:
            return  # (the function is left out whatever else it calls)
        if _loads_weights(sub, imports):
            loads.append(list(guards))
            return
        q = imports.resolve(sub.func)
        if isinstance(sub.func, ast.Name) and sub.func.id in own:
            other = True
        elif (
            q is not None
            and q.split(".", 1)[0] not in ("torch", "numpy", "math", "builtins")
            and not q.rsplit(".", 1)[-1][:1].isupper()
            and _hands_something(sub)
        ):
            other = True

    def nested(st: ast.stmt) -> bool:
        nonlocal other
        if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            other = True  # code defined here may run and restore: not followed
            return True
        return False

    _walk_guarded(fn.body, [], names, call, nested)
    return loads, other


def _walk_guarded(
    stmts: list,
    guards: list,
    names: dict[str, str],
    on_call: Callable[[ast.Call, list], None],
    on_stmt: Callable[[ast.stmt], bool] | None = None,
) -> None:
    """Each call of a body's statements, with the guards on ``names`` (parameters, by the name the body
    reads them) it runs under, handed to ``on_call``. A condition on anything else with no `else` may
    skip its body: guarded by an unknown, never taken as unconditional. The branches of a complete
    `if`/`else` (DetectMultiBackend's `if pt: ... elif jit: ... else: raise`) are a case split, one of
    which runs. ``on_stmt`` sees each simple statement first; True: its calls are not walked."""
    for st in stmts:
        if isinstance(st, ast.If):
            g = _guard(st.test, names)
            if g is None and not st.orelse:
                g = (_UNKNOWN_GUARD, _UNKNOWN_GUARD)
            _calls_in(st.test, guards, on_call)
            _walk_guarded(st.body, guards + ([g[0]] if g else []), names, on_call, on_stmt)
            _walk_guarded(st.orelse, guards + ([g[1]] if g else []), names, on_call, on_stmt)
        elif isinstance(st, (ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try)):
            for head in (getattr(st, "iter", None), getattr(st, "test", None)):
                if head is not None:
                    _calls_in(head, guards, on_call)
            for item in getattr(st, "items", []):
                _calls_in(item.context_expr, guards, on_call)
            _walk_guarded(st.body, guards, names, on_call, on_stmt)
            _walk_guarded(getattr(st, "orelse", []), guards, names, on_call, on_stmt)
            for handler in getattr(st, "handlers", []):
                _walk_guarded(handler.body, guards, names, on_call, on_stmt)
            _walk_guarded(getattr(st, "finalbody", []), guards, names, on_call, on_stmt)
        elif on_stmt is None or not on_stmt(st):
            _calls_in(st, guards, on_call)


def _calls_in(node: ast.AST, guards: list, on_call: Callable[[ast.Call, list], None]) -> None:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            on_call(sub, guards)


def _loads_weights(call: ast.Call, imports: N.ImportMap) -> bool:
    """Does this call restore weights (`self.load_state_dict(...)`, `torch.load(...)`, `X.from_pretrained(...)`,
    a builder with `pretrained=True`)?"""
    f = call.func
    if isinstance(f, ast.Attribute) and f.attr in _LOAD_ATTRS:
        return True
    q = imports.resolve(f)
    if q is None:
        return False
    if q in _LOAD_CALLS:
        return True
    return N.is_builder(q) and _builder_pretrained(call, q) is True


def _receiver_key(node: ast.expr) -> str | None:
    """`x` for a local name, `self.x` for an attribute of self; else None."""
    if isinstance(node, ast.Name) and node.id != "self":
        return node.id
    attr = _self_attr(node)
    return f"self.{attr}" if attr is not None else None


def _restored_part(
    call: ast.Call, parts: dict[str, list[ast.Call]], built_at: dict[int, int], imports: N.ImportMap
) -> list[int]:
    """The constructions a constructor's load into one of its parts restores (`backbone.load_state_dict(sd)`
    after `backbone = Backbone()`), by their index in its constructions; empty for a load into `self` (the
    whole class), or into something it did not build itself (then the load counts for the class, as before)."""
    f = call.func
    if not isinstance(f, ast.Attribute) or f.attr not in _LOAD_ATTRS:
        return []
    key = _receiver_key(f.value)
    return _part_built(parts.get(key, []) if key is not None else [], built_at, imports)


def _part_built(calls: list[ast.Call], built_at: dict[int, int], imports: N.ImportMap) -> list[int]:
    """The constructions of a part assigned these calls' results, the layers built in their arguments too
    (`nn.Sequential(nn.Linear(4, 8), ...)`); empty when one is no construction, or a container is handed
    layers built elsewhere (`nn.Sequential(*layers)`: which they are is not read here)."""
    if not calls or any(id(c) not in built_at for c in calls):
        return []
    out = []
    for c in calls:
        if N.torch_nn_layer(imports.resolve(c.func) or "") in N.CONTAINERS and any(
            not isinstance(a, ast.Call) for a in [*c.args, *(k.value for k in c.keywords)]
        ):
            return []
        out += [built_at[id(sub)] for sub in ast.walk(c) if isinstance(sub, ast.Call) and id(sub) in built_at]
    return out


def _pretrained_part(call: ast.Call, imports: N.ImportMap) -> bool:
    """A model built with pretrained weights (a builder's `pretrained=True`, another class's `from_pretrained`):
    it builds and restores one part of a class."""
    f = call.func
    if isinstance(f, ast.Attribute) and f.attr == "from_pretrained":
        return not (isinstance(f.value, ast.Name) and f.value.id in ("self", "cls"))  # `BertModel.from_pretrained`
    q = imports.resolve(call.func)
    return q is not None and N.is_builder(q) and _builder_pretrained(call, q) is True


def _builder_pretrained(call: ast.Call, q: str) -> bool | None:
    """A model builder's weights: True pretrained, False random (some of them: a new head), None unknown."""
    if N.timm_new_head(call, q) is not None:
        return False
    if N.timm_checkpoint(call, q):
        return True
    for k in call.keywords:
        if k.arg in ("pretrained", "weights", "pretrained_backbone", "weights_backbone"):
            if isinstance(k.value, ast.Constant):
                return bool(k.value.value) if k.value.value is not None else False
            return None
    return False


def _guard(test: ast.expr, names: dict[str, str]) -> tuple[list, list] | None:
    """The condition of an `if` as a guard on one constructor parameter, for the body and for the else:
    ([param, op, value], [param, negated op, value]); None when it is about anything else."""

    def param(e: ast.expr) -> str | None:
        if isinstance(e, ast.Name) and e.id in names:
            return names[e.id]
        if (
            isinstance(e, ast.Attribute)
            and isinstance(e.value, ast.Name)
            and e.value.id == "self"
            and f"self.{e.attr}" in names
        ):
            return names[f"self.{e.attr}"]
        return None

    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        g = _guard(test.operand, names)
        return (g[1], g[0]) if g else None
    p = param(test)
    if p is not None:
        return [p, "truthy", None], [p, "falsy", None]
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        p = param(test.left)
        right = test.comparators[0]
        if p is None:
            return None
        op = test.ops[0]
        if isinstance(right, ast.Constant) and isinstance(op, (ast.Eq, ast.Is, ast.NotEq, ast.IsNot)):
            pos = isinstance(op, (ast.Eq, ast.Is))
            return [p, "==" if pos else "!=", right.value], [p, "!=" if pos else "==", right.value]
        if (
            isinstance(right, (ast.Tuple, ast.List, ast.Set))
            and isinstance(op, (ast.In, ast.NotIn))
            and all(isinstance(e, ast.Constant) for e in right.elts)
        ):
            vals = [e.value for e in right.elts if isinstance(e, ast.Constant)]  # (all are)
            pos = isinstance(op, ast.In)
            return [p, "in" if pos else "not in", vals], [p, "not in" if pos else "in", vals]
    return None


def _class_facts(node: ast.ClassDef, imports: N.ImportMap) -> dict:
    bases = []
    for b in node.bases:
        q = imports.resolve(b)
        bases.append(q if q is not None else "?" + (N.dotted(b) or "<expr>"))
    ctors: list[list] = []
    unknown = 0
    uses_training = False
    init_params: list[str] = []
    init_defaults: dict = {}
    attrs: dict[str, str | None] = {}
    loads: list[list] = []  # the guards under which __init__ (or what it calls) restores weights
    restored: list[list] = []  # [index in ctors, guards]: a part __init__ builds and then restores
    init_parts: list[list] = []  # [index in init_calls, [indices in ctors]]: the part a project function is handed
    init_calls: list[list] = []  # [qualname, guards, arguments] of the project functions __init__ calls
    built_at: dict[int, int] = {}  # id of a construction call -> its index in ctors
    layer_params: dict[str, dict[str, str]] = {}  # index in ctors -> {argument: constructor parameter}
    methods = {i.name: i for i in node.body if isinstance(i, (ast.FunctionDef, ast.AsyncFunctionDef))}
    init = methods.get("__init__")
    if init is not None:
        init_params = [a.arg for a in init.args.args[1:]]
        positional = init.args.args[1:]
        for a, d in zip(positional[len(positional) - len(init.args.defaults) :], init.args.defaults, strict=False):
            if isinstance(d, ast.Constant):
                init_defaults[a.arg] = d.value
        for a, kd in zip(init.args.kwonlyargs, init.args.kw_defaults, strict=True):
            if isinstance(kd, ast.Constant):
                init_defaults[a.arg] = kd.value
    # methods __init__ runs (self.build(), self._load()): their loads count as __init__'s
    from_init: set[str] = set()
    todo = ["__init__"] if init is not None else []
    while todo:
        name = todo.pop()
        if name in from_init or name not in methods:
            continue
        from_init.add(name)
        for sub in N.subtree(methods[name]):
            if (
                isinstance(sub, ast.Call)
                and isinstance(sub.func, ast.Attribute)
                and isinstance(sub.func.value, ast.Name)
                and sub.func.value.id == "self"
            ):
                todo.append(sub.func.attr)

    # what __init__ (and the methods it runs) assigns a call's result to: `backbone` / `self.features` -> calls;
    # and the reads of a checkpoint that only feed a part's load (`backbone.load_state_dict(torch.load(p))`, or
    # through a local `sd = torch.load(p)`): that part's restore, not the class's. One pass over the bodies
    parts: dict[str, list[ast.Call]] = {}
    named: list[ast.Assign] = []  # `x = ...`: a local a part's load may read
    loads_in: list[ast.Call] = []  # `x.load_state_dict(...)`
    for name in from_init:
        for sub in N.subtree(methods[name]):
            if isinstance(sub, ast.Assign):
                if isinstance(sub.value, ast.Call):
                    for t in sub.targets:
                        rkey = _receiver_key(t)
                        if rkey is not None:
                            parts.setdefault(rkey, []).append(sub.value)
                if len(sub.targets) == 1 and isinstance(sub.targets[0], ast.Name):
                    named.append(sub)
            elif isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr in _LOAD_ATTRS:
                loads_in.append(sub)
    part_reads: set[int] = set()
    fed: set[str] = set()
    for sub in loads_in:
        assert isinstance(sub.func, ast.Attribute)  # (collected so)
        if _receiver_key(sub.func.value) in parts:
            for given in [*sub.args, *(k.value for k in sub.keywords)]:
                part_reads.update(id(c) for c in ast.walk(given) if isinstance(c, ast.Call))
                fed.update(n.id for n in ast.walk(given) if isinstance(n, ast.Name))
    for sub in named if fed else ():
        target = sub.targets[0]
        if isinstance(target, ast.Name) and target.id in fed:
            part_reads.update(id(c) for c in ast.walk(sub.value) if isinstance(c, ast.Call))
    # (method, guards, {its parameter: the constructor parameter passed to it}) of the `self.m()` calls __init__
    # makes
    self_calls: list[tuple[str, list, dict[str, str]]] = []
    # a local name bound once, in the class's methods, to a torch function (NGCF's `initializer =
    # nn.init.xavier_uniform_`, then `nn.Parameter(initializer(torch.empty(n, d)))`): called, it is that function
    bound_to: dict[str, list[str | None]] = {}
    for method in methods.values():
        for sub in N.subtree(method):
            if isinstance(sub, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
                targets = sub.targets if isinstance(sub, ast.Assign) else [sub.target]
                for t in targets:
                    if isinstance(t, ast.Name):
                        value = (
                            sub.value if isinstance(sub, (ast.Assign, ast.AnnAssign)) and len(targets) == 1 else None
                        )
                        q = imports.resolve(value) if isinstance(value, (ast.Name, ast.Attribute)) else None
                        bound_to.setdefault(t.id, []).append(q)
    aliases = {
        name: qs[0]
        for name, qs in bound_to.items()
        if len(qs) == 1 and qs[0] is not None and qs[0].startswith("torch.") and name not in imports.bindings
    }

    def note_call(sub: ast.Call, guards: list, in_init: bool, names: dict[str, str] | None = None) -> None:
        q = imports.resolve(sub.func)
        if q is None and isinstance(sub.func, ast.Name):
            q = aliases.get(sub.func.id)
        if q is None:
            q = _star_bound(sub.func, imports)  # bound by a star import, maybe: resolved when the class is queried
        if q is None and isinstance(sub.func, ast.Attribute) and sub.func.attr in RANDOM_FILLS:
            # `self.weight.data.uniform_(-stdv, stdv)`, `torch.FloatTensor(n, d).normal_()`: a tensor filled from
            # the generator in place, as torch.nn.init does
            q = "torch.rand"
        # a pretrained builder restores the part it builds (`models.resnet152(pretrained=True)` for a
        # backbone), not the class: its other layers (a new head) keep their random init (its ctor entry
        # below says the part has no random parameters)
        if (
            in_init
            and _loads_weights(sub, imports)
            and not _pretrained_part(sub, imports)
            and (id(sub) not in part_reads or isinstance(sub.func, ast.Attribute) and sub.func.attr in _LOAD_ATTRS)
        ):
            part = _restored_part(sub, parts, built_at, imports)
            if part:
                # `backbone.load_state_dict(...)`, `self.encoder.load_state_dict(...)`: that part is restored,
                # under these guards; the layers built beside it (a new head) keep their random init
                restored.extend([idx, list(guards)] for idx in part)
            else:
                loads.append(list(guards))
        f = sub.func
        if in_init and isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "self":
            # `if pretrained: self._load()`: the method runs under the guards of its call
            self_calls.append((f.attr, list(guards), _passed_params(sub, f.attr, methods, names or {})))
        if in_init and q is not None and not q.startswith("torch.") and _hands_something(sub):
            # a function of this module or an imported one handed what it restores (`restore(self.body,
            # path)`, `ckpt_utils.restore(net, ...)`): a project loader among them restores the class's
            # weights (a method of `self` resolves to None). One handed nothing (faster-rcnn's
            # `decom_vgg16()`) builds and restores a part of its own: the class's other layers stay random
            handed = [a for a in [*sub.args, *(k.value for k in sub.keywords)] if not isinstance(a, ast.Constant)]
            keys = [_receiver_key(a) for a in handed]
            part = (
                [
                    i
                    for k in keys
                    if k is not None
                    for i in _part_built([c for c in parts.get(k, []) if c is not sub], built_at, imports)
                ]
                if not any(isinstance(a, ast.Name) and a.id == "self" for a in handed)
                else []
            )
            if part:  # `self.body = restore(self.body, path)`: a loader restores that part (see the query)
                init_parts.append([len(init_calls), part])
            init_calls.append([q, list(guards), _passed_values(sub, names or {})])
        if q is None:
            return
        if q.startswith("?"):
            kw = {k.arg: arg_value(k.value) for k in sub.keywords if k.arg}
            kw.update((f"#{i}", arg_value(a)) for i, a in enumerate(sub.args))
        elif N.torch_nn_layer(q) is not None or N.is_builder(q) or not q.startswith("torch."):
            # arguments: torch.nn layers (has_params/mode/layout), builders (pretrained), project classes
            kw = {k.arg: arg_value(k.value) for k in sub.keywords if k.arg}
            kw.update((f"#{i}", arg_value(a)) for i, a in enumerate(sub.args))  # positional, for layouts (TRP307)
            if N.is_builder(q):
                kw = {"pretrained": _builder_pretrained(sub, q)}
            elif N.torch_nn_layer(q) is None:
                # a project class's arguments as a construction site gives them (see Project._bound_args):
                # `UNetDown(256, 512, dropout=0.5)` or `dropout=opt.dropout` (unknown: its guards may hold)
                # decide what its `if dropout:` builds, as they do for the class built at the top
                kw = {k: v for k, v in kw.items() if isinstance(v, (bool, int, float, str, type(None)))}
        elif _ctor_irrelevant(q):
            return  # torch.cat, torch.zeros...: tensors, never a parameter's random init nor a submodule
        else:
            kw = {}
        built_at[id(sub)] = len(ctors)
        ctors.append([q, kw, list(guards)])
        if names and N.torch_nn_layer(q) is not None:
            # `nn.Dropout(dropout)`: the layer's argument is a constructor parameter, bound where the class is
            # built (`Attn(d, 0.0)` drops nothing); by the index of its construction
            given = {k.arg: k.value.id for k in sub.keywords if k.arg and isinstance(k.value, ast.Name)}
            given.update((f"#{i}", a.id) for i, a in enumerate(sub.args) if isinstance(a, ast.Name))
            passed = {k: names[v] for k, v in given.items() if v in names}
            if passed:
                layer_params[str(len(ctors) - 1)] = passed

    def visit(stmts: list, guards: list, names: dict[str, str]) -> None:
        """The calls of __init__ (or a method it runs), under their guards on the constructor's parameters."""

        def alias(st: ast.stmt) -> bool:
            if isinstance(st, ast.Assign) and isinstance(st.value, ast.Name) and st.value.id in names:
                for t in st.targets:  # self.use_subspace = use_subspace: the attribute is the parameter
                    if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self":
                        names[f"self.{t.attr}"] = names[st.value.id]
            return False  # (its calls are noted all the same)

        _walk_guarded(stmts, guards, names, lambda sub, g: note_call(sub, g, True, names), alias)

    for name, item in methods.items():
        if name == "forward":
            continue
        if name in from_init:
            if name == "__init__":
                visit(item.body, [], {p: p for p in init_params})
            continue
        # another method builds the instance's parts only where it assigns them to it (a lazy
        # `self.head = nn.Linear(...)`); `def to_vit(self): return ViT(...)` builds another model
        for sub in N.subtree(item):
            if (
                isinstance(sub, ast.Assign)
                and isinstance(sub.value, ast.Call)
                and any(
                    isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"
                    for t in sub.targets
                )
            ):
                for call in ast.walk(sub.value):
                    if isinstance(call, ast.Call):
                        note_call(call, [], False)
    # the methods __init__ runs, each under the guards of the call that runs it (`if pretrained:
    # self._load()` loads only when `pretrained` holds), in call order; a method reached only through a call
    # not seen that way runs unguarded, as before
    visited: set[tuple[str, str]] = set()
    i = 0
    while i < len(self_calls) and len(visited) < 64:
        m, g, passed = self_calls[i]
        i += 1
        key = (m, repr(g) + repr(sorted(passed.items())))
        if m not in from_init or m in ("__init__", "forward") or key in visited:
            continue
        visited.add(key)
        # `self.build_block(dim, use_dropout)`: the helper's `if use_dropout:` is a guard on the constructor's
        visit(methods[m].body, g, dict(passed))
    reached = {m for m, _ in visited}
    for name in methods:
        if name in from_init and name not in ("__init__", "forward") and name not in reached:
            visit(methods[name].body, [], {})
    for name in from_init:
        _note_fixed_params(methods[name].body, imports, ctors, built_at)
    fixed_all = _fixed_all(init, methods, from_init, imports, built_at)
    for sub in _walk_outside_forward(node):
        if (
            isinstance(sub, ast.Attribute)
            and sub.attr == "training"
            and isinstance(sub.value, ast.Name)
            and sub.value.id == "self"
        ):
            uses_training = True
        elif isinstance(sub, ast.Assign) and isinstance(sub.value, ast.Call):
            # `self.decoder = nn.Sequential(...)`, `self.module_list, self.routs = create_modules(defs)`: an
            # attribute holding what a call made (a submodule, maybe); `?name` for a name a star import may
            # bind (resolved when the class is queried)
            held = [
                e.attr
                for t in sub.targets
                for e in (t.elts if isinstance(t, ast.Tuple) else [t])
                if isinstance(e, ast.Attribute) and isinstance(e.value, ast.Name) and e.value.id == "self"
            ]
            made_by = imports.resolve(sub.value.func) if held else None
            star = _star_bound(sub.value.func, imports) if held and made_by is None else None
            for attr in held:
                attrs.setdefault(attr, made_by or star)
            # self.x = something_unresolvable(...): a submodule we cannot see into (a name a star import may
            # bind is judged when the class is queried, by what it resolves to: see Project._class_query)
            if held and star is None and _opaque_call(sub.value, imports):
                unknown += len(held)
    # class-level statements (a layer built as a class attribute)
    for class_stmt in node.body:
        if not isinstance(class_stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for sub in ast.walk(class_stmt):
                if isinstance(sub, ast.Call):
                    note_call(sub, [], False)
    return {
        "bases": bases,
        "ctors": ctors,
        "unknown": unknown,
        "uses_training": uses_training,
        "line": node.lineno,
        "init_params": init_params,
        "init_defaults": init_defaults,
        "attrs": attrs,
        "loads": loads,
        "restored": restored,
        "init_parts": init_parts,
        "init_calls": init_calls,
        "fixed_all": fixed_all,
        "layer_params": layer_params,
    }


def _fixed_all(
    init: ast.FunctionDef | ast.AsyncFunctionDef | None,
    methods: dict,
    from_init: set[str],
    imports: N.ImportMap,
    built_at: dict[int, int],
) -> bool:
    """Does ``__init__``, after building every layer, give every parameter of the module fixed values
    (``_param_fixing_loops``), itself or in a method it calls (`self._init_kernel()`), unconditionally?
    Then building the class draws nothing that survives. A layer built after it keeps its random init."""
    if init is None:
        return False

    def builds(stmts: list[ast.stmt]) -> bool:
        return any(id(n) in built_at for st in stmts for n in N.subtree(st))

    stmts = _top_level(init.body)
    own = _param_fixing_loops(init, imports)
    for i, st in enumerate(stmts):
        here = any(st is loop for loop in own)
        call = st.value if isinstance(st, ast.Expr) else None
        if (
            not here
            and isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and isinstance(call.func.value, ast.Name)
            and call.func.value.id == "self"
            and call.func.attr in from_init
            and call.func.attr != "__init__"
        ):
            method = methods[call.func.attr]
            body = _top_level(method.body)
            loops = _param_fixing_loops(method, imports)
            here = bool(loops) and not builds(body[next(j for j, b in enumerate(body) if b is loops[0]) + 1 :])
        if here:
            return not builds(stmts[i + 1 :])
    return False


# ------------------------------------------------------------------------------ the index
@dataclass
class ModuleRecord:
    path: str
    digest: str
    facts: dict
    tree: ast.Module | None = None


_SCRIPT_SPEC = re.compile(r"^\s*[\w.\-\[\]]+\s*=\s*([\w.]+)\s*:\s*([\w]+)\s*(\[.*\])?\s*$")


def _declared_scripts(root: Path) -> tuple[set, dict]:
    """The ``module:function`` entry points a project's packaging files declare, and those files' digests
    (their dependents are redone when they change). setup.py is parsed, not run: only string literals in
    its ``entry_points`` count."""
    entries: set = set()
    sources: dict = {}
    specs: list[str] = []
    for name in ("setup.py", "pyproject.toml", "setup.cfg"):
        path = root / name
        try:
            data = read_regular(str(path))
        except OSError:
            continue
        sources[str(path)] = file_digest(data)
        text = data.decode("utf-8", "replace")
        try:
            if name == "setup.py":
                for node in ast.walk(ast.parse(text)):
                    if isinstance(node, ast.keyword) and node.arg == "entry_points":
                        specs += [
                            c.value
                            for c in ast.walk(node.value)
                            if isinstance(c, ast.Constant) and isinstance(c.value, str)
                        ]
            elif name == "pyproject.toml":
                doc = tomllib.loads(text)
                for table in (
                    doc.get("project", {}).get("scripts", {}),
                    doc.get("project", {}).get("gui-scripts", {}),
                    doc.get("tool", {}).get("poetry", {}).get("scripts", {}),
                ):
                    specs += [f"x = {v}" for v in table.values() if isinstance(v, str)]
            else:
                cfg = configparser.ConfigParser()
                cfg.read_string(text)
                if cfg.has_option("options.entry_points", "console_scripts"):
                    specs += cfg.get("options.entry_points", "console_scripts").splitlines()
        except (SyntaxError, ValueError, RecursionError, MemoryError, configparser.Error, tomllib.TOMLDecodeError):
            continue  # a packaging file we cannot read declares nothing we can use
    for spec in specs:
        for part in spec.split(","):
            m = _SCRIPT_SPEC.match(part) if "=" in part else None
            if m:
                entries.add((m.group(1), m.group(2)))
    return entries, sources


# finds the torch.save sites of one project file (its path and tree): the tracker's collect_saves
SaveScan = Callable[["Project", str, ast.Module], list[dict]]


@dataclass
class Project:
    root: Path
    settings: Settings
    cache: DiskCache | None
    _records: dict[str, ModuleRecord | None] = field(default_factory=dict)
    _module_paths: dict[tuple[str, str], str | None] = field(default_factory=dict)
    _memo: dict[tuple, Any] = field(default_factory=dict)
    _deps: list[dict[str, str]] = field(default_factory=list)
    _save_sites: list[dict] | None = None
    _summaries: SizedLRU = field(default_factory=lambda: SizedLRU(SUMMARY_CACHE_SIZE))  # path -> (ident, summary)
    # modules linted from memory (an editor's unsaved buffer on stdin, a notebook): name -> path
    in_memory: dict[str, str] = field(default_factory=dict)
    _python_files: list[str] | None = None
    _files_token: str | None = None
    _sigs: dict | None = None
    _mentions: dict | None = None
    _mention_sets: dict = field(default_factory=dict)
    sys_paths: dict[str, list[str]] = field(default_factory=dict)  # folder -> what its scripts add to sys.path
    _noting: set = field(default_factory=set)
    _resolved_refs: dict = field(default_factory=dict)
    # where the analysis gave up precision for a bound: (what, why); reported by --statistics/--verbose
    # (analyze reads the ones noted during one file's analysis, then drops them: memoised answers note theirs
    # again for each file they serve, so the list never grows with the files of a long-lived process)
    widened: list = field(default_factory=list)
    scan_bounded: bool = False  # python_files stopped at MAX_SCAN_FILES
    _bases: dict[Path, Path] = field(default_factory=dict)  # folder -> its import base (see _import_base)
    _folder_entries: dict[Path, frozenset[str]] = field(default_factory=dict)  # see _entries
    _scripts: tuple | None = None  # (declared entry points: {(module, function)}, {declaring file: digest})
    # {path: digest} of the project files the last analyze() read (program.analyze sets it, the cache stores it)
    last_deps: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    # -------------------------------------------------------------- dependency recording
    @contextlib.contextmanager
    def recording(self) -> Iterator[dict[str, str]]:
        """Collect {path: digest} of every project file whose facts are read inside the block."""
        deps: dict[str, str] = {}
        self._deps.append(deps)
        try:
            yield deps
        finally:
            for i, d in enumerate(self._deps):
                if d is deps:
                    del self._deps[i]
                    break

    def is_script_entry(self, module: str, function: str) -> bool:
        """Is ``module:function`` a program the project's packaging declares (a console script in
        setup.py's entry_points, pyproject's [project.scripts] or [tool.poetry.scripts], setup.cfg)? Such a
        function starts a process: nothing ran before it. Read as text, never run."""
        if self._scripts is None:
            self._scripts = _declared_scripts(self.root)
        entries, sources = self._scripts
        for path, digest in sources.items():
            self._note(path, digest)
        return (module, function) in entries

    def _note(self, path: str, digest: str) -> None:
        for d in self._deps:
            d[path] = digest

    # -------------------------------------------------------------- modules
    def module_name(self, path: str | os.PathLike) -> tuple[str, bool]:
        """A file's dotted module name, relative to its import base (see ``_import_base``)."""
        p = Path(path).resolve()
        base = self._import_base(p.parent)
        try:
            rel = p.relative_to(base).parts
        except ValueError:
            rel = (p.name,)
        if len(rel) > 1 and rel[0] == "src":
            rel = rel[1:]
        return N.module_name_from_rel(tuple(rel)), p.name == "__init__.py"

    def _import_base(self, folder: Path) -> Path:
        """The folder the modules in ``folder`` are named from: the project root, or below it the deepest
        folder whose name is no Python name ("my-repo", "01-basics", "5-1.Transformer"). Such a folder
        cannot be a package: what lies in it is imported from that folder itself (a clone checked from its
        parent folder is the project it would be when checked from inside; a script's own directory is on
        sys.path). Like the root, its ``src`` folder is a base too. ``find_module`` searches from the base
        of the folder it looks from, so every module keeps a name under which it is found."""
        hit = self._bases.get(folder)
        if hit is None:
            hit = self.root
            try:
                folders = folder.relative_to(self.root).parts
            except ValueError:
                folders = ()
            for i in range(len(folders) - 1, -1, -1):
                if not folders[i].isidentifier():
                    hit = self.root.joinpath(*folders[: i + 1])
                    break
            self._bases[folder] = hit
        return hit

    def _ancestors(self, folder: Path) -> list[Path]:
        """The folders strictly between ``folder`` and the project root, nearest first."""
        out: list[Path] = []
        for a in folder.parents:
            if a == self.root or self.root not in a.parents:
                break
            out.append(a)
        return out

    def _entries(self, folder: Path) -> frozenset[str]:
        """The module and package names a folder holds (its `.py` files without the suffix, its folders),
        read once per process."""
        hit = self._folder_entries.get(folder)
        if hit is None:
            try:
                names = os.listdir(folder)
            except OSError:
                names = []
            hit = self._folder_entries[folder] = frozenset(n[:-3] if n.endswith(".py") else n for n in names)
        return hit

    def find_module(self, dotted: str, from_dir: str | None = None) -> str | None:
        key = (dotted, from_dir or "")
        if key in self._module_paths:
            return self._module_paths[key]
        if dotted in self.in_memory:
            return self.in_memory[dotted]
        found = None
        if dotted:
            rel = Path(*dotted.split("."))
            bases = [Path(from_dir)] if from_dir else []
            if from_dir:
                bases += [
                    Path(os.path.normpath(os.path.join(from_dir, extra))) for extra in self.sys_paths.get(from_dir, ())
                ]
            base = self._import_base(Path(from_dir)) if from_dir else self.root
            if base != self.root:
                bases += [base, base / "src"]
            bases += [self.root, self.root / "src"]
            bases += [Path(r) for r in self.settings.source_root_paths()]  # the configured `source-roots`
            if from_dir:
                # a folder between the file and the root that holds the name's first part: code run with that
                # folder on sys.path (a script's `sys.path.insert(0, 'lib')`, PYTHONPATH, `cd lib`): faster-rcnn's
                # lib/model/faster_rcnn/vgg16.py imports `model.faster_rcnn.faster_rcnn`
                head = rel.parts[0]
                bases += [a for a in self._ancestors(Path(from_dir)) if head in self._entries(a)]
            for base in bases:
                for cand in (base / rel.with_suffix(".py"), base / rel / "__init__.py"):
                    if cand.is_file():
                        found = str(cand)
                        break
                if found:
                    break
        self._module_paths[key] = found
        return found

    def record_for_path(
        self, path: str, source: str | None = None, tree: ast.Module | None = None
    ) -> ModuleRecord | None:
        path = str(Path(path).resolve()) if not os.path.isabs(path) else path
        if path in self._records and source is None:
            rec = self._records[path]
            if rec is not None:
                self._note(path, rec.digest)
            return rec
        rec = None
        try:
            data = source.encode("utf-8", "surrogatepass") if source is not None else read_regular(path)
        except OSError:
            self._records[path] = None
            return None
        digest = file_digest(data)
        known = self._records.get(path)
        if (
            known is not None
            and known.digest == digest
            and (known.tree is not None or (path.endswith(".py") and os.path.isfile(path)))
        ):
            # the linted file's text is what another file's walk already read from disk: the same facts
            self._note(path, digest)
            return known
        module, is_pkg = self.module_name(path)

        def compute() -> dict | None:
            nonlocal tree
            if tree is None:
                try:
                    tree = ast.parse(source if source is not None else data.decode("utf-8"))
                except (SyntaxError, ValueError, UnicodeDecodeError, RecursionError, MemoryError):
                    return None  # unreadable: no record (and nothing stored)
            return build_facts(tree, module, is_pkg)

        # a parallel worker computing the same facts is waited for, not repeated
        facts = self.stored_or_computed(
            "facts",
            digest,
            lambda stored: stored if stored is not None and stored.get("module") == module else None,
            compute,
            lambda built: built,
            wait=FACTS_WAIT,
        )
        if facts is None:
            self._records[path] = None
            return None
        facts = _interned(facts)
        self._note_sys_paths(path, facts)
        # Syntax trees are big (~1 KB per line): a record keeps one only for a module linted from memory
        # (stdin, a notebook), which cannot be parsed again from disk; no other tree outlives its use (a
        # whole tree left over pins MBs; module_ctx keeps what walks need).
        # An editor's unsaved buffer of a file that exists is in memory too: the walks of the programs that
        # call into it must read the buffer, not the disk's copy.
        in_memory = source is not None and (
            not path.endswith(".py") or not os.path.isfile(path) or current_digest(path) != digest
        )
        rec = ModuleRecord(path, digest, facts, tree if in_memory else None)
        self._records[path] = rec
        self._note(path, digest)
        return rec

    def _note_sys_paths(self, path: str, facts: dict) -> None:
        """Folders this module (or a sibling module it imports for the purpose, the `import _init_path`
        idiom) puts on sys.path: imports from its folder resolve there too."""
        here = str(Path(path).parent)
        extra = list(facts.get("syspath", ()))
        if path not in self._noting:
            self._noting.add(path)
            try:
                for target in sorted(set(facts.get("imports", {}).values())):
                    sibling = os.path.join(here, target + ".py")
                    if "." not in target and sibling != path and os.path.isfile(sibling):
                        rec = self.record_for_path(sibling)
                        if rec is not None:
                            extra.extend(rec.facts.get("syspath", ()))
            finally:
                self._noting.discard(path)
        extra = [e for e in (self._checkout_folder(here, e) if os.path.isabs(e) else e for e in extra) if e is not None]
        if not extra:
            return
        known = self.sys_paths.setdefault(here, [])
        if any(p not in known for p in extra):
            known.extend(p for p in extra if p not in known)
            self._module_paths.clear()  # lookups from this folder may now find more

    def _checkout_folder(self, here: str, absolute: str) -> str | None:
        """An absolute folder a script in ``here`` puts on sys.path, written for its author's machine
        (`sys.path.append("/root/deeplabv3/model")`): the same folder of this checkout, relative to ``here``, when
        a folder of the project holding the script is named as in that path (`deeplabv3`) and the rest of
        the path is a folder under it. None otherwise: an import from there stays unresolved."""
        parts = Path(absolute).parts[1:]
        folder = Path(here)
        for a in [folder, *folder.parents]:
            if a != self.root and self.root not in a.parents:
                return None  # outside the project: never looked into
            if a.name in parts:
                at = len(parts) - 1 - parts[::-1].index(a.name)
                candidate = a.joinpath(*parts[at + 1 :])
                if candidate.is_dir():
                    return os.path.relpath(candidate, here)
        return None

    def module_tree(self, path: str) -> ast.Module | None:
        """The syntax tree of a project file: the in-memory module's own, or a fresh parse the caller owns."""
        rec = self.record_for_path(path)
        if rec is None:
            return None
        if rec.tree is not None:
            return rec.tree
        try:
            return ast.parse(read_regular(path).decode("utf-8"))
        except (OSError, SyntaxError, ValueError, UnicodeDecodeError, RecursionError, MemoryError):
            return None

    def known_record(self, path: str) -> ModuleRecord | None:
        """The record this process holds for ``path`` (as given, or resolved), without reading anything."""
        rec = self._records.get(os.path.abspath(path))
        return rec if rec is not None else self._records.get(str(Path(path).resolve()))

    def summary_memo(self, key: str, ident: tuple) -> Any:
        """The module summary (context.py's) memoised for ``key`` if it was made for ``ident``."""
        hit = self._summaries.get(key)
        return hit[1] if hit is not None and hit[0] == ident else None

    def keep_summary(self, key: str, ident: tuple, summary: Any) -> None:
        self._summaries.put(key, (ident, summary), 1)

    def stored_or_computed(
        self,
        kind: str,
        key: str,
        read: Callable[[Any], T | None],
        compute: Callable[[], T],
        write: Callable[[T], Any],
        defer: bool = False,
        wait: float = CLAIM_WAIT,
    ) -> T | None:
        """A value shared through the disk cache by every worker and later run: the stored one if ``read``
        accepts it (it gets the raw entry, or None), else computed once. A worker about to compute claims
        the key; one that finds it claimed waits (bounded, then computes itself) or, with ``defer``, gets
        None and comes back later. ``write`` turns the value into its entry (None: not stored)."""
        cache = self.cache
        if cache is None:
            return compute()
        got = read(cache.get_json(kind, key))
        if got is not None:
            return got
        holds = cache.claim(kind, key)
        try:
            if holds:
                # another worker may have stored it and let go of its claim since our read: not built twice
                got = read(cache.get_json(kind, key))
                if got is not None:
                    return got
            else:
                if defer:
                    return None
                got = read(cache.wait_for(kind, key, wait))
                if got is not None:
                    return got
            value = compute()
            entry = write(value)
            if entry is not None:
                cache.put_json(kind, key, entry)
            return value
        finally:
            if holds:
                cache.release(kind, key)

    def in_memory_path(self, path: str) -> bool:
        """Is the record of ``path`` made from a text in memory (an editor's buffer, a notebook, stdin)?"""
        rec = self._records.get(path)
        return rec is not None and rec.tree is not None

    def note_deps(self, deps: dict[str, str]) -> None:
        """What a reused result read counts as read by every result being recorded now."""
        for path, digest in deps.items():
            self._note(path, digest)

    def package_members(self, package: str, name: str, from_dir: str | None = None) -> list[str]:
        """``pkg.<module>.name`` for each module of the project package ``package`` that defines a function or a
        class ``name`` (by module name; at most MAX_PACKAGE_MEMBERS): what `eval("pkg." + arch + ".name")` or
        `getattr(getattr(pkg, arch), "name")` may be, whichever module the run names."""
        path = self.find_module(package, from_dir)
        if path is None or os.path.basename(path) != "__init__.py":
            return []
        folder = Path(path).parent
        out = []
        for stem in sorted(self._entries(folder)):
            if stem == "__init__" or not stem.isidentifier() or not (folder / f"{stem}.py").is_file():
                continue
            rec = self.record_for_path(str(folder / f"{stem}.py"))
            if rec is not None and (name in rec.facts["functions"] or name in rec.facts["classes"]):
                out.append(f"{package}.{stem}.{name}")
                if len(out) >= MAX_PACKAGE_MEMBERS:
                    # a bound hit is said (--statistics, --verbose): the modules past it are not followed
                    self.widened.append(
                        (
                            f"{package}.*.{name}",
                            f"a name chosen at run time among the modules of {package} that define {name}: "
                            f"the first {MAX_PACKAGE_MEMBERS} (by name) are followed, the rest are not",
                        )
                    )
                    break
        return out

    def record_for_module(self, dotted: str, from_dir: str | None = None) -> ModuleRecord | None:
        path = self.find_module(dotted, from_dir)
        return self.record_for_path(path) if path else None

    # -------------------------------------------------------------- symbols
    def locate(
        self, qualname: str, from_dir: str | None = None, _depth: int = 0
    ) -> tuple[str, ModuleRecord, str] | None:
        """Find a project definition: ("class" | "function" | "constant", record, name)."""
        if _depth > 6 or not qualname:
            return None
        key = ("locate", qualname, from_dir)
        if key in self._memo:
            return self._remembered(key)
        self._memo[key] = (None, {})  # a cycle of re-exports finds nothing
        with self.recording() as deps:
            result = self._locate(qualname, from_dir, _depth)
        self._memo[key] = (result, dict(deps))
        return result

    def _remembered(self, key: tuple):
        """A memoised answer, noting again every file its computation read (the caller's result depends
        on them as much as the first asker's did)."""
        result, deps, *notes = self._memo[key]
        for p, d in deps.items():
            self._note(p, d)
        if notes:  # the bounds its computation hit concern this asker too
            self.widened.extend(notes[0])
        return result

    def _locate(self, qualname: str, from_dir: str | None, _depth: int):
        result = None
        parts = qualname.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            mod, rest = ".".join(parts[:cut]), parts[cut:]
            rec = self.record_for_module(mod, from_dir)
            if rec is None:
                continue
            name = rest[0]
            facts = rec.facts
            if len(rest) == 1:
                if name in facts["classes"]:
                    result = ("class", rec, name)
                elif name in facts["functions"]:
                    result = ("function", rec, name)
                elif name in facts["constants"]:
                    result = ("constant", rec, name)
                elif name in facts.get("registries", {}):
                    result = ("registry", rec, name)
            elif len(rest) == 2 and name in facts["classes"]:
                result = ("method", rec, f"{name}.{rest[1]}")
            if result is None and name in facts["imports"]:
                target = facts["imports"][name]
                if target != qualname:
                    tail = ".".join(rest[1:])
                    result = self.locate(f"{target}.{tail}" if tail else target, str(Path(rec.path).parent), _depth + 1)
            if result is None:
                # `from .model import *` in a package's __init__: what it re-exports
                for star in reversed(facts.get("stars", ())):
                    result = self.locate(f"{star}.{'.'.join(rest)}", str(Path(rec.path).parent), _depth + 1)
                    if result is not None:
                        break
            break
        return result

    def through_imports(self, qualname: str, from_dir: str | None = None, _depth: int = 0) -> str | None:
        """The name a qualified name finally refers to, following the project's import bindings and star
        imports: ``pkg.parts.nn.Module`` (parts did `import torch.nn as nn`) is ``torch.nn.Module``;
        a project definition is its own name. None when it leads nowhere."""
        if _depth > 8:
            return None
        hit = self.locate(qualname, from_dir)
        if hit is not None:
            return qualname
        parts = qualname.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            rec = self.record_for_module(".".join(parts[:cut]), from_dir)
            if rec is None:
                continue
            rest = parts[cut:]
            here = str(Path(rec.path).parent)
            target = rec.facts["imports"].get(rest[0])
            if target is not None and target != qualname:
                full = ".".join([target, *rest[1:]])
                return self.through_imports(full, here, _depth + 1) or N.canonical(full)
            for star in reversed(rec.facts.get("stars", ())):
                found = self.through_imports(".".join([star, *rest]), here, _depth + 1)
                if found is not None:
                    return found
            return None
        return None

    def _facts_name(self, name: str, facts: dict, here: str) -> str:
        """A name as a class's facts hold it, resolved: ``?X`` (unresolved in its module, which star-imports
        something) through the module's star imports."""
        if not name.startswith("?") or not facts.get("_stars"):
            return name
        for star in reversed(facts["_stars"]):
            found = self.through_imports(f"{star}.{name[1:]}", here)
            if found is not None:
                return found
        return name

    def class_facts(self, qualname: str, from_dir: str | None = None) -> tuple[dict, ModuleRecord] | None:
        """A class's facts, with the names its module could not resolve alone (bound by a star import)
        resolved through the project."""
        hit = self.locate(qualname, from_dir)
        if not (hit and hit[0] == "class"):
            return None
        rec = hit[1]
        facts = rec.facts["classes"][hit[2]]
        if rec.facts.get("stars") and not facts.get("_resolved"):
            here = str(Path(rec.path).parent)
            view = dict(facts, _stars=rec.facts["stars"])
            view["bases"] = [self._facts_name(b, view, here) for b in facts["bases"]]
            view["ctors"] = [[self._facts_name(c, view, here), kw, g] for c, kw, g in facts["ctors"]]
            view["attrs"] = {a: self._facts_name(c, view, here) if c else c for a, c in facts["attrs"].items()}
            view["_resolved"] = True
            rec.facts["classes"][hit[2]] = view
            facts = view
        return facts, rec

    def constant(self, qualname: str, from_dir: str | None = None) -> str | None:
        hit = self.locate(qualname, from_dir)
        if hit and hit[0] == "constant":
            return hit[1].facts["constants"][hit[2]]
        return None

    def is_module_class(self, qualname: str, from_dir: str | None = None) -> bool:
        return self._class_query("is_module", qualname, from_dir) == YES

    def is_lightning_class(self, qualname: str, from_dir: str | None = None) -> bool:
        return self._class_query("is_lightning", qualname, from_dir) == YES

    def is_wrapper_class(self, qualname: str, from_dir: str | None = None) -> bool:
        """A project subclass of `nn.DataParallel` or DDP (sync-batchnorm's `DataParallelWithCallback`): it
        holds the module it is handed, as they do."""
        return qualname not in N.WRAPPERS and self._class_query("is_wrapper", qualname, from_dir) == YES

    def has_params(self, qualname: str, kwargs: dict | None = None, from_dir: str | None = None) -> str:
        """Does building this class draw parameters from the random generator (with these arguments)?"""
        layer = N.torch_nn_layer(qualname)
        if layer is not None:
            return N.layer_has_params(layer, kwargs or {})
        return self._class_query("params", qualname, from_dir, args=self._bound_args(qualname, kwargs, from_dir))

    def mode_dependent(self, qualname: str, kwargs: dict | None = None, from_dir: str | None = None) -> str:
        """Does `.eval()` change what this class computes (with these arguments)?"""
        layer = N.torch_nn_layer(qualname)
        if layer is not None:
            return N.layer_mode_dependent(layer, kwargs or {})
        return self._class_query("mode", qualname, from_dir, args=self._bound_args(qualname, kwargs, from_dir))

    def loads_own_weights(self, qualname: str, kwargs: dict | None = None, from_dir: str | None = None) -> bool:
        """Does this class's constructor certainly restore its weights (torch.load + load_state_dict, a
        pretrained builder, from_pretrained, a project loader such as attempt_load)? Then building it draws
        nothing that survives."""
        return self._class_query("loads", qualname, from_dir, args=self._bound_args(qualname, kwargs, from_dir)) == YES

    def _bound_args(self, qualname: str, kwargs: dict | None, from_dir: str | None) -> tuple:
        """A call's literal arguments bound to the constructor's parameters (positional ones by position),
        as a hashable tuple; a parameter passed a value that is no literal is bound to NONLITERAL."""
        if not kwargs:
            return ()
        hit = self.class_facts(qualname, from_dir)
        params = hit[0].get("init_params", []) if hit else []
        out = {}
        for k, v in kwargs.items():
            if k.startswith("#"):
                i = int(k[1:])
                if i < len(params):
                    out[params[i]] = v
            else:
                out[k] = v
        return tuple(sorted((k, v) for k, v in out.items() if isinstance(v, (bool, int, float, str, type(None)))))

    def _class_query(self, what: str, qualname: str, from_dir: str | None, _stack: tuple = (), args: tuple = ()) -> str:
        key = (what, qualname, from_dir, args)
        if key in self._memo:
            return self._remembered(key)
        if qualname in _stack or len(_stack) > 12:
            return MAYBE if what not in ("is_module", "is_lightning", "is_wrapper", "loads") else NO
        stack = _stack + (qualname,)
        with self.recording() as deps:
            result = self._class_query_uncached(what, qualname, from_dir, stack, dict(args))
        self._memo[key] = (result, dict(deps))
        return result

    def _class_query_uncached(self, what: str, q: str, from_dir: str | None, stack: tuple, args: dict) -> str:
        if what == "is_module":
            if q in N.MODULE_BASES or N.torch_nn_layer(q) is not None or _is_transformers_model(q):
                return YES
            if _is_zoo_model_class(q):
                return YES
        if what == "is_wrapper":
            if q in N.WRAPPERS:
                return YES
            if N.torch_nn_layer(q) is not None or q in N.MODULE_BASES:
                return NO
        if what == "is_lightning":
            if q in N.LIGHTNING_BASES:
                return YES
            if N.torch_nn_layer(q) is not None or q in N.MODULE_BASES:
                return NO
        hit = self.class_facts(q, from_dir)
        if hit is None:
            if what in ("is_module", "is_lightning", "is_wrapper", "loads"):
                return NO
            if q in N.MODULE_BASES:
                return NO if q == "torch.nn.Module" else MAYBE
            return MAYBE  # a class we cannot see into
        facts, rec = hit
        here = str(Path(rec.path).parent)
        if what in ("is_module", "is_lightning", "is_wrapper"):
            return (
                YES
                if any(self._class_query(what, b, here, stack) == YES for b in facts["bases"] if not b.startswith("?"))
                else NO
            )
        bound = dict(facts.get("init_defaults", {}))
        bound.update(args)
        if what == "loads":
            if any(_guards_hold(g, bound) is True for g in facts.get("loads", ())):
                return YES
            handed_parts = {i for i, _ in facts.get("init_parts", ())}
            for k, (fq, g, passed) in enumerate(facts.get("init_calls", ())):
                if k not in handed_parts and self._loader_restores(fq, g, passed, bound, here):
                    return YES
            return (
                YES
                if any(
                    self._class_query("loads", b, here, stack) == YES
                    for b in facts["bases"]
                    if not b.startswith("?") and b not in N.MODULE_BASES
                )
                else NO
            )
        if what == "params" and self._class_query("loads", q, from_dir, stack[:-1], tuple(sorted(args.items()))) == YES:
            return NO  # its weights are restored in the constructor: nothing random survives
        if what == "params" and facts.get("fixed_all"):
            return NO  # the constructor gives every parameter fixed values after building its layers
        results = []
        for b in facts["bases"]:
            if b.startswith("?"):
                results.append(MAYBE)
            elif b in ("torch.nn.Module", "object") or b in N.LIGHTNING_BASES:
                results.append(NO)
            elif N.torch_nn_layer(b) in N.CONTAINERS:
                results.append(NO)  # an nn.ModuleList subclass: what it holds is built (and counted) elsewhere
            elif (base_layer := N.torch_nn_layer(b)) is not None and what in ("params", "mode"):
                # a subclass of a torch.nn layer (d2l's `MaskedSoftmaxCELoss(nn.CrossEntropyLoss)`): what the layer
                # itself draws or switches, as built with its defaults
                results.append(
                    N.layer_has_params(base_layer, {}) if what == "params" else N.layer_mode_dependent(base_layer, {})
                )
            else:
                results.append(self._class_query(what, b, here, stack))
        layer_params = facts.get("layer_params", {})
        restored = {i for i, g in facts.get("restored", ()) if _guards_hold(g, bound) is True}
        if what == "params":
            calls = facts.get("init_calls", ())
            for k, part in facts.get("init_parts", ()):
                fq, g, passed = calls[k]
                if self._loader_restores(fq, g, passed, bound, here):
                    restored.update(part)  # a project loader restores the part it is handed
        for i, (ctor, kw, guards) in enumerate(facts["ctors"]):
            if _guards_hold(guards, bound) is False:
                continue  # `if norm == "batch":` with norm="instance": never built
            if what == "params" and i in restored:
                results.append(NO)  # a part the constructor restores (`backbone.load_state_dict(...)`)
                continue
            layer = N.torch_nn_layer(ctor)
            if layer in N.CONTAINERS or layer in N.PARAMETER_CONTAINERS:
                continue  # its contents are constructions of the class body too, counted on their own
            if layer is not None:
                given = layer_params.get(str(i))
                if given:
                    kw = {**kw, **{k: bound.get(param, NONLITERAL) for k, param in given.items()}}
                results.append(N.layer_has_params(layer, kw) if what == "params" else N.layer_mode_dependent(layer, kw))
            elif ctor in ("torch.nn.Parameter", "torch.nn.parameter.Parameter"):
                # random only through its argument (torch.randn(...), or nn.init.* after torch.empty(...)),
                # which the class body lists as constructions of its own
                results.append(NO)
            elif what == "params" and (
                ctor in RANDOM_TENSORS
                or (ctor.startswith("torch.nn.init.") and ctor.rsplit(".", 1)[-1] not in CONSTANT_INITS)
            ):
                results.append(YES)
            elif N.is_builder(ctor):
                pretrained = kw.get("pretrained")
                if what == "params":
                    results.append(NO if pretrained is True else MAYBE if pretrained is None else YES)
                else:
                    results.append(MAYBE)
            elif _unreadable_class(self, ctor, here):
                results.append(MAYBE)  # a submodule from code we cannot read
            elif self.is_module_class(ctor, here):
                results.append(self._class_query(what, ctor, here, stack, self._bound_args(ctor, kw, here)))
            elif what == "mode" and ctor in ("torch.nn.functional.dropout", "torch.nn.functional.batch_norm"):
                results.append(MAYBE)
            elif (
                what in ("mode", "params")
                and ctor in facts.get("attrs", {}).values()
                and not ctor.startswith(("torch.", "?"))
            ):
                # `self.norm = make_norm(norm, width)`, `self.conv = make_conv(3)`: a submodule from a project
                # factory (a helper called for its effect, `init_weights(self)`, builds no submodule and is not
                # asked)
                results.append(self._factory(what, ctor, here, stack))
        if what == "mode" and facts["uses_training"]:
            results.append(YES)
        if facts["unknown"] or any(c and c.startswith("?") for c in facts.get("attrs", {}).values()):
            results.append(MAYBE)  # a submodule we cannot see into (a star-bound name no star module defines)
        if YES in results:
            return YES
        if MAYBE in results:
            return MAYBE
        return NO

    def _factory(self, what: str, qualname: str, from_dir: str, stack: tuple) -> str:
        """A project function a class body calls for a submodule (`self.norm1 = make_norm(norm, width)`,
        `self.conv = make_conv(c)`): may what it builds depend on the mode (``what`` "mode"), or draw random
        parameters ("params")? MAYBE when its body names a layer that can (which one it builds, with which
        rate, its arguments decide: unknown counts), a random tensor or init or a builder ("params"), or a
        project module class or factory that can; NO when it names none (a helper that builds nothing, or
        only ReLU, or a norm layer)."""
        if qualname in stack or len(stack) > 12:
            return NO
        hit = self.locate(qualname, from_dir)
        if hit is None or hit[0] != "function":
            return NO
        _, rec, name = hit
        there = str(Path(rec.path).parent)
        unknown = {"p": NONLITERAL, "dropout": NONLITERAL, "track_running_stats": NONLITERAL}
        for ref in rec.facts.get("refs", {}).get(name, ()):
            layer = N.torch_nn_layer(ref)
            if layer is not None:
                if layer in N.CONTAINERS:
                    continue
                if (N.layer_mode_dependent(layer, unknown) if what == "mode" else N.layer_has_params(layer, {})) != NO:
                    return MAYBE
            elif what == "params" and (
                ref in RANDOM_TENSORS
                or N.is_builder(ref)
                or (ref.startswith("torch.nn.init.") and ref.rsplit(".", 1)[-1] not in CONSTANT_INITS)
            ):
                return MAYBE
            elif ref.startswith("torch."):
                continue
            elif self.is_module_class(ref, there):
                if self._class_query(what, ref, there, stack) != NO:
                    return MAYBE
            elif self._factory(what, ref, there, stack + (qualname,)) != NO:
                return MAYBE
        return NO

    def _loader_skipped(self, qualname: str, from_dir: str, passed: dict, bound: dict) -> bool:
        """Does a project loader called in a constructor (``passed``: its arguments there, see _passed_values;
        ``bound``: the constructor's) skip every load it makes, for these arguments (`helper(18, False)` with
        `if pretrained: ...load_state_dict(...)`)? Only a decided condition skips one."""
        hit = self.locate(qualname, from_dir)
        info = hit[1].facts.get("loader_guards", {}).get(hit[2]) if hit is not None and hit[0] == "function" else None
        if info is None or "*" in passed:
            return False
        args = dict(info["defaults"])
        for i, p in enumerate(info["params"]):
            given = passed.get(f"#{i}", passed.get(p))
            if given is not None:
                kind, value = given
                args[p] = value if kind == "v" else bound.get(value, NONLITERAL)
        return all(_guards_hold(g, args) is False for g in info["guards"])

    def _loader_restores(self, qualname: str, guards: list, passed: dict, bound: dict, from_dir: str) -> bool:
        """Does a project function a constructor calls (an ``init_calls`` entry) restore weights for these
        constructor arguments: its call's guards hold, it is a loader, and it does not skip every load?"""
        return (
            _guards_hold(guards, bound) is True
            and self._is_loader(qualname, from_dir)
            and not self._loader_skipped(qualname, from_dir, passed, bound)
        )

    def _is_loader(self, qualname: str, from_dir: str) -> bool:
        """Is this a project function that restores weights (its module's facts list it as a loader)?"""
        hit = self.locate(qualname, from_dir)
        return hit is not None and hit[0] == "function" and hit[2] in hit[1].facts.get("loaders", ())

    # -------------------------------------------------------------- screening
    def mentions_model_module(self, source: str, path: str) -> bool:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return False
        module, is_pkg = self.module_name(path)
        im = N.ImportMap.from_tree(tree, module, is_pkg)
        here = str(Path(path).resolve().parent)
        for local, target in im.bindings.items():
            if local in im.local_defs:
                continue
            hit = self.locate(target, here)
            if hit is None:
                # `import lpips` then `lpips.Trainer().initialize(...)`: a project module (a package) of torch code
                found = self.find_module(target, here)
                mod = self.record_for_path(found) if found is not None else None
                if mod is not None and mod.facts.get("mentions_torch"):
                    return True
                continue
            kind, rec, name = hit
            if kind == "class" and self.is_module_class(target, here):
                return True
            if rec.facts.get("mentions_torch"):
                return True
        for star in im.stars:
            # `from .unet import *` in a package's __init__.py whose factory builds `UNet(...)`
            found = self.find_module(star, here)
            mod = self.record_for_path(found) if found is not None else None
            if mod is not None and mod.facts.get("mentions_torch"):
                return True
        return False

    # -------------------------------------------------------------- the reverse call graph
    def python_files(self) -> list[str]:
        """Every regular ``.py`` file of the project (tool and hidden folders skipped), once per process.
        Past MAX_SCAN_FILES the rest is not scanned: counted in ``self.widened``."""
        if self._python_files is None:
            out: list[str] = []
            for dirpath, dirnames, filenames in os.walk(self.root):
                dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
                for name in sorted(filenames):
                    if not name.endswith(".py"):
                        continue
                    p = os.path.join(dirpath, name)
                    try:
                        st = os.stat(p)
                    except OSError:
                        continue
                    if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_FILE_BYTES:
                        continue
                    if len(out) >= MAX_SCAN_FILES:
                        self.scan_bounded = True
                        self.widened.append(
                            (
                                "project",
                                f"only the first {MAX_SCAN_FILES} files of the project are searched for callers",
                            )
                        )
                        break
                    out.append(p)
            self._python_files = out
        return self._python_files

    def _unit_targets(self, qualname: str, from_dir: str) -> list[tuple[str, str]]:
        """:meth:`_unit_target`, and for a module-level table of classes or functions (`model_dict`, indexed
        by a name known at run time) the target of each of its entries."""
        if ".*." in qualname:  # a name chosen at run time among a package's modules (see evaluated_name)
            package, _, name = qualname.partition(".*.")
            found = [self._unit_target(q, from_dir) for q in self.package_members(package, name, from_dir)]
            return [t for t in found if t is not None]
        hit = self.locate(qualname, from_dir)
        if hit is not None and hit[0] == "registry":
            return self._table_targets(hit[1], hit[2])
        t = self._unit_target(qualname, from_dir)
        return [t] if t is not None else []

    def _table_targets(self, rec: ModuleRecord, table: str) -> list[tuple[str, str]]:
        """The (file, unit) of each entry of a module-level table of classes or functions (facts ``registries``)."""
        entries = rec.facts.get("registries", {}).get(table, {})
        here = str(Path(rec.path).parent)
        found = [self._unit_target(q, here) for q in entries.values() if isinstance(q, str)]
        return [t for t in found if t is not None]

    def _unit_target(self, qualname: str, from_dir: str) -> tuple[str, str] | None:
        """The (file, unit) a qualified name refers to: a function, a class (any of its methods) or a method."""
        hit = self.locate(qualname, from_dir)
        if hit is None or hit[0] not in ("function", "class", "method"):
            return None
        return hit[1].path, hit[2]

    def mentions(self) -> dict[str, list[str]]:
        """Name -> the project files whose text mentions it, for every name some project file defines at
        its top level (``def f`` / ``class C``) or an import of it spells: a file that never spells a
        function's or class's name cannot call it, so only these are parsed when looking for callers.
        Built once per process. The disk cache keeps the index with every file's size, times and inode:
        while none changed (an editor's lint of an unsaved buffer), it is read back as it is; else it is
        rebuilt from each file's identifiers, also kept per file (see ``_file_words``), so only the files
        changed since are read."""
        if self._mentions is None:
            written = time.time_ns()
            sigs = self._signatures()

            def build() -> dict[str, list[str]]:
                per_file = self._file_words(sigs)
                defined: set[str] = set()
                for path, (defs, _) in per_file.items():
                    defined.update(defs)
                    defined.update(self._import_words(path))
                index: dict[str, list[str]] = {}
                for path, (_, words) in per_file.items():
                    for word in words & defined:
                        index.setdefault(sys.intern(word), []).append(path)
                return index

            def entry(index: dict[str, list[str]]) -> dict:
                order = {p: i for i, p in enumerate(sigs)}
                return {
                    "written": written,
                    "paths": list(sigs),
                    "sigs": list(sigs.values()),
                    "index": {w: [order[p] for p in ps] for w, ps in index.items()},
                }

            # the workers of a parallel run build it once: the others wait for it
            found = self.stored_or_computed(
                "mentions", f"mentions\0{self.root}", lambda v: self._index_from(v, sigs), build, entry
            )
            assert found is not None  # (without defer there is always an answer)
            self._mentions = found
        return self._mentions

    def files_token(self) -> str | None:
        """A digest of every project file's signature (size, times, inode), taken once per process: equal
        later, no project .py file has changed since. None while some file changed too recently
        (``_RACY_NS``) for its times to tell a later edit in the same clock tick."""
        if self._files_token is None:
            now = time.time_ns()
            sigs = self._signatures()
            if self.scan_bounded or any(max(sig[1], sig[2]) >= now - _RACY_NS for sig in sigs.values()):
                self._files_token = ""
            else:
                self._files_token = sha256_hex(json.dumps(sorted(sigs.items())).encode())
        return self._files_token or None

    def deps_unchanged(self, deps: dict[str, str], token: str | None) -> bool:
        """:meth:`deps_valid`, without reading the project's .py files again when ``token`` (the
        :meth:`files_token` taken before the result was computed) is still this process's: none changed
        since. An editor's unsaved buffer among them (another text than the disk's) is still compared."""
        if token is None or token != self.files_token():
            return self.deps_valid(deps)
        sigs = self._signatures()
        rest = {}
        for path, digest in deps.items():
            rec = self._records.get(path)
            if path.startswith(MENTIONS_DEP) or (path in sigs and (rec is None or rec.tree is None)):
                continue  # (which files spell a name, like any file's text, has not changed)
            rest[path] = digest
        return self._deps_valid(rest)

    def _signatures(self) -> dict[str, list[int]]:
        """[size, mtime, ctime, inode] of every project file (``python_files`` order) that can be stat'ed,
        taken once per process (the name index and the files token read the same ones)."""
        if self._sigs is not None:
            return self._sigs
        out: dict[str, list[int]] = {}
        for path in self.python_files():
            try:
                st = os.stat(path)
            except OSError:
                continue
            out[path] = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
        self._sigs = out
        return out

    def _index_from(self, value, sigs: dict[str, list[int]]) -> dict[str, list[str]] | None:
        """The stored index (its cache entry, or None) if the project's files are those it was built from,
        none changed near the time it was built (``_RACY_NS``), and it has its shape; else None."""
        if value is None or value["paths"] != list(sigs) or value["sigs"] != list(sigs.values()):
            return None
        if any(max(sig[1], sig[2]) >= value["written"] - _RACY_NS for sig in value["sigs"]):
            return None
        paths = value["paths"]
        n = len(paths)
        index: dict[str, list[str]] = {}
        for word, ids in value["index"].items():
            if not all(0 <= i < n for i in ids):
                return None
            index[sys.intern(word)] = [paths[i] for i in ids]
        return index

    def _file_words(self, sigs: dict[str, list[int]]) -> dict[str, tuple[list[str], set[str]]]:
        """path -> (the names it defines at top level, every identifier it spells), for each project file of
        ``sigs`` (its signature now). A file whose signature is the one stored is not read again; one
        modified within ``_RACY_NS`` of the stored words is (its time cannot tell an edit made in the same
        tick). The words are stored again when any file was read, added or removed."""
        key = f"words\0{self.root}"
        stored = self._stored_words(key)
        written = time.time_ns()
        out: dict[str, tuple[list[str], set[str]]] = {}
        dirty = stored is None
        for path, sig in sigs.items():
            old = stored[1].get(path) if stored is not None else None
            if stored is not None and old is not None and old[0] == sig and max(sig[1], sig[2]) < stored[0] - _RACY_NS:
                out[path] = (old[1], old[2])
                continue
            try:
                data = read_regular(path, MAX_FILE_BYTES)  # never blocks on a file swapped for a FIFO
            except OSError:
                continue
            defs = sorted({w.decode("ascii") for w in _TOP_DEF.findall(data) + _TOP_TABLE.findall(data)})
            out[path] = (defs, {w.decode("ascii") for w in _IDENT.findall(data)})
            dirty = True
        if stored is not None and set(stored[1]) != set(out):
            dirty = True
        if dirty and self.cache is not None:
            vocab: dict[str, int] = {}
            files = {}
            for path, (defs, words) in out.items():
                files[path] = [
                    sigs[path],
                    [vocab.setdefault(w, len(vocab)) for w in defs],
                    sorted(vocab.setdefault(w, len(vocab)) for w in words),
                ]
            self.cache.put_json("words", key, {"written": written, "vocab": list(vocab), "files": files})
        return out

    def _stored_words(self, key: str) -> tuple[int, dict[str, tuple[list[int], list[str], set[str]]]] | None:
        """(when it was written, {path: (signature, defined names, identifiers)}) from the disk cache."""
        value = self.cache.get_json("words", key) if self.cache is not None else None
        if value is None:
            return None
        vocab = value["vocab"]
        n = len(vocab)
        files = {}
        for path, (sig, defs, words) in value["files"].items():
            if len(sig) != 4 or not all(0 <= i < n for i in defs) or not all(0 <= i < n for i in words):
                return None  # another shape: a miss
            files[path] = (sig, [vocab[i] for i in defs], {vocab[i] for i in words})
        return value["written"], files

    def imported_elsewhere(self, path: str) -> bool:
        """May another project file import the module at ``path`` (an import statement that spells its module
        or package name: `import model`, `from models.net import X`, `from . import net`)? Read as text among
        the files that spell the name at all; past the scan bound, yes."""
        key = ("imported-elsewhere", path)
        if key in self._memo:
            return self._remembered(key)
        with self.recording() as deps:
            found = self._imported_elsewhere(path)
        self._memo[key] = (found, dict(deps))
        return found

    def _imported_elsewhere(self, path: str) -> bool:
        words = self._import_words(path)
        mentions = self.mentions()
        found = self.scan_bounded
        for w in words:  # a file that starts spelling the name may import it: the answer depends on which do
            self._note(MENTIONS_DEP + w, _paths_digest(mentions.get(w, ())))
        if not found and words:
            here = str(Path(path).resolve())
            pattern = re.compile(
                rb"^[ \t]*(?:from[ \t]+[\w.]*\b(?:"
                + b"|".join(re.escape(w.encode("utf-8", "replace")) for w in words)
                + rb")\b|(?:from[ \t]+[\w.]+[ \t]+)?import[ \t][^\n]*\b(?:"
                + b"|".join(re.escape(w.encode("utf-8", "replace")) for w in words)
                + rb")\b)",
                re.M,
            )
            # `importlib.import_module(args.model)` with the option's default 'pointnet_sem_seg': the module's
            # name quoted in a file that imports by name at run time
            quoted = re.compile(rb"['\"](?:[\w.]*\.)?" + re.escape(words[-1].encode("utf-8", "replace")) + rb"['\"]")
            candidates = sorted({f for w in words for f in mentions.get(w, ())} - {path, here})
            for cand in candidates:
                try:
                    data = read_regular(cand, MAX_FILE_BYTES)
                except OSError:
                    continue
                self._note(cand, file_digest(data))
                if pattern.search(data) or (_DYNAMIC_IMPORT.search(data) and quoted.search(data)):
                    found = True
                    break
        return found

    def unmatched_seed_functions(self, entries: tuple[str, ...]) -> list[tuple[str, str | None]]:
        """The ``seed-functions`` entries that can match no call of this project, each with the reason: a bare
        name (`seed_all`) or a dotted one outside the project (`mylib.seed_all`) whose function name no file
        of the project spells (.py files and notebooks), a dotted one into a project module that defines no
        such function (`utils.seed_al`). Such an entry seeds nothing, and a typo in it is otherwise silent.
        An entry into an installed library is not checked further (its package need not be installed where
        the linter runs). When the project is larger than the scan bound, the entries that would need the
        whole project read come back with None (not checked: it cannot be known)."""
        wanted: dict[str, str] = {}  # entry -> the name a file must spell for it to match anything
        out: list[tuple[str, str | None]] = []
        for entry in dict.fromkeys(e.strip() for e in entries if e.strip()):
            if "." in entry:
                hit = self.locate(entry)
                if hit is not None and hit[0] in ("function", "method", "class"):
                    continue
                top = entry.split(".", 1)[0]
                if self.find_module(top) is not None:
                    module, _, name = entry.rpartition(".")
                    out.append((entry, f"the project's `{module}` defines no `{name}`"))
                    continue
            wanted[entry] = entry.rsplit(".", 1)[-1]
        if not wanted:
            return out
        names = {n.encode("ascii", "replace") for n in wanted.values()}
        spelled: set[bytes] = set()
        files = list(self.python_files())
        if self.scan_bounded:  # past the scan bound an entry may be spelled in a file not read: unchecked
            out += [(entry, None) for entry in wanted]
            order = {e: i for i, e in enumerate(entries)}
            return sorted(out, key=lambda o: order.get(o[0], 0))
        files += _notebook_files(self.root)
        for path in files:
            if spelled >= names:
                break
            try:
                data = read_regular(path, MAX_FILE_BYTES)
            except OSError:
                continue
            spelled.update(w for w in names - spelled if w in data and re.search(rb"\b" + re.escape(w) + rb"\b", data))
        for entry, name in wanted.items():
            if name.encode("ascii", "replace") not in spelled:
                out.append((entry, f"no file of the project spells `{name}`"))
        order = {e: i for i, e in enumerate(entries)}
        return sorted(out, key=lambda o: order.get(o[0], 0))  # the configuration's order

    def _import_words(self, path: str) -> tuple[str, ...]:
        """The words an import of the module at ``path`` spells: its module and package names, without the
        top-level package when there is more below it (``torch`` is spelled by every file of torch)."""
        parts = self.module_name(path)[0].split(".")
        return tuple(p for p in (parts[1:] if len(parts) > 1 else parts) if p)

    def _may_import(self, cand: str, target: str, mentions: dict[str, list[str]]) -> bool:
        """Can ``cand`` refer to code of ``target`` at all? It must spell the target's module or one of
        its packages (`from .output_graph import X`, `from demo import models`, `import utils`)."""
        if cand == target:
            return True
        for word in self._import_words(target) + self._reexporting_packages(target):
            files = self._mention_sets.get(word)
            if files is None:
                files = self._mention_sets[word] = frozenset(mentions.get(word, ()))
            if cand in files:
                return True
        return False

    def _tables_holding(self, target: tuple[str, str], name: str, mentions: dict[str, list[str]]) -> list[str]:
        """The module-level tables of classes or functions (facts ``registries``) that hold ``target``, by
        name: found in the files that spell the unit's ``name`` (a table spells what it holds)."""
        out: list[str] = []
        for path in mentions.get(name, ()):
            if len(out) > 20:
                break
            rec = self.record_for_path(path)
            if rec is not None:
                out.extend(t for t in rec.facts.get("registries", {}) if target in self._table_targets(rec, t))
        return out

    def _reexporting_packages(self, path: str) -> tuple[str, ...]:
        """The names of the packages above the module at ``path`` whose ``__init__`` imports from it (`from
        .resnet import resnet8, ResNet`, `import models.resnet`): a file that spells only the package (`import models`,
        `models.ResNet.build(...)`, `from models import model_dict`) reaches the module's code through it."""
        key = ("reexporting", path)
        if key in self._memo:
            return self._remembered(key)
        with self.recording() as deps:
            module = self.module_name(path)[0]
            parts = module.split(".")
            out = []
            for i in range(1, len(parts)):
                found = self.find_module(".".join(parts[:i]), str(Path(path).parent))
                rec = self.record_for_path(found) if found is not None and found != path else None
                if rec is None:
                    continue
                targets = [
                    *rec.facts.get("imports", {}).values(),
                    *rec.facts.get("stars", ()),
                    *rec.facts.get("submodules", ()),
                ]
                if any(t == module or t.startswith(module + ".") for t in targets):
                    out.append(parts[i - 1])
        self._memo[key] = (tuple(out), dict(deps))
        return tuple(out)

    def _refs_of(self, path: str) -> dict[str, list[tuple[str, str]]]:
        """unit -> the (file, unit) pairs of the project it refers to, for one file (memoised)."""
        hit = self._resolved_refs.get(path)
        if hit is None:
            hit = {}
            rec = self.record_for_path(path)
            if rec is not None:
                here = str(Path(rec.path).parent)
                for unit, refs in rec.facts.get("refs", {}).items():
                    targets = []
                    for q in refs:
                        for t in self._unit_targets(q, here):
                            if t != (rec.path, unit):
                                targets.append(t)
                    if targets:
                        hit[unit] = targets
            self._resolved_refs[path] = hit
        return hit

    def referring_units(self, path: str, name: str) -> list[tuple[str, str]] | None:
        """Every (file, unit) of the project that refers to ``name``, a function or class defined in
        ``path`` (the places that may build a class: see ``Walker._built_outside``), nearest files first;
        None past MAX_CALLER_FILES files spelling the name (the answer would not be every place). A file
        that starts or stops spelling the name changes the answer (a dependency, as for the callers)."""
        path = str(Path(path).resolve())
        mentions = self.mentions()
        spelled = mentions.get(name, ())
        self._note(MENTIONS_DEP + name, _paths_digest(spelled))
        if len(spelled) > MAX_CALLER_FILES:
            return None
        target = (path, name)
        out: list[tuple[str, str]] = []
        for cand in sorted(spelled, key=lambda c: -_shared_prefix(c, path)):
            if not self._may_import(cand, path, mentions):
                continue
            for unit, targets in self._refs_of(cand).items():
                if target in targets:
                    out.append((cand, unit))
        return out

    def caller_files(self, path: str, units: list[str] | None = None) -> list[str]:
        """The other files of the project whose module-level code (a script, a ``__main__`` block) may call
        into ``units`` of ``path`` (all of them by default), directly or through other functions: their
        module level is walked to judge those units with the state a program hands them. (A chain that
        starts in a library function nobody calls carries no state of its own: it is not followed.)"""
        path = str(Path(path).resolve())
        rec = self.record_for_path(path)
        if rec is None:
            return []
        start = units if units is not None else _units_of(rec.facts)
        key = ("callers", path, tuple(sorted(start)))
        if key in self._memo:
            return self._remembered(key)
        # Stored in the disk cache for later runs (an editor lints the buffer after every edit), valid while
        # every file the search read is unchanged. The file itself counts through its references only (its
        # key): an edit that calls nothing new in it (most edits) finds its callers without reading the 20
        # files' facts again.
        own = sha256_hex(json.dumps([sorted(start), rec.facts.get("refs", {})], sort_keys=True).encode())
        found = self.stored_or_computed(
            "callers",
            "\0".join((path, own, self.settings.fingerprint())),
            self._read_callers,
            lambda: self._search_callers(path, start),
            lambda hit: {"files": hit[0], "deps": hit[1], "notes": [list(n) for n in hit[2]]},
        )
        assert found is not None  # (without defer there is always an answer)
        files, deps, notes = found
        self.note_deps(deps)
        self.widened.extend(notes)
        self._memo[key] = (files, deps, notes)
        return files

    def _search_callers(self, path: str, start: list[str]) -> tuple[list[str], dict[str, str], list[tuple]]:
        """:meth:`_caller_files`, with what it read (the file itself left out: see caller_files) and the
        bounds it hit."""
        before = len(self.widened)
        with self.recording() as deps:
            files = self._caller_files(path, start)
        notes = self.widened[before:]
        del self.widened[before:]  # (the caller adds them, from a stored search too)
        deps.pop(path, None)
        return files, dict(deps), notes

    def _read_callers(self, value) -> tuple[list[str], dict[str, str], list[tuple]] | None:
        """A stored caller search while every file it read is unchanged; else None."""
        if value is None or not self.deps_valid(value["deps"]):
            return None
        return list(value["files"]), dict(value["deps"]), [tuple(n) for n in value["notes"]]

    def _caller_files(self, path: str, start: list[str]) -> list[str]:
        # breadth first, so that the nearest callers (a script's main) are found before any bound is hit
        frontier: list[tuple[str, str]] = [(path, u) for u in start]
        seen = set(frontier)
        files: set[str] = set()
        mentions = self.mentions()
        parsed: set[str] = set()
        bounded = False
        for depth in range(MAX_CALLER_DEPTH + 1):
            if not frontier or bounded:
                break
            if depth == MAX_CALLER_DEPTH:
                bounded = True
                break
            nxt: list[tuple[str, str]] = []
            for target in frontier:
                name = target[1].split(".", 1)[0]  # `C(...)` and `C.m` both spell C
                wanted = {target, (target[0], name)}
                # a file that starts to spell the name (a new caller) changes the answer
                self._note(MENTIONS_DEP + name, _paths_digest(mentions.get(name, ())))
                spelled = set(mentions.get(name, ()))
                # a module-level table holding it (`builders = {"small": small_mlp}`): its callers spell the table
                for table in self._tables_holding(target, name, mentions):
                    self._note(MENTIONS_DEP + table, _paths_digest(mentions.get(table, ())))
                    spelled.update(mentions.get(table, ()))
                # the nearest files first (a script beside its model), so a bound keeps the likely callers
                for cand in sorted(spelled, key=lambda c: (-_shared_prefix(c, target[0]), c)):
                    if not self._may_import(cand, target[0], mentions):
                        continue
                    if cand not in parsed and len(parsed) >= MAX_CALLER_FILES:
                        bounded = True
                        continue
                    parsed.add(cand)
                    for unit, targets in self._refs_of(cand).items():
                        caller = (cand, unit)
                        if caller in seen or not wanted.intersection(targets):
                            continue
                        seen.add(caller)
                        if unit == "<module>" or self.is_script_entry(self.module_name(cand)[0], unit):
                            files.add(cand)  # a program starts there: its module level or a declared script
                        else:
                            nxt.append(caller)
            frontier = nxt
        if bounded:
            self.widened.append(
                (
                    Path(path).name,
                    f"callers searched in {len(parsed)} files, up to {depth} calls "
                    "deep: functions reached only past that keep the state they have with no caller",
                )
            )
        files.discard(path)
        return sorted(files)

    # -------------------------------------------------------------- checkpoint saves
    def candidate_save_files(self) -> list[str]:
        out: list[str] = []
        count = 0
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if d not in _SKIP_DIRS and not d.startswith(".")]
            for name in filenames:
                if not name.endswith(".py"):
                    continue
                count += 1
                if count > MAX_SCAN_FILES:
                    return sorted(out)
                p = os.path.join(dirpath, name)
                try:
                    data = read_regular(p)  # never a FIFO, a device or a huge file
                except OSError:
                    continue
                if b"save" in data and b"torch" in data:
                    out.append(p)
        return sorted(out)

    def save_sites(self, scan: SaveScan) -> list[dict]:
        """Every torch.save of the project, as ``scan(project, path, tree)`` finds them in each candidate
        file (the tracker's ``collect_saves``: the index cannot walk a file itself), cached per file."""
        if self._save_sites is not None:
            for p in self._scan_deps:
                self._note(p, self._scan_deps[p])
            return self._save_sites
        scan_deps: dict[str, str] = {}
        found: dict[str, list[dict]] = {}
        with self.recording() as deps:
            files = self.candidate_save_files()
            deferred: list[tuple[str, str]] = []
            for path in files:
                rec = self.record_for_path(path)
                if rec is None:
                    continue
                # the path is part of the key: a copy of a script elsewhere has its saves at its own path
                key = "saves:" + path + "\0" + rec.digest + ":" + self.settings.fingerprint()
                cached = self._stored_saves(key)
                if cached is not None:
                    found[path] = cached
                    continue
                # a parallel worker scanning the same project: each file once, the other's waited for last
                holds = self.cache.claim("saves", key) if self.cache else False
                if self.cache and not holds:
                    deferred.append((path, key))
                    continue
                try:
                    found[path] = self._scan_saves(path, key, scan)
                finally:
                    if holds and self.cache:
                        self.cache.release("saves", key)
            for path, key in deferred:
                got = self._stored_saves(key, wait=True)
                found[path] = got if got is not None else self._scan_saves(path, key, scan)
            scan_deps = dict(deps)
        sites = [site for path in files for site in found.get(path, ())]
        scan_deps["<tree>"] = self.tree_signature()
        self._scan_deps = scan_deps
        self._save_sites = sites
        for p, d in scan_deps.items():
            self._note(p, d)
        return sites

    _scan_deps: dict = field(default_factory=dict)

    def _stored_saves(self, key: str, wait: bool = False) -> list[dict] | None:
        """A file's save sites from the cache, while everything they were computed from is unchanged."""
        if self.cache is None:
            return None
        cached = self.cache.wait_for("saves", key) if wait else self.cache.get_json("saves", key)
        if cached is None or not self._deps_valid(cached["deps"]):
            return None
        for p, d in cached["deps"].items():
            self._note(p, d)
        return cached["sites"]

    def _scan_saves(self, path: str, key: str, scan: SaveScan) -> list[dict]:
        with self.recording() as fdeps:
            tree = self.module_tree(path)
            found = scan(self, path, tree) if tree is not None else []
        if self.cache:
            self.cache.put_json("saves", key, {"sites": found, "deps": fdeps})
        return found

    def tree_signature(self) -> str:
        """Which .py files with torch saves exist (names, sizes, times): a new file changes it."""
        h = sha256()
        for p in self.candidate_save_files():
            try:
                st = os.stat(p)
            except OSError:
                continue
            h.update(f"{p}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        return h.hexdigest()

    def _deps_valid(self, deps: dict[str, str]) -> bool:
        root = str(self.root).rstrip(os.sep) + os.sep
        for path, digest in deps.items():
            if path == "<tree>":
                if self.tree_signature() != digest:
                    return False
                continue
            if path.startswith(MENTIONS_DEP):
                if _paths_digest(self.mentions().get(path[len(MENTIONS_DEP) :], ())) != digest:
                    return False
                continue
            # only project files are ever recorded; anything else is not read (and a device never is)
            if not os.path.isabs(path) or not os.path.normpath(path).startswith(root):
                return False
            # this run's view of the file where it has one: an editor's unsaved buffer, not the disk's copy
            rec = self._records.get(path)
            if (rec.digest if rec is not None else current_digest(path)) != digest:
                return False
        return True

    def same_as_read(self, deps: dict[str, str]) -> bool:
        """Does this process still see every file of ``deps`` with the text it had then? (Only the files
        it holds a record of: what a memoised result read can only have changed through a new record.)"""
        for path, digest in deps.items():
            rec = self._records.get(path)
            if rec is not None and rec.digest != digest:
                return False
        return True

    def deps_valid(self, deps: dict[str, str]) -> bool:
        return self._deps_valid(deps)


def _interned(obj: Any) -> Any:
    """The facts of every module of a project stay in memory: the same names ("torch.nn.Linear",
    "num_classes") recur in thousands of them, so each string is kept once."""
    if isinstance(obj, str):
        return sys.intern(obj)
    if isinstance(obj, dict):
        return {sys.intern(k) if isinstance(k, str) else k: _interned(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_interned(v) for v in obj]
    return obj


def _unreadable_class(project: Project, q: str, here: str | None) -> bool:
    return N.maybe_model_class(q) and project.locate(q, here) is None


def current_digest(path: str) -> str | None:
    try:
        return file_digest(read_regular(path))
    except OSError:
        return None


def _is_zoo_model_class(q: str) -> bool:
    """A model class of timm or torchvision (`timm.models.vision_transformer.VisionTransformer`,
    `torchvision.models.resnet.ResNet`): an nn.Module, subclassed by projects (DeiT's distilled ViT)."""
    if not q.startswith(("timm.models.", "torchvision.models.")):
        return False
    name = q.rsplit(".", 1)[-1]
    return name[:1].isupper() and not name.endswith(("Weights", "Config", "Cfg", "Enum"))


def _is_transformers_model(q: str) -> bool:
    if not q.startswith("transformers."):
        return False
    name = q.rsplit(".", 1)[-1]
    return (
        name[:1].isupper()
        and ("Model" in name or "For" in name)
        # the auto classes, the data collators (`DataCollatorForSeq2Seq`: no parameters), and the TensorFlow and
        # Flax models (`TFBertModel`: not torch's generator)
        and not name.startswith(("Auto", "DataCollator"))
        and not re.match(r"(TF|Flax)[A-Z]", name)
        and not name.endswith(
            ("Config", "Output", "Tokenizer", "TokenizerFast", "Processor", "Extractor", "Card", "Mixin")
        )
    )


def _notebook_files(root: Path) -> list[str]:
    """The project's notebooks (the folders ``python_files`` skips skipped), for text searches."""
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        out.extend(os.path.join(dirpath, n) for n in sorted(filenames) if n.endswith(".ipynb"))
        if len(out) > MAX_SCAN_FILES:
            break
    return out


# ------------------------------------------------------------------------------ per process
_PROJECTS: dict[tuple[str, str], Project] = {}


def project_for(path: str | None, settings: Settings) -> Project | None:
    """The (per-process, memoised) project a file belongs to; None for stdin without a name."""
    if not path:
        return None
    root = find_root(path, settings.project_root)
    key = (str(root), settings.fingerprint() + str(settings.cache) + str(settings.cache_dir))
    proj = _PROJECTS.get(key)
    if proj is None:
        cache = DiskCache.for_root(root, settings) if settings.cache else DiskCache.for_run(root)
        proj = Project(root, settings, cache)
        _PROJECTS[key] = proj
    return proj


def seed_function_warnings(work: Sequence[tuple[str | None, Settings]]) -> list[str]:
    """One warning per ``seed-functions`` entry that matches nothing in the project of a file linted (see
    ``Project.unmatched_seed_functions``); ``None`` stands for a file on standard input (the working
    directory's project). Each project and list is checked once."""
    out: list[str] = []
    done: set[tuple[str, tuple[str, ...]]] = set()
    for path, settings in work:
        if not settings.seed_functions:
            continue
        anchor = path or os.path.join(os.getcwd(), "-")
        root = find_root(anchor, settings.project_root)
        key = (str(root), tuple(settings.seed_functions))
        if key in done:
            continue
        done.add(key)
        proj = project_for(anchor, settings)
        if proj is None:
            continue
        for entry, why in proj.unmatched_seed_functions(settings.seed_functions):
            if why is None:
                out.append(
                    f"seed-functions entry `{entry}` was not checked in {root}: the project has more than "
                    f"{MAX_SCAN_FILES} .py files, so a file that spells it may not have been read"
                )
            else:
                out.append(f"seed-functions entry `{entry}` matches nothing in {root}: {why}, so it seeds nothing here")
    return out


def reset_projects() -> None:
    """Forget in-process state (tests; long-lived processes after files changed)."""
    _PROJECTS.clear()
    CONTEXTS.clear()


def _units_of(facts: dict) -> list[str]:
    """The units (functions, classes, methods) a module's facts name."""
    out = list(facts.get("functions", []))
    for cname in facts.get("classes", {}):
        out.append(cname)
    out.extend(k for k in facts.get("refs", {}) if "." in k)
    return out


def _paths_digest(paths) -> str:
    return sha256_hex("\0".join(sorted(paths)).encode())[:32]


def _shared_prefix(a: str, b: str) -> int:
    return len(os.path.commonpath([a, b])) if os.path.isabs(a) == os.path.isabs(b) else 0
