"""Document-level FIM: deterministic per document, at the asked rate, PSM or SPM, and reversible."""

import numpy as np
import pytest

from deepcorpus.core.errors import UserError
from pipelines.tokenize.fim import FimConfig, FimSplit, arrange, encode_pieces, fim_split, fim_text, undo_fim
from pipelines.tokenize.tokenizer import FIM_BEGIN, FIM_END, FIM_HOLE

CODE = "def add(a, b):\n    return a + b\n\nprint(add(1, 2))\n"


def test_the_same_document_and_seed_always_get_the_same_split():
    config = FimConfig(rate=1.0)
    assert fim_split(CODE, "repo-1", config) == fim_split(CODE, "repo-1", config)
    splits = {fim_split(CODE, f"repo-{i}", config) for i in range(20)}
    assert len(splits) > 1  # but different documents are cut in different places


def test_the_pieces_are_the_document():
    for i in range(50):
        s = fim_split(CODE, f"doc-{i}", FimConfig(rate=1.0, seed=3))
        assert s.prefix + s.middle + s.suffix == CODE


def test_rate_is_the_share_of_documents_given_fim():
    applied = sum(fim_split(CODE, f"doc-{i}", FimConfig(rate=0.5)) is not None for i in range(2000))
    assert 900 < applied < 1100
    assert all(fim_split(CODE, f"doc-{i}", FimConfig(rate=0.0)) is None for i in range(100))
    assert fim_split("", "empty", FimConfig(rate=1.0)) is None


def test_psm_and_spm_layouts():
    split = FimSplit("PRE", "MID", "SUF")
    assert fim_text(split, "psm") == f"{FIM_BEGIN}PRE{FIM_HOLE}SUF{FIM_END}MID"
    assert fim_text(split, "spm") == f"{FIM_BEGIN}{FIM_HOLE}SUF{FIM_END}PREMID"


@pytest.mark.parametrize("mode", ["psm", "spm"])
def test_undo_fim_gives_back_the_document(mode):
    for i in range(30):
        split = fim_split(CODE, f"d{i}", FimConfig(rate=1.0))
        assert undo_fim(fim_text(split, mode)) == CODE
    assert undo_fim("plain text") == "plain text"


def test_pieces_are_encoded_apart_and_joined_with_sentinel_ids():
    pieces = arrange(FimSplit("p", "m", "s"), "psm")
    ids = encode_pieces(pieces, [[10, 11], [20], [30, 31]], (3, 4, 5))
    assert ids.tolist() == [3, 10, 11, 4, 20, 5, 30, 31] and ids.dtype == np.int32
    pieces = arrange(FimSplit("p", "m", "s"), "spm")  # suffix, prefix, middle
    assert encode_pieces(pieces, [[20], [10], [30]], (3, 4, 5)).tolist() == [3, 4, 20, 5, 10, 30]


def test_bad_settings_are_user_errors():
    with pytest.raises(UserError, match="--fim-rate"):
        FimConfig(rate=1.5)
    with pytest.raises(UserError, match="--fim-mode"):
        FimConfig(mode="pms")
