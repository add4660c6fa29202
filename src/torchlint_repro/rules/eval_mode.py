"""TRP2xx: train/eval mode, from the tracker's forward and training-step events."""

from __future__ import annotations

from ..diagnostics import Fix
from ._util import diagnostics, receiver_fix, via_text
from .base import Expect, Rule


def _inference(d: dict) -> str:
    maybe = "may be" if d.get("maybe") else "is"
    region = d["region"]
    where = f"under `{region}`" if not region.endswith("()") else f"in inference function `{region}`"
    if region == "generate":
        where = "by `generate()`"
    elif region == "sample":
        where = "for outputs that are only looked at (saved, logged, turned into numbers), never trained on"
    elif region == "inference":
        where = "in a program that restores its weights and never trains it"
    elif region.startswith(("torch.jit.", "torch.export.", "torch.onnx.")):
        where = f"through `{region}` (the exported graph keeps live dropout and batch statistics)"
    elif region == "volatile=True":
        where = "on `volatile=True` inputs (legacy no_grad: meant as inference)"
    if d.get("iteration"):  # one iteration of an unrolled literal loop: which one
        name, value, line = d["iteration"]
        where += f" (the `{name} = {value!r}` iteration of the loop at line {line})"
    called = (
        f" (called from {via_text(d['via'], d.get('also_via', ()))} with the model in training mode)"
        if d.get("via")
        else ""
    )
    live = "dropout/batch-norm stay live"
    if d.get("dep"):  # a project class whose layers could not all be told
        live = f"any dropout/batch-norm it holds stays live (whether `{d['dep']}` has any could not be told)"
    name = d["name"]
    return f"`{name}` {maybe} in training mode when it runs {where}{called}: {live}; call `{name}.eval()` first"


def _bare(d: dict) -> str:
    return f"`{d['name']}.{d['attr']}` is not called: the mode does not change (write `{d['name']}.{d['attr']}()`)"


def _train(d: dict) -> str:
    src = d.get("src")
    why = ""
    if src:
        kind, line, *other = src  # (kind, line) in this file, or (kind, line, path) in another one (as shown)
        at = f"{other[0]}:{line}" if other and other[0] else f"line {line}"
        why = (
            f" after `.eval()` at {at}"
            if kind == "eval"
            else f" after `.train(False)` at {at}"
            if kind == "eval_by_train"
            else f" (`from_pretrained` at {at} returns it in eval mode)"
        )
    maybe = "may still be" if d.get("maybe") else "is"
    return (
        f"training step while `{d['name']}` {maybe} in eval mode{why}: dropout/batch-norm are off; "
        f"call `{d['name']}.train()` before training"
    )


def _param(d: dict) -> str:
    return (
        f"`{d['name']}` is a parameter run under `{d['region']}` without `.eval()` here; callers must "
        f"put it in eval mode"
    )


