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
from .context import Event, FileFacts, ModuleCtx
from .project import Project, project_for
from .tracker import Walker, merge_event


def _walk_file(ctx: ModuleCtx, settings: Settings, module_only: bool = False) -> tuple[list[Event], set, list]:
    """The events of walking a file's entry points, the functions the walks entered, and where the walks
    widened for a bound: ((path, function, why), ...)."""
    walker = Walker(ctx, settings)
    walker.run(module_only=module_only)
    return list(walker.events.values()), walker.reached, list(walker.widened)


def file_events(project: Project, path: str, settings: Settings) -> tuple[list[Event], set, list]:
    """Every event (in any file) of walking the module level of the project file ``path`` (its program:
    top-level code, the ``__main__`` block, the workers it spawns); memoised per process by content, with
    the files the walk read noted as dependencies of the caller's result."""
    rec = project.record_for_path(path)
    if rec is None:
        return [], set(), []
    key = ("events", path, rec.digest, settings.fingerprint())
    hit = project._memo.get(key)
    if hit is None:
        with project.recording() as deps:
            tree = project.module_tree(path)
            if tree is None:
                walked: tuple[list[Event], set, list] = ([], set(), [])
            else:
                ctx = ModuleCtx(path, tree, project, linted=True, seed_funcs=frozenset(settings.seed_functions))
                walked = _walk_file(ctx, settings, module_only=True)
        hit = project._memo[key] = (walked, dict(deps))
    for p, d in hit[1].items():
        project._note(p, d)
    return hit[0]


def analyze(source: str, tree: ast.Module, path: str | None, settings: Settings) -> FileFacts:
    """The events located in ``path``: from its own entry points and from those of its callers' files."""
    project = project_for(path, settings) if path else None
    if project is None:
        ctx = ModuleCtx(path, tree, None, linted=True, seed_funcs=frozenset(settings.seed_functions))
        events, _, widened = _walk_file(ctx, settings)
        return FileFacts(path, events, settings, _widenings(widened, lambda p: True))
    assert path is not None  # (a project is found only for a path)
    resolved = str(Path(path).resolve())
    with project.recording() as deps:
        project.record_for_path(resolved, source, tree)
        module, _ = project.module_name(resolved)
        if not Path(resolved).is_file() or not resolved.endswith(".py"):
            project.in_memory[module] = resolved
        ctx = ModuleCtx(path, tree, project, linted=True, seed_funcs=frozenset(settings.seed_functions))
        merged: dict[tuple, Event] = {}
        here = _same_file(path)
        project_widened = len(project.widened)
        own, _, widened = _walk_file(ctx, settings)
        widened = list(widened)
        called: set = set()  # functions of this file some program of the project calls
        wanted = sorted(ctx.context_units())
        for caller in project.caller_files(resolved, wanted) if wanted else ():
            events, reached, caller_widened = file_events(project, caller, settings)
            widened += caller_widened
            called |= {name for p, name in reached if here(p)}
            for ev in events:
                if here(ev.path):
                    merge_event(merged, _key(ev), ev)
        for ev in own:
            # a function with callers in the project is judged with their state (TRP201), not as an
            # interface whose callers are unknown (TRP204), nor as a method that may run after any
            # other of its class (the object model's join): the programs that call it say when it runs
            if not here(ev.path):
                continue
            if ev.kind == "forward_on_param" and ev.data.get("func", ("", ""))[1] in called:
                continue
            root = ev.data.get("root")
            if root is not None and ev.kind in _MODE_EVENTS and here(root[0]) and root[1] in called:
                continue
            merge_event(merged, _key(ev), ev)
    deps.pop(resolved, None)
    project.last_deps = deps
    notes = _widenings(widened, here) + [f"{what}: {why}" for what, why in project.widened[project_widened:]]
    return FileFacts(path, [_at(ev, path) for ev in merged.values()], settings, list(dict.fromkeys(notes)))


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
