"""In-repository dependencies, one language family at a time: what a file imports, resolved to
files of the same repository (anything outside the repository resolves to nothing)."""

import pytest

from pipelines.code.dependencies import FAMILY_BY_LANGUAGE, SourceFile, dependency_graph, parsed_languages


def deps_of(files: dict[str, tuple[str, str]], path: str) -> set[str]:
    """files: {path: (language, text)} -> the dependencies of `path`."""
    graph = dependency_graph([SourceFile(p, lang, text) for p, (lang, text) in files.items()])
    return graph[path]


def test_python_absolute_relative_and_submodule_imports():
    files = {
        "src/pkg/__init__.py": ("Python", ""),
        "src/pkg/geometry.py": ("Python", "import math\n"),
        "src/pkg/shapes.py": ("Python", "from .geometry import Point\n"),
        "src/pkg/sub/deep.py": ("Python", "from ..shapes import Polygon\nfrom .. import geometry\n"),
        "src/pkg/cli.py": ("Python", "import argparse\nfrom pkg import shapes\nimport pkg.geometry as g\n"),
        "tests/test_x.py": ("Python", "from pkg.shapes import (\n    Polygon,\n    Rectangle,\n)\n"),
    }
    assert deps_of(files, "src/pkg/shapes.py") == {"src/pkg/geometry.py"}
    # `from .. import geometry` and `from pkg import shapes` name submodules, not the package file.
    assert deps_of(files, "src/pkg/sub/deep.py") == {"src/pkg/shapes.py", "src/pkg/geometry.py"}
    assert deps_of(files, "src/pkg/cli.py") == {"src/pkg/shapes.py", "src/pkg/geometry.py"}
    assert deps_of(files, "tests/test_x.py") == {"src/pkg/shapes.py"}
    assert deps_of(files, "src/pkg/geometry.py") == set()  # the standard library is outside


def test_c_and_cpp_includes_next_to_the_file_then_anywhere():
    files = {
        "include/ring/config.h": ("C", "#define N 8\n"),
        "include/ring/ring.h": ("C", '#include <stddef.h>\n#include "config.h"\n'),
        "src/ring.c": ("C", '#include "ring/ring.h"\n'),
        "src/main.cpp": ("C++", '#include "../include/ring/ring.h"\n#include <vector>\n'),
        "src/kernel.cu": ("CUDA", '#include "ring/config.h"\n'),
    }
    assert deps_of(files, "include/ring/ring.h") == {"include/ring/config.h"}
    assert deps_of(files, "src/ring.c") == {"include/ring/ring.h"}
    assert deps_of(files, "src/main.cpp") == {"include/ring/ring.h"}
    assert deps_of(files, "src/kernel.cu") == {"include/ring/config.h"}


def test_jvm_imports_packages_and_same_package_uses():
    files = {
        "src/org/ex/inv/Item.java": ("Java", "package org.ex.inv;\npublic class Item {}\n"),
        "src/org/ex/inv/Inventory.java": ("Java", "package org.ex.inv;\nimport java.util.Map;\nclass Inventory { Map<String, Item> items; }\n"),
        "src/org/ex/app/App.java": ("Java", "package org.ex.app;\nimport org.ex.inv.Inventory;\nimport static org.ex.inv.Item.NONE;\n"),
        "src/org/ex/app/All.java": ("Java", "package org.ex.app;\nimport org.ex.inv.*;\nclass All { Item i; Inventory v; }\n"),
        "src/org/ex/app/One.java": ("Java", "package org.ex.app;\nimport org.ex.inv.*;\nclass One { Item i; }\n"),
        "kt/Report.kt": ("Kotlin", "package org.ex.report\n\nimport org.ex.inv.Inventory\n"),
        "scala/Main.scala": ("Scala", "package org.ex.s\nimport org.ex.inv.{Item, Inventory => Inv}\n"),
    }
    assert deps_of(files, "src/org/ex/inv/Inventory.java") == {"src/org/ex/inv/Item.java"}  # same package, no import
    assert deps_of(files, "src/org/ex/app/App.java") == {"src/org/ex/inv/Inventory.java", "src/org/ex/inv/Item.java"}
    assert deps_of(files, "src/org/ex/app/All.java") == {"src/org/ex/inv/Inventory.java", "src/org/ex/inv/Item.java"}
    # A wildcard import makes the package's types usable, not its every file a dependency.
    assert deps_of(files, "src/org/ex/app/One.java") == {"src/org/ex/inv/Item.java"}
    assert deps_of(files, "kt/Report.kt") == {"src/org/ex/inv/Inventory.java"}
    assert deps_of(files, "scala/Main.scala") == {"src/org/ex/inv/Inventory.java", "src/org/ex/inv/Item.java"}


