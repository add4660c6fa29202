"""The immutable records of _record.py behave as the frozen dataclasses they replace (analysis/values.py,
edits.Unit, rules.Rule): construction, equality, hashing, repr, immutability, pickling."""

from __future__ import annotations

import pickle
from dataclasses import FrozenInstanceError, dataclass

import pytest

from torchlint_repro._record import Record
from torchlint_repro.analysis.values import OPAQUE, Lit, LitStr, Model, ModuleRef, Opaque, Out, Str


class Point(Record):
    x: int
    y: int = 0
    label: str = "p"


@dataclass(frozen=True)
class PointDC:
    x: int
    y: int = 0
    label: str = "p"


def test_construction_by_position_keyword_and_default() -> None:
    p = Point(1, label="q")
    assert (p.x, p.y, p.label) == (1, 0, "q")
    assert Point(1, 2) == Point(x=1, y=2) == Point(1, y=2, label="p")
    assert Model("m", None, origin="param", name="net").origin == "param"


@pytest.mark.parametrize(
    ("args", "kwargs", "error"),
    [
        ((), {}, "Point() missing argument 'x'"),
        ((1, 2, "a", 4), {}, "Point() takes 3 arguments, 4 given"),
        ((1,), {"x": 2}, "Point() got unexpected or repeated arguments ['x']"),
        ((1,), {"z": 2}, "Point() got unexpected or repeated arguments ['z']"),
    ],
)
def test_a_wrong_call_raises_as_a_dataclass_would(args, kwargs, error) -> None:
    with pytest.raises(TypeError) as caught:
        Point(*args, **kwargs)
    assert str(caught.value) == error
    with pytest.raises(TypeError):
        PointDC(*args, **kwargs)


def test_equality_needs_the_same_class() -> None:
    assert Str("a") == Str("a") and hash(Str("a")) == hash(Str("a"))
    assert Str("a") != LitStr("a")  # a subclass with the same fields is another value
    assert Str("a") != ModuleRef("a")  # so is another class with one field of the same value
    assert len({Str("a"), LitStr("a"), ModuleRef("a"), Str("a")}) == 3
    assert Opaque() == OPAQUE and Out() == Out(frozenset())
    assert Lit(1) != Lit(2) and Lit(None) != Lit(False)
    assert (Point(1) == (1, 0, "p")) is False


def test_repr_is_the_dataclass_repr() -> None:
    """Code sorts values by repr (loads.py: the state_dicts of a name): the order must not change."""
    assert repr(Point(1, 2, "a")) == repr(PointDC(1, 2, "a")).replace("PointDC", "Point")
    assert repr(LitStr("q")) == "LitStr(template='q')"
    assert repr(OPAQUE) == "Opaque()"


def test_records_are_immutable_and_have_no_instance_dict() -> None:
    m = Model("m")
    with pytest.raises(FrozenInstanceError):
        m.id = "n"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        del m.cls  # type: ignore[misc]
    with pytest.raises(AttributeError):
        object.__getattribute__(m, "__dict__")


def test_pickle_round_trip() -> None:
    for v in (Model("m", "pkg.Net", (("k", 1),), True), LitStr("x"), Out(frozenset({("m", 1)})), OPAQUE):
        assert pickle.loads(pickle.dumps(v)) == v


def test_a_field_without_default_after_one_with_a_default_is_refused() -> None:
    with pytest.raises(TypeError, match="field 'b' without a default follows one with a default"):

        class Bad(Record):
            a: int = 0
            b: int


def test_a_subclass_with_more_fields_sets_them_all() -> None:
    """Review: a record of one or two fields takes a direct path when built positionally; a subclass that
    adds fields must not inherit it (it would leave its own fields unset)."""

    class Pair(Record):
        a: int
        b: int

    class Triple(Pair):
        c: int = 7

    class One(Record):
        a: int

    class Three(One):
        b: int = 1
        c: int = 2

    assert (Triple(1, 2).c, Triple(1, 2, 3).c) == (7, 3)
    assert (Three(5).a, Three(5).b, Three(5).c) == (5, 1, 2)
    assert repr(Triple(1, 2)).endswith(".Triple(a=1, b=2, c=7)")
