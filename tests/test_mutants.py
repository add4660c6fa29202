"""Small programs that each pin one decision of the analysis with its exact findings (code, line,
column, message). Each test is named after the planted mistake (mutant) it kills; bench/MUTATION.md
records how each was confirmed to fail with the mistake in place."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

from torchlint_repro.config import Settings
from torchlint_repro.engine import lint_source

# TRP102 is off by default: every test here has it on, so that a false "some paths" finding shows
ALL = Settings(select=("TRP",), extend_select=("TRP102",), cache=False)


def lint(src: str, name: str = "prog.py") -> list[tuple[int, int, str, str]]:
    """Every finding as (line, 0-based column, code, message), sorted."""
    return [(d.line, d.col, d.code, d.message) for d in lint_source(textwrap.dedent(src), f"/nonexistent/{name}", ALL)]


# ---------------------------------------------------------------------------- (a) unknown wins a join
def test_a_seed_on_one_branch_of_a_library_function_stays_unknown() -> None:
    """A function nobody in the file calls starts from callers we do not see (seed "unknown"); seeding
    on one branch only must not turn that into "seeded on some paths" (a false TRP102)."""
    src = """
        import torch
        import torch.nn as nn

        def build(flag):
            if flag:
                torch.manual_seed(0)
            return nn.Linear(2, 2)
    """
    assert lint(src) == []


def test_a_unknown_wins_a_join_in_both_orders() -> None:
    """The seed on the else branch: "unknown" joined with "yes" from either side stays unknown."""
    src = """
        import torch
        import torch.nn as nn

        def build(flag):
            if flag:
                pass
            else:
                torch.manual_seed(0)
            return nn.Linear(2, 2)
    """
    assert lint(src) == []


# ---------------------------------------------------------------------------- (b) TYPE_CHECKING
def test_b_a_seed_under_type_checking_never_runs() -> None:
    """`if TYPE_CHECKING:` is false at run time: the seed in it seeds nothing (TRP101, not TRP102)."""
    src = """
        from typing import TYPE_CHECKING
        import torch
        import torch.nn as nn
        if TYPE_CHECKING:
            torch.manual_seed(0)
        model = nn.Linear(2, 2)
    """
    assert lint(src) == [
        (7, 8, "TRP101", "`Linear` is built before torch is seeded: its random init differs on every run"),
    ]


def test_b_the_else_of_type_checking_always_runs() -> None:
    src = """
        import typing
        import torch
        import torch.nn as nn
        if typing.TYPE_CHECKING:
            pass
        else:
            torch.manual_seed(0)
        model = nn.Linear(2, 2)
    """
    assert lint(src) == []


# ---------------------------------------------------------------------------- (c) loop fixpoint over modes
def test_c_a_while_loop_that_ends_in_eval_mode_trains_in_eval_mode_next_time() -> None:
    """Only the modes change in the loop body (no variable holds a forward's output, which would carry
    the mode too): the fixpoint must see that change, or the second iteration (which starts in eval
    mode) is never walked and TRP203 is lost."""
    src = """
        import torch
        import torch.nn as nn
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        x = torch.ones(2)
        step = 0
        model.train()
        while step < 10:
            model(x).sum().backward()
            opt.step()
            model.eval()
            step += 1
    """
    assert lint(src) == [
        (
            11,
            4,
            "TRP203",
            "training step while `model` may still be in eval mode after `.eval()` at line 13: "
            "dropout/batch-norm are off; call `model.train()` before training",
        ),
    ]


# ---------------------------------------------------------------------------- (d) .train() under no_grad
def test_d_train_inside_an_own_no_grad_block_is_batch_norm_recalibration() -> None:
    """`.train()` inside a `with torch.no_grad():` opened in the same function is deliberate
    (update_bn): the forward that follows is no TRP201."""
    src = """
        import torch
        import torch.nn as nn
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
        x = torch.ones(4, 2)
        model.eval()
        with torch.no_grad():
            model.train()
            model(x)
    """
    assert lint(src) == []


def test_d_train_under_an_own_no_grad_decorator_is_batch_norm_recalibration() -> None:
    src = """
        import torch
        import torch.nn as nn

        @torch.no_grad()
        def recalibrate(model, loader):
            model.train()
            for x in loader:
                model(x)
            model.eval()

        torch.manual_seed(0)
        net = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
        recalibrate(net, [torch.ones(4, 2)])
    """
    assert lint(src) == []


def test_d_a_train_made_under_no_grad_is_plain_once_the_region_is_left() -> None:
    """The same `.train()` is a plain one after the block: a later inference forward is TRP201."""
    src = """
        import torch
        import torch.nn as nn
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
        x = torch.ones(4, 2)
        with torch.no_grad():
            model.train()
            model(x)
        with torch.no_grad():
            print(model(x))
    """
    assert lint(src) == [
        (
            11,
            10,
            "TRP201",
            "`model` is in training mode when it runs under `torch.no_grad`: dropout/batch-norm "
            "stay live; call `model.eval()` first",
        ),
    ]


# ---------------------------------------------------------------------------- (e) while True
def test_e_while_true_is_left_only_through_break() -> None:
    """The seed runs before every `break`: after the loop torch is seeded on every path."""
    src = """
        import random
        import torch
        import torch.nn as nn
        while True:
            torch.manual_seed(0)
            if random.random() > 0.5:
                break
        model = nn.Linear(2, 2)
    """
    assert lint(src) == []


def test_e_while_true_without_break_never_reaches_what_follows() -> None:
    """The build after the loop is unreachable: only the one inside (seeded from the second pass on)."""
    src = """
        import torch
        import torch.nn as nn
        while True:
            model = nn.Linear(2, 2)
            torch.manual_seed(0)
        model = nn.Linear(3, 3)
    """
    assert lint(src) == [
        (
            5,
            12,
            "TRP102",
            "`Linear` is built where torch is seeded on some paths only; torch.manual_seed is "
            "called at line 6, after this construction",
        ),
    ]


# ---------------------------------------------------------------------------- (f) manual_backward
def test_f_lightning_manual_backward_is_a_training_step() -> None:
    src = """
        import torch
        import torch.nn as nn
        torch.manual_seed(0)
        net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
        x = torch.ones(2)
        net.eval()
        out = net(x)
        trainer.manual_backward(out.sum())
        trainer.optimizers().step()
    """
    assert lint(src) == [
        (
            8,
            6,
            "TRP203",
            "training step while `net` is in eval mode after `.eval()` at line 7: dropout/batch-norm "
            "are off; call `net.train()` before training",
        ),
    ]


# ---------------------------------------------------------------------------- (g) numpy seed hint
def test_g_trp101_says_that_numpy_and_random_seeds_do_not_seed_torch() -> None:
    src = """
        import random
        import numpy as np
        import torch.nn as nn
        np.random.seed(0)
        random.seed(0)
        model = nn.Linear(2, 2)
    """
    assert lint(src) == [
        (
            7,
            8,
            "TRP101",
            "`Linear` is built before torch is seeded: its random init differs on every run; "
            "numpy.random.seed (line 5) and random.seed (line 6) do not seed torch",
        ),
    ]


def test_g_one_other_seed_does_not_seed_torch() -> None:
    src = """
        import numpy
        import torch.nn as nn
        numpy.random.seed(0)
        model = nn.Linear(2, 2)
    """
    assert lint(src) == [
        (
            5,
            8,
            "TRP101",
            "`Linear` is built before torch is seeded: its random init differs on every run; "
            "numpy.random.seed (line 4) does not seed torch",
        ),
    ]


# ---------------------------------------------------------------------------- survivors of bench/mutation.py
def test_unknown_stays_unknown_through_two_joins() -> None:
    """join_seed returns the value "unknown" itself: a second join with "yes" must not make it "maybe"."""
    src = """
        import torch
        import torch.nn as nn

        def build(flag, other):
            if flag:
                torch.manual_seed(0)
            if other:
                torch.manual_seed(1)
            return nn.Linear(2, 2)
    """
    assert lint(src) == []


# TRP102 on a `Linear` that some paths reach without passing the `torch.manual_seed` at the given line
SOME_PATHS = (
    "`Linear` is built where torch is seeded on some paths only; some paths to it miss torch.manual_seed (line {})"
)


def test_a_conditional_expression_joins_its_branches_into_the_state() -> None:
    """`a if c else b` as a statement: both branches seed, so the build after it is seeded."""
    seeded = """
        import sys
        import torch
        import torch.nn as nn
        torch.manual_seed(0) if len(sys.argv) > 1 else torch.manual_seed(1)
        model = nn.Linear(2, 2)
    """
    assert lint(seeded) == []
    half = seeded.replace("torch.manual_seed(1)", "print(1)")
    assert lint(half) == [(6, 8, "TRP102", SOME_PATHS.format(5))]


def test_a_train_under_no_grad_counts_as_a_deliberate_train_once_the_region_is_left() -> None:
    """Leaving the region turns the recalibration `.train()` into a plain `.train()` (kind "train"): with
    `.eval()` on the other path the maybe is a choice the program made, not a forgotten call."""
    src = """
        import sys
        import torch
        import torch.nn as nn
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
        x = torch.ones(2)
        model.eval()
        if len(sys.argv) > 1:
            with torch.no_grad():
                model.train()
        with torch.no_grad():
            print(model(x))
    """
    assert lint(src) == []


def test_a_branch_that_leaves_does_not_end_the_walk() -> None:
    """`if ...: raise` without else: the join of "never gets here" with the other path is that path."""
    src = """
        import sys
        import torch.nn as nn
        if len(sys.argv) > 1:
            raise SystemExit(0)
        model = nn.Linear(2, 2)
    """
    assert lint(src) == [
        (6, 8, "TRP101", "`Linear` is built before torch is seeded: its random init differs on every run"),
    ]


def test_a_conditional_expression_in_a_function_keeps_its_locals_local() -> None:
    """The function's `net` is its own: after the call the module's `net` is still the one in eval mode."""
    src = """
        import torch
        import torch.nn as nn
        torch.manual_seed(0)
        net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
        net.eval()

        def helper(flag):
            net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
            y = 1 if flag else 2
            return y

        helper(True)
        with torch.no_grad():
            print(net(torch.ones(2)))
    """
    assert lint(src) == []


def test_a_global_bound_on_the_else_branch_of_a_function_survives_the_join() -> None:
    src = """
        import torch
        import torch.nn as nn
        torch.manual_seed(0)
        model = None

        def build(flag):
            global model
            if flag:
                pass
            else:
                model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))

        build(False)
        with torch.no_grad():
            print(model(torch.ones(2)))
    """
    assert lint(src) == [
        (
            16,
            10,
            "TRP201",
            "`model` is in training mode when it runs under `torch.no_grad`: dropout/batch-norm "
            "stay live; call `model.eval()` first",
        ),
    ]


def test_a_loop_that_only_rebinds_a_global_runs_again() -> None:
    """The loop's fixpoint compares a function's globals too: the second iteration runs `spare`. Nothing
    else changes in the first pass (`x` is bound before the loop, both models were used before)."""
    src = """
        import torch
        import torch.nn as nn
        torch.manual_seed(0)
        net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
        net.eval()
        spare = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))

        def run(batches):
            global net
            x = None
            for x in batches:
                with torch.no_grad():
                    print(net(x))
                net = spare

        print(net(torch.ones(2)), spare)
        run([torch.ones(2)])
    """
    assert lint(src) == [
        (
            14,
            18,
            "TRP201",
            "`net` is in training mode when it runs under `torch.no_grad`: dropout/batch-norm "
            "stay live; call `net.eval()` first",
        ),
    ]


def test_a_constant_condition_walks_only_the_branch_that_runs() -> None:
    never = """
        import torch
        import torch.nn as nn
        if False:
            torch.manual_seed(0)
        model = nn.Linear(2, 2)
    """
    assert lint(never) == [
        (6, 8, "TRP101", "`Linear` is built before torch is seeded: its random init differs on every run"),
    ]
    always_else = """
        import torch
        import torch.nn as nn
        if 0:
            pass
        else:
            torch.manual_seed(0)
        model = nn.Linear(2, 2)
    """
    assert lint(always_else) == []
    always = """
        import torch
        import torch.nn as nn
        if 1:
            print("go")
        else:
            torch.manual_seed(0)
        model = nn.Linear(2, 2)
    """
    assert lint(always) == [
        (8, 8, "TRP101", "`Linear` is built before torch is seeded: its random init differs on every run"),
    ]


def test_a_match_statement_joins_its_cases() -> None:
    src = """
        import sys
        import torch
        import torch.nn as nn
        match sys.argv[1:]:
            case ["--seed"]:
                torch.manual_seed(0)
            case _:
                pass
        model = nn.Linear(2, 2)
    """
    assert lint(src) == [(10, 8, "TRP102", SOME_PATHS.format(7))]


def test_continue_and_break_states_reach_the_loop_head_and_exit() -> None:
    cont = """
        import random
        import torch
        import torch.nn as nn
        for step in range(3):
            if random.random() > 0.5:
                continue
            torch.manual_seed(0)
        model = nn.Linear(2, 2)
    """
    assert lint(cont) == [(9, 8, "TRP102", SOME_PATHS.format(8))]
    brk = cont.replace("for step in range(3):", "while True:").replace("continue", "break")
    assert lint(brk) == [(9, 8, "TRP102", SOME_PATHS.format(8))]


def test_an_inner_with_block_gives_the_no_grad_region_back() -> None:
    """A `with open(...)` inside `with torch.no_grad():` ends: the region is the no_grad one again, so
    the `.train()` after it is still batch-norm recalibration, not a plain `.train()`."""
    src = """
        import torch
        import torch.nn as nn
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 2), nn.BatchNorm1d(2))
        x = torch.ones(4, 4)
        model.eval()
        with torch.no_grad():
            with open("log.txt", "w") as fh:
                fh.write("recalibrating")
            model.train()
            model(x)
    """
    assert lint(src) == []


def test_a_context_manager_expression_is_evaluated() -> None:
    """`with seeded():` runs seeded() (walked like any call of the file): the build inside is seeded."""
    src = """
        import contextlib
        import torch
        import torch.nn as nn

        @contextlib.contextmanager
        def seeded():
            torch.manual_seed(0)
            yield

        with seeded():
            model = nn.Linear(2, 2)
    """
    assert lint(src) == []
    assert lint(src.replace("torch.manual_seed(0)", "pass")) == [
        (12, 12, "TRP101", "`Linear` is built before torch is seeded: its random init differs on every run"),
    ]


def test_train_on_one_branch_and_eval_on_the_other_is_a_choice_not_a_forgotten_train() -> None:
    """`net.train() if training else net.eval()` then a training step: the program chose the mode,
    so no TRP203; with `.eval()` on one branch only the same step is a maybe TRP203."""
    src = """
        import sys
        import torch
        import torch.nn as nn
        torch.manual_seed(0)
        net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
        training = len(sys.argv) > 1
        net.train() if training else net.eval()
        net(torch.ones(2)).sum().backward()
        torch.optim.SGD(net.parameters(), lr=0.1).step()
    """
    assert lint(src) == []
    one_sided = src.replace("net.train() if training else net.eval()", "net.eval() if training else None")
    assert lint(one_sided) == [
        (
            9,
            0,
            "TRP203",
            "training step while `net` may still be in eval mode after `.eval()` at line 8: "
            "dropout/batch-norm are off; call `net.train()` before training",
        ),
    ]


def test_a_loop_over_a_positive_constant_range_runs_its_body() -> None:
    template = """
        import torch
        import torch.nn as nn
        for _ in range(N):
            torch.manual_seed(0)
        model = nn.Linear(2, 2)
    """
    assert lint(template.replace("N", "3")) == []
    assert lint(template.replace("N", "1")) == []
    maybe = [(6, 8, "TRP102", SOME_PATHS.format(5))]
    assert lint(template.replace("N", "0")) == maybe  # range(0) never runs its body
    assert lint(template.replace("range(N)", "len([1, 2])")) == maybe  # not range: may run zero times


def test_a_loop_that_does_not_settle_widens_what_still_changes_to_unknown() -> None:
    """Each pass of this loop puts one more model in eval mode (a chain of six rebindings): past
    MAX_LOOP_PASSES the modes still changing are widened with "unknown", never guessed. `d` is the
    one reached last: "may still be" in eval mode, not "is"."""
    src = """
        import torch
        import torch.nn as nn
        torch.manual_seed(0)
        a = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
        b = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
        c = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
        d = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
        e = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
        f = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
        g = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
        x = torch.ones(2)
        while x.sum() > 0:
            g.eval()
            g, f, e, d, c, b = f, e, d, c, b, a
        d(x).sum().backward()
        torch.optim.SGD(d.parameters(), lr=0.1).step()
    """
    assert lint(src) == [
        (
            16,
            0,
            "TRP203",
            "training step while `d` may still be in eval mode after `.eval()` at line 14: "
            "dropout/batch-norm are off; call `d.train()` before training",
        ),
    ]


def test_a_build_reached_unseeded_from_any_entry_point_is_reported_with_the_worse_verdict() -> None:
    """Seeded on some paths in the __main__ block, unseeded in the spawned worker (the child imports the
    module: its __main__ block does not run there): TRP101, not TRP102."""
    src = """
        import sys
        import torch
        import torch.nn as nn
        import torch.multiprocessing as mp

        def build():
            return nn.Linear(2, 2)

        def worker(rank):
            build()

        if __name__ == "__main__":
            if len(sys.argv) > 1:
                torch.manual_seed(0)
            build()
            mp.spawn(worker, nprocs=1)
    """
    message = (
        "`Linear` is built before torch is seeded: its random init differs on every run; torch.manual_seed"
        " (line 15) seeds the parent process only: a spawned worker starts unseeded"
    )
    assert lint(src) == [(8, 11, "TRP101", message)]


def test_enable_grad_inside_no_grad_is_training_again() -> None:
    src = """
        import torch
        import torch.nn as nn
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
        x = torch.ones(2)
        model.eval()
        with torch.no_grad():
            with torch.enable_grad():
                model(x).sum().backward()
        torch.optim.SGD(model.parameters(), lr=0.1).step()
    """
    assert lint(src) == [
        (
            10,
            8,
            "TRP203",
            "training step while `model` is in eval mode after `.eval()` at line 7: "
            "dropout/batch-norm are off; call `model.train()` before training",
        ),
    ]


def test_a_finding_reached_from_several_calls_names_them_all(tmp_path) -> None:
    from torchlint_repro.analysis.project import reset_projects
    from torchlint_repro.engine import lint_file

    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "utils.py").write_text("import torch.nn as nn\n\n\ndef build():\n    return nn.Linear(2, 2)\n")
    (tmp_path / "train.py").write_text("from utils import build\n\nbuild()\nbuild()\n")
    (tmp_path / "other.py").write_text("import torch\nfrom utils import build\n\nbuild()\n")
    reset_projects()
    assert [(d.line, d.col, d.code, d.message) for d in lint_file(tmp_path / "utils.py", ALL)] == [
        (
            5,
            11,
            "TRP101",
            "`Linear` is built before torch is seeded: its random init differs on every run; "
            "reached from other.py:4 and 2 other calls",
        ),
    ]


def test_a_model_handed_to_a_library_function_may_come_back_in_any_mode() -> None:
    src = """
        import torch
        import torch.nn as nn
        from somelib import configure
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
        model.eval()
        configure(model)
        model(torch.ones(2)).sum().backward()
        torch.optim.SGD(model.parameters(), lr=0.1).step()
    """
    assert lint(src) == []
    assert lint(src.replace("configure(model)", "print(model)")) == [
        (
            9,
            0,
            "TRP203",
            "training step while `model` is in eval mode after `.eval()` at line 7: "
            "dropout/batch-norm are off; call `model.train()` before training",
        ),
    ]


RECALIBRATE = """
    import torch
    import torch.nn as nn

    @torch.no_grad()
    def recalibrate(model, x):
        model.train()
        model(x)

    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 2), nn.BatchNorm1d(2))
    x = torch.ones(4, 4)
    net.eval()
