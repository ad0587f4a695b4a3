"""Beam pipelines: math (DeepSeekMath), code (DeepSeek-Coder), formal (DeepSeek-Prover), tokenize.

Beam is imported here and in `dedup/`'s transforms only; everything else is plain Python.
"""
