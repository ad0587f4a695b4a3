"""The Kimina Lean Server client against a STAND-IN HTTP server that answers like the real one."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from formal.kimina import KiminaVerifier
from formal.results import CRASHED, ERROR, TIMEOUT, VERIFIED, VerifyRequest


def answer(code):
    """What a Lean REPL behind the server would say about CODE (for the cases these tests use)."""
    if "SLOW" in code:
        return {"error": "Lean REPL command timed out in 1.0 seconds", "time": 1.0}
    body_lines = code.split("\n")
    body_start = next(i for i, line in enumerate(body_lines) if line and not line.startswith("import"))
    body = "\n".join(body_lines[body_start:])
    if "sorry" in body:
        line = next(i for i, x in enumerate(body.split("\n"), 1) if "sorry" in x)
        col = body.split("\n")[line - 1].index("sorry")
        return {"time": 0.05, "response": {
            "sorries": [{"pos": {"line": line, "column": col}, "endPos": {"line": line, "column": col + 5},
                         "goal": "⊢ 1 = 1", "proofState": 0}],
            "messages": [{"severity": "warning", "pos": {"line": 1, "column": 8}, "endPos": None,
                          "data": "declaration uses 'sorry'"}], "env": 0}}
    if "wrong" in body:
        return {"time": 0.05, "response": {"messages": [{"severity": "error", "pos": {"line": 1, "column": 0},
                                                         "data": "type mismatch"}], "env": 0}}
    return {"time": 0.05, "response": {"env": 0}}


class StandinKimina(BaseHTTPRequestHandler):
    legacy = False
    seen: list = []

    def log_message(self, *args):
        pass

    def _send(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._send(200, {"status": "ok"}) if self.path == "/health" else self._send(404, {})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append((self.path, body))
        if self.path == "/api/check" and not self.legacy:
            self._send(200, {"results": [{"id": s["id"], **answer(s["code"])} for s in body["snippets"]]})
        elif self.path == "/verify" and self.legacy:
            self._send(200, {"results": [{"custom_id": c["custom_id"], **answer(c["proof"])} for c in body["codes"]]})
        else:
            self._send(404, {"detail": "Not Found"})


@pytest.fixture(params=[False, True], ids=["api-check", "legacy-verify"])
def server(request):
    handler = type("Handler", (StandinKimina,), {"legacy": request.param, "seen": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    httpd.shutdown()


def test_batch_results_in_order(server):
    url, handler = server
    v = KiminaVerifier(url, batch_size=2, parallel=2)
    assert v.health()
    header = "import Mathlib\nset_option maxHeartbeats 400000\nopen Nat"
    results = v.verify([
        VerifyRequest("theorem a : 1 = 1 := rfl", header=header, id="a"),
        VerifyRequest("theorem b : 1 = 2 := wrong", header=header, id="b"),
        VerifyRequest("theorem c : 1 = 1 := by\n  sorry", header=header, id="c"),
        VerifyRequest("theorem d : SLOW", header=header, id="d", timeout_s=1),
    ])
    assert [r.status for r in results] == [VERIFIED, ERROR, ERROR, TIMEOUT]
    assert [r.id for r in results] == ["a", "b", "c", "d"]
    assert results[0].elapsed_ms == pytest.approx(50.0)
    # The server keeps `set_option` and `open` in the body; positions come back relative to our body.
    (s,) = results[2].sorries
    assert (s.pos.line, s.pos.column) == (2, 2)
    paths = [p for p, _ in handler.seen]
    assert paths.count("/verify" if handler.legacy else "/api/check") == 2  # batches of 2


def test_unreachable_server_is_a_crash_per_request():
    v = KiminaVerifier("http://127.0.0.1:9", http_timeout_s=2)
    assert not v.health()
    (r,) = v.verify([VerifyRequest("theorem a : 1 = 1 := rfl")])
    assert r.status == CRASHED and "127.0.0.1:9" in r.detail
