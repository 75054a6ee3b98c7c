"""Box losses (GIoU, DIoU, CIoU): worked values from the definitions, degenerate and disjoint
boxes, symmetry, CIoU's α without gradient, bad boxes, and torchvision's documented formulas
(torchvision itself cannot be imported here: its natives are recorded unchecked)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import multiloss as ml
from conftest import load_backend
from multiloss import cli
from multiloss.natives import of as natives_of
from tests.test_classification import arrays, value
from tests.test_embedding import grads

LOSSES = (ml.generalized_box_iou, ml.distance_box_iou, ml.complete_box_iou)
NAMES = [f.__name__ for f in LOSSES]


def per_pair(backend, fn, y_true, y_pred, **params):
    t, p = arrays(backend, y_true, y_pred)
    return value(backend, fn(t, p, reduction="none", **params))


# --- worked values, by hand --------------------------------------------------------------------
# Unit target [0, 1]²; the predictions: identical; disjoint, 1 to the right; inside a 4 × 4 box.
TARGETS = [[0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 4, 4]]
PREDICTIONS = [[0, 0, 1, 1], [2, 0, 3, 1], [1, 1, 3, 3]]
# identical: 0. disjoint: IoU 0, U = 2, C = 3 (GIoU 1 + 1/3); centres 2 apart, enclosing diagonal² 3² + 1²
# (DIoU 1 + 4/10). nested: I = 4, U = 16, IoU ¼, C = the outer box, same centre (¾ for all three).
# Same aspect everywhere: CIoU = DIoU.
WORKED = {"generalized_box_iou": [0.0, 4 / 3, 0.75], "distance_box_iou": [0.0, 1.4, 0.75],
          "complete_box_iou": [0.0, 1.4, 0.75]}


@pytest.mark.parametrize("fn", LOSSES, ids=NAMES)
def test_worked_values_without_eps(backend, fn):
    np.testing.assert_allclose(per_pair(backend, fn, TARGETS, PREDICTIONS, eps=0.0), WORKED[fn.__name__],
                               rtol=1e-15, atol=1e-16)


@pytest.mark.parametrize("fn", LOSSES, ids=NAMES)
def test_eps_enters_the_denominators_as_torchvision(backend, fn):
    eps = 1e-7
    # identical unit boxes: 1 − 1/(1 + ε) = ε/(1 + ε); disjoint: 1 + 1/(3 + ε) or 1 + 4/(10 + ε);
    # nested: 1 − 4/(16 + ε) + 0.
    second = 1 + 1 / (3 + eps) if fn is ml.generalized_box_iou else 1 + 4 / (10 + eps)
    want = [eps / (1 + eps), second, 1 - 4 / (16 + eps)]
    np.testing.assert_allclose(per_pair(backend, fn, TARGETS, PREDICTIONS), want, rtol=1e-15)


def test_aspect_ratio_term_by_hand(backend):
    # target 2 wide, 1 high; prediction 1 wide, 2 high, sharing the corner (0, 0): I = 1, U = 3,
    # C = [0, 2]², centres (1, ½) and (½, 1): ρ² = ½, c² = 8.
    t, p = [[0, 0, 2, 1]], [[0, 0, 1, 2]]
    iou, centre = 1 / 3, 0.5 / 8
    v = 4 / math.pi**2 * (math.atan(2.0) - math.atan(0.5)) ** 2
    alpha = v / (1 - iou + v)
    got = {fn.__name__: per_pair(backend, fn, t, p, eps=0.0)[0] for fn in LOSSES}
    assert got["generalized_box_iou"] == pytest.approx(1 - iou + (4 - 3) / 4, rel=1e-15)
    assert got["distance_box_iou"] == pytest.approx(1 - iou + centre, rel=1e-15)
    assert got["complete_box_iou"] == pytest.approx(1 - iou + centre + alpha * v, rel=1e-15)


@pytest.mark.parametrize("fn", LOSSES, ids=NAMES)
def test_giou_example_of_the_paper_shape(backend, fn):
    """GIoU = IoU − |C \\ (A ∪ B)|/|C| (Rezatofighi et al., Algorithm 1) for boxes overlapping at a
    corner: A = [0, 2]², B = [1, 3]²: I = 1, U = 7, C = 9, GIoU = 1/7 − 2/9, loss 1 − GIoU."""
    got = per_pair(backend, fn, [[0, 0, 2, 2]], [[1, 1, 3, 3]], eps=0.0)[0]
    # DIoU: centres (1, 1) and (2, 2): ρ² = 2, c² = 18; same aspect: CIoU = DIoU
    want = 1 - 1 / 7 + (2 / 9 if fn is ml.generalized_box_iou else 2 / 18)
    assert got == pytest.approx(want, rel=1e-15)


# --- properties ----------------------------------------------------------------------------------
def _random_boxes(rng, n):
    corner = rng.uniform(-5, 5, (n, 2))
    return np.concatenate([corner, corner + rng.uniform(0.1, 4, (n, 2))], axis=-1)


@pytest.mark.parametrize("fn", LOSSES, ids=NAMES)
def test_symmetric_and_invariant_under_translation_and_scale(backend, fn):
    rng = np.random.default_rng(3)
    a, b = _random_boxes(rng, 16), _random_boxes(rng, 16)
    base = per_pair(backend, fn, a, b, eps=0.0)
    np.testing.assert_allclose(per_pair(backend, fn, b, a, eps=0.0), base, rtol=1e-13)
    shift = np.array([3.25, -7.5, 3.25, -7.5])
    np.testing.assert_allclose(per_pair(backend, fn, a + shift, b + shift, eps=0.0), base, rtol=1e-12)
    np.testing.assert_allclose(per_pair(backend, fn, 2.0**-40 * a, 2.0**-40 * b, eps=0.0), base, rtol=1e-13)
    assert np.all((base >= 0) & (base < 3))  # GIoU, DIoU < 2; CIoU < 3 (αv < 1)


@pytest.mark.parametrize("fn", LOSSES, ids=NAMES)
def test_degenerate_and_disjoint_boxes_are_finite_with_gradients(backend, fn):
    """Zero-area boxes (a point, a line), a point on a point, and boxes far apart: finite values
    and gradients with the default eps and with eps = 0."""
    t = [[0, 0, 1, 1], [2, 2, 2, 2], [0, 0, 4, 0], [1, 1, 1, 1], [0, 0, 1, 1]]
    p = [[3, 3, 3, 3], [2, 2, 2, 2], [1, -1, 3, 2], [5, 5, 5, 5], [1e3, 1e3, 1e3 + 1, 1e3 + 2]]
    for eps in (1e-7, 0.0):
        out = per_pair(backend, fn, t, p, eps=eps)
        assert np.all(np.isfinite(out)), (eps, out)
        ta, pa = arrays(backend, t, p)
        g = grads(backend, lambda a, b, eps=eps: fn(a, b, eps=eps, reduction="sum"), ta, pa)
        assert all(np.all(np.isfinite(x)) for x in g), (eps, g)


@pytest.mark.parametrize("fn", LOSSES, ids=NAMES)
def test_point_boxes_far_apart_in_float32_have_finite_gradients(backend, fn):
    """Point boxes at 0 and at 2⁵³: scaled to unit size, ε = 1e-7 becomes 1e-7·2⁻¹⁰⁶, subnormal
    in float32; it is held at the smallest normal number, so 1/(U + ε)'s gradient stays finite."""
    t, p = arrays(backend, [[0.0] * 4], [[2.0**53] * 4], dtype="float32")
    g = grads(backend, lambda a, b: fn(a, b, reduction="sum"), t, p)
    assert all(np.all(np.isfinite(x)) for x in g), g


