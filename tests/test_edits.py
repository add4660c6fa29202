"""An edited file answered from its last analysis (analysis/edits.py), against the analysis done whole.

The stored analysis may answer a new text only when the edit cannot change the findings; each finding
then moves with its statement. The differential test below edits every fixture in every top-level
function and every method of a top-level class (and appends a comment), and requires the answer with
the stored analysis to be exactly the answer of a fresh analysis: same lines, columns, codes, messages
and fixes. Other tests check that edits are answered from the store, so that it cannot pass by never
reusing anything."""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from fixture_expect import fixture_units, isolated_copy, unit_files
from fixture_expect import settings as fixture_settings

from torchlint_repro.analysis import edits as E
from torchlint_repro.analysis import program
from torchlint_repro.analysis import syntax as S
from torchlint_repro.analysis.project import reset_projects
from torchlint_repro.config import Settings
from torchlint_repro.engine import lint_source

# the statements typed into a function: inert, a seed, a mode change, a forward, an early return, the
# object's own mode, a layer of the object, a dropout that depends on the mode
TYPED = (
    "_typed = 1",
    "torch.manual_seed(0)",
    "model.eval()",
    "print(model(x))",
    "return None",
    "self.eval()",
    "self.drop = nn.Dropout(0.5)",
    "x = nn.functional.dropout(x, 0.5, self.training)",
)

# inert statements (syntax.inert_statement) typed above a function's first statement, one or more lines
INERT_TYPED = (
    "_typed = 'run 2'",
    "# a comment\n_limit = -1",
    "pass",
    "_shape = (\n    1,\n    2.0,\n)",
    '"""a string\n# not a comment\n"""',
)


# quiet statements (edits.Quiet) typed in the middle of a function's body: answered from the store when the
# function was walked and they read nothing the walks track
QUIET_TYPED = ("print('typed')", "_elapsed = len('typed')", "_t0 = time.time()", "logger.info('typed %d', 1)")


