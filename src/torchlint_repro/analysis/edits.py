"""An edited file's findings from its last analysis, when the edit cannot change what the analysis read.

An editor lints its buffer after every change, and in a long training script most changes touch code no
walk reads: the body of a function that parses arguments, plots or logs (not relevant: calls to it are
not entered), a comment. Walking the whole program again for them is most of an editor's lint. So the
last analysis of each file is kept in the cache with the file's layout: each top-level statement's lines
and text (a class's header and each of its statements apart), and which functions' and methods' bodies a
walk read (entered, through the object model or a summary too, or looked into to see what they do with a
model), this file's walks or another file's programs. A new text of the file is answered from it when

- its top-level statements (and classes' statements) are the same texts in the same order, except the
  bodies of functions and methods no walk read (their decorators and ``def`` lines unchanged) and that
  name none of the names whose reads a rule looked for all over the module (whether a forward's output
  is only looked at, whether a loaded mapping's keys are reported: every body in the module counts, so a
  body that names one is read, before the edit or after it), and
- its facts and summary (imports, constants, which functions are relevant or strongly relevant, what
  each refers to, ...), the names it calls anywhere and every other file the analysis read are unchanged.

The walks would then read the same statements and get the same answers, so each finding stays with its
statement and moves by as many lines as that statement moved. The lines an event names in its data
(the call that reached it, an earlier seed, the loop it came from) move the same way; an event whose
data names a line of the file in a way this module does not know is not moved, and the file is analysed
again instead (see :data:`_PLAIN`).

An edit inside a function a walk read is answered the same way when it only adds, removes or changes
*quiet* statements there (see :class:`Quiet`): a call or an assignment to a name nothing else in the
function names, that reads only names the walks never bound to anything they track (a model, a
checkpoint, a path...) and calls only builtins and libraries no rule follows (`print(f"epoch {epoch}")`,
`start = time.time()` typed and not read yet, `logger.info(msg)`). Walked, it changes no state but a
name nothing reads; the facts and summary are made from the new text and compared as for any edit, and
the last walk must have left room under the bounds that name could move (see :func:`quiet_room`). The
function must be read by this file's walks only (another file's walks bound their own names), and no rule
may have read its text past the walk (a scan for a report of a load's keys, for reads of parameters'
values, a helper looked into without being walked). Anything else typed in a function a walk read is
analysed whole, as before.
"""

from __future__ import annotations

import ast
import bisect
import difflib
import json
import re
import sys
from collections import Counter
from collections.abc import Callable

from .._digest import sha256_hex
from .._record import Record
from . import names as N
from .cache import decode_value, encode_value
from .context import FILE_STEP_GUARD, MAX_INLINES_PER_FUNCTION, STEP_BUDGET, Event
from .relevance import RELEVANT_ATTRS, STRONG_ATTRS
from .syntax import FunctionNode, first_line, inert_statement, local_uses, source_lines

# data of an event that holds no line of the file (names, kinds, flags, model ids only compared as a whole)
_PLAIN = frozenset(
    {
        "attr",
        "builds",  # constructions in other files (see loads._finish_builds): their lines are those files'
        "cls",
        "dedupe",
        "dep",
        "func",
        "how",
        "look_only",
        "maybe",
        "model",
        "name",
        "new_head",  # a class count, not a line
        "nonstrict",
        "overwritten_some_paths",
        "partly",
        "prefix",
        "region",
        "root",
        "same_name",
        "sd_keys",
        "seed",
    }
)


_DIGIT = re.compile(r"\d")  # a sentence with a number may name a line: not moved (analysed again)


class Unit(Record):
    """One top-level statement of a file: a function (``def``, its body replaceable) or anything else."""

    kind: str  # "def": a function whose body starts on a line of its own; "other": everything else
    name: str
    start: int  # its first line (decorators included)
    end: int
    body: int  # a function's first body line (0 for "other")
    text: str  # digest of its lines
    head: str  # digest of the lines before its body (a function's decorators and signature)

    def row(self) -> list:
        return [self.kind, self.name, self.start, self.end, self.body, self.text, self.head]


