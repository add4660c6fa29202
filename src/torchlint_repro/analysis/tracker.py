"""The abstract interpreter: walks entry points in program order and emits events.

Each entry point (module level, ``if __name__ == "__main__"``, functions handed to runners,
functions nobody in the file calls, methods) is walked statement by statement with a :class:`State`.
Branches are walked on copies and joined (a fact true on one branch only becomes *maybe*), loops run
to a fixpoint (the body may run zero times or repeat), ``try`` handlers start from every state the
body passed through, calls into functions of the file or the project are walked in place with the
caller's state (re-anchored at the call site when the callee lives in another file), and ``mp.spawn``
targets start afresh, as the new process they are.

The rules never look at syntax: they read the events below.
"""
from __future__ import annotations

import ast
import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..config import Settings
from . import names as N
from .paths import HOLE, matchable, path_template
from .project import MAYBE, NO, YES, Project, project_for
from .state import State, join, join_all
from .values import (ENTRY, EVAL, TRAIN, UNKNOWN, ClassRef, DictVal, FuncRef, Instance, Loaded, LoadedItem,
                     LoadResult, Model, Optimizer, Out, StateDict, Str, TupleVal)

EMPTY: frozenset = frozenset()
MAX_DEPTH = 6  # nested calls walked in place
MAX_LOOP_PASSES = 4
STEP_BUDGET = 10_000
INLINE_BUDGET = 400  # calls walked in place per entry point
FILE_BUDGET_BASE, FILE_BUDGET_PER_LINE = 8_000, 4
MAX_FOREIGN_DEPTH = 2  # calls walked into other files of the project, nested  # statements walked per file, all entry points together  # statements per entry point; past it the entry point is dropped, never half-judged
RUNNER_FUNCS = frozenset({"fire.Fire", "absl.app.run", "app.run", "typer.run", "jsonargparse.CLI", "tyro.cli"})
SPAWN_FUNCS = frozenset({"torch.multiprocessing.spawn", "torch.multiprocessing.start_processes",
                         "multiprocessing.Process", "torch.multiprocessing.Process", "multiprocessing.Pool",
                         "torch.distributed.launcher.api.elastic_launch", "mp.spawn"})
ENTRY_DECORATORS = ("click.command", "click.group", "hydra.main", "typer.Typer.command", "app.command")
NO_EFFECT_FUNCS = frozenset({"print", "len", "str", "repr", "isinstance", "type", "id", "hasattr", "getattr",
                             "sum", "list", "tuple", "dict", "set", "enumerate", "zip", "sorted", "format", "vars",
                             "logging.info", "logging.debug", "logging.warning"})
INFERENCE_DECORATORS = frozenset({"torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad"})
LIGHTNING_EVAL_HOOKS = ("validation_step", "test_step", "predict_step", "on_validation", "on_test", "on_predict",
                        "validation_epoch_end", "test_epoch_end")
CHECKPOINT_KEYS_HINT = ("epoch", "optimizer", "optim", "scheduler", "step", "model", "state_dict", "net", "args",
                        "config", "best", "loss", "acc", "iteration", "global_step", "lr", "scaler", "ema")


class Budget(Exception):
    pass


@dataclass
class Event:
    kind: str
    line: int
    col: int
    data: dict = field(default_factory=dict)


@dataclass
class FileFacts:
    path: str | None
    events: list[Event]
    settings: Settings

    def of(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.kind == kind]


class ModuleCtx:
    def __init__(self, path: str | None, tree: ast.Module, project: Project | None, linted: bool,
                 module: str | None = None, is_package: bool = False) -> None:
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
        self.imports = N.ImportMap.from_tree(tree, module, is_package)
        self.here = str(Path(path).resolve().parent) if path else None
        self.functions: dict[str, ast.FunctionDef] = {}
        self.classes: dict[str, ast.ClassDef] = {}
        for node in tree.body:
            self._collect(node)
        name = Path(path).name if path else ""
        self.is_test_file = name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py" \
            or "/tests/" in (path or "").replace("\\", "/")
        self.argparse: dict[str, str] = {}
        self.constants: dict[str, str] = _module_constants(tree, self.imports)
        self._relevant: set[str] | None = None
        self._strong: set[str] | None = None
        self.argparse = _argparse_defaults(tree)

    def strongly_relevant(self, fn: ast.AST, cls: ast.ClassDef | None) -> bool:
        """Does ``fn`` (transitively in this module) set a mode, seed, load or save, or open an inference region?
        Methods of models are walked only then: a model's ``forward`` helpers change nothing we track."""
        if self._strong is None:
            self._strong = _relevance(self, strong=True)
        key = f"{cls.name}.{fn.name}" if cls is not None else fn.name
        return key in self._strong

    def relevant(self, fn: ast.AST, cls: ast.ClassDef | None) -> bool:
        """Can walking ``fn`` change anything the rules read? Functions that never touch a model, a seed,
        a grad mode or a checkpoint (most of a library) are not walked: calling them changes nothing."""
        if self._relevant is None:
            self._relevant = _relevance(self)
        key = f"{cls.name}.{fn.name}" if cls is not None else fn.name
        return key in self._relevant or key not in self._known_funcs

    @property
    def _known_funcs(self) -> set[str]:
        known = set(self.functions)
        for cname, c in self.classes.items():
            known |= {f"{cname}.{i.name}" for i in c.body if isinstance(i, (ast.FunctionDef, ast.AsyncFunctionDef))}
        self.__dict__["_known_funcs"] = known
        return known

    def _collect(self, node: ast.stmt) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.functions[node.name] = node
        elif isinstance(node, ast.ClassDef):
            self.classes[node.name] = node
        elif isinstance(node, ast.If) or isinstance(node, ast.Try):
            for child in node.body + node.orelse + getattr(node, "finalbody", []):
                self._collect(child)

    def resolve(self, expr: ast.AST) -> str | None:
        return self.imports.resolve(expr)

    def method(self, cls: str, name: str) -> ast.FunctionDef | None:
        c = self.classes.get(cls)
        if c is None:
            return None
        for item in c.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == name:
                return item
        return None


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


