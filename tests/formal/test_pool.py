"""The REPL pool against the STAND-IN REPL (tests/formal/standin_repl.py): not Lean, same protocol.

The stand-in obeys directives in the command text (SLEEP(s), CRASH, ALLOC(mb)) so each failure a
real Lean process shows can be produced on purpose.
"""

import json
import os
import sys
import threading
import time

import pytest

from formal.pool import PoolConfig, ReplPool
from formal.repl_process import ProcessConfig
from formal.results import CRASHED, ERROR, TIMEOUT, VERIFIED, VerifyRequest

STANDIN = [sys.executable, os.path.join(os.path.dirname(__file__), "standin_repl.py")]
HEADER = "set_option maxHeartbeats 400000"


def pool(tmp_path, workers=1, env=None, **kw):
    log = tmp_path / "requests.jsonl"
    cfg = ProcessConfig(STANDIN, memory_limit_mb=kw.pop("memory_limit_mb", None),
                        env={"STANDIN_LOG": str(log), **(env or {})})
    return ReplPool(PoolConfig(cfg, workers=workers, **kw)), log


def requests_seen(log):
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_header_is_loaded_once_and_reused_through_its_env(tmp_path):
    p, log = pool(tmp_path)
    with p:
        results = p.verify([VerifyRequest(f"theorem t{i} : {i} = {i} := rfl", header=HEADER, id=f"t{i}")
                            for i in range(5)])
    assert [r.status for r in results] == [VERIFIED] * 5
    assert [r.id for r in results] == [f"t{i}" for i in range(5)]
    seen = requests_seen(log)
    assert seen[0] == {"pid": seen[0]["pid"], "env": None, "cmd": HEADER}
    assert [s["env"] for s in seen[1:]] == [0] * 5  # every proof runs on top of the header's env
    assert p.stats["header_loads"] == 1 and p.stats["processes_started"] == 1


def test_each_distinct_header_gets_its_own_env(tmp_path):
    p, log = pool(tmp_path)
    with p:
        p.verify([VerifyRequest("example : True := trivial", header=h) for h in ("", HEADER, "", HEADER)])
    envs = [s["env"] for s in requests_seen(log)]
    assert envs == [None, 0, None, 2, 0, 2]


def test_a_sorry_is_not_verified_and_its_goal_comes_back(tmp_path):
    p, _ = pool(tmp_path)
    with p:
        (r,) = p.verify([VerifyRequest("theorem t (x : Int) : x = x := by\n  have h : x = 1 := by sorry\n  rfl",
                                       header=HEADER)])
    assert r.status == ERROR and not r.verified
    (s,) = r.sorries
    assert s.goal == "⊢ x = 1" and (s.pos.line, s.pos.column) == (2, 23)


def test_timeout_kills_the_process_and_the_next_request_gets_a_fresh_one(tmp_path):
    p, log = pool(tmp_path)
    with p:
        slow, after = p.verify([VerifyRequest("SLEEP(30)", header=HEADER, timeout_s=0.5, id="slow"),
                                VerifyRequest("example : 1 = 1 := rfl", header=HEADER, id="after")])
    assert slow.status == TIMEOUT and "0.5s" in slow.detail and slow.elapsed_ms >= 500
    assert after.status == VERIFIED
    assert p.stats["timeouts"] == 1 and p.stats["processes_started"] == 2
    pids = {s["pid"] for s in requests_seen(log)}
    assert len(pids) == 2  # the header was loaded again in the new process


def test_crash_is_retried_once_then_reported_with_stderr(tmp_path):
    p, _ = pool(tmp_path, crash_retries=1)
    with p:
        crash, after = p.verify([VerifyRequest("CRASH", header=HEADER, id="c"),
                                 VerifyRequest("example : 1 = 1 := rfl", header=HEADER)])
    assert crash.status == CRASHED
    assert "exit code 3" in crash.detail and "crashing as asked" in crash.detail
    assert p.stats["crashes"] == 2  # the first try and its retry
    assert after.status == VERIFIED


def test_memory_cap_stops_a_runaway_process(tmp_path):
    p, _ = pool(tmp_path, memory_limit_mb=400, crash_retries=0)
    with p:
        hog, after = p.verify([VerifyRequest("ALLOC(2000)", header=HEADER),
                               VerifyRequest("example : 1 = 1 := rfl", header=HEADER)])
    assert hog.status == CRASHED and "MemoryError" in hog.detail
    assert after.status == VERIFIED


def test_restart_after_max_uses(tmp_path):
    p, log = pool(tmp_path, max_uses=3)
    with p:
        results = p.verify([VerifyRequest(f"example : {i} = {i} := rfl", header=HEADER) for i in range(6)])
    assert all(r.verified for r in results)
    assert p.stats["restarts_max_uses"] >= 1
    assert len({s["pid"] for s in requests_seen(log)}) >= 2


def test_a_header_that_fails_is_an_error_for_its_requests(tmp_path):
    p, _ = pool(tmp_path, env={"STANDIN_FAIL": "import Nonexistent"})
    with p:
        (r,) = p.verify([VerifyRequest("example : 1 = 1 := rfl", header="import Nonexistent")])
    assert r.status == ERROR and r.detail.startswith("header failed")


def test_workers_share_a_batch(tmp_path):
    p, log = pool(tmp_path, workers=3)
    with p:
        results = p.verify([VerifyRequest("SLEEP(0.2)", header=HEADER, id=str(i)) for i in range(9)])
    assert all(r.verified for r in results)
    assert len({s["pid"] for s in requests_seen(log)}) == 3


def test_submit_blocks_while_max_pending_requests_wait(tmp_path):
    p, _ = pool(tmp_path, max_pending=2)
    submitted = []
    release = VerifyRequest("SLEEP(1.5)", header=HEADER)

    def producer():
        for i in range(6):
            submitted.append(p.submit(release if i == 0 else VerifyRequest("example : 1 = 1 := rfl", header=HEADER)))

    t = threading.Thread(target=producer)
    t.start()
    time.sleep(0.7)
    # One request is being worked on, two wait in the queue; the producer is held at the fourth.
    assert len(submitted) <= 3 and t.is_alive()
    t.join(timeout=30)
    assert len(submitted) == 6 and all(f.result().verified for f in submitted)
    p.close()


def test_a_closed_pool_refuses_work(tmp_path):
    p, _ = pool(tmp_path)
    p.close()
    with pytest.raises(RuntimeError):
        p.submit(VerifyRequest("example : True := trivial"))


def test_resource_errors_are_crashes_not_wrong_proofs(tmp_path):
    p, log = pool(tmp_path, env={"STANDIN_FAIL": "failed to create thread"}, crash_retries=1)
    with p:
        (r,) = p.verify([VerifyRequest("example : True := by failed to create thread", header=HEADER)])
    assert r.status == CRASHED and "out of resources" in r.detail
    assert len({s["pid"] for s in requests_seen(log)}) == 2  # retried once on a fresh process
