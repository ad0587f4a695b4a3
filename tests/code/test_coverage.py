"""`deepcorpus code languages`: the coverage report over Coder-V2's 338 languages."""

import json

from deepcorpus.cli import main


def test_the_languages_command_reports_coverage(capsys):
    assert main(["code", "languages", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 338 and all(r["reached_by"] for r in rows)
    python = next(r for r in rows if r["language"] == "Python")
    assert python == {"language": "Python", "reached_by": python["reached_by"], "gap": None,
                      "path_comment": "# PATH", "dependency_family": "python"}
    assert main(["code", "languages"]) == 0
    assert "338/338 languages reachable" in capsys.readouterr().out
