"""Is a model built only to be looked at? (TRP104 rather than TRP101-TRP103.)

A construction's randomness matters when it can reach a result someone keeps: the model is trained, saved,
evaluated against data, handed to code that may do any of these, or its outputs are used for their values.
A model built to print its architecture, check an output's shape, count its parameters or profile it (a
library module's ``if __name__ == "__main__":`` smoke test, a tutorial's "look at the network" cell) is
not: its random init changes no number anyone keeps.

The question is answered from the syntax of the code that holds the model, following the value from the
construction: through the names it is bound to (every read of the name in its function, or in its whole
module), the calls that move it (``.to(device)``, ``.eval()``), the project functions it is handed to (their
parameter read the same way) and the ``return`` that hands it to the caller of the walked chain (the call
site read the same way). Every read must be one of the looks below; anything else (an optimizer, a save, a
container, an attribute, a call we cannot read, a forward whose output is used for its values) keeps it.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import TYPE_CHECKING

from .names import METADATA_ATTRS, METADATA_METHODS

if TYPE_CHECKING:  # pragma: no cover
    from .context import Frame, ModuleCtx

# NONE: not read at all (built and dropped, an output never read): no evidence either way, so not a look (a
# model nobody reads is more often one the analysis cannot follow, or a minimal example, than a smoke test)
NONE, LOOK, RETURNED, KEPT = "none", "look", "returned", "kept"
_ORDER = {NONE: -1, LOOK: 0, RETURNED: 1, KEPT: 2}
MAX_DEPTH = 4  # project functions followed and returns climbed, together

# calls that return the same module, moved or switched (`net = net.to(device)`)
MOVES = frozenset(
    {"to", "cuda", "cpu", "eval", "train", "float", "double", "half", "bfloat16", "to_empty", "zero_grad", "type"}
)
# what a model holds, iterated to count or list (`sum(p.numel() for p in net.parameters())`)
COLLECTIONS = frozenset(
    {"parameters", "buffers", "modules", "children", "named_parameters", "named_buffers", "named_modules"}
    | {"named_children", "state_dict"}
)
DICT_VIEWS = frozenset({"items", "keys", "values"})
# methods that run the model and return what it computes (`diffusion.sample(4)`): read like `net(x)`
FORWARDS = frozenset({"forward", "sample", "generate"})
# builtins that look at an object without using its numbers for anything
LOOK_BUILTINS = frozenset({"print", "str", "repr", "type", "isinstance", "id", "hasattr", "len", "format", "vars"})
# library functions that summarise or profile a model (torchinfo/torchsummary, thop, ptflops, fvcore, ...):
# trusted by name only when the name is not a project function (a project `summary()` is read instead)
LOOK_LIBRARY = frozenset(
    {
        "summary",
        "profile",
        "profile_macs",
        "get_model_complexity_info",
        "FlopCountAnalysis",
        "flop_count",
        "flop_count_table",
        "parameter_count",
        "parameter_count_table",
        "count_parameters",
        "count_params",
        "stat",
        "model_info",
        "get_model_summary",
        "clever_format",
        # the architecture drawn as a graph (hiddenlayer, torchviz, torchview, TensorBoard's add_graph): the
        # drawing is the same whatever the weights
        "build_graph",
        "make_dot",
        "draw_graph",
        "add_graph",
    }
)


def _stores_of(node: ast.AST) -> list[ast.AST]:
    """What a binding statement stores to, every name of a tuple target included."""
    if isinstance(node, ast.Assign):
        targets: list[ast.AST] = list(node.targets)
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.For, ast.NamedExpr)):
        targets = [node.target]
    elif isinstance(node, ast.With):
        targets = [i.optional_vars for i in node.items if i.optional_vars is not None]
    else:
        targets = []
    return [n for t in targets for n in ast.walk(t)]


def _join(a: str, b: str) -> str:
    return a if _ORDER[a] >= _ORDER[b] else b


class LookOnly:
    """One question per construction: see the module docstring. ``parents_of(scope)`` maps node ids to their
    parent; ``resolve_function(ctx, call)`` is the project function a call in module ``ctx`` runs (its
    whole ``FunctionDef`` and the module it lives in), or None; ``module_private(ctx, binding)`` says whether
    a module-level binding is out of every other module's reach (under ``if __name__ == "__main__":``, in a
    notebook, in a module no other file imports)."""

    def __init__(
        self,
        parents_of: Callable[[ast.AST], dict],
        resolve_function: Callable[[ModuleCtx, ast.Call], tuple[ast.AST, ModuleCtx] | None],
        module_private: Callable[[ModuleCtx, ast.stmt], bool],
        wraps: Callable[[ModuleCtx, ast.Call], bool] = lambda ctx, call: False,
        library_main: Callable[[ModuleCtx, ast.AST], bool] = lambda ctx, node: False,
        note_scan: Callable[[ast.AST, set[str]], None] = lambda scope, names: None,
    ) -> None:
        self.note_scan = note_scan  # told the names whose reads are looked for all over a scope
        self.wraps = wraps
        self.library_main = library_main
        self.parents_of = parents_of
        self.resolve_function = resolve_function
        self.module_private = module_private

    def build(self, frames: list[Frame], node: ast.Call) -> bool:
        """Is the model that ``node`` (a construction in the innermost frame) builds only looked at?"""
        expr: ast.AST = node
        depth = 0
        for i in range(len(frames) - 1, -1, -1):
            frame = frames[i]
            scope = frame.node
            if not isinstance(scope, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef)):
                return False
            if _under_class(expr, scope, self.parents_of(scope)):
                return False  # a class attribute (`head = nn.Linear(...)` in a class body): read as `C.head`
            verdict = _Scope(self, frame.ctx, scope, depth).value_use(expr)
            if verdict != RETURNED:
                return verdict == LOOK
            # handed to the caller: what the call site does with it decides
            call = getattr(frame, "call_node", None)
            depth += 1
            if i == 0 or call is None or depth > MAX_DEPTH or isinstance(scope, ast.Module):
                return False
            expr = call
        return False


class _Scope:
    def __init__(self, q: LookOnly, ctx: ModuleCtx, scope: ast.AST, depth: int) -> None:
        self.q = q
        self.ctx = ctx
        self.scope = scope
        self.parents = q.parents_of(scope)
        self.depth = depth
        self.names_done: set[str] = set()

    # ------------------------------------------------------------------ a value that is the model
    def value_use(self, expr: ast.AST) -> str:
        up = self.parents.get(id(expr))
        if isinstance(up, ast.Expr):
            # built or moved and dropped: a library module's "does it build" check in its `__main__` block; a
            # notebook cell's bare `model` shows it (its repr), as print does
            if isinstance(expr, ast.Call):
                return self._unread_output(expr)
            return LOOK if self._notebook() else NONE
        if isinstance(up, ast.Return):
            return RETURNED if isinstance(self.scope, (ast.FunctionDef, ast.AsyncFunctionDef)) else KEPT
        if isinstance(up, ast.Assign) and up.value is expr:
            verdict = NONE
            for t in up.targets:
                if not isinstance(t, ast.Name):
                    return KEPT  # an attribute, an item, an unpacking: kept where we do not follow
                verdict = _join(verdict, self.name_uses(t.id, up))
            if verdict == NONE and isinstance(expr, ast.Call):
                return self._unread_output(expr)  # `_ = Net()`: bound and never read
            return verdict
        if isinstance(up, ast.AnnAssign) and up.value is expr and isinstance(up.target, ast.Name):
            return self.name_uses(up.target.id, up)
        if isinstance(up, ast.Call) and up.func is expr:
            return self.forward_use(up)
        if isinstance(up, ast.Attribute) and up.value is expr:
            return self.attribute_use(up)
        if isinstance(up, ast.Subscript) and up.value is expr:
            collection = self._submodule_collection(up)
            if collection is not None:
                return self.collection_use(collection)
            return LOOK if self._in_print(up) else KEPT
        if isinstance(up, ast.Call):
            return self.argument_use(up, expr)
        if isinstance(up, ast.keyword):
            call = self.parents.get(id(up))
            return self.argument_use(call, expr, up.arg) if isinstance(call, ast.Call) else KEPT
        if isinstance(up, ast.FormattedValue):
            return LOOK  # f"{net}": its text
        return KEPT

    def name_uses(self, name: str, binding: ast.stmt) -> str:
        """Every read of ``name`` in the scope (the whole module for a module-level name) is a look."""
        if name in self.names_done:
            return NONE  # its reads are being judged already
        self.names_done.add(name)
        if isinstance(self.scope, ast.Module) and not self.q.module_private(self.ctx, binding):
            return KEPT  # a module-level model other modules may import
        verdict = NONE
        until = self._rebound_at(name, binding)
        # (not a read before the binding in straight-line code: a notebook's earlier `model` is another object)
        for n in self._reads_after({name}, binding):
            if isinstance(n, (ast.Global, ast.Nonlocal)):
                return KEPT  # rebound from a function we do not follow
            if until is not None and getattr(n, "lineno", 0) > until:
                continue  # read after the name was bound to another object
            verdict = _join(verdict, self.value_use(n))
            if verdict == KEPT:
                return KEPT
        return verdict

    def _rebound_at(self, name: str, binding: ast.stmt) -> int | None:
        """The last line of the first statement after ``binding`` in the same body that binds ``name`` again
        for sure (a statement of the scope's own body: no branch or loop around either), if any: a read after it
        is the new object's (a notebook's `model = nn.Linear(3, 4)` after `model = MyModule()`)."""
        body = getattr(self.scope, "body", None)
        if not isinstance(body, list) or binding not in body:
            return None
        for stmt in body[body.index(binding) + 1 :]:
            if (
                isinstance(stmt, (ast.Assign, ast.AnnAssign))
                and stmt.value is not None
                and any(
                    isinstance(t, ast.Name) and isinstance(t.ctx, ast.Store) and t.id == name for t in _stores_of(stmt)
                )
                and not any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(stmt.value))
            ):
                return stmt.end_lineno or stmt.lineno
        return None

    def _loads(self, names: set[str]):
        self.q.note_scan(self.scope, names)
        return name_loads(self.scope, names)

    # ------------------------------------------------------------------ the kinds of reads
    def forward_use(self, call: ast.Call) -> str:
        """``net(x)``: a look when its output is read only for its metadata; an output dropped or bound and
        never read says nothing (a warm-up, a timing loop, or a use the analysis cannot see)."""
        up = self.parents.get(id(call))
        if isinstance(up, ast.Expr):
            # a notebook cell ending in `net(x)` shows the output's values, as print(net(x)) would
            return KEPT if self._notebook() else self._unread_output(call)
        if self._metadata(call):
            return LOOK
        producer = call.func.id if isinstance(call.func, ast.Name) else None
        if not isinstance(up, ast.Assign) and self._output_metadata(call, None, 0, producer):
            return LOOK  # `(tok(ids) + pos(p)).shape`
        if isinstance(up, ast.Assign) and up.value is call:
            names = plain_names(up.targets)
            if names is None:
                return KEPT
            reads = self._reads_after(names, up)
            if not reads:
                return self._unread_output(call)
            if all(isinstance(n, ast.Name) and self._output_metadata(n, up, 0, producer) for n in reads):
                return LOOK
        return KEPT

    def _reads_after(self, names: set[str], binding: ast.stmt) -> list[ast.AST]:
        """The reads of ``names`` that can see what ``binding`` bound: not those inside it (`x = net(x)`
        reads the input), nor those before it in the same code outside every loop that holds it (a function
        defined before it may run after it: its reads count)."""
        loops = set()
        cur = self.parents.get(id(binding))
        while cur is not None:
            if isinstance(cur, (ast.For, ast.AsyncFor, ast.While)):
                loops.add(id(cur))
            cur = self.parents.get(id(cur))
        at = (binding.lineno, binding.col_offset)
        out = []
        for n in self._loads(names):
            before = (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)) < at
            ancestors = self._ancestors_in_scope(n)
            if id(binding) in ancestors:
                continue
            if before and not ancestors.keys() & loops and not self._nested_code(ancestors):
                continue
            out.append(n)
        return out

    def _ancestors_in_scope(self, node: ast.AST) -> dict[int, ast.AST]:
        """The nodes that hold ``node``, up to the scope (by id)."""
        out: dict[int, ast.AST] = {}
        cur = self.parents.get(id(node))
        while cur is not None and cur is not self.scope:
            out[id(cur)] = cur
            cur = self.parents.get(id(cur))
        return out

    @staticmethod
    def _nested_code(ancestors: dict[int, ast.AST]) -> bool:
        """Is a node with these ``ancestors`` inside a function, lambda or class nested in the scope (code that
        runs when called)?"""
        return any(
            isinstance(a, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)) for a in ancestors.values()
        )

    def _output_metadata(
        self, node: ast.AST, binding: ast.stmt | None, depth: int, producer: str | None = None
    ) -> bool:
        """Is ``node`` (an output of the model named ``producer``, or what was computed from one) read only for
        its metadata: directly (`out.shape`), through arithmetic and reshaping that keep its shape's dependence
        on the output's and no number of it (`e = out + pos; print(e.shape)`), or through another model's
        forward (not its own: a recurrent state fed back, `out, hidden = cell(x, hidden)`, is what it computes)?"""
        if self._metadata(node):
            return True
        if depth >= 3:
            return False
        cur = node
        while True:
            up = self.parents.get(id(cur))
            if isinstance(up, (ast.BinOp, ast.UnaryOp)):
                cur = up
                continue
            if (
                isinstance(up, ast.Attribute)
                and up.value is cur
                and up.attr in SAME_VALUES
                and isinstance(self.parents.get(id(up)), ast.Call)
                and self.parents[id(up)].func is up
            ):
                cur = self.parents[id(up)]
                continue
            break
        up = self.parents.get(id(cur))
        if isinstance(up, (ast.For, ast.AsyncFor)) and up.iter is cur and isinstance(up.target, ast.Name):
            # `for f in out: print(f.shape)`: a list of outputs, each element read for its metadata only
            name = up.target.id  # (read in the loop, or after it: the last element)
            elems = [*(n for n in _reads_in(up, name) if n is not up.target), *self._reads_after({name}, up)]
            return bool(elems) and all(
                isinstance(n, ast.Name) and self._output_metadata(n, None, depth + 1, producer) for n in elems
            )
        if (
            isinstance(up, ast.Call)
            and any(a is cur for a in up.args)
            and not (isinstance(up.func, ast.Name) and up.func.id == producer)
            and self._forward_of_built_model(up)
        ):
            # `h = core(g)`: fed to another model's forward, whose output is read for its metadata only (a smoke
            # test chaining two modules and asserting the last shape): no number of it is read either
            if self._metadata(up):
                return True
            assign = self.parents.get(id(up))
            if not (isinstance(assign, ast.Assign) and assign.value is up):
                return False
            names = plain_names(assign.targets)
            reads = self._reads_after(names, assign) if names is not None else []
            return bool(reads) and all(
                isinstance(n, ast.Name) and self._output_metadata(n, assign, depth + 1, producer) for n in reads
            )
        if cur is node:
            return False
        if self._metadata(cur):
            return True
        up = self.parents.get(id(cur))
        if isinstance(up, ast.Assign) and up.value is cur and up is not binding:
            names = plain_names(up.targets)
            if names is None:
                return False
            reads = self._reads_after(names, up)
            return bool(reads) and all(
                isinstance(n, ast.Name) and self._output_metadata(n, up, depth + 1, producer) for n in reads
            )
        return False

    def _forward_of_built_model(self, call: ast.Call) -> bool:
        """Is ``call`` the forward of a model this scope builds (`core(g)`, every binding of `core` in it a
        construction of a module class or a torch.nn container: ``LookOnly.wraps``)?"""
        if not isinstance(call.func, ast.Name):
            return False
        name = call.func.id
        bindings = [
            n
            for n in ast.walk(self.scope)
            if isinstance(n, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.With, ast.NamedExpr))
            and any(isinstance(t, ast.Name) and t.id == name for t in _stores_of(n))
        ]
        return bool(bindings) and all(
            isinstance(b, ast.Assign)
            and len(b.targets) == 1
            and isinstance(b.value, ast.Call)
            and self.q.wraps(self.ctx, b.value)
            for b in bindings
        )

    def _unread_output(self, call: ast.Call) -> str:
        """A model or an output nobody reads: in the ``__main__`` block of a module the project imports or of a
        package (a model file's "does it build / run" check) a look; elsewhere no evidence either way."""
        return LOOK if self.q.library_main(self.ctx, call) else NONE

    def attribute_use(self, attr: ast.Attribute) -> str:
        call = self.parents.get(id(attr))
        called = isinstance(call, ast.Call) and call.func is attr
        if not isinstance(attr.ctx, ast.Load):
            return NONE  # `net.default_cfg = cfg`: something stored on it, its parameters not read
        if attr.attr in FORWARDS and called:
            return self.forward_use(call)  # type: ignore[arg-type]
        if attr.attr in MOVES and called:
            return self.value_use(call)  # type: ignore[arg-type]  # the same module, moved: followed on
        if attr.attr in COLLECTIONS and called:
            return self.collection_use(call)  # type: ignore[arg-type]
        if attr.attr == "training" and not called:
            return LOOK
        if not called:
            collection = self._submodule_collection(attr)
            if collection is not None:
                return self.collection_use(collection)
        return LOOK if self._in_print(attr) or self._displayed(attr) else KEPT

    def _notebook(self) -> bool:
        return bool(self.ctx.path) and str(self.ctx.path).endswith(".ipynb")

    def _displayed(self, node: ast.AST) -> bool:
        """Is ``node`` (an attribute of the model, maybe further down a chain: `net.weight.is_cuda`) a notebook
        cell's bare expression statement, shown and kept nowhere?"""
        if not self._notebook():
            return False
        up = self.parents.get(id(node))
        while isinstance(up, (ast.Attribute, ast.Subscript)) and up.value is node:
            node, up = up, self.parents.get(id(up))
        return isinstance(up, ast.Expr)

    def _submodule_collection(self, sub: ast.AST) -> ast.Call | None:
        """``sub`` (a submodule of the model: `block.ff`, `net[0]`, `net.encoder.layers[2]`) asked for a
        collection (`.parameters()`), counted like the model's own: that call."""
        up = self.parents.get(id(sub))
        while (isinstance(up, ast.Attribute) and up.attr not in COLLECTIONS) or isinstance(up, ast.Subscript):
            if up.value is not sub or not isinstance(up.ctx, ast.Load):
                return None
            sub, up = up, self.parents.get(id(up))
        if isinstance(up, ast.Attribute) and up.value is sub and up.attr in COLLECTIONS:
            call = self.parents.get(id(up))
            if isinstance(call, ast.Call) and call.func is up:
                return call
        return None

    def collection_use(self, call: ast.AST) -> str:
        """``net.parameters()`` and the like, iterated to count or list: each element read for its
        metadata (``p.numel()``, ``p.shape``, ``p.requires_grad``), a name freely; or printed."""
        expr: ast.AST = call
        up = self.parents.get(id(expr))
        # `net.state_dict().items()`
        if isinstance(up, ast.Attribute) and up.attr in DICT_VIEWS:
            view = self.parents.get(id(up))
            if isinstance(view, ast.Call) and view.func is up:
                expr, up = view, self.parents.get(id(view))
        if isinstance(up, ast.comprehension) and up.iter is expr:
            owner = self.parents.get(id(up))
            if owner is None:
                return KEPT
            return LOOK if self._elements_looked_at(up.target, owner, expr) else KEPT
        if isinstance(up, ast.For) and up.iter is expr:
            return LOOK if self._elements_looked_at(up.target, up, expr) else KEPT
        if isinstance(up, ast.Call) and isinstance(up.func, ast.Name) and up.func.id in ("len", "list", "print"):
            return LOOK if up.func.id != "list" else self.value_use(up)  # `len(list(net.parameters()))`
        if isinstance(up, ast.Call) and isinstance(up.func, ast.Name) and up.func.id in ("type", "isinstance"):
            return LOOK
        if isinstance(up, ast.Assign) and up.value is expr and all(isinstance(t, ast.Name) for t in up.targets):
            # `sd = net.state_dict()`: each read of the name is a read of the collection
            verdict = NONE
            for t in up.targets:
                if t.id in self.names_done:  # type: ignore[attr-defined]
                    continue
                self.names_done.add(t.id)  # type: ignore[attr-defined]
                for n in self._loads({t.id}):  # type: ignore[attr-defined]
                    if not isinstance(n, ast.Name):
                        return KEPT
                    verdict = _join(verdict, self.collection_use(n))
                    if verdict == KEPT:
                        return KEPT
            return verdict
        return LOOK if self._in_print(expr) else KEPT

    def _elements_looked_at(self, target: ast.AST, owner: ast.AST, iterated: ast.AST) -> bool:
        free: set[str] = set()  # a parameter's name (`for name, p in net.named_parameters()`)
        watched: set[str] = set()
        if isinstance(target, ast.Name):
            watched.add(target.id)
        elif isinstance(target, ast.Tuple) and all(isinstance(e, ast.Name) for e in target.elts):
            names = [e.id for e in target.elts]  # type: ignore[attr-defined]
            free.update(names[:-1])
            watched.add(names[-1])
        else:
            return False
        for n in ast.walk(owner):
            if n is iterated:
                continue
            if isinstance(n, ast.Name) and n.id in watched:
                if isinstance(n.ctx, ast.Store) and n in ast.walk(target):
                    continue
                if not isinstance(n.ctx, ast.Load):
                    return False
                up = self.parents.get(id(n))
                if self._metadata(n) or (isinstance(up, ast.Attribute) and up.attr == "requires_grad"):
                    if isinstance(up, ast.Attribute) and up.attr == "requires_grad":
                        if not isinstance(up.ctx, ast.Load):
                            return False  # `p.requires_grad = False`: freezing, for a training to come
                    continue
                return False
        return True

    def argument_use(self, call: ast.Call, expr: ast.AST, keyword: str | None = None) -> str:
        """The model handed to a call: a look for the builtins that print or test it, for a project
        function whose parameter is only looked at, and for a library profiler or summary by name."""
        func = call.func
        if isinstance(func, ast.Name) and func.id in LOOK_BUILTINS:
            return LOOK
        if self.q.wraps(self.ctx, call):
            # a module that holds it (`Extractor(vit)`, `nn.DataParallel(net)`, `torch.compile(net)`): the
            # model goes where the wrapper goes
            return self.value_use(call)
        hit = self.q.resolve_function(self.ctx, call) if self.depth < MAX_DEPTH else None
        if hit is not None:
            fn, fn_ctx = hit
            param = _param_for(fn, call, expr, keyword)
            if param is None:
                return KEPT
            inner = _Scope(self.q, fn_ctx, fn, self.depth + 1)
            verdict = inner.name_uses(param, fn)  # type: ignore[arg-type]
            if verdict == RETURNED:
                return self.value_use(call)  # the function hands it back: followed at this call
            return verdict
        last = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        if last in LOOK_LIBRARY:
            return LOOK
        return KEPT

    # ------------------------------------------------------------------ helpers
    def _metadata(self, node: ast.AST) -> bool:
        up = self.parents.get(id(node))
        while isinstance(up, ast.Subscript) and up.value is node:
            node, up = up, self.parents.get(id(up))  # `out[0].shape`: an element's metadata
        return metadata_use(node, self.parents)

    def _in_print(self, node: ast.AST) -> bool:
        """Is ``node`` (an attribute or collection of the model: its weights, its state_dict's keys) read
        inside a ``print(...)``'s arguments, through attributes, items and calls on it only?"""
        cur = node
        while True:
            up = self.parents.get(id(cur))
            if isinstance(up, ast.Call) and isinstance(up.func, ast.Name) and up.func.id == "print":
                return cur is not up.func
            if isinstance(up, (ast.Attribute, ast.Subscript, ast.FormattedValue, ast.JoinedStr)):
                cur = up
                continue
            if isinstance(up, (ast.BinOp, ast.UnaryOp)) and isinstance(cur, ast.Call):
                cur = up  # `print(net.flops() / 1e9)`: what a method reports, scaled (not `net.weight + 1`)
                continue
            if isinstance(up, ast.Call) and up.func is cur:
                cur = up
                continue
            return False


def name_loads(scope: ast.AST, names: set[str]):
    """The reads of ``names`` in ``scope``: a function's body (its nested functions included), or a
    module's code and the functions and methods that read them as globals (not those that bind a
    local of the same name); a ``global``/``nonlocal`` of one of them in a function, as itself."""
    module = isinstance(scope, ast.Module)
    todo: list[ast.AST] = [scope]
    while todo:
        node = todo.pop()
        for child in ast.iter_child_nodes(node):
            if module and isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                if names & _local_names(child):
                    continue  # its own local of that name
            if isinstance(child, (ast.Global, ast.Nonlocal)) and names & set(child.names):
                yield child
            if isinstance(child, ast.Name) and child.id in names and isinstance(child.ctx, ast.Load):
                yield child
            todo.append(child)


def plain_names(targets: list[ast.expr]) -> set[str] | None:
    """The names an assignment binds when its targets are plain names, unpacked or not (`out = ...`,
    `a, (b, c) = ...`); None when one is anything else (`self.out = ...`, `outs[i] = ...`): what it holds is
    then read elsewhere."""
    names: set[str] = set()
    todo = list(targets)
    while todo:
        t = todo.pop()
        if isinstance(t, (ast.Tuple, ast.List)):
            todo.extend(t.elts)
        elif isinstance(t, ast.Name):
            names.add(t.id)
        else:
            return None
    return names


# methods returning a tensor with the same shape (a look at its metadata after them is one at the output's)
_SAME_METADATA = frozenset({"detach", "cpu", "cuda", "clone", "contiguous", "float", "double", "half"})


def metadata_use(node: ast.AST, parents: dict) -> bool:
    """Is ``node`` (an output) read only for its metadata where it stands (``node.shape``,
    ``node.size(0)``, ``len(node)``, ``isinstance(node, ...)``)? (Also TRP201's test of a smoke test's
    forward.)"""
    up = parents.get(id(node))
    if isinstance(up, ast.Attribute) and up.value is node:
        if up.attr in METADATA_ATTRS:
            return True
        if up.attr == "data":  # `y.data.shape`: the same tensor's metadata
            return metadata_use(up, parents)
        call = parents.get(id(up))
        if up.attr in _SAME_METADATA and isinstance(call, ast.Call) and call.func is up and not call.args:
            return metadata_use(call, parents)  # `y.detach().shape`, `y.cpu().size()`
        return up.attr in METADATA_METHODS and isinstance(call, ast.Call) and call.func is up
    return (
        isinstance(up, ast.Call)
        and isinstance(up.func, ast.Name)
        and up.func.id in ("len", "isinstance", "type")
        and bool(up.args)
        and up.args[0] is node
    )


# ---------------------------------------------------------------------------- a parameter collection's values
# What a value taken from a model's parameter collection holds, as the code takes it apart: FREE (nothing
# random: a parameter's name, a loop index, what came from elsewhere), TENSOR (a parameter or buffer: its
# values are the random init), ("seq", s) a list or iterator of s, ("tuple", (s, ...)), ("map", key, value).
FREE, TENSOR = "free", "tensor"
Shape = str | tuple
PARAM_COLLECTIONS: dict[str, Shape] = {
    "parameters": ("seq", TENSOR),
    "buffers": ("seq", TENSOR),
    "named_parameters": ("seq", ("tuple", (FREE, TENSOR))),
    "named_buffers": ("seq", ("tuple", (FREE, TENSOR))),
    "state_dict": ("map", FREE, TENSOR),
}
# tensor methods that return the same values, moved, viewed or copied (`p.detach().cpu()`): followed on
SAME_VALUES = frozenset(
    {"to", "cpu", "cuda", "float", "double", "half", "bfloat16", "detach", "clone", "contiguous", "view", "reshape"}
    | {"flatten", "permute", "transpose", "t", "squeeze", "unsqueeze", "numpy", "view_as", "reshape_as", "expand"}
    | {"expand_as"}
)
# a tensor's attributes that are no values of it (whether it trains, its gradient)
TENSOR_FLAGS = frozenset({"requires_grad", "is_leaf", "grad", "grad_fn"})
# builtins that pass their argument's elements on unchanged
PASS_ON = frozenset({"list", "tuple", "iter", "reversed", "set", "frozenset", "sorted"})
# builtins that read the values they are handed (show, reduce, convert them)
VALUE_BUILTINS = frozenset(
    {"print", "str", "repr", "format", "sum", "max", "min", "abs", "float", "int", "round", "bool", "any", "all"}
)
# calls that hold parameters by reference or write them in place: no read (a later strict load still
# overwrites what they hold)
PARAMETER_HOLDERS = frozenset(
    {"torch.nn.Parameter", "torch.nn.parameter.Parameter", "torch.nn.ParameterList", "torch.nn.ParameterDict"}
)
# methods of another object that copy the values they are handed into it
COPY_METHODS = frozenset({"copy_", "load_state_dict", "set_", "add_", "sub_", "mul_", "div_", "lerp_"})


def _carries(shape: Shape) -> bool:
    if shape == TENSOR:
        return True
    if isinstance(shape, tuple):
        if shape[0] == "seq":
            return _carries(shape[1])
        if shape[0] == "tuple":
            return any(_carries(s) for s in shape[1])
        if shape[0] == "map":
            return _carries(shape[1]) or _carries(shape[2])
    return False


def _elements(shape: Shape) -> Shape:
    """What iterating a value of ``shape`` gives: a list's elements, a dict's keys, a tensor's rows."""
    if isinstance(shape, tuple):
        if shape[0] == "seq":
            return shape[1]
        if shape[0] == "map":
            return shape[1]
        if shape[0] == "tuple":
            return TENSOR if any(_carries(s) for s in shape[1]) else FREE
    return shape


class ParamValues:
    """Are the values of a model's parameter collection read (shown, computed with, copied elsewhere)
    somewhere in ``scope``? A parameter's name, its shape, dtype, device or element count, whether it
    requires grad, do not depend on the random init: reading only those is a look. The value is followed
    from the collection through names, ``list()``/``zip()``/``enumerate()``/``dict()``, tuple unpacking in
    assignments, ``for`` targets and comprehensions, items, ``.data`` and moves. What we do not follow (a
    container, an attribute, a call we cannot read, an optimizer, an in-place write, a ``return``) is no read
    we can tell: a later strict load still overwrites it, as before."""

    MAX_STEPS = 2000  # reads followed, at most
    MAX_DEPTH = 60  # nested follows (`x = [x]` in a loop nests the shape on and on)

    def __init__(
        self,
        scope: ast.AST,
        parents: dict,
        resolve: Callable[[ast.expr], str | None],
        note_scan: Callable[[ast.AST, set[str]], None] = lambda scope, names: None,
    ) -> None:
        self.note_scan = note_scan  # told the names whose reads are looked for all over the scope
        self.scope = scope
        self.parents = parents
        self.resolve = resolve
        self.seen: set = set()
        self.env: dict[str, Shape] = {}  # names bound from the collection, with what they hold
        self.depth = 0

    def read(self, call: ast.Call) -> bool:
        """``call`` is ``<model>.<collection>()``, one of PARAM_COLLECTIONS."""
        assert isinstance(call.func, ast.Attribute)
        return self._use(call, PARAM_COLLECTIONS[call.func.attr])

    def _use(self, expr: ast.AST, shape: Shape) -> bool:
        if not _carries(shape):
            return False
        key = (id(expr), shape)
        if key in self.seen:
            return False
        if len(self.seen) > self.MAX_STEPS or self.depth > self.MAX_DEPTH:
            return False  # as for what we do not follow: no read we can tell
        self.seen.add(key)
        self.depth += 1
        try:
            return self._read_at(expr, shape)
        finally:
            self.depth -= 1

    def _read_at(self, expr: ast.AST, shape: Shape) -> bool:
        up = self.parents.get(id(expr))
        if isinstance(up, ast.Attribute) and up.value is expr:
            return self._attribute(up, shape)
        if isinstance(up, ast.Subscript):
            return self._subscript(up, expr, shape)
        if isinstance(up, ast.keyword):
            call = self.parents.get(id(up))
            return isinstance(call, ast.Call) and self._argument(call, expr, shape, up.arg)
        if isinstance(up, ast.Starred):
            call = self.parents.get(id(up))  # `print(*params)`: each element handed to the call
            return isinstance(call, ast.Call) and call.func is not up and self._argument(call, up, shape, None)
        if isinstance(up, ast.Call):
            if up.func is expr:
                return True
            return self._argument(up, expr, shape, None)
        if isinstance(up, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr)) and up.value is expr:
            if isinstance(up, ast.AugAssign) and shape == TENSOR:
                return True  # `total += p`
            targets = up.targets if isinstance(up, ast.Assign) else [up.target]
            hit = any(self._bind(t, shape, self.scope) for t in targets)
            return hit or (isinstance(up, ast.NamedExpr) and self._use(up, shape))
        if isinstance(up, (ast.For, ast.AsyncFor)) and up.iter is expr:
            return self._bind(up.target, _elements(shape), up)
        if isinstance(up, ast.comprehension) and up.iter is expr:
            owner = self.parents.get(id(up))
            return owner is not None and self._bind(up.target, _elements(shape), owner)
        if isinstance(up, (ast.ListComp, ast.SetComp, ast.GeneratorExp)) and up.elt is expr:
            return self._use(up, ("seq", shape))
        if isinstance(up, ast.DictComp):
            if up.value is expr:
                return self._use(up, ("map", self._shape_of(up.key), shape))
            return shape == TENSOR  # a tensor as a key: hashed by identity, but nothing we follow
        if isinstance(up, (ast.Tuple, ast.List)) and isinstance(up.ctx, ast.Load):
            elts = tuple(shape if e is expr else self._shape_of(e) for e in up.elts)
            return self._use(up, ("tuple", elts) if isinstance(up, ast.Tuple) else ("seq", _join_shapes(elts)))
        if isinstance(up, ast.Dict) and any(v is expr for v in up.values):
            return self._use(up, ("map", FREE, shape))
        if isinstance(up, ast.BinOp) and isinstance(up.op, ast.Add) and shape != TENSOR:
            return self._use(up, shape)  # `list(a.parameters()) + list(b.parameters())`
        if isinstance(up, ast.Compare):
            return shape == TENSOR and not all(isinstance(op, (ast.Is, ast.IsNot)) for op in up.ops)
        if isinstance(up, (ast.BinOp, ast.UnaryOp, ast.BoolOp)):
            return shape == TENSOR  # arithmetic on the values (a container's truth is its length)
        if isinstance(up, (ast.If, ast.While, ast.Assert, ast.IfExp)) and getattr(up, "test", None) is expr:
            return shape == TENSOR
        if isinstance(up, ast.IfExp):
            return self._use(up, shape)
        if isinstance(up, ast.FormattedValue):
            return True  # its values in a string
        return False  # returned, yielded, stored, starred, dropped: not followed

    def _attribute(self, attr: ast.Attribute, shape: Shape) -> bool:
        if not isinstance(attr.ctx, ast.Load):
            return False  # `p.data = x`, `p.requires_grad = False`: written, not read
        call = self.parents.get(id(attr))
        called = isinstance(call, ast.Call) and call.func is attr
        name = attr.attr
        if shape == TENSOR:
            if metadata_use(attr.value, self.parents) or (name in TENSOR_FLAGS and not called):
                return False
            if called and name.endswith("_"):
                return False  # `p.data.copy_(x)`, `p.zero_()`: written in place (a load still overwrites it)
            if called and name in SAME_VALUES:
                return self._use(call, TENSOR)  # type: ignore[arg-type]
            if name in ("data", "T", "mT", "H") and not called:
                return self._use(attr, TENSOR)
            return True  # `p.sum()`, `p.item()`, `p.tolist()`: its values
        if not called or not isinstance(shape, tuple):
            return False
        if shape[0] == "map" and name in ("items", "keys", "values"):
            elem = ("tuple", (shape[1], shape[2])) if name == "items" else shape[1] if name == "keys" else shape[2]
            return self._use(call, ("seq", elem))  # type: ignore[arg-type]
        if shape[0] == "map" and name in ("get", "pop"):
            return self._use(call, shape[2])  # type: ignore[arg-type]
        if name == "copy":
            return self._use(call, shape)  # type: ignore[arg-type]
        return False  # `sd.update(...)`, `params.append(...)`: the container changed, no value read

    def _subscript(self, sub: ast.Subscript, expr: ast.AST, shape: Shape) -> bool:
        if sub.value is not expr:
            return shape == TENSOR  # a tensor as an index: its values
        if not isinstance(sub.ctx, ast.Load):
            return False  # `sd[k] = x`: written
        if shape == TENSOR:
            return self._use(sub, TENSOR)  # a slice of the values
        assert isinstance(shape, tuple)
        if shape[0] == "seq":
            return self._use(sub, shape if isinstance(sub.slice, ast.Slice) else shape[1])
        if shape[0] == "map":
            return self._use(sub, shape[2])
        if shape[0] == "tuple":
            i = sub.slice.value if isinstance(sub.slice, ast.Constant) else None
            if isinstance(i, int) and not isinstance(i, bool) and -len(shape[1]) <= i < len(shape[1]):
                return self._use(sub, shape[1][i])
            return self._use(sub, _join_shapes(shape[1]))
        return False

    def _argument(self, call: ast.Call, expr: ast.AST, shape: Shape, keyword: str | None) -> bool:
        func = call.func
        q = self.resolve(func) or ""
        if isinstance(func, ast.Name) and keyword is None:
            name = "dict" if q == "collections.OrderedDict" else func.id
            if name in ("len", "isinstance", "type", "id", "hasattr", "callable"):
                return False
            if name in PASS_ON:
                elem = _elements(shape)
                if name == "sorted" and elem == TENSOR:
                    return True  # compared by their values
                return self._use(call, ("seq", elem))
            if name == "enumerate":
                return self._use(call, ("seq", ("tuple", (FREE, _elements(shape)))))
            if name == "zip":
                if any(isinstance(a, ast.Starred) for a in call.args):
                    return False
                elts = tuple(_elements(shape) if a is expr else FREE for a in call.args)
                return self._use(call, ("seq", ("tuple", elts)))
            if name == "dict":
                if isinstance(shape, tuple) and shape[0] == "map":
                    return self._use(call, shape)
                elem = _elements(shape)
                if isinstance(elem, tuple) and elem[0] == "tuple" and len(elem[1]) == 2:
                    return self._use(call, ("map", elem[1][0], elem[1][1]))
                return False
            if name in VALUE_BUILTINS:
                return True
        if q.startswith(("torch.nn.init.", "torch.optim.")) or q in PARAMETER_HOLDERS:
            return False  # written in place, or held by reference (a load still overwrites them)
        if q.split(".", 1)[0] in ("torch", "numpy", "math"):
            return True  # computed with, or saved (`torch.save(net.state_dict(), ...)`)
        if isinstance(func, ast.Attribute) and func.attr in COPY_METHODS:
            return True  # `ema.load_state_dict(net.state_dict())`, `q.data.copy_(p.data)`: copied elsewhere
        return False  # a call we cannot read: not followed

    def _bind(self, target: ast.AST, shape: Shape, within: ast.AST) -> bool:
        """``target`` (an assignment's or a loop's) bound to a value of ``shape``: are its reads (in
        ``within``: the scope, or the loop or comprehension that binds it) uses of the values?"""
        if not _carries(shape):
            return False
        if isinstance(target, ast.Name):
            self.env[target.id] = shape
            # (a function's: noted for it either way, a statement that names it anywhere there may be a read)
            if within is self.scope or isinstance(self.scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.note_scan(self.scope, {target.id})
            if within is self.scope:
                reads = list(name_loads(within, {target.id}))
            else:
                reads = list(_reads_in(within, target.id))
            return any(not isinstance(n, ast.Name) or self._use(n, shape) for n in reads)
        if isinstance(target, (ast.Tuple, ast.List)):
            elts = target.elts
            if isinstance(shape, tuple) and shape[0] == "tuple" and len(shape[1]) == len(elts):
                if not any(isinstance(e, ast.Starred) for e in elts):
                    return any(self._bind(e, s, within) for e, s in zip(elts, shape[1], strict=True))
            elem = _elements(shape)
            return any(
                self._bind(e.value, ("seq", elem), within)
                if isinstance(e, ast.Starred)
                else self._bind(e, elem, within)
                for e in elts
            )
        return False  # `self.params = ...`, `groups[0] = ...`: kept where we do not follow

    def _shape_of(self, expr: ast.AST) -> Shape:
        """What a display's other element holds: a name bound from the collection, else nothing of it."""
        if isinstance(expr, ast.Name):
            return self.env.get(expr.id, FREE)
        if isinstance(expr, ast.Tuple):
            return ("tuple", tuple(self._shape_of(e) for e in expr.elts))
        if any(isinstance(n, ast.Name) and _carries(self.env.get(n.id, FREE)) for n in ast.walk(expr)):
            return TENSOR  # computed from one of them: its reads are judged where they are
        return FREE


def _join_shapes(shapes: tuple) -> Shape:
    """One shape for the elements of a list display or an unknown item of a tuple."""
    carrying = [s for s in shapes if _carries(s)]
    if not carrying:
        return FREE
    return carrying[0] if all(s == carrying[0] for s in carrying) else TENSOR


def _reads_in(node: ast.AST, name: str):
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load):
            yield n


