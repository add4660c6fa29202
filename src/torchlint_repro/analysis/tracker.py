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
import operator
import os
from collections.abc import Callable
from types import MappingProxyType
from typing import Any, TypeVar

from ..config import Settings
from . import names as N
from .calls import CallsMixin, forget_mapping, grown_list, optimizer_like, overwrite_init, sampled
from .context import (
    EMPTY,
    ENTRY_DECORATORS,
    FILE_STEP_GUARD,
    MAX_LOOP_PASSES,
    NESTED_LOOP_PASSES,
    STEP_BUDGET,
    Event,
    Frame,
    ModuleCtx,
)
from .loads import LoadsMixin, json_key
from .names import MAYBE
from .paths import path_template
from .project import RANDOM_TENSORS, Project, param_writes
from .state import State, become, join, join_all, leave_no_grad_region, recording_bound
from .syntax import (
    INERT_KINDS,
    FunctionNode,
    Located,
    call_func,
    called_names,
    const_truth,
    head_name,
    inert_statement,
    is_load_state_dict,
    is_main_guard,
    is_routed,
    is_type_checking,
    local_module_class,
    local_reads,
    merge_out,
    reads_grad,
    src_name,
    strips_prefix,
)
from .values import (
    ENTRY,
    EVAL,
    TRAIN,
    UNKNOWN,
    ClassRef,
    DictVal,
    FuncRef,
    Instance,
    Lit,
    LitStr,
    Loaded,
    LoadedItem,
    LoadKeys,
    LoadResult,
    Model,
    ModuleRef,
    Out,
    StateDict,
    Str,
    TupleVal,
    in_order,
    join_values,
)

T = TypeVar("T")


