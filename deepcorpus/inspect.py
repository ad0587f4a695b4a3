"""DuckDB over datasets: views named after the contract, ready-made views, SQL, samples, a prompt.

    deepcorpus inspect out/math/iter_1/collected out/math/iter_2/collected \
        "SELECT iteration, count(*) FROM docs GROUP BY 1"

Every dataset is checked through its manifest first (an unfinished write is refused, as everywhere).
Datasets of the same kind are unioned into one view with a `dataset` column saying where a row
came from, so all iterations of a math run can be queried together.

A local analyst's tool, in two modes (the README's "Inspecting outputs with DuckDB" says which is which):
- default: one statement per query, any DuckDB statement except those that write files (COPY,
  EXPORT, ATTACH: results are written with --format/--output, never inside a dataset); the parts
  are only ever read; `--where` is one SQL expression, never a statement.
- `--read-only`, for serving it to other users: the same, and once the views exist DuckDB's
  external access is off (no file but the listed parts can be read, none written), extensions are
  neither installed nor loaded, and the configuration is locked so no statement can undo that.
"""

from __future__ import annotations

import json
import os
import re
import sys
import textwrap

from deepcorpus.core import datasets, storage
from deepcorpus.core.command import command_parser, integer, output_file, positive_int
from deepcorpus.core.contracts import (
    CODE_REPO,
    DOCUMENTS,
    EVAL_ITEM,
    FORMAL_PROOF,
    TOKEN_SHARD,
    VIEW_NAMES,
    WEB_DOC,
)
from deepcorpus.core.errors import UserError

SAMPLE_SEED = 42

# Ready-made views per kind: name -> SQL over the kind's main view.
READY_VIEWS = {
    WEB_DOC: {
        "docs_by_iteration": "SELECT iteration, count(*) AS docs, sum(token_count) AS tokens "
                             "FROM docs GROUP BY 1 ORDER BY 1",
        "docs_by_domain": "SELECT domain, count(*) AS docs, sum(token_count) AS tokens, "
                          "round(avg(score), 3) AS mean_score FROM docs GROUP BY 1 ORDER BY docs DESC",
        "docs_by_language": "SELECT language, count(*) AS docs, sum(token_count) AS tokens "
                            "FROM docs GROUP BY 1 ORDER BY docs DESC",
        "score_histogram": "SELECT floor(score * 10) / 10 AS score_bin, count(*) AS docs "
                           "FROM docs WHERE score IS NOT NULL GROUP BY 1 ORDER BY 1",
        "docs_sample": f"SELECT * FROM docs USING SAMPLE reservoir(20 ROWS) REPEATABLE ({SAMPLE_SEED})",
    },
    CODE_REPO: {
        "repos_by_language": "SELECT f.language AS language, count(*) AS files, sum(f.bytes) AS bytes "
                             "FROM (SELECT unnest(files) AS f FROM repos) GROUP BY 1 ORDER BY files DESC",
        "repos_by_order": "SELECT \"order\", count(*) AS repos, sum(token_count) AS tokens FROM repos GROUP BY 1",
        "repo_sizes": "SELECT repo, len(files) AS files, token_count, length(text) AS chars "
                      "FROM repos ORDER BY token_count DESC",
        "repos_sample": f"SELECT * FROM repos USING SAMPLE reservoir(5 ROWS) REPEATABLE ({SAMPLE_SEED})",
    },
    FORMAL_PROOF: {
        "proofs_by_status": "SELECT status, count(*) AS n, round(avg(elapsed_ms), 1) AS mean_ms "
                            "FROM proofs GROUP BY 1 ORDER BY n DESC",
        "proofs_by_round": "SELECT round, count(*) AS n, sum(verified::INT) AS verified FROM proofs GROUP BY 1 ORDER BY 1",
        "proofs_sample": f"SELECT * FROM proofs USING SAMPLE reservoir(10 ROWS) REPEATABLE ({SAMPLE_SEED})",
    },
    TOKEN_SHARD: {
        "tokens_by_source": "SELECT source, count(*) AS rows, sum(len(tokens)) AS tokens, "
                            "sum(len(doc_starts)) AS doc_starts FROM tokens GROUP BY 1 ORDER BY tokens DESC",
    },
    EVAL_ITEM: {
        "evals_by_benchmark": "SELECT dataset, benchmark, kind, count(*) FILTER (task = 'bpb') AS bpb_items, "
                              "sum(bits) FILTER (task = 'bpb') / sum(bytes) FILTER (task = 'bpb') AS bpb, "
                              "count(*) FILTER (task = 'generate') AS samples, "
                              "avg(correct::INT) FILTER (task = 'generate') AS accuracy "
                              "FROM evals GROUP BY ALL ORDER BY dataset, benchmark",
        "evals_by_status": "SELECT dataset, benchmark, status, count(*) AS n FROM evals WHERE task = 'generate' "
                           "GROUP BY ALL ORDER BY dataset, benchmark, n DESC",
    },
}

