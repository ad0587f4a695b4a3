"""The Beam steps of `code run`, each a small DoFn over the plain functions of this package.

    units / listings -> ReadRepo | ListingRows -> Identify (langid) -> Filter (rules) -> FileFacts
        FileFacts -> (repo, file record)                      the text: one shuffle, to Assemble
                  -> (repo, signature and ranking fields)     -> CombinePerKey -> near_duplicates
                  -> (repo, (text hash, rank, path))          -> exact file dedup, on these alone
    CoGroupByKey(repo: files, removed repo, removed paths) -> Assemble (dependency order, documents
        capped in size) -> [decontaminate] -> Write

Only the text of the files that are kept ever meets its repository in one place, once. Counters
use the stage names the summary shows: "read", "langid", "filter", "repo_dedup", "file_dedup",
"assemble".
"""

from __future__ import annotations

import json
import posixpath

import apache_beam as beam
from apache_beam.metrics import Metrics

from classifiers.code_language import LanguageIdentifier, skip_reason
from pipelines.code.assemble import AssembleConfig, assemble_documents, assemble_repo
from pipelines.code.dependencies import CONTEXT_FILES
from pipelines.code.filters import FilterConfig, drop_reason
from pipelines.code.sources import DEFAULT_MAX_FILE_BYTES, RepoUnit, decode_text, listing_record, read_unit


class ReadRepoFn(beam.DoFn):
    """A repository (git, bare, folder, archive) -> its file records."""

    def __init__(self, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES):
        self.max_file_bytes = max_file_bytes
        self.repos = Metrics.counter("read", "repos")
        self.files = Metrics.counter("read", "files")
        self.empty = Metrics.counter("read", "empty_repos")

    def process(self, unit: RepoUnit):
        self.repos.inc()
        n = 0
        for record in read_unit(unit, self.max_file_bytes):
            n += 1
            self.files.inc()
            yield record
        if n == 0:
            self.empty.inc()


class ReadJsonlListingFn(beam.DoFn):
    """A matched JSONL listing file -> (file, row), streamed by our reader, so a bad line is one
    error naming the file and the line (Beam's text source splits files by byte range and knows
    neither). Listings of a Stack-sized corpus are many files, which is where the parallelism is."""

    def process(self, metadata):
        from deepcorpus.core import datasets

        for row in datasets.iter_jsonl(metadata.path):
            yield metadata.path, row


class ListingRowFn(beam.DoFn):
    """(listing file, row) -> a file record; the row is a dict (Parquet) or a JSON line."""

    def __init__(self):
        self.files = Metrics.counter("read", "files")

    def process(self, element):
        from deepcorpus.core.errors import UserError

        source, row = element
        if isinstance(row, (str, bytes)):
            if not row.strip():
                return
            try:
                row = json.loads(row)
            except json.JSONDecodeError as e:
                raise UserError(f"{source}: malformed JSON line ({e.msg})") from None
        self.files.inc()
        yield listing_record(row, source)


class IdentifyFn(beam.DoFn):
    """Skip binary, vendored, generated, lock and oversized files; name the language of the rest.

    Files in no Coder-V2 language (Markdown, plain text, YAML...) are dropped as `other_language`.
    """

    def __init__(self, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES, languages: tuple[str, ...] | None = None):
        self.max_file_bytes = max_file_bytes
        self.languages = languages
        self.seen = Metrics.counter("langid", "in")
        self.out = Metrics.counter("langid", "out")
        self.identifier = None

    def setup(self):
        self.identifier = LanguageIdentifier(languages=self.languages)

    def _skip(self, reason: str):
        Metrics.counter("langid", f"skipped_{reason}").inc()

    def process(self, record: dict):
        self.seen.inc()
        if record.get("skip"):
            self._skip(record["skip"])
            return
        path, content = record["path"], record["content"]
        reason = skip_reason(path, content, self.max_file_bytes)
        if reason:
            self._skip(reason)
            return
        language = self.identifier.identify(path, content)
        if language is None:
            if posixpath.basename(path) in CONTEXT_FILES:
                # Not a document, but dependency resolution reads it (go.mod: the module path).
                Metrics.counter("langid", "context_files").inc()
                text, _ = decode_text(content)
                if text is not None:
                    yield {**{k: v for k, v in record.items() if k != "content"}, "language": None, "text": text,
                           "context": True, "id": f"{record['repo']}/{path}"}
                return
            self._skip("other_language")
            return
        text, encoding = decode_text(content)
        if text is None:
            self._skip("undecodable")
            return
        if encoding != "utf-8":
            Metrics.counter("langid", "decoded_other_charset").inc()
        self.out.inc()
        Metrics.counter("languages", language).inc()
        out = {k: v for k, v in record.items() if k != "content"}
        out.update(language=language, text=text, id=f"{record['repo']}/{path}")
        yield out


