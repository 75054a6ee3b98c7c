"""CTC on a toy alignment
======================

Connectionist temporal classification (CTC) scores a label sequence against frames without
saying which frame emits which label: it sums over every *alignment*, a path of one class per
frame that collapses to the labels once repeats are merged and blanks dropped ("a_ab" → "aab").

Three classes (the blank "_" = 0, "a" = 1, "b" = 2) and four frames, each uniform over the three
classes (all logits 0): every path has probability 1/3⁴ = 1/81, so the loss is −log(number of
alignments / 81), the same on every framework. A repeated label needs a blank between its copies:
"aa" has fewer alignments than "ab", "aab" only one, and "aaa" (five frames at least) none: its
loss is inf, or 0 with ``zero_infinity=True`` (PyTorch's option, which drops such sequences).

Run: python examples/07_ctc_alignment.py
"""

import itertools

import numpy as np
from _frameworks import agree, frameworks, table

import multiloss as ml

CLASSES = "_ab"  # index 0 is the blank
FRAMES = 4
WORDS = ("ab", "aa", "aab", "aaa")


def collapse(path):
    """The labels a path emits: repeats merged, then blanks dropped."""
    merged = [c for i, c in enumerate(path) if i == 0 or c != path[i - 1]]
    return "".join(c for c in merged if c != "_")


def alignments(word, frames=FRAMES):
    """Every path of ``frames`` classes that collapses to ``word``."""
    return ["".join(p) for p in itertools.product(CLASSES, repeat=frames) if collapse(p) == word]


def batch():
    """(labels padded with the blank, label lengths, logits (all 0), logit lengths), NumPy."""
    width = max(map(len, WORDS))
    labels = np.array([[CLASSES.index(c) for c in w] + [0] * (width - len(w)) for w in WORDS], np.int64)
    lengths = np.array([len(w) for w in WORDS], np.int64)
    return labels, lengths, np.zeros((len(WORDS), FRAMES, len(CLASSES))), np.full(len(WORDS), FRAMES, np.int64)


def main():
    labels, label_lengths, logits, logit_lengths = batch()
    print(f"{FRAMES} frames, uniform over {len(CLASSES)} classes ('_' the blank): each path has probability "
          f"1/{len(CLASSES) ** FRAMES}\n")
    table(["labels", "alignments", "probability", "−log p"],
          [(w, len(alignments(w)), f"{len(alignments(w))}/{len(CLASSES) ** FRAMES}",
            -np.log(len(alignments(w)) / len(CLASSES) ** FRAMES) if alignments(w) else "inf") for w in WORDS])
    print(f"\nthe alignments of 'aa': {', '.join(alignments('aa'))}\n")

    rows, values = [], {}
    for name, to_array in frameworks():
        x = to_array(logits)
        # labels and lengths as Python lists: multiloss makes them the framework's integer arrays
        y, ly, lx = labels.tolist(), label_lengths.tolist(), logit_lengths.tolist()
        loss = np.asarray(ml.ctc(y, x, ly, lx, reduction="none"), np.float64)
        dropped = float(np.asarray(ml.ctc(y, x, ly, lx, zero_infinity=True)))
        rows.append((name, *map(float, loss), dropped))
        values[name] = np.append(np.where(np.isfinite(loss), loss, -1.0), dropped)
    print("ml.ctc per sequence, and the mean with zero_infinity=True ('aaa' counted as 0):")
    table(["framework", *WORDS, "mean, zero_infinity"], rows)
    agree(values)


if __name__ == "__main__":
    main()
