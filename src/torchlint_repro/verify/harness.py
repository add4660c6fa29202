"""Run one Python program under torch observation hooks and write what torch did as JSON.

    python -m torchlint_repro.verify.harness [--out OBS.json] [--root DIR] [--probe-dir DIR] SCRIPT [ARGS...]
    python .../torchlint_repro/verify/harness.py ...      (what the verifier runs: no package import)

The program cooperates in nothing: it is run with ``runpy.run_path`` as ``__main__`` after the harness
has wrapped a few torch entry points. What is recorded (see ``docs/verifier.md``):

* every ``nn.Module`` construction site (the first frame of the program's own files that is not a
  module ``__init__``), which names a model across runs: ``Net@train.py:12`` (``#1``, ``#2`` ... for
  later constructions at the same site);
* for each *model* (a module with parameters or buffers that is not a submodule of another live
  module when it is first used), a digest of its parameters and buffers at its first top-level
  forward, optimizer step or save, or at exit;
* each *top-level forward* (a ``Module.__call__`` not nested in another module's call): the model,
  ``training``, ``torch.is_grad_enabled()``, inference mode, the mode-dependent layers it contains,
  an output digest, whether a backward pass later reached its output and whether an optimizer step
  on its parameters followed; and a *counterfactual* computed on a deep copy of the module taken
  just before the call: the output in the other mode (eval if training, train if eval) and a rerun in
  the same mode with a different random stream. The counterfactual runs with the torch RNG state
  saved and restored, under ``no_grad``, on the copy only, so the program's own computation, random
  stream and batch-norm statistics are exactly those of an unobserved run;
* every ``load_state_dict`` (receiver, strict, missing/unexpected keys, or the exception), every
  ``torch.load`` (what came back) and ``torch.save`` (which live models were saved); when a saved
  model had run a forward, a *probe* (its last input and its eval-mode output) is written next to the
  observations, so that a later load — in the same process or a later script of the same run — can
  check that the loaded model reproduces the saved model's output;
* the exception that ended the program, if any (type, message, line), or its ``SystemExit`` code.

Processes the program starts (``multiprocessing`` spawn/fork, ``torch.multiprocessing.spawn``) are
observed too: a ``sitecustomize`` on ``PYTHONPATH`` installs the same hooks when the child imports
torch, and each child writes its own observations beside the parent's.

This module imports only the standard library at import time and torch when it runs; never the
linter.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import copy
import functools
import hashlib
import importlib.abc
import importlib.util
import itertools
import json
import os
import runpy
import sys
import threading
import time
import traceback
import warnings
import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types import FrameType

_HERE = os.path.abspath(__file__)
ENV_CHILD_DIR = "TRP_VERIFY_CHILD_DIR"
ENV_ROOT = "TRP_VERIFY_ROOT"
ENV_PROBE_DIR = "TRP_VERIFY_PROBE_DIR"
ENV_HARNESS = "TRP_VERIFY_HARNESS"

MAX_FORWARDS = 400  # forward records kept per process; later ones are only counted
CF_BUDGET_NO_GRAD = 32  # counterfactuals per model for forwards with grad disabled
CF_BUDGET_GRAD = 12  # ... and with grad enabled (mostly training steps)
MAX_INPUT_NUMEL = 1_000_000  # inputs larger than this are not kept for probes

SITECUSTOMIZE = """\
import os
if os.environ.get("TRP_VERIFY_CHILD_DIR") and os.environ.get("TRP_VERIFY_HARNESS"):
    try:
        import importlib.util as _u
        _spec = _u.spec_from_file_location("_trp_verify_harness", os.environ["TRP_VERIFY_HARNESS"])
        _mod = _u.module_from_spec(_spec)
        _spec.loader.exec_module(_mod)
        _mod.child_bootstrap()
    except Exception:
        pass
"""


# --------------------------------------------------------------------------- small helpers
def _flatten(obj, depth=0, out=None):
    """The tensors in a (nested) output: tensors, tuples/lists, mappings (ModelOutput), in order."""
    import torch

    if out is None:
        out = []
    if depth > 6:
        return out
    if isinstance(obj, torch.Tensor):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            _flatten(item, depth + 1, out)
    elif hasattr(obj, "keys") and hasattr(obj, "__getitem__"):
        try:
            for k in list(obj.keys()):
                _flatten(obj[k], depth + 1, out)
        except Exception:
            pass
    return out


def _tensor_digest(t) -> str:
    import torch

    try:
        t = t.detach()
        if t.device.type == "meta":
            return "meta"
        t = t.cpu().contiguous()
        head = f"{t.dtype}|{tuple(t.shape)}|".encode()
        try:
            data = t.reshape(-1).view(torch.uint8).numpy().tobytes()
        except Exception:
            data = repr(t.tolist()).encode()
        return hashlib.sha256(head + data).hexdigest()[:16]
    except Exception as exc:  # sparse, quantized, ...
        return f"unreadable:{type(exc).__name__}"


def _digest_many(tensors) -> str:
    h = hashlib.sha256()
    for t in tensors:
        h.update(_tensor_digest(t).encode())
    return h.hexdigest()[:16]


def _named_state(m):
    seen = set()
    for name, t in itertools.chain(m.named_parameters(), m.named_buffers()):
        if id(t) in seen:
            continue
        seen.add(id(t))
        yield name, t


def _has_state(m) -> bool:
    return any(True for _ in _named_state(m))


def _state_digest(m) -> str:
    h = hashlib.sha256()
    for name, t in _named_state(m):
        h.update(name.encode() + b"=" + _tensor_digest(t).encode() + b";")
    return h.hexdigest()[:16]


def _values_signature(tensors) -> str:
    """The multiset of tensor digests, names ignored (so a `module.` prefix does not matter)."""
    return hashlib.sha256("|".join(sorted(_tensor_digest(t) for t in tensors)).encode()).hexdigest()[:16]


def _outputs_equal(a, b):
    """(equal, max_abs_diff) of two outputs' tensors, compared exactly."""
    import torch

    ta, tb = _flatten(a), _flatten(b)
    if len(ta) != len(tb):
        return False, None
    worst = 0.0
    equal = True
    for x, y in zip(ta, tb, strict=True):  # (same length: checked above)
        x, y = x.detach(), y.detach()
        if x.shape != y.shape or x.dtype != y.dtype:
            return False, None
        if not torch.equal(x, y):
            equal = False
            try:
                worst = max(worst, float((x.double() - y.double()).abs().max()))
            except Exception:
                worst = float("nan")
    return equal, worst


