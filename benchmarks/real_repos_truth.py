"""True import edges of the real repositories, from tree-sitter's parsers and each language's rules.

Maintainers' tool for `python -m benchmarks.real_repos derive` (needs `pip install tree-sitter
tree-sitter-python tree-sitter-c tree-sitter-go tree-sitter-java tree-sitter-typescript
tree-sitter-rust`); nothing here runs in the tests, which read the edges from the manifest. It
shares no code with `pipelines/code/dependencies.py`: the parsers find the imports (never in a
comment or a string), and the resolution follows the language's own rules:

- Python: `import a.b` is a/b.py (or a/b/__init__.py) under a folder that is not inside a
  package (the root, src/, tests/: what sys.path holds when the code runs);
  relative imports from the importer's package; `from X import n` is the submodule X.n if there
  is one, else the module that X's `__init__.py` imports n from, else X.
- C: `#include "x.h"` next to the importer, then in the repository root and tests/ (the -I
  paths of its build); `<x.h>` in those paths only; every branch of `#if` counts.
- Go: an import path inside the module of go.mod names the package folder: its non-test files.
- Java: a single-type import is the file of that top-level type; `pkg.*`, and the importer's own
  package, give the files whose top-level type the importer names.
- TypeScript: relative specifiers of import/export-from/require/import(), with TypeScript's
  extension rules (`./a.js` may be a.ts).
- Rust: `mod x;` is the child module file; `use` paths (crate::, self::, super::, or a child
  module's name) name the longest module prefix that has a file.
"""

from __future__ import annotations

import posixpath
import re

LICENCE_MARKERS = {
    "MIT": ("Permission is hereby granted, free of charge",),
    "BSD-3-Clause": ("Redistribution and use in source and binary forms", "Neither the name"),
    "MIT OR Apache-2.0": ("Permission is hereby granted, free of charge",),
}


def check_licence(spdx: str, text: str) -> None:
    missing = [m for m in LICENCE_MARKERS[spdx] if m not in " ".join(text.split())]
    if missing:
        raise SystemExit(f"licence text does not read as {spdx}: lacks {missing}")


def _parser(language: str):
    from tree_sitter import Language, Parser

    if language == "Python":
        import tree_sitter_python as m

        return Parser(Language(m.language()))
    if language == "C":
        import tree_sitter_c as m

        return Parser(Language(m.language()))
    if language == "Go":
        import tree_sitter_go as m

        return Parser(Language(m.language()))
    if language == "Java":
        import tree_sitter_java as m

        return Parser(Language(m.language()))
    if language == "TypeScript":
        import tree_sitter_typescript as m

        return Parser(Language(m.language_tsx()))
    if language == "Rust":
        import tree_sitter_rust as m

        return Parser(Language(m.language()))
    raise ValueError(language)


def _walk(node):
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


def _text(node) -> str:
    return node.text.decode("utf-8", "replace")


def true_edges(language: str, code: dict[str, str]) -> set[tuple[str, str]]:
    parser = _parser(language)
    trees = {p: parser.parse(t.encode("utf-8")) for p, t in code.items()
             if not p.endswith(("go.mod",))}
    edges = {"Python": _python, "C": _c, "Go": _go, "Java": _java, "TypeScript": _ts, "Rust": _rust}[language](
        code, trees)
    return {(a, b) for a, b in edges if a != b}


# --- Python ----------------------------------------------------------------------------------------