def layout(tree: ast.Module, source: str) -> list[Unit]:
    """The top-level statements of a file, in order; a class whose statements each start a line of their
    own is its header (``class`` line to its first statement) then each of its statements, a method a
    function named ``Class.method`` (the name walks know it by)."""
    lines = source_lines(source)

    def digest(first: int, last: int) -> str:
        return sha256_hex("".join(lines[first - 1 : last]).encode("utf-8", "surrogatepass"))[:32]

    def unit(node: ast.stmt, prefix: str = "") -> Unit:
        start = first_line(node)
        end = node.end_lineno or node.lineno
        text = digest(start, end)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _body_on_own_lines(node, lines):
            body = node.body[0].lineno
            return Unit("def", prefix + node.name, start, end, body, text, digest(start, body - 1))
        name = node.name if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else ""
        return Unit("other", prefix + name, start, end, 0, text, text)

    out = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and _statements_on_own_lines(node, lines):
            first = first_line(node.body[0])
            head = digest(first_line(node), first - 1)
            out.append(Unit("other", node.name, first_line(node), first - 1, 0, head, head))
            out.extend(unit(item, node.name + ".") for item in node.body)
        else:
            out.append(unit(node))
    return out


def _statements_on_own_lines(cls: ast.ClassDef, lines: list[str]) -> bool:
    """Does each statement of the class start a line of its own, below the one before (no `;`, no body on
    the ``class`` line)? Then the lines between two of them hold nothing but blanks and comments."""
    before = cls.lineno
    for item in cls.body:
        start = first_line(item)
        if start <= before or start > len(lines):
            return False
        text = lines[start - 1]
        if _indent(text) != item.col_offset and not (start < item.lineno and text.lstrip().startswith("@")):
            return False
        before = item.end_lineno or item.lineno
    return True


def _body_on_own_lines(fn: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]) -> bool:
    """Does the body start a line after the signature ends (so the lines before it are the whole head)?"""
    first = fn.body[0]
    if first.lineno <= fn.lineno or first.lineno > len(lines):
        return False
    return _indent(lines[first.lineno - 1]) == first.col_offset


def _indent(text: str) -> int:
    """How far a line's text is indented (what a statement starting it has as its col_offset)."""
    return len(text) - len(text.lstrip())


# what a line of a walked function is, for comparing two texts of it (see line_codes): code, a blank or
# comment line, an inert statement's first and next lines, a quiet assignment's or expression's first line
# and the next lines of either (see Quiet)
_CODE, _GAP, _INERT, _INERT_MORE, _QUIET_SET, _QUIET_EXPR, _QUIET_MORE = "c", "g", "I", "i", "Q", "E", "q"
_INERTS = (_GAP, _INERT, _INERT_MORE)
QUIET_CODES = (_QUIET_SET, _QUIET_EXPR, _QUIET_MORE)
# what an analysis keeps to judge the next edit's quiet statements by (see entry)
QUIET_FIELDS = ("tracked", "unjudged", "scanned_in", "room", "names")
_QUIETS = (_GAP, _INERT, _INERT_MORE, _QUIET_SET, _QUIET_EXPR, _QUIET_MORE)


def line_codes(
    fn: FunctionNode,
    lines: list[str],
    unit: Unit,
    scanned,
    quiet: Quiet | None = None,
) -> list[str]:
    """Each line of a function unit as what it is and a digest of its text: a line of an inert statement
    (``I`` its first line, ``i`` the next ones; see syntax.inert_statement) that names none of ``scanned``
    and has its lines to itself, a blank or comment line (``g``: between statements, or inside brackets,
    never inside a string), a line of a statement ``quiet`` says its walk cannot observe (``Q`` an
    assignment's first line, followed by ``:``, its indentation, ``:`` and the names it binds, ``E`` an
    expression's, ``q`` the next ones; see :class:`Quiet`) that has its lines to itself, or code (``c``:
    anything else). Two texts
    of a function whose lines differ only in lines of the inert kinds, whole statements at a time, walk
    alike; in the quiet kinds too, they walk alike but for bindings nothing reads (see inert_line_map)."""
    first, last = unit.start, min(unit.end, len(lines))
    flags = []
    for text in lines[first - 1 : last]:
        stripped = text.strip()
        flags.append(_GAP if not stripped or stripped.startswith("#") else _CODE)
    wanted = set(scanned)

    def owns_lines(s: ast.stmt) -> bool:  # nothing else on its lines (no `;`, no `else:` before it)
        head, tail = lines[s.lineno - 1], lines[(s.end_lineno or s.lineno) - 1]
        rest = tail.encode("utf-8", "surrogatepass")[s.end_col_offset or 0 :].decode("utf-8", "replace").strip()
        return _indent(head) == s.col_offset and (not rest or rest.startswith("#"))

    def statements(body: list[ast.stmt]):  # a function's own statements, in every block, not nested scopes
        for s in body:
            yield s
            if not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                for child in ast.iter_child_nodes(s):
                    if isinstance(child, (ast.ExceptHandler, ast.match_case)):
                        yield from statements(child.body)
                for field in ("body", "orelse", "finalbody"):
                    block = getattr(s, field, None)
                    if isinstance(block, list):
                        yield from statements(block)

    reads, strings = local_uses(fn)  # (the function's own statements only: a nested function's are code)
    bound: dict[int, str] = {}  # first line of a quiet assignment -> the names it binds
    for s in statements(fn.body):
        targets: list[str] | None = None
        if inert_statement(s, reads):
            head, more = _INERT, _INERT_MORE
            if any(isinstance(n, ast.Name) and n.id in wanted for n in ast.walk(s)):
                continue
        elif quiet is not None and reads is not None and (targets := quiet(fn, s, lines, unit.name)) is not None:
            # (a quiet statement names none of ``scanned``: the judge was made with them)
            head, more = (_QUIET_SET if targets else _QUIET_EXPR), _QUIET_MORE
        else:
            continue
        if not owns_lines(s):
            continue
        if targets:
            bound[s.lineno] = f"{s.col_offset}:{','.join(targets)}"
        end = s.end_lineno or s.lineno
        for line in range(s.lineno, end + 1):
            if first <= line <= last:
                flags[line - first] = head if line == s.lineno else more
    for start, end in strings:  # a "comment" inside a string is the string's text
        for line in range(max(start, first), min(end, last) + 1):
            if flags[line - first] == _GAP:
                flags[line - first] = _CODE
    texts = lines[first - 1 : last]
    out = [f + sha256_hex(text.encode("utf-8", "surrogatepass"))[:16] for f, text in zip(flags, texts, strict=True)]
    for line, names in bound.items():
        out[line - first] += ":" + names
    return out