class Walker(CallsMixin, LoadsMixin):
    def __init__(self, ctx: ModuleCtx, settings: Settings, collect_saves: bool = False) -> None:
        self.root_ctx = ctx
        self.settings = settings
        self.project = ctx.project
        self.collect_saves = collect_saves
        self.events: dict[tuple, Event] = {}
        self.saves: list[dict] = []
        self.frames: list[Frame] = []
        self.ever_trained: set = set()  # models a training step ran on, in any walk (muted ones too)
        self.handlers: set[int] = set()  # ids of functions a web framework or UI calls (routes, callbacks)
        self.iter_tag = ""  # which iteration of an unrolled literal loop is walked (see _unrolled)
        self.iteration: tuple | None = None  # (name, value, line) of the innermost one, for messages
        self.current_root: tuple | None = None  # the uncalled function being walked as an entry point
        self.mute = 0
        self.importing = 0  # walking a module as a spawned child imports it: its __main__ block does not run
        self.empty_device = 0  # inside `with torch.device("meta"):`: modules built have no values, draw nothing
        # answers of _reaches_walkable: known from a previous lint of the file (with the files they read), and
        # learned by this one (that read none of the linted text); see program.analyze
        self.reach_known: dict[str, bool] = {}
        self.reach_known_deps: dict[str, str] = {}
        self.reach_known_noted = False
        self.reach_learned: dict[str, bool] = {}
        self.reach_learned_deps: dict[str, str] = {}
        self.steps = 0
        # the arms around the statement walked: (id of an `if`, 0 body / 1 else), (id of a `try`, 0 its body and
        # else / 1 a handler of a missing key)
        self.arms: list[tuple[int, int]] = []
        # the most statements one entry point walked (an edit may add a few: see edits.quiet_room)
        self.max_steps = 0
        # (path, function) -> the most walks in place from one entry point of a function it calls in place
        self.direct_inlines: dict[tuple[str, str], int] = {}
        self.direct_calls: dict[tuple[str, str], set] = {}  # this entry point's: caller -> its callees' keys
        # (path, function) -> the fewest passes its loops had left under their bound, on any walk
        self.loop_slack: dict[tuple[str, str], int] = {}
        # a walk hit a bound an edit's statements may move (statements walked, Python's stack), or read a
        # function whose file changed: no edit of the file is judged to walk alike (see edits.quiet_room)
        self.hard_widened = False
        # (path, function) whose text a rule read past what the walks read (a scan for reports, for reads of
        # parameters' values, a helper looked into): ("", "*") for one it could not name
        self.text_read: set[tuple[str, str]] = set()
        # (path, function) -> names whose reads a rule looked for all over it (see _note_scan)
        self.scanned_in: dict[tuple[str, str], set[str]] = {}
        # the names every walk of this walker bound to something tracked, in any frame (see state.note_bound)
        self.bound: set[str] = set()
        self.seq = 0
        self.reached: set[tuple[str, str]] = set()  # (path, function) walked from some entry point
        # lines of the root file's statements some walk read (walked, or a function looked into): an edit
        # elsewhere in the file cannot change what the walks found (see edits.py)
        self.read_lines: set[int] = set()
        # (path, function) of every body some walk read, in any file: entered (reported, muted, through
        # the object model or a summary) or looked into. Another file's walk that read a function of the
        # linted file says so here (see program.py, edits.py)
        self.entered: set[tuple[str, str]] = set()
        # names whose reads a rule looked for all over the linted file's module (see CallsMixin._note_scan)
        self.scanned_names: set[str] = set()
        self.spawned: list[tuple[ModuleCtx, FunctionNode]] = []
        # id(worker function) -> (site chain, name) of the parent's last torch seed before it started the
        # worker (a seed that stays in the parent: the message of a build in the worker names it)
        self.parent_seeds: dict[int, tuple[tuple, str]] = {}
        self.infer_patterns = tuple(settings.inference_functions)
        self.seed_funcs = frozenset(settings.seed_functions)
        self._save_sites: list[dict] | None = None
        self._memo: dict = {}
        self.total_steps = 0
        # the program updates parameters somewhere: an optimizer's `.step()` (`scaler.step(opt)`), or an
        # in-place update from gradients (`p -= lr * p.grad`). Without it, and with no optimizer built, a
        # backward only computes gradients to read (a saliency map, a gradient check): no training step
        # (see loads.py's _finish_root). Kept for the walker's life: any entry point's evidence counts
        self.updates = False
        # the commands a bare `fire.Fire()` of the module level exposes, with the state it reached them in
        self.commands: list[tuple[FunctionNode, State]] = []
        # where a bound made the analysis widen: (path, function, why); see ``widen``
        self.widened: list[tuple[str | None, str, str]] = []
        self.over_budget = False
        self.inline_counts: dict = {}
        self._summaries: dict = {}
        # id(function node) -> (node, local_reads(node)): which of its statements are inert (see stmt)
        self._local_reads: dict[int, tuple[ast.AST, frozenset[str] | None]] = {}
        self._summarizing: set = set()
        # module path -> its globals as the walk left them to call into another module (see _call_function)
        self._left_globals: dict[str | None, dict] = {}
        self._reset_root()

    # ================================================================== entry points
    def _reset_root(self) -> None:
        self.seed_calls: list[tuple[int, tuple, str]] = []  # (seq, site chain, name)
        self.seed_arms: dict[int, tuple] = {}  # seq of a seed call -> the arms it ran in (see ``arms``)
        self.other_seeds: list[tuple[int, tuple, str]] = []
        self.builds: dict[str, dict] = {}
        self.loaded_uses: list[tuple[Loaded, str | None, int, int, str, str]] = []
        self.mapping_use: dict[str, set] = {}
        # site -> {(key, arms)}: the keys read of a loaded object, with the `if` arms the read was in (see
        # Walker.arms): a read in one arm of an `if`/`elif` (or a `try`) says nothing of a load in another one
        self.mapping_arms: dict[str, set] = {}
        self.load_calls: list[dict] = []
        self.load_results: dict[str, dict] = {}
        self.read_results: set[str] = set()
        self.checked_loads: set[str] = set()
        self.key_filtered: set[str] = set()  # loads filtered to a model's own keys (see e_DictComp)
        self.tentative: dict = {}
        self.candidates: dict = {}  # unregioned forwards in training mode: (site, model id) -> (key, event, model id)
        self.trained_sites: set = set()  # forwards whose output reached a training step
        self.sampled_sites: set = set()  # forwards whose output was looked at (saved, logged, numbers)
        self.loaded_ids: set = set()  # models whose weights were restored
        self.trained_ids: set = set()  # models trained in this entry point
        self.root_trains = False  # some training step ran in this entry point
        self.module_evidence: set = set()  # objects of unreadable classes used as modules
        self.root_events: list[tuple[tuple, Event]] = []
        self.region_reports: set = set()
        self.frozen: dict = {}  # model id -> whether its parameters are frozen (requires_grad False)
        # per optimizer: the model ids it holds the parameters of (None: unknown), and the names of the other
        # tensors it holds (`SGD([image])`)
        self.optimizers: list[tuple[frozenset | None, frozenset[str]]] = []
        self.forward_inputs: set[str] = set()  # names the inputs of this entry point's forwards read
        self.eval_steps: list = []  # training forwards in eval mode: reported if the model is trained
        self.spawn_parent: tuple[tuple, str] | None = None  # the parent's seed, in a spawned worker's walk
        # model id -> the models handed to its constructor (`Wrapper(backbone, head)`): its submodules, so a
        # strict load of it overwrites theirs too
        self.held: dict[str, set[str]] = {}
        # model id -> the models it was handed, when only they can make its mode matter (a sampler wrapping a
        # network: its own class has no dropout/batch-norm): a forward of it runs in their modes
        self.mode_via_held: dict[str, set[str]] = {}
        # functions walked for the project code worth walking they run (a subclass's override, a function of a
        # third module; see _reaches_walkable): by id, while their nodes are pinned with their module's context
        self._dispatched: set[int] = set()

    def run(self, module_only: bool = False) -> None:
        """Walk the module's entry points; what they found stays (``events``, ``saves``, ``reached``,
        ``entered``, ``read_lines``, ``scanned_names``, ``widened``), what only walking needed is let go."""
        try:
            with recording_bound(self.bound):
                self._run(module_only)
        finally:
            self._release()

    def _release(self) -> None:
        """Drop what a finished walk kept only to walk: the inline memo (a state key and an exit state per
        call walked), the answers kept per node, summaries, the last entry point's structures and state.
        An analysis walks the programs of the file's callers after its own (program.py): they reuse this
        memory instead of adding to the peak (yolov5 ``train.py``: 1.8 MB of an editor lint's 43.5)."""
        self._memo = {}
        self._local_reads = {}
        self._summaries = {}
        self._left_globals = {}
        self.inline_counts = {}
        self.final_state = None
        self.frames = []
        self._reset_root()

    def _run(self, module_only: bool) -> None:
        ctx = self.root_ctx
        st = State()
        st.globals = st.locals
        self._root(lambda: self._walk_module(ctx, st))
        module_end, module_trained = self.final_state, frozenset(self.trained_ids)
        self._walk_handlers(ctx, module_end)
        self._walk_commands(ctx)
        self._continue_instances(ctx, module_end, module_trained)
        if module_only:
            # the module's programs: its top level, and the functions its packaging declares as scripts
            for fn in {id(f): f for f in ctx.functions.values()}.values():
                if self._is_script(ctx, fn) and (ctx.path or "", fn.name) not in self.reached:
                    self.current_root = (ctx.path or "", fn.name)
                    self._root(lambda fn=fn: self._walk_function_root(ctx, fn, None, fresh_process=True))
                    self.current_root = None
            seen_spawn = 0
            while seen_spawn < len(self.spawned):
                sctx, sfn = self.spawned[seen_spawn]
                seen_spawn += 1
                self._root(lambda sctx=sctx, sfn=sfn: self._walk_spawned(sctx, sfn))
            return
        # functions the module level never reached: judged on their own, with what we know of callers
        pending: list[tuple[ModuleCtx, FunctionNode, ast.ClassDef | None]] = [
            (ctx, fn, None) for fn in {id(f): f for f in ctx.functions.values()}.values()
        ]
        for cdef in {id(c): c for c in ctx.classes.values()}.values():
            for item in cdef.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    pending.append((ctx, item, cdef))
        seen_spawn = 0
        while seen_spawn < len(self.spawned):
            sctx, sfn = self.spawned[seen_spawn]
            seen_spawn += 1
            self._root(lambda sctx=sctx, sfn=sfn: self._walk_spawned(sctx, sfn))
        called = called_names(ctx.tree)
        pending.sort(key=lambda item: item[1].name in called)  # functions nobody calls first: they reach the rest
        for fctx, fn, cls in pending:
            if (fctx.path or "", self._fname(fn, cls)) in self.reached or not fctx.relevant(fn, cls):
                continue
            if self.collect_saves and not fctx.may_save(fn, cls):
                continue  # the save-site scan: only what may reach a save
            if cls is not None and self._class_is_module(fctx, cls) and not fctx.strongly_relevant(fn, cls):
                continue  # a model's own forward helpers: nothing to judge
            self.current_root = (fctx.path or "", self._fname(fn, cls))
            self._root(lambda fctx=fctx, fn=fn, cls=cls: self._walk_function_root(fctx, fn, cls))
            self.current_root = None
            while seen_spawn < len(self.spawned):
                sctx, sfn = self.spawned[seen_spawn]
                seen_spawn += 1
                self._root(lambda sctx=sctx, sfn=sfn: self._walk_spawned(sctx, sfn))

    @staticmethod
    def _fname(fn: FunctionNode, cls: ast.ClassDef | None) -> str:
        return f"{cls.name}.{fn.name}" if cls is not None else fn.name

    def _root(self, body) -> None:
        self._reset_root()
        self.steps = 0
        self.arms = []
        # a file whose entry points together walked past the guard: the rest are walked summarised
        self.over_budget = self.total_steps > FILE_STEP_GUARD
        self.inline_counts = {}
        try:
            self.final_state = body()
        except RecursionError:
            # nested deeper than Python lets us follow: what was found so far stands, the rest is unknown
            self.final_state = None
            self.frames.clear()
            self.mute = 0
            self.hard_widened = True
            self.widen(self.root_ctx.path, "<entry point>", "code nested too deeply to follow")
        self.total_steps += self.steps
        self.max_steps = max(self.max_steps, self.steps)
        for by, keys in self.direct_calls.items():
            most = max((self.inline_counts.get(k, 0) for k in keys), default=0)
            if most > self.direct_inlines.get(by, 0):
                self.direct_inlines[by] = most
        self.direct_calls = {}
        self._finish_root()
        for key, ev in self.root_events:
            merge_event(self.events, key, ev)

    def _walk_handlers(self, ctx: ModuleCtx, module_end: State | None) -> None:
        """Functions a web framework or a UI calls once the module is loaded (`@app.post("/predict")`,
        `@app.route`, `gr.Interface(fn=classify)`): each request runs them with what the module level
        left, the model it built and restored; they serve predictions, so their forwards are inference."""
        handlers = handler_functions(ctx)
        if not handlers or module_end is None:
            return
        self.handlers |= {id(fn) for fn in handlers}
        for fn in handlers:
            if (ctx.path or "", fn.name) in self.reached:
                continue
            self.current_root = (ctx.path or "", fn.name)
            self._root(lambda fn=fn: self._walk_after_module(ctx, fn, None, EMPTY, module_end))
            self.current_root = None

    def _walk_commands(self, ctx: ModuleCtx) -> None:
        """The commands `fire.Fire()` exposes (see CallsMixin._fire_commands): each an entry point that starts
        where the module level called it, as one command line runs it."""
        for fn, state in self.commands:
            if (ctx.path or "", fn.name) in self.reached:
                continue
            self.reached.add((ctx.path or "", fn.name))
            self.current_root = (ctx.path or "", fn.name)
            self._root(lambda fn=fn, state=state: self._walk_after_module(ctx, fn, None, EMPTY, state))
            self.current_root = None

    def _continue_instances(self, ctx: ModuleCtx, module_end: State | None, trained: frozenset) -> None:
        """The public methods of the objects a program leaves behind (`trainer = Trainer(G, D, ...);
        trainer.train(...)`), that no program calls: an API a user calls next (`trainer.sample(64)`). Each is
        walked from the state the program ended in, its object as the program left it (the models it
        built and trained, in the modes it left them)."""
        if module_end is None:
            return
        instances = sorted(
            {v for vals in module_end.globals.values() for v in vals if isinstance(v, Instance)},
            key=lambda v: in_order(v.id),
        )
        if len(instances) > MAX_CONTINUED:
            self.widen(
                ctx.path,
                "<module>",
                f"{len(instances)} objects left by the program: the methods of the first "
                f"{MAX_CONTINUED} are walked after it, those of the rest are not",
            )
        self.frames.append(Frame(ctx, "<module>", node=ctx.tree))
        try:
            found = [(v, self._find_method(v.cls, "__init__")) for v in instances[:MAX_CONTINUED]]
        finally:
            self.frames.pop()
        for inst, hit in found:
            if hit is None:
                continue
            mctx, _, cls = hit
            if cls is None:
                continue
            for m in cls.body:
                if (
                    not isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))
                    or m.name.startswith("_")
                    or (mctx.path or "", self._fname(m, cls)) in self.reached
                    or not mctx.relevant(m, cls)
                ):
                    continue
                self.current_root = (mctx.path or "", self._fname(m, cls))
                self._root(
                    lambda m=m, mctx=mctx, cls=cls, inst=inst: self._walk_after_module(
                        mctx, m, cls, frozenset({inst}), module_end, trained
                    )
                )
                self.current_root = None

    def _walk_after_module(
        self,
        ctx: ModuleCtx,
        fn: FunctionNode,
        cls: ast.ClassDef | None,
        self_val: frozenset,
        module_end: State,
        trained: frozenset = frozenset(),
    ) -> State | None:
        """Walk ``fn`` (a handler, or a method of an object the program left) as a root that starts where the
        module level ended: its models, their modes and what it trained; the module's globals when ``fn``
        is of this module."""
        self.trained_ids |= trained
        st = module_end.copy()
        st.globals = dict(module_end.globals) if ctx is self.root_ctx else {}
        st.locals = {}
        args = self._param_values(ctx, fn, cls, st, root=True)
        self._call_function(ctx, fn, cls, args, {}, st, self_val, root=True)
        return st

    def widen(self, path: str | None, func: str, why: str) -> None:
        """Record that a bound made the analysis give up precision (never findings) here. A line of
        ``path`` that ``why`` names is spelled ``at line N``: an edited file's stored notes move it
        (edits.py)."""
        entry = (path, func, why)
        if entry not in self.widened:
            self.widened.append(entry)

    def save_sites(self) -> list[dict]:
        """Every torch.save of the project (see ``Project.save_sites``): each file's found by walking it
        with :func:`collect_saves`."""
        if self._save_sites is None:
            self._save_sites = self.project.save_sites(collect_saves) if self.project is not None else []
        return self._save_sites

    def _walk_module(self, ctx: ModuleCtx, st: State) -> State | None:
        self.frames.append(Frame(ctx, "<module>", node=ctx.tree))
        try:
            return self.block(ctx.tree.body, st)
        finally:
            self.frames.pop()

    def _walk_function_root(
        self,
        ctx: ModuleCtx,
        fn: FunctionNode,
        cls: ast.ClassDef | None,
        fresh_process: bool = False,
        start: tuple[str, str] | None = None,
    ) -> State:
        st = State()
        st.globals = {}
        entry = fresh_process or self._is_entry_decorated(ctx, fn)
        st.seed = "no" if entry else "unknown"
        if start is not None:  # what the new process ran before the function: see _walk_spawned
            st.seed, st.cuda = start
        self_val: frozenset = EMPTY
        module_method = False
        if cls is not None:
            module_method = self._class_is_module(ctx, cls)
            inst_id = f"{ctx.path}:{cls.name}:self"
            if module_method:
                self_val = frozenset(
                    {
                        Model(
                            inst_id,
                            f"{ctx.module}.{cls.name}",
                            origin="param",
                            name="self",
                            mode_dep=self._mode_dep(f"{ctx.module}.{cls.name}", ctx),
                            lightning=self._is_lightning(f"{ctx.module}.{cls.name}", ctx),
                        )
                    }
                )
                st.modes[inst_id] = frozenset({ENTRY})
            else:
                self_val = frozenset({Instance(inst_id, f"{ctx.module}.{cls.name}")})
                if fn.name != "__init__":
                    self._init_instance_attrs(ctx, cls, inst_id, st)
        args = self._param_values(ctx, fn, cls, st, root=True)
        self._call_function(ctx, fn, cls, args, {}, st, self_val, module_method=module_method, root=True)
        return st

    def _walk_spawned(self, ctx: ModuleCtx, fn: FunctionNode) -> State:
        """A worker started in a new process (`mp.spawn(worker)`, `Process(target=worker)`). Under the spawn
        and forkserver start methods the child is a fresh interpreter that imports the program's main module
        (as ``__mp_main__``: its ``__main__`` block does not run) and the worker's module, then calls the
        worker: a seed at module level reaches it, one in ``main()`` or the ``__main__`` block does not.
        (Under fork the child inherits the parent's generator as it is at ``start()``, past the module level
        too: a module-level seed reaches the worker under every start method.)"""
        self.spawn_parent = self.parent_seeds.get(id(fn))
        return self._walk_function_root(ctx, fn, None, fresh_process=True, start=self._child_import(ctx))

    def _child_import(self, worker_ctx: ModuleCtx) -> tuple[str, str]:
        """(seed, cuda) of a spawned child once it has imported the program's main module and the worker's
        module: their module levels walked muted, as an import (``if __name__ == "__main__"`` not taken)."""
        key = ("child-import", id(self.root_ctx), id(worker_ctx))
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        self._memo[key] = ("no", "no")  # a worker spawned while its own module is imported: nothing yet
        reached, spawned, frames = set(self.reached), list(self.spawned), self.frames
        st: State | None = State()
        self.mute += 1
        self.importing += 1
        self.frames = []
        try:
            for mctx in dict.fromkeys((self.root_ctx, worker_ctx)):
                if st is None:
                    break
                fresh = State()  # each module its own globals; the generator is the process's
                fresh.globals = fresh.locals
                fresh.seed, fresh.cuda = st.seed, st.cuda
                st = self._walk_module(mctx, fresh)
        finally:
            self.mute -= 1
            self.importing -= 1
            self.reached, self.spawned, self.frames = reached, spawned, frames
        # a module level that ends in no path (it raises, or exits) never calls the worker: nothing is known
        result = (st.seed, st.cuda) if st is not None else ("no", "no")
        self._memo[key] = result
        return result

    def _init_instance_attrs(self, ctx: ModuleCtx, cls: ast.ClassDef, inst_id: str, st: State) -> None:
        """The object model of a class's instance, for a method nobody in the file calls: its attributes
        are what ``__init__`` left, joined with what every method of the class leaves them in (a method may
        run after any other). So ``self.G`` built in ``__init__`` or ``setup()`` is in training mode when
        ``sample()`` starts unless some method puts it in eval mode, and maybe in training mode when one
        method calls ``self.G.eval()`` and another ``self.G.train()``."""
        entry = self._class_entry(ctx, cls, inst_id)
        # models another method of the class trains (fit() trains self._generator): their outputs looked at
        # here are a trained model's samples, as when one program trains and then samples
        self.trained_ids |= self._memo.get(("class-trained", id(ctx), cls.name), frozenset())
        mine = {key: vals for key, vals in entry.attrs.items() if key[0] == inst_id}
        st.with_attrs(mine)
        for vals in mine.values():
            for v in vals:
                if isinstance(v, Model):
                    st.modes[v.id] = entry.mode(v.id)
                    st.mode_src[v.id] = entry.mode_src.get(v.id, EMPTY)
        st.seed = "unknown"

    def _class_entry(self, ctx: ModuleCtx, cls: ast.ClassDef, inst_id: str) -> State:
        key = ("class-entry", id(ctx), cls.name)
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        self._memo[key] = _empty_state()  # a method that builds another instance of the class sees nothing
        inst = frozenset({Instance(inst_id, f"{ctx.module}.{cls.name}")})
        methods = [
            m
            for m in cls.body
            if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and m.name != "__init__" and ctx.relevant(m, cls)
        ]
        self.mute += 1
        trained_before = set(self.ever_trained)
        try:
            state = _empty_state()
            init = ctx.method(cls.name, "__init__")
            if init is not None:
                self._call_function(
                    ctx, init, cls, self._param_values(ctx, init, cls, state, root=True), {}, state, inst
                )
            state = self._built_outside(ctx, cls, inst_id, state)
            # the modes the instance's attributes are built in keep where they came from; the modes other
            # methods leave them in do not (a `.train()` in train_epoch() is no deliberate choice of sample()),
            # and a mode that only the join of other methods makes possible is marked "joined": enough to
            # report an inference that may run in training mode, not a training step that may run in eval
            # mode (nobody evaluates before training starts)
            for _ in range(2):  # a method may run after one that set the attributes up (setup(), then train())
                exits = [state]
                for m in methods:
                    sub = state.copy()
                    self._call_function(ctx, m, cls, self._param_values(ctx, m, cls, sub, root=True), {}, sub, inst)
                    for mid in set(sub.mode_src) | set(sub.modes):
                        if sub.mode_src.get(mid) != state.mode_src.get(mid):
                            sub.mode_src[mid] = state.mode_src.get(mid, EMPTY)
                    exits.append(sub)
                joined = join_all(exits)
                if joined is None or joined.key() == state.key():
                    break
                for mid, modes in joined.modes.items():
                    if modes != state.modes.get(mid):
                        joined.mode_src[mid] = joined.mode_src.get(mid, EMPTY) | {("joined", 0, None)}
                state = joined
        finally:
            self.mute -= 1
        self._memo[key] = state
        self._memo[("class-trained", id(ctx), cls.name)] = frozenset(self.ever_trained - trained_before)
        return state

    def _built_outside(self, ctx: ModuleCtx, cls: ast.ClassDef, inst_id: str, built: State) -> State:
        """The object as it leaves the code that builds it, for a method nobody calls: ``built`` (what
        ``__init__`` leaves) unless every place of the project that refers to the class is a function, and
        those that build it return the object (factories: CodeFormer's ``init_yolov5face_model`` builds a
        ``YoloDetector``, loads its detector, puts it in eval mode and returns it). Then it is the join of
        the objects those functions return, each walked muted from an unknown caller: eval mode when every
        factory leaves the model in eval mode on every path, *maybe* when one does on some path only. A
        place that refers to the class otherwise (module-level code, a method, a registry), or builds it and
        keeps it, may hand out an object as ``__init__`` left it: ``built`` is joined in. Past
        MAX_FACTORIES functions (or a name spelled in too many files), ``built`` alone, noted as a widening."""
        if self.project is None or ctx.path is None or self.collect_saves:
            return built
        qual = f"{ctx.module}.{cls.name}"
        units = self.project.referring_units(ctx.path, cls.name)
        if units is not None and len(units) > MAX_FACTORIES:
            units = None
        if units is None:
            self.widen(
                ctx.path,
                cls.name,
                "the class is referred to in too many places to follow: its methods start from what __init__ leaves",
            )
            return built
        found: list[tuple[ModuleCtx, FunctionNode]] = []
        for path, unit in units:
            fctx = self._ctx_for_path(path)
            fn = fctx.functions.get(unit) if fctx is not None and "." not in unit else None
            if fctx is None or fn is None:
                return built  # module-level code, a method, a class: it may hand out the object as built
            shape = self._factory_shape(fctx, fn, qual)
            if shape == "keeps":
                return built  # it builds one and does not return it as such: its object is another's
            if shape == "returns":
                found.append((fctx, fn))
        starts: list[State] = []
        self.mute += 1
        try:
            for fctx, fn in found:
                st = _empty_state()
                st.seed = "unknown"
                args = self._param_values(fctx, fn, None, st, root=True)
                returned = self._call_function(fctx, fn, None, args, {}, st, EMPTY)
                objs = [v for v in returned if isinstance(v, Instance) and v.cls == qual]
                if not objs:
                    return built  # it builds one and keeps it (or returns something else too)
                for obj in objs:
                    start = st.copy()
                    start.locals, start.globals = {}, {}
                    start.attrs = MappingProxyType(
                        {(inst_id if oid == obj.id else oid, attr): vals for (oid, attr), vals in st.attrs.items()}
                    )
                    starts.append(start)
        finally:
            self.mute -= 1
        if not starts:
            return built  # built nowhere we can see (a registry, a config): as __init__ leaves it
        joined = join_all(starts)
        return joined if joined is not None else built

    def _factory_shape(self, ctx: ModuleCtx, fn: FunctionNode, qual: str) -> str:
        """How ``fn`` relates to the class ``qual``, by its syntax: "none" (it builds none: a type check, an
        annotation), "returns" (it returns what it built: `return C(...)`, or `return x` with `x = C(...)`
        somewhere in it; walked to see the object it returns), "keeps" (it builds one and returns no such
        name: `main()` that builds a saver and trains; not walked)."""
        built: set[str] = set()
        calls_it = False  # (every call is a node of the walk: one in an assignment or a return too)
        returns: list[ast.expr] = []
        for stmt in fn.body:
            for n in N.subtree(stmt):
                if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call):
                    if self.resolve_in(ctx, n.value.func) == qual:
                        built.update(t.id for t in n.targets if isinstance(t, ast.Name))
                elif isinstance(n, ast.Return) and n.value is not None:
                    returns.append(n.value)
                elif isinstance(n, ast.Call) and self.resolve_in(ctx, n.func) == qual:
                    calls_it = True
        if not calls_it:
            return "none"
        for r in returns:
            if (isinstance(r, ast.Name) and r.id in built) or (
                isinstance(r, ast.Call) and self.resolve_in(ctx, r.func) == qual
            ):
                return "returns"
        return "keeps"

    def _is_entry_decorated(self, ctx: ModuleCtx, fn: FunctionNode) -> bool:
        """Does ``fn`` start a program: a CLI command (click, hydra, typer) or a declared console script?"""
        if self._is_script(ctx, fn):
            return True
        for d in fn.decorator_list:
            target = d.func if isinstance(d, ast.Call) else d
            q = ctx.resolve(target) or N.dotted(target) or ""
            if q.startswith(ENTRY_DECORATORS) or q.endswith((".command", ".main")) and ("click" in q or "hydra" in q):
                return True
        return False

    def _is_script(self, ctx: ModuleCtx, fn: FunctionNode) -> bool:
        return (
            self.project is not None
            and ctx.module is not None
            and ctx.functions.get(fn.name) is fn
            and self.project.is_script_entry(ctx.module, fn.name)
        )

    def _class_is_module(self, ctx: ModuleCtx, cls: ast.ClassDef) -> bool:
        for b in cls.bases:
            q = ctx.resolve(b)
            if q and self._is_module_class(q, ctx):
                return True
        return False

    # ================================================================== events
    def pos(self, node: Located) -> tuple[int, int]:
        return node.lineno, node.col_offset

    @property
    def path(self) -> str | None:
        """The file of the code being walked (an event's true place)."""
        return self.frames[-1].ctx.path if self.frames else self.root_ctx.path

    def via(self) -> tuple | None:
        """The call, in another file, that reached the code being walked: (path, line), or None when the
        code runs from an entry point of its own file."""
        here = self.path
        call = None
        for f in reversed(self.frames):
            if f.ctx.path != here:
                return call
            call = f.call
        return None

    def emit(self, kind: str, node: Located, **data: Any) -> None:
        if self.mute:
            return
        line, col = self.pos(node)
        self.emit_at(kind, self.path, line, col, **data)

    def emit_at(self, kind: str, path: str | None, line: int, col: int, **data: Any) -> None:
        if self.mute:
            return
        if "via" not in data and path == self.path:
            data["via"] = self.via()
        data.setdefault("root", self.current_root)
        key = (kind, path, line, col, data.get("dedupe"))
        self.root_events.append((key, Event(kind, line, col, data, path)))

    # ================================================================== statements
    def block(self, stmts: list[ast.stmt], st: State | None) -> State | None:
        for s in stmts:
            if st is None:
                return None
            st = self.stmt(s, st)
        return st

    def stmt(self, node: ast.stmt, st: State) -> State | None:
        if isinstance(node, INERT_KINDS) and self._inert(node):
            return st  # no path can observe it: not a step, not a read line (see syntax.inert_statement)
        self.steps += 1
        if self.frames and self.frames[-1].ctx.path == self.root_ctx.path:
            self.read_lines.add(node.lineno)
        if self.steps > STEP_BUDGET and not self.over_budget:
            self.over_budget = True  # from here on calls are applied through their summaries
            self.hard_widened = True
            self.widen(
                self.path,
                self.frames[-1].func if self.frames else "<module>",
                f"more than {STEP_BUDGET} statements from one entry point: later calls are summarised",
            )
        method = _STMT_HANDLERS.get(type(node), _UNSET)
        if method is _UNSET:
            method = _STMT_HANDLERS[type(node)] = getattr(Walker, "s_" + type(node).__name__, None)
        if method is None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.ev(child, st)
            return st
        return method(self, node, st)

    def _inert(self, node: ast.stmt) -> bool:
        """Is ``node``, a statement of the function the current frame walks, one the walk skips? Only
        statements of a module's own functions and its classes' methods (a module's names may be read by
        other modules; a nested function's locals by the scans of the function around it)."""
        frame = self.frames[-1] if self.frames else None
        fn = frame.node if frame is not None else None
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return False
        known = self._local_reads.get(id(fn))
        if known is None or known[0] is not fn:
            assert frame is not None  # (fn is a frame's node)
            top = any(fn is n for n in frame.ctx.tree.body) or any(
                fn is m for c in frame.ctx.tree.body if isinstance(c, ast.ClassDef) for m in c.body
            )
            known = self._local_reads[id(fn)] = (fn, local_reads(fn) if top else None)
        return inert_statement(node, known[1])

    def s_Expr(self, node: ast.Expr, st: State) -> State:
        v = node.value
        if isinstance(v, ast.Attribute) and v.attr in ("eval", "train"):
            self._bare_mode_attr(v, st)
            return st
        written = self._param_overwrites(node, st) if isinstance(v, ast.Call) else None
        if written:
            self.ev(v, st, discard=True)
            _overwritten(written, st)
            return st
        elif (
            isinstance(v, ast.Call)
            and isinstance(v.func, ast.Attribute)
            and is_load_state_dict(v)
            and self._strict_false(v, st) is True
            and not self._keys_audited(v)
            and not optimizer_like(
                self.ev(v.func.value, st) if isinstance(v.func.value, (ast.Name, ast.Attribute)) else EMPTY,
                v.func.value,
            )
        ):
            self.emit("nonstrict_ignored", v, name=src_name(v.func.value), how="discarded")
        self.ev(v, st, discard=True)
        return st

    def _keys_audited(self, load: ast.Call) -> bool:
        """Does the code report how the keys of what it loads differ from the model's own, itself (a
        non-strict load whose result is unused is then deliberate)? A statement of the function that
        names both the loaded mapping and the model and prints, logs, warns, asserts or raises about them
        (`print(len(sd), len(model.state_dict()))`, a loop over the model's keys printing what `sd` lacks),
        or calls a helper that does (`check_keys(model, sd)`). Filtering the keys to those that match
        (`intersect_dicts`) reports nothing: still a silent load."""
        frame = self.frames[-1] if self.frames else None
        node = frame.node if frame is not None else None
        if frame is None or node is None or not load.args or not isinstance(load.func, ast.Attribute):
            return False  # (callers pass `x.load_state_dict(...)` calls: func is an Attribute)
        # the answer is the syntax's (and the project's helpers'): asked again by every pass over the load,
        # it is kept per (load, function) for the walk's life (the scan it notes, noted the first time)
        return self._kept("keys-audited", load, node, lambda: self._keys_audited_scan(load, frame, node))

    def _keys_audited_scan(self, load: ast.Call, frame, node: ast.AST) -> bool:
        assert isinstance(load.func, ast.Attribute)  # (checked by _keys_audited)
        # the names the loaded mapping comes from; not imported modules and functions (`torch` of an inline
        # `torch.load(path)`: a print naming torch and the model reports no keys)
        bound = frame.ctx.imports.bindings
        source = {n for n in _mapping_names(load.args[0], frame.ctx) if n not in bound}
        receiver = N.dotted(load.func.value)
        if not source or not receiver or receiver.split(".")[0] in source:
            return False
        self._note_scan(node, source | {receiver.split(".")[0]})
        # a report anywhere in the scope (a module's: in its functions too) counts by what the code around it
        # names: the whole text is read
        self.text_read.add(self._scope_key(node) or ("", "*"))
        body = node.body if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef)) else []
        # what the loaded mapping is built from (`keep[k] = ckpt[k]`: ckpt and the key k), and the names that
        # hold the model's own keys (`own = model.state_dict()`): a report about those is about both
        direct = set(source)
        models = {receiver} | _bound_from(body, receiver)
        model_names = {m.split(".")[0] for m in models}
        source = _flows_into(body, source, frame.ctx, stop=model_names)
        models -= source
        parents = self._parents(node)
        for stmt in body:
            for sub in ast.walk(stmt):
                # a report (a print, a log, an assert, a raise, a helper that does) about both: the report
                # itself, or the conditions and loops it stands in, name the loaded mapping and the model
                # (`for k in model.state_dict(): if k not in sd: print(k)`); a print of a forward's output
                # in a loop whose other branch tests an option read from the same `opt` is none
                if not isinstance(sub, (ast.Assert, ast.Raise, ast.Call)) or any(x is load for x in ast.walk(sub)):
                    continue
                if not self._reports(sub, frame.ctx):
                    continue
                said = _context_exprs(sub, parents, node)
                names = {n.id for e in said for n in ast.walk(e) if isinstance(n, ast.Name)}
                dotted = {N.dotted(n) for e in said for n in ast.walk(e) if isinstance(n, (ast.Attribute, ast.Name))}
                if names & direct and receiver in dotted:
                    return True
                # about what the mapping is built from and the model's own keys: an audit only when it runs
                # over every key (YOLOX's loop over `model.state_dict()` logging each one it skips), not over a
                # few named ones (DeiT's head keys)
                if names & source and dotted & models and _over_all_keys(sub, parents, node, source | model_names):
                    return True
        return False

    def _reports(self, node: ast.AST, ctx: ModuleCtx) -> bool:
        """Does this code print, log, warn, assert or raise (itself, or in a helper of the project it calls)?"""
        for sub in ast.walk(node):
            if isinstance(sub, (ast.Assert, ast.Raise)):
                return True
            if isinstance(sub, ast.Call):
                name = N.dotted(sub.func) or ""
                last = name.rsplit(".", 1)[-1]
                if last in _REPORTING:
                    return True
                if isinstance(sub.func, ast.Name) and sub.func.id in ctx.functions and node is not sub.func:
                    fn = ctx.functions[sub.func.id]
                    self._read_body(ctx, fn, sub.func.id)
                    if any(
                        isinstance(x, (ast.Assert, ast.Raise))
                        or isinstance(x, ast.Call)
                        and (N.dotted(x.func) or "").rsplit(".", 1)[-1] in _REPORTING
                        for x in ast.walk(fn)
                    ):
                        return True
        return False

    def _bare_mode_attr(self, v: ast.Attribute, st: State) -> None:
        vals = self.ev(v.value, st)
        if not any(isinstance(x, (Model, LoadResult, Loaded, LoadedItem)) for x in vals):
            return  # `args.eval`, an argparse flag: only a known model's method counts
        self.emit("mode_attr_not_called", v, name=src_name(v.value), attr=v.attr)

    def s_Assign(self, node: ast.Assign, st: State) -> State:
        written = self._param_overwrites(node, st) if isinstance(node.targets[0], ast.Attribute) else None
        vals = self.ev(node.value, st)
        lost = self._load_result_lost(node.value, node.targets)
        if lost:
            vals = frozenset(
                LoadResult(x.site, x.line, x.col, x.strict, True) if isinstance(x, LoadResult) else x for x in vals
            )
        for t in node.targets:
            self.assign(t, vals, st, node.value)
        if written:
            _overwritten(written, st)
        return st

    def _copied_module_by_module(self, node: ast.For, st: State) -> None:
        """A pruned or converted copy filled from another model, module by module (network-slimming's
        `for [m0, m1] in zip(model.modules(), newmodel.modules()): ... m1.weight.data = m0.weight.data[idx]`):
        the copy's weights are the source's, so its own random init does not survive (the source's, if it
        is random, is reported at its construction)."""
        frame = self.frames[-1] if self.frames else None
        ctx = frame.ctx if frame is not None else self.root_ctx
        scope = frame.node if frame is not None else ctx.tree
        found = self._kept("module-copy", node, ctx, lambda: _module_copy(node, scope, ctx.imports))
        if found is None:
            return
        copies, read, values = found
        drawn = any(
            self._drawn(v, ctx, st)
            if not any(_reads_name(v, a) for a in read)
            else any(isinstance(c, ast.Call) and self.resolve_in(ctx, c.func) in RANDOM_TENSORS for c in ast.walk(v))
            for v in values
        )
        if not drawn:
            for copy in copies:
                overwrite_init(self.ev(copy, st), st)

    def _param_overwrites(self, node: ast.stmt, st: State) -> list[tuple[Model, str, frozenset]] | None:
        """The layers this program built and has not used yet whose ``weight`` or ``bias`` the statement
        replaces with values not drawn at random: `head.weight.data = w`, `head.bias.data.copy_(b)`,
        `head.weight = nn.Parameter(w)`, `nn.init.zeros_(head.bias)` (pretrained-models' `inceptionresnetv2()`
        gives a new `nn.Linear` the loaded classifier's rows). As (model, parameter, its construction's
        pending marks before the statement); ``_overwritten`` applies them after it. New values read from a
        layer that still holds its random init (`head.weight.data * 2`) or drawn (`torch.randn`) are random."""
        frame = self.frames[-1] if self.frames else None
        ctx = frame.ctx if frame is not None else self.root_ctx
        found: list[tuple[Model, str, frozenset]] = []
        for param, _how, values in param_writes(node.value if isinstance(node, ast.Expr) else node, ctx.imports):
            if not isinstance(param.value, ast.Name):
                continue
            if any(self._drawn(v, ctx, st) for v in values):
                continue
            for m in st.lookup(param.value.id) or ():
                if isinstance(m, Model) and m.origin == "built" and "fresh" in st.pending.get(m.id, ()):
                    layer = N.torch_nn_layer(m.cls or "")
                    need = N.random_params(layer, dict(m.args)) if layer is not None else None
                    if param.attr in (need or ("weight", "bias")):
                        found.append((m, param.attr, st.pending[m.id]))
        return found or None

    def _drawn(self, expr: ast.expr, ctx: ModuleCtx, st: State) -> bool:
        """Does ``expr`` read the values of a model that still holds its random init (not only their metadata:
        YOLOX's `w.view(fused.weight.shape)`), or draw a random tensor?"""
        parents = {id(c): n for n in N.subtree(expr) for c in ast.iter_child_nodes(n)}
        for n in N.subtree(expr):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                if any(
                    isinstance(v, Model) and "fresh" in st.pending.get(v.id, ()) for v in st.lookup(n.id) or ()
                ) and not N.metadata_read(n, parents):
                    return True
            elif isinstance(n, ast.Call) and self.resolve_in(ctx, n.func) in RANDOM_TENSORS:
                return True
        return False

    def _load_result_lost(self, value: ast.expr, targets: list[ast.expr]) -> bool:
        """`model = model.load_state_dict(sd)` / `model = Net().load_state_dict(sd)`: the model is gone."""
        if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and is_load_state_dict(value)):
            return False
        recv = value.func.value
        recv_name = N.dotted(recv)
        for t in targets:
            tname = N.dotted(t)
            if tname is not None and (tname == recv_name or isinstance(recv, ast.Call)):
                self.emit(
                    "load_result_as_model",
                    value,
                    name=tname,
                    how="assigned",
                    same_name=tname == recv_name and isinstance(t, ast.Name),
                )
                return True
        return False

    def s_AnnAssign(self, node: ast.AnnAssign, st: State) -> State:
        if node.value is not None:
            vals = self.ev(node.value, st)
            self.assign(node.target, vals, st, node.value)
        return st

    def s_AugAssign(self, node: ast.AugAssign, st: State) -> State:
        if not self.updates and reads_grad(node.value):
            self.updates = True  # `p -= lr * p.grad`, `w.data += ...grad`: a hand-written optimizer step
        right = self.ev(node.value, st)
        left = self.ev(node.target, st) if isinstance(node.target, ast.Name) else EMPTY
        grown = _concatenated(left, right) if isinstance(node.op, ast.Add) else None
        if grown is not None and isinstance(node.target, ast.Name):  # `layers += [nn.Dropout(p)]`
            st.bind(node.target.id, grown)
            return st
        outs = [v for v in left | right if isinstance(v, Out)]
        if outs and isinstance(node.target, ast.Name):
            st.bind(node.target.id, frozenset({merge_out(outs)}))
        return st

    def assign(self, target: ast.expr, vals: frozenset, st: State, value: ast.expr | None = None) -> None:
        if isinstance(target, ast.Name):
            st.bind(target.id, vals)
        elif isinstance(target, (ast.Tuple, ast.List)):
            # `missing, unexpected = m.load_state_dict(...)`: the result is read when one of the names is
            keys = frozenset(LoadKeys(v.site) for v in vals if isinstance(v, LoadResult))
            if keys and not all(isinstance(e, (ast.Name, ast.Starred)) for e in target.elts):
                self._mark_read(vals)  # `res.missing, res.unexpected = ...`: kept somewhere we do not follow
                keys = EMPTY
            self._mark_read(v for v in vals if not isinstance(v, LoadResult))
            tup = [v for v in vals if isinstance(v, TupleVal) and len(v.items) == len(target.elts)]
            for i, elt in enumerate(target.elts):
                sub = (
                    frozenset().union(*(t.items[i] for t in tup))
                    if tup
                    else frozenset(v for v in vals if isinstance(v, Out))
                ) | keys
                if isinstance(elt, ast.Starred):
                    elt = elt.value
                self.assign(elt, sub, st)
        elif isinstance(target, ast.Attribute):
            objs = self.ev(target.value, st)
            for o in objs:
                if isinstance(o, (Instance, Model)):
                    st.with_attrs({(o.id, target.attr): vals})
                if isinstance(o, Model):
                    # a module assigned to a module's attribute is registered in it (`self.head = nn.Linear(...)`
                    # in a method its class runs after __init__, `model.fc = new_fc`): a strict load of the
                    # holder restores its parameters too (see Walker.held)
                    parts = {v.id for v in vals if isinstance(v, Model)}
                    if value is not None:  # `self.RCNN_top = vgg.classifier`: a part of a model (see _taken_parts)
                        parts |= self._taken_parts(value, st)
                    # (`model.features = nn.DataParallel(model.features)`: its own part, whichever model it is)
                    parts -= {x.id for x in objs if isinstance(x, Model)}
                    if parts:
                        self.held.setdefault(o.id, set()).update(parts)
        elif isinstance(target, ast.Subscript):
            base = self.ev(target.value, st)
            key_vals = self.ev(target.slice, st)
            if any(isinstance(b, DictVal) for b in base):
                # `args["model"] = model`: the mapping the name (or the object's attribute) holds now has that
                # entry, as `{"model": model}` would (a helper handed `args` reads it back by its key)
                self._store_entry(target, base, key_vals, vals, st)
            outs = [v for v in vals if isinstance(v, Out)]
            if outs and isinstance(target.value, ast.Name):
                # `values[mask] = model(x).max(1)[0]`: the tensor now holds the forward's output
                st.bind(
                    target.value.id,
                    frozenset(v for v in base if not isinstance(v, Out))
                    | {merge_out(outs + [v for v in base if isinstance(v, Out)])},
                )
        elif isinstance(target, ast.Starred):
            self.assign(target.value, vals, st)

    def _store_entry(
        self, target: ast.Subscript, base: frozenset, key_vals: frozenset, vals: frozenset, st: State
    ) -> None:
        """`d["model"] = m` where ``d`` holds a mapping of known entries (``base``): the name, or the attribute
        of an object we track, holds the mapping with that entry (re)placed; a module global written inside a
        function is the module's mapping, which every function then reads with the entry. A key known at run
        time only writes an entry we cannot name: left as it is. (A helper handed the mapping that writes into
        it: see forget_written_mappings.)"""
        s = target.slice
        if isinstance(s, ast.Constant) and isinstance(s.value, str):
            keys = {s.value}
        else:
            keys = {v.template for v in key_vals if isinstance(v, Str)}
        if len(keys) != 1:
            return
        (key,) = keys
        updated = frozenset(_with_entry(b, key, vals) if isinstance(b, DictVal) else b for b in base)
        holder = target.value
        if isinstance(holder, ast.Name):
            scope = self.frames[-1].node if self.frames else None
            aliases = self._kept("aliases", scope, scope, lambda: _aliases(scope)) if scope is not None else {}
            for other in aliases.get(holder.id, ()):
                forget_mapping(other, st)  # `shown = args; args["model"] = m`: `shown` is the same mapping
            if holder.id in st.locals and holder.id not in st.global_names:
                st.bind(holder.id, updated)
            elif holder.id not in st.locals and holder.id in st.globals:
                st.globals[holder.id] = updated  # (the same mapping object, wherever it is read)
        elif isinstance(holder, ast.Attribute) and isinstance(holder.value, ast.Name):
            objs = st.lookup(holder.value.id) or EMPTY
            st.with_attrs({(o.id, holder.attr): updated for o in objs if isinstance(o, (Instance, Model))})

    def s_If(self, node: ast.If, st: State) -> State | None:
        test = node.test
        if is_main_guard(test):
            if self.importing:  # the module imported by a spawned child (see _child_import)
                return self.block(node.orelse, st) if node.orelse else st
            return self.block(node.body, st)
        if is_type_checking(test):
            return self.block(node.orelse, st) if node.orelse else st
        if isinstance(test, ast.Attribute) and test.attr in ("eval", "train"):
            self._bare_mode_attr(test, st)
        else:
            self.ev(test, st)
        const = self._decided(test, st)
        if const is not None:
            out = self.block(node.body if const else node.orelse, st)
            if out is not None and const_truth(test) is None and not self._by_iteration(test):
                _by_flag(out, node, self.path)  # `if train: model.train()` with the caller's train=True: its choice
            return out
        self.arms.append((id(node), 0))
        try:
            a = self.block(node.body, self._narrowed(test, st.copy(), True))
        finally:
            self.arms.pop()
        if node.orelse:
            self.arms.append((id(node), 1))
            try:
                b = self.block(node.orelse, self._narrowed(test, st.copy(), False))
            finally:
                self.arms.pop()
        else:
            b = st
        return _join_choice(a, b, node.lineno, self.path) if a is not None or b is not None else None

    def _narrowed(self, test: ast.expr, st: State, holds: bool) -> State:
        """The state on the branch where ``test`` is ``holds``, when the test asks whether a model name is
        wrapped (`isinstance(model, nn.DataParallel)`, `hasattr(model, "module")`, `not ...`): the name then
        holds only the wrapped (or only the plain) models it may be, as `model.module.state_dict() if
        isinstance(model, DataParallel) else model.state_dict()` means."""
        while isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            test, holds = test.operand, not holds
        if not (
            isinstance(test, ast.Call)
            and isinstance(test.func, ast.Name)
            and test.func.id in ("isinstance", "hasattr")
            and len(test.args) == 2
            and isinstance(test.args[0], ast.Name)
        ):
            return st
        kind = test.args[1]
        asked: frozenset[str] | None = None  # the wrapper classes an isinstance test names (None: any wrapper)
        if test.func.id == "hasattr":
            asks = isinstance(kind, ast.Constant) and kind.value == "module"
        else:
            ctx = self.frames[-1].ctx
            names = kind.elts if isinstance(kind, ast.Tuple) else [kind]
            quals = [ctx.resolve(n) for n in names]
            asks = bool(names) and all(q in N.WRAPPERS for q in quals)
            asked = frozenset(q.rsplit(".", 1)[-1] for q in quals if q)
        vals = st.lookup(test.args[0].id)
        if not asks or vals is None or not any(isinstance(v, Model) for v in vals):
            return st

        def passes(v: Model) -> bool:
            """Does the test hold for ``v``? A model wrapped in a known class is decided by that class
            (`isinstance(model, nn.DataParallel)` is False for a DistributedDataParallel one)."""
            return v.wrapped and (asked is None or not v.wrapper or v.wrapper in asked)

        kept = frozenset(v for v in vals if not isinstance(v, Model) or passes(v) == holds)
        # a wrapper known to fail the test (or pass it) leaves no model on that branch: the branch is not taken
        # for it (`model.module.state_dict() if isinstance(model, DataParallel) else model.state_dict()` of a
        # DDP model saves the prefixed keys, on every path)
        decided = all(v.wrapped and v.wrapper for v in vals - kept if isinstance(v, Model))
        if kept != vals and (decided or any(isinstance(v, Model) for v in kept)):
            st.bind(test.args[0].id, kept)
        return st

    def _decided(self, test: ast.expr, st: State) -> bool | None:
        """The truth of a test when the code fixes it: a constant, or a comparison of a name holding one
        literal of an unrolled loop (`phase == 'train'`) with string constants; else None."""
        const = const_truth(test)
        if const is not None:
            return const
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            inner = self._decided(test.operand, st)
            return None if inner is None else not inner
        if isinstance(test, ast.BoolOp):
            parts = [self._decided(v, st) for v in test.values]
            if isinstance(test.op, ast.And):
                return False if False in parts else True if all(p is True for p in parts) else None
            return True if True in parts else False if all(p is False for p in parts) else None
        if isinstance(test, ast.Name):  # `if train:` with the one value the caller passed
            vals = st.lookup(test.id)
            if vals is not None and len(vals) == 1:
                v = next(iter(vals))
                if isinstance(v, Lit):
                    return bool(v.value)
                if isinstance(v, LitStr):
                    return bool(v.template)
            return None
        if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
            return None
        left, right, op = test.left, test.comparators[0], test.ops[0]
        if not isinstance(left, ast.Name) and not isinstance(right, ast.Name):
            return None  # only a comparison reading a variable is ours to decide (a constant one is the code's)
        lhs, rhs = self._literal_of(left, st), self._literal_of(right, st)
        if lhs is _NOT_KNOWN or rhs is _NOT_KNOWN:
            return None
        try:
            if isinstance(op, (ast.In, ast.NotIn)):
                return (lhs in rhs) == isinstance(op, ast.In) if isinstance(rhs, tuple) else None
            if isinstance(lhs, tuple) or isinstance(rhs, tuple):
                return None
            if isinstance(op, (ast.Is, ast.IsNot)):
                if lhs is None or rhs is None or isinstance(lhs, bool) and isinstance(rhs, bool):
                    return (lhs is rhs) == isinstance(op, ast.Is)
                return None
            compare = _COMPARE.get(type(op))
            if compare is None or type(lhs) is not type(rhs) and not (isinstance(lhs, int) and isinstance(rhs, int)):
                return None
            return bool(compare(lhs, rhs))
        except TypeError:
            return None

    @staticmethod
    def _literal_of(node: ast.expr, st: State):
        """A value a comparison can be decided on: a constant (string, int, bool, None), a tuple/list/set
        of them, or a name holding exactly one literal (an unrolled loop's element, a value the caller
        passed, a module constant); else _NOT_KNOWN."""
        if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, (str, int))):
            return node.value
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and all(
            isinstance(e, ast.Constant) and (e.value is None or isinstance(e.value, (str, int))) for e in node.elts
        ):
            return tuple(e.value for e in node.elts)  # type: ignore[attr-defined]
        if isinstance(node, ast.Name):
            vals = st.lookup(node.id)
            if vals is not None and len(vals) == 1:
                v = next(iter(vals))
                if isinstance(v, LitStr):
                    return v.template
                if isinstance(v, Lit):
                    return v.value
        return _NOT_KNOWN

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
        max_passes = MAX_LOOP_PASSES if depth < 3 and not self.over_budget else NESTED_LOOP_PASSES
        # inside a muted walk (an enclosing loop's pass before its fixpoint, a summary) the reported pass
        # would be one more muted walk from the settled head: the last pass already is that walk
        reuse_settled = self.mute > 0
        settled = False
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
                    settled = new_head is not None
                    break
                if passes == max_passes:
                    # no fixpoint within the bound: what still changes becomes unknown (never guessed)
                    head = _widen_state(head, new_head)
                    self.widen(
                        self.path,
                        frame.func,
                        f"loop at line {node.lineno} not settled in {passes} "
                        "passes: the modes it still changes are unknown",
                    )
                else:
                    head = new_head
        finally:
            self.mute -= 1
        # how many more passes the bound left this loop (an edit may add one: see edits.quiet_room)
        slack = max_passes - passes if settled else 0
        if slack < self.loop_slack.get(frame.unit, max_passes):
            self.loop_slack[frame.unit] = slack
        if not (settled and reuse_settled):
            # the final, reported pass runs from the fixpoint
            frame.loops.append(([], []))
            body_state = head.copy()
            bind_target(body_state)
            end = self.block(node.body, body_state)
            breaks, continues = frame.loops.pop()
        after = join_all([end, *continues] if _runs_at_least_once(node) else [head, end, *continues])
        if isinstance(node, ast.While) and const_truth(node.test) is True:
            after = None  # `while True:` leaves only through break
        if after is not None and node.orelse:
            after = self.block(node.orelse, after)
        return join_all([after, *breaks])

    def s_For(self, node: ast.For, st: State) -> State | None:
        literals = _literal_strings(node)
        if literals is not None:
            return self._unrolled(node, st, literals)
        self._copied_module_by_module(node, st)
        it = self.ev(node.iter, st)

        def bind(s: State) -> None:
            items = set(it)
            for v in it:
                if isinstance(v, TupleVal):  # `for m in (enc, dec):`
                    for item in v.items:
                        items |= item
            elems = frozenset(v for v in items if isinstance(v, (Model, Loaded, LoadedItem)))
            if (
                isinstance(node.iter, ast.Call)
                and isinstance(node.iter.func, ast.Attribute)
                and node.iter.func.attr
                in ("items", "keys", "values", "named_parameters", "parameters", "modules", "children", "named_modules")
            ):
                elems = EMPTY
            self.assign(node.target, elems, s)

        return self._loop(node, st, bind)

    s_AsyncFor = s_For

    def _by_iteration(self, test: ast.expr) -> bool:
        """Is ``test`` decided by the element of the literal loop being unrolled (`if phase == "train":`
        in `for phase in ("train", "val")`)? Then a `.train()` under it is the 'train' iteration's own,
        not a mode a caller asked for: the 'val' iteration that follows inherits it as a plain one."""
        if self.iteration is None:
            return False
        name = self.iteration[0]
        return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(test))

    def _unrolled(self, node: ast.For, st: State, literals: list[str]) -> State | None:
        """`for phase in ('train', 'val'):` runs its body once per element, in order: each iteration is
        walked with the name holding that element, so `if phase == 'train':` and
        `set_grad_enabled(phase == 'train')` are decided per iteration, and a forward of the 'val'
        iteration whose output is never trained on is judged apart from the same line's 'train' run."""
        frame = self.frames[-1]
        name = node.target.id  # type: ignore[attr-defined]
        cur: State | None = st
        breaks: list = []
        outer_tag, outer_iteration = self.iter_tag, self.iteration
        try:
            for value in literals:
                if cur is None:
                    break
                self.iter_tag = f"{outer_tag}[{name}={value!r}@{node.lineno}]"
                self.iteration = (name, value, node.lineno)
                frame.loops.append(([], []))
                body_state = cur.copy()
                body_state.bind(name, frozenset({LitStr(value)}))
                end = self.block(node.body, body_state)
                b, continues = frame.loops.pop()
                breaks.extend(b)
                cur = join_all([end, *continues])
        finally:
            self.iter_tag, self.iteration = outer_tag, outer_iteration
        after = cur
        if after is not None and node.orelse:
            after = self.block(node.orelse, after)
        return join_all([after, *breaks])

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
        # a handler of a missing key and the `try` (with its `else`) are two arms (see Walker.arms): the keys the
        # `try` read of a loaded object may be the ones it lacks (`except KeyError: model.load_state_dict(ckpt)`,
        # a bare state_dict), so they say nothing of what the handler does with it
        key_arms = any(_catches_key_error(h) for h in node.handlers)
        if key_arms:
            self.arms.append((id(node), 0))
        try:
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
        finally:
            if key_arms:
                self.arms.pop()
        handler_entry = join_all(snapshots)
        assert handler_entry is not None  # snapshots holds a copy of st
        outs = [body_end]
        for h in node.handlers:
            hs = handler_entry.copy()
            if h.name:
                hs.bind(h.name, EMPTY)
            keyed = _catches_key_error(h)
            if keyed:
                self.arms.append((id(node), 1))
            try:
                outs.append(self.block(h.body, hs))
            finally:
                if keyed:
                    self.arms.pop()
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
        forks = any(
            self.frames[-1].ctx.resolve(call_func(i.context_expr)) in ("torch.random.fork_rng",) for i in node.items
        )
        old_seed, old_cuda = st.seed, st.cuda
        for item in node.items:
            g = self._grad_context(item.context_expr, st)
            if g is not None:
                st.grad = g
                if g == "off":
                    region = N.dotted(call_func(item.context_expr)) or "no_grad"
                    expr = item.context_expr
                    if isinstance(expr, ast.Call) and expr.args and not isinstance(expr.args[0], ast.Constant):
                        # `set_grad_enabled(train)` off on this path: the flag named, as the code spells it
                        region = f"{region}({ast.unparse(expr.args[0])})"
            vals = self.ev(item.context_expr, st) if g is None else EMPTY
            if item.optional_vars is not None:
                self.assign(item.optional_vars, vals, st)
        frame = self.frames[-1]
        saved_region = getattr(frame, "_with_region", None)
        frame._with_region = (region, node.lineno) if region else saved_region
        # `with torch.device("meta"):`, accelerate's `init_empty_weights()`: what is built inside has no values
        meta = any(self._empty_device(item.context_expr) for item in node.items)
        self.empty_device += meta
        try:
            out = self.block(node.body, st)
        finally:
            frame._with_region = saved_region
            self.empty_device -= meta
        if out is not None:
            out.grad = old_grad
            if region:
                leave_no_grad_region(out)
            if forks:
                out.seed, out.cuda = old_seed, old_cuda  # fork_rng restores the generators it forked
        return out

    s_AsyncWith = s_With

    def _empty_device(self, expr: ast.expr) -> bool:
        """Does the context ``expr`` build modules without values (the meta device), so without a draw?"""
        if not isinstance(expr, ast.Call):
            return False
        q = self.frames[-1].ctx.resolve(expr.func)
        if q in N.EMPTY_INIT_CONTEXTS:
            return True
        if q == "torch.device":
            return self._meta_device(expr)
        # any context made for the meta device (lit-llama's `EmptyInitOnDevice(device="meta")`, accelerate's
        # `init_on_device(torch.device("meta"))`): what it builds has no values to draw
        device = next((k.value for k in expr.keywords if k.arg == "device"), expr.args[0] if expr.args else None)
        return device is not None and self._meta_device(device)

    def _meta_device(self, node: ast.expr) -> bool:
        """Is ``node`` the meta device: `"meta"` or `torch.device("meta")`?"""
        if isinstance(node, ast.Call):
            return (
                self.frames[-1].ctx.resolve(node.func) == "torch.device" and bool(node.args) and _is_meta(node.args[0])
            )
        return _is_meta(node)

    def _grad_context(self, expr: ast.expr, st: State) -> str | None:
        call = expr if isinstance(expr, ast.Call) else None
        func = call.func if call else expr
        q = self.frames[-1].ctx.resolve(func)
        if q in N.NO_GRAD_CTX:
            if q.endswith("inference_mode") and call and call.args and const_truth(call.args[0]) is False:
                return None
            return "off"
        if q in N.ENABLE_GRAD:
            return "on"
        if q in N.SET_GRAD and call and call.args:
            t = self._decided(call.args[0], st)
            return "off" if t is False else "on" if t is True else "maybe"
        return None

    def s_FunctionDef(self, node, st: State) -> State:
        ctx = self.frames[-1].ctx
        frame = self.frames[-1]
        for d in node.args.defaults + [d for d in node.args.kw_defaults if d is not None]:
            self.ev(d, st)  # default arguments are built when `def` runs
        if frame.func == "<module>":
            local = _definition_key(ctx.functions, node)
            st.bind(node.name, frozenset({FuncRef(f"{ctx.module}.{local}", local=local)}))
        else:
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
        q = f"{ctx.module}.{_definition_key(ctx.classes, node)}" if ctx.module else _definition_key(ctx.classes, node)
        st.bind(node.name, frozenset({ClassRef(q, self._is_module_class(q, ctx))}))
        return st

    def s_Global(self, node: ast.Global, st: State) -> State:
        st.global_names = st.global_names | frozenset(node.names)
        return st

    def s_Import(self, node, st: State) -> State:
        for alias in node.names:
            st.locals.pop((alias.asname or alias.name).split(".")[0], None)
            self._imported(node, alias.name, 0, st)
        return st

    def s_ImportFrom(self, node, st: State) -> State:
        for alias in node.names:
            st.locals.pop(alias.asname or alias.name, None)
        if node.module:
            self._imported(node, node.module, node.level, st)
        else:  # `from . import setup_env`: the names are modules
            for alias in node.names:
                self._imported(node, alias.name, node.level, st)
        return st

    def _imported(self, node: ast.stmt, dotted: str, level: int, st: State) -> None:
        """Importing a project module runs its top level: one that seeds torch there (a `setup_env.py` with
        `torch.manual_seed(0)`) seeds the importer from this line on."""
        ctx = self.frames[-1].ctx if self.frames else self.root_ctx
        project = ctx.project
        if project is None or ctx.path is None or st.seed == "yes":
            return
        here = os.path.dirname(ctx.path)
        if level:
            for _ in range(level - 1):
                here = os.path.dirname(here)
            path = project.find_module(dotted, here)
        else:
            path = project.find_module(dotted, here)
        if path is None or os.path.realpath(path) == os.path.realpath(ctx.path):
            return
        rec = project.record_for_path(path)
        if rec is not None and rec.facts.get("seeds_on_import"):
            st.seed = "yes"
            self.seq += 1
            if not self.mute:
                self.seed_calls.append((self.seq, self.site_chain(node), f"`import {dotted}` (it seeds torch)"))
                self.seed_arms[self.seq] = tuple(self.arms)

    def s_Delete(self, node: ast.Delete, st: State) -> State:
        for t in node.targets:
            if isinstance(t, ast.Name):
                st.locals.pop(t.id, None)
        return st

    # ================================================================== expressions
    def ev(self, node: ast.expr | None, st: State, discard: bool = False) -> frozenset:
        if node is None:
            return EMPTY
        method = _EXPR_HANDLERS.get(type(node), _UNSET)
        if method is _UNSET:
            method = _EXPR_HANDLERS[type(node)] = getattr(Walker, "e_" + type(node).__name__, None)
        if method is not None:
            if not discard or not isinstance(node, ast.Call):
                return method(self, node, st)
            return self.e_Call(node, st, discard=True)
        outs: list[Out] = []
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                outs.extend(v for v in self.ev(child, st) if isinstance(v, Out))
            elif isinstance(child, ast.comprehension):
                self.ev(child.iter, st)
                for cond in child.ifs:
                    self.ev(cond, st)
        return frozenset({merge_out(outs)}) if outs else EMPTY

    def e_Compare(self, node: ast.Compare, st: State) -> frozenset:
        left = self.ev(node.left, st)
        rights = [self.ev(c, st) for c in node.comparators]
        if any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
            # `"state_dict" in ckpt` (or `in ckpt.keys()`): the code handles both a checkpoint and a bare
            # state_dict
            for c, vals in zip(node.comparators, rights, strict=True):
                self._format_checked(vals)
                if (
                    isinstance(c, ast.Call)
                    and isinstance(c.func, ast.Attribute)
                    and c.func.attr == "keys"
                    and not c.args
                    and isinstance(c.func.value, (ast.Name, ast.Attribute))
                ):
                    self._format_checked(self.ev(c.func.value, st))
        self._mark_read(left)
        return EMPTY

    def _format_checked(self, vals) -> None:
        self.checked_loads.update(site for v in vals if (site := _loaded_site(v)) is not None)

    def e_Constant(self, node: ast.Constant, st: State) -> frozenset:
        return N.memo_on(node, "value", _constant_value)  # (a constant's value is its node's alone)

    def e_JoinedStr(self, node: ast.JoinedStr, st: State) -> frozenset:
        for v in node.values:
            if isinstance(v, ast.FormattedValue):
                self._mark_read(self.ev(v.value, st))
        if not any(
            isinstance(v, ast.Constant) and isinstance(v.value, str) and ("/" in v.value or "." in v.value)
            for v in node.values
        ):
            return EMPTY  # a message, not a path
        t = self._template(node, st)
        return frozenset({Str(t)}) if t is not None else EMPTY

    def e_Name(self, node: ast.Name, st: State) -> frozenset:
        vals = st.lookup(node.id)
        if vals is not None:
            for v in vals:
                if isinstance(v, LoadKeys):
                    self.read_results.add(v.site)  # `if missing:`, `print(unexpected)`: the load's keys read
            return vals
        frame = self.frames[-1]
        nested = getattr(frame, "nested", {})
        if node.id in nested:
            return frozenset({FuncRef(f"<nested>.{node.id}", local="<nested>:" + node.id)})
        return self._global_ref(node, frame.ctx)

    def _head_bound(self, node: ast.expr, st: State) -> bool:
        head = head_name(node)
        if not head:
            return True
        if st.lookup(head) is not None:
            return True
        return any(head in getattr(f, "nested", {}) for f in self.frames)

    def _global_ref(self, node: ast.expr, ctx: ModuleCtx) -> frozenset:
        """What a name or dotted name not bound in the walk refers to in ``ctx``'s module: the same for the
        walk's whole life (imports and definitions do not change while it runs), so kept per node."""
        return self._kept("global-ref", node, ctx, lambda: self._global_ref_uncached(node, ctx))

    def resolve_in(self, ctx: ModuleCtx, node: ast.expr) -> str | None:
        """``ctx.resolve(node)``, kept for the walk's life (loop passes and calls walked again ask it of the
        same nodes thousands of times)."""
        return self._kept("resolve", node, ctx, lambda: ctx.resolve(node))

    def _kept(self, what: str, node: ast.AST, owner: object, compute: Callable[[], T]) -> T:
        """``compute()``, an answer about ``node`` (in ``owner``: its module's context, its function) that
        does not change while the walk runs, kept in the walk's memo. Each answer holds its node and owner:
        a node allocated later at a freed one's address (its id) is never given the freed one's answer."""
        key = (what, id(node), id(owner))
        hit = self._memo.get(key)
        if hit is not None and hit[0] is node and hit[1] is owner:
            return hit[2]
        out = compute()
        self._memo[key] = (node, owner, out)
        return out

    def _global_ref_uncached(self, node: ast.expr, ctx: ModuleCtx) -> frozenset:
        q = self.resolve_in(ctx, node)
        if q is None:
            if isinstance(node, ast.Name) and self.project is not None and ctx.path:
                # a module-level table of classes by name, read in a function of its module walked from another
                # file (its module level is not walked: SSD's `_ARCHS[cfg.arch](cfg)`)
                rec = self.project.record_for_path(ctx.path)
                table = rec.facts.get("registries", {}).get(node.id) if rec is not None else None
                if table:
                    return self._registry_value(table, ctx)
            return EMPTY
        if isinstance(node, ast.Name) and node.id in ctx.functions:
            return frozenset({FuncRef(q, local=node.id)})
        if isinstance(node, ast.Name) and node.id in ctx.classes:
            return frozenset({ClassRef(q, self._is_module_class(q, ctx))})
        return self._qualified_ref(q, ctx)

    def _qualified_ref(self, q: str, ctx: ModuleCtx) -> frozenset:
        """What a qualified name refers to: a builder, a class (a module class or not), a project function
        or constant."""
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
                if kind == "registry":
                    # a module-level table of classes by name (`_ARCHS[cfg.arch](cfg)` in another module)
                    return self._registry_value(hit[1].facts["registries"][hit[2]], ctx)
        if q.rsplit(".", 1)[-1][:1].isupper():
            return frozenset({ClassRef(q, False)})
        return frozenset({FuncRef(q)})

    def _registry_value(self, table: dict[str, str], ctx: ModuleCtx) -> frozenset:
        """A module-level table by name (the facts' ``registries``): a dict of what each key names."""
        return frozenset({DictVal(tuple((k, self._qualified_ref(v, ctx)) for k, v in table.items()))})

    def e_Attribute(self, node: ast.Attribute, st: State) -> frozenset:
        frame = self.frames[-1]
        if isinstance(node.value, (ast.Name, ast.Attribute)) and not self._head_bound(node, st):
            q = self.resolve_in(frame.ctx, node)
            if q is not None:
                return self._global_ref(node, frame.ctx)
        base = self.ev(node.value, st)
        if not base:
            q = self.resolve_in(frame.ctx, node)
            if (
                q is not None
                and isinstance(node.value, (ast.Name, ast.Attribute))
                and st.lookup(head_name(node)) is None
            ):
                return self._global_ref(node, frame.ctx)
            if isinstance(node.value, ast.Name):
                default = self._argparse_default(node.attr)
                if default is not None:
                    return frozenset({Str(default)})
            return EMPTY
        out: set = set()
        for b in base:
            if isinstance(b, ModuleRef):
                out |= self._qualified_ref(f"{b.qualname}.{node.attr}", frame.ctx)
                continue
            if isinstance(b, Model) and node.attr in ("eval", "train") and not self.mute:
                # the bound method escapes (`fn = model.eval`, `callbacks.append(model.train)`): it may be
                # called anywhere later, so the mode is no longer known
                st.modes[b.id] = st.mode(b.id) | {UNKNOWN}
            if isinstance(b, Model):
                if node.attr == "module" and b.wrapped:
                    out.add(b.unwrapped())
                elif node.attr in ("module", "_orig_mod"):
                    out.add(b)
            elif isinstance(b, Instance):
                out |= st.attrs.get((b.id, node.attr), EMPTY)
            elif isinstance(b, LoadResult):
                if node.attr in ("missing_keys", "unexpected_keys"):
                    self.read_results.add(b.site)
                elif node.attr in N.MODULE_USE_METHODS:
                    self._load_result_used(b, node)
            elif isinstance(b, (Loaded, LoadedItem)) and node.attr in (
                "keys",
                "items",
                "values",
                "get",
                "pop",
                "copy",
                "update",
            ):
                loaded = b if isinstance(b, Loaded) else b.loaded
                self.mapping_read(loaded.site, None)
            if isinstance(b, Model) and (b.id, node.attr) in st.attrs:
                out |= st.attrs[(b.id, node.attr)]
        outs = [v for v in base if isinstance(v, Out)]
        if outs:
            out.add(merge_out(outs))
            if node.attr == "data":
                sampled(self, outs)  # `G(z).data`: the values, not the graph
        if (
            isinstance(node.value, ast.Name)
            and not out
            and node.value.id in ("args", "opt", "opts", "cfg", "config", "hparams", "FLAGS", "flags")
        ):
            default = self._argparse_default(node.attr)
            if default is not None:
                out.add(Str(default))
        return frozenset(out)

    def _argparse_default(self, attr: str) -> str | None:
        return self.frames[-1].ctx.argparse.get(attr)

    def e_Subscript(self, node: ast.Subscript, st: State) -> frozenset:
        base = self.ev(node.value, st)
        key_vals = self.ev(node.slice, st)
        key = node.slice.value if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str) else None
        out: set = set()
        if _sliced(node.slice):
            # `feats[i : i + 10, :]`, `x[..., 0]`: a tensor or a sequence sliced, never a state_dict's key
            return frozenset(v for v in base if isinstance(v, Out))
        for b in base:
            if isinstance(b, Loaded):
                self.mapping_read(b.site, key)
                out.add(LoadedItem(b, key, b.stripped))
            elif isinstance(b, LoadedItem):
                out.add(b)
            elif isinstance(b, DictVal):
                # a key we know (a literal, a string the program holds: an option's default) picks its entry;
                # another may pick any (`model_dict[args.model](...)` builds one of the table's classes)
                # (a string it holds that no entry has raises a KeyError there: nothing)
                keys = {key} if key is not None else {v.template for v in key_vals if isinstance(v, Str)}
                picked = [vals for k, vals in b.entries if k in keys] if keys else [vals for _, vals in b.entries]
                for vals in picked:
                    out |= vals
            elif isinstance(b, TupleVal) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int):
                i = node.slice.value
                if -len(b.items) <= i < len(b.items):
                    out |= b.items[i]
            elif isinstance(b, Out):
                out.add(b)
            elif isinstance(b, LoadResult):
                # `result[1]`, `result[0]`: the unexpected or the missing keys, read
                self.read_results.add(b.site)
        return frozenset(out)

    def mapping_read(self, site: str, key: object) -> None:
        """A loaded object is used as a mapping here (``key``: the entry read, None for another use)."""
        self.mapping_use.setdefault(site, set()).add(key)
        self.mapping_arms.setdefault(site, set()).add((key, tuple(self.arms)))

    def e_Dict(self, node: ast.Dict, st: State) -> frozenset:
        entries = []
        for k, v in zip(node.keys, node.values, strict=True):
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
        if any(self._model_keys_test(c, st) for gen in node.generators for c in gen.ifs):
            # `{k: v for k, v in loaded.items() if k in model.state_dict()}`: the model's own entries; other keys
            # read from the file are metadata kept beside the weights (monodepth2's input size), unless they
            # name a checkpoint's parts (`epoch`, `state_dict`: the weights are nested, the filter keeps none)
            self.key_filtered.update(site for v in srcs if (site := _loaded_site(v)) is not None)
        strips = strips_prefix(node.key)
        out: set = set()
        for s in srcs:
            if isinstance(s, (StateDict, Loaded, LoadedItem)):
                out.add(s.strip() if strips else s)
        if not strips:
            out.add(DictVal(()))  # a rebuilt mapping we cannot read
        return frozenset(out)

    def _model_keys_test(self, test: ast.expr, st: State) -> bool:
        """Is ``test`` a membership test against a model's state_dict (`k in model.state_dict()`,
        `k in model_dict` holding one, `k in net.state_dict().keys()`)?"""
        for n in N.subtree(test):
            if isinstance(n, ast.Compare) and any(isinstance(op, ast.In) for op in n.ops):
                for c in n.comparators:
                    if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute) and c.func.attr == "keys":
                        c = c.func.value
                    if any(isinstance(v, StateDict) for v in self.ev(c, st)):
                        return True
        return False

    def _comp_source(self, it: ast.expr, st: State) -> frozenset:
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr in ("items", "keys"):
            return self.ev(it.func.value, st)
        return self.ev(it, st)

    def e_BinOp(self, node: ast.BinOp, st: State) -> frozenset:
        left = self.ev(node.left, st)
        right = self.ev(node.right, st)
        grown = _concatenated(left, right) if isinstance(node.op, ast.Add) else None
        if grown is not None:  # `layers + [nn.Dropout(p)]`
            return grown
        outs = [v for v in left | right if isinstance(v, Out)]
        if outs:
            return frozenset({merge_out(outs)})
        t = self._template(node, st)
        return frozenset({Str(t)}) if t is not None else EMPTY

    def e_IfExp(self, node: ast.IfExp, st: State) -> frozenset:
        """`a if c else b`: both branches, each from the state after the test, joined like an if/else
        (`net.train() if is_train else net.eval()` leaves the mode maybe either, by choice)."""
        self.ev(node.test, st)
        const = self._decided(node.test, st)
        if const is not None:
            return self.ev(node.body if const else node.orelse, st)
        a, b = self._narrowed(node.test, st.copy(), True), self._narrowed(node.test, st.copy(), False)
        vals = join_values(self.ev(node.body, a), self.ev(node.orelse, b))
        become(st, _join_choice(a, b, node.lineno, self.path))
        return vals

    def e_BoolOp(self, node: ast.BoolOp, st: State) -> frozenset:
        out: frozenset = EMPTY
        for i, v in enumerate(node.values):  # `x or None`: either operand's value
            vals = self.ev(v, st)
            out = vals if i == 0 else join_values(out, vals)
        return out

    def e_Await(self, node: ast.Await, st: State) -> frozenset:
        return self.ev(node.value, st)

    def e_Lambda(self, node: ast.Lambda, st: State) -> frozenset:
        return EMPTY

    def e_NamedExpr(self, node: ast.NamedExpr, st: State) -> frozenset:
        vals = self.ev(node.value, st)
        self.assign(node.target, vals, st)
        return vals

    def e_ListComp(self, node: ast.ListComp | ast.GeneratorExp, st: State) -> frozenset:
        """`[nn.Dropout(p) for p in rates]`: a list of any length holding what the element builds (read
        for each model it makes); otherwise, as any expression, the outputs it computes."""
        for gen in node.generators:
            self.ev(gen.iter, st)
        elt = self.ev(node.elt, st)
        for gen in node.generators:
            for cond in gen.ifs:
                self.ev(cond, st)
        if any(isinstance(v, Model) for v in elt):
            return frozenset({TupleVal((elt,))})
        outs = [v for v in elt if isinstance(v, Out)]
        return frozenset({merge_out(outs)}) if outs else EMPTY

    e_GeneratorExp = e_ListComp

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

    # ------------------------------------------------------------------ helpers
    def _mode_dep(self, q: str, ctx: ModuleCtx) -> str:
        return self.project.mode_dependent(q, None, ctx.here) if self.project is not None else MAYBE

    def _is_lightning(self, q: str, ctx: ModuleCtx) -> bool:
        return self.project.is_lightning_class(q, ctx.here) if self.project is not None else False

    def _is_module_class(self, q: str, ctx: ModuleCtx) -> bool:
        if self.project is not None:
            return self.project.is_module_class(q, ctx.here)
        return q in N.MODULE_BASES or N.torch_nn_layer(q) is not None or local_module_class(q, ctx)