def _python(code, trees):
    files = set(trees)
    folders = {posixpath.dirname(p) for p in files} | {""}
    folders |= {posixpath.dirname(f) for f in folders}
    roots = sorted(f for f in folders if posixpath.join(f, "__init__.py").lstrip("/") not in files)

    def module_file(importer: str, level: int, dotted: str) -> str | None:
        parts = [p for p in dotted.split(".") if p]
        if level:
            base = posixpath.dirname(importer)
            for _ in range(level - 1):
                base = posixpath.dirname(base)
            bases = [base]
        else:  # sys.path: any folder that is not itself inside a package (the root, src/, tests/)
            bases = roots
        for base in bases:
            path = posixpath.join(base, *parts) if parts else base
            for cand in (path + ".py", posixpath.join(path, "__init__.py")):
                if cand.lstrip("/") in files:
                    return cand.lstrip("/")
        return None

    def imports(path):
        """(level, module, [(name, alias)]) per statement; name '' for `import X`, '*' for star."""
        out = []
        for n in _walk(trees[path].root_node):
            if n.type == "import_statement":
                for c in n.named_children:
                    name = c.child_by_field_name("name") if c.type == "aliased_import" else c
                    out.append((0, _text(name), [("", "")]))
            elif n.type == "import_from_statement":
                mod = n.child_by_field_name("module_name")
                level, dotted = 0, ""
                if mod.type == "relative_import":
                    prefix = next((c for c in mod.children if c.type == "import_prefix"), None)
                    level = len(_text(prefix)) if prefix else 0
                    rest = next((c for c in mod.children if c.type == "dotted_name"), None)
                    dotted = _text(rest) if rest else ""
                else:
                    dotted = _text(mod)
                names = []
                for c in n.children_by_field_name("name"):
                    if c.type == "aliased_import":
                        names.append((_text(c.child_by_field_name("name")), _text(c.child_by_field_name("alias"))))
                    else:
                        names.append((_text(c), ""))
                if any(c.type == "wildcard_import" for c in n.children):
                    names.append(("*", ""))
                out.append((level, dotted, names))
        return out

    exports_cache: dict[str, dict[str, str]] = {}

    def exports(init: str) -> dict[str, str]:
        if init in exports_cache:
            return exports_cache[init]
        exports_cache[init] = table = {}
        for level, dotted, names in imports(init):
            for name, alias in names:
                if not name or name == "*":
                    continue
                sub = module_file(init, level, f"{dotted}.{name}" if dotted else name)
                src = sub or module_file(init, level, dotted)
                if src and src != init:
                    if src.endswith("__init__.py") and not sub:
                        src = exports(src).get(name, src)
                    table[alias or name] = src
        return table

    edges = set()
    for path in trees:
        for level, dotted, names in imports(path):
            for name, _ in names:
                if name == "":
                    parts = dotted.split(".")
                    for k in range(len(parts), 0, -1):  # the most specific module that is a file
                        target = module_file(path, level, ".".join(parts[:k]))
                        if target:
                            edges.add((path, target))
                            break
                    continue
                if name != "*":
                    sub = module_file(path, level, f"{dotted}.{name}" if dotted else name)
                    if sub:
                        edges.add((path, sub))
                        continue
                target = module_file(path, level, dotted)
                if target is None:
                    continue
                if target.endswith("__init__.py") and name in exports(target):
                    target = exports(target)[name]
                edges.add((path, target))
    return edges


# --- C -------------------------------------------------------------------------------------------


def _c(code, trees):
    files = set(trees)
    search = ["", "tests"]
    edges = set()
    for path, tree in trees.items():
        for n in _walk(tree.root_node):
            if n.type != "preproc_include":
                continue
            arg = n.child_by_field_name("path")
            raw = _text(arg)
            quoted = arg.type == "string_literal"
            name = raw.strip('"<>')
            bases = ([posixpath.dirname(path)] if quoted else []) + search
            for base in bases:
                cand = posixpath.normpath(posixpath.join(base, name))
                if cand in files:
                    edges.add((path, cand))
                    break
    return edges


# --- Go ------------------------------------------------------------------------------------------


def _go(code, trees):
    module = re.search(r"(?m)^module\s+(\S+)", code["go.mod"]).group(1)
    package_of = {}
    for path, tree in trees.items():
        clause = next(n for n in tree.root_node.children if n.type == "package_clause")
        package_of[path] = _text(clause.named_children[0])
    edges = set()
    for path, tree in trees.items():
        for n in _walk(tree.root_node):
            if n.type != "import_spec":
                continue
            spec = _text(n.child_by_field_name("path")).strip('"`')
            if spec != module and not spec.startswith(module + "/"):
                continue
            folder = spec[len(module):].lstrip("/")
            for other in trees:
                if posixpath.dirname(other) == folder and not other.endswith("_test.go") and other != path:
                    edges.add((path, other))
    return edges


# --- Java ----------------------------------------------------------------------------------------


