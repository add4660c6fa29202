"""One planner per fixable rule: where the statements that remove a finding go, and in which tier.

A planner reads the file as it is (its text and ``ast``) and the diagnostic (its position and the facts
its :class:`..diagnostics.Fix` carries from the analysis) and returns the edits: statements inserted on
lines of their own, with the indentation of the line they go before, or the few characters a fix
replaces. It returns None when it cannot say where a fix belongs, and the finding stays. Whether a
fix is safe is decided here, from the code around the finding, never upgraded from the rule's tier:
what the linter proved is the hazard; what the rest of the function does with the model decides
whether changing it may change anything else.

:mod:`.fixes` applies the plans, checks each one compiles on its own and together, and maps them into
notebook cells.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeAlias

from .analysis.syntax import is_routed
from .diagnostics import Diagnostic

SAFE, UNSAFE = "safe", "unsafe"
_NEWLINE = re.compile(r"\r\n|\r|\n")  # what Python's tokenizer counts as the end of a line
_INFERENCE_CONTEXTS = frozenset({"no_grad", "inference_mode", "set_grad_enabled"})
_BLOCKS = ("body", "orelse", "finalbody")

_Function: TypeAlias = ast.FunctionDef | ast.AsyncFunctionDef
_Scope: TypeAlias = ast.Module | ast.FunctionDef | ast.AsyncFunctionDef  # what binds names: see _scope
_Loop: TypeAlias = ast.For | ast.AsyncFor | ast.While


@dataclass(frozen=True)
class Insertion:
    """Replace ``source[start:end]`` with ``text`` (``start == end``: an insertion). A ``shared`` edit (an
    added import, the seed) may serve several findings; any other edit belongs to one fix."""

    start: int
    end: int
    text: str
    shared: bool = False


@dataclass(frozen=True)
class Plan:
    safety: str
    edits: tuple[Insertion, ...]


class Lines:
    """Character offsets of the lines of a source, as Python counts lines (``\\r\\n``, ``\\r``, ``\\n``)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.starts = [0] + [m.end() for m in _NEWLINE.finditer(source)]

    def text(self, line: int) -> str:
        start = self.starts[line - 1]
        end = self.starts[line] if line < len(self.starts) else len(self.source)
        return self.source[start:end].rstrip("\r\n")

    def offset(self, line: int, byte_col: int) -> int:
        """The offset of an ``ast`` position (its columns count UTF-8 bytes)."""
        text = self.text(line)
        col = byte_col if text.isascii() else len(text.encode("utf-8")[:byte_col].decode("utf-8", "replace"))
        return self.starts[line - 1] + col

    def char_col(self, line: int, byte_col: int) -> int:
        return self.offset(line, byte_col) - self.starts[line - 1]


