"""One `lean --json` process per proof, against the STAND-IN (tests/formal/standin_repl.py --json)."""

import os
import sys

import pytest

from formal.header import CORE_HEADER
from formal.lean_file import LeanFileVerifier, parse_json_messages
from formal.results import CRASHED, ERROR, TIMEOUT, VERIFIED, VerifyRequest

STANDIN = [sys.executable, os.path.join(os.path.dirname(__file__), "standin_repl.py")]


def test_parse_lean_json_output():
    out = ('{"severity": "error", "pos": {"line": 5, "column": 2}, "endPos": {"line": 5, "column": 7}, '
           '"data": "unsolved goals", "fileName": "P.lean"}\nnot json\n')
    (m,) = parse_json_messages(out, line_offset=4)
    assert m.severity == "error" and (m.pos.line, m.pos.column) == (1, 2) and m.end_pos.line == 1


def test_one_process_per_proof(monkeypatch):
    monkeypatch.setenv("STANDIN_FAIL", "decide")
    v = LeanFileVerifier(STANDIN, parallel=2, memory_mb=None, toolchain="stand-in")
    good, bad, sorry, slow, crash = v.verify([
        VerifyRequest("theorem t : 1 = 1 := rfl", header=CORE_HEADER),
        VerifyRequest("theorem t : 1 = 2 := by\n  decide", header=CORE_HEADER),
        VerifyRequest("theorem t : 1 = 1 := by sorry", header=CORE_HEADER),
        VerifyRequest("SLEEP(30)", header=CORE_HEADER, timeout_s=0.5),
        VerifyRequest("CRASH", header=CORE_HEADER),
    ])
    assert good.status == VERIFIED
    assert bad.status == ERROR and (bad.errors[0].pos.line, bad.errors[0].pos.column) == (2, 2)  # after the header
    assert sorry.status == ERROR and not sorry.errors  # the sorry warning alone is not a proof
    assert slow.status == TIMEOUT
    assert crash.status == CRASHED and "crashing as asked" in crash.detail


@pytest.mark.parametrize("header", ["", CORE_HEADER])
def test_positions_do_not_depend_on_the_header(monkeypatch, header):
    monkeypatch.setenv("STANDIN_FAIL", "oops")
    (r,) = LeanFileVerifier(STANDIN, memory_mb=None).verify([VerifyRequest("example : True := oops", header=header)])
    assert (r.errors[0].pos.line, r.errors[0].pos.column) == (1, 18)