def _edits(text: str) -> list[tuple[str, str]]:
    """(what, new text): a comment appended, and for each top-level function and each method of a
    top-level class a statement (two lines, so that every later statement moves) typed at the end of its
    body, an inert statement typed above its first statement, its docstring removed, and for every other
    one a quiet statement typed in the middle; the statements typed rotate."""
    out = [("comment appended", text + "\n# typed in the editor\n")]
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return out
    lines = text.splitlines(keepends=True)
    fns = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    fns += [
        m
        for c in tree.body
        if isinstance(c, ast.ClassDef)
        for m in c.body
        if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    for i, fn in enumerate(fns):
        indent = " " * fn.body[0].col_offset
        if fn.body[0].lineno == fn.lineno:
            continue  # a one-line function: no body line to type into
        typed = TYPED[i % len(TYPED)]
        at = fn.end_lineno or fn.lineno
        new = lines[:at] + [f"{indent}# typed\n", f"{indent}{typed}\n"] + lines[at:]
        out.append((f"{typed!r} typed into {fn.name}()", "".join(new)))
        # above the body's first statement, so that every statement of the function moves: an inert
        # statement (answered from the store when the function was walked), or the docstring removed
        first = fn.body[0]
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and len(fn.body) > 1:
            gone = lines[: first.lineno - 1] + lines[first.end_lineno or first.lineno :]
            out.append((f"docstring of {fn.name}() removed", "".join(gone)))
        # in the middle of the body, at the depth of its statement there (in a loop, a branch, ...)
        inner = [
            st
            for st in ast.walk(fn)
            if isinstance(st, ast.stmt)
            and st is not fn
            and not isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and lines[st.lineno - 1][: st.col_offset].strip() == ""
            and not lines[st.lineno - 1].lstrip().startswith(("elif", "else", "except", "finally", "@"))
        ]
        if i % 2 == 0 and inner:
            mid = inner[len(inner) // 2]
            quiet = QUIET_TYPED[(i // 2) % len(QUIET_TYPED)]
            new = lines[: mid.lineno - 1] + [" " * mid.col_offset + quiet + "\n"] + lines[mid.lineno - 1 :]
            out.append((f"{quiet!r} typed in {fn.name}() at line {mid.lineno}", "".join(new)))
        inert = INERT_TYPED[i % len(INERT_TYPED)]
        at = first.lineno - 1
        new = lines[:at] + [f"{indent}{ln}\n" for ln in inert.split("\n")] + lines[at:]
        out.append((f"{inert!r} typed at the top of {fn.name}()", "".join(new)))
    return out


def _answer(path: Path, text: str, settings: Settings) -> list[tuple]:
    return [
        (d.line, d.col, d.code, d.message, d.fix.title if d.fix else None)
        for d in lint_source(text, str(path), settings)
    ]


UNITS = [u for u in fixture_units() if any(f.suffix == ".py" for f in unit_files(u))]


@pytest.mark.parametrize("unit", UNITS, ids=[f"{u.parent.name}/{u.name}" for u in UNITS])
def test_an_edit_answered_from_the_last_analysis_is_the_fresh_answer(unit, tmp_path, monkeypatch):
    copy = isolated_copy(unit, tmp_path / "proj")
    files = unit_files(copy)
    monkeypatch.setenv("TORCHLINT_CACHE_DIR", str(tmp_path / "cache"))
    tried = 0
    for path in files:
        text = path.read_text(encoding="utf-8")
        cached = replace(fixture_settings(path), cache=True)
        fresh = fixture_settings(path)  # no cache: analysed whole
        for what, edited in _edits(text):
            reset_projects()
            _answer(path, text, cached)  # the file as saved: its analysis stored
            reset_projects()  # the editor's next lint: another process
            got = _answer(path, edited, cached)
            reset_projects()
            assert got == _answer(path, edited, fresh), f"{path.name}: {what}"
            tried += 1
    reset_projects()
    assert tried > 0


@dataclass
class Script:
    """A one-script project with its own cache: the script's path, settings with every rule on, and the
    names of the files whose programs this process walked (none when an edit is answered from the store)."""

    path: Path
    settings: Settings
    walked: list[str]


@pytest.fixture()
def script(tmp_path, monkeypatch) -> Script:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text("[tool.torchlint-repro]\n")
    monkeypatch.setenv("TORCHLINT_CACHE_DIR", str(tmp_path / "cache"))
    walked: list[str] = []
    real = program._walk_file

    def counting(ctx, *args, **kwargs):
        walked.append(Path(ctx.path).name)
        return real(ctx, *args, **kwargs)

    monkeypatch.setattr(program, "_walk_file", counting)
    reset_projects()
    yield Script(root / "train.py", Settings(select=("TRP",)), walked)
    reset_projects()


# a script with findings below a helper no walk enters (it only formats text)
_HELPER = textwrap.dedent(
    """\
    import torch
    import torch.nn as nn


    def banner(name):
        width = 40
        return name.center(width, "=")


    def evaluate(model, x):
        with torch.no_grad():
            return model(x)


    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    print(banner("eval"))
    print(evaluate(model, torch.ones(2, 4)))
    """
)


def test_edits_in_functions_no_walk_reads_are_answered_from_the_store(script):
    """The case the store is for, with findings that move: a script with findings below a helper no walk
    enters (it only formats text), edited in the helper (two lines typed) and by a comment. Both are
    answered from the store, and every finding moves by the lines typed above it."""
    text = _HELPER
    path, settings, walked = script.path, script.settings, script.walked
    path.write_text(text)
    before = _answer(path, text, settings)
    assert [(line, col, code) for line, col, code, *_ in before] == [(12, 15, "TRP201"), (15, 8, "TRP101")]
    assert walked == ["train.py"]
    typed = text.replace(
        '    return name.center(width, "=")\n', '    line = "=" * width\n    return name.center(width, line[0])\n'
    )
    reset_projects()
    after = _answer(path, typed, settings)
    assert walked == ["train.py"]  # answered from the store: not walked
    assert [(line, col, code) for line, col, code, *_ in after] == [(13, 15, "TRP201"), (16, 8, "TRP101")]
    assert [m for _, _, _, m, _ in after] == [m for _, _, _, m, _ in before]
    reset_projects()
    assert _answer(path, typed + "# a comment\n", settings) == after and walked == ["train.py"]
    # typed into a function a walk enters: analysed whole
    reset_projects()
    entered = typed.replace("    with torch.no_grad():\n", "    model.eval()\n    with torch.no_grad():\n")
    assert [(line, col, code) for line, col, code, *_ in _answer(path, entered, settings)] == [(17, 8, "TRP101")]
    assert walked == ["train.py", "train.py"]
    # back to `typed` (it differs from the last analysis in evaluate: analysed whole), then a helper the
    # walk calls but does not enter made relevant (it seeds now): its summary changes, analysed whole
    reset_projects()
    assert _answer(path, typed, settings) == after and walked == ["train.py"] * 3
    reset_projects()
    relevant = typed.replace("    width = 40\n", "    width = 40\n    torch.manual_seed(0)\n")
    _answer(path, relevant, settings)
    assert walked == ["train.py"] * 4


def test_most_fixtures_edited_by_a_comment_are_answered_from_the_store(tmp_path, monkeypatch):
    """The differential test above would pass if nothing were ever answered from the store: a comment
    appended changes no statement, so it must be, for every fixture file but those whose findings name a
    line of the file in a sentence (a checkpoint's save site: analysed whole)."""
    monkeypatch.setenv("TORCHLINT_CACHE_DIR", str(tmp_path / "cache"))
    outcomes: list[bool] = []
    real = E.moved_events
    monkeypatch.setattr(E, "moved_events", lambda *a, **k: outcomes.append(real(*a, **k) is not None) or real(*a, **k))
    single = [u for u in UNITS if u.suffix == ".py"]
    for i, unit in enumerate(single):
        path = isolated_copy(unit, tmp_path / str(i))
        text = path.read_text(encoding="utf-8")
        settings = replace(fixture_settings(path), cache=True)
        reset_projects()
        _answer(path, text, settings)
        reset_projects()
        _answer(path, text + "\n# typed\n", settings)
    reset_projects()
    assert len(outcomes) >= len(single) * 9 // 10
    assert outcomes.count(True) >= len(outcomes) * 9 // 10, outcomes.count(False)


_LOOP = """\
import torch
import torch.nn as nn


def banner(name):
    width = 40
    return name.center(width, "=")


model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
model.eval()
print(banner("train"))
for step in range(3):
    loss = model(torch.ones(2, 4)).sum()
    loss.backward()
    opt.step()
torch.manual_seed(0)
"""
_SAVED = """\
first = nn.Linear(4, 4)
torch.save(first.state_dict(), "w.pt")
second = nn.Linear(4, 8)
second.load_state_dict(torch.load("w.pt"))
"""


def test_the_lines_a_finding_names_move_with_it(script):
    """A finding's message names other lines of the file: the seed after a construction. Answered from the
    store, they move as the statements they name moved: the seed after a construction, the `.eval()` before
    a training step. A sentence that names a line (a checkpoint's save site) cannot be moved: such a file is
    analysed whole when the line would move."""
    path, settings, walked = script.path, script.settings, script.walked
    typed = '    width = 40\n    pad = " " * 2\n    width += len(pad)\n'
    seeded_late = (
        12,
        8,
        "TRP101",
        "`Sequential` is built before torch is seeded: its random init differs on every run; "
        "torch.manual_seed is called at line 20, after this construction",
        "Seed torch before the first construction: `torch.manual_seed(<fix-seed>)`",
    )
    no_eval = _LOOP.replace("model.eval()\n", "")
    for text, whole in ((no_eval, False), (_LOOP, False), (_LOOP + _SAVED, True)):
        walked.clear()
        reset_projects()
        _answer(path, text, settings)
        reset_projects()
        got = _answer(path, text.replace("    width = 40\n", typed), settings)
        assert walked == ["train.py", "train.py"] if whole else walked == ["train.py"]
        if text is no_eval:
            assert got == [seeded_late[:3] + (seeded_late[3].replace("line 20", "line 19"), seeded_late[4])]
        else:
            assert got[:2] == [
                seeded_late,
                (
                    17,
                    11,
                    "TRP203",
                    "training step while `model` is in eval mode after `.eval()` at line 14: dropout/batch-norm "
                    "are off; call `model.train()` before training",
                    "Call `model.train()` at the start of the training step",
                ),
            ]
        reset_projects()
        assert got == _answer(path, text.replace("    width = 40\n", typed), replace(settings, cache=False))
    assert got[2][:3] == (24, 0, "TRP307") and got[2][3].endswith("(saved at line 22)")


_SHOWN = """\
import torch
import torch.nn as nn


def show(m):
    total = sum(p.numel() for p in m.parameters())
    print(total)


model = nn.Linear(4, 4)
show(model)
torch.manual_seed(0)
"""


def test_an_edit_of_a_function_the_walk_read_is_analysed_whole(script):
    """`show` is handed the model: the walk reads it (to tell a model only looked at, TRP104, from one
    whose random values are used, TRP101). An edit of it is analysed whole: here it starts using them,
    with the file's facts, summary and called names unchanged."""
    path, settings = script.path, script.settings
    assert [d[2] for d in _answer(path, _SHOWN, settings)] == ["TRP104"]
    reset_projects()
    used = _SHOWN.replace("    print(total)\n", "    print(total, m.weight + 1)\n")
    assert [d[:3] for d in _answer(path, used, settings)] == [(10, 8, "TRP101")]


def test_the_functions_read_are_those_a_walk_entered_or_another_files_program_reached():
    text = "import torch\n\n\ndef a(m):\n    return m\n\n\ndef b(m):\n    return m\n\n\ndef c():\n    pass\n\n\nx = 1\n"
    units = E.layout(ast.parse(text), text)
    assert [(u.kind, u.name, u.start, u.end, u.body) for u in units] == [
        ("other", "", 1, 1, 0),
        ("def", "a", 4, 5, 5),
        ("def", "b", 8, 9, 9),
        ("def", "c", 12, 13, 13),
        ("other", "", 16, 16, 0),
    ]
    # a's body line walked; b reached by another file's program; c's `def` line alone (the module level
    # binds it) is not its body
    assert E.read_units(units, {5, 12, 16}, {"b", "Net.forward"}) == ["a", "b"]
    # a function whose body shares its `def` line cannot be told apart from its signature: no body to edit
    one = "def f(x): return x\n"
    assert [(u.kind, u.name) for u in E.layout(ast.parse(one), one)] == [("other", "f")]


_USES_HELPER = """\
import torch
import torch.nn as nn

from helpers import evaluate


def banner(name):
    return name.center(40, "=")


torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
print(banner("eval"))
print(evaluate(model, torch.ones(2, 4)))
"""
_HELPERS = """\
import torch


def evaluate(model, x):
    {eval_call}with torch.no_grad():
        return model(x)
"""


def test_what_else_the_analysis_read_is_checked_by_the_files_signatures(tmp_path, monkeypatch):
    """The stored analysis read helpers.py too. While no project file changed since it was stored (their
    sizes, times and inodes), it is reused without reading them again; once helpers.py changes, its
    text is compared and the file is analysed whole."""
    from torchlint_repro.analysis import project as P

    monkeypatch.setattr(P, "_RACY_NS", 0)  # (the files written here are otherwise too new to trust)
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text("[tool.torchlint-repro]\n")
    (root / "helpers.py").write_text(_HELPERS.format(eval_call=""))
    path = root / "train.py"
    path.write_text(_USES_HELPER)
    monkeypatch.setenv("TORCHLINT_CACHE_DIR", str(tmp_path / "cache"))
    settings = Settings(select=("TRP",))
    helper_hit = [(6, 15, "TRP201")]
    assert [d[:3] for d in lint_source_in(root / "helpers.py", settings)] == helper_hit
    reset_projects()
    assert _answer(path, _USES_HELPER, settings) == []
    typed = _USES_HELPER.replace(
        '    return name.center(40, "=")\n', '    wide = 40\n    return name.center(wide, "=")\n'
    )
    read: list[str] = []
    real = P.read_regular
    monkeypatch.setattr(P, "read_regular", lambda p, *a: read.append(Path(p).name) or real(p, *a))
    reused: list[bool] = []
    real_moved = E.moved_events
    monkeypatch.setattr(E, "moved_events", lambda *a, **k: reused.append(True) or real_moved(*a, **k))
    reset_projects()
    assert _answer(path, typed, settings) == []
    assert reused == [True] and "helpers.py" not in read  # the files' signatures vouch for it
    # helpers.py changes on disk: the signatures differ, its text is read and compared
    (root / "helpers.py").write_text(_HELPERS.format(eval_call="model.train()\n    "))
    read.clear()
    reset_projects()
    got = _answer(path, typed, settings)
    assert "helpers.py" in read and reused == [True]  # (its text differs: not reused, analysed whole)
    reset_projects()
    assert got == _answer(path, typed, replace(settings, cache=False))


def lint_source_in(path: Path, settings: Settings):
    return _answer(path, path.read_text(), settings)


def test_no_signature_vouches_for_a_file_changed_in_the_last_clock_ticks(tmp_path):
    """A file written less than _RACY_NS ago may change again within its time's resolution: no token."""
    from torchlint_repro.analysis.project import project_for

    (tmp_path / "pyproject.toml").write_text("[tool.torchlint-repro]\n")
    (tmp_path / "train.py").write_text("import torch\n")
    reset_projects()
    project = project_for(str(tmp_path / "train.py"), Settings())
    assert project is not None and project.files_token() is None
    reset_projects()


def test_the_summary_compared_does_not_depend_on_the_order_its_parts_were_asked():
    """A module's summary is filled lazily, in the order the walks ask (in a whole-project run, by the
    programs that reach it before it is linted itself): the digest compared must be the same."""
    from torchlint_repro.analysis.context import ModuleCtx

    text = textwrap.dedent(
        """\
        import torch.nn as nn


        class A(nn.Module):
            def __init__(self):
                super().__init__()
                self.f = nn.Linear(2, 2)

            def freeze(self):
                self.f.eval()


        class B(nn.Module):
            def __init__(self):
                super().__init__()
                self.g = nn.Linear(2, 2)

            def thaw(self):
                self.g.train()
        """
    )
    digests = []
    for order in (("A", "B"), ("B", "A")):
        ctx = ModuleCtx("m.py", ast.parse(text), None, linted=True)
        for name in order:
            ctx.attrs_mode_changed_outside_init(ctx.classes[name])
        digests.append(E.keys_of({}, ctx.summary_entry(), set(), [])["summary"])
    assert digests[0] == digests[1]


_CLASS_BELOW = """\
import torch
import torch.nn as nn


def banner(name):
    width = 40
    return name.center(width, "=")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.drop(self.fc(x))


model = Net()
print(banner("x"))
with torch.no_grad():
    print(model(torch.ones(2, 4)))
"""


def test_a_class_below_the_edit_moves_with_it(script):
    """The facts keep each class's line: lines typed above a class move it, as they move the findings,
    and the edit is still answered from the store (the line is compared relative to its statement)."""
    path, settings, walked = script.path, script.settings, script.walked
    assert [d[:3] for d in _answer(path, _CLASS_BELOW, settings)] == [(20, 8, "TRP101"), (23, 10, "TRP201")]
    reset_projects()
    typed = _CLASS_BELOW.replace("    width = 40\n", "    width = 40\n    width += 2\n")
    got = _answer(path, typed, settings)
    assert walked == ["train.py"]
    assert [d[:3] for d in got] == [(21, 8, "TRP101"), (24, 10, "TRP201")]
    reset_projects()
    assert got == _answer(path, typed, replace(settings, cache=False))


_MODEL_FILE = """\
import torch
import torch.nn as nn


class Net(nn.Module):
    \"\"\"A model with a helper no walk enters.\"\"\"

    scale = 2

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.drop = nn.Dropout(0.5)

    def describe(self):
        parts = ["fc", "drop"]
        return ", ".join(parts)

    def forward(self, x):
        return self.drop(self.fc(x))


torch.manual_seed(0)
net = Net()
with torch.no_grad():
    print(net(torch.ones(2, 4)))
"""


def test_a_class_is_laid_out_statement_by_statement():
    """A class is its header, then each statement (a method under the name walks know it by), so an edit
    inside one method leaves the other units as they were; a class with a statement sharing a line is
    one unit, as before."""
    units = E.layout(ast.parse(_MODEL_FILE), _MODEL_FILE)
    assert [(u.kind, u.name, u.start, u.end) for u in units] == [
        ("other", "", 1, 1),
        ("other", "", 2, 2),
        ("other", "Net", 5, 5),
        ("other", "Net.", 6, 6),
        ("other", "Net.", 8, 8),
        ("def", "Net.__init__", 10, 13),
        ("def", "Net.describe", 15, 17),
        ("def", "Net.forward", 19, 20),
        ("other", "", 23, 23),
        ("other", "", 24, 24),
        ("other", "", 25, 26),
    ]
    packed = "class A:\n    x = 1; y = 2\n\n    def f(self):\n        return 1\n"
    assert [(u.kind, u.name) for u in E.layout(ast.parse(packed), packed)] == [("other", "A")]


def test_an_edit_in_a_method_no_walk_reads_is_answered_from_the_store(script):
    """No walk enters a method of `Net` here (the model is built and run from its facts): typing into
    `describe` is answered from the store, the finding below it moved. Typing into `__init__` changes the
    layers the facts list (no dropout left): analysed whole, and nothing to report. Each answer is the
    fresh one."""
    path, settings, walked = script.path, script.settings, script.walked
    fresh = replace(settings, cache=False)
    path.write_text(_MODEL_FILE)
    before = _answer(path, _MODEL_FILE, settings)
    assert [d[:3] for d in before] == [(26, 10, "TRP201")]
    assert walked == ["train.py"]
    typed = _MODEL_FILE.replace(
        '        parts = ["fc", "drop"]\n', '        parts = ["fc", "drop"]\n        parts.sort()\n'
    )
    reset_projects()
    after = _answer(path, typed, settings)
    assert walked == ["train.py"]  # answered from the store: not walked
    assert [d[:3] for d in after] == [(27, 10, "TRP201")] and after[0][3] == before[0][3]
    reset_projects()
    assert after == _answer(path, typed, fresh)
    reset_projects()
    init = typed.replace("        self.drop = nn.Dropout(0.5)\n", "        self.drop = nn.Identity()\n")
    assert _answer(path, init, settings) == [] == _answer(path, init, fresh)
    assert walked == ["train.py"] * 4  # the fresh answer of `typed`, then `init` analysed whole, and fresh


def test_the_bodies_another_files_program_read_count_as_read(tmp_path, monkeypatch):
    """`main.py`'s program leaves a `Trainer` behind, and its walk runs the object's public methods as a
    user would next (the object model: not a call, so not among the functions it reached). The bodies it
    read are recorded apart (`entered`, stored with the walk), and the methods of `lib.py` they name are
    read when `lib.py` is linted, whatever `lib.py`'s own walks read: an edit of them is analysed whole."""
    from torchlint_repro.analysis import program as P

    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text("[tool.torchlint-repro]\n")
    monkeypatch.setenv("TORCHLINT_CACHE_DIR", str(tmp_path / "cache"))
    lib = (
        "import torch\n\n\nclass Trainer:\n    def __init__(self, net):\n        self.net = net\n\n"
        "    def sample(self, x):\n        with torch.no_grad():\n            return self.net(x)\n"
    )
    main = (
        "import torch\nimport torch.nn as nn\n\nfrom lib import Trainer\n\n"
        "torch.manual_seed(0)\ntrainer = Trainer(nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5)))\n"
    )
    (root / "lib.py").write_text(lib)
    (root / "main.py").write_text(main)
    stored: list[list[str]] = []
    real_read, real_walk = E.read_units, P._walk_file

    def recording(units, read_lines, reached, named=lambda u: False):
        got = real_read(units, read_lines, reached, named)
        stored.append(got)
        return got

    def own_walk_reads_nothing(ctx, *args, **kwargs):
        walker = real_walk(ctx, *args, **kwargs)
        if Path(ctx.path).name == "lib.py":  # (lib.py's own walk reads `sample` too: taken away here)
            walker.read_lines = set()
        return walker

    monkeypatch.setattr(E, "read_units", recording)
    monkeypatch.setattr(P, "_walk_file", own_walk_reads_nothing)
    reset_projects()
    settings = Settings(select=("TRP",))
    _answer(root / "lib.py", lib, settings)
    assert stored[-1] == ["Trainer.__init__", "Trainer.sample"]  # read by main.py's program
    project = P.project_for(str(root / "lib.py"), settings)
    [(_, reached, _, entered)] = P.caller_walks(project, [str(root / "main.py")], settings)
    sample = (str(root / "lib.py"), "Trainer.sample")
    assert sample in entered and sample not in reached
    reset_projects()


# bodies a rule reads without walking them (found by a review: each was answered from the store wrongly)
_SIZES = """\
import torch
import torch.nn as nn

nz = 2
nh = 4


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(nh, 4)

    def forward(self, x):
        return self.fc(x)


net = Net()
torch.save(net.state_dict(), "a.pt")
nz = 3
other = Net()
other.load_state_dict(torch.load("a.pt"))
"""

_REPORTER = """\
import torch
import torch.nn as nn


def note(msg):
    print(msg)


model = nn.Linear(2, 2)
sd = torch.load("a.pt")
note(f"{len(sd)} {len(model.state_dict())}")
model.load_state_dict(sd, strict=False)
"""

_MODULE_READS = """\
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)
        self.drop = nn.Dropout(0.5)

    def describe(self):
        return len(y)

    def forward(self, x):
        return self.drop(self.fc(x))


torch.manual_seed(0)
net = Net()
with torch.no_grad():
    y = net(torch.ones(2, 4))
print(y.shape)
"""


_REDEFINED = """\
import torch
import torch.nn as nn


def report():
    print("a")


def report():
    print("b")


net = nn.Linear(4, 4)
print(net)
"""

_PROPERTY = """\
import torch
import torch.nn as nn


class Box:
    @property
    def size(self):
        return 1

    @size.setter
    def size(self, v):
        self._v = v


net = nn.Linear(4, 4)
print(net)
"""


@pytest.mark.parametrize(
    ("text", "old", "new", "fresh"),
    [
        # `__init__`'s free globals are part of the architecture compared at a load (TRP307)
        (_SIZES, "nn.Linear(nh, 4)", "nn.Linear(nz, 4)", [(17, 6, "TRP101"), (21, 0, "TRP307")]),
        # a helper that prints, called with the loaded keys, makes a non-strict load's result deliberate
        (_REPORTER, "    print(msg)\n", "    return msg\n", [(9, 8, "TRP101"), (12, 0, "TRP305")]),
        # the reads of the module's `y` in any function decide whether the forward's output is only looked at
        (_MODULE_READS, "        return len(y)\n", "        return y.upper()\n", [(21, 8, "TRP201")]),
        # ... and a body that did not name `y` and now does
        (
            _MODULE_READS.replace("len(y)", "len(self.fc.weight)"),
            "len(self.fc.weight)",
            "y.upper()",
            [(21, 8, "TRP201")],
        ),
        # ... but not a function's own `y`: another variable
        (_MODULE_READS, "        return len(y)\n", '        y = "net"\n        return y.upper()\n', []),
        # two units of one name (a redefinition, a property's getter and setter): the first names `net` now
        (_REDEFINED, '    print("a")\n', "    _keep = [net]\n", [(13, 6, "TRP101")]),
        (_PROPERTY, "        return 1\n", "        return [net]\n", [(15, 6, "TRP101")]),
    ],
    ids=[
        "init-globals",
        "reporting-helper",
        "module-reads",
        "module-reads-new",
        "module-reads-shadowed",
        "redefined-function",
        "property-getter",
    ],
)
def test_bodies_a_rule_reads_without_walking_them_are_read(script, text, old, new, fresh):
    path, settings = script.path, script.settings
    path.write_text(text)
    _answer(path, text, settings)
    edited = text.replace(old, new)
    assert edited != text
    reset_projects()
    got = _answer(path, edited, settings)
    reset_projects()
    assert got == _answer(path, edited, replace(settings, cache=False))
    assert [d[:3] for d in got] == fresh


_FLAGGED = '''\
def f(a):
    """doc"""
    _x = 1
    y = (a,
         # inside brackets
         2)
    print("""
# in a string
""")
    if a: _z = 2
    _w = 3; print(a)
    _read = 4

    return y, _read
'''


def test_line_codes_say_which_lines_of_a_function_are_inert() -> None:
    """I: first line of an inert statement (a literal alone, or bound to a local nothing reads), i: its
    next lines, g: blank or comment (inside brackets too, never inside a string), c: code. A statement
    that shares its line (`if a: _z = 2`, `_w = 3; ...`), is read (`_read`) or names a scanned name is code."""
    tree = ast.parse(_FLAGGED)
    (unit,) = E.layout(tree, _FLAGGED)
    lines = _FLAGGED.splitlines(keepends=True)
    flags = "".join(c[0] for c in E.line_codes(tree.body[0], lines, unit, []))
    assert flags == "cIIcgcccccccgc"
    assert "".join(c[0] for c in E.line_codes(tree.body[0], lines, unit, ["_x"])) == "cIccgcccccccgc"
    codes = E.line_codes(tree.body[0], lines, unit, [])
    assert len({c[1:] for c in codes}) == 14  # a digest of each line's text (every line differs)


def _codes(text: str) -> list[str]:
    tree = ast.parse(text)
    (unit,) = E.layout(tree, text)
    return E.line_codes(tree.body[0], text.splitlines(keepends=True), unit, [])


_BODY = "def main():\n    model = make()\n    model.train()\n    return model\n"


def test_inert_line_map_moves_lines_around_inert_statements_only() -> None:
    was = _codes(_BODY)
    typed = _codes(_BODY.replace("    model.train()\n", "    _debug = 'x'\n    # why\n    model.train()\n"))
    assert E.inert_line_map(was, typed) == [(0, 1, 0), (2, 3, 2)]  # lines 3-4 of the unit move down by 2
    assert E.inert_line_map(typed, was) == [(0, 1, 0), (4, 5, -2)]  # and back: the statement removed
    multi = _codes(_BODY.replace("    return", "    _shape = (\n        1,\n    )\n    return"))
    assert E.inert_line_map(was, multi) == [(0, 2, 0), (3, 3, 3)]
    # code typed, a literal bound to a name the function reads, half a statement changed: no map
    assert E.inert_line_map(was, _codes(_BODY.replace("    return", "    print(model)\n    return"))) is None
    assert E.inert_line_map(was, _codes(_BODY.replace("    model = make()", "    model = 1"))) is None
    half = _codes(_BODY.replace("    return", "    _shape = (\n        2,\n    )\n    return"))
    assert E.inert_line_map(multi, half) is None  # `1,` -> `2,`: a line inside a statement
    # a comment-looking line inside a string is the string's text
    quoted = _BODY.replace("    return", '    print("""\n# a\n""")\n    return')
    assert E.inert_line_map(_codes(quoted), _codes(quoted.replace("# a", "# b"))) is None


_WALKED = """\
import torch
import torch.nn as nn


def main():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    x = torch.ones(2, 4)
    with torch.no_grad():
        y = model(x)
    print(y)


main()
"""


def test_inert_statements_typed_into_a_walked_function_are_answered_from_the_store(script):
    """The editor's case inside the code the analysis walks (a training script's main): a literal bound
    to a new local (with a comment), changed, then removed, are answered from the store with the finding
    below them moved; a call typed, or a literal bound to a local the function reads, is analysed whole."""
    path, settings, walked = script.path, script.settings, script.walked
    path.write_text(_WALKED)
    before = _answer(path, _WALKED, settings)
    assert [(line, col, code) for line, col, code, *_ in before] == [(6, 12, "TRP101"), (9, 12, "TRP201")]
    assert walked == ["train.py"]
    typed = _WALKED.replace("    x = torch.ones(2, 4)\n", "    x = torch.ones(2, 4)\n    _debug = 'typed'\n    # why\n")
    for text in (typed, typed.replace("'typed'", "-1"), _WALKED):
        reset_projects()
        after = _answer(path, text, settings)
        assert walked == ["train.py"]  # answered from the store: not walked
        moved = 11 if "_debug" in text else 9
        assert [(line, col, code) for line, col, code, *_ in after] == [(6, 12, "TRP101"), (moved, 12, "TRP201")]
        assert [m for *_, m, _ in after] == [m for *_, m, _ in before]
    reset_projects()
    assert _answer(path, typed.replace("'typed'", "len(model)"), settings)[1][0] == 11
    assert walked == ["train.py"] * 2  # a call handed the model: analysed whole
    reset_projects()
    read = _WALKED.replace("    print(y)\n", "    _debug = 0\n    print(y, _debug)\n")
    _answer(path, read, settings)
    reset_projects()
    _answer(path, read.replace("_debug = 0", "_debug = 1"), settings)
    assert walked == ["train.py"] * 4  # a local the function reads: analysed whole


@pytest.mark.parametrize(
    ("uses", "reads_every_local"),
    [
        ("cfg = vars(args)", False),
        ("names = dir(args)", False),
        ("v = eval(expr, {})", False),
        ("exec(code, {}, {})", False),
        ("cfg = vars()", True),
        ("names = dir()", True),
        ("v = eval(expr)", True),
        ("exec(code)", True),
        ("cfg = locals()", True),
        ("cfg = vars(*rest)", True),
        ("show = vars", True),
    ],
)
def test_builtins_that_read_every_local_make_no_statement_inert(uses: str, reads_every_local: bool) -> None:
    """`_debug = 1` is inert unless the function may read it without naming it: `vars()`, `dir()`,
    `eval(s)`/`exec(s)` in the caller's namespace, `locals`, or one of them handed on. `vars(args)`
    reads its argument only."""
    fn = ast.parse(f"def main(args, expr, code, rest):\n    _debug = 1\n    {uses}\n    return args\n").body[0]
    assert isinstance(fn, ast.FunctionDef)
    reads = S.local_reads(fn)
    assert (reads is None) is reads_every_local
    assert S.inert_statement(fn.body[0], reads) is not reads_every_local


def _reused_and_fresh(script, before: str, after: str) -> tuple[list, list, bool]:
    """(the answer with the stored analysis of ``before``, the fresh answer, whether it was answered from
    the store) for the edited text ``after``."""
    path, settings, walked = script.path, script.settings, script.walked
    path.write_text(before)
    reset_projects()
    _answer(path, before, settings)
    reset_projects()
    n = len(walked)
    got = _answer(path, after, settings)
    stored = len(walked) == n
    reset_projects()
    return got, _answer(path, after, replace(settings, cache=False)), stored


_FORM_FEED = """\
import torch
from torch import nn


def main():
    torch.manual_seed(0)
    # ---- evaluation \x0c
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    model.eval()
    _note = "a string long enough"
    with torch.no_grad():
        print(model(torch.randn(2, 4)))


main()
"""


@pytest.mark.parametrize("odd", ["\x0c", "\x0b", "\x85", "\u2028", "\x1c"])
def test_a_character_str_splitlines_breaks_at_leaves_the_line_codes_on_their_lines(script, odd: str) -> None:
    """Reviewer's counterexample: with a form feed (or another character `str.splitlines` ends a line at,
    Python does not) in a comment, the inert flag of line 10 sat on line 9's text, so commenting out
    `model.eval()` was answered from the store without its TRP201. The lines are split as Python splits them."""
    before = _FORM_FEED.replace("\x0c", odd)
    got, want, stored = _reused_and_fresh(script, before, before.replace("    model.eval()", "    # model.eval()"))
    assert [(line, col, code) for line, col, code, *_ in want] == [(12, 14, "TRP201")]
    assert got == want and not stored


def test_an_annotated_assignment_is_never_inert(script) -> None:
    """Reviewer's counterexample: `_n: y = 0` names `y` in its annotation, which the look-only test counts
    as a read of the forward's output `y`: typing it changes the finding, so it is analysed whole."""
    before = textwrap.dedent(
        """\
        import torch
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.drop = nn.Dropout(0.5)

            def forward(self, x):
                return self.drop(x)


        def test():
            net = Net()
            y = net(torch.randn(2, 4))
            print(y.size())
        """
    )
    fn = ast.parse("def f(y):\n    _n: y = 0\n    _m: int = 1\n").body[0]
    assert isinstance(fn, ast.FunctionDef)
    assert not any(S.inert_statement(s, S.local_reads(fn)) for s in fn.body)
    after = before.replace("    print(y.size())", "    _n: y = 0\n    print(y.size())")
    got, want, stored = _reused_and_fresh(script, before, after)
    assert got == want and not stored


def test_two_functions_of_one_name_keep_their_own_line_codes(script) -> None:
    """Reviewer's counterexample: the stored lines were keyed by the function's name, so an edit of the
    first `main` was compared with the second's lines (the same after the edit: answered from the store,
    its TRP101 lost). They are keyed by the unit's place in the file."""
    before = textwrap.dedent(
        """\
        import torch
        from torch import nn


        def main():
            torch.manual_seed(0)
            model = nn.Linear(4, 2)
            print(model(torch.randn(3, 4)).sum())


        main()


        def main():
            model = nn.Linear(4, 2)
            torch.manual_seed(0)
            print(model(torch.randn(3, 4)).sum())


        main()
        """
    )
    after = before.replace(
        "    torch.manual_seed(0)\n    model = nn.Linear(4, 2)\n    print",
        "    model = nn.Linear(4, 2)\n    torch.manual_seed(0)\n    print",
        1,
    )
    got, want, stored = _reused_and_fresh(script, before, after)
    assert [(line, col, code) for line, col, code, *_ in want][0] == (6, 12, "TRP101")
    assert got == want and not stored


def test_a_literal_augmented_later_is_read() -> None:
    """`total = 0` then `total += loss`: the augmented assignment reads `total`, so the literal is not inert
    (skipping it would leave `total` unbound for the walk)."""
    fn = ast.parse("def f(loss):\n    total = 0\n    total += loss\n    _seen = 0\n").body[0]
    assert isinstance(fn, ast.FunctionDef)
    reads = S.local_reads(fn)
    assert reads is not None and "total" in reads
    assert [S.inert_statement(s, reads) for s in fn.body] == [False, False, True]


_UNSETTLED = """\
import torch
import torch.nn as nn


def train(loader):
    a = b = c = d = e = f = None
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    for x in loader:
        f = e
        e = d
        d = c
        c = b
        b = a
        a = model
    with torch.no_grad():
        f(x)


if __name__ == "__main__":
    train([1, 2])
"""


def test_a_note_that_names_a_line_moves_with_it(script) -> None:
    """Second review: the stored notes (`--verbose`: `loop at line 8 not settled ...`) were kept as they
    were while the loop moved. The line a note names (`at line N`, a loop of this file) moves as the
    statements do; answered from the store, the notes are the fresh ones."""
    after = _UNSETTLED.replace("    a = b = c", "    _unused = 1\n    _more = 2\n    a = b = c")
    path, settings, walked = script.path, script.settings, script.walked
    path.write_text(_UNSETTLED)
    reset_projects()
    before = program.analyze(_UNSETTLED, ast.parse(_UNSETTLED), str(path), replace(settings, cache=True)).widened
    assert before == ["train: loop at line 8 not settled in 4 passes: the modes it still changes are unknown"]
    reset_projects()
    got = program.analyze(after, ast.parse(after), str(path), replace(settings, cache=True)).widened
    assert walked == ["train.py"]  # answered from the store
    reset_projects()
    want = program.analyze(after, ast.parse(after), str(path), settings).widened
    assert got == want == [before[0].replace("line 8", "line 10")]


def test_a_literal_bound_to_a_name_the_function_binds_otherwise_is_not_inert(script) -> None:
    """Second review: `for p in net.parameters(): p = 0` -- `p` is never read, but the loop's scan of what
    it does with each parameter counts the store: only a name the function uses nowhere else is inert."""
    before = textwrap.dedent(
        """\
        import torch.nn as nn


        def main():
            net = nn.Linear(2, 2)
            for p in net.parameters():
                pass


        if __name__ == "__main__":
            main()
        """
    )
    got, want, stored = _reused_and_fresh(script, before, before.replace("        pass\n", "        p = 0\n"))
    assert [(line, col, code) for line, col, code, *_ in want] == [(5, 10, "TRP101")]  # (TRP104 before)
    assert got == want and not stored
    fn = ast.parse(before).body[1]
    assert isinstance(fn, ast.FunctionDef) and "p" in (S.local_reads(fn) or ())


def test_a_nested_functions_statements_are_never_inert() -> None:
    """Second review: `_global_sizes` reads every assignment of a class's `__init__`, nested functions
    included, so a literal in a function nested in a walked one is code, not an inert line."""
    text = "def __init__(self):\n    def _note():\n        nz = 0\n    _typed = 1\n    self.n = 2\n"
    flags = "".join(c[0] for c in _codes(text))
    assert flags == "cccIc"


_TRAINED_AFTER = """\
import torch
import torch.nn as nn
from helpers import prepare


def main():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
{mode}    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    model(torch.ones(1, 2)).sum().backward()
    opt.step()


if __name__ == "__main__":
    main()
"""


def _trained_after(mode: str) -> str:
    """A script whose main seeds, builds a model, runs ``mode`` (the statements that set its mode) and then
    a training step: a TRP203 when ``mode`` leaves the model in eval mode."""
    return _TRAINED_AFTER.replace("{mode}", mode)


def _eval_helper(script, pad: int) -> None:
    """helpers.py beside the script: ``prepare(model)`` calls ``model.eval()`` at line ``pad + 2``."""
    (script.path.parent / "helpers.py").write_text("# pad\n" * pad + "def prepare(model):\n    model.eval()\n")


def test_the_eval_line_of_another_file_stays_where_it_is(script) -> None:
    """Second review: the `.eval()` a TRP203 names is a helper's, in another file (line 10 there); a
    docstring typed into this file's main moved it as if it were this file's line. The event names that
    file: its line stays where it is."""
    _eval_helper(script, 8)
    before = _trained_after("    prepare(model)\n")
    typed = before.replace("def main():\n", 'def main():\n    """Train."""\n')
    got, want, stored = _reused_and_fresh(script, before, typed)
    assert [(line, col, code) for line, col, code, *_ in want] == [(12, 4, "TRP203")]
    assert "after `.eval()` at helpers.py:10:" in want[0][3]  # not main's `opt = ...`, line 10 here
    assert got == want and stored


_OPTIONS = """\
import argparse

import torch
import torch.nn as nn


def export_formats():
    rows = [("torchscript", ".torchscript"), ("onnx", ".onnx")]
    torch.set_num_threads(1)
    return rows


def run(hidden=8, dropout=0.5):
    model = nn.Sequential(nn.Linear(4, hidden), nn.Dropout(dropout))
    torch.manual_seed(0)
    model.eval()
    return model


def parse_opt():
    parser = argparse.ArgumentParser()
    parser.add_argument("--hidden", type=int, default=8)
    parser.add_argument("--dropout", type=float, default=0.5)
    return parser.parse_args()


if __name__ == "__main__":
    export_formats()
    run(**vars(parse_opt()))
"""


def test_an_edit_above_the_options_moves_their_lines_with_them(script) -> None:
    """The module's summary keeps the line of each option's `add_argument`. An inert statement typed into a
    function above them (yolov5's export.py: the first code edit after a whole-project lint) moved those
    lines, so the summaries differed and the file was analysed whole. An option's line reaches a finding
    only inside a sentence, which the store never moves: the summaries are compared without them."""
    typed = _OPTIONS.replace("    torch.set_num_threads(1)\n", "    torch.set_num_threads(1)\n    _edited = 'x'\n")
    got, want, stored = _reused_and_fresh(script, _OPTIONS, typed)
    assert [(line, col, code) for line, col, code, *_ in want] == [(15, 12, "TRP101")]
    assert got == want and stored
    # typed in the options' own function, above them
    inside = _OPTIONS.replace("    parser = argparse", "    _edited = 'x'\n    parser = argparse")
    got, want, stored = _reused_and_fresh(script, _OPTIONS, inside)
    assert got == want and stored
    # an option's default changed is another summary: analysed whole
    changed = typed.replace('"--hidden", type=int, default=8', '"--hidden", type=int, default=16')
    got, want, stored = _reused_and_fresh(script, typed, changed)
    assert got == want and not stored


def test_the_eval_a_message_names_does_not_change_with_an_edit(script) -> None:
    """Review: a model put in eval mode by this file's `.eval()` (line 10) on one path and by a helper's
    (helpers.py:11) on the other. The message names the first source by (kind, line, file): a line of this
    file, moved by two comment lines, falls behind the helper's; the store moved its own and kept it."""
    _eval_helper(script, 9)
    before = _trained_after(
        "    if torch.cuda.is_available():\n        model.eval()\n    else:\n        prepare(model)\n"
    )
    typed = before.replace("from helpers import prepare\n", "from helpers import prepare\n# one\n# two\n")
    got, want, stored = _reused_and_fresh(script, before, typed)
    assert [(line, col, code) for line, col, code, *_ in want] == [(16, 4, "TRP203")]
    assert got == want and stored


# ------------------------------------------------------------------ keys taken by text (edits.keys_by_text)
def _stored_and_keys(path: Path, text: str, edited: str, settings: Settings) -> tuple[dict | None, bool, dict | None]:
    """(the stored analysis of ``text``, whether ``edited`` may take its keys by text, the keys made from
    ``edited`` the long way)."""
    from torchlint_repro.analysis.context import ModuleCtx
    from torchlint_repro.analysis.project import project_for

    reset_projects()
    _answer(path, text, settings)
    reset_projects()
    project = project_for(str(path), settings)
    assert project is not None and project.cache is not None
    resolved = str(path.resolve())
    stored = project.cache.get_json("edits", f"{resolved}\0{settings.fingerprint()}")
    if stored is None:  # (an analysis with nothing to keep: a file it cannot lay out)
        return None, False, None
    tree = ast.parse(edited)
    units = E.layout(tree, edited)
    by_text = not program._redefines(tree) and E.keys_by_text(
        stored, units, program._Codes(tree, edited, stored["scanned"])
    )
    rec = project.record_for_path(resolved, edited, tree)
    ctx = ModuleCtx(str(path), tree, project, linted=True, seed_funcs=frozenset(settings.seed_functions))
    _, keys = program._layout_and_keys(project, ctx, rec, edited, tree)
    reset_projects()
    return stored, by_text, keys


def test_keys_taken_by_text_are_the_keys_made_from_the_text(tmp_path, monkeypatch):
    """Every fixture, every edit of _edits: where the stored keys are taken without making the new text's
    facts and summary (comments and inert statements of functions a walk read), they are the keys the new
    text makes. The differential test above checks the answers; this checks the claim itself."""
    monkeypatch.setenv("TORCHLINT_CACHE_DIR", str(tmp_path / "cache"))
    taken = refused = 0
    for n, unit in enumerate(UNITS):
        copy = isolated_copy(unit, tmp_path / f"proj{n}")
        for path in unit_files(copy):
            if path.suffix != ".py":
                continue
            text = path.read_text(encoding="utf-8")
            try:
                ast.parse(text)
            except SyntaxError:
                continue  # (a fixture of what cannot be parsed)
            settings = replace(fixture_settings(path), cache=True)
            for what, edited in _edits(text):
                try:
                    ast.parse(edited)
                except SyntaxError:
                    continue  # (typed where a statement cannot go: the differential test covers it)
                stored, by_text, keys = _stored_and_keys(path, text, edited, settings)
                if stored is None:
                    continue
                if by_text:
                    assert keys == stored["keys"], f"{path.name}: {what}"
                    taken += 1
                else:
                    refused += 1
    assert taken > 300 and refused > 300  # (both sides exercised: comments and inert lines, and code)


def test_a_module_that_defines_a_name_twice_makes_its_keys(script):
    """A notebook-like script defining `evaluate` twice: its facts name the definitions by their lines
    (`evaluate@5`), so a comment typed above them changes the keys; the text shortcut must not take the
    stored ones (the answer is still the fresh one)."""
    before = textwrap.dedent(
        """\
        import torch
        from torch import nn


        def evaluate(model, x):
            return model(x)


        def evaluate(model, x):
            with torch.no_grad():
                return model(x)


        model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
        evaluate(model, torch.zeros(1, 2))
        """
    )
    after = "# a comment typed at the top\n" + before
    assert program._redefines(ast.parse(after))
    got, fresh, _ = _reused_and_fresh(script, before, after)
    assert got == fresh
    assert [(line, col, code) for line, col, code, _, _ in got] == [(12, 15, "TRP201"), (15, 8, "TRP101")]


def test_comments_and_inert_statements_anywhere_skip_the_facts(script, monkeypatch):
    """An inert statement typed into a helper no walk reads (and a comment into a function one does) is
    answered without making the buffer's facts (or its summary): the stored keys are taken by text. A call
    typed into the helper makes them (the keys compare)."""
    from torchlint_repro.analysis import project as P

    built: list[str] = []
    real = P.build_facts
    monkeypatch.setattr(P, "build_facts", lambda tree, module, pkg: built.append(module) or real(tree, module, pkg))
    path, settings, walked = script.path, script.settings, script.walked
    path.write_text(_HELPER)
    before = _answer(path, _HELPER, settings)
    assert [(line, col, code) for line, col, code, *_ in before] == [(12, 15, "TRP201"), (15, 8, "TRP101")]
    assert built == ["train"] and walked == ["train.py"]
    inert = _HELPER.replace("    width = 40\n", "    width = 40\n    _debug = 'typed'\n").replace(
        "        return model(x)\n", "        # a comment\n        return model(x)\n"
    )
    reset_projects()
    after = _answer(path, inert, settings)
    assert [(line, col, code) for line, col, code, *_ in after] == [(14, 15, "TRP201"), (17, 8, "TRP101")]
    assert built == ["train"] and walked == ["train.py"]  # neither facts made nor walked
    reset_projects()
    called = inert.replace("    _debug = 'typed'\n", "    _debug = len('typed')\n")
    assert _answer(path, called, settings) == after
    assert built == ["train", "train"] and walked == ["train.py"]  # facts made; keys equal: from the store


def test_line_codes_kept_are_the_last_texts(script):
    """The line codes kept for the next edit are those of the text last analysed, also for a function
    whose change the comparison did not need them for (an unread helper given a call): an inert edit after
    it is compared with that text, not with the one before."""
    path, settings, walked = script.path, script.settings, script.walked
    called = _HELPER.replace("    width = 40\n", "    width = len('=' * 40)\n")
    back = _HELPER.replace("    width = 40\n", "    width = 40\n    _debug = 1\n")  # the call gone, inert added
    path.write_text(_HELPER)
    reset_projects()
    _answer(path, _HELPER, settings)
    reset_projects()
    _answer(path, called, settings)  # answered from the store (an unread helper), its codes kept
    reset_projects()
    from torchlint_repro.analysis.project import project_for

    project = project_for(str(path), settings)
    assert project is not None and project.cache is not None
    stored = project.cache.get_json("edits", f"{path.resolve()}\0{settings.fingerprint()}")
    tree = ast.parse(back)
    assert not E.keys_by_text(stored, E.layout(tree, back), program._Codes(tree, back, stored["scanned"]))
    reset_projects()
    got, fresh, _ = _reused_and_fresh(script, called, back)
    assert got == fresh
    assert walked.count("train.py") >= 1


def test_a_whole_analysis_keeps_the_codes_of_unchanged_functions_and_makes_the_changed_ones(script, monkeypatch):
    """A call typed into walked code is analysed whole; the line codes it keeps for the next edit are every
    function's of the new text: taken from the last analysis for a function whose text is unchanged, made
    from the text for the one the edit changed (only that one is made)."""
    from torchlint_repro.analysis.project import project_for

    path, settings, walked = script.path, script.settings, script.walked
    path.write_text(_HELPER)
    _answer(path, _HELPER, settings)
    assert walked == ["train.py"]
    # (a call handed the model: not a quiet statement, see edits.Quiet)
    called = _HELPER.replace("        return model(x)\n", "        print(len(model))\n        return model(x)\n")
    assert called != _HELPER
    made: list[int] = []
    real = E.line_codes
    monkeypatch.setattr(
        E, "line_codes", lambda fn, lines, unit, *a: made.append(unit.start) or real(fn, lines, unit, *a)
    )
    reset_projects()
    got = _answer(path, called, settings)
    assert walked == ["train.py", "train.py"]  # walked again: the call is read
    assert [(line, col, code) for line, col, code, *_ in got] == [(13, 15, "TRP201"), (16, 8, "TRP101")]
    assert made == [10]  # evaluate's codes (the function the call was typed into), not banner's
    project = project_for(str(path), settings)
    assert project is not None and project.cache is not None
    stored = project.cache.get_json("edits", f"{path.resolve()}\0{settings.fingerprint()}")
    tree = ast.parse(called)
    units = E.layout(tree, called)
    judge = E.Quiet(stored["names"], stored["tracked"], stored["scanned"], E.quiet_library)
    fresh = E.read_line_codes(tree, called, units, [u.name for u in units if u.kind == "def"], stored["scanned"], judge)
    assert stored["lines"] == fresh and sorted(fresh) == ["2", "3"]  # banner, evaluate


# a training script whose main the walks read, with a helper, a loop and findings on both sides of the edits
_QUIET = """\
import os
import time

import torch
import torch.nn as nn


def helper(m):
    return m


def main():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    x = torch.ones(2, 4)
    epochs = 3
    for epoch in range(epochs):
        print("epoch", epoch)
    with torch.no_grad():
        y = model(x)
    print(y)


main()
"""


def _reuses(monkeypatch) -> list[bool]:
    """Whether each lint from here on was answered from the stored analysis (edits.moved_events)."""
    got: list[bool] = []
    real = E.moved_events
    monkeypatch.setattr(E, "moved_events", lambda *a, **k: got.append(real(*a, **k) is not None) or real(*a, **k))
    return got


def _findings(answer) -> list[tuple[int, int, str]]:
    return [(line, col, code) for line, col, code, *_ in answer]


@pytest.mark.parametrize(
    "typed",
    [
        "_edited = len('tag')",  # the bench's call typed into main (bench/run.py --edit largest-call)
        'print(f"took {time.time()} s")',
        "logger_name = os.path.join('runs', 'a')",
        "_t0 = time.time()",
        "print(len(os.sep), 'validating')",
    ],
)
def test_a_quiet_statement_typed_into_a_walked_function_is_answered_from_the_store(script, monkeypatch, typed):
    """The editor's call typed into the walked main: it reads only names the walks never bound to what they
    track and calls builtins and standard modules, so the last analysis answers, the findings below it
    moved by its line, exactly as a whole analysis finds them."""
    path, settings, walked = script.path, script.settings, script.walked
    path.write_text(_QUIET)
    assert _findings(_answer(path, _QUIET, settings)) == [(13, 12, "TRP101"), (19, 12, "TRP201")]
    reused = _reuses(monkeypatch)
    text = _QUIET.replace("    with torch.no_grad():\n", f"    {typed}\n    with torch.no_grad():\n")
    reset_projects()
    got = _answer(path, text, settings)
    assert reused == [True] and walked == ["train.py"]
    assert _findings(got) == [(13, 12, "TRP101"), (20, 12, "TRP201")]
    reset_projects()
    assert got == _answer(path, text, replace(settings, cache=False))


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("print(model)", "hands the model to a call"),
        ("print(y)", "reads a forward's output"),
        ("print(epochs)", "reads a literal the walks track"),
        ("_m = helper(epochs)", "calls a function of the module"),
        ("torch.manual_seed(0)", "seeds torch"),
        ("_d = nn.Dropout(0.5)", "builds an object of a library"),
        ("_s = epochs.step()", "an attribute the walks act on"),
        ("_t = len('a')\n    print(_t)", "binds a name read after it"),
        ("_e = eval('model')", "a builtin that reads any name"),
        ("_l = [m for m in range(3)]", "a comprehension"),
    ],
)
def test_a_statement_that_may_reach_what_the_walks_track_is_analysed_whole(script, monkeypatch, typed, why):
    """Near misses of a quiet statement: each is analysed whole (and the answer is a whole analysis's)."""
    path, settings, walked = script.path, script.settings, script.walked
    path.write_text(_QUIET)
    _answer(path, _QUIET, settings)
    reused = _reuses(monkeypatch)
    text = _QUIET.replace("    with torch.no_grad():\n", f"    {typed}\n    with torch.no_grad():\n")
    reset_projects()
    got = _answer(path, text, settings)
    assert reused in ([], [False]) and walked == ["train.py", "train.py"], why
    reset_projects()
    assert got == _answer(path, text, replace(settings, cache=False))


def test_quiet_statements_typed_in_turn_spend_the_room_the_walk_left(script, monkeypatch):
    """A quiet assignment typed, then rewritten in place (the same name: no new state), then renamed (a new
    name from that point: the walk's memoised calls may split), then another added: each is compared with
    the last text; the room the measured walk left is spent by new names only, and once spent the next
    edit is analysed whole (and measures the walk again)."""
    path, settings, walked = script.path, script.settings, script.walked
    path.write_text(_QUIET)
    _answer(path, _QUIET, settings)
    stored = program.project_for(str(path), settings).cache.get_json(
        "edits", f"{path.resolve()}\0{settings.fingerprint()}"
    )
    # (main calls nothing in place and walks a few statements; the module level calls main)
    assert stored["room"] == {"": 8, "<module>": 4}
    reused = _reuses(monkeypatch)
    at = "    with torch.no_grad():\n"
    texts = [
        _QUIET.replace(at, "    _a = len('1')\n" + at),
        _QUIET.replace(at, "    _a = len('2')\n" + at),
        _QUIET.replace(at, "    _b = len('2')\n" + at),
        _QUIET.replace(at, "    _b = len('2')\n    _c = len('3')\n" + at),
    ]
    for text in texts:
        want = _answer_fresh(path, text, settings)
        del walked[:]
        assert _answer(path, text, settings) == want and walked == []
    # `_a` typed, `_b` for `_a`, `_c` typed spend 3 of the 8 names of room (`_a` rewritten binds no new name)
    assert reused == [True, True, True, True]
    stored = program.project_for(str(path), settings).cache.get_json(
        "edits", f"{path.resolve()}\0{settings.fingerprint()}"
    )
    assert stored["room"] == {"": 8 - 3, "<module>": 4, "main": 8 - 3}


def _answer_fresh(path: Path, text: str, settings: Settings) -> list[tuple]:
    reset_projects()
    got = _answer(path, text, replace(settings, cache=False))
    reset_projects()
    return got


_NESTED = """\
import torch
import torch.nn as nn


def main():
    model = nn.Linear(4, 4)
    for a in range(2):
        for b in range(2):
            for c in range(2):
                for d in range(2):
                    model(torch.ones(1, 4))
    print(model)


main()
"""


def test_a_loop_with_no_pass_left_takes_quiet_expressions_only(script, monkeypatch):
    """A loop inside three others is walked once (NESTED_LOOP_PASSES): a name bound in its body would take
    it a pass more than its bound, so a quiet assignment there is analysed whole; a quiet expression binds
    nothing and is answered from the store."""
    path, settings, walked = script.path, script.settings, script.walked
    path.write_text(_NESTED)
    _answer(path, _NESTED, settings)
    reused = _reuses(monkeypatch)
    at = "                    model(torch.ones(1, 4))\n"
    expr = _NESTED.replace(at, "                    print('step')\n" + at)
    want = _answer_fresh(path, expr, settings)
    del walked[:]
    assert _answer(path, expr, settings) == want and reused == [True] and walked == []
    bound = _NESTED.replace(at, "                    _step = len('x')\n" + at)
    want = _answer_fresh(path, bound, settings)
    del walked[:]
    assert _answer(path, bound, settings) == want and reused == [True, False] and walked == ["train.py"]


def test_a_function_another_files_program_walks_takes_no_quiet_statement(tmp_path, monkeypatch):
    """A function of helpers.py that train.py's program walks: the names train.py's walks bound are not
    recorded with helpers.py's analysis, so a quiet statement typed there is analysed whole."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text("[tool.torchlint-repro]\n")
    helpers = "import torch\n\n\ndef evaluate(model, x):\n    with torch.no_grad():\n        return model(x)\n"
    (root / "helpers.py").write_text(helpers)
    (root / "train.py").write_text(
        "import torch\nimport torch.nn as nn\nfrom helpers import evaluate\n\n"
        "model = nn.Dropout(0.5)\nevaluate(model, torch.ones(2))\n"
    )
    monkeypatch.setenv("TORCHLINT_CACHE_DIR", str(tmp_path / "cache"))
    settings = Settings(select=("TRP",))
    reset_projects()
    before = _answer(root / "helpers.py", helpers, settings)
    assert _findings(before) == [(6, 15, "TRP201")]
    reused = _reuses(monkeypatch)
    text = helpers.replace("        return", "        print('x')\n        return")
    reset_projects()
    got = _answer(root / "helpers.py", text, settings)
    assert reused == [False] and _findings(got) == [(7, 15, "TRP201")]
    reset_projects()


def _judge(tracked=(), scanned=(), names=({}, [], False)) -> E.Quiet:
    return E.Quiet(list(names), tracked, scanned, E.quiet_library)


def test_line_codes_name_quiet_statements_and_what_they_bind() -> None:
    """E: a quiet expression, Q: a quiet assignment (followed by the names it binds), q: their next lines;
    a statement that reads a tracked name, a scanned one or binds a name read elsewhere is code."""
    text = (
        "def main(model, n):\n"
        "    print('epoch', n)\n"
        "    _t = len(\n"
        "        'x')\n"
        "    print(model)\n"
        "    _u = 1 + n\n"
        "    print(_u)\n"
        "    _w = os.getcwd()\n"
    )
    tree = ast.parse(text)
    (unit,) = E.layout(tree, text)
    lines = text.splitlines(keepends=True)
    judge = _judge(tracked=["model"], names=({"os": "os"}, [], False))
    codes = E.line_codes(tree.body[0], lines, unit, [], judge)
    assert "".join(c[0] for c in codes) == "cEQqccEQ"  # (`_u` read after: code; `print(_u)` reads nothing tracked)
    assert codes[2].endswith(":4:_t") and codes[7].endswith(":4:_w")
    assert judge.targets == {"_t", "_w"}
    # `n` scanned: the statements naming it are code; `os` a project module (not a library no rule follows)
    scanned = E.line_codes(tree.body[0], lines, unit, ["n"], _judge(["model"], ["n"]))
    assert "".join(c[0] for c in scanned) == "ccQqccEQ"
    project_os = E.Quiet([{"os": "os"}, [], False], ["model"], [], lambda q: False)
    assert "".join(c[0] for c in E.line_codes(tree.body[0], lines, unit, [], project_os)) == "cEQqccEc"


@pytest.mark.parametrize(
    ("statement", "quiet"),
    [
        ("print('x')", True),
        ("_a = len('x') + 1", True),
        ("_a = np.mean(xs)", True),
        ("_a = np.random.rand(3)", False),  # numpy.random: seeds and draws
        ("_a = random.random()", False),
        ("_a = torch.ones(1)", False),
        ("_a = Path('x')", False),  # a class built
        ("_a = getattr(xs, 'eval')", False),
        ("xs.add_(1)", False),  # in place
        ("xs.eval()", False),
        ("_a = xs.train", False),
        ("_a = set_seed(1)", False),  # a seeder by its name, whatever it is
        ("_a = log_line(1)", True),  # a name the module binds nowhere: the walks know nothing of it
        ("mp.set_start_method('spawn')", False),
        ("_a = (yield xs)", False),
        ("_a = lambda: xs", False),
        ("_a, _b = 1, len('x')", False),  # (only plain names are bound quietly)
        ("_a = _a = len('x')", False),
    ],
)
def test_what_a_quiet_statement_may_hold(statement: str, quiet: bool) -> None:
    fn = ast.parse(f"def f(xs):\n    {statement}\n    return xs\n").body[0]
    assert isinstance(fn, ast.FunctionDef)
    names = {"np": "numpy", "random": "random", "torch": "torch", "Path": "pathlib.Path", "mp": "multiprocessing"}
    judge = E.Quiet([names, [], False], [], [], E.quiet_library)
    lines = f"def f(xs):\n    {statement}\n    return xs\n".splitlines(keepends=True)
    assert (judge(fn, fn.body[0], lines) is not None) is quiet


def test_quiet_line_map_counts_the_names_bound_anew() -> None:
    judge = _judge()
    base = "def main():\n    model = make()\n    return model\n"

    def codes(text: str) -> list[str]:
        tree = ast.parse(text)
        (unit,) = E.layout(tree, text)
        return E.line_codes(tree.body[0], text.splitlines(keepends=True), unit, [], judge)

    typed = codes(base.replace("    return", "    _a = len('1')\n    return"))
    assert E.quiet_line_map(codes(base), typed) == ([(0, 1, 0), (2, 2, 1)], 1)
    assert E.quiet_line_map(typed, codes(base)) == ([(0, 1, 0), (3, 3, -1)], 0)  # removed: nothing new
    assert E.quiet_line_map(typed, codes(base.replace("    return", "    _a = len('2')\n    return")))[1] == 0
    assert E.quiet_line_map(typed, codes(base.replace("    return", "    _b = len('1')\n    return")))[1] == 1
    # the same statement indented into a loop above it: bound in the loop's passes, from another point
    looped = "def main():\n    for i in range(2):\n        model = make()\n    _a = len('1')\n    return model\n"
    inside = looped.replace("    _a = len('1')", "        _a = len('1')")
    assert E.quiet_line_map(codes(looped), codes(inside))[1] == 1
    assert E.quiet_line_map(codes(base), typed, quiet=False) is None
    assert E.inert_line_map(codes(base), typed) is None


def test_the_room_a_walk_leaves_for_quiet_assignments() -> None:
    """Each name typed may double the walks of a function called in place (16 from one entry point) and
    the statements walked (20,000 from one entry point, 400,000 from one file)."""
    assert E.quiet_room(False, 0, 10, 10) == 8
    assert E.quiet_room(False, 0, 100, 100) == 7  # 100 << 8 = 25,600 statements: past the budget
    assert E.quiet_room(False, 4, 10, 10) == 2  # 4 -> 8 -> 16
    assert E.quiet_room(False, 9, 10, 10) == 0  # quiet expressions only
    assert E.quiet_room(False, 0, 6_000, 6_000) == 1  # 6,000 -> 12,000 (-> 24,000: past the budget)
    assert E.quiet_room(False, 0, 12_000, 12_000) == -1  # a quiet expression is one statement more
    assert E.quiet_room(True, 0, 100, 100) == -1  # a bound an edit may move was hit


# programs where a rule reads a function's text past its walk, or a call does something by its name alone:
# the statement typed looks quiet, and must not be answered from the store unless the answer is the fresh one
_RESTORED_RUN = """\
import torch
import torch.nn as nn


def main():
    model = nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.5))
    model.load_state_dict(torch.load("best.pt", weights_only=True))
    x = torch.ones(2, 8)
    return model(x)