class Source:
    """The file a planner works on: its text, tree, line ending and indentation unit."""

    def __init__(self, source: str, tree: ast.Module, seed: int = 0, findings: Iterable[Diagnostic] = ()) -> None:
        self.source = source
        self.tree = tree
        self.lines = Lines(source)
        self.seed = seed
        self.findings = tuple(findings)  # every finding being fixed: a planner may join its neighbours'
        self._comments: frozenset[int] | None = None
        nl = _NEWLINE.search(source)
        self.newline = nl.group(0) if nl else "\n"
        self.unit = self._indent_unit()

    def _indent_unit(self) -> str:
        """One level of the file's indentation: what its first block adds to its header's (four spaces in a
        file without blocks)."""
        for node in ast.walk(self.tree):
            body = getattr(node, "body", None)
            if isinstance(node, ast.stmt) and isinstance(body, list) and body and body[0].lineno > node.lineno:
                outer, inner = self.indent(node), self.indent(body[0])
                if outer is not None and inner is not None and inner.startswith(outer) and len(inner) > len(outer):
                    return inner[len(outer) :]
        return "    "

    # ------------------------------------------------------------------ positions
    def segment(self, node: ast.stmt | ast.expr) -> str:
        return self.source[self.start(node) : self.end(node)]

    def start(self, node: ast.stmt | ast.expr) -> int:
        return self.lines.offset(node.lineno, node.col_offset)

    def end(self, node: ast.stmt | ast.expr) -> int:
        return self.lines.offset(*_end(node))

    def indent(self, stmt: ast.stmt) -> str | None:
        """The whitespace before the statement on its line; None when something else comes first
        (``if x: stmt``, ``a = 1; stmt``): no statement can be written on a line of its own before it."""
        prefix = self.lines.text(stmt.lineno)[: self.lines.char_col(stmt.lineno, stmt.col_offset)]
        return prefix if not prefix.strip() else None

    def chain(self, d: Diagnostic) -> list[ast.AST]:
        """The statements that hold the diagnostic's position, outermost first, the module at the head."""
        out: list[ast.AST] = [self.tree]
        body = self.tree.body
        while body:
            here = [s for s in body if s.lineno <= d.line <= _end(s)[0]]
            if len(here) > 1:  # `a = 1; model(x)`: the one whose columns hold the position
                here = [s for s in here if s.lineno != d.line or self.lines.char_col(s.lineno, s.col_offset) <= d.col]
            if not here:
                break
            stmt = here[-1]
            out.append(stmt)
            body = [s for name in _BLOCKS for s in getattr(stmt, name, None) or () if isinstance(s, ast.stmt)]
            body += [s for h in getattr(stmt, "handlers", ()) or () for s in h.body]
            body += [s for c in getattr(stmt, "cases", ()) or () for s in c.body]
        return out

    def call_at(self, stmt: ast.stmt, d: Diagnostic, attr: str) -> ast.Call | None:
        """The ``.attr(...)`` call the diagnostic points at."""
        for node in ast.walk(stmt):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == attr
                and node.lineno == d.line
                and self.lines.char_col(node.lineno, node.col_offset) == d.col
            ):
                return node
        return None

    # ------------------------------------------------------------------ statements written on their own lines
    def lines_of(self, code: str, indent: str) -> str:
        """``code`` (newline-separated lines, a leading tab per level of indentation each adds) written at
        ``indent``, with the file's indentation unit and line ending."""
        return self.newline.join(
            indent + self.unit * (len(ln) - len(ln.lstrip("\t"))) + ln.lstrip("\t") for ln in code.split("\n")
        )

    def comment_lines(self) -> frozenset[int]:
        """The lines that hold nothing but a comment (from the tokenizer: a ``#`` inside a string is none)."""
        if self._comments is None:
            found: set[int] = set()
            try:
                code_lines: set[int] = set()
                comments: set[int] = set()
                for tok in tokenize.generate_tokens(io.StringIO(self.source).readline):
                    if tok.type == tokenize.COMMENT:
                        comments.add(tok.start[0])
                    elif tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
                        code_lines.update(range(tok.start[0], tok.end[0] + 1))
                found = comments - code_lines
            except (tokenize.TokenError, SyntaxError, ValueError):
                found = set()
            self._comments = frozenset(found)
        return self._comments

    def before(self, stmt: ast.stmt, code: str) -> Insertion | None:
        """``code`` on lines of its own just before ``stmt``, at its indentation, and above the comment
        lines right over it, which describe it (None when the line above already says it: a fix applied
        once is not applied again)."""
        indent = self.indent(stmt)
        if indent is None:
            return None
        line = stmt.lineno
        comments = self.comment_lines()
        while line - 1 in comments and self.lines.text(line - 1).startswith(indent + "#"):
            line -= 1  # a comment at the statement's own indentation stays attached to it
        if line > 1 and self.lines.text(line - 1).split("#")[0].strip() in (
            code.split("\n")[-1].strip(),
            code.split("\n")[-1].strip().removesuffix("()"),
        ):
            return None  # already there, or there but not called (TRP202 fixes that one)
        at = self.lines.starts[line - 1]
        return Insertion(at, at, self.lines_of(code, indent) + self.newline)

    def after(self, stmt: ast.stmt, code: str, indent: str | None = None) -> Insertion | None:
        """``code`` on lines of its own just after ``stmt`` (which must end its line), at ``indent``
        (the statement's own by default)."""
        indent = self.indent(stmt) if indent is None else indent
        if indent is None:
            return None
        end_line, end_col = _end(stmt)
        rest = self.lines.text(end_line)[self.lines.char_col(end_line, end_col) :].strip()
        if rest and not rest.startswith("#"):
            return None
        following = end_line + 1
        if following <= len(self.lines.starts):
            if self.lines.text(following).strip() == code.split("\n")[0].strip():
                return None
            at = self.lines.starts[following - 1]
            return Insertion(at, at, self.lines_of(code, indent) + self.newline)
        return Insertion(len(self.source), len(self.source), self.newline + self.lines_of(code, indent))

    def body_start(self, owner: _Function | _Loop, code: str) -> Insertion | None:
        """``code`` as the first statement of a function or loop body (after a function's docstring)."""
        body = owner.body
        if isinstance(owner, (ast.FunctionDef, ast.AsyncFunctionDef)) and _is_docstring(body[0]):
            if len(body) == 1:
                return self.after(body[0], code)
            body = body[1:]
        if self.segment(body[0]) == code:
            return None
        return self.before(body[0], code)

    # ------------------------------------------------------------------ module level
    def module_name(self, module: str) -> str | None:
        """The name under which the file imports ``module`` at its top level (``import torch as th``)."""
        for stmt in self.tree.body:
            if isinstance(stmt, ast.Import):
                for alias in stmt.names:
                    if alias.name == module:
                        return alias.asname or module
                    if alias.asname is None and alias.name.startswith(module + "."):
                        return module  # `import torch.nn` binds `torch`
        return None

    def import_point(self, before_line: int | None = None) -> ast.stmt | None:
        """The statement after which module-level code goes: the last top-level import before
        ``before_line`` (None: at the head of the file, after its docstring and ``__future__`` imports)."""
        last = None
        for stmt in self.tree.body:
            if before_line is not None and stmt.lineno >= before_line:
                break
            if isinstance(stmt, (ast.Import, ast.ImportFrom)) or (last is None and _is_docstring(stmt)):
                last = stmt
        return last

    def at_module_head(self, code: str, before_line: int | None = None) -> Insertion | None:
        """``code`` after the imports (see :meth:`import_point`), at the top level."""
        point = self.import_point(before_line)
        if point is not None:
            return self.after(point, code, "")
        first = self.tree.body[0] if self.tree.body else None
        if first is None:
            return Insertion(len(self.source), len(self.source), code + self.newline)
        return self.before(first, code)

    def ensure_import(self, module: str, user: ast.stmt) -> tuple[str, list[Insertion]]:
        """The name the file uses for ``module``, and the ``import`` to add when it has none: after the
        imports that precede ``user``, the top-level statement that needs it."""
        name = self.module_name(module)
        if name is not None:
            return name, []
        edit = self.at_module_head(f"import {module}", user.lineno)
        edit = Insertion(edit.start, edit.end, edit.text, shared=True) if edit is not None else None
        return module, [edit] if edit is not None else []


