"""Post-training: supervised fine-tuning (GRPO with verifiable rewards follows).

    deepcorpus sft  --init-from runs/base --data sft.jsonl --steps 500 --output runs/sft

SFT is a kind of training in `train.trainer.Trainer`'s loop (optimizer steps, clipping, autocast,
metrics, checkpoints, resume, DDP/FSDP2): it brings its own data.

    config.py      SFTConfig: TrainConfig with the fields of SFT, and its options
    records.py     prompt/completion, chat and prompt records from JSONL or Parquet
    templates.py   the chat template (the tokenizer's Jinja one, or DeepSeek LLM's) and prompt templates
    init.py        what a run starts from: weights, tokenizer, the ids that begin a document
    sft_data.py    SFT examples tokenized once into the run, packed into rows with document masks
    sft.py         `deepcorpus sft`
"""