# the expressions a quiet statement may hold: names, attributes, calls, literals and operators (no lambda,
# comprehension, `:=`, `await` or `yield`: each binds, defers or suspends)
_QUIET_NODES = (
    ast.Call,
    ast.Name,
    ast.Attribute,
    ast.Constant,
    ast.JoinedStr,
    ast.FormattedValue,
    ast.BinOp,
    ast.UnaryOp,
    ast.BoolOp,
    ast.Compare,
    ast.Tuple,
    ast.List,
    ast.Set,
    ast.Dict,
    ast.Subscript,
    ast.Slice,
    ast.Starred,
    ast.IfExp,
    ast.keyword,
    ast.operator,
    ast.unaryop,
    ast.boolop,
    ast.cmpop,
    ast.expr_context,
)
# builtins the walks treat by name (getattr, isinstance, dict, super, ...) or that reach any name (eval, vars)
_LOUD_BUILTINS = frozenset(
    {
        "getattr",
        "setattr",
        "delattr",
        "hasattr",
        "isinstance",
        "issubclass",
        "dict",
        "super",
        "vars",
        "locals",
        "globals",
        "eval",
        "exec",
        "compile",
        "__import__",
        "type",
    }
)
# attributes the walks act on by name, whatever holds them (a mode, a load, a step, a seed, an in-place update,
# a process, a module's parts)
_LOUD_ATTRS = (
    RELEVANT_ATTRS
    | STRONG_ATTRS
    | N.SEED_METHODS
    | {
        "__dict__",
        "__call__",
        "Process",
        "start_processes",
        "add_argument",
        "apply",
        "zero_grad",
        "modules",
        "children",
        "named_modules",
        "named_parameters",
        "named_children",
        "register_buffer",
        "register_parameter",
        "add_module",
        "training",
        "half",
        "float",
        "double",
        "cpu",
        "requires_grad",
        "data",
        "grad",
        # a training step by its name, whatever is called (Walker._unknown_call)
        "backward_step",
        "manual_backward",
        # batch-norm statistics: a function that names one recomputes them on purpose (Walker._recalibrates_bn)
        "running_mean",
        "running_var",
        "num_batches_tracked",
        "reset_running_stats",
    }
)
# standard modules whose calls the walks follow or act on (processes, seeds, imports, pickles)
_LOUD_STDLIB = frozenset(
    {
        "multiprocessing",
        "random",
        "importlib",
        "builtins",
        "concurrent",
        "threading",
        "subprocess",
        "runpy",
        "code",
        "ctypes",
        "pickle",
        "marshal",
        "shelve",
        "asyncio",
        "copyreg",
    }
)
# libraries beside the standard one whose functions only compute, log or draw
_QUIET_LIBRARIES = frozenset({"numpy", "tqdm", "wandb", "matplotlib"})


def quiet_library(q: str) -> bool:
    """Is the qualified name ``q`` of a module whose functions no rule follows or acts on: the standard
    library's (but processes, seeds, dynamic imports, pickles), numpy's (but ``numpy.random``), tqdm's,
    wandb's, matplotlib's? (The caller also rules out the project's own modules of those names.)"""
    if q.startswith("?") or "seed" in q.lower():
        return False
    root = q.split(".", 1)[0]
    if root in _QUIET_LIBRARIES:
        return not q.startswith("numpy.random")
    return root in sys.stdlib_module_names and root not in _LOUD_STDLIB