# ============================================================================ small helpers


def _join_choice(a: State | None, b: State | None, line: int, path: str | None) -> State | None:
    """Join two branches; a model put in training mode on one and in eval mode on the other by explicit
    calls is a deliberate choice (`net.train() if is_train else net.eval()`), marked so that neither
    TRP201 nor TRP203 reads the resulting maybe as a forgotten call."""
    out = join(a, b)
    if a is None or b is None or out is None or a.modes == b.modes:
        return out
    for mid in set(a.modes) & set(b.modes):
        ma, mb = a.modes[mid], b.modes[mid]
        if {ma, mb} == {frozenset({TRAIN}), frozenset({EVAL})}:
            kinds = {k for k, *_ in a.mode_src.get(mid, EMPTY) | b.mode_src.get(mid, EMPTY)}
            if "eval" in kinds and kinds & {"train", "train_under_no_grad"}:
                out.mode_src[mid] = out.mode_src.get(mid, EMPTY) | {("choice", line, path)}
    return out


def _aliases(scope: ast.AST) -> dict[str, set[str]]:
    """The names a scope binds to one another (`shown = args`), both ways: they may hold one mapping."""
    out: dict[str, set[str]] = {}
    for n in ast.walk(scope):
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Name):
            for t in n.targets:
                if isinstance(t, ast.Name) and t.id != n.value.id:
                    out.setdefault(t.id, set()).add(n.value.id)
                    out.setdefault(n.value.id, set()).add(t.id)
    return out


