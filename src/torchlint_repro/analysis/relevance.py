"""Which functions of a module can change what the rules read: only those are walked."""

from __future__ import annotations

import ast
import fnmatch
from typing import TYPE_CHECKING

from . import names as N
from .syntax import FunctionNode, call_func, local_module_class

RELEVANT_ATTRS = frozenset(
    {
        "eval",
        "train",
        "load_state_dict",
        "state_dict",
        "from_pretrained",
        "from_config",
        "backward",
        "forward",
        "generate",
        "load",
        "save",
        "seed_everything",
        "set_seed",
        "manual_seed",
        "manual_seed_all",
        "spawn",
        "module",
        "step",
        "no_grad",
        "inference_mode",
        "set_grad_enabled",
        "to",
        "cuda",
        "parameters",
    }
)
RELEVANT_ROOTS = (
    "torch",
    "lightning",
    "pytorch_lightning",
    "transformers",
    "accelerate",
    "timm",
    "torchvision",
    "fire",
    "absl",
    "typer",
    "multiprocessing",
    "numpy.random",
    "random",
)

if TYPE_CHECKING:  # pragma: no cover
    from .context import ModuleCtx


STRONG_ATTRS = frozenset(
    {
        "eval",
        "train",
        "load_state_dict",
        "state_dict",
        "from_pretrained",
        "from_config",
        "backward",
        "generate",
        "load",
        "save",
        "seed_everything",
        "set_seed",
        "manual_seed",
        "manual_seed_all",
        "spawn",
        "no_grad",
        "inference_mode",
        "set_grad_enabled",
    }
)


def _module_class_ref(ctx: ModuleCtx, node: ast.expr | None) -> bool:
    """Is ``node`` a name of a model class: a torch.nn layer, or an nn.Module class of the module or the project?"""
    if not isinstance(node, (ast.Name, ast.Attribute)):
        return False
    if isinstance(node, ast.Name) and node.id in ctx.classes:
        return local_module_class(f"{ctx.module}.{node.id}", ctx)
    q = ctx.resolve(node)
    if q is None:
        return False
    return N.torch_nn_layer(q) is not None or (ctx.project is not None and ctx.project.is_module_class(q, ctx.here))


# libraries whose load/save read and write files of their own (not a checkpoint of a model we track)
_FILE_LIBRARIES = frozenset(
    {"pickle", "json", "yaml", "numpy", "pandas", "marshal", "shelve", "csv", "toml", "tomllib"}
)


def _other_object(ctx: ModuleCtx, fn: FunctionNode, f: ast.Attribute) -> bool:
    """Is ``f`` (`x.manual_seed`, `x.load`, ...) a method of an object we know is none of what the rules
    track: a local random generator (`torch.Generator().manual_seed(s)`, or a name the function binds to
    one: its own stream, not torch's global seed), or a file library's module (`pickle.load(f)`,
    `json.load(f)`, `np.save(path, a)`)?"""
    recv = f.value
    if f.attr in ("manual_seed", "seed"):
        if isinstance(recv, ast.Call):
            return ctx.resolve(recv.func) == "torch.Generator"
        if isinstance(recv, ast.Name):
            bound = [
                s.value
                for s in N.subtree(fn)
                if isinstance(s, ast.Assign) and any(isinstance(t, ast.Name) and t.id == recv.id for t in s.targets)
            ]
            return bool(bound) and all(
                isinstance(v, ast.Call) and ctx.resolve(v.func) == "torch.Generator" for v in bound
            )
        return False
    if f.attr in ("load", "save") and isinstance(recv, ast.Name):
        q = ctx.resolve(recv)
        return q is not None and q.split(".", 1)[0] in _FILE_LIBRARIES
    return False


def _registries(ctx: ModuleCtx) -> set[str]:
    """Module-level tables of model classes by name (`_ARCHS = {"ssd": SSDDetector}`): a lookup in one builds."""
    return {
        t.id
        for st in ctx.tree.body
        if isinstance(st, ast.Assign)
        and isinstance(st.value, ast.Dict)
        and any(_module_class_ref(ctx, v) for v in st.value.values)
        for t in st.targets
        if isinstance(t, ast.Name)
    }


def _looks_up(fn: FunctionNode, registries: set[str]) -> bool:
    return bool(registries) and any(
        isinstance(s, ast.Subscript) and isinstance(s.value, ast.Name) and s.value.id in registries
        for s in N.subtree(fn)
    )


