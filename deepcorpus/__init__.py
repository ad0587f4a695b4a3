"""deepcorpus: DeepSeek-style training corpora (math, code, formal) and the model that trains on them."""

__version__ = "0.1.0"
