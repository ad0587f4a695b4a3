"""A corpus with known near-duplicate structure, and the scoring of a dedup run against it.

Families of documents: an original (Zipf-distributed words in paragraphs) and copies made from it
by the edits the web makes (words substituted, spans inserted or deleted, paragraphs reordered,
boilerplate headers and footers added), at random intensities. The truth is the exact Jaccard
similarity of the shingle sets of every pair within a family; pairs across families share
nothing but boilerplate, and are scored by their exact Jaccard when a system pairs them.

Scoring follows the issue: precision and recall of duplicate *pairs*, counting pairs with
Jaccard >= 0.9 as duplicates and <= 0.6 as distinct, and leaving the ambiguous band between out.
"""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass

import numpy as np

from dedup.components import union_find_components
from dedup.minhash import MinHashConfig, MinHasher, jaccard_of_sets

BOILERPLATE = [
    "Home | About | Contact | Privacy policy | Terms of use | Sign in to comment",
    "Copyright 2024 All rights reserved. This page was last edited on the date shown above.",
    "Share this: Twitter Facebook Reddit Email Print Like this: Like Loading related posts",
    "Subscribe to our newsletter to get the latest articles delivered to your inbox every week",
]


@dataclass
class Corpus:
    docs: list[dict]  # id, text, family
    pairs: dict[tuple[str, str], float]  # (id_a, id_b) sorted -> exact Jaccard, within families

    def write_jsonl(self, path: str) -> None:
        with open(path, "w") as f:
            for d in self.docs:
                f.write(json.dumps(d) + "\n")


def _word(i: int) -> str:
    # Letters only: dedup tools that fold digits (datatrove does) must still see distinct words.
    out = ""
    while True:
        i, r = divmod(i, 26)
        out += "abcdefghijklmnopqrstuvwxyz"[r]
        if i == 0:
            return out


def _words(rng: random.Random, n: int, vocab: int = 50000) -> list[str]:
    # Zipf-like: a few words are frequent, most are rare, as in text.
    return [_word(min(int(rng.paretovariate(1.1)) - 1, vocab)) if rng.random() < 0.5 else _word(rng.randrange(vocab))
            for _ in range(n)]


def _original(rng: random.Random) -> list[list[str]]:
    return [_words(rng, rng.randint(25, 60)) for _ in range(rng.randint(4, 12))]


def _edit(rng: random.Random, paragraphs: list[list[str]], intensity: float) -> list[list[str]]:
    paras = [list(p) for p in paragraphs]
    total = sum(len(p) for p in paras)
    budget = max(1, int(total * intensity / 5))  # one edit touches ~5 shingles
    for _ in range(budget):
        op = rng.random()
        p = rng.randrange(len(paras))
        para = paras[p]
        if op < 0.5 and para:  # substitute a word
            para[rng.randrange(len(para))] = _word(rng.randrange(10**6))
        elif op < 0.7:  # insert a short span
            pos = rng.randrange(len(para) + 1)
            para[pos:pos] = _words(rng, rng.randint(1, 4))
        elif op < 0.9 and len(para) > 3:  # delete a short span
            pos = rng.randrange(len(para) - 2)
            del para[pos : pos + rng.randint(1, 3)]
        elif len(paras) > 1:  # swap two paragraphs
            q = rng.randrange(len(paras))
            paras[p], paras[q] = paras[q], paras[p]
    if rng.random() < 0.3:
        paras.insert(0, rng.choice(BOILERPLATE).split())
    if rng.random() < 0.3:
        paras.append(rng.choice(BOILERPLATE).split())
    return paras


def _text(paragraphs: list[list[str]]) -> str:
    return "\n\n".join(" ".join(p) for p in paragraphs)


def make_corpus(n_docs: int, seed: int = 0, config: MinHashConfig = MinHashConfig()) -> Corpus:
    """About `n_docs` documents: 40% without copies, the rest in families of 2 to 5."""
    rng = random.Random(seed)
    hasher = MinHasher(config)
    docs: list[dict] = []
    pairs: dict[tuple[str, str], float] = {}
    family = 0
    while len(docs) < n_docs:
        base = _original(rng)
        n_copies = 0 if rng.random() < 0.4 else rng.randint(1, 4)
        members = [(f"f{family}-0", base)]
        for c in range(n_copies):
            # Intensities spread similarities over the whole range, with many near the threshold.
            intensity = rng.choice([0.0, 0.02, 0.05, 0.1, 0.15, 0.25, 0.4, 0.7, 1.2])
            members.append((f"f{family}-{c + 1}", _edit(rng, base, intensity)))
        texts = {mid: _text(paras) for mid, paras in members}
        sets = {mid: np.unique(hasher.shingles(t)) for mid, t in texts.items()}
        for a, b in itertools.combinations(sorted(texts), 2):
            pairs[(a, b)] = jaccard_of_sets(sets[a], sets[b])
        docs.extend({"id": mid, "text": texts[mid], "family": family} for mid, _ in members)
        family += 1
    rng.shuffle(docs)
    return Corpus(docs, pairs)


