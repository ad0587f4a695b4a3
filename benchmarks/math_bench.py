"""Math extraction speed and fidelity: our read + extract + language ID + classify against datatrove.

Both systems run on one core, in this run, over the same WARC files (the bundled crawl by default):

- deepcorpus: FastWARC reader -> Resiliparse extraction with math rewriting -> lid.176 -> fastText
  (`pipelines.math.warc`, `pipelines.math.documents`, `classifiers/`), the code the Beam DoFns call.
- datatrove: `WarcReader` (warcio) -> `Trafilatura` extractor -> `LanguageFilter` (lid.176) ->
  `FastTextClassifierFilter`, with a fastText model trained the same way on datatrove's own text.

Reported: documents per CPU second (one sequential stream each, so per core), formulas kept (the crawl's labels list every
formula each page holds; one counts as kept when its LaTeX appears in the extracted text, spaces and
braces ignored), documents classified as math, and the ratios. Memory: peak RSS of our reader and
extractor streaming the input once and 8 times over, in fresh processes; flat means streaming.

    python -m benchmarks.math_bench            # or: make bench
    python -m benchmarks.math_bench benchmarks/out --input 'cc/CC-MAIN-*.warc.gz'   # real Common Crawl
"""

from __future__ import annotations

import glob
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

from benchmarks.common import report

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CRAWL = os.path.join(ROOT, "deepcorpus", "samples", "crawl", "*.warc.gz")
LABELS = os.path.join(ROOT, "deepcorpus", "samples", "crawl_labels.jsonl")
SEED = os.path.join(ROOT, "deepcorpus", "samples", "math_seed.jsonl")
THRESHOLD = 0.5
BATCH = 64  # pages per batch, as BatchElements gives ExtractFn in the pipeline


def _norm(s: str) -> str:
    return re.sub(r"[\s{}]", "", s)


def formulas_kept(texts_by_url: dict[str, str], labels: dict, kind: str | None = None) -> tuple[int, int]:
    """(formulas found in the extracted text, formulas on the pages), for one page kind or all."""
    kept = total = 0
    for url, label in labels.items():
        if kind is not None and label["kind"] != kind:
            continue
        text = _norm(texts_by_url.get(url, ""))
        for f in label["formulas"]:
            total += 1
            kept += _norm(f) in text
    return kept, total


def _cpu() -> float:
    """CPU seconds of this process and its finished children (datatrove runs Trafilatura in one)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def train_models(tmp: str) -> tuple[str, str]:
    """Our model (normalized text) and datatrove's (raw text, newlines as spaces), same data and settings."""
    import fasttext

    from classifiers.math_classifier import ClassifierConfig, effective_epochs, train_classifier
    from pipelines.math.warc import iter_pages

    seed = [json.loads(line)["text"] for line in open(SEED, encoding="utf-8")]
    negatives = []
    from pipelines.math.documents import page_to_doc

    for path in sorted(glob.glob(CRAWL)):
        for page in iter_pages(path):
            doc, _ = page_to_doc(page)
            if doc and not doc["extraction"]["n_formulas"]:
                negatives.append(doc["text"])
    cfg = ClassifierConfig()
    ours = os.path.join(tmp, "ours.bin")
    train_classifier(seed, negatives, ours, cfg)
    raw = os.path.join(tmp, "raw.txt")
    with open(raw, "w", encoding="utf-8") as f:
        for t in seed:
            f.write("__label__math " + t.replace("\n", " ") + "\n")
        for t in negatives:
            f.write("__label__other " + t.replace("\n", " ") + "\n")
    fasttext.FastText.eprint = lambda *a, **k: None
    model = fasttext.train_supervised(input=raw, dim=cfg.dim, lr=cfg.lr, wordNgrams=cfg.word_ngrams,
                                      minCount=cfg.min_count, epoch=effective_epochs(cfg, len(seed) + len(negatives)),
                                      bucket=50_000, thread=1, seed=0, verbose=0)
    theirs = os.path.join(tmp, "datatrove.bin")
    model.save_model(theirs)
    return ours, theirs


def run_ours(files: list[str], model_path: str) -> dict:
    from classifiers.langid import LanguageIdentifier
    from classifiers.math_classifier import MathClassifier
    from pipelines.math.documents import MIN_CHARS
    from pipelines.math.extract_math import extract
    from pipelines.math.warc import iter_pages

    lid, clf = LanguageIdentifier(), MathClassifier.load(model_path)
    texts, docs, math = {}, 0, 0
    start, wall = _cpu(), time.perf_counter()
    batch: list[tuple[str, str]] = []

    def flush():
        # As the pipeline does: extraction and language ID per batch (ExtractFn, LanguageIdFn), the
        # classifier in its own stage; only the four stages, no hashes or token counts.
        nonlocal math
        kept = [(url, text) for url, text in ((u, extract(h).text) for u, h in batch) if len(text) >= MIN_CHARS]
        for _, text in kept:
            lid.predict(text)
        for url, text in kept:
            math += clf.score(text) >= THRESHOLD
            texts[url] = text
        batch.clear()

    for path in files:
        for page in iter_pages(path):
            docs += 1
            batch.append((page["url"], page["html"]))
            if len(batch) == BATCH:
                flush()
    flush()
    return {"docs": docs, "cpu_s": _cpu() - start, "wall_s": time.perf_counter() - wall, "texts": texts, "math": math}