main()
"""

_KEYS_COUNTED = """\
import torch
import torch.nn as nn


def main():
    model = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 2))
    sd = torch.load("partial.pt", weights_only=True)
    absent = 0
    for name in model.state_dict():
        if name not in sd:
            absent += 1
    model.load_state_dict(sd, strict=False)
    return absent


main()
"""

_LOOKED_INTO = """\
import copy

import torch.nn as nn


def show(m):
    print(m)
    snapshot = copy.deepcopy(m)


def main():
    layer = nn.Linear(3, 3)
    show(layer)


main()
"""

_PARAMS_TAKEN = """\
import torch
import torch.nn as nn


def main():
    body = nn.Linear(6, 6)
    weights = list(body.parameters())
    body.load_state_dict(torch.load("body.pt", weights_only=True))
    tail = nn.Linear(6, 1)
    return body, tail, weights


main()
"""

_TWO_RESTORED = """\
import os

import torch
import torch.nn as nn


def main():
    x = torch.ones(2, 4)
    first = nn.Dropout(0.5)
    first.load_state_dict(torch.load("a.pt"))
    flag = os.environ.get("FLAG")
    second = nn.Dropout(0.5)
    second.load_state_dict(torch.load("b.pt"))
    if flag:
        second.eval()
    chosen = first if flag else second
    return chosen(x)