def _clone(obj, depth=0):
    """A detached copy of call arguments: tensors cloned, containers rebuilt, anything else shared."""
    import torch

    if isinstance(obj, torch.Tensor):
        return obj.detach().clone()
    if depth > 6:
        return obj
    if isinstance(obj, tuple) and not hasattr(obj, "_fields"):
        return tuple(_clone(o, depth + 1) for o in obj)
    if isinstance(obj, list):
        return [_clone(o, depth + 1) for o in obj]
    if isinstance(obj, dict):
        try:
            new = copy.copy(obj)
            for k in list(new.keys()):
                new[k] = _clone(obj[k], depth + 1)
            return new
        except Exception:
            return {k: _clone(v, depth + 1) for k, v in obj.items()}
    return obj


def _plain(obj, depth=0):
    """Arguments as plain containers of tensors and scalars (loadable with weights_only=True), or raise."""
    import torch

    if isinstance(obj, torch.Tensor):
        return obj.detach().clone()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if depth > 6:
        raise TypeError("too deep")
    if isinstance(obj, (list, tuple)):
        return [_plain(o, depth + 1) for o in obj]
    if hasattr(obj, "keys") and hasattr(obj, "__getitem__"):
        return {str(k): _plain(obj[k], depth + 1) for k in obj.keys()}
    raise TypeError(f"cannot keep a {type(obj).__name__} argument")


def _numel(obj) -> int:
    return sum(t.numel() for t in _flatten(obj))


def _mode_layer_types():
    import torch.nn as nn

    return (nn.modules.dropout._DropoutNd, nn.modules.batchnorm._BatchNorm)


def _is_mode_layer(mod, types) -> bool:
    """Dropout and batch norm (and instance norm with running stats) compute differently in train mode."""
    import torch.nn as nn

    if isinstance(mod, types):
        return True
    if isinstance(mod, nn.modules.instancenorm._InstanceNorm) and mod.track_running_stats:
        return True
    return "Dropout" in type(mod).__name__ and not list(mod.children())


@contextlib.contextmanager
def _untraced():
    """Suspend a ``torch.jit.trace`` in progress while the observer works: its input copies and its
    counterfactual forwards must not be recorded into the program's traced graph."""
    import torch

    get = getattr(torch._C, "_get_tracing_state", None)
    put = getattr(torch._C, "_set_tracing_state", None)
    state = get() if get is not None and put is not None else None
    if state is None:
        yield
        return
    put(None)
    try:
        yield
    finally:
        put(state)


def _seed_randomly(torch) -> None:
    torch.default_generator.manual_seed(int.from_bytes(os.urandom(7), "little"))


class _IdTable:
    """A weak mapping keyed by identity: a module's own ``__hash__``/``__eq__`` may fail mid-``__init__``
    (torchmetrics) or compare by value, so neither WeakKeyDictionary nor WeakSet will do."""

    def __init__(self) -> None:
        self._d: dict[int, tuple] = {}

    def set(self, obj, value) -> None:
        key, table = id(obj), self._d

        def gone(ref, key=key, table=table):
            entry = table.get(key)
            if entry is not None and entry[0] is ref:
                del table[key]

        table[key] = (weakref.ref(obj, gone), value)

    def get(self, obj, default=None):
        entry = self._d.get(id(obj))
        if entry is None or entry[0]() is not obj:
            return default
        return entry[1]

    def objects(self) -> list:
        return [o for o in (entry[0]() for entry in list(self._d.values())) if o is not None]

    def __len__(self) -> int:
        return len(self._d)


