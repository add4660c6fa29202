"""The runtime criteria: one small function per contrast a rule claims (``Rule.verify``).

Each criterion reads the observations of a fixture's runs and says whether the hazard *happened*:

* ``Finding.misbehaves is True``  — torch showed the hazard (what a bad fixture must do);
* ``Finding.misbehaves is False`` — torch showed the behaviour the rule protects (a good fixture);
* ``Finding.misbehaves is None``  — nothing to judge (no model, no inference forward, no load ...).

A *run* is one execution of a fixture in a fresh temporary directory: a list of observation
documents, one per script (see ``harness.py``), each with the documents of the processes it started
under ``"children"``. Criteria are pure functions of these dicts: no torch, easy to unit-test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from ..rules.base import Expect

Run = list  # list[dict]: one observation document per script


@dataclass
class Finding:
    misbehaves: bool | None
    summary: str
    evidence: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Criterion:
    expect: Expect
    runs: int  # fresh runs the criterion needs
    judge: Callable[[list[Run]], Finding]
    bad: str  # what a bad fixture must show, for "expected ..." reasons
    good: str
    handles_exceptions: bool = False  # the program raising is part of what the criterion judges


# --------------------------------------------------------------------------- reading observations
def processes(run: Run) -> Iterator[dict]:
    """Every process of a run: each script's main process, then the processes it started."""
    for doc in run:
        yield doc
        yield from doc.get("children") or []


def models(run: Run) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for doc in processes(run):
        for m in doc.get("models") or []:
            out.setdefault(m["key"], m)
    return out


def forwards(run: Run) -> list[dict]:
    return [f for doc in processes(run) for f in doc.get("forwards") or []]


def exceptions(run: Run) -> list[dict]:
    return [doc["exception"] for doc in processes(run) if doc.get("exception")]


def describe_model(key: str) -> str:
    """``Net@train.py:12#1`` -> ``Net (train.py:12, 2nd)``."""
    cls, _, site = key.partition("@")
    site, _, n = site.partition("#")
    nth = f", construction {int(n) + 1}" if n else ""
    return f"{cls} ({site}{nth})" if site and site != "?" else cls


def describe_exception(exc: dict) -> str:
    where = f" at {exc['where']}" if exc.get("where") else ""
    msg = " ".join(str(exc.get("message", "")).split())
    if len(msg) > 160:
        msg = msg[:157] + "..."
    return f"{exc['type']}{where}: {msg}" if msg else f"{exc['type']}{where}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _diff(f: dict) -> str:
    d = f.get("max_abs_diff")
    return f" (max |diff| {d:.3g})" if isinstance(d, (int, float)) and d else ""


def _region(f: dict) -> str:
    if f.get("kind"):  # an export: its trace is the forward
        return f"traced by {f['kind']}"
    if f.get("inference_mode"):
        return "under inference_mode"
    if not f.get("grad"):
        return "under no_grad"
    return "with grad enabled and no backward"


# --------------------------------------------------------------------------- seeding
def differs_across_processes(runs: list[Run]) -> Finding:
    """Seeding (TRP1xx): build the same program twice in fresh processes and compare each model's
    parameter digest (taken at its first forward, optimizer step or save, else at exit). A model is
    named by its class and construction site, which is the same in both runs.

    Bad: some model's parameters differ between the two runs. Good: every model's are identical.
    """
    if len(runs) < 2:
        return Finding(None, "needs two runs")
    first, second = models(runs[0]), models(runs[1])
    common = [k for k in first if k in second and first[k].get("param_digest") and second[k].get("param_digest")]
    only = sorted(set(first) ^ set(second))
    evidence = [f"model only in one run: {describe_model(k)}" for k in only]
    if not common:
        return Finding(None, "no model with parameters was observed", evidence)
    differing = [k for k in common if first[k]["param_digest"] != second[k]["param_digest"]]
    if differing:
        names = ", ".join(describe_model(k) for k in differing[:3])
        at = first[differing[0]].get("digest_at") or "first use"
        more = f" and {len(differing) - 3} more" if len(differing) > 3 else ""
        return Finding(True, f"{names}{more}: parameters differ between 2 fresh runs (at {at})", evidence)
    names = ", ".join(describe_model(k) for k in common[:3])
    more = f" and {len(common) - 3} more" if len(common) > 3 else ""
    return Finding(False, f"{names}{more}: parameters identical in 2 fresh runs", evidence)


