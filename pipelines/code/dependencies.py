"""In-repository dependencies per language family, found by regular expressions and resolved to files.

DeepSeek-Coder parsed Python, Java, C#, C and C++ by regex ("import", "using", "include"); this
module covers many more families with the same approach (no parser grammars to ship or download):
each family says how to find references in a file and how a reference names files of the same
repository. References to anything outside the repository (the standard library, packages) simply
resolve to nothing.

    graph = dependency_graph([SourceFile("pkg/a.py", "Python", "from pkg import b"), ...])
    graph["pkg/a.py"] == {"pkg/b.py"}        # a depends on b, so b is placed first
"""

from __future__ import annotations

import itertools
import posixpath
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numba
import numpy as np

from pipelines.code.lexical import RAW_KIND, SYNTAX, line_skipper, mask, scanner
from pipelines.code.required_words import required_words

# A namespace import or wildcard naming more files than this says nothing about order (and would
# make the graph quadratic): such references are ignored.
MAX_FANOUT = 500


@dataclass(frozen=True)
class SourceFile:
    path: str  # relative to the repository root, "/"-separated
    language: str
    text: str


def _normpath(path: str) -> str:
    """posixpath.normpath, which is half of resolving imports: it changes only paths with empty, "."
    or ".." components or a trailing slash, and most candidates (`pkg/mod.py`) have none."""
    if path and "//" not in path and "./" not in path and not path.endswith(("/", "/.", "/..")) \
            and path not in (".", ".."):
        return path
    return posixpath.normpath(path)


class RepoIndex:
    """Lookups over one repository's paths: exact, by path suffix, by directory, by declared symbol."""

    def __init__(self, files: Iterable[SourceFile], context: dict[str, str] | None = None):
        self.files = {f.path: f for f in files}
        # Files that are not documents but tell how to resolve (go.mod): {path: text}.
        self.context = context or {}
        self.by_suffix: dict[str, list[str]] = defaultdict(list)
        self.by_dir: dict[str, list[str]] = defaultdict(list)
        self.dirs: set[str] = set()
        self.folders: dict[str, str] = {}  # posixpath.dirname of each file's path, asked again and again
        by_suffix = self.by_suffix
        for path in sorted(self.files):
            parts = path.split("/")
            suffix = parts[-1]
            by_suffix[suffix].append(path)
            for part in reversed(parts[:-1]):  # "c", "b/c", "a/b/c": each one from the last
                suffix = f"{part}/{suffix}"
                by_suffix[suffix].append(path)
            d = self.folders[path] = posixpath.dirname(path)
            self.by_dir[d].append(path)
            while d:
                self.dirs.add(d)
                d = posixpath.dirname(d)
        # symbols[family][name] -> files declaring it (Java packages, C# namespaces, Fortran modules...)
        self.symbols: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        self.stem_tables: dict[str, dict[str, dict[str, list[str]]]] = {}  # see _same_namespace_uses
        # types[family][name] -> files declaring a type of that name (class, interface, struct...)
        self.types: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        self.words: dict[str, frozenset[str]] = {}  # identifiers of a file's code, see identifiers()
        self._py_exports: dict[str, dict[str, str]] = {}
        self._py_imports: dict[str, list[tuple[str, str, str]]] = {}
        self._py_top_level: dict[str, frozenset[str]] = {}
        self.py_absolute: dict[str, tuple[str, ...]] = {}  # see _python_module
        self.py_modules: dict[tuple[str, str], tuple[str, ...]] = {}
        # Code with comments and strings masked, by path: made when something reads it (`code`), as
        # most files' imports are found without masking them whole.
        self.masked: dict[str, str] = {}

    def code(self, path: str, default: str | None = None) -> str | None:
        """The file's text with its family's comments and strings masked; `default` for a file of
        no family (or not in the repository)."""
        masked = self.masked.get(path)
        if masked is None:
            f = self.files.get(path)
            family = FAMILY_BY_LANGUAGE.get(f.language) if f is not None else None
            if family is None:
                return default
            masked = self.masked[path] = code_only(f.text, family.name)
        return masked

    def identifiers(self, path: str, masked: str) -> frozenset[str]:
        words = self.words.get(path)
        if words is None:
            words = self.words[path] = frozenset(_IDENTIFIER.findall(masked))
        return words

    def python_top_level_names(self, path: str) -> frozenset[str]:
        """The names the file, read as Python, defines at its top level (what `import *` takes)."""
        names = self._py_top_level.get(path)
        if names is None:
            names = self._py_top_level[path] = frozenset(python_top_level_names_of_code(self.files[path].text))
        return names

    def python_imports(self, path: str) -> list[tuple[str, str, str]]:
        """`_python_imports` of the file's text masked as Python (package files are read again for
        re-exports)."""
        found = self._py_imports.get(path)
        if found is None:
            found = self._py_imports[path] = python_imports_of_code(self.files[path].text)
        return found

    def python_exports(self, init: str) -> dict[str, str]:
        """{name: the module file it comes from} for the names package file `init` (an
        `__init__.py`) imports from inside its package: what `from pkg import name` really uses."""
        table = self._py_exports.get(init)
        if table is not None:
            return table
        self._py_exports[init] = table = {}  # also what a cycle of packages sees meanwhile
        f = self.files.get(init)
        if f is None:
            return table
        package = posixpath.dirname(init)
        for module, name, alias in self.python_imports(init):
            if not name:
                continue
            sub = [] if name == "*" else _python_module(self, init, module + name if module.endswith(".")
                                                         else f"{module}.{name}")
            source = (sub or _python_module(self, init, module))[:1]
            if not source or source[0] == init or not (source[0].startswith(package + "/") or not package):
                continue
            src = source[0]
            if name == "*":
                for defined in self.python_top_level_names(src) if src in self.files else ():
                    table.setdefault(defined, src)
                continue
            if src.endswith("__init__.py") and not sub:  # re-exported again one package down
                src = self.python_exports(src).get(name, src)
            table[alias or name] = src
        return table

    def exact(self, path: str) -> list[str]:
        path = _normpath(path).lstrip("/")
        return [path] if path in self.files else []

    def suffix(self, rel: str, near: str = "") -> list[str]:
        """Files whose path ends with `rel` (whole components); the one closest to `near` first."""
        rel = _normpath(rel).lstrip("/")
        if rel.startswith(".."):
            return []
        hits = self.by_suffix.get(rel, [])
        if len(hits) > 1 and near:
            hits = sorted(hits, key=lambda p: (-_common_prefix_len(p, near), len(p), p))[:1]
        return hits[:1]

    def relative_or_suffix(self, importer: str, rel: str, extensions: tuple[str, ...] = ("",)) -> list[str]:
        """`rel` next to the importer first, then anywhere in the repository by suffix."""
        base = posixpath.dirname(importer)
        for ext in extensions:
            hit = self.exact(posixpath.join(base, rel + ext))
            if hit:
                return hit
        if rel.startswith("./") or rel.startswith("../"):
            return []
        for ext in extensions:
            hit = self.suffix(rel + ext, importer)
            if hit:
                return hit
        return []


def _common_prefix_len(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a.split("/"), b.split("/")):
        if x != y:
            break
        n += 1
    return n