def _mapping_names(expr: ast.expr, ctx: ModuleCtx) -> set[str]:
    """The names a loaded mapping is read from (`ckpt` of `ckpt["model"]`, `sd` of `convert(sd)`), not those
    naming where a checkpoint reader finds the file (`args` of `torch.load(args.ckpt)`: a report about the
    options is none about the keys)."""
    out: set[str] = set()
    todo: list[ast.AST] = [expr]
    while todo:
        n = todo.pop()
        if isinstance(n, ast.Call) and (ctx.resolve(n.func) or "") in N.CHECKPOINT_READERS:
            continue
        if isinstance(n, ast.Name):
            out.add(n.id)
        todo.extend(ast.iter_child_nodes(n))
    return out


def _with_entry(d: DictVal, key: str, vals: frozenset) -> DictVal:
    """The mapping ``d`` after ``d[key] = <vals>``: a key it has keeps its place."""
    if key in d.keys:
        return DictVal(tuple((k, vals if k == key else v) for k, v in d.entries))
    return DictVal(d.entries + ((key, vals),))


def _sliced(index: ast.expr) -> bool:
    """Is a subscript with this index a slice (`a:b`, `...`, or a tuple holding one)?"""
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    return any(isinstance(p, ast.Slice) or (isinstance(p, ast.Constant) and p.value is Ellipsis) for p in parts)


