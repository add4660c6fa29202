"""TRP1xx: unseeded model construction, decided by the tracker's `unseeded_build` events."""

from __future__ import annotations

from ..diagnostics import Fix
from ._util import diagnostics, via_text
from .base import Expect, Rule


def _at(seen) -> str:
    """`line 12`, or `utils.py:12` for a call in another file."""
    return f"line {seen[0]}" if len(seen) == 2 else f"{seen[2]}:{seen[0]}"


def _tail(d: dict) -> str:
    parts = []
    if d.get("new_head"):
        parts.append(
            f"its classifier for `num_classes={d['new_head']}` is new: pretrained weights cannot fill it, "
            "it keeps its random init"
        )
    if d.get("overwritten_some_paths"):
        parts.append("its weights are restored on some paths only, the others keep the random init")
    elif d.get("nonstrict"):
        parts.append(
            "its weights are restored with `strict=False`: whatever the checkpoint lacks keeps the random init"
        )
    if d.get("via"):
        parts.append(f"reached from {via_text(d['via'], d.get('also_via', ()))}")
    if d.get("parent_seed"):
        # `mp.spawn(worker)` after a seed in main(): the worker is a new process, its generator unseeded
        parent = d["parent_seed"]
        parts.append(f"{parent[1]} ({_at(parent)}) seeds the parent process only: a spawned worker starts unseeded")
    if d.get("earlier_seed"):
        # torch is seeded before it on some paths: the seed that others skip, not the other libraries' seeds
        # beside it, is what the message is about
        earlier = d["earlier_seed"]
        parts.append(f"some paths to it miss {earlier[1]} ({_at(earlier)})")
    if d.get("later_seed"):
        later = d["later_seed"]
        runs = "runs" if str(later[1]).startswith("`import ") else "is called"  # a seeding import runs, not called
        parts.append(f"{later[1]} {runs} at {_at(later)}, after this construction")
    seen = d.get("other_seeds") or []
    others = [o for o in seen if not str(o[1]).startswith("?")] if not d.get("earlier_seed") else []
    if others:
        shown = others[:2]
        listed = " and ".join(f"{o[1]} ({_at(o)})" for o in shown)
        parts.append(f"{listed} {'does' if len(shown) == 1 else 'do'} not seed torch")
    unknown = [o for o in seen if str(o[1]).startswith("?")]
    if unknown:  # a call the analysis cannot read, named like a seeder: the user knows what it does
        o = unknown[0]
        parts.append(
            f"`{str(o[1])[1:]}` ({_at(o)}) is not known to seed torch: if it does, list it in `seed-functions`"
        )
    return ("; " + "; ".join(parts)) if parts else ""


def _check(seed: str, code: str):
    def message(d: dict) -> str | None:
        if d["seed"] != seed or d.get("look_only"):
            return None  # a model only looked at (a shape check, a parameter count) is TRP104's
        name = d["name"]
        if d.get("builds"):
            return _many(d, seed) + _tail(d)
        if seed == "no" and d.get("partly"):
            head = (
                f"`{name}` is built before torch is seeded: its random init, if it has one (whether it has could "
                "not be told), differs on every run"
            )
        elif seed == "no":
            head = f"`{name}` is built before torch is seeded: its random init differs on every run"
        elif seed == "maybe":
            head = f"`{name}` is built where torch is seeded on some paths only"
        else:
            head = (
                f"`{name}` is built with only the CUDA generator seeded: CPU parameter init stays random "
                f"(add torch.manual_seed)"
            )
        return head + _tail(d)

    return lambda facts: diagnostics(facts, "unseeded_build", code, message, fix=_seed_fix if seed != "maybe" else None)


def _built(d: dict) -> str:
    """`VGG (models/vgg.py:64), DenseNet (models/densenet.py:120) and 42 more`: the constructions one call
    reaches (see loads._finish_builds)."""
    count, first = d["builds"]
    listed = ", ".join(f"`{name}` ({path}:{line})" for name, path, line in first)
    return listed + (f" and {count - len(first)} more" if count > len(first) else "")


# how torch's generator stands where a model is built, by the event's `seed`
_HOW = {
    "no": "before torch is seeded",
    "maybe": "where torch is seeded on some paths only",
    "cuda": "with only the CUDA generator seeded",
}
_MANY_TAIL = {
    "no": ", their random init differs on every run",
    "cuda": ", CPU parameter init stays random (add torch.manual_seed)",
}


def _many(d: dict, seed: str) -> str:
    """The head of a report at a call that reaches several unseeded constructions in other files."""
    count = d["builds"][0]
    return f"`{d['name']}()` builds models {_HOW[seed]}: {count} constructions ({_built(d)}){_MANY_TAIL.get(seed, '')}"