def _end(node: ast.stmt | ast.expr) -> tuple[int, int]:
    """Where a node ends (line, ``ast`` column). Parsed nodes always have both; a node built by hand may
    not, and then no fix is planned (the ValueError is caught like any shape of code not foreseen)."""
    if node.end_lineno is None or node.end_col_offset is None:
        raise ValueError(f"{type(node).__name__} at line {node.lineno} has no end position")
    return node.end_lineno, node.end_col_offset


def _args(d: Diagnostic) -> tuple[str, ...]:
    """The facts the diagnostic's fix carries (planners see only diagnostics that offer a fix)."""
    if d.fix is None:
        raise ValueError(f"{d.code} at {d.line}:{d.col} offers no fix")
    return d.fix.args


def _top_level(chain: list[ast.AST]) -> ast.stmt:
    """The top-level statement of a :meth:`Source.chain` (the one after the module)."""
    top = chain[1]
    if not isinstance(top, ast.stmt):
        raise ValueError(f"the chain holds {type(top).__name__} where a statement belongs")
    return top


def _receiver(call: ast.Call) -> ast.expr:
    """What a method call (as :meth:`Source.call_at` finds it) is called on."""
    if not isinstance(call.func, ast.Attribute):
        raise ValueError("not a method call")
    return call.func.value


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _own_nodes(scope: _Scope) -> Iterator[ast.AST]:
    """The nodes of a function (or module) body, without those of nested functions and classes."""
    stack: list[ast.AST] = list(scope.body)
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                stack.append(child)


def _bound(scope: _Scope) -> set[str]:
    """The names and attribute chains (``self.model``) a function or module binds itself."""
    out: set[str] = set()
    for node in _own_nodes(scope):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
            targets = [node.target]
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            targets = [node.target]
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            targets = [node.optional_vars]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            out.update((a.asname or a.name).split(".")[0] for a in node.names)
        for t in targets:
            for sub in ast.walk(t):
                name = _dotted(sub) if isinstance(sub, (ast.Name, ast.Attribute)) else None
                if name:
                    out.add(name)
    return out


def _binds_model(scope: _Scope, name: str) -> bool:
    """Is the model bound in this function (``model = Net()``, ``self.model = ...``), rather than handed
    in by a caller whose later code may rely on its mode?"""
    bound = _bound(scope)
    root = name.split(".")[0]
    return name in bound or (root != "self" and root in bound)


def _scope(chain: list[ast.AST]) -> tuple[_Scope, list[ast.stmt]]:
    """The innermost function of the chain (or the module) and the statements inside it."""
    for i in range(len(chain) - 1, -1, -1):
        scope = chain[i]
        if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
            return scope, [s for s in chain[i + 1 :] if isinstance(s, ast.stmt)]  # (all are: after the module)
    raise ValueError("a chain starts with its module")


