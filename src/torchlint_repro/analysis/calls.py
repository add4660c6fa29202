"""The tracker's calls: seeds, constructions, forwards, model methods, and calls walked in place."""

from __future__ import annotations

import ast
import collections
import fnmatch
import functools
import os
import re
from collections.abc import Iterable
from pathlib import Path

from ..diagnostics import shown_path
from . import names as N
from .context import (
    EMPTY,
    INFERENCE_DECORATORS,
    MAX_INLINES_PER_FUNCTION,
    MAX_REACH_NODES,
    NO_EFFECT_FUNCS,
    RUNNER_FUNCS,
    SPAWN_FUNCS,
    Event,
    Frame,
    ModuleCtx,
    body_unreadable,
    module_ctx,
)
from .names import MAYBE, NO, YES
from .paths import path_template
from .project import arg_value, eval_name_parts, module_statements
from .smoke import PARAM_COLLECTIONS, LookOnly, ParamValues, metadata_use, plain_names
from .state import State, join_all, join_flag, join_seed, leave_no_grad_region, note_bound
from .syntax import (
    MAPPING_METHODS,
    OPTIM_NAME,
    FunctionNode,
    any_tri,
    apply_exit,
    call_func,
    callee_expr,
    const_truth,
    ctor_args,
    exit_effects,
    freeze,
    head_name,
    is_classmethod,
    is_main_guard,
    is_static,
    local_has_params,
    local_mode_dep,
    local_module_class,
    merge_out,
    on_cuda,
    reads_grad,
    seed_display,
    short_path,
    src_name,
    worse,
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
    LoadResult,
    Model,
    ModuleRef,
    Optimizer,
    Out,
    StateDict,
    Str,
    TupleVal,
    Volatile,
    in_order,
    join_values,
)
from .walker_base import WalkerBase

_SEED_NAMED = re.compile(r"seed", re.IGNORECASE)


@functools.lru_cache(maxsize=4096)
def _real(path: str) -> str:
    return os.path.realpath(path)


# methods that act on a model or its training (see CallsMixin._acts_on_models)
_MODEL_ACTS = frozenset(
    {"eval", "train", "load_state_dict", "state_dict", "from_pretrained", "from_config", "backward"}
    | {"seed_everything", "set_seed", "manual_seed_all"}
)
_MEASURING_BUILTINS = frozenset({"len", "int", "float", "abs", "round", "max", "min", "sum", "bool", "str", "range"})


def _evals_first_argument(deco: FunctionNode) -> bool:
    """Does the decorator ``deco`` return a wrapper that calls `.eval()` on its first parameter and then the
    function it decorates?"""
    if not deco.args.args:
        return False
    wrapped = deco.args.args[0].arg
    for inner in deco.body:
        if not isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)) or not inner.args.args:
            continue
        first = inner.args.args[0].arg
        evaluated = False
        for stmt in inner.body:
            call = stmt.value if isinstance(stmt, ast.Expr) else None
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "eval"
                and isinstance(call.func.value, ast.Name)
                and call.func.value.id == first
            ):
                evaluated = True
            elif evaluated and any(
                isinstance(c, ast.Call) and isinstance(c.func, ast.Name) and c.func.id == wrapped
                for c in ast.walk(stmt)
            ):
                return True
    return False


def _measures(q: str) -> bool:
    """Does a call of ``q`` make a number or a tensor of its arguments, keeping none of them: a torch layer
    (its sizes), a torch or numpy function, math, a builtin that counts or converts? A container, a wrapper
    or a module class keeps what it is handed."""
    layer = N.torch_nn_layer(q)
    if layer is not None:
        return layer not in N.CONTAINERS
    if q in N.WRAPPERS or q in N.TRANSPARENT_WRAPPERS:
        return False
    root = q.split(".", 1)[0]
    if root == "torch":
        return not q.startswith("torch.nn.")
    return root in ("numpy", "math") or q in _MEASURING_BUILTINS