def test_identical_point_boxes_lose_one_as_eps_goes_to_zero(backend):
    """Two identical points: torchvision's 1 − 0/(0 + ε) = 1 for every ε > 0, and ours at ε = 0."""
    for fn in LOSSES:
        for eps in (1e-7, 0.0):
            assert per_pair(backend, fn, [[2, 2, 2, 2]], [[2, 2, 2, 2]], eps=eps)[0] == 1.0


@pytest.mark.parametrize("fn", LOSSES, ids=NAMES)
def test_nan_in_nan_out(backend, fn):
    t, p = [[0, 0, 1, 1], [0, 0, 1, 1]], [[math.nan, 0, 1, 1], [0.5, 0, 1.5, 1]]
    out = per_pair(backend, fn, t, p)
    assert math.isnan(out[0]) and math.isfinite(out[1])
    assert math.isnan(per_pair(backend, fn, [[0, 0, 1, math.nan]], [[0, 0, 1, 1]])[0])


def test_huge_and_tiny_coordinates(backend):
    """Coordinates whose areas overflow (float32: 1e20² > 3e38) or would be subnormal: the losses
    are ratios, computed from scaled coordinates."""
    for scale in (1e20, 1e-20):
        for fn in LOSSES:
            t, p = arrays(backend, np.array(TARGETS) * scale, np.array(PREDICTIONS) * scale, dtype="float32")
            out = value(backend, fn(t, p, eps=0.0, reduction="none"))
            np.testing.assert_allclose(out, WORKED[fn.__name__], rtol=1e-6, atol=1e-7)