def _trains(nodes: Iterable[ast.AST]) -> bool:
    """A training step among these nodes: ``loss.backward()``, ``optimizer.step()``, ``train_epoch(...)``."""
    for node in nodes:
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Attribute) and (
            f.attr == "backward" or f.attr == "step" and "optim" in (_dotted(f.value) or "").lower()
        ):
            return True
        if isinstance(f, ast.Name) and f.id.startswith("train"):
            return True
    return False


def _inference_with(node: ast.AST) -> bool:
    if not isinstance(node, (ast.With, ast.AsyncWith)):
        return False
    for item in node.items:
        e = item.context_expr
        f = e.func if isinstance(e, ast.Call) else e
        if (_dotted(f) or "").rsplit(".", 1)[-1] in _INFERENCE_CONTEXTS:
            return True
    return False


def _inference_decorated(fn: ast.AST) -> bool:
    return isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
        (_dotted(dec.func if isinstance(dec, ast.Call) else dec) or "").rsplit(".", 1)[-1] in _INFERENCE_CONTEXTS
        for dec in fn.decorator_list
    )


def _walk_all(nodes: Iterable[ast.AST]) -> Iterator[ast.AST]:
    for n in nodes:
        yield from ast.walk(n)


def _after(scope: _Scope, stmt: ast.stmt) -> list[ast.AST]:
    """The nodes of the scope that come after ``stmt`` in the text."""
    end_line = _end(stmt)[0]
    return [n for n in _own_nodes(scope) if getattr(n, "lineno", 0) > end_line]


# ====================================================================== the planners
def _blocks(parent: ast.AST) -> Iterator[list[ast.stmt]]:
    """The statement lists directly under ``parent`` (a function, a module or a compound statement)."""
    for name in _BLOCKS:
        block = getattr(parent, name, None)
        if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
            yield block
    for h in getattr(parent, "handlers", ()) or ():
        yield h.body
    for c in getattr(parent, "cases", ()) or ():
        yield c.body


def _siblings(parent: ast.AST, stmt: ast.stmt) -> list[ast.stmt]:
    """The block of ``parent`` that holds ``stmt``."""
    return next((b for b in _blocks(parent) if any(s is stmt for s in b)), [stmt])


def _binds(node: ast.AST, name: str) -> bool:
    """Does ``node`` (a statement, with what it holds) bind the model's name, or the object it hangs on?"""
    body = [node] if isinstance(node, ast.stmt) else []
    return _binds_model(ast.Module(body=body, type_ignores=[]), name)


def _binding(scope: _Scope, inner: list[ast.stmt], name: str) -> tuple[ast.stmt, bool] | None:
    """Where the model is last bound before the forward, on the way from the scope to it: a statement
    before one of the forward's enclosing statements in the same block (``net = Net()`` before
    ``y = net(x)``, an ``if`` whose branches bind it), as (that statement, True); or the header of an
    enclosing ``for``/``with`` (``for net in nets:``), as (the first statement of its body, False). A
    mode set before it would be set on nothing (a name not bound yet) or on another object."""
    parents: list[ast.AST] = [scope, *inner[:-1]]
    for parent, stmt in reversed(list(zip(parents, inner, strict=True))):
        block = _siblings(parent, stmt)
        for prior in reversed(block[: next(i for i, s in enumerate(block) if s is stmt)]):
            if _binds(prior, name):
                return prior, True
        targets = (
            [parent.target]
            if isinstance(parent, (ast.For, ast.AsyncFor))
            else [i.optional_vars for i in parent.items if i.optional_vars is not None]
            if isinstance(parent, (ast.With, ast.AsyncWith))
            else []
        )
        header = ast.Module(body=[ast.Assign(targets=targets, value=ast.Constant(None))], type_ignores=[])
        if targets and block is getattr(parent, "body", None) and _binds_model(header, name):
            return block[0], False
    return None


def _after_binding(src: Source, bound_at: tuple[ast.stmt, bool], code: str) -> Insertion | None:
    stmt, after = bound_at
    return src.after(stmt, code) if after else src.before(stmt, code)


def _holds(stmt: ast.stmt, d: Diagnostic) -> bool:
    return stmt.lineno <= d.line <= _end(stmt)[0]