class FilterFn(beam.DoFn):
    """DeepSeek-Coder's rule filters; each rule's drops counted as `dropped_<rule>`."""

    def __init__(self, config: FilterConfig | None = None):
        self.config = config or FilterConfig()
        self.seen = Metrics.counter("filter", "in")
        self.out = Metrics.counter("filter", "out")

    def process(self, record: dict):
        if record.get("context"):  # go.mod and the like are no documents: no rules apply
            yield record
            return
        self.seen.inc()
        reason = drop_reason(record["text"], record["language"], self.config)
        if reason:
            Metrics.counter("filter", f"dropped_{reason}").inc()
            return
        self.out.inc()
        yield record


class FileFactsFn(beam.DoFn):
    """A kept file record -> (repo, record) for assembly, and beside it, small: its signature and
    ranking fields for repository near-dedup ("facts") and its exact-dedup key ("refs")."""

    def __init__(self, near_dedup: bool = True, file_dedup: bool = True):
        self.near_dedup = near_dedup
        self.file_dedup = file_dedup

    def setup(self):
        from dedup.minhash import MinHasher
        from pipelines.code.repo_dedup import CONFIG

        self.hasher = MinHasher(CONFIG)
        from dedup.normalize import NormalizeConfig

        # Exact file dedup: whitespace-insensitive but case-sensitive (code).
        self.normalize = NormalizeConfig(unicode_form=None, lowercase=False, whitespace=True)

    def process(self, record: dict):
        from dedup.normalize import normalized_hash
        from pipelines.code.repo_dedup import file_facts, file_signature

        repo = record["repo"]
        if not record.get("context"):
            if self.near_dedup:
                yield beam.pvalue.TaggedOutput("facts", (repo, file_facts(record, file_signature(self.hasher,
                                                                                                 record["text"]))))
            if self.file_dedup:
                yield beam.pvalue.TaggedOutput("refs", (repo, (normalized_hash(record["text"], self.normalize),
                                                               file_rank(record), record["path"])))
        yield repo, record


class KeepFirstFileFn(beam.DoFn):
    """(text hash, [(rank, repo, path)]) -> (repo, path) of every copy but the best-ranked one."""

    def __init__(self):
        self.kept = Metrics.counter("file_dedup", "kept")
        self.dropped = Metrics.counter("file_dedup", "dropped_exact")

    def process(self, element):
        _, copies = element
        best = min(copies)
        self.kept.inc()
        for copy in copies:
            if copy != best:
                self.dropped.inc()
                yield copy[1], copy[2]


def live_refs(element):
    """(repo, {refs, removed}) -> (hash, (rank, repo, path)) for the files of repositories kept."""
    repo, joined = element
    if joined["removed"]:
        return
    seen = Metrics.counter("file_dedup", "in")
    for text_hash, rank, path in joined["refs"]:
        seen.inc()
        yield text_hash, (rank, repo, path)