def handler_functions(ctx: ModuleCtx) -> list:
    """Module-level functions registered as web routes (Flask, FastAPI: `@app.post(...)`) or handed to a
    UI as its callback (`gradio.Interface(fn=...)`, `gr.Interface(predict, ...)`)."""
    out = []
    for name, fn in ctx.functions.items():
        if "@" in name:
            continue
        if is_routed(fn):
            out.append(fn)
    for node in N.subtree(ctx.tree):
        q = ctx.resolve(node.func) or "" if isinstance(node, ast.Call) else ""
        if q.startswith("gradio.") and q.endswith(("Interface", "ChatInterface")):
            assert isinstance(node, ast.Call)
            cands = [k.value for k in node.keywords if k.arg == "fn"] + node.args[:1]
            for c in cands:
                if (
                    isinstance(c, ast.Name)
                    and isinstance(ctx.functions.get(c.id), ast.FunctionDef)
                    and ctx.functions[c.id] not in out
                ):
                    out.append(ctx.functions[c.id])
    return out


def _by_flag(st: State, node: ast.If, path: str | None) -> None:
    """A `.train()` in a branch a value decided (`if train == True: model.train()` in `test(model,
    train=True)`) is what the caller asked for: marked so, as a deliberate mode, not a forgotten one.
    ``path``: the file of ``node`` (a `.train()` at one of its lines in another file is not in it)."""
    end = getattr(node, "end_lineno", node.lineno)

    def inside(k: str, line: int, at: str | None) -> bool:
        return k == "train" and at == path and node.lineno <= line <= end

    for mid, src in list(st.mode_src.items()):
        if any(inside(*s) for s in src):
            st.mode_src[mid] = frozenset(("train_by_flag", *s[1:]) if inside(*s) else s for s in src)


