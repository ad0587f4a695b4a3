"""The fast paths of repository assembly give exactly what the plain code they replace gives."""

import bisect
import collections
import itertools
import os
import posixpath
import random
import re

import numpy as np
import pytest

from deepcorpus.core.text import _TOKEN, approx_token_count, content_hash
from pipelines.code import lexical
from pipelines.code.assemble import document_text, document_token_count, text_and_hash
from pipelines.code.dependencies import (
    _IMPORT_LINE,
    _PY_FROM,
    _PY_IMPORT,
    _PY_SKIP,
    _PY_TOP_LEVEL,
    FAMILY_BY_LANGUAGE,
    RepoIndex,
    SourceFile,
    _import_lines,
    _last_candidate_end,
    _normpath,
    _python_code_newlines,
    _python_imports,
    code_only,
    dependency_graph,
    python_imports_of_code,
    python_top_level_names_of_code,
    references_with_kind,
)
from pipelines.code.lexical import RAW_KIND, SYNTAX, mask
from pipelines.code.quality import _LETTERS, COMMENT_MARKERS, file_stats, letter_count, quality_signals

ASCII = [chr(c) for c in range(128)]
OTHER = ["é", "中", "\u00a0", "\u2028", "\u212a", "\x85", "ß", "٣"]


def _texts(seed: int, n: int = 400):
    rng = random.Random(seed)
    for k in range(n):
        size = rng.choice([0, 1, 7, 300, 5000, 70_000, 200_000 if k < 8 else 40])
        chars = rng.choices(ASCII + ["\n"] * 8 + [" "] * 8, k=size)
        if k % 2 and chars:
            for _ in range(rng.randint(1, 6)):
                chars[rng.randrange(len(chars))] = rng.choice(OTHER)
        yield "".join(chars)


def test_token_count_is_the_regex_count():
    for text in _texts(0):
        assert approx_token_count(text) == len(_TOKEN.findall(text))


def test_letter_count_is_the_regex_count():
    for text in [*_texts(1), "a\ud800b", "\udfff", "é\ud83d\ude00x"]:
        assert letter_count(text) == len(text) - len(_LETTERS.sub("", text))


def test_normpath_is_posixpath_normpath():
    rng = random.Random(2)
    parts = ["a", "b.", ".", "..", "", "x.py", "...", "__init__.py", ".c", "d/"]
    for _ in range(20_000):
        path = ("/" if rng.random() < 0.3 else "") + "/".join(rng.choice(parts) for _ in range(rng.randint(0, 5)))
        assert _normpath(path) == posixpath.normpath(path), path


PY = '''import os, sys as system
from . import sibling
from .pkg.mod import (a,
    b as c)
x = "import inside a string"
  import numpy.linalg
from typing import Any  # import
def f():
    from ..up import thing; import json
importer = 1
from x import y, \\
    z
cimport cython
'''


@pytest.mark.parametrize("text", [PY, PY.replace("\n", "\r\n"), "import", "", "from a import b", "\nimport x\n" * 3])
def test_import_lines_are_the_regex_matches(text):
    for pattern in (_PY_IMPORT, _PY_FROM):
        assert [m.span() for m in _import_lines(pattern, text)] == [m.span() for m in pattern.finditer(text)]
    assert _python_imports(text) == _python_imports_plain(text)


def _python_imports_plain(text: str) -> list[tuple[str, str, str]]:
    out = []
    for m in _PY_IMPORT.finditer(text):
        for part in m.group(1).split(","):
            module, _, alias = part.strip().partition(" as ")
            out.append((module.strip(), "", alias.strip()))
    for m in _PY_FROM.finditer(text):
        names = m.group(2).replace("(", " ").replace(")", " ").replace("\\", " ")
        for part in names.split(","):
            name, _, alias = part.strip().partition(" as ")
            if name.strip():
                out.append((m.group(1), name.strip(), alias.strip()))
    return out


