"""`deepcorpus tokenize show`: rows as text with document marks, and a packing check."""

from deepcorpus.cli import main
from pipelines.tokenize.show import DOC_MARK, format_row
from pipelines.tokenize.tokenizer import load_tokenizer


def test_rows_are_shown_with_a_mark_where_documents_begin(tokenizer_path):
    tok = load_tokenizer(tokenizer_path)
    a = tok.encode("first doc", add_special_tokens=False).ids
    b = tok.encode("second", add_special_tokens=False).ids
    text = format_row(tok, [*a, 1, *b], [0, len(a) + 1])
    assert text == f"{DOC_MARK.lstrip()}first doc<｜end▁of▁sentence｜>{DOC_MARK}second"


def test_show_and_check_on_real_shards(corpora, tokenizer_path, tmp_path, capsys):
    out = tmp_path / "tokens"
    assert main(["tokenize", "run", "--input", corpora["formal"], "--tokenizer", tokenizer_path, "--seq-len", "32",
                 "--output", str(out), "--direct_running_mode", "in_memory"]) == 0
    capsys.readouterr()
    assert main(["tokenize", "show", str(out), "--rows", "2"]) == 0
    shown = capsys.readouterr().out
    assert shown.count("== ") == 2 and "theorem" in shown
    assert main(["tokenize", "show", str(out), "--check"]) == 0
    assert "ok, 24 documents in 1 part(s)" in capsys.readouterr().out
    assert main(["tokenize", "show", str(out), "--part", "5"]) == 2
