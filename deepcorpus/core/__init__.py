"""The ground floor: data contracts, dataset IO and commit, storage, errors, text helpers, the mixture
file format and the `metrics.jsonl` reader. It imports nothing else of the project; every other
package (dedup, classifiers, formal, model, train, pipelines and the `deepcorpus` application) builds on it."""

__version__ = "0.1.0"