# --------------------------------------------------------------------------- the observer
class Observer:
    """Hooks into torch and collects the observations of one process."""

    def __init__(self, root: str, script: str, probe_dir: str | None, role: str = "main") -> None:
        self.root = os.path.realpath(root)
        self.script = script
        self.probe_dir = probe_dir
        self.role = role
        self.started = time.time()
        self._in_root_cache: dict[str, bool] = {}
        self._tls = threading.local()
        self.busy = 0
        self.installed = False
        self.reset()

    def reset(self) -> None:
        self.models: dict[str, dict] = {}
        self.forwards: list[dict] = []
        self.forwards_dropped = 0
        self.loads: list[dict] = []
        self.torch_loads: list[dict] = []
        self.saves: list[dict] = []
        # warnings the program showed, each with how many loads had returned by then: whether a load's
        # missing/unexpected keys were reported (the TRP305 fix warns about them)
        self.warnings: list[dict] = []
        self.steps = 0
        self.harness_errors: list[str] = []
        self.exception: dict | None = None
        self.exit_code: int | str | None = None
        self.saved_entries: list[dict] = []
        self._probe_files_seen: dict[str, dict | None] = {}
        self._mods = _IdTable()  # every module seen -> its key
        self._site_counts: dict[tuple, int] = {}
        self._last_input = _IdTable()  # model -> (args, kwargs) of its last top-level forward
        self._last_forward = _IdTable()  # model -> the record of its last top-level forward
        # storage of a recorded forward's output tensor -> (weak ref to the tensor, the forward's index):
        # which earlier forward produced a later forward's input (a GAN's fake batch)
        self._produced: dict[int, tuple] = {}
        self._cf_counts: dict[tuple, int] = {}
        self._opt_cache: dict[int, tuple] = {}
        self._save_n = 0

    # ------------------------------------------------------------------ where are we
    def _in_root(self, filename: str) -> bool:
        hit = self._in_root_cache.get(filename)
        if hit is None:
            try:
                real = os.path.realpath(filename)
            except Exception:
                real = filename
            hit = real.startswith(self.root + os.sep) and real != _HERE
            self._in_root_cache[filename] = hit
        return hit

    def _rel(self, filename: str) -> str:
        try:
            return os.path.relpath(os.path.realpath(filename), self.root)
        except ValueError:
            return filename

    def _where(self, skip_module_init: bool = False) -> str | None:
        """``file:line`` of the innermost frame in the program's own files."""
        import torch.nn as nn

        f: FrameType | None = sys._getframe(1)
        while f is not None:
            if self._in_root(f.f_code.co_filename):
                if not (
                    skip_module_init
                    and f.f_code.co_name == "__init__"
                    and isinstance(f.f_locals.get("self"), nn.Module)
                ):
                    return f"{self._rel(f.f_code.co_filename)}:{f.f_lineno}"
            f = f.f_back
        return None

    def _internal(self, what: str, exc: BaseException) -> None:
        if len(self.harness_errors) < 20:
            self.harness_errors.append(f"{what}: {type(exc).__name__}: {exc}")

    # ------------------------------------------------------------------ models
    def on_module_init(self, m) -> None:
        site = self._where(skip_module_init=True) or "?"
        cls = type(m).__name__
        n = self._site_counts.get((cls, site), 0)
        self._site_counts[(cls, site)] = n + 1
        self._mods.set(m, f"{cls}@{site}" + (f"#{n}" if n else ""))

    def key(self, m) -> str:
        k = self._mods.get(m)
        if k is None:  # built outside our view (unpickled, or before the hooks)
            site = self._where() or "?"
            k = f"{type(m).__name__}@{site}"
            self._mods.set(m, k)
        return k

    def model(self, m, event: str | None) -> dict:
        """The record of model ``m``; its parameter digest is taken at the first ``event``."""
        key = self.key(m)
        rec = self.models.get(key)
        if rec is None:
            types = _mode_layer_types()
            layers = sorted({type(s).__name__ for s in m.modules() if _is_mode_layer(s, types)})
            rec = {
                "key": key,
                "class": type(m).__name__,
                "script": self.script,
                "role": self.role,
                "mode_layers": layers,
                "n_tensors": sum(1 for _ in _named_state(m)),
                "param_digest": None,
                "digest_at": None,
            }
            self.models[key] = rec
        if rec["param_digest"] is None and event:
            rec["param_digest"] = _state_digest(m)
            rec["digest_at"] = event
        return rec

    @staticmethod
    def _roots(candidates):
        """The candidates that are not a submodule of another candidate."""
        cands = list(candidates)
        inner = set()
        for m in cands:
            for sub in m.modules():
                if sub is not m:
                    inner.add(id(sub))
        return [m for m in cands if id(m) not in inner]

    # ------------------------------------------------------------------ forward
    def top_forward(self, orig_call, m, args, kwargs):
        rec = cf = None
        try:
            with _untraced():
                rec, cf = self._before_forward(m, args, kwargs)
        except Exception as exc:
            self._internal("before forward", exc)
        out = orig_call(m, *args, **kwargs)
        if rec is not None:
            try:
                with _untraced():
                    self._after_forward(rec, cf, out)
            except Exception as exc:
                self._internal("after forward", exc)
        return out

    def _before_forward(self, m, args, kwargs, kind: str | None = None):
        import torch

        if not _has_state(m):  # a loss or an activation module: not a model
            return None, None
        model = self.model(m, "forward")
        grad = torch.is_grad_enabled()
        types = _mode_layer_types()
        layers = [s for s in m.modules() if _is_mode_layer(s, types)]
        rec = {
            "model": model["key"],
            "script": self.script,
            "where": self._where(),
            "training": bool(m.training),
            "grad": grad,
            "inference_mode": torch.is_inference_mode_enabled(),
            "mode_layers": len(layers),
            "mode_layers_training": sum(1 for s in layers if s.training),
            "backward": False,
            "step_after": False,
            # a model with no parameter that takes gradients is not trained by a backward through it
            "trainable": any(p.requires_grad for p in m.parameters()),
            "grad_output": False,
            "out": None,
            "mode_sensitive": None,
            "stable": None,
            "eval_equal": None,
            "max_abs_diff": None,
            "cf_error": None,
        }
        if kind is not None:
            rec["kind"] = kind
        else:  # (an export is not a forward a later optimizer step trains on)
            self._last_forward.set(m, rec)
        fed_by = self._producers((args, kwargs))
        if fed_by:
            rec["fed_by"] = fed_by
        if len(self.forwards) < MAX_FORWARDS:
            rec["index"] = len(self.forwards)
            self.forwards.append(rec)
        else:
            self.forwards_dropped += 1
        if _numel((args, kwargs)) <= MAX_INPUT_NUMEL:
            with torch.inference_mode(False), torch.no_grad():
                self._last_input.set(m, (_clone(args), _clone(kwargs)))
        n_key = (model["key"], grad)
        n = self._cf_counts.get(n_key, 0)
        if n >= (CF_BUDGET_GRAD if grad else CF_BUDGET_NO_GRAD):
            return rec, None
        self._cf_counts[n_key] = n + 1
        return rec, self._counterfactual(m, args, kwargs)

    @staticmethod
    def _storage(t) -> int | None:
        try:
            return int(t.untyped_storage().data_ptr()) or None
        except Exception:  # (meta, sparse, a tensor subclass without storage)
            return None

    def _producers(self, inputs) -> list[int]:
        """Indices of the recorded forwards whose output (or a view of it, ``.detach()``) is among the
        tensors of ``inputs``."""
        if not self._produced:
            return []
        found = set()
        for t in _flatten(inputs):
            hit = self._produced.get(self._storage(t) or 0)
            if hit is not None:
                ref, index = hit
                held = ref()
                if held is not None and self._storage(held) == self._storage(t):
                    found.add(index)
        return sorted(found)

    def _note_outputs(self, rec, tensors) -> None:
        index = rec.get("index")
        if index is None:
            return
        for t in tensors:
            ptr = self._storage(t)
            if ptr is not None:
                try:
                    self._produced[ptr] = (weakref.ref(t), index)
                except TypeError:
                    pass

    def _counterfactual(self, m, args, kwargs):
        """Other-mode and same-mode outputs of a copy of ``m`` taken before the real call.

        The eval-mode forward runs first (it leaves batch-norm statistics alone), each forward on a
        fresh random stream; the program's RNG state is restored afterwards.
        """
        import torch

        rng = torch.random.get_rng_state()
        self.busy += 1
        try:
            with torch.inference_mode(False), torch.no_grad():
                # a torch.compile wrapper: run the module it wraps (a copy would compile again)
                twin = copy.deepcopy(getattr(m, "_orig_mod", m) if type(m).__name__ == "OptimizedModule" else m)
                a, k = _clone(args), _clone(kwargs)
                flags = [(s, s.training) for s in twin.modules()]
                res = {"training": bool(m.training)}
                if m.training:
                    twin.eval()
                    _seed_randomly(torch)
                    res["other"] = twin(*a, **k)
                    for s, f in flags:
                        s.training = f
                    _seed_randomly(torch)
                    res["rerun"] = twin(*a, **k)
                else:
                    _seed_randomly(torch)
                    res["rerun"] = twin(*a, **k)
                    twin.train()
                    _seed_randomly(torch)
                    res["other"] = twin(*a, **k)
                return res
        except Exception as exc:
            return {"error": f"{type(exc).__name__}: {exc}"[:300]}
        finally:
            torch.random.set_rng_state(rng)
            self.busy -= 1

    def _after_forward(self, rec, cf, out):
        import torch

        tensors = _flatten(out)
        rec["out"] = _digest_many(tensors)
        if not rec.get("kind"):
            self._note_outputs(rec, tensors)
        if cf is not None:
            if "error" in cf:
                rec["cf_error"] = cf["error"]
            else:
                same_other, diff = _outputs_equal(out, cf["other"])
                stable, diff2 = _outputs_equal(out, cf["rerun"])
                rec["mode_sensitive"] = not same_other
                rec["stable"] = stable
                rec["eval_equal"] = same_other if cf["training"] else True
                rec["max_abs_diff"] = diff if not same_other else (diff2 if not stable else 0.0)
        if torch.is_grad_enabled():
            for t in tensors:
                if t.requires_grad and t.grad_fn is not None:
                    t.register_hook(functools.partial(_mark_backward, rec))
                    rec["grad_output"] = True

    # ------------------------------------------------------------------ export
    def on_export(self, orig_export, m, args, kwargs):
        """``torch.export.export(m, args, kwargs)``: tracing runs no ``Module.__call__`` we can see, so the
        export is recorded as an inference forward of ``m`` (the mode it is in, its counterfactual on a
        copy taken before the export) whose output is the exported program's, run on a copy of it."""
        import torch.nn as nn

        ex_args = args[0] if args else kwargs.get("args", ())
        ex_kwargs = args[1] if len(args) > 1 else kwargs.get("kwargs")
        rec = cf = None
        if isinstance(m, nn.Module) and isinstance(ex_args, tuple) and isinstance(ex_kwargs, (dict, type(None))):
            try:
                rec, cf = self._before_forward(m, ex_args, ex_kwargs or {}, kind="torch.export.export")
            except Exception as exc:
                self._internal("before export", exc)
        ep = orig_export(m, *args, **kwargs)
        if rec is not None:
            try:
                out = self._run_exported(ep, ex_args, ex_kwargs or {})
            except Exception as exc:
                rec["cf_error"] = f"running the exported program: {type(exc).__name__}: {exc}"[:300]
                cf = None
                out = None
            try:
                self._after_forward(rec, cf, out)
            except Exception as exc:
                self._internal("after export", exc)
        return ep

    def _run_exported(self, ep, args, kwargs):
        """The exported program's output on the export's own inputs, computed on a copy of it (its module
        shares the exported model's buffers) with the program's RNG state saved and restored."""
        import torch

        rng = torch.random.get_rng_state()
        self.busy += 1
        try:
            with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                art = copy.deepcopy(ep.module())
                _seed_randomly(torch)
                return art(*_clone(args), **_clone(kwargs))
        finally:
            torch.random.set_rng_state(rng)
            self.busy -= 1

    # ------------------------------------------------------------------ optimizer
    def _stepped_models(self, opt) -> list:
        """The roots of the live module trees that own the optimizer's parameters."""
        ids = frozenset(id(p) for g in opt.param_groups for p in g["params"])
        cached = self._opt_cache.get(id(opt))
        if cached is None or cached[0] != ids or cached[1] != len(self._mods):
            owners = [m for m in self._mods.objects() if any(id(p) in ids for p in m.parameters())]
            cached = (ids, len(self._mods), [weakref.ref(m) for m in self._roots(owners)])
            self._opt_cache[id(opt)] = cached
        return [m for m in (ref() for ref in cached[2]) if m is not None]

    def on_step(self, opt) -> None:
        """Before a step: digest the models it is about to change."""
        self.steps += 1
        for m in self._stepped_models(opt):
            self.model(m, "optimizer step")

    def after_step(self, opt) -> None:
        """After a step (and its closure): the model's last forward with grad was trained on."""
        for m in self._stepped_models(opt):
            rec = self._last_forward.get(m)
            if rec is not None and rec.get("grad"):
                rec["step_after"] = True

    # ------------------------------------------------------------------ save / load
    def _live_sources(self, obj, exclude=None) -> list:
        """Live root models all of whose tensors are among the tensors of ``obj``."""
        import torch
        import torch.nn as nn

        if isinstance(obj, nn.Module):
            return [obj]
        ptrs = set()

        def walk(o, depth):
            if depth > 4:
                return
            if isinstance(o, torch.Tensor):
                if o.numel():
                    try:
                        ptrs.add(o.data_ptr())
                    except Exception:
                        pass
            elif isinstance(o, (list, tuple)):
                for i in o:
                    walk(i, depth + 1)
            elif isinstance(o, dict):
                for i in o.values():
                    walk(i, depth + 1)

        walk(obj, 0)
        if not ptrs:
            return []
        found = []
        for m in self._mods.objects():
            if m is exclude:
                continue
            ts = [t for _, t in _named_state(m) if t.numel()]
            if ts and all(t.data_ptr() in ptrs for t in ts):
                found.append(m)
        return self._roots(found)

    def _entry(self, m, where) -> dict:
        """What a saved (or source) model was: its tensors' signature and, if it ran, a probe."""
        import torch

        entry = {
            "key": self.key(m),
            "class": type(m).__name__,
            "where": where,
            "script": self.script,
            "values_sig": _values_signature(t for _, t in _named_state(m)),
            "probe": None,
        }
        last = self._last_input.get(m)
        if last is not None:
            rng = torch.random.get_rng_state()
            self.busy += 1
            try:
                with torch.inference_mode(False), torch.no_grad():
                    twin = copy.deepcopy(m).eval()
                    a, k = _clone(last[0]), _clone(last[1])
                    out = twin(*a, **k)
                entry["probe"] = {"args": last[0], "kwargs": last[1], "out": _flatten(out)}
            except Exception as exc:
                entry["probe_error"] = f"{type(exc).__name__}: {exc}"[:200]
            finally:
                torch.random.set_rng_state(rng)
                self.busy -= 1
        return entry

    def on_save(self, obj, orig_save) -> None:
        import torch.nn as nn

        where = self._where()
        rec: dict[str, Any] = {
            "where": where,
            "script": self.script,
            "object": type(obj).__name__,
            "models": [],
            "whole_module": isinstance(obj, nn.Module),
        }
        for m in self._live_sources(obj):
            self.model(m, "save")
            entry = self._entry(m, where)
            rec["models"].append(entry["key"])
            self.saved_entries.append(entry)
            self._write_probe(entry, orig_save)
        self.saves.append(rec)

    def _write_probe(self, entry, orig_save) -> None:
        if not self.probe_dir:
            return
        doc = {k: v for k, v in entry.items() if k != "probe"}
        probe = entry.get("probe")
        doc["probe"] = None
        if probe is not None:
            try:
                doc["probe"] = {
                    "args": _plain(probe["args"]),
                    "kwargs": _plain(probe["kwargs"]),
                    "out": [t.detach().clone() for t in probe["out"]],
                }
            except TypeError as exc:
                doc["probe_error"] = str(exc)
        self._save_n += 1
        path = os.path.join(self.probe_dir, f"save-{os.getpid()}-{self._save_n}.pt")
        self.busy += 1
        try:
            os.makedirs(self.probe_dir, exist_ok=True)
            orig_save(doc, path)
        except Exception as exc:
            self._internal("write probe", exc)
        finally:
            self.busy -= 1

    def _saved_entries(self, orig_load) -> list[dict]:
        """Entries saved in this process, plus those that earlier scripts of this run wrote."""
        entries = list(self.saved_entries)
        if self.probe_dir and os.path.isdir(self.probe_dir):
            mine = f"save-{os.getpid()}-"
            for name in sorted(os.listdir(self.probe_dir)):
                if name.startswith(mine) or not name.endswith(".pt"):
                    continue
                if name not in self._probe_files_seen:
                    self.busy += 1
                    try:
                        self._probe_files_seen[name] = orig_load(os.path.join(self.probe_dir, name), weights_only=True)
                    except Exception as exc:
                        self._internal("read probe", exc)
                        self._probe_files_seen[name] = None
                    finally:
                        self.busy -= 1
                seen = self._probe_files_seen[name]
                if seen is not None:
                    entries.append(seen)
        return entries

    def check_against_saved(self, m, rec, entries) -> None:
        """Does the loaded model hold a saved model's tensors, and reproduce its output?"""
        import torch

        if not entries:
            rec["matches_saved"] = None
            return
        sig = _values_signature(t for _, t in _named_state(m))
        match = [e for e in entries if e.get("values_sig") == sig]
        rec["matches_saved"] = bool(match)
        if not match:
            rec["saved_candidates"] = sorted({e["key"] for e in entries})[:5]
            return
        entry = match[-1]
        rec["source"] = entry["key"]
        probe = entry.get("probe")
        if not probe:
            rec["reproduces"] = None
            return
        rng = torch.random.get_rng_state()
        self.busy += 1
        try:
            with torch.inference_mode(False), torch.no_grad():
                twin = copy.deepcopy(m).eval()
                out = twin(*_clone(probe["args"]), **_clone(probe["kwargs"]))
            equal, diff = _outputs_equal(_flatten(out), list(probe["out"]))
            rec["reproduces"] = equal
            rec["reproduce_max_abs_diff"] = diff
        except Exception as exc:
            rec["reproduces"] = False
            rec["reproduce_error"] = f"{type(exc).__name__}: {exc}"[:300]
        finally:
            torch.random.set_rng_state(rng)
            self.busy -= 1

    def on_load_state_dict(self, orig, receiver, args, kwargs, orig_load):
        import torch.nn as nn

        is_module = isinstance(receiver, nn.Module)
        rec = {
            "kind": "load_state_dict",
            "script": self.script,
            "where": self._where(),
            "receiver": type(receiver).__name__,
            "receiver_is_module": is_module,
            "model": self.key(receiver) if is_module else None,
            "strict": kwargs.get("strict", args[1] if len(args) > 1 else True),
            "missing": None,
            "unexpected": None,
            "error": None,
            "matches_saved": None,
            "reproduces": None,
        }
        if not isinstance(rec["strict"], bool):
            rec["strict"] = repr(rec["strict"])
        sources = []
        try:
            incoming = args[0] if args else kwargs.get("state_dict")
            if is_module and incoming is not None:
                sources = [self._entry(s, rec["where"]) for s in self._live_sources(incoming, exclude=receiver)]
        except Exception as exc:
            self._internal("load sources", exc)
        self.loads.append(rec)
        try:
            result = orig(receiver, *args, **kwargs)
        except BaseException as exc:
            rec["error"] = {"type": type(exc).__name__, "message": str(exc)[:2000]}
            raise
        try:
            rec["missing"] = [str(k) for k in getattr(result, "missing_keys", []) or []]
            rec["unexpected"] = [str(k) for k in getattr(result, "unexpected_keys", []) or []]
            if is_module:
                self.check_against_saved(receiver, rec, self._saved_entries(orig_load) + sources)
        except Exception as exc:
            self._internal("after load_state_dict", exc)
        return result

    def on_torch_load(self, orig_load, args, kwargs):
        import torch.nn as nn

        rec = {
            "kind": "torch.load",
            "script": self.script,
            "where": self._where(),
            "weights_only": kwargs.get("weights_only", "default"),
            "result": None,
            "error": None,
        }
        self.torch_loads.append(rec)
        try:
            result = orig_load(*args, **kwargs)
        except BaseException as exc:
            rec["error"] = {"type": type(exc).__name__, "message": str(exc)[:2000]}
            raise
        try:
            rec["result"] = type(result).__name__
            if hasattr(result, "keys") and not isinstance(result, nn.Module):
                rec["keys"] = [str(k) for k in list(result.keys())[:8]]
            if isinstance(result, nn.Module):
                for sub in result.modules():
                    self.key(sub)
                rec["model"] = self.key(result)
                load = {
                    "kind": "whole module",
                    "script": self.script,
                    "where": rec["where"],
                    "receiver": type(result).__name__,
                    "receiver_is_module": True,
                    "model": rec["model"],
                    "strict": None,
                    "missing": [],
                    "unexpected": [],
                    "error": None,
                    "matches_saved": None,
                    "reproduces": None,
                }
                self.check_against_saved(result, load, self._saved_entries(orig_load))
                self.loads.append(load)
        except Exception as exc:
            self._internal("after torch.load", exc)
        return result

    # ------------------------------------------------------------------ end
    def finish(self) -> None:
        """Digest, at exit, the live models that never ran, stepped or were saved."""
        try:
            live = [m for m in self._mods.objects() if _has_state(m)]
            for m in self._roots(live):
                self.model(m, "exit")
        except Exception as exc:
            self._internal("finish", exc)

    def document(self) -> dict:
        import torch

        return {
            "script": self.script,
            "role": self.role,
            "pid": os.getpid(),
            "torch": torch.__version__,
            "python": sys.version.split()[0],
            "elapsed": round(time.time() - self.started, 3),
            "models": list(self.models.values()),
            "forwards": self.forwards,
            "forwards_dropped": self.forwards_dropped,
            "steps": self.steps,
            "loads": self.loads,
            "torch_loads": self.torch_loads,
            "saves": self.saves,
            "warnings": self.warnings,
            "exception": self.exception,
            "exit_code": self.exit_code,
            "harness_errors": self.harness_errors,
        }

    # ------------------------------------------------------------------ install
    def install(self) -> None:
        """Wrap nn.Module.__init__/__call__/load_state_dict, torch.save/load, optimizer steps."""
        if self.installed:
            return
        import torch
        import torch.nn as nn
        import torch.optim.optimizer as optim_mod
        import torch.serialization as serialization

        obs = self
        tls = self._tls
        orig_init = nn.Module.__init__
        orig_call = nn.Module.__call__
        orig_lsd = nn.Module.load_state_dict
        orig_save = torch.save
        orig_load = torch.load
        export_mod = sys.modules.get("torch.export")
        orig_export = getattr(export_mod, "export", None)

        @functools.wraps(orig_init)
        def __init__(self, *args, **kwargs):
            orig_init(self, *args, **kwargs)
            if not obs.busy:
                try:
                    obs.on_module_init(self)
                except Exception as exc:
                    obs._internal("module init", exc)

        @functools.wraps(orig_call)
        def __call__(self, *args, **kwargs):
            if obs.busy or getattr(tls, "depth", 0):
                return orig_call(self, *args, **kwargs)
            tls.depth = 1
            try:
                return obs.top_forward(orig_call, self, args, kwargs)
            finally:
                tls.depth = 0

        @functools.wraps(orig_lsd)
        def load_state_dict(self, *args, **kwargs):
            if obs.busy or getattr(tls, "loading", 0):
                return orig_lsd(self, *args, **kwargs)
            tls.loading = 1
            try:
                return obs.on_load_state_dict(orig_lsd, self, args, kwargs, orig_load)
            finally:
                tls.loading = 0

        @functools.wraps(orig_save)
        def save(obj, f, *args, **kwargs):
            if not obs.busy:
                try:
                    obs.on_save(obj, orig_save)
                except Exception as exc:
                    obs._internal("save", exc)
            return orig_save(obj, f, *args, **kwargs)

        @functools.wraps(orig_load)
        def load(*args, **kwargs):
            if obs.busy:
                return orig_load(*args, **kwargs)
            return obs.on_torch_load(orig_load, args, kwargs)

        def export(mod, *args, **kwargs):
            if obs.busy or getattr(tls, "depth", 0):
                return orig_export(mod, *args, **kwargs)
            tls.depth = 1  # what the export's tracing calls is not a forward of the program
            try:
                return obs.on_export(orig_export, mod, args, kwargs)
            finally:
                tls.depth = 0

        if orig_export is not None:
            functools.update_wrapper(export, orig_export)

        def step_pre_hook(optimizer, args, kwargs):
            if not obs.busy:
                try:
                    obs.on_step(optimizer)
                except Exception as exc:
                    obs._internal("optimizer step", exc)

        def step_post_hook(optimizer, args, kwargs):
            if not obs.busy:
                try:
                    obs.after_step(optimizer)
                except Exception as exc:
                    obs._internal("optimizer step", exc)

        orig_showwarning = warnings.showwarning

        def showwarning(message, category, *args, **kwargs):
            if not obs.busy:
                obs.warnings.append({"message": f"{category.__name__}: {message}"[:300], "after_loads": len(obs.loads)})
            return orig_showwarning(message, category, *args, **kwargs)

        warnings.showwarning = showwarning
        # the observer patches torch on purpose, for the whole run of the program (mypy forbids assigning to methods)
        nn.Module.__init__ = __init__  # type: ignore[method-assign]
        nn.Module.__call__ = __call__  # type: ignore[method-assign]
        nn.Module.load_state_dict = load_state_dict  # type: ignore[method-assign]
        torch.save = serialization.save = save
        torch.load = serialization.load = load
        if orig_export is not None:  # (also what torch.onnx.export(..., dynamo=True) calls)
            setattr(export_mod, "export", export)  # noqa: B010 - torch.export's type has no settable attribute
        optim_mod.register_optimizer_step_pre_hook(step_pre_hook)
        optim_mod.register_optimizer_step_post_hook(step_post_hook)
        self.installed = True
        try:
            torch.set_num_threads(1)
        except Exception:
            pass