def _quality_plain(records, graph):
    """quality_signals as it was written before issue #22."""
    lines = [line for r in records for line in r["text"].splitlines()]
    nonblank = [line for line in (raw.strip() for raw in lines) if line]
    lengths = list(map(len, lines))
    chars = sum(len(r["text"]) for r in records) or 1
    test_path = re.compile(r"(^|/)(tests?|spec|__tests__)(/|$)|(^|/)test_[^/]*$|_test\.\w+$|\.(test|spec)\.\w+$")
    linked = {p for p, deps in graph.items() if deps} | {d for deps in graph.values() for d in deps}
    return {
        "n_files": float(len(records)), "n_languages": float(len({r["language"] for r in records})),
        "n_lines": float(len(lines)), "mean_file_chars": chars / max(len(records), 1),
        "mean_line_length": sum(lengths) / max(len(lines), 1), "max_line_length": float(max(lengths, default=0)),
        "alpha_fraction": sum(len(r["text"]) - len(_LETTERS.sub("", r["text"])) for r in records) / chars,
        "comment_line_fraction": sum(1 for s in nonblank if s.startswith(COMMENT_MARKERS)) / max(len(nonblank), 1),
        "duplicate_line_fraction": (len(nonblank) - len(set(nonblank))) / max(len(nonblank), 1),
        "test_file_fraction": sum(1 for r in records if test_path.search(r["path"])) / max(len(records), 1),
        "dependency_edges": float(sum(len(d) for d in graph.values())), "dependency_coverage": len(linked) / max(len(records), 1),
    }


def test_quality_signals_are_the_plain_ones():
    texts = list(itertools.islice(_texts(3), 60)) + [PY, "# c\n\n  // d\n# c\n", "", "\n\n", "x\r\ny\x0bz\x1c"]
    records = [{"path": f"pkg/{'tests/' if k % 5 == 0 else ''}m{k}.py", "language": "Python" if k % 3 else "C",
                "text": t} for k, t in enumerate(texts)]
    graph = {r["path"]: ({records[0]["path"]} if k % 4 == 1 else set()) for k, r in enumerate(records)}
    assert quality_signals(records, graph) == _quality_plain(records, graph)



_NOT_NEWLINE = re.compile(r"[^\n]")


class _PlainScanner(lexical._Scanner):
    """The scanner as it was before issue #22: the search finds where a construct starts, `_end`
    finds where it stops, and comments and strings are masked by a per-character substitution."""

    def __init__(self, syntax, raw_kind):
        super().__init__(syntax, raw_kind)
        starts = [re.escape(s) for s, _ in syntax.block_comments] + [re.escape(m) for m in syntax.line_comments]
        starts += [re.escape(d) for d in syntax.multiline] + [re.escape(q) for q in syntax.quotes]
        if syntax.char_quote:
            starts.append(re.escape(syntax.char_quote))
        if syntax.raw_prefix is not None:
            starts.insert(0, syntax.raw_prefix.pattern)
        if syntax.line_start_blocks:
            starts.insert(0, r"(?m:^(?:" + "|".join(re.escape(a) for a, _ in syntax.line_start_blocks) + "))")
        self.starts = re.compile("|".join(sorted(starts, key=len, reverse=True))) if starts else None

    def mask(self, text):
        if self.starts is None:
            return text
        out, i, last = [], 0, 0
        while i < len(text):
            m = self.starts.search(text, i)
            if m is None:
                break
            end = self._end(text, m.start(), m.group(0))
            if end is None:
                i = m.start() + 1
                continue
            kind, stop, inner_from, inner_to = end
            out.append(text[last:m.start()])
            if kind == "comment":
                out.append(_NOT_NEWLINE.sub(" ", text[m.start():stop]))
            else:
                out.append(text[m.start():inner_from] + _NOT_NEWLINE.sub(lexical.FILL, text[inner_from:inner_to])
                           + text[inner_to:stop])
            i = last = stop
        out.append(text[last:])
        return "".join(out)

    def spans(self, text):
        """(start, stop) of every comment and string, in order."""
        out, i = [], 0
        while self.starts is not None and i < len(text):
            m = self.starts.search(text, i)
            if m is None:
                break
            end = self._end(text, m.start(), m.group(0))
            if end is None:
                i = m.start() + 1
                continue
            out.append((m.start(), end[1]))
            i = end[1]
        return out


