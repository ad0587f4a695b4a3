"""ledger.py: rows in = rows out + rows dropped, stage by stage, from the pipeline's counters."""

import pytest

from deepcorpus.core.errors import ConservationError
from pipelines.math import ledger

READ = {"files_listed": 3, "files_read": 2, "truncated_files": 1, "records": 10, "html": 8,
        "skipped_not_html": 1, "truncated_records": 1}


def counters(**overrides):
    c = {"read": dict(READ), "extract": {"in": 8, "out": 6, "dropped_short": 1, "dropped_too_deep": 1},
         "langid": {"in": 6, "out": 5, "dropped_language": 1}}
    for stage, values in overrides.items():
        c[stage] = {**c[stage], **values}
    return c


def test_balanced_stages_give_one_line_each():
    lines = ledger.lines(ledger.extraction(counters()))
    assert "read files: in 3 = read 2 + corrupt_files 0 + truncated_files 1 + failed_files 0" in lines
    assert "extract: in 8 = out 6 + dropped_short 1 + dropped_too_deep 1" in lines
    assert all(" = " in line for line in lines)


def test_a_row_lost_between_or_inside_stages_stops_the_run():
    with pytest.raises(ConservationError, match=r"extract: in 8 != out 5 .*\(\+1 unaccounted\)"):
        ledger.extraction(counters(extract={"out": 5}, langid={"in": 5, "out": 4}))
    with pytest.raises(ConservationError, match=r"extract -> langid: in 6 != langid in 7"):
        ledger.extraction(counters(langid={"in": 7, "out": 6}))


def test_committed_rows_must_equal_the_counted_rows():
    ledger.committed("out/math/corpus", 181, 181)
    with pytest.raises(ConservationError, match="out/math/corpus: committed rows differ.*180 committed, 181 counted"):
        ledger.committed("out/math/corpus", 181, 180)


def test_corpus_balance_is_kept_plus_removed():
    c = {"decontaminate": {"in": 185, "kept": 181, "dropped_benchmark": 4}}
    assert ledger.lines(ledger.corpus(c, 185)) == ["collected -> decontaminate: in 185 = decontaminate in 185",
                                                   "decontaminate: in 185 = kept 181 + dropped_benchmark 4"]
    with pytest.raises(ConservationError):
        ledger.corpus({"decontaminate": {"in": 185, "kept": 180, "dropped_benchmark": 4}}, 185)


def test_math_run_exits_1_and_commits_nothing_when_a_stage_loses_a_row(tmp_path, monkeypatch, capsys):
    from deepcorpus import samples
    from deepcorpus.cli import main
    from pipelines.math import transforms as T

    real = T.LanguageIdFn.process

    def lossy(self, rows):  # a bug that drops a page without counting it
        out = list(real(self, rows))
        yield from out[1:]

    monkeypatch.setattr(T.LanguageIdFn, "process", lossy)
    out = tmp_path / "math"
    assert main(["math", "run", "--input", samples.path("crawl", "*.warc.gz"), "--seed", samples.path("math_seed.jsonl"),
                 "--output", str(out), "--direct_running_mode", "in_memory", "--direct_num_workers", "1"]) == 1
    err = capsys.readouterr().err
    assert "rows do not add up" in err or "committed rows differ" in err
    assert not (out / "extracted" / "_manifest.json").exists() and not (out / "candidates").exists()