class Walker:
    def __init__(self, ctx: ModuleCtx, settings: Settings, collect_saves: bool = False) -> None:
        self.root_ctx = ctx
        self.settings = settings
        self.project = ctx.project
        self.collect_saves = collect_saves
        self.events: dict[tuple, Event] = {}
        self.saves: list[dict] = []
        self.frames: list[Frame] = []
        self.anchor: tuple[int, int] | None = None
        self.mute = 0
        self.steps = 0
        self.seq = 0
        self.reached: set[tuple[str, str]] = set()  # (path, function) walked from some entry point
        self.spawned: list[tuple[ModuleCtx, ast.FunctionDef]] = []
        self.infer_patterns = tuple(settings.inference_functions)
        self.seed_funcs = frozenset(settings.seed_functions)
        self._save_sites: list[dict] | None = None
        self._memo: dict = {}
        self.total_steps = 0
        self.file_budget = FILE_BUDGET_BASE + FILE_BUDGET_PER_LINE * _n_lines(ctx.tree)
        self._reset_root()

    # ================================================================== entry points
    def _reset_root(self) -> None:
        self.seed_calls: list[tuple[int, int, str]] = []  # (seq, line, name) seen in the linted file
        self.other_seeds: list[tuple[int, str]] = []
        self.builds: dict[str, dict] = {}
        self.loaded_uses: list[tuple[Loaded, int, int, str]] = []
        self.mapping_use: dict[str, set] = {}
        self.load_calls: list[dict] = []
        self.load_results: dict[str, dict] = {}
        self.read_results: set[str] = set()
        self.checked_loads: set[str] = set()
        self.root_events: list[tuple[tuple, Event]] = []
        self.region_reports: set = set()

    def run(self) -> None:
        ctx = self.root_ctx
        st = State()
        st.globals = st.locals
        self._root(lambda: self._walk_module(ctx, st))
        # functions the module level never reached: judged on their own, with what we know of callers
        pending = [(ctx, fn, None) for fn in ctx.functions.values()]
        for cls in ctx.classes.values():
            for item in cls.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    pending.append((ctx, item, cls))
        seen_spawn = 0
        while seen_spawn < len(self.spawned):
            sctx, sfn = self.spawned[seen_spawn]
            seen_spawn += 1
            self._root(lambda sctx=sctx, sfn=sfn: self._walk_function_root(sctx, sfn, None, fresh_process=True))
        called = _called_names(ctx.tree)
        pending.sort(key=lambda item: item[1].name in called)  # functions nobody calls first: they reach the rest
        for fctx, fn, cls in pending:
            if (fctx.path or "", self._fname(fn, cls)) in self.reached or not fctx.relevant(fn, cls):
                continue
            if cls is not None and self._class_is_module(fctx, cls) and not fctx.strongly_relevant(fn, cls):
                continue  # a model's own forward helpers: nothing to judge
            self._root(lambda fctx=fctx, fn=fn, cls=cls: self._walk_function_root(fctx, fn, cls))
            while seen_spawn < len(self.spawned):
                sctx, sfn = self.spawned[seen_spawn]
                seen_spawn += 1
                self._root(lambda sctx=sctx, sfn=sfn: self._walk_function_root(sctx, sfn, None, fresh_process=True))

    @staticmethod
    def _fname(fn: ast.AST, cls: ast.ClassDef | None) -> str:
        return f"{cls.name}.{fn.name}" if cls is not None else fn.name

    def _root(self, body) -> None:
        if self.total_steps > self.file_budget:
            return  # a huge file: the entry points past the budget are left unjudged (never guessed)
        self._reset_root()
        self.total_steps += self.steps
        self.steps = 0
        self.inlines = 0
        try:
            self.final_state = body()
        except Budget:
            self.total_steps += self.steps
            return  # too big to judge soundly: say nothing about this entry point
        except RecursionError:
            return
        self.total_steps += self.steps
        self._finish_root()
        for key, ev in self.root_events:
            self.events.setdefault(key, ev)

    def _walk_module(self, ctx: ModuleCtx, st: State) -> State | None:
        self.frames.append(Frame(ctx, "<module>"))
        try:
            return self.block(ctx.tree.body, st)
        finally:
            self.frames.pop()

    def _walk_function_root(self, ctx: ModuleCtx, fn: ast.FunctionDef, cls: ast.ClassDef | None,
                            fresh_process: bool = False) -> None:
        st = State()
        st.globals = {}
        entry = fresh_process or self._is_entry_decorated(ctx, fn)
        st.seed = "no" if entry else "unknown"
        self_val: frozenset = EMPTY
        module_method = False
        if cls is not None:
            module_method = self._class_is_module(ctx, cls)
            inst_id = f"{ctx.path}:{cls.name}:self"
            if module_method:
                self_val = frozenset({Model(inst_id, f"{ctx.module}.{cls.name}", origin="param", name="self",
                                            mode_dep=self._mode_dep(f"{ctx.module}.{cls.name}", ctx),
                                            lightning=self._is_lightning(f"{ctx.module}.{cls.name}", ctx))})
                st.modes[inst_id] = frozenset({ENTRY})
            else:
                self_val = frozenset({Instance(inst_id, f"{ctx.module}.{cls.name}")})
                if fn.name != "__init__":
                    self._init_instance_attrs(ctx, cls, inst_id, st)
        args = self._param_values(ctx, fn, cls, st, root=True)
        self._call_function(ctx, fn, cls, args, {}, st, self_val, module_method=module_method, root=True)
        return st

    def _init_instance_attrs(self, ctx: ModuleCtx, cls: ast.ClassDef, inst_id: str, st: State) -> None:
        """Methods of a Predictor see what __init__ left in self (modes other methods may change: unknown)."""
        init = ctx.method(cls.name, "__init__")
        if init is None:
            return
        sub = State()
        sub.globals = {}
        sub.seed = "unknown"
        self.mute += 1
        try:
            inst = frozenset({Instance(inst_id, f"{ctx.module}.{cls.name}")})
            self._call_function(ctx, init, cls, self._param_values(ctx, init, cls, sub, root=True), {}, sub, inst)
        except Budget:
            return
        finally:
            self.mute -= 1
        changed = _attrs_mode_changed_outside_init(cls)
        for (obj, attr), vals in sub.attrs.items():
            if obj != inst_id:
                continue
            st.attrs[(obj, attr)] = vals
            for v in vals:
                if isinstance(v, Model):
                    mode = sub.mode(v.id)
                    st.modes[v.id] = mode | ({UNKNOWN} if attr in changed else set())
                    st.mode_src[v.id] = sub.mode_src.get(v.id, EMPTY)
        st.seed = "unknown"

    def _is_entry_decorated(self, ctx: ModuleCtx, fn: ast.FunctionDef) -> bool:
        for d in fn.decorator_list:
            target = d.func if isinstance(d, ast.Call) else d
            q = ctx.resolve(target) or N.dotted(target) or ""
            if q.startswith(ENTRY_DECORATORS) or q.endswith((".command", ".main")) and ("click" in q or "hydra" in q):
                return True
        return False

    def _class_is_module(self, ctx: ModuleCtx, cls: ast.ClassDef) -> bool:
        for b in cls.bases:
            q = ctx.resolve(b)
            if q and self._is_module_class(q, ctx):
                return True
        return False

    # ================================================================== events
    def pos(self, node: ast.AST) -> tuple[int, int]:
        if self.anchor is not None:
            return self.anchor
        return node.lineno, node.col_offset

    def emit(self, kind: str, node: ast.AST, **data: Any) -> None:
        if self.mute:
            return
        line, col = self.pos(node)
        if self.anchor is not None:
            data["foreign"] = True
        key = (kind, line, col, data.get("dedupe"))
        self.root_events.append((key, Event(kind, line, col, data)))

    # ================================================================== statements
    def block(self, stmts: list[ast.stmt], st: State | None) -> State | None:
        for s in stmts:
            if st is None:
                return None
            st = self.stmt(s, st)
        return st

    def stmt(self, node: ast.stmt, st: State) -> State | None:
        self.steps += 1
        if self.steps > STEP_BUDGET:
            raise Budget()
        method = getattr(self, "s_" + type(node).__name__, None)
        if method is None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.ev(child, st)
            return st
        return method(node, st)

    def s_Expr(self, node: ast.Expr, st: State) -> State:
        v = node.value
        if isinstance(v, ast.Attribute) and v.attr in ("eval", "train"):
            self._bare_mode_attr(v, st)
            return st
        elif isinstance(v, ast.Call) and _is_load_state_dict(v) and _strict_false(v) is True:
            line, col = self.pos(v)
            self.emit("nonstrict_ignored", v, name=_src_name(v.func.value), how="discarded")
        self.ev(v, st, discard=True)
        return st

    def _bare_mode_attr(self, v: ast.Attribute, st: State) -> None:
        vals = self.ev(v.value, st)
        if not any(isinstance(x, (Model, LoadResult, Loaded, LoadedItem)) for x in vals):
            return  # `args.eval`, an argparse flag: only a known model's method counts
        self.emit("mode_attr_not_called", v, name=_src_name(v.value), attr=v.attr)

    def s_Assign(self, node: ast.Assign, st: State) -> State:
        vals = self.ev(node.value, st)
        lost = self._load_result_lost(node.value, node.targets)
        if lost:
            vals = frozenset(LoadResult(x.site, x.line, x.col, x.strict, True) if isinstance(x, LoadResult) else x
                             for x in vals)
        for t in node.targets:
            self.assign(t, vals, st, node.value)
        return st

    def _load_result_lost(self, value: ast.expr, targets: list[ast.expr]) -> bool:
        """`model = model.load_state_dict(sd)` / `model = Net().load_state_dict(sd)`: the model is gone."""
        if not (isinstance(value, ast.Call) and _is_load_state_dict(value)):
            return False
        recv = value.func.value
        recv_name = N.dotted(recv)
        for t in targets:
            tname = N.dotted(t)
            if tname is not None and (tname == recv_name or isinstance(recv, ast.Call)):
                self.emit("load_result_as_model", value, name=tname, how="assigned",
                          same_name=tname == recv_name and isinstance(t, ast.Name))
                return True
        return False

    def s_AnnAssign(self, node: ast.AnnAssign, st: State) -> State:
        if node.value is not None:
            vals = self.ev(node.value, st)
            self.assign(node.target, vals, st, node.value)
        return st

    def s_AugAssign(self, node: ast.AugAssign, st: State) -> State:
        right = self.ev(node.value, st)
        left = self.ev(node.target, st) if isinstance(node.target, ast.Name) else EMPTY
        outs = [v for v in left | right if isinstance(v, Out)]
        if outs and isinstance(node.target, ast.Name):
            st.bind(node.target.id, frozenset({_merge_out(outs)}))
        return st

    def assign(self, target: ast.expr, vals: frozenset, st: State, value: ast.expr | None = None) -> None:
        if isinstance(target, ast.Name):
            st.bind(target.id, vals)
        elif isinstance(target, (ast.Tuple, ast.List)):
            self._mark_read(vals)  # `missing, unexpected = m.load_state_dict(...)` reads the result
            tup = [v for v in vals if isinstance(v, TupleVal) and len(v.items) == len(target.elts)]
            for i, elt in enumerate(target.elts):
                sub = frozenset().union(*(t.items[i] for t in tup)) if tup else frozenset(
                    v for v in vals if isinstance(v, Out))
                if isinstance(elt, ast.Starred):
                    elt = elt.value
                self.assign(elt, sub, st)
        elif isinstance(target, ast.Attribute):
            objs = self.ev(target.value, st)
            for o in objs:
                if isinstance(o, (Instance, Model)):
                    st.attrs[(o.id, target.attr)] = vals
        elif isinstance(target, ast.Subscript):
            self.ev(target.value, st)
            self.ev(target.slice, st)
        elif isinstance(target, ast.Starred):
            self.assign(target.value, vals, st)

    def s_If(self, node: ast.If, st: State) -> State | None:
        test = node.test
        if _is_main_guard(test):
            return self.block(node.body, st)
        if _is_type_checking(test):
            return self.block(node.orelse, st) if node.orelse else st
        if isinstance(test, ast.Attribute) and test.attr in ("eval", "train"):
            self._bare_mode_attr(test, st)
        else:
            self.ev(test, st)
        const = _const_truth(test)
        if const is True:
            return self.block(node.body, st)
        if const is False:
            return self.block(node.orelse, st)
        a = self.block(node.body, st.copy())
        b = self.block(node.orelse, st.copy()) if node.orelse else st
        return join(a, b) if a is not None or b is not None else None

    def s_Match(self, node, st: State) -> State | None:
        self.ev(node.subject, st)
        outs = [self.block(case.body, st.copy()) for case in node.cases]
        outs.append(st)
        return join_all(outs)

    def _loop(self, node, st: State, bind_target) -> State | None:
        frame = self.frames[-1]
        head = st.copy()
        passes = 0
        depth = sum(1 for f in self.frames for _ in f.loops)
        max_passes = MAX_LOOP_PASSES if depth < 3 else 1
        self.mute += 1
        try:
            while passes < max_passes:
                passes += 1
                frame.loops.append(([], []))
                body_state = head.copy()
                bind_target(body_state)
                end = self.block(node.body, body_state)
                breaks, continues = frame.loops.pop()
                new_head = join_all([head, end, *continues])
                if new_head is None or new_head.key() == head.key():
                    break
                head = new_head
        finally:
            self.mute -= 1
        # the final, reported pass runs from the fixpoint
        frame.loops.append(([], []))
        body_state = head.copy()
        bind_target(body_state)
        end = self.block(node.body, body_state)
        breaks, continues = frame.loops.pop()
        after = join_all([head, end, *continues])
        if isinstance(node, ast.While) and _const_truth(node.test) is True:
            after = None  # `while True:` leaves only through break
        if after is not None and node.orelse:
            after = self.block(node.orelse, after)
        return join_all([after, *breaks])

    def s_For(self, node: ast.For, st: State) -> State | None:
        it = self.ev(node.iter, st)

        def bind(s: State) -> None:
            elems = frozenset(v for v in it if isinstance(v, (Model, Loaded, LoadedItem)))
            if isinstance(node.iter, ast.Call) and isinstance(node.iter.func, ast.Attribute) \
                    and node.iter.func.attr in ("items", "keys", "values", "named_parameters", "parameters",
                                                "modules", "children", "named_modules"):
                elems = EMPTY
            self.assign(node.target, elems, s)

        return self._loop(node, st, bind)

    s_AsyncFor = s_For

    def s_While(self, node: ast.While, st: State) -> State | None:
        self.ev(node.test, st)
        return self._loop(node, st, lambda s: None)

    def s_Break(self, node, st: State) -> None:
        frame = self.frames[-1]
        if frame.loops:
            frame.loops[-1][0].append(st)
        return None

    def s_Continue(self, node, st: State) -> None:
        frame = self.frames[-1]
        if frame.loops:
            frame.loops[-1][1].append(st)
        return None

    def s_Return(self, node: ast.Return, st: State) -> None:
        vals = self.ev(node.value, st) if node.value is not None else EMPTY
        self._mark_read(vals)
        self.frames[-1].returns.append((st, vals))
        return None

    def s_Raise(self, node: ast.Raise, st: State) -> None:
        if node.exc is not None:
            self.ev(node.exc, st)
        return None

    def s_Try(self, node: ast.Try, st: State) -> State | None:
        snapshots = [st.copy()]
        cur: State | None = st
        for s in node.body:
            if cur is None:
                break
            cur = self.stmt(s, cur)
            if cur is not None:
                snapshots.append(cur.copy())
        body_end = cur
        if body_end is not None and node.orelse:
            body_end = self.block(node.orelse, body_end)
        handler_entry = join_all(snapshots)
        outs = [body_end]
        for h in node.handlers:
            hs = handler_entry.copy()
            if h.name:
                hs.bind(h.name, EMPTY)
            outs.append(self.block(h.body, hs))
        after = join_all(outs)
        if node.finalbody:
            if after is None:
                self.block(node.finalbody, handler_entry.copy())
                return None
            after = self.block(node.finalbody, after)
        return after

    s_TryStar = s_Try

    def s_With(self, node: ast.With, st: State) -> State | None:
        old_grad = st.grad
        region = None
        for item in node.items:
            g = self._grad_context(item.context_expr, st)
            if g is not None:
                st.grad = g
                if g == "off":
                    region = N.dotted(_call_func(item.context_expr)) or "no_grad"
            vals = self.ev(item.context_expr, st) if g is None else EMPTY
            if item.optional_vars is not None:
                self.assign(item.optional_vars, vals, st)
        frame = self.frames[-1]
        saved_region = getattr(frame, "_with_region", None)
        frame._with_region = (region, node.lineno) if region else saved_region
        try:
            out = self.block(node.body, st)
        finally:
            frame._with_region = saved_region
        if out is not None:
            out.grad = old_grad
        return out

    s_AsyncWith = s_With

    def _grad_context(self, expr: ast.expr, st: State) -> str | None:
        call = expr if isinstance(expr, ast.Call) else None
        func = call.func if call else expr
        q = self.frames[-1].ctx.resolve(func)
        if q in N.NO_GRAD_CTX:
            if q.endswith("inference_mode") and call and call.args and _const_truth(call.args[0]) is False:
                return None
            return "off"
        if q in N.ENABLE_GRAD:
            return "on"
        if q in N.SET_GRAD and call and call.args:
            t = _const_truth(call.args[0])
            return "off" if t is False else "on" if t is True else "maybe"
        return None

    def s_FunctionDef(self, node, st: State) -> State:
        ctx = self.frames[-1].ctx
        frame = self.frames[-1]
        for d in node.args.defaults + [d for d in node.args.kw_defaults if d is not None]:
            self.ev(d, st)  # default arguments are built when `def` runs
        if frame.func == "<module>":
            st.bind(node.name, frozenset({FuncRef(f"{ctx.module}.{node.name}", local=node.name)}))
        else:
            st.bind(node.name, frozenset({FuncRef(f"<nested>.{node.name}", local=None)}))
            frame.nested = getattr(frame, "nested", {})
            frame.nested[node.name] = node
            st.bind(node.name, frozenset({FuncRef(f"<nested>.{node.name}", local="<nested>:" + node.name)}))
        return st

    s_AsyncFunctionDef = s_FunctionDef

    def s_ClassDef(self, node: ast.ClassDef, st: State) -> State:
        ctx = self.frames[-1].ctx
        for item in node.body:  # class attributes are built when `class` runs
            if isinstance(item, (ast.Assign, ast.AnnAssign)) and item.value is not None:
                self.ev(item.value, st)
        st.bind(node.name, frozenset({ClassRef(f"{ctx.module}.{node.name}",
                                               self._is_module_class(f"{ctx.module}.{node.name}", ctx))}))
        return st

    def s_Global(self, node: ast.Global, st: State) -> State:
        st.global_names = st.global_names | frozenset(node.names)
        return st

    def s_Import(self, node, st: State) -> State:
        for alias in node.names:
            st.locals.pop((alias.asname or alias.name).split(".")[0], None)
        return st

    def s_ImportFrom(self, node, st: State) -> State:
        for alias in node.names:
            st.locals.pop(alias.asname or alias.name, None)
        return st

    def s_Delete(self, node: ast.Delete, st: State) -> State:
        for t in node.targets:
            if isinstance(t, ast.Name):
                st.locals.pop(t.id, None)
        return st

    # ================================================================== expressions
    def ev(self, node: ast.expr | None, st: State, discard: bool = False) -> frozenset:
        if node is None:
            return EMPTY
        method = getattr(self, "e_" + type(node).__name__, None)
        if method is not None:
            return method(node, st) if not discard or not isinstance(node, ast.Call) else self.e_Call(node, st, discard=True)
        outs = []
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                outs.extend(v for v in self.ev(child, st) if isinstance(v, Out))
            elif isinstance(child, ast.comprehension):
                self.ev(child.iter, st)
                for cond in child.ifs:
                    self.ev(cond, st)
        return frozenset({_merge_out(outs)}) if outs else EMPTY

    def e_Compare(self, node: ast.Compare, st: State) -> frozenset:
        left = self.ev(node.left, st)
        rights = [self.ev(c, st) for c in node.comparators]
        if any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
            # `"state_dict" in ckpt`: the code handles both a checkpoint and a bare state_dict
            for vals in rights:
                self._format_checked(vals)
        self._mark_read(left)
        return EMPTY

    def _format_checked(self, vals) -> None:
        for v in vals:
            if isinstance(v, Loaded):
                self.checked_loads.add(v.site)
            elif isinstance(v, LoadedItem):
                self.checked_loads.add(v.loaded.site)

    def e_Constant(self, node: ast.Constant, st: State) -> frozenset:
        if isinstance(node.value, str):
            return frozenset({Str(node.value)})
        return EMPTY

    def e_JoinedStr(self, node: ast.JoinedStr, st: State) -> frozenset:
        for v in node.values:
            if isinstance(v, ast.FormattedValue):
                self._mark_read(self.ev(v.value, st))
        if not any(isinstance(v, ast.Constant) and isinstance(v.value, str) and ("/" in v.value or "." in v.value)
                   for v in node.values):
            return EMPTY  # a message, not a path
        t = self._template(node, st)
        return frozenset({Str(t)}) if t is not None else EMPTY

    def e_Name(self, node: ast.Name, st: State) -> frozenset:
        vals = st.lookup(node.id)
        if vals is not None:
            if isinstance(node.ctx, ast.Load):
                self._note_loaded_name(vals)
            return vals
        frame = self.frames[-1]
        nested = getattr(frame, "nested", {})
        if node.id in nested:
            return frozenset({FuncRef(f"<nested>.{node.id}", local="<nested>:" + node.id)})
        return self._global_ref(node, frame.ctx)

    def _head_bound(self, node: ast.expr, st: State) -> bool:
        head = _head(node)
        if not head:
            return True
        if st.lookup(head) is not None:
            return True
        return any(head in getattr(f, "nested", {}) for f in self.frames)

    def _note_loaded_name(self, vals: frozenset) -> None:
        for v in vals:
            if isinstance(v, LoadResult):
                pass  # reading the name alone is not reading the keys; attribute access is (e_Attribute)

    def _global_ref(self, node: ast.expr, ctx: ModuleCtx) -> frozenset:
        q = ctx.resolve(node)
        if q is None:
            return EMPTY
        if isinstance(node, ast.Name) and node.id in ctx.functions:
            return frozenset({FuncRef(q, local=node.id)})
        if isinstance(node, ast.Name) and node.id in ctx.classes:
            return frozenset({ClassRef(q, self._is_module_class(q, ctx))})
        if N.is_builder(q):
            return frozenset({FuncRef(q, builder=True)})
        if self._is_module_class(q, ctx):
            return frozenset({ClassRef(q, True)})
        if self.project is not None:
            hit = self.project.locate(q, ctx.here)
            if hit is not None:
                kind = hit[0]
                if kind == "class":
                    return frozenset({ClassRef(q, False)})
                if kind == "function":
                    return frozenset({FuncRef(q)})
                if kind == "constant":
                    return frozenset({Str(hit[1].facts["constants"][hit[2]])})
        if q.rsplit(".", 1)[-1][:1].isupper():
            return frozenset({ClassRef(q, False)})
        return frozenset({FuncRef(q)})

    def e_Attribute(self, node: ast.Attribute, st: State) -> frozenset:
        frame = self.frames[-1]
        if isinstance(node.value, (ast.Name, ast.Attribute)) and not self._head_bound(node, st):
            q = frame.ctx.resolve(node)
            if q is not None:
                return self._global_ref(node, frame.ctx)
        base = self.ev(node.value, st)
        if not base:
            q = frame.ctx.resolve(node)
            if q is not None and isinstance(node.value, (ast.Name, ast.Attribute)) \
                    and st.lookup(_head(node)) is None:
                return self._global_ref(node, frame.ctx)
            if isinstance(node.value, ast.Name):
                default = self._argparse_default(node.attr)
                if default is not None:
                    return frozenset({Str(default)})
            return EMPTY
        out: set = set()
        for b in base:
            if isinstance(b, Model) and node.attr in ("eval", "train") and not self.mute:
                # the bound method escapes (`fn = model.eval`, `callbacks.append(model.train)`): it may be
                # called anywhere later, so the mode is no longer known
                st.modes[b.id] = st.mode(b.id) | {UNKNOWN}
            if isinstance(b, Model):
                if node.attr == "module" and b.wrapped:
                    out.add(b.unwrapped())
                elif node.attr in ("module", "_orig_mod"):
                    out.add(b)
            elif isinstance(b, (Instance,)):
                out |= st.attrs.get((b.id, node.attr), EMPTY)
            elif isinstance(b, Model) or isinstance(b, Out):
                pass
            elif isinstance(b, LoadResult):
                if node.attr in ("missing_keys", "unexpected_keys"):
                    self.read_results.add(b.site)
                elif node.attr in N.MODULE_USE_METHODS:
                    self._load_result_used(b, node)
            elif isinstance(b, (Loaded, LoadedItem)) and node.attr in ("keys", "items", "values", "get", "pop",
                                                                        "copy", "update"):
                loaded = b if isinstance(b, Loaded) else b.loaded
                self.mapping_use.setdefault(loaded.site, set()).add(None)
            if isinstance(b, Model) and (b.id, node.attr) in st.attrs:
                out |= st.attrs[(b.id, node.attr)]
        outs = [v for v in base if isinstance(v, Out)]
        if outs:
            out.add(_merge_out(outs))
        if isinstance(node.value, ast.Name) and not out and node.value.id in ("args", "opt", "opts", "cfg", "config",
                                                                              "hparams", "FLAGS", "flags"):
            default = self._argparse_default(node.attr)
            if default is not None:
                out.add(Str(default))
        return frozenset(out)

    def _argparse_default(self, attr: str) -> str | None:
        return self.frames[-1].ctx.argparse.get(attr)

    def e_Subscript(self, node: ast.Subscript, st: State) -> frozenset:
        base = self.ev(node.value, st)
        self.ev(node.slice, st)
        key = node.slice.value if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str) else None
        out: set = set()
        for b in base:
            if isinstance(b, Loaded):
                self.mapping_use.setdefault(b.site, set()).add(key)
                out.add(LoadedItem(b, key, b.stripped))
            elif isinstance(b, LoadedItem):
                out.add(b)
            elif isinstance(b, DictVal) and key is not None:
                for k, vals in b.entries:
                    if k == key:
                        out |= vals
            elif isinstance(b, TupleVal) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int):
                i = node.slice.value
                if -len(b.items) <= i < len(b.items):
                    out |= b.items[i]
            elif isinstance(b, Out):
                out.add(b)
            elif isinstance(b, Model) and b.cls and N.torch_nn_layer(b.cls) in N.CONTAINERS:
                pass
        return frozenset(out)

    def e_Dict(self, node: ast.Dict, st: State) -> frozenset:
        entries = []
        for k, v in zip(node.keys, node.values):
            vals = self.ev(v, st)
            if k is None:
                continue
            self.ev(k, st)
            if isinstance(k, ast.Constant) and isinstance(k.value, str):
                entries.append((k.value, vals))
        return frozenset({DictVal(tuple(entries))})

    def e_Tuple(self, node: ast.Tuple, st: State) -> frozenset:
        return frozenset({TupleVal(tuple(self.ev(e, st) for e in node.elts))})

    e_List = e_Tuple

    def e_DictComp(self, node: ast.DictComp, st: State) -> frozenset:
        """`{k.replace("module.", ""): v for k, v in sd.items()}` strips the DataParallel prefix."""
        srcs: set = set()
        for gen in node.generators:
            srcs |= self._comp_source(gen.iter, st)
        strips = _strips_prefix(node.key)
        out = set()
        for s in srcs:
            if isinstance(s, (StateDict, Loaded, LoadedItem)):
                out.add(s.strip() if strips else s)
        if not strips:
            out.add(DictVal(()))  # a rebuilt mapping we cannot read
        return frozenset(out)

    def _comp_source(self, it: ast.expr, st: State) -> frozenset:
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr in ("items", "keys"):
            return self.ev(it.func.value, st)
        return self.ev(it, st)

    def e_BinOp(self, node: ast.BinOp, st: State) -> frozenset:
        left = self.ev(node.left, st)
        right = self.ev(node.right, st)
        outs = [v for v in left | right if isinstance(v, Out)]
        if outs:
            return frozenset({_merge_out(outs)})
        t = self._template(node, st)
        return frozenset({Str(t)}) if t is not None else EMPTY

    def e_IfExp(self, node: ast.IfExp, st: State) -> frozenset:
        self.ev(node.test, st)
        return self.ev(node.body, st) | self.ev(node.orelse, st)

    def e_BoolOp(self, node: ast.BoolOp, st: State) -> frozenset:
        out: frozenset = EMPTY
        for v in node.values:
            out = out | self.ev(v, st)
        return out

    def e_Await(self, node: ast.Await, st: State) -> frozenset:
        return self.ev(node.value, st)

    def e_Lambda(self, node: ast.Lambda, st: State) -> frozenset:
        return EMPTY

    def e_NamedExpr(self, node: ast.NamedExpr, st: State) -> frozenset:
        vals = self.ev(node.value, st)
        self.assign(node.target, vals, st)
        return vals

    def e_Starred(self, node: ast.Starred, st: State) -> frozenset:
        return self.ev(node.value, st)

    def _template(self, node: ast.expr, st: State) -> str | None:
        ctx = self.frames[-1].ctx

        def lookup(key: str) -> str | None:
            vals = st.lookup(key) if "." not in key else None
            if vals:
                strs = {v.template for v in vals if isinstance(v, Str)}
                if len(strs) == 1:
                    return next(iter(strs))
                return None
            if "." in key:
                head, _, attr = key.partition(".")
                if st.lookup(head) is None and ctx.resolve(head) is None or head in ("args", "opt", "cfg", "config"):
                    d = self._argparse_default(attr) if "." not in attr else None
                    if d is not None:
                        return d
            if key in ctx.constants:
                return ctx.constants[key]
            if self.project is not None:
                return self.project.constant(key, ctx.here)
            return None

        return path_template(node, ctx.resolve, lookup)

    # ================================================================== calls
    def e_Call(self, node: ast.Call, st: State, discard: bool = False) -> frozenset:
        ctx = self.frames[-1].ctx
        func = node.func
        if isinstance(func, ast.Name) and func.id in ("isinstance", "hasattr") and node.args \
                and not self._head_bound(func, st):
            self._format_checked(self.ev(node.args[0], st))
            for a in node.args[1:]:
                self.ev(a, st)
            return EMPTY
        if isinstance(func, ast.Name) and func.id == "dict" and not node.args and not self._head_bound(func, st):
            entries = tuple((k.arg, self.ev(k.value, st)) for k in node.keywords if k.arg)
            return frozenset({DictVal(entries)})
        if isinstance(func, ast.Attribute) and func.attr in ("Process", "start_processes") \
                and self._head_bound(func, st):
            return self._qualified_call(node, "multiprocessing." + func.attr, st) or EMPTY
        # method calls on values we track
        if isinstance(func, ast.Attribute):
            recv = self.ev(func.value, st)
            handled, result = self._method_call(node, func, recv, st, discard)
            if handled:
                return result
        q = ctx.resolve(func) if isinstance(func, (ast.Name, ast.Attribute)) else None
        if q is not None and self._head_bound(func, st):
            q = None  # a local variable shadows the import of the same name
        fvals = self._global_ref(func, ctx) if q is not None else self.ev(func, st)
        if q is not None:
            special = self._qualified_call(node, q, st)
            if special is not None:
                return special
        # evaluate the arguments (left to right), then dispatch on what is called
        args = [self.ev(a, st) for a in node.args]
        kwargs = {k.arg: self.ev(k.value, st) for k in node.keywords}
        result: set = set()
        known = False
        for fv in fvals:
            if isinstance(fv, Model):
                known = True
                result |= self._forward(node, fv, st, args, kwargs)
            elif isinstance(fv, ClassRef):
                known = True
                result |= self._construct(node, fv, st, args, kwargs)
            elif isinstance(fv, FuncRef):
                r = self._call_ref(node, fv, st, args, kwargs)
                if r is not None:
                    known = True
                    result |= r
            elif isinstance(fv, (Loaded, LoadedItem)):
                known = True
                self._loaded_used_as_module(fv if isinstance(fv, Loaded) else fv.loaded, node, "called")
            elif isinstance(fv, LoadResult):
                known = True
                self._load_result_used(fv, node)
        if not known:
            self._unknown_call(node, q, args, kwargs, st)
        outs = [v for a in args + list(kwargs.values()) for v in a if isinstance(v, Out)]
        if outs and not any(isinstance(v, (Model,)) for v in result):
            result.add(_merge_out(outs))
        return frozenset(result)

    def _unknown_call(self, node: ast.Call, q: str | None, args, kwargs, st: State) -> None:
        """A callee we cannot see: models passed to it may come back in any mode; results it reads."""
        name = q or N.dotted(node.func) or ""
        last = name.rsplit(".", 1)[-1]
        if last == "backward" or last in ("backward_step", "manual_backward"):
            self._training_step(node, [v for a in args for v in a], st)
        if name in NO_EFFECT_FUNCS or name.startswith(("torch.", "logging.", "math.", "numpy.", "np.", "os.",
                                                        "json.", "time.", "random.", "warnings.")) \
                or last in ("info", "debug", "warning", "log", "print", "append", "write", "format"):
            for a in list(args) + list(kwargs.values()):
                self._mark_read(a)
            return
        for a in list(args) + list(kwargs.values()):
            self._mark_read(a)
            for v in a:
                if isinstance(v, Model) and not v.lightning:
                    st.modes[v.id] = st.mode(v.id) | {UNKNOWN}
                    self._use_model(v, st)

    def _mark_read(self, vals: Iterable) -> None:
        for v in vals:
            if isinstance(v, LoadResult):
                self.read_results.add(v.site)
            elif isinstance(v, TupleVal):
                for item in v.items:
                    self._mark_read(item)

    def _qualified_call(self, node: ast.Call, q: str, st: State) -> frozenset | None:
        """Calls decided by their qualified name alone (seeds, grad switches, load/save, wrappers)."""
        last = q.rsplit(".", 1)[-1]
        if q in N.SEED_CALLS and q not in N.NONDETERMINISTIC_SEEDS or q in self.seed_funcs \
                or last in N.SEED_METHODS:
            self._eval_args(node, st)
            self._seed(node, q, st)
            return EMPTY
        if q in N.CUDA_SEEDS:
            self._eval_args(node, st)
            st.cuda = "yes"
            return EMPTY
        if q in N.OTHER_SEEDS:
            self._eval_args(node, st)
            line = node.lineno if self.anchor is None else self.anchor[0]
            if not self.mute:
                self.other_seeds.append((line, q.replace("np.", "numpy.")))
            return EMPTY
        if q in N.SET_GRAD and node.args:
            t = _const_truth(node.args[0])
            st.grad = "off" if t is False else "on" if t is True else "maybe"
            self._eval_args(node, st)
            return EMPTY
        if q in N.TORCH_LOAD:
            args = self._eval_args(node, st)
            path = self._template(node.args[0], st) if node.args else None
            wo = None
            for k in node.keywords:
                if k.arg == "weights_only":
                    wo = _const_truth(k.value)
            line, col = self.pos(node)
            site = f"{self.frames[-1].ctx.path}:{node.lineno}:{node.col_offset}"
            st.modes[site] = frozenset({UNKNOWN})  # a whole pickled module keeps the mode it was saved in
            return frozenset({Loaded(site, path, line, col, wo),
                              Model(site, None, origin="loaded", mode_dep=MAYBE, name=_src_name(node))})
        if q in N.TORCH_SAVE:
            args = self._eval_args(node, st)
            if len(node.args) >= 2:
                self._save(node, args[0], node.args[1], st)
            return EMPTY
        if q in N.WRAPPERS or q in N.TRANSPARENT_WRAPPERS:
            args = self._eval_args(node, st)
            src = args[0] if args else EMPTY
            wrap = q in N.WRAPPERS
            return frozenset(v.as_wrapped() if wrap and isinstance(v, Model) else v
                             for v in src if isinstance(v, Model)) or EMPTY
        if q in N.STRIP_PREFIX_FUNCS:
            args = self._eval_args(node, st)
            if node.args and isinstance(node.args[0], ast.Name):
                vals = st.lookup(node.args[0].id) or EMPTY
                st.bind(node.args[0].id, frozenset(v.strip() if isinstance(v, (StateDict, Loaded, LoadedItem)) else v
                                                   for v in vals))
            return EMPTY
        if q in SPAWN_FUNCS or q.endswith((".spawn", ".Process", ".start_processes")):
            self._eval_args(node, st)
            target = None
            for k in node.keywords:
                if k.arg in ("target", "fn", "entrypoint"):
                    target = k.value
            if target is None and node.args:
                target = node.args[0]
            fn = self._local_function(target) if target is not None else None
            if fn is not None:
                self.reached.add((fn[0].path or "", fn[1].name))
                self.spawned.append(fn)
            return EMPTY
        if q in RUNNER_FUNCS:
            args = self._eval_args(node, st)
            for a in args[:1]:
                for fv in a:
                    if isinstance(fv, FuncRef):
                        self._call_ref(node, fv, st, [], {})
            return EMPTY
        if q.startswith("torch.optim.") and last[:1].isupper():
            args = self._eval_args(node, st)
            ids = frozenset(v.id for a in args for v in a if isinstance(v, Model))
            return frozenset({Optimizer(ids)})
        return None

    def _eval_args(self, node: ast.Call, st: State) -> list[frozenset]:
        args = [self.ev(a, st) for a in node.args]
        for k in node.keywords:
            self._mark_read(self.ev(k.value, st))
        for a in args:
            self._mark_read(a)
        return args

    def _local_function(self, expr: ast.expr) -> tuple[ModuleCtx, ast.FunctionDef] | None:
        ctx = self.frames[-1].ctx
        if isinstance(expr, ast.Name) and expr.id in ctx.functions:
            return ctx, ctx.functions[expr.id]
        return None

    # ------------------------------------------------------------------ seeds
    def _seed(self, node: ast.Call, q: str, st: State) -> None:
        st.seed = "yes"
        self.seq += 1
        if self.anchor is None and self.frames[-1].ctx.linted:
            self.seed_calls.append((self.seq, node.lineno, _seed_display(q, node)))
        elif self.anchor is not None:
            self.seed_calls.append((self.seq, self.anchor[0], _seed_display(q, node)))

    # ------------------------------------------------------------------ methods on tracked values
    def _method_call(self, node: ast.Call, func: ast.Attribute, recv: frozenset, st: State,
                     discard: bool) -> tuple[bool, frozenset]:
        attr = func.attr
        models = [v for v in recv if isinstance(v, Model)]
        classes = [v for v in recv if isinstance(v, ClassRef)]
        builders = [v for v in recv if isinstance(v, FuncRef) and v.builder]
        instances = [v for v in recv if isinstance(v, Instance)]
        loaded = [v for v in recv if isinstance(v, (Loaded, LoadedItem))]
        results = [v for v in recv if isinstance(v, LoadResult)]
        outs = [v for v in recv if isinstance(v, Out)]

        if attr == "load_state_dict":
            if (classes or builders) and len(node.args) < 2:
                for c in classes:
                    if c.module_class:
                        self.emit("load_on_class", node, cls=_src_name(func.value))
                        break
                else:
                    if builders:
                        self.emit("load_on_class", node, cls=_src_name(func.value))
            if any(isinstance(v, Optimizer) for v in recv) or _OPTIM_NAME.search(_src_name(func.value)):
                return False, EMPTY
            if models or (not classes and not builders and not instances):
                return True, self._load_state_dict(node, models, st, discard)
        if attr in ("from_pretrained",):
            self._eval_args(node, st)
            line, col = self.pos(node)
            mid = f"{self.frames[-1].ctx.path}:{node.lineno}:{node.col_offset}"
            st.modes[mid] = frozenset({EVAL})
            st.mode_src[mid] = frozenset({("from_pretrained", line)})
            cls = classes[0].qualname if classes else None
            return True, frozenset({Model(mid, cls, origin="pretrained", mode_dep=MAYBE, name=_src_name(func.value))})
        if attr in ("from_config", "_from_config") and (classes or N.dotted(func.value)):
            args = self._eval_args(node, st)
            cls = classes[0].qualname if classes else None
            return True, self._new_model(node, cls, st, args, {}, has_params=YES, mode_dep=MAYBE)
        if results and attr in N.MODULE_USE_METHODS:
            self._eval_args(node, st)
            for r in results:
                self._load_result_used(r, node)
            return True, EMPTY
        if loaded and attr in _MAPPING_METHODS:
            self._eval_args(node, st)
            for lv in loaded:
                lo = lv if isinstance(lv, Loaded) else lv.loaded
                key = node.args[0].value if attr in ("get", "pop") and node.args and isinstance(node.args[0], ast.Constant) \
                    else None
                self.mapping_use.setdefault(lo.site, set()).add(key)
                if attr == "get":
                    self.checked_loads.add(lo.site)  # .get(): the key may be missing, handled
                    return True, frozenset({LoadedItem(lo, key)})
            return True, EMPTY
        if loaded and models and attr in N.MODULE_USE_METHODS and attr != "load_state_dict":
            for lv in loaded:
                self._loaded_used_as_module(lv if isinstance(lv, Loaded) else lv.loaded, node, f".{attr}()")
        if attr in ("module", "_orig_mod") and models:
            return False, EMPTY  # `ddp.module(x)`: a forward of the wrapped model, not a method
        if loaded and not models:
            args = self._eval_args(node, st)
            for lv in loaded:
                lo = lv if isinstance(lv, Loaded) else lv.loaded
                if attr in ("keys", "items", "values", "get", "pop", "copy", "update", "__getitem__"):
                    key = None
                    if attr in ("get", "pop") and node.args and isinstance(node.args[0], ast.Constant):
                        key = node.args[0].value
                        if attr == "get":
                            return True, frozenset({LoadedItem(lo, key)})
                    self.mapping_use.setdefault(lo.site, set()).add(key)
                elif attr in N.MODULE_USE_METHODS and attr != "load_state_dict":
                    self._loaded_used_as_module(lo, node, f".{attr}()")
                    if attr in N.SELF_RETURNING:
                        return True, frozenset({lv})
            return True, EMPTY
        if outs and attr in ("backward",):
            self._eval_args(node, st)
            self._training_step(node, outs, st)
            return True, EMPTY
        if attr == "step" and not models:
            return False, EMPTY
        if instances and not models:
            r = self._call_method_on_instance(node, attr, instances, st)
            if r is not None:
                return True, r
        if not models:
            if outs:
                self._eval_args(node, st)
                return True, frozenset({_merge_out(outs)})
            return False, EMPTY
        # ---- a model's own methods
        args = [self.ev(a, st) for a in node.args]
        kwargs = {k.arg: self.ev(k.value, st) for k in node.keywords}
        for a in args + list(kwargs.values()):
            self._mark_read(a)
        if attr == "eval" or attr == "train":
            mode = EVAL if attr == "eval" else TRAIN
            if attr == "train":
                flag = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "mode"), None)
                if flag is not None:
                    t = _const_truth(flag)
                    mode = TRAIN if t is True else EVAL if t is False else UNKNOWN
            line, _ = self.pos(node)
            for m in models:
                st.modes[m.id] = frozenset({mode})
                if mode == EVAL:
                    st.mode_src[m.id] = frozenset({("eval", line)})
                elif mode == TRAIN:
                    st.mode_src[m.id] = frozenset({("train", line)})
            return True, frozenset(models)
        if attr in ("forward", "generate", "__call__"):
            res: set = set()
            for m in models:
                res |= self._forward(node, m, st, args, kwargs, generate=(attr == "generate"))
            return True, frozenset(res)
        if attr == "state_dict":
            return True, frozenset(StateDict(m.id, m.cls, m.args, m.wrapped) for m in models)
        if attr in N.SELF_RETURNING:
            return True, frozenset(models)
        if attr in ("parameters", "named_parameters", "buffers", "modules", "children", "named_modules"):
            return True, EMPTY
        # a method of a user model class: walk it with self bound to the model
        res: set = set()
        walked = False
        for m in models:
            if m.cls:
                r = self._call_model_method(node, m, attr, st, args, kwargs)
                if r is not None:
                    walked = True
                    res |= r
        if walked:
            return True, frozenset(res)
        for m in models:
            self._use_model(m, st)
        return True, EMPTY

    def _call_method_on_instance(self, node: ast.Call, attr: str, instances, st: State) -> frozenset | None:
        res: set = set()
        walked = False
        for inst in instances:
            found = self._find_method(inst.cls, attr)
            if found is None:
                continue
            mctx, fn, cls = found
            args = [self.ev(a, st) for a in node.args]
            kwargs = {k.arg: self.ev(k.value, st) for k in node.keywords}
            r = self._inline(node, mctx, fn, cls, args, kwargs, st, frozenset({inst}))
            if r is not None:
                walked = True
                res |= r
        return frozenset(res) if walked else None

    def _call_model_method(self, node, m: Model, attr: str, st: State, args, kwargs) -> frozenset | None:
        found = self._find_method(m.cls, attr)
        if found is None:
            return None
        mctx, fn, cls = found
        if not mctx.strongly_relevant(fn, cls):
            return None
        return self._inline(node, mctx, fn, cls, args, kwargs, st, frozenset({m}), module_method=True)

    def _find_method(self, cls_q: str, attr: str, depth: int = 0):
        if depth > 5 or not cls_q:
            return None
        ctx = self.frames[-1].ctx
        mod, _, cname = cls_q.rpartition(".")
        target_ctx = None
        for f in self.frames:
            if f.ctx.module == mod and cname in f.ctx.classes:
                target_ctx = f.ctx
                break
        if target_ctx is None and self.root_ctx.module == mod and cname in self.root_ctx.classes:
            target_ctx = self.root_ctx
        if target_ctx is None and self.project is not None:
            hit = self.project.locate(cls_q, ctx.here)
            if hit is not None and hit[0] == "class":
                target_ctx = self._ctx_for_path(hit[1].path)
                cname = hit[2]
        if target_ctx is None:
            return None
        cdef = target_ctx.classes.get(cname)
        if cdef is None:
            return None
        fn = target_ctx.method(cname, attr)
        if fn is not None:
            return target_ctx, fn, cdef
        for b in cdef.bases:
            bq = target_ctx.resolve(b)
            if bq:
                r = self._find_method(bq, attr, depth + 1)
                if r is not None:
                    return r
        return None

    _ctx_cache: dict = {}

    def _ctx_for_path(self, path: str) -> ModuleCtx | None:
        if self.root_ctx.path and Path(path).resolve() == Path(self.root_ctx.path).resolve():
            return self.root_ctx
        key = path
        cache = self.__dict__.setdefault("_ctxs", {})
        if key in cache:
            return cache[key]
        tree = self.project.module_tree(path) if self.project else None
        ctx = ModuleCtx(path, tree, self.project, linted=False) if tree is not None else None
        cache[key] = ctx
        return ctx

    # ------------------------------------------------------------------ constructing models
    def _construct(self, node: ast.Call, cref: ClassRef, st: State, args, kwargs) -> frozenset:
        ctx = self.frames[-1].ctx
        q = cref.qualname
        layer = N.torch_nn_layer(q)
        if cref.module_class or layer is not None:
            kw_lit = {k.arg: _literal(k.value) for k in node.keywords if k.arg}
            if layer is not None and layer in N.CONTAINERS:
                inner = [v for a in args for v in a if isinstance(v, Model)]
                if any(isinstance(v, DictVal) for a in args for v in a):
                    inner_has = MAYBE
                else:
                    inner_has = _any_tri(self._fresh_params.get(v.id, MAYBE) for v in inner) if inner else NO
                has = inner_has
                mode_dep = _any_tri(v.mode_dep for v in inner) if inner else NO
                for v in inner:
                    self._absorb(v, st)
            else:
                has = self.project.has_params(q, kw_lit, ctx.here) if self.project else \
                    _local_has_params(q, kw_lit)
                mode_dep = self.project.mode_dependent(q, kw_lit, ctx.here) if self.project else \
                    _local_mode_dep(q, kw_lit)
                for a in list(args) + list(kwargs.values()):
                    for v in a:
                        if isinstance(v, Model):
                            self._absorb(v, st)
            lightning = self.project.is_lightning_class(q, ctx.here) if self.project else False
            return self._new_model(node, q, st, args, kw_lit, has_params=has, mode_dep=mode_dep, lightning=lightning)
        # a user class that is not a module: walk its __init__ with a fresh instance
        found = self._find_method(q, "__init__")
        if found is None and _maybe_model_class(q) and (self.project is None or self.project.locate(q, ctx.here) is None):
            # a class from code we cannot read (`from my_project.models import Encoder` that is not there):
            # it may be a module; its mode is tracked, its mode-dependence unknown; it is never a seeding report
            for a in list(args) + list(kwargs.values()):
                self._mark_read(a)
            mid = f"{ctx.path}:{node.lineno}:{node.col_offset}"
            st.modes[mid] = frozenset({TRAIN})
            return frozenset({Model(mid, q, _ctor_args(node), origin="unknown_class", mode_dep=MAYBE,
                                    name=q.rsplit(".", 1)[-1])})
        inst = Instance(f"{ctx.path}:{node.lineno}:{node.col_offset}", q)
        if found is not None:
            mctx, fn, cls = found
            self._inline(node, mctx, fn, cls, args, kwargs, st, frozenset({inst}))
        else:
            for a in list(args) + list(kwargs.values()):
                self._mark_read(a)
        return frozenset({inst})

    @property
    def _fresh_params(self) -> dict:
        return self.__dict__.setdefault("_fresh_params_map", {})

    def _absorb(self, inner: Model, st: State) -> None:
        """A model built inside another construction's arguments is reported as part of the outer one."""
        st.pending.pop(inner.id, None)
        self.builds.pop(inner.id, None)

    def _new_model(self, node: ast.Call, cls: str | None, st: State, args, kw_lit: dict, has_params: str,
                   mode_dep: str, lightning: bool = False) -> frozenset:
        ctx = self.frames[-1].ctx
        line, col = self.pos(node)
        mid = f"{ctx.path}:{node.lineno}:{node.col_offset}" if self.anchor is None else \
            f"{self.root_ctx.path}:{line}:{col}:{node.lineno}:{node.col_offset}"
        arg_key = _ctor_args(node)
        name = cls.rsplit(".", 1)[-1] if cls else _src_name(node.func)
        m = Model(mid, cls, arg_key, False, "built", mode_dep, name, lightning)
        st.modes[mid] = frozenset({TRAIN})
        st.mode_src.pop(mid, None)
        self._fresh_params[mid] = has_params
        if has_params != NO and st.seed != "yes" and st.seed != "unknown" and not self._in_module_init() \
                and not self.mute:
            self.seq += 1
            verdict = "cuda" if st.cuda == "yes" and st.seed == "no" else st.seed
            if verdict == "cuda" and _on_cuda(node):
                verdict = "yes"
            info = self.builds.get(mid)
            if verdict == "yes":
                info = {"seed": "yes"}
            elif info is None or _worse(verdict, info["seed"]):
                self.builds[mid] = {"line": line, "col": col, "seed": verdict, "seq": self.seq, "name": name,
                                    "cuda": st.cuda, "params": has_params}
            st.pending[mid] = frozenset({"fresh"})
        return frozenset({m})

    def _in_module_init(self) -> bool:
        f = self.frames[-1]
        return f.module_method and f.func == "__init__"

    def _use_model(self, m: Model, st: State) -> None:
        p = st.pending.get(m.id)
        if p is not None and "fresh" in p:
            st.pending[m.id] = (p - {"fresh"}) | {"used"}

    # ------------------------------------------------------------------ forward passes
    def _forward(self, node: ast.Call, m: Model, st: State, args, kwargs, generate: bool = False) -> frozenset:
        self._use_model(m, st)
        for a in list(args) + list(kwargs.values()):
            self._mark_read(a)
        frame = self.frames[-1]
        modes = st.mode(m.id)
        region = None
        if st.grad == "off":
            wr = getattr(frame, "_with_region", None)
            region = (wr[0], wr[1]) if wr else ("no_grad", 0)
        elif generate:
            region = ("generate", node.lineno)
        else:
            for f in reversed(self.frames):
                if f.region:
                    region = (f.region, f.region_line)
                    break
        line, col = self.pos(node)
        if region is not None and not m.lightning:
            seen_key = (m.id, region[1])
            if frame.module_method and m.name == "self" and frame.func in ("forward", "__call__", "__init__"):
                pass
            elif seen_key in self.region_reports:
                pass  # once per model per region
            elif TRAIN in modes and UNKNOWN not in modes and ENTRY not in modes and m.mode_dep != NO \
                    and not (EVAL in modes and any(k == "train" for k, _ in st.mode_src.get(m.id, EMPTY))):
                # (a maybe-train that comes from an explicit `.train()` on one path and `.eval()` on another is
                # a deliberate choice, `model.train() if training else model.eval()`: not reported)
                if not self.mute:
                    self.region_reports.add(seen_key)
                self.emit("forward_in_train", node, dedupe=(m.id, region[1]), name=_src_name(_callee(node)),
                          model=m.name, maybe=EVAL in modes, region=region[0], via=self._via())
            elif modes == frozenset({ENTRY}) and st.grad == "off" and m.origin == "param" and m.mode_dep != NO:
                self.emit("forward_on_param", node, dedupe=(m.id, region[1]), name=_src_name(_callee(node)),
                          region=region[0])
        if region is None and st.grad == "on":
            return frozenset({Out(frozenset({(m.id, line, col, modes, _src_name(_callee(node)),
                                              st.mode_src.get(m.id, EMPTY))}))})
        return frozenset({Out(frozenset())})

    def _via(self) -> str | None:
        if self.anchor is not None:
            return "call"
        return None

    def _training_step(self, node: ast.AST, vals, st: State) -> None:
        for v in vals:
            if not isinstance(v, Out):
                continue
            for (mid, line, col, modes, name, src) in v.forwards:
                if EVAL in modes and UNKNOWN not in modes and ENTRY not in modes:
                    srcs = sorted(x for x in src if x[0] != "train")
                    ev = Event("train_in_eval", line, col, {"name": name, "maybe": TRAIN in modes,
                                                             "src": srcs[0] if srcs else None})
                    if not self.mute:
                        self.root_events.append((("train_in_eval", line, col, None), ev))

    # ------------------------------------------------------------------ calls into code we can read
    def _call_ref(self, node: ast.Call, fv: FuncRef, st: State, args, kwargs) -> frozenset | None:
        ctx = self.frames[-1].ctx
        if fv.builder:
            return self._build_from_builder(node, fv.qualname, st)
        if fv.qualname in N.SEED_CALLS or fv.qualname in self.seed_funcs:
            self._seed(node, fv.qualname, st)
            return EMPTY
        if fv.local and fv.local.startswith("<nested>:"):
            name = fv.local.split(":", 1)[1]
            for f in reversed(self.frames):
                nested = getattr(f, "nested", {})
                if name in nested:
                    return self._inline(node, f.ctx, nested[name], None, args, kwargs, st, EMPTY)
            return None
        if fv.local and fv.local in ctx.functions:
            return self._inline(node, ctx, ctx.functions[fv.local], None, args, kwargs, st, EMPTY)
        if self.project is None:
            return None
        hit = self.project.locate(fv.qualname, ctx.here)
        if hit is None or hit[0] != "function":
            return None
        tctx = self._ctx_for_path(hit[1].path)
        if tctx is None or hit[2] not in tctx.functions:
            return None
        return self._inline(node, tctx, tctx.functions[hit[2]], None, args, kwargs, st, EMPTY)

    def _build_from_builder(self, node: ast.Call, q: str, st: State) -> frozenset:
        self._eval_args(node, st)
        pretrained = False
        for k in node.keywords:
            if k.arg in ("pretrained", "weights", "pretrained_backbone", "weights_backbone"):
                t = _const_truth(k.value)
                if t is None and not (isinstance(k.value, ast.Constant) and k.value.value is None):
                    pretrained = True  # a variable: might be weights; precision first
                elif t:
                    pretrained = True
        if q in N.TIMM_CREATE and len(node.args) > 1 and _const_truth(node.args[1]) is True:
            pretrained = True
        if pretrained:
            mid = f"{self.frames[-1].ctx.path}:{node.lineno}:{node.col_offset}"
            st.modes[mid] = frozenset({TRAIN})
            return frozenset({Model(mid, q, origin="pretrained", mode_dep=MAYBE, name=q.rsplit(".", 1)[-1])})
        return self._new_model(node, q, st, [], {}, has_params=YES, mode_dep=MAYBE)

    def _param_values(self, ctx: ModuleCtx, fn: ast.FunctionDef, cls, st: State, root: bool) -> list[frozenset]:
        """Values for a root's parameters: models of unknown mode ('entry'), string defaults as paths."""
        out = []
        params = fn.args.posonlyargs + fn.args.args
        if cls is not None and params:
            params = params[1:]
        defaults = [None] * (len(params) - len(fn.args.defaults)) + list(fn.args.defaults)
        for p, d in zip(params, defaults):
            vals: set = set()
            if isinstance(d, ast.Constant) and isinstance(d.value, str):
                vals.add(Str(d.value))
            mid = f"{ctx.path}:{fn.name}:param:{p.arg}"
            vals.add(Model(mid, None, origin="param", mode_dep=MAYBE, name=p.arg))
            st.modes[mid] = frozenset({ENTRY})
            out.append(frozenset(vals))
        return out

    def _inline(self, node: ast.Call, ctx: ModuleCtx, fn: ast.FunctionDef, cls, args, kwargs, st: State,
                self_val: frozenset, module_method: bool = False) -> frozenset | None:
        key = (ctx.path or "", self._fname(fn, cls))
        if len(self.frames) >= MAX_DEPTH or any(f.ctx is ctx and f.func == fn.name and f.cls == (cls.name if cls else None)
                                                  for f in self.frames):
            return None  # recursion or too deep: treat as a call we cannot see
        self.reached.add(key)
        foreign = sum(1 for f in self.frames if not f.ctx.linted) + (0 if ctx.linted else 1)
        if not ctx.relevant(fn, cls) or (not ctx.linted and (foreign > MAX_FOREIGN_DEPTH
                                                               or not ctx.strongly_relevant(fn, cls))):
            # a function of another file that sets no mode, seed or checkpoint: calling it changes nothing
            # we track (a model handed to it keeps its mode, as with a local helper that only computes)
            for a in list(args) + list(kwargs.values()):
                self._mark_read(a)
            return EMPTY
        saved_anchor = self.anchor
        if not ctx.linted and self.anchor is None:
            self.anchor = (node.lineno, node.col_offset)
        # The same call with the same state has the same effects and reports the same events (already
        # recorded the first time): walk it once per entry point. Loop passes before the fixpoint report
        # nothing, so their walks are kept apart from reported ones.
        memo_key = (id(fn), id(ctx), _freeze(args), tuple(sorted(kwargs.items(), key=lambda kv: str(kv[0]))), self_val, module_method,
                    self.anchor, tuple(f.region for f in self.frames), bool(self.mute), st.key())
        hit = self._memo.get(memo_key)
        if hit is not None:
            self.anchor = saved_anchor
            out, values = hit
            _apply_exit(st, out)
            return values
        self.inlines += 1
        if self.inlines > INLINE_BUDGET:
            raise Budget()
        try:
            values = self._call_function(ctx, fn, cls, args, kwargs, st, self_val, module_method=module_method)
        finally:
            self.anchor = saved_anchor
        self._memo[memo_key] = (st.copy(), values)
        return values

    def _call_function(self, ctx: ModuleCtx, fn: ast.FunctionDef, cls, args, kwargs, st: State,
                       self_val: frozenset, module_method: bool = False, root: bool = False) -> frozenset:
        """Walk ``fn`` with the caller's state ``st`` (updated in place) and return its return values."""
        region = self._fn_region(ctx, fn, cls, module_method)
        frame = Frame(ctx, fn.name, self_val, region, cls.name if cls else None, module_method, region_line=fn.lineno)
        callee = st.copy()
        caller_locals = st.locals
        at_module = st.locals is st.globals
        callee.globals = callee.locals if at_module else callee.globals
        if at_module:
            callee.globals = dict(st.globals)
        callee.locals = {}
        callee.global_names = frozenset()
        params = fn.args.posonlyargs + fn.args.args
        if cls is not None and params and not _is_static(fn):
            callee.locals[params[0].arg] = self_val
            params = params[1:]
        defaults = [None] * (len(params) - len(fn.args.defaults)) + list(fn.args.defaults)
        for i, p in enumerate(params):
            if i < len(args):
                callee.locals[p.arg] = args[i]
            elif p.arg in kwargs:
                callee.locals[p.arg] = kwargs[p.arg]
            elif defaults[i] is not None and isinstance(defaults[i], ast.Constant) and isinstance(defaults[i].value, str):
                callee.locals[p.arg] = frozenset({Str(defaults[i].value)})
            else:
                callee.locals[p.arg] = EMPTY
        for p in fn.args.kwonlyargs:
            callee.locals[p.arg] = kwargs.get(p.arg, EMPTY)
        if fn.args.vararg is not None:
            callee.locals[fn.args.vararg.arg] = EMPTY
        if fn.args.kwarg is not None:
            callee.locals[fn.args.kwarg.arg] = EMPTY
        if region in ("torch.no_grad", "torch.inference_mode"):
            callee.grad = "off"
            frame._with_region = (region, fn.lineno)
        self.frames.append(frame)
        try:
            end = self.block(fn.body, callee)
        finally:
            self.frames.pop()
        exits = [s for s, _ in frame.returns]
        if end is not None:
            exits.append(end)
        out = join_all(exits)
        values: set = set()
        for _, v in frame.returns:
            values |= v
        if out is None:
            out = callee  # every path raised: keep what we knew
        # write back: the caller's frame keeps its own locals, everything else flows out
        st.seed, st.cuda = out.seed, out.cuda
        st.grad = st.grad if region else out.grad
        st.modes, st.mode_src, st.pending, st.attrs = out.modes, out.mode_src, out.pending, out.attrs
        if at_module:
            merged = dict(caller_locals)
            merged.update(out.globals)
            st.locals = merged
            st.globals = merged
        else:
            st.globals = out.globals
            st.locals = caller_locals
        return frozenset(values)

    def _fn_region(self, ctx: ModuleCtx, fn: ast.FunctionDef, cls, module_method: bool) -> str | None:
        for d in fn.decorator_list:
            target = d.func if isinstance(d, ast.Call) else d
            q = ctx.resolve(target)
            if q in INFERENCE_DECORATORS:
                return "torch.inference_mode" if "inference" in q else "torch.no_grad"
        if module_method:
            return None
        if ctx.is_test_file and fn.name.startswith("test"):
            return None
        name = fn.name
        if any(fnmatch.fnmatchcase(name, p) for p in self.infer_patterns):
            return f"{name}()"
        return None

    # ------------------------------------------------------------------ loading
    def _load_state_dict(self, node: ast.Call, models: list[Model], st: State, discard: bool) -> frozenset:
        src_vals = self.ev(node.args[0], st) if node.args else EMPTY
        for k in node.keywords:
            if k.arg in ("state_dict",):
                src_vals = self.ev(k.value, st)
            else:
                self.ev(k.value, st)
        strict = _strict_false(node)
        strict_flag = None if strict is None else (not strict)
        line, col = self.pos(node)
        site = f"{self.frames[-1].ctx.path}:{node.lineno}:{node.col_offset}"
        for m in models:
            p = st.pending.get(m.id)
            if p is not None and strict_flag is not False and "fresh" in p and strict is not None:
                st.pending[m.id] = (p - {"fresh"}) | {"cleared"}
            elif p is not None and "fresh" in p:
                st.pending[m.id] = (p - {"fresh"}) | {"used"}
        if self.mute:
            return frozenset({LoadResult(site, line, col, strict_flag)})
        self.load_calls.append({"line": line, "col": col, "models": models, "src": src_vals, "node": node,
                                "receiver": _src_name(node.func.value), "strict": strict_flag})
        if strict is True and not discard:
            self.load_results[site] = {"line": line, "col": col, "name": _src_name(node.func.value)}
        return frozenset({LoadResult(site, line, col, strict_flag)})

    def _load_result_used(self, r: LoadResult, node: ast.AST) -> None:
        self.read_results.add(r.site)
        if not r.reported:
            self.emit("load_result_as_model", node, name=_src_name(_callee(node) if isinstance(node, ast.Call)
                                                                     else node), how="used")

    def _loaded_used_as_module(self, lo: Loaded, node: ast.AST, how: str) -> None:
        line, col = self.pos(node)
        if not self.mute:
            self.loaded_uses.append((lo, line, col, how, _src_name(_callee(node) if isinstance(node, ast.Call) else node)))

    def _save(self, node: ast.Call, obj: frozenset, path_expr: ast.expr, st: State) -> None:
        if self.mute or not self.collect_saves:
            return
        template = self._template(path_expr, st)
        if not matchable(template):
            return
        for v in obj:
            if isinstance(v, Model) and v.origin == "loaded":
                continue
            rec = {"path": template, "line": node.lineno, "file": self.frames[-1].ctx.path}
            if isinstance(v, StateDict):
                rec.update(kind="state_dict", cls=v.cls, args=list(map(list, v.args)), prefixed=v.prefixed)
            elif isinstance(v, Model):
                rec.update(kind="module", cls=v.cls)
            elif isinstance(v, DictVal):
                entries = {}
                for k, vals in v.entries:
                    sd = [x for x in vals if isinstance(x, StateDict)]
                    if sd:
                        entries[k] = {"cls": sd[0].cls, "args": list(map(list, sd[0].args)), "prefixed": sd[0].prefixed}
                    else:
                        entries[k] = None
                rec.update(kind="checkpoint", keys=list(v.keys), entries=entries)
            else:
                continue
            self.saves.append(rec)

    def save_sites(self) -> list[dict]:
        if self._save_sites is None:
            self._save_sites = self.project.save_sites() if self.project is not None else []
        return self._save_sites

    # ------------------------------------------------------------------ end of an entry point
    def _finish_root(self) -> None:
        self._finish_builds()
        self._finish_loads()

    def _finish_builds(self) -> None:
        final = getattr(self, "final_state", None)
        for mid, info in self.builds.items():
            status = final.pending.get(mid) if final is not None else None
            if status is not None and status == frozenset({"cleared"}):
                continue  # overwritten by a strict load before any use, on every path
            later = next(((ln, name) for seq, ln, name in self.seed_calls if seq > info["seq"]), None)
            ev = Event("unseeded_build", info["line"], info["col"],
                       {"seed": info["seed"], "name": info["name"], "later_seed": later,
                        "other_seeds": sorted(set(self.other_seeds))})
            self._final_pending.setdefault(mid, set())
            self.root_events.append((("unseeded_build", info["line"], info["col"], mid), ev))

    @property
    def _final_pending(self) -> dict:
        return self.__dict__.setdefault("_fp", {})

    def _finish_loads(self) -> None:
        saves = None
        for call in self.load_calls:
            node = call["node"]
            line, col = call["line"], call["col"]
            for v in call["src"]:
                checkpoint_keys = None
                if isinstance(v, Loaded) and not v.stripped:
                    if v.site in self.checked_loads or any(isinstance(x, LoadedItem) and x.loaded.site == v.site
                                                           for x in call["src"]):
                        continue  # the code tells a checkpoint from a state_dict itself
                    keys = self.mapping_use.get(v.site, set())
                    other = sorted(k for k in keys if isinstance(k, str) and _checkpoint_key(k))
                    if other:
                        self._emit_at("checkpoint_as_state_dict", line, col, name=call["receiver"],
                                      why=f"the same object is read as a checkpoint (`[{other[0]!r}]`)")
                        continue
                    if v.path and matchable(v.path):
                        saves = saves if saves is not None else self.save_sites()
                        match = [s for s in saves if s["path"] == v.path]
                        if match and all(s["kind"] == "checkpoint" and len(s.get("keys", ())) > 1 for s in match):
                            s = match[0]
                            self._emit_at("checkpoint_as_state_dict", line, col, name=call["receiver"],
                                          why=f"{_rel(s['file'])}:{s['line']} saved a dict with keys "
                                              f"{', '.join(repr(k) for k in s['keys'])}")
                            continue
                        sds = [s for s in match if s["kind"] == "state_dict"]
                        if sds and len(sds) == len(match):
                            self._compare_saved(call, sds, line, col, v.stripped)
                elif isinstance(v, LoadedItem) and v.loaded.path and matchable(v.loaded.path) and v.key:
                    saves = saves if saves is not None else self.save_sites()
                    match = [s for s in saves if s["path"] == v.loaded.path and s["kind"] == "checkpoint"]
                    entries = [dict(s["entries"][v.key], file=s["file"], line=s["line"])
                               for s in match if s.get("entries", {}).get(v.key)]
                    if entries and len(entries) == len(match):
                        self._compare_saved(call, entries, line, col, v.stripped)
                elif isinstance(v, StateDict) and not v.stripped:
                    self._compare_saved(call, [{"cls": v.cls, "args": [list(a) for a in v.args],
                                                "prefixed": v.prefixed, "file": None, "line": None}],
                                        line, col, False)
                elif isinstance(v, DictVal) and len(v.keys) > 1 and not any(
                        isinstance(x, StateDict) for _, vals in v.entries for x in vals) is False:
                    sd_keys = [k for k, vals in v.entries if any(isinstance(x, StateDict) for x in vals)]
                    if sd_keys and any(_checkpoint_key(k) for k in v.keys):
                        self._emit_at("checkpoint_as_state_dict", line, col, name=call["receiver"],
                                      why=f"it is a dict with keys {', '.join(repr(k) for k in v.keys)}")
        # strict=False results assigned and never read
        # (handled through nonstrict_ignored for discarded calls in s_Expr)
        for site, info in self.load_results.items():
            if site not in self.read_results:
                self._emit_at("nonstrict_ignored", info["line"], info["col"], name=info["name"], how="never read")
        for lo, line, col, how, name in self.loaded_uses:
            if lo.weights_only is False:
                saves_m = self.save_sites() if lo.path else []
                if not any(s["path"] == lo.path and s["kind"] == "state_dict" for s in saves_m):
                    continue
            why = None
            if lo.site in self.checked_loads:
                continue
            keys = self.mapping_use.get(lo.site)
            if keys is not None:
                why = "the same object is used as a mapping"
            elif lo.path and matchable(lo.path):
                saves = saves if saves is not None else self.save_sites()
                match = [s for s in saves if s["path"] == lo.path]
                if match and all(s["kind"] in ("state_dict", "checkpoint") for s in match):
                    s = match[0]
                    what = "a state_dict" if s["kind"] == "state_dict" else "a checkpoint dict"
                    why = f"{_rel(s['file'])}:{s['line']} saved {what} to {lo.path!r}"
            if why:
                self._emit_at("state_dict_as_model", line, col, name=name, how=how, why=why)

    def _compare_saved(self, call: dict, saved: list[dict], line: int, col: int, stripped: bool) -> None:
        models = call["models"]
        if not models:
            return
        m = models[0]
        sig = self._signature(m.cls)
        if not stripped and all(s.get("prefixed") for s in saved) and not m.wrapped:
            where = _where(saved[0])
            self._emit_at("prefix_mismatch", line, col, name=call["receiver"],
                          why=f"the state_dict{where} was taken from a DataParallel/DDP wrapper: its keys start "
                              f"with 'module.' and `{call['receiver']}` is not wrapped")
            return
        if all(s.get("prefixed") is False for s in saved) and m.wrapped:
            where = _where(saved[0])
            self._emit_at("prefix_mismatch", line, col, name=call["receiver"],
                          why=f"`{call['receiver']}` is wrapped in DataParallel/DDP and expects 'module.' keys, "
                              f"but the state_dict{where} came from the plain model")
            return
        diffs = [d for s in saved if (d := _arch_diff(s, m, sig)) is not None]
        if diffs and len(diffs) == len(saved):
            self._emit_at("arch_mismatch", line, col, name=call["receiver"], why=diffs[0] + _where(saved[0]))

    def _signature(self, cls: str | None) -> tuple[list, dict] | None:
        if not cls or self.project is None:
            return None
        hit = self.project.class_facts(cls, self.root_ctx.here)
        if hit is None:
            return None
        facts = hit[0]
        return facts.get("init_params", []), facts.get("init_defaults", {})

    def _emit_at(self, kind: str, line: int, col: int, **data) -> None:
        self.root_events.append(((kind, line, col, None), Event(kind, line, col, data)))

    # ------------------------------------------------------------------ helpers
    def _mode_dep(self, q: str, ctx: ModuleCtx) -> str:
        return self.project.mode_dependent(q, None, ctx.here) if self.project is not None else MAYBE

    def _is_lightning(self, q: str, ctx: ModuleCtx) -> bool:
        return self.project.is_lightning_class(q, ctx.here) if self.project is not None else False

    def _is_module_class(self, q: str, ctx: ModuleCtx) -> bool:
        if self.project is not None:
            return self.project.is_module_class(q, ctx.here)
        return q in N.MODULE_BASES or N.torch_nn_layer(q) is not None or _local_module_class(q, ctx)