def _run(src: Source, parent: ast.AST, region: ast.stmt, name: str) -> list[ast.stmt]:
    """The run of neighbouring regions that ``region`` belongs to: the
    statements next to it in its block that are inference regions of the same model too (another
    finding's ``with torch.no_grad():`` block, or statement). One ``eval()`` before the run and one
    restore after it serve them all: their fixes are the same edits, made once."""

    def region_of_another(stmt: ast.stmt) -> bool:
        if not (_inference_with(stmt) or not any(True for _ in _blocks(stmt))):
            return False  # its finding's own region is inside it, not this statement
        return any(
            f.code == "TRP201" and f.fix is not None and f.fix.args[:1] == (name,) and _holds(stmt, f)
            for f in src.findings
        )

    block = _siblings(parent, region)
    at = next(i for i, s in enumerate(block) if s is region)
    first = last = at
    while first > 0 and region_of_another(block[first - 1]):
        first -= 1
    while last + 1 < len(block) and region_of_another(block[last + 1]):
        last += 1
    return block[first : last + 1]


def _sets_mode(stmt: ast.stmt | None, name: str) -> bool:
    """Is ``stmt`` a ``model.eval()`` / ``model.train(...)`` of this model (so a mode restored just before
    it would be undone at once)?"""
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Call)
        and isinstance(stmt.value.func, ast.Attribute)
        and stmt.value.func.attr in ("eval", "train")
        and _dotted(stmt.value.func.value) == name
    )


def _next(parent: ast.AST, stmt: ast.stmt) -> ast.stmt | None:
    block = _siblings(parent, stmt)
    at = next(i for i, s in enumerate(block) if s is stmt)
    return block[at + 1] if at + 1 < len(block) else None


# ====================================================================== the planners
def plan_eval(src: Source, d: Diagnostic) -> Plan | None:
    """TRP201: ``model.eval()`` before the inference region (and ``model.train()`` after it when the
    code goes on training). A model handed in by a caller gets its mode back after the region
    (``model.train(model_was_training)``): the caller's own training goes on in the mode it had. Never above
    the statement that binds the model: then ``eval()`` goes right after that binding."""
    chain = src.chain(d)
    scope, inner = _scope(chain)
    if not inner:
        return None
    name, kind = _args(d)
    code = f"{name}.eval()"
    fn = scope if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) else None
    from_caller = fn is not None and not _binds_model(fn, name)
    bound_at = None if from_caller else _binding(scope, inner, name)
    at = next((i for i, s in enumerate(inner) if _inference_with(s)), None)
    if at is None and fn is not None and (_inference_decorated(fn) or kind == f"{fn.name}()"):
        # the whole function is the region: eval() first thing in it (after the model is bound), the
        # caller's mode back at its end
        if from_caller:
            edits = _restoring_function(src, fn, name)
        else:
            edit = _after_binding(src, bound_at, code) if bound_at is not None else src.body_start(fn, code)
            edits = [edit] if edit is not None else None
        return Plan(UNSAFE, tuple(edits)) if edits else None
    at = len(inner) - 1 if at is None else at
    parent = inner[at - 1] if at else scope
    run = _run(src, parent, inner[at], name)
    start, end = run[0], run[-1]
    if fn is not None and from_caller:
        # left in eval mode, the caller's model would train in it afterwards (a fresh TRP203): give it
        # its mode back, or offer no fix
        edits = _restoring_region(src, fn, run, name)
        params = {a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs}
        if edits is None and is_routed(fn) and name.split(".")[0] not in params:
            # a module's model served by a handler that returns from inside the region (a web route): the
            # mode cannot be given back after a return, and nothing of this function trains it: eval() only
            first = src.before(start, code)
            edits = [first] if first is not None else None
        return Plan(UNSAFE, tuple(edits)) if edits else None
    if bound_at is not None and bound_at[0].lineno >= start.lineno:
        first = _after_binding(src, bound_at, code)  # bound inside the region: eval() once it is
    else:
        first = src.before(start, code)
    if first is None:
        return None
    loops = [
        s
        for s in inner
        if isinstance(s, (ast.For, ast.AsyncFor, ast.While))
        and s.lineno <= start.lineno
        and _end(s)[0] >= _end(end)[0]
        and not any(s is r for r in run)
    ]
    trains_later = _trains(_after(scope, end)) or any(_trains(_walk_all(loop.body)) for loop in loops)
    retrains = any(
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr == "train"
        and _dotted(n.func.value) == name
        for n in [*_after(scope, end), *(x for loop in loops for x in _walk_all(loop.body))]
    )
    if trains_later and not retrains:
        if _sets_mode(_next(parent, end), name):
            return Plan(UNSAFE, (first,))  # the next statement sets the mode itself: nothing to give back
        second = src.after(end, f"{name}.train()")
        if second is None:
            return None
        return Plan(UNSAFE, (first, second))
    return Plan(SAFE if _binds_model(scope, name) else UNSAFE, (first,))


