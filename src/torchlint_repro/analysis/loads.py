"""The tracker's checkpoints: load_state_dict sites, torch.save records, and the save/load matching
that TRP303-TRP307 read at the end of each entry point."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from ..diagnostics import shown_path
from . import names as N
from .context import EMPTY, Event
from .names import MAYBE, NO, YES
from .paths import matchable
from .state import State
from .syntax import Located, arch_diff, callee_expr, checkpoint_key, saved_where, src_name, strict_false
from .values import (
    EVAL,
    TRAIN,
    UNKNOWN,
    DictVal,
    Loaded,
    LoadedItem,
    LoadResult,
    Model,
    Optimizer,
    StateDict,
    in_order,
)
from .walker_base import WalkerBase

_EVAL_OR_TRAIN = frozenset({TRAIN, EVAL})
# constructions in other files one call of the entry point's file reaches, from which they are reported once,
# at that call (see _finish_builds)
MANY_BUILDS = 3

CHECKPOINT_KEYS = frozenset(
    {
        "epoch",
        "optimizer",
        "optimizer_state_dict",
        "optim",
        "scheduler",
        "lr_scheduler",
        "step",
        "global_step",
        "iteration",
        "model",
        "model_state_dict",
        "state_dict",
        "net",
        "args",
        "config",
        "best_acc",
        "best_acc1",
        "best_loss",
        "loss",
        "scaler",
        "ema",
    }
)


class LoadsMixin(WalkerBase):
    # ------------------------------------------------------------------ loading
    def _strict_false(self, node: ast.Call, st: State) -> bool | None:
        """``strict_false`` of a load, with a flag the code names decided by the walk where it can be
        (`load_state_dict(sd, strict=strict)` in a helper its caller hands `strict=False`)."""
        found = strict_false(node)
        if found is not None:
            return found
        flag = next((k.value for k in node.keywords if k.arg == "strict"), node.args[1] if len(node.args) > 1 else None)
        t = self._decided(flag, st) if flag is not None else None
        return None if t is None else not t

    def _load_state_dict(self, node: ast.Call, models: list[Model], st: State, discard: bool) -> frozenset:
        assert isinstance(node.func, ast.Attribute)  # called for `x.load_state_dict(...)` only
        src_vals = self.ev(node.args[0], st) if node.args else EMPTY
        for k in node.keywords:
            if k.arg in ("state_dict",):
                src_vals = self.ev(k.value, st)
            else:
                self.ev(k.value, st)
        strict = self._strict_false(node, st)
        strict_flag = None if strict is None else (not strict)
        line, col = self.pos(node)
        site = f"{self.frames[-1].ctx.path}:{node.lineno}:{node.col_offset}"
        if not self.mute:
            self.loaded_ids.update(m.id for m in models)
        restores = strict_flag is not False and strict is not None  # every parameter, for sure
        for m in models:
            p = st.pending.get(m.id)
            if p is not None and "fresh" in p:
                # (a `strict=False` load restores what the checkpoint holds: the message says the rest stays random)
                st.pending[m.id] = (p - {"fresh"}) | (
                    {"cleared"} if restores else {"used", "nonstrict"} if strict_flag is False else {"used"}
                )
        if restores:
            # a strict load restores every parameter of the model, those of the modules it holds too
            # (`model = Wrapper(backbone, head); model.load_state_dict(ckpt)`): their random init is gone
            todo, seen = [m.id for m in models], set()
            # (a model that holds the loaded one is not restored by it: `net.body = nn.Sequential(*list(
            # net.backbone.children()))`, then `net.body.load_state_dict(...)` leaves `net.head` random)
            holders = self._holders_of({m.id for m in models})
            while todo:
                mid = todo.pop()
                for part in self.held.get(mid, ()):
                    if part in seen or part in holders:
                        continue
                    seen.add(part)
                    todo.append(part)
                    p = st.pending.get(part)
                    if p is not None and "fresh" in p:
                        st.pending[part] = (p - {"fresh"}) | {"cleared"}
        if self.mute:
            return frozenset({LoadResult(site, line, col, strict_flag)})
        self.load_calls.append(
            {
                "path": self.path,
                "line": line,
                "col": col,
                "models": models,
                "src": src_vals,
                "node": node,
                "receiver": src_name(node.func.value),
                "strict": strict_flag,
                "via": self.via(),
                "arms": tuple(self.arms),
            }
        )
        if strict is True and not discard and not self._keys_audited(node):
            self.load_results[site] = {
                "path": self.path,
                "line": line,
                "col": col,
                "name": src_name(node.func.value),
                "via": self.via(),
            }
        return frozenset({LoadResult(site, line, col, strict_flag)})

    def _load_result_used(self, r: LoadResult, node: Located) -> None:
        self.read_results.add(r.site)
        if not r.reported:
            self.emit(
                "load_result_as_model",
                node,
                name=src_name(callee_expr(node) if isinstance(node, ast.Call) else node),
                how="used",
            )

    def _loaded_used_as_module(self, lo: Loaded, node: Located, how: str) -> None:
        line, col = self.pos(node)
        if not self.mute:
            self.loaded_uses.append(
                (lo, self.path, line, col, how, src_name(callee_expr(node) if isinstance(node, ast.Call) else node))
            )

    def _save(self, node: ast.Call, obj: frozenset, path_expr: ast.expr, st: State) -> None:
        template = self._template(path_expr, st)
        if template is None or not matchable(template):
            return
        records = self._save_records(node, obj, template, st)
        # what the file holds from here on, on this path of the program: a later torch.load of the same
        # path in this program (the next cell of a notebook) reads this, whatever other saves write there
        st.saved[template] = frozenset(json_key(r) for r in records)
        if not self.mute and self.collect_saves:
            self.saves.extend(records)

    def _save_records(self, node: ast.Call, obj: frozenset, template: str, st: State) -> list[dict]:
        out = []
        for v in obj:
            if isinstance(v, Model) and v.origin == "loaded":
                continue
            rec = {"path": template, "line": node.lineno, "file": self.frames[-1].ctx.path}
            if isinstance(v, StateDict):
                rec.update(kind="state_dict", cls=v.cls, args=list(map(list, v.args)), prefixed=v.prefixed)
            elif isinstance(v, Model):
                # a pickled module keeps its training flag: what a later torch.load of it gets back
                rec.update(kind="module", cls=v.cls, mode=sorted(st.modes.get(v.id, frozenset({UNKNOWN}))))
            elif isinstance(v, DictVal):
                entries: dict[str, dict | None] = {}
                for k, vals in v.entries:
                    sd = sorted((x for x in vals if isinstance(x, StateDict)), key=in_order)
                    if sd:
                        entries[k] = {"cls": sd[0].cls, "args": list(map(list, sd[0].args)), "prefixed": sd[0].prefixed}
                    else:
                        entries[k] = None
                holds_model = any(e is not None for e in entries.values()) or any(
                    isinstance(x, (Model, Optimizer)) for _, vals in v.entries for x in vals
                )
                if not holds_model and not any(k in CHECKPOINT_KEYS for k in v.keys):
                    # {"weight": w, "bias": b}: a hand-built state_dict, not a training checkpoint
                    rec.update(kind="dict", keys=list(v.keys))
                else:
                    rec.update(kind="checkpoint", keys=list(v.keys), entries=entries)
            else:
                continue
            out.append(rec)
        return out

    def _whole_module_mode(self, path: str | None, st: State) -> tuple[frozenset, str | None]:
        """The mode of what ``torch.load(path)`` returns when it is a whole module: the mode every save to
        that path left the module in (a pickled module keeps its training flag), from this program's own
        earlier saves or else the project's save sites, with the saved class when they agree. Unknown when
        a save there is anything but a whole module, the saves do not agree on one mode, or none matches."""
        unknown = frozenset({UNKNOWN})
        if path is None or not matchable(path) or self.mute or self.collect_saves:
            return unknown, None
        recs = [json.loads(r) for r in st.saved.get(path, EMPTY)]
        if not recs:
            recs = [s for s in self.save_sites() if s["path"] == path]
        if not recs or any(s["kind"] != "module" for s in recs):
            return unknown, None
        modes = frozenset(m for s in recs for m in s.get("mode") or [UNKNOWN])
        if len(modes) != 1 or not modes <= _EVAL_OR_TRAIN:
            return unknown, None  # a save on a path that chose the mode (`train() if ... else eval()`): no guess
        classes = {s.get("cls") for s in recs}
        return modes, (classes.pop() if len(classes) == 1 else None)

    # ------------------------------------------------------------------ end of an entry point
    def _finish_root(self) -> None:
        self._finish_builds()
        self._finish_loads()
        for key, ev in self.tentative.values():
            self.root_events.append((key, ev))
        for mid, key, ev in self.eval_steps:
            # a model that is not trained is not trained in eval mode: a frozen feature extractor (a
            # perceptual loss's VGG) kept in eval mode on purpose, one no optimizer holds while every
            # optimizer's parameters are known, or any model of a program that builds no optimizer and
            # updates no parameters (its backward fills gradients to be read: a saliency map)
            frozen = self.frozen.get(mid) is True
            held = (not self.optimizers and self.updates) or any(
                ids is None or mid in ids or not inputs <= self.forward_inputs for ids, inputs in self.optimizers
            )
            if not frozen and held:
                self.root_events.append((key, ev))
        reported: set = set()
        # several models may reach one forward (a variable bound on different paths): the first, by id, that
        # qualifies is reported, the same whatever order the walk met them in
        for (site, _), (key, ev, mid) in sorted(
            self.candidates.items(), key=lambda kv: (in_order(kv[0][0]), in_order(kv[0][1]))
        ):
            if site in self.trained_sites or site in reported:
                continue
            if site in self.sampled_sites and (mid in self.trained_ids or mid in self.loaded_ids):
                region = "sample"  # a trained or restored model's outputs looked at (a random one's are a demo)
            elif mid in self.loaded_ids and not self.root_trains:
                region = "inference"
            else:
                continue
            reported.add(site)
            self.root_events.append((key, Event(ev.kind, ev.line, ev.col, dict(ev.data, region=region), ev.path)))

    def _holders_of(self, ids: set[str]) -> set[str]:
        """The models that hold any of ``ids``, directly or through others (see Walker.held)."""
        out: set[str] = set()
        todo = set(ids)
        while todo:
            todo = {h for h, parts in self.held.items() if parts & todo and h not in out and h not in ids}
            out |= todo
        return out

    def _finish_builds(self) -> None:
        final = getattr(self, "final_state", None)
        kept = []
        for mid, info in self.builds.items():
            status = final.pending.get(mid) if final is not None else None
            if status is not None and status == frozenset({"cleared"}):
                continue  # overwritten by a strict load before any use, on every path
            if status is not None and "nonstrict" in status:
                info = dict(info, nonstrict=True)
            kept.append((info, status is not None and "cleared" in status))
        # one call of the entry point's file that reaches many constructions in other files (a factory
        # choosing among 44 classes, a builder of a whole GAN) is one cause, one place to seed: reported
        # once, at that call
        groups: dict[tuple, list[tuple[dict, bool]]] = {}
        for info, some in kept:
            entry = info.get("entry")
            if entry is not None:
                groups.setdefault((entry, info["seed"], bool(info.get("look_only"))), []).append((info, some))
        many = {
            group: members
            for group, members in groups.items()
            if len({(i["path"], i["line"], i["col"]) for i, _ in members}) >= MANY_BUILDS
        }
        grouped = {id(i) for members in many.values() for i, _ in members}
        for info, some in kept:
            if id(info) not in grouped:
                self._report_build(info, info["path"], info["line"], info["col"], some, None)
        root = self.root_ctx.path
        for (entry, _, _), members in many.items():
            some = all(s for _, s in members)  # restored on some paths only: each of them
            sites = sorted({(i["path"] or "", i["line"], i["col"], i["name"]) for i, _ in members})
            # named in the order of their files and lines, not of the walk (which differs between processes
            # that found some walks in the cache), each class at its first site (44 constructions of 20
            # classes name 3 classes)
            firsts: dict[str, tuple] = {}
            for path, line, _, name in sites:
                firsts.setdefault(name, (name, path, line))
            first = min((i for i, _ in members), key=lambda i: i["seq"])  # (the seeds are told from it)
            self._report_build(
                first, root, entry[0], entry[1], some, (entry[2], len(sites), tuple(firsts.values())[:3])
            )

    def _report_build(
        self, info: dict, path: str | None, line: int, col: int, some: bool, builds: tuple | None
    ) -> None:
        """The event of an unseeded construction (``info``, see CallsMixin._new_model), at ``path:line:col``:
        its own place, or the entry point's call that reaches it and others (``builds``: the called name, how
        many constructions, the first three as (name, path, line))."""
        # the first seed walked after it on a path that can run it after it (not in another arm of an `if`)
        arms = info.get("arms", ())
        later = next(
            (
                (chain, name)
                for seq, chain, name in self.seed_calls
                if seq > info["seq"] and not exclusive_arms(self.seed_arms.get(seq, ()), arms)
            ),
            None,
        )
        # seeded on some paths only: the last seed of torch before it, which some path to it skipped
        earlier = (
            next(((chain, name) for seq, chain, name in reversed(self.seed_calls) if seq < info["seq"]), None)
            if info["seed"] == "maybe"
            else None
        )
        data = {
            "seed": info["seed"],
            "name": info["name"] if builds is None else builds[0],
            "later_seed": _here(later, path),
            "earlier_seed": _here(earlier, path),
            # built in a spawned worker whose parent seeded torch: that seed stayed in the parent
            "parent_seed": _here(self.spawn_parent, path) if self.spawn_parent is not None else None,
            # only the seeds the program ran before this construction: those are what it relied on
            "other_seeds": sorted(
                {
                    seen
                    for seq, chain, name in self.other_seeds
                    if seq < info["seq"] and (seen := _here((chain, name), path)) is not None
                }
            ),
            "via": info.get("via") if builds is None else None,
            # a strict load overwrites it on some paths (`if args.resume:`), the others keep its init
            "overwritten_some_paths": some,
            "look_only": bool(info.get("look_only")),
            "new_head": info.get("new_head") if builds is None else None,
        }
        if info.get("partly") and builds is None:
            data["partly"] = True
        if info.get("nonstrict") and builds is None:
            data["nonstrict"] = True
        dedupe = None
        if builds is not None:
            data["builds"] = builds[1:]
            # two groups at one call (seeded between them, or some only looked at) are two reports
            dedupe = data["dedupe"] = f"builds:{info['seed']}:{data['look_only']}"
        ev = Event("unseeded_build", line, col, data, path)
        self.root_events.append((("unseeded_build", path, line, col, dedupe), ev))

    def _finish_loads(self) -> None:
        saves = None
        for call in self.load_calls:
            line, col, path = call["line"], call["col"], call["path"]
            in_memory: list[dict] = []  # state_dicts taken in this run: compared together (any may be the one)
            for v in call["src"]:
                if isinstance(v, Loaded) and not v.stripped:
                    if v.site in self.checked_loads or any(
                        isinstance(x, LoadedItem) and x.loaded.site == v.site for x in call["src"]
                    ):
                        continue  # the code tells a checkpoint from a state_dict itself
                    # the keys read on a path that can reach this load (not in another arm of an `if`/`try` around it)
                    keys = {
                        k for k, arms in self.mapping_arms.get(v.site, ()) if not exclusive_arms(arms, call["arms"])
                    }
                    other = sorted(k for k in keys if isinstance(k, str) and checkpoint_key(k))
                    if v.site in self.key_filtered:
                        other = [k for k in other if k in CHECKPOINT_KEYS]
                    if other:
                        self._emit_at(
                            "checkpoint_as_state_dict",
                            path,
                            line,
                            col,
                            name=call["receiver"],
                            via=call["via"],
                            why=f"the same object is read as a checkpoint (`[{other[0]!r}]`)",
                        )
                        continue
                    if v.path and matchable(v.path):
                        saves = saves if saves is not None else self.save_sites()
                        match = _earlier(v) or [s for s in saves if s["path"] == v.path]
                        if match and all(s["kind"] == "checkpoint" and len(s.get("keys", ())) > 1 for s in match):
                            s = match[0]
                            self._emit_at(
                                "checkpoint_as_state_dict",
                                path,
                                line,
                                col,
                                name=call["receiver"],
                                via=call["via"],
                                why=f"{shown_path(s['file'], path)}:{s['line']} saved a dict with keys "
                                f"{', '.join(repr(k) for k in s['keys'])}",
                                sd_keys=sorted(
                                    {
                                        k
                                        for m in match
                                        for k, e in m.get("entries", {}).items()
                                        if e is not None and isinstance(k, str)
                                    }
                                ),
                            )
                            continue
                        if match and all(s["kind"] == "module" for s in match):
                            s = match[0]
                            cls = (s.get("cls") or "").rsplit(".", 1)[-1] or "a module"
                            self._emit_at(
                                "module_as_state_dict",
                                path,
                                line,
                                col,
                                name=call["receiver"],
                                via=call["via"],
                                why=f"{shown_path(s['file'], path)}:{s['line']} saved the whole "
                                f"module (`{cls}`), not its state_dict",
                            )
                            continue
                        sds = [s for s in match if s["kind"] == "state_dict"]
                        if sds and len(sds) == len(match):
                            self._compare_saved(call, sds, line, col, v.stripped)
                elif isinstance(v, LoadedItem) and v.loaded.path and matchable(v.loaded.path) and v.key:
                    saves = saves if saves is not None else self.save_sites()
                    match = [
                        s
                        for s in (_earlier(v.loaded) or saves)
                        if s["path"] == v.loaded.path and s["kind"] == "checkpoint"
                    ]
                    entries = [
                        dict(s["entries"][v.key], file=s["file"], line=s["line"])
                        for s in match
                        if s.get("entries", {}).get(v.key)
                    ]
                    if entries and len(entries) == len(match):
                        self._compare_saved(call, entries, line, col, v.stripped)
                elif (
                    isinstance(v, Model)
                    and v.origin in ("built", "pretrained")
                    and not any(isinstance(x, (StateDict, Loaded, LoadedItem, DictVal)) for x in call["src"])
                ):
                    self._emit_at(
                        "module_as_state_dict",
                        path,
                        line,
                        col,
                        name=call["receiver"],
                        via=call["via"],
                        why=f"a `{v.name}` built here",
                    )
                elif isinstance(v, StateDict) and not v.stripped:
                    in_memory.append(
                        {
                            "cls": v.cls,
                            "args": [list(a) for a in v.args],
                            "prefixed": v.prefixed,
                            "file": None,
                            "line": None,
                        }
                    )
                elif (
                    isinstance(v, DictVal)
                    and len(v.keys) > 1
                    and any(isinstance(x, StateDict) for _, vals in v.entries for x in vals)
                ):
                    sd_keys = [k for k, vals in v.entries if any(isinstance(x, StateDict) for x in vals)]
                    if sd_keys and any(checkpoint_key(k) for k in v.keys):
                        self._emit_at(
                            "checkpoint_as_state_dict",
                            path,
                            line,
                            col,
                            name=call["receiver"],
                            via=call["via"],
                            why=f"it is a dict with keys {', '.join(repr(k) for k in v.keys)}",
                            sd_keys=sorted(k for k in sd_keys if isinstance(k, str)),
                        )
            if in_memory:
                self._compare_saved(call, in_memory, line, col, False)
        # strict=False results assigned and never read
        # (handled through nonstrict_ignored for discarded calls in s_Expr)
        for site, info in self.load_results.items():
            if site not in self.read_results:
                self._emit_at(
                    "nonstrict_ignored",
                    info["path"],
                    info["line"],
                    info["col"],
                    name=info["name"],
                    how="never read",
                    via=info["via"],
                )
        for lo, path, line, col, how, name in self.loaded_uses:
            if lo.weights_only is False:
                saves_m = self.save_sites() if lo.path else []
                if not any(s["path"] == lo.path and s["kind"] == "state_dict" for s in saves_m):
                    continue
            why = None
            if lo.site in self.checked_loads:
                continue
            used_keys = self.mapping_use.get(lo.site)
            if used_keys is not None:
                why = "the same object is used as a mapping"
            elif lo.path and matchable(lo.path):
                saves = saves if saves is not None else self.save_sites()
                match = [s for s in saves if s["path"] == lo.path]
                if match and all(s["kind"] in ("state_dict", "checkpoint") for s in match):
                    s = match[0]
                    what = "a state_dict" if s["kind"] == "state_dict" else "a checkpoint dict"
                    why = f"{shown_path(s['file'], path)}:{s['line']} saved {what} to {lo.path!r}"
            if why:
                self._emit_at("state_dict_as_model", path, line, col, name=name, how=how, why=why)

    def _compare_saved(self, call: dict, saved: list[dict], line: int, col: int, stripped: bool) -> None:
        models = call["models"]
        if not models:
            return
        # Several values may reach the call (branches, callers): report only when no model that may be
        # loaded into fits any state_dict that may be loaded (`if isinstance(model, A): sd = A().state_dict()`).
        where = saved_where(saved[0], call["path"])

        def prefix_mismatch(why: str, prefix: str) -> None:
            self._emit_at(
                "prefix_mismatch",
                call["path"],
                line,
                col,
                name=call["receiver"],
                via=call["via"],
                why=why,
                prefix=prefix,
            )

        if not stripped and all(s.get("prefixed") for s in saved) and not any(mm.wrapped for mm in models):
            prefix_mismatch(
                f"the state_dict{where} was taken from a DataParallel/DDP wrapper: its keys start "
                f"with 'module.' and `{call['receiver']}` is not wrapped",
                "strip",
            )
            return
        # save sites, not state_dicts taken in memory: `if n_gpu > 1: m.load_state_dict(model.module.state_dict())
        # else: m.load_state_dict(model.state_dict())` decides by the same test, which the walk does not relate
        wrapped_sites = {(s["file"], s.get("line")) for s in saved if s.get("prefixed") and s.get("file")}
        plain_sites = {(s["file"], s.get("line")) for s in saved if s.get("prefixed") is False and s.get("file")}
        if not stripped and wrapped_sites and wrapped_sites <= plain_sites and not any(mm.wrapped for mm in models):
            # one save writes either (`if args.ngpu > 1: model = nn.DataParallel(model)` before it): the
            # checkpoints of a multi-GPU run carry 'module.' keys that this plain model rejects
            prefix_mismatch(
                f"the state_dict{where} is taken from a DataParallel/DDP wrapper on some paths (the model is "
                f"wrapped conditionally, e.g. for more than one GPU): its keys then start with 'module.' and "
                f"`{call['receiver']}` is not wrapped, so checkpoints trained that way do not load",
                "strip",
            )
            return
        if all(s.get("prefixed") is False for s in saved) and all(mm.wrapped for mm in models):
            prefix_mismatch(
                f"`{call['receiver']}` is wrapped in DataParallel/DDP and expects 'module.' keys, "
                f"but the state_dict{where} came from the plain model",
                "add",
            )
            return
        first: list[str] = []
        for mm in models:
            sig = self._signature(mm.cls)
            diffs = [
                d
                for s in saved
                if (d := arch_diff(s, mm, sig, self._flag_shapes)) is not None
                and not self._same_layout(s.get("cls"), mm.cls)
                and not self._subclass_adds_nothing(s.get("cls"), mm.cls)
            ]
            if len(diffs) < len(saved):
                return  # this model may take one of these state_dicts
            first = first or diffs
        if first:
            self._emit_at(
                "arch_mismatch",
                call["path"],
                line,
                col,
                name=call["receiver"],
                via=call["via"],
                why=first[0] + saved_where(saved[0], call["path"]),
            )

    def _flag_shapes(self, cls: str, param: str) -> bool:
        """Does a boolean constructor parameter decide whether a layer with parameters is built
        (`if use_bias: self.b = nn.Parameter(...)`)? Only then do two values of it give different keys."""
        if self.project is None:
            return True
        hit = self.project.class_facts(cls, self.root_ctx.here)
        if hit is None:
            return True  # a class we cannot read: assume it does
        facts, rec = hit
        here = str(Path(rec.path).parent)
        for ctor, kw, guards in facts["ctors"]:
            if any(g[0] == param for g in guards):
                if self.project.has_params(ctor, kw, here) != NO:
                    return True
        return any(
            self._flag_shapes(b, param)
            for b in facts["bases"]
            if not b.startswith("?") and b not in N.MODULE_BASES and self.project.is_module_class(b, here)
        )

    def _subclass_adds_nothing(self, saved_cls: str | None, loaded_cls: str | None) -> bool:
        """One class a subclass of the other that adds no parameter of its own (DistillableViT(DistillMixin,
        ViT).to_vit() loading its own state_dict into a ViT): the same keys."""
        if not saved_cls or not loaded_cls or self.project is None or saved_cls == loaded_cls:
            return False
        for sub, base in ((saved_cls, loaded_cls), (loaded_cls, saved_cls)):
            chain = self._ancestors(sub)
            if base not in chain:
                continue
            extra = [c for c in chain if c != base and c not in self._ancestors(base)]
            if all(self._own_params(c) == NO for c in extra):
                return True
        return False

    def _ancestors(self, cls: str, depth: int = 0) -> list[str]:
        """``cls`` and its project base classes, nearest first."""
        if depth > 8 or self.project is None:
            return [cls]
        hit = self.project.class_facts(cls, self.root_ctx.here)
        out = [cls]
        if hit is not None:
            for b in hit[0]["bases"]:
                if not b.startswith("?") and b not in N.MODULE_BASES and b not in out:
                    out.extend(x for x in self._ancestors(b, depth + 1) if x not in out)
        return out

    def _own_params(self, cls: str) -> str:
        """Does a class build parameters in its own body (not counting its bases)?"""
        assert self.project is not None  # (only _subclass_adds_nothing calls it, with a project)
        hit = self.project.class_facts(cls, self.root_ctx.here)
        if hit is None:
            return MAYBE
        facts, rec = hit
        here = str(Path(rec.path).parent)
        results = [
            self.project.has_params(ctor, kw, here)
            for ctor, kw, _ in facts["ctors"]
            if N.torch_nn_layer(ctor) is not None
            or self.project.is_module_class(ctor, here)
            or ctor in ("torch.nn.Parameter", "torch.nn.parameter.Parameter")
        ]
        return YES if YES in results else MAYBE if MAYBE in results else NO

    def _same_layout(self, saved_cls: str | None, loaded_cls: str | None) -> bool:
        """Two different classes that build the same layers (a subclass that adds a method, the knowledge
        distillation tutorial's twin networks) load each other's weights: not a mismatch."""
        if not saved_cls or not loaded_cls or saved_cls.rsplit(".", 1)[-1] == loaded_cls.rsplit(".", 1)[-1]:
            return False
        a, b = self._layout(saved_cls), self._layout(loaded_cls)
        return a is not None and a == b

    def _layout(self, cls: str, depth: int = 0):
        """The layers a class builds (torch.nn layer names with their literal arguments, own and inherited)."""
        if self.project is None or depth > 6:
            return None
        hit = self.project.class_facts(cls, self.root_ctx.here)
        if hit is None:
            return None
        facts, rec = hit
        layers = []
        for ctor, kw, _guards in facts["ctors"]:
            layer = N.torch_nn_layer(ctor)
            if layer is not None:
                layers.append((layer, tuple(sorted((k, repr(v)) for k, v in kw.items()))))
            elif self.project.is_module_class(ctor, str(Path(rec.path).parent)):
                sub = self._layout(ctor, depth + 1)
                if sub is None:
                    return None
                layers.extend(sub)
        for b in facts["bases"]:
            if b.startswith("?"):
                return None
            if b not in N.MODULE_BASES and self.project.is_module_class(b, str(Path(rec.path).parent)):
                sub = self._layout(b, depth + 1)
                if sub is None:
                    return None
                layers.extend(sub)
        return sorted(layers)

    def _signature(self, cls: str | None) -> tuple[list, dict] | None:
        if not cls or self.project is None:
            return None
        hit = self.project.class_facts(cls, self.root_ctx.here)
        if hit is None:
            return None
        facts = hit[0]
        return facts.get("init_params", []), facts.get("init_defaults", {})

    def _emit_at(self, kind: str, path: str | None, line: int, col: int, **data) -> None:
        self.emit_at(kind, path, line, col, **data)


def json_key(d: dict) -> str:
    return json.dumps(d, sort_keys=True, default=str)


def _earlier(lo: Loaded) -> list[dict]:
    """The saves this program made to the loaded path before the load read it (on some path to it)."""
    return [json.loads(r) for r in lo.saved]


def _here(seen: tuple | None, path: str | None) -> tuple | None:
    """A seed call as a message names it from the file ``path``: (line, name) for the call in that file
    that runs it (the seed itself, or the helper that makes it); (line, name, file) when no call of the
    chain is in that file."""
    if seen is None:
        return None
    chain, name = seen
    for where, line in reversed(chain):
        if where == path:
            return (line, name)
    where, line = chain[-1]
    return (line, name, where or "")  # the file as the message names it from ``path``: see rules/_util.shown


def exclusive_arms(a: tuple, b: tuple) -> bool:
    """Are two statements in different arms of one `if`, or of a `try` and its `except KeyError:` (see
    Walker.arms), so that the reads of one say nothing of the other?"""
    where = dict(a)
    return any(where.get(node, arm) != arm for node, arm in b)