# a word of a text as a name (not an attribute: no dot before it)
_WORD = re.compile(r"(?<![\w.])[^\W\d]\w*")


class Quiet:
    """Which statements of a function a walk read are *quiet*: walking them changes nothing but a binding
    nothing reads, so two texts that differ only in them (and in comments and inert statements) walk
    alike. A quiet statement is an expression statement that is a call, or an assignment to plain names
    whose words appear nowhere else in the function's text (no other statement reads, binds or declares
    them global), made only of names, attributes, calls, literals and operators, where

    - every name is bound to nothing the analysis tracks on every walk of the file (``tracked``: the
      names its walks ever bound to a model, a loaded checkpoint, a path, a literal, ... in any frame) and
      is none the walks looked for all over the module (``scanned``) or over the function
      (``scanned_in``: the reads of a forward's output, of a parameter collection), nor a function or
      class of the module; a name the module imports is of a library whose calls no rule follows
      (``library_ok``: not the project's, not torch's, see :func:`quiet_library`); any other name (a
      builtin, a variable: the walks know nothing of it, wherever it is read) is not one of the builtins
      the walks treat by name (``getattr``, ``isinstance``, ``super``, ``eval``...), and the module has no
      ``import *``;
    - no attribute is one the walks act on by name (a mode, a load, a step, a seed, an in-place update
      ``x.add_(...)``, a process, ``__dict__``);
    - every call names its callee (a name or an attribute chain), no seeder by its name, and builds no
      object of a class (a capitalised name: a model of a library maybe).

    Walked, such a statement reads only values the walks know nothing of (an unknown call with unknown
    arguments does nothing, see ``Walker._unknown_call``) and binds names nothing reads; what differs is a
    state's extra name, which splits what the walks memoise per state: see :func:`quiet_room`. The names
    quiet assignments bind join ``targets`` (the next analysis's ``tracked`` must hold them)."""

    def __init__(
        self,
        names: list,
        tracked,
        scanned,
        library_ok: Callable[[str], bool],
        scanned_in: dict[str, list[str]] | None = None,
        units: set[str] | None = None,
    ) -> None:
        # the module's imports, its own functions' and classes' names, whether it imports `*` (ModuleCtx's
        # ImportMap of the text analysed: an edit that changes them changes the facts, compared besides)
        self.bindings, defs, self.stars = names
        self.defs = frozenset(defs)
        self.tracked = frozenset(tracked)
        self.scanned = frozenset(scanned)
        self.loud = self.tracked | self.scanned
        self.library_ok = library_ok
        # per function (by its unit's name): the names a rule looked for all over it
        self.scanned_in = {k: frozenset(v) for k, v in (scanned_in or {}).items()}
        # the units judged (None: all): a function no walk read may change freely, one another file's walks or
        # a rule's scan read takes no quiet statement; judging the others' statements would be work for nothing
        self.units = units
        self.targets: set[str] = set()
        self._words: dict[int, tuple[ast.AST, list[str], Counter]] = {}

    @staticmethod
    def names_of(imports: N.ImportMap) -> list:
        """What a Quiet reads of a module's ImportMap, as the cache keeps it."""
        # (a name imports bind to different things resolves by where it is read: never taken as quiet)
        return [dict(imports.bindings), sorted(imports.local_defs | set(imports.scoped)), bool(imports.stars)]

    def _name_ok(self, name: str) -> bool:
        if name in self.loud or name in self.defs:
            return False
        q = self.bindings.get(name)
        if q is not None:
            return self.library_ok(q)
        if self.stars:
            return False  # (it may be any name of the modules imported with `*`)
        # a builtin, or a variable: bound to nothing tracked on any walk, so unknown wherever it is read
        return name not in _LOUD_BUILTINS

    def _alone(self, fn: FunctionNode, stmt: ast.stmt, name: str, lines: list[str]) -> bool:
        """Is every occurrence of the word ``name`` in the text of ``fn`` inside ``stmt`` (so no other
        statement of it, nested ones included, reads, binds or declares the name)?"""
        got = self._words.get(id(fn))
        if got is None or got[0] is not fn or got[1] is not lines:
            end = fn.end_lineno or fn.lineno
            got = self._words[id(fn)] = (fn, lines, Counter(_WORD.findall("".join(lines[first_line(fn) - 1 : end]))))
        own = Counter(_WORD.findall("".join(lines[stmt.lineno - 1 : stmt.end_lineno or stmt.lineno])))
        return got[2][name] == own[name]

    def __call__(self, fn: FunctionNode, stmt: ast.stmt, lines: list[str], unit: str = "") -> list[str] | None:
        """The names a quiet statement of ``fn`` (the unit named ``unit``, in a text of ``lines``) binds (none
        for an expression), None for another statement."""
        if self.units is not None and unit not in self.units:
            return None
        own = self.scanned_in.get(unit, frozenset())
        if isinstance(stmt, ast.Expr):
            if not isinstance(stmt.value, ast.Call):
                return None
            targets: list[str] = []
            value: ast.expr = stmt.value
        elif isinstance(stmt, ast.Assign) and all(isinstance(t, ast.Name) for t in stmt.targets):
            targets = [t.id for t in stmt.targets if isinstance(t, ast.Name)]
            value = stmt.value
        else:
            return None
        for node in ast.walk(value):
            if not isinstance(node, _QUIET_NODES):
                return None
            if isinstance(node, ast.Name) and (node.id in own or not self._name_ok(node.id)):
                return None
            if isinstance(node, ast.Attribute) and (
                node.attr in _LOUD_ATTRS or node.attr.endswith("_") or "seed" in node.attr.lower()
            ):
                return None
            if isinstance(node, ast.Call):
                callee = N.dotted(node.func)
                if callee is None:
                    return None
                last = callee.rsplit(".", 1)[-1]
                if last[:1].isupper() or last in _LOUD_ATTRS or "seed" in callee.lower():
                    return None
                head, _, rest = callee.partition(".")
                q = self.bindings.get(head)
                if q is not None and rest and not self.library_ok(f"{q}.{rest}"):
                    return None  # (`np.random.rand`: numpy's, but its random module)
        if targets:
            if len(set(targets)) != len(targets) or self.scanned.intersection(targets) or own.intersection(targets):
                return None
            if not all(self._alone(fn, stmt, t, lines) for t in targets):
                return None
            self.targets.update(targets)
        return targets