def relevant_units(ctx: ModuleCtx, strong: bool = False) -> set[str]:
    """Functions (``f``) and methods (``Class.m``) of a module that touch what the rules track, directly or
    through the module's other functions."""
    direct: set[str] = set()
    calls: dict[str, set[str]] = {}
    registries = _registries(ctx)
    for key, fn, cls in module_units(ctx):
        methods = {i.name for i in cls.body if isinstance(i, (ast.FunctionDef, ast.AsyncFunctionDef))} if cls else set()
        params = {a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs}
        out: set[str] = set()
        hit = any(_relevant_q(ctx.resolve(d.func if isinstance(d, ast.Call) else d)) for d in fn.decorator_list)
        if (
            not strong
            and cls is not None
            and fn.name == "__init__"
            and any(
                isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"
                for sub in N.subtree(fn)
                if isinstance(sub, ast.Assign)
                for t in sub.targets
            )
        ):
            hit = True  # `self.G = G`: the object holds what it is given (a model its methods run)
        for sub in N.subtree(fn):
            if hit:
                break
            if (
                isinstance(sub, ast.Expr)
                and isinstance(sub.value, ast.Attribute)
                and sub.value.attr in ("eval", "train")
            ):
                hit = True
            elif isinstance(sub, ast.withitem):
                hit = _relevant_q(ctx.resolve(call_func(sub.context_expr)))
            elif isinstance(sub, ast.Subscript) and isinstance(sub.value, ast.Name) and sub.value.id in registries:
                hit = True
            elif strong and isinstance(sub, ast.Dict):
                # `model_dict = {"informer": Informer, ...}; model = model_dict[name](...)`: a class picked from
                # a table and built (Informer's `_build_model`)
                hit = any(_module_class_ref(ctx, v) for v in sub.values)
            elif isinstance(sub, ast.Call):
                f = sub.func
                if isinstance(f, ast.Attribute):
                    if f.attr in (STRONG_ATTRS if strong else RELEVANT_ATTRS):
                        hit = not strong or not _other_object(ctx, fn, f)
                    elif isinstance(f.value, ast.Name) and f.value.id in ("self", "cls") and cls is not None:
                        if f.attr in methods:
                            out.add(f"{cls.name}.{f.attr}")
                        elif not strong:
                            hit = True  # self.model(x): an attribute called, maybe a forward
                    elif cls is not None and N.is_super_call(f.value):
                        # `super().__init__()`: the base class's method runs, relevant as it is (Informer's
                        # `Exp_Informer.__init__` whose base builds the model through `self._build_model()`)
                        for b in cls.bases:
                            if isinstance(b, ast.Name) and b.id in ctx.classes:
                                out.add(f"{b.id}.{f.attr}")
                            elif not strong and _project_class(ctx, b):
                                hit = True  # a project base of another module: what it runs is walked there
                    else:
                        q = ctx.resolve(f)
                        hit = (
                            (
                                q is not None
                                and (
                                    "seed" in q.rsplit(".", 1)[-1].lower()
                                    or q in N.SEED_CALLS
                                    or q in N.CUDA_SEEDS
                                    or q in N.OTHER_SEEDS
                                    or q in N.TORCH_LOAD
                                    or q in N.TORCH_SAVE
                                    or q in N.SET_GRAD
                                    or N.is_builder(q)
                                    or N.is_listed_seed(q, ctx.seed_funcs)
                                )
                            )
                            if strong
                            else (_relevant_q(q) or N.is_listed_seed(q, ctx.seed_funcs))
                        )
                elif isinstance(f, ast.Name):
                    if f.id in params and not strong:
                        hit = True
                    elif f.id in ctx.built_globals and not strong:
                        hit = True  # `generator(fixed_z)`: a model held in a module global, maybe
                    elif f.id in ctx.functions:
                        out.add(f.id)
                    elif f.id in ctx.classes:
                        out.add(f"{f.id}.__init__")
                        hit = local_module_class(f"{ctx.module}.{f.id}", ctx) or any(
                            _relevant_q(ctx.resolve(b)) for b in ctx.classes[f.id].bases
                        )
                    else:
                        q = ctx.resolve(f)
                        if strong:
                            hit = q is not None and (
                                "seed" in q.rsplit(".", 1)[-1].lower()
                                or q in N.SEED_CALLS
                                or q in N.CUDA_SEEDS
                                or q in N.OTHER_SEEDS
                                or q in N.TORCH_LOAD
                                or q in N.TORCH_SAVE
                                or q in N.SET_GRAD
                                or N.is_builder(q)
                                or N.is_listed_seed(q, ctx.seed_funcs)
                                or q.startswith(("torch.nn.", "torch.multiprocessing."))
                                or (ctx.project is not None and ctx.project.is_module_class(q, ctx.here))
                            )
                        else:
                            hit = (
                                _relevant_q(q)
                                or N.is_listed_seed(q, ctx.seed_funcs)
                                or (
                                    q is not None
                                    and ctx.project is not None
                                    and ctx.project.locate(q, ctx.here) is not None
                                )
                            )
                elif isinstance(f, ast.Call):
                    hit = not strong
        if hit:
            direct.add(key)
        calls[key] = out
    return _closure(direct, calls)