def test_ciou_alpha_carries_no_gradient(backend):
    """d CIoU = d DIoU + α·dv, α held: the paper's gradient and torchvision's (no_grad)."""
    t, p = [[0.0, 0.0, 2.0, 1.0]], [[0.25, 0.5, 1.5, 2.5]]
    ta, pa = arrays(backend, t, p)
    g_c = grads(backend, lambda a, b: ml.complete_box_iou(a, b, eps=0.0, reduction="sum"), ta, pa)[1]
    g_d = grads(backend, lambda a, b: ml.distance_box_iou(a, b, eps=0.0, reduction="sum"), ta, pa)[1]
    # v's gradient by hand with respect to (x1, y1, x2, y2): θ = atan(w/h), dθ/dw = h/(w² + h²),
    # dθ/dh = −w/(w² + h²); v = 4/π²(θ_gt − θ)²
    w, h = 1.25, 2.0
    gap = math.atan(2.0) - math.atan(w / h)
    dv_dtheta = -8 / math.pi**2 * gap
    dtheta = np.array([-h, w, h, -w]) / (w * w + h * h)  # d/dx1 = −d/dw, d/dy1 = −d/dh
    i = 1.25 * 0.5  # overlap [0.25, 1.5] × [0.5, 1]
    iou = i / (2.0 + w * h - i)
    v = 4 / math.pi**2 * gap**2
    alpha = v / (1 - iou + v)
    np.testing.assert_allclose(g_c[0] - g_d[0], alpha * dv_dtheta * dtheta, rtol=1e-12)


