"""The runtime verifier: run fixtures (or any program) under torch observation hooks and compare what
torch did with what the linter said.

    harness.py    runs one program in a fresh process and writes its observations (torch + stdlib only)
    runner.py     finds fixtures, copies each to a fresh temporary directory, runs the harness (in
                  parallel, with a timeout), lints the fixture, and combines both into a verdict
    criteria.py   one small documented function per runtime contrast (``Rule.verify``)
    report.py     the table (text) and the JSON document
    cli.py        the ``torchlint-repro verify`` command

Nothing here imports torch at import time: only the harness subprocess does.
"""