_OUTPUT = "output"


def _flag(name: str) -> str:
    """The variable that keeps a model's mode across the region, named after the whole expression:
    ``model_was_training`` for ``model``, ``self_a_was_training`` for ``self.a`` (not ``a_was_training``, which
    a global ``a`` restored in the same region would take too). One per model: two models given their mode
    back in one region keep theirs apart."""
    return name.replace(".", "_") + "_was_training"


def _escapes(stmt: ast.stmt) -> bool:
    """Can control leave the statement other than at its end (``return``, ``break``, ``yield`` ...)?
    A mode restored after it would then be skipped."""
    return any(
        isinstance(n, (ast.Return, ast.Break, ast.Continue, ast.Yield, ast.YieldFrom))
        for n in _own_nodes(ast.Module(body=[stmt], type_ignores=[]))
    )


def _restoring_function(src: Source, fn: _Function, name: str) -> list[Insertion] | None:
    """An inference function that puts the caller's model in eval mode and gives the caller its mode back:
    ``model_was_training = model.training; model.eval()`` first, ``model.train(model_was_training)`` last (see
    :func:`_restoring_return` for a final ``return``). None when the function leaves by another way (an
    early return, a yield), or the names are taken."""
    body = fn.body[1:] if _is_docstring(fn.body[0]) and len(fn.body) > 1 else fn.body
    last = body[-1]
    exits = [n for n in _own_nodes(fn) if isinstance(n, (ast.Return, ast.Yield, ast.YieldFrom))]
    flag = _flag(name)
    if flag in _bound(fn) or exits and exits != [last]:
        return None
    first = src.body_start(fn, f"{flag} = {name}.training\n{name}.eval()")
    rest = _restoring_return(src, fn, last, name) if exits else _listed(src.after(last, f"{name}.train({flag})"))
    return [first, *rest] if first is not None and rest else None


def _listed(edit: Insertion | None) -> list[Insertion] | None:
    return [edit] if edit is not None else None


def _restoring_region(src: Source, scope: _Scope, run: list[ast.stmt], name: str) -> list[Insertion] | None:
    """eval() before a region (a run of neighbouring statements of one block) of a function whose model is
    the caller's, its mode back after it: after the region, or, for a ``return`` that runs the forward,
    between computing the value and returning it."""
    flag = _flag(name)
    if flag in _bound(scope):
        return None
    first = src.before(run[0], f"{flag} = {name}.training\n{name}.eval()")
    end = run[-1]
    if any(_escapes(s) for s in run[:-1]):
        return None
    if isinstance(end, ast.Return):
        rest = _restoring_return(src, scope, end, name)
    elif (
        isinstance(end, (ast.With, ast.AsyncWith))
        and isinstance(end.body[-1], ast.Return)
        and not any(_escapes(s) for s in end.body[:-1])
    ):
        # `with torch.no_grad(): ...; return net(x)`: the mode back between computing the value and returning
        rest = _restoring_return(src, scope, end.body[-1], name)
    elif _escapes(end):
        return None
    else:
        rest = _listed(src.after(end, f"{name}.train({flag})"))
    return [first, *rest] if first is not None and rest else None


def _restoring_return(src: Source, scope: _Scope, ret: ast.stmt, name: str) -> list[Insertion] | None:
    """``return <value>`` becomes ``output = <value>``, ``model.train(model_was_training)``, ``return output``:
    only the keyword is replaced, so a value over several lines keeps its text."""
    if not isinstance(ret, ast.Return) or ret.value is None or _OUTPUT in _bound(scope) or src.indent(ret) is None:
        return None
    keep = Insertion(src.start(ret), src.start(ret.value), f"{_OUTPUT} = ")
    back = src.after(ret, f"{name}.train({_flag(name)})\nreturn {_OUTPUT}")
    return [keep, back] if back is not None else None


def plan_train(src: Source, d: Diagnostic) -> Plan | None:
    """TRP203: ``model.train()`` at the start of the training step. Always unsafe: it changes what the
    step computes (dropout drops, batch-norm uses batch statistics), so the loss and the trained
    weights change, which is wrong where eval mode was deliberate (frozen batch-norm)."""
    name = _args(d)[0]
    chain = src.chain(d)
    _, inner = _scope(chain)
    if not inner:
        return None
    code = f"{name}.train()"
    loops = [s for s in inner if isinstance(s, (ast.For, ast.AsyncFor, ast.While))]
    edit = src.body_start(loops[-1], code) if loops else src.before(inner[-1], code)
    return Plan(UNSAFE, (edit,)) if edit is not None else None