TEXT_COLUMNS = {WEB_DOC: "text", CODE_REPO: "text", FORMAL_PROOF: "text", TOKEN_SHARD: None, DOCUMENTS: "text",
                EVAL_ITEM: "output"}


def _sql_list(items: list[str]) -> str:
    return "[" + ", ".join("'" + i.replace("'", "''") + "'" for i in items) + "]"


# Statements that write files: refused in every mode (a COPY over a part corrupts the dataset
# behind its manifest). Results are written with --format and --output instead.
WRITING_STATEMENTS = ("COPY", "EXPORT", "COPY_DATABASE", "ATTACH")
# What --read-only sets once the views exist; the last one keeps every statement from undoing them.
READ_ONLY_SETTINGS = (
    "SET enable_external_access = false",
    "SET autoinstall_known_extensions = false",
    "SET autoload_known_extensions = false",
    "SET allow_community_extensions = false",
    "SET lock_configuration = true",
)


# DuckDB's errors that a damaged file raises, as well as others (a failed cast is not among them).
_READ_FAILURES = ("Error", "IOException", "InvalidInputException", "InternalException", "SerializationException")


class Catalog:
    """A DuckDB connection with a view per contract kind over the given datasets; `read_only`
    locks it down for serving to other users (see the module docstring)."""

    def __init__(self, paths: list[str], read_only: bool = False):
        import duckdb

        self.con = duckdb.connect()
        self.kinds: dict[str, list[datasets.Dataset]] = {}
        for path in paths:
            ds = _open(path)
            self.kinds.setdefault(ds.schema_name, []).append(ds)
        self.views: list[str] = []
        # Kinds that share a view name (web_doc and plain `documents` are both `docs`) share the view.
        by_view: dict[str, list[datasets.Dataset]] = {}
        for kind, group in self.kinds.items():
            by_view.setdefault(VIEW_NAMES[kind], []).extend(group)
        for view, group in by_view.items():
            self._create_main_view(view, group)
        for kind in self.kinds:
            for name, sql in READY_VIEWS.get(kind, {}).items():
                self.con.execute(f"CREATE VIEW {name} AS {sql}")
                self.views.append(name)
        self._create_manifest_views()
        self.read_only = read_only
        if read_only:
            # Only the listed parts stay readable once external access is off (the views read them).
            parts = [f for group in self.kinds.values() for ds in group for f in ds.files if not storage.is_remote(f)]
            self.con.execute(f"SET allowed_paths = {_sql_list(parts)}")
            for setting in READ_ONLY_SETTINGS:
                self.con.execute(setting)

    def _create_main_view(self, view: str, group: list[datasets.Dataset]) -> None:
        selects = []
        for i, ds in enumerate(group):
            if not ds.files:
                continue
            label = ds.path.replace("'", "''")
            if any(storage.is_remote(f) for f in ds.files):
                self._register_remote(f"_{view}_{i}", ds)
                selects.append(f"SELECT *, '{label}' AS dataset FROM _{view}_{i}")
            else:
                selects.append(f"SELECT *, '{label}' AS dataset FROM read_parquet({_sql_list(ds.files)})")
        if not selects:
            raise UserError(f"{group[0].path}: dataset has no Parquet parts")
        self.con.execute(f"CREATE VIEW {view} AS " + " UNION ALL BY NAME ".join(selects))
        self.views.append(view)

    def _register_remote(self, name: str, ds: datasets.Dataset) -> None:
        # DuckDB's httpfs would need an extension download; pyarrow reads gs:// and s3:// itself.
        import pyarrow.dataset as pads

        fs, _ = storage.filesystem(ds.files[0])
        paths = [storage.filesystem(f)[1] for f in ds.files]
        self.con.register(name, pads.dataset(paths, filesystem=fs, format="parquet"))

    def _create_manifest_views(self) -> None:
        """`manifests` (one row per dataset) and `dropped_by_rule` (counters named dropped*)."""
        self.con.execute(
            "CREATE TABLE manifests (dataset VARCHAR, schema VARCHAR, schema_version INTEGER, "
            "row_count BIGINT, byte_size BIGINT, created VARCHAR, code_version VARCHAR)"
        )
        self.con.execute("CREATE TABLE counters (dataset VARCHAR, stage VARCHAR, counter VARCHAR, value BIGINT)")
        for group in self.kinds.values():
            for ds in group:
                m = ds.manifest
                self.con.execute(
                    "INSERT INTO manifests VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [ds.path, m["schema"], m["schema_version"], m["row_count"], m.get("byte_size"),
                     m.get("created"), m.get("code_version")],
                )
                for stage, values in _counters_for(ds).items():
                    for name, value in values.items():
                        if isinstance(value, (int, float)):
                            self.con.execute("INSERT INTO counters VALUES (?, ?, ?, ?)", [ds.path, stage, name, int(value)])
        self.con.execute(
            "CREATE VIEW dropped_by_rule AS SELECT dataset, stage, counter AS rule, value AS dropped "
            "FROM counters WHERE counter LIKE 'dropped%' ORDER BY dropped DESC"
        )
        self.views += ["manifests", "counters", "dropped_by_rule"]

    def check_statement(self, sql: str) -> None:
        """One statement, and not one that writes files; a UserError saying why not otherwise."""
        import duckdb

        try:
            statements = self.con.extract_statements(sql)
        except duckdb.Error as e:
            raise UserError(f"SQL error: {str(e).splitlines()[0]}") from None
        if len(statements) != 1:
            raise UserError(f"one statement per query, not {len(statements)}; run them one at a time")
        kind = statements[0].type.name
        if kind == "EXPLAIN":  # EXPLAIN ANALYZE runs the statement it explains
            self.check_statement(re.sub(r"^\s*EXPLAIN(\s+ANALY[SZ]E)?", "", sql, count=1, flags=re.IGNORECASE))
        elif kind in WRITING_STATEMENTS:
            raise UserError(f"{kind} statements are refused: inspect only reads (write a result with "
                            "--format csv|json|parquet --output FILE)")

    def split(self, text: str) -> list[str]:
        """The statements in `text`, each as its own SQL."""
        import duckdb

        try:
            return [s.query for s in self.con.extract_statements(text)]
        except duckdb.Error as e:
            raise UserError(f"SQL error: {str(e).splitlines()[0]}") from None

    def query(self, sql: str):
        """Run one statement; its result as a DuckDB relation (fetchall, columns, to_arrow_table)."""
        import duckdb

        self.check_statement(sql)
        try:
            return self.con.sql(sql)
        except duckdb.Error as e:
            raise UserError(f"SQL error: {str(e).splitlines()[0]}") from None

    def failure(self, e: Exception) -> UserError:
        """The error of a query that failed while it ran. DuckDB may fail on a corrupt part without
        naming it ("don't know what type"); then the parts are read once more, with pyarrow, to find
        the one that is unreadable (the query had read them anyway), and that is the error."""
        message = str(e).splitlines()[0]
        parts = [f for group in self.kinds.values() for ds in group for f in ds.files]
        named = next((p for p in parts if p in message), None)
        if named is not None and type(e).__name__ in _READ_FAILURES:
            # "Invalid Input Error: Failed to read file "PART": ZSTD Decompression failure"
            reason = message.split(named, 1)[1].lstrip("\"': ") or message
            return datasets.DatasetError(f"{named}: not a readable Parquet file ({reason})")
        if type(e).__name__ in _READ_FAILURES and named is None:
            for part in parts:
                try:
                    for _ in datasets.iter_parquet_batches(part):
                        pass
                except datasets.DatasetError as bad:
                    return bad
        return UserError(f"SQL error: {message}")

    def describe(self) -> str:
        lines = []
        for view in self.views:
            cols = self.con.execute(f"DESCRIBE {view}").fetchall()
            lines.append(f"  {view} ({', '.join(c[0] for c in cols[:8])}{', ...' if len(cols) > 8 else ''})")
        return "\n".join(lines)


