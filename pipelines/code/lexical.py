"""Comments and string literals masked out of source text, so imports are only found in code.

`mask(text, syntax)` returns a text of exactly the same length in which every comment is blanked
(newlines kept, so line anchors still work) and every string literal's contents are replaced by
FILL while its quotes stay. A dependency pattern then matches against the masked text: an import
written inside a docstring, a comment or a string constant no longer matches, and a pattern that
captures a quoted path (`#include "a.h"`, `import x from './a'`) reads the path back from the
original text at the same offsets.

A small scanner, not a parser: it knows each family's comment markers, quote characters, raw and
multi-line strings. Where it guesses wrong (a JavaScript regex literal holding a quote, say),
single-line strings end at the newline, so the damage stays on that line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FILL = "\x01"  # stands for a masked string character: matches `[^'"\n]`, never a keyword


@dataclass(frozen=True)
class Syntax:
    line_comments: tuple[str, ...] = ()
    block_comments: tuple[tuple[str, str], ...] = ()
    nested_blocks: bool = False  # Rust, Haskell, OCaml, Lean block comments nest
    quotes: tuple[str, ...] = ('"',)  # single-line string quotes (a backslash escapes)
    multiline: tuple[str, ...] = ()  # delimiters of strings that may span lines (""" ''' `)
    char_quote: str | None = None  # ' starts a character literal only when it closes within a few chars
    line_start_blocks: tuple[tuple[str, str], ...] = ()  # comments opened at a line's start (=begin ... =end)
    raw_prefix: re.Pattern | None = None  # raw strings: group 1 the opening, the closing built from it


def _raw_close(kind: str, opening: str) -> str:
    if kind == "rust":  # r#"..."#
        return '"' + "#" * opening.count("#")
    if kind == "cpp":  # R"delim(...)delim"
        return ")" + opening[2:-1] + '"'
    return opening


_CHAR = re.compile(r"'(?:\\(?:x[0-9a-fA-F]{1,2}|u\{?[0-9a-fA-F]{1,6}\}?|.)|[^'\\\n])'")


def _replace_all_but_newlines(segment: str, char: str) -> str:
    # What `re.sub(r"[^\n]", char, segment)` gives, built from string repeats: the regex makes one
    # replacement per character, and comments and strings are most of a file's characters.
    if "\n" not in segment:
        return char * len(segment)
    return "\n".join([char * len(part) for part in segment.split("\n")])


def _blank(segment: str) -> str:
    return _replace_all_but_newlines(segment, " ")


def _fill(segment: str) -> str:
    return _replace_all_but_newlines(segment, FILL)


class _Scanner:
    """One Syntax compiled: a regex finds the next place anything may start, so plain code is
    skipped at C speed and Python runs once per comment or string, not once per character."""

    def __init__(self, syntax: Syntax, raw_kind: str):
        self.syntax = syntax
        self.raw_kind = raw_kind
        starts = [re.escape(s) for s, _ in syntax.block_comments]
        starts += [re.escape(m) for m in syntax.line_comments]
        starts += [re.escape(d) for d in syntax.multiline]
        starts += [re.escape(q) for q in syntax.quotes]
        if syntax.char_quote:
            starts.append(re.escape(syntax.char_quote))
        if syntax.raw_prefix is not None:
            starts.insert(0, syntax.raw_prefix.pattern)
        if syntax.line_start_blocks:
            starts.insert(0, r"(?m:^(?:" + "|".join(re.escape(a) for a, _ in syntax.line_start_blocks) + "))")
        # A string that runs to the end of the text may end in a lone backslash (`\\?$`).
        self.strings = {q: re.compile(re.escape(q) + r"(?:[^" + re.escape(q) + r"\\\n]|\\.)*(?:" + re.escape(q)
                                      + r"|(?=\n)|\\?$)", re.DOTALL) for q in syntax.quotes}
        # Longest first, so `/*` wins over `/` and `"""` over `"`.
        self.starts = re.compile("|".join(sorted(starts, key=len, reverse=True))) if starts else None
        # The longest a start can be, where each is a fixed string: a span's search for the next
        # start need not read further than that past the span's end (nor the rest of the text).
        self.longest_start = None if syntax.raw_prefix is not None else max(
            map(len, (*[s for s, _ in syntax.block_comments], *syntax.line_comments, *syntax.multiline,
                      *syntax.quotes, *([syntax.char_quote] if syntax.char_quote else []),
                      *[a for a, _ in syntax.line_start_blocks])), default=0)
        # Line comments and single-line strings, most of what a file holds, are ended here in the
        # loop ({token: kind}), so Python runs `_end` only for the other constructs; a token `_end`
        # would take for something else (a block comment's opening, a raw prefix) is not among them.
        earlier = {a for a, _ in syntax.block_comments} | {a for a, _ in syntax.line_start_blocks}
        self.kinds: dict[str, str] = {}
        for token in (*syntax.line_comments, *syntax.quotes):
            if token in earlier or (syntax.raw_prefix is not None and syntax.raw_prefix.fullmatch(token)):
                continue
            if token in syntax.line_comments:
                self.kinds[token] = "comment"
            elif token not in syntax.multiline and len(token) == 1:
                self.kinds[token] = "string"

    def mask(self, text: str) -> str:
        return self.mask_span(text, 0, len(text))[0]

    def mask_span(self, text: str, begin: int, until: int) -> tuple[str, int]:
        """(the mask of text[begin:end], end): the scan begun at `begin`, which must be a place
        where the whole text's scan is in code, run until it is in code again at some end >= until
        (or at the text's end). Consecutive spans joined are the whole mask from `begin`."""
        if self.starts is None:
            return text[begin:], len(text)
        out: list[str] = []
        i = last = begin
        n = len(text)
        until = min(until, n)
        bound = n if self.longest_start is None else min(n, until + self.longest_start)
        search, kinds, strings = self.starts.search, self.kinds, self.strings
        while i < until:
            m = search(text, i, bound)
            if m is None or m.start() >= until:  # code up to `until` at least
                out.append(text[last:until])
                return "".join(out), until
            start, token = m.start(), m.group(0)
            fast = kinds.get(token)
            if fast == "comment":
                stop = text.find("\n", start)
                stop = n if stop < 0 else stop
                out += (text[last:start], " " * (stop - start))
                i = last = stop
                continue
            if fast == "string":
                stop = strings[token].match(text, start).end()
                inner_to = stop - 1 if stop > start + 1 and text[stop - 1] == token else stop
                inner = (FILL * (inner_to - start - 1) if text.find("\n", start + 1, inner_to) < 0
                         else _fill(text[start + 1:inner_to]))
                out += (text[last:start + 1], inner, text[inner_to:stop])
                i = last = stop
                continue
            end = self._end(text, start, token)
            if end is None:  # not a construct after all (a lone quote that is a lifetime, say)
                i = start + 1
                continue
            kind, stop, inner_from, inner_to = end
            out.append(text[last:start])
            if kind == "comment":
                out.append(_blank(text[start:stop]))
            else:
                out.append(text[start:inner_from] + _fill(text[inner_from:inner_to]) + text[inner_to:stop])
            i = last = stop
        out.append(text[last:i])
        return "".join(out), i

    def _end(self, text: str, start: int, token: str):
        syntax = self.syntax
        n = len(text)
        for open_, close in syntax.line_start_blocks:
            if token == open_ and (start == 0 or text[start - 1] == "\n"):
                stop = text.find("\n" + close, start)
                stop = n if stop < 0 else text.find("\n", stop + 1 + len(close))
                return "comment", n if stop < 0 else stop, 0, 0
        if syntax.raw_prefix is not None and syntax.raw_prefix.fullmatch(token):
            if start and (text[start - 1].isalnum() or text[start - 1] == "_"):
                return None
            close = _raw_close(self.raw_kind, token)
            stop = text.find(close, start + len(token))
            stop = n if stop < 0 else stop
            return "string", min(n, stop + len(close)), start + len(token), stop
        for open_, close in syntax.block_comments:
            if token == open_:
                return "comment", _block_end(text, start + len(open_), open_, close, syntax.nested_blocks), 0, 0
        if token in syntax.line_comments:
            stop = text.find("\n", start)
            return "comment", n if stop < 0 else stop, 0, 0
        if token in syntax.multiline:
            j = start + len(token)
            while True:
                k = text.find(token, j)
                if k < 0:
                    return "string", n, start + len(token), n
                backslashes = len(text[j:k]) - len(text[j:k].rstrip("\\"))
                if backslashes % 2 == 0:
                    return "string", k + len(token), start + len(token), k
                j = k + 1
        if token in syntax.quotes:
            m = self.strings[token].match(text, start)
            stop = m.end()
            closed = stop > start + 1 and text[stop - 1] == token and stop - 1 > start
            return "string", stop, start + 1, stop - 1 if closed else stop
        if token == syntax.char_quote:
            m = _CHAR.match(text, start)
            if m is None:
                return None
            return "string", m.end(), start + 1, m.end() - 1
        return None


_SCANNERS: dict[tuple[Syntax, str], _Scanner] = {}


def scanner(syntax: Syntax, raw_kind: str = "") -> _Scanner:
    found = _SCANNERS.get((syntax, raw_kind))
    if found is None:
        found = _SCANNERS[syntax, raw_kind] = _Scanner(syntax, raw_kind)
    return found


def mask(text: str, syntax: Syntax, raw_kind: str = "") -> str:
    """`text` with comments blanked and string contents replaced by FILL, offsets unchanged."""
    return scanner(syntax, raw_kind).mask(text)


def _block_end(text: str, i: int, start: str, stop: str, nested: bool) -> int:
    if not nested:
        end = text.find(stop, i)
        return len(text) if end < 0 else end + len(stop)
    depth = 1
    n = len(text)
    while i < n:
        a = text.find(start, i)
        b = text.find(stop, i)
        if b < 0:
            return n
        if 0 <= a < b:
            depth += 1
            i = a + len(start)
            continue
        depth -= 1
        i = b + len(stop)
        if depth == 0:
            return i
    return n


C_LIKE = Syntax(("//",), (("/*", "*/"),), quotes=('"',), char_quote="'")
SYNTAX = {
    "python": Syntax(("#",), (), quotes=('"', "'"), multiline=('"""', "'''")),
    "c": Syntax(("//",), (("/*", "*/"),), quotes=('"',), char_quote="'",
                raw_prefix=re.compile(r'R"[^(\s"\\]{0,16}\(')),
    "jvm": Syntax(("//",), (("/*", "*/"),), quotes=('"',), multiline=('"""',), char_quote="'"),
    "csharp": Syntax(("//",), (("/*", "*/"),), quotes=('"',), multiline=('"""',), char_quote="'"),
    "fsharp": Syntax(("//",), (("(*", "*)"),), nested_blocks=True, quotes=('"',), multiline=('"""',)),
    "js": Syntax(("//",), (("/*", "*/"),), quotes=('"', "'"), multiline=("`",)),
    "css": Syntax(("//",), (("/*", "*/"),), quotes=('"', "'")),
    "html": Syntax((), (("<!--", "-->"),), quotes=()),
    "go": Syntax(("//",), (("/*", "*/"),), quotes=('"',), multiline=("`",), char_quote="'"),
    "rust": Syntax(("//",), (("/*", "*/"),), nested_blocks=True, quotes=('"',), char_quote="'",
                   raw_prefix=re.compile(r'b?r#*"')),
    "php": Syntax(("//", "#"), (("/*", "*/"),), quotes=('"', "'")),
    "ruby": Syntax(("#",), (), quotes=('"', "'"), line_start_blocks=(("=begin", "=end"),)),
    "haskell": Syntax(("--",), (("{-", "-}"),), nested_blocks=True, quotes=('"',), char_quote="'"),
    "lean": Syntax(("--",), (("/-", "-/"),), nested_blocks=True, quotes=('"',)),
    "lua": Syntax(("--",), (("--[[", "]]"),), quotes=('"', "'"), multiline=("[[",)),
    "perl": Syntax(("#",), (), quotes=('"', "'"), line_start_blocks=(("=pod", "=cut"), ("=head1", "=cut"))),
    "shell": Syntax(("#",), (), quotes=('"', "'")),
    "clojure": Syntax((";",), (), quotes=('"',)),
    "fortran": Syntax(("!",), (), quotes=('"', "'")),
    "vhdl": Syntax(("--",), (), quotes=('"',)),
    "nim": Syntax(("#",), (("#[", "]#"),), nested_blocks=True, quotes=('"',), multiline=('"""',)),
    "elixir": Syntax(("#",), (), quotes=('"', "'"), multiline=('"""', "'''")),
    "ocaml": Syntax((), (("(*", "*)"),), nested_blocks=True, quotes=('"',)),
}
RAW_KIND = {"rust": "rust", "c": "cpp"}