def _check(name: str, missing: str, unexpected: str, warnings: str) -> str:
    """Warn when a non-strict load did not match every key (the lines of :meth:`Source.lines_of`)."""
    return (
        f"if {missing} or {unexpected}:\n"
        f'\t{warnings}.warn(f"{name}.load_state_dict: missing keys {{{missing}}}, '
        f'unexpected keys {{{unexpected}}}")'
    )


_KEYS = ("missing_keys", "unexpected_keys")


def _keep_result(
    src: Source, stmt: ast.stmt, call: ast.Call, name: str, scope: _Scope, top: ast.stmt
) -> list[Insertion] | None:
    """``missing_keys, unexpected_keys = <the load>`` in place of the statement's target (or of the bare
    call), and the check after it."""
    indent = src.indent(stmt)
    if indent is None or not (
        isinstance(stmt, ast.Expr) and stmt.value is call or isinstance(stmt, ast.Assign) and stmt.value is call
    ):
        return None
    taken = {n for n in _bound(scope) if n in _KEYS}
    if taken and not _only_load_results(scope):
        return None  # the names mean something else in this function
    warnings, imports = src.ensure_import("warnings", top)
    keep = Insertion(src.start(stmt), src.start(call), f"{_KEYS[0]}, {_KEYS[1]} = ")
    check = src.after(stmt, _check(name, *_KEYS, warnings))
    return None if check is None else [*imports, keep, check]


def _only_load_results(scope: _Scope) -> bool:
    """Are ``missing_keys, unexpected_keys`` bound only by earlier fixes (to ``load_state_dict`` results)?"""
    for node in _own_nodes(scope):
        names = {_dotted(x) for t in getattr(node, "targets", ()) for x in ast.walk(t)}
        if isinstance(node, ast.Assign) and names & set(_KEYS):
            if not (
                isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Attribute)
                and node.value.func.attr == "load_state_dict"
            ):
                return False
    return True


def plan_nonstrict(src: Source, d: Diagnostic) -> Plan | None:
    """TRP305: keep the result of a ``strict=False`` load and warn when keys did not match."""
    name, how = _args(d)
    chain = src.chain(d)
    scope, inner = _scope(chain)
    if not inner:
        return None
    stmt = inner[-1]
    call = src.call_at(stmt, d, "load_state_dict")
    if call is None:
        return None
    if (
        how == "never read"
        and isinstance(stmt, ast.Assign)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], ast.Name)
        and stmt.value is call
        and stmt.targets[0].id != _dotted(_receiver(call))
    ):  # `model = model.load_state_dict(...)`: below
        result = stmt.targets[0].id
        warnings, imports = src.ensure_import("warnings", _top_level(chain))
        check = src.after(stmt, _check(name, f"{result}.missing_keys", f"{result}.unexpected_keys", warnings))
        return Plan(UNSAFE, (*imports, check)) if check is not None else None
    # discarded, or the model's own name rebound (TRP302 at the same call: the same edits, made once)
    edits = _keep_result(src, stmt, call, name, scope, _top_level(chain))
    return Plan(UNSAFE, tuple(edits)) if edits else None


def plan_drop_rebinding(src: Source, d: Diagnostic, rewrite: Callable[[ast.stmt], Insertion | None]) -> Plan | None:
    """TRP302: drop ``model =`` before ``model.load_state_dict(sd)``; on a ``strict=False`` load keep
    the result and check it instead (dropped, the result would be a fresh TRP305). ``rewrite`` is the
    exact statement rewrite of :mod:`.fixes`."""
    chain = src.chain(d)
    scope, inner = _scope(chain)
    if not inner:
        return None
    stmt = inner[-1]
    call = src.call_at(stmt, d, "load_state_dict")
    if call is None or not isinstance(stmt, ast.Assign):
        return None
    if any(k.arg == "strict" and isinstance(k.value, ast.Constant) and k.value.value is False for k in call.keywords):
        edits = _keep_result(src, stmt, call, _dotted(_receiver(call)) or "model", scope, _top_level(chain))
        return Plan(SAFE, tuple(edits)) if edits else None
    edit = rewrite(stmt)
    return Plan(SAFE, (edit,)) if edit is not None else None


def plan_entry(src: Source, d: Diagnostic) -> Plan | None:
    """TRP304: pass ``ckpt["model"]``, the checkpoint's state_dict entry."""
    keys = _args(d)
    chain = src.chain(d)
    stmt = chain[-1]  # (the module when no statement holds the position)
    call = src.call_at(stmt, d, "load_state_dict") if isinstance(stmt, ast.stmt) else None
    arg = _state_dict_arg(call)
    if arg is None:
        return None
    key = keys[0] if keys else "model"
    text = src.segment(arg)
    if not isinstance(arg, (ast.Name, ast.Attribute, ast.Call, ast.Subscript)):
        text = f"({text})"
    return Plan(
        SAFE if len(keys) == 1 else UNSAFE, (Insertion(src.start(arg), src.end(arg), f"{text}[{_string(key)}]"),)
    )