# ============================================================================ small helpers
import re as _re

_OPTIM_NAME = _re.compile(r"optim|sched|scaler|lr_|swa_|ema_opt|opt\b", _re.IGNORECASE)


def _on_cuda(node: ast.Call) -> bool:
    for k in node.keywords:
        if k.arg == "device" and isinstance(k.value, ast.Constant) and "cuda" in str(k.value.value):
            return True
    return False


_MAPPING_METHODS = frozenset({"keys", "items", "values", "get", "pop", "copy", "update", "__getitem__", "setdefault"})

_NOT_MODEL_ROOTS = frozenset({"numpy", "np", "pandas", "PIL", "tqdm", "sklearn", "matplotlib", "scipy", "yaml",
                              "omegaconf", "hydra", "wandb", "tensorboard", "torch", "torchvision", "datasets",
                              "tokenizers", "transformers", "accelerate", "lightning", "pytorch_lightning", "timm",
                              "click", "fire", "absl", "typer", "rich", "requests", "cv2", "h5py", "mlflow"})


def _maybe_model_class(q: str) -> bool:
    import sys

    root = q.split(".", 1)[0]
    last = q.rsplit(".", 1)[-1]
    if root in sys.stdlib_module_names or root in _NOT_MODEL_ROOTS or not last[:1].isupper() or "." not in q:
        return False
    return not last.endswith(("Config", "Tokenizer", "Dataset", "DataLoader", "Loader", "Error", "Exception",
                              "Args", "Arguments", "Parser", "Logger", "Writer", "Processor", "Transform"))


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


