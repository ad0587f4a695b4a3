"""Lean 4: the runner (REPL pool, Lean server, LeanDojo), the verification cache, generators.

- `repl_protocol`, `repl_process`, `pool`: the leanprover-community REPL's JSON protocol, one REPL
  process under a memory cap, and a pool of them with header reuse, timeouts and restarts;
- `kimina`, `leandojo_backend`, `backends`: the other runners, and finding one (`detect`);
- `cache`: results keyed by (toolchain, header, code); `results`: what a request gets back;
- `header`, `statements`, `tactics`, `decompose`: Lean text: headers, theorem signatures, negations,
  the tactic portfolio, subgoal lemmas;
- `templates`, `generators`: where statements and proofs come from (templates, HF model, our model);
- `prover`: filter, prove and decompose a batch with any runner. Plain Python; the Beam steps live in
  pipelines/formal/.
"""