def clusters_from_removed(removed: list[tuple[str, str]]) -> dict[str, str]:
    """{doc id: cluster label} for every doc in a cluster of 2+, from (removed id, kept id) rows."""
    return union_find_components(removed)


def score(corpus: Corpus, labels: dict[str, str], config: MinHashConfig = MinHashConfig(),
          high: float = 0.9, low: float = 0.6, threshold: float = 0.8) -> dict:
    """Pair precision/recall (pairs >= high are duplicates, <= low distinct) and cluster counts."""
    by_cluster: dict[str, list[str]] = {}
    for doc, label in labels.items():
        by_cluster.setdefault(label, []).append(doc)
    family = {d["id"]: d["family"] for d in corpus.docs}
    texts = {d["id"]: d["text"] for d in corpus.docs}
    positives = {p for p, s in corpus.pairs.items() if s >= high}
    negatives = {p for p, s in corpus.pairs.items() if s <= low}
    same = {p for p in corpus.pairs if p[0] in labels and labels.get(p[0]) == labels.get(p[1])}
    tp = len(same & positives)
    fp = len(same & negatives)
    tp_cross = 0
    # Pairs a system put together across families: measure them (a sample if there are very many).
    cross = [(a, b) for members in by_cluster.values() for a, b in itertools.combinations(sorted(members), 2)
             if family[a] != family[b]] if sum(len(m) ** 2 for m in by_cluster.values()) < 10**7 else None
    hasher = MinHasher(config)
    if cross is None:  # one giant cluster: everything in it counts as distinct pairs
        fp += sum(len(m) * (len(m) - 1) // 2 for m in by_cluster.values())
    else:
        sample = random.Random(0).sample(cross, min(len(cross), 5000))
        sims = [hasher.jaccard(texts[a], texts[b]) for a, b in sample]
        scale = len(cross) / len(sample) if sample else 0
        tp_cross = round(scale * sum(s >= high for s in sims))
        fp += round(scale * sum(s <= low for s in sims))
    true_labels = union_find_components([p for p, s in corpus.pairs.items() if s >= threshold])
    return {
        "pairs_dup": len(positives),
        "pairs_distinct": len(negatives),
        "precision": (tp + tp_cross) / (tp + tp_cross + fp) if tp + tp_cross + fp else 1.0,
        "recall": tp / len(positives) if positives else 1.0,
        "clusters": len(by_cluster),
        "clusters_true": len(set(true_labels.values())),
        "removed": len(labels) - len(by_cluster),
        "removed_true": len(true_labels) - len(set(true_labels.values())),
    }


def make_hub_corpus(n_docs: int, seed: int = 0, hub_fraction: float = 1 / 3, page_words: int = 300) -> Corpus:
    """`make_corpus` families for (1 - hub_fraction) of `n_docs`, plus a boilerplate hub: near-copies
    of one `page_words`-word page, each with 1 to 3 words replaced (ids `hub-N`, family -1), as
    Common Crawl's cookie walls and parked pages are. Hub pairs are not in `pairs` (there are too
    many); `score_with_hub` scores the hub apart."""
    n_hub = int(n_docs * hub_fraction)
    corpus = make_corpus(n_docs - n_hub, seed=seed)
    rng = random.Random(seed + 1)
    page = _words(rng, page_words)
    for i in range(n_hub):
        words = list(page)
        for _ in range(rng.randint(1, 3)):
            words[rng.randrange(len(words))] = _word(rng.randrange(10**6))
        corpus.docs.append({"id": f"hub-{i}", "text": " ".join(words), "family": -1})
    rng.shuffle(corpus.docs)
    return corpus


def score_with_hub(corpus: Corpus, removed: list[tuple[str, str]]) -> dict:
    """`score` on the families, plus the hub: how many of its copies were kept (1 is right) and
    how many other documents were put into the hub's clusters (0 is right). `removed` holds
    (removed id, kept id) pairs."""
    labels = clusters_from_removed(removed)
    hub = {d["id"] for d in corpus.docs if d["family"] == -1}
    hub_labels = {labels[h] for h in hub if h in labels}
    merged = sum(1 for doc, label in labels.items() if doc not in hub and label in hub_labels)
    rest = {doc: label for doc, label in labels.items() if doc not in hub and label not in hub_labels}
    families = Corpus([d for d in corpus.docs if d["family"] != -1], corpus.pairs)
    gone = {r for r, _ in removed}
    return {**score(families, rest), "hub_docs": len(hub), "hub_kept": len(hub - gone),
            "distinct_merged_into_hub": merged}