def test_csharp_using_resolves_to_files_declaring_the_namespace():
    files = {
        "Program.cs": ("C#", "using System;\nusing Billing.Models;\nnamespace Billing { class P { Invoice i; Customer c; } }\n"),
        "Report.cs": ("C#", "using Billing.Models;\nnamespace Billing { class R { Invoice i; } }\n"),
        "Models/Invoice.cs": ("C#", "namespace Billing.Models\n{\n    public record Invoice(decimal Total);\n}\n"),
        "Models/Customer.cs": ("C#", "namespace Billing.Models;\npublic class Customer { Invoice Last; }\n"),
    }
    assert deps_of(files, "Program.cs") == {"Models/Invoice.cs", "Models/Customer.cs"}
    assert deps_of(files, "Models/Customer.cs") == {"Models/Invoice.cs"}  # same namespace, by type name
    assert deps_of(files, "Report.cs") == {"Models/Invoice.cs"}  # only the types it names


def test_js_and_ts_relative_imports_requires_and_index_files():
    files = {
        "src/index.ts": ("TypeScript", 'import { Store } from "./store";\nimport React from "react";\nconst r = require("./render.js");\n'),
        "src/store.ts": ("TypeScript", 'import type { Todo } from "./model";\nexport * from "./model";\n'),
        "src/model/index.ts": ("TypeScript", "export interface Todo { id: number }\n"),
        "src/render.js": ("JavaScript", "module.exports = {};\n"),
        "src/lazy.jsx": ("JSX", 'const Page = import("./pages/home");\nimport x from "@/store";\n'),
        "src/pages/home.jsx": ("JSX", "export default 1;\n"),
    }
    assert deps_of(files, "src/index.ts") == {"src/store.ts", "src/render.js"}
    assert deps_of(files, "src/store.ts") == {"src/model/index.ts"}
    assert deps_of(files, "src/lazy.jsx") == {"src/pages/home.jsx", "src/store.ts"}


def test_stylesheets_import_partials():
    files = {"styles/main.scss": ("SCSS", '@import "colors";\n@use "base";\n'), "styles/_colors.scss": ("SCSS", "$a: 1;\n"),
             "styles/base.scss": ("SCSS", "body {}\n")}
    assert deps_of(files, "styles/main.scss") == {"styles/_colors.scss", "styles/base.scss"}


def test_go_imports_resolve_to_the_package_directory():
    files = {
        "go.mod": ("Text", "module github.com/me/kv\n"),
        "cmd/kv/main.go": ("Go", 'package main\n\nimport (\n\t"fmt"\n\tst "github.com/me/kv/internal/store"\n)\n'),
        "internal/store/store.go": ("Go", 'package store\n\nimport "github.com/me/kv/internal/codec"\n'),
        "internal/store/store_test.go": ("Go", "package store\n"),
        "internal/codec/codec.go": ("Go", "package codec\n"),
        "internal/codec/json.go": ("Go", "package codec\n"),
    }
    assert deps_of(files, "cmd/kv/main.go") == {"internal/store/store.go"}
    assert deps_of(files, "internal/store/store.go") == {"internal/codec/codec.go", "internal/codec/json.go"}


def test_rust_mod_declarations_and_use_paths():
    files = {
        "src/main.rs": ("Rust", "mod counter;\npub mod text;\nuse crate::counter::Counter;\n"),
        "src/counter.rs": ("Rust", "use crate::text::{words, normalize::lower};\nuse std::collections::HashMap;\n"),
        "src/text/mod.rs": ("Rust", "pub mod normalize;\n"),
        "src/text/normalize.rs": ("Rust", "use super::super::counter::Counter;\n"),
    }
    assert deps_of(files, "src/main.rs") == {"src/counter.rs", "src/text/mod.rs"}
    assert deps_of(files, "src/counter.rs") == {"src/text/mod.rs", "src/text/normalize.rs"}
    assert deps_of(files, "src/text/mod.rs") == {"src/text/normalize.rs"}
    assert deps_of(files, "src/text/normalize.rs") == {"src/counter.rs"}


