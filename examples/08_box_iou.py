"""Box losses on two boxes: GIoU, DIoU and CIoU
=============================================

Three bounding-box regression losses (torchvision.ops's), on a target box and a prediction, on
every installed framework; then the prediction slides to the right, past the target.

1 − IoU is 1 for every prediction that misses the target, however far: no gradient tells a
missing box which way to move. GIoU (Rezatofighi et al. 2019) adds the share of the smallest
enclosing box that neither box covers, DIoU (Zheng et al. 2020) the squared distance of the
centres over the enclosing box's squared diagonal: both keep growing with the distance. CIoU
adds an aspect-ratio term to DIoU, αv, nonzero here as the two boxes have different shapes.
Boxes are (x1, y1, x2, y2); ``eps`` is torchvision's 1e-7.

Run: python examples/08_box_iou.py [--out DIR]   (saves DIR/box_iou.png, default DIR: .)
"""

import argparse

import numpy as np
from _frameworks import agree, frameworks, save, table, two_panels

import multiloss as ml

TARGET = np.array([1.0, 1.0, 4.0, 3.0], np.float32)  # 3 wide, 2 high
PREDICTION = np.array([2.0, 1.5, 4.5, 4.5], np.float32)  # 2.5 wide, 3 high
SHIFTS = np.array([0.0, 1.0, 2.5, 4.0, 8.0], np.float32)  # the prediction moved right by each
LOSSES = {"GIoU": ml.generalized_box_iou, "DIoU": ml.distance_box_iou, "CIoU": ml.complete_box_iou}


def iou(target, pred):
    """The plain IoU of box pairs (last axis), in NumPy: intersection over union."""
    w = np.clip(np.minimum(target[..., 2], pred[..., 2]) - np.maximum(target[..., 0], pred[..., 0]), 0, None)
    h = np.clip(np.minimum(target[..., 3], pred[..., 3]) - np.maximum(target[..., 1], pred[..., 1]), 0, None)
    area = (target[..., 2] - target[..., 0]) * (target[..., 3] - target[..., 1])
    area_pred = (pred[..., 2] - pred[..., 0]) * (pred[..., 3] - pred[..., 1])
    return w * h / (area + area_pred - w * h)


def shifted(shifts):
    """(targets, predictions): the prediction moved right by each shift."""
    pred = np.tile(PREDICTION, (shifts.size, 1))
    pred[:, [0, 2]] += shifts[:, None]
    return np.tile(TARGET, (shifts.size, 1)), pred


def plot(out):
    """The two boxes (left) and the losses as the prediction slides along x (right): ``out/box_iou.png``."""
    panels = two_panels()
    if panels is None:
        return
    fig, (left, right) = panels
    from matplotlib.patches import Rectangle

    for box, label, style, color in ((TARGET, "target", "-", "tab:blue"), (PREDICTION, "prediction", "--", "tab:red")):
        left.add_patch(Rectangle(box[:2], box[2] - box[0], box[3] - box[1], fill=False, linestyle=style, color=color,
                                 linewidth=2, label=label))
    c = np.minimum(TARGET[:2], PREDICTION[:2]), np.maximum(TARGET[2:], PREDICTION[2:])
    left.add_patch(Rectangle(c[0], *(c[1] - c[0]), fill=False, linestyle=":", color="gray", label="enclosing box"))
    left.set(xlim=(0, 6), ylim=(0, 5), aspect="equal", title="target and prediction")
    shifts = np.linspace(-7.0, 7.0, 561, dtype=np.float32)
    targets, preds = shifted(shifts)
    right.plot(shifts, 1 - iou(targets, preds), label="1 − IoU", color="gray")
    for name, fn in LOSSES.items():
        right.plot(shifts, np.asarray(fn(targets, preds, reduction="none")), label=name)
    right.set(title="the prediction moved right by x", xlabel="x", ylabel="loss")
    save(fig, out, "box_iou.png")


def main(argv=None):
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--out", default=".", help="folder for box_iou.png (default: current folder)")
    args = parser.parse_args(argv)

    print(f"target {TARGET.tolist()}, prediction {PREDICTION.tolist()}: IoU {float(iou(TARGET, PREDICTION)):.7g}\n")
    results = {name: np.array([float(fn(to_array(TARGET), to_array(PREDICTION))) for fn in LOSSES.values()])
               for name, to_array in frameworks()}
    table(["framework", *LOSSES], [(name, *values) for name, values in results.items()])
    agree(results)

    targets, preds = shifted(SHIFTS)
    columns = {name: np.asarray(fn(targets, preds, reduction="none")) for name, fn in LOSSES.items()}
    print("\nThe prediction moved right by x (NumPy): 1 − IoU stops at 1 once the boxes part (x > 2); "
          "GIoU and DIoU keep growing")
    table(["x", "1 − IoU", *LOSSES], [(f"{x:g}", float(1 - iou(t, p)), *(float(c[i]) for c in columns.values()))
                                     for i, (x, t, p) in enumerate(zip(SHIFTS, targets, preds))])
    plot(args.out)


if __name__ == "__main__":
    main()
