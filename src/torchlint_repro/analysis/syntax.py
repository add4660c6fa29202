"""Small, stateless helpers over ast nodes and abstract values, shared by the tracker's parts."""

from __future__ import annotations

import ast
import io
import re as _re
from pathlib import Path
from typing import TYPE_CHECKING

from ..diagnostics import shown_path
from . import names as N
from .names import MAYBE, NO, YES
from .state import State
from .values import Model, Out

if TYPE_CHECKING:  # pragma: no cover
    from .context import ModuleCtx

# a `def` or an `async def`: the walker treats both alike
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
# a node with a place in the source (what an event points at)
Located = ast.expr | ast.stmt


OPTIM_NAME = _re.compile(r"optim|sched|scaler|lr_|swa_|ema_opt|opt\b", _re.IGNORECASE)


def reads_grad(expr: ast.AST) -> bool:
    """Does ``expr`` read a tensor's gradient (`p.grad`, `w.grad.data`)?"""
    return any(isinstance(n, ast.Attribute) and n.attr == "grad" for n in ast.walk(expr))


def on_cuda(node: ast.Call) -> bool:
    for k in node.keywords:
        if k.arg == "device" and isinstance(k.value, ast.Constant) and "cuda" in str(k.value.value):
            return True
    return False


MAPPING_METHODS = frozenset({"keys", "items", "values", "get", "pop", "copy", "update", "__getitem__", "setdefault"})


def called_names(tree: ast.Module) -> set[str]:
    """Names of everything called (``f(...)``, ``x.m(...)``) or handed on as a value anywhere in the module."""
    out = set()
    for node in N.subtree(tree):
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


def freeze(obj):
    if isinstance(obj, (list, tuple)):
        return tuple(freeze(o) for o in obj)
    return obj


def exit_effects(st: State) -> State:
    """What a memoised call leaves for ``apply_exit``: a copy of the state after it, without the caller's
    own locals (never applied) unless they are the module's globals."""
    out = st.copy()
    if st.locals is not st.globals:
        out.locals = {}
    return out


def apply_exit(st: State, out: State) -> None:
    """Give ``st`` (a caller's state) the effects a memoised call had: everything but its locals."""
    st.seed, st.cuda, st.grad = out.seed, out.cuda, out.grad
    st.modes, st.mode_src = dict(out.modes), dict(out.mode_src)
    st.pending, st.attrs = dict(out.pending), out.attrs  # (read-only: shared)
    st.saved = dict(out.saved)
    if st.locals is st.globals:
        st.locals.update(out.globals)
    else:
        st.globals = dict(out.globals)


def short_path(path: str | None) -> str:
    if not path:
        return "?"
    return Path(path).name


def saved_where(s: dict, here: str | None = None) -> str:
    """Where a state_dict was saved, for a message: `line 12` in the same file (a notebook turns it into
    `cell 3, line 2`), `train.py:54` in another."""
    if s.get("file"):
        if here is not None and s["file"] == here:
            return f" (saved at line {s['line']})"
        return f" (saved at {shown_path(s['file'], here)}:{s['line']})"
    return ""


def arch_diff(saved: dict, m: Model, sig: tuple[list, dict] | None, affects=None) -> str | None:
    """How the architecture a state_dict was saved from differs from the model it is loaded into: another
    class, or the same class with a constructor argument that shapes parameters (``affects(cls, param)``
    says whether a flag does)."""
    scls, mcls = saved.get("cls"), m.cls
    if not scls or not mcls:
        return None
    sname, mname = scls.rsplit(".", 1)[-1], mcls.rsplit(".", 1)[-1]
    if sname != mname:
        return f"the checkpoint was saved from `{sname}` and is loaded into `{mname}`"
    sargs = _bind_args(saved.get("args", []), sig)
    margs = _bind_args(m.args, sig)
    for k in sorted(set(sargs) & set(margs)):
        if k.startswith(_FROM_OPTION):
            continue  # where a value came from, not a value
        a, b = _seq(sargs[k]), _seq(margs[k])
        # floats (dropout, eps, momentum) shape no parameter; ints, strings and flags (sizes, variants,
        # bias=False) do
        if a != b and _shape_like(a) and _shape_like(b):
            if isinstance(a, bool) and isinstance(b, bool) and affects is not None and not affects(mcls, k):
                continue  # a flag (inference=True) no parameter depends on
            if k.startswith("global:"):  # a module global the class's __init__ reads (`nz`)
                g = k.split(":", 1)[1]
                return f"saved from `{sname}` built with `{g} = {a!r}`, loaded into `{mname}` built with `{g} = {b!r}`"
            # a value that is a script's argparse default (what it builds when run without the option) says so
            ssrc, msrc = (_source(args.get(_FROM_OPTION + k)) for args in (sargs, margs))
            return f"saved from `{sname}({k}={a!r})`{ssrc}, loaded into `{mname}({k}={b!r})`{msrc}"
    return None


