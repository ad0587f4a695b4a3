"""A fastText model loaded once per machine and shared by its SDK worker processes.

Dataflow runs one SDK process per vCPU; a model loaded in each is loaded once per vCPU (a
DeepSeekMath-size classifier is ~2 GB: 32 GB on a 16-vCPU VM). `SharedModel` keeps one copy per VM
with Beam's `multi_process_shared.MultiProcessShared`: the first process to ask starts a server
process that streams the model to local disk once (`fasttext_binary.local_copy`) and loads it; the
others call it through a proxy, a batch of already-normalized texts per call (normalizing, the
larger part of the cost, stays in the callers, in parallel). fastText holds the GIL while it
predicts, so the server scores on one core: ~50k short texts/s, more than a VM's readers feed it.

`shared=False` loads the model in the process itself: right for in-process runs (tests, tiny inputs)
and small models, where a server process costs more than a copy.
"""

from __future__ import annotations

import functools
import hashlib
import os

from deepcorpus.core import storage

SHARE_ABOVE_BYTES = 256 * 2**20  # local multi-process runs share models at least this big


def _load(path: str):
    from classifiers.math_classifier import MathClassifier

    return MathClassifier.load(path)


def should_share(model_path: str, remote_runner: bool, in_memory: bool) -> bool:
    """Share on remote runners always; locally when the processes are many and the model big."""
    if remote_runner:
        return True
    if in_memory:
        return False
    try:
        return storage.size(model_path) >= SHARE_ABOVE_BYTES
    except OSError:
        return False


class SharedModel:
    """A picklable handle; `acquire()` in a DoFn's setup gives an object with `score_normalized_many`."""

    def __init__(self, path: str, shared: bool):
        self.path = path
        self.shared = shared

    def tag(self) -> str:
        from classifiers.fasttext_binary import version_stamp

        stamp = version_stamp(self.path)  # a replaced model gets its own server
        return "deepcorpus-model-" + hashlib.sha256(f"{self.path}\0{stamp}\0{os.getuid()}".encode()).hexdigest()[:16]

    def acquire(self):
        if not self.shared:
            return _load(self.path)
        from apache_beam.utils.multi_process_shared import MultiProcessShared

        self._handle = MultiProcessShared(functools.partial(_load, self.path), tag=self.tag(), always_proxy=True,
                                          spawn_process=True)
        return self._handle.acquire()