class CallsMixin(WalkerBase):
    # ================================================================== calls
    def e_Call(self, node: ast.Call, st: State, discard: bool = False) -> frozenset:
        ctx = self.frames[-1].ctx
        func = node.func
        read = N.literal_getattr(func)
        if (
            read is not None
            and isinstance(func, ast.Call)
            and isinstance(read[0], (ast.Name, ast.Attribute))
            and not self._head_bound(func.func, st)
        ):
            # `getattr(deeplab, "resnet101")(...)`: the module's `resnet101`, named by a literal (as that
            # attribute, at the call's place)
            holder, attr = read
            func = self._kept(
                "getattr",
                func,
                ctx,
                lambda: ast.copy_location(ast.Attribute(value=holder, attr=attr, ctx=ast.Load()), func),
            )
        if (
            isinstance(func, ast.Name)
            and func.id in ("isinstance", "hasattr")
            and node.args
            and not self._head_bound(func, st)
        ):
            self._format_checked(self.ev(node.args[0], st))
            for a in node.args[1:]:
                self.ev(a, st)
            return EMPTY
        if (
            isinstance(func, ast.Name)
            and func.id == "eval"
            and len(node.args) == 1
            and not node.keywords
            and not self._head_bound(func, st)
        ):
            named = self._named_by_eval(node.args[0], st)
            if named is not None:
                return named
        if isinstance(func, ast.Name) and func.id == "dict" and not node.args and not self._head_bound(func, st):
            entries = tuple((k.arg, self.ev(k.value, st)) for k in node.keywords if k.arg)
            return frozenset({DictVal(entries)})
        if isinstance(func, ast.Attribute) and func.attr in N.SEED_METHODS:
            self._eval_args(node, st)
            self._seed(node, func.attr, st)
            return EMPTY
        if (
            isinstance(func, ast.Subscript)
            and isinstance(func.value, ast.Attribute)
            and func.value.attr == "__dict__"
            and ctx.resolve(func.value.value) in N.TORCHVISION_MODEL_MODULES
        ):
            # `models.__dict__[args.arch]()`: a torchvision builder chosen at run time
            self.ev(func.slice, st)
            return self._build_from_builder(node, "torchvision.models.<arch>", st)
        chosen = self._named_by_option(func, st)
        if chosen is not None:
            # `models.__dict__[args.model]()` with `--model` defaulting to "SmallNet": what runs without the
            # option (other values choose other definitions: the default is the one the script names)
            func = chosen
        by_name = self._class_by_name(func, st) if chosen is None else None
        if by_name is not None:
            # `models.__dict__[args.arch]()`, `getattr(models, name)()` over a project module: one of its
            # classes, chosen at run time
            mod, has, mode_dep = by_name
            self._eval_args(node, st)
            return self._new_model(node, None, st, [], {}, has_params=has, mode_dep=mode_dep)
        if (
            isinstance(func, ast.Attribute)
            and func.attr in ("Process", "start_processes")
            and self._head_bound(func, st)
        ):
            return self._qualified_call(node, "multiprocessing." + func.attr, st) or EMPTY
        if isinstance(func, ast.Attribute) and N.is_super_call(func.value):
            r = self._super_call(node, func.attr, st)
            if r is not None:
                return r
        # method calls on values we track
        recv: frozenset = EMPTY
        if isinstance(func, ast.Attribute):
            recv = self.ev(func.value, st)
            if (
                func.attr in _MAPPING_WRITES
                and isinstance(func.value, ast.Name)
                and any(isinstance(v, DictVal) for v in recv)
            ):
                # `args.update(...)`, `args.pop("model")`: entries we do not follow (what it returns is not read)
                self._eval_args(node, st)
                forget_mapping(func.value.id, st)
                return EMPTY
            if not self.updates and _updates_parameters(node, func):
                self.updates = True
            handled, method_result = self._method_call(node, func, recv, st, discard)
            if handled:
                return method_result
        q = self.resolve_in(ctx, func) if isinstance(func, (ast.Name, ast.Attribute)) else None
        if q is not None and self._head_bound(func, st):
            q = None  # a local variable shadows the import of the same name
        fvals = self._global_ref(func, ctx) if q is not None else self.ev(func, st)
        if q is not None:
            special = self._qualified_call(node, q, st)
            if special is not None:
                return special
        # evaluate the arguments (left to right), then dispatch on what is called
        built_before = self.seq  # constructions inside the arguments are numbered after this
        args = [self.ev(a, st) for a in node.args]
        kwargs = {k.arg: self.ev(k.value, st) for k in node.keywords}
        result: set = set()
        known = False
        # (several callees: one of a table's classes, `model_dict[name](...)`; in a fixed order, so that the one
        # a message names is the same in every process)
        for fv in sorted(fvals, key=in_order) if len(fvals) > 1 else fvals:
            if isinstance(fv, Model):
                known = True
                result |= self._forward(node, fv, st, args, kwargs)
            elif isinstance(fv, ClassRef):
                known = True
                result |= self._construct(node, fv, st, args, kwargs, built_before)
            elif isinstance(fv, FuncRef):
                r = self._call_ref(node, fv, st, args, kwargs)
                if r is not None:
                    known = True
                    result |= r
            elif isinstance(fv, (Loaded, LoadedItem)):
                known = True
                if isinstance(fv, Loaded):
                    self._loaded_used_as_module(fv, node, "called")
            elif isinstance(fv, LoadResult):
                known = True
                self._load_result_used(fv, node)
            elif isinstance(fv, Instance):
                # an object of a project class called (`loss_scaler(loss, optimizer)`): its `__call__` runs.
                # One that touches nothing tracked stays a call we do not follow (`log(loss)`: a logger,
                # known by name, looks at what it is given)
                found = self._find_method(fv.cls, "__call__")
                if found is not None and found[0].relevant(found[1], found[2]):
                    mctx, fn, cls = found
                    r = self._inline(node, mctx, fn, cls, args, kwargs, st, frozenset({fv}))
                    if r is not None:
                        known = True
                        result |= r
        if not known:
            self._unknown_call(node, q, args, kwargs, st)
        # what is computed from a forward's output (`d_fake.mean()`, `torch.cat([out, x])`) is still its output
        outs = [v for a in [recv] + args + list(kwargs.values()) for v in outs_in(a)]
        if (
            outs
            and isinstance(func, ast.Attribute)
            and func.attr in _IN_PLACE_WRITES
            and isinstance(func.value, ast.Name)
            and not any(isinstance(v, Model) for v in recv)
        ):
            # `m.index_add_(0, idx, y)`, `m.copy_(y)`: the tensor now holds what the output's values made, as with
            # `m[idx] = y` (see Walker.assign): a loss computed from it trains on them
            st.bind(func.value.id, frozenset(v for v in recv if not isinstance(v, Out)) | {merge_out(outs)})
        if outs and not any(isinstance(v, (Model,)) for v in result):
            result.add(merge_out(outs))
        return frozenset(result)

    def _unknown_call(self, node: ast.Call, q: str | None, args, kwargs, st: State) -> None:
        """A callee we cannot see: models passed to it may come back in any mode; results it reads."""
        name = q or N.dotted(node.func) or ""
        last = name.rsplit(".", 1)[-1]
        if last == "backward" or last in ("backward_step", "manual_backward"):
            self._training_step(node, [v for a in args for v in a], st)
        if last in SINK_FUNCS or name.startswith(("numpy.", "np.", "matplotlib.", "plt.", "PIL.", "imageio.", "cv2.")):
            for a in list(args) + list(kwargs.values()):
                sampled(self, a)
        if (
            name in NO_EFFECT_FUNCS
            or name.startswith(
                ("torch.", "logging.", "math.", "numpy.", "np.", "os.", "json.", "time.", "random.", "warnings.")
            )
            or last in ("info", "debug", "warning", "log", "print", "append", "write", "format")
        ):
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

    def _outside_project(self, q: str) -> bool:
        """A call into code the analysis does not read: a module outside the project (not torch, not a
        library whose seeders are known by name)."""
        root = q.lstrip("?").split(".", 1)[0]
        if root in ("torch", "numpy", "np", "random", "lightning", "pytorch_lightning", "transformers"):
            return False
        here = os.path.dirname(self.path) if self.path else None
        return self.project is None or self.project.find_module(root, here) is None

    def _qualified_call(self, node: ast.Call, q: str, st: State) -> frozenset | None:
        """Calls decided by their qualified name alone (seeds, grad switches, load/save, wrappers)."""
        last = q.rsplit(".", 1)[-1]
        if (
            q in N.SEED_CALLS
            and q not in N.NONDETERMINISTIC_SEEDS
            or N.is_listed_seed(q, self.seed_funcs)
            or last in N.SEED_METHODS
        ):
            self._eval_args(node, st)
            self._seed(node, q, st)
            return EMPTY
        if q in N.CUDA_SEEDS:
            self._eval_args(node, st)
            st.cuda = "yes"
            return EMPTY
        if q in N.OTHER_SEEDS:
            self._eval_args(node, st)
            if not self.mute:
                self.seq += 1
                self.other_seeds.append((self.seq, self.site_chain(node), q.replace("np.", "numpy.")))
            return EMPTY
        if not self.mute and _SEED_NAMED.search(last) and "cuda" not in last.lower() and self._outside_project(q):
            # a seeder the analysis cannot read (`mylib.seed_everything_native(0)`): the message suggests
            # `seed-functions` if a construction after it is reported (not for a CUDA seeder: those seed the
            # GPU generators, and a construction on the CPU draws from the CPU one)
            self.seq += 1
            self.other_seeds.append((self.seq, self.site_chain(node), "?" + q.lstrip("?")))
        if q in EXPORT_CALLS and node.args:
            # each argument evaluated once (a keyword holding a call runs once), all of them read
            args = [self.ev(a, st) for a in node.args]
            kwargs = {k.arg or f"**{i}": self.ev(k.value, st) for i, k in enumerate(node.keywords)}
            for vals in [*args, *kwargs.values()]:
                self._mark_read(vals)
            new_exporter = q != "torch.onnx.export" or any(
                k.arg == "dynamo" and const_truth(k.value) is True for k in node.keywords
            )
            if new_exporter:  # the legacy ONNX exporter switched to eval mode by itself (training=EVAL)
                for m in _models_in([args[0]]):
                    self._forward(node, m, st, args[1:], kwargs, export=q)
            return EMPTY
        if q in N.SET_GRAD and node.args:
            t = self._decided(node.args[0], st)
            st.grad = "off" if t is False else "on" if t is True else "maybe"
            self._eval_args(node, st)
            return EMPTY
        if q in N.TORCH_LOAD:
            args = self._eval_args(node, st)
            path = self._template(node.args[0], st) if node.args else None
            wo = None
            for k in node.keywords:
                if k.arg == "weights_only":
                    wo = const_truth(k.value)
            line, col = self.pos(node)
            site = f"{self.frames[-1].ctx.path}:{node.lineno}:{node.col_offset}"
            # a whole pickled module keeps the mode it was saved in: the save sites of the path say which
            modes, saved_cls = self._whole_module_mode(path, st)
            st.modes[site] = modes
            mode_dep = MAYBE
            if saved_cls and self.project is not None:
                mode_dep = self.project.mode_dependent(saved_cls, None, self.frames[-1].ctx.here)
            return frozenset(
                {
                    Loaded(site, path, line, col, wo, saved=st.saved.get(path, EMPTY) if path else EMPTY),
                    Model(site, None, origin="loaded", mode_dep=mode_dep, name=src_name(node)),
                }
            )
        if q in N.TORCH_SAVE:
            args = self._eval_args(node, st)
            if len(node.args) >= 2:
                self._save(node, args[0], node.args[1], st)
            return EMPTY
        if q in ("importlib.import_module", "importlib.__import__", "__import__") and node.args:
            args = self._eval_args(node, st)
            names = {v.template for v in args[0] if isinstance(v, Str)}
            if len(names) == 1:
                name = next(iter(names))
                if name.replace(".", "").replace("_", "").isalnum() and not name.startswith("."):
                    return frozenset({ModuleRef(name)})
            return EMPTY
        if q in ("torch.autograd.Variable", "torch.autograd.variable.Variable"):
            args = self._eval_args(node, st)
            out = set(args[0]) if args else set()
            if any(k.arg == "volatile" and const_truth(k.value) is True for k in node.keywords):
                out.add(Volatile())
            return frozenset(out)
        if q in ("copy.deepcopy", "copy.copy"):
            # `ema = copy.deepcopy(model)`: a model of its own, with the weights and the mode the original has
            # now (a training-mode model's copy is in training mode); it draws nothing from the generator
            args = self._eval_args(node, st)
            return frozenset(self._copied(node, v, st) for v in (args[0] if args else EMPTY) if isinstance(v, Model))
        if q in N.PEFT_ADAPTERS:
            # `model = get_peft_model(model, lora_config)`: the base model with new adapter layers, drawn from the
            # generator now; it runs in the base model's mode (the adapters' dropout follows it)
            handed = [self.ev(a, st) for a in [*node.args, *(k.value for k in node.keywords)]]
            for a in handed:
                self._mark_read(a)
            bases = [v for a in handed for v in a if isinstance(v, Model)]
            mode_dep = MAYBE if not bases or any(b.mode_dep != NO for b in bases) else NO
            made = self._new_model(node, "peft.PeftModel", st, [], {}, has_params=YES, mode_dep=mode_dep)
            for m in made:
                if isinstance(m, Model) and bases:
                    st.modes[m.id] = frozenset().union(*(st.mode(b.id) for b in bases))
                    self.held.setdefault(m.id, set()).update(b.id for b in bases)
            return made
        if q in N.WRAPPERS or q in N.TRANSPARENT_WRAPPERS:
            args = self._eval_args(node, st)
            src = args[0] if args else EMPTY
            for k in node.keywords:
                if k.arg == "module" and not args:  # `nn.DataParallel(module=net, device_ids=[0])`
                    src = self.ev(k.value, st)
            wrapper = q.rsplit(".", 1)[-1] if q in N.WRAPPERS else None
            return (
                frozenset(
                    v.as_wrapped(wrapper) if wrapper is not None and isinstance(v, Model) else v
                    for v in src
                    if isinstance(v, Model)
                )
                or EMPTY
            )
        if q in N.STRIP_PREFIX_FUNCS:
            args = self._eval_args(node, st)
            if node.args and isinstance(node.args[0], ast.Name):
                vals = st.lookup(node.args[0].id) or EMPTY
                st.bind(
                    node.args[0].id,
                    frozenset(v.strip() if isinstance(v, (StateDict, Loaded, LoadedItem)) else v for v in vals),
                )
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
            if fn is None and target is not None:
                for v in self.ev(target, st):
                    if isinstance(v, FuncRef) and v.local and v.local in self.frames[-1].ctx.functions:
                        fn = (self.frames[-1].ctx, self.frames[-1].ctx.functions[v.local])
                    elif isinstance(v, FuncRef) and v.local and v.local in self.root_ctx.functions:
                        fn = (self.root_ctx, self.root_ctx.functions[v.local])
            if fn is not None:
                self.reached.add((fn[0].path or "", fn[1].name))
                if not any(fn[0] is c and fn[1] is f for c, f in self.spawned):
                    self.spawned.append(fn)  # each worker is one process to judge, however often it is spawned
                if st.seed in ("yes", "maybe") and self.seed_calls:
                    # the parent seeded torch before starting it: a message says that seed stays in the parent
                    _, chain, name = self.seed_calls[-1]
                    self.parent_seeds.setdefault(id(fn[1]), (chain, name))
            return EMPTY
        if q in RUNNER_FUNCS:
            args = self._eval_args(node, st)
            if q == "fire.Fire" and not node.args and not node.keywords:
                self._fire_commands(st)
                return EMPTY
            for a in args[:1]:
                for fv in a:
                    if isinstance(fv, FuncRef):
                        self._call_ref(node, fv, st, [], {})
            return EMPTY
        if q.startswith("torch.optim.") and last[:1].isupper():
            held = self._optimized(node, st)  # before the arguments' own walk: their values, unchanged
            args = self._eval_args(node, st)
            ids = frozenset(v.id for a in args for v in a if isinstance(v, Model))
            self.module_evidence.update(ids)
            if not _lr_scheduler(q):
                # (in a summary's walk, its parameters are symbols, not the caller's models: it may hold any)
                self.optimizers.append(
                    (None, frozenset()) if held is None or self._summarizing else (held[0] | ids, held[1])
                )
            return frozenset({Optimizer(ids)})
        return None

    def _fire_commands(self, st: State) -> None:
        """`fire.Fire()` with no component: every public function the linted module defines at its top level
        is a command the command line picks (`python train.py train --epochs 3`). Each is walked after the
        module level as its own entry point, from the state here (``Walker._walk_commands``): one process runs
        one of them, so a seed in one command is no seed for another."""
        ctx = self.frames[-1].ctx
        if ctx is not self.root_ctx or self.mute:
            return
        for fn in ctx.tree.body:
            if (
                isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
                and not fn.name.startswith("_")
                and ctx.functions.get(fn.name) is fn
                and all(c[0] is not fn for c in self.commands)
            ):
                self.commands.append((fn, st.copy()))

    def _optimized(self, node: ast.Call, st: State) -> tuple[frozenset, frozenset[str]] | None:
        """The models whose parameters an optimizer's arguments hold, when they can all be told:
        ``model.parameters()``, ``self.G.named_parameters()``, a model itself, inside lists, ``*``,
        ``list()``, ``itertools.chain()`` and ``{"params": ...}`` groups; None when any argument is
        something else (a list built elsewhere, a filter): then the optimizer may hold any model. An item
        of a list that is a name we know nothing of (`SGD([image])`) is returned apart, by its name: a
        tensor the program feeds to a model is an input being optimized (class visualisation, an
        adversarial perturbation), not a model's parameters (see loads.py's _finish_root)."""
        ids: set = set()
        names: set[str] = set()

        def held(e: ast.expr) -> bool:
            if isinstance(e, ast.Starred):
                return held(e.value)
            if isinstance(e, (ast.List, ast.Tuple, ast.Set)):
                return all(held(x) or tensor(x) for x in e.elts)
            if isinstance(e, ast.Dict):
                return all(
                    k is not None and held(v) if isinstance(k, ast.Constant) and k.value == "params" else k is not None
                    for k, v in zip(e.keys, e.values, strict=True)
                )
            if isinstance(e, ast.BinOp) and isinstance(e.op, ast.Add):
                return held(e.left) and held(e.right)
            if isinstance(e, ast.Call):
                f = e.func
                if (
                    isinstance(f, ast.Attribute)
                    and f.attr in ("parameters", "named_parameters")
                    and isinstance(f.value, (ast.Name, ast.Attribute, ast.Subscript))
                ):
                    # `gen[0].parameters()`, `self.vqgan.encoder.parameters()`: a part of a model (a layer of a
                    # container, a submodule), held with the model
                    base = f.value.value if isinstance(f.value, ast.Subscript) else f.value
                    if not isinstance(base, (ast.Name, ast.Attribute)):
                        return False
                    models = [v for v in self.ev(base, st) if isinstance(v, Model)]
                    while not models and isinstance(base, ast.Attribute):
                        base = base.value
                        models = [v for v in self.ev(base, st) if isinstance(v, Model)]
                    ids.update(m.id for m in models)
                    return bool(models)
                if (N.dotted(f) or "") in ("list", "tuple", "itertools.chain", "chain"):
                    return all(held(a) for a in e.args) and not e.keywords
                return False
            if isinstance(e, (ast.Name, ast.Attribute)):
                models = [v for v in self.ev(e, st) if isinstance(v, Model)]
                ids.update(m.id for m in models)
                return bool(models)
            return False

        def tensor(e: ast.expr) -> bool:  # a list's item named by a name that holds no model we know
            if isinstance(e, (ast.Name, ast.Attribute)):
                names.add(src_name(e))
                return True
            return False

        params = node.args[:1] + [k.value for k in node.keywords if k.arg == "params"]
        if not params or not all(held(a) for a in params):
            return None
        return frozenset(ids), frozenset(names)

    def _frozen_by_loop(self, node: ast.Call) -> bool | None:
        """``for p in model.parameters(): p.requires_grad = False`` (or ``p.requires_grad_(False)``,
        ``for name, p in model.named_parameters():``): True when the loop at ``node`` freezes every
        parameter, False when it sets them all trainable, None otherwise (a condition picks some)."""
        scope = self.frames[-1].node if self.frames else None
        if scope is None:
            return None
        loop = self._parents(scope).get(id(node))
        if not isinstance(loop, (ast.For, ast.AsyncFor)) or loop.iter is not node:
            return None
        target = loop.target
        if isinstance(target, ast.Tuple) and len(target.elts) == 2:
            target = target.elts[1]
        if not isinstance(target, ast.Name):
            return None
        for s in loop.body:
            flag: ast.expr | None = None
            if (
                isinstance(s, ast.Assign)
                and len(s.targets) == 1
                and isinstance(s.targets[0], ast.Attribute)
                and s.targets[0].attr == "requires_grad"
                and isinstance(s.targets[0].value, ast.Name)
                and s.targets[0].value.id == target.id
            ):
                flag = s.value
            elif (
                isinstance(s, ast.Expr)
                and isinstance(s.value, ast.Call)
                and isinstance(s.value.func, ast.Attribute)
                and s.value.func.attr == "requires_grad_"
                and isinstance(s.value.func.value, ast.Name)
                and s.value.func.value.id == target.id
            ):
                flag = s.value.args[0] if s.value.args else ast.Constant(True)
            if flag is not None:
                t = const_truth(flag)
                return None if t is None else not t
        return None

    def _param_values_read(self, node: ast.Call) -> bool:
        """Are the values of the parameter collection ``node`` takes read in the function that takes it
        (see ``smoke.ParamValues``), not only the parameters' names and metadata?"""
        frame = self.frames[-1] if self.frames else None
        if frame is None or frame.node is None:
            return False
        key = ("param-values", id(node))
        if key not in self._memo:
            reads = ParamValues(frame.node, self._parents(frame.node), frame.ctx.resolve, self._note_scan)
            try:
                self._memo[key] = reads.read(node)
            except RecursionError:
                self._memo[key] = True  # deeply nested code: a read, as every answer we cannot reach
        return self._memo[key]

    def _parents(self, scope: ast.AST) -> dict:
        """Each node's parent in ``scope`` (by id), made once per function or module."""
        key = ("parents", id(scope))
        parents = self._memo.get(key)
        if parents is None:
            parents = self._memo[key] = N.parent_map(scope)
        return parents

    def _eval_args(self, node: ast.Call, st: State) -> list[frozenset]:
        args = [self.ev(a, st) for a in node.args]
        for k in node.keywords:
            self._mark_read(self.ev(k.value, st))
        for a in args:
            self._mark_read(a)
        return args

    def _local_function(self, expr: ast.expr) -> tuple[ModuleCtx, FunctionNode] | None:
        ctx = self.frames[-1].ctx
        if isinstance(expr, ast.Name) and expr.id in ctx.functions:
            return ctx, ctx.functions[expr.id]
        return None

    # ------------------------------------------------------------------ seeds
    def _seed(self, node: ast.Call, q: str, st: State) -> None:
        st.seed = "yes"
        self.seq += 1
        if not self.mute:
            self.seed_calls.append((self.seq, self.site_chain(node), seed_display(q, node)))
            self.seed_arms[self.seq] = tuple(self.arms)

    # ------------------------------------------------------------------ methods on tracked values
    def _method_call(
        self, node: ast.Call, func: ast.Attribute, recv: frozenset, st: State, discard: bool
    ) -> tuple[bool, frozenset]:
        attr = func.attr
        if attr in ("append", "extend", "insert") and isinstance(func.value, ast.Name):
            lists = [v for v in recv if isinstance(v, TupleVal)]
            if lists:  # `layers.append(nn.Dropout(p))`: what the list holds grows (see grown_list)
                args = [self.ev(a, st) for a in node.args]
                for k in node.keywords:
                    self.ev(k.value, st)
                added = args[-1:] if attr != "extend" else [_items_of(a) for a in args[:1]]
                others = recv - frozenset(lists)
                st.bind(func.value.id, others | frozenset(grown_list(v, added) for v in lists))
                return True, EMPTY
        models = [v for v in recv if isinstance(v, Model)]
        # sorted: one answer, whatever the set's order
        classes = sorted((v for v in recv if isinstance(v, ClassRef)), key=lambda c: c.qualname)
        builders = [v for v in recv if isinstance(v, FuncRef) and v.builder]
        instances = [v for v in recv if isinstance(v, Instance)]
        loaded = [v for v in recv if isinstance(v, (Loaded, LoadedItem))]
        results = [v for v in recv if isinstance(v, LoadResult)]
        outs = [v for v in recv if isinstance(v, Out)]

        if attr == "load_state_dict" and not models and self._project_function(func, st):
            return False, EMPTY  # `utils.load_state_dict(model, sd)`: a project module's function (ConvNeXt's)
        if attr == "load_state_dict":
            if (classes or builders) and len(node.args) < 2:
                for c in classes:
                    if c.module_class:
                        self.emit("load_on_class", node, cls=src_name(func.value))
                        break
                else:
                    if builders:
                        self.emit("load_on_class", node, cls=src_name(func.value))
            if optimizer_like(recv, func.value):
                return False, EMPTY
            if models or (not classes and not builders and not instances):
                return True, self._load_state_dict(node, models, st, discard)
        if classes and attr != "load_state_dict" and (attr == "from_pretrained" or not models):
            # the project class's own `from_pretrained`, or a static or class method called on it
            # (`ModelBuilder.build_encoder(...)`: csail semantic-segmentation's factories), walked like a
            # function with the class bound first; an instance method called on the class takes its object as
            # the first argument, which the call does not show: not followed
            found = self._find_method(classes[0].qualname, attr)
            if found is not None and (attr == "from_pretrained" or is_static(found[1]) or is_classmethod(found[1])):
                mctx, fn, cls = found
                args = [self.ev(a, st) for a in node.args]
                kwargs = {k.arg: self.ev(k.value, st) for k in node.keywords}
                r = self._inline(node, mctx, fn, cls, args, kwargs, st, frozenset({classes[0]}))
                return True, r if r is not None else EMPTY
        if attr in ("from_pretrained",):
            self._eval_args(node, st)
            line, col = self.pos(node)
            mid = f"{self.frames[-1].ctx.path}:{node.lineno}:{node.col_offset}"
            st.modes[mid] = frozenset({EVAL})
            st.mode_src[mid] = frozenset({("from_pretrained", line, self.path)})
            cls = classes[0].qualname if classes else None
            return True, frozenset({Model(mid, cls, origin="pretrained", mode_dep=MAYBE, name=src_name(func.value))})
        if attr in ("from_config", "_from_config") and (classes or N.dotted(func.value)):
            args = self._eval_args(node, st)
            cls = classes[0].qualname if classes else None
            return True, self._new_model(node, cls, st, args, {}, has_params=YES, mode_dep=MAYBE)
        if results and attr in N.MODULE_USE_METHODS:
            self._eval_args(node, st)
            for lr in results:
                self._load_result_used(lr, node)
            return True, EMPTY
        if loaded and attr in MAPPING_METHODS:
            self._eval_args(node, st)
            for lv in loaded:
                lo = lv if isinstance(lv, Loaded) else lv.loaded
                key = (
                    node.args[0].value
                    if attr in ("get", "pop") and node.args and isinstance(node.args[0], ast.Constant)
                    else None
                )
                if attr == "pop" and key is not None:
                    continue  # `sd.pop("mask_values")` cleans a state_dict of an extra entry; it is no checkpoint
                self.mapping_read(lo.site, key)
                if attr == "get":
                    self.checked_loads.add(lo.site)  # .get(): the key may be missing, handled
                    return True, frozenset({LoadedItem(lo, key)})
            return True, EMPTY
        if loaded and models and attr in N.MODULE_USE_METHODS and attr != "load_state_dict":
            for lv in loaded:
                if isinstance(lv, Loaded):
                    self._loaded_used_as_module(lv, node, f".{attr}()")
        if attr in ("module", "_orig_mod") and models:
            return False, EMPTY  # `ddp.module(x)`: a forward of the wrapped model, not a method
        if loaded and not models and not instances:
            # (a name holding a loaded object on one path and a project object on another, `model =
            # CTGAN.load(path) if args.load else CTGAN(...)`: the object's method runs, walked below)
            args = self._eval_args(node, st)
            for lv in loaded:
                lo = lv if isinstance(lv, Loaded) else lv.loaded
                if attr in ("keys", "items", "values", "get", "pop", "copy", "update", "__getitem__"):
                    key = None
                    if attr in ("get", "pop") and node.args and isinstance(node.args[0], ast.Constant):
                        key = node.args[0].value
                        if attr == "get":
                            return True, frozenset({LoadedItem(lo, key)})
                    self.mapping_read(lo.site, key)
                elif attr in N.MODULE_USE_METHODS and attr != "load_state_dict":
                    if isinstance(lv, Loaded):
                        self._loaded_used_as_module(lo, node, f".{attr}()")
                    if attr in N.SELF_RETURNING:
                        return True, frozenset({lv})
            return True, EMPTY
        if outs and attr in ("backward",):
            self._eval_args(node, st)
            scope = self.frames[-1].node if self.frames else None
            if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) and self._kept(
                "input-gradient", scope, self.frames[-1].ctx, lambda: takes_input_gradient(scope)
            ):
                # an attack's or a saliency map's backward: the gradient it wants is its input's (`x.grad`),
                # and the function steps no optimizer: no training step, whatever mode the model is in
                return True, EMPTY
            self._training_step(node, outs, st)
            return True, EMPTY
        if outs and attr in SINK_METHODS:
            sampled(self, outs)
        if not models and attr in N.SELF_RETURNING and any(isinstance(v, Volatile) for v in recv):
            self._eval_args(node, st)
            return True, frozenset(v for v in recv if isinstance(v, (Volatile, Out)))
        if attr in N.PREPARE_METHODS and any(i.cls in N.MODEL_PREPARERS for i in instances):
            # `model, opt = fabric.setup(model, opt)`, `model = accelerator.prepare(model)`: what was handed
            # in comes back in order (one argument: itself), each model wrapped in one sharing its mode
            args = [self.ev(a, st) for a in node.args]
            kwargs = {k.arg: self.ev(k.value, st) for k in node.keywords}
            for a in args + list(kwargs.values()):
                self._mark_read(a)
            if not args or any(isinstance(a, ast.Starred) for a in node.args):
                return True, EMPTY  # `accelerator.prepare(*objs)`: which is which, we cannot tell
            if "scheduler" in kwargs:  # (Fabric: returned after the optimizers)
                args.append(kwargs["scheduler"])
            if len(args) == 1:
                return True, args[0]
            return True, frozenset({TupleVal(tuple(args))})
        if instances and all(m.origin == "loaded" for m in models):
            # `trainer.step(batch)`: the object's own method, whatever its name; also when the name may hold
            # a whole object unpickled instead (`CTGAN.load(path)` on one path: the same class, restored)
            r = self._call_method_on_instance(node, attr, instances, st)
            if r is not None:
                return True, r
        if attr == "step" and not models:
            return False, EMPTY
        if (attr == "eval" or attr == "train") and not models and not recv:
            # `self.net.eval()` in a method of a wrapper module: its submodule's mode (see Model.part)
            models = self._submodules_of(func.value, st)
        if not models:
            if outs:
                self._eval_args(node, st)
                if attr in ("detach", "detach_"):
                    # `x_adv.detach()`, `fake.detach()`: the same values, through which no gradient reaches the
                    # forwards (an attack's eval-mode forward, a generator's under the discriminator's loss): a
                    # backward of what is computed from them trains none of them
                    return True, frozenset({detached(merge_out(outs))})
                return True, frozenset({merge_out(outs)})
            return False, EMPTY
        # ---- a model's own methods
        if attr in N.MODULE_USE_METHODS and attr not in _DEVICE_MOVES:
            # used as a module: a class we cannot read is one. Not by a move to a device or a dtype: filters,
            # samplers and metrics move too (Real-ESRGAN's `USMSharp().cuda()`), and hold no dropout/batch-norm
            self.module_evidence.update(m.id for m in models)
        args = [self.ev(a, st) for a in node.args]
        kwargs = {k.arg: self.ev(k.value, st) for k in node.keywords}
        for a in args + list(kwargs.values()):
            self._mark_read(a)
        if attr == "eval" or attr == "train":
            mode = EVAL if attr == "eval" else TRAIN
            by_flag = False  # the mode is the one a caller's flag asked for
            if attr == "train":
                flag = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "mode"), None)
                if flag is not None:
                    t = self._decided(flag, st)  # `model.train(train)` with the flag the caller passed
                    mode = TRAIN if t is True else EVAL if t is False else UNKNOWN
                    by_flag = t is not None and const_truth(flag) is None
            line, _ = self.pos(node)
            for m in models + self._registered(models):
                if not m.part:  # the whole model: its submodules follow (`self.net.eval()` before is undone)
                    for key in [k for k in st.modes if k.startswith(f"{m.id}/")]:
                        del st.modes[key]
                        st.mode_src.pop(key, None)
                st.modes[m.mode_key] = frozenset({mode})
                if mode == EVAL:
                    # `.train(False)`, `.train(mode=flag)` with a false flag: named as written, not as `.eval()`
                    kind = "eval" if attr == "eval" else "eval_by_train"
                    st.mode_src[m.mode_key] = frozenset({(kind, line, self.path)})
                elif mode == TRAIN:
                    # `.train()` inside a no_grad region opened right here (a `with` block or a decorator of
                    # this function) is deliberate (batch-norm recalibration, as in
                    # torch.optim.swa_utils.update_bn): the forwards that follow are not reported. An
                    # evaluate() that starts with `.train()` and is called under a caller's no_grad is the
                    # training function copied: a plain `.train()`
                    frame = self.frames[-1]
                    own_region = getattr(frame, "_with_region", None) is not None or frame.region in (
                        "torch.no_grad",
                        "torch.inference_mode",
                    )
                    kind = (
                        "train_under_no_grad"
                        if st.grad == "off" and own_region
                        else "train_by_flag"
                        if by_flag
                        else "train"
                    )
                    st.mode_src[m.mode_key] = frozenset({(kind, line, self.path)})
            return True, frozenset(models)
        if attr in ("forward", "generate", "__call__"):
            res: set = set()
            for m in models:
                if attr == "generate" and m.cls:
                    # the model's own generate() (nanoGPT's): walked, its forwards judged where they are
                    r = self._call_model_method(node, m, attr, st, args, kwargs)
                    if r is not None:
                        res |= r
                        continue
                res |= self._forward(node, m, st, args, kwargs, generate=(attr == "generate"))
            return True, frozenset(res)
        if attr == "requires_grad_" and not self.mute:
            flag = (
                node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "requires_grad"), None)
            )
            t = True if flag is None else const_truth(flag)
            for m in models:
                self.frozen[m.id] = t is False and self.frozen.get(m.id, True)
        if attr in PARAM_COLLECTIONS:
            # its values read before a strict load overwrites them: that load no longer clears the random init
            fresh = [m for m in models if "fresh" in st.pending.get(m.id, ())]
            if fresh and self._param_values_read(node):
                for m in fresh:
                    self._use_model(m, st)
        if attr in ("parameters", "named_parameters") and not self.mute:
            frozen = self._frozen_by_loop(node)
            if frozen is not None:
                for m in models:
                    self.frozen[m.id] = frozen and self.frozen.get(m.id, True)
        if attr == "state_dict":
            return True, frozenset(StateDict(m.id, m.cls, m.args, m.wrapped) for m in models)
        if attr in N.SELF_RETURNING:
            return True, frozenset(models)
        if attr in PARAM_COLLECTIONS or attr in ("modules", "children", "named_modules"):
            return True, EMPTY
        # a method of a user model class: walk it with self bound to the model
        res = set()
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
            sub = self._submodule(m, attr)
            if sub is not None:
                # `ae.decoder(z)`: a forward of a submodule, in the mode its holder is in
                res |= self._forward(node, sub, st, args, kwargs)
            else:
                self._use_model(m, st)
        return True, frozenset(res)

    def _submodules_of(self, expr: ast.expr, st: State) -> list[Model]:
        """The submodules `holder.attr` names (`self.net`), for a holder read from names only (no call runs
        twice); empty for anything else."""
        if not isinstance(expr, ast.Attribute) or N.dotted(expr.value) is None:
            return []
        holders = [v for v in self.ev(expr.value, st) if isinstance(v, Model)]
        subs = [self._submodule(m, expr.attr) for m in sorted(holders, key=lambda v: in_order(v.id))]
        return [s for s in subs if s is not None]

    def _submodule(self, m: Model, attr: str) -> Model | None:
        """The submodule ``m.<attr>`` as a model value sharing ``m``'s mode, when ``m``'s class (or a base)
        assigns ``self.<attr>`` from a call in a method and has no method of that name."""
        if not m.cls or self.project is None or attr.startswith("__"):
            return None
        ctx = self.frames[-1].ctx
        seen: set = set()
        todo = [m.cls]
        while todo:
            q = todo.pop()
            if q in seen or len(seen) > 8:
                break
            seen.add(q)
            hit = self.project.class_facts(q, ctx.here)
            if hit is None:
                continue
            facts, rec = hit
            if attr in facts.get("attrs", {}):
                ctor = facts["attrs"][attr]
                mode_dep = m.mode_dep
                if ctor and N.torch_nn_layer(ctor) not in (None, *N.CONTAINERS):
                    mode_dep = self.project.mode_dependent(ctor, None, str(Path(rec.path).parent))
                part = f"{m.part}.{attr}" if m.part else attr
                return Model(
                    m.id, ctor, (), m.wrapped, m.origin, mode_dep, f"{m.name}.{attr}", m.lightning, m.wrapper, part
                )
            todo.extend(b for b in facts["bases"] if not b.startswith("?"))
        return None

    def _project_function(self, func: ast.Attribute, st: State) -> bool:
        """Does ``func`` (`utils.load_state_dict`) name a function of a project module, not a method?"""
        if self.project is None or self._head_bound(func, st):
            return False
        ctx = self.frames[-1].ctx
        q = self.resolve_in(ctx, func)
        hit = self.project.locate(q, ctx.here) if q is not None else None
        return hit is not None and hit[0] == "function"

    def _super_call(self, node: ast.Call, attr: str, st: State) -> frozenset | None:
        """`super().__init__()`, `super(Exp, self).setup(cfg)` in a method: the first base class (in order)
        that defines ``attr`` runs it on the same object (Informer's `Exp_Informer.__init__` whose base builds
        the model through `self._build_model()`, an override of the subclass). None when no base of the
        project defines it (`nn.Module.__init__`): a call we do not follow, as before."""
        frame = self.frames[-1]
        cdef = frame.ctx.classes.get(frame.cls) if frame.cls else None
        if cdef is None or not frame.self_val:
            return None
        for b in cdef.bases:
            q = frame.ctx.resolve(b) if isinstance(b, (ast.Name, ast.Attribute)) else None
            if q is None or q.startswith("torch.") or q in N.MODULE_BASES or q in N.LIGHTNING_BASES:
                continue
            found = self._find_method(q, attr)
            if found is None:
                continue
            mctx, fn, bcls = found
            args = [self.ev(a, st) for a in node.args]
            kwargs = {k.arg: self.ev(k.value, st) for k in node.keywords}
            r = self._inline(node, mctx, fn, bcls, args, kwargs, st, frame.self_val, module_method=frame.module_method)
            return r if r is not None else EMPTY
        return None

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
        if not mctx.walkable(fn, cls) and not self._reaches_walkable(mctx, fn, cls, frozenset({m}), handed=True):
            # a method of its own class that sets no mode, seed or checkpoint and opens no inference region:
            # calling it changes nothing tracked, as with any function of the project that does not (its
            # random init is not used by it: `self._init_weights()` before a strict load)
            return EMPTY
        return self._inline(node, mctx, fn, cls, args, kwargs, st, frozenset({m}), module_method=True)

    def _reaches_walkable(
        self, ctx: ModuleCtx, fn: FunctionNode, cls: ast.ClassDef | None, self_val, handed: bool
    ) -> bool:
        """Does ``fn``, which its own module sees nothing in worth walking from another file, run project code
        that is? Its module's view stops at the module's own functions, and at the class ``fn`` is written
        in; the program runs more: `self.m()` on an object of a subclass runs the subclass's override
        (faster-rcnn's `_fasterRCNN.create_architecture()` -> `self._init_modules()` of `vgg16`, which
        restores pretrained weights), `super().__init__()` runs the base's (Informer's `Exp_Informer.__init__`
        -> `Exp_Basic.__init__` -> `self._build_model()`, the subclass's, which builds the model), and a
        call into another module runs its code (`run(model)` whose `evaluate(model)`, in a third file,
        runs the model under no_grad). Followed through the names each function refers to (the project
        index's facts: their bodies may not be kept), breadth first, ``self`` standing for the object
        ``self_val`` holds while the calls stay on it. What counts is a function reached by a call its caller's
        module does not see (see ``_callees``) that acts on models itself (``_acts_on_models``; a module's
        view of "worth walking" counts more, a data pipeline's random sampler or file reader among it), or,
        when the call hands a model on (``handed``: in its arguments, or as the object it runs on), one whose
        findings depend on its caller's state; past ``MAX_REACH_NODES`` functions, yes (walking it costs
        time, never a finding). The functions found to reach nothing are remembered for the walk."""
        if self.project is None:
            return False
        recv = next((v.cls for v in sorted(self_val, key=in_order) if isinstance(v, (Model, Instance)) and v.cls), None)
        start = (ctx, fn, cls, recv or self._class_q(ctx, cls))
        hit = self._memo.get(("reaches", id(fn), start[3], handed))
        if hit is not None and hit[0] is fn:
            return hit[1]
        known = self._reach_answer(start, handed)
        if known is not None:
            self._memo[("reaches", id(fn), start[3], handed)] = (fn, known)
            return known
        seen: dict[tuple[int, str | None], tuple] = {(id(fn), start[3]): start}
        todo = collections.deque([start])
        found = False
        with self.project.recording() as read:
            while todo and not found:
                c, f, k, obj = todo.popleft()
                for target, beyond in self._callees(c, f, k, obj):
                    tctx, tfn, tcls, tobj = target
                    if (id(tfn), tobj) in seen:
                        continue
                    memo = self._memo.get(("reaches", id(tfn), tobj, handed))
                    answer = memo[1] if memo is not None and memo[0] is tfn else self._reach_answer(target, handed)
                    if answer is False:
                        continue  # known to reach nothing worth walking
                    if answer or (
                        beyond
                        and (
                            (handed and self._fname(tfn, tcls) in tctx.context_units())
                            or (tctx.relevant(tfn, tcls) and self._acts_on_models(tctx, tfn))
                        )
                    ):
                        found = True
                        break
                    seen[(id(tfn), tobj)] = target
                    if len(seen) > MAX_REACH_NODES:
                        found = True
                        break
                    todo.append(target)
        # what it reaches, each function reaches a part of: none of them reaches anything either
        answers = [(start, True)] if found else [(node, False) for node in seen.values()]
        for node, answer in answers:
            self._memo[("reaches", id(node[1]), node[3], handed)] = (node[1], answer)
        root = self._root_real()
        if not any(p == root or self.project.in_memory_path(p) for p in read):
            # an answer that read none of the linted text holds for the next lint of it (an editor's buffer
            # after each keystroke) while what it read is unchanged
            for node, answer in answers:
                self.reach_learned[self._reach_key(node, handed)] = answer
            self.reach_learned_deps.update(read)
        return found

    def _root_real(self) -> str | None:
        """The linted file's real path, as the project names the files it reads."""
        hit = self._memo.get("root-real")
        if hit is None:
            hit = self._memo["root-real"] = (os.path.realpath(self.root_ctx.path) if self.root_ctx.path else "",)
        return hit[0] or None

    def _reach_key(self, node: tuple, handed: bool) -> str:
        ctx, fn, cls, obj = node
        return f"{ctx.path}\0{self._fname(fn, cls)}\0{obj or ''}\0{int(handed)}"

    def _reach_answer(self, node: tuple, handed: bool) -> bool | None:
        """The answer of ``_reaches_walkable`` for ``node`` a previous lint of the file learned (see
        ``program.analyze``); using it counts what it read as read."""
        if not self.reach_known:
            return None
        answer = self.reach_known.get(self._reach_key(node, handed))
        if answer is not None and not self.reach_known_noted:
            self.reach_known_noted = True
            assert self.project is not None
            self.project.note_deps(self.reach_known_deps)
        return answer

    def _acts_on_models(self, ctx: ModuleCtx, fn: FunctionNode) -> bool:
        """Does the body of ``fn`` itself act on what the rules track: seed torch, load or save a checkpoint,
        build a model with parameters (a class of a table too: `{"informer": Informer}`), switch a mode,
        restore or read a state_dict, run backward, open an inference region? (Its module's view of
        "worth walking" also counts what only may: any `.load()`, a random sampler's own generator, a
        parameter-free module such as a data transform.) A body its module's skeleton did not keep is read as
        it is judged there: acting on nothing (reading it back would parse its whole module)."""
        return self._kept("acts-on-models", fn, ctx, lambda: self._acts_on_models_uncached(ctx, fn))

    def _acts_on_models_uncached(self, ctx: ModuleCtx, fn: FunctionNode) -> bool:
        if ctx.stubbed(fn):
            return False
        for sub in N.subtree(fn):
            if isinstance(sub, ast.withitem):
                if self.resolve_in(ctx, call_func(sub.context_expr)) in N.NO_GRAD_CTX:
                    return True
            elif isinstance(sub, ast.Dict):
                if any(
                    isinstance(v, (ast.Name, ast.Attribute)) and self._with_params(ctx, self.resolve_in(ctx, v))
                    for v in sub.values
                ):
                    return True
            elif isinstance(sub, ast.Call):
                f = sub.func
                if isinstance(f, ast.Attribute) and f.attr in _MODEL_ACTS:
                    return True
                q = self.resolve_in(ctx, f)
                if q is not None and (
                    q in N.SEED_CALLS
                    or q in N.CUDA_SEEDS
                    or q in N.TORCH_LOAD
                    or q in N.TORCH_SAVE
                    or N.is_listed_seed(q, self.seed_funcs)
                    or N.is_builder(q)
                    or self._with_params(ctx, q)
                ):
                    return True
        return False

    def _with_params(self, ctx: ModuleCtx, q: str | None) -> bool:
        """Is ``q`` a model class whose construction may draw parameters?"""
        if q is None:
            return False
        layer = N.torch_nn_layer(q)
        if layer is not None:
            return N.layer_has_params(layer, {}) != NO
        if self.project is None:
            return local_module_class(q, ctx) and local_has_params(q, {}) != NO
        return (
            self.project is not None
            and self.project.is_module_class(q, ctx.here)
            and self.project.has_params(q, None, ctx.here) != NO
        )

    @staticmethod
    def _class_q(ctx: ModuleCtx, cls: ast.ClassDef | None) -> str | None:
        if cls is None:
            return None
        return f"{ctx.module}.{cls.name}" if ctx.module else cls.name

    def _callees(self, ctx: ModuleCtx, fn: FunctionNode, cls: ast.ClassDef | None, obj: str | None):
        """The project functions ``fn`` may call, as ((context, function, class, class of its ``self``), beyond),
        read from the project index's references of ``fn`` (see ``_reaches_walkable``). ``beyond``: a call its
        module's own view does not see, into another module or to an override of a method of ``self`` (the
        module's view follows its own functions and judged them already)."""
        assert self.project is not None
        rec = self.project.record_for_path(ctx.path) if ctx.path else None
        if rec is None:
            return
        own = self._class_q(ctx, cls)
        chain = self._ancestors(obj) if obj else []
        unit = self._fname(fn, cls)
        named = set(rec.facts.get("named", {}).get(unit, ()))
        for ref in rec.facts.get("refs", {}).get(unit, ()):
            if ref in named:
                continue  # named, never called (`isinstance(m, ModelEma)`): runs nothing
            owner, _, attr = ref.rpartition(".")
            if own is not None and owner == own:
                hit, on = self._find_method(obj, attr), obj  # `self.m()`: the object's class's own `m`
            elif owner in chain:
                hit, on = self._find_method(owner, attr), obj  # `super().m()`, `Base.m(self)`: the same object
            else:
                found = self.project.locate(ref, ctx.here)
                if found is None:
                    continue
                kind, trec, name = found
                if kind == "function":
                    tctx = self._ctx_for_path(trec.path)
                    tfn = tctx.functions.get(name) if tctx is not None else None
                    if tctx is not None and tfn is not None:
                        yield (tctx, tfn, None, None), tctx.path != ctx.path
                    continue
                if kind == "class":
                    hit, on = self._find_method(ref, "__init__"), ref
                elif kind == "method":
                    hit, on = self._find_method(owner, attr), owner
                else:
                    continue
            if hit is not None:
                yield (hit[0], hit[1], hit[2], on), hit[0].path != ctx.path or hit[2] is not cls

    def _find_method(self, cls_q: str | None, attr: str, depth: int = 0):
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

    def _ctx_for_path(self, path: str) -> ModuleCtx | None:
        """The ModuleCtx of another project file. Pinned for this walker's life (memo keys hold its nodes);
        shared with later walkers through the project's small LRU."""
        cache = self.__dict__.setdefault("_ctxs", {})
        if path in cache:
            return cache[path]
        ctx: ModuleCtx | None
        if self.root_ctx.path and _real(path) == _real(self.root_ctx.path):
            ctx = self.root_ctx
        else:
            ctx = module_ctx(self.project, path, self.seed_funcs) if self.project else None
        cache[path] = ctx
        return ctx

    # ------------------------------------------------------------------ constructing models
    def _construct(
        self, node: ast.Call, cref: ClassRef, st: State, args, kwargs, built_before: int | None = None
    ) -> frozenset:
        ctx = self.frames[-1].ctx
        q = cref.qualname
        layer = N.torch_nn_layer(q)
        if cref.module_class and self.project is not None and self.project.is_wrapper_class(q, ctx.here):
            # a subclass of nn.DataParallel: it holds the module it is handed, and draws nothing of its own
            src = args[0] if args else kwargs.get("module", EMPTY)
            return frozenset(v.as_wrapped() for v in src if isinstance(v, Model)) or EMPTY
        if cref.module_class or layer is not None:
            via_held: set[str] = set()
            kw_lit = {k.arg: arg_value(k.value) for k in node.keywords if k.arg}
            kw_lit.update((f"#{i}", arg_value(a)) for i, a in enumerate(node.args))
            self._never_none(ctx, node, kw_lit, st)
            inner = _models_in(list(args) + list(kwargs.values()))
            if layer is not None and layer in N.CONTAINERS:
                if any(isinstance(v, DictVal) for a in args for v in a):
                    inner_has = MAYBE
                else:
                    inner_has = any_tri(self._fresh_params.get(v.id, MAYBE) for v in inner) if inner else NO
                if inner_has == NO and built_before is not None and self._built_since(built_before):
                    inner_has = YES  # `nn.Sequential(OrderedDict([...]))`: layers built inside the arguments
                has = inner_has
                mode_dep = any_tri(v.mode_dep for v in inner) if inner else NO
                self_loading = False
            else:
                has = self.project.has_params(q, kw_lit, ctx.here) if self.project else local_has_params(q, kw_lit)
                self_loading = self.project is not None and self.project.loads_own_weights(q, kw_lit, ctx.here)
                mode_dep = (
                    self.project.mode_dependent(q, kw_lit, ctx.here) if self.project else local_mode_dep(q, kw_lit)
                )
                if inner and mode_dep != YES and (layer is None or layer in N.MODULE_ARG_LAYERS):
                    # a module handed to the constructor (`BERTLM(bert, vocab)`) is held and run by it: its
                    # dropout/batch-norm are the new model's too. An object of a class we cannot read is only
                    # taken for a module: not one the constructor only reads sizes from (`QNet(envs)` whose
                    # `__init__` builds `nn.Linear(envs.n_obs, 16)`)
                    guessed = [v for v in inner if v.origin == "unknown_class"]
                    kept = [v for v in inner if v.origin != "unknown_class"]
                    if guessed:
                        kept += self._kept_by_constructor(q, guessed, args, kwargs)
                    own_mode_dep = mode_dep
                    mode_dep = any_tri([mode_dep] + [v.mode_dep for v in kept])
                    if own_mode_dep == NO and kept and layer is None:
                        via_held = {v.id for v in kept}
                if has == NO and self._part_layers(inner, st):
                    # its own layers draw nothing (SSD's fixed `L2Norm`), but the random layers it is handed
                    # and registers are its parameters: it is built random, and reported for them
                    has = YES
            if self.empty_device:
                has = NO  # built on the meta device: no values, nothing drawn (to_empty() allocates them later)
            if has != NO:
                # one report per outermost construction: what its arguments built is part of it, and so are
                # the layers a container gathers (`nn.Sequential(*layers)`); a model built in its own
                # statement and handed to another (`bert = BERT(); lm = BERTLM(bert)`) keeps its own report
                if layer is not None and layer in N.CONTAINERS:
                    for v in inner:
                        self._absorb(v, st)
                if built_before is not None:
                    for mid in self._built_since(built_before):
                        self.builds.pop(mid, None)
                        st.pending.pop(mid, None)
            lightning = self.project.is_lightning_class(q, ctx.here) if self.project else False
            made = self._new_model(node, q, st, args, kw_lit, has_params=has, mode_dep=mode_dep, lightning=lightning)
            if via_held:
                for v in made:
                    self.mode_via_held[v.id] = via_held
            if layer is not None and layer in N.CONTAINERS:
                # `nn.Sequential(*list(vgg.features.children())[:-1])`: the layers of a model it gathers are
                # registered in it (see _taken_parts)
                taken = set().union(
                    *(self._taken_parts(a, st) for a in [*node.args, *(k.value for k in node.keywords)])
                )
                for v in made:
                    if taken - {v.id}:
                        self.held.setdefault(v.id, set()).update(taken - {v.id})
            if inner and layer is None:
                # a module handed to a project module's constructor is assigned to it, so registered: its
                # parameters are in the new model's state_dict (a container's are absorbed above)
                for v in made:
                    self.held.setdefault(v.id, set()).update(m.id for m in inner)
                self._absorb_layers(made, inner, st)
                self._handed_attributes(q, made, args, kwargs, st)
            if layer is None and self_loading:
                # its constructor restores its weights (a detector built from a checkpoint path), and what
                # mode its loader leaves the model in we do not follow: unknown, never a guess
                for v in made:
                    self.loaded_ids.add(v.id)
                    st.modes[v.id] = frozenset({UNKNOWN})
            return made
        # a user class that is not a module: walk its __init__ with a fresh instance
        found = self._find_method(q, "__init__")
        if (
            found is None
            and N.maybe_model_class(q)
            and (self.project is None or self.project.locate(q, ctx.here) is None)
        ):
            # a class from code we cannot read (`from my_project.models import Encoder` that is not there):
            # it may be a module; its mode is tracked, its mode-dependence unknown; it is never a seeding report
            for a in list(args) + list(kwargs.values()):
                self._mark_read(a)
            mid = f"{ctx.path}:{node.lineno}:{node.col_offset}"
            st.modes[mid] = frozenset({TRAIN})
            return frozenset(
                {Model(mid, q, ctor_args(node), origin="unknown_class", mode_dep=MAYBE, name=q.rsplit(".", 1)[-1])}
            )
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

    def _built_since(self, seq: int) -> list[str]:
        """Constructions reported by this entry point after ``seq`` (those inside a call's arguments)."""
        return [mid for mid, info in self.builds.items() if info.get("seq", 0) > seq]

    def _taken_parts(self, expr: ast.expr, st: State) -> set[str]:
        """The models some of whose submodules or parameters ``expr`` is, or lists (`vgg.classifier`,
        `*list(vgg.features._modules.values())[:-1]`, `resnet.layer4`): assigned to a module or gathered by a
        container, they are registered there, and a strict load of the holder restores them (faster-rcnn's
        `_init_modules()` keeps torchvision's VGG layers in `self.RCNN_base`). Only the part itself, sliced
        or listed: not a size or metadata read anywhere along it (`vgg.classifier[6].in_features`,
        `.weight.device`, `vit.embed_dim`), a forward (`vgg.features(x)`), another method of the module
        (`vgg.state_dict()`), nor what another call makes of it (`len(vgg.features)`, `copy.deepcopy(...)`)."""
        out: set[str] = set()
        parents: dict[int, ast.AST] | None = None
        for n in N.subtree(expr):
            if not (isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)):
                continue
            models = [v for v in st.lookup(n.id) or () if isinstance(v, Model)]
            if not models:
                continue
            if parents is None:
                parents = {id(c): p for p in N.subtree(expr) for c in ast.iter_child_nodes(p)}
            attrs: list[str] = []
            top: ast.AST = n
            up = parents.get(id(n))
            while True:
                if isinstance(up, ast.Attribute) and up.value is top:
                    attrs.append(up.attr)
                elif isinstance(up, ast.Subscript) and up.value is top:
                    pass  # `features[0]`, `children()[:-1]`
                elif isinstance(up, ast.Call) and up.func is top and attrs and attrs[-1] in _PART_LISTS:
                    pass  # `.children()`, `._modules.values()`
                else:
                    break
                top, up = up, parents.get(id(up))
            if not attrs or attrs[0] in _NOT_PARTS or any(_sizeish(a) for a in attrs):
                continue
            if isinstance(up, ast.Call) and up.func is top:
                continue  # a forward of a submodule, or one of its methods
            if not _value_position(top, expr, parents):
                continue
            for attr in attrs:  # `gpt.tok_emb.weight` with `gpt.tok_emb = emb`: a part of `emb`
                held = [v for m in models for v in st.attrs.get((m.id, attr), ()) if isinstance(v, Model)]
                if not held:
                    break
                models = held
            out.update(v.id for v in models)
        return out

    def _absorb(self, inner: Model, st: State) -> None:
        """A model built inside another construction's arguments is reported as part of the outer one."""
        st.pending.pop(inner.id, None)
        self.builds.pop(inner.id, None)

    def _absorb_layers(self, made: frozenset, inner: list[Model], st: State) -> None:
        """Plain torch layers a helper builds and returns (in lists: SSD's `vgg(cfg)`, `add_extras(cfg)`, ten
        `nn.Conv2d` for one `SSD(...)`) and that are handed to a project model's constructor are its parts, as
        a container's are: reported with the model that registers them, when both are unseeded alike and no
        layer was used on its own first. A project model handed in keeps its own report."""
        for outer in made:
            report = self.builds.get(outer.id)
            if report is None or st.pending.get(outer.id) != _FRESH:
                continue
            for v in self._part_layers(inner, st):
                part = self.builds.get(v.id)  # (a layer handed twice is absorbed once)
                if part is not None and part["seed"] == report["seed"] and part["look_only"] == report["look_only"]:
                    self._absorb(v, st)

    def _init_arguments(self, q: str, args, kwargs) -> tuple[ModuleCtx, FunctionNode, dict[str, frozenset]] | None:
        """The constructor of ``q`` and what a construction passes to each parameter it names (positional by
        position, keywords by name; what goes to `*args`/`**kwargs` is left out)."""
        found = self._find_method(q, "__init__")
        if found is None:
            return None
        ictx, init, _ = found
        params = [a.arg for a in init.args.posonlyargs + init.args.args][1:]
        passed: dict[str, frozenset] = dict(zip(params, args, strict=False))
        named = set(params) | {a.arg for a in init.args.kwonlyargs}
        passed.update((k, v) for k, v in kwargs.items() if k in named)
        return ictx, init, passed

    def _kept_by_constructor(self, q: str, inner: list[Model], args, kwargs) -> list[Model]:
        """The models among ``inner`` (handed to the constructor of ``q``) that it may keep: all but those
        passed to a parameter it only measures (see ``_only_measured``)."""
        bound = self._init_arguments(q, args, kwargs)
        if bound is None:
            return inner
        ictx, init, passed = bound
        kept = {
            v.id
            for name, vals in passed.items()
            if not self._only_measured(ictx, init, name)
            for v in vals
            if isinstance(v, Model)
        }
        handed = {v.id for vals in passed.values() for v in vals if isinstance(v, Model)}
        # (a model in a `*args` or `**kwargs` it does not name is kept, as before)
        return [v for v in inner if v.id in kept or v.id not in handed]

    def _only_measured(self, ctx: ModuleCtx, init: FunctionNode, param: str) -> bool:
        """Does the constructor ``init`` read its parameter ``param`` only inside the arguments of calls that
        make numbers or tensors of it (`nn.Linear(np.prod(envs.obs_shape), 16)`, `torch.tensor(env.high)`,
        `len(vocab)`), so never keep the object itself: no submodule? A parameter it names anywhere else
        (`self.env = env`, `nn.Sequential(backbone.layer1)`, a test) may be kept. Read from the body
        (all of it when it can be read back), kept for the walk."""
        return self._kept(f"measured:{param}", init, ctx, lambda: self._only_measured_uncached(ctx, init, param))

    def _only_measured_uncached(self, ctx: ModuleCtx, init: FunctionNode, param: str) -> bool:
        if not ctx.unstub(init):
            return False
        parents = self._parents(init)
        uses = [n for n in N.subtree(init) if isinstance(n, ast.Name) and n.id == param]
        if not uses:
            return True
        for use in uses:
            if not isinstance(use.ctx, ast.Load):
                return False
            cur: ast.AST = use
            measured = False
            while True:
                parent = parents.get(id(cur))
                if parent is None or isinstance(parent, ast.stmt):
                    break
                if isinstance(parent, ast.Call) and cur is not parent.func:
                    q = self.resolve_in(ctx, parent.func)
                    if q is not None and _measures(q):
                        measured = True
                        break
                cur = parent
            if not measured:
                return False
        return True

    def _handed_attributes(self, q: str, made: frozenset, args, kwargs, st: State) -> None:
        """`trainer = Trainer(net)` whose `__init__` does `self.net = net`: `trainer.net` is that model, so a
        load through it (`trainer.net.load_state_dict(...)`, or a method of the holder that restores
        `self.net`) restores `net`. Only the constructor's own top-level `self.<attr> = <parameter>` lines
        count (a conditional or computed assignment is not followed)."""
        bound = self._init_arguments(q, args, kwargs)
        if bound is None:
            return
        ictx, init, passed = bound
        written: dict[tuple[str, str], frozenset] = {}
        self._read_body(ictx, init, f"{q.rsplit('.', 1)[-1]}.__init__")
        for stmt in init.body:
            if not (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Name) and stmt.value.id in passed):
                continue
            vals = frozenset(v for v in passed[stmt.value.id] if isinstance(v, Model))
            for t in stmt.targets:
                if vals and isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self":
                    for m in made:
                        written[(m.id, t.attr)] = vals
        st.with_attrs(written)

    def _part_layers(self, inner: list[Model], st: State) -> list[Model]:
        """The plain torch layers among models handed to a constructor that a helper built (a call made from
        here, since returned: SSD's `vgg(cfg)`), reported as built unseeded and not used on their own since
        (still only fresh). A layer built in this function's own statement (`net = nn.Linear(4, 2)`, then
        `Sampler(net)`) is a model the code names: it keeps its own report."""
        here = self.call_context()
        return [
            v
            for v in inner
            if v.cls is not None
            and N.torch_nn_layer(v.cls) is not None
            and v.id in self.builds
            and st.pending.get(v.id) == _FRESH
            and self.builds[v.id]["chain"].startswith(here)
            and len(self.builds[v.id]["chain"]) > len(here)
        ]

    def _global_sizes(self, ctx: ModuleCtx, cls: str | None, st: State) -> tuple:
        """The module globals a class of this module reads in its ``__init__`` (`nn.Linear(32 * 7 * 7, nz)`
        with `nz = 2` set by the script), with the one value each holds where the model is built: part of
        its architecture, as constructor arguments are (`("global:nz", 2)`)."""
        if not cls or not ctx.module or not cls.startswith(ctx.module + "."):
            return ()
        init = ctx.method(cls[len(ctx.module) + 1 :], "__init__")
        if init is None:
            return ()
        self._read_body(ctx, init, f"{cls[len(ctx.module) + 1 :]}.__init__")
        key = ("init-free-names", id(init))  # the same class is built many times: its names read once
        free = self._memo.get(key)
        if free is None:
            local = {a.arg for a in init.args.posonlyargs + init.args.args + init.args.kwonlyargs}
            loaded: set = set()
            for sub in ast.walk(init):
                if isinstance(sub, ast.Name) and not isinstance(sub.ctx, ast.Load):
                    local.add(sub.id)
                elif isinstance(sub, ast.Call):  # read as a layer's argument: a size, not a flag or a log level
                    for a in sub.args + [k.value for k in sub.keywords]:
                        loaded |= {n.id for n in ast.walk(a) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
            free = self._memo[key] = sorted(loaded - local)
        out = []
        for name in free:
            vals = (st.globals or {}).get(name)
            if vals is not None and len(vals) == 1:
                v = next(iter(vals))
                if isinstance(v, Lit) and isinstance(v.value, int) and not isinstance(v.value, bool):
                    out.append((f"global:{name}", v.value))
        return tuple(out)

    def _registered(self, models: list[Model]) -> list[Model]:
        """The models ``models`` were handed when built (registered submodules: `.eval()` of the holder sets
        them too), transitively, as model values of their own."""
        seen = {m.id for m in models}
        todo = [h for m in models if not m.part for h in sorted(self.held.get(m.id, ()))]
        out: list[Model] = []
        while todo:
            h = todo.pop()
            if h in seen:
                continue
            seen.add(h)
            out.append(Model(h))
            todo.extend(sorted(self.held.get(h, ())))
        return out

    def _copied(self, node: ast.Call, m: Model, st: State) -> Model:
        """A copy of ``m`` made at ``node`` (an allocation site of its own), in ``m``'s present mode."""
        ctx = self.frames[-1].ctx
        mid = f"{ctx.path}:{node.lineno}:{node.col_offset}" + self.call_context()
        mkey = _mode_key(m, st)
        st.modes[mid] = st.mode(mkey)
        src = st.mode_src.get(mkey)
        if src is not None:
            st.mode_src[mid] = src
        else:
            st.mode_src.pop(mid, None)
        return Model(mid, m.cls, m.args, m.wrapped, m.origin, m.mode_dep, m.name, m.lightning, m.wrapper)

    def _new_model(
        self,
        node: ast.Call,
        cls: str | None,
        st: State,
        args,
        kw_lit: dict,
        has_params: str,
        mode_dep: str,
        lightning: bool = False,
        new_head: int | None = None,
    ) -> frozenset:
        ctx = self.frames[-1].ctx
        line, col = self.pos(node)
        # an allocation site, told apart by the chain of calls that reached it (`G = build(); D = build()`)
        mid = f"{ctx.path}:{node.lineno}:{node.col_offset}" + self.call_context()
        arg_key = self._with_option_defaults(ctx, node, st, ctor_args(node)) + self._global_sizes(ctx, cls, st)
        # (a builder chosen at run time, `torchvision.models.<arch>`, is named as the code spells it)
        name = cls.rsplit(".", 1)[-1] if cls and not cls.endswith(">") else src_name(node.func)
        m = Model(mid, cls, arg_key, False, "built", mode_dep, name, lightning)
        st.modes[mid] = frozenset({TRAIN})
        st.mode_src.pop(mid, None)
        self._fresh_params[mid] = has_params
        if (
            has_params != NO
            and st.seed != "yes"
            and st.seed != "unknown"
            and not self._in_module_init()
            and not self.mute
        ):
            self.seq += 1
            verdict = "cuda" if st.cuda == "yes" and st.seed == "no" else st.seed
            if verdict == "cuda" and on_cuda(node):
                verdict = "yes"
            info = self.builds.get(mid)
            if verdict != "yes" and (info is None or worse(verdict, info["seed"])):
                self.builds[mid] = {
                    "path": ctx.path,
                    "line": line,
                    "col": col,
                    "seed": verdict,
                    "seq": self.seq,
                    "arms": tuple(self.arms),  # (a seed in another arm of an `if` runs on no path after it)
                    "name": name,
                    # a project class whose layers could not all be told: whether it has parameters is not known
                    "partly": has_params == MAYBE and self._of_project_class(m, ctx),
                    "cuda": st.cuda,
                    "params": has_params,
                    "via": self.via(),
                    "chain": self.call_context(),  # the calls it was built under (see _part_layers)
                    "entry": self._entry_call(ctx),
                    # built only to be looked at (a shape check, a parameter count): TRP104's, not TRP101's
                    "look_only": self._look_only(node),
                    # pretrained, but with a classifier the weights cannot fill (see names.timm_new_head)
                    "new_head": new_head,
                }
            st.pending[mid] = frozenset({"fresh"})
        return frozenset({m})

    def _with_option_defaults(self, ctx: ModuleCtx, node: ast.Call, st: State, arg_key: tuple) -> tuple:
        """Constructor arguments read from the script's own command line (`Net(scale=args.scale)`, `args`
        what ``parse_args()`` returned, a value we do not otherwise know) hold the option's default when the
        script runs without it: that literal, and where it is declared (`("argparse:scale", "`--scale` default at
        train.py:24")`),
        so two scripts whose defaults build different architectures are told apart (TRP307)."""
        if not ctx.argparse_literals:
            return arg_key
        nodes = [(str(i), a) for i, a in enumerate(node.args)] + [(k.arg, k.value) for k in node.keywords if k.arg]
        by_key = dict(nodes)
        out = []
        extra = []
        for key, value in arg_key:
            opt = self._option_of(ctx, by_key.get(key), st)
            if isinstance(value, str) and value.startswith("name:") and opt is not None:
                default, line = ctx.argparse_literals[opt]
                out.append((key, default))
                extra.append((f"argparse:{key}", f"`--{opt}` default at {short_path(ctx.path)}:{line}"))
                continue
            out.append((key, value))
        return tuple(out + extra)

    def _option_of(self, ctx: ModuleCtx, a: ast.expr | None, st: State) -> str | None:
        """The command-line option ``a`` reads (`args.scale`, `args` what `parse_args()` returned, a name the
        walk holds nothing for and no import binds), when the module declares it with one literal default."""
        if (
            isinstance(a, ast.Attribute)
            and isinstance(a.value, ast.Name)
            and a.value.id not in ("self", "cls")
            and not st.lookup(a.value.id)
            and ctx.resolve(a.value) is None  # not an imported module's constant (`config.depth`)
            and a.attr in ctx.argparse_literals
        ):
            return a.attr
        return None

    def _never_none(self, ctx: ModuleCtx, node: ast.Call, kw_lit: dict, st: State) -> None:
        """Mark the constructor arguments that read an option declared with a default that is not None
        (`XMem(config, args.model)`, `--model` defaulting to a path): the command line can give it another
        string, never None, so the constructor's `if model_path is not None:` holds (``names.NOT_NONE``)."""
        for key, a in [(f"#{i}", a) for i, a in enumerate(node.args)] + [(k.arg, k.value) for k in node.keywords]:
            if key is None or kw_lit.get(key) != N.NONLITERAL:
                continue
            opt = self._option_of(ctx, a, st)
            if opt is not None and ctx.argparse_literals[opt][0] is not None:
                kw_lit[key] = N.NOT_NONE

    def _look_only(self, node: ast.Call) -> bool:
        """Is the model ``node`` builds only looked at (see ``smoke``)?"""
        q = LookOnly(
            self._parents,
            self._look_function,
            self._module_private,
            self._look_wrapper,
            self._library_main,
            self._note_scan,
        )
        try:
            return q.build(self.frames, node)
        except RecursionError:
            return False  # deeply nested code: kept, as every answer we cannot reach

    def _look_function(self, ctx: ModuleCtx, call: ast.Call):
        """The project function ``call`` (in module ``ctx``) runs, whole, with its module: (def, ctx)."""
        f = call.func
        project = ctx.project
        if isinstance(f, ast.Name) and f.id in ctx.functions:
            path, name = ctx.path, f.id
        else:
            q = ctx.resolve(f)
            if q is None or project is None:
                return None
            hit = project.locate(q, ctx.here)
            if hit is None or hit[0] != "function":
                return None
            path, name = hit[1].path, hit[2]
        fn_ctx: ModuleCtx | None
        if path == ctx.path and (ctx.linted or project is None):
            tree, fn_ctx = ctx.tree, ctx
        else:
            if project is None or path is None:
                return None
            key = ("look-tree", path)
            if key not in self._memo:
                # the whole module (another file's ModuleCtx drops the bodies no walk enters)
                self._memo[key] = project.module_tree(path)
            tree = self._memo[key]
            fn_ctx = ctx if path == ctx.path else module_ctx(project, path, ctx.seed_funcs)
            if tree is None or fn_ctx is None:
                return None
        for stmt in module_statements(tree.body):
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == name:
                self._read_body(fn_ctx, stmt, name)
                return stmt, fn_ctx
        return None

    def _look_wrapper(self, ctx: ModuleCtx, call: ast.Call) -> bool:
        """Does ``call`` build a module that holds its arguments (a project module class, a container or
        parallel wrapper of torch.nn, ``torch.compile``)?"""
        q = ctx.resolve(call.func)
        if q is None:
            return False
        if q in N.WRAPPERS or q in N.TRANSPARENT_WRAPPERS:
            return True
        if q in ("torch.nn.Sequential", "torch.nn.ModuleList", "torch.nn.ModuleDict"):
            return True
        if local_module_class(q, ctx):
            return True
        return ctx.project is not None and ctx.project.is_module_class(q, ctx.here)

    def _library_main(self, ctx: ModuleCtx, node: ast.AST) -> bool:
        """Is ``node`` in the ``if __name__ == "__main__":`` block of a library module: one of a package, or
        one other project files import (a model file's own check, not a program of its own)?"""
        parents = self._parents(ctx.tree)
        cur = parents.get(id(node))
        while cur is not None and not (isinstance(cur, ast.If) and is_main_guard(cur.test)):
            cur = parents.get(id(cur))
        if cur is None or parents.get(id(cur)) is not ctx.tree or ctx.path is None or ctx.project is None:
            return False
        if os.path.isfile(os.path.join(os.path.dirname(ctx.path), "__init__.py")):
            return True
        return ctx.project.imported_elsewhere(ctx.path)

    def _module_private(self, ctx: ModuleCtx, binding: ast.stmt) -> bool:
        """Is a module-level binding out of other modules' reach: under ``if __name__ == "__main__":``, in a
        notebook or a file linted alone, or in a module no other project file imports?"""
        parents = self._parents(ctx.tree)
        cur = parents.get(id(binding))
        while cur is not None:
            if isinstance(cur, ast.If) and is_main_guard(cur.test):
                return True
            cur = parents.get(id(cur))
        if ctx.path is None or ctx.project is None or ctx.path.endswith(".ipynb"):
            return True
        return not ctx.project.imported_elsewhere(ctx.path)

    def _in_module_init(self) -> bool:
        f = self.frames[-1]
        return f.module_method and f.func == "__init__"

    def _use_model(self, m: Model, st: State) -> None:
        p = st.pending.get(m.id)
        if p is not None and "fresh" in p:
            st.pending[m.id] = (p - {"fresh"}) | {"used"}

    # ------------------------------------------------------------------ forward passes
    def _forward(
        self, node: ast.Call, m: Model, st: State, args, kwargs, generate: bool = False, export: str | None = None
    ) -> frozenset:
        self._use_model(m, st)
        if not self.mute:  # the names its inputs are computed from (`net(x + delta)`), for an optimizer of them
            self.forward_inputs.update(
                src_name(n)
                for a in [*node.args, *(k.value for k in node.keywords)]
                for n in ast.walk(a)
                if isinstance(n, (ast.Name, ast.Attribute))
            )
        shown = src_name(node.args[0]) if export is not None else src_name(callee_expr(node))  # the model's name
        for a in list(args) + list(kwargs.values()):
            self._mark_read(a)
        frame = self.frames[-1]
        mkey = _mode_key(m, st)
        modes = st.mode(mkey)
        src = st.mode_src.get(mkey, EMPTY)
        via_held = self.mode_via_held.get(m.id) if not m.part else None
        if via_held:  # only the networks it holds can drop out: their modes are the forward's
            modes = frozenset().union(*(st.mode(h) for h in sorted(via_held)))
            src = frozenset().union(*(st.mode_src.get(h, EMPTY) for h in sorted(via_held)))
        region = None
        region_path = frame.ctx.path  # the file of the region's line (two files have a line 5 each)
        if export is not None:
            region = (export, node.lineno)  # traced or exported: the graph keeps the mode it ran in
        elif st.grad == "off":
            wr = getattr(frame, "_with_region", None)
            region = (wr[0], wr[1]) if wr else ("no_grad", 0)
            if not wr:
                region_path = None
        elif generate:
            region = ("generate", node.lineno)
        elif any(isinstance(v, Volatile) for a in list(args) + list(kwargs.values()) for v in a):
            region = ("volatile=True", node.lineno)  # legacy no_grad: the program meant inference
        else:
            for f in reversed(self.frames):
                if f.region:
                    region = (f.region, f.region_line)
                    region_path = f.ctx.path
                    break
        line, col = self.pos(node)
        # one run of this forward: the same line reached through train() and through test() (or in the
        # 'train' and the 'val' iteration of a phase loop) is two uses, each trained on or only looked at
        use = self.iter_tag + self.call_context()
        site = (self.path, line, col, use)
        of_self = m.name == "self" or m.name.startswith("self.")  # the module itself, or its submodule
        own_forward = frame.module_method and of_self and frame.func in ("forward", "__call__", "__init__")
        in_train = (
            TRAIN in modes
            and UNKNOWN not in modes
            and ENTRY not in modes
            and m.mode_dep != NO
            and not m.lightning
            and not own_forward
            # an object of a class we cannot read is a model only once it is used as one
            # (`.eval()`, `.to()`, `.parameters()`...): `joblib.Parallel(...)(jobs)` is not
            and (m.origin != "unknown_class" or m.id in self.module_evidence)
            # a maybe-train from an explicit `.train()` on one path and `.eval()` on another is a
            # deliberate choice (`model.train() if training else model.eval()`)
            and not (EVAL in modes and any(k == "train" for k, *_ in src))
            # `.train()` inside this no_grad region: batch-norm recalibration (update_bn); or a
            # training mode the caller asked for by a flag (`test(model, train=True)`)
            and not any(k in ("train_under_no_grad", "train_by_flag") for k, *_ in src)
            # a function that reads or resets batch-norm statistics runs its forwards to recompute them
            # (pycls's compute_precise_bn_stats): training mode is its point
            and not self._recalibrates_bn(frame)
        )
        if in_train and export is None and self._only_metadata(frame.node, node):
            # a smoke test's forward (`y = net(x); print(y.shape)`): its numbers reach no result, whatever
            # the mode
            in_train = False
        data = dict(name=shown, model=m.name, maybe=EVAL in modes, via=self.via(), root=self.current_root)
        if self.iteration is not None:
            data["iteration"] = self.iteration
        if in_train and m.mode_dep == MAYBE and m.cls is not None and self._of_project_class(m, frame.ctx):
            data["dep"] = m.cls.rsplit(".", 1)[-1]  # a project class not wholly told: live layers maybe
        if region is not None and not m.lightning:
            seen_key = (m.id, region_path, region[1])
            if in_train and seen_key not in self.region_reports:
                if not self.mute:
                    self.region_reports.add(seen_key)
                    # an output that goes on to train something says the region was a training step after
                    # all (a GAN's fake batch under no_grad feeds the discriminator's loss): held until the
                    # entry point ends
                    data.update(dedupe=(m.id, region[1]), region=region[0])
                    key = ("forward_in_train", self.path, line, col, data["dedupe"])
                    prev = self.tentative.get(site)
                    if prev is None or key < prev[0]:  # several models at one site: one report, the same each run
                        self.tentative[site] = (key, Event("forward_in_train", line, col, data, self.path))
            elif (
                modes == frozenset({ENTRY})
                and st.grad == "off"
                and m.origin == "param"
                and m.mode_dep != NO
                and not of_self
                and not self._recalibrates_bn(frame)
            ):
                self.emit(
                    "forward_on_param",
                    node,
                    dedupe=(m.id, region[1]),
                    name=shown,
                    region=region[0],
                    func=frame.unit,
                )
        elif in_train and not self.mute:
            # no inference region: an inference use all the same when its output is only looked at (saved,
            # logged, turned into numbers) and never trained on, or when the program restores the model's
            # weights and never trains it (a test or predict script); decided when the entry point ends
            data.update(dedupe=(m.id, 0), region=None)
            key = ("forward_in_train", self.path, line, col, data["dedupe"])
            self.candidates.setdefault((site, m.id), (key, Event("forward_in_train", line, col, data, self.path), m.id))
        grad_on = st.grad == "on" and not generate
        upstream = [v for a in list(args) + list(kwargs.values()) for v in a if isinstance(v, Out)]
        out = Out(frozenset({(m.id, self.path, line, col, modes, shown, src, m.mode_dep, grad_on, use)}))
        # `D(G(z))`: a loss on the discriminator's output trains through the generator's forward too
        return frozenset({merge_out([out] + upstream) if upstream else out})

    def _of_project_class(self, m: Model, ctx: ModuleCtx) -> bool:
        """Is ``m`` built from a class of the project (asked of a ``maybe``: then which layers it holds could not
        all be told, as when it holds an object of a class we cannot read, waveglow's `Denoiser` around an `STFT`
        from an empty git submodule, or a layer a factory picks by a name known at run time)?"""
        if m.cls is None or m.origin in ("param", "pretrained", "unknown_class") or self.project is None:
            return False
        hit = self.project.locate(m.cls, ctx.here)
        return hit is not None and hit[0] == "class"

    def _recalibrates_bn(self, frame: Frame) -> bool:
        """Does the function the frame walks read, set or reset batch-norm statistics (`bn.running_mean`,
        `bn.running_var`, `bn.num_batches_tracked`, `bn.reset_running_stats()`)? Its forwards recompute them,
        in training mode on purpose (precise-BN, SWA's update_bn)."""
        node = frame.node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return False
        return self._kept(
            "bn-stats",
            node,
            frame.ctx,
            lambda: any(isinstance(n, ast.Attribute) and n.attr in _BN_STATS for n in N.subtree(node)),
        )

    def _only_metadata(self, scope: ast.AST | None, call: ast.Call) -> bool:
        """Is every use of the forward's output a look at its metadata (shape, dtype, device: ``y.shape``,
        ``y.size()``, ``len(y)``)? The output used in place, or bound to names (``y = net(x)``, ``y, h =
        rnn(x)``) that the function (or module) reads only that way, at least once."""
        if scope is None:
            return False
        parents = self._parents(scope)
        if metadata_use(call, parents):
            return True
        stmt = parents.get(id(call))
        if not isinstance(stmt, ast.Assign) or stmt.value is not call:
            return False
        names = plain_names(stmt.targets)
        if names is None:
            return False  # `self.out = net(x)`, `outs[i] = ...`: read elsewhere
        self._note_scan(scope, names)
        loads, declared = self._name_reads(scope)
        reads = [n for name in names for n in loads.get(name, ())]
        return bool(reads) and all(metadata_use(n, parents) for n in reads) and not (names & declared)

    def _note_scan(self, scope: ast.AST | None, names: set[str]) -> None:
        """The reads of ``names`` are looked for all over ``scope``: over the linted file's module, that is
        in every function and method too, walked or not (an edit that names one of them anywhere may
        change the answer: see edits.py); over a function being walked, those names are noted for it
        (``scanned_in``)."""
        if scope is self.root_ctx.tree:
            self.scanned_names |= names
        elif scope is not None:
            # over a function: a statement of it that names one of them is no quiet one (see edits.Quiet)
            key = self._scope_key(scope)
            if key is None:
                self.text_read.add(("", "*"))  # (a function not walked now: which one is not known here)
            else:
                self.scanned_in.setdefault(key, set()).update(names)

    def _scope_key(self, scope: ast.AST) -> tuple[str, str] | None:
        """(path, function) of a scope being walked (a frame's function), None for another."""
        frame = next((f for f in reversed(self.frames) if f.node is scope), None)
        return frame.unit if frame is not None else None

    def _read_body(self, ctx: ModuleCtx, fn: FunctionNode, name: str) -> None:
        """The walk read all of ``fn`` (a function or method of ``ctx`` named ``name``) without entering it."""
        self.entered.add((ctx.path or "", name))
        self.text_read.add((ctx.path or "", name))
        if ctx.path == self.root_ctx.path:
            self.read_lines.update(range(fn.lineno, (fn.end_lineno or fn.lineno) + 1))

    def _name_reads(self, scope: ast.AST) -> tuple[dict[str, list[ast.Name]], set[str]]:
        """The reads of each name in ``scope`` and the names it declares global/nonlocal, made once per
        function or module (a training loop's forwards each ask about their own outputs)."""
        key = ("name-reads", id(scope))
        hit = self._memo.get(key)
        if hit is None:
            loads: dict[str, list[ast.Name]] = {}
            declared: set[str] = set()
            _collect_reads(scope, loads, declared)
            hit = self._memo[key] = (loads, declared)
        return hit

    def site_chain(self, node: ast.expr | ast.stmt) -> tuple:
        """Where ``node`` runs, as the chain of calls from the entry point: ((path, line), ...), the calls
        first and ``node`` itself last (a message names the one in the file it speaks of)."""
        return tuple(f.call for f in self.frames if f.call is not None) + ((self.path, node.lineno),)

    def _entry_call(self, ctx: ModuleCtx) -> tuple[int, int, str] | None:
        """For code of another file than the entry point's (``ctx``), the call in the entry point's own file
        that led there: (line, col, the called name as written); None for the entry point's own code (or a
        root that is not in its file)."""
        root = self.root_ctx.path
        if ctx.path == root:
            return None
        for f in self.frames:
            if f.ctx.path != root:
                node = f.call_node
                if f.call is None or not isinstance(node, ast.Call) or f.call[0] != root:
                    return None
                return (node.lineno, node.col_offset, src_name(node.func))
        return None

    def call_context(self) -> str:
        """The call sites of the frames walked into, outermost first (``@12@40``)."""
        return "".join(f"@{f.call[1]}" for f in self.frames if f.call is not None)

    def _training_step(self, node: ast.AST, vals, st: State) -> None:
        if not self.mute:
            self.root_trains = True
        for v in vals:
            if not isinstance(v, Out):
                continue
            for mid, path, line, col, modes, name, src, mode_dep, grad_on, tag in v.forwards:
                if not self.mute:
                    self.tentative.pop((path, line, col, tag), None)  # trained on: not an inference forward
                    self.trained_sites.add((path, line, col, tag))
                    if grad_on:
                        self.trained_ids.add(mid)
                if grad_on:
                    self.ever_trained.add(mid)
                if not grad_on:
                    continue  # a frozen teacher's targets under no_grad: trained through, not trained
                if (
                    EVAL in modes
                    and UNKNOWN not in modes
                    and ENTRY not in modes
                    and mode_dep != NO
                    and not any(k in ("joined", "choice") for k, *_ in src)
                ):
                    # this file's call first: its lines move with an edit of the file, another file's do not,
                    # so an order by line across files could change with an edit the store answers
                    srcs = sorted(
                        (x for x in src if not x[0].startswith("train")),
                        key=lambda x: (x[0], x[2] != path, x[1], x[2] or ""),
                    )
                    if not self.mute:  # reported when the entry point ends, if the model is trained at all
                        eval_src = _mode_source(srcs[0], path) if srcs else None
                        data = dict(name=name, maybe=TRAIN in modes, src=eval_src, via=None, root=self.current_root)
                        key = ("train_in_eval", path, line, col, None)
                        self.eval_steps.append((mid, key, Event("train_in_eval", line, col, data, path)))

    # ------------------------------------------------------------------ calls into code we can read
    def _call_ref(self, node: ast.Call, fv: FuncRef, st: State, args, kwargs) -> frozenset | None:
        ctx = self.frames[-1].ctx
        if fv.builder:
            return self._build_from_builder(node, fv.qualname, st)
        if fv.qualname in N.SEED_CALLS or N.is_listed_seed(fv.qualname, self.seed_funcs):
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

    def _table_key(self, func: ast.expr, st: State, default_ok: bool) -> tuple[ast.expr, ast.expr] | None:
        """The table and the key of `table.__dict__[key]` or `getattr(table, key)` (names.table_lookup) over a
        name or attribute chain, with a key that is not a literal, neither `getattr` nor the table a local
        name; None otherwise (with a default given to getattr, unless ``default_ok``)."""
        found = N.table_lookup(func)
        if found is None or self.project is None:
            return None
        holder, key, defaulted = found
        if (
            (defaulted and not default_ok)
            or (isinstance(func, ast.Call) and self._head_bound(func.func, st))
            or isinstance(key, ast.Constant)
            or not isinstance(holder, (ast.Name, ast.Attribute))
            or self._head_bound(holder, st)
        ):
            return None
        return holder, key

    def _named_by_option(self, func: ast.expr, st: State) -> ast.Attribute | None:
        """`models.__dict__[key]` or `getattr(models, key)` over a project module, with a key whose one known
        value is a string (an option's default: `args.model` of `--model` defaulting to "SmallNet") naming a
        class or function the module has, its own or re-exported: that attribute (`models.SmallNet`), at the
        call's place. None for anything else (a literal key is getattr's, see e_Call)."""
        found = self._table_key(func, st, default_ok=False)
        if found is None:
            return None
        assert self.project is not None  # (_table_key answers in a project only)
        holder, key = found
        names = {v.template for v in self.ev(key, st) if isinstance(v, Str)}
        if len(names) != 1:
            return None
        (name,) = names
        ctx = self.frames[-1].ctx
        mod = ctx.resolve(holder)
        if not name.isidentifier() or mod is None or self.project.record_for_module(mod, ctx.here) is None:
            return None
        hit = self.project.locate(f"{mod}.{name}", ctx.here)
        if hit is None or hit[0] not in ("class", "function"):
            return None
        return self._kept(
            f"named-by-option:{name}",  # (one call site may be handed several names: `build(name)`)
            func,
            ctx,
            lambda: ast.copy_location(ast.Attribute(value=holder, attr=name, ctx=ast.Load()), func),
        )

    def _named_by_eval(self, text: ast.expr, st: State) -> frozenset | None:
        """What `eval(text)` names when ``text`` spells a dotted name of the project (never run: read as a
        name): `eval("models.pose_resnet.get_pose_net")`, or with one part chosen at run time,
        `eval("models." + cfg.MODEL.NAME + ".get_pose_net")`, whichever module of the package `models` defines
        `get_pose_net` (human-pose-estimation's factories). None for any other text."""
        self.ev(text, st)
        t = self._template(text, st)
        spelled = eval_name_parts(t) if t is not None and self.project is not None else None
        if spelled is None or self.project is None:
            return None
        ctx = self.frames[-1].ctx
        head, name = spelled
        q = ctx.resolve(head)
        if name is None:
            return self._qualified_ref(q, ctx) if q is not None else None
        members = self.project.package_members(q, name, ctx.here) if q else []
        if not members:
            return None
        return frozenset().union(*(self._qualified_ref(q, ctx) for q in members))

    def _class_by_name(self, func: ast.expr, st: State) -> tuple[str, str, str] | None:
        """`models.__dict__[name]` or `getattr(models, name)` (the name not a literal) where `models` is a
        project module with nn.Module classes: (module, has_params, mode_dep) over all of them, since any
        may be the one chosen; None for anything else."""
        ctx = self.frames[-1].ctx
        found = self._table_key(func, st, default_ok=True)
        if found is None:
            return None
        assert self.project is not None  # (_table_key answers in a project only)
        holder, key = found
        mod = ctx.resolve(holder)
        rec = self.project.record_for_module(mod, ctx.here) if mod else None
        if mod is None or rec is None:
            return None
        here = str(Path(rec.path).parent)
        classes = [f"{mod}.{c}" for c in rec.facts["classes"] if self.project.is_module_class(f"{mod}.{c}", here)]
        if not classes:
            return None
        self.ev(key, st)
        has = any_tri(self.project.has_params(c, None, here) for c in classes)
        mode_dep = any_tri(self.project.mode_dependent(c, None, here) for c in classes)
        return mod, has, mode_dep

    def _build_from_builder(self, node: ast.Call, q: str, st: State) -> frozenset:
        self._eval_args(node, st)
        pretrained = False
        for k in node.keywords:
            if k.arg in ("pretrained", "weights", "pretrained_backbone", "weights_backbone"):
                t = const_truth(k.value)
                if t is None and not (isinstance(k.value, ast.Constant) and k.value.value is None):
                    pretrained = True  # a variable: might be weights; precision first
                elif t:
                    pretrained = True
        if q in N.TIMM_CREATE and len(node.args) > 1 and const_truth(node.args[1]) is True:
            pretrained = True
        if N.timm_checkpoint(node, q):
            pretrained = True  # restored from a file of its own once built
        head = N.timm_new_head(node, q)
        if head is not None:
            # pretrained or not, its classifier is new: a random init (TRP101 says why, where weights were asked for)
            return self._new_model(
                node, q, st, [], {}, has_params=YES, mode_dep=MAYBE, new_head=head if pretrained else None
            )
        if pretrained:
            mid = f"{self.frames[-1].ctx.path}:{node.lineno}:{node.col_offset}"
            st.modes[mid] = frozenset({TRAIN})
            return frozenset({Model(mid, q, origin="pretrained", mode_dep=MAYBE, name=q.rsplit(".", 1)[-1])})
        return self._new_model(node, q, st, [], {}, has_params=YES, mode_dep=MAYBE)

    def _param_values(self, ctx: ModuleCtx, fn: FunctionNode, cls, st: State, root: bool) -> list[frozenset]:
        """Values for a root's parameters: models of unknown mode ('entry'), string defaults as paths."""
        out = []
        params = fn.args.posonlyargs + fn.args.args
        if cls is not None and params:
            params = params[1:]
        defaults = [None] * (len(params) - len(fn.args.defaults)) + list(fn.args.defaults)
        for p, d in zip(params, defaults, strict=False):
            vals: set = set()
            if isinstance(d, ast.Constant) and isinstance(d.value, str):
                vals.add(Str(d.value))
            if isinstance(d, ast.Lambda) or (
                isinstance(d, ast.Constant) and isinstance(d.value, (bool, int, float, complex))
            ):
                out.append(frozenset(vals))  # a callback or a number by default (`callback=lambda k: None`)
                continue
            # `criterion`, `loss_fn`: a loss module; `callback`, `hook`: a function the caller hands in: never a
            # model to judge
            if not _LOSS_NAME.search(p.arg) and not _CALLBACK_NAME.search(p.arg):
                mid = f"{ctx.path}:{fn.name}:param:{p.arg}"
                vals.add(Model(mid, None, origin="param", mode_dep=MAYBE, name=p.arg))
                st.modes[mid] = frozenset({ENTRY})
            out.append(frozenset(vals))
        return out

    def _inline(
        self,
        node: ast.Call,
        ctx: ModuleCtx,
        fn: FunctionNode,
        cls,
        args,
        kwargs,
        st: State,
        self_val: frozenset,
        module_method: bool = False,
    ) -> frozenset | None:
        key = (ctx.path or "", self._fname(fn, cls))
        self.reached.add(key)
        if cls is None and self._is_weights_reader(ctx, fn):
            # a project function that reads a file into the parameters of the models it is given, without
            # load_state_dict (Darknet's `load_darknet_weights(model, path)`: `conv.weight.data.copy_(...)`),
            # overwrites their random init (one that calls load_state_dict is walked and judged by that call)
            overwrite_init([m for a in [*args, *kwargs.values()] for m in a], st)
        if id(fn) not in self._dispatched and (
            not ctx.relevant(fn, cls) or (ctx is not self.root_ctx and not ctx.walkable(fn, cls))
        ):
            handed = any(isinstance(v, (Model, Instance)) for v in self_val) or any(
                isinstance(v, Model) for a in [*args, *kwargs.values()] for v in a
            )
            if not self._reaches_walkable(ctx, fn, cls, self_val, handed):
                # a function that sets no mode, seed or checkpoint and runs no model: calling it changes nothing
                # we track (a model handed to it keeps its mode, as with a local helper that only computes);
                # what it returns is computed from its arguments (`self._apply_activate(fake)`: still the
                # forward's output)
                for a in list(args) + list(kwargs.values()):
                    self._mark_read(a)
                outs = [v for a in list(args) + list(kwargs.values()) for v in outs_in(a)]
                return frozenset({merge_out(outs)}) if outs else EMPTY
            if not ctx.unstub(fn):
                # it runs code worth walking, but its body cannot be read back (the file changed during the
                # lint): a call we cannot see, said so
                return self._unreadable(ctx, fn, cls, args, kwargs, st, self_val)
            self._dispatched.add(id(fn))
        recursive = any(
            f.ctx is ctx and f.func == fn.name and f.cls == (cls.name if cls else None) for f in self.frames
        )
        if recursive or self._summarizing:
            # a recursive call, or one inside a summary being made: applied through the callee's summary
            return self._apply_summary(node, ctx, fn, cls, args, kwargs, st, self_val, module_method)
        if self.frames:  # (which functions each function calls in place: see Walker.direct_inlines)
            self.direct_calls.setdefault(self.frames[-1].unit, set()).add(key)
        # The same call with the same state has the same effects and reports the same events (already
        # recorded the first time): walk it once per entry point. Loop passes before the fixpoint report
        # nothing, so their walks are kept apart from reported ones.
        memo_key = (
            id(fn),
            id(ctx),
            freeze(args),
            tuple(sorted(kwargs.items(), key=lambda kv: str(kv[0]))),
            self_val,
            module_method,
            tuple(f.region for f in self.frames),
            bool(self.mute),
            bool(self.empty_device),
            st.key(with_locals=not self.mute),
        )
        hit = self._memo.get(memo_key)
        if hit is not None:
            out, values = hit
            apply_exit(st, out)
            self._forget_written_mappings(node, fn, cls, st)
            return values
        count = self.inline_counts.get(key, 0) + 1
        self.inline_counts[key] = count
        if count > MAX_INLINES_PER_FUNCTION or self.over_budget:
            if count > MAX_INLINES_PER_FUNCTION:
                self.widen(
                    ctx.path,
                    key[1],
                    f"called with more than {MAX_INLINES_PER_FUNCTION} different states "
                    "from one entry point: further calls are summarised",
                )
            return self._apply_summary(node, ctx, fn, cls, args, kwargs, st, self_val, module_method)
        values = self._call_function(
            ctx, fn, cls, args, kwargs, st, self_val, module_method=module_method, call_node=node
        )
        self._memo[memo_key] = (exit_effects(st), values)
        self._forget_written_mappings(node, fn, cls, st)
        return values

    def _forget_written_mappings(self, node: ast.Call, fn: FunctionNode, cls, st: State) -> None:
        """A function that writes into a mapping it is handed (`test_args["model"] = ema`, `cfg.update(...)`)
        changes the caller's: the entries the caller's name holds are no longer known, and none is read from it
        after the call (the walk of the callee kept its own view of its parameter only)."""
        written = self._kept("params-written", fn, fn, lambda: _params_written(fn))
        if not written:
            return
        params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
        if cls is not None and params and not is_static(fn):
            params = params[1:]
        handed = [a for i, a in enumerate(node.args) if i < len(params) and params[i] in written]
        handed += [k.value for k in node.keywords if k.arg in written]
        for a in handed:
            if isinstance(a, ast.Name):
                forget_mapping(a.id, st)

    def _unreadable(self, ctx: ModuleCtx, fn: FunctionNode, cls, args, kwargs, st: State, self_val) -> frozenset:
        """A function whose body could not be read (``context.body_unreadable``): what it does is unknown, so
        the models it is handed or its object holds may leave in any mode and torch may be seeded after it
        (never reported either way); the widening is the linted file's, whose findings it changes."""
        self.hard_widened = True
        self.widen(
            self.path,
            self.frames[0].func if self.frames else "<module>",
            f"{self._fname(fn, cls)} ({shown_path(ctx.path, self.path)}) could not be read again (its file changed "
            "while it was linted): what a call to it does is unknown",
        )
        held = [v for a in [*args, *kwargs.values(), self_val] for v in a]
        owners = {v.id for v in self_val if isinstance(v, (Model, Instance))}
        held += [v for (oid, _), vals in st.attrs.items() if oid in owners for v in vals]
        for v in held:
            if isinstance(v, Model):
                st.modes[v.id] = st.mode(v.id) | {UNKNOWN}
        st.seed, st.cuda = join_seed(st.seed, "unknown"), join_seed(st.cuda, "unknown")
        return EMPTY

    # ------------------------------------------------------------------ summaries
    def _summary(self, ctx: ModuleCtx, fn: FunctionNode, cls, module_method: bool) -> dict:
        """What calling ``fn`` does, whatever the caller's state: the effect on the torch and CUDA seeds
        (``yes`` on every path, ``maybe`` on some, ``no``), the mode each parameter (and ``self``) is left
        in relative to its mode at entry, and which parameters it returns. Made by walking ``fn`` once,
        muted, from a symbolic entry (no seed, every parameter a model in its entry mode); calls inside it
        are applied through their own summaries, so making one costs one walk of the function, however
        deep its callees go (a call back into a function being summarised does nothing: the fixpoint's
        start)."""
        key = (id(fn), id(ctx), cls.name if cls is not None else None, module_method)
        hit = self._summaries.get(key)
        if hit is not None:
            return hit
        if key in self._summarizing:
            return _IN_PROGRESS
        self._summarizing.add(key)
        saved = (self.mute, self.seq)
        self.mute += 1
        try:
            st = State()
            st.globals = {}
            self_val: frozenset = EMPTY
            if cls is not None:
                sid = f"{ctx.path}:{fn.name}:self"
                self_val = (
                    frozenset({Model(sid, None, origin="param", name="self")})
                    if module_method
                    else frozenset({Instance(sid, f"{ctx.module}.{cls.name}")})
                )
                st.modes[sid] = frozenset({ENTRY})
            args = self._param_values(ctx, fn, cls, st, root=True)
            values = self._call_function(ctx, fn, cls, args, {}, st, self_val, module_method=module_method)
            params = [p.arg for p in (fn.args.posonlyargs + fn.args.args)[1 if cls is not None else 0 :]]
            modes: dict[int | str, frozenset] = {}  # parameter index, or "self"
            for i, p in enumerate(params):
                m = st.modes.get(f"{ctx.path}:{fn.name}:param:{p}")
                if m is not None and m != frozenset({ENTRY}):
                    modes[i] = m
            if cls is not None and module_method:
                m = st.modes.get(f"{ctx.path}:{fn.name}:self")
                if m is not None and m != frozenset({ENTRY}):
                    modes["self"] = m
            returns = [i for i, a in enumerate(args) if a & values]
            summary = {"seed": st.seed, "cuda": st.cuda, "modes": modes, "returns": returns}
        finally:
            self.mute, self.seq = saved
            self._summarizing.discard(key)
        self._summaries[key] = summary
        return summary

    def _apply_summary(
        self,
        node: ast.Call,
        ctx: ModuleCtx,
        fn: FunctionNode,
        cls,
        args,
        kwargs,
        st: State,
        self_val: frozenset,
        module_method: bool,
    ) -> frozenset:
        """The effects of a call without walking it: its summary applied to the caller's state."""
        summary = self._summary(ctx, fn, cls, module_method)
        for a in list(args) + list(kwargs.values()):
            self._mark_read(a)
        if summary["seed"] == "yes":
            self._seed(node, f"{fn.name}()", st)
        elif summary["seed"] == "maybe":
            st.seed = join_seed(st.seed, "yes")
        if summary["cuda"] == "yes":
            st.cuda = "yes"
        elif summary["cuda"] == "maybe":
            st.cuda = join_flag(st.cuda, "yes")
        for where, exit_modes in summary["modes"].items():
            targets = self_val if where == "self" else (args[where] if where < len(args) else EMPTY)
            for v in targets:
                if isinstance(v, Model):
                    kept = st.mode(v.id) if ENTRY in exit_modes else frozenset()
                    st.modes[v.id] = (exit_modes - {ENTRY}) | kept
        out: set = set()
        for i in summary["returns"]:
            if i < len(args):
                out |= {
                    v
                    for v in args[i]
                    if not (
                        isinstance(v, Model)
                        and v.origin == "param"
                        and ":param:" in v.id
                        and v.id.startswith(f"{ctx.path}:{fn.name}")
                    )
                }
        return frozenset(out)

    def _is_weights_reader(self, ctx: ModuleCtx, fn: FunctionNode) -> bool:
        """Does the module-level function ``fn`` read a file into parameters (project._copies_file_into_parameters)?"""
        project = ctx.project
        if project is None or ctx.path is None or fn.name not in ctx.functions:
            return False
        rec = project.record_for_path(ctx.path)
        return rec is not None and fn.name in rec.facts.get("readers", ())

    def _call_function(
        self,
        ctx: ModuleCtx,
        fn: FunctionNode,
        cls,
        args,
        kwargs,
        st: State,
        self_val: frozenset,
        module_method: bool = False,
        root: bool = False,
        call_node: ast.expr | ast.stmt | None = None,
    ) -> frozenset:
        """Walk ``fn`` with the caller's state ``st`` (updated in place) and return its return values."""
        self.entered.add((ctx.path or "", self._fname(fn, cls)))
        if body_unreadable(fn):
            return self._unreadable(ctx, fn, cls, args, kwargs, st, self_val)
        region = self._fn_region(ctx, fn, cls, module_method)
        frame = Frame(
            ctx,
            fn.name,
            self_val,
            region,
            cls.name if cls else None,
            module_method,
            region_line=fn.lineno,
            call=(self.path, call_node.lineno) if call_node is not None and self.frames else None,
            node=fn,
            call_node=call_node,
        )
        callee = st.copy()
        caller_locals, caller_globals = st.locals, st.globals
        at_module = st.locals is st.globals
        callee.globals = callee.locals if at_module else callee.globals
        if at_module:
            callee.globals = dict(st.globals)
        # A function of another module reads that module's globals, not the caller's (helpers.py's own
        # `model` is not train.py's `model`). Another module's module level is never walked, so its globals
        # are unknown: its names resolve by its imports and definitions; a call back into a module the walk
        # left reads that module's globals as they were when it left them.
        caller_path = _module_key(self.frames[-1].ctx.path if self.frames else ctx.path)
        callee_path = _module_key(ctx.path)
        foreign = callee_path != caller_path
        if foreign:
            callee.globals = dict(self._left_globals.get(callee_path, {}))
            left_before = self._left_globals.get(caller_path)
            self._left_globals[caller_path] = caller_globals
        callee.locals = {}
        callee.global_names = frozenset()
        params = fn.args.posonlyargs + fn.args.args
        if cls is not None and params and not is_static(fn):
            callee.locals[params[0].arg] = self_val
            params = params[1:]
        defaults = [None] * (len(params) - len(fn.args.defaults)) + list(fn.args.defaults)
        spelled = _spelled_strings(call_node)
        for i, p in enumerate(params):
            if i < len(args):
                callee.locals[p.arg] = spelled.get(i, args[i])
            elif p.arg in kwargs:
                callee.locals[p.arg] = spelled.get(p.arg, kwargs[p.arg])
            elif (d := defaults[i]) is not None:
                if isinstance(d, ast.Constant) and (d.value is None or isinstance(d.value, (bool, int))):
                    callee.locals[p.arg] = frozenset({Lit(d.value)})  # the default this call runs with
                    continue
                if isinstance(d, ast.Constant) and isinstance(d.value, str):
                    # the string default this call runs with (`pretrained="imagenet"` left out): decided
                    callee.locals[p.arg] = frozenset({LitStr(d.value)})
                    continue
                t = path_template(d, ctx.resolve, self._constant_lookup(ctx))
                callee.locals[p.arg] = frozenset({Str(t)}) if t is not None else EMPTY
            else:
                callee.locals[p.arg] = EMPTY
        for p in fn.args.kwonlyargs:
            callee.locals[p.arg] = kwargs.get(p.arg, EMPTY)
        if fn.args.vararg is not None:
            callee.locals[fn.args.vararg.arg] = EMPTY
        if fn.args.kwarg is not None:
            callee.locals[fn.args.kwarg.arg] = EMPTY
        note_bound(callee.locals)
        if region in ("torch.no_grad", "torch.inference_mode"):
            callee.grad = "off"
            frame._with_region = (region, fn.lineno)
        # a project decorator that runs the function with its first argument in eval mode and restores the mode
        # after (lucidrains' `@eval_decorator`): the models it holds are in eval mode inside
        wrapper = self._eval_wrapper(ctx, fn) if fn.decorator_list else None
        restore: dict[str, tuple] = {}
        if wrapper is not None:
            first = self_val if cls is not None and not is_static(fn) else (args[0] if args else EMPTY)
            for m in first:
                if isinstance(m, Model):
                    restore[m.id] = (callee.modes.get(m.id), callee.mode_src.get(m.id))
                    callee.modes[m.id] = frozenset({EVAL})
                    callee.mode_src[m.id] = frozenset({("eval", wrapper.lineno, ctx.path)})
        self.frames.append(frame)
        try:
            end = self.block(fn.body, callee)
        finally:
            self.frames.pop()
            if foreign:
                if left_before is None:
                    self._left_globals.pop(caller_path, None)
                else:
                    self._left_globals[caller_path] = left_before
        exits = [s for s, _ in frame.returns]
        if end is not None:
            exits.append(end)
        out = join_all(exits)
        values: frozenset = EMPTY
        for i, (_, v) in enumerate(frame.returns):
            values = v if i == 0 else join_values(values, v)
        if end is not None and frame.returns:
            values = join_values(values, frozenset({Lit(None)}))  # a path that falls off the end returns None
        if out is None:
            out = callee  # every path raised: keep what we knew
        for mid, (mode, src) in restore.items():  # the decorator's `model.train(was_training)`
            for into, was in ((out.modes, mode), (out.mode_src, src)):
                if was is None:
                    into.pop(mid, None)
                else:
                    into[mid] = was
        if region in ("torch.no_grad", "torch.inference_mode") and st.grad != "off":
            leave_no_grad_region(out)
        # write back: the caller's frame keeps its own locals, everything else flows out
        st.seed, st.cuda = out.seed, out.cuda
        st.grad = st.grad if region else out.grad
        st.modes, st.mode_src, st.pending, st.attrs = out.modes, out.mode_src, out.pending, out.attrs
        st.saved = out.saved
        if foreign:  # the other module's globals stay there; the caller's are as it left them
            st.globals = caller_globals
            st.locals = caller_locals
        elif at_module:
            merged = dict(caller_locals)
            merged.update(out.globals)
            st.locals = merged
            st.globals = merged
        else:
            st.globals = out.globals
            st.locals = caller_locals
        return frozenset(values)

    def _eval_wrapper(self, ctx: ModuleCtx, fn: FunctionNode) -> ast.expr | None:
        """The decorator of ``fn`` (a project function) that runs it with its first argument in eval mode:
        its wrapper calls `.eval()` on its own first parameter before calling ``fn`` (lucidrains'
        `eval_decorator`, which restores the mode after). None when there is none."""
        return self._kept("eval-wrapper", fn, ctx, lambda: self._eval_wrapper_uncached(ctx, fn))

    def _eval_wrapper_uncached(self, ctx: ModuleCtx, fn: FunctionNode) -> ast.expr | None:
        for d in fn.decorator_list:
            if not isinstance(d, (ast.Name, ast.Attribute)):
                continue
            deco: FunctionNode | None = ctx.functions.get(d.id) if isinstance(d, ast.Name) else None
            if deco is None and self.project is not None:
                q = self.resolve_in(ctx, d)
                hit = self.project.locate(q, ctx.here) if q is not None else None
                if hit is not None and hit[0] == "function":
                    dctx = self._ctx_for_path(hit[1].path)
                    deco = dctx.functions.get(hit[2]) if dctx is not None else None
                    if deco is not None and dctx is not None and not dctx.unstub(deco):
                        deco = None
            if deco is not None and _evals_first_argument(deco):
                return d
        return None

    def _constant_lookup(self, ctx: ModuleCtx):
        """Module constants of ``ctx``, then constants of the project's other modules by qualified name."""

        def lookup(key: str) -> str | None:
            if key in ctx.constants:
                return ctx.constants[key]
            return self.project.constant(key, ctx.here) if self.project is not None else None

        return lookup

    def _fn_region(self, ctx: ModuleCtx, fn: FunctionNode, cls, module_method: bool) -> str | None:
        if id(fn) in self.handlers:
            return f"{fn.name}()"  # a web route or a UI callback: it serves predictions
        for d in fn.decorator_list:
            target = d.func if isinstance(d, ast.Call) else d
            q = ctx.resolve(target)
            if q in INFERENCE_DECORATORS:
                return "torch.inference_mode" if "inference" in q else "torch.no_grad"
        if module_method and fn.name not in ("generate", "sample", "predict", "inference", "infer"):
            # a model's own methods are its computation (forward helpers, `validation_step` of Lightning,
            # which puts the model in eval mode itself); its generate()/predict() are inference entry points
            return None
        if fn.name.startswith("test") and (ctx.is_test_file or (cls is not None and _test_case(ctx, cls))):
            return None  # a test (pytest's in a test file, a unittest method anywhere), not an inference function
        name = fn.name
        if any(fnmatch.fnmatchcase(name, p) for p in self.infer_patterns):
            return f"{name}()"
        return None


_DEVICE_MOVES = frozenset({"to", "cuda", "cpu", "half", "float", "double"})


def _collect_reads(scope: ast.AST, loads: dict[str, list[ast.Name]], declared: set[str]) -> None:
    """The reads of names under ``scope`` that refer to its own variables, and every name declared global or
    nonlocal under it, in one pass. A function nested in it binds its own variables, so its reads of a name it
    assigns (or takes as a parameter), not declared global or nonlocal, are of another variable
    (`low_level_feat` in an unused class's forward is not the `low_level_feat` the module level unpacked). Its
    defaults, annotations and decorators run in the enclosing scope. (Iterative: code nested deeper than
    Python's recursion limit is read too.)"""
    todo: list[tuple[ast.AST, frozenset[str]]] = [(c, frozenset()) for c in ast.iter_child_nodes(scope)]
    while todo:
        node, local = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = node.args
            outer: list[ast.AST | None] = [*a.defaults, *a.kw_defaults]
            outer += [p.annotation for p in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg) if p]
            outer += [*getattr(node, "decorator_list", []), getattr(node, "returns", None)]
            todo.extend((d, local) for d in outer if d is not None)
            own = local | _bound_in(node)
            todo.extend((stmt, own) for stmt in (node.body if isinstance(node.body, list) else [node.body]))
        elif isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load) and node.id not in local:
                loads.setdefault(node.id, []).append(node)
        else:
            if isinstance(node, (ast.Global, ast.Nonlocal)):
                declared.update(node.names)
            todo.extend((c, local) for c in ast.iter_child_nodes(node))


