"""Interop with the Hugging Face ecosystem: `deepcorpus export --format hf` writes a trained run as a
directory that transformers (`DeepseekV3ForCausalLM`, `DeepseekV2ForCausalLM`), vLLM, SGLang and
lm-evaluation-harness load. The key and config mapping itself is `model.hf`; importing DeepSeek's
checkpoints for continued pre-training is `deepcorpus train --init-from` (train.init_from).

    export.py           the export, shard by shard
    tokenizer_files.py  tokenizer.json and its configs for AutoTokenizer
    cli.py              the `export` command
"""
