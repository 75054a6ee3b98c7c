"""multiloss.torch: one nn.Module per registered loss, a drop-in for torch.nn's losses, in
PyTorch's argument order, under torch.compile without graph breaks, and on CUDA when present."""

from __future__ import annotations

import numpy as np
import pytest

from multiloss.registry import REGISTRY
from multiloss.testing.matrix import cases
from multiloss.testing.numerics import EPS, PEER_ULPS

torch = pytest.importorskip("torch", reason="torch is not installed")
mt = pytest.importorskip("multiloss.torch")
nn = torch.nn

CASES = cases()


def test_one_module_per_registered_loss():
    for name, spec in REGISTRY.items():
        cls = getattr(mt, "".join(p.capitalize() for p in name.split("_")))
        assert issubclass(cls, nn.Module) and set(cls.order) == set(spec.inputs)


def forward_args(case, dtype="float64"):
    """The case's inputs as torch tensors, in the module's (PyTorch's) order."""
    arrays = dict(zip(case.spec.inputs, case.to_backend(mt_backend(), dtype)[0]))
    cls = mt.module(case.spec)
    return cls, [arrays[n] for n in cls.order]


def mt_backend():
    from multiloss.backends import adapter

    return adapter("torch")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_module_equals_the_function(case):
    cls, args = forward_args(case)
    ours = case.call(*(dict(zip(cls.order, args))[n] for n in case.spec.inputs), reduction="none")
    module = cls(**case.params, reduction="none")
    torch.testing.assert_close(module(*args), ours, rtol=0, atol=0)


# (our module, its keyword arguments, torch.nn's module, its arguments, inputs' kind)
DROP_IN = [
    (mt.MeanSquaredError, {}, nn.MSELoss, {}, "real"),
    (mt.MeanAbsoluteError, {}, nn.L1Loss, {}, "real"),
    (mt.Huber, {"delta": 0.5}, nn.HuberLoss, {"delta": 0.5}, "real"),
    (mt.SmoothL1, {"beta": 0.5}, nn.SmoothL1Loss, {"beta": 0.5}, "real"),
    (mt.BinaryCrossEntropy, {"from_logits": True}, nn.BCEWithLogitsLoss, {}, "logits"),
    (mt.BinaryCrossEntropy, {}, nn.BCELoss, {}, "probabilities"),
    (mt.SparseCategoricalCrossEntropy, {"from_logits": True}, nn.CrossEntropyLoss, {}, "classes"),
    (mt.TripletMargin, {"margin": 0.5}, nn.TripletMarginLoss, {"margin": 0.5}, "triplets"),
    (mt.MarginRanking, {"margin": 0.25}, nn.MarginRankingLoss, {"margin": 0.25}, "ranking"),
    (mt.GaussianNll, {"full": True}, nn.GaussianNLLLoss, {"full": True}, "gaussian"),
]


def drop_in_inputs(kind, rng):
    t = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
    if kind == "real":
        return t(rng.normal(size=(5, 3))), t(rng.normal(size=(5, 3)))
    if kind == "logits":
        return t(rng.normal(size=(5, 3)) * 3), t(rng.integers(0, 2, (5, 3)).astype(float))
    if kind == "probabilities":
        return t(rng.uniform(0.01, 0.99, (5, 3))), t(rng.integers(0, 2, (5, 3)).astype(float))
    if kind == "classes":
        return t(rng.normal(size=(5, 4))), torch.tensor(rng.integers(0, 4, 5))
    if kind == "triplets":
        return tuple(t(rng.normal(size=(5, 3))) for _ in range(3))
    if kind == "ranking":
        return t(rng.normal(size=5)), t(rng.normal(size=5)), t(rng.choice([-1.0, 1.0], 5))
    return t(rng.normal(size=(5, 3))), t(rng.normal(size=(5, 3))), t(rng.uniform(0.5, 2.0, (5, 3)))


@pytest.mark.parametrize("ours, kwargs, theirs, their_kwargs, kind", DROP_IN, ids=lambda x: getattr(x, "__name__", ""))
def test_drop_in_for_torch_nn(ours, kwargs, theirs, their_kwargs, kind):
    args = drop_in_inputs(kind, np.random.default_rng(0))
    for reduction in ("mean", "sum", "none"):
        torch.testing.assert_close(
            ours(**kwargs, reduction=reduction)(*args), theirs(**their_kwargs, reduction=reduction)(*args),
            rtol=1e-13, atol=1e-15,
        )


