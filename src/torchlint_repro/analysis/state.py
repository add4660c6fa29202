"""The abstract state at one point of the program, and how two states join.

seed: "no" | "maybe" | "yes" | "unknown" (unknown: a library function entered from callers we do
not see — never reported). grad: "on" | "off" | "maybe". Models' modes are sets of TRAIN / EVAL /
UNKNOWN / ENTRY: a set with two members is "maybe". Variables map to sets of abstract values.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from .values import ENTRY, EVAL, TRAIN, UNKNOWN, join_values

NO_ATTRS: Mapping = MappingProxyType({})

# the names bound to something the analysis tracks (a non-empty set of values), recorded while a walk runs
# (Walker.run pushes its set): an edit that adds a statement reading none of them cannot meet a tracked value
# there (see edits.py's quiet statements)
_BOUND: list[set[str]] = []


def note_bound(names: Mapping[str, frozenset]) -> None:
    """Record the names of ``names`` bound to something tracked (a frame's parameters, bound at once)."""
    if _BOUND:
        _BOUND[-1].update(k for k, v in names.items() if v)


class recording_bound:  # noqa: N801 (a context manager, named as the use reads)
    """Record into ``into`` the names bound to tracked values while the block runs; a walk inside another
    (a summary's) adds its names to the outer walk's too."""

    def __init__(self, into: set[str]) -> None:
        self.into = into

    def __enter__(self) -> set[str]:
        _BOUND.append(self.into)
        return self.into

    def __exit__(self, *exc: object) -> None:
        _BOUND.pop()
        if _BOUND:
            _BOUND[-1].update(self.into)


def join_seed(a: str, b: str) -> str:
    if a == b:
        return a
    if "unknown" in (a, b):
        return "unknown"
    return "maybe"


def join_flag(a: str, b: str, maybe: str = "maybe") -> str:
    return a if a == b else maybe


class State:
    __slots__ = (
        "seed",
        "cuda",
        "grad",
        "locals",
        "globals",
        "modes",
        "mode_src",
        "pending",
        "attrs",
        "global_names",
        "saved",
    )

    def __init__(self) -> None:
        self.seed = "no"
        self.cuda = "no"
        self.grad = "on"
        self.locals: dict[str, frozenset] = {}
        self.globals: dict[str, frozenset] = {}
        self.modes: dict[str, frozenset] = {}
        self.mode_src: dict[str, frozenset] = {}
        self.pending: dict[str, frozenset] = {}  # construction site -> {"fresh", "used", "cleared"}
        # read-only: a write replaces the map (with_attrs), so copies of a state share it (a program's
        # objects hold hundreds of attributes; its states are copied at every branch and call)
        self.attrs: Mapping[tuple[str, str], frozenset] = NO_ATTRS
        self.global_names: frozenset = frozenset()
        self.saved: dict[str, frozenset] = {}  # path template -> what this program last saved there

    def copy(self) -> State:
        s = State.__new__(State)
        s.seed, s.cuda, s.grad = self.seed, self.cuda, self.grad
        s.locals = dict(self.locals)
        s.globals = s.locals if self.globals is self.locals else dict(self.globals)
        s.modes = dict(self.modes)
        s.mode_src = dict(self.mode_src)
        s.pending = dict(self.pending)
        s.attrs = self.attrs
        s.global_names = self.global_names
        s.saved = dict(self.saved)
        return s

    def with_attrs(self, written: Mapping[tuple[str, str], frozenset]) -> None:
        """``written`` (object id, attribute) -> values bound, over what the attributes held."""
        if written:
            self.attrs = MappingProxyType({**self.attrs, **written})

    def key(self, with_locals: bool = True) -> tuple:
        """Everything a join can change, for fixpoint detection and the inline memo: equal keys, equal states.
        Without ``with_locals``: all but a function's own variables (module level: its globals are them)."""
        return (
            self.seed,
            self.cuda,
            self.grad,
            _map_key(self.locals) if with_locals or self.locals is self.globals else (),
            _map_key(self.globals) if self.globals is not self.locals else (),
            _map_key(self.modes),
            _map_key(self.pending),
            _map_key(self.attrs),
            _map_key(self.saved),
        )

    # ------------------------------------------------------------------ lookups
    def lookup(self, name: str) -> frozenset | None:
        if name in self.locals:
            return self.locals[name]
        return self.globals.get(name)

    def bind(self, name: str, values: frozenset) -> None:
        if values and _BOUND:
            _BOUND[-1].add(name)
        if name in self.global_names:
            self.globals[name] = values
        else:
            self.locals[name] = values

    def mode(self, model_id: str) -> frozenset:
        return self.modes.get(model_id, frozenset({UNKNOWN}))


def _map_key(d: Mapping) -> tuple:
    """A map as its names in order and their values in that order: equal exactly when the maps are, and
    two tuples of references instead of a tuple per item (the inline memo keeps one key per call it walked)."""
    names = sorted(d)
    return tuple(names), tuple(map(d.__getitem__, names))


def join(a: State | None, b: State | None) -> State | None:
    if a is None:
        return b.copy() if b is not None else None
    if b is None:
        return a.copy()
    s = a.copy()
    s.seed = join_seed(a.seed, b.seed)
    s.cuda = join_flag(a.cuda, b.cuda)
    s.grad = join_flag(a.grad, b.grad)
    _join_map(s.locals, b.locals)
    if s.globals is not s.locals:
        _join_map(s.globals, b.globals)
    _union_map(s.modes, b.modes)
    _union_map(s.mode_src, b.mode_src)
    _union_map(s.pending, b.pending)
    if s.attrs is not b.attrs and s.attrs != b.attrs:
        joined = dict(s.attrs)
        _join_map(joined, b.attrs)
        s.attrs = MappingProxyType(joined)
    _join_map(s.saved, b.saved)
    return s


def _join_map(into: dict, other: Mapping) -> None:
    if into == other:  # the common case (an attribute map neither branch touched), compared in C: nothing to join
        return
    for k, v in other.items():
        cur = into.get(k)
        if cur is None:
            into[k] = v
        elif cur is not v:  # (the two paths mostly share a copied state's values: joining a set with itself is it)
            into[k] = join_values(cur, v)


def _union_map(into: dict, other: dict) -> None:
    """Each set of ``into`` united with ``other``'s under the same key; a set that already holds the other's
    members stays the same object (a join of two copies of one state allocates nothing)."""
    if into == other:
        return
    for k, v in other.items():
        cur = into.get(k)
        if cur is None:
            into[k] = v
        elif cur is not v and not v <= cur:
            into[k] = cur | v


def join_all(states) -> State | None:
    out = None
    for st in states:
        if st is not None:
            out = join(out, st) if out is not None else st.copy()
    return out


def become(st: State, other: State | None) -> None:
    """Make ``st`` (a state others hold) equal to ``other``, in place."""
    if other is None:
        return
    at_module = st.locals is st.globals
    for name in State.__slots__:
        setattr(st, name, getattr(other, name))
    if at_module:
        st.globals = st.locals


def leave_no_grad_region(st: State | None) -> None:
    """Leaving a no_grad region: a `.train()` made inside it (batch-norm recalibration while in it) is, from
    here on, a plain `.train()` that left the model in training mode (`estimate_loss()` restoring it)."""
    if st is None:
        return
    for mid, srcs in st.mode_src.items():
        if any(k == "train_under_no_grad" for k, *_ in srcs):
            st.mode_src[mid] = frozenset(("train" if k == "train_under_no_grad" else k, *at) for k, *at in srcs)


__all__ = ["State", "join", "join_all", "become", "leave_no_grad_region", "TRAIN", "EVAL", "UNKNOWN", "ENTRY"]