_FROM_OPTION = "argparse:"  # `("argparse:scale", "`--scale` default at train.py:24")` beside `("scale", 2)`


def _source(src) -> str:
    return f" ({src})" if isinstance(src, str) else ""


def _bind_args(args, sig: tuple[list, dict] | None) -> dict:
    params, defaults = sig if sig is not None else ([], {})
    out = dict(defaults) if sig is not None else {}
    for k, v in args:
        source = k.startswith(_FROM_OPTION)
        bare = k[len(_FROM_OPTION) :] if source else k
        if bare.isdigit():
            i = int(bare)
            key = params[i] if i < len(params) else bare
        else:
            key = bare
        out[_FROM_OPTION + key if source else key] = v
    return out


def _seq(v):
    """A sequence argument as a tuple (JSON gives lists back)."""
    return tuple(v) if isinstance(v, list) else v


def _shape_like(v) -> bool:
    if isinstance(v, tuple):
        return bool(v) and all(isinstance(x, (int, str, bool)) for x in v)  # layer sizes [512, 256, 128]
    return isinstance(v, (int, str, bool)) and not (isinstance(v, str) and v.startswith("name:"))


def ctor_args(node: ast.Call) -> tuple:
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
    """A constructor argument's literal value: a scalar, or a tuple of scalars for a list or tuple literal
    (`Network(784, 10, [512, 256, 128])`)."""
    try:
        v = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if isinstance(v, (list, tuple)) and len(v) <= 64 and all(isinstance(x, (int, float, str, bool)) for x in v):
        return tuple(v)
    return v if isinstance(v, (int, float, str, bool, type(None))) else None


def checkpoint_key(k: str) -> bool:
    """A key of a training checkpoint (epoch, optimizer, ...), not of a state_dict ("fc.weight")."""
    return "." not in k and not k.endswith(("weight", "bias", "running_mean", "running_var"))


def strict_false(node: ast.Call) -> bool | None:
    """True for strict=False, False for strict=True / default, None when we cannot tell."""
    for k in node.keywords:
        if k.arg == "strict":
            t = const_truth(k.value)
            return None if t is None else (not t)
    if len(node.args) >= 2:
        t = const_truth(node.args[1])
        return None if t is None else (not t)
    return False


def is_load_state_dict(node: ast.Call) -> bool:
    return isinstance(node.func, ast.Attribute) and node.func.attr == "load_state_dict"


def strips_prefix(key: ast.expr) -> bool:
    for sub in ast.walk(key):
        if (
            isinstance(sub, ast.Call)
            and isinstance(sub.func, ast.Attribute)
            and sub.func.attr in ("replace", "removeprefix", "lstrip", "split", "partition", "sub")
        ):
            return True
        if isinstance(sub, ast.Subscript) and isinstance(sub.slice, ast.Slice):
            return True
        if isinstance(sub, ast.Call) and N.dotted(sub.func) in ("re.sub",):
            return True
    return False


def const_truth(node: ast.AST | None) -> bool | None:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, (bool, int, type(None))):
            return bool(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        t = const_truth(node.operand)
        return None if t is None else not t
    return None


def is_main_guard(test: ast.expr) -> bool:
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.comparators) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