def _state_dict_arg(call: ast.Call | None) -> ast.expr | None:
    if call is None:
        return None
    if call.args and not isinstance(call.args[0], ast.Starred):
        return call.args[0]
    return next((k.value for k in call.keywords if k.arg == "state_dict"), None)


def _string(key: str) -> str:
    return f'"{key}"' if re.fullmatch(r"[\w.\- ]*", key) else repr(key)


def plan_prefix(src: Source, d: Diagnostic) -> Plan | None:
    """TRP306: strip the ``module.`` prefix before the load, or load into the wrapper's ``.module``."""
    name, direction = _args(d)
    chain = src.chain(d)
    scope, inner = _scope(chain)
    if not inner:
        return None
    stmt = inner[-1]
    call = src.call_at(stmt, d, "load_state_dict")
    arg = _state_dict_arg(call)
    if call is None or arg is None:
        return None
    if direction == "add":
        receiver = _receiver(call)
        if _dotted(receiver) != name:
            return None
        return Plan(UNSAFE, (Insertion(src.start(receiver), src.end(receiver), f"{name}.module"),))
    torch, imports = src.ensure_import("torch", _top_level(chain))
    strip = f"{torch}.nn.modules.utils.consume_prefix_in_state_dict_if_present"
    if isinstance(arg, ast.Name):
        edit = src.before(stmt, f'{strip}({arg.id}, "module.")')
        return Plan(UNSAFE, (*imports, edit)) if edit is not None else None
    if not isinstance(stmt, (ast.Expr, ast.Assign)) or "state_dict" in _bound(scope):
        return None
    value = src.segment(arg)
    if "\n" in value or "\r" in value:
        value = f"({value})"
    bind = src.before(stmt, f"state_dict = {value}")
    strip_it = src.before(stmt, f'{strip}(state_dict, "module.")')
    if bind is None or strip_it is None:
        return None
    both = Insertion(bind.start, bind.end, bind.text + strip_it.text)
    return Plan(UNSAFE, (*imports, both, Insertion(src.start(arg), src.end(arg), "state_dict")))


def plan_seed(src: Source, d: Diagnostic) -> Plan | None:
    """TRP101/TRP103: ``torch.manual_seed(<fix-seed>)`` at the top of ``main()`` when the construction is
    in it (or in a function handed to another, a spawn target: it runs in a process of its own, which
    the parent's seed does not reach), else after the imports that precede it."""
    chain = src.chain(d)
    if len(chain) < 2:
        return None
    top = _top_level(chain)
    if isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
        top.name == "main" or _handed_over(src.tree, top.name)
    ):
        torch, imports = src.ensure_import("torch", top)
        edit = src.body_start(top, f"{torch}.manual_seed({src.seed})")
        return Plan(UNSAFE, (*imports, _shared(edit))) if edit is not None else None
    imported = src.module_name("torch")
    seed = f"{imported or 'torch'}.manual_seed({src.seed})"
    code = seed if imported else f"import torch\n{seed}"
    point = src.import_point(top.lineno)
    following = (
        src.tree.body[src.tree.body.index(point) + 1]
        if point is not None and src.tree.body.index(point) + 1 < len(src.tree.body)
        else None
    )
    if following is not None and src.segment(following) == seed:
        return None
    edit = src.after(point, code, "") if point is not None else src.before(src.tree.body[0], code)
    return Plan(UNSAFE, (_shared(edit),)) if edit is not None else None


def _shared(edit: Insertion) -> Insertion:
    """One seed for every unseeded construction it precedes."""
    return Insertion(edit.start, edit.end, edit.text, shared=True)


def _handed_over(tree: ast.Module, name: str) -> bool:
    """Is the module-level function ``name`` passed to a call (``mp.spawn(worker)``, ``Process(target=worker)``)?"""
    return any(
        isinstance(n, ast.Call)
        and any(isinstance(a, ast.Name) and a.id == name for a in [*n.args, *(k.value for k in n.keywords)])
        for n in ast.walk(tree)
    )


PLANNERS = {
    "TRP101": plan_seed,
    "TRP103": plan_seed,
    "TRP201": plan_eval,
    "TRP203": plan_train,
    "TRP304": plan_entry,
    "TRP305": plan_nonstrict,
    "TRP306": plan_prefix,
}