def _definition_key(defs: dict, node: FunctionNode | ast.ClassDef) -> str:
    """How a module-level def is known: its name, or `name@line` when the module defines the name more
    than once (the definition in force is the one the walk last ran)."""
    key = f"{node.name}@{node.lineno}"
    return key if defs.get(key) is node else node.name


def _concatenated(left: frozenset, right: frozenset) -> frozenset | None:
    """``left + right`` when both are lists or tuples we track: ``left``'s items, then ``right``'s."""
    lists = [v for v in left if isinstance(v, TupleVal)]
    added = [v for v in right if isinstance(v, TupleVal)]
    if not lists or not added:
        return None
    if len(added) == 1:
        extra = list(added[0].items)
    else:  # different lists on different paths: what any of them holds
        extra = [frozenset().union(*(item for a in added for item in a.items))]
    return frozenset(grown_list(v, extra) for v in lists) | (left - frozenset(lists))


_MODULE_ITERATORS = frozenset({"modules", "children", "named_modules", "named_children"})


def _module_copy(
    node: ast.For, scope: ast.AST | None, imports: N.ImportMap
) -> tuple[list[ast.expr], set[str], list[ast.expr]] | None:
    """What a loop copying one model into another module by module reads (see
    Walker._copied_module_by_module): the copies' expressions, the loop's names of the sources' modules,
    and every value written into a parameter; None for another loop."""
    writes = [
        (param, values)
        for sub in ast.walk(node)
        if isinstance(sub, (ast.Assign, ast.Expr))
        for param, _how, values in param_writes(sub.value if isinstance(sub, ast.Expr) else sub, imports)
    ]
    if not any(param.attr == "weight" and isinstance(param.value, ast.Name) for param, _ in writes):
        return None  # (most loops: no look at the scope)
    pairs = _module_pairs(node, scope)
    if len(pairs) < 2:
        return None
    same = {n: ast.dump(e) for n, e in pairs.items()}
    copies: dict[str, ast.expr] = {}
    read: set[str] = set()
    for param, values in writes:
        dest = param.value.id if param.attr == "weight" and isinstance(param.value, ast.Name) else None
        if dest is None or dest not in pairs:
            continue
        sources = {
            n.id
            for v in values
            for n in ast.walk(v)
            if isinstance(n, ast.Name) and n.id in pairs and same[n.id] != same[dest]
        }
        if sources:
            copies[same[dest]] = pairs[dest]
            read |= sources
    if not copies:
        return None
    return list(copies.values()), read, [v for _, values in writes for v in values]