def room_of(rooms: dict[str, int], name: str) -> int:
    """A function's room for quiet assignments (see quiet_room): its own, or that of every function."""
    return rooms.get(name, rooms.get("", -1))


def quiet_room(widened: bool, inlines: int, max_steps: int, total_steps: int) -> int:
    """How many quiet assignments an edit of a function may differ in and still walk alike, from the file's
    last walk: a name a function's state holds from some point on is in the memo key of every call it makes
    in place from there (see Walker._inline), so each such call may be walked once more: the walks of each
    function it calls (at most ``inlines`` from one entry point) and the statements walked may double with
    each. The calls those callees make see none of its variables: their keys are unchanged. 0 (quiet
    expressions only: they bind nothing) when a callee's walks have no room to double; -1 (no quiet
    statement) when the statements walked have none (a quiet expression is one more), or that walk hit a
    bound an edit may move (``widened``)."""
    if widened or max_steps << 1 > STEP_BUDGET or total_steps << 1 > FILE_STEP_GUARD:
        return -1
    room = 0
    while (
        room < 8
        and inlines << (room + 1) <= MAX_INLINES_PER_FUNCTION
        and max_steps << (room + 1) <= STEP_BUDGET
        and total_steps << (room + 1) <= FILE_STEP_GUARD
    ):
        room += 1
    return room


def inert_line_map(was: list[str], now: list[str]) -> list[tuple[int, int, int]] | None:
    """How the lines of a function move from its text ``was`` to ``now`` (both :func:`line_codes`), as
    (first, last, by) offsets into the unit, when the two differ only in whole inert statements and blank
    or comment lines; None when any other line differs (the walk may differ)."""
    got = quiet_line_map(was, now, False)
    return got[0] if got is not None else None


def quiet_line_map(was: list[str], now: list[str], quiet: bool = True) -> tuple[list[tuple[int, int, int]], int] | None:
    """:func:`inert_line_map` where the texts may also differ in whole quiet statements (with ``quiet``),
    and how many quiet assignments bind a name from a point where none was bound (typed, or binding
    another name than those they replace): each may take the walk's memoised calls and loops one more
    walk (see quiet_room)."""
    out = []
    allowed = _QUIETS if quiet else _INERTS
    assigned = 0
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, was, now, autojunk=False).get_opcodes():
        if op == "equal":
            out.append((i1, i2 - 1, j1 - i1))
            continue
        for codes, a, b in ((was, i1, i2), (now, j1, j2)):
            if any(c[0] not in allowed for c in codes[a:b]):
                return None
            # whole statements only: the change neither starts nor stops inside one
            if a < len(codes) and codes[a][0] in (_INERT_MORE, _QUIET_MORE):
                return None
            if b < len(codes) and codes[b][0] in (_INERT_MORE, _QUIET_MORE):
                return None
        # a name bound from some point on where none was: a quiet assignment added, or one that binds
        # other names than one it replaces at its depth (rewritten in place, it binds the same names from the
        # same point of the same block: no call runs between, quiet statements make none in place; indented
        # into a loop above it, it is bound in the loop's passes)
        before = {c.partition(":")[2] for c in was[i1:i2] if c[0] == _QUIET_SET}
        assigned += sum(1 for c in now[j1:j2] if c[0] == _QUIET_SET and c.partition(":")[2] not in before)
    return out, assigned