def _mark_backward(rec, grad):
    rec["backward"] = True


# --------------------------------------------------------------------------- child processes
_CHILD: Observer | None = None


def _write_child() -> None:
    obs = _CHILD
    if obs is None or not obs.installed:
        return
    obs.finish()
    doc = obs.document()
    if not (doc["models"] or doc["forwards"] or doc["loads"] or doc["saves"] or doc["torch_loads"]):
        return
    directory = os.environ.get(ENV_CHILD_DIR)
    if not directory:
        return
    try:
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, f"child-{os.getpid()}.json")
        with open(path + ".tmp", "w", encoding="utf-8") as fh:
            json.dump(doc, fh, default=str)
        os.replace(path + ".tmp", path)
    except Exception:
        pass


class _TorchWatcher(importlib.abc.MetaPathFinder):
    """Install the observer in a child process as soon as it has imported torch."""

    def __init__(self, on_import) -> None:
        self.on_import = on_import

    def find_spec(self, fullname, path, target=None):
        if fullname != "torch":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec("torch")
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        orig_exec = loader.exec_module
        on_import = self.on_import

        def exec_module(module):
            orig_exec(module)
            try:
                on_import()
            except Exception:
                pass

        loader.exec_module = exec_module
        return spec


def child_bootstrap() -> None:
    """Called from the sitecustomize of a process the observed program started."""
    global _CHILD
    root = os.environ.get(ENV_ROOT) or os.getcwd()
    script = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "<child>"
    _CHILD = Observer(root, f"child:{script}", os.environ.get(ENV_PROBE_DIR), role="child")
    if "torch" in sys.modules:
        _CHILD.install()
    else:
        sys.meta_path.insert(0, _TorchWatcher(_CHILD.install))
    atexit.register(_write_child)