class AssembleRepoFn(beam.DoFn):
    """(repo, {files, removed, dropped}) -> the repository's documents, unless near-dedup removed
    the repository; files exact dedup removed are left out. Every file that arrives is counted as
    placed in a document or dropped with its reason (`assemble` stage)."""

    def __init__(self, config: AssembleConfig | None = None):
        self.config = config or AssembleConfig()

    def setup(self):
        self.c = {name: Metrics.counter("assemble", name) for name in (
            "files_in", "files_out", "dropped_near_duplicate_files", "dropped_exact_duplicate_files", "repos",
            "docs", "order_dependency", "order_random", "dependency_edges", "edges", "edges_respected",
            "acyclic_edges", "acyclic_edges_respected", "split_repos")}
        self.repo_kept = Metrics.counter("repo_dedup", "kept")
        self.repo_dropped = Metrics.counter("repo_dedup", "dropped_near_duplicate")

    def process(self, element):
        repo, joined = element
        records = [r for r in joined["files"]]
        code = [r for r in records if not r.get("context")]
        c = self.c
        c["files_in"].inc(len(code))
        if not code:
            return
        if joined["removed"]:
            self.repo_dropped.inc()
            c["dropped_near_duplicate_files"].inc(len(code))
            return
        self.repo_kept.inc()
        dropped = set(joined["dropped"])
        if dropped:
            records = [r for r in records if r.get("context") or r["path"] not in dropped]
            kept_code = sum(1 for r in records if not r.get("context"))
            c["dropped_exact_duplicate_files"].inc(len(code) - kept_code)
            if not kept_code:
                return
        rows = assemble_documents(repo, records, self.config)
        report = rows[0].pop("edge_report")
        c["repos"].inc()
        c["docs"].inc(len(rows))
        if len(rows) > 1:
            c["split_repos"].inc()
        c["order_dependency" if rows[0]["order"] == "dependency" else "order_random"].inc()
        c["dependency_edges"].inc(report["edges"])
        c["edges"].inc(report["edges"])
        c["edges_respected"].inc(report["respected"])
        c["acyclic_edges"].inc(report["acyclic_edges"])
        c["acyclic_edges_respected"].inc(report["acyclic_respected"])
        for row in rows:
            c["files_out"].inc(len(row["files"]))
            yield row


class AssembleFn(beam.DoFn):
    """(repo, its kept files) -> one repository document, ordered by dependencies where found."""

    def __init__(self, config: AssembleConfig | None = None):
        self.config = config or AssembleConfig()
        self.repos = Metrics.counter("assemble", "repos")
        self.by_dependency = Metrics.counter("assemble", "order_dependency")
        self.by_random = Metrics.counter("assemble", "order_random")
        self.edges = Metrics.counter("assemble", "dependency_edges")

    def process(self, element):
        repo, records = element
        records = list(records)
        if not any(not r.get("context") for r in records):
            return
        row = assemble_repo(repo, records, self.config)
        self.repos.inc()
        (self.by_dependency if row["order"] == "dependency" else self.by_random).inc()
        self.edges.inc(int(row["quality"]["dependency_edges"]))
        yield row


class QualityModelFn(beam.DoFn):
    """The quality-model hook: adds `quality['model_score']` from a fastText model (nothing dropped)."""

    def __init__(self, model_path: str):
        self.model_path = model_path
        self.model = None
        self.scored = Metrics.counter("quality", "scored")

    def setup(self):
        from classifiers.code_quality import CodeQualityModel

        self.model = CodeQualityModel.load(self.model_path)

    def process(self, row: dict):
        quality = dict(row["quality"] or {})
        quality["model_score"] = self.model.score(row["text"])
        self.scored.inc()
        yield {**row, "quality": quality}


def repo_candidate(element) -> dict:
    """(repo, file records) -> a row for repository near-dedup: the files in path order as `text`
    (MinHash shingles barely depend on file order), the ranking fields, and the records themselves."""
    repo, records = element
    records = sorted(records, key=lambda r: r["path"])
    code = [r for r in records if not r.get("context")]
    stars = [r["stars"] for r in records if r.get("stars") is not None]
    licenses = [r["license"] for r in records if r.get("license")]
    dates = [r["revision_date"] for r in records if r.get("revision_date")]
    return {
        "id": repo,
        "text": "\n".join(r["text"] for r in code),
        "license": licenses[0] if licenses else None,
        "stars": max(stars) if stars else None,
        "revision_date": max(dates) if dates else None,
        "records": records,
    }


def file_rank(record: dict) -> tuple:
    """Which copy of an exactly duplicated file to keep: the same preference as for repositories."""
    from pipelines.code.assemble import keep_rank

    return keep_rank(record)
