"""The frameworks' own sequence losses (:mod:`multiloss.losses.sequence`), and the 1-D slice
``multiloss plot`` draws of CTC."""

from __future__ import annotations

from multiloss.losses import sequence as losses
from multiloss.natives import Fixed, Native, keras_class, register, unreduced
from multiloss.plot import Sweep, grid

_NO_CTC = "scikit-learn has no sequence loss."


def _whole(xp, lengths, dtype):
    return xp.astype(lengths, dtype)


def _torch_args(xp, arrays):
    """F.ctc_loss's arguments: time-major log-probabilities (T, N, C), int64 targets and lengths."""
    import torch

    log_probs = torch.log_softmax(arrays["logits"], dim=-1).transpose(0, 1)
    return (log_probs, arrays["labels"], _whole(xp, arrays["logit_lengths"], torch.int64),
            _whole(xp, arrays["label_lengths"], torch.int64))


def _keras_args(xp, arrays):
    """keras.ops.ctc_loss's arguments: targets, logits (N, T, C), int32 lengths."""
    return (arrays["labels"], arrays["logits"], _whole(xp, arrays["label_lengths"], xp.int32),
            _whole(xp, arrays["logit_lengths"], xp.int32))


def _keras_class_args(xp, arrays):
    """keras.losses.CTC's y_true and y_pred: it takes no lengths (below)."""
    return arrays["labels"], arrays["logits"]


def _paddings(xp, lengths, size, dtype):
    return xp.astype(xp.arange(size, dtype=lengths.dtype)[None, :] >= lengths[:, None], dtype)


def _optax_args(xp, arrays):
    """optax's arguments: logits, their paddings (N, T), labels, their paddings (N, S) (1 = padding)."""
    logits, labels = arrays["logits"], arrays["labels"]
    return (logits, _paddings(xp, arrays["logit_lengths"], logits.shape[1], logits.dtype), labels,
            _paddings(xp, arrays["label_lengths"], labels.shape[1], logits.dtype))


_TORCH_SIGNATURE = ("torch.nn.functional.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, "
                    "reduction='mean', zero_infinity=False)")
_TORCH_NOTES = (
    ("PyTorch takes log-probabilities (apply log_softmax first), time-major (T, N, C), and targets padded "
     "(N, S) or concatenated (sum of target_lengths,); its arguments come predictions first, input lengths "
     "before target lengths."),
    ("PyTorch's reduction='mean' divides each sequence's loss by its target length (at least 1) before the "
     "batch mean: our per_label=True, convention='torch'; reduction='none' and 'sum' do not."),
    ("An impossible alignment gives inf, and with zero_infinity=True 0 with a zero gradient, as here; "
     "torch.compile cannot trace F.ctc_loss (its output shape depends on the lengths), ours it can."),
)
_OPTAX_SIGNATURE = ("optax.losses.ctc_loss(logits, logit_paddings, labels, label_paddings, *, blank_id=0, "
                    "log_epsilon=-100000.0)")
_OPTAX_NOTES = (
    ("optax takes paddings (1.0 marks a padded frame or label, right-padded) where PyTorch and Keras take "
     "lengths; ours takes either (a 2-D length input is read as paddings)."),
    ("optax's log(0) is log_epsilon = −1e5, so a sequence with no alignment gets a large finite loss (about "
     "1e5 per missing frame) rather than inf, and zero_infinity has no counterpart there."),
)

def _ctc_sweep(params, x_range):
    """Two frames of two classes (the blank and class 1), labels [1]: the loss against the
    logit x of class 1 in both frames (the blank's 0): −log(1 − (1 − σ(x))²)."""
    blank = params["blank"]
    if blank not in (0, 1):
        raise ValueError(f"--param blank={blank!r}: plot sweeps ctc over two classes, blank 0 or 1")
    label = 1 - blank

    def build(xp, x):
        z = xp.zeros_like(x)
        frame = xp.stack([z, x] if blank == 0 else [x, z], axis=-1)
        ones = xp.ones_like(x)
        return {"labels": xp.reshape(xp.astype(ones * label, xp.int64), (-1, 1)),
                "logits": xp.stack([frame, frame], axis=1), "label_lengths": ones, "logit_lengths": 2.0 * ones}

    return Sweep(f"logit of class {label} in both of 2 frames (blank's 0), labels [{label}]", "x",
                 grid(*(x_range or (-6.0, 6.0)), [0.0]), {f"labels = [{label}], T = 2": build}, marks=(0.0,))