@dataclass
class Family:
    """How one language family refers to other files: patterns (group 1 is the reference) and a resolver."""

    name: str
    languages: frozenset[str]
    patterns: tuple[re.Pattern, ...]
    resolve: Callable[[RepoIndex, str, str], list[str]]
    # Patterns whose group 1 is a name this file declares (a package, a namespace, a module).
    declarations: tuple[re.Pattern, ...] = ()
    # Pure-function hook for references a pattern cannot express in one match (e.g. Go import blocks).
    expand: Callable[[str], list[str]] | None = None
    implicit: Callable[[RepoIndex, SourceFile], list[str]] | None = None
    # Patterns (by position in `patterns`) that re-export what they name (`export * from './a'`):
    # the file is then a dependent of its target, never the target's dependency (see dependency_graph).
    reexports: tuple[int, ...] = ()
    # Words one of which is on the line of every match of `patterns`, when every pattern is
    # anchored at a line's start and matches within that line: only those lines are matched.
    line_keywords: tuple[str, ...] = ()

    def __post_init__(self):
        # Per pattern: words one of which a text must hold for it to match (None: no test). Where
        # line_keywords find the lines to match, the patterns never scan the whole text anyway.
        self.required = tuple(None if self.line_keywords else required_words(p) for p in self.patterns)

    def references(self, text: str, masked: str | None = None) -> list[str]:
        return [ref for ref, _ in self.references_with_kind(text, masked)]

    def references_with_kind(self, text: str, masked: str | None = None) -> list[tuple[str, bool]]:
        """(reference, is a re-export) pairs. A match counts only when what leads up to its
        reference (`#include "`, `import x from '`) is code: not inside a comment or a string
        (`masked`, see lexical.py; without it, the text is masked only as far as the last match
        needs); the reference itself may be a quoted path."""
        refs: dict[str, bool] = {}
        prefix = None
        lines = _keyword_lines(text, self.line_keywords) if self.line_keywords else None
        for k, (pattern, words) in enumerate(zip(self.patterns, self.required)):
            if words is not None and not any(w in text for w in words):
                continue
            for m in pattern.finditer(text) if lines is None else filter(None, map(pattern.match,
                                                                                  itertools.repeat(text), lines)):
                if masked is not None:
                    code = masked
                else:
                    prefix = prefix or _MaskedPrefix(text, self.name)
                    code = prefix.upto(m.start(1))
                if code is not text and code[m.start():m.start(1)] != text[m.start():m.start(1)]:
                    continue
                found = m.group(1)
                for ref in self.expand(found) if self.expand else [found]:
                    ref = ref.strip() if ref else ""
                    if ref:
                        refs[ref] = refs.get(ref, False) or k in self.reexports
        return list(refs.items())

    def declared(self, text: str) -> list[str]:
        return [m.group(1) for p in self.declarations for m in p.finditer(text)]


def _keyword_lines(text: str, keywords: tuple[str, ...]) -> list[int]:
    """The starts of the lines of `text` that hold one of `keywords`, in order."""
    starts = set()
    for word in keywords:
        at = text.find(word)
        while at >= 0:
            start = text.rfind("\n", 0, at) + 1
            starts.add(start)
            end = text.find("\n", at)
            if end < 0:
                break
            at = text.find(word, end)
    return sorted(starts)


class _MaskedPrefix:
    """The mask of a text (code_only) made from its start only as far as it is read: a C file's
    includes come first, and what follows them need not be scanned."""

    def __init__(self, text: str, family: str):
        syntax = SYNTAX.get(family)
        self.text = text
        self.scanner = scanner(syntax, RAW_KIND.get(family, "")) if syntax is not None else None
        self.masked = ""

    def upto(self, pos: int) -> str:
        """The mask of at least text[:pos] (the text itself for a family without comments)."""
        if self.scanner is None:
            return self.text
        while len(self.masked) < pos:
            start = len(self.masked)
            more, _ = self.scanner.mask_span(self.text, start, max(pos, 2 * start, 4096))
            self.masked += more
        return self.masked


def code_only(text: str, family: str) -> str:
    """`text` with the comments and string contents of `family`'s languages masked (lexical.py)."""
    syntax = SYNTAX.get(family)
    return mask(text, syntax, RAW_KIND.get(family, "")) if syntax is not None else text


def _m(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.MULTILINE)




# --- resolvers ---------------------------------------------------------------------------------

def _paths(extensions: tuple[str, ...]):
    """A reference that is a path, relative to the importer or to any directory of the repository."""
    def resolve(index: RepoIndex, importer: str, ref: str) -> list[str]:
        if "://" in ref or ref.startswith("data:"):
            return []
        ref = ref.split("?", 1)[0].split("#", 1)[0]
        return index.relative_or_suffix(importer, ref, extensions)
    return resolve


def _modules(separator: str, extensions: tuple[str, ...], init_files: tuple[str, ...] = ()):
    """A dotted (or ::-separated) module name; the file is the name's path plus an extension."""
    def resolve(index: RepoIndex, importer: str, ref: str) -> list[str]:
        rel = ref.replace(separator, "/") if separator else ref
        for ext in extensions:
            hit = index.suffix(rel + ext, importer)
            if hit:
                return hit
        for init in init_files:
            hit = index.suffix(f"{rel}/{init}", importer)
            if hit:
                return hit
        return []
    return resolve


_PY_EXTS = (".py", ".pyi", ".pyx", ".pxd", ".sage")
_PY_SUFFIXES = (*_PY_EXTS, "/__init__.py")


def _python_resolve(index: RepoIndex, importer: str, ref: str) -> list[str]:
    """`a.b` or relative `..a.b`; `from x import y` arrives as `x:y`.

    `from x import y` names the submodule x.y when there is one, else x itself (y is defined
    there). When x is a package whose `__init__.py` re-exports y from one of its modules, the
    dependency is that module: `from . import types` in a submodule, or `from pkg import Thing` of
    a re-exported class, never makes the package's `__init__.py`, which imports its submodules, a
    dependency of them (that was a false cycle through every package)."""
    module, sep, name = ref.partition(":")
    if not sep:
        return _python_module(index, importer, module)
    hit = _python_module(index, importer, module + name if module.endswith(".") else f"{module}.{name}")
    if hit:
        return hit
    target = _python_module(index, importer, module)
    if target and target[0].endswith("/__init__.py") or target == ["__init__.py"]:
        via = index.python_exports(target[0]).get(name)
        if via is not None:
            return [via] if via != importer else []
    return target


def _python_module(index: RepoIndex, importer: str, dotted: str) -> list[str]:
    """The file of module `dotted` (relative with leading dots) as imported from `importer`.
    Answers are remembered per repository: it imports the same modules from file after file."""
    if not dotted:
        return []
    if dotted[0] != ".":
        # Absolute: a file that ends with the module's path and does not sit inside a package (a
        # package's `types.py` is `pkg.types`; `import types` is the standard library's).
        hits = index.py_absolute.get(dotted)
        if hits is None:
            hits = index.py_absolute[dotted] = _python_absolute(index, dotted.replace(".", "/"))
        if hits:
            return sorted(hits, key=lambda h: (-_common_prefix_len(h, importer), len(h), h))[:1] \
                if len(hits) > 1 else list(hits)
        # Python 2 imported siblings implicitly (`import helpers` inside a package): only for
        # names the standard library does not own.
        if "." in dotted or dotted in _STDLIB:
            return []
    folder = index.folders.get(importer)
    if folder is None:
        folder = posixpath.dirname(importer)
    found = index.py_modules.get((folder, dotted))
    if found is None:
        found = index.py_modules[folder, dotted] = _python_module_in(index, folder, dotted)
    return list(found)


def _python_absolute(index: RepoIndex, body: str) -> tuple[str, ...]:
    by_suffix = index.by_suffix
    for ext in _PY_SUFFIXES:  # most modules asked for are not in the repository: six misses
        found = by_suffix.get(body + ext)
        if found:
            hits = tuple(h for h in found if _outside_packages(index, h, body + ext))
            if hits:
                return hits
    return ()


def _python_module_in(index: RepoIndex, folder: str, dotted: str) -> tuple[str, ...]:
    """A relative module, or a sibling module file, from a file in `folder`."""
    dots = len(dotted) - len(dotted.lstrip("."))
    body = dotted[dots:].replace(".", "/")
    if not dots:
        for ext in _PY_EXTS:
            hit = index.exact(posixpath.join(folder, body + ext))
            if hit:
                return tuple(hit)
        return ()
    base = folder
    for _ in range(dots - 1):
        base = posixpath.dirname(base)
    rel = posixpath.join(base, body) if body else base
    for ext in _PY_EXTS:
        hit = index.exact(rel + ext)
        if hit:
            return tuple(hit)
    return tuple(index.exact(rel + "/__init__.py"))


