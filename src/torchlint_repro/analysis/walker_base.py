"""What the walker's mixins (:mod:`.calls`, :mod:`.loads`) use of one another and of :class:`.tracker.Walker`.

The walker is one object split over three classes: :class:`.tracker.Walker` holds its state and walks
statements and expressions, :class:`.calls.CallsMixin` applies calls, :class:`.loads.LoadsMixin` follows
loaded weights and saves. Both mixins derive from :class:`WalkerBase`, which declares (for the type checker
only: no values, the methods behind ``TYPE_CHECKING``) the attributes ``Walker.__init__`` and
``Walker._reset_root`` set and the methods the mixins call on each other. It adds nothing at run time.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..config import Settings
    from .context import Event, Frame, ModuleCtx
    from .project import Project
    from .state import State
    from .syntax import FunctionNode, Located
    from .values import Loaded, LoadResult, Model


class WalkerBase:
    # set once, in Walker.__init__
    root_ctx: ModuleCtx
    settings: Settings
    project: Project | None
    collect_saves: bool
    events: dict[tuple, Event]
    saves: list[dict]
    frames: list[Frame]
    handlers: set[int]
    iter_tag: str
    iteration: tuple | None
    current_root: tuple | None
    mute: int
    empty_device: int
    reach_known: dict[str, bool]
    reach_known_deps: dict[str, str]
    reach_known_noted: bool
    reach_learned: dict[str, bool]
    reach_learned_deps: dict[str, str]
    steps: int
    seq: int
    reached: set[tuple[str, str]]
    read_lines: set[int]
    entered: set[tuple[str, str]]
    scanned_names: set[str]
    spawned: list[tuple[ModuleCtx, FunctionNode]]
    infer_patterns: tuple[str, ...]
    seed_funcs: frozenset[str]
    ever_trained: set
    over_budget: bool
    inline_counts: dict
    direct_calls: dict
    hard_widened: bool
    text_read: set
    scanned_in: dict
    _memo: dict
    _summaries: dict
    _dispatched: set
    _left_globals: dict
    _summarizing: set
    _save_sites: list[dict] | None
    # reset for each entry point, in Walker._reset_root
    seed_calls: list[tuple[int, tuple, str]]
    seed_arms: dict[int, tuple]
    other_seeds: list[tuple[int, tuple, str]]
    builds: dict[str, dict]
    loaded_uses: list[tuple[Loaded, str | None, int, int, str, str]]
    mapping_use: dict[str, set]
    mapping_arms: dict[str, set]
    arms: list[tuple[int, int]]
    load_calls: list[dict]
    load_results: dict[str, dict]
    read_results: set[str]
    checked_loads: set[str]
    key_filtered: set[str]
    tentative: dict
    candidates: dict
    trained_sites: set
    sampled_sites: set
    loaded_ids: set
    trained_ids: set
    root_trains: bool
    module_evidence: set
    root_events: list[tuple[tuple, Event]]
    region_reports: set
    frozen: dict  # model id -> True (its parameters frozen), False (unfrozen again somewhere)
    optimizers: list  # per optimizer built: (the model ids it holds the parameters of or None, other tensors' names)
    forward_inputs: set[str]  # names the inputs of the entry point's forwards read
    commands: list  # (function, state): the commands a bare `fire.Fire()` exposes
    updates: bool  # the program updates parameters somewhere (an optimizer step, `p -= lr * p.grad`)
    eval_steps: list  # (model id, key, event): training forwards in eval mode, kept if the model trains
    held: dict[str, set[str]]  # model id -> the models its constructor was handed (submodules it registers)
    mode_via_held: dict[str, set[str]]
    spawn_parent: tuple[tuple, str] | None  # a spawned worker's walk: the parent's last seed before it
    parent_seeds: dict[int, tuple[tuple, str]]

    if TYPE_CHECKING:
        # defined by Walker (tracker.py)
        @property
        def path(self) -> str | None: ...
        def pos(self, node: Located) -> tuple[int, int]: ...
        def via(self) -> tuple | None: ...
        def emit(self, kind: str, node: Located, **data: Any) -> None: ...
        def emit_at(self, kind: str, path: str | None, line: int, col: int, **data: Any) -> None: ...
        def widen(self, path: str | None, func: str, why: str) -> None: ...
        def mapping_read(self, site: str, key: object) -> None: ...
        def block(self, stmts: list[ast.stmt], st: State | None) -> State | None: ...
        def ev(self, node: ast.expr | None, st: State, discard: bool = False) -> frozenset: ...
        @staticmethod
        def _fname(fn: FunctionNode, cls: ast.ClassDef | None) -> str: ...
        def _decided(self, test: ast.expr, st: State) -> bool | None: ...
        def _format_checked(self, vals) -> None: ...
        def _global_ref(self, node: ast.expr, ctx: ModuleCtx) -> frozenset: ...
        def _qualified_ref(self, q: str, ctx: ModuleCtx) -> frozenset: ...
        def resolve_in(self, ctx: ModuleCtx, node: ast.expr) -> str | None: ...
        def _head_bound(self, node: ast.expr, st: State) -> bool: ...
        def _keys_audited(self, load: ast.Call) -> bool: ...
        def _kept(self, what: str, node: ast.AST, owner: object, compute: Callable[[], Any]) -> Any: ...
        def _template(self, node: ast.expr, st: State) -> str | None: ...
        def save_sites(self) -> list[dict]: ...

        # defined by LoadsMixin (loads.py), called from CallsMixin
        def _load_state_dict(self, node: ast.Call, models: list[Model], st: State, discard: bool) -> frozenset: ...
        def _load_result_used(self, r: LoadResult, node: Located) -> None: ...
        def _loaded_used_as_module(self, lo: Loaded, node: Located, how: str) -> None: ...
        def _save(self, node: ast.Call, obj: frozenset, path_expr: ast.expr, st: State) -> None: ...
        def _ancestors(self, cls: str, depth: int = 0) -> list[str]: ...
        def _whole_module_mode(self, path: str | None, st: State) -> tuple[frozenset, str | None]: ...
