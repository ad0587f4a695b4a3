"""`deepcorpus grpo` end to end on the tiny model: metrics, rollouts, exact resume (between the updates of
one rollout batch, after a reference refresh), the variants, the report, and on the addition task after a
short SFT, the reward rising with the KL bounded."""

import json
import os
import subprocess
import sys

import pytest

from deepcorpus.cli import main
from deepcorpus.core.metrics import read_metrics
from tests.posttrain.conftest import read_jsonl
from train.checkpoint import load_for_inference, newest_checkpoint

SMALL = ["--group-size", "4", "--prompts-per-step", "4", "--max-new-tokens", "12", "--lr", "1e-3", "--log-every", "10",
         "--cpu-threads", "1"]
TIMING = {"step_seconds", "rollout_seconds", "generate_seconds", "rollouts_per_s"}


def grpo(init, task, run, *extra):
    return main(["grpo", "--init", init, "--prompts", task["prompts"], "--output", str(run), *SMALL, *extra])


def comparable(run):
    return [{k: v for k, v in r.items() if k not in TIMING} for r in read_metrics(str(run))]


def test_grpo_records_each_step_and_resumes_between_the_updates_of_a_batch(task, quick_sft, tmp_path, one_torch_thread):
    common = ["--reward", "math+0.5*format", "--policy-updates", "2", "--ref-refresh-every", "2",
              "--checkpoint-every", "1", "--keep-checkpoints", "2"]
    assert grpo(quick_sft, task, tmp_path / "full", *common, "--steps", "4") == 0
    records = read_metrics(str(tmp_path / "full"))
    assert [r["step"] for r in records] == [1, 2, 3, 4]
    assert [r["rollout_batch"] for r in records] == [0, 0, 1, 1]  # two updates per rollout batch
    assert [r["reference_step"] for r in records] == [0, 0, 2, 2]  # refreshed from the policy after step 2
    for r in records:
        for key in ("reward_mean", "reward_std", "reward_math_mean", "reward_format_mean", "accuracy", "kl",
                    "clip_fraction", "entropy", "response_length", "rollouts_per_s", "zero_advantage_groups"):
            assert r[key] is not None and r[key] == r[key], key
        assert 0 <= r["accuracy"] <= 1 and r["kl"] >= 0 and 0 <= r["clip_fraction"] <= 1
    assert records[0]["kl"] == 0.0 and records[0]["clip_fraction"] == 0.0  # θ = θ_old = π_ref at the first step
    assert records[0]["reward_mean"] == records[1]["reward_mean"]  # the same rollouts, updated on twice
    rollouts = read_jsonl(tmp_path / "full" / "rollouts.jsonl")
    assert len(rollouts) == 2 * 4 and {"prompt", "output", "reward", "math", "format"} <= set(rollouts[0])
    assert sorted(os.listdir(tmp_path / "full" / "reference")) == ["step_00000002.pt"]  # the older one is unused now

    summary = json.loads((tmp_path / "full" / "summary.json").read_text())
    assert summary["kind"] == "grpo" and summary["rollout_batches"] == 2
    model, args, tokenizer = load_for_inference(str(tmp_path / "full"))
    assert args.mtp_depth == 0 and tokenizer == task["tokenizer"]
    state = json.loads(open(os.path.join(newest_checkpoint(str(tmp_path / "full")), "trainer.json")).read())
    assert state["kind"] == "grpo" and state["loader"]["batch"] == 1 and state["loader"]["in_batch"] == 2

    # Stopped after step 3, in the middle of rollout batch 1: the resumed run trains on the same rollouts.
    assert grpo(quick_sft, task, tmp_path / "cut", *common, "--steps", "3") == 0
    assert grpo(quick_sft, task, tmp_path / "cut", *common, "--steps", "4", "--resume") == 0
    assert comparable(tmp_path / "cut") == comparable(tmp_path / "full")  # exact float equality


