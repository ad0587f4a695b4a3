"""The steps of `tokenize run` as Beam DoFns, each small and tested on its own.

    rows --Text--> Document [--Select (mixture)-->] --Batch/Tokenize--> TokenizedDoc
         --Sample--> (part, (order, source, ids))
         --GroupByKey--> --WritePart--> part-RUN-NNNNN-UNIQUE.parquet (its record carries its stats)

Counters (namespace = the stage in the summary table): text, fim, tokenize, mixture, pack.
"""

from __future__ import annotations

import logging
import time
from typing import NamedTuple

import apache_beam as beam
import numpy as np
from apache_beam.metrics import Metrics

from deepcorpus.core import datasets
from deepcorpus.core.contracts import FORMAL_PROOF
from pipelines.tokenize import documents, fim, packing, windows
from pipelines.tokenize.sampling import copies, uniform

PROGRESS_EVERY_S = 30

log = logging.getLogger(__name__)


class Document(NamedTuple):
    source: str
    id: str
    text: str
    code: bool


class TokenizedDoc(NamedTuple):
    source: str
    id: str
    ids: np.ndarray  # int32, without EOS (the packer adds it)
    fim: bool


class _Counters:
    """Counters by name, created once per DoFn instance (the hot path only increments)."""

    def __init__(self, namespace: str):
        self.namespace = namespace
        self._made: dict = {}

    def inc(self, name: str, n: int = 1) -> None:
        c = self._made.get(name)
        if c is None:
            c = self._made[name] = Metrics.counter(self.namespace, name)
        c.inc(n)


class TextFn(beam.DoFn):
    """A row of one source -> the Document it contributes (none for empty rows or failed proofs)."""

    def __init__(self, source: str, schema: str | None, formal_keep: str = "not-failed"):
        self.source = source
        self.schema = schema
        self.formal_keep = formal_keep

    def setup(self):
        self.counters = _Counters("text")

    def process(self, row: dict):
        self.counters.inc(f"in_{self.source}")
        formal = self.schema == FORMAL_PROOF
        if formal and not documents.proof_kept(row, self.formal_keep):
            self.counters.inc(f"dropped_proof_{row.get('status') or 'unverified'}")
            return
        text = documents.document_text(row, self.schema, self.formal_keep)
        if text is None:
            self.counters.inc("dropped_empty")
            return
        if formal and row.get("status") == "unverified":
            self.counters.inc("unchecked_proofs")  # kept, but Lean never looked at them
        code = documents.is_code(row, self.schema)
        if code:
            self.counters.inc("code_docs")
        yield Document(self.source, str(row["id"]), text, code)


class TokenizeFn(beam.DoFn):
    """A batch of Documents -> TokenizedDocs, with FIM applied to code documents.

    Takes batches (after `beam.BatchElements`) so one `encode_batch_fast` call, in Rust and on
    several threads, does the work for many documents. Workers load the tokenizer from its path
    (a 128K vocabulary is ~8 MB, too much to ship inside a Dataflow job graph) and check that its
    hash is still the one the driver recorded.
    """

    def __init__(self, tokenizer_path: str, tokenizer_hash: str, fim_config: fim.FimConfig, add_bos: bool = False,
                 window_chars: int = windows.DEFAULT_WINDOW_CHARS):
        self.tokenizer_path = tokenizer_path
        self.tokenizer_hash = tokenizer_hash
        self.fim_config = fim_config
        self.add_bos = add_bos
        self.window_chars = window_chars  # a long document is encoded in windows of this many characters

    def setup(self):
        from pipelines.tokenize.tokenizer import hash_bytes, read_tokenizer_bytes, special_ids, tokenizer_from_bytes

        data = read_tokenizer_bytes(self.tokenizer_path)
        if hash_bytes(data) != self.tokenizer_hash:
            raise RuntimeError(f"{self.tokenizer_path} changed while the pipeline ran (sha256 {hash_bytes(data)[:12]}, "
                               f"expected {self.tokenizer_hash[:12]})")
        self.tok = tokenizer_from_bytes(data, self.tokenizer_path)
        ids = special_ids(self.tok)
        self.sentinels = (ids.fim_begin, ids.fim_hole, ids.fim_end)
        self.bos = ids.bos
        self.counters = _Counters("tokenize")
        self.fim_counters = _Counters("fim")
        self.started = self.last_log = time.time()
        self.docs_done = self.tokens_done = 0

    def process(self, batch: list[Document]):
        texts: list[str] = []
        plans: list[list[str | None] | None] = []
        for doc in batch:
            split = fim.fim_split(doc.text, doc.id, self.fim_config) if doc.code else None
            if split is None:
                plans.append(None)
                texts.append(doc.text)
            else:
                pieces = fim.arrange(split, self.fim_config.mode)
                plans.append(pieces)
                texts.extend(p for p in pieces if p is not None)
        # Short texts in one batch; a long one in bounded windows (pipelines/tokenize/windows.py).
        encodings, unsafe = windows.encode(self.tok, texts, self.window_chars)
        if unsafe:
            self.counters.inc("windows_cut_unsafely", unsafe)
        i = 0
        for doc, pieces in zip(batch, plans):
            if pieces is None:
                array = encodings[i]
                i += 1
            else:
                n = sum(p is not None for p in pieces)
                array = fim.encode_pieces(pieces, encodings[i:i + n], self.sentinels)
                i += n
                self.fim_counters.inc(f"applied_{self.fim_config.mode}")
            if self.add_bos:
                array = np.concatenate([np.array([self.bos], dtype=np.int32), array])
            self.counters.inc("docs")
            self.counters.inc(f"tokens_{doc.source}", len(array) + 1)  # + the EOS the packer adds
            self.docs_done += 1
            self.tokens_done += len(array) + 1
            yield TokenizedDoc(doc.source, doc.id, array, pieces is not None)
        if time.time() - self.last_log > PROGRESS_EVERY_S:  # long runs show they are moving
            self.last_log = time.time()
            log.info("this worker tokenized %s documents, %s tokens (%.0f tokens/s)", f"{self.docs_done:,}",
                     f"{self.tokens_done:,}", self.tokens_done / (self.last_log - self.started))