TRP201 = Rule(
    code="TRP201",
    name="inference-in-training-mode",
    summary="forward pass in an inference region while the model may be in training mode",
    verify=Expect.DIFFERS_FROM_EVAL,
    check=lambda facts: diagnostics(
        facts,
        "forward_in_train",
        "TRP201",
        _inference,
        fix=receiver_fix("Call `{name}.eval()` before the inference region", "region"),
    ),
    fix="safe/unsafe",
    doc="""
## What it does
Reports a forward pass (`model(x)`, `model.forward(x)`, `model.generate(...)`, or a call through a
wrapper) inside an inference region while the model is, or may be, in training mode. Inference
regions are `with torch.no_grad()`, `with torch.inference_mode()`, `torch.set_grad_enabled(False)`,
functions decorated with `@torch.no_grad()` / `@torch.inference_mode()`, and functions whose name
matches `inference-functions` (evaluate, validate, test, predict, infer*, ...; never pytest's `test_*`
functions in test files, nor the `test*` methods of a unittest `TestCase`). Also inference uses without
a region: a forward whose output is only looked at (printed, logged, saved as an image, turned into
numbers) and never trained on, including the `"val"` iteration of a `for phase in ("train", "val")`
loop; a program that restores weights and never trains; web routes and UI callbacks
(`@app.post("/predict")`, `gradio.Interface(fn=...)`), run with the model the module loaded; and
traces/exports (`torch.jit.trace`, `torch.export.export`, and `torch.onnx.export` with `dynamo=True`:
the legacy ONNX exporter switches to eval mode by itself).

A forward whose output is only looked at for its metadata is not reported: `y = net(x)` followed by
`print(y.shape)`, `y.size()`, `assert y.dtype == ...` and nothing else (a smoke test of a model
file's `test()` function): its numbers reach no result, whatever the mode. Nor is a `no_grad` forward
whose output goes on to train something: a GAN's fake batch, drawn under `no_grad` for the
discriminator's loss, is part of a training step and wants the generator in training mode. Nor are the
forwards of a function that reads or resets batch-norm statistics (`bn.running_mean`, `bn.running_var`,
`reset_running_stats()`): it recomputes them (precise-BN, SWA's `update_bn`), in training mode on purpose.

The mode is tracked through the program: construction gives train, `from_pretrained` gives eval,
`.eval()` / `.train(False)` give eval, `.train()` gives train; aliases, `self.model` attributes and
wrappers (`DataParallel`, `DDP`, `torch.compile`, `.module`, what Lightning's `fabric.setup` and
accelerate's `accelerator.prepare` hand back) share it; functions that receive the
model are judged with their caller's state, reported at the forward inside them. A method no program
calls starts from its object as the code that builds it leaves it: `__init__`, or, when every place
that refers to the class is a function, the factories that build, restore and return it
(`det = Detector(); det.net.eval(); return det`), joined with what the class's other methods leave.

## Why is this bad?
`torch.no_grad()` and `torch.inference_mode()` switch off gradients, not training behaviour: dropout
still drops, batch-norm still normalises with batch statistics and updates its running averages.
The verifier runs the bad fixtures and sees the forward under `no_grad` with `training=True` give
an output different from the eval-mode output on the same input; for `torch.export.export`, the
exported program's output (live dropout is an `aten.dropout(..., train=True)` node of its graph).

## Known problems
- Not reported when the model's class is known and has no mode-dependent layer at any depth
  (no dropout, batch-norm, ...): then `eval()` changes nothing. An object of a class we cannot read that
  its constructor only measures (`nn.Linear(np.prod(env.observation_space.shape), 64)`: sizes, a
  `torch.tensor` of its values) is no submodule of it; one it keeps (`self.env = env`, a layer of it in an
  `nn.Sequential`) may hold dropout, and the model may then be mode-dependent.
- Modes follow the module tree: `.eval()` on a submodule (`self.net.eval()` in a wrapper's method) sets
  that submodule's mode only, and `.eval()` on a module sets the modules it was handed and registered
  too. A holder with no mode-dependent layer of its own (a diffusion sampler around its network) runs in
  its network's mode. `copy.deepcopy(model)` (an EMA copy, a teacher) is a model of its own, in the mode
  the original had when it was copied.
- A forward inside a function of another file reached through pass-throughs (`report(model)` calling
  `evaluate(model)` in a third file) is judged with the caller's state, like a direct call.
- A method decorated by a project decorator whose wrapper calls `.eval()` on its first argument before
  calling it (lucidrains' `@eval_decorator`, which restores the mode after) runs in eval mode: not reported;
  the mode after it is the mode before.
- Not reported when the mode is unknown: a model from `torch.load` of a path no save of the project
  matches (a module the project saved whole comes back in the mode it was saved in), a model handed to
  a function we cannot see, a function parameter with no visible caller (see TRP204).
- `torch.set_grad_enabled(flag)` is an inference region only where the flag is known to be false on
  the path (a literal, `train=False` handed by a caller, the `"val"` iteration of a phase loop).
- An object of a class the analysis cannot read (a library's, a module missing from the project) is
  judged as a model only once the code uses it as one: puts it in a mode, hands its parameters to an
  optimizer, reads its parameters or state dict. A move to a device or dtype (`.cuda()`, `.to()`)
  alone is not enough: filters, samplers and metrics move too (Real-ESRGAN's `USMSharp().cuda()`).

## Fix safety
`torchlint-repro fix` inserts `model.eval()` (with the model's own receiver, `self.model.eval()`)
before the inference region: before the `with torch.no_grad():` block, at the top of an inference
function, or before the statement that runs the forward. Safe when the model is bound in the same
function as the region and nothing after the region trains; unsafe otherwise: when the model comes
from a caller (the caller's later code may rely on training mode), or when training follows the
region (a validation block inside the epoch loop), where `model.train()` is inserted after the
region too, so the next epoch trains in training mode.

## Options
- `inference-functions`
""",
)
TRP202 = Rule(
    code="TRP202",
    name="mode-method-not-called",
    summary="`model.eval` / `model.train` named but not called",
    verify=Expect.DIFFERS_FROM_EVAL,
    check=lambda facts: diagnostics(
        facts, "mode_attr_not_called", "TRP202", _bare, fix=lambda d: Fix(f"Call `{d['name']}.{d['attr']}()`")
    ),
    fix="safe",
    doc="""
## What it does
Reports an expression statement (or a condition) that names `.eval` or `.train` without calling it,
such as a line reading `model.eval`.

## Why is this bad?
The attribute is a bound method; naming it does nothing, so the model stays in the mode it was in.
The forward that follows usually runs in training mode, which the verifier observes as an output
that differs from the eval-mode output.

## Known problems
Passing the method as a value (`callbacks.append(model.eval)`, `fn = model.eval`) is not reported.

## Fix safety
`torchlint-repro fix` adds the parentheses. Safe: the statement had no effect before.
""",
)
TRP203 = Rule(
    code="TRP203",
    name="training-in-eval-mode",
    summary="training step while the model may still be in eval mode",
    verify=Expect.TRAINS_IN_EVAL_MODE,
    check=lambda facts: diagnostics(
        facts,
        "train_in_eval",
        "TRP203",
        _train,
        fix=receiver_fix("Call `{name}.train()` at the start of the training step"),
    ),
    fix="unsafe",
    doc="""
## What it does
Reports a training forward (one whose loss reaches `.backward()`) that runs while the model is, or
may be, in eval mode: typically an epoch loop that calls a validation step which sets `model.eval()`
and never switches back with `model.train()`, or a model from `from_pretrained` (returned in eval
mode) trained by a hand-written loop.

Only a model that is trained counts: one whose parameters are all frozen (`model.requires_grad_(False)`,
`for p in model.parameters(): p.requires_grad = False`), or that no optimizer holds while every
optimizer's parameters can be told (`torch.optim.Adam(gen.parameters())`), is not reported. A frozen
feature extractor kept in eval mode for a perceptual loss computes the loss; it is not trained in eval
mode. An optimizer of the tensors the program feeds to the model (`SGD([image])` with `net(image)`:
class visualisation, an adversarial perturbation `net(x + delta)`) trains no model. A program that builds
no optimizer and updates no parameter (no optimizer `.step()`, no `p -= lr * p.grad`) takes gradients
to read them (a saliency map, a gradient check): its backward is no training step.

## Why is this bad?
From the second epoch on, the model trains with dropout disabled and batch-norm frozen on its
running statistics: a different model than the one you meant to train. The verifier observes a
forward with gradients enabled, followed by a backward, on a model with `training=False`.

## Known problems
Deliberate eval-mode fine-tuning of a model that is trained (frozen batch-norm statistics, the weights
still optimised) is reported too; silence it with `# noqa: TRP203`. A model frozen by a condition over
its parameters (`if "bn" in name: p.requires_grad = False`) counts as trained, and so does every model
when an optimizer's parameters come from code the analysis cannot follow (a list built elsewhere, a
tensor no forward reads). A gradient ascent on an input written by hand (`image.data += lr * image.grad`)
counts as a parameter update.

## Fix safety
`torchlint-repro fix --unsafe-fixes` inserts `model.train()` at the start of the training step: the
first statement of the innermost loop around the training forward, or before that forward outside a
loop (above the comment lines that describe that statement). Always unsafe: training mode changes
what the step computes (dropout drops, batch-norm normalises with batch statistics and updates its
running averages), so the loss and the trained weights change. That is the point when eval mode was a
mistake, and wrong when it was deliberate; a later `with torch.no_grad():` in the same loop would
also run in training mode.
""",
)
TRP204 = Rule(
    code="TRP204",
    name="inference-on-parameter-without-eval",
    summary="function runs inference on a model parameter it never puts in eval mode",
    verify=Expect.DIFFERS_FROM_EVAL,
    default_enabled=False,
    check=lambda facts: diagnostics(facts, "forward_on_param", "TRP204", _param),
    doc="""
## What it does
Reports a function with no caller in its file that runs a forward of one of its parameters under
`torch.no_grad()` / `torch.inference_mode()` and never calls `.eval()` on it.

## Why is this bad?
The function relies on every caller to have put the model in eval mode; one that forgets gets the
behaviour of TRP201. Calling `model.eval()` inside the function makes it safe for all callers.

## Known problems
Off by default, and deliberately narrow: since parameter modes come from the call sites, a helper that
any program of the project calls is judged there, with the model its caller hands it, and reported as
TRP201 at the forward (naming the call). TRP204 is what remains: a function nothing in the project
calls (a library's public helper, one reached only through a dispatch table), whose callers cannot be
known. Its parameter may not be a module at all (parameters named like losses, metrics and callbacks,
`criterion`, `loss_fn`, `callback`, `hook`, and those whose default is a function or a number, are never
taken for models), and many code bases document the contract instead. Enable it with
`--extend-select TRP204`.
""",
)
RULES = [TRP201, TRP202, TRP203, TRP204]