def _after_fork_in_child(obs: Observer) -> None:
    """A forked child keeps the hooks; give it its own, empty observations and a way to write them."""
    global _CHILD
    obs.reset()
    obs.role = "child"
    obs.script = f"child:{obs.script}"
    _CHILD = obs
    atexit.register(_write_child)
    mp_util = sys.modules.get("multiprocessing.util")
    if mp_util is not None:  # forked multiprocessing children leave through os._exit after finalizers
        try:
            mp_util.Finalize(None, _write_child, exitpriority=100)
        except Exception:
            pass


# --------------------------------------------------------------------------- fork server
def zygote_main() -> None:
    """Import torch once, then fork one fresh child per request (``python harness.py --zygote``).

    Requests arrive on stdin as JSON lines ``{"id", "argv", "cwd", "env", "log"}``; the server answers
    ``started ID PID`` and, when the child has ended, ``done ID EXITCODE``. A child starts its own
    session (so a timeout can kill its process group), writes its output to ``log``, takes the
    request's working directory and environment, and reseeds what a new interpreter would seed from
    the operating system (torch's and numpy's global generators; ``random`` reseeds itself at fork).
    What a fork cannot renew is the string-hash seed: the verifier uses one server per run index, so
    the two runs of a seeding fixture still differ in it.
    """
    import select

    import torch  # the expensive import, paid once

    try:
        torch.set_num_threads(1)
        _warm_up(torch)
    except Exception:
        pass
    children: dict[int, str] = {}
    buf = b""
    os.write(1, b"ready\n")
    while True:
        ready, _, _ = select.select([0], [], [], 0.05)
        if ready:
            chunk = os.read(0, 1 << 16)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if not line.strip():
                    continue
                req = json.loads(line)
                pid = os.fork()
                if pid == 0:
                    _zygote_child(req)  # never returns
                children[pid] = str(req["id"])
                os.write(1, f"started {req['id']} {pid}\n".encode())
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            rid = children.pop(pid, None)
            if rid is not None:
                os.write(1, f"done {rid} {os.waitstatus_to_exitcode(status)}\n".encode())
    os._exit(0)