def is_type_checking(test: ast.expr) -> bool:
    return N.dotted(test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")


def call_func(expr: ast.expr) -> ast.expr:
    return expr.func if isinstance(expr, ast.Call) else expr


def callee_expr(node: ast.Call) -> ast.expr:
    f = node.func
    if isinstance(f, ast.Attribute) and f.attr in (
        "forward",
        "generate",
        "__call__",
        "eval",
        "train",
        "to",
        "cuda",
        "parameters",
        "state_dict",
        "cpu",
        "half",
        "float",
    ):
        return f.value
    return f


def src_name(node: ast.AST) -> str:
    """The expression as written, for a message; a long one shortened where a reader still recognises it:
    an index or the arguments elided (`model.__dict__[...]`, `build_model(...)`), else cut."""
    try:
        text = ast.unparse(node)
    except Exception:  # noqa: BLE001
        return "model"
    if len(text) <= 40:
        return text
    if isinstance(node, ast.Subscript):
        head = src_name(node.value)
        return head + "[...]" if not head.endswith("...") else head
    if isinstance(node, ast.Call):
        head = src_name(node.func)
        return head + "(...)" if not head.endswith("...") else head
    return text[:37] + "..."


def head_name(node: ast.expr) -> str:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else ""


def merge_out(outs) -> Out:
    fw: frozenset = frozenset()
    for o in outs:
        fw = fw | o.forwards
    return Out(fw)


def any_tri(values) -> str:
    vals = list(values)
    if YES in vals:
        return YES
    if MAYBE in vals:
        return MAYBE
    return NO


def worse(a: str, b: str) -> bool:
    order = {"no": 3, "cuda": 2, "maybe": 1, "yes": 0, "unknown": 0}
    return order.get(a, 0) > order.get(b, 0)


def seed_display(q: str, node: ast.Call) -> str:
    return q


def is_static(fn: FunctionNode) -> bool:
    return any(N.dotted(d) == "staticmethod" for d in fn.decorator_list)


def is_classmethod(fn: FunctionNode) -> bool:
    return any(N.dotted(d) == "classmethod" for d in fn.decorator_list)


def local_module_class(q: str, ctx: ModuleCtx) -> bool:
    name = q.rsplit(".", 1)[-1]
    cls = ctx.classes.get(name)
    if cls is None or not q.startswith(ctx.module + "."):
        return False
    for b in cls.bases:
        bq = ctx.resolve(b)
        if bq and (bq in N.MODULE_BASES or N.torch_nn_layer(bq) is not None):
            return True
    return False


def local_has_params(q: str, kw: dict) -> str:
    layer = N.torch_nn_layer(q)
    return N.layer_has_params(layer, kw) if layer else MAYBE


def local_mode_dep(q: str, kw: dict) -> str:
    layer = N.torch_nn_layer(q)
    return N.layer_mode_dependent(layer, kw) if layer else MAYBE


# ============================================================================ entry points


ROUTE_METHODS = frozenset({"route", "get", "post", "put", "patch", "delete", "websocket", "api_route"})


def is_routed(fn: ast.AST) -> bool:
    """Is ``fn`` registered as a web route (Flask, FastAPI: `@app.get("/path")`, a route method called with
    the route's path first)? Such a function runs per request, after its module was loaded."""
    return any(
        isinstance(d, ast.Call)
        and isinstance(d.func, ast.Attribute)
        and d.func.attr in ROUTE_METHODS
        and bool(d.args)
        and isinstance(d.args[0], (ast.Constant, ast.JoinedStr))
        for d in getattr(fn, "decorator_list", ())
    )


# ------------------------------------------------------------------ statements the walk can skip
# Builtins that read a function's locals without naming them, with the number of arguments below which
# they do (`vars()`, `dir()`; `eval(s)`, `exec(s)` without their own namespaces; `locals` always): with
# one of them in a function, every local of it counts as read. Spelled other than as such a call (passed
# on, `vars(args)` aside), they count too.
_READS_EVERY_LOCAL = {"locals": 99, "vars": 1, "dir": 1, "eval": 2, "exec": 2}

# the statement kinds that may be inert (see inert_statement)
INERT_KINDS = (ast.Assign, ast.Expr, ast.Pass)


def local_reads(fn: FunctionNode) -> frozenset[str] | None:
    """Every name ``fn`` uses anywhere in it (nested functions, lambdas and comprehensions included) other
    than as a target of a literal bound to plain names (``_debug = True``): names read or deleted, targets
    augmented (``x += 1`` reads ``x``) and every other binding (parameters, loop, ``with`` and walrus
    targets, imports, defs, ``except ... as``, match captures), names declared global or nonlocal. A
    literal bound to names none of these is inert (see :func:`inert_statement`): a name typed fresh. None
    when the function may read any of its locals without naming them (``locals()``, ``eval``, ...)."""
    return local_uses(fn)[0]


def local_uses(fn: FunctionNode) -> tuple[frozenset[str] | None, list[tuple[int, int]]]:
    """:func:`local_reads` and the (first, last) lines of every string literal of ``fn`` that spans lines,
    in one pass over it (an editor's lint asks both of the function it edits), kept on the node."""
    return N.memo_on(fn, "local_uses", _local_uses)


def _local_uses(fn: FunctionNode) -> tuple[frozenset[str] | None, list[tuple[int, int]]]:
    literal_targets: set[int] = set()  # the ids of the Name nodes bound by `name = <literal>` statements
    harmless: set[int] = set()  # the ids of `vars(x)`-like calls' callee names: they read only their arguments
    out: set[str] = set()
    strings: list[tuple[int, int]] = []
    every_local = False
    for node in N.subtree(fn):  # (breadth first: a statement or call comes before the names in it)
        if isinstance(node, ast.Name):
            if id(node) in literal_targets:
                continue
            if node.id in _READS_EVERY_LOCAL and id(node) not in harmless and not isinstance(node.ctx, ast.Store):
                every_local = True
            out.add(node.id)
        elif isinstance(node, ast.Assign):
            if _literal_bound(node):
                literal_targets.update(id(t) for t in node.targets)
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id in _READS_EVERY_LOCAL:
                given = [a for a in node.args if not isinstance(a, ast.Starred)] + [k for k in node.keywords if k.arg]
                if len(given) >= _READS_EVERY_LOCAL[node.func.id]:
                    harmless.add(id(node.func))
        elif isinstance(node, (ast.Constant, ast.JoinedStr)):
            if (node.end_lineno or node.lineno) > node.lineno:
                strings.append((node.lineno, node.end_lineno or node.lineno))
        elif isinstance(node, ast.arg):
            out.add(node.arg)
        elif isinstance(node, ast.alias):
            out.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node is not fn:
                out.add(node.name)
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)):
            if node.name:
                out.add(node.name)
        elif isinstance(node, ast.MatchMapping):
            if node.rest:
                out.add(node.rest)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            out.update(node.names)
    return (None if every_local else frozenset(out)), strings


