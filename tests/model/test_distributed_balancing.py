"""Under torch.distributed every rank applies the same bias update, computed from all ranks' tokens."""

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from model import Transformer, get_preset


def _batch(rank):
    return torch.randint(0, 2048, (2, 17), generator=torch.Generator().manual_seed(100 + rank))


def _rank_main(rank, world, init_file, out_dir):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        torch.manual_seed(0)
        model = Transformer(get_preset("tiny", bias_update_speed=0.01))
        seq = _batch(rank)  # each rank sees different tokens
        model(seq[:, :-1], seq[:, 1:]).loss.backward()
        stats = model.update_router_biases()
        torch.save({"bias": {n: g.bias for n, g in model.moe_gates().items()}, "stats": stats},
                   f"{out_dir}/rank{rank}.pt")
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_two_ranks_update_biases_as_one_process_seeing_both_batches(tmp_path):
    mp.spawn(_rank_main, args=(2, str(tmp_path / "init"), str(tmp_path)), nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(2)]
    torch.manual_seed(0)
    single = Transformer(get_preset("tiny", bias_update_speed=0.01))
    for rank in range(2):
        seq = _batch(rank)
        single(seq[:, :-1], seq[:, 1:]).loss.backward()
    single.update_router_biases()
    for name, gate in single.moe_gates().items():
        assert torch.equal(ranks[0]["bias"][name], ranks[1]["bias"][name])
        torch.testing.assert_close(ranks[0]["bias"][name], gate.bias)
    assert ranks[0]["stats"]["layers"]["layers.1"]["tokens"] == 2 * 2 * 16 * 2  # both ranks' tokens
