"""Small immutable records, declared like frozen dataclasses but built without generating code.

``@dataclass(frozen=True)`` compiles six methods per class when its module is imported: about 0.5 ms a
class, 15 ms for the records the flake8 plugin imports, paid again by every process an editor starts on
each save (a third of the plugin's fixed cost on a small file). A :class:`Record` subclass declares its
fields the same way (annotations, with defaults after the fields without) and gets the same behaviour
from methods written once here: keyword or positional construction, equality only with the same class
and equal fields, a hash of the fields, the dataclass ``repr`` (code sorts by it), no attribute writes
(:class:`dataclasses.FrozenInstanceError`), and ``__slots__`` (no per-instance dict).

A default must be immutable: it is shared by every instance that takes it.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from operator import attrgetter
from typing import Any, ClassVar, dataclass_transform

_SET = object.__setattr__


def _no_fields(_: object) -> tuple:
    return ()


@dataclass_transform(frozen_default=True)  # the type checker reads a Record like a frozen dataclass
class _RecordMeta(type):
    def __new__(mcs, name: str, bases: tuple, ns: dict[str, Any]):
        annotations = ns.get("__annotations__", {})
        own = [n for n, kind in annotations.items() if not n.startswith("_") and "ClassVar" not in str(kind)]
        defaults: dict[str, Any] = {}
        for base in reversed(bases):
            defaults.update(getattr(base, "_defaults", {}))
        inherited: tuple[str, ...] = next((b._fields for b in bases if hasattr(b, "_fields")), ())
        for field in own:
            if field in ns:
                defaults[field] = ns.pop(field)
        fields = inherited + tuple(f for f in own if f not in inherited)
        seen_default = False
        for field in fields:
            if field in defaults:
                seen_default = True
            elif seen_default:
                raise TypeError(f"{name}: field {field!r} without a default follows one with a default")
        ns["__slots__"] = tuple(f for f in own if f not in inherited)
        cls: Any = super().__new__(mcs, name, bases, ns)
        cls._fields = fields
        cls._defaults = defaults
        cls._key = attrgetter(*fields) if fields else staticmethod(_no_fields)  # (one field: its value)
        if "__init__" not in ns:
            if len(fields) in (1, 2):
                cls.__init__ = _positional_init(fields)
            elif getattr(cls.__init__, "_fields", None) is not None:
                cls.__init__ = Record.__init__  # (a base's direct path sets only the base's fields)
        return cls


def _positional_init(fields: tuple[str, ...]):
    """``__init__`` for a record of one or two fields, most often built with every field given in order
    (``Lit(v)``, ``Str(t)``, ``Instance(i, c)``): that call sets them directly, any other goes through
    Record.__init__."""
    if len(fields) == 1:
        (first,) = fields

        def init_one(self, *args: Any, **kwargs: Any) -> None:
            if len(args) == 1 and not kwargs:
                _SET(self, first, args[0])
            else:
                Record.__init__(self, *args, **kwargs)

        init_one._fields = fields  # type: ignore[attr-defined]
        return init_one
    first, second = fields

    def init_two(self, *args: Any, **kwargs: Any) -> None:
        if len(args) == 2 and not kwargs:
            _SET(self, first, args[0])
            _SET(self, second, args[1])
        else:
            Record.__init__(self, *args, **kwargs)

    init_two._fields = fields  # type: ignore[attr-defined]
    return init_two


class Record(metaclass=_RecordMeta):
    """Base of an immutable record; see the module's docstring."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]]
    _defaults: ClassVar[dict[str, Any]]
    _key: ClassVar[Any]  # the fields' values, as one value (one field) or a tuple

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = self.__class__
        fields = cls._fields
        if len(args) > len(fields):
            raise TypeError(f"{cls.__name__}() takes {len(fields)} arguments, {len(args)} given")
        for field, value in zip(fields, args, strict=False):  # (the others: keywords, defaults)
            _SET(self, field, value)
        if len(args) < len(fields):
            defaults = cls._defaults
            for field in fields[len(args) :]:
                if field in kwargs:
                    _SET(self, field, kwargs.pop(field))
                elif field in defaults:
                    _SET(self, field, defaults[field])
                else:
                    raise TypeError(f"{cls.__name__}() missing argument {field!r}")
        if kwargs:
            raise TypeError(f"{cls.__name__}() got unexpected or repeated arguments {sorted(kwargs)}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._key(self) == self._key(other)

    def __hash__(self) -> int:
        return hash(self._key(self))

    def __repr__(self) -> str:
        shown = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{self.__class__.__qualname__}({shown})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple:
        return (self.__class__, tuple(getattr(self, f) for f in self._fields))


__all__ = ["Record"]