def _outside_packages(index: RepoIndex, hit: str, suffix: str) -> bool:
    root = hit[: len(hit) - len(suffix)].rstrip("/")
    return posixpath.join(root, "__init__.py") not in index.files if root else "__init__.py" not in index.files


_STDLIB = frozenset(getattr(__import__("sys"), "stdlib_module_names", ())) | {"__future__"}


_PY_TOP_LEVEL = re.compile(r"^(?:async[ \t]+)?(?:def|class)[ \t]+(\w+)|^(\w+)[ \t]*(?::[^=\n]*)?=(?!=)", re.M)


def python_top_level_names_of_code(text: str) -> set[str]:
    """The names a Python module defines at its top level: what `_PY_TOP_LEVEL.finditer` finds in
    `code_only(text, "python")`, without masking the whole text. A match of `_PY_TOP_LEVEL`
    starts a line that begins in code with a word character and ends on it, so only those lines
    (found by the compiled scan for ASCII text, `_word_lines`) are masked and matched."""
    python = scanner(SYNTAX["python"])
    n = len(text)
    names = set()
    for at in _word_lines(text):
        eol = text.find("\n", at)
        eol = n if eol < 0 else eol + 1
        line = text[at:eol]
        m = _PY_TOP_LEVEL.match(line if _PY_CONSTRUCT.search(line) is None else python.mask_span(text, at, eol)[0])
        if m:
            names.add(m.group(1) or m.group(2))
    return names


_PY_WORD = re.compile(r"\w")
_PY_WORD_SKIP = line_skipper(SYNTAX["python"], _PY_WORD.pattern)


def _word_lines(text: str) -> list[int]:
    """The starts of the lines of `text` that begin in code (read as Python) with a word character."""
    if text.isascii():
        data = np.frombuffer(text.encode("ascii"), np.uint8)
        return ([0] if text and _WORD_BYTE[data[0]] else []) + (_python_code_newlines(data, len(text), _WORD_LINE)
                                                                 + 1).tolist()
    starts = [0] if _PY_WORD.match(text) else []
    pos, n = 0, len(text)
    while True:
        stop = _PY_WORD_SKIP.match(text, pos).end()
        if stop >= n:
            return starts
        pos = stop + 1  # text[stop] is the newline before such a line
        starts.append(pos)


def _import_lines(pattern: re.Pattern, text: str):
    """`pattern.finditer(text)` for the two import patterns, tried only at the starts of lines that
    hold "import" (a match needs it on the line it starts on; the regex alone tries every position)."""
    end, at = 0, text.find("import")
    while at >= 0:
        start = text.rfind("\n", 0, at) + 1
        if start >= end:
            m = pattern.match(text, start)
            if m:
                yield m
                end = m.end()
        nl = text.find("\n", at)
        if nl < 0:
            break
        at = text.find("import", nl)


def _python_imports(text: str) -> list[tuple[str, str, str]]:
    """(module, name, alias) per imported name of `text` masked as Python: `import a.b as c` is
    ("a.b", "", "c"), `from .x import y as z` is (".x", "y", "z"), `from m import *` is ("m", "*", "")."""
    return _import_tuples([m.group(1) for m in _import_lines(_PY_IMPORT, text)],
                          [(m.group(1), m.group(2)) for m in _import_lines(_PY_FROM, text)])


def python_imports_of_code(text: str) -> list[tuple[str, str, str]]:
    """`_python_imports(code_only(text, "python"))`, without masking the whole text: one regex
    pass finds the lines that begin in code with `import` or `from` (lexical.line_skipper), and
    only those lines (with a parenthesised name list, up to its `)`) are masked and matched."""
    if "import" not in text:  # both patterns need it, and a mask only takes characters away
        return []
    return _import_tuples(*_python_import_groups(text))


_PY_CANDIDATE = r"[ \t]*+(?:c?import|from)[ \t]"  # where _PY_IMPORT or _PY_FROM can match (code only)
_PY_LINE = re.compile(_PY_CANDIDATE)
_PY_CONSTRUCT = re.compile("[#'\"]")  # what Python's comments and strings begin with
_PY_SKIP = line_skipper(SYNTAX["python"], _PY_CANDIDATE)


def _python_import_groups(text: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The groups of the matches of _PY_IMPORT (group 1) and of _PY_FROM (groups 1 and 2) in the
    Python mask of `text`, each pattern's in order and not overlapping each other (what `finditer`
    on the whole mask gives), found on masked pieces of the text that begin at the matches' line
    starts.

    A line a pattern matches on in the mask begins in code (a line begun inside a string starts
    with a FILL, a newline or a quote there, and a comment ends at its line's end), and there the
    mask and the text agree on `_PY_CANDIDATE`: the skipper stops at every such line. It reads
    only up to the end of the text's last line that begins like one (its first third, in the
    installed packages code_bench reads): what comes after cannot be a line it stops at, and a
    string open there only runs on past it. Most such lines hold no comment or string (their mask
    is their text) and are matched by the compiled parse (`_parse_import_line`); the others here."""
    python = scanner(SYNTAX["python"])
    n = len(text)
    imports: list[str] = []
    froms: list[tuple[str, str]] = []
    end_import = end_from = 0
    for at, kind, a, b, c, d, end in _import_line_rows(text):
        if kind == _PLAIN_IMPORT:
            if at >= end_import:
                imports.append(text[a:b])
                end_import = end
            continue
        if kind == _PLAIN_FROM:
            if at >= end_from:
                froms.append((text[a:b], text[c:d]))
                end_from = end
            continue
        eol = text.find("\n", at)
        eol = n if eol < 0 else eol + 1
        line = text[at:eol]
        masked, reached = (line, eol) if _PY_CONSTRUCT.search(line) is None else python.mask_span(text, at, eol)
        # The line begins with `[ \t]*(?:c?import|from)`: one of the two patterns can match it.
        from_line = line.lstrip(" \t").startswith("from")
        if at >= end_import and not from_line:
            m = _PY_IMPORT.match(masked)
            if m:
                imports.append(m.group(1))
                end_import = at + m.end()
        if at >= end_from and from_line:
            m = _PY_FROM.match(masked)
            # A name list in parentheses may close lines later: mask on until the mask holds a `)`
            # after the `(` (the paren alternative then matches) or the text ends.
            while m and reached < n and m.group(2)[:1] == "(" and ")" not in m.group(2):
                close = text.find(")", reached)
                more, reached = python.mask_span(text, reached, max(n if close < 0 else close + 1,
                                                                    reached + len(masked)))
                masked += more
                m = _PY_FROM.match(masked)
            if m:
                froms.append((m.group(1), m.group(2)))
                end_from = at + m.end()
    return imports, froms


def _import_line_rows(text: str) -> list[list[int]]:
    """[line start, kind, group 1 start, end, group 2 start, end, match end] of each line the
    skipper stops before (`_candidate_lines`); kind _OTHER_LINE (the rest 0) where the compiled
    parse leaves the line to the regexes: a comment or string on it, a non-ASCII text, a name
    list in parentheses that goes on past the line, or a line the parse does not match."""
    if not text.isascii():
        return [[at, _OTHER_LINE, 0, 0, 0, 0, 0] for at in _candidate_lines(text)]
    return _python_import_lines(np.frombuffer(text.encode("ascii"), np.uint8), _last_candidate_end(text)).tolist()


def _candidate_lines(text: str) -> list[int]:
    """The starts of the lines the skipper stops before, in order (and 0 when the first line is
    a candidate), by the regex skipper: for text the compiled scan does not read (not ASCII). The
    skipper goes on from each such line's start, which is code, so its stops are those of one
    scan of the text."""
    last = _last_candidate_end(text)
    starts = [0] if _PY_LINE.match(text) else []
    pos = 0  # where the skipper goes on from: a place in code
    while True:
        stop = _PY_SKIP.match(text, pos, last).end()
        if stop >= last:
            return starts
        pos = stop + 1  # text[stop] is the newline before a candidate line
        starts.append(pos)


_NEWLINE, _HASH, _QUOTE, _APOSTROPHE, _BACKSLASH, _SPACE, _TAB = map(ord, "\n#\"'\\ \t")
_IMPORT, _CIMPORT, _FROM = (np.frombuffer(w.encode(), np.uint8) for w in ("import", "cimport", "from"))


@numba.njit(cache=True, nogil=True)
def _word_at(data, at, word, end):  # pragma: no cover (compiled)
    if at + word.shape[0] > end:
        return False
    for k in range(word.shape[0]):
        if data[at + k] != word[k]:
            return False
    return True


# The lines `_python_code_newlines` stops before: those `_PY_CANDIDATE` matches (where an import can
# be), or those that begin with a word character (where a top-level name can be defined).
_IMPORT_LINE, _WORD_LINE = 0, 1
_WORD_BYTE = np.array([chr(c).isalnum() or chr(c) == "_" for c in range(128)] + [False] * 128, np.bool_)


@numba.njit(cache=True, nogil=True)
def _python_code_newlines(data, end, lines):  # pragma: no cover (compiled)
    """The newlines of data[:end] (ASCII) in code (outside comments and strings, read as the
    skipper reads them) before a line of kind `lines` that begins before `end`: for _IMPORT_LINE
    these are the ends of `_PY_SKIP`'s matches, from 0 and on from after each end, before `end`."""
    stops = []
    i = 0
    while i < end:
        c = data[i]
        if c == _NEWLINE:
            k = i + 1
            if lines == _WORD_LINE:
                if k < end and _WORD_BYTE[data[k]]:
                    stops.append(i)
            elif _is_candidate(data, k, end):
                stops.append(i)
            i += 1
        elif c == _HASH:  # a comment, to the newline
            while i < end and data[i] != _NEWLINE:
                i += 1
        elif c == _QUOTE or c == _APOSTROPHE:
            if i + 3 <= end and data[i + 1] == c and data[i + 2] == c:
                # A triple-quoted string: to the first three quotes not escaped (a backslash
                # escapes any one character, a newline too), or a lone backslash at the end.
                i += 3
                while i < end:
                    if data[i] == _BACKSLASH:
                        i += 2 if i + 1 < end else 1
                    elif data[i] == c and i + 3 <= end and data[i + 1] == c and data[i + 2] == c:
                        i += 3
                        break
                    else:
                        i += 1
            else:  # a string of one line: to its closing quote, or up to the newline, or the end
                i += 1
                while i < end:
                    if data[i] == _BACKSLASH:
                        i += 2 if i + 1 < end else 1
                    elif data[i] == c:
                        i += 1
                        break
                    elif data[i] == _NEWLINE:
                        break
                    else:
                        i += 1
        else:
            i += 1
    return np.array(stops, np.int64) if stops else np.zeros(0, np.int64)