register(
    losses.ctc,
    unreduced("torch.nn.functional.ctc_loss", {"blank": "blank", "zero_infinity": "zero_infinity"},
              args=_torch_args, when={"per_label": False},
              signature=_TORCH_SIGNATURE, reduction="reduction='none': one loss per sequence",
              safeguards="zero_infinity=False: impossible alignments give inf",
              label_format="targets (N, S) int, padded; input_lengths and target_lengths (N,) int",
              notes=_TORCH_NOTES),
    Native("torch.nn.functional.ctc_loss", {"blank": "blank", "zero_infinity": "zero_infinity",
                                            "reduction": Fixed("mean")},
           args=_torch_args, per="mean",
           signature=_TORCH_SIGNATURE,
           reduction="the mean over the batch of each loss divided by its target length",
           safeguards="zero_infinity=False: impossible alignments give inf",
           label_format="targets (N, S) int, padded; input_lengths and target_lengths (N,) int",
           notes=_TORCH_NOTES[1:2]),
    Native("keras.ops.ctc_loss", {"mask_index": "blank"}, args=_keras_args, exact=False,
           when={"zero_infinity": False, "per_label": False},
           signature="keras.ops.ctc_loss(target, output, target_length, output_length, mask_index=0)",
           reduction="none: one loss per sequence",
           safeguards="none (tf.nn.ctc_loss underneath, on the TensorFlow backend)",
           label_format="target (N, S) int, padded; target_length and output_length (N,) int",
           notes=(("Keras's TensorFlow backend computes CTC in float32 even for float64 logits (tf.nn.ctc_loss "
                   "takes no float64) and returns float64: about 1e-7 relative off in float64, equal to rounding "
                   "in float32."),
                  "Keras calls the blank mask_index; the logits are unnormalized, as here.")),
    keras_class("keras.losses.CTC", args=_keras_class_args, exact=False,
                when={"zero_infinity": False, "per_label": False, "blank": 0},
                signature="keras.losses.CTC(reduction='sum_over_batch_size', name='ctc', dtype=None)",
                safeguards="none", label_format="y_true (N, S) int padded with 0, y_pred logits (N, T, C)",
                notes=(("keras.losses.CTC takes no lengths: every sequence has all T frames, its label length is "
                        "the count of non-zero labels, and the blank is 0; with shorter sequences call "
                        "keras.ops.ctc_loss, which takes them."),)),
    Native("optax.losses.ctc_loss", {"blank_id": "blank"}, args=_optax_args,
           when={"zero_infinity": False, "per_label": False},
           signature=_OPTAX_SIGNATURE, reduction="none: one loss per sequence",
           safeguards="log_epsilon = −1e5 stands for log 0",
           label_format="labels (N, S) int with label_paddings (N, S), logit_paddings (N, T): 1.0 = padding",
           notes=_OPTAX_NOTES),
    Native("optax.losses.ctc_loss_with_forward_probs", {"blank_id": "blank"}, args=_optax_args, exact=False,
           when={"zero_infinity": False, "per_label": False},
           unchecked=("it returns (loss, log α of blanks, log α of labels): its loss is optax.losses.ctc_loss's, "
                      "compared above"),
           signature="optax.losses.ctc_loss_with_forward_probs(logits, logit_paddings, labels, label_paddings, *, "
                     "blank_id=0, log_epsilon=-100000.0)",
           reduction="none: one loss per sequence, with the forward log-probabilities",
           safeguards="log_epsilon = −1e5 stands for log 0",
           label_format="as optax.losses.ctc_loss",
           notes=(("It returns a tuple, (optax.losses.ctc_loss's values, log α of the blank states, log α of the "
                   "label states), the forward variables, (T, N, S + 1) and (T, N, S)."),)),
    absent={"sklearn": _NO_CTC},
    sweep=_ctc_sweep,
)
