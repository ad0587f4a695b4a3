"""The REPL protocol client against recorded transcripts in the real REPL's format (fixtures/repl)."""

import json
import os
import sys

import pytest

from formal.repl_process import ProcessConfig, ReplProcess
from formal.repl_protocol import (
    ProtocolError,
    ResponseSplitter,
    encode_command,
    parse_commands,
    parse_response,
    parse_transcript,
)
from formal.results import ERROR, VERIFIED, judge

HERE = os.path.dirname(__file__)
FIXTURES = os.path.join(HERE, "fixtures", "repl")
STANDIN = os.path.join(HERE, "standin_repl.py")


def fixture(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
        return f.read()


def test_a_command_is_one_json_line_and_a_blank_line():
    raw = encode_command("theorem t : 1 = 1 := by\n  rfl", env=0)
    assert raw.endswith(b"\n\n") and raw.count(b"\n") == 2  # the code's newline stays escaped
    assert json.loads(raw) == {"cmd": "theorem t : 1 = 1 := by\n  rfl", "env": 0}
    assert "env" not in json.loads(encode_command("import Mathlib"))  # a fresh environment


def test_header_then_proofs_in_env_0():
    commands = parse_commands(fixture("header_reuse.in"))
    responses = [parse_response(o) for o in parse_transcript(fixture("header_reuse.expected.out"))]
    assert [c.get("env") for c in commands] == [None, 0, 0, 7]
    header, good, bad, refused = responses
    assert header.env == 0 and not header.messages
    assert good.env == 1 and judge(good.messages, good.sorries) == VERIFIED
    assert bad.env == 2 and judge(bad.messages, bad.sorries) == ERROR
    (msg,) = bad.messages
    assert msg.severity == "error" and "is false" in msg.data
    assert (msg.pos.line, msg.pos.column) == (1, 34)
    assert refused.error == "Unknown environment." and refused.env is None


def test_sorries_carry_positions_and_goals():
    sketch, partial = [parse_response(o) for o in parse_transcript(fixture("sketch_sorries.expected.out"))]
    assert [s.goal.splitlines()[-1] for s in sketch.sorries] == ["⊢ a + 1 ≤ b", "⊢ a < 10"]
    assert [(s.pos.line, s.pos.column) for s in sketch.sorries] == [(2, 28), (3, 25)]
    assert [s.proof_state for s in sketch.sorries] == [0, 1]
    # Only a warning, but a sorry is never a proof.
    assert judge(sketch.messages, sketch.sorries) == ERROR
    assert sketch.messages[0].is_sorry_warning
    assert partial.messages[0].data.startswith("unsolved goals")


def test_sorry_positions_point_at_sorry_in_the_command():
    (cmd, _) = parse_commands(fixture("sketch_sorries.in"))
    (sketch, _) = [parse_response(o) for o in parse_transcript(fixture("sketch_sorries.expected.out"))]
    lines = cmd["cmd"].split("\n")
    for s in sketch.sorries:
        line = lines[s.pos.line - 1]
        assert line[s.pos.column : s.end_pos.column] == "sorry"


def test_tactic_mode_responses():
    responses = [parse_response(o) for o in parse_transcript(fixture("tactic_mode.expected.out"))]
    assert responses[1].proof_state == 1
    assert responses[1].goals == ["case zero\n⊢ 0 = 0", "case succ\nn✝ : Nat\n⊢ n✝ + 1 = 0"]


def test_two_responses_on_adjacent_lines_and_info_messages():
    objs = parse_transcript(fixture("info_messages.expected.out"))
    assert [o["env"] for o in objs] == [0, 1, 2]
    assert parse_response(objs[1]).messages[0].data == "42"
    assert judge(parse_response(objs[1]).messages, []) == VERIFIED  # info is not an error


def test_splitter_reassembles_responses_fed_byte_by_byte():
    text = fixture("sketch_sorries.expected.out").encode()
    splitter = ResponseSplitter()
    got = []
    for i in range(len(text)):
        got += splitter.feed(text[i : i + 1])
    assert got == parse_transcript(text.decode())
    assert len(got) == 2


def test_lines_before_a_response_are_skipped_but_broken_json_is_an_error():
    splitter = ResponseSplitter()
    assert splitter.feed(b"\u2714 [2/2] Built repl\n\n") == []  # e.g. `lake exe repl` building first
    assert splitter.feed(b"Build completed\n{\"env\": 0}\n\n") == [{"env": 0}]
    with pytest.raises(ProtocolError):
        ResponseSplitter().feed(b'{"env": 0, "messages": [\n\n')


def test_process_replays_a_recorded_session():
    """ReplProcess against a stand-in that answers with the recorded responses, in order."""
    proc = ReplProcess(ProcessConfig([sys.executable, STANDIN, "--replay",
                                      os.path.join(FIXTURES, "header_reuse.expected.out")], memory_limit_mb=None))
    try:
        header = proc.command("set_option maxHeartbeats 400000", timeout_s=30)
        assert header.env == 0
        good = proc.command("theorem two_add_two : 2 + 2 = 4 := by decide", env=header.env, timeout_s=30)
        bad = proc.command("theorem wrong : 2 + 2 = 5 := by decide", env=header.env, timeout_s=30)
        assert (good.env, bad.env) == (1, 2)
        assert judge(bad.messages, bad.sorries) == ERROR
        assert proc.command("example : 1 = 1 := rfl", env=7, timeout_s=30).error == "Unknown environment."
        assert proc.uses == 4
    finally:
        proc.close()
    assert not proc.alive