PIECES = ["/* a\nb */", "// c\n", "# d\n", '"e\\"f"', "'g'", '"""h\ni"""', "`j\nk`", "-- l\n", "{- m -}",
          "(* n *)", "<!-- o\n-->", 'R"x(p\nq)x"', 'r#"s"#', "=begin\nt\n=end\n", "\n", "x = 1", "é中",
          '"', "'", "\\", "\\\n", "#[", "]#", "--[[", "]]", "[[", "=pod\n", "=cut\n", "'a'", "b'"]
# What Python imports are made of, for the import scan.
IMPORT_PIECES = ["import a", "\nimport b.c as d, e", "\nfrom . import f", "\n  from ..g import (h,\n i as j)",
                 "\ncimport k", "\nfrom l cimport m", "(", ")", " as n", ", ", "\r\n", "\n\t", "\nfrom o import *",
                 "\nfrom p import q; import r", "'" * 3, '"' * 3, "\\\nimport s", "\\\\"]


def _scanner_texts(seed: int, pieces=PIECES, n: int = 300) -> list[str]:
    """Random mixes of every family's constructs, random characters and this repository's files."""
    rng = random.Random(seed)
    texts = [PY, "", "\n", '"', "/*", 'x = "abc\\', "'\\"]
    texts += ["".join(rng.choices(pieces, k=rng.randint(1, 80))) for _ in range(n)]
    texts += list(itertools.islice(_texts(seed + 1), 30))
    root = posixpath.dirname(posixpath.dirname(posixpath.dirname(posixpath.abspath(__file__))))
    for folder in ("pipelines/code", "deepcorpus/core"):
        for name in sorted(os.listdir(posixpath.join(root, folder))):
            if name.endswith(".py"):
                with open(posixpath.join(root, folder, name), encoding="utf-8") as f:
                    texts.append(f.read())
    return texts


def test_mask_is_the_plain_scan():
    """Comments and strings matched whole by the search and masked by string repeats give what the
    plain scan gave, on random mixes of every family's constructs and on this repository's files."""
    texts = _scanner_texts(4)
    for family, syntax in SYNTAX.items():
        plain = _PlainScanner(syntax, RAW_KIND.get(family, ""))
        for text in texts:
            assert mask(text, syntax, RAW_KIND.get(family, "")) == plain.mask(text), (family, text[:200])


def test_mask_spans_joined_are_the_mask():
    """A span begun where the last one ended (a place in code) goes on the whole mask's way."""
    rng = random.Random(6)
    texts = _scanner_texts(6, n=100)
    for family, syntax in SYNTAX.items():
        scan = lexical.scanner(syntax, RAW_KIND.get(family, ""))
        for text in texts:
            whole, parts, at = mask(text, syntax, RAW_KIND.get(family, "")), [], 0
            while at < len(text):
                part, end = scan.mask_span(text, at, at + rng.choice([1, 2, 5, 40, 1000]))
                assert end > at and len(part) == end - at, (family, text[:200])
                parts.append(part)
                at = end
            assert "".join(parts) == whole, (family, text[:200])


def test_line_skipper_stops_at_the_lines_the_scanner_begins_in_code():
    """The skipper's one regex reads comments and strings as the scanner does: it stops exactly at
    the newlines outside every comment and string that come before a line matching its pattern."""
    texts = _scanner_texts(7, PIECES + IMPORT_PIECES)
    for family, syntax in SYNTAX.items():
        for line_start in (r"[ \t]*+(?:c?import|from)[ \t]", r"x", r"[^\n]"):
            skipper = lexical.line_skipper(syntax, line_start)
            if skipper is None:
                continue
            plain = _PlainScanner(syntax, RAW_KIND.get(family, ""))
            line = re.compile(line_start)
            for text in texts:
                newlines = [m.start() for m in re.finditer("\n", text)]
                inside = set()
                for start, stop in plain.spans(text):
                    inside.update(newlines[bisect.bisect_left(newlines, start):bisect.bisect_left(newlines, stop)])
                expected = [q for q in newlines if q not in inside and line.match(text, q + 1)]
                stops, at = [], 0
                while True:
                    q = skipper.match(text, at).end()
                    if q >= len(text):
                        break
                    stops.append(q)
                    at = q + 1
                assert stops == expected, (family, line_start, text[:200])
    assert lexical.line_skipper(SYNTAX["c"], "x") is None  # block comments, character literals, raw strings


