"""The tokenizer of an exported model as transformers' `AutoTokenizer` reads it: tokenizer.json (our
byte-level BPE), tokenizer_config.json and special_tokens_map.json naming BOS, EOS, PAD and the FIM
sentinels.

AutoTokenizer then encodes exactly as our tokenizer does: the tokenizer.json bytes are the run's own
(their sha256 is still the one the token shards record), and `split_special_tokens` makes a
document's literal "<｜end▁of▁sentence｜>" plain text, as `load_tokenizer` does. A run whose shards
began every document with BOS (`tokenize run --add-bos`) exports with `add_bos=True`: a
post-processor then puts BOS in front of what `tokenizer(text)` returns, so serving and evaluation see
what training saw; `tokenizer(text, add_special_tokens=False)` is still our encoding.
"""

from __future__ import annotations

import json
import os

from pipelines.tokenize.tokenizer import BOS, EOS, FIM_BEGIN, FIM_END, FIM_HOLE, PAD, special_ids, tokenizer_from_bytes


def with_bos(data: bytes) -> bytes:
    """tokenizer.json bytes whose post-processor begins every sequence with BOS."""
    from tokenizers import Tokenizer, processors

    tok = Tokenizer.from_str(data.decode("utf-8"))
    bos = tok.token_to_id(BOS)
    tok.post_processor = processors.TemplateProcessing(single=f"{BOS}:0 $A:0", pair=f"{BOS}:0 $A:0 {BOS}:1 $B:1",
                                                       special_tokens=[(BOS, bos)])
    return tok.to_str(pretty=True).encode("utf-8")


def write_tokenizer_files(data: bytes, out_dir: str, *, add_bos: bool, model_max_length: int,
                          name: str = "tokenizer.json") -> dict:
    """Write the three files into `out_dir` from our tokenizer.json bytes; returns the special ids."""
    ids = special_ids(tokenizer_from_bytes(data, name))
    with open(os.path.join(out_dir, "tokenizer.json"), "wb") as f:
        f.write(with_bos(data) if add_bos else data)
    special = {"bos_token": BOS, "eos_token": EOS, "pad_token": PAD,
               "additional_special_tokens": [FIM_BEGIN, FIM_HOLE, FIM_END]}
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        **special,
        "add_bos_token": add_bos,
        "add_eos_token": False,
        # A special token's text inside a document is text, as our tokenizer encodes it.
        "split_special_tokens": True,
        "clean_up_tokenization_spaces": False,
        "model_max_length": model_max_length,
    }
    for file, content in (("tokenizer_config.json", config), ("special_tokens_map.json", special)):
        with open(os.path.join(out_dir, file), "w", encoding="utf-8") as f:
            json.dump(content, f, indent=2, ensure_ascii=False)
            f.write("\n")
    return {"bos_id": ids.bos, "eos_id": ids.eos, "pad_id": ids.pad}
