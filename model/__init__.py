"""The DeepSeek-V3-style model: MLA, DeepSeekMoE with aux-loss-free balancing, MTP, FP8 kernels.

    from model import Transformer, get_preset
    model = Transformer(get_preset("tiny", vocab_size=4096))
    out = model(tokens[:, :-1], targets=tokens[:, 1:])   # out.loss, out.main_loss, out.mtp_loss, ...
"""

from model.config import ModelArgs
from model.params import count_parameters
from model.presets import PRESETS, get_preset
from model.transformer import KVCache, ModelOutput, Transformer

__all__ = ["ModelArgs", "PRESETS", "get_preset", "count_parameters", "Transformer", "ModelOutput", "KVCache"]
