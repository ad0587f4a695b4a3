"""`deepcorpus tokenize train-tokenizer`: a streamed, spread sample of every input, saved with its hash."""

import json

import pytest

from deepcorpus.cli import main
from deepcorpus.core import contracts, datasets
from pipelines.tokenize import train_tokenizer as tt
from pipelines.tokenize.tokenizer import load_tokenizer, tokenizer_hash
from tests.tokenize.conftest import web_rows, write


def test_trains_on_every_input_and_writes_the_hash(corpora, tmp_path, capsys):
    out = tmp_path / "tokenizer.json"
    assert main(["tokenize", "train-tokenizer", "--input", *corpora.values(), "--vocab-size", "400",
                 "--output", str(out)]) == 0
    tok = load_tokenizer(str(out))
    assert tok.get_vocab_size() == 400
    printed = capsys.readouterr().out
    assert "docs_math" in printed and "docs_code" in printed and tokenizer_hash(str(out)) in printed
    assert "bytes_per_token" in printed
    assert (tmp_path / "tokenizer.json.sha256").read_text().split()[0] == tokenizer_hash(str(out))


def test_a_small_budget_takes_a_spread_sample_of_each_source(corpora):
    sources = datasets.resolve_inputs([corpora["math"], corpora["code"]])
    stats = tt.SampleStats()
    texts = list(tt.sample_texts(sources, ["math", "code"], 8000, seed=0, stats=stats))
    assert 0 < stats.docs["math"] < 120 and 0 < stats.docs["code"] < 60
    assert sum(len(t.encode()) for t in texts) < 8000 + 2 * 2000  # each source stops at its share
    # Spread by hash over the whole source, not its head; another seed picks other documents.
    head = [r["text"] for r in datasets.iter_source_rows(sources[0], ["text"])][: stats.docs["math"]]
    assert texts[: stats.docs["math"]] != head
    other = list(tt.sample_texts(sources, ["math", "code"], 8000, seed=1, stats=tt.SampleStats()))
    assert texts != other


def test_bytes_per_token_grows_with_the_vocabulary(corpora):
    sources = datasets.resolve_inputs([corpora["math"]])
    texts = [r["text"] for r in datasets.iter_source_rows(sources[0], ["text"])]
    from pipelines.tokenize.tokenizer import train_tokenizer

    small, large = (train_tokenizer(texts, v, min_frequency=1) for v in (270, 500))
    assert 1.0 <= tt.bytes_per_token(small, texts) < tt.bytes_per_token(large, texts)


def test_budget_a_small_source_cannot_use_goes_to_the_others():
    assert tt.allocate([100, 10_000, 10_000], 3000) == [100, 1450, 1450]
    assert tt.allocate([5, 5], 100) == [5, 5]


def test_plain_jsonl_works_too(tmp_path):
    src = tmp_path / "web.jsonl"
    src.write_text("".join(json.dumps({"text": f"line {i} of plain text"}) + "\n" for i in range(50)))
    out = tmp_path / "t.json"
    assert main(["tokenize", "train-tokenizer", "--input", str(src), "--vocab-size", "300",
                 "--output", str(out)]) == 0
    assert load_tokenizer(str(out)).encode("line 7", add_special_tokens=False).ids


@pytest.mark.parametrize("argv, message", [
    (["--vocab-size", "100"], "--vocab-size: expected a whole number in [263, 16777216], got 100"),
    (["--sample-bytes", "0"], "--sample-bytes: expected a whole number >= 1, got 0"),
])
def test_bad_options_are_one_line_errors(corpora, tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as e:  # refused while the options are parsed
        main(["tokenize", "train-tokenizer", "--input", corpora["math"], "--vocab-size", "300",
              "--output", str(tmp_path / "t.json"), *argv])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "t.json").exists()


@pytest.mark.parametrize("parts", [4, 32])
def test_parquet_sources_read_only_the_row_groups_the_sample_needs(tmp_path, parts):
    """N and 8N row groups, the same budget: about the same rows read, not eight times as many."""
    path = write(tmp_path / "web", contracts.WEB_DOC, web_rows(50 * parts), rows_per_part=50)
    sources = datasets.resolve_inputs([path])
    budget = 6000
    stats = tt.SampleStats()
    texts = list(tt.sample_texts(sources, ["web"], budget, seed=0, stats=stats))
    row_bytes = sum(len(r["text"].encode()) for r in web_rows(200)) / 200
    assert budget <= sum(len(t.encode()) for t in texts) < budget + 2000
    # Two shares of picked groups plus the group that crosses the line, whatever the source's size.
    assert stats.rows_read["web"] <= (tt.row_groups.OVERSAMPLE * budget) / row_bytes + 2 * 50
    assert stats.rows_read["web"] < 50 * 4  # under N's whole source, and far under 8N's
    again = list(tt.sample_texts(sources, ["web"], budget, seed=0, stats=tt.SampleStats()))
    assert again == texts  # deterministic


def test_the_share_fills_whatever_rows_the_seed_draws(tmp_path):
    """Rows inside the picked groups are drawn at random: when they fall short, the next groups
    in hash order make up the share (before they did, about one seed in forty fell short)."""
    path = write(tmp_path / "web", contracts.WEB_DOC, web_rows(50 * 32), rows_per_part=50)
    sources = datasets.resolve_inputs([path])
    budget = 6000
    for seed in range(100):
        stats = tt.SampleStats()
        used = sum(len(t.encode()) for t in tt.sample_texts(sources, ["web"], budget, seed=seed, stats=stats))
        assert budget <= used < budget + 2000, seed
        assert stats.rows_read["web"] <= 3 * 50, seed  # the picked group and at most two more


def test_picked_row_groups_are_spread_by_the_seed(tmp_path):
    from pipelines.tokenize import row_groups

    groups = [row_groups.RowGroup(f"p{i // 4}.parquet", i % 4, 0, 10, 100) for i in range(40)]
    picked = row_groups.pick(groups, 500, seed=0, name="web")
    assert len(picked) == 10 and len(set(picked)) == 10
    assert sorted(picked) != groups[:10] and picked != row_groups.pick(groups, 500, seed=1, name="web")
    assert sorted(row_groups.pick(groups, 10**6, seed=0, name="web")) == sorted(groups)


def test_a_corrupt_row_group_the_sample_reads_names_its_part(tmp_path, capsys):
    path = write(tmp_path / "web", contracts.WEB_DOC, web_rows(50 * 8), rows_per_part=50)
    parts = sorted(p for p in (tmp_path / "web").iterdir() if p.name.endswith(".parquet"))
    for part in parts:  # every part's pages garbled, their footers intact
        data = bytearray(part.read_bytes())
        data[8:len(data) // 2] = b"\xff" * (len(data) // 2 - 8)
        part.write_bytes(bytes(data))
    out = tmp_path / "t.json"
    assert main(["tokenize", "train-tokenizer", "--input", path, "--vocab-size", "300", "--sample-bytes", "3000",
                 "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a readable Parquet file" in err[0] and any(p.name in err[0] for p in parts)
    assert not out.exists()
