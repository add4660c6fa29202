"""Another module's skeleton (context.skeleton): a walk from elsewhere needs only a module's definitions and
the bodies it can enter, so once the module's summary is stored, later processes (an editor's lint after
each edit) parse its text with the rest blanked. The tree they get must be the whole parse's, stripped,
to the last position: a walk cannot tell which one it reads."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

from torchlint_repro.analysis import context as C
from torchlint_repro.analysis import program
from torchlint_repro.analysis.project import CONTEXTS, project_for, reset_projects
from torchlint_repro.config import Settings
from torchlint_repro.engine import lint_file, lint_source

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

HELPERS = '''\
"""Helpers the training script imports."""
from __future__ import annotations

import torch
from torch import nn

CONFIG = {
    "lr": 0.1,
    "sizes": [1, 2,
              3],
}
a = 1; b = 2
print("imported")


def plain(x, y=2):  # touches no model: its body is never walked
    """Adds."""
    total = x + y
    return total


def set_eval(model):
    model.eval()
    return model


def one_line(x): return x + 1


def continued(x):\\
    return x


class Net(nn.Module):
    size = 3

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        y = self.fc(x)
        return torch.relu(
            y
        )  # the last line of a stubbed body


if __name__ == "__main__":
    net = Net()
    print(net)

try:
    import numpy
except ImportError:
    numpy = None
'''

# what a later process parses of HELPERS: the module level blanked (a block keeps a `pass`), the bodies no
# walk enters turned into a literal that ends where the body ended; a statement sharing its line (`a = 1;
# b = 2`), a body on its header's line (`one_line`, `continued`) kept as they are
SKELETON = re.sub(
    r"^_$",
    " ",
    """\
_
from __future__ import annotations

_
_

_
_
_
_
_
a = 1; b = 2
_


def plain(x, y=2):  # touches no model: its body is never walked
_
_
    'xxxxxxxxxx'


def set_eval(model):
_
    'xxxxxxxxxx'


def one_line(x): return x + 1


def continued(x):\\
    return x


class Net(nn.Module):
    size = 3

    def __init__(self):
_
_
        'xxxxxxxxxxxxxxxxxxxxxxxxx'

    def forward(self, x):
_
_
_
        0


if __name__ == "__main__":
    pass
_

try:
    pass
except ImportError:
    pass
""",
    flags=re.M,
)  # (`_`: a blanked line, a space before its own line break)

TRAIN = """\
import torch
from helpers import Net, set_eval

torch.manual_seed(0)
net = set_eval(Net())
net.train()
with torch.no_grad():
    net(torch.zeros(1, 2))