# --------------------------------------------------------------------------- eval mode
def is_training_forward(f: dict) -> bool:
    """Grad enabled, and an optimizer step on its model followed, or a backward pass reached its output
    and the model has parameters that take gradients (through a frozen feature extractor, a backward
    trains the models before it, not this one)."""
    return bool(f.get("grad")) and bool(f.get("step_after") or (f.get("backward") and f.get("trainable", True)))


def is_inference_forward(f: dict) -> bool:
    """Grad disabled (no_grad / inference_mode), or grad enabled but never trained on."""
    return not is_training_forward(f)


def feeds_training(doc: dict) -> set[int]:
    """Indices of the forwards of one process whose output became the input of a training forward (or of
    a forward that did, and so on): a GAN's fake batch drawn under ``no_grad`` for the discriminator's
    step is part of training, whatever the generator's mode."""
    fs = doc.get("forwards") or []
    by_index = {f["index"]: f for f in fs if isinstance(f.get("index"), int)}
    todo = [i for f in fs if is_training_forward(f) for i in f.get("fed_by") or []]
    seen: set[int] = set()
    while todo:
        i = todo.pop()
        if i in seen or i not in by_index:
            continue
        seen.add(i)
        todo.extend(by_index[i].get("fed_by") or [])
    return seen


def inference_forwards(run: Run) -> tuple[list[dict], int]:
    """The inference forwards of a run (neither trained on nor feeding a training forward), and how many
    untrained forwards were left out because they fed one."""
    out: list[dict] = []
    left_out = 0
    for doc in processes(run):
        feeding = feeds_training(doc)
        for f in doc.get("forwards") or []:
            if not is_inference_forward(f):
                continue
            if f.get("index") in feeding:
                left_out += 1
            else:
                out.append(f)
    return out, left_out


def _mode_dependent(f: dict) -> bool:
    """The forward would compute something else in the other mode (counterfactual), or, where the
    counterfactual was not computed, the model contains dropout / batch-norm layers."""
    if f.get("mode_sensitive") is not None:
        return bool(f["mode_sensitive"])
    return bool(f.get("mode_layers"))


def differs_from_eval(runs: list[Run]) -> Finding:
    """Eval mode (TRP201/202/204): look at every top-level inference forward (grad disabled, or
    grad enabled with no backward/step through its output; not one whose output a training forward
    took as its input, as a GAN's discriminator takes the fake batch).

    Bad: one ran with ``training=True`` in a model whose output depends on the mode, and its output
    differs from the eval-mode output of the same module on the same input, or from a rerun (dropout).
    Good: every inference forward is stable and equal to the eval-mode output.
    """
    fs, feeding = inference_forwards(runs[0])
    fed = [f"{_plural(feeding, 'untrained forward')} whose output a training forward took as input: not judged"]
    fed = fed if feeding else []
    if not fs:
        return Finding(None, "no inference forward was observed", fed)
    bad = [f for f in fs if f.get("training") and (_mode_dependent(f) or f.get("stable") is False)]
    if bad:
        f = bad[0]
        what = []
        output = "the exported program's output" if f.get("kind") else "output"
        if f.get("eval_equal") is False:
            what.append(f"{output} differs from eval-mode output")
        if f.get("stable") is False:
            what.append("differs between calls on the same input")
        if not what:
            what.append(
                f"{f.get('mode_layers')} mode-dependent layer(s) in training mode (counterfactual not computed)"
            )
        where = f" at {f['where']}" if f.get("where") else ""
        used = "" if f.get("kind") else "forward "  # (an export says what traced it)
        return Finding(
            True,
            f"{describe_model(f['model'])}{where}: {used}{_region(f)} with training=True; "
            f"{' and '.join(what)}{_diff(f)}",
            [f"{_plural(len(bad), 'inference forward')} of {len(fs)} in training mode and mode-dependent", *fed],
        )
    unstable = [f for f in fs if f.get("stable") is False]
    if unstable:
        f = unstable[0]
        return Finding(
            None,
            f"{describe_model(f['model'])}: output unstable even in eval mode "
            "(randomness in forward, not a mode problem)",
        )
    in_train = [f for f in fs if f.get("training")]
    models_seen = sorted({f["model"] for f in fs})
    names = ", ".join(describe_model(k) for k in models_seen[:2])
    if in_train:
        return Finding(
            False,
            f"{names}: {_plural(len(fs), 'inference forward')}, "
            f"{len(in_train)} in training mode but mode-independent; outputs equal to eval mode",
            fed,
        )
    return Finding(
        False, f"{names}: {_plural(len(fs), 'inference forward')} in eval mode, stable, equal to eval output", fed
    )