@pytest.mark.parametrize("options", [
    ["--variant", "dr-grpo", "--mini-batches", "2", "--micro-batch-size", "4"],
    ["--variant", "r1", "--aggregate", "token", "--beta", "0"],
])
def test_the_variants_train_and_say_what_they_computed(task, tmp_path, one_torch_thread, options):
    assert grpo(task["base"], task, tmp_path / "run", "--steps", "2", *options) == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    records = read_metrics(str(tmp_path / "run"))
    assert len(records) == 2
    if "dr-grpo" in options:
        assert summary["objective"] | {"variant": "dr-grpo", "advantage": "mean", "aggregate": "constant"} == \
            summary["objective"]
        assert [r["rollout_batch"] for r in records] == [0, 0]  # two mini-batches of one rollout batch
    else:
        assert summary["objective"]["ratio"] == "sequence" and records[0]["kl"] is None
        assert not os.path.exists(tmp_path / "run" / "reference")  # β = 0: no reference model


def test_chat_prompts_and_benchmark_rows_are_put_to_the_model_as_templated(task, tmp_path, one_torch_thread):
    prompts = tmp_path / "mixed.jsonl"
    rows = [{"messages": [{"role": "user", "content": "7+6="}], "answer": "13"},
            {"question": "What is 7+6?", "answer": "Add them.\n#### 13"},  # a GSM8K row: eval's zero-shot prompt
            {"prompt": "7+6=", "answer": 13, "stop": "</answer>"}]
    prompts.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["grpo", "--init", task["base"], "--prompts", str(prompts), "--output", str(tmp_path / "run"),
                 *SMALL, "--prompts-per-step", "3", "--log-rollouts", "12", "--steps", "1"]) == 0
    seen = {r["prompt"] for r in read_jsonl(tmp_path / "run" / "rollouts.jsonl")}
    assert seen == {"User: 7+6=\n\nAssistant:", "Question: What is 7+6?\nAnswer:", "7+6="}


def test_the_report_has_a_grpo_section_with_the_reward_curve(task, tmp_path, one_torch_thread):
    from deepcorpus.report import build_html

    assert grpo(task["base"], task, tmp_path / "runs" / "grpo", "--steps", "2") == 0
    page, sections = build_html(str(tmp_path))
    assert "Post-training (GRPO)" in page and "Reward per step" in page and "KL to the reference" in page
    assert "rollouts of step 2" in page


