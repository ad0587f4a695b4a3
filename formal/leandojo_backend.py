"""LeanDojo, where installed (`pip install 'deepcorpus[lean]'`): tactic-level interaction.

LeanDojo runs tactics one at a time on a theorem of a traced Git repository and returns the goals
after each, which is what step-wise proof search needs. It cannot check free-standing code, so it is
not a backend for `formal run` (use the REPL pool or a Lean server there); it serves users who
replay or search proofs of theorems in an existing Lean project:

    prover = LeanDojoProver("https://github.com/yangky11/lean4-example", "COMMIT")
    result = prover.run_tactics("Lean4Example.lean", "hello_world", ["rw [Nat.add_comm]"])
"""

from __future__ import annotations

import time

from formal.results import ERROR, TIMEOUT, VERIFIED, LeanMessage, VerifyResult

INSTALL = "LeanDojo is not installed: pip install 'deepcorpus[lean]' (lean-dojo, which needs git and elan)"
NOT_FOR_CODE = ("LeanDojo runs tactics on theorems of a traced repository and cannot check free-standing "
                "code; for `formal run` use --lean-backend repl (a local REPL) or server (--lean-server URL)")


def _lean_dojo():
    try:
        import lean_dojo
    except ImportError:
        return None
    return lean_dojo


class LeanDojoProver:
    def __init__(self, repo_url: str, commit: str, timeout_s: float = 600.0):
        dojo = _lean_dojo()
        if dojo is None:
            raise RuntimeError(INSTALL)
        self._dojo = dojo
        self.repo = dojo.LeanGitRepo(repo_url, commit)
        self.timeout_s = timeout_s

    def run_tactics(self, file_path: str, theorem: str, tactics: list[str]) -> VerifyResult:
        """Run TACTICS in order from the theorem's initial state; VERIFIED when the last one finishes it."""
        d = self._dojo
        start = time.perf_counter()
        thm = d.Theorem(self.repo, file_path, theorem)
        try:
            with d.Dojo(thm, timeout=int(self.timeout_s)) as (dojo, state):
                for i, tactic in enumerate(tactics):
                    state = dojo.run_tac(state, tactic)
                    elapsed = (time.perf_counter() - start) * 1000
                    if isinstance(state, d.ProofFinished):
                        return VerifyResult(VERIFIED, elapsed_ms=elapsed, id=theorem)
                    if isinstance(state, (d.LeanError, d.ProofGivenUp)):
                        msg = getattr(state, "error", "proof given up")
                        return VerifyResult(ERROR, [LeanMessage("error", f"tactic {i + 1} ({tactic}): {msg}")],
                                            elapsed_ms=elapsed, id=theorem)
                goals = getattr(state, "pp", "")
                return VerifyResult(ERROR, [LeanMessage("error", f"unsolved goals\n{goals}")],
                                    elapsed_ms=(time.perf_counter() - start) * 1000, id=theorem)
        except d.DojoTacticTimeoutError as e:
            return VerifyResult(TIMEOUT, elapsed_ms=(time.perf_counter() - start) * 1000, id=theorem, detail=str(e))


class LeanDojoVerifier:
    """The `--lean-backend leandojo` choice: explains what LeanDojo can and cannot do here."""

    @staticmethod
    def create(config):
        from formal.backends import NoLeanRunner

        if _lean_dojo() is None:
            raise NoLeanRunner(INSTALL)
        raise NoLeanRunner(NOT_FOR_CODE)
