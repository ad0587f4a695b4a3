"""lm-evaluation-harness task files for local benchmark files, so an HF export can be scored there too.

    deepcorpus eval export/hf --benchmark gsm8k/test.jsonl --benchmark math/math500_test.jsonl \\
        --lm-eval-tasks out/lm_eval_tasks
    lm_eval --model hf --model_args pretrained=export/hf --include_path out/lm_eval_tasks \\
        --tasks deepcorpus_gsm8k_test_bpb,deepcorpus_gsm8k_test_gen --output_path out/lm_eval

Per benchmark, `deepcorpus_NAME_bpb` (loglikelihood_rolling over the same reference text `deepcorpus
eval` scores, reported as bits_per_byte) and, for GSM8K and MATH, `deepcorpus_NAME_gen` (greedy
generation; GSM8K answers compared after `####` / the last number, MATH by the last \\boxed{}). The
files point at the benchmark files by absolute path (the `json` loader of `datasets`, offline);
`utils.py` beside them builds the texts with this package, so the two harnesses score the same bytes.
Needs `pip install 'deepcorpus[lm-eval]'`.
"""

from __future__ import annotations

import os

from deepcorpus.core import storage
from evaluation.benchmarks import load_benchmark

UTILS = '''"""Written by `deepcorpus eval --lm-eval-tasks`: the texts and scoring deepcorpus uses."""

from evaluation.benchmarks import reference_text as _reference_text


def reference_text(doc):
    return _reference_text(doc)


def process_bpb(doc, results):
    (loglikelihood,) = results
    n_bytes = len(_reference_text(doc).encode("utf-8"))
    return {"bits_per_byte": (loglikelihood, n_bytes), "byte_perplexity": (loglikelihood, n_bytes)}


def process_gsm8k(doc, results):
    from evaluation.answers import extract_number, gsm8k_reference, numbers_equal

    return {"exact_match": float(numbers_equal(extract_number(results[0]), gsm8k_reference(doc["answer"])))}


def process_math(doc, results):
    from evaluation.answers import extract_math_answer, math_equal, math_reference

    return {"exact_match": float(math_equal(extract_math_answer(results[0]), math_reference(doc))[0])}
'''

GEN = {
    "gsm8k": ('"Question: {{question}}\\nAnswer:"', ["Question:", "\\n\\n\\n"], "process_gsm8k"),
    "math": ('"Problem:\\n{{problem}}\\n\\nSolution:\\n"', ["Problem:"], "process_math"),
}


def _yaml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def task_files(name: str, kind: str, path: str) -> dict[str, str]:
    """{file name: YAML text} for one benchmark."""
    data = os.path.abspath(path)
    common = (f"dataset_path: json\ndataset_kwargs:\n  data_files:\n    test: {_yaml_str(data)}\n"
              "test_split: test\n")
    files = {f"{name}_bpb.yaml": (
        f"task: deepcorpus_{name}_bpb\n{common}output_type: loglikelihood_rolling\ndoc_to_text: \"\"\n"
        "doc_to_target: !function utils.reference_text\nprocess_results: !function utils.process_bpb\n"
        "metric_list:\n  - metric: bits_per_byte\n  - metric: byte_perplexity\nmetadata:\n  version: 1.0\n")}
    if kind in GEN:
        prompt, until, process = GEN[kind]
        stops = "\n".join(f"    - {_yaml_str(u.encode().decode('unicode_escape'))}" for u in until)
        files[f"{name}_gen.yaml"] = (
            f"task: deepcorpus_{name}_gen\n{common}output_type: generate_until\ndoc_to_text: {prompt}\n"
            "doc_to_target: \"\"\n"
            f"generation_kwargs:\n  until:\n{stops}\n  do_sample: false\n  max_gen_toks: 256\n"
            f"process_results: !function utils.{process}\n"
            "metric_list:\n  - metric: exact_match\n    aggregation: mean\n    higher_is_better: true\n"
            "metadata:\n  version: 1.0\n")
    return files


def write_tasks(specs: list[str], out_dir: str, model: str | None = None, limit: int | None = None) -> list[str]:
    os.makedirs(out_dir, exist_ok=True)
    tasks = []
    for spec in specs:
        bench = load_benchmark(spec)
        for fname, text in task_files(bench.name, bench.kind, bench.path).items():
            storage.write_bytes_atomic(os.path.join(out_dir, fname), text.encode())
            tasks.append(fname[: -len(".yaml")])
    storage.write_bytes_atomic(os.path.join(out_dir, "utils.py"), UTILS.encode())
    names = ",".join(f"deepcorpus_{t}" for t in tasks)
    print(f"wrote {len(tasks)} lm-evaluation-harness tasks to {out_dir}; run them with:")
    print(f"  lm_eval --model hf --model_args pretrained={model or 'HF_DIR'} --include_path {out_dir} "
          f"--tasks {names} --batch_size 8 --output_path {out_dir}/results" + (f" --limit {limit}" if limit else ""))
    return [f"deepcorpus_{t}" for t in tasks]