def test_php_require_and_psr4_use():
    files = {
        "src/Cart.php": ("PHP", "<?php\nnamespace App;\nuse App\\Models\\Product;\nrequire_once __DIR__ . '/helpers.php';\n"),
        "src/Models/Product.php": ("PHP", "<?php\nnamespace App\\Models;\nclass Product {}\n"),
        "src/helpers.php": ("PHP", "<?php\nfunction money() {}\n"),
    }
    assert deps_of(files, "src/Cart.php") == {"src/Models/Product.php", "src/helpers.php"}


def test_ruby_require_relative_and_lib_requires():
    files = {
        "bin/greet.rb": ("Ruby", 'require_relative "../lib/greeter"\nrequire "json"\n'),
        "lib/greeter.rb": ("Ruby", "require 'greeter/polite'\n"),
        "lib/greeter/polite.rb": ("Ruby", "module Polite; end\n"),
    }
    assert deps_of(files, "bin/greet.rb") == {"lib/greeter.rb"}
    assert deps_of(files, "lib/greeter.rb") == {"lib/greeter/polite.rb"}


@pytest.mark.parametrize(("language", "importer", "text", "target"), [
    ("Haskell", "src/Main.hs", "import qualified Geometry.Vector as V\nimport Data.List\n", "src/Geometry/Vector.hs"),
    ("Elm", "src/Main.elm", "import Page.Home exposing (view)\n", "src/Page/Home.elm"),
    ("Lean", "Main.lean", "import Mathlib.Tactic\nimport MyLib.Basic\n", "MyLib/Basic.lean"),
    ("Lua", "main.lua", 'local s = require("util.strings")\n', "util/strings.lua"),
    ("Perl", "bin/run.pl", "use strict;\nuse My::Tool;\n", "lib/My/Tool.pm"),
    ("Shell", "bin/setup.sh", "source lib/log.sh\n. ./lib/fs.sh\n", "lib/log.sh"),
    ("Julia", "src/Stats.jl", 'include("mean.jl")\n', "src/mean.jl"),
    ("R", "analysis.R", 'source("helpers.R")\n', "helpers.R"),
    ("Dart", "lib/main.dart", "import 'package:flutter/material.dart';\nimport 'src/app.dart';\n", "lib/src/app.dart"),
    ("Protocol Buffer", "api/service.proto", 'import "api/types.proto";\n', "api/types.proto"),
    ("Zig", "src/main.zig", 'const parser = @import("parser.zig");\n', "src/parser.zig"),
    ("Erlang", "src/server.erl", '-include("records.hrl").\n', "src/records.hrl"),
    ("TeX", "thesis.tex", "\\input{chapters/intro}\n", "chapters/intro.tex"),
    ("CMake", "CMakeLists.txt", "add_subdirectory(lib)\n", "lib/CMakeLists.txt"),
    ("Fortran", "main.f90", "program main\n  use geometry\nend program\n", "geometry.f90"),
    ("Elixir", "lib/app.ex", "defmodule App do\n  alias App.Repo\nend\n", "lib/app/repo.ex"),
    ("OCaml", "bin/main.ml", "open Parser\nlet () = ()\n", "lib/parser.ml"),
    ("Clojure", "src/app/core.clj", "(ns app.core\n  (:require [app.db-utils :as db]))\n", "src/app/db_utils.clj"),
    ("HTML", "public/index.html", '<script src="../src/app.js"></script>\n', "src/app.js"),
    ("Nimrod", "src/main.nim", "import strutils, utils/math\n", "src/utils/math.nim"),
    ("VHDL", "rtl/top.vhd", "library ieee;\nuse work.alu_pkg.all;\n", "rtl/alu_pkg.vhd"),
    ("F#", "src/Program.fs", "open Billing.Models\n", "src/Models.fs"),
    ("Verilog", "rtl/top.v", '`include "defs.vh"\n', "rtl/defs.vh"),
])
def test_more_families(language, importer, text, target):
    declarations = {
        "Fortran": "module geometry\ncontains\nend module geometry\n",
        "Elixir": "defmodule App.Repo do\nend\n",
        "VHDL": "package alu_pkg is\nend package;\n",
        "F#": "namespace Billing.Models\n",
    }
    files = {importer: (language, text), target: (language, declarations.get(language, "")),
             "unrelated/other.txt": ("Text", "")}
    assert deps_of(files, importer) == {target}