def _project_class(ctx: ModuleCtx, base: ast.expr) -> bool:
    """Is ``base`` a class the project defines (not torch's `nn.Module`, not a library's)?"""
    q = ctx.resolve(base) if isinstance(base, (ast.Name, ast.Attribute)) else None
    if q is None or ctx.project is None or q.startswith("torch."):
        return False
    hit = ctx.project.locate(q, ctx.here)
    return hit is not None and hit[0] == "class"


def module_units(ctx: ModuleCtx) -> list[tuple[str, FunctionNode, ast.ClassDef | None]]:
    """The module's functions (``f``) and methods (``Class.m``), keyed as the relevance sets are."""
    units: list[tuple[str, FunctionNode, ast.ClassDef | None]] = [(n, f, None) for n, f in ctx.functions.items()]
    for cname, c in ctx.classes.items():
        for item in c.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                units.append((f"{cname}.{item.name}", item, c))
    return units


def _closure(direct: set[str], calls: dict[str, set[str]]) -> set[str]:
    """``direct`` and every unit that calls one of them, transitively within the module."""
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


def saving_units(ctx: ModuleCtx) -> set[str]:
    """Functions and methods of a module that may save a checkpoint: they call something named like a save
    (``torch.save``, ``save_checkpoint``, ``accelerator.save``), directly or through the module's other
    functions. The save-site scan walks only these (and the module level): a file is a candidate for the
    scan by the same test on its text."""
    direct: set[str] = set()
    calls: dict[str, set[str]] = {}
    for key, fn, cls in module_units(ctx):
        out: set[str] = set()
        for sub in N.subtree(fn):
            if not isinstance(sub, ast.Call):
                continue
            f = sub.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            if "save" in name.lower():
                direct.add(key)
                break
            if isinstance(f, ast.Name):
                out.add(f.id)
                if f.id in ctx.classes:
                    out.add(f"{f.id}.__init__")
            elif (
                isinstance(f, ast.Attribute)
                and isinstance(f.value, ast.Name)
                and f.value.id in ("self", "cls")
                and cls is not None
            ):
                out.add(f"{cls.name}.{f.attr}")
        calls[key] = out
    return _closure(direct, calls)


def context_units(ctx: ModuleCtx) -> set[str]:
    """Units (``f``, ``Class.m``) whose findings depend on the state their callers hand them, directly or
    through the module's other units: they build a module (seeded or not is the caller's state), run a
    forward of something they received (a parameter, ``self.X``: its mode is the caller's), train it
    (TRP203), or load weights (paths and models may come from the caller). Callers in other files are
    looked for only for these: a library's other functions are judged alone."""
    direct: set[str] = set()
    calls: dict[str, set[str]] = {}
    holders: dict[str, bool] = {}  # class -> is it a holder of models (not itself an nn.Module)?
    registries = _registries(ctx)
    for key, fn, cls in module_units(ctx):
        params = {a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs}
        methods = {i.name for i in cls.body if isinstance(i, (ast.FunctionDef, ast.AsyncFunctionDef))} if cls else set()
        if cls is not None and cls.name not in holders:
            cls_q = f"{ctx.module}.{cls.name}" if ctx.module else cls.name
            holders[cls.name] = not (
                local_module_class(cls_q, ctx)
                or (ctx.project is not None and ctx.project.is_module_class(cls_q, ctx.here))
            )
        holder = cls is not None and holders[cls.name]
        out: set[str] = set()
        hit = _looks_up(fn, registries)  # a model built from a table: seeded or not is the caller's state
        # a forward of a received model matters where the mode does: in an inference region (a no_grad
        # block, an inference decorator or name) or a training step
        regional = _has_region(ctx, fn) or any(
            isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute) and c.func.attr == "backward"
            for c in N.subtree(fn)
        )
        for sub in N.subtree(fn):
            if not isinstance(sub, ast.Call):
                continue
            f = sub.func
            if isinstance(f, ast.Name):
                if f.id in params:
                    hit = regional  # `model(x)` of a parameter
                elif f.id in ctx.functions:
                    out.add(f.id)
                elif f.id in ctx.classes:
                    out.add(f"{f.id}.__init__")
                    hit = hit or _builds(ctx, f)
                else:
                    hit = hit or _builds(ctx, f)
            elif isinstance(f, ast.Attribute):
                if f.attr in ("load_state_dict", "backward", "generate", "forward", "eval", "train"):
                    hit = True
                elif isinstance(f.value, ast.Name) and f.value.id in ("self", "cls") and cls is not None:
                    if f.attr in methods:
                        out.add(f"{cls.name}.{f.attr}")
                    else:
                        # `self.G(z)`: in a trainer, a model whose mode the object's history decides (its
                        # samples are inference wherever they run); in an nn.Module, a submodule's forward
                        hit = hit or holder or regional
                elif isinstance(f.value, ast.Name) and f.value.id in params:
                    hit = regional  # `model.encoder(x)`, `model.module(x)`
                else:
                    q = ctx.resolve(f)
                    hit = hit or (q is not None and (q in N.TORCH_LOAD or q in N.TORCH_SAVE)) or _builds(ctx, f)
            if hit:
                break
        if hit:
            direct.add(key)
        calls[key] = out
    return _closure(direct, calls)


