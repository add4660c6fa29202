"""TRP3xx: loading weights into uninstantiated or mismatched models."""

from __future__ import annotations

import re

from ..diagnostics import Fix
from ._util import diagnostics, receiver_fix, via_text
from .base import Expect, Rule


def _rule(code, name, summary, kind, message, doc, default=True, fix=None, safety=None, fixed_verify=None):
    def located(d: dict) -> str:
        text = message(d)
        return f"{text} (called from {via_text(d['via'], d.get('also_via', ()))})" if d.get("via") else text

    return Rule(
        code=code,
        name=name,
        summary=summary,
        verify=Expect.LOAD_INCOMPATIBLE,
        default_enabled=default,
        check=lambda facts: diagnostics(facts, kind, code, located, fix),
        doc=doc,
        fix=safety,
        fixed_verify=fixed_verify,
    )


_NOT_A_MODEL = re.compile(r"optim|sched|scaler", re.IGNORECASE)


def _entry_fix(d: dict) -> Fix | None:
    """Pass the checkpoint's state_dict entry: the one key when the save site names exactly one (an
    optimizer's, scheduler's or grad scaler's state_dict is not a model's)."""
    keys = tuple(k for k in d.get("sd_keys") or () if not _NOT_A_MODEL.search(k))
    if len(keys) == 1:
        return Fix(f"Pass the checkpoint's model entry `[{keys[0]!r}]`", args=keys)
    shown = ", ".join(repr(k) for k in keys) if keys else "none known, `'model'` assumed"
    return Fix(f"Pass the checkpoint's model entry (candidates: {shown})", args=keys)


def _entry_hint(d: dict) -> str:
    """The key to use, as the save site names it: the one state_dict entry that is no optimizer's."""
    keys = [k for k in d.get("sd_keys") or () if not _NOT_A_MODEL.search(k)]
    if len(keys) == 1:
        return f"`ckpt[{keys[0]!r}]`"
    if keys:
        return "one of " + ", ".join(f"`ckpt[{k!r}]`" for k in keys)
    return 'e.g. `ckpt["model"]`'


def _prefix_fix(d: dict) -> Fix | None:
    if d.get("prefix") == "strip":
        return receiver_fix("Strip the `module.` prefix with `consume_prefix_in_state_dict_if_present`", "prefix")(d)
    if d.get("prefix") == "add":
        return receiver_fix("Load into the wrapped model: `{name}.module.load_state_dict(...)`", "prefix")(d)
    return None