def mixture_copies(seed, rates: dict[str, float], source: str, doc_id: str) -> int:
    """How many copies of a document the mixture takes: a hash of (seed, source, id) against its
    source's rate, the same before and after tokenizing."""
    return copies(rates.get(source, 0.0), uniform(seed, "mix", source, doc_id))


class SelectFn(beam.DoFn):
    """A Document -> itself when the mixture takes it (once or more), before it is tokenized: what
    the mixture leaves out costs no tokenizing. `rates` (one float per source) are fixed before the
    run, so this is a streaming filter."""

    def __init__(self, seed: int, rates: dict[str, float]):
        self.seed = seed
        self.rates = rates

    def setup(self):
        self.counters = _Counters("mixture")

    def process(self, doc: Document):
        n = mixture_copies(self.seed, self.rates, doc.source, doc.id)
        self.counters.inc("in")
        self.counters.inc("dropped_docs" if n == 0 else "kept_docs")
        if n > 1:
            self.counters.inc("repeated_docs")
        if n:
            yield doc


class SampleFn(beam.DoFn):
    """A TokenizedDoc -> (part, (order, source, ids)) for each copy the mixture takes (one without one).

    How many copies, which part and where in it are hashes of the seed and the document, so every
    part gets a shuffled, reproducible mix of the sources. `rates` (one float per source, None:
    take every document once) are fixed before the run, so this step streams; a document SelectFn
    left out yields nothing here either.
    """

    def __init__(self, num_parts: int, seed: int, rates: dict[str, float] | None = None):
        self.num_parts = num_parts
        self.seed = seed
        self.rates = rates

    def setup(self):
        self.counters = _Counters("mixture")

    def process(self, doc: TokenizedDoc):
        n = 1 if self.rates is None else mixture_copies(self.seed, self.rates, doc.source, doc.id)
        self.counters.inc("placed")
        self.counters.inc("copies", n)
        for copy in range(n):
            part = int(uniform(self.seed, "part", doc.source, doc.id, copy) * self.num_parts)
            order = uniform(self.seed, "order", doc.source, doc.id, copy)
            yield part, (order, doc.source, doc.ids)


class WritePartFn(beam.DoFn):
    """(part, documents) -> `part-RUN-NNNNN-UNIQUE.parquet` straight in the dataset directory,
    packed in hash order; yields the part's record for the commit, its packing stats under `stats`.

    Writing a whole part from one element is what keeps a document inside one part file and the
    rows of a part one stream. A retried bundle writes under a new name; the first attempt's file
    is never listed and the commit's clean-up removes it.
    """

    def __init__(self, target: datasets.Target, seq_len: int, eos_id: int, pad_id: int):
        self.target = target
        self.seq_len = seq_len
        self.eos_id = eos_id
        self.pad_id = pad_id

    def setup(self):
        self.counters = _Counters("pack")

    def process(self, element):
        part, docs = element
        ordered = sorted(docs, key=lambda d: d[0])
        table, stats = packing.pack(((s, ids) for _, s, ids in ordered), self.seq_len, self.eos_id,
                                    self.pad_id, self.target.schema)
        record = {**datasets.write_part(table, self.target.part_path(part)), "index": part, "stats": vars(stats)}
        self.counters.inc("parts")
        self.counters.inc("rows", stats.rows)
        self.counters.inc("docs", stats.documents)
        self.counters.inc("padding", stats.padding)
        for source, n in stats.tokens_by_source.items():
            self.counters.inc(f"tokens_{source}", n)
        yield record