def test_bad_options_and_prompts_are_one_line(task, tmp_path, capsys):
    assert grpo(task["base"], task, tmp_path / "a", "--steps", "1", "--reward", "math+bogus") == 2
    assert "'bogus' is not a reward" in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:  # refused while the options are parsed, by the field's range
        grpo(task["base"], task, tmp_path / "b", "--steps", "1", "--group-size", "1")
    assert refused.value.code == 2
    assert "argument --group-size: expected a whole number >= 2, got 1" in capsys.readouterr().err
    bad = tmp_path / "p.jsonl"
    bad.write_text('{"prompt": "1+1=", "answer": "2"}\n{"prompt": "2+2="}\n')
    assert main(["grpo", "--init", task["base"], "--prompts", str(bad), "--output", str(tmp_path / "c"), *SMALL]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{bad}: record 2: the math reward needs a reference `answer`" in err
    assert grpo(task["base"], task, tmp_path / "d", "--steps", "1", "--generation-backend", "vllm") == 2
    assert "vLLM" in capsys.readouterr().err


@pytest.mark.slow
def test_grpo_raises_the_reward_on_the_addition_task_after_a_short_sft(task, sft_run, tmp_path):
    """The acceptance run: G = 8 outputs of 16 prompts per step, 40 steps, from the SFT'd tiny model, β = 0.04.
    (On the reference machine: 0.60 over the first 4 steps, 0.79 over the last 8; KL at most 0.10.)"""
    code = main(["grpo", "--init", sft_run, "--prompts", task["prompts"], "--reward", "math", "--output",
                 str(tmp_path / "run"), "--group-size", "8", "--prompts-per-step", "16", "--max-new-tokens", "20",
                 "--lr", "2e-4", "--steps", "40", "--log-every", "10", "--cpu-threads", "1", "--checkpoint-every", "0"])
    assert code == 0
    records = read_metrics(str(tmp_path / "run"))
    rewards = [r["reward_mean"] for r in records]
    start, end = sum(rewards[:4]) / 4, sum(rewards[-8:]) / 8
    print("reward curve:", " ".join(f"{r:.2f}" for r in rewards))
    print("kl:", " ".join(f"{r['kl']:.3f}" for r in records))
    assert end > start + 0.1 and end > 0.7, rewards
    assert records[-1]["accuracy"] == records[-1]["reward_mean"]  # the math reward is the accuracy
    assert max(r["kl"] for r in records) < 0.25  # bounded: β = 0.04 holds the policy near the SFT model
    assert records[-1]["entropy"] < records[0]["entropy"]  # sharper


@pytest.mark.slow
@pytest.mark.parametrize("how", ["ddp", "fsdp"])
def test_two_gloo_ranks_share_the_rollout_batch(task, quick_sft, tmp_path, how):
    """Each rank samples its share of the prompts; under FSDP2 both decode in lockstep, the reference is
    sharded too, and a run stopped after a reference refresh resumes from the sharded checkpoint."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "deepcorpus",
           "grpo", "--init", quick_sft, "--prompts", task["prompts"], "--output", str(tmp_path / "run"),
           "--distributed", how, "--ref-refresh-every", "2", "--checkpoint-every", "2", *SMALL]
    runs = [["--steps", "3"]] if how == "ddp" else [["--steps", "2"], ["--steps", "3", "--resume"]]
    for extra in runs:
        proc = subprocess.run(cmd + extra, capture_output=True, text=True, timeout=300, env=env)
        assert proc.returncode == 0, proc.stderr[-4000:]
    records = read_metrics(str(tmp_path / "run"))
    assert [r["step"] for r in records] == [1, 2, 3] and records[-1]["reference_step"] == 2
    assert len(read_jsonl(tmp_path / "run" / "rollouts.jsonl")) == 3 * 4
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["counters"]["grpo"]["ranks"] == 2
    ckpt = newest_checkpoint(str(tmp_path / "run"))
    assert sorted(f for f in os.listdir(ckpt) if f.startswith("rng_")) == ["rng_rank0.pt", "rng_rank1.pt"]
    assert os.path.isdir(os.path.join(ckpt, "sharded")) == (how == "fsdp")
    model, args, _ = load_for_inference(str(tmp_path / "run"))  # gathered back into one process
    assert args.mtp_depth == 0


@pytest.mark.slow
def test_lean_reward_end_to_end_through_the_repl_standin(task, quick_sft, tmp_path, monkeypatch, one_torch_thread):
    """THE LEAN REPL STAND-IN (tests/formal/standin_repl.py), not Lean: told here to fail every proof that
    holds `<answer>`, so the verdicts vary. A GRPO step sends each output, as the proof of its record's
    statement (a `formal_statement`, or the ```lean4 block a `formal run` sft.jsonl prompt ends in), to
    formal/'s runner, and its verdict is the reward and the accuracy."""
    from tests.posttrain.test_rewards import STANDIN

    log = tmp_path / "repl.jsonl"
    monkeypatch.setenv("STANDIN_LOG", str(log))
    monkeypatch.setenv("STANDIN_FAIL", "<answer>")
    prompts = tmp_path / "lean.jsonl"
    rows = [{"prompt": "7+6=", "formal_statement": "theorem t76 : 7 + 6 = 13 :=", "header": "import Mathlib"},
            {"prompt": "Complete the following Lean 4 code:\n\n```lean4\nimport Mathlib\n\ntheorem t25 : 2 + 5 = 7 := "}]
    prompts.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["grpo", "--init", quick_sft, "--prompts", str(prompts), "--output", str(tmp_path / "run"), *SMALL,
                 "--prompts-per-step", "2", "--log-rollouts", "8", "--steps", "1", "--reward", "lean",
                 "--lean-backend", "repl", "--repl-command", STANDIN, "--reward-workers", "2"]) == 0
    rollouts = read_jsonl(tmp_path / "run" / "rollouts.jsonl")
    assert len(rollouts) == 8
    for r in rollouts:
        assert r["lean"] == (0.0 if "<answer>" in r["output"].split("```")[0] else 1.0), r
    assert {r["lean"] for r in rollouts} == {0.0, 1.0}  # the seeded outputs of the quick SFT hold both verdicts
    sent = [json.loads(line)["cmd"] for line in log.read_text().splitlines()]
    for name in ("t76", "t25"):
        assert sum(f"theorem {name}" in c for c in sent) == 4  # G = 4 proofs of each statement
    assert not any("import" in c for c in sent if "theorem" in c)  # the header is its own environment
    record = read_metrics(str(tmp_path / "run"))[0]
    assert record["accuracy"] == record["reward_lean_mean"] == sum(r["lean"] for r in rollouts) / 8