TOP_LEVEL_PIECES = ["def a(", "\nclass B:", "\nasync def c", "\nd = 1", "\ne: int = 2", "\nf == g", "\n h = 3",
                    "\ni: 'j=k' = 4", "\nl  # = m", "\n_n=5", "\n9 = o", " = ", ": ", "x", "\r\n"]


def _top_level_names_plain(text: str) -> set[str]:
    return {m.group(1) or m.group(2) for m in _PY_TOP_LEVEL.finditer(mask(text, SYNTAX["python"]))}


def test_python_top_level_names_of_code_are_those_of_the_whole_mask():
    """Definitions and assignments at column 0, indented or inside strings and comments, names
    and `=` masked on their line, in random mixes and in real files (ASCII and not)."""
    texts = _scanner_texts(16, PIECES + IMPORT_PIECES + TOP_LEVEL_PIECES, n=2000)
    texts += [f.text for files, _ in _real_repositories() for f in files]
    texts += [f.text for seed in range(20) for f in _random_python_repository(seed)]
    texts += ["a=1", "a", "", "'''\nb = 1\n'''\nc = 2", "d = '\\\ne = 1'\nf = 2", "é = 1\nclass Ä:\n'''\nb = 1\n'''\n# ü\nc: 'ö=' = 2"]
    for text in texts:
        assert python_top_level_names_of_code(text) == _top_level_names_plain(text), text[:300]


def test_python_imports_of_code_are_those_of_the_whole_mask():
    texts = _scanner_texts(8, PIECES + IMPORT_PIECES, n=2000)
    texts += [f.text for files, _ in _real_repositories() for f in files]
    texts += [f.text for seed in range(50) for f in _random_python_repository(seed)]
    texts += ["from a import (b", "from a import (b # )\n'(' ')'", "from a import ( '\n' ) )", "import", "x\nimport"]
    # Where the compiled parse of plain lines must give the regexes' match or leave the line to them.
    texts += ["from  import x", "import a as", "import a as  b", "import a\tas\tb", "from a import  \n",
              "from a import ;", "import a,", "import a ,b, c as d;e", "from a cimport (b)\n", "from .. import (c)",
              "import a.b.c as d,e as f\n", "fromx import y", "importa", "from a import b;c\n", "cimport a as b_",
              "from a import (b) as c", "from a.b import\tc\t\n", "import .a", "from a importb", "import a as_b"]
    for text in texts:
        assert python_imports_of_code(text) == _python_imports(mask(text, SYNTAX["python"])), text[:300]


def test_a_string_left_open_at_a_trailing_backslash_runs_to_the_end():
    # The string pattern had no match there: the whole repository's assembly raised AttributeError.
    assert mask('x = "ab\\', SYNTAX["python"]) == 'x = "' + lexical.FILL * 3
    assert mask("s = '\\", SYNTAX["c"]) == "s = '\\"  # not a character literal: left as it is


def test_quality_signals_of_this_repository_are_the_plain_ones():
    root = posixpath.dirname(posixpath.dirname(posixpath.dirname(posixpath.abspath(__file__))))
    records = []
    for folder in ("pipelines", "deepcorpus", "tests/code", "benchmarks"):
        for parent, _, names in sorted(os.walk(posixpath.join(root, folder))):
            for name in sorted(names):
                if name.endswith((".py", ".json", ".txt", ".md")):
                    with open(posixpath.join(parent, name), encoding="utf-8") as f:
                        records.append({"path": posixpath.relpath(posixpath.join(parent, name), root),
                                        "language": name.rsplit(".", 1)[1], "text": f.read()})
    assert len(records) > 50
    graph = {r["path"]: set() for r in records}
    assert quality_signals(records, graph) == _quality_plain(records, graph)


# --- whole repositories: the dependency graph and the documents -------------------------------

