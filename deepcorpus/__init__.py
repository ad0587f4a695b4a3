"""deepcorpus: DeepSeek-style training corpora (math, code, formal) and the model that trains on them."""

from deepcorpus.core import __version__  # noqa: F401  (one version, kept on the ground floor)