def _bound_in(fn: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> frozenset[str]:
    """The names a function binds as its own variables: parameters and names it stores, imports or defines,
    less those it declares global or nonlocal (nested functions' bindings are theirs)."""
    a = fn.args
    names = {p.arg for p in [*a.posonlyargs, *a.args, *a.kwonlyargs]}
    names |= {p.arg for p in (a.vararg, a.kwarg) if p is not None}
    shared: set[str] = set()
    todo: list[ast.AST] = list(fn.body) if isinstance(fn.body, list) else [fn.body]
    while todo:
        n = todo.pop()
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            names.add(n.id)
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            shared.update(n.names)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            names.update((al.asname or al.name).split(".")[0] for al in n.names)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(n.name)
            continue  # (its body is its own scope)
        elif isinstance(n, ast.Lambda):
            continue
        todo.extend(ast.iter_child_nodes(n))
    return frozenset(names - shared)


def _spelled_strings(call: ast.expr | ast.stmt | None) -> dict[int | str, frozenset]:
    """The string literals a call spells as its arguments (`net("resnet", pretrained="imagenet")`), by
    position and keyword, as decided strings (``LitStr``): the one value the callee's parameter holds in
    this call, so `if pretrained:` and `if name == "resnet":` in it are decided. None after a `*args`."""
    if not isinstance(call, ast.Call):
        return {}
    out: dict[int | str, frozenset] = {}
    for i, a in enumerate(call.args):
        if isinstance(a, ast.Starred):
            break
        if isinstance(a, ast.Constant) and isinstance(a.value, str):
            out[i] = frozenset({LitStr(a.value)})
    for k in call.keywords:
        if k.arg is not None and isinstance(k.value, ast.Constant) and isinstance(k.value.value, str):
            out[k.arg] = frozenset({LitStr(k.value.value)})
    return out


def _test_case(ctx: ModuleCtx, cls: ast.ClassDef) -> bool:
    """Is ``cls`` a unittest test case (a base named `TestCase`: unittest's, absltest's, a project's own
    `TorchTestCase`)? Its `test*` methods are tests, whatever the file is called."""
    for base in cls.bases:
        q = ctx.resolve(base) or N.dotted(base) or ""
        if q.rsplit(".", 1)[-1].endswith("TestCase"):
            return True
    return False


# traced or exported models: the graph records the mode the model is in (torch.onnx.export only with the
# dynamo exporter; the legacy one exports in eval mode unless told otherwise)
EXPORT_CALLS = frozenset(
    {
        "torch.jit.trace",
        "torch.jit.trace_module",
        "torch.export.export",
        "torch.export.export_for_training",
        "torch.onnx.export",
        "torch.onnx.dynamo_export",
    }
)


def _items_of(vals: frozenset) -> frozenset:
    """What an iterable's elements may be: a list's or tuple's items, joined; anything else as it is."""
    out: set = set()
    for v in vals:
        if isinstance(v, TupleVal):
            for item in v.items:
                out |= item
        else:
            out.add(v)
    return frozenset(out)


def grown_list(lst: TupleVal, added: list[frozenset]) -> TupleVal:
    """``lst`` with ``added`` items after its own (`append`, `extend`, `+=`, `+`). An item whose values the
    list already holds adds nothing: a list grown in a loop keeps what it may hold, not how many, and the
    loop reaches its fixpoint."""
    items = list(lst.items)
    held = frozenset().union(*items) if items else frozenset()
    for item in added:
        if item and not item <= held:
            items.append(item)
            held |= item
    return TupleVal(tuple(items))


_FRESH = frozenset({"fresh"})
# a module's attributes that are not its submodules or parameters (see CallsMixin._taken_parts) ...
_NOT_PARTS = (N.MODULE_USE_METHODS - {"modules", "children", "named_modules"}) | {"training"}
_SIZE_ATTRS = frozenset(
    {
        "in_features",
        "out_features",
        "in_channels",
        "out_channels",
        "num_features",
        "num_embeddings",
        "embedding_dim",
        "hidden_size",
        "kernel_size",
        "stride",
        "padding",
        "num_classes",
        "requires_grad",
    }
)
# ... and the calls that list them
_PART_LISTS = frozenset({"children", "modules", "named_children", "named_modules", "values", "items"})


def _sizeish(attr: str) -> bool:
    """Is a module's attribute of this name a size, a count or metadata rather than a part (`in_features`,
    `embed_dim`, `num_heads`, `hidden_size`, `device`)?"""
    return (
        attr in _SIZE_ATTRS
        or attr in N.METADATA_ATTRS
        or attr.endswith(("_dim", "_size", "_features", "_channels", "_classes", "dim", "size"))
        or attr.startswith(("num_", "n_"))
    )


def _value_position(node: ast.AST, expr: ast.AST, parents: dict[int, ast.AST]) -> bool:
    """Is ``node`` (inside ``expr``) what ``expr`` holds: ``expr`` itself, or an element of it listed,
    sliced or unpacked (`*list(x)[:-1]`, `[a, b]`), not an argument another call makes something of?"""
    cur = node
    while cur is not expr:
        up = parents.get(id(cur))
        if up is None:
            return False
        listed = isinstance(up, ast.Call) and isinstance(up.func, ast.Name) and up.func.id in ("list", "tuple")
        if not (
            isinstance(up, (ast.Starred, ast.List, ast.Tuple))
            or (isinstance(up, ast.Subscript) and up.value is cur)
            or (listed and cur in up.args)  # type: ignore[attr-defined]
        ):
            return False
        cur = up
    return True


def takes_input_gradient(fn: FunctionNode) -> bool:
    """Does ``fn`` take gradients only to read them, calling no `.step()`: of a tensor it asked gradients of (it
    makes a name require gradients, `x.requires_grad_()`, `x.requires_grad = True`, `Variable(x,
    requires_grad=True)`, and reads that name's `.grad`: FGSM's and PGD's `loss.backward(); x.grad.sign()`), or
    of its parameters into something else, updating none (EWC's Fisher estimate)?"""
    wants: set[str] = set()
    read: set[str] = set()
    for n in N.subtree(fn):
        if isinstance(n, ast.Call):
            f = n.func
            if isinstance(f, ast.Attribute) and f.attr == "step":
                return False
            if isinstance(f, ast.Attribute) and f.attr == "requires_grad_" and isinstance(f.value, ast.Name):
                wants.add(f.value.id)
        elif isinstance(n, ast.Assign):
            calls = [c for c in N.subtree(n.value) if isinstance(c, ast.Call)]
            if any(isinstance(c.func, ast.Attribute) and c.func.attr == "requires_grad_" for c in calls) or any(
                k.arg == "requires_grad" and _true(k.value) for c in calls for k in c.keywords
            ):
                wants.update(t.id for t in n.targets if isinstance(t, ast.Name))
            for t in n.targets:
                if (
                    isinstance(t, ast.Attribute)
                    and t.attr == "requires_grad"
                    and isinstance(t.value, ast.Name)
                    and _true(n.value)
                ):
                    wants.add(t.value.id)
        elif isinstance(n, ast.Attribute) and n.attr == "grad" and isinstance(n.value, ast.Name):
            if isinstance(n.ctx, ast.Load):
                read.add(n.value.id)
    if wants & read:
        return True
    return _reads_parameter_gradients(fn)


def _reads_parameter_gradients(fn: FunctionNode) -> bool:
    """Does ``fn`` read its parameters' gradients into something else (EWC's Fisher estimate: `for n, p in
    self.named_parameters(): fisher[n] += p.grad ** 2`) without updating any parameter from them (`p.data -=
    lr * p.grad`, `p.add_(...)`)? (``fn`` calls no `.step()`: see takes_input_gradient.)"""
    params: set[str] = set()  # the loop variables over parameters (`for n, p in self.named_parameters()`,
    for n in N.subtree(fn):  # `for n, p in gen_params()`: the last name a loop binds)
        if isinstance(n, (ast.For, ast.comprehension)) and isinstance(n.iter, ast.Call):
            target = n.target.elts[-1] if isinstance(n.target, ast.Tuple) and n.target.elts else n.target
            if isinstance(target, ast.Name):
                params.add(target.id)
    if not params:
        return False
    read = False
    for n in N.subtree(fn):
        if isinstance(n, ast.Attribute) and n.attr == "grad" and isinstance(n.value, ast.Name):
            read = read or (n.value.id in params and isinstance(n.ctx, ast.Load))
        elif isinstance(n, ast.AugAssign) or (isinstance(n, ast.Assign) and len(n.targets) == 1):
            target = n.target if isinstance(n, ast.AugAssign) else n.targets[0]
            if head_name(target) in params:
                return False  # `p.data -= lr * p.grad`, `p.data = ...`: an update
        elif (
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr.endswith("_")
            and head_name(n.func.value) in params
        ):
            return False  # `p.add_(...)`, `p.data.copy_(...)`: an update in place
    return read


def _true(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _updates_parameters(node: ast.Call, func: ast.Attribute) -> bool:
    """Does this call update parameters: a `.step()` (an optimizer's, built here or by a factory, or one a
    wrapper holds: `scaler.step(opt)`, `engine.step()`), or an in-place update from gradients
    (`p.data.add_(p.grad, alpha=-lr)`)?"""
    if func.attr == "step":
        # any `.step()`: an optimizer's, one a wrapper holds (DeepSpeed's `engine.step()`, `trainer.step()`);
        # the programs that take gradients only to read them (saliency maps, gradient checks) step nothing
        return True
    if func.attr in ("add_", "sub_", "addcdiv_", "addcmul_", "copy_"):
        return any(reads_grad(a) for a in [*node.args, *(k.value for k in node.keywords)])
    return False


def _models_in(vals_list) -> list[Model]:
    """Models among argument values, inside tuples, lists and dicts too (`nn.ModuleDict({"a": m})`)."""
    out: list[Model] = []
    stack = [v for vals in vals_list for v in vals]
    seen = 0
    while stack and seen < 10_000:
        seen += 1
        v = stack.pop()
        if isinstance(v, Model):
            out.append(v)
        elif isinstance(v, TupleVal):
            stack.extend(x for item in v.items for x in item)
        elif isinstance(v, DictVal):
            stack.extend(x for _, vals in v.entries for x in vals)
    return out


# methods of a dict that change its entries in ways a keyed store does not spell
_MAPPING_WRITES = frozenset({"update", "pop", "popitem", "setdefault", "clear"})
# in-place tensor methods that write values handed to them into their tensor
_IN_PLACE_WRITES = frozenset(
    """copy_ add_ sub_ mul_ div_ index_add_ index_copy_ index_put_ index_fill_ scatter_ scatter_add_
    scatter_reduce_ masked_scatter_ masked_fill_ put_ addcmul_ addcdiv_ lerp_ where_""".split()
)
# parameter names of a loss module (`criterion`, `loss_fn`): never a model to judge
_BN_STATS = frozenset({"running_mean", "running_var", "num_batches_tracked", "reset_running_stats"})
_CALLBACK_NAME = re.compile(r"(^|_)(callback|callbacks|hook|hooks|cb)(_|$)", re.IGNORECASE)
_LOSS_NAME = re.compile(
    r"(^|_)(criterion|criterions|crit|loss|losses|metric|metrics)(_|$)|loss_?fn|loss_?func", re.IGNORECASE
)
# what is done with a forward's output when it is only looked at: an inference use
SINK_METHODS = frozenset({"detach", "cpu", "numpy", "tolist", "item", "argmax", "topk", "max"})
SINK_FUNCS = frozenset(
    {
        "print",
        "save_image",
        "make_grid",
        "imsave",
        "imshow",
        "imwrite",
        "add_image",
        "add_images",
        "add_scalar",
        "add_scalars",
        "add_figure",
        "add_text",
        "add_histogram",
        "mimsave",
        "savefig",
        "log",
        "log_image",
        "info",
        "write",
    }
)
# A call back into a function whose summary is being made (recursion, also across files) starts the
# fixpoint from the top for "seeds on every path" (a must property: the base case decides, as it does
# for every terminating run) and changes no mode.
_IN_PROGRESS = {"seed": "yes", "cuda": "no", "modes": {}, "returns": []}


def _lr_scheduler(q: str) -> bool:
    return q.startswith("torch.optim.lr_scheduler.") or q.startswith("torch.optim.swa_utils.")


def sampled(walker, vals) -> None:
    """A forward's output is looked at (saved, logged, turned into numbers): an inference use, unless it
    also reaches a training step."""
    if walker.mute:
        return
    for v in vals:
        if isinstance(v, Out):
            for fw in v.forwards:
                walker.sampled_sites.add((*fw[1:4], fw[9]))


@functools.lru_cache(maxsize=1024)
def _module_key(path: str | None) -> str | None:
    """One key per module file, however its path was spelled (`./train.py` as flake8 gives it, the resolved
    path a project lookup gives)."""
    return os.path.realpath(path) if path else path


def _mode_source(src: tuple, path: str | None) -> tuple:
    """How an event names the call that set a model's mode, ``src`` = (kind, line, file): (kind, line)
    when that call is in the event's own file ``path``, else (kind, line, file)."""
    kind, line, at = src
    return (kind, line) if at == path else (kind, line, at)


def _mode_key(m: Model, st: State) -> str:
    """Where ``st`` keeps the mode ``m`` runs in: a submodule's own (set apart by `.eval()` on it), else its
    holder's (see Model.mode_key)."""
    return m.mode_key if m.mode_key in st.modes else m.id


def detached(out: Out) -> Out:
    """``out`` with no gradient to its forwards (``grad_on`` off): `.detach()` of it."""
    if not any(f[8] for f in out.forwards):
        return out
    return Out(frozenset((*f[:8], False, *f[9:]) for f in out.forwards))


def outs_in(vals: frozenset, depth: int = 0) -> list[Out]:
    """The forward outputs among ``vals``, those in the lists and tuples they hold too (`torch.cat([x, out])`,
    `torch.stack((a, out))`: what the call computes is computed from them)."""
    found: list[Out] = []
    for v in vals:
        if isinstance(v, Out):
            found.append(v)
        elif isinstance(v, TupleVal) and depth < 4:
            for item in v.items:
                found += outs_in(item, depth + 1)
    return found


def optimizer_like(held: frozenset, receiver: ast.expr) -> bool:
    """Is the receiver of a `load_state_dict` an optimizer, a scheduler or a grad scaler (their load takes no
    `strict` and restores no model): by what it holds, or by its name when it holds no model we know
    (`lr_sched` is one, `lr_model` and `swa_model` are not)?"""
    if any(isinstance(v, Optimizer) for v in held):
        return True
    return not any(isinstance(v, Model) for v in held) and bool(OPTIM_NAME.search(src_name(receiver)))


def overwrite_init(models, st: State) -> None:
    """The random init of ``models`` (those among the values) is overwritten: what a strict load does to it."""
    for m in models:
        p = st.pending.get(m.id) if isinstance(m, Model) else None
        if p is not None and "fresh" in p:
            st.pending[m.id] = (p - {"fresh"}) | {"cleared"}


def forget_mapping(name: str, st: State) -> None:
    """The mapping ``name`` holds (a local, or the module's global) has entries we no longer know."""
    vals = st.lookup(name)
    if not vals or not any(isinstance(v, DictVal) for v in vals):
        return
    unknown = frozenset(v for v in vals if not isinstance(v, DictVal)) | {DictVal(())}
    if name in st.locals and name not in st.global_names:
        st.bind(name, unknown)
    else:
        st.globals[name] = unknown


def _params_written(fn: FunctionNode) -> frozenset[str]:
    """The parameters of ``fn`` its body writes entries into (`p["k"] = v`, `del p["k"]`, `p.update(...)`)."""
    params = {a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs}
    out = set()
    for n in ast.walk(fn):
        if isinstance(n, ast.Subscript) and isinstance(n.ctx, (ast.Store, ast.Del)):
            target = n.value
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in _MAPPING_WRITES:
            target = n.func.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in params:
            out.add(target.id)
    return frozenset(out)