# --- torchvision, from its documented formulas -------------------------------------------------
def _torchvision_formula(name, boxes1, boxes2, eps=1e-7):
    """torchvision.ops's box losses as its documentation and source define them, in PyTorch:
    boxes1 the prediction, boxes2 the target; the intersection as a masked product, w/h in the
    aspect term, α under no_grad."""
    import torch

    x1, y1, x2, y2 = boxes1.unbind(-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(-1)
    iw, ih = torch.min(x2, x2g) - torch.max(x1, x1g), torch.min(y2, y2g) - torch.max(y1, y1g)
    inter = torch.where((iw > 0) & (ih > 0), iw * ih, torch.zeros_like(iw))
    union = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - inter
    iou = inter / (union + eps)
    cw, ch = torch.max(x2, x2g) - torch.min(x1, x1g), torch.max(y2, y2g) - torch.min(y1, y1g)
    if name == "generalized_box_iou":
        area = cw * ch
        return 1 - (iou - (area - union) / (area + eps))
    rho2 = ((x1 + x2) / 2 - (x1g + x2g) / 2) ** 2 + ((y1 + y2) / 2 - (y1g + y2g) / 2) ** 2
    diou = 1 - iou + rho2 / (cw**2 + ch**2 + eps)
    if name == "distance_box_iou":
        return diou
    v = 4 / math.pi**2 * (torch.atan((x2g - x1g) / (y2g - y1g)) - torch.atan((x2 - x1) / (y2 - y1))) ** 2
    with torch.no_grad():
        alpha = v / (1 - iou + v + eps)
    return diou + alpha * v


@pytest.mark.parametrize("name", NAMES)
def test_torchvision_formulas_agree_in_value_and_gradient(name):
    """Where torchvision's documented formula is defined, ours equals it at its defaults
    (eps = 1e-7), values and gradients; it takes (boxes1, boxes2) = (y_pred, y_true)."""
    tb = load_backend("torch")
    import torch

    rng = np.random.default_rng(11)
    t, p = _random_boxes(rng, 64), _random_boxes(rng, 64)
    tt, pt = (torch.tensor(x, requires_grad=True) for x in (t, p))
    theirs = _torchvision_formula(name, pt, tt)
    theirs.sum().backward()
    ours_t, ours_p = (torch.tensor(x, requires_grad=True) for x in (t, p))
    ours = getattr(ml, name)(ours_t, ours_p, reduction="none", convention="torch")
    ours.sum().backward()
    np.testing.assert_allclose(value(tb, ours.detach()), theirs.detach().numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(ours_p.grad.numpy(), pt.grad.numpy(), rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(ours_t.grad.numpy(), tt.grad.numpy(), rtol=1e-11, atol=1e-13)


def test_torchvision_ciou_is_nan_where_ours_is_finite():
    """The documented differences: a point box makes torchvision's w/h 0/0 (NaN); a box of zero
    height gives atan(w/0) = π/2 in both, but torchvision's gradient is NaN; touching boxes get no
    intersection gradient from torchvision's strict mask, half of the one-sided slope here."""
    load_backend("torch")
    import torch

    point = torch.tensor([[2.0, 2.0, 2.0, 2.0]], dtype=torch.float64)
    box = torch.tensor([[0.0, 0.0, 3.0, 3.0]], dtype=torch.float64)
    assert torch.isnan(_torchvision_formula("complete_box_iou", point, box)).all()
    assert torch.isfinite(ml.complete_box_iou(box, point, reduction="none")).all()

    flat = torch.tensor([[0.5, 1.0, 2.5, 1.0]], dtype=torch.float64, requires_grad=True)
    theirs = _torchvision_formula("complete_box_iou", flat, box)
    ours_in = flat.detach().clone().requires_grad_(True)
    ours = ml.complete_box_iou(box, ours_in, reduction="none")
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-14)
    theirs.sum().backward()
    ours.sum().backward()
    assert torch.isnan(flat.grad).any() and torch.isfinite(ours_in.grad).all()

    # DIoU of a prediction touching the unit box at x = 1: moving its x1 left adds overlap (d(−I/U)/dx1
    # = 1/U = ½ there), right adds none; torchvision's mask gives 0, ours the midpoint ¼.
    touching = torch.tensor([[1.0, 0.0, 2.0, 1.0]], dtype=torch.float64, requires_grad=True)
    unit = torch.tensor([[0.0, 0.0, 1.0, 1.0]], dtype=torch.float64)
    ours_in = touching.detach().clone().requires_grad_(True)
    _torchvision_formula("distance_box_iou", touching, unit, eps=0.0).sum().backward()
    ml.distance_box_iou(unit, ours_in, eps=0.0, reduction="sum").backward()
    assert (ours_in.grad - touching.grad)[0].tolist() == pytest.approx([0.25, 0.0, 0.0, 0.0], abs=1e-15)


def test_torchvision_natives_are_recorded_unchecked():
    for name in NAMES:
        entry = natives_of(name)
        (native,) = entry.natives
        assert native.api == f"torchvision.ops.{name}_loss" and native.framework == "torch"
        assert native.signature == f"torchvision.ops.{name}_loss(boxes1, boxes2, reduction='none', eps=1e-07)"
        assert "torchvision cannot be imported" in native.unchecked
        assert native.order == ("y_pred", "y_true") and native.kwargs == {"eps": "eps"}
        assert set(entry.absent) == {"keras", "optax", "sklearn"}
        assert native.convention is not None and native.convention.values == {"eps": 1e-7}


def test_compare_lists_torchvision_as_not_compared(capsys):
    pytest.importorskip("torch", reason="torch is not installed: compare lists the natives of loaded backends")
    status = cli.main(["compare", "generalized_box_iou", "--backends", "numpy,torch"])
    out, _ = capsys.readouterr()
    assert status == 0, out
    not_compared = out.split("Not compared at these parameters:", 1)[1]
    assert "torchvision.ops.generalized_box_iou_loss: torchvision cannot be imported" in not_compared


# --- bad input -----------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", LOSSES, ids=NAMES)
def test_bad_boxes_name_the_argument_and_backend(backend, fn):
    b = backend.xp.backend
    good = [[0, 0, 1, 1], [0, 0, 2, 2]]
    for name, t, p in (("y_true", [[1, 0, 0, 1], [0, 0, 2, 2]], good), ("y_pred", good, [[0, 0, 1, 1], [0, 3, 2, 2]])):
        with pytest.raises(ValueError, match=rf"`{name}` must be boxes \(x1, y1, x2, y2\) with x2 ≥ x1 and y2 ≥ y1; "
                                             rf"1 value\(s\) are not \({b}\)"):
            fn(*arrays(backend, t, p))
    with pytest.raises(ValueError, match=rf"last axis of size 4; got shape \(2, 3\) \({b}\)"):
        fn(*arrays(backend, np.zeros((2, 3)), np.zeros((2, 3))))
    with pytest.raises(ValueError, match=rf"same shape; got \(2, 4\) and \(1, 4\) \({b}\)"):
        fn(*arrays(backend, np.zeros((2, 4)), np.zeros((1, 4))))
    with pytest.raises(ValueError, match=r"`eps` must be a finite number >= 0; got -1e-07"):
        fn(*arrays(backend, good, good), eps=-1e-7)


def test_bad_boxes_are_nan_under_jit():
    jb = load_backend("jax")
    import jax

    t, p = arrays(jb, [[0, 0, 1, 1], [0, 0, 1, 1]], [[1, 0, 0, 1], [0, 0, 1, 1]])
    for fn in LOSSES:
        out = value(jb, jax.jit(lambda a, b, fn=fn: fn(a, b, reduction="none"))(t, p))
        assert math.isnan(out[0]) and out[1] == pytest.approx(1e-7, rel=1e-6)


def test_one_pair_without_a_batch_axis(backend):
    out = per_pair(backend, ml.generalized_box_iou, [0, 0, 1, 1], [2, 0, 3, 1], eps=0.0)
    assert out.shape == () and float(out) == pytest.approx(4 / 3, rel=1e-15)