def _under_class(expr: ast.AST, scope: ast.AST, parents: dict) -> bool:
    cur = parents.get(id(expr))
    while cur is not None and cur is not scope:
        if isinstance(cur, ast.ClassDef):
            return True
        if isinstance(cur, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return False
        cur = parents.get(id(cur))
    return False


def _local_names(fn: ast.AST) -> set[str]:
    """The names a function binds locally (its parameters and what it assigns), unless declared global."""
    out: set[str] = set()
    declared: set[str] = set()
    args = fn.args  # type: ignore[attr-defined]
    out.update(a.arg for a in args.posonlyargs + args.args + args.kwonlyargs)
    out.update(a.arg for a in (args.vararg, args.kwarg) if a is not None)
    for n in ast.walk(fn):
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            out.add(n.id)
        elif isinstance(n, ast.Global):
            declared.update(n.names)
    return out - declared


def _param_for(fn: ast.AST, call: ast.Call, expr: ast.AST, keyword: str | None) -> str | None:
    """The parameter of ``fn`` that receives ``expr`` at ``call``."""
    args = fn.args  # type: ignore[attr-defined]
    params = [a.arg for a in args.posonlyargs + args.args]
    if keyword is not None:
        names = params + [a.arg for a in args.kwonlyargs]
        return keyword if keyword in names else None
    if any(isinstance(a, ast.Starred) for a in call.args):
        return None
    for i, a in enumerate(call.args):
        if a is expr:
            # a method called on an object: its first parameter is `self`
            offset = 1 if isinstance(call.func, ast.Attribute) and params[:1] == ["self"] else 0
            return params[i + offset] if i + offset < len(params) else None
    return None
