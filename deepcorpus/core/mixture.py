"""Data mixtures: a small YAML that names datasets and weights, shared by `tokenize run` and the loader.

    seed: 0
    sources:
      - {name: code, path: out/code/corpus, weight: 0.6}
      - {name: math, path: out/math/corpus, weight: 0.1}
      - {name: web,  path: data/web.jsonl,  weight: 0.3}

Weights are relative (normalized here). Sampling is deterministic from `seed`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from deepcorpus.core import command, storage
from deepcorpus.core.errors import UserError


@dataclass(frozen=True)
class MixtureSource:
    name: str
    path: str
    weight: float


@dataclass
class Mixture:
    sources: list[MixtureSource]
    seed: int = 0
    probabilities: list[float] = field(init=False)

    def __post_init__(self) -> None:
        if not self.sources:
            raise UserError("mixture names no sources")
        if any(s.weight < 0 for s in self.sources):
            raise UserError("mixture weights must be non-negative")
        total = sum(s.weight for s in self.sources)
        if total <= 0:
            raise UserError("mixture weights sum to zero")
        self.probabilities = [s.weight / total for s in self.sources]

    @classmethod
    def uniform(cls, paths: list[str], seed: int = 0) -> Mixture:
        return cls([MixtureSource(storage.basename(p) or p, p, 1.0) for p in paths], seed)


def load_mixture(path: str) -> Mixture:
    import yaml

    try:
        data = yaml.safe_load(storage.read_bytes(path))
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except yaml.YAMLError as e:
        raise UserError(f"{path}: malformed YAML ({str(e).splitlines()[0]})") from None
    if not isinstance(data, dict) or not isinstance(data.get("sources"), list):
        raise UserError(f"{path}: expected a mapping with a 'sources' list")
    sources = []
    for i, s in enumerate(data["sources"]):
        if not isinstance(s, dict) or "path" not in s or "weight" not in s:
            raise UserError(f"{path}: source {i} needs 'path' and 'weight'")
        weight = command.nonnegative.check(s["weight"], f"{path}: source {i} weight")  # not NaN, not 'a lot'
        sources.append(MixtureSource(str(s.get("name", storage.basename(s["path"]))), str(s["path"]), weight))
    seed = command.seed.check(data.get("seed", 0), f"{path}: seed")
    try:
        return Mixture(sources, seed)
    except UserError as e:
        raise UserError(f"{path}: {e}") from None