def _seed_fix(d: dict) -> Fix | None:
    if d.get("via"):
        # built in a module another file's program reaches (`Runner(cfg)` -> runner.py): a seed inserted
        # there would run at import time, a side effect of importing it; the program's own file is the place
        return None
    return Fix("Seed torch before the first construction: `torch.manual_seed(<fix-seed>)`")


TRP101 = Rule(
    code="TRP101",
    name="unseeded-model",
    summary="model built before torch is seeded",
    verify=Expect.DIFFERS_ACROSS_PROCESSES,
    check=_check("no", "TRP101"),
    fix="unsafe",
    doc="""
## What it does
Reports the construction of a module with randomly initialised parameters (an `nn.Module` subclass
of your project, a `torch.nn` layer with parameters, a `torchvision.models` / `timm` builder without
pretrained weights, a `timm.create_model(..., pretrained=True, num_classes=10)` whose new classifier the
pretrained weights cannot fill, a `transformers` model built from a config, the adapter layers peft's
`get_peft_model` adds to a model, LoRA's drawn at random) when no torch seed has been set on any path of the
program that reaches it. A timm model given `checkpoint_path=` is restored from that file; adapters loaded
with `PeftModel.from_pretrained` are restored too.

A seed is `torch.manual_seed`, `torch.random.manual_seed`, Lightning's `seed_everything`,
`transformers.set_seed`, accelerate's `set_seed`, `ignite.utils.manual_seed`, `timm.utils.random_seed`,
OpenMMLab's `set_random_seed` (mmengine, mmcv, mmdet), detectron2's `seed_all_rng`, fastai's `set_seed`,
DeepSpeed's and Stable-Baselines3's `set_random_seed` (a CUDA-only seeder such as DeepSpeed's or Megatron's
`model_parallel_cuda_manual_seed` is TRP103's case), any function of your project that calls one of these
on every path (followed across files), importing a project module whose top level seeds, and the functions
listed in `seed-functions`.

## Why is this bad?
Parameters are drawn from torch's default CPU generator, which every new process seeds from the
operating system. Two runs of the same script start from different weights and end with different
models. The verifier confirms it: the bad fixtures' parameter digests differ between two fresh
processes; their fixed twins' are identical.

`random.seed` and `np.random.seed` do not seed torch; the message says so when they are present. A worker
started with `mp.spawn` or `multiprocessing.Process` is a new process: a seed in `main()` or the `__main__`
block stays in the parent, and the message of a model the worker builds names it (`torch.manual_seed (line 40)
seeds the parent process only: a spawned worker starts unseeded`).

## Known problems
- Reported once per construction, at the outermost expression (`nn.Sequential(nn.Linear(..), ..)`
  is one report); assignments inside an `nn.Module`'s `__init__` are never reported themselves:
  the instantiation of the class is. Plain torch layers a helper builds and returns, handed to a project
  model's constructor (SSD's `vgg(cfg)` returning a list of `nn.Conv2d` for `SSD(...)`), are reported with
  that model when no layer ran on its own first; the model is then reported even if its own layers draw
  nothing, as its parameters are those layers. A model the code builds in its own statement and hands in
  (`enc = Encoder(); Classifier(enc)`, `net = nn.Linear(4, 2); Sampler(net)`) keeps its own report.
- A function that no entry point reaches (a library's `build_model()`) is judged at its callers and
  is not reported when it has none. A construction reached through functions of other modules is found
  (a base class's constructor in another file that builds through `self._build_model()`, overridden by the
  subclass the program builds; a factory choosing among many classes, `get_network(args)`). One call of
  the program's file that reaches three or more constructions in other files (a factory's 44 classes, a
  builder of a whole GAN) is reported once, at that call, naming them: one missing seed, one place to add
  it. Fewer are reported where they are built, with the call that reached them. A layer a model's method
  takes from another model it built (`self.body = nn.Sequential(*list(vgg.features.children()))`,
  `self.top = vgg.classifier`) is the model's: a strict load of the model restores it. A class taken
  from a table by a name known only at run time and called (`model_dict[args.model]`, a module-level
  `_ARCHS[cfg.arch]` in another file) may be any of the table's; `getattr(models, "resnet101")` is `models.resnet101`.
- A module built under `with torch.device("meta"):` or accelerate's `init_empty_weights()` has no values
  and draws nothing from torch's generator: not reported (its storage comes later, from `to_empty()`).
- A model loaded strictly through a wrapper that holds it (`nn.DataParallel`, `AveragedModel`, whose
  `.module` is taken back) is restored. A project subclass of `nn.DataParallel` or DDP (sync-batchnorm's
  `DataParallelWithCallback`) is such a wrapper: building it draws nothing of its own.
- A factory function, a table of them (`model_dict = {"resnet8": resnet8}`) or a classmethod builder that a
  package's `__init__` re-exports is followed from a script that imports only the package
  (`from models import model_dict`, `models.UnetAdaptiveBins.build(...)`).
- A module whose constructor restores its weights (a checkpoint path, a pretrained builder, a project
  loader it hands the module to) is not reported. A loader that restores only under a condition on its
  own parameters (`def backbone(layers, pretrained): ... if pretrained: model.load_state_dict(...)`) restores
  nothing when the constructor passes it a literal that fails the condition (`Encoder(18, False)`); a value
  known only at run time is taken as restoring.
  A constructor that restores one part it builds (`backbone.load_state_dict(...)` after
  `backbone = Backbone()`, `self.body = restore(self.body, path)`) restores that part only: the layers built
  beside it (a new head) keep their random init and the module is reported.
- A copy filled from another model module by module (`for m0, m1 in zip(model.modules(),
  newmodel.modules()): m1.weight.data = m0.weight.data[idx]`, a pruned network) keeps the source's weights:
  only a random source is reported, at its construction. A `copy.deepcopy(model)` draws nothing.
- A construction whose weights are fully overwritten by a strict `load_state_dict` before any
  forward is not reported, nor is a module handed to a project module's constructor when a strict
  load restores the module that holds it (`model = Wrapper(backbone, head)`, then
  `model.load_state_dict(ckpt)`). Reading its parameters' names, shapes, dtypes, devices or element counts
  before the load (a converter lining them up with another framework's) is no use of the random
  values; printing them, computing with them or copying them elsewhere is.
- A module whose constructor overwrites every parameter of a layer it builds with values it is given
  (`self.fc.weight.data.copy_(w)` and `self.fc.bias.data.copy_(b)`, `.data = ...`, `nn.Parameter(...)`,
  `nn.init.zeros_`), unconditionally, keeps nothing random from that layer. One parameter left out (a
  bias), a random init (`nn.init.normal_`), a write under an `if`, or a layer whose parameters are not
  just a weight and a bias (an LSTM) keeps it random. The same holds for a layer a function builds and
  then gives every parameter before using it (`head = nn.Linear(1536, 1000)`,
  `head.weight.data = model.fc.weight.data[1:]`, `head.bias.data = model.fc.bias.data[1:]`): not
  reported when the new values are not drawn at random nor read from a layer that still holds its own
  random init; written on some paths only, it is reported as restored on some paths. A constructor that,
  after building its layers, gives every parameter fixed values in a loop over `self.parameters()` or
  `self.named_parameters()` (itself or in a method it calls: a fixed blur kernel) draws nothing random
  either; values drawn at random or computed from the parameters' own, a write under an `if`, or a layer
  built after the loop keep it random.
- A model whose random init reaches nothing anyone keeps is TRP104's (off by default): one only
  printed, shape-checked, counted or profiled (a model file's `if __name__ == "__main__":` smoke test),
  or built and dropped in the `__main__` block of a package module or of a module the project imports.
  Trained, saved, its output values used, or handed to code that may do any of these (also through the
  project's functions and their `return`s), it is reported here; so is a model built and dropped
  elsewhere (more often a use the analysis cannot see than a look).
- Unresolvable seeding helpers from libraries we cannot read are not recognised: list them in
  `seed-functions`.

## Fix safety
`torchlint-repro fix --unsafe-fixes` inserts `torch.manual_seed(<seed>)` before the first
construction: at the top of `main()` when the construction is in it, otherwise after the file's
imports (adding `import torch` when torch is not imported under that name). The seed is the
`fix-seed` option (default 0). Unsafe: the model's initial weights, and so the results, change. No
fix is offered for a construction reached from another file's program (a helper module's `build()`
called from `train.py`): a seed inserted there would run when the module is imported; seed the
program's own file instead.

## Options
- `seed-functions`
""",
)
TRP102 = Rule(
    code="TRP102",
    name="seeded-on-some-paths",
    summary="model built where torch is seeded on some paths only",
    verify=Expect.DIFFERS_ACROSS_PROCESSES,
    default_enabled=False,
    check=_check("maybe", "TRP102"),
    doc="""
## What it does
Reports a model construction that some paths reach with torch seeded and others without, e.g.
`if args.seed is not None: torch.manual_seed(args.seed)`, a seed inside a `try` that may fail, or a
seeding helper that returns early.

## Why is this bad?
The run is reproducible only when the seeding branch is taken. The verifier runs the bad fixture on
its unseeded path: two fresh processes give different parameters.

The message names the seed that some paths miss (`some paths to it miss torch.manual_seed (line 12)`:
a branch skips it, an exception jumps past it, a helper returns before seeding).

## Known problems
Off by default: an optional seed (`--seed` with no default) is often a deliberate choice. Enable it
with `--extend-select TRP102` or `extend-select = ["TRP102"]`.

## Options
- `seed-functions`
""",
)
TRP103 = Rule(
    code="TRP103",
    name="cuda-only-seed",
    summary="only the CUDA generator is seeded before a CPU model is built",
    verify=Expect.DIFFERS_ACROSS_PROCESSES,
    check=_check("cuda", "TRP103"),
    fix="unsafe",
    doc="""
## What it does
Reports a model construction where `torch.cuda.manual_seed` / `torch.cuda.manual_seed_all` was
called but no CPU seed (`torch.manual_seed`).

## Why is this bad?
Modules are built on the CPU and initialised from the CPU generator; seeding the CUDA generators
leaves that one random (on a machine without a GPU the CUDA seed does nothing at all). The verifier
shows two fresh runs of the bad fixture giving different parameters.

## Known problems
A model built directly on a CUDA device (`device="cuda"`) does draw from the CUDA generator; such
constructions are still reported, because the CPU generator usually seeds something else too.

## Fix safety
`torchlint-repro fix --unsafe-fixes` inserts `torch.manual_seed(<seed>)` before the first
construction: at the top of `main()` when the construction is in it, otherwise after the file's
imports (adding `import torch` when torch is not imported under that name). The seed is the
`fix-seed` option (default 0). Unsafe: the model's initial weights, and so the results, change. No
fix is offered for a construction reached from another file's program (a helper module's `build()`
called from `train.py`): a seed inserted there would run when the module is imported; seed the
program's own file instead.

## Options
- `seed-functions`
""",
)