def mentions(tree: ast.Module, scanned) -> Callable[[Unit], bool]:
    """Does a function unit of ``tree`` name one of ``scanned`` (a name read, bound or declared global
    anywhere in it)? The walks looked for the reads of those names all over the module, in every body."""
    wanted = set(scanned)
    found: dict[str, bool] = {}
    if wanted:
        for name, fn in module_functions(tree):
            # (two units of one name, a property's getter and setter, a redefinition: either naming one is enough)
            found[name] = found.get(name, False) or any(
                isinstance(n, ast.Name)
                and n.id in wanted
                or isinstance(n, (ast.Global, ast.Nonlocal))
                and wanted & set(n.names)
                for n in ast.walk(fn)
            )
    return lambda u: found.get(u.name, False)


def module_functions(tree: ast.Module):
    """(name, def) of the module's functions and its top-level classes' methods, as layout names them."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield f"{node.name}.{item.name}", item


def read_units(
    units: list[Unit], read_lines: set[int], reached: set[str], named: Callable[[Unit], bool] = lambda u: False
) -> list[str]:
    """The functions whose bodies some walk read: a statement of the body walked (``read_lines``), the
    function reached by another file's program (``reached``: entered or not, its body may have been read),
    or one that names what the walks looked for all over the module (``named``, see :func:`mentions`)."""
    out = {u.name for u in units if u.kind == "def" and (u.name in reached or named(u))}
    lines = sorted(read_lines)
    for u in units:
        at = bisect.bisect_left(lines, u.body)  # the first line read at or after the body's start
        if u.kind == "def" and at < len(lines) and lines[at] <= u.end:
            out.add(u.name)
    return sorted(out)


def entry(
    units: list[Unit],
    read: list[str],
    keys: dict[str, str],
    scanned: list[str],
    events: list[Event],
    notes: list[str],
    deps,
    files,
    lines: dict[str, list[str]],
    quiet: dict,
):
    """The cache entry of a file's analysis (None: events the cache cannot hold). ``files``: the project's
    files token taken before the analysis (Project.files_token), to check ``deps`` without reading them.
    ``lines``: the :func:`line_codes` of each function a walk read. ``quiet``: what quiet statements are
    judged by: the names the walks bound to tracked values (``tracked``), the module's imports and
    definitions (``names``), the functions where none is judged quiet (``unjudged``: another file's walks
    read them, or a rule read their text past the walk) and how many quiet assignments an edit may add
    (``room``, see :func:`quiet_room`)."""
    try:
        rows = encode_value([(e.kind, e.line, e.col, e.data) for e in events])
    except TypeError:
        return None
    return {
        "units": [u.row() for u in units],
        "read": read,
        "keys": keys,
        "scanned": scanned,
        "events": rows,
        "notes": notes,
        "deps": deps,
        "files": files,
        "lines": lines,
        **{k: quiet[k] for k in QUIET_FIELDS},
    }


def read_line_codes(
    tree: ast.Module, source: str, units: list[Unit], names, scanned, quiet: Quiet | None = None
) -> dict[str, list[str]]:
    """:func:`line_codes` of the function units named ``names`` (those a walk read), by the unit's index
    in ``units`` (two functions of one name, a redefinition, each have their own)."""
    wanted = set(names)
    lines = source_lines(source)
    nodes = _unit_nodes(tree, units)
    return {
        str(i): line_codes(nodes[u.start], lines, u, scanned, quiet)
        for i, u in enumerate(units)
        if u.kind == "def" and u.name in wanted and u.start in nodes
    }


def _unit_nodes(tree: ast.Module, units: list[Unit]) -> dict[int, FunctionNode]:
    """The def of each function unit, by the unit's first line."""
    starts = {u.start for u in units if u.kind == "def"}
    return {first_line(fn): fn for _, fn in module_functions(tree) if first_line(fn) in starts}