_PLAIN_IMPORT, _PLAIN_FROM, _OTHER_LINE = 0, 1, 2  # the kinds of _import_line_rows
_DOT = ord(".")
_COMMA, _SEMICOLON, _OPEN, _CLOSE = map(ord, ",;()")
_A, _S = map(ord, "as")


@numba.njit(cache=True, nogil=True)
def _is_candidate(data, k, end):  # pragma: no cover (compiled)
    """Whether _PY_CANDIDATE ([ \t]*+(?:c?import|from)[ \t]) matches data[k:end]."""
    k = _blanks(data, k, end)
    for word in (_IMPORT, _CIMPORT, _FROM):
        if _word_at(data, k, word, end):
            after = k + word.shape[0]
            return after < end and (data[after] == _SPACE or data[after] == _TAB)
    return False


@numba.njit(cache=True, nogil=True, inline="always")
def _blanks(data, k, end):  # pragma: no cover (compiled)
    while k < end and (data[k] == _SPACE or data[k] == _TAB):
        k += 1
    return k


@numba.njit(cache=True, nogil=True, inline="always")
def _word_run(data, k, end, dots):  # pragma: no cover (compiled)
    """The end of the run of \\w (ASCII) characters, and of dots where `dots`, from k."""
    while k < end and (_WORD_BYTE[data[k]] or (dots and data[k] == _DOT)):
        k += 1
    return k


@numba.njit(cache=True, nogil=True, inline="always")
def _alias(data, k, end):  # pragma: no cover (compiled)
    """The end of `(?:[ \t]+as[ \t]+\\w+)?` matched at k."""
    p = _blanks(data, k, end)
    if p == k or p + 2 > end or data[p] != _A or data[p + 1] != _S:
        return k
    q = _blanks(data, p + 2, end)
    if q == p + 2:
        return k
    r = _word_run(data, q, end, False)
    return r if r > q else k


@numba.njit(cache=True, nogil=True)
def _parse_import_line(data, at, row):  # pragma: no cover (compiled)
    """Fill row[1:] (see _import_line_rows) for the candidate line at `at`: what _PY_IMPORT or
    _PY_FROM match on it, when it holds no comment or string and the greedy reading below is the
    match (each regex takes its greedy path first, and none of these needs to go back on it)."""
    n = data.shape[0]
    eol = at
    while eol < n and data[eol] != _NEWLINE:
        if data[eol] == _HASH or data[eol] == _QUOTE or data[eol] == _APOSTROPHE:
            return
        eol += 1
    k = _blanks(data, at, eol)
    if _word_at(data, k, _FROM, eol):
        k = _blanks(data, k + 4, eol)
        a = k
        b = k = _word_run(data, k, eol, True)  # (\.*[\w.]*)
        p = _blanks(data, k, eol)
        if p == k:
            return
        k = p + 1 if _word_at(data, p, _CIMPORT, eol) else p
        if not _word_at(data, k, _IMPORT, eol):
            return
        p = _blanks(data, k + 6, eol)
        if p == k + 6 or p == eol or data[p] == _SEMICOLON:  # the regex may give back a blank: not here
            return
        c = p
        if data[p] == _OPEN:  # \([^)]*\) on the line, or left to the regexes (it may go on)
            d = p + 1
            while d < eol and data[d] != _CLOSE:
                d += 1
            if d == eol:
                return
            d += 1
        else:  # [^\n#;]+
            d = p
            while d < eol and data[d] != _SEMICOLON:
                d += 1
        row[1], row[2], row[3], row[4], row[5], row[6] = _PLAIN_FROM, a, b, c, d, d
        return
    k += 7 if _word_at(data, k, _CIMPORT, eol) else 6
    p = _blanks(data, k, eol)
    a = p
    k = _word_run(data, p, eol, True)
    if k == p:
        return
    k = _alias(data, k, eol)
    while True:  # (?:[ \t]*,[ \t]*[\w.]+(?:[ \t]+as[ \t]+\w+)?)*
        p = _blanks(data, k, eol)
        if p == eol or data[p] != _COMMA:
            break
        q = _blanks(data, p + 1, eol)
        r = _word_run(data, q, eol, True)
        if r == q:
            break
        k = _alias(data, r, eol)
    row[1], row[2], row[3], row[6] = _PLAIN_IMPORT, a, k, k


@numba.njit(cache=True, nogil=True)
def _python_import_lines(data, end):  # pragma: no cover (compiled)
    """The rows of _import_line_rows for ASCII text, the skipper read up to `end`."""
    stops = _python_code_newlines(data, end, _IMPORT_LINE)
    first = 1 if _is_candidate(data, 0, data.shape[0]) else 0
    rows = np.zeros((stops.shape[0] + first, 7), np.int64)
    for r in range(rows.shape[0]):
        at = 0 if r < first else stops[r - first] + 1
        rows[r, 0] = at
        rows[r, 1] = _OTHER_LINE
        _parse_import_line(data, at, rows[r])
    return rows


def _last_candidate_end(text: str) -> int:
    """The end (after its newline) of the last line of `text` that begins with `_PY_CANDIDATE`, or 0."""
    at = text.rfind("import")
    while at >= 0:
        start = text.rfind("\n", 0, at) + 1
        if _PY_LINE.match(text, start):
            end = text.find("\n", at)
            return len(text) if end < 0 else end + 1
        at = text.rfind("import", 0, start)
    return 0