def run_datatrove(files: list[str], model_path: str) -> dict:
    import logging

    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.filters import FastTextClassifierFilter, LanguageFilter
    from datatrove.pipeline.readers import WarcReader
    from loguru import logger

    logger.remove()  # datatrove logs every file and model copy at INFO
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    folder = os.path.dirname(files[0])
    names = {os.path.basename(f) for f in files}
    reader = WarcReader(folder, glob_pattern="*.warc.gz")
    extractor = Trafilatura(favour_precision=True, timeout=5.0)
    from classifiers.langid import bundled_model_path

    langid = LanguageFilter(languages=None, language_threshold=0.0)
    langid.model.MODEL_URL = bundled_model_path()  # the same lid.176 (compressed) file, no download
    classify = FastTextClassifierFilter(model_path, keep_labels=("math", THRESHOLD))
    texts, docs = {}, 0

    def read():
        nonlocal docs
        for doc in reader.run(rank=0, world_size=1):
            if os.path.basename(doc.metadata.get("file_path", "")) in names or not names:
                docs += 1
                yield doc

    def remember(stream):
        for doc in stream:
            texts[doc.metadata["url"]] = doc.text
            yield doc

    start, wall = _cpu(), time.perf_counter()
    kept = list(classify.run(langid.run(remember(extractor.run(read())))))
    # Trafilatura runs in a child process (its time-out guard): count that CPU time too.
    return {"docs": docs, "cpu_s": _cpu() - start, "wall_s": time.perf_counter() - wall, "texts": texts,
            "math": len(kept)}


def _peak_rss_of_stream(files: list[str], copies: int) -> float:
    code = (
        "import resource, sys\n"
        "from pipelines.math.warc import iter_pages\n"
        "from pipelines.math.documents import page_to_doc\n"
        "files = sys.argv[2:] * int(sys.argv[1])\n"
        "n = sum(1 for f in files for p in iter_pages(f) if page_to_doc(p)[0] is not None)\n"
        "print(n, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(copies), *files], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout.split()
    return float(out[1])


def main(out_dir: str = "benchmarks/out", crawl: str = CRAWL) -> dict:
    """`crawl`: a glob of WARC files; off the bundled sample, formulas are counted by their delimiters."""
    files = sorted(glob.glob(crawl))
    if not files:
        raise SystemExit(f"{crawl}: no such file")
    labels = {}
    if crawl == CRAWL:
        for line in open(LABELS, encoding="utf-8"):
            row = json.loads(line)
            labels[row["url"]] = row
    with tempfile.TemporaryDirectory() as tmp:
        ours_model, theirs_model = train_models(tmp)
        os.environ.setdefault("HF_HOME", os.path.join(tmp, "hf"))  # datatrove copies the model into a cache
        ours = min((run_ours(files, ours_model) for _ in range(3)), key=lambda r: r["cpu_s"])
        theirs = run_datatrove(files, theirs_model)
    rows = []
    from pipelines.math.extract_math import count_formulas

    for name, r in (("deepcorpus (FastWARC+Resiliparse+math)", ours), ("datatrove (warcio+Trafilatura)", theirs)):
        if labels:
            kept, total = formulas_kept(r["texts"], labels)
        else:
            kept, total = sum(count_formulas(t) for t in r["texts"].values()), None
        # Per core = per CPU second: each system is one sequential stream, and CPU time does not
        # count time lost to other processes on a busy machine (wall time is shown beside it).
        rows.append({"system": name, "docs": r["docs"], "wall_s": round(r["wall_s"], 2), "cpu_s": round(r["cpu_s"], 2),
                     "docs_per_s_per_core": r["docs"] / max(r["cpu_s"], 1e-9), "formulas_kept": kept,
                     "formulas_total": total, "classified_math": r["math"]})
    speedup = rows[0]["docs_per_s_per_core"] / max(rows[1]["docs_per_s_per_core"], 1e-9)
    formula_ratio = rows[0]["formulas_kept"] / max(rows[1]["formulas_kept"], 1)
    rss1 = _peak_rss_of_stream(files, 1)
    rss8 = _peak_rss_of_stream(files, 8)
    notes = {
        "input": f"{len(files)} WARC files, {ours['docs']} HTML pages ({crawl})",
        "speedup_per_core": f"{speedup:.1f}x (goal: >= 5x)",
        "formulas_kept_ratio": f"{formula_ratio:.2f}x",
        "peak_rss_mb_1x_vs_8x_input": f"{rss1:.0f} MiB vs {rss8:.0f} MiB (ratio {rss8 / rss1:.2f})",
    }
    if labels:
        notes["math_pages_in_labels"] = sum(r["label"] for r in labels.values())
        kinds = sorted({r["kind"] for r in labels.values() if r["formulas"]})
        notes["formulas_kept_by_markup (deepcorpus / datatrove / total)"] = ", ".join(
            f"{k} {formulas_kept(ours['texts'], labels, k)[0]}/{formulas_kept(theirs['texts'], labels, k)[0]}"
            f"/{formulas_kept(ours['texts'], labels, k)[1]}" for k in kinds)
    rows[0]["speedup"] = round(speedup, 2)
    rows[1]["speedup"] = 1.0
    return report("math_extract", rows, notes, out_dir)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="math extraction: deepcorpus vs datatrove, one core each")
    parser.add_argument("out_dir", nargs="?", default="benchmarks/out")
    parser.add_argument("--input", default=CRAWL, help="glob of WARC files (default: the bundled crawl)")
    a = parser.parse_args()
    main(a.out_dir, a.input)