def storing_units(ctx: ModuleCtx) -> set[str]:
    """Methods (``Class.m``) that keep on the object what their caller hands them (`self.G = generator` in
    ``__init__``), directly or through the class's other methods: the object's other methods, and the
    caller, read it back (`self.G(z)`, `trainer.G`), so walking such a method from another file changes
    what the rules read even when it runs nothing itself."""
    direct: set[str] = set()
    calls: dict[str, set[str]] = {}
    for key, fn, cls in module_units(ctx):
        if cls is None:
            continue
        positional = fn.args.posonlyargs + fn.args.args
        if not positional:
            continue
        me = positional[0].arg
        params = {a.arg for a in positional[1:] + fn.args.kwonlyargs}
        for extra in (fn.args.vararg, fn.args.kwarg):
            if extra is not None:
                params.add(extra.arg)
        methods = {i.name for i in cls.body if isinstance(i, (ast.FunctionDef, ast.AsyncFunctionDef))}
        out: set[str] = set()
        for sub in N.subtree(fn):
            if isinstance(sub, (ast.Assign, ast.AnnAssign)) and sub.value is not None:
                targets = sub.targets if isinstance(sub, ast.Assign) else [sub.target]
                if any(_on_object(t, me) for t in targets) and any(
                    isinstance(n, ast.Name) and n.id in params for n in ast.walk(sub.value)
                ):
                    direct.add(key)
            elif (
                isinstance(sub, ast.Call)
                and isinstance(sub.func, ast.Attribute)
                and isinstance(sub.func.value, ast.Name)
                and sub.func.value.id == me
                and sub.func.attr in methods
            ):
                out.add(f"{cls.name}.{sub.func.attr}")
        calls[key] = out
    return _closure(direct, calls)


def _on_object(target: ast.expr, me: str) -> bool:
    """Is ``target`` an attribute of the object (`self.G`, `self.nets[0]`, `self.G, self.D` unpacked)?"""
    if isinstance(target, (ast.Tuple, ast.List)):
        return any(_on_object(e, me) for e in target.elts)
    while isinstance(target, ast.Subscript):
        target = target.value
    return isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == me


def _builds(ctx: ModuleCtx, func: ast.expr) -> bool:
    """Is this callee a module class (a torch.nn layer, a project nn.Module) or a model builder?"""
    q = ctx.resolve(func)
    if q is None:
        return False
    if N.torch_nn_layer(q) is not None or N.is_builder(q):
        return True
    if isinstance(func, ast.Name) and func.id in ctx.classes:
        return local_module_class(q, ctx) or (ctx.project is not None and ctx.project.is_module_class(q, ctx.here))
    return ctx.project is not None and ctx.project.is_module_class(q, ctx.here)


def _has_region(ctx: ModuleCtx, fn: FunctionNode) -> bool:
    """Does ``fn`` hold an inference region: a no_grad/inference_mode block or decorator, or a name listed
    in ``inference-functions``?"""
    patterns = ctx.project.settings.inference_functions if ctx.project is not None else ()
    if any(fnmatch.fnmatchcase(fn.name, p) for p in patterns):
        return True
    for d in fn.decorator_list:
        if ctx.resolve(d.func if isinstance(d, ast.Call) else d) in N.NO_GRAD_CTX:
            return True
    for sub in N.subtree(fn):
        if isinstance(sub, ast.withitem) and ctx.resolve(call_func(sub.context_expr)) in N.NO_GRAD_CTX | N.SET_GRAD:
            return True
    return False