def test_every_family_language_is_a_coder_v2_name_or_a_documented_extra():
    from classifiers.code_language import coder_v2_languages

    extras = parsed_languages() - set(coder_v2_languages())
    # A few families list languages Linguist knows outside the 338 (harmless: never produced).
    assert extras <= {"ISPC", "Unified Parallel C", "Svelte", "Astro", "Hack", "Pod", "Batchfile", "Jsonnet",
                      "Starlark", "V", "D", "Nim"}
    assert len(parsed_languages() & set(coder_v2_languages())) >= 150
    assert FAMILY_BY_LANGUAGE["Python"].name == "python"


def test_self_references_are_dropped():
    files = {"a.py": ("Python", "import a\n")}
    assert deps_of(files, "a.py") == set()


def test_go_module_path_from_go_mod_decides_what_is_inside_the_repository():
    files = [
        SourceFile("cmd/main.go", "Go", 'package main\nimport (\n\t"example.com/kv/store"\n\t"github.com/other/store"\n)\n'),
        SourceFile("store/store.go", "Go", "package store\n"),
        SourceFile("vendor2/github.com/other/store/x.go", "Go", "package store\n"),
    ]
    with_mod = dependency_graph(files, {"go.mod": "module example.com/kv\n\ngo 1.22\n"})
    assert with_mod["cmd/main.go"] == {"store/store.go"}  # the other module's package is outside
    without = dependency_graph(files)
    assert "store/store.go" in without["cmd/main.go"]  # by folder suffix alone


def test_huge_namespaces_do_not_make_the_graph_quadratic():
    from pipelines.code.dependencies import MAX_FANOUT

    n = MAX_FANOUT + 1
    files = [SourceFile(f"gen/M{i}.cs", "C#", f"namespace Gen {{ class M{i} {{}} }}\n") for i in range(n)]
    files.append(SourceFile("App.cs", "C#", "using Gen;\nnamespace App { class A { M1 m; } }\n"))
    # `using Gen` opens 501 files; the one whose type App names is its dependency, found without
    # pairing App with every file of the namespace.
    assert dependency_graph(files)["App.cs"] == {"gen/M1.cs"}


def test_from_package_import_submodule_is_no_cycle_through_the_package_file():
    # click's layout: core.py does `from . import types`, __init__.py imports everything.
    files = {
        "src/click/__init__.py": ("Python", "from .core import Command\nfrom .types import Choice\n"),
        "src/click/core.py": ("Python", "from types import TracebackType\nfrom . import types\n"),
        "src/click/types.py": ("Python", "import os\nfrom ._compat import open_stream\n"),
        "src/click/_compat.py": ("Python", "import sys\n"),
        "src/click/testing.py": ("Python", "from click import Command\nfrom . import _compat\n"),
    }
    graph = dependency_graph([SourceFile(p, lang, text) for p, (lang, text) in files.items()])
    assert graph["src/click/core.py"] == {"src/click/types.py"}  # `from types import` is the stdlib's
    assert graph["src/click/__init__.py"] == {"src/click/core.py", "src/click/types.py"}
    # `from click import Command`: Command is re-exported by __init__ from core.py
    assert graph["src/click/testing.py"] == {"src/click/core.py", "src/click/_compat.py"}
    assert not any("src/click/__init__.py" in deps for deps in graph.values())


def test_star_reexports_and_names_defined_in_the_package_file():
    files = {
        "pkg/__init__.py": ("Python", "from .shapes import *\nVERSION = '1'\n"),
        "pkg/shapes.py": ("Python", "class Circle:\n    pass\n\ndef area(c):\n    return 0\n"),
        "app.py": ("Python", "from pkg import Circle\nfrom pkg import VERSION\n"),
    }
    assert deps_of(files, "app.py") == {"pkg/shapes.py", "pkg/__init__.py"}


