"""Small corpora of every contract, written with DatasetWriter, for the tokenize tests."""

from __future__ import annotations

import random

import pytest

from deepcorpus.core import contracts
from deepcorpus.core.datasets import DatasetWriter

WORDS = ("the integral of x squared is x cubed over three and 12 plus 345 equals 357 since "
         "prime numbers matrix vector 数学 は 楽しい proof lemma theorem").split()
CODE_LINES = [
    "def add(a, b):\n    return a + b\n",
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, x):\n        self.items.append(x)\n",
    "for (int i = 0; i < 10; ++i) {\n\tsum += i * 42;\n}\n",
    "import numpy as np\n\nx = np.arange(128).reshape(8, 16)\n",
    "# comment <｜fim▁hole｜> literal sentinel text in code\nprint('ok')\n",
]


def web_rows(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    return [{"id": f"web-{i}", "url": f"https://math.example/{i}", "domain": "math.example", "language": "en",
             "text": " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 120)))} for i in range(n)]


def code_rows(n: int, seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        body = "".join(rng.choice(CODE_LINES) for _ in range(rng.randint(1, 8)))
        rows.append({"id": f"repo-{i}", "repo": f"org/repo{i}", "text": f"# path: src/mod{i}.py\n{body}",
                     "languages": ["Python"], "order": "random"})
    return rows


def formal_rows(n: int) -> list[dict]:
    rows = []
    for i in range(n):
        statement = f"theorem t{i} (a b : ℕ) : a + b + {i} = b + a + {i} := by\n"
        rows.append({"id": f"thm-{i}", "name": f"t{i}", "informal": f"Show that addition commutes ({i}).",
                     "formal_statement": statement, "proof": "  omega\n", "verified": i % 5 != 4,
                     "status": "verified" if i % 5 != 4 else "error",
                     "text": f"Show that addition commutes ({i}).\n\n{statement}  omega\n"})
    return rows


def write(path, schema: str, rows: list[dict], rows_per_part: int = 100_000) -> str:
    with DatasetWriter(str(path), schema, rows_per_part=rows_per_part) as w:
        w.write_rows(rows)
    return str(path)


@pytest.fixture(scope="session")
def corpora(tmp_path_factory):
    """Run directories as the math, code and formal pipelines leave them: RUN/corpus/."""
    root = tmp_path_factory.mktemp("corpora")
    return {
        "math": write(root / "math" / "corpus", contracts.WEB_DOC, web_rows(120), rows_per_part=50),
        "code": write(root / "code" / "corpus", contracts.CODE_REPO, code_rows(60)),
        "formal": write(root / "formal" / "corpus", contracts.FORMAL_PROOF, formal_rows(30)),
    }


@pytest.fixture(scope="session")
def tokenizer_path(corpora, tmp_path_factory):
    from deepcorpus.cli import main

    out = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    assert main(["tokenize", "train-tokenizer", "--input", *corpora.values(), "--vocab-size", "600",
                 "--output", str(out)]) == 0
    return str(out)