def keys_of(
    facts: dict, summary_entry: dict | None, called: set[str], handlers: list[str], units: list[Unit] | None = None
) -> dict[str, str] | None:
    """What of the file itself the analysis read besides its statements, as digests to compare. A class's
    line in the facts is taken relative to its statement (``units``): an edit above it moves it, as it
    moves every finding."""
    if summary_entry is None:
        return None
    if units is not None and isinstance(facts.get("classes"), dict):
        facts = dict(facts, classes={name: _relative_line(c, units) for name, c in facts["classes"].items()})
    try:
        return {
            "facts": sha256_hex(json.dumps(facts, sort_keys=True).encode()),
            "summary": sha256_hex(json.dumps(_canonical(summary_entry["summary"]), sort_keys=True).encode()),
            "called": sha256_hex(json.dumps(sorted(called)).encode()),
            "handlers": sha256_hex(json.dumps(handlers).encode()),
        }
    except (TypeError, ValueError):
        return None


def _relative_line(cls_facts, units: list[Unit]):
    line = cls_facts.get("line") if isinstance(cls_facts, dict) else None
    if type(line) is not int:
        return cls_facts
    for i, u in enumerate(units):
        if u.start <= line <= u.end:
            return dict(cls_facts, line=[i, line - u.start])
    return cls_facts


def _canonical(value):
    """An encoded value (cache.encode_value) with every dict's items in one order: a summary's lazily
    filled parts (which classes' attributes get a mode outside ``__init__``) are in the order the walks
    asked, which differs between processes."""
    if isinstance(value, dict):
        if set(value) == {"d"} and isinstance(value["d"], list):
            pairs = [[_canonical(k), _canonical(v)] for k, v in value["d"]]
            return {"d": sorted(pairs, key=lambda kv: json.dumps(kv[0], sort_keys=True))}
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def keys_by_text(stored: dict, units: list[Unit], codes: Callable[[int, Unit], list[str] | None]) -> bool:
    """Are the stored analysis's keys (the digests of the file's facts, summary, own calls and UI handlers)
    the new text's, without making them? Yes when the two texts have the same top-level statements and
    differ only in blank and comment lines and in inert statements of functions, read by a walk or not
    (whole statements: the line codes ``I``, ``i``, ``g``; see :func:`line_codes`): such a difference is
    none in the syntax tree but positions and literals bound to plain names in function bodies, and
    neither reaches facts or a summary (they collect names read, calls, imports, decorators, module-level
    bindings; a class's line is compared relative to its statement). The caller also requires that no name
    is defined twice in the module (those definitions are keyed by their lines). Any other edit is
    compared by its keys, made from the new text."""
    old = [Unit(*row) for row in stored["units"]]
    if len(old) != len(units):
        return False
    for i, (was, now) in enumerate(zip(old, units, strict=True)):
        if (was.kind, was.name) != (now.kind, now.name):
            return False
        if was.text == now.text:
            continue
        if was.kind != "def" or was.head != now.head:
            return False
        if _walked_lines_moved(stored["lines"].get(str(i)), was, now, codes(i, now)) is None:
            return False  # (quiet statements differ: their calls may reach the facts and summary, compared)
    return True


def moved_events(
    stored: dict,
    units: list[Unit],
    keys: dict[str, str],
    path: str,
    same_file: Callable[[str | None], bool],
    named: Callable[[Unit], bool] = lambda u: False,
    codes: Callable[[int, Unit], list[str] | None] = lambda i, u: None,
) -> tuple[list[Event], list[str], dict[str, int]] | None:
    """The stored analysis's events and notes moved to the new text, with how many quiet assignments differ
    (see Quiet), or None when the new text may change them.
    ``named``: does a unit of the new text name what the stored walks looked for all over the module (a
    body that does was not read before: it does now). ``codes``: the :func:`line_codes` of a function
    unit of the new text (by its index): a function a walk read may change by inert statements and
    comments only."""
    if stored["keys"] != keys:
        return None
    old = [Unit(*row) for row in stored["units"]]
    if len(old) != len(units):
        return None
    read = set(stored["read"])
    # quiet statements may differ in the functions only this file's walks read, which left room under every
    # bound (see Quiet, quiet_room)
    rooms = stored["room"]
    unjudged = set(stored["unjudged"])
    shift: list[tuple[int, int, int]] = []  # (first, last, by): old lines that move by `by`
    assigned: dict[str, int] = {}
    for i, (was, now) in enumerate(zip(old, units, strict=True)):
        if (was.kind, was.name) != (now.kind, now.name):
            return None
        if was.text == now.text:
            shift.append((was.start, was.end, now.start - was.start))
        elif was.kind != "def" or was.head != now.head:
            return None
        elif was.name in read:
            quiet = room_of(rooms, was.name) >= 0 and was.name not in unjudged
            inside = _walked_lines_moved(stored["lines"].get(str(i)), was, now, codes(i, now), quiet)
            if inside is None:
                return None
            shift.extend(inside[0])
            if inside[1]:
                assigned[was.name] = assigned.get(was.name, 0) + inside[1]
        elif named(now):
            return None
    if assigned and (
        any(n > room_of(rooms, name) for name, n in assigned.items()) or sum(assigned.values()) > rooms.get("", -1)
    ):
        return None
    try:
        rows = decode_value(stored["events"])
    except ValueError:
        return None

    def where(line) -> int | None:
        if type(line) is not int:
            return None
        for first, last, by in shift:
            if first <= line <= last:
                return line + by
        return None

    out = []
    for row in rows:
        if not (isinstance(row, tuple) and len(row) == 4 and isinstance(row[0], str) and isinstance(row[3], dict)):
            return None
        kind, line, col, data = row
        at = where(line)
        if at is None or type(col) is not int:
            return None
        moved = _moved_data(data, where, same_file)
        if moved is None:
            return None
        out.append(Event(kind, at, col, moved, path))
    notes = []
    for note in stored["notes"]:
        moved_note = _moved_note(note, where)
        if moved_note is None:
            return None
        notes.append(moved_note)
    return out, notes, assigned