def test_python2_sibling_imports_but_never_for_standard_library_names():
    files = {
        "pkg/__init__.py": ("Python", ""),
        "pkg/helpers.py": ("Python", ""),
        "pkg/json.py": ("Python", ""),
        "pkg/main.py": ("Python", "import helpers\nimport json\n"),
    }
    assert deps_of(files, "pkg/main.py") == {"pkg/helpers.py"}


@pytest.mark.parametrize("language,text", [
    ("Python", '"""Usage:\n\n    import secret\n    from secret import x\n"""\n# import secret\ns = "import secret"\n'),
    ("C", '// #include "secret.h"\n/* #include "secret.h" */\nconst char *s = "#include \\"secret.h\\"";\n'),
    ("JavaScript", "// import x from './secret'\nconst s = \"import x from './secret'\";\n/* require('./secret') */\n"
                   "const t = `\nimport y from './secret'\n`;\n"),
    ("Go", 'package main\n// import "example.com/m/secret"\nvar s = `\nimport "example.com/m/secret"\n`\n'),
    ("Rust", '// use crate::secret;\n/* mod secret; */\nconst S: &str = "use crate::secret;";\n'),
    ("Java", 'package a;\n// import b.secret.Thing;\nclass A { String s = "import b.secret.Thing;"; }\n'),
    ("Ruby", '# require "secret"\n=begin\nrequire "secret"\n=end\nx = "require \'secret\'"\n'),
])
def test_imports_inside_comments_and_strings_are_not_dependencies(language, text):
    ext = {"Python": "py", "C": "c", "JavaScript": "js", "Go": "go", "Rust": "rs", "Java": "java", "Ruby": "rb"}[language]
    target = {"Python": "secret.py", "C": "secret.h", "JavaScript": "secret.js", "Go": "secret/s.go",
              "Rust": "src/secret.rs", "Java": "b/secret/Thing.java", "Ruby": "secret.rb"}[language]
    importer = "src/main.rs" if language == "Rust" else f"main.{ext}"
    body = {"Go": "package secret\n", "Java": "package b.secret;\nclass Thing {}\n"}.get(language, "")
    files = {importer: (language, text), target: (language, body)}
    graph = dependency_graph([SourceFile(p, lang, t) for p, (lang, t) in files.items()],
                             {"go.mod": "module example.com/m\n"} if language == "Go" else None)
    assert graph[importer] == set()


def test_real_imports_beside_strings_and_comments_still_count():
    files = {
        "main.c": ("C", '#include "a.h" // and "b.h"\nchar q = \'"\';\n#include "b.h"\n'),
        "a.h": ("C", ""), "b.h": ("C", ""),
        "web/app.ts": ("TypeScript", "const s = 'x'; import { a } from './a'; // ok\n"),
        "web/a.ts": ("TypeScript", "export const a = 1;\n"),
    }
    assert deps_of(files, "main.c") == {"a.h", "b.h"}
    assert deps_of(files, "web/app.ts") == {"web/a.ts"}


def test_a_barrel_file_comes_after_what_it_reexports():
    files = {
        "src/index.ts": ("TypeScript", "export * from './vanilla';\nexport { create } from './react';\n"),
        "src/vanilla.ts": ("TypeScript", "export const createStore = 1;\n"),
        "src/react.ts": ("TypeScript", "import { createStore } from './index';\nexport const create = 2;\n"),
    }
    graph = dependency_graph([SourceFile(p, lang, text) for p, (lang, text) in files.items()])
    assert graph["src/index.ts"] == {"src/vanilla.ts", "src/react.ts"}
    assert graph["src/react.ts"] == set()  # the barrel re-exports react.ts: no false cycle


def test_rust_mod_declarations_make_the_parent_a_dependent():
    files = {
        "src/lib.rs": ("Rust", "mod error;\npub mod chain;\npub use crate::error::Error;\n"),
        "src/error.rs": ("Rust", "use crate::chain::Chain;\n"),
        "src/chain.rs": ("Rust", "use super::error::Error;\n"),
    }
    graph = dependency_graph([SourceFile(p, lang, text) for p, (lang, text) in files.items()])
    assert graph["src/lib.rs"] == {"src/error.rs", "src/chain.rs"}
    assert graph["src/error.rs"] == {"src/chain.rs"}
    assert graph["src/chain.rs"] == {"src/error.rs"}  # a real cycle stays one