def trains_in_eval_mode(runs: list[Run]) -> Finding:
    """Training in eval mode (TRP203): look at every training forward (grad enabled, then a backward
    pass through its output or an optimizer step on its parameters).

    Bad: one ran with ``training=False`` on a model whose output depends on the mode (dropout or
    batch norm silently off while the weights are updated). Good: every training forward ran in
    training mode (or on a mode-independent model).
    """
    fs = [f for f in forwards(runs[0]) if is_training_forward(f)]
    if not fs:
        return Finding(None, "no training forward (grad enabled, then backward or optimizer step) was observed")
    bad = [f for f in fs if not f.get("training") and _mode_dependent(f)]
    if bad:
        f = bad[0]
        where = f" at {f['where']}" if f.get("where") else ""
        layers = f.get("mode_layers") or 0
        return Finding(
            True,
            f"{describe_model(f['model'])}{where}: training forward with training=False "
            f"({layers} mode-dependent layer(s) in eval mode; train-mode output would differ{_diff(f)})",
            [f"{_plural(len(bad), 'training forward')} of {len(fs)} in eval mode"],
        )
    models_seen = sorted({f["model"] for f in fs})
    names = ", ".join(describe_model(k) for k in models_seen[:2])
    return Finding(False, f"{names}: {_plural(len(fs), 'training forward')}, all in training mode")


# --------------------------------------------------------------------------- weight loading
LOAD_EXCEPTIONS = ("TypeError", "AttributeError", "RuntimeError", "KeyError", "UnpicklingError")


def _article(word: str) -> str:
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def _keys(keys: list, n: int = 3) -> str:
    shown = ", ".join(keys[:n])
    return shown + (f", ... ({len(keys)})" if len(keys) > n else "")


def load_incompatible(runs: list[Run]) -> Finding:
    """Weight loading (TRP3xx): look at every ``load_state_dict``, every ``torch.load`` and how the
    program ended.

    Bad: a load raised (the message is kept), the program later failed with a TypeError /
    AttributeError / RuntimeError / KeyError (a load result or a state dict used as a model), a load
    returned missing or unexpected keys (``strict=False``, prefixed keys), or the loaded model holds
    none of the saved tensors or does not reproduce the saved model's output.
    Good: at least one load, every load clean (no error, no missing or unexpected keys) and the
    loaded model reproduces the saved model's output (when that model ran before it was saved).
    """
    run = runs[0]
    evidence: list[str] = []
    problems: list[str] = []
    loads = [ld for doc in processes(run) for ld in doc.get("loads") or []]
    tloads = [ld for doc in processes(run) for ld in doc.get("torch_loads") or []]
    for ld in tloads:
        if ld.get("error"):
            problems.append(f"torch.load at {ld.get('where')} raised {describe_exception(ld['error'])}")
    for ld in loads:
        where = f" at {ld['where']}" if ld.get("where") else ""
        recv = ld.get("receiver")
        if ld.get("error"):
            who = (
                f"load_state_dict without a model instance (self was {_article(recv)}){where}"
                if ld.get("receiver_is_module") is False
                else f"load_state_dict on {recv}{where}"
            )
            problems.append(f"{who} raised {describe_exception(ld['error'])}")
            continue
        if ld.get("missing") or ld.get("unexpected"):
            parts = []
            if ld.get("missing"):
                parts.append(f"missing keys {_keys(ld['missing'])}")
            if ld.get("unexpected"):
                parts.append(f"unexpected keys {_keys(ld['unexpected'])}")
            problems.append(f"load into {recv}{where} (strict={ld.get('strict')}) returned {' and '.join(parts)}")
            continue
        if ld.get("matches_saved") is False:
            problems.append(f"{recv} loaded{where} holds none of the saved models' tensors")
        elif ld.get("reproduces") is False:
            why = ld.get("reproduce_error") or f"max |diff| {ld.get('reproduce_max_abs_diff')}"
            problems.append(f"{recv} loaded{where} does not reproduce the saved model's output ({why})")
    excs = exceptions(run)
    for exc in excs:
        if exc.get("type") in LOAD_EXCEPTIONS:
            problems.append(f"the program raised {describe_exception(exc)}")
        else:
            evidence.append(f"the program raised {describe_exception(exc)}")
    if problems:
        return Finding(True, problems[0], problems[1:] + evidence)
    if excs:
        return Finding(None, f"the program raised {describe_exception(excs[0])} (not a load failure)", evidence)
    if not loads:
        return Finding(None, "no load_state_dict or whole-model torch.load was observed", evidence)
    good = []
    for ld in loads:
        where = f" at {ld['where']}" if ld.get("where") else ""
        if ld.get("reproduces"):
            good.append(
                f"{ld.get('receiver')} loaded{where}: no missing/unexpected keys, "
                f"reproduces the saved output of {describe_model(ld.get('source', '?'))}"
            )
        elif ld.get("matches_saved"):
            good.append(
                f"{ld.get('receiver')} loaded{where}: no missing/unexpected keys, "
                f"holds the tensors of {describe_model(ld.get('source', '?'))}"
            )
        else:
            good.append(f"{ld.get('receiver')} loaded{where}: no missing/unexpected keys")
    return Finding(False, good[0] + (f" (+{len(good) - 1} more loads)" if len(good) > 1 else ""), good[1:])


