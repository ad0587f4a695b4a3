"""A repository's license from its LICENSE file, and how The Stack v2 ranks licenses for dedup.

Only the common licenses are recognized, by phrases of their text; anything else is "unknown".
When near-duplicate repositories collide, the permissive one is kept first (The Stack v2:
permissive, then no license, then non-permissive).
"""

from __future__ import annotations

import posixpath
import re

LICENSE_FILES = ("license", "license.md", "license.txt", "license.rst", "licence", "licence.md", "licence.txt",
                 "copying", "copying.md", "copying.txt", "unlicense", "license-mit", "license-apache")

# (SPDX id, phrase): the first match wins, so the more specific texts come first.
_PATTERNS: tuple[tuple[str, re.Pattern], ...] = tuple((spdx, re.compile(p, re.I | re.S)) for spdx, p in (
    ("AGPL-3.0", r"GNU AFFERO GENERAL PUBLIC LICENSE"),
    ("LGPL-3.0", r"GNU LESSER GENERAL PUBLIC LICENSE\s+Version 3"),
    ("LGPL-2.1", r"GNU LESSER GENERAL PUBLIC LICENSE\s+Version 2\.1"),
    ("GPL-3.0", r"GNU GENERAL PUBLIC LICENSE\s+Version 3"),
    ("GPL-2.0", r"GNU GENERAL PUBLIC LICENSE\s+Version 2"),
    ("MPL-2.0", r"Mozilla Public License,?\s+(?:Version|v\.?)\s*2\.0"),
    ("EPL-2.0", r"Eclipse Public License\s*-?\s*v\s*2\.0"),
    ("Apache-2.0", r"Apache License,?\s+Version 2\.0"),
    ("MIT", r"Permission is hereby granted, free of charge, to any person"),
    ("BSD-3-Clause", r"Redistribution and use in source and binary forms.*Neither the name"),
    ("BSD-2-Clause", r"Redistribution and use in source and binary forms"),
    ("ISC", r"Permission to use, copy, modify, and(?:/or)? distribute this software for any purpose"),
    ("Unlicense", r"This is free and unencumbered software released into the public domain"),
    ("BSL-1.0", r"Boost Software License"),
    ("CC0-1.0", r"CC0 1\.0 Universal"),
    ("Zlib", r"This software is provided 'as-is', without any express or implied"),
))

PERMISSIVE = frozenset({"MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "ISC", "Unlicense", "BSL-1.0",
                        "CC0-1.0", "Zlib", "0BSD", "MIT-0", "Python-2.0", "PostgreSQL", "X11", "WTFPL",
                        "BlueOak-1.0.0", "NCSA", "UPL-1.0", "CC-BY-4.0", "Artistic-2.0", "BSD-4-Clause"})


def is_license_file(path: str) -> bool:
    """A LICENSE/COPYING file at the repository root."""
    return "/" not in path.strip("/") and posixpath.basename(path).lower() in LICENSE_FILES


def detect_license(text: str) -> str | None:
    """The SPDX id of a license text, or None when it is not one of the common ones."""
    head = text[:20000]
    for spdx, pattern in _PATTERNS:
        if pattern.search(head):
            return spdx
    return None


def normalize_license(value) -> str | None:
    """A listing's license field (a string, or a list as in The Stack) as one SPDX-ish id."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        values = [normalize_license(v) for v in value]
        values = [v for v in values if v]
        permissive = [v for v in values if v in PERMISSIVE]
        return (permissive or values or [None])[0]
    value = str(value).strip()
    if not value or value.lower() in ("none", "null", "unknown", "noassertion"):
        return None
    by_lower = {p.lower(): p for p in PERMISSIVE}
    return by_lower.get(value.lower(), value)


def license_rank(license_id: str | None) -> int:
    """0 permissive, 1 unknown or none, 2 anything else (copyleft, proprietary)."""
    if license_id is None:
        return 1
    return 0 if license_id in PERMISSIVE else 2