def _java(code, trees):
    package, top, used = {}, {}, {}
    for path, tree in trees.items():
        root = tree.root_node
        decl = next((n for n in root.children if n.type == "package_declaration"), None)
        package[path] = _text(decl.named_children[0]) if decl else ""
        top[path] = {_text(n.child_by_field_name("name")) for n in root.children
                     if n.type in ("class_declaration", "interface_declaration", "enum_declaration",
                                   "record_declaration", "annotation_type_declaration")}
        used[path] = {_text(n) for n in _walk(root) if n.type in ("type_identifier", "identifier")}
    by_fqn = {f"{package[p]}.{t}": p for p in trees for t in top[p]}
    by_package: dict[str, list[str]] = {}
    for p in trees:
        by_package.setdefault(package[p], []).append(p)
    edges = set()
    for path, tree in trees.items():
        def named(pkg, path=path):
            for other in by_package.get(pkg, []):
                if other != path and top[other] & used[path]:
                    edges.add((path, other))
        named(package[path])
        for n in tree.root_node.children:
            if n.type != "import_declaration":
                continue
            name = _text(next(c for c in n.named_children if c.type in ("scoped_identifier", "identifier")))
            wildcard = any(c.type == "asterisk" for c in n.children)
            if wildcard and name not in by_fqn:
                named(name)
                continue
            probe = name
            while probe:
                if probe in by_fqn:
                    edges.add((path, by_fqn[probe]))
                    break
                probe = probe.rpartition(".")[0]
    return edges


# --- TypeScript ----------------------------------------------------------------------------------


def _ts(code, trees):
    files = set(trees)
    exts = ("", ".ts", ".tsx", ".d.ts", "/index.ts", "/index.tsx")

    def resolve(importer, spec):
        if not spec.startswith("."):
            return None
        base = posixpath.normpath(posixpath.join(posixpath.dirname(importer), spec))
        stems = [base]
        if base.endswith((".js", ".jsx", ".mjs")):
            stems.insert(0, base.rsplit(".", 1)[0])
        for stem in stems:
            for ext in exts:
                if stem + ext in files:
                    return stem + ext
        return None

    edges = set()
    for path, tree in trees.items():
        for n in _walk(tree.root_node):
            spec = None
            if n.type in ("import_statement", "export_statement"):
                src = n.child_by_field_name("source")
                spec = _text(src).strip("'\"`") if src is not None else None
            elif n.type == "call_expression":
                fn = n.child_by_field_name("function")
                args = n.child_by_field_name("arguments")
                if fn is not None and _text(fn) in ("require", "import") and args is not None and args.named_children \
                        and args.named_children[0].type == "string":
                    spec = _text(args.named_children[0]).strip("'\"`")
            if spec:
                target = resolve(path, spec)
                if target:
                    edges.add((path, target))
    return edges


# --- Rust ----------------------------------------------------------------------------------------


def _rust(code, trees):
    files = set(trees)

    def module_dir(path):
        d, base = posixpath.split(path)
        return d if base in ("lib.rs", "main.rs", "mod.rs") else posixpath.join(d, base[:-3])

    def module_file(d, name):
        for cand in (posixpath.join(d, name + ".rs"), posixpath.join(d, name, "mod.rs")):
            if cand in files:
                return cand
        return None

    def flatten(tree_text):
        tree_text = re.sub(r"\s+", "", tree_text)
        if "{" not in tree_text:
            return [tree_text]
        head, _, body = tree_text.partition("{")
        body = body[: body.rfind("}")]
        parts, depth, cur = [], 0, ""
        for ch in body:
            if ch == "," and depth == 0:
                parts.append(cur)
                cur = ""
                continue
            depth += (ch == "{") - (ch == "}")
            cur += ch
        parts.append(cur)
        return [p for part in parts if part for p in flatten(head + part)]

    edges = set()
    for path, tree in trees.items():
        here = module_dir(path)
        for n in _walk(tree.root_node):
            if n.type == "mod_item" and n.child_by_field_name("body") is None:
                target = module_file(here, _text(n.child_by_field_name("name")))
                if target:
                    edges.add((path, target))
            elif n.type == "use_declaration":
                for use in flatten(_text(n.child_by_field_name("argument"))):
                    segs = [s for s in use.split("::") if s]
                    if not segs:
                        continue
                    if segs[0] == "crate":
                        base, segs = "src", segs[1:]
                    elif segs[0] == "self":
                        base, segs = here, segs[1:]
                    elif segs[0] == "super":
                        base = here
                        while segs and segs[0] == "super":
                            base, segs = posixpath.dirname(base), segs[1:]
                    elif module_file(here, segs[0]):
                        base = here
                    else:
                        continue  # another crate
                    for k in range(len(segs), 0, -1):
                        d = posixpath.join(base, *segs[: k - 1]) if k > 1 else base
                        target = module_file(d, segs[k - 1])
                        if target:
                            edges.add((path, target))
                            break
    return edges