def load_mismatch_silent(runs: list[Run]) -> Finding:
    """A fixed TRP305 (``verify --fixed``): the keys a non-strict load dropped must be reported.

    Bad: a ``strict=False`` load returned missing or unexpected keys and the process neither showed a
    warning after it nor raised. Good: at least one such load, and every one was followed by a
    warning or an exception (a clean load has nothing to report and is not counted)."""
    run = runs[0]
    problems: list[str] = []
    reported: list[str] = []
    for doc in processes(run):
        warned = [w.get("after_loads", 0) for w in doc.get("warnings") or []]
        for i, ld in enumerate(doc.get("loads") or []):
            if ld.get("strict") is not False or not (ld.get("missing") or ld.get("unexpected")):
                continue
            where = f" at {ld['where']}" if ld.get("where") else ""
            what = f"load into {ld.get('receiver')}{where} (strict=False) dropped keys"
            if any(n > i for n in warned):
                reported.append(f"{what}; the program warned about them")
            elif doc.get("exception"):
                reported.append(f"{what}; the program raised {describe_exception(doc['exception'])}")
            else:
                problems.append(f"{what} without a warning or an error")
    if problems:
        return Finding(True, problems[0], problems[1:])
    if not reported:
        return Finding(None, "no strict=False load that dropped keys was observed")
    return Finding(False, reported[0], reported[1:])


# --------------------------------------------------------------------------- registry
CRITERIA: dict[Expect, Criterion] = {
    Expect.DIFFERS_ACROSS_PROCESSES: Criterion(
        Expect.DIFFERS_ACROSS_PROCESSES,
        2,
        differs_across_processes,
        bad="parameters that differ between two fresh runs",
        good="identical parameters in two fresh runs",
    ),
    Expect.DIFFERS_FROM_EVAL: Criterion(
        Expect.DIFFERS_FROM_EVAL,
        1,
        differs_from_eval,
        bad="an inference forward in training mode whose output differs from eval mode",
        good="inference forwards that are stable and equal to eval-mode output",
    ),
    Expect.TRAINS_IN_EVAL_MODE: Criterion(
        Expect.TRAINS_IN_EVAL_MODE,
        1,
        trains_in_eval_mode,
        bad="a training forward with mode-dependent layers in eval mode",
        good="training forwards in training mode",
    ),
    Expect.LOAD_INCOMPATIBLE: Criterion(
        Expect.LOAD_INCOMPATIBLE,
        1,
        load_incompatible,
        bad="a load that raises or leaves parameters unloaded",
        good="a clean load that reproduces the saved model",
        handles_exceptions=True,
    ),
    Expect.LOAD_MISMATCH_SILENT: Criterion(
        Expect.LOAD_MISMATCH_SILENT,
        1,
        load_mismatch_silent,
        bad="a strict=False load that drops keys without a word",
        good="every key a strict=False load dropped reported by a warning or an error",
        handles_exceptions=True,
    ),
}


def criterion_for(expect: Expect) -> Criterion | None:
    return CRITERIA.get(expect)


def judge(expect: Expect | None, runs: list[Run]) -> Finding:
    """Apply the criterion of ``expect``; an unexpected exception in the program is a finding of its own."""
    crit = CRITERIA.get(expect) if expect is not None else None
    if crit is None:
        return Finding(None, "not runtime-verifiable")
    if not crit.handles_exceptions:
        for run in runs:
            excs = exceptions(run)
            if excs:
                return Finding(None, f"the program raised {describe_exception(excs[0])}")
    return crit.judge(runs)


def all_findings(runs: list[Run]) -> Iterable[tuple[Expect, Finding]]:
    """Every criterion on one set of runs (the ``--script`` mode: which hazards did this program show?)."""
    for expect, crit in CRITERIA.items():
        if len(runs) >= crit.runs:
            yield expect, judge(expect, runs)