main()
"""


# a helper called in place 15 times with different states (one short of MAX_INLINES_PER_FUNCTION), then once
# more in a loop: a name bound in the loop makes that call's state new, a 17th walk, past the bound
_MANY_CALLS = (
    "import time\n\nimport torch\nimport torch.nn as nn\n\n\n"
    "def adjust(m, k):\n    if k == 99:\n        m.eval()\n    return m\n\n\n"
    "def main(go):\n    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))\n"
    + "".join(f"    adjust(model, {k})\n" for k in range(15))
    + "    while go:\n        adjust(model, 14)\n    _t = time.time()\n"
    "    with torch.no_grad():\n        return model(torch.ones(1, 2))\n\n\nmain(False)\n"
)


@pytest.mark.parametrize(
    ("text", "old", "new"),
    [
        # a quiet assignment indented into the loop above it: not the same point of the same block
        (_MANY_CALLS, "    _t = time.time()\n", "        _t = time.time()\n"),
        # a training step by its callee's name alone (Walker._unknown_call): the forward is no inference then
        (_RESTORED_RUN, "    return model(x)\n", "    manual_backward()\n    return model(x)\n"),
        (_RESTORED_RUN, "    return model(x)\n", "    trainer.backward_step()\n    return model(x)\n"),
        # a report inside the loop over the model's keys audits the discarded result (what surrounds it says so)
        (_KEYS_COUNTED, "            absent += 1\n", "            absent += 1\n            print('absent')\n"),
        # a helper looked into for what it does with the model, not walked: its parameter is bound by no walk
        (_LOOKED_INTO, "    snapshot = copy.deepcopy(m)\n", ""),
        (_LOOKED_INTO, "    print(m)\n", "    print(m)\n    keep = copy.deepcopy(m)\n"),
        # the values of a parameter collection read before the strict load that restores them
        (_PARAMS_TAKEN, "    body.load_state_dict", "    print(sum(weights))\n    body.load_state_dict"),
        # two models reach one forward: the one reported is the first by its site, in line order, edit or not
        (_TWO_RESTORED, "    x = torch.ones(2, 4)\n", "    x = torch.ones(2, 4)\n    print('start')\n"),
        (_TWO_RESTORED, "    x = torch.ones(2, 4)\n", "    # first\n    x = torch.ones(2, 4)\n"),
    ],
)
def test_what_a_rule_reads_past_the_walk_keeps_an_edit_from_being_answered_wrong(script, text, old, new):
    """Each edit is answered as a whole analysis answers it (from the store or not)."""
    path, settings = script.path, script.settings
    path.write_text(text)
    _answer(path, text, settings)
    edited = text.replace(old, new, 1)
    assert edited != text
    reset_projects()
    got = _answer(path, edited, settings)
    assert got == _answer_fresh(path, edited, settings)


def test_values_are_ordered_by_the_numbers_in_them() -> None:
    """Sites hold lines: ordered as numbers, an edit that moves every line below it keeps their order."""
    from torchlint_repro.analysis.values import in_order

    sites = ["train.py:9:4", "train.py:12:4", "train.py:10:8"]
    assert sorted(sites, key=in_order) == ["train.py:9:4", "train.py:10:8", "train.py:12:4"]
    moved = [s.replace(":9:", ":10:").replace(":12:", ":13:").replace(":10:8", ":11:8") for s in sites]
    assert [sites[moved.index(m)] for m in sorted(moved, key=in_order)] == sorted(sites, key=in_order)
    assert in_order("a.py:2") < in_order("b.py:1")  # the path first
