"""The DeepSeek-V3-style model: MLA, DeepSeekMoE with aux-loss-free balancing, MTP, FP8 kernels.

    from model import Transformer, get_preset, generate
    model = Transformer(get_preset("tiny", vocab_size=4096))
    out = model(tokens[:, :-1], targets=tokens[:, 1:])   # out.loss, out.main_loss, out.mtp_loss, ...
    ids = generate(model, [bos, 17, 42], max_new_tokens=64, temperature=0.8, top_p=0.95, eos_id=eos)

The files: config.py (ModelArgs), presets.py (named configurations), transformer.py (the whole
architecture, one forward pass in one file), grouped_mm.py (the experts' grouped matmul), generation.py
(sampling with the compressed KV cache), params.py (parameter and FLOP counts); fp8.py and kernels/
hold the FP8 training path.
"""

from model.config import ModelArgs
from model.generation import generate
from model.params import count_parameters
from model.presets import PRESETS, get_preset
from model.transformer import IGNORE_INDEX, KVCache, ModelOutput, Transformer, segment_ids_from_starts

__all__ = ["ModelArgs", "PRESETS", "get_preset", "count_parameters", "Transformer", "ModelOutput", "KVCache",
           "IGNORE_INDEX", "segment_ids_from_starts", "generate"]
