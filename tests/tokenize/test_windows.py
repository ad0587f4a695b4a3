"""Long documents in bounded windows: the ids equal the whole text's, and memory stays bounded."""

import json
import os
import random
import subprocess
import sys

import numpy as np
import pytest

from pipelines.tokenize import windows
from pipelines.tokenize.tokenizer import load_tokenizer

from .conftest import CODE_LINES, WORDS

ALPHABET = list("abcdefghijklmnopqrstuvwxyzABCXYZ") + [" "] * 12 + ["\n"] * 4 + list("\t  0123456789.,;:()[]{}+-=*/\\\"'#") \
    + list("数学は楽しい") + ["é", "ß", "\u0301", "  ", "\r\n", "    "]


def _texts(seed: int, n: int):
    rng = random.Random(seed)
    for k in range(n):
        if k % 3 == 0:
            yield "".join(rng.choice(CODE_LINES) for _ in range(rng.randint(20, 200)))
        elif k % 3 == 1:
            yield " ".join(rng.choice(WORDS) for _ in range(rng.randint(50, 2000)))
        else:
            yield "".join(rng.choices(ALPHABET, k=rng.randint(100, 20000)))


def test_windows_join_to_the_text_and_are_bounded():
    for text in _texts(0, 60):
        pieces = list(windows.windows(text, 300))
        assert "".join(p for p, _ in pieces) == text
        assert all(len(p) <= 300 for p, _ in pieces)
    blob = "x" * 1000  # no letter before a space anywhere: cut at the size, and said so
    assert [(len(p), cut) for p, cut in windows.windows(blob, 300)] == [(300, True)] * 3 + [(100, False)]


def test_windowed_ids_equal_the_whole_texts_ids(tokenizer_path):
    tok = load_tokenizer(tokenizer_path)
    texts = list(_texts(1, 90))
    whole = [np.asarray(e.ids, dtype=np.int32) for e in tok.encode_batch_fast(texts, add_special_tokens=False)]
    for size in (64, 257, 4096):
        compared = 0
        for text, expected in zip(texts, whole):
            [ids], unsafe = windows.encode(tok, [text], size)
            assert ids.dtype == np.int32
            if unsafe == 0:  # every cut at a safe place: exactly the whole text's ids
                assert np.array_equal(ids, expected), (size, text[:60])
                compared += len(text) > size
        assert compared >= {64: 40, 257: 55, 4096: 25}[size], (size, compared)
    ids, unsafe = windows.encode(tok, texts, 4096)
    assert unsafe == 0 and all(np.array_equal(a, b) for a, b in zip(ids, whole))


PEAK = """
import json, sys
from deepcorpus.cli import main
code = main(["tokenize", "run", "--input", sys.argv[1], "--tokenizer", sys.argv[2], "--seq-len", "4096",
             "--output", sys.argv[3], "--direct_running_mode", "in_memory", "--fim-rate", "0"])
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print("RESULT", json.dumps({"code": code, "peak_mb": peak / 1024}))
"""


@pytest.mark.slow
def test_a_50_mb_document_is_tokenized_in_under_1_gb(tokenizer_path, tmp_path):
    rng = random.Random(5)
    lines = [" ".join(rng.choice(WORDS) for _ in range(12)) + "\n" for _ in range(2000)]
    text = "".join(lines[i % 2000] for i in range(50 * 2**20 // 70))
    src = tmp_path / "big.jsonl"
    src.write_text(json.dumps({"id": "big", "text": text}) + "\n")
    assert src.stat().st_size > 50 * 10**6
    done = subprocess.run([sys.executable, "-c", PEAK, str(src), tokenizer_path, str(tmp_path / "tokens")],
                          capture_output=True, text=True, timeout=900, cwd=os.getcwd())
    result = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("RESULT"))[7:])
    assert result["code"] == 0, done.stderr[-2000:]
    assert result["peak_mb"] < 1024, result
