"""The DeepSeek-V3-style model: MLA, DeepSeekMoE with aux-loss-free balancing, MTP, FP8 kernels."""