def _graph_plain(files, context=None):
    """dependency_graph as it was before imports were found without masking whole files: every
    file masked first, declarations and references read from the masks."""
    index = RepoIndex(files, context)
    for f in files:
        family = FAMILY_BY_LANGUAGE.get(f.language)
        if family is None:
            continue
        index.masked[f.path] = code_only(f.text, family.name)
        for name in family.declared(index.masked[f.path]) if family.declarations else ():
            key = name.lower() if family.name in ("fortran", "vhdl") else name
            index.symbols[family.name][key].append(f.path)
            if family.name == "jvm":
                stem = posixpath.splitext(posixpath.basename(f.path))[0]
                index.symbols["jvm-class"][f"{name}.{stem}"].append(f.path)
    graph = {f.path: set() for f in files}
    reexported = collections.defaultdict(set)
    for f in files:
        family = FAMILY_BY_LANGUAGE.get(f.language)
        if family is None:
            continue
        package_file = family.name == "python" and posixpath.basename(f.path) == "__init__.py"
        for ref, reexport in references_with_kind(f, index.masked[f.path]):
            targets = family.resolve(index, f.path, ref)
            graph[f.path].update(targets)
            if reexport or package_file:
                package = posixpath.dirname(f.path)
                reexported[f.path].update(t for t in targets if not package or t.startswith(package + "/"))
        if family.implicit is not None:
            graph[f.path].update(family.implicit(index, f))
        graph[f.path].discard(f.path)
    for exporter, members in reexported.items():
        for member in members:
            if exporter in graph[member] and exporter not in reexported.get(member, ()):
                graph[member].discard(exporter)
    return graph


def _repositories_of_this_checkout():
    """This repository's own Python files, as one repository."""
    root = posixpath.dirname(posixpath.dirname(posixpath.dirname(posixpath.abspath(__file__))))
    files = []
    for folder in ("pipelines", "deepcorpus", "classifiers", "benchmarks", "tests/code"):
        for parent, _, names in sorted(os.walk(posixpath.join(root, folder))):
            for name in sorted(names):
                if name.endswith(".py"):
                    with open(posixpath.join(parent, name), encoding="utf-8") as f:
                        files.append(SourceFile(posixpath.relpath(posixpath.join(parent, name), root), "Python", f.read()))
    return files


def _random_python_repository(seed: int):
    """Modules importing each other from code, strings, comments, docstrings and parentheses."""
    rng = random.Random(seed)
    modules = [f"pkg/{a}.py" for a in "abcdefgh"] + ["pkg/__init__.py", "pkg/sub/__init__.py", "pkg/sub/x.py", "top.py"]
    names = ["pkg.a", "pkg.b", ".c", "..top", ".sub", "pkg.sub.x", "os", ".", "pkg", "top", "pkg.sub", "d", "e"]
    def statement():
        module = rng.choice(names)
        if rng.random() < 0.4 and not module.startswith("."):
            return f"import {module}" + (" as m" if rng.random() < 0.3 else "")
        items = rng.choice(["a", "b, c", "*", "(\n    f,  # g\n    h,\n)", "x as y", "(\n 'i' )", "sub"])
        return f"from {module} import {items}"
    wrappers = ["{}", "    {}", "# {}", "'{}'", '"""\n{}\n"""', "x = '''{}'''", "def f():\n    {}", "if x:  # '\n\t{}",
                "s = 'a\\\n{}'", "{}; import c", "{} \\\n    , d", "\r\n{}\r\n", "'''\\''' ; {}", "#\\\n{}"]
    files = []
    for path in modules:
        body = "\n".join(rng.choice(wrappers).format(statement()) for _ in range(rng.randint(0, 12)))
        files.append(SourceFile(path, "Python" if rng.random() < 0.9 else "Cython", body))
    return files


def _real_repositories():
    from benchmarks import real_repos

    directory = real_repos.locate()
    return [real_repos.load_files(directory, repo) for repo in real_repos.manifest()["repos"]]


def test_dependency_graph_is_the_one_of_whole_masks():
    cases = _real_repositories() + [(_repositories_of_this_checkout(), None)]
    cases += [(_random_python_repository(seed), None) for seed in range(200)]
    for files, context in cases:
        assert dependency_graph(files, context) == _graph_plain(files, context), files[0].path