def _counters_for(ds: datasets.Dataset) -> dict:
    """Counters from the manifest's `stats`, or the run directory's summary.json next to it."""
    stats = ds.manifest.get("stats") or ds.manifest.get("counters")
    if isinstance(stats, dict) and stats:
        return stats
    summary = storage.join(storage.parent(ds.path), "summary.json")
    if not storage.is_remote(summary) and os.path.exists(summary):
        try:
            return json.load(open(summary)).get("counters", {})
        except (json.JSONDecodeError, AttributeError):
            return {}
    return {}


def _open(path: str) -> datasets.Dataset:
    if storage.is_dir(path) and not storage.exists(storage.join(path, datasets.MANIFEST)):
        corpus = storage.join(path, "corpus")  # a pipeline's run directory: its final dataset
        if storage.exists(storage.join(corpus, datasets.MANIFEST)):
            return datasets.open_dataset(corpus)
    return datasets.open_dataset(path)


# --- output --------------------------------------------------------------------------------------


def format_table(columns: list[str], rows: list[tuple], max_width: int = 60) -> str:
    def cell(v) -> str:
        s = "NULL" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))
        s = s.replace("\n", "\\n")
        return s if len(s) <= max_width else s[: max_width - 1] + "…"

    body = [[cell(v) for v in row] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in body)) if body else len(c) for i, c in enumerate(columns)]
    out = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)), "  ".join("-" * w for w in widths)]
    out += ["  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in body]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)


def fetch(result, catalog: Catalog | None = None) -> tuple[list[str], list[tuple]]:
    """(columns, rows) of a relation; it runs when fetched, so errors past binding (a failed cast, a
    corrupt part) surface here."""
    import duckdb

    try:
        return list(result.columns), result.fetchall()
    except duckdb.Error as e:
        raise (catalog.failure(e) if catalog else _sql_error(e)) from None


def _sql_error(e: Exception) -> UserError:
    return UserError(f"SQL error: {str(e).splitlines()[0]}")


def write_result(result, fmt: str, output: str | None, catalog: Catalog | None = None) -> None:
    """Print (or write to `output`) a query's result; a statement without one prints nothing."""
    import duckdb

    if result is None:
        return
    if fmt == "table":
        _emit(format_table(*fetch(result, catalog)), output)
        return
    try:
        table = result.to_arrow_table()
    except duckdb.Error as e:
        raise (catalog.failure(e) if catalog else _sql_error(e)) from None
    if fmt == "parquet":
        if not output:
            raise UserError("--format parquet needs --output FILE")
        import pyarrow.parquet as pq

        pq.write_table(table, output, compression="zstd")
        print(f"wrote {table.num_rows} rows to {output}", file=sys.stderr)
    elif fmt == "csv":
        import io

        import pyarrow.csv as pacsv

        buf = io.BytesIO()
        pacsv.write_csv(table, buf)
        _emit(buf.getvalue().decode(), output)
    elif fmt == "json":
        _emit("".join(json.dumps(r, default=str, ensure_ascii=False) + "\n" for r in table.to_pylist()), output)


def _emit(text: str, output: str | None) -> None:
    """`text` ending in exactly one newline (none when empty), to stdout or `output`."""
    if text and not text.endswith("\n"):
        text += "\n"
    if output:
        storage.write_bytes_atomic(output, text.encode())
        print(f"wrote {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


def sql_expression(text: str) -> str:
    """`text` as one SQL expression, rendered back by DuckDB's parser: never a second statement."""
    import duckdb

    try:
        return str(duckdb.SQLExpression(text))
    except duckdb.Error as e:
        raise UserError(f"--where: not an SQL expression ({str(e).splitlines()[0]})") from None


def print_samples(catalog: Catalog, n: int, where: str | None, width: int, max_chars: int) -> None:
    """Documents printed readably: a header line of fields, then the text wrapped to the width."""
    kind = next(iter(catalog.kinds))
    view = VIEW_NAMES[kind]
    text_col = TEXT_COLUMNS[kind]
    # USING SAMPLE applies before WHERE, so filter in a subquery first.
    inner = f"SELECT * FROM {view}" + (f" WHERE ({sql_expression(where)})" if where else "")
    sql = f"SELECT * FROM ({inner}) USING SAMPLE reservoir({int(n)} ROWS) REPEATABLE ({SAMPLE_SEED})"
    columns, rows = fetch(catalog.query(sql), catalog)
    for row in rows:
        doc = dict(zip(columns, row))
        fields = {k: v for k, v in doc.items() if k not in (text_col, "dataset", "files", "messages", "tokens")
                  and v is not None and not isinstance(v, (list, dict))}
        print("─" * width)
        print("  ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in fields.items()))
        if text_col and doc.get(text_col):
            text = doc[text_col]
            shown = text[:max_chars]
            # Math and code keep their line structure; only over-long lines are wrapped.
            for line in shown.splitlines():
                print(textwrap.fill(line, width, replace_whitespace=False, drop_whitespace=False) if line else "")
            if len(text) > max_chars:
                print(f"… [{len(text) - max_chars:,} more characters]")
        elif kind == TOKEN_SHARD:
            print(f"tokens: {doc['tokens'][:32]} …")
    print("─" * width)


def interactive(catalog: Catalog) -> None:
    try:
        import readline  # noqa: F401  (line editing and history for input())
    except ImportError:
        pass
    print("DuckDB views:\n" + catalog.describe())
    print("End a statement with ';' (or an empty line); .views lists the views, .quit leaves.")
    buffer = ""
    while True:
        try:
            line = input("deepcorpus> " if not buffer else "        ...> ")
        except EOFError:
            print()
            return
        stripped = line.strip()
        if not buffer and stripped in (".quit", ".exit", "\\q"):
            return
        if not buffer and stripped == ".views":
            print(catalog.describe())
            continue
        buffer += line + "\n"
        if stripped and not stripped.endswith(";"):
            continue  # as in duckdb and psql, a statement may span lines
        text, buffer = buffer, ""
        try:
            for statement in catalog.split(text):  # a line may hold several: each runs on its own
                write_result(catalog.query(statement), "table", None, catalog)
        except UserError as e:
            print(f"error: {e}")


def _split_sql(positional: list[str]) -> tuple[list[str], str | None]:
    """The last positional is SQL when it is not a path and reads like a statement."""
    if len(positional) >= 2:
        last = positional[-1]
        if not storage.exists(last) and (" " in last.strip() or last.strip().upper().startswith(("SELECT", "WITH"))):
            return positional[:-1], last
    return positional, None


def run(args) -> int:
    paths, sql = _split_sql(args.datasets)
    sql = args.sql_opt or sql
    if args.where and not args.sample:
        raise UserError("--where filters --sample; in SQL, write the WHERE clause yourself")
    if args.output:
        from deepcorpus.core import outputs

        outputs.check_file_output(args.output)  # never a directory, nor a file inside a dataset
    catalog = Catalog(paths, read_only=args.read_only)
    if args.sample:
        print_samples(catalog, args.sample, args.where, args.width, args.max_chars)
        return 0
    if sql:
        write_result(catalog.query(sql), args.format, args.output, catalog)
        return 0
    if not sys.stdin.isatty():
        # No SQL and no terminal: list what can be queried rather than wait for input.
        print("DuckDB views:\n" + catalog.describe())
        return 0
    interactive(catalog)
    return 0


def register(sub) -> None:
    """`deepcorpus inspect`: its parser, registered with the top-level one."""
    p = command_parser(sub, "inspect", "Query datasets with DuckDB (views named docs, repos, proofs, tokens).", [
        "deepcorpus inspect out/math/corpus",
        "deepcorpus inspect out/math/corpus \"SELECT domain, count(*) n FROM docs GROUP BY 1 ORDER BY n DESC\"",
        "deepcorpus inspect out/math/corpus --sample 3 --where \"score > 0.9\"",
    ])
    p.add_argument("datasets", nargs="+", metavar="DATA",
                   help="dataset directories (several may be opened together); a final quoted SQL statement runs it")
    p.add_argument("--sql", dest="sql_opt", help="SQL to run (instead of a final positional)")
    p.add_argument("--format", choices=["table", "csv", "json", "parquet"], default="table",
                   help="how to print the result (parquet needs --output)")
    p.add_argument("--output", type=output_file, help="write the result to this file instead of stdout")
    p.add_argument("--sample", type=positive_int, metavar="N", help="print N random documents readably")
    p.add_argument("--where", help="with --sample: an SQL expression on the main view (not a statement)")
    p.add_argument("--width", type=integer(20), default=100, help="with --sample: wrap text to this width")
    p.add_argument("--max-chars", type=positive_int, default=1500,
                   help="with --sample: cut each text after this many characters")
    p.add_argument("--read-only", action="store_true",
                   help="for serving to other users: no file but the datasets' parts can be read or written, "
                        "no extensions, settings locked (see the README)")
    p.set_defaults(func=run)
