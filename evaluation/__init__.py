"""Evaluation and data ablations: what a corpus does to a model (DeepSeekMath's Table 1, in a loop).

- `deepcorpus eval RUN_DIR|HF_DIR --benchmark PATH ... --output DIR` (evaluation/run.py): bits per
  byte, few-shot chain-of-thought accuracy (GSM8K, MATH), pass@k of code in a sandbox (HumanEval,
  MBPP), miniF2F through formal/'s Lean runner; results.json with 95% intervals and an eval_item
  dataset of every item's output.
- `deepcorpus ablate --config ablate.yaml --output DIR` (evaluation/ablation.py): one model per data
  arm and seed, everything else equal, then eval on each: a table and a plot.

Plain Python and PyTorch; no Beam.
"""