def _literal_bound(node: ast.Assign) -> bool:
    """`a = b = <literal>`: a literal bound to plain names only."""
    return constant_expr(node.value) and all(isinstance(t, ast.Name) for t in node.targets)


def constant_expr(node: ast.expr | None) -> bool:
    """A value spelled with literals only (``0.1``, ``'run-3'``, ``(1, 2)``, ``{'a': -1}``, ``f'v2'``): no
    name, call or attribute, so computing it reads and changes nothing the walk tracks."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(constant_expr(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and constant_expr(k) for k in node.keys) and all(constant_expr(v) for v in node.values)
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, (ast.USub, ast.UAdd)) and isinstance(node.operand, ast.Constant)
    if isinstance(node, ast.JoinedStr):
        return all(isinstance(v, ast.Constant) for v in node.values)
    return False


def inert_statement(node: ast.stmt, reads: frozenset[str] | None) -> bool:
    """Can the walk of a function skip this statement of its body (``reads``: see :func:`local_reads`)?
    ``pass``, a literal alone (a docstring, ``...``), or a literal bound to names the function uses nowhere
    else (``_debug = True`` typed and not used yet): no path of the walk can observe it, so skipping it
    changes no state, no event and no bound. An edit that only adds, removes or changes such statements in
    a function the analysis walked cannot change its findings (see edits.py): they name no name anything
    else in the function names, so no syntactic scan of the function (its reads, its stores of a loop
    variable) sees them and no function's ``local_reads`` changes with them. An annotated assignment is
    never inert: its annotation names names."""
    if isinstance(node, ast.Pass):
        return True
    if isinstance(node, ast.Expr):
        return constant_expr(node.value)
    if reads is None:
        return False
    if isinstance(node, ast.Assign):
        return _literal_bound(node) and not any(t.id in reads for t in node.targets if isinstance(t, ast.Name))
    return False


def source_lines(source: str) -> list[str]:
    """The lines of a source text as Python numbers them: ended by ``\n``, ``\r\n`` or ``\r`` only (a
    form feed or ``\u2028`` inside a comment or a string ends no line, as ``str.splitlines`` would)."""
    return io.StringIO(source, newline="").readlines()


def first_line(node: ast.stmt) -> int:
    """A statement's first line, its decorators included."""
    return min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