def line_skipper(syntax: Syntax, line_start: str) -> re.Pattern | None:
    """A regex whose match from a place in code runs over code, comments and strings, read exactly
    as the scanner reads them, and stops at the newline before the next line that begins in code
    with `line_start` (a regex of code characters only: no comment marker or quote), or at the end.

    One `re` pass over a whole file where the scanner takes a Python step per comment and string:
    what finds the few lines a dependency pattern can match (`import ...` in code) without masking
    the file. None for the syntaxes a regex cannot read the scanner's way (nested comments, raw
    strings, character literals, block comments, comments opened at a line's start)."""
    if (syntax.block_comments or syntax.nested_blocks or syntax.char_quote or syntax.line_start_blocks
            or syntax.raw_prefix is not None):
        return None
    tokens = sorted((*syntax.line_comments, *syntax.multiline, *syntax.quotes), key=len, reverse=True)
    constructs = []
    for token in tokens:  # the scanner's order: at one place the longest token wins
        t = re.escape(token)
        if token in syntax.line_comments:
            constructs.append(t + r"[^\n]*+")
        elif token in syntax.multiline:
            # The first closing delimiter after an even run of backslashes (the scanner counts them).
            head, rest = re.escape(token[0]), re.escape(token[1:])
            body = rf"(?:[^{head}\\]++|\\.|{head}(?!{rest}))*+" if rest else rf"(?:[^{head}\\]++|\\.)*+"
            constructs.append(rf"{t}{body}(?:{t}|\\?\Z)")
        else:  # the scanner's string pattern, possessive: its tail matches wherever the loop stops
            constructs.append(rf"{t}(?:[^{t}\\\n]++|\\.)*+(?:{t}|(?=\n)|\\?\Z)")
    firsts = "".join(sorted({re.escape(t[0]) for t in tokens}))
    code = [rf"[^{firsts}\n]++", rf"\n(?!{line_start})"] if firsts else [r"[^\n]++", rf"\n(?!{line_start})"]
    alternatives = code + constructs + ([rf"[{firsts}]"] if firsts else [])  # a lone first char is code
    return re.compile("(?:" + "|".join(alternatives) + ")*+", re.DOTALL)