def _warm_up(torch) -> None:
    """Pay the first-use costs every training program pays (an optimizer imports torch._dynamo)."""
    import torch.nn.functional as F

    m = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Dropout(0.1), torch.nn.BatchNorm1d(4))
    for opt in (
        torch.optim.SGD(m.parameters(), lr=0.1),
        torch.optim.Adam(m.parameters()),
        torch.optim.AdamW(m.parameters()),
    ):
        loss = F.cross_entropy(m(torch.randn(5, 3)), torch.tensor([0, 1, 2, 3, 0]))
        loss = loss + F.mse_loss(m(torch.ones(2, 3)), torch.zeros(2, 4))
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        m.eval()(torch.ones(2, 3))


def _zygote_child(req: dict) -> None:
    try:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        log = os.open(req["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(devnull)
        os.close(log)
        # the child's standard streams are the new descriptors, the originals included (typeshed: Final)
        sys.stdin = sys.__stdin__ = open(0, encoding="utf-8", closefd=False)  # type: ignore[misc]
        sys.stdout = sys.__stdout__ = open(1, "w", encoding="utf-8", buffering=1, closefd=False)  # type: ignore[misc]
        sys.stderr = sys.__stderr__ = open(2, "w", encoding="utf-8", buffering=1, closefd=False)  # type: ignore[misc]
        os.chdir(req["cwd"])
        os.environ.clear()
        os.environ.update(req["env"])
        import torch

        torch.default_generator.seed()
        np = sys.modules.get("numpy")
        if np is not None:
            np.random.seed()
        main(req["argv"])
    except SystemExit as exc:
        os._exit(exc.code if isinstance(exc.code, int) else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(1)


# --------------------------------------------------------------------------- main
def _exception_record(exc: BaseException, obs: Observer) -> dict:
    where = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if obs._in_root(frame.f_code.co_filename):
            where = f"{obs._rel(frame.f_code.co_filename)}:{lineno}"
    return {"type": type(exc).__name__, "message": str(exc)[:2000], "where": where}


def _prepare_children(out: str | None, root: str, probe_dir: str | None) -> None:
    if not out:
        return
    boot = out + ".d"
    os.makedirs(os.path.join(boot, "boot"), exist_ok=True)
    with open(os.path.join(boot, "boot", "sitecustomize.py"), "w", encoding="utf-8") as fh:
        fh.write(SITECUSTOMIZE)
    os.environ[ENV_CHILD_DIR] = os.path.join(boot, "children")
    os.environ[ENV_ROOT] = root
    os.environ[ENV_HARNESS] = _HERE
    if probe_dir:
        os.environ[ENV_PROBE_DIR] = probe_dir
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.path.join(boot, "boot") + (os.pathsep + old if old else "")


def _children(out: str | None) -> list[dict]:
    if not out:
        return []
    directory = os.path.join(out + ".d", "children")
    docs = []
    if os.path.isdir(directory):
        for name in sorted(os.listdir(directory)):
            if name.endswith(".json"):
                try:
                    with open(os.path.join(directory, name), encoding="utf-8") as fh:
                        docs.append(json.load(fh))
                except (OSError, ValueError):
                    pass
    return docs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="harness", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", help="write the observations here (JSON); default: stdout")
    parser.add_argument("--root", default=None, help="the program's own files live here (default: cwd)")
    parser.add_argument("--probe-dir", default=None, help="share saved-model probes between scripts of one run")
    parser.add_argument("script")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    ns = parser.parse_args(argv)

    script = os.path.abspath(ns.script)
    root = os.path.realpath(ns.root or os.getcwd())
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    _prepare_children(ns.out, root, ns.probe_dir)

    obs = Observer(root, os.path.relpath(script, root), ns.probe_dir)
    obs.install()
    try:
        os.register_at_fork(after_in_child=lambda: _after_fork_in_child(obs))
    except Exception:
        pass

    sys.argv = [script, *ns.args]
    sys.path[0] = os.path.dirname(script)
    try:
        globs = runpy.run_path(script, run_name="__main__")
        obs.finish()
        del globs
    except SystemExit as exc:
        obs.finish()
        code = exc.code
        obs.exit_code = code if isinstance(code, int) or code is None else str(code)
        if code not in (0, None):
            obs.exception = {"type": "SystemExit", "message": str(code), "where": _exception_record(exc, obs)["where"]}
    except BaseException as exc:  # noqa: BLE001 - the program's failure is an observation
        obs.finish()
        obs.exception = _exception_record(exc, obs)
        traceback.print_exc()

    doc = obs.document()
    doc["children"] = _children(ns.out)
    text = json.dumps(doc, default=str, indent=1)
    if ns.out:
        with open(ns.out + ".tmp", "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(ns.out + ".tmp", ns.out)
    else:
        out = sys.__stdout__
        assert out is not None  # (a process the verifier started, with its streams open)
        out.write(text + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    # leave at once: the observed program's atexit handlers and threads must not hang the harness
    os._exit(0)


if __name__ == "__main__":
    if sys.argv[1:] == ["--zygote"]:
        zygote_main()
    else:
        main()
