"""What every part of the tracker shares: limits, events, the module being walked, call frames."""

from __future__ import annotations

import ast
import functools
import os
import sys
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._io import read_regular
from ..config import Settings
from . import names as N
from . import relevance
from .cache import decode_value, encode_value, file_digest
from .paths import path_template
from .project import CONTEXTS, Project, argparse_dest
from .syntax import FunctionNode, first_line, source_lines

EMPTY: frozenset = frozenset()
# Bounds. None of them drops a finding: past a bound the analysis widens (a call is applied through its
# summary instead of being walked in place; a loop's state is joined with "unknown") and says so.
MAX_LOOP_PASSES = 4  # walks of a loop body looking for its fixpoint; past it, what still changes is unknown
NESTED_LOOP_PASSES = 1  # the same for loops nested three deep or more
STEP_BUDGET = 20_000  # statements walked from one entry point; past it, calls are applied through summaries
MAX_INLINES_PER_FUNCTION = 16  # walks of one function in place (with different states) per entry point
MAX_REACH_NODES = 300  # project functions followed to learn whether a skipped call runs code worth walking
FILE_STEP_GUARD = 400_000  # statements walked for one file: later entry points are walked summarised
RUNNER_FUNCS = frozenset({"fire.Fire", "absl.app.run", "app.run", "typer.run", "jsonargparse.CLI", "tyro.cli"})
SPAWN_FUNCS = frozenset(
    {
        "torch.multiprocessing.spawn",
        "torch.multiprocessing.start_processes",
        "multiprocessing.Process",
        "torch.multiprocessing.Process",
        "multiprocessing.Pool",
        "torch.distributed.launcher.api.elastic_launch",
        "mp.spawn",
    }
)
ENTRY_DECORATORS = ("click.command", "click.group", "hydra.main", "typer.Typer.command", "app.command")
NO_EFFECT_FUNCS = frozenset(
    {
        "print",
        "len",
        "str",
        "repr",
        "isinstance",
        "type",
        "id",
        "hasattr",
        "getattr",
        "sum",
        "list",
        "tuple",
        "dict",
        "set",
        "enumerate",
        "zip",
        "sorted",
        "format",
        "vars",
        "logging.info",
        "logging.debug",
        "logging.warning",
        # model inspection that leaves the mode as it found it (it may run a forward)
        "torchsummary.summary",
        "torchinfo.summary",
        "wandb.watch",
    }
)
INFERENCE_DECORATORS = frozenset({"torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad"})


@dataclass
class Event:
    """Something a rule may report, at its true place: ``path`` is the file the node is in (events inside
    a function of another file are reported in that file, naming the call that reached them)."""

    kind: str
    line: int
    col: int
    data: dict = field(default_factory=dict)
    path: str | None = None


@dataclass
class FileFacts:
    path: str | None
    events: list[Event]
    settings: Settings
    # where a bound made the analysis give up precision for this file's findings (each widened to *maybe*,
    # none dropped): shown by `check --statistics` and `--verbose`
    widened: list[str] = field(default_factory=list)

    def of(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.kind == kind]