def _module_list(expr: ast.expr, lists: dict[str, ast.expr]) -> ast.expr | None:
    """The model whose modules ``expr`` lists (`model.modules()`, `list(model.children())`, or a name bound to
    one of those: ``lists``), else None."""
    if isinstance(expr, ast.Name) and expr.id in lists:
        return lists[expr.id]
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "list" and expr.args:
        expr = expr.args[0]
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr in _MODULE_ITERATORS
        and not expr.func.attr.startswith("named")
        and not expr.args
    ):
        return expr.func.value
    return None


def _module_pairs(node: ast.For, scope: ast.AST | None) -> dict[str, ast.expr]:
    """The loop's names for modules of a model, by the model they come from: `for m0, m1 in
    zip(model.modules(), newmodel.modules()):`, or `m1 = new_modules[i]` in the loop's body with
    `new_modules = list(newmodel.modules())` in the function (network-slimming's two spellings)."""
    lists: dict[str, ast.expr] = {}
    for sub in ast.walk(scope) if scope is not None else ():
        if isinstance(sub, ast.Assign) and len(sub.targets) == 1 and isinstance(sub.targets[0], ast.Name):
            held = _module_list(sub.value, {})
            if held is not None:
                lists[sub.targets[0].id] = held
    out: dict[str, ast.expr] = {}
    it, target = node.iter, node.target
    if (
        isinstance(it, ast.Call)
        and isinstance(it.func, ast.Name)
        and it.func.id == "zip"
        and not it.keywords
        and isinstance(target, (ast.Tuple, ast.List))
        and len(target.elts) == len(it.args)
    ):
        for name, arg in zip(target.elts, it.args, strict=True):
            held = _module_list(arg, lists)
            if isinstance(name, ast.Name) and held is not None:
                out[name.id] = held
    for st in node.body:
        if (
            isinstance(st, ast.Assign)
            and len(st.targets) == 1
            and isinstance(st.targets[0], ast.Name)
            and isinstance(st.value, ast.Subscript)
            and isinstance(st.value.value, ast.Name)
            and st.value.value.id in lists
        ):
            out[st.targets[0].id] = lists[st.value.value.id]
    return out


