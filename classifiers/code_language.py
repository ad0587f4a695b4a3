"""Which of DeepSeek-Coder-V2's 338 languages a source file is written in, and which files to skip.

Identification works as GitHub's Linguist does (filename, extension, shebang, modelines, content
heuristics), built on kept language data rather than a table of our own:

1. our override tables in `deepcorpus/data/code_languages.json`, only for Coder-V2 names that
   Linguist merges into another language or lacks (`.jade` is "Jade", not Pug; `.isa` is "AMD GPU");
2. go-enry (`enry-python`, Linguist's Go port, offline): the full Linguist strategy;
3. Pygments' lexers (filename globs, then `analyse_text` to break ties) when enry has no answer
   at all; when enry names a language outside the list (go.mod is "Go Module", not Pygments'
   Modula-2), the file is outside the list.

Names from enry and Pygments become Coder-V2 names by case-insensitive match or the alias table
("Raku" is "Perl 6", "Graphviz (DOT)" is "Graphviz DOT"). Anything else is outside the list.
"""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass, field

DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "deepcorpus", "data")
LANGUAGES_FILE = os.path.join(DATA_DIR, "coder_v2_languages.txt")
TABLES_FILE = os.path.join(DATA_DIR, "code_languages.json")

# Only this much of a file is shown to enry's heuristics and classifier: enough to decide, and
# the cost of a huge file stays bounded.
CONTENT_PROBE_BYTES = 16 * 1024

# Lock files: generated, often huge, no code (enry knows some; this covers the common rest).
LOCK_FILES = frozenset({
    "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "npm-shrinkwrap.json", "composer.lock",
    "Gemfile.lock", "Cargo.lock", "poetry.lock", "Pipfile.lock", "go.sum", "mix.lock", "pubspec.lock",
    "Podfile.lock", "flake.lock", "packages.lock.json", "uv.lock", "bun.lockb", "gradle.lockfile",
})


# enry's answers that say "no idea" rather than naming a language: Pygments gets a say after them.
UNSPECIFIC = frozenset({"Text", "Ignore List", "Unix Assembly"})


@functools.lru_cache(maxsize=1)
def coder_v2_languages() -> tuple[str, ...]:
    """The 338 language names of DeepSeek-Coder-V2 (`supported_langs.txt`), in file order."""
    with open(LANGUAGES_FILE, encoding="utf-8") as f:
        return tuple(line.strip() for line in f if line.strip())


@dataclass(frozen=True)
class LanguageTables:
    """The override and alias tables; see `deepcorpus/data/code_languages.json`."""

    aliases: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, str] = field(default_factory=dict)
    filenames: dict[str, str] = field(default_factory=dict)
    content_probes: dict[str, list[str]] = field(default_factory=dict)
    gaps: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str = TABLES_FILE) -> LanguageTables:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        return cls(data.get("aliases", {}), data.get("extensions", {}), data.get("filenames", {}),
                   data.get("content_probes", {}), data.get("gaps", {}))


class LanguageIdentifier:
    """`identify(path, content)` -> a Coder-V2 language name, or None for anything outside the list."""

    def __init__(self, tables: LanguageTables | None = None, languages: tuple[str, ...] | None = None):
        self.tables = tables or LanguageTables.load()
        self.languages = languages or coder_v2_languages()
        self._by_lower = {name.lower(): name for name in self.languages}
        self._aliases = {k.lower(): v for k, v in self.tables.aliases.items()}
        bad = [v for v in [*self.tables.aliases.values(), *self.tables.extensions.values(),
                           *self.tables.filenames.values()] if v not in self._by_lower.values()]
        if bad:
            raise ValueError(f"{TABLES_FILE}: names not in the language list: {sorted(set(bad))}")

    def canonical(self, name: str | None) -> str | None:
        """The Coder-V2 name for an enry or Pygments language name, or None."""
        if not name:
            return None
        key = name.lower()
        if key in self._aliases:
            return self._aliases[key]
        return self._by_lower.get(key)

    def by_override(self, path: str) -> str | None:
        base = os.path.basename(path)
        if base in self.tables.filenames:
            return self.tables.filenames[base]
        lower = base.lower()
        # Every suffix starting at a dot, longest first: ".js.in" before ".in".
        start = lower.find(".", 1)
        while start > 0:
            name = self.tables.extensions.get(lower[start:])
            if name:
                return name
            start = lower.find(".", start + 1)
        return None

    def identify(self, path: str, content: bytes) -> str | None:
        found = self.by_override(path)
        if found:
            return found
        probe = content[:CONTENT_PROBE_BYTES]
        enry_name = _enry_language(path, probe)
        found = self.canonical(enry_name)
        if found == "COBOL" and _FREE_COBOL.search(probe):
            # Linguist has one COBOL; Coder-V2 (after Pygments) tells free format apart: its
            # division headers start before column 8, where fixed format keeps its indicator area.
            return "COBOLFree"
        if found:
            return found
        if enry_name and enry_name not in UNSPECIFIC:
            # enry's pick is outside the list; another of its candidates may be in it (a `.e` file
            # Euphoria or Eiffel, `.tpl` Go Template or Smarty); else the file is outside (go.mod).
            for candidate in _enry_candidates(path, probe):
                found = self.canonical(candidate)
                if found:
                    return found
            return None
        return self.canonical(_pygments_language(os.path.basename(path), probe))