class _Summary:
    """What a module's tree says once, whoever walks it: imports, constants, argparse defaults and which
    of its functions are relevant. Shared by every ModuleCtx of the same (path, content) in a process,
    so a module reached from a hundred linted files is summarised once, not a hundred times."""

    __slots__ = (
        "imports",
        "constants",
        "argparse",
        "argparse_literals",
        "built_globals",
        "relevant",
        "strong",
        "saving",
        "mode_changed",
        "context",
        "storing",
        "deps",
        "skeleton",
    )

    def __init__(self, tree: ast.Module, module: str, is_package: bool) -> None:
        self.imports = N.ImportMap.from_tree(tree, module, is_package)
        # the same names recur in every module: kept once
        self.imports.bindings = {sys.intern(k): sys.intern(v) for k, v in self.imports.bindings.items()}
        self.constants: dict[str, str] = _module_constants(tree, self.imports)
        self.argparse: dict[str, str]
        self.argparse_literals: dict[str, tuple]  # option -> (default it runs with, line of add_argument)
        self.argparse, self.argparse_literals = _argparse_defaults(tree)
        self.built_globals: frozenset[str] = _built_globals(tree)
        self.relevant: set[str] | None = None
        self.strong: set[str] | None = None
        self.saving: set[str] | None = None
        self.mode_changed: dict[str, set[str]] = {}
        self.context: set[str] | None = None
        self.storing: set[str] | None = None
        # {path: digest} of the project files its lazily computed parts read (the classes it asked about)
        self.deps: dict[str, str] = {}
        # what of the text another module's walks never read (see ``skeleton``): None until taken
        self.skeleton: list[tuple[int, int, str]] | None = None

    def complete(self) -> bool:
        return None not in (self.relevant, self.strong, self.saving, self.context, self.storing)

    def to_entry(self, lines: bool = True) -> dict | None:
        """The disk cache's entry for a complete summary (None: a value the cache cannot hold). Without
        ``lines``, without the lines it holds (each option's `add_argument`, the skeleton): what edits.py
        compares."""
        im = self.imports
        literals = self.argparse_literals
        scoped: dict = im.scoped
        if not lines:
            literals = {k: v[:1] for k, v in literals.items()}
            # (what each name may be bound to: the lines of the imports move with the statements they are in)
            scoped = {k: tuple(sorted({t for *_, t in v})) for k, v in scoped.items()}
        try:
            value = encode_value(
                (
                    (im.module, im.is_package, im.bindings, im.local_defs, im.stars, scoped),
                    self.constants,
                    self.argparse,
                    literals,
                    self.built_globals,
                    (self.relevant, self.strong, self.saving, self.context, self.storing),
                    self.mode_changed,
                )
            )
        except TypeError:
            return None
        if not lines:
            return {"summary": value, "deps": dict(self.deps)}
        return {"summary": value, "deps": dict(self.deps), "skeleton": self.skeleton}

    @classmethod
    def from_entry(cls, entry: dict) -> _Summary:
        """The inverse of :meth:`to_entry`; raises ValueError on a value of another shape."""
        try:
            imports, constants, argparse, literals, built, units, mode_changed = decode_value(entry["summary"])
            module, is_package, bindings, local_defs, stars, scoped = imports
            relevant, strong, saving, context, storing = units
        except (TypeError, ValueError) as e:
            raise ValueError("summary entry") from e
        if not (
            isinstance(module, str)
            and isinstance(is_package, bool)
            and _str_map(bindings)
            and _strs(local_defs, set)
            and _strs(stars, list)
            and isinstance(scoped, dict)
            and all(
                isinstance(k, str)
                and isinstance(v, tuple)
                and all(
                    isinstance(e, tuple)
                    and len(e) == 3
                    and isinstance(e[0], int)
                    and isinstance(e[1], int)
                    and isinstance(e[2], str)
                    for e in v
                )
                for k, v in scoped.items()
            )
            and _str_map(constants)
            and _str_map(argparse)
            and isinstance(literals, dict)
            and all(isinstance(k, str) and isinstance(v, tuple) for k, v in literals.items())
            and _strs(built, frozenset)
            and all(_strs(u, set) for u in units)
            and isinstance(mode_changed, dict)
            and all(isinstance(k, str) and _strs(v, set) for k, v in mode_changed.items())
        ):
            raise ValueError("summary entry")
        out = cls.__new__(cls)
        out.imports = N.ImportMap(module, is_package)
        out.imports.bindings = {sys.intern(k): sys.intern(v) for k, v in bindings.items()}
        out.imports.local_defs = local_defs
        out.imports.stars = stars
        out.imports.scoped = scoped
        out.constants, out.argparse, out.argparse_literals, out.built_globals = constants, argparse, literals, built
        out.relevant, out.strong, out.saving, out.context, out.storing = relevant, strong, saving, context, storing
        out.mode_changed = mode_changed
        out.deps = dict(entry["deps"])
        skel = entry.get("skeleton")
        out.skeleton = [(a, b, t) for a, b, t in skel] if skel is not None else None
        return out


def _str_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


def _strs(value: Any, kind: type) -> bool:
    items: Any = value  # (a test of type() narrows to `object` for the checker)
    return type(value) is kind and all(isinstance(v, str) for v in items)


def _built_globals(tree: ast.Module) -> frozenset[str]:
    """Module-level names bound to the result of a call (`generator = Generator(128).cuda()`, under an
    `if` or a `with` too): a function that calls one may run a model held in a global."""
    out: set[str] = set()
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Call):
            for t in node.targets if isinstance(node, ast.Assign) else [node.target]:
                for sub in ast.walk(t):
                    if isinstance(sub, ast.Name):
                        out.add(sub.id)
        elif isinstance(node, (ast.If, ast.For, ast.While, ast.With, ast.Try)):
            todo.extend(node.body + getattr(node, "orelse", []) + getattr(node, "finalbody", []))
            for h in getattr(node, "handlers", []):
                todo.extend(h.body)
    return frozenset(out)


def _module_constants(tree: ast.Module, imports: N.ImportMap) -> dict[str, str]:
    out: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if len(targets) == 1 and isinstance(targets[0], ast.Name):
                t = path_template(node.value, imports.resolve, out.get)
                if t is not None:
                    out[targets[0].id] = t
    return out