def _overwritten(written: list[tuple[Model, str, frozenset]], st: State) -> None:
    """Note each parameter written (``Walker._param_overwrites``) on its layer's construction; a layer all of
    whose random parameters are written keeps no random init: cleared, as by a strict load."""
    for m, param, before in written:
        layer = N.torch_nn_layer(m.cls or "")
        need = N.random_params(layer, dict(m.args)) if layer is not None else None
        if need is None:
            continue
        done = {t[4:] for t in before if t.startswith("set:")} | {param}
        if need <= done:
            st.pending[m.id] = frozenset(t for t in before if t != "fresh" and not t.startswith("set:")) | {"cleared"}
        else:
            st.pending[m.id] = before | {f"set:{param}"}


def _is_meta(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value == "meta"


def _empty_state() -> State:
    st = State()
    st.globals = {}
    st.seed = "unknown"
    return st


def _widen_state(old: State, new: State) -> State:
    """``new`` with every model mode that still differs from ``old`` widened to include unknown."""
    out = new.copy()
    for mid, modes in new.modes.items():
        if old.modes.get(mid) != modes:
            out.modes[mid] = modes | {UNKNOWN}
    return out


_NOT_KNOWN = object()  # what _literal_of answers for a value the code does not fix


def _constant_value(node: ast.Constant) -> frozenset:
    if isinstance(node.value, str):
        return frozenset({Str(node.value)})
    if node.value is None or isinstance(node.value, (bool, int)):
        return frozenset({Lit(node.value)})
    return EMPTY


# node type -> the Walker method that walks it (``s_If``, ``e_Call``) or None, looked up once per type
_UNSET = object()
_STMT_HANDLERS: dict[type, Any] = {}
_EXPR_HANDLERS: dict[type, Any] = {}
_COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
MAX_UNROLLED = 8  # a loop over more literals than this is walked as a loop (its fixpoint), not per element
MAX_CONTINUED = 16  # objects a program leaves behind whose uncalled public methods are walked after it
MAX_FACTORIES = 8  # places referring to a class followed to see how the objects they build leave them


def _literal_strings(node: ast.For) -> list[str] | None:
    """The elements of `for name in ('train', 'val'):`, when the loop runs over a short literal of
    strings into a plain name; else None."""
    it = node.iter
    if not isinstance(node.target, ast.Name) or not isinstance(it, (ast.Tuple, ast.List)):
        return None
    if not 1 <= len(it.elts) <= MAX_UNROLLED:
        return None
    if not all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in it.elts):
        return None
    return [e.value for e in it.elts]  # type: ignore[attr-defined]


def _runs_at_least_once(node: ast.AST) -> bool:
    """`for m in (enc, dec):`, `for _ in range(3):` and `for epoch in range(0, 3):` run their body: the loop
    cannot be skipped."""
    if not isinstance(node, (ast.For, ast.AsyncFor)):
        return False
    it = node.iter
    if isinstance(it, (ast.Tuple, ast.List)):
        return bool(it.elts) and not any(isinstance(e, ast.Starred) for e in it.elts)
    if (
        isinstance(it, ast.Call)
        and isinstance(it.func, ast.Name)
        and it.func.id == "range"
        and 1 <= len(it.args) <= 3
        and not it.keywords
    ):
        bounds = [a.value for a in it.args if isinstance(a, ast.Constant) and type(a.value) is int]
        return len(bounds) == len(it.args) and len(range(*bounds)) > 0
    return False


_SEED_ORDER: dict[str | None, int] = {"no": 3, "cuda": 2, "maybe": 1}


def _assignments(body: list[ast.stmt]):
    """(target name, value) of the plain and subscript assignments in ``body`` (`x = v`, `x[k] = v`, `x += v`)."""
    for stmt in body:
        for sub in ast.walk(stmt):
            if isinstance(sub, ast.Assign):
                targets, value = sub.targets, sub.value
            elif isinstance(sub, (ast.AugAssign, ast.AnnAssign)) and sub.value is not None:
                targets, value = [sub.target], sub.value
            else:
                continue
            for t in targets:
                base = t.value if isinstance(t, ast.Subscript) else t
                if isinstance(base, ast.Name):
                    yield base.id, value


def _flows_into(body: list[ast.stmt], names: set[str], ctx: ModuleCtx, stop: set[str]) -> set[str]:
    """``names`` and the names their values are computed from in ``body``, transitively (bounded), never
    through the names in ``stop`` (the model's: `csd = intersect_dicts(csd, model.state_dict())` makes `csd`
    no report about the model), nor through where a checkpoint reader finds its file (`ckpt =
    torch.load(args.ckpt)`: `args` holds no keys; see _mapping_names)."""
    out = set(names)
    imported = ctx.imports.bindings
    pairs = list(_assignments(body))
    for _ in range(4):
        grown = {
            n
            for target, value in pairs
            if target in out
            for n in _mapping_names(value, ctx)
            if n not in imported and n not in stop
        } - out
        if not grown:
            break
        out |= grown
    return out


def _bound_from(body: list[ast.stmt], receiver: str) -> set[str]:
    """The names ``body`` binds to the model's own keys (`own = model.state_dict()`)."""
    return {
        target
        for target, value in _assignments(body)
        if isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and value.func.attr == "state_dict"
        and N.dotted(value.func.value) == receiver
    }


def _over_all_keys(report: ast.AST, parents: dict, scope: ast.AST, names: set[str]) -> bool:
    """Does a loop the report stands in run over one of ``names`` (a mapping, its keys or items), not over a
    list the code spells?"""
    child, up = report, parents.get(id(report))
    while up is not None and up is not scope:
        iters = (
            [up.iter]
            if isinstance(up, (ast.For, ast.AsyncFor)) and child is not up.iter
            else [g.iter for g in up.generators]
            if isinstance(up, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp))
            else []
        )
        for it in iters:
            if not isinstance(it, (ast.List, ast.Tuple, ast.Set)) and any(
                isinstance(n, ast.Name) and n.id in names for n in ast.walk(it)
            ):
                return True
        child, up = up, parents.get(id(up))
    return False


def _context_exprs(report: ast.AST, parents: dict, scope: ast.AST) -> list[ast.AST]:
    """A report and what decides that it runs and what it is about: the tests of the ``if``s and ``while``s
    it stands in and the iterables of its loops (comprehensions included), up to ``scope``."""
    out: list[ast.AST] = [report]
    child, up = report, parents.get(id(report))
    while up is not None and up is not scope:
        if isinstance(up, (ast.If, ast.While, ast.IfExp)) and child is not up.test:
            out.append(up.test)
        elif isinstance(up, (ast.For, ast.AsyncFor)) and child is not up.iter:
            out.append(up.iter)
        elif isinstance(up, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            out.extend(up.generators)
        child, up = up, parents.get(id(up))
    return out


_REPORTING = frozenset({"print", "info", "warning", "warn", "error", "debug", "log", "critical", "exception", "write"})


def _loaded_site(v) -> str | None:
    """The torch.load a value was read from (the whole mapping, or an entry of it), if it is one."""
    if isinstance(v, Loaded):
        return v.site
    return v.loaded.site if isinstance(v, LoadedItem) else None


def merge_event(events: dict, key: tuple, ev: Event) -> None:
    """Keep one event per place: the first, except that a construction reached unseeded on one path and
    seeded-on-some-paths on another is reported with the worse verdict."""
    cur = events.get(key)
    if cur is None:
        events[key] = ev
        return
    if ev.kind == "unseeded_build" and cur.data.get("nonstrict") != ev.data.get("nonstrict"):
        # restored with strict=False on one path only: the message cannot say it is (the other keeps it all)
        cur.data = {k: v for k, v in cur.data.items() if k != "nonstrict"}
    if ev.kind == "unseeded_build" and _SEED_ORDER.get(ev.data.get("seed"), 0) > _SEED_ORDER.get(
        cur.data.get("seed"), 0
    ):
        ev, cur = cur, ev
        events[key] = cur
    if ev.kind == "unseeded_build" and cur.data.get("look_only") and not ev.data.get("look_only"):
        # only looked at on one path, kept on another: kept
        cur.data = dict(cur.data, look_only=False)
    # the other calls that reach the same finding are named too
    vias = [v for v in (ev.data.get("via"), *ev.data.get("also_via", ())) if v]
    known = {tuple(v) for v in (cur.data.get("via"), *cur.data.get("also_via", ())) if v}
    extra = [tuple(v) for v in vias if tuple(v) not in known]
    if extra and cur.data.get("via"):
        # the first in a fixed order is named first: the same message whichever walk met it first (objects of
        # several classes, `model.initialize(opt)`, are walked in the order of a set)
        every = sorted(
            {tuple(cur.data["via"]), *map(tuple, cur.data.get("also_via", ())), *extra},
            key=lambda v: tuple(str(x).zfill(9) if isinstance(x, int) else str(x) for x in v),
        )
        cur.data = dict(cur.data, via=every[0], also_via=tuple(every[1:]))


def collect_saves(project: Project, path: str, tree: ast.Module) -> list[dict]:
    """The torch.save sites of one project file (for the index), found by walking it like a lint."""
    ctx = ModuleCtx(path, tree, project, linted=True, seed_funcs=frozenset(project.settings.seed_functions))
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


_KEY_ERRORS = frozenset({"KeyError", "LookupError", "Exception", "BaseException"})


def _catches_key_error(handler: ast.ExceptHandler) -> bool:
    """Does the handler run when a key is missing (`except KeyError:`, `except Exception:`, a bare one)?"""
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(k is None or isinstance(k, ast.Name) and k.id in _KEY_ERRORS for k in kinds)


def _reads_name(expr: ast.expr, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(expr))