def _called_names(tree: ast.Module) -> set[str]:
    """Names of everything called (``f(...)``, ``x.m(...)``) or handed on as a value anywhere in the module."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name):
                out.add(f.id)
            elif isinstance(f, ast.Attribute):
                out.add(f.attr)
            for a in node.args:
                if isinstance(a, ast.Name):
                    out.add(a.id)
            for k in node.keywords:
                if isinstance(k.value, ast.Name):
                    out.add(k.value.id)
    return out


def _n_lines(tree: ast.Module) -> int:
    last = tree.body[-1] if tree.body else None
    return getattr(last, "end_lineno", 0) or 0


def _freeze(obj):
    if isinstance(obj, (list, tuple)):
        return tuple(_freeze(o) for o in obj)
    return obj


def _apply_exit(st: State, out: State) -> None:
    """Give ``st`` (a caller's state) the effects a memoised call had: everything but its locals."""
    st.seed, st.cuda, st.grad = out.seed, out.cuda, out.grad
    st.modes, st.mode_src, st.pending, st.attrs = dict(out.modes), dict(out.mode_src), dict(out.pending), dict(out.attrs)
    if st.locals is st.globals:
        st.locals.update(out.globals)
    else:
        st.globals = dict(out.globals)


def _rel(path: str | None) -> str:
    if not path:
        return "?"
    return Path(path).name


def _where(s: dict) -> str:
    if s.get("file"):
        return f" (saved at {_rel(s['file'])}:{s['line']})"
    return ""


def _arch_diff(saved: dict, m: Model, sig: tuple[list, dict] | None) -> str | None:
    scls, mcls = saved.get("cls"), m.cls
    if not scls or not mcls:
        return None
    sname, mname = scls.rsplit(".", 1)[-1], mcls.rsplit(".", 1)[-1]
    if sname != mname:
        return f"the checkpoint was saved from `{sname}` and is loaded into `{mname}`"
    sargs = _bind_args(saved.get("args", []), sig)
    margs = _bind_args(m.args, sig)
    for k in sorted(set(sargs) & set(margs)):
        a, b = sargs[k], margs[k]
        # floats (dropout, eps, momentum) shape no parameter; ints, strings and flags (sizes, variants,
        # bias=False) do
        if a != b and _shape_like(a) and _shape_like(b):
            return f"saved from `{sname}({k}={a!r})`, loaded into `{mname}({k}={b!r})`"
    return None


def _bind_args(args, sig: tuple[list, dict] | None) -> dict:
    params, defaults = sig if sig is not None else ([], {})
    out = dict(defaults) if sig is not None else {}
    for k, v in args:
        if k.isdigit():
            i = int(k)
            key = params[i] if i < len(params) else k
        else:
            key = k
        out[key] = v
    return out


def _shape_like(v) -> bool:
    return isinstance(v, (int, str, bool)) and not (isinstance(v, str) and v.startswith("name:"))


def _is_lit(v) -> bool:
    return not (isinstance(v, str) and v.startswith("name:"))


def _show(v) -> str:
    return repr(v[4:]) if isinstance(v, str) and v.startswith("lit:") else repr(v)


def _ctor_args(node: ast.Call) -> tuple:
    out = []
    for i, a in enumerate(node.args):
        out.append((str(i), _arg_key(a)))
    for k in node.keywords:
        if k.arg:
            out.append((k.arg, _arg_key(k.value)))
    return tuple(out)


def _arg_key(a: ast.expr):
    lit = _literal(a)
    if lit is not None or isinstance(a, ast.Constant):
        return lit
    d = N.dotted(a)
    return f"name:{d}" if d else "name:?"


def _literal(node: ast.AST):
    try:
        v = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return v if isinstance(v, (int, float, str, bool, type(None))) else None


def _checkpoint_key(k: str) -> bool:
    """A key of a training checkpoint (epoch, optimizer, ...), not of a state_dict ("fc.weight")."""
    return "." not in k and not k.endswith(("weight", "bias", "running_mean", "running_var"))


def _strict_false(node: ast.Call) -> bool | None:
    """True for strict=False, False for strict=True / default, None when we cannot tell."""
    for k in node.keywords:
        if k.arg == "strict":
            t = _const_truth(k.value)
            return None if t is None else (not t)
    if len(node.args) >= 2:
        t = _const_truth(node.args[1])
        return None if t is None else (not t)
    return False


def _is_load_state_dict(node: ast.Call) -> bool:
    return isinstance(node.func, ast.Attribute) and node.func.attr == "load_state_dict"


def _strips_prefix(key: ast.expr) -> bool:
    for sub in ast.walk(key):
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr in (
                "replace", "removeprefix", "lstrip", "split", "partition", "sub"):
            return True
        if isinstance(sub, ast.Subscript) and isinstance(sub.slice, ast.Slice):
            return True
        if isinstance(sub, ast.Call) and N.dotted(sub.func) in ("re.sub",):
            return True
    return False


def _const_truth(node: ast.AST | None) -> bool | None:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, (bool, int, type(None))):
            return bool(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        t = _const_truth(node.operand)
        return None if t is None else not t
    return None


def _is_main_guard(test: ast.expr) -> bool:
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and len(test.comparators) == 1 and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value == "__main__")