def _look_only_message(d: dict) -> str | None:
    if not d.get("look_only") or d["seed"] not in ("no", "maybe", "cuda"):
        return None
    how = _HOW[d["seed"]]
    what = (
        f"`{d['name']}` is built {how}" if not d.get("builds") else f"`{d['name']}()` builds models {how} ({_built(d)})"
    )
    head = f"{what}, only to be looked at (its shape, parameters or profile): nothing it computes is kept"
    return head + _tail(d)


TRP104 = Rule(
    code="TRP104",
    name="unseeded-look-only-model",
    summary="model built unseeded only to be looked at (shape check, parameter count, profile)",
    verify=Expect.DIFFERS_ACROSS_PROCESSES,
    default_enabled=False,
    check=lambda facts: diagnostics(facts, "unseeded_build", "TRP104", _look_only_message),
    doc="""
## What it does
Reports what TRP101, TRP102 and TRP103 leave out: a model built unseeded whose random init reaches no
result anyone keeps. Every read of it is a look: its architecture printed, an output's shape or dtype
checked (each element of a list of outputs too: `for f in out: print(f.shape)`), its parameters counted,
a summary or profile taken (torchinfo/torchsummary `summary`, thop `profile`, fvcore, ptflops), its graph
drawn (hiddenlayer `build_graph`, torchviz `make_dot`, torchview `draw_graph`, TensorBoard's `add_graph`),
a move or mode switch (`.to(device)`, `.eval()`). A library module's
`if __name__ == "__main__":` smoke test and a tutorial's "look at the network" cell are the usual cases.

The model is followed through the names it is bound to (every read in its function, or in its whole
module for a module-level name), through project functions it is handed to (their parameter read the
same way) and through `return`s to the call sites of the program that reached it. An output is followed
through arithmetic and reshaping (`(tok(ids) + pos(p)).shape` is a look at a shape), a read of its name
before it is bound (outside a loop) is no read of it (`x = net(x); print(x.shape)`), and a submodule's
parameters count like the model's (`sum(p.numel() for p in block.ff.parameters())`). Anything else keeps
it, and the construction is TRP101's: an optimizer or a backward, a save, a forward whose output is used
for its values (printed, compared, fed to a loss), a container or attribute, a call the analysis cannot
read, a module-level model another module of the project imports.

A model built and dropped, or a forward whose output nobody reads, is no evidence of a look (more often it
is a use the analysis cannot see): TRP101's. The exception is the `__main__` block of a package module or
of a module the project imports, where building or running the model and reading nothing is the library's
"does it build" or "does it run" check.

## Why is this bad?
Mostly it is not: the printed shapes and counts are the same whatever the weights. It is here for a
team that wants every construction seeded (a printed sample of the weights differs between runs), and
so that turning it off hides nothing that reaches a result: those constructions are TRP101.

## Known problems
Off by default: a smoke test nobody acts on is noise in a report about results. Enable it with
`extend-select = ["TRP104"]` to seed every construction.

## Options
- `seed-functions`
""",
)
RULES = [TRP101, TRP102, TRP103, TRP104]
