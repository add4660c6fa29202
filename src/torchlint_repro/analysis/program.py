"""The whole program: a file's findings are those of its own entry points and of every entry point of
the project that reaches its code.

A finding is reported where its code is. A helper `evaluate(model, loader)` in ``helpers.py`` is judged
with the state its callers hand it: when ``train.py`` calls it with a model in training mode, the
forward inside ``evaluate`` is reported in ``helpers.py``, naming the call (``called from train.py:44``).
So linting one file walks its own entry points and those of the files that call into it (found through
the project's reverse call graph), and keeps the events located in it. The events of walking one file's
entry points are computed once per process and content, whoever asks (the file itself, or any file its
code reaches).
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

from ..config import Settings
from . import edits as E
from . import names as N
from .cache import decode_value, encode_value
from .context import Event, FileFacts, ModuleCtx
from .project import Project, module_statements, project_for
from .syntax import called_names
from .tracker import Walker, handler_functions, merge_event


def _walk_file(
    ctx: ModuleCtx, settings: Settings, module_only: bool = False, reach: tuple[dict, dict] | None = None
) -> Walker:
    """The walker after walking a file's entry points: its events, the functions the walks entered
    (``reached``), where they widened for a bound (``widened``: (path, function, why)), the lines of the
    file whose statements they read, every (path, function) whose body they read (``entered``), and the
    names whose reads they looked for all over the file (``scanned_names``). ``reach``: answers of
    ``Walker._reaches_walkable`` a previous lint of the file learned, and the files they read."""
    walker = Walker(ctx, settings)
    if reach is not None:
        walker.reach_known, walker.reach_known_deps = reach
    walker.run(module_only=module_only)
    return walker


def _known_reach(project: Project, key: str) -> tuple[dict, dict] | None:
    """What the last lint of a file learned of which calls reach code worth walking (``Walker._reaches_walkable``:
    a property of the project, not of the file's text), while every file it read is unchanged."""
    entry = project.cache.get_json("reach", key) if project.cache is not None else None
    if entry is None or not project.deps_valid(entry["deps"]):
        return None
    return entry["answers"], entry["deps"]


def _store_reach(project: Project, key: str, known: tuple[dict, dict] | None, walker: Walker) -> None:
    if project.cache is None or not walker.reach_learned:
        return
    answers, deps = known if known is not None else ({}, {})
    project.cache.put_json(
        "reach", key, {"answers": {**answers, **walker.reach_learned}, "deps": {**deps, **walker.reach_learned_deps}}
    )


def file_events(project: Project, path: str, settings: Settings, defer: bool = False) -> Walked | None:
    """Every event (in any file) of walking the module level of the project file ``path`` (its program:
    top-level code, the ``__main__`` block, the workers it spawns), with the files the walk read noted as
    dependencies of the caller's result. Memoised per process, and stored in the disk cache for the other
    workers of a parallel run and for later runs, valid while every file the walk read is unchanged.
    ``defer``: None instead of waiting when another worker is computing it (the caller comes back later)."""
    rec = project.record_for_path(path)
    if rec is None:
        return [], set(), [], set()
    key = ("events", path, rec.digest, settings.fingerprint())
    hit = project._memo.get(key)
    if hit is not None and not project.same_as_read(hit[1]):
        hit = None  # a file the walk read is now another text (an editor's buffer of it): walk again
    if hit is None:
        hit = project.stored_or_computed(
            "walks",
            f"{path}\0{rec.digest}\0{settings.fingerprint()}",
            lambda entry: _read_walk(project, entry),
            lambda: _walk_program(project, path, settings),
            _walk_entry,
            defer=defer,
        )
        if hit is None:
            return None  # deferred: another worker is walking it
        project._memo[key] = hit
    walked, deps, notes = hit
    project.note_deps(deps)
    project.widened.extend(notes)
    return walked


# a program's walk: its events, the functions it reached (entered from a call), its widenings, and every
# function whose body it read (see Walker.entered)
Walked = tuple[list[Event], set, list, set]


def caller_walks(project: Project, callers: list[str], settings: Settings) -> list[Walked]:
    """:func:`file_events` of each caller file, in order; those another worker is walking are taken last,
    when it has likely finished them, so that two workers never walk one program twice."""
    out: dict[str, Walked] = {}
    for caller in callers:
        got = file_events(project, caller, settings, defer=True)
        if got is not None:
            out[caller] = got
    for caller in callers:
        if caller not in out:
            got = file_events(project, caller, settings)
            assert got is not None  # (without defer there is always an answer)
            out[caller] = got
    return [out[c] for c in callers]


def _walk_program(project: Project, path: str, settings: Settings) -> tuple[Walked, dict, list]:
    """Walk a file's program: (events, functions reached, widenings), {path: digest} of the files read,
    and the project-level widenings noted meanwhile."""
    before = len(project.widened)
    with project.recording() as deps:
        tree = project.module_tree(path)
        if tree is None:
            walked: Walked = ([], set(), [], set())
        else:
            ctx = ModuleCtx(path, tree, project, linted=True, seed_funcs=frozenset(settings.seed_functions))
            w = _walk_file(ctx, settings, module_only=True)
            walked = (list(w.events.values()), w.reached, list(w.widened), w.entered)
    return walked, dict(deps), list(project.widened[before:])


def _read_walk(project: Project, value) -> tuple[Walked, dict, list] | None:
    """A stored walk (its cache entry, or None) while every file it read is unchanged; else None."""
    if value is None or not project.deps_valid(value["deps"]):
        return None
    try:
        events, reached, widened, entered = decode_value(value["walk"])
        walked = (
            [_event_from(row) for row in events],
            {_pair(r) for r in reached},
            [_widening(w) for w in widened],
            {_pair(r) for r in entered},
        )
    except (TypeError, ValueError):  # another shape: a miss
        return None
    return walked, dict(value["deps"]), [tuple(n) for n in value["notes"]]


def _walk_entry(hit: tuple[Walked, dict, list]) -> dict | None:
    """A walk's cache entry; None for a value the cache cannot hold (the walk is only memoised in the process)."""
    (events, reached, widened, entered), deps, notes = hit
    try:
        walk = encode_value(([(e.kind, e.line, e.col, e.data, e.path) for e in events], reached, widened, entered))
    except TypeError:
        return None
    if not all(isinstance(n, tuple) and len(n) == 2 and all(isinstance(x, str) for x in n) for n in notes):
        return None
    return {"walk": walk, "deps": deps, "notes": [list(n) for n in notes]}


def _event_from(row) -> Event:
    kind, line, col, data, path = row
    if not (
        isinstance(kind, str)
        and type(line) is int
        and type(col) is int
        and isinstance(data, dict)
        and (path is None or isinstance(path, str))
    ):
        raise ValueError("event row")
    return Event(kind, line, col, data, path)


def _pair(r) -> tuple:
    if not (isinstance(r, tuple) and len(r) == 2):
        raise ValueError("reached pair")
    return r


def _widening(w) -> tuple:
    if not (isinstance(w, tuple) and len(w) == 3):
        raise ValueError("widening")
    return w


def analyze(source: str, tree: ast.Module, path: str | None, settings: Settings) -> FileFacts:
    """The events located in ``path``: from its own entry points and from those of its callers' files."""
    project = project_for(path, settings) if path else None
    if project is None:
        ctx = ModuleCtx(path, tree, None, linted=True, seed_funcs=frozenset(settings.seed_functions))
        w = _walk_file(ctx, settings)
        return FileFacts(path, list(w.events.values()), settings, _widenings(w.widened, lambda p: True))
    assert path is not None  # (a project is found only for a path)
    resolved = str(Path(path).resolve())
    here = _same_file(path)
    with project.recording() as deps:
        project_widened = len(project.widened)
        token = project.files_token() if project.cache is not None else None  # (before anything is read)
        edit_key = f"{resolved}\0{settings.fingerprint()}"
        stored = project.cache.get_json("edits", edit_key) if project.cache is not None else None
        # the new text's line codes of the functions it changed, made once for every comparison below
        codes = (
            _Codes(tree, source, stored["scanned"], _quiet(project, resolved, stored, settings))
            if stored is not None
            else None
        )
        quick, known = _by_text(project, stored, path, here, settings, tree, source, codes)
        if quick is not None:
            # an edit of comments and inert statements only: answered before the buffer's facts and summary
            # are made (they are the stored analysis's, see edits.keys_by_text)
            del project.widened[project_widened:]
            project.last_deps = {p: d for p, d in deps.items() if p != resolved}
            facts, layout, quiet = quick
            _store_edit(project, edit_key, layout, facts, project.last_deps, token, quiet)
            return facts
        rec = project.record_for_path(resolved, source, tree)
        module, _ = project.module_name(resolved)
        if not Path(resolved).is_file() or not resolved.endswith(".py"):
            project.in_memory[module] = resolved
        ctx = ModuleCtx(path, tree, project, linted=True, seed_funcs=frozenset(settings.seed_functions))
        # the last analysis of this file answers when the edit since cannot change it (see edits.py); with
        # its keys known by text, it was asked already (its events could not move: a sentence with a line)
        made, asked_keys = known if known is not None else (None, None)
        asked = asked_keys is not None
        units, keys = (made, asked_keys) if asked else _layout_and_keys(project, ctx, rec, source, tree, made)
        if units is not None and keys is not None and not asked:
            reused = _from_last_analysis(project, stored, units, keys, path, here, settings, tree, source, codes)
            if reused is not None:
                del project.widened[project_widened:]  # (the stored notes hold what the analysis widened)
                project.last_deps = {p: d for p, d in deps.items() if p != resolved}
                facts, read, scanned, lines, quiet = reused
                layout = (units, read, keys, scanned, lines)
                _store_edit(project, edit_key, layout, facts, project.last_deps, token, quiet)
                return facts
        merged: dict[tuple, Event] = {}
        reach = _known_reach(project, edit_key)
        w = _walk_file(ctx, settings, reach=reach)
        _store_reach(project, edit_key, reach, w)
        widened = list(w.widened)
        called: set = set()  # functions of this file some program of the project calls
        # functions of this file whose bodies a walk read besides the lines it walked: another file's
        # program, or this file's walks through a path spelled another way (a module importing itself)
        read_elsewhere: set = {name for p, name in w.entered if here(p)}
        wanted = sorted(ctx.context_units())
        callers = project.caller_files(resolved, wanted) if wanted else []
        others: set = set()  # functions of this file other files' programs walked or read (no quiet statement)
        from_callers: list[Event] = []
        for events, reached, caller_widened, entered in caller_walks(project, callers, settings):
            widened += caller_widened
            called |= {name for p, name in reached if here(p)}
            read_elsewhere |= {name for p, name in entered if here(p)}
            others |= {name for p, name in reached | entered if here(p)}
            from_callers += [ev for ev in events if here(ev.path)]

        def judged_by_callers(ev: Event) -> bool:
            """A mode event of a walk rooted at a function of this file that programs of the project call: a
            function with callers is judged with their state (TRP201), not as an interface whose callers are
            unknown (TRP204), nor as a method that may run after any other of its class (the object model's
            join), nor as an API a program leaves behind for its user (Walker._continue_instances: run.py's
            `learner.infer(x)` after `learner.model.eval()`, not train.py's program ending in training mode)."""
            root = ev.data.get("root")
            return root is not None and ev.kind in _MODE_EVENTS and here(root[0]) and root[1] in called

        for ev in from_callers:
            if not judged_by_callers(ev):
                merge_event(merged, _key(ev), ev)
        for ev in w.events.values():
            if not here(ev.path) or judged_by_callers(ev):
                continue
            if ev.kind == "forward_on_param" and ev.data.get("func", ("", ""))[1] in called:
                continue  # (TRP201 by parameter, of a function with callers: theirs too)
            merge_event(merged, _key(ev), ev)
    deps.pop(resolved, None)
    project.last_deps = deps
    project_notes = [f"{what}: {why}" for what, why in project.widened[project_widened:]]
    notes = _widenings(widened, here) + project_notes
    del project.widened[project_widened:]
    facts = FileFacts(path, [_at(ev, path) for ev in merged.values()], settings, list(dict.fromkeys(notes)))
    if units is not None and keys is not None:
        scanned = sorted(w.scanned_names)
        read = E.read_units(units, w.read_lines, called | read_elsewhere, E.mentions(tree, scanned))
        # what the next edit's quiet statements are judged by (see edits.Quiet)
        quiet = {
            "tracked": sorted(w.bound),
            "unjudged": sorted(others | {name for p, name in w.text_read if p and here(p)}),
            "scanned_in": {name: sorted(names) for (p, name), names in w.scanned_in.items() if here(p)},
            "room": _quiet_rooms(w, here, bool(project_notes)),
            "names": E.Quiet.names_of(ctx.imports),
        }
        # every function's line codes, read or not: the next edit of comments and inert statements in any
        # of them is answered without making the facts and summary (edits.keys_by_text)
        judge = _quiet(project, resolved, dict(quiet, scanned=scanned, read=read), settings)
        lines = _line_codes(tree, source, units, scanned, stored, codes, judge)
        _store_edit(project, edit_key, (units, read, keys, scanned, lines), facts, deps, token, quiet)
    return facts


def _quiet_rooms(w: Walker, here, noted: bool) -> dict[str, int]:
    """How many quiet assignments an edit may add in each function of the file (edits.quiet_room) by what
    its walk ``w`` counted: under ``""`` for them all (the walks' statements), under a function's name for
    it (the walks of the functions it calls in place; none where one of its loops had no pass left under
    its bound: a name bound in a loop may take the loop one more pass). -1 everywhere when a bound an
    edit may move was hit (statements walked, Python's stack), a rule read the text of a function it could
    not name, or the project widened for this file (``noted``)."""
    hard = noted or w.hard_widened or ("", "*") in w.text_read
    rooms = {"": E.quiet_room(hard, 0, w.max_steps, w.total_steps)}
    for (p, name), most in w.direct_inlines.items():
        if here(p):
            rooms[name] = min(rooms[""], E.quiet_room(hard, most, w.max_steps, w.total_steps))
    for (p, name), slack in w.loop_slack.items():
        if here(p) and slack < 1:
            rooms[name] = min(E.room_of(rooms, name), 0)
    return rooms


def _quiet(project: Project, resolved: str, stored: dict, settings: Settings) -> E.Quiet:
    """The judge of a text's quiet statements (edits.Quiet) by what the walks of the analysis ``stored``
    bound, and the module's imports and definitions it read (an edit that changes them changes its facts),
    in the functions its walks read that no other file's walk or rule's scan read."""
    here = os.path.dirname(resolved)
    seeds = frozenset(settings.seed_functions)

    def library_ok(q: str) -> bool:
        return (
            E.quiet_library(q)
            and project.find_module(q.split(".", 1)[0], here) is None
            and not N.is_listed_seed(q, seeds)
        )

    judged = set(stored["read"]) - set(stored["unjudged"])
    return E.Quiet(stored["names"], stored["tracked"], stored["scanned"], library_ok, stored["scanned_in"], judged)


def _line_codes(
    tree: ast.Module,
    source: str,
    units: list,
    scanned: list[str],
    stored: dict | None,
    codes: _Codes | None,
    quiet: E.Quiet | None,
) -> dict:
    """Every function unit's line codes (edits.line_codes) for this text: a unit whose text the last analysis
    (``stored``) analysed at the same place, with the same names scanned, has the codes it kept (the same
    lines give the same codes), one whose codes the comparisons with it made (``codes``) has those, unless
    they hold a quiet statement (judged by the last walks, not this one's); the others are made from the
    text, their quiet statements judged by ``quiet``."""
    kept: dict[str, list[str]] = {}
    if stored is not None and stored["scanned"] == scanned:
        texts = [row[5] for row in stored["units"]]
        for i, was in stored["lines"].items():
            k = int(i) if i.isdigit() else -1
            if 0 <= k < min(len(units), len(texts)) and units[k].kind == "def" and units[k].text == texts[k]:
                kept[i] = was
        if codes is not None:  # (made with the stored analysis's names scanned: these)
            kept.update(codes.changed)
        # codes that judged statements quiet did so by what the last walks bound: made again by this one's
        kept = {i: c for i, c in kept.items() if not any(x[0] in E.QUIET_CODES for x in c)}
    made = [u.name for i, u in enumerate(units) if u.kind == "def" and str(i) not in kept]
    return {**kept, **(E.read_line_codes(tree, source, units, made, scanned, quiet) if made else {})}


def _layout_and_keys(
    project: Project, ctx: ModuleCtx, rec, source: str, tree: ast.Module, units: list[E.Unit] | None = None
) -> tuple:
    """The file's top-level statements (``units`` when made already) and what else of it the analysis
    reads, as edits.py compares them with its last analysis: (None, None) without a cache to keep that in."""
    if project.cache is None or rec is None:
        return None, None
    handlers = [f.name for f in handler_functions(ctx)]
    units = units if units is not None else E.layout(tree, source)
    # without the options' lines: a line of an option reaches a finding only inside a sentence (TRP307's
    # "`--scale` default at train.py:24"), and edits.py never moves a sentence that holds a number
    summary = ctx.summary_entry(lines=False)
    return units, E.keys_of(rec.facts, summary, _called_here(ctx, tree), handlers, units)


def _by_text(
    project: Project,
    stored: dict | None,
    path: str,
    here,
    settings: Settings,
    tree: ast.Module,
    source: str,
    codes: _Codes | None,
) -> tuple[tuple[FileFacts, tuple, dict] | None, tuple | None]:
    """When the file's new text differs from its last analysis (``stored``) by comments and inert
    statements of its functions only (see ``edits.keys_by_text``): (its findings moved from that analysis
    with the layout to store for the next edit, or None if they cannot move; (units, keys): the new text's
    top-level statements and the keys it would make). Otherwise (None, (units, None)) with the new text's
    top-level statements, or (None, None) with no such analysis."""
    if not path.endswith(".py"):
        return None, None  # (a notebook's cells: its record, made the long way, also says what they define)
    if stored is None or _redefines(tree) or not project.deps_unchanged(stored["deps"], stored["files"]):
        return None, None  # (a file it read changed: its keys, which depend on them too, are made again)
    units = E.layout(tree, source)
    assert codes is not None  # (made for every stored analysis)
    if not E.keys_by_text(stored, units, codes):
        return None, (units, None)
    keys = stored["keys"]
    reused = _from_last_analysis(project, stored, units, keys, path, here, settings, tree, source, codes)
    if reused is None:
        return None, (units, keys)
    facts, read, scanned, lines, quiet = reused
    return (facts, (units, read, keys, scanned, lines), quiet), (units, keys)


def _redefines(tree: ast.Module) -> bool:
    """Does the module define a name twice (a notebook's later cell)? Its facts and summary then name the
    definitions by their lines (`Net@12`), which an edit above them moves."""
    seen: set[str] = set()
    for node in module_statements(tree.body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name in seen:
                return True
            seen.add(node.name)
    return False


class _Codes:
    """``codes(index, unit)``: the line codes of a function unit of the new text (edits.line_codes), each
    computed once, its quiet statements judged by ``quiet`` (the last analysis's walks); ``changed``: those
    computed, by index (the units whose text changed)."""

    def __init__(self, tree: ast.Module, source: str, scanned: list[str], quiet: E.Quiet | None = None) -> None:
        self.tree, self.source, self.scanned, self.quiet = tree, source, scanned, quiet
        self.changed: dict[str, list[str]] = {}

    def __call__(self, index: int, unit: E.Unit) -> list[str] | None:
        got = self.changed.get(str(index))
        if got is None:
            got = E.read_line_codes(self.tree, self.source, [unit], [unit.name], self.scanned, self.quiet).get("0")
            if got is not None:
                self.changed[str(index)] = got
        return got


def _from_last_analysis(
    project: Project,
    stored: dict | None,
    units,
    keys,
    path: str,
    here,
    settings: Settings,
    tree: ast.Module,
    source: str,
    codes: _Codes | None = None,
) -> tuple[FileFacts, list, list, dict, dict] | None:
    """The file's findings moved from its last analysis (``stored``), with the functions that analysis
    read, the names it scanned for and the line codes of its functions (for the new text); None when the
    edit since may change them (or there is none, or a file it read changed)."""
    if stored is None or not project.deps_unchanged(stored["deps"], stored["files"]):
        return None
    scanned = stored["scanned"]
    if codes is None:
        codes = _Codes(tree, source, scanned, _quiet(project, str(Path(path).resolve()), stored, settings))
    moved = E.moved_events(stored, units, keys, path, here, E.mentions(tree, scanned), codes)
    if moved is None:
        return None
    events, notes, assigned = moved
    project.note_deps(stored["deps"])
    # the line codes kept for the next edit: a unit's whose text changed are the new text's (made now if
    # the comparison did not need them), never the old text's
    texts = [row[5] for row in stored["units"]]
    lines: dict[str, list[str]] = {}
    for i, was in stored["lines"].items():
        now = units[int(i)] if i.isdigit() and int(i) < len(units) else None
        if now is None:
            continue
        got = was if now.text == texts[int(i)] else codes(int(i), now)
        if got is not None:
            lines[i] = got
    # the walks now bind the names the quiet assignments do too, and have that much less room (edits.quiet_room)
    judged = codes.quiet.targets if codes.quiet is not None else set()
    rooms = dict(stored["room"])
    for name, n in assigned.items():  # (within each room: moved_events checked)
        rooms[name] = E.room_of(rooms, name) - n
    rooms[""] = rooms.get("", -1) - sum(assigned.values())
    quiet = {k: stored[k] for k in E.QUIET_FIELDS}
    quiet.update(tracked=sorted(set(stored["tracked"]) | judged), room=rooms)
    return FileFacts(path, events, settings, notes), stored["read"], scanned, lines, quiet


def _called_here(ctx: ModuleCtx, tree: ast.Module) -> set[str]:
    """The file's own functions and methods called (or handed on) anywhere in it: which of them the walk
    takes as entry points first depends on it (see Walker.run)."""
    own = {name.split("@", 1)[0] for name in ctx.functions}
    for cls in ctx.classes.values():
        own.update(i.name for i in cls.body if isinstance(i, (ast.FunctionDef, ast.AsyncFunctionDef)))
    return called_names(tree) & own


def _store_edit(
    project: Project, key: str, layout: tuple, facts: FileFacts, deps: dict, token: str | None, quiet: dict
) -> None:
    """Keep a file's analysis for the next edit of it (an editor's next lint), see edits.py. ``layout``:
    its top-level statements, the functions a walk read, the digests of the rest it read of itself, the
    names whose reads the walks looked for all over it, the line codes of the functions read."""
    if project.cache is None:
        return
    units, read, keys, scanned, lines = layout
    value = E.entry(units, read, keys, scanned, facts.events, facts.widened, deps, token, lines, quiet)
    if value is not None:
        project.cache.put_json("edits", key, value)


def _widenings(widened: list, here) -> list[str]:
    """The walks' widenings that concern this file, as lines for --verbose: `function: why`."""
    return [f"{func}: {why}" for path, func, why in widened if path is None or here(path)]


_MODE_EVENTS = frozenset({"forward_in_train", "train_in_eval", "forward_on_param"})


def _key(ev: Event) -> tuple:
    return (ev.kind, ev.line, ev.col, _dedupe(ev))


def _dedupe(ev: Event):
    d = ev.data.get("dedupe")
    if ev.kind in ("forward_in_train", "forward_on_param"):
        return None  # one report per forward, whichever model or caller reached it
    return d


def _at(ev: Event, path: str | None) -> Event:
    return ev if ev.path == path else Event(ev.kind, ev.line, ev.col, ev.data, path)


def _same_file(path: str | None):
    """A test for "this event is in the file ``path``" (paths compared resolved)."""
    if path is None:
        return lambda p: p is None
    target = os.path.realpath(path)
    return lambda p: p == path or (p is not None and os.path.realpath(p) == target)