# how a note (a widening, for --verbose) names a line of the file: `train: loop at line 8 not settled ...`
_NOTE_LINE = re.compile(r"\bat line (\d+)\b")


def _moved_note(note: str, where) -> str | None:
    """A stored note with the lines it names moved. The notes kept with a file's analysis are its own
    functions' (a loop there: this file's line) and the project's (bounds, no line); a note that names a
    line spells it ``at line N`` (Walker.widen). None when such a line is not one that moved with a unit."""
    failed = False

    def move(m: re.Match) -> str:
        nonlocal failed
        at = where(int(m.group(1)))
        failed = failed or at is None
        return f"at line {at}"

    moved = _NOTE_LINE.sub(move, note)
    return None if failed else moved


def _walked_lines_moved(
    before, was: Unit, now: Unit, after, quiet: bool = False
) -> tuple[list[tuple[int, int, int]], int] | None:
    """How the lines of a function a walk read move to its new text (as moved_events' shifts), when the
    texts (``before``, ``after``: their line codes) differ only in inert statements and comments, and with
    ``quiet`` in quiet statements (see quiet_line_map); None otherwise. Second, how many quiet assignments
    bind a name anew."""
    if not isinstance(before, list) or after is None or len(before) != was.end - was.start + 1:
        return None
    got = quiet_line_map(before, after, quiet)
    if got is None:
        return None
    moves, assigned = got
    return [(was.start + first, was.start + last, now.start - was.start + by) for first, last, by in moves], assigned


def _moved_data(data: dict, where, same_file) -> dict | None:
    """An event's data with the file's lines it names moved; None for data it cannot move."""

    def site(pair):  # (path, line): a call in this file or another
        if not (isinstance(pair, tuple) and len(pair) == 2):
            return None
        p, line = pair
        if not same_file(p):
            return pair
        at = where(line)
        return None if at is None else (p, at)

    def located(item, index: int):  # a pair naming a line of this file at ``index``, or that and its path
        if not (isinstance(item, tuple) and len(item) in (2, 3)):
            return None
        if len(item) == 3 and not same_file(item[2]):
            return item
        at = where(item[index])
        return None if at is None else (*item[:index], at, *item[index + 1 :])

    def seed(item):  # (line, name) in this file, or (line, name, path)
        return located(item, 0)

    out: dict = {}
    for key, value in data.items():
        if key in _PLAIN:
            new = value
        elif key == "via":
            new = site(value)
        elif key == "also_via":
            new = tuple(site(p) for p in value) if isinstance(value, tuple) else None
            if new is not None and None in new:
                new = None
        elif key in ("later_seed", "earlier_seed", "parent_seed"):
            new = seed(value)
        elif key == "other_seeds":
            new = [seed(v) for v in value] if isinstance(value, list) else None
            if new is not None and None in new:
                new = None
        elif key == "src":  # (kind, line) in this file, or (kind, line, path) (an `.eval()` in a helper)
            new = located(value, 1)
        elif key == "iteration":
            # (name, value, line): a line with no file, this one's or another's: kept only where this file's
            # line did not move either
            line = value[-1] if isinstance(value, tuple) and value else None
            new = value if line is not None and where(line) == line else None
        elif key == "why":  # a sentence: it may name a line ("saved at line 20", "train.py:26 saved a dict")
            new = value if isinstance(value, str) and not _DIGIT.search(value) else None
        else:
            return None  # data this module does not know: analysed again
        if new is None and value is not None:
            return None
        out[key] = new
    return out