TRP301 = _rule(
    "TRP301",
    "load-state-dict-on-class",
    "`load_state_dict` called on a class, not an instance",
    "load_on_class",
    lambda d: (
        f"`{d['cls']}.load_state_dict(...)` is called on the class, not on an instance: build the model "
        f"first (`{d['cls']}(...)`)"
    ),
    """
## What it does
Reports `load_state_dict` called on something that resolves to a class — an `nn.Module` subclass of
the file or the project, a `torch.nn` layer class — or on an un-called builder such as
`torchvision.models.resnet18`.

## Why is this bad?
`Net.load_state_dict(sd)` passes the state_dict as `self`; torch raises
`TypeError: Module.load_state_dict() missing 1 required positional argument: 'state_dict'`. The
verifier records that exception for the bad fixture.

## Known problems
Classes we cannot resolve (a star import, `getattr`) are not recognised.
""",
)
TRP302 = _rule(
    "TRP302",
    "load-result-used-as-model",
    "the result of `load_state_dict` used as the model",
    "load_result_as_model",
    lambda d: (
        f"`{d['name']}` is assigned the result of `load_state_dict` (missing/unexpected keys), not the model"
        if d["how"] == "assigned"
        else f"`{d['name']}` holds the result of `load_state_dict` (missing/unexpected keys) and is used as a model"
    ),
    """
## What it does
Reports `model = model.load_state_dict(sd)` (and `model = Net().load_state_dict(sd)`), and any name
bound to the result of `load_state_dict` that is later used as a module (called, `.eval()`, `.to()`,
`.parameters()`, ...).

## Why is this bad?
`load_state_dict` loads in place and returns a named tuple of `missing_keys` and `unexpected_keys`.
The name no longer refers to the model: the next call fails with `TypeError: '_IncompatibleKeys'
object is not callable` or an `AttributeError` — after a possibly long load. The verifier records it.

## Known problems
`r = m.load_state_dict(sd, strict=False)` followed by reading `r.missing_keys` is correct and never
reported.

## Fix safety
For `model = model.load_state_dict(sd)`, `torchlint-repro fix` drops the assignment. Safe: the name
keeps the model, which is what the code went on to use. On a `strict=False` load the result is kept
and checked (`missing_keys, unexpected_keys = model.load_state_dict(sd, strict=False)` and a warning
when either is non-empty), so that the fix does not leave a fresh TRP305 behind.
""",
    fix=lambda d: (
        Fix("Drop the assignment: `load_state_dict` loads in place")
        if d["how"] == "assigned" and d.get("same_name")
        else None
    ),
    safety="safe",
)
TRP303 = _rule(
    "TRP303",
    "state-dict-used-as-model",
    "a loaded state_dict used as a model",
    "state_dict_as_model",
    lambda d: (
        f"`{d['name']}` comes from `torch.load` of a state_dict ({d['why']}) and is used as a model "
        f"({d['how']}): build the model and call `load_state_dict` instead"
    ),
    """
## What it does
Reports `m = torch.load(p)` followed by `m(x)`, `m.eval()`, `m.to(device)`, ... when `p` holds a
state_dict: known from a `torch.save(X.state_dict(), p')` site of the project whose path matches,
or from the same loaded object being used as a mapping (read by a key, `.keys()`, `.items()`; a slice,
`feats[i : i + 10, :]`, is a tensor's, not a mapping's).

## Why is this bad?
A state_dict is an `OrderedDict` of tensors, not a module: the call fails with
`TypeError: 'collections.OrderedDict' object is not callable` or `AttributeError`.

## Known problems
Paths are matched only when both sides normalise to the same template (literals, module constants,
`os.path.join`, `pathlib`, f-strings, argparse defaults); otherwise the rule stays silent.
""",
)
TRP304 = _rule(
    "TRP304",
    "checkpoint-as-state-dict",
    "a whole checkpoint dict passed to `load_state_dict`",
    "checkpoint_as_state_dict",
    lambda d: (
        f"`{d['name']}.load_state_dict` receives a whole checkpoint, not a state_dict ({d['why']}): "
        f"pass the model's entry, {_entry_hint(d)}"
    ),
    """
## What it does
Reports `model.load_state_dict(torch.load(p))` where the matching `torch.save` wrote a dict of
several entries (`{"model": m.state_dict(), "optimizer": ..., "epoch": ...}`), or where the same
loaded object is also subscripted for other keys (`ckpt["epoch"]`) on a path that reaches the load. A key
read in another arm of an `if`/`elif` around the load (one arm loads a bare state_dict, another a
checkpoint's entries), or in the `try` of an `except KeyError:` handler that loads the object whole (the
keys were missing: the file is a bare state_dict), says nothing of that load.

## Why is this bad?
The checkpoint's keys are `model`, `optimizer`, `epoch`, ...: a strict load raises
`RuntimeError: Error(s) in loading state_dict ... Missing key(s)`, and a non-strict one loads
nothing at all and leaves the model at its random init.

## Fix safety
`torchlint-repro fix` passes the checkpoint's model entry: `model.load_state_dict(ckpt["model"])`.
Safe when the save site names exactly one state_dict entry (that key is used); unsafe otherwise,
with the candidate keys in the fix's title (the first is used, `"model"` when none is known).
""",
    fix=lambda d: _entry_fix(d),
    safety="safe/unsafe",
)
TRP305 = _rule(
    "TRP305",
    "non-strict-load-ignored",
    "`load_state_dict(strict=False)` with its result ignored",
    "nonstrict_ignored",
    lambda d: (
        f"`{d['name']}.load_state_dict(..., strict=False)` result is {d['how']}: missing and unexpected keys "
        f"are dropped silently; check `missing_keys`/`unexpected_keys`"
    ),
    """
## What it does
Reports `load_state_dict(..., strict=False)` whose result is discarded or assigned to a name that is
never read. A flag the code names is decided by the program where it can be: a helper's
`load_state_dict(sd, strict=strict)` is reported where a caller hands it `strict=False`, not where every
caller keeps the default.

## Why is this bad?
With `strict=False`, keys that do not match are skipped without a word. A renamed layer, a
`module.` prefix or a checkpoint of another model leaves some or all parameters at their random
init. The verifier shows the bad fixture's non-empty `missing_keys`.

## Known problems
Clean as soon as the result is read, logged, asserted, returned or passed on, and when the function
reports how the keys differ itself: a print, log, warning, assert or raise about both the loaded mapping and
the model (`print(len(sd), len(model.state_dict()))`), or a loop over every key of the model's
`state_dict()` or of what the mapping is built from that logs each key it leaves out (YOLOX's `load_ckpt`).
Checking a few named keys (DeiT's head) is no such report; filtering keys without a word
(`intersect_dicts`) neither.

## Fix safety
`torchlint-repro fix` keeps the result and checks it: `missing_keys, unexpected_keys =
model.load_state_dict(sd, strict=False)` followed by `warnings.warn(...)` when either list is
non-empty (`import warnings` is added when needed); a result assigned and never read is checked
where it is. Unsafe: the program now warns where it was silent. The fix cannot make the checkpoint
match; `verify --fixed` confirms that the fixed bad fixtures report the keys their load dropped.
""",
    fix=receiver_fix("Keep the result and warn about missing or unexpected keys", "how"),
    safety="unsafe",
    fixed_verify=Expect.LOAD_MISMATCH_SILENT,
)
TRP306 = _rule(
    "TRP306",
    "module-prefix-mismatch",
    "`module.` prefix of a DataParallel/DDP state_dict not matched at load",
    "prefix_mismatch",
    lambda d: (
        f"`{d['name']}.load_state_dict`: {d['why']}; strip or add the prefix "
        f"(torch.nn.modules.utils.consume_prefix_in_state_dict_if_present)"
    ),
    """
## What it does
Reports a state_dict saved from an `nn.DataParallel` / `DistributedDataParallel` wrapper
(`wrapped.state_dict()`, keys `module.fc.weight`) loaded into a plain model without stripping the
prefix, or the reverse.

## Why is this bad?
The keys do not match: a strict load raises `RuntimeError ... Missing key(s) ... Unexpected key(s)
"module.fc.weight"`, and `strict=False` loads nothing.

## Known problems
Prefix stripping is recognised in `consume_prefix_in_state_dict_if_present` and in dict
comprehensions that rewrite the keys (`k.replace("module.", "")`, `k[7:]`, `k.removeprefix(...)`).

## Fix safety
`torchlint-repro fix` strips the prefix before the load with
`torch.nn.modules.utils.consume_prefix_in_state_dict_if_present(state_dict, "module.")` (a loaded
expression is first bound to a name), or, when a wrapper receives a plain state_dict, loads into the
wrapped model: `wrapper.module.load_state_dict(...)`. Unsafe: the keys the program loads change.
""",
    fix=lambda d: _prefix_fix(d),
    safety="unsafe",
)
TRP307 = _rule(
    "TRP307",
    "architecture-mismatch",
    "checkpoint saved from one architecture loaded into another",
    "arch_mismatch",
    lambda d: f"`{d['name']}.load_state_dict`: {d['why']}",
    """
## What it does
Reports a checkpoint path saved from one class, or from the same class with different literal
constructor arguments, and loaded into another: `Net(num_classes=21)` saved, `Net(num_classes=6)`
loaded; `ResNet` saved, `Net` loaded.

## Why is this bad?
The shapes differ: torch raises `RuntimeError: ... size mismatch for fc.weight`, or, with
`strict=False`, keeps the random init for every mismatched parameter.

## Known problems
Constructor arguments are compared only where both sides are literals, or an option of the script
that builds the model (`Net(scale=args.scale)`), taken at its argparse default: what the script builds
when run without it (the message names both defaults). An option the script also assigns, or a
namespace it rewrites (`set_defaults`, `vars(args).update`), is not compared. Sites are matched
through their normalised paths.
""",
)
TRP308 = _rule(
    "TRP308",
    "model-as-state-dict",
    "a whole model passed to `load_state_dict`",
    "module_as_state_dict",
    lambda d: f"`{d['name']}.load_state_dict` receives a whole model ({d['why']}): pass its `.state_dict()`",
    """
## What it does
Reports `model.load_state_dict(x)` where `x` is a model: one built in the program, or what
`torch.load` returns for a path the project saved a whole module to (`torch.save(net, path)`, found
across files and in the same script or notebook).

## Why is this bad?
`load_state_dict` expects a mapping of parameter names to tensors. A module is not one: torch raises
`TypeError: Expected state_dict to be dict-like, got <class 'Net'>`, and the script that was meant to
restore the trained weights stops (or, inside a `try`, silently keeps the random init). The verifier
records that exception for the bad fixture.

## Example
```python
torch.save(net, "net.pt")                       # the whole module
model = Net()
model.load_state_dict(torch.load("net.pt", weights_only=False))   # TRP308
```

Use instead:
```python
model.load_state_dict(torch.load("net.pt", weights_only=False).state_dict())
```
or save `net.state_dict()` in the first place.
""",
)

RULES = [TRP301, TRP302, TRP303, TRP304, TRP305, TRP306, TRP307, TRP308]