@pytest.mark.slow
def test_dependency_graph_is_the_one_of_whole_masks_on_installed_packages():
    """code_bench's input: the installed packages' Python, C, C++, Cython and Fortran files."""
    from benchmarks.code_bench import identify_and_filter, load_repositories
    from classifiers.code_language import LanguageIdentifier

    records = identify_and_filter(load_repositories(), LanguageIdentifier())
    assert sum(map(len, records.values())) > 1000
    for repo, rows in records.items():
        files = [SourceFile(r["path"], r["language"], r["text"]) for r in rows]
        assert dependency_graph(files) == _graph_plain(files), repo
        assert quality_signals(rows, {r["path"]: set() for r in rows}) == _quality_plain(rows, {r["path"]: set() for r in rows})


def _references_plain(family, text):
    """Family.references_with_kind as it was: every pattern's finditer, checked on the whole mask."""
    masked, refs = code_only(text, family.name), {}
    for k, pattern in enumerate(family.patterns):
        for m in pattern.finditer(text):
            if masked is not text and masked[m.start():m.start(1)] != text[m.start():m.start(1)]:
                continue
            for ref in family.expand(m.group(1)) if family.expand else [m.group(1)]:
                ref = ref.strip() if ref else ""
                if ref:
                    refs[ref] = refs.get(ref, False) or k in family.reexports
    return list(refs.items())


def test_references_read_from_keyword_lines_and_a_partial_mask_are_the_plain_ones():
    include_pieces = ['#include "a.h"', "\n#  include <b/c.h>", "\n%include \"d.i\"", "\n  include \"e.inc\"",
                      "\n#import \"f.h\"", "\n#include_next <g.h>", "\n.include \"h.s\"", "include", "import",
                      "\nrequire('./i')", "\nimport j from './k'", "\n@import 'l';", "<script src=\"m.js\">"]
    texts = _scanner_texts(9, PIECES + include_pieces, n=1500)
    texts += ["x" * 5000 + "\n/*" + "\n#include \"late.h\"\n*/\n#include \"after.h\"\n"]
    families = {id(f): f for f in FAMILY_BY_LANGUAGE.values() if f.patterns}.values()  # one per family
    cases = [(family, text) for family in families for text in texts]
    # The real repositories' files, each read by its own language's family.
    cases += [(FAMILY_BY_LANGUAGE[f.language], f.text) for files, _ in _real_repositories() for f in files
              if f.language in FAMILY_BY_LANGUAGE and FAMILY_BY_LANGUAGE[f.language].patterns]
    for family, text in cases:
        assert family.references_with_kind(text) == _references_plain(family, text), (family.name, text[:300])


# --- the compiled pass of quality.file_stats ----------------------------------------------------

# Every character str.splitlines breaks at, str.strip takes and the token regex splits at, in
# ASCII and above, with letters, digits and marks that are not ASCII, a lone surrogate and a
# character of four UTF-8 bytes.
ODD = ["\r\n", "\r", "\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\u2028", "\u2029", "\xa0",
       "\u3000", "\u2009", "\t", " ", "é", "中", "\u212a", "ß", "٣", "²", "_", "\ud800", "\U0001f600", "#", "//",
       "--", "<!--", "(*", '"""', "'", "*", "x = 1", "y", "9"]


def _odd_texts(seed: int, n: int = 300) -> list[str]:
    rng = random.Random(seed)
    texts = ["", "\n", "\r\n", "\r", "x", "x\n\n", " \x1f\n\x1f x \x1f", "\u2028\u2028", "a\r\rb\r\n\r\nc"]
    texts += ["".join(rng.choices(ODD, k=rng.randint(0, 60))) for _ in range(n)]
    texts += [t.replace("\n", "\r\n") for t in texts[:40]]
    return texts + list(itertools.islice(_texts(seed), 40))


