"""Lean 4: the runner (REPL pool, Lean server, LeanDojo), the verification cache, generators."""