def _import_tuples(imports: list[str], froms: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """The tuples of _PY_IMPORT's group 1 of each import, and _PY_FROM's groups 1 and 2 of each from."""
    out = []
    for modules in imports:
        for part in modules.split(","):
            module, _, alias = part.strip().partition(" as ")
            out.append((module.strip(), "", alias.strip()))
    for module, names in froms:
        names = names.replace("(", " ").replace(")", " ").replace("\\", " ")
        for part in names.split(","):
            name, _, alias = part.strip().partition(" as ")
            name = name.strip()
            if name:
                out.append((module, name, alias.strip()))
    return out


def _python_refs(masked: str) -> list[tuple[str, bool]]:
    return _python_import_refs(_python_imports(masked))


def _python_import_refs(imports: list[tuple[str, str, str]]) -> list[tuple[str, bool]]:
    return [(module if not name or name == "*" else f"{module}:{name}", False) for module, name, _ in imports]


_PY_IMPORT = _m(r"^[ \t]*c?import[ \t]+([\w.]+(?:[ \t]+as[ \t]+\w+)?(?:[ \t]*,[ \t]*[\w.]+(?:[ \t]+as[ \t]+\w+)?)*)")
_PY_FROM = _m(r"^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+(?:c?import)[ \t]+(\([^)]*\)|[^\n#;]+)")


def _jvm_resolve(index: RepoIndex, importer: str, ref: str) -> list[str]:
    """A fully qualified name: a class of a declared package, a package (`.*`: the files of it that
    declare a type the importer names), or a member."""
    classes = index.symbols["jvm-class"]
    if ref.endswith(".*") or ref.endswith("._"):
        return _used_types(index, "jvm", ref[:-2], importer)
    name = ref
    while "." in name:
        if name in classes:
            return classes[name][:1]
        name = name.rsplit(".", 1)[0]
    # Files without a package statement (or a repo that omits them): fall back to the path.
    return _modules(".", (".java", ".kt", ".scala", ".groovy", ".xtend", ".ceylon", ".gosu", ".aj"))(index, importer, ref)


def _jvm_expand(match: str) -> list[str]:
    match = match.strip().rstrip(";")
    if "{" in match:  # Scala: import a.b.{C, D => E}
        head, _, body = match.partition("{")
        return [head + part.split("=>")[0].strip() for part in body.rstrip("}").split(",") if part.strip()]
    return [match]


def _namespace_resolve(family: str):
    def resolve(index: RepoIndex, importer: str, ref: str) -> list[str]:
        files = index.symbols[family].get(ref, [])
        return [p for p in files if p != importer] if len(files) <= MAX_FANOUT else []
    return resolve


def _namespace_types_resolve(family: str):
    """`using Billing.Models;`: the files of that namespace that declare a type the importer names.
    A namespace import makes every type usable, not every file a dependency: taking them all made
    each file of a namespace depend on every file of the namespaces it opens (false cycles)."""
    def resolve(index: RepoIndex, importer: str, ref: str) -> list[str]:
        return _used_types(index, family, ref, importer)
    return resolve


_IDENTIFIER = re.compile(r"\b[A-Za-z_]\w*")
_MODIFIERS = r"(?:(?:public|private|protected|internal|static|final|abstract|sealed|partial|readonly|data|open|" \
    r"inline|value|case|non-sealed|strictfp|unsafe|ref|file|@\w+(?:\([^)\n]*\))?)[ \t]+)*"
# Top-level type declarations: a nested `class Tag` inside Token.java is no type of the namespace's
# own (JVM types start at the line's start; C# ones one indentation level into a namespace block).
_TYPE_DECL = {
    "jvm": re.compile(r"^" + _MODIFIERS + r"(?:class|interface|@interface|enum|record|object|trait)[ \t]+([A-Za-z_]\w*)",
                      re.M),
    "csharp": re.compile(r"^(?:[ ]{0,4}|\t?)" + _MODIFIERS + r"(?:class|interface|enum|record|struct)[ \t]+([A-Za-z_]\w*)",
                         re.M),
}


def _type_table(index: RepoIndex, family: str, ns: str) -> dict[str, list[str]]:
    """{type name: files of namespace `ns` declaring it} (a file's stem counts as a type it declares,
    for files whose declarations the pattern misses). Built once per namespace."""
    cache = index.stem_tables.setdefault(family, {})
    table = cache.get(ns)
    if table is None:
        table = cache[ns] = defaultdict(list)
        for peer in index.symbols[family].get(ns, []):
            names = set(_TYPE_DECL[family].findall(index.code(peer, ""))) if family in _TYPE_DECL else set()
            names.add(posixpath.splitext(posixpath.basename(peer))[0])
            for name in names:
                table[name].append(peer)
    return table


def _used_types(index: RepoIndex, family: str, ns: str, importer: str) -> list[str]:
    table = _type_table(index, family, ns)
    if not table:
        return []
    words = index.identifiers(importer, index.code(importer, ""))
    out: list[str] = []
    for word in words if len(words) < len(table) else table:
        if word in table and word in words:
            out += [p for p in table[word] if p != importer]
    return list(dict.fromkeys(out)) if len(out) <= MAX_FANOUT else []


def _same_namespace_uses(family: str, extensions: tuple[str, ...]):
    """Files of one package/namespace use each other without imports: a file depends on those
    declaring a type it names. Per namespace a {type: files} table is built once; a file's
    identifiers are then looked up in it, so the cost is linear in the file's size."""
    def implicit(index: RepoIndex, f: SourceFile) -> list[str]:
        fam = FAMILY_BY_LANGUAGE.get(f.language)
        names = fam.declared(index.code(f.path, f.text)) if fam else []
        out: list[str] = []
        for ns in names:
            out += [p for p in _used_types(index, family, ns, f.path) if p.endswith(extensions)]
        return out
    return implicit


def _go_expand(match: str) -> list[str]:
    return re.findall(r'"([^"]+)"', match)


def go_modules(context: dict[str, str]) -> dict[str, str]:
    """{module path: the folder of its go.mod} from the repository's go.mod files."""
    out = {}
    for path, text in context.items():
        if posixpath.basename(path) == "go.mod":
            m = re.search(r"(?m)^module[ \t]+\"?([^\s\"]+)", text)
            if m:
                out[m.group(1)] = posixpath.dirname(path)
    return out


def _go_resolve(index: RepoIndex, importer: str, ref: str) -> list[str]:
    """An import path inside a module declared by a go.mod of the repository -> the package's files.
    Without go.mod: the longest repository folder the import path ends with."""
    modules = go_modules(index.context)
    if modules:
        for module, root in sorted(modules.items(), key=lambda kv: -len(kv[0])):
            if ref == module or ref.startswith(module + "/"):
                folder = posixpath.normpath(posixpath.join(root, ref[len(module):].lstrip("/")))
                folder = "" if folder == "." else folder
                return [p for p in index.by_dir.get(folder, [])
                        if p.endswith(".go") and not p.endswith("_test.go") and p != importer]
        return []  # another module: outside the repository
    parts = ref.split("/")
    for i in range(len(parts)):
        rel = "/".join(parts[i:])
        if rel in index.dirs:
            return [p for p in index.by_dir[rel] if p.endswith(".go") and not p.endswith("_test.go") and p != importer]
    return []


def _rust_refs(text: str) -> list[tuple[str, bool]]:
    """`mod x;` declares a child module: the parent re-exports it (it is the child's dependent, as
    an `__init__.py` is); `pub use` re-exports too; a plain `use` is a dependency."""
    refs = [(f"mod:{m.group(1)}", True) for m in _RUST_MOD.finditer(text)]
    for m in _RUST_USE.finditer(text):
        public = m.group(0).lstrip().startswith("pub")
        for path in _rust_use_paths(m.group(1)):
            refs.append((f"use:{path}", public))
    return refs


def _rust_use_paths(tree: str) -> list[str]:
    """Flatten `crate::a::{b, c::d}` into crate::a::b and crate::a::c::d (one level of braces)."""
    tree = re.sub(r"\s+", "", tree)
    if "{" not in tree:
        return [tree]
    head, _, body = tree.partition("{")
    body = body.rsplit("}", 1)[0]
    depth, part, parts = 0, "", []
    for ch in body:
        if ch == "," and depth == 0:
            parts.append(part)
            part = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        part += ch
    parts.append(part)
    return [head + p.split("{")[0].rstrip(":") for p in parts if p]


_RUST_MOD = _m(r"^[ \t]*(?:pub(?:\([^)]*\))?[ \t]+)?mod[ \t]+(\w+)[ \t]*;")
_RUST_USE = _m(r"^[ \t]*(?:pub(?:\([^)]*\))?[ \t]+)?use[ \t]+((?:crate|super|self)::[^;]+);")


def _rust_module_dir(path: str) -> str:
    """The directory a file's child modules live in: src/ for lib.rs, src/a/ for src/a.rs."""
    d, base = posixpath.split(path)
    if base in ("mod.rs", "lib.rs", "main.rs"):
        return d
    return posixpath.join(d, base[:-3])


def _rust_crate_root(index: RepoIndex, path: str) -> str:
    d = posixpath.dirname(path)
    while True:
        for root in ("lib.rs", "main.rs"):
            if posixpath.join(d, root) in index.files:
                return d
        if not d:
            return posixpath.dirname(path)
        d = posixpath.dirname(d)


def _rust_resolve(index: RepoIndex, importer: str, ref: str) -> list[str]:
    kind, _, body = ref.partition(":")
    if kind == "mod":
        base = _rust_module_dir(importer)
        return index.exact(f"{base}/{body}.rs") or index.exact(f"{base}/{body}/mod.rs")
    parts = body.split("::")
    head, rest = parts[0], parts[1:]
    if head == "crate":
        base = _rust_crate_root(index, importer)
    elif head == "self":
        base = _rust_module_dir(importer)
    else:  # super
        base = posixpath.dirname(_rust_module_dir(importer))
        while rest and rest[0] == "super":
            base, rest = posixpath.dirname(base), rest[1:]
    # The longest prefix of the path that is a module file: `crate::a::b::Item` -> a/b.rs or a.rs.
    for n in range(len(rest), 0, -1):
        rel = posixpath.join(base, *rest[:n])
        hit = index.exact(rel + ".rs") or index.exact(rel + "/mod.rs")
        if hit:
            return hit
    return []


def _php_resolve(index: RepoIndex, importer: str, ref: str) -> list[str]:
    if "\\" not in ref and ref.endswith((".php", ".inc", ".phtml")):
        return index.relative_or_suffix(importer, ref.lstrip("/"))
    # PSR-4: Vendor\Package\Sub\Class lives at <some root>/Sub/Class.php; try shorter suffixes.
    parts = [p for p in ref.strip("\\").split("\\") if p]
    for i in range(len(parts)):
        rel = "/".join(parts[i:]) + ".php"
        if i == len(parts) - 1 and len(parts) > 1 and len(index.by_suffix.get(rel, [])) != 1:
            return []  # a bare class name matches only when it is unique in the repository
        hit = index.suffix(rel, importer)
        if hit:
            return hit
    return []


def _js_resolve(index: RepoIndex, importer: str, ref: str) -> list[str]:
    """Relative specifiers only (bare names are packages); `@/x` and `~/x` are the usual aliases of src/x."""
    if ref.startswith(("@/", "~/")):
        return _paths(_JS_EXTS)(index, importer, "src/" + ref[2:])
    if ref.startswith((".", "/")):
        return _paths(_JS_EXTS)(index, importer, ref)
    return []


def _css_resolve(index: RepoIndex, importer: str, ref: str) -> list[str]:
    """`@import "colors"` may name `_colors.scss` (a Sass partial)."""
    partial = posixpath.join(posixpath.dirname(ref), "_" + posixpath.basename(ref))
    return _paths(_CSS_EXTS)(index, importer, ref) or _paths(_CSS_EXTS)(index, importer, partial)


def _ruby_resolve(index: RepoIndex, importer: str, ref: str) -> list[str]:
    """`require "x/y"` searches the load path, which is lib/ in a gem."""
    return _paths((".rb", ".cr", ""))(index, importer, ref) or _paths((".rb", ""))(index, importer, "lib/" + ref)


def _perl_resolve(index: RepoIndex, importer: str, ref: str) -> list[str]:
    """`use A::B` is lib/A/B.pm; `require "x.pl"` is a path."""
    if "::" in ref or (ref[:1].isupper() and "." not in ref):
        return _modules("::", (".pm", ".pm6", ".rakumod", ".pl"))(index, importer, ref)
    return _paths(("",))(index, importer, ref)


def _shell_resolve(index: RepoIndex, importer: str, ref: str) -> list[str]:
    if "$" in ref:  # a path built from variables cannot be resolved statically
        return []
    return _paths(("",))(index, importer, ref.replace("\\", "/"))


_INCLUDE_EXTS = ("", ".tex", ".R", ".r", ".jl", ".rkt", ".scm", ".el", ".lisp", ".cmake", "/CMakeLists.txt",
                 "/meson.build", "/default.nix", ".nix", ".hrl", ".inc")


def _include_path_resolve(index: RepoIndex, importer: str, ref: str) -> list[str]:
    """A file named by path (with the usual extension left out), or a Terraform module folder."""
    if "$" in ref or "::" in ref:
        return []
    hit = _paths(_INCLUDE_EXTS)(index, importer, ref)
    if hit or not ref.startswith("."):
        return hit
    folder = posixpath.normpath(posixpath.join(posixpath.dirname(importer), ref))
    return [p for p in index.by_dir.get(folder, []) if p.endswith(".tf")]


def _lowercase_namespace_resolve(family: str):
    """Case-insensitive languages (Fortran, VHDL): declared names are stored lower-cased."""
    resolve = _namespace_resolve(family)
    return lambda index, importer, ref: resolve(index, importer, ref.lower())


def _fortran_resolve(index: RepoIndex, importer: str, ref: str) -> list[str]:
    """`use geometry` names a module declared in some file; `include 'x.inc'` a path."""
    return _lowercase_namespace_resolve("fortran")(index, importer, ref) or _paths(("",))(index, importer, ref)


def _ocaml_resolve(index: RepoIndex, importer: str, ref: str) -> list[str]:
    """Module `Parser` is the file parser.ml (first letter lower-cased)."""
    return _modules("", (".ml", ".re", ".sml", ".mli"))(index, importer, ref[:1].lower() + ref[1:])


def _clojure_expand(match: str) -> list[str]:
    return [m.replace("-", "_") for m in re.findall(r"\[?\s*([a-z][\w.\-]*)", match)]


def _lean_expand(match: str) -> list[str]:
    return match.split()


def _nim_expand(match: str) -> list[str]:
    return [p.strip().strip('"') for p in re.split(r"[,\s]+", match) if p.strip()]


# --- the families --------------------------------------------------------------------------------

_JVM_EXTS = (".java", ".kt", ".kts", ".scala", ".groovy", ".gradle", ".xtend", ".ceylon", ".gs", ".aj", ".mirah", ".fan")
_CS_EXTS = (".cs",)
_JS_EXTS = ("", ".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts", ".vue", ".svelte", ".json", ".coffee",
            "/index.ts", "/index.tsx", "/index.js", "/index.jsx", "/index.mjs", "/index.vue")
_CSS_EXTS = ("", ".scss", ".sass", ".less", ".styl", ".css")

FAMILIES: tuple[Family, ...] = (
    Family("python", frozenset({"Python", "Cython", "Sage"}), (), _python_resolve),  # see _python_refs
    Family("c", frozenset({"C", "C++", "Objective-C", "Objective-C++", "CUDA", "OpenCL", "Metal", "HLSL", "GLSL",
                           "RenderScript", "XC", "Arduino", "eC", "Lex", "DeviceTree",
                           "Linker Script", "ISPC", "Unified Parallel C", "SWIG", "XS", "AMD GPU",
                           "Assembly", "GAS", "NASM"}),
           (_m(r'^[ \t]*[#%][ \t]*(?:include|import|include_next)[ \t]*[<"]([^">\n]+)[">]'),
            _m(r'^[ \t]*(?:%include|\.include|include)[ \t]+"([^"\n]+)"')),
           _paths(("",)), line_keywords=("include", "import")),
    Family("jvm", frozenset({"Java", "Kotlin", "Scala", "Groovy", "Gradle", "Xtend", "Ceylon", "Gosu", "AspectJ",
                             "Mirah", "Fantom", "Groovy Server Pages", "Java Server Pages", "Processing", "Boo",
                             "X10"}),
           (_m(r"^[ \t]*import[ \t]+(?:static[ \t]+)?(\w+(?:\.\w+)*(?:\.\*|\._|\.\{[^}\n]*\})?)"),),
           _jvm_resolve, declarations=(_m(r"^[ \t]*package[ \t]+([\w.]+)"),), expand=_jvm_expand,
           implicit=_same_namespace_uses("jvm", _JVM_EXTS)),
    Family("csharp", frozenset({"C#"}),
           (_m(r"^[ \t]*(?:global[ \t]+)?using[ \t]+(?:static[ \t]+)?(?:\w+[ \t]*=[ \t]*)?([\w.]+)[ \t]*;"),),
           _namespace_types_resolve("csharp"), declarations=(_m(r"^[ \t]*namespace[ \t]+([\w.]+)"),),
           implicit=_same_namespace_uses("csharp", _CS_EXTS)),
    Family("fsharp", frozenset({"F#"}), (_m(r"^[ \t]*open[ \t]+([\w.]+)"),), _namespace_resolve("fsharp"),
           declarations=(_m(r"^[ \t]*(?:namespace|module)[ \t]+(?:rec[ \t]+)?([\w.]+)"),)),
    Family("js", frozenset({"JavaScript", "TypeScript", "JSX", "Vue", "CoffeeScript", "Literate CoffeeScript",
                            "EmberScript", "Svelte", "Astro", "Haxe"}),
           (_m(r"""\bimport[ \t]+(?:type[ \t]+)?(?:[\w*{}\s,$]+?[ \t]+from[ \t]+)?['"]([^'"\n]+)['"]"""),
            _m(r"""\bexport[ \t]+[\w*{}\s,$]+?[ \t]+from[ \t]+['"]([^'"\n]+)['"]"""),
            _m(r"""\brequire[ \t]*\(?[ \t]*['"]([^'"\n]+)['"]"""),
            _m(r"""\bimport[ \t]*\([ \t]*['"]([^'"\n]+)['"][ \t]*\)"""),
            _m(r"""<script[^>]*\bsrc=['"]([^'"]+)['"]""")),
           _js_resolve, reexports=(1,)),
    Family("css", frozenset({"CSS", "SCSS", "Sass", "Less", "Stylus"}),
           (_m(r"""@(?:import|use|forward|require)[ \t]+(?:url\()?['"]?([^'"\s;)]+)"""),),
           _css_resolve),
    Family("html", frozenset({"HTML", "HTML Django", "HTML ERB", "HTML PHP", "RHTML", "Handlebars", "Twig",
                              "Liquid", "Smarty", "Jade", "Pug", "Mako", "Genshi", "Velocity", "FreeMarker", "Slim"}),
           (_m(r"""<script[^>]*\bsrc=['"]([^'"]+)['"]"""), _m(r"""<link[^>]*\bhref=['"]([^'"]+\.css)['"]"""),
            _m(r"""\{%-?[ \t]*(?:include|extends|import|from)[ \t]+['"]([^'"]+)['"]"""),
            _m(r"""^[ \t]*(?:include|extends)[ \t]+([\w./-]+)""")),
           _paths(("", ".html", ".pug", ".jade"))),
    Family("go", frozenset({"Go"}), (_m(r'^[ \t]*import[ \t]+(?:\w+[ \t]+)?("[^"\n]+")'),
                                     _m(r"^[ \t]*import[ \t]*\(([^)]*)\)")), _go_resolve, expand=_go_expand),
    Family("rust", frozenset({"Rust"}), (), _rust_resolve),
    Family("php", frozenset({"PHP", "Zephir", "Hack"}),
           (_m(r"""\b(?:require|include)(?:_once)?[ \t]*\(?[ \t]*(?:__DIR__[ \t]*\.[ \t]*)?['"]([^'"\n]+)['"]"""),
            _m(r"^[ \t]*use[ \t]+(?:function[ \t]+|const[ \t]+)?\\?([\w\\]+)")),
           _php_resolve),
    Family("ruby", frozenset({"Ruby", "Crystal", "Ragel in Ruby Host"}),
           (_m(r"""\brequire_relative[ \t]*\(?[ \t]*['"]([^'"\n]+)['"]"""),
            _m(r"""\b(?:require|load)[ \t]*\(?[ \t]*['"]([^'"\n]+)['"]""")),
           _ruby_resolve),
    Family("haskell", frozenset({"Haskell", "C2HS Haskell", "PureScript", "Elm", "Idris", "Agda", "Literate Agda",
                                 "Koka", "Futhark", "Grammatical Framework"}),
           (_m(r"^[ \t]*(?:open[ \t]+)?import[ \t]+(?:qualified[ \t]+)?([A-Z][\w.']*)"),),
           _modules(".", (".hs", ".lhs", ".hsc", ".chs", ".purs", ".elm", ".idr", ".lidr", ".agda", ".lagda",
                          ".kk", ".fut", ".gf"))),
    Family("lean", frozenset({"Lean", "Isabelle"}), (_m(r"^import[ \t]+([\w. \t]+)$"),),
           _modules(".", (".lean", ".thy")), expand=_lean_expand),
    Family("lua", frozenset({"Lua", "MoonScript", "Fennel"}),
           (_m(r"""\brequire[ \t]*\(?[ \t]*['"]([\w./-]+)['"]"""),),
           _modules(".", (".lua", ".moon", ".fnl"), ("init.lua",))),
    Family("perl", frozenset({"Perl", "Perl 6"}),
           (_m(r"^[ \t]*(?:use|require)[ \t]+([A-Z][\w:]*)"), _m(r"""\b(?:require|do)[ \t]+['"]([^'"\n]+)['"]""")),
           _perl_resolve),
    Family("shell", frozenset({"Shell", "Tcsh", "Fish", "PowerShell", "Execline", "Makefile", "Tcl", "Batchfile"}),
           (_m(r"""^[ \t]*(?:source|\.)[ \t]+['"]?([\w./${}-]+\.(?:sh|bash|zsh|fish|ps1|psm1|tcl|mk|inc))"""),
            _m(r"""^[ \t]*-?include[ \t]+([\w./-]+)"""), _m(r"""Import-Module[ \t]+['"]?(\.[\w./\\-]+)""")),
           _shell_resolve),
    Family("include-path", frozenset({"R", "Julia", "Dart", "Zig", "Erlang", "Protocol Buffer", "Thrift", "Solidity",
                                      "Verilog", "SystemVerilog", "Nix", "TeX", "Racket", "Scheme",
                                      "Common Lisp", "Emacs Lisp", "Smali", "SourcePawn",
                                      "PAWN", "AutoHotkey", "AutoIt", "NSIS", "Inno Setup", "Squirrel", "GAP", "Stan",
                                      "OpenSCAD", "POV-Ray", "LilyPond", "Gnuplot", "Asymptote", "Csound", "M4",
                                      "Graphviz DOT", "Modelica", "Chapel", "Pony", "Odin", "V", "Nu", "Q",
                                      "ANTLR", "JFlex", "Bluespec", "SQF", "Ren'Py", "GDScript", "HCL", "Meson",
                                      "CMake", "Ninja", "BitBake", "Gentoo Ebuild", "Gentoo Eclass", "Apache Configuration",
                                      "Nginx Configuration File", "Puppet", "Smithy", "GraphQL", "YANG", "Cypher",
                                      "Jsonnet", "Starlark", "Dockerfile", "Docker", "XSLT", "XML", "XQuery", "Vala",
                                      "Whiley", "Red", "Pike", "Pascal", "Ada", "Modula-2", "Eiffel",
                                      "Hy", "LFE", "D", "Io", "Factor", "Swift"}),
           (_m(r"""\b(?:source|sys\.source|include|includeFile|load|require)[ \t]*\([ \t]*['"]([^'"\n]+)['"]"""),
            _m(r"""^[ \t]*(?:import|export|part|part[ \t]+of)[ \t]+['"]((?:\.{0,2}/)?[\w./-]+\.(?:dart|proto|sol|thrift))['"]"""),
            _m(r"""@import\([ \t]*"([^"\n]+\.zig)"[ \t]*\)"""),
            _m(r"""^-include(?:_lib)?\([ \t]*"([^"\n]+)"[ \t]*\)"""),
            _m(r"""^[ \t]*include[ \t]+"([^"\n]+)\""""),
            _m(r"""^[ \t]*`include[ \t]+"([^"\n]+)\""""),
            _m(r"""\bimport[ \t]+(\.{1,2}/[\w./-]+)"""),
            _m(r"""\bcallPackage[ \t]+(\.{1,2}/[\w./-]+)"""),
            _m(r"""\\(?:input|include|subfile|InputIfFileExists)\{([^}\n]+)\}"""),
            _m(r"""\(require[ \t]+"([^"\n]+)"\)"""),
            _m(r"""\b(?:source|module)[ \t]*=[ \t]*"(\.{1,2}/[^"\n]+)\""""),
            _m(r"""^[ \t]*(?:include|add_subdirectory|subdir)[ \t]*\([ \t]*['"]?([\w./${}-]+)"""),
            _m(r"""<xsl:(?:include|import)[^>]*href=['"]([^'"]+)['"]"""),
            _m(r"""^[ \t]*(?:require|inherit|include)[ \t]+([\w./-]+\.(?:inc|bbclass|pp))"""),
            _m(r"""^[ \t]*#include[ \t]+<?"?([\w./-]+)"?>?""")),
           _include_path_resolve),
    Family("clojure", frozenset({"Clojure"}), (_m(r"\(:(?:require|use|import)\s+([^()]*(?:\([^()]*\)[^()]*)*)\)"),),
           _modules(".", (".clj", ".cljs", ".cljc")), expand=_clojure_expand),
    Family("fortran", frozenset({"Fortran", "Fortran Fixed Form"}),
           (re.compile(r"^[ \t]*use[ \t]*(?:,[ \t]*\w+[ \t]*::)?[ \t]*(\w+)", re.M | re.I),
            re.compile(r"""^[ \t]*include[ \t]+['"]([^'"\n]+)['"]""", re.M | re.I)),
           _fortran_resolve,
           declarations=(re.compile(r"^[ \t]*module[ \t]+(?!procedure\b)(\w+)", re.M | re.I),)),
    Family("vhdl", frozenset({"VHDL"}), (re.compile(r"^[ \t]*use[ \t]+work\.(\w+)", re.M | re.I),),
           _lowercase_namespace_resolve("vhdl"),
           declarations=(re.compile(r"^[ \t]*(?:package|entity)[ \t]+(\w+)[ \t]+is", re.M | re.I),)),
    Family("nim", frozenset({"Nimrod"}), (_m(r"^[ \t]*(?:import|include|from)[ \t]+([\w/., \t\"]+?)(?:[ \t]+import\b.*)?$"),),
           _modules("", (".nim",)), expand=_nim_expand),
    Family("elixir", frozenset({"Elixir"}), (_m(r"^[ \t]*(?:alias|import|use|require)[ \t]+([A-Z][\w.]*)"),),
           _namespace_resolve("elixir"), declarations=(_m(r"^[ \t]*defmodule[ \t]+([A-Z][\w.]*)"),)),
    Family("ocaml", frozenset({"OCaml", "ReasonML", "Standard ML"}), (_m(r"^[ \t]*(?:open|include)[ \t]+!?[ \t]*([A-Z]\w*)"),),
           _ocaml_resolve),
)

FAMILY_BY_LANGUAGE: dict[str, Family] = {}
for _family in FAMILIES:
    for _language in sorted(_family.languages):
        FAMILY_BY_LANGUAGE.setdefault(_language, _family)

_SPECIAL_REFS = {"python": _python_refs, "rust": _rust_refs}


def family_of(language: str) -> Family | None:
    return FAMILY_BY_LANGUAGE.get(language)


def references(f: SourceFile) -> list[str]:
    """The raw references a file makes (module names, include paths), before resolution."""
    return [ref for ref, _ in references_with_kind(f)]


def references_with_kind(f: SourceFile, masked: str | None = None) -> list[tuple[str, bool]]:
    """(reference, is a re-export) pairs; comments and strings are not looked in (lexical.py).
    `masked`: the file's text masked for its family, when the caller has it."""
    family = FAMILY_BY_LANGUAGE.get(f.language)
    if family is None:
        return []
    if masked is None and family.name == "python":
        return list(dict.fromkeys(_python_import_refs(python_imports_of_code(f.text))))
    special = _SPECIAL_REFS.get(family.name)
    if special is not None:
        return list(dict.fromkeys(special(code_only(f.text, family.name) if masked is None else masked)))
    return family.references_with_kind(f.text, masked)


def _file_references(index: RepoIndex, f: SourceFile, family: Family) -> list[tuple[str, bool]]:
    """references_with_kind of a file of the repository, masking it only where that is needed."""
    if family.name == "python":
        return list(dict.fromkeys(_python_import_refs(index.python_imports(f.path))))
    special = _SPECIAL_REFS.get(family.name)
    if special is not None:
        return list(dict.fromkeys(special(index.code(f.path))))
    return family.references_with_kind(f.text)


# Files kept out of documents (their languages are outside the list) that resolution reads.
CONTEXT_FILES = frozenset({"go.mod"})


def dependency_graph(files: list[SourceFile], context: dict[str, str] | None = None) -> dict[str, set[str]]:
    """{path: the repository files it depends on}, every file a key; self-references are dropped.
    `context`: {path: text} of files such as go.mod that say how names map to folders.

    A file that re-exports another (an `__init__.py` importing its submodules, `export * from
    './a'`, Rust's `mod a;`) is that file's dependent: when the re-exported file also imports the
    re-exporting one (`from pkg import x` in a submodule of pkg), that edge goes, and the package
    file comes after its members instead of closing a false cycle with each of them."""
    index = RepoIndex(files, context)
    for f in files:
        family = FAMILY_BY_LANGUAGE.get(f.language)
        if family is None or not family.declarations:
            continue
        for name in family.declared(index.code(f.path)):
            key = name.lower() if family.name in ("fortran", "vhdl") else name
            index.symbols[family.name][key].append(f.path)
            if family.name == "jvm":
                stem = posixpath.splitext(posixpath.basename(f.path))[0]
                index.symbols["jvm-class"][f"{name}.{stem}"].append(f.path)
    graph: dict[str, set[str]] = {f.path: set() for f in files}
    reexported: dict[str, set[str]] = defaultdict(set)
    for f in files:
        family = FAMILY_BY_LANGUAGE.get(f.language)
        if family is None:
            continue
        deps = graph[f.path]
        package_file = family.name == "python" and posixpath.basename(f.path) == "__init__.py"
        for ref, reexport in _file_references(index, f, family):
            targets = family.resolve(index, f.path, ref)
            deps.update(targets)
            if reexport or package_file:
                package = posixpath.dirname(f.path)
                reexported[f.path].update(t for t in targets if not package or t.startswith(package + "/"))
        if family.implicit is not None:
            deps.update(family.implicit(index, f))
        deps.discard(f.path)
    for exporter, members in reexported.items():
        for member in members:
            if exporter in graph[member] and exporter not in reexported.get(member, ()):
                graph[member].discard(exporter)
    return graph


def parsed_languages() -> frozenset[str]:
    """Every language whose dependencies this module extracts."""
    return frozenset(FAMILY_BY_LANGUAGE)