def _stats_plain(text: str) -> list[int]:
    lines = text.splitlines()
    stripped = [line.strip() for line in lines]
    nonblank = [s for s in stripped if s]
    return [len(lines), sum(map(len, lines)), max(map(len, lines), default=0), len(nonblank),
            sum(1 for s in nonblank if s.startswith(COMMENT_MARKERS)), len(text) - len(_LETTERS.sub("", text)),
            len(_TOKEN.findall(text)), len(text)]


def _real_repository_records():
    return [[{"path": f.path, "language": f.language, "text": f.text} for f in files] for files, _ in _real_repositories()]


def test_file_stats_are_the_plain_counts():
    texts = _odd_texts(11) + [r["text"] for records in _real_repository_records() for r in records]
    stats = file_stats(texts)
    assert [list(map(int, row)) for row in stats.per_file] == [_stats_plain(t) for t in texts]
    assert stats.distinct_lines == len({s for t in texts for s in (line.strip() for line in t.splitlines()) if s})


def test_distinct_lines_are_exact_when_hashes_collide():
    """With the hash cut to 4 bits nearly every line meets another of the same hash: only the
    byte comparison keeps them apart, and the count stays the count of the set."""
    texts = _odd_texts(12)[:300] + ["a\nb\na\n  b  \nab\nba\n", "é\n\xa0é\u3000\n"]  # small: probes are long
    plain = len({s for t in texts for s in (line.strip() for line in t.splitlines()) if s})
    for bits in (0, 1, 15, 2**64 - 1):
        assert file_stats(texts, np.uint64(bits)).distinct_lines == plain, bits


@pytest.mark.parametrize("seed", range(4))
def test_quality_signals_of_odd_texts_are_the_plain_ones(seed):
    texts = _odd_texts(20 + seed, n=80)
    records = [{"path": f"r/{k}.py", "language": "Python", "text": t} for k, t in enumerate(texts)]
    graph = {r["path"]: set() for r in records}
    assert quality_signals(records, graph) == _quality_plain(records, graph)
    assert quality_signals([], {}) == _quality_plain([], {})


def test_quality_signals_of_the_real_repositories_are_the_plain_ones():
    for records in _real_repository_records():
        graph = {r["path"]: set() for r in records}
        assert quality_signals(records, graph) == _quality_plain(records, graph), records[0]["path"]


def test_document_text_hash_and_token_count_are_those_of_the_document():
    """The document from the files' UTF-8 and its token count from theirs: what document_text,
    content_hash and approx_token_count give on the document built as text."""
    cases = _real_repository_records()
    cases += [[{"path": f"p/é {k}\ud800.c", "language": "C" if k % 2 else "Python", "text": t}
               for k, t in enumerate(_odd_texts(30 + seed, n=40))] for seed in range(3)]
    for records in cases:
        stats = file_stats([r["text"] for r in records])
        text = document_text(records)
        assert text_and_hash(records, stats) == (text, content_hash(text))
        assert document_token_count(records, stats) == approx_token_count(text)


def _skip_stops_plain(text: str, end: int) -> list[int]:
    """The regex skipper's stops before `end`, each match begun after the last one's end."""
    stops, pos = [], 0
    while True:
        stop = _PY_SKIP.match(text, pos, end).end()
        if stop >= end:
            return stops
        stops.append(stop)
        pos = stop + 1


def test_compiled_python_skipper_stops_where_the_regex_does():
    """Comments, one-line and triple-quoted strings, escapes (of newlines too), lone backslashes and
    quotes at the end, and ends cut anywhere (the regex sees the text up to `end` only)."""
    pieces = IMPORT_PIECES + ["'", '"', "\\", "#", "\n", "''", '""', '"""', "'''", "\\'", '\\"', "x", "\t", " "]
    texts = _scanner_texts(13, pieces, n=1500) + _scanner_texts(14, n=300)
    texts += [f.text for files, _ in _real_repositories() for f in files if f.language == "Python"]
    rng = random.Random(15)
    for text in texts:
        if not text.isascii():
            continue
        data = np.frombuffer(text.encode("ascii"), np.uint8)
        for end in {_last_candidate_end(text), len(text), rng.randint(0, len(text)), rng.randint(0, len(text))}:
            assert _python_code_newlines(data, end, _IMPORT_LINE).tolist() == _skip_stops_plain(text, end), (text[:300], end)