def _is_type_checking(test: ast.expr) -> bool:
    return N.dotted(test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")


def _call_func(expr: ast.expr) -> ast.expr:
    return expr.func if isinstance(expr, ast.Call) else expr


def _callee(node: ast.Call) -> ast.expr:
    f = node.func
    if isinstance(f, ast.Attribute) and f.attr in ("forward", "generate", "__call__", "eval", "train", "to", "cuda",
                                                   "parameters", "state_dict", "cpu", "half", "float"):
        return f.value
    return f


def _src_name(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except Exception:  # noqa: BLE001
        return "model"
    return text if len(text) <= 40 else text[:37] + "..."


def _head(node: ast.expr) -> str:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else ""


def _merge_out(outs) -> Out:
    fw: frozenset = frozenset()
    for o in outs:
        fw = fw | o.forwards
    return Out(fw)


def _any_tri(values) -> str:
    vals = list(values)
    if YES in vals:
        return YES
    if MAYBE in vals:
        return MAYBE
    return NO


def _worse(a: str, b: str) -> bool:
    order = {"no": 3, "cuda": 2, "maybe": 1, "yes": 0, "unknown": 0}
    return order.get(a, 0) > order.get(b, 0)


def _seed_display(q: str, node: ast.Call) -> str:
    return q


def _is_static(fn: ast.FunctionDef) -> bool:
    return any(N.dotted(d) == "staticmethod" for d in fn.decorator_list)


def _attrs_mode_changed_outside_init(cls: ast.ClassDef) -> set[str]:
    out = set()
    for item in cls.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name != "__init__":
            for sub in ast.walk(item):
                if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr in ("eval", "train"):
                    v = sub.func.value
                    if isinstance(v, ast.Attribute) and isinstance(v.value, ast.Name) and v.value.id == "self":
                        out.add(v.attr)
                if isinstance(sub, ast.Assign):
                    for t in sub.targets:
                        if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self":
                            out.add(t.attr)
    return out


def _local_module_class(q: str, ctx: ModuleCtx) -> bool:
    name = q.rsplit(".", 1)[-1]
    cls = ctx.classes.get(name)
    if cls is None or not q.startswith(ctx.module + "."):
        return False
    for b in cls.bases:
        bq = ctx.resolve(b)
        if bq and (bq in N.MODULE_BASES or N.torch_nn_layer(bq) is not None):
            return True
    return False


def _local_has_params(q: str, kw: dict) -> str:
    from .project import _layer_has_params

    layer = N.torch_nn_layer(q)
    return _layer_has_params(layer, kw) if layer else MAYBE


def _local_mode_dep(q: str, kw: dict) -> str:
    from .project import _layer_mode_dependent

    layer = N.torch_nn_layer(q)
    return _layer_mode_dependent(layer, kw) if layer else MAYBE


# ============================================================================ entry points
RELEVANT_ATTRS = frozenset({"eval", "train", "load_state_dict", "state_dict", "from_pretrained", "from_config",
                            "backward", "forward", "generate", "load", "save", "seed_everything", "set_seed",
                            "manual_seed", "manual_seed_all", "spawn", "module", "step", "no_grad",
                            "inference_mode", "set_grad_enabled", "to", "cuda", "parameters"})
RELEVANT_ROOTS = ("torch", "lightning", "pytorch_lightning", "transformers", "accelerate", "timm", "torchvision",
                  "fire", "absl", "typer", "multiprocessing", "numpy.random", "random")


STRONG_ATTRS = frozenset({"eval", "train", "load_state_dict", "state_dict", "from_pretrained", "from_config",
                          "backward", "generate", "load", "save", "seed_everything", "set_seed", "manual_seed",
                          "manual_seed_all", "spawn", "no_grad", "inference_mode", "set_grad_enabled"})


def _argparse_defaults(tree: ast.Module) -> dict[str, str]:
    from .project import _argparse_dest

    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument":
            dest, default = _argparse_dest(node)
            if dest and default is not None:
                out[dest] = default
    return out


def _relevance(ctx: ModuleCtx, strong: bool = False) -> set[str]:
    """Functions (``f``) and methods (``Class.m``) of a module that touch what the rules track, directly or
    through the module's other functions."""
    direct: set[str] = set()
    calls: dict[str, set[str]] = {}
    units: list[tuple[str, ast.AST, ast.ClassDef | None]] = [(n, f, None) for n, f in ctx.functions.items()]
    for cname, c in ctx.classes.items():
        for item in c.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                units.append((f"{cname}.{item.name}", item, c))
    for key, fn, cls in units:
        methods = {i.name for i in cls.body if isinstance(i, (ast.FunctionDef, ast.AsyncFunctionDef))} if cls else set()
        params = {a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs}
        out: set[str] = set()
        hit = any(_relevant_q(ctx.resolve(d.func if isinstance(d, ast.Call) else d)) for d in fn.decorator_list)
        for sub in ast.walk(fn):
            if hit:
                break
            if isinstance(sub, ast.Expr) and isinstance(sub.value, ast.Attribute) and sub.value.attr in ("eval", "train"):
                hit = True
            elif isinstance(sub, ast.withitem):
                hit = _relevant_q(ctx.resolve(_call_func(sub.context_expr)))
            elif isinstance(sub, ast.Call):
                f = sub.func
                if isinstance(f, ast.Attribute):
                    if f.attr in (STRONG_ATTRS if strong else RELEVANT_ATTRS):
                        hit = True
                    elif isinstance(f.value, ast.Name) and f.value.id in ("self", "cls") and cls is not None:
                        if f.attr in methods:
                            out.add(f"{cls.name}.{f.attr}")
                        elif not strong:
                            hit = True  # self.model(x): an attribute called, maybe a forward
                    else:
                        q = ctx.resolve(f)
                        hit = (q is not None and (q in N.SEED_CALLS or q in N.CUDA_SEEDS or q in N.OTHER_SEEDS or q in N.TORCH_LOAD
                                                  or q in N.TORCH_SAVE or q in N.SET_GRAD or N.is_builder(q))) \
                            if strong else _relevant_q(q)
                elif isinstance(f, ast.Name):
                    if f.id in params and not strong:
                        hit = True
                    elif f.id in ctx.functions:
                        out.add(f.id)
                    elif f.id in ctx.classes:
                        out.add(f"{f.id}.__init__")
                        hit = _local_module_class(f"{ctx.module}.{f.id}", ctx) or any(
                            _relevant_q(ctx.resolve(b)) for b in ctx.classes[f.id].bases)
                    else:
                        q = ctx.resolve(f)
                        if strong:
                            hit = q is not None and (q in N.SEED_CALLS or q in N.CUDA_SEEDS or q in N.OTHER_SEEDS or q in N.TORCH_LOAD
                                                     or q in N.TORCH_SAVE or q in N.SET_GRAD or N.is_builder(q)
                                                     or q.startswith(("torch.nn.", "torch.multiprocessing."))
                                                     or (ctx.project is not None
                                                         and ctx.project.is_module_class(q, ctx.here)))
                        else:
                            hit = _relevant_q(q) or (q is not None and ctx.project is not None
                                                     and ctx.project.locate(q, ctx.here) is not None)
                elif isinstance(f, ast.Call):
                    hit = not strong
        if hit:
            direct.add(key)
        calls[key] = out
    relevant = set(direct)
    changed = True
    while changed:
        changed = False
        for key, out in calls.items():
            if key not in relevant and out & relevant:
                relevant.add(key)
                changed = True
    return relevant


def _relevant_q(q: str | None) -> bool:
    if not q:
        return False
    return q.split(".", 1)[0] in RELEVANT_ROOTS or q.startswith("numpy.random.") or q in N.SEED_CALLS


def analyze_module(source: str, tree: ast.Module, path: str | None, settings: Settings) -> FileFacts:
    project = project_for(path, settings) if path else None
    if project is not None:
        with project.recording() as deps:
            if path:
                project.record_for_path(str(Path(path).resolve()), source, tree)
            ctx = ModuleCtx(path, tree, project, linted=True)
            walker = Walker(ctx, settings)
            walker.run()
        deps.pop(str(Path(path).resolve()), None)
        project.last_deps = deps
    else:
        ctx = ModuleCtx(path, tree, None, linted=True)
        walker = Walker(ctx, settings)
        walker.run()
    return FileFacts(path, list(walker.events.values()), settings)


def collect_saves(project: Project, path: str, tree: ast.Module) -> list[dict]:
    """The torch.save sites of one project file (for the index), found by walking it like a lint."""
    ctx = ModuleCtx(path, tree, project, linted=True)
    walker = Walker(ctx, project.settings, collect_saves=True)
    walker._save_sites = []  # saves never need other saves: no recursion into the project scan
    try:
        walker.run()
    except RecursionError:
        return []
    seen = set()
    out = []
    for s in walker.saves:
        key = json_key(s)
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


def json_key(d: dict) -> str:
    import json

    return json.dumps(d, sort_keys=True, default=str)
