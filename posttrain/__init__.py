"""Post-training: supervised fine-tuning and GRPO with verifiable rewards.

    deepcorpus sft  --init-from runs/base --data sft.jsonl --steps 500 --output runs/sft
    deepcorpus grpo --init runs/sft --prompts gsm8k.jsonl --reward math+0.1*format --output runs/grpo

Both are kinds of training in `train.trainer.Trainer`'s loop (optimizer steps, clipping, autocast,
metrics, checkpoints, resume, DDP/FSDP2): they bring their own data and, for GRPO, their own loss.

    config.py      SFTConfig and GRPOConfig: TrainConfig with the fields of each, and their options
    records.py     prompt/completion, chat and prompt records from JSONL or Parquet
    templates.py   the chat template (the tokenizer's Jinja one, or DeepSeek LLM's) and prompt templates
    init.py        what a run starts from: weights, tokenizer, the ids that begin a document
    sft_data.py    SFT examples tokenized once into the run, packed into rows with document masks
    sft.py         `deepcorpus sft`
    objective.py   GRPO's objective (DeepSeekMath eq. 3) and its R1 and Dr. GRPO variants
    tasks.py       GRPO's prompt records (or benchmark rows): the prompt, its stop strings, the reference
    rewards.py     math, format, lean, code rewards and weighted sums of them
    generation.py  rollout backends: the model's own cached generation, or vLLM
    rollouts.py    rollout batches (G samples per prompt, rewards, advantages) as the Trainer's data
    reference.py   the frozen reference policy, refreshed every K steps
    grpo.py        `deepcorpus grpo` and its per-step metrics
"""
