"""Abstract values the tracker computes for expressions. All immutable records: states share them freely."""

from __future__ import annotations

import re

from .._record import Record

_DIGITS = re.compile(r"(\d+)")


def in_order(value: object) -> tuple:
    """A key that orders values (by their text) with the numbers in it compared as numbers: ids and sites
    hold lines (`train.py:9:4`), and an edit that moves lines keeps their order (`:9:` before `:12:`, as
    `:10:` before `:13:` once a line is typed above both; as text, `:12:` came first and `:10:` after)."""
    parts = _DIGITS.split(value if isinstance(value, str) else repr(value))
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts))


# model modes: what `.training` may be at a point of the program
TRAIN, EVAL, UNKNOWN, ENTRY = "train", "eval", "unknown", "entry"


class Model(Record):
    """A module object, identified by where it was made (its allocation site)."""

    id: str
    cls: str | None = None  # qualified class name, when known
    args: tuple = ()  # constructor arguments as (key, literal-or-name) pairs, for TRP307
    wrapped: bool = False  # seen through DataParallel / DistributedDataParallel (keys get "module.")
    origin: str = "built"  # built | pretrained | loaded | param | unknown
    mode_dep: str = "maybe"  # does eval() matter: yes | no | maybe
    name: str = "model"  # how the program first called it, for messages
    lightning: bool = False
    # the wrapper's class when known (`DataParallel`, `DistributedDataParallel`, `AveragedModel`): an
    # `isinstance(model, nn.DataParallel)` test is decided by it; "" for a subclass or a preparer's wrapper
    wrapper: str = ""
    # a submodule of the model ``id`` (`self.net` of a wrapper module): its attribute path. It runs in its
    # holder's mode unless `.eval()`/`.train()` was called on it (see ``mode_key``)
    part: str = ""

    def unwrapped(self) -> Model:
        return Model(
            self.id, self.cls, self.args, False, self.origin, self.mode_dep, self.name, self.lightning, "", self.part
        )

    def as_wrapped(self, wrapper: str = "") -> Model:
        return Model(
            self.id,
            self.cls,
            self.args,
            True,
            self.origin,
            self.mode_dep,
            self.name,
            self.lightning,
            wrapper,
            self.part,
        )

    @property
    def mode_key(self) -> str:
        """Where a state keeps the mode set on this value: its own id, or ``id/part`` for a submodule."""
        return f"{self.id}/{self.part}" if self.part else self.id


class ClassRef(Record):
    qualname: str
    module_class: bool = False  # an nn.Module subclass or a torch.nn layer


class FuncRef(Record):
    qualname: str
    local: str | None = None  # name of a def in the file being walked
    builder: bool = False  # torchvision.models.resnet18, timm.create_model


class Instance(Record):
    """An object of a user class that is not a module (a Trainer, a Predictor)."""

    id: str
    cls: str


class StateDict(Record):
    model_id: str
    cls: str | None
    args: tuple
    prefixed: bool
    stripped: bool = False

    def strip(self) -> StateDict:
        return StateDict(self.model_id, self.cls, self.args, False, True)


class DictVal(Record):
    entries: tuple = ()  # ((key, frozenset(values)), ...)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.entries)


class Loaded(Record):
    """What torch.load returned: a state_dict, a checkpoint dict or a whole module — to be decided."""

    site: str
    path: str | None
    line: int
    col: int
    weights_only: bool | None = None
    stripped: bool = False
    saved: frozenset = frozenset()  # what this program saved to the path before loading it (JSON records)

    def strip(self) -> Loaded:
        return Loaded(self.site, self.path, self.line, self.col, self.weights_only, True, self.saved)


class LoadedItem(Record):
    loaded: Loaded
    key: object  # the key of `sd.get(key)`/`sd[key]`: any constant (a str mostly), None when unknown
    stripped: bool = False

    def strip(self) -> LoadedItem:
        return LoadedItem(self.loaded, self.key, True)


class LoadResult(Record):
    site: str
    line: int
    col: int
    strict: bool | None
    reported: bool = False  # TRP302 already said at the assignment


class LoadKeys(Record):
    """A name a non-strict load's result was unpacked into (`missing, unexpected = m.load_state_dict(...)`):
    reading it reads the result."""

    site: str


class Out(Record):
    """A forward's output, and anything computed from it (a loss): the taint behind TRP203."""

    # {(model_id, path, line, col, modes, name, mode sources, mode_dep, grad on)}
    forwards: frozenset = frozenset()


class Str(Record):
    template: str


class Optimizer(Record):
    model_ids: frozenset = frozenset()


class TupleVal(Record):
    items: tuple = ()  # (frozenset(values), ...)


class Volatile(Record):
    """``Variable(x, volatile=True)``: legacy PyTorch's no_grad. A forward on it was meant as inference."""


class ModuleRef(Record):
    """A module obtained at run time from a name we know (`importlib.import_module(args.net)` with the
    argparse default 'pointnet2_msg'): its attributes are that module's definitions."""

    qualname: str


class LitStr(Str):
    """The one string a name holds in one iteration of a loop over literals (`for phase in ('train',
    'val'):` walked once per element): a comparison with it is decided, where a plain Str (an argparse
    or parameter default) only says what the value may be."""


class Lit(Record):
    """A bool, number or None the code spells (`iteration(epoch, loader, train=False)`), carried into the
    callee so that `if train:` is decided there."""

    value: object


class Opaque(Record):
    """A value we know nothing of, joined with a literal (`x = None` on one path, `x = f()` on the other):
    kept so that the join is not mistaken for the literal alone (an empty set means unknown, and the
    union of unknown with `None` would otherwise read as exactly `None`)."""


OPAQUE = Opaque()


def join_values(a: frozenset, b: frozenset) -> frozenset:
    """The values a name may hold after a join of two paths (or either branch of `a if c else b`). A side
    that already holds every value of the other is the answer itself (no new set)."""
    if a and b:
        if b <= a:
            return a
        if a <= b:
            return b
        return a | b
    out = a | b
    if (not a or not b) and out and any(isinstance(v, (Lit, LitStr)) for v in out):
        out = out | {OPAQUE}
    return out