"""


def _dump(ctx: C.ModuleCtx) -> list[tuple[str, str]]:
    nodes = [*ctx.functions.items(), *ctx.classes.items()]
    return [(name, ast.dump(node, include_attributes=True)) for name, node in nodes]


def _both(path: Path) -> tuple[C.ModuleCtx, C.ModuleCtx] | None:
    """The module's walkable context made from the whole parse (the first process: it summarises), then from
    its skeleton (a later one: the summary comes from the cache)."""
    real = os.path.realpath(path)
    project = project_for(real, Settings())
    if project is None:
        return None
    whole = C.module_ctx(project, real, frozenset())
    if whole is None:
        return None
    CONTEXTS.clear()
    again = C.module_ctx(project, real, frozenset())
    assert again is not None and again is not whole
    return whole, again


@pytest.fixture
def helpers_project(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHLINT_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "proj").mkdir()
    root = tmp_path / "proj"
    (root / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (root / "helpers.py").write_text(HELPERS)
    (root / "train.py").write_text(TRAIN)
    reset_projects()
    yield root
    reset_projects()


def test_a_later_process_parses_the_skeleton(helpers_project, monkeypatch):
    parsed: list[str] = []
    real_parse = C._parse

    def recording(source: str):
        parsed.append(source)
        return real_parse(source)

    monkeypatch.setattr(C, "_parse", recording)
    first = lint_file(str(helpers_project / "train.py"), Settings())
    assert parsed == [HELPERS]  # the first process parses it whole: it makes the summary and its skeleton
    reset_projects()
    parsed.clear()
    # an editor's buffer with a call typed in: walked again, into helpers.py. Its skeleton is parsed, then
    # the one body the walk enters, alone at its lines (`Net()` is built from the facts, its methods unread)
    again = lint_source(TRAIN + "print(len('edited'))\n", str(helpers_project / "train.py"), Settings())
    assert parsed == [SKELETON, " \n" * 21 + "def set_eval(model):\n    model.eval()\n    return model\n"]
    assert [(d.code, d.line, d.col) for d in again] == [(d.code, d.line, d.col) for d in first] == [("TRP201", 8, 4)]


def test_the_skeleton_gives_the_whole_parse_stripped(helpers_project):
    got = _both(helpers_project / "helpers.py")
    assert got is not None
    whole, again = got
    assert _dump(again) == _dump(whole)
    # the stubbed method ends where its body ended (a class's or function's end is a position like any other)
    forward = again.method("Net", "forward")
    assert forward is not None and (forward.end_lineno, forward.end_col_offset) == (46, 9)
    assert isinstance(forward.body[0], ast.Pass) and len(forward.body) == 1  # (the stub _strip_unwalked makes)
    init = again.method("Net", "__init__")
    assert init is not None and len(init.body) == 3  # a body a walk enters is kept


def test_a_body_a_walk_may_enter_is_parsed_when_first_read(helpers_project):
    """From the skeleton, the bodies a walk may enter are one literal each until something reads them; the
    first read (iterating, indexing, measuring, ``ast.walk``) parses the function's own lines, a method's
    under a header that opens its block, and gives the body of the whole parse, positions included. The
    function then holds a plain list; a body nothing read stays unparsed."""
    got = _both(helpers_project / "helpers.py")
    assert got is not None
    whole, again = got
    set_eval, init = again.functions["set_eval"], again.method("Net", "__init__")
    assert init is not None
    assert type(set_eval.body) is C.LazyBody and type(init.body) is C.LazyBody
    stub = list.__getitem__(set_eval.body, 0)  # (a look that does not read it)
    assert isinstance(stub, ast.Expr) and (stub.lineno, stub.end_lineno) == (24, 24)
    assert [type(s).__name__ for s in set_eval.body] == ["Expr", "Return"]
    assert type(set_eval.body) is list and (set_eval.body[0].lineno, set_eval.body[1].lineno) == (23, 24)
    assert type(init.body) is C.LazyBody  # nothing read it yet
    assert len(init.body) == 3 and type(init.body) is list
    assert init.body[2].col_offset == 8 and init.body[2].end_lineno == 40
    assert _dump(again) == _dump(whole)


@pytest.mark.parametrize(
    ("source", "kept"),
    [
        # a body whose last line ends left of its indentation: no literal can end there, so it is kept
        ("def f(x):\n    y = g(\nx)\n    return g(\n1)\n", True),
        # tabs: the literal is indented as the body is
        ("def f(x):\n\ty = x\n\treturn 'é' * y\n", False),
        # a body after a `;` on its header's line
        ("def f(x): y = x; return y\n", True),
    ],
)
def test_a_body_that_cannot_be_blanked_in_place_is_kept(tmp_path, monkeypatch, source, kept):
    monkeypatch.setenv("TORCHLINT_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    path = tmp_path / "mod.py"
    path.write_text(source, encoding="utf-8")
    reset_projects()
    got = _both(path)
    assert got is not None
    whole, again = got
    assert _dump(again) == _dump(whole)
    skeleton = whole._summary.skeleton
    assert skeleton is not None
    assert (skeleton == []) is kept
    if not kept:  # `return 'é' * y` ends 16 bytes in: the literal fills the tab's one byte to that column
        assert C.unbody(source, skeleton) == "def f(x):\n \n\t'xxxxxxxxxxxxx'\n"
    reset_projects()


def test_every_fixture_module_reads_the_same_from_its_skeleton(tmp_path, monkeypatch):
    """Every module of the fixtures, as another file's walk would read it: the same definitions, bodies and
    positions from the skeleton as from the whole parse."""
    monkeypatch.setenv("TORCHLINT_CACHE_DIR", str(tmp_path / "cache"))
    reset_projects()
    checked = stubbed = 0
    for path in sorted(FIXTURES.rglob("*.py")):
        got = _both(path)
        if got is None:
            continue
        whole, again = got
        assert _dump(again) == _dump(whole), path
        checked += 1
        stubbed += bool(whole._summary.skeleton)
    reset_projects()
    assert checked > 250 and stubbed > 200


@pytest.mark.parametrize(
    "source",
    [
        # lone `\r` line breaks (old Mac files), alone or one stray in a `\n` file: a blanked line after a
        # `\r` must not make one `\r\n` break of the two (every line below would move up)
        "def f():\r 0\n 0\n",
        "x = 1\n\rimport os\ndef g(model):\n    model.eval()\n",
        "def f(model):\r    model.eval()\rx = 1\rdef g(model):\r    model.eval()\r",
        "class A:\r    def m(self):\r        a = 1\r        return a\r",
        # a body that starts with a decorated def (functools.wraps): blanked from the decorator's line
        "import functools\n\n\ndef deco(fn):\n    @functools.wraps(fn)\n    def w(*a):\n        return fn(*a)\n"
        "    return w\n",
        # a decorated class in a module-level `except` (not collected: blanked whole, from its decorator)
        "try:\n    import numpy\nexcept ImportError:\n    @staticmethod\n    class N:\n        pass\n",
    ],
)
def test_line_breaks_and_decorators_keep_every_line(tmp_path, monkeypatch, source):
    """Found by a review: each of these once gave a tree whose lines moved, or a skeleton that did not parse
    (then the module was parsed twice)."""
    monkeypatch.setenv("TORCHLINT_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    path = tmp_path / "mod.py"
    path.write_bytes(source.encode("utf-8"))
    reset_projects()
    got = _both(path)
    assert got is not None
    whole, again = got
    assert _dump(again) == _dump(whole)
    skeleton = whole._summary.skeleton
    assert skeleton  # something was blanked, and the text it leaves parses
    assert C._parse(C.unbody(source, skeleton)) is not None
    reset_projects()


# a form feed before a `def` (a section break in older code) makes the definition's column 1: its lines cut
# out under an `if 1:` header do not parse (the form feed resets the indentation to none)
FORM_FEED_HELPERS = "import torch\n\n\x0cdef set_eval(model):\n    model.eval()\n    return model\n"
FORM_FEED_TRAIN = """\
import torch
from helpers import set_eval

torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.5))
set_eval(net)
with torch.no_grad():
    net(torch.zeros(1, 2))
"""


@pytest.fixture
def form_feed_project(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHLINT_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (root / "helpers.py").write_bytes(FORM_FEED_HELPERS.encode())
    (root / "train.py").write_text(FORM_FEED_TRAIN)
    reset_projects()
    yield root
    reset_projects()


def test_a_body_that_does_not_parse_alone_is_taken_from_the_whole_parse(form_feed_project):
    got = _both(form_feed_project / "helpers.py")
    assert got is not None
    whole, again = got
    set_eval = again.functions["set_eval"]
    assert type(set_eval.body) is C.LazyBody and set_eval.col_offset == 1
    assert [(type(s).__name__, s.lineno, s.col_offset) for s in set_eval.body] == [("Expr", 4, 4), ("Return", 5, 4)]
    assert not C.body_unreadable(set_eval)
    assert _dump(again) == _dump(whole)


def test_a_later_process_reads_the_helper_the_whole_parse_gives(form_feed_project):
    """The helper puts the model in eval mode: no TRP201 in the first process (whole parse) nor in an editor's
    next lint (skeleton; the body the own lines cannot give is read from the whole text)."""
    path = str(form_feed_project / "train.py")
    first = lint_file(path, Settings())
    reset_projects()
    again = lint_source(FORM_FEED_TRAIN + "print(len('edited'))\n", path, Settings())
    assert [d.code for d in first] == [d.code for d in again] == []


def test_a_body_that_cannot_be_read_again_widens_instead_of_reading_as_empty(form_feed_project):
    """The file changed after its skeleton was parsed in this process (its record's text is no longer on
    disk), and the function's own lines do not parse: the call is one the walk cannot see. The model may
    leave in any mode (no TRP201, nor one from an empty body: that would be a guess), and the widening is
    counted and named."""
    path = str(form_feed_project / "train.py")
    lint_file(path, Settings())
    reset_projects()
    project = project_for(path, Settings())
    assert project is not None
    helpers = os.path.realpath(form_feed_project / "helpers.py")
    ctx = C.module_ctx(project, helpers, frozenset())  # the skeleton, from the stored summary
    assert ctx is not None and type(ctx.functions["set_eval"].body) is C.LazyBody
    (form_feed_project / "helpers.py").write_bytes(FORM_FEED_HELPERS.replace("model.eval()", "pass").encode())
    edited = FORM_FEED_TRAIN + "print(len('edited'))\n"  # (an editor's buffer: walked again, into helpers.py)
    facts = program.analyze(edited, ast.parse(edited), path, Settings())
    assert [(e.kind, e.line) for e in facts.events] == []
    assert facts.widened == [
        "<module>: set_eval (helpers.py) could not be read again (its file changed while it was linted): "
        "what a call to it does is unknown"
    ]


# a base class's template method: its module judges `prepare()` not worth walking, but the subclass's
# override it runs puts the model in eval mode (faster-rcnn's create_architecture() / _init_modules())
TEMPLATE_BASE = "import torch.nn as nn\n\n\nclass Base(nn.Module):\n    def prepare(self):\n        self._setup()\n"
TEMPLATE_SMALL = """\
import torch.nn as nn