def test_bad_settings_fail_at_construction():
    with pytest.raises(ValueError, match=r"`delta` must be a finite number > 0; got -1"):
        mt.Huber(delta=-1)
    with pytest.raises(ValueError, match=r"`reduction` must be one of"):
        mt.Huber(reduction="batchmean")
    with pytest.raises(TypeError, match=r"Huber\(\) got unexpected keyword argument\(s\) \['beta'\]"):
        mt.Huber(beta=1.0)
    with pytest.raises(TypeError, match=r"takes 2 arrays \('y_pred', 'y_true'\); got 1"):
        mt.Huber()(torch.zeros(3))


def test_every_module_compiles_without_graph_breaks():
    """All modules in one torch.compile(fullgraph=True) graph give their eager values and gradients."""
    setups = []
    for case in CASES:
        cls, args = forward_args(case, "float32")
        args = [a.requires_grad_(True) if a.is_floating_point() else a for a in args]
        setups.append((cls(**case.params), args))

    def all_losses(setups):
        return [module(*args) for module, args in setups]

    eager = all_losses(setups)
    compiled = torch.compile(all_losses, fullgraph=True, backend="aot_eager")(setups)
    for case, (_, args), e, c in zip(CASES, setups, eager, compiled):
        torch.testing.assert_close(c, e, rtol=PEER_ULPS * EPS["float32"], atol=1e-30, msg=case.id)
        floats = [a for a in args if a.requires_grad]
        # one compiled graph serves all outputs: keep it for the next case's backward
        g_eager = torch.autograd.grad(e, floats, allow_unused=True)
        g_compiled = torch.autograd.grad(c, floats, retain_graph=True, allow_unused=True)
        for a, ge, gc in zip(floats, g_eager, g_compiled):  # None: no path (the graph dropped it)
            ge, gc = (torch.zeros_like(a) if g is None else g for g in (ge, gc))
            torch.testing.assert_close(gc, ge, rtol=PEER_ULPS * EPS["float32"], atol=1e-30, msg=case.id)


def test_a_model_trains_with_a_compiled_module():
    model = nn.Linear(3, 3).double()
    x, target = torch.randn(8, 3, dtype=torch.float64), torch.randn(8, 3, dtype=torch.float64)
    criterion = mt.Huber(delta=0.5)

    def step(x, target):
        return criterion(model(x), target)

    eager = step(x, target)
    (g_eager,) = torch.autograd.grad(eager, [model.weight])
    compiled = torch.compile(step, fullgraph=True, backend="aot_eager")(x, target)
    (g_compiled,) = torch.autograd.grad(compiled, [model.weight])
    torch.testing.assert_close(compiled, eager, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(g_compiled, g_eager, rtol=1e-12, atol=1e-15)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_modules_on_cuda_stay_on_the_device():
    for case in CASES:
        cls, args = forward_args(case, "float32")
        cpu = cls(**case.params)(*args)
        out = cls(**case.params)(*(a.cuda() for a in args))
        assert out.device.type == "cuda"
        torch.testing.assert_close(out.cpu(), cpu, rtol=1e-5, atol=1e-6)


def test_convention_torch_is_torchs_own_loss():
    """BinaryCrossEntropy(convention="torch") is nn.BCELoss, its −100 clamp included, for each
    reduction and with torch's element weights (mean(w·ℓ), not Σwℓ/Σw)."""
    p = torch.tensor([[0.0, 0.3, 1.0], [0.9, 1e-30, 0.5]], dtype=torch.float64)
    y = torch.tensor([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]], dtype=torch.float64)
    w = torch.tensor([[0.5, 1.0, 2.0], [0.0, 1.5, 1.0]], dtype=torch.float64)
    for reduction in ("mean", "sum", "none"):
        ours = mt.BinaryCrossEntropy(convention="torch", reduction=reduction)
        assert "convention='torch'" in repr(ours)
        torch.testing.assert_close(ours(p, y), nn.BCELoss(reduction=reduction)(p, y), rtol=0, atol=1e-13)
        torch.testing.assert_close(ours(p, y, sample_weight=w), nn.BCELoss(weight=w, reduction=reduction)(p, y),
                                   rtol=0, atol=1e-13)
    with pytest.raises(ValueError, match=r"`convention` must be one of \['torch'\] for smooth_l1; got 'keras'"):
        mt.SmoothL1(convention="keras")