"""


def test_a_no_grad_function_left_for_a_grad_caller_makes_its_train_plain() -> None:
    src = (
        RECALIBRATE
        + """
    recalibrate(net, x)
    with torch.no_grad():
        print(net(x))
    """
    )
    assert lint(src) == [
        (
            17,
            10,
            "TRP201",
            "`net` is in training mode when it runs under `torch.no_grad`: dropout/batch-norm "
            "stay live; call `net.eval()` first",
        ),
    ]


def test_a_no_grad_function_called_inside_no_grad_does_not_end_the_callers_region() -> None:
    src = (
        RECALIBRATE
        + """
    with torch.no_grad():
        recalibrate(net, x)
        print(net(x))
    """
    )
    assert lint(src) == []


def test_a_models_own_methods_are_inference_regions_only_by_their_inference_names() -> None:
    """A model's infer()/predict()/generate() are inference entry points; its other methods (even
    one named evaluate) are its own computation."""
    src = """
        import torch
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))

            def forward(self, x):
                return self.body(x)

            def infer(self, x):
                return self.body(x)

            def evaluate(self, x):
                return self.body(x)


        torch.manual_seed(0)
        model = Net()
        print(model.infer(torch.ones(2)))
        print(model.evaluate(torch.ones(2)))
    """
    assert lint(src) == [
        (
            15,
            15,
            "TRP201",
            "`self.body` is in training mode when it runs in inference function `infer()`: "
            "dropout/batch-norm stay live; call `self.body.eval()` first",
        ),
    ]


def test_an_output_handed_to_cv2_or_numpy_is_only_looked_at() -> None:
    """A model trained in the program, then run for outputs that go to cv2.* / np.* (even an np that
    is not imported here, as in a notebook cell): inference uses in training mode."""
    src = """
        import cv2
        import torch
        import torch.nn as nn
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
        x = torch.ones(2)
        model(x).sum().backward()
        gray = cv2.cvtColor(model(x), 0)
        arr = np.asarray(model(x))
    """
    message = (
        "`model` is in training mode when it runs for outputs that are only looked at (saved, logged, "
        "turned into numbers), never trained on: dropout/batch-norm stay live; call `model.eval()` first"
    )
    assert lint(src) == [(9, 20, "TRP201", message), (10, 17, "TRP201", message)]


def test_an_evaluate_that_starts_with_train_under_the_callers_no_grad_is_a_plain_train() -> None:
    """The no_grad region is the caller's, not opened in evaluate(): the `.train()` there is the training
    function copied, not batch-norm recalibration, and the forward after it is TRP201."""
    src = """
        import torch
        import torch.nn as nn

        def evaluate(model, x):
            model.train()
            return model(x)

        torch.manual_seed(0)
        net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
        net.eval()
        with torch.no_grad():
            print(evaluate(net, torch.ones(2)))
    """
    assert lint(src) == [
        (
            7,
            11,
            "TRP201",
            "`model` is in training mode when it runs under `no_grad`: dropout/batch-norm stay live; "
            "call `model.eval()` first",
        ),
    ]


def test_train_false_is_eval_and_a_non_literal_flag_is_unknown() -> None:
    src = """
        import torch
        import torch.nn as nn
        torch.manual_seed(0)
        net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
        net.train(False)
        net(torch.ones(2)).sum().backward()
        torch.optim.SGD(net.parameters(), lr=0.1).step()
    """
    assert lint(src) == [
        (
            7,
            0,
            "TRP203",
            "training step while `net` is in eval mode after `.train(False)` at line 6: "
            "dropout/batch-norm are off; call `net.train()` before training",
        ),
    ]
    unknown = src.replace("net.train(False)", "net.train(len([]) > 0)")
    assert lint(unknown) == []
    assert (
        lint(
            unknown.replace(
                "net(torch.ones(2)).sum().backward()", "with torch.no_grad():\n            print(net(torch.ones(2)))"
            )
        )
        == []
    )


def test_a_finding_reached_from_two_calls_names_both(tmp_path) -> None:
    from torchlint_repro.analysis.project import reset_projects
    from torchlint_repro.engine import lint_file

    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "utils.py").write_text("import torch.nn as nn\n\n\ndef build():\n    return nn.Linear(2, 2)\n")
    (tmp_path / "train.py").write_text("from utils import build\n\nbuild()\n")
    (tmp_path / "other.py").write_text("import torch\nfrom utils import build\n\nbuild()\n")
    reset_projects()
    assert [(d.line, d.col, d.code, d.message) for d in lint_file(tmp_path / "utils.py", ALL)] == [
        (
            5,
            11,
            "TRP101",
            "`Linear` is built before torch is seeded: its random init differs on every run; "
            "reached from other.py:4 and train.py:3",
        ),
    ]


def test_a_message_names_other_files_by_their_path_from_the_linted_one(tmp_path) -> None:
    """Two callers named `train.py` in two folders are told apart: a message names another file relative to
    the folder of the file it is shown in (`../scripts/train.py`), whatever folder the tool runs from."""
    from torchlint_repro.analysis.project import reset_projects
    from torchlint_repro.engine import lint_file

    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "scripts").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "nets.py").write_text("import torch.nn as nn\n\n\ndef build():\n    return nn.Linear(2, 2)\n")
    (tmp_path / "train.py").write_text("from pkg.nets import build\n\nbuild()\n")
    (tmp_path / "scripts" / "train.py").write_text(
        "import random\nfrom pkg.nets import build\n\nrandom.seed(0)\nbuild()\n"
    )
    reset_projects()
    expected = [
        (
            5,
            11,
            "TRP101",
            "`Linear` is built before torch is seeded: its random init differs on every run; "
            "reached from ../scripts/train.py:5 and ../train.py:3; random.seed (../scripts/train.py:4) does not "
            "seed torch",
        ),
    ]
    assert [(d.line, d.col, d.code, d.message) for d in lint_file(tmp_path / "pkg" / "nets.py", ALL)] == expected
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path / "scripts")
        reset_projects()
        found = lint_file(Path("../pkg/nets.py"), ALL)
    finally:
        os.chdir(cwd)
    assert [(d.line, d.col, d.code, d.message) for d in found] == expected


def test_a_finding_in_source_without_a_path_has_an_empty_path() -> None:
    found = lint_source("import torch.nn as nn\nm = nn.Linear(2, 2)\n", None, ALL)
    assert [(d.line, d.col, d.code, d.path) for d in found] == [(2, 4, "TRP101", "")]


# ---------------------------------------------------------------------------- the rules' public record
RULE_TABLE = [  # written out: code, name, family, what the verifier checks (the `rules` listing and the docs)
    ("TRP101", "unseeded-model", "seeding", "differs across processes"),
    ("TRP102", "seeded-on-some-paths", "seeding", "differs across processes"),
    ("TRP103", "cuda-only-seed", "seeding", "differs across processes"),
    ("TRP104", "unseeded-look-only-model", "seeding", "differs across processes"),
    ("TRP201", "inference-in-training-mode", "train/eval mode", "differs from eval-mode output"),
    ("TRP202", "mode-method-not-called", "train/eval mode", "differs from eval-mode output"),
    ("TRP203", "training-in-eval-mode", "train/eval mode", "trains with mode-dependent layers in eval mode"),
    ("TRP204", "inference-on-parameter-without-eval", "train/eval mode", "differs from eval-mode output"),
    ("TRP301", "load-state-dict-on-class", "weight loading", "load raises or leaves parameters unloaded"),
    ("TRP302", "load-result-used-as-model", "weight loading", "load raises or leaves parameters unloaded"),
    ("TRP303", "state-dict-used-as-model", "weight loading", "load raises or leaves parameters unloaded"),
    ("TRP304", "checkpoint-as-state-dict", "weight loading", "load raises or leaves parameters unloaded"),
    ("TRP305", "non-strict-load-ignored", "weight loading", "load raises or leaves parameters unloaded"),
    ("TRP306", "module-prefix-mismatch", "weight loading", "load raises or leaves parameters unloaded"),
    ("TRP307", "architecture-mismatch", "weight loading", "load raises or leaves parameters unloaded"),
    ("TRP308", "model-as-state-dict", "weight loading", "load raises or leaves parameters unloaded"),
    ("TRP900", "internal-error", "internal", "not runtime-verifiable"),
    ("TRP901", "invalid-configuration", "internal", "not runtime-verifiable"),
]


def test_the_rules_public_record() -> None:
    from torchlint_repro.rules import ALL_RULES

    assert [(r.code, r.name, r.family, r.verify.value) for r in ALL_RULES] == RULE_TABLE
    internal = {r.code: r.summary for r in ALL_RULES if r.code.startswith("TRP9")}
    assert internal == {
        "TRP900": "torchlint-repro failed to analyse this file",
        "TRP901": "the `[tool.torchlint-repro]` section that governs this file is broken",
    }
    assert ALL_RULES[0].help_uri == "https://github.com/torchlint-repro/torchlint-repro/blob/main/docs/rules/TRP101.md"
