"""FP8Linear, the FP8 grouped matmul and convert_to_fp8: gradients, saved tensors, what gets converted."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from model.fp8 import FP8GroupedMM, FP8Linear, convert_to_fp8, fp8_available, fp8_linear
from tests.kernels.buffers import FP8, assert_matches_reference, rel_err


def small_net(seed=0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(200, 130), nn.GELU(), nn.Linear(130, 70, bias=False))


def grads(net, x):
    x = x.clone().requires_grad_()
    out = net(x)
    (out * torch.linspace(-1, 1, out.shape[-1])).sum().backward()
    return out.detach(), x.grad, [p.grad.clone() for p in net.parameters()]


def test_fp8_linear_gradients_are_close_to_float64_autograd():
    x = torch.randn(3, 50, 200)
    exact = small_net().double()
    fp8 = convert_to_fp8(small_net(), backend="reference")
    out, dx, dws = grads(fp8, x)
    out_ref, dx_ref, dws_ref = grads(exact, x.double())
    assert rel_err(out, out_ref) < 0.06
    assert rel_err(dx, dx_ref) < 0.1  # two FP8 Dgrads in a row
    for dw, dw_ref in zip(dws, dws_ref):
        assert rel_err(dw, dw_ref) < 0.08


@pytest.mark.slow
def test_triton_backend_matches_reference_backend(device):
    x = torch.randn(1, 60, 200, device=device)
    ref = convert_to_fp8(small_net().to(device), backend="reference")
    tri = convert_to_fp8(small_net().to(device), backend="triton")
    out_r, dx_r, dws_r = grads(ref, x)
    out_t, dx_t, dws_t = grads(tri, x)
    assert_matches_reference(out_t, out_r, device, chained=True)
    assert_matches_reference(dx_t, dx_r, device, chained=True)
    for dw_t, dw_r in zip(dws_t, dws_r):
        assert_matches_reference(dw_t, dw_r, device, chained=True)


def test_each_gradient_is_the_fp8_gemm_of_the_quantised_operands():
    from model.kernels import reference as R

    x, w, dy = torch.randn(64, 200), torch.randn(130, 200) * 0.05, torch.randn(64, 130)
    xg, wg = x.clone().requires_grad_(), w.clone().requires_grad_()
    fp8_linear(xg, wg, backend="reference").backward(dy)
    wq, ws = R.quant_128x128(w)
    expected_dx = R.gemm(*R.quant_1x128(dy), wq.t().contiguous(), ws.t().contiguous())
    expected_dw = R.gemm(*R.quant_128x1(dy), *R.quant_128x1(x))
    assert torch.equal(xg.grad, expected_dx)
    assert torch.equal(wg.grad, expected_dw)


def test_activations_are_saved_for_backward_in_fp8():
    saved = []

    def pack(t):
        saved.append((t.dtype, tuple(t.shape)))
        return t

    layer = FP8Linear(256, 128, bias=False, backend="reference")
    x = torch.randn(512, 256, requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        layer(x).sum().backward()
    big = [(dtype, shape) for dtype, shape in saved if torch.Size(shape).numel() >= 128 * 256]
    assert big and all(dtype == FP8 for dtype, _ in big), saved  # only FP8 copies of x and W, no FP32 x


def test_master_weights_and_their_gradients_keep_the_parameter_dtype():
    layer = FP8Linear(130, 64, backend="reference")
    layer(torch.randn(10, 130)).sum().backward()
    assert layer.weight.dtype == torch.float32 and layer.weight.grad.dtype == torch.float32
    assert layer.bias.grad is not None


class Gate(nn.Module):  # the model's router: by name, conversion must leave it (and anything inside) alone
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(64, 4, bias=False)


class Experts(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(4, 32, 64) * 0.05)
        self.grouped_mm = lambda x, w, counts: torch.cat([xi @ wi.t() for xi, wi in zip(x.split(counts.tolist()), w)])


class ToyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(100, 64)
        self.attn = nn.ModuleDict({"wq": nn.Linear(64, 64), "wo": nn.Linear(64, 64)})
        self.gate = Gate()
        self.experts = Experts()
        self.norm = nn.LayerNorm(64)
        self.head = nn.Linear(64, 100, bias=False)


def test_convert_to_fp8_swaps_eligible_layers_and_keeps_parameters():
    model = ToyModel()
    params_before = dict(model.named_parameters())
    state_keys = list(model.state_dict())
    convert_to_fp8(model, backend="reference")
    assert isinstance(model.attn["wq"], FP8Linear) and isinstance(model.attn["wo"], FP8Linear)
    assert type(model.head) is nn.Linear, "the output head stays in high precision"
    assert type(model.gate.proj) is nn.Linear, "the MoE gate stays in high precision"
    assert isinstance(model.experts.grouped_mm, FP8GroupedMM)
    assert list(model.state_dict()) == state_keys
    assert all(p is params_before[n] for n, p in model.named_parameters()), "same Parameter objects"


def test_fp8_grouped_mm_gradients_against_float64():
    counts = torch.tensor([0, 130, 1, 0, 69])
    x = torch.randn(200, 160)
    w = torch.randn(5, 96, 160) * 0.05
    dy = torch.randn(200, 96)
    xg, wg = x.clone().requires_grad_(), w.clone().requires_grad_()
    FP8GroupedMM("reference")(xg, wg, counts).backward(dy)
    x64, w64 = x.double().requires_grad_(), w.double().requires_grad_()
    torch.cat([xi @ wi.t() for xi, wi in zip(x64.split(counts.tolist()), w64)]).backward(dy.double())
    assert rel_err(xg.grad, x64.grad) < 0.06
    assert rel_err(wg.grad, w64.grad) < 0.06
    assert bool((wg.grad[0] == 0).all() and (wg.grad[3] == 0).all()), "experts without tokens get zero grads"


@pytest.mark.slow
def test_fp8_grouped_mm_triton_matches_reference(device):
    counts = torch.tensor([3, 0, 140, 17], device=device)
    x = torch.randn(160, 130, device=device)
    w = torch.randn(4, 64, 130, device=device) * 0.05
    dy = torch.randn(160, 64, device=device)
    results = []
    for backend in ("reference", "triton"):
        xg, wg = x.clone().requires_grad_(), w.clone().requires_grad_()
        y = FP8GroupedMM(backend)(xg, wg, counts)
        y.backward(dy)
        results.append((y.detach(), xg.grad, wg.grad))
    for got, expected in zip(results[1], results[0]):
        assert_matches_reference(got, expected, device, chained=True)


def test_meta_device_forward_needs_no_kernels():
    layer = FP8Linear(64, 32, backend="triton", device="meta")
    assert layer(torch.empty(4, 64, device="meta")).shape == (4, 32)


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="unknown FP8 backend"):
        convert_to_fp8(nn.Linear(4, 4), backend="cuda")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without a GPU")
def test_fp8_available_says_why_not_without_a_gpu():
    ok, why = fp8_available()
    assert not ok and "GPU" in why and "reference" in why


def test_fp8_linear_equals_f_linear_shape_and_bias():
    x = torch.randn(2, 3, 40)
    w, b = torch.randn(24, 40), torch.randn(24)
    y = fp8_linear(x, w, b, backend="reference")
    assert y.shape == (2, 3, 24)
    assert rel_err(y, F.linear(x.double(), w.double(), b.double())) < 0.06


def test_under_autocast_the_output_takes_the_autocast_dtype_like_nn_linear():
    layer = FP8Linear(256, 64, bias=False, backend="reference")
    x = torch.randn(8, 256, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = layer(x)
    assert y.dtype == torch.bfloat16
    y.float().sum().backward()
    assert x.grad.dtype == torch.float32 and layer.weight.grad.dtype == torch.float32
    assert rel_err(y.float(), x.detach().double() @ layer.weight.detach().double().t()) < 0.06


@pytest.mark.parametrize("backend", ["reference", "triton"])
def test_a_rank_that_receives_no_tokens_gets_zero_expert_gradients(backend, request):
    if backend == "triton":
        request.getfixturevalue("device")  # skips where Triton cannot run
    x = torch.zeros(0, 256, requires_grad=True)
    w = torch.randn(3, 64, 256, requires_grad=True)
    y = FP8GroupedMM(backend)(x, w, torch.zeros(3, dtype=torch.long))
    y.sum().backward()
    assert y.shape == (0, 64) and bool((w.grad == 0).all())


def test_exclude_patterns_keep_chosen_layers_in_high_precision():
    model = convert_to_fp8(ToyModel(), backend="reference", exclude=["attn.wo", "experts"])
    assert isinstance(model.attn["wq"], FP8Linear)
    assert type(model.attn["wo"]) is nn.Linear
    assert not isinstance(model.experts.grouped_mm, FP8GroupedMM)


def test_inference_and_frozen_weights_skip_the_wgrad_quantisation():
    layer = FP8Linear(256, 64, bias=False, backend="reference")
    x = torch.randn(8, 256)
    with torch.no_grad():
        assert layer(x).shape == (8, 64)
    layer.weight.requires_grad_(False)
    xg = x.clone().requires_grad_()
    layer(xg).sum().backward()
    assert xg.grad is not None and layer.weight.grad is None


def test_triton_backend_on_cpu_tensors_without_the_interpreter_says_what_to_do(monkeypatch):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    layer = FP8Linear(16, 8, backend="triton")
    with pytest.raises(RuntimeError, match="reference"):
        layer(torch.randn(2, 16))