_FREE_COBOL = re.compile(rb"(?mi)^ {0,6}(IDENTIFICATION|ENVIRONMENT|DATA|PROCEDURE) +DIVISION")


def _enry_language(path: str, content: bytes) -> str | None:
    import enry

    try:
        # A filename or extension with one possible language settles it without sending the
        # content across to Go (the costly part); ambiguous ones get the full strategy. A shebang
        # or an editor modeline outranks both in Linguist's order.
        only = _unique_by_name(os.path.basename(path))
        if only and not content.startswith(b"#!") and b"-*-" not in content[:256] and b"vim:" not in content[-512:]:
            return only
        return enry.get_language(path, content) or None
    except Exception:  # the C side rejects odd inputs (e.g. invalid UTF-8 paths); treat as unknown
        return None


@functools.lru_cache(maxsize=1 << 16)
def _unique_by_name(basename: str) -> str | None:
    """The one language Linguist allows for this filename or extension, or None when there are
    several (`.h`: C, C++, Objective-C) or none. Uses go-enry's GetLanguagesByFilename/Extension,
    which enry-python's Python layer does not wrap (its `Guess.safe` is always true)."""
    try:
        from enry._c_enry import ffi
        from enry.definitions import lib
        from enry.utils import go_str_slice_to_py
    except ImportError:
        return None
    name = basename.encode("utf-8", "surrogateescape")
    for fn in (lib.GetLanguagesByFilename, lib.GetLanguagesByExtension):
        found = go_str_slice_to_py(lib, fn(name, b"", 0, ffi.NULL))
        if found:
            return found[0] if len(found) == 1 else None
    return None


def _enry_candidates(path: str, content: bytes) -> list[str]:
    import enry

    try:
        return enry.get_languages(path, content)
    except Exception:
        return []


def _pygments_language(filename: str, content: bytes) -> str | None:
    from pygments.lexers import find_lexer_class_for_filename
    from pygments.util import ClassNotFound

    try:
        cls = find_lexer_class_for_filename(filename, content.decode("utf-8", "replace"))
    except ClassNotFound:
        return None
    return cls.name if cls is not None else None


def skip_reason(path: str, content: bytes, max_bytes: int = 1 << 20) -> str | None:
    """Why a file is not source to keep ("binary", "vendor", "generated", "lock", "too_large"), or None.

    Vendored and generated detection is Linguist's (`vendor.yml`, `generated.rb`) through enry.
    """
    import enry

    if len(content) > max_bytes:
        return "too_large"
    if os.path.basename(path) in LOCK_FILES:
        return "lock"
    if b"\x00" in content[:8000]:  # go-enry's IsBinary test, without the trip into Go
        return "binary"
    if enry.is_vendor(path):
        return "vendor"
    if enry.is_generated(path, content[:CONTENT_PROBE_BYTES]):
        return "generated"
    return None


def known_language(name: str) -> str | None:
    """`name` as go-enry or Pygments spells it (for --extra-language), or None if neither knows it."""
    import enry
    from pygments.lexers import get_all_lexers

    for variant in (name, name.title(), name.upper(), name.lower()):
        if enry.get_language_extensions(variant):
            return variant
    for lexer_name, aliases, _globs, _mimes in get_all_lexers():
        if name.lower() == lexer_name.lower() or name.lower() in aliases:
            return lexer_name
    return None


def probe_filenames(name: str, tables: LanguageTables | None = None) -> list[str]:
    """Filenames that should identify as Coder-V2 language `name`: for the coverage report and tests.

    Taken from the same data identification uses: our tables, enry's extensions for every
    Linguist name that maps to `name`, and Pygments' filename globs for every lexer that does.
    """
    import enry
    from pygments.lexers import get_all_lexers

    tables = tables or LanguageTables.load()
    ident = LanguageIdentifier(tables)
    out = [f"file{ext}" for ext, n in tables.extensions.items() if n == name]
    out += [fn for fn, n in tables.filenames.items() if n == name]
    sources = {name} | {a for a, n in tables.aliases.items() if n == name}
    for source in sorted(sources):
        for variant in {source, source.lower(), source.upper(), source.title()}:
            out += [f"file{ext}" for ext in enry.get_language_extensions(variant)]
    for lexer_name, _aliases, globs, _mimes in get_all_lexers():
        if ident.canonical(lexer_name) == name:
            for g in globs:
                fn = g.replace("*", "file", 1).replace("*", "")
                if "[" in fn:  # a character class such as *.[1-9]: take its first character
                    head, rest = fn.split("[", 1)
                    fn = head + rest[0] + rest.split("]", 1)[1]
                out.append(fn)
    return list(dict.fromkeys(out))


def coverage(tables: LanguageTables | None = None) -> tuple[dict[str, str], dict[str, list[str]]]:
    """({language: a filename that identifies as it}, {language: the probes tried}) for the 338 names."""
    tables = tables or LanguageTables.load()
    ident = LanguageIdentifier(tables)
    reached, missed = {}, {}
    for name in coder_v2_languages():
        probes = [(p, b"") for p in probe_filenames(name, tables)]
        if name in tables.content_probes:
            filename, text = tables.content_probes[name]
            probes.append((filename, text.encode()))
        hit = next((p for p, content in probes if ident.identify(p, content) == name), None)
        if hit:
            reached[name] = hit
        else:
            missed[name] = [p for p, _ in probes]
    return reached, missed