def _argparse_defaults(tree: ast.Module) -> tuple[dict[str, str], dict[str, tuple]]:
    """The module's argparse defaults: string ones (paths) by option, and every literal one a program
    runs with when the option is not given, as ``(value, line)`` (see ``_option_default``). An option
    the module also assigns (`args.scale = 4`), declares twice with different defaults, or a module that
    rewrites its namespace wholesale (`set_defaults`, `setattr`, `vars(args).update`, `__dict__`) has
    no literal default: the value it runs with is not the declared one."""
    out: dict[str, str] = {}
    literals: dict[str, tuple] = {}
    ambiguous: set[str] = set()
    stored: set[str] = set()
    rewritten = False
    for node in N.subtree(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument":
            dest, default = argparse_dest(node)
            if dest and default is not None:
                out[dest] = default
            if dest:
                found = _option_default(node)
                if found is _NO_DEFAULT or (dest in literals and literals[dest][0] != found):
                    ambiguous.add(dest)
                elif dest not in literals:
                    literals[dest] = (found, node.lineno)
        elif isinstance(node, ast.Attribute):
            own = isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
            if node.attr == "set_defaults" or (node.attr == "__dict__" and not own):
                rewritten = True
            elif node.attr == "update" and isinstance(node.value, ast.Call) and _named(node.value.func, "vars"):
                rewritten = True  # vars(args).update(config)
            elif isinstance(node.ctx, ast.Store) and not own:
                stored.add(node.attr)
        elif isinstance(node, ast.Call) and _named(node.func, "setattr") and node.args:
            first = node.args[0]
            if not (isinstance(first, ast.Name) and first.id in ("self", "cls")):
                rewritten = True
    if rewritten:
        return out, {}
    return out, {k: v for k, v in literals.items() if k not in ambiguous and k not in stored}


_NO_DEFAULT = object()


def _named(func: ast.expr, name: str) -> bool:
    return isinstance(func, ast.Name) and func.id == name


def _option_default(call: ast.Call):
    """The value an ``add_argument`` option holds when the command line does not give it: its literal
    ``default`` (a string default converted by ``type=int``/``float`` as argparse does), ``False`` for
    ``store_true`` and ``True`` for ``store_false`` without one; ``_NO_DEFAULT`` when it is not a literal
    (or None: the option must then be given for a size to exist)."""
    kw = {k.arg: k.value for k in call.keywords if k.arg}
    action = kw.get("action")
    action_name = action.value if isinstance(action, ast.Constant) else None
    if "default" not in kw:
        if action_name == "store_true":
            return False
        if action_name == "store_false":
            return True
        return _NO_DEFAULT
    try:
        value = ast.literal_eval(kw["default"])
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _NO_DEFAULT
    if isinstance(value, list):
        value = tuple(value)
    if value is None or not (
        isinstance(value, (int, float, str, bool))
        or (isinstance(value, tuple) and all(isinstance(x, (int, float, str, bool)) for x in value))
    ):
        return _NO_DEFAULT
    typ = kw.get("type")
    if isinstance(value, str) and typ is not None:
        conv = {"int": int, "float": float, "str": str}.get(typ.id) if isinstance(typ, ast.Name) else None
        if conv is None:
            return _NO_DEFAULT
        try:
            value = conv(value)
        except ValueError:
            return _NO_DEFAULT
    if action_name not in (None, "store", "store_true", "store_false", "store_const"):
        return _NO_DEFAULT  # append, count, a custom action: not the literal
    return value


def _attrs_mode_changed_outside_init(cls: ast.ClassDef) -> set[str]:
    out = set()
    for item in cls.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name != "__init__":
            for sub in N.subtree(item):
                if (
                    isinstance(sub, ast.Call)
                    and isinstance(sub.func, ast.Attribute)
                    and sub.func.attr in ("eval", "train")
                ):
                    v = sub.func.value
                    if isinstance(v, ast.Attribute) and isinstance(v.value, ast.Name) and v.value.id == "self":
                        out.add(v.attr)
                if isinstance(sub, ast.Assign):
                    for t in sub.targets:
                        if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self":
                            out.add(t.attr)
    return out


class ModuleCtx:
    def __init__(
        self,
        path: str | None,
        tree: ast.Module,
        project: Project | None,
        linted: bool,
        module: str | None = None,
        is_package: bool = False,
        seed_funcs: frozenset[str] = frozenset(),
        summary: _Summary | None = None,
    ) -> None:
        self.path = path
        self.tree = tree
        self.project = project
        self.linted = linted
        if module is None:
            if project is not None and path:
                module, is_package = project.module_name(path)
            else:
                module = Path(path).stem if path else "__main__"
        self.module = module
        # listed by the user (settings): they make a helper relevant, so they are part of the summary's key
        self.seed_funcs = seed_funcs
        if summary is None and project is not None and path:
            summary = summary_for(project, path, tree, module, is_package, seed_funcs)
        self._summary = summary if summary is not None else _Summary(tree, module, is_package)
        self.imports = self._summary.imports
        self.constants = self._summary.constants
        self.argparse = self._summary.argparse
        self.argparse_literals = self._summary.argparse_literals
        self.built_globals = self._summary.built_globals
        self.here = sys.intern(str(Path(path).resolve().parent)) if path else None  # a key of many memo entries
        self.functions: dict[str, FunctionNode] = {}
        self.classes: dict[str, ast.ClassDef] = {}
        for node in tree.body:
            self._collect(node)
        name = Path(path).name if path else ""
        posix = (path or "").replace("\\", "/")
        # folders: of the module's dotted name, and of a path given relative (`tests/vae.py`, as `check .` and
        # flake8 name files)
        folders = module.split(".")[:-1] + ([] if posix.startswith("/") else posix.split("/")[:-1])
        self.is_test_file = (
            name.startswith("test_")
            or name.endswith("_test.py")
            or name == "conftest.py"
            or "/tests/" in posix
            or "tests" in folders
        )

    def strongly_relevant(self, fn: FunctionNode, cls: ast.ClassDef | None) -> bool:
        """Does ``fn`` (transitively in this module) set a mode, seed, load or save, or open an inference region?
        Methods of models are walked only then: a model's ``forward`` helpers change nothing we track."""
        key = f"{cls.name}.{fn.name}" if cls is not None else fn.name
        return key in self._part("strong")

    def summary_entry(self, lines: bool = True) -> dict | None:
        """The complete summary's cache entry (see ``_Summary.to_entry``): what the module says once, to compare."""
        self.complete_summary()
        return self._summary.to_entry(lines)

    def complete_summary(self) -> None:
        """Compute every lazily computed part of the shared summary from this (whole) tree."""
        for part in ("relevant", "strong", "saving", "context", "storing"):
            self._part(part)
        for cls in self.classes.values():
            self.attrs_mode_changed_outside_init(cls)

    def _part(self, name: str) -> set[str]:
        """A lazily computed set of the shared summary (which units are relevant, strongly relevant, may
        save, depend on their callers' state, keep what they are handed), computed once; the project files
        it reads (classes asked about in other modules) are kept as the summary's dependencies."""
        value = getattr(self._summary, name)
        if value is None:
            compute = _PARTS[name]
            if self.project is not None:
                with self.project.recording() as deps:
                    value = compute(self)
                self._summary.deps.update(deps)
            else:
                value = compute(self)
            setattr(self._summary, name, value)
        return value

    def walkable(self, fn: FunctionNode, cls: ast.ClassDef | None) -> bool:
        """Is ``fn`` of a module walked into from another file worth walking? Only when it can change what
        the rules read (strongly relevant, or it keeps what its caller hands it on the object) or holds a
        finding that depends on the caller's state."""
        key = f"{cls.name}.{fn.name}" if cls is not None else fn.name
        return self.strongly_relevant(fn, cls) or key in self.context_units() or key in self.storing_units()

    def storing_units(self) -> set[str]:
        """Methods that keep what their caller hands them on the object (see ``relevance.storing_units``)."""
        return self._part("storing")

    def context_units(self) -> set[str]:
        """Units whose findings depend on their callers' state (see ``relevance.context_units``)."""
        return self._part("context")

    def may_save(self, fn: FunctionNode, cls: ast.ClassDef | None) -> bool:
        """May ``fn`` (transitively in this module) save a checkpoint? See ``relevance.saving_units``."""
        return (f"{cls.name}.{fn.name}" if cls is not None else fn.name) in self._part("saving")

    def attrs_mode_changed_outside_init(self, cls: ast.ClassDef) -> set[str]:
        hit = self._summary.mode_changed.get(cls.name)
        if hit is None:
            hit = self._summary.mode_changed[cls.name] = _attrs_mode_changed_outside_init(cls)
        return hit

    def relevant(self, fn: FunctionNode, cls: ast.ClassDef | None) -> bool:
        """Can walking ``fn`` change anything the rules read? Functions that never touch a model, a seed,
        a grad mode or a checkpoint (most of a library) are not walked: calling them changes nothing."""
        key = f"{cls.name}.{fn.name}" if cls is not None else fn.name
        return key in self._part("relevant") or key not in self._known_funcs or self.strongly_relevant(fn, cls)

    @functools.cached_property
    def _known_funcs(self) -> set[str]:
        return {key for key, _, _ in relevance.module_units(self)}

    def _collect(self, node: ast.stmt) -> None:
        # a name defined twice (a notebook's later cell redefining a model) is also kept per definition,
        # as `Name@line`: the walk binds each definition where it runs (see s_ClassDef / s_FunctionDef)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.name in self.functions:
                self.functions[f"{node.name}@{self.functions[node.name].lineno}"] = self.functions[node.name]
                self.functions[f"{node.name}@{node.lineno}"] = node
            self.functions[node.name] = node
        elif isinstance(node, ast.ClassDef):
            if node.name in self.classes:
                self.classes[f"{node.name}@{self.classes[node.name].lineno}"] = self.classes[node.name]
                self.classes[f"{node.name}@{node.lineno}"] = node
            self.classes[node.name] = node
        elif isinstance(node, ast.If) or isinstance(node, ast.Try):
            for child in node.body + node.orelse + getattr(node, "finalbody", []):
                self._collect(child)

    def resolve(self, expr: ast.AST | str) -> str | None:
        q = self.imports.resolve(expr)
        if q is None and self.imports.stars and self.project is not None:
            name = N.dotted(expr) if not isinstance(expr, str) else expr
            if name:
                head, _, rest = name.partition(".")
                star = self._star_binding(head)
                if star is not None:
                    return N.canonical(f"{star}.{rest}" if rest else star)
        return q

    def _star_binding(self, head: str) -> str | None:
        """What a name bound by `from m import *` refers to: the first star-imported project module that
        defines or imports it (a later star import of the same name wins in Python; rare, and ordered
        here by appearance)."""
        cache = self.__dict__.setdefault("_stars", {})
        if head in cache:
            return cache[head]
        found = None
        assert self.project is not None  # (resolve looks into star imports only with a project)
        for module in reversed(self.imports.stars):
            q = f"{module}.{head}"
            if self.project.locate(q, self.here) is not None:
                found = q
                break
        if found is None:
            # a name the star-imported module imported itself (`import torch` in it, no `__all__`): the star
            # import binds it here too (pytorch-deeplab-xception's train.py has `torch` only that way)
            for module in reversed(self.imports.stars):
                found = self.project.through_imports(f"{module}.{head}", self.here)
                if found is not None:
                    break
        cache[head] = found
        return found

    def method(self, cls: str, name: str) -> FunctionNode | None:
        c = self.classes.get(cls)
        if c is None:
            return None
        for item in c.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == name:
                return item
        return None

    @staticmethod
    def stubbed(fn: FunctionNode) -> bool:
        """Is the body of ``fn`` the stub ``_strip_unwalked`` left (see ``unstub``)?"""
        body = fn.body
        return len(body) == 1 and isinstance(body[0], ast.Pass) and body[0].lineno == fn.lineno

    def unstub(self, fn: FunctionNode) -> bool:
        """Give back the body of ``fn`` that ``_strip_unwalked`` stubbed (a function of another module no walk
        was expected to enter, which runs project code worth walking: a base class's template method whose
        subclass override matters, a pass-through to a third module, see ``Walker._reaches_walkable``; or a
        constructor read for what it keeps), from the module's whole parse while the file is still the text
        its record was made from. False when it cannot be read (the stub stays: the caller does not walk it)."""
        if not self.stubbed(fn):
            return True  # its own body (a stub sits on the `def` line, where no statement of a block can)
        if self.project is None or self.path is None:
            return False
        rec = self.project.record_for_path(self.path)
        found = _whole_parse_body(self.path, rec.digest, fn.lineno, fn.name) if rec is not None else None
        if found is None:
            return False
        N.forget_node(fn)
        fn.body = found
        return True


_PARTS = {
    "relevant": relevance.relevant_units,
    "strong": lambda ctx: relevance.relevant_units(ctx, strong=True),
    "saving": relevance.saving_units,
    "context": relevance.context_units,
    "storing": relevance.storing_units,
}


def summary_for(project: Project, path: str, tree: ast.Module, module: str, is_package: bool, seed_funcs: frozenset):
    """The summary this process already made of the module at ``path`` as its current content says (its
    parts computed so far), or None: the caller makes one. Using it counts what it read as read."""
    rec = project.known_record(path)
    if rec is None:
        return None
    summary = project.summary_memo(os.path.abspath(path), (rec.digest, module, is_package, seed_funcs))
    if summary is not None:
        project.note_deps(summary.deps)
        return summary
    summary = _Summary(tree, module, is_package)
    if summary.imports.bindings == rec.facts.get("imports"):
        summary.imports.bindings = rec.facts["imports"]  # one dict for both (the facts' is interned)
    project.keep_summary(os.path.abspath(path), (rec.digest, module, is_package, seed_funcs), summary)
    return summary


def module_ctx(project: Project, path: str, seed_funcs: frozenset) -> ModuleCtx | None:
    """A ModuleCtx for another project file (not the one linted), from a process-wide LRU. Its tree keeps
    only the bodies of the functions a walk can enter (the strongly relevant ones, see ``_inline``): a
    library module reached from every file costs the few functions that matter, not its whole tree. Its
    summary, computed whole, is shared through the disk cache (keyed by the module's content, name and
    settings; valid while the files it read are unchanged): a worker or a later run (an editor's lint
    after each save) does not summarise it again, and parses only its skeleton (``skeleton``): the text
    with its module-level code and the bodies no walk enters blanked out. A file whose text on disk is no
    longer the one its record was made from (changed during this lint) is not walked into, as a module that
    cannot be read: its record and summary describe another text; the next lint reads it again."""
    rec = project.record_for_path(path)
    if rec is None:
        return None
    key = (id(project), path, rec.digest, seed_funcs)
    hit = CONTEXTS.get(key)
    if hit is not None:
        project.note_deps(hit._summary.deps)
        return hit
    if rec.tree is not None:  # an in-memory module (an editor's buffer): its tree is shared, never stripped
        shared = ModuleCtx(path, rec.tree, project, linted=False, seed_funcs=seed_funcs)
        CONTEXTS.put(key, shared, _n_nodes(shared))
        return shared
    source = _source(path, rec.digest)
    if source is None:
        return None
    module, is_package = project.module_name(path)
    ident = (rec.digest, module, is_package, seed_funcs)
    memo = project.summary_memo(os.path.abspath(path), ident)
    built: list[ModuleCtx] = []

    def whole(summary: _Summary | None) -> ModuleCtx | None:
        """The module parsed whole, ``summary`` (or a new one) completed and its skeleton taken."""
        tree = _parse(source)
        if tree is None:
            return None
        ctx = ModuleCtx(path, tree, project, linted=False, seed_funcs=seed_funcs, summary=summary)
        ctx.complete_summary()
        if ctx._summary.skeleton is None:
            ctx._summary.skeleton = skeleton(source, ctx)
        built.append(ctx)
        return ctx

    if memo is not None and memo.complete():
        summary = memo
        project.note_deps(memo.deps)
    else:

        def compute() -> _Summary | None:
            ctx = whole(memo)
            return ctx._summary if ctx is not None else None

        def read(entry) -> _Summary | None:
            if entry is None or not project.deps_valid(entry["deps"]):
                return None
            try:
                return _Summary.from_entry(entry)
            except ValueError:
                return None  # another shape: a miss

        disk_key = "\0".join(
            (path, rec.digest, module, str(is_package), ",".join(sorted(seed_funcs)), project.settings.fingerprint())
        )
        got = project.stored_or_computed(
            "summaries", disk_key, read, compute, lambda s: s.to_entry() if s is not None else None
        )
        if got is None:
            return None  # (not Python: no summary, nothing stored)
        summary = got
        if not built:
            project.note_deps(summary.deps)
        project.keep_summary(os.path.abspath(path), ident, summary)
    ctx: ModuleCtx | None = built[0] if built else None
    deferred = False
    if ctx is None and summary.skeleton is not None:
        tree = _parse(unbody(source, summary.skeleton))
        if tree is not None:
            ctx = ModuleCtx(path, tree, project, linted=False, seed_funcs=seed_funcs, summary=summary)
            deferred = True
    if ctx is None:  # a summary made without a skeleton (the module was linted in this process), or none fits
        ctx = whole(summary)
        if ctx is None:
            return None
    _strip_unwalked(ctx)
    size = _n_nodes(ctx)  # (counting a deferred body whole: what it holds once read)
    if deferred:
        _defer_bodies(ctx, source, rec.digest)
    CONTEXTS.put(key, ctx, size)
    return ctx


def _source(path: str, digest: str) -> str | None:
    """The text of a project file, when it is still the content ``digest`` its record was made from."""
    try:
        data = read_regular(path)
    except OSError:
        return None
    if file_digest(data) != digest:
        return None  # changed since it was read: the next lint reads it again
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def skeleton(source: str, ctx: ModuleCtx) -> list[tuple[int, int, str]]:
    """What of another module's text its walks never need, as ``(first, last, text)``: lines ``first`` to
    ``last`` are blanked and ``text`` (if any) written on line ``last`` (see ``unbody``). Blanked: the
    module-level code outside definitions (not walked in another module; its constants are in the
    summary), and the body of each function and method: those ``_strip_unwalked`` stubs, and those a walk
    may enter, parsed when first read (``_defer_bodies``: a walk enters a few of a module's functions). A
    stubbed body becomes one literal ending where the body ended, so every node kept (the defs, classes,
    their decorators, signatures and other statements) has its positions of the whole parse, ends
    included. A statement that shares a line with another one, or a body on its header's line, is kept as
    it is."""
    lines = source_lines(source)
    stubbed = {id(fn) for fn in ctx.functions.values()}
    for cls in ctx.classes.values():
        for item in cls.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                stubbed.add(id(item))
    out: list[tuple[int, int, str]] = []

    def line(n: int) -> bytes:
        return lines[n - 1].encode("utf-8", "surrogatepass") if 0 < n <= len(lines) else b""

    def alone(node: ast.stmt) -> bool:
        """Does ``node`` have its lines to itself (only indentation before it, a comment after it)?"""
        end = node.end_lineno or node.lineno
        after = line(end)[node.end_col_offset or 0 :].strip()
        before = line(first_line(node))[: node.col_offset]
        continued = line(first_line(node) - 1).rstrip(b"\r\n").endswith(b"\\")
        return not before.strip() and (not after or after.startswith(b"#")) and not continued

    def indent(node: ast.stmt) -> str:
        return line(node.lineno)[: node.col_offset].decode("utf-8")

    def stub(fn: FunctionNode) -> None:
        first, last = fn.body[0], fn.body[-1]
        width = (last.end_col_offset or 0) - first.col_offset
        if first_line(first) <= fn.lineno or width < 1 or not (alone(first) and alone(last)):
            return
        literal = "0" if width == 1 else "'" + "x" * (width - 2) + "'"
        out.append((first_line(first), last.end_lineno or last.lineno, indent(first) + literal))

    def block(body: list[ast.stmt], collected: bool) -> None:
        blanked: list[tuple[int, int, str]] = []
        kept = False
        for stmt in body:
            if collected and isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if id(stmt) in stubbed:
                    stub(stmt)
                kept = True
            elif collected and isinstance(stmt, ast.ClassDef):
                for item in stmt.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and id(item) in stubbed:
                        stub(item)
                kept = True
            elif isinstance(stmt, (ast.If, ast.Try)):  # ModuleCtx collects the definitions under these
                block(stmt.body, collected)
                block(stmt.orelse, collected)
                if isinstance(stmt, ast.Try):
                    block(stmt.finalbody, collected)
                    for h in stmt.handlers:
                        block(h.body, False)
                kept = True
            elif (isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__") or not alone(stmt):
                kept = True
            else:
                blanked.append((first_line(stmt), stmt.end_lineno or stmt.lineno, ""))
        if blanked and not kept and body is not ctx.tree.body:
            first, last, _ = blanked[0]  # a block keeps one statement
            blanked[0] = (first, last, indent(body[0]) + "pass")
        out.extend(blanked)

    block(ctx.tree.body, True)
    return out


def unbody(source: str, skeleton: list[tuple[int, int, str]]) -> str:
    """``source`` with its skeleton's lines blanked (line numbers and columns unchanged). A blanked line
    keeps its own line break, behind a space: an empty line after a lone ``\r`` would join it into one
    ``\r\n`` break and move every line below."""
    lines = source_lines(source)
    for first, last, text in skeleton:
        if not 0 < first <= last <= len(lines):
            return source  # (not this text's skeleton: parsed whole)
        for i in range(first - 1, last):
            lines[i] = " " + _line_break(lines[i])
        if text:
            lines[last - 1] = text + _line_break(lines[last - 1])
    return "".join(lines)


def _line_break(line: str) -> str:
    if line.endswith("\r\n"):
        return "\r\n"
    return line[-1] if line.endswith(("\r", "\n")) else ""


def _n_nodes(ctx: ModuleCtx) -> int:
    """About how many syntax nodes a stripped ModuleCtx holds (the LRU's measure): ~6 a line of what it keeps,
    counted from line numbers (walking every kept node cost an editor's lint 14 ms for 28 modules)."""

    def kept(node: ast.stmt) -> int:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and isinstance(node.body[0], ast.Pass):
            return node.body[0].lineno - node.lineno + 1  # a stub: its signature
        if isinstance(node, ast.ClassDef):
            return 1 + sum(kept(item) for item in node.body)
        return (node.end_lineno or node.lineno) - node.lineno + 1

    return 6 * sum(kept(top) for top in (*ctx.functions.values(), *ctx.classes.values()))


def _strip_unwalked(ctx: ModuleCtx) -> None:
    """Drop the bodies of the functions and methods of a module walked from elsewhere that a walk never
    enters (not strongly relevant), after its summary was taken from the whole tree."""

    def stub(fn: ast.stmt) -> list[ast.stmt]:
        return [
            ast.Pass(lineno=fn.lineno, col_offset=fn.col_offset, end_lineno=fn.lineno, end_col_offset=fn.col_offset)
        ]

    # The summary is shared with every other ModuleCtx of the same content (the linted file's own among
    # them): everything it holds is computed now, from the whole tree, never later from the stripped one
    # (a helper stubbed here would otherwise read as irrelevant to the file's own analysis).
    # The node lists kept on the nodes whose children change go first (a list would keep every stripped
    # body alive, and read as the old body): the module's, each class's and each stubbed function's. The
    # nodes of a stripped body are dropped with their own lists; a kept function's list stays true.
    ctx.complete_summary()
    N.forget_node(ctx.tree)
    for fn in ctx.functions.values():
        if not ctx.walkable(fn, None):
            N.forget_node(fn)
            fn.body = stub(fn)
    for cls in ctx.classes.values():
        N.forget_node(cls)
        for item in cls.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and not ctx.walkable(item, cls):
                N.forget_node(item)
                item.body = stub(item)
    # The module level of another file is never walked (its constants are in the summary): only the
    # functions and classes collected above are kept (timm's model files hold thousand-line config dicts).
    ctx.tree.body = []  # (its `if` / `try` blocks go with it, and their lists with them)


_LOADING = threading.Lock()


class LazyBody(list):
    """The body of a function of another module, parsed from its text when first read (iterated, indexed,
    measured, compared): a walk enters a few of the functions it may enter, and a body's syntax nodes cost
    ~260 bytes each. Once read it is the body the whole parse gives, positions included, and the function
    holds it as a plain list. What reads a body reads it through this list, so no reader can see the stub
    instead: a node list or answer kept on a node (``names.subtree``, ``names.memo_on``) is made by reading
    the body, after it is parsed."""

    __slots__ = ("_load", "unreadable")

    def __init__(self, stub: list, load) -> None:
        super().__init__(stub)
        self._load = load
        self.unreadable = False  # neither its own lines nor the module's text gave the body back

    def _read(self) -> None:
        if self._load is not None:
            with _LOADING:  # (a host linting in threads: one parse, and no reader sees the stub meanwhile)
                load = self._load
                if load is not None:
                    body = load()
                    if body is not None:
                        list.__setitem__(self, slice(None), body)
                    else:
                        self.unreadable = True
                    self._load = None

    def __iter__(self):
        self._read()
        return list.__iter__(self)

    def __reversed__(self):
        self._read()
        return list.__reversed__(self)

    def __len__(self) -> int:
        self._read()
        return list.__len__(self)

    def __getitem__(self, i):
        self._read()
        return list.__getitem__(self, i)

    def __contains__(self, x: object) -> bool:
        self._read()
        return list.__contains__(self, x)

    def __eq__(self, other: object) -> bool:
        self._read()
        return list.__eq__(self, other)

    __hash__ = None

    def __add__(self, other):
        self._read()
        return list(list.__iter__(self)) + list(other)

    def index(self, *args):
        self._read()
        return list.index(self, *args)

    def count(self, x) -> int:
        self._read()
        return list.count(self, x)

    def copy(self) -> list:
        self._read()
        return list(list.__iter__(self))


def _defer_bodies(ctx: ModuleCtx, source: str, digest: str) -> None:
    """Make the bodies of the walkable functions of a module parsed from its skeleton (each one literal,
    see ``skeleton``) parse when first read, from their text (``LazyBody``)."""
    lines: list[str] | None = None
    for _, fn, cls in relevance.module_units(ctx):
        body = fn.body
        if (
            isinstance(body, LazyBody)
            or len(body) != 1
            or not isinstance(body[0], ast.Expr)
            or not isinstance(body[0].value, ast.Constant)
            or not ctx.walkable(fn, cls)
        ):
            continue  # a stub of ``_strip_unwalked``, or a body the skeleton kept (on its header's line)
        first = first_line(fn)
        if fn.col_offset > 0 and first < 2:
            continue  # (an indented definition on the first line: not Python, kept as it is)
        if lines is None:
            lines = source_lines(source)
        text = "".join(lines[first - 1 : fn.end_lineno or fn.lineno])
        N.forget_node(fn)
        fn.body = LazyBody(body, _body_loader(text, first, fn, fn.col_offset > 0, ctx.path, digest))


def _body_loader(text: str, first: int, fn: FunctionNode, indented: bool, path: str | None, digest: str | None):
    """What parses the body of ``fn`` from ``text`` (its lines from line ``first``, decorators included):
    blank lines before it keep its line numbers, its own indentation its columns, and a header
    (``if 1:``) on the line above an indented definition (a method's) opens the block it stands in. Text
    that does not parse alone (what the whole module's parse took as one function may not be one piece of
    Python when cut out) is looked up in the module's whole parse instead, while the file is still the
    text ``digest``; failing that the body is None, and the walks say so (``body_unreadable``)."""
    lineno, name, ref = fn.lineno, fn.name, weakref.ref(fn)

    def load() -> list | None:
        head = " \n" * (first - 2) + "if 1:\n" if indented else " \n" * (first - 1)
        tree = _parse(head + text)
        body = None
        if tree is not None and tree.body:
            for node in tree.body[0].body if indented and isinstance(tree.body[0], ast.If) else tree.body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (node.lineno, node.name) == (
                    lineno,
                    name,
                ):
                    body = node.body
                    break
        if body is None and path is not None and digest is not None:
            body = _whole_parse_body(path, digest, lineno, name)
        owner = ref()
        if body is not None and owner is not None:
            owner.body = body  # (a plain list from now on: every later read as fast as before)
        return body

    return load


def _whole_parse_body(path: str, digest: str, lineno: int, name: str) -> list | None:
    """The body of the function ``name`` defined at ``lineno`` in the whole parse of the project file
    ``path``, while it is still the text ``digest``; None when it is not, does not parse or has no such
    function."""
    source = _source(path, digest)
    tree = _parse(source) if source is not None else None
    if tree is None:
        return None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (node.lineno, node.name) == (lineno, name):
            return node.body
    return None


def body_unreadable(fn: FunctionNode) -> bool:
    """Is the body of ``fn`` (another module's, parsed when first read) one that could not be read: its
    file changed since its skeleton was parsed, and its own lines do not parse alone. Reads it if not yet."""
    body = fn.body
    if isinstance(body, LazyBody):
        body._read()
        return body.unreadable
    return False


@dataclass
class Frame:
    ctx: ModuleCtx
    func: str  # "<module>" or the function's name
    self_val: frozenset = EMPTY
    region: str | None = None  # why this code is an inference region by name/decorator, if it is
    cls: str | None = None  # the class whose method this is
    module_method: bool = False  # a method of an nn.Module subclass: self.* submodules follow the parent's mode
    region_line: int = 0
    returns: list = field(default_factory=list)
    loops: list = field(default_factory=list)  # [(breaks, continues)]
    call: tuple | None = None  # (path, line) of the call that entered this frame; None for a root
    node: ast.AST | None = None  # the function (or module) being walked
    call_node: ast.AST | None = field(default=None, repr=False, compare=False)  # the call that entered it
    # the innermost no_grad/inference_mode region opened in this frame: (why, line) (a `with` or a decorator)
    _with_region: tuple[str, int] | None = field(default=None, repr=False, compare=False)
    nested: dict[str, ast.AST] = field(default_factory=dict, repr=False, compare=False)  # functions def'd here

    @property
    def unit(self) -> tuple[str, str]:
        """(path, name) of the function walked, named as a module's units are (``f``, ``Class.m``)."""
        return self.ctx.path or "", f"{self.cls}.{self.func}" if self.cls else self.func
