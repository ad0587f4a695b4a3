"""`deepcorpus export`: a trained run as a Hugging Face model directory. Heavy imports happen inside the
handler."""

from __future__ import annotations

import argparse

from deepcorpus.core.command import command_parser, nonnegative_int, output_dir


def register(sub) -> None:
    p = command_parser(sub, "export", "Export a trained checkpoint for transformers, vLLM, SGLang and lm-eval.", [
        "deepcorpus export runs/small --format hf --output exports/small",
        "deepcorpus export runs/small --step 2000 --format hf --dtype fp32 --output exports/small-2000",
        "deepcorpus export runs/v3 --format hf --max-shard-size 4GB --output exports/v3",
    ])
    p.add_argument("run", metavar="RUN_DIR", help="run directory (its newest complete checkpoint) or a checkpoint")
    p.add_argument("--step", type=nonnegative_int, help="export the checkpoint of this step (default: the newest)")
    p.add_argument("--format", default="hf", choices=["hf"],
                   help="hf: a Hugging Face directory (config.json, sharded safetensors, tokenizer); the default")
    p.add_argument("--output", required=True, type=output_dir, help="directory to create (must not exist or be empty)")
    p.add_argument("--dtype", default="bf16", choices=["bf16", "fp32"],
                   help="weight precision (default bf16; the router stays fp32 either way)")
    p.add_argument("--max-shard-size", default="5GB", help="largest safetensors shard, e.g. 5GB or 500MB (default 5GB)")
    p.add_argument("--tokenizer", help="tokenizer.json to include (default: the run's; must match its shards' hash)")
    p.add_argument("--no-tokenizer", action="store_true", help="export the weights and config only")
    p.add_argument("--add-bos", action=argparse.BooleanOptionalAction, default=None,
                   help="make tokenizer(text) begin with BOS (default: as the run's shards were tokenized)")
    p.add_argument("--no-mtp", action="store_true", help="leave the multi-token-prediction layers out")
    p.set_defaults(func=_run)


def _run(args) -> int:
    import logging

    from interop.export import export_hf, parse_size

    summary = export_hf(args.run, args.output, step=args.step, dtype=args.dtype,
                        max_shard_bytes=parse_size(args.max_shard_size), tokenizer=args.tokenizer,
                        with_tokenizer=not args.no_tokenizer, add_bos=args.add_bos, include_mtp=not args.no_mtp,
                        command=args.command_line)
    logging.getLogger("export").info(
        "exported step %d as %s: %s parameters, %s, %d shard(s), %.2f GB in %.0fs", summary["step"],
        summary["architecture"], f"{summary['parameters']:,}", summary["dtype"], summary["shards"],
        summary["total_bytes"] / 1e9, summary["seconds"])
    out = args.output
    print(f"{out}\n"
          f"  transformers: AutoModelForCausalLM.from_pretrained({out!r}); AutoTokenizer.from_pretrained({out!r})\n"
          f"  vLLM:         vllm serve {out}\n"
          f"  lm-eval:      lm_eval --model hf --model_args pretrained={out},dtype=bfloat16 --tasks gsm8k")
    return 0
