"""The verification cache: keyed by (toolchain, header, code); only definite answers are kept."""

from formal.cache import CachedVerifier, VerificationCache
from formal.results import ERROR, TIMEOUT, VERIFIED, LeanMessage, VerifyRequest, VerifyResult


class CountingVerifier:
    """Answers from a table and records what it was asked (a test double for a Lean backend)."""

    name = "counting"
    toolchain = "4.24.0"

    def __init__(self, answers):
        self.answers = answers
        self.asked = []

    def verify(self, requests):
        self.asked += [r.code for r in requests]
        return [VerifyResult(self.answers[r.code], [LeanMessage("error", "no")] if self.answers[r.code] == ERROR else [],
                             elapsed_ms=5.0, id=r.id) for r in requests]

    def close(self):
        pass


def test_key_depends_on_toolchain_header_and_code():
    r = VerifyRequest("theorem t : 1 = 1 := rfl", header="import Mathlib")
    assert r.key("4.24.0") == VerifyRequest("theorem t : 1 = 1 := rfl\n", header="import Mathlib\n").key("4.24.0")
    assert r.key("4.24.0") != r.key("4.25.0")
    assert r.key("4.24.0") != VerifyRequest(r.code, header="").key("4.24.0")
    assert r.key("4.24.0") != VerifyRequest("theorem t : 1 = 1 := by rfl", header=r.header).key("4.24.0")


def test_second_run_does_not_ask_lean_again(tmp_path):
    answers = {"good": VERIFIED, "bad": ERROR, "slow": TIMEOUT}
    inner = CountingVerifier(answers)
    v = CachedVerifier(inner, VerificationCache(str(tmp_path / "c.sqlite")))
    reqs = [VerifyRequest(code, id=code) for code in ("good", "bad", "slow", "good")]
    first = v.verify(reqs)
    assert [r.status for r in first] == [VERIFIED, ERROR, TIMEOUT, VERIFIED]
    assert inner.asked == ["good", "bad", "slow"]  # a repeat in the batch is asked once
    second = v.verify(reqs)
    assert [r.status for r in second] == [VERIFIED, ERROR, TIMEOUT, VERIFIED]
    assert [r.cached for r in second] == [True, True, False, True]
    assert inner.asked == ["good", "bad", "slow", "slow"]  # a timeout may go another way next time
    assert second[1].messages[0].data == "no" and second[0].id == "good"
    v.close()


def test_cache_survives_reopening(tmp_path):
    path = str(tmp_path / "c.sqlite")
    CachedVerifier(CountingVerifier({"x": VERIFIED}), VerificationCache(path)).verify([VerifyRequest("x")])
    reopened = VerificationCache(path)
    assert len(reopened) == 1
    inner = CountingVerifier({"x": VERIFIED})
    (r,) = CachedVerifier(inner, reopened).verify([VerifyRequest("x")])
    assert r.verified and r.cached and inner.asked == []