from base import Base


class Small(Base):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)
        self.drop = nn.Dropout(0.5)

    def _setup(self):
        self.eval()

    def forward(self, x):
        return self.drop(self.fc(x))
"""
TEMPLATE_TRAIN = """\
import torch
from small import Small

torch.manual_seed(0)
model = Small()
model.prepare()
with torch.no_grad():
    model(torch.ones(1, 2))
"""


@pytest.fixture
def template_project(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHLINT_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (root / "base.py").write_text(TEMPLATE_BASE)
    (root / "small.py").write_text(TEMPLATE_SMALL)
    (root / "train.py").write_text(TEMPLATE_TRAIN)
    reset_projects()
    yield root
    reset_projects()


def test_a_template_method_is_walked_for_the_override_it_runs(template_project):
    """`prepare()`'s body is stubbed in base.py's walkable context; it is read back and walked because it runs
    the subclass's `_setup()`, which evaluates the model: no TRP201, in the first process or the next."""
    path = str(template_project / "train.py")
    assert [d.code for d in lint_file(path, Settings())] == []
    reset_projects()
    assert [d.code for d in lint_source(TEMPLATE_TRAIN + "print(len('edited'))\n", path, Settings())] == []


def test_a_template_method_that_cannot_be_read_back_widens(template_project):
    """The file changed after its context was made in this process: `prepare()` cannot be read back, so the
    call is one the walk cannot see: the model may leave in any mode (no TRP201, nor one guessed from the
    stub), and the linted file's notes say so."""
    path = str(template_project / "train.py")
    lint_file(path, Settings())
    reset_projects()
    project = project_for(path, Settings())
    assert project is not None
    base = os.path.realpath(template_project / "base.py")
    ctx = C.module_ctx(project, base, frozenset())
    assert ctx is not None
    prepare = ctx.method("Base", "prepare")
    assert prepare is not None and isinstance(prepare.body[0], ast.Pass)  # (the stub)
    (template_project / "base.py").write_text(TEMPLATE_BASE.replace("self._setup()", "pass  # changed"))
    edited = TEMPLATE_TRAIN + "print(len('edited'))\n"
    facts = program.analyze(edited, ast.parse(edited), path, Settings())
    assert [(e.kind, e.line) for e in facts.events] == []
    assert facts.widened == [
        "<module>: Base.prepare (base.py) could not be read again (its file changed while it was linted): "
        "what a call to it does is unknown"
    ]
