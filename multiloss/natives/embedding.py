"""The frameworks' embedding, similarity and ranking losses (:mod:`multiloss.losses.embedding`),
and the 1-D slices ``multiloss plot`` draws of them."""

from __future__ import annotations

from multiloss.losses import embedding as losses
from multiloss.natives import Fixed, Native, keras_class, register, unreduced
from multiloss.plot import Sweep, grid, unit_at

_NO_TRIPLET = "Keras and scikit-learn have no triplet loss (TF-Addons' mines triplets in the batch)."
_NO_COSINE_EMBEDDING = "Keras, optax and scikit-learn have no cosine embedding loss."
_NO_MARGIN_RANKING = "Keras, optax and scikit-learn have no margin ranking loss."


def _euclidean(params, name):
    if params["distance"] != "euclidean":
        raise ValueError(f"--param distance={params['distance']!r}: plot sweeps {name} over the Euclidean distance "
                         "only")


def _contrastive_sweep(params, x_range):
    _euclidean(params, "contrastive")
    m = params["margin"]

    def pair(y):
        def build(xp, x):
            z = xp.zeros_like(x)
            return {"y_true": xp.full_like(x, y), "x1": xp.stack([z, z], axis=-1), "x2": xp.stack([x, z], axis=-1)}

        return build

    return Sweep("distance d = ‖x1 − x2‖", "d", grid(*(x_range or (0.0, max(3.0, 2 * m))), [m]),
                 {"y_true = 1 (similar)": pair(1.0), "y_true = 0 (dissimilar)": pair(0.0)}, marks=(m,))


register(losses.contrastive, sweep=_contrastive_sweep)


def _torch_cosine_distance(a, b):
    """1 − cos(a, b) by PyTorch: triplet_margin_with_distance_loss's usual distance_function."""
    import torch

    return 1.0 - torch.nn.functional.cosine_similarity(a, b)


def _triplet_sweep(params, x_range):
    _euclidean(params, "triplet_margin")
    kink = 1.0 + params["margin"]

    def build(xp, x):
        z = xp.zeros_like(x)
        return {"anchor": xp.stack([z, z], axis=-1), "positive": xp.stack([z + 1.0, z], axis=-1),
                "negative": xp.stack([z, x], axis=-1)}

    return Sweep("d(anchor, negative), with d(anchor, positive) = 1", "d(a, n)",
                 grid(*(x_range or (0.0, max(3.0, 2 * kink))), [kink]), {"d(a, p) = 1": build}, marks=(kink,))


register(
    losses.triplet_margin,
    unreduced("torch.nn.functional.triplet_margin_loss", {"margin": "margin", "p": "p", "eps": "eps", "swap": "swap"},
              signature="torch.nn.functional.triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, "
                        "eps=1e-06, swap=False, size_average=None, reduce=None, reduction='mean')",
              safeguards="eps = 1e-6 added to each component of a − p (pairwise_distance)",
              label_format="no labels: anchor, positive, negative of one shape (N, D) or (D,)",
              notes=("PyTorch raises for margin ≤ 0 (2.13); margin = 0 is allowed here.", _NO_TRIPLET)),
    Native("optax.losses.triplet_margin_loss", {"margin": "margin", "norm_degree": "p", "eps": "eps"},
           signature="optax.losses.triplet_margin_loss(anchors, positives, negatives, axis=-1, norm_degree=2, "
                     "margin=1.0, eps=1e-06)",
           safeguards="eps = 1e-6 under the root: a floor of √eps = 1e-3 on every distance",
           label_format="no labels: anchors, positives, negatives of one shape",
           notes=(("optax adds eps under the root, (Σ(a − p)² + eps)^(1/2), our eps_at='sum'; PyTorch and our "
                   "default add it to the difference vector."),
                  "optax has no abs() in the p-norm, so its odd norm degrees are wrong, and no swap.",
                  "With eps = 0 optax's gradient at zero distance is NaN.")),
    unreduced("torch.nn.functional.triplet_margin_with_distance_loss",
              {"distance_function": Fixed(None), "margin": "margin", "swap": "swap"},
              when={"distance": "euclidean", "p": 2.0, "eps": 1e-6, "eps_at": "difference"},
              signature="torch.nn.functional.triplet_margin_with_distance_loss(anchor, positive, negative, *, "
                        "distance_function=None, margin=1.0, swap=False, reduction='mean')",
              safeguards="its default distance is pairwise_distance: eps = 1e-6 added to a − p",
              label_format="no labels: anchor, positive, negative of one shape (N, D) or (D,)",
              notes=(("With distance_function=None it is triplet_margin_loss at p = 2; with a function it is "
                      "our distance=that function (given the backend's arrays)."),)),
    unreduced("torch.nn.functional.triplet_margin_with_distance_loss",
              {"distance_function": Fixed(_torch_cosine_distance), "margin": "margin", "swap": "swap"},
              when={"distance": "cosine"},
              signature="torch.nn.functional.triplet_margin_with_distance_loss(anchor, positive, negative, *, "
                        "distance_function=None, margin=1.0, swap=False, reduction='mean')",
              safeguards="cosine_similarity's norms at least 1e-8",
              label_format="no labels: anchor, positive, negative of one shape (N, D) or (D,)",
              notes=("distance_function=lambda a, b: 1 − cosine_similarity(a, b) is our distance='cosine'.",)),
    absent=dict.fromkeys(("keras", "sklearn"), _NO_TRIPLET),
    sweep=_triplet_sweep,
)


def _optax_views(xp, arrays):
    """optax.ntxent's arguments: the 2N views and their labels (i for both views of pair i)."""
    n = arrays["z1"].shape[0]
    labels = xp.arange(n)
    return xp.concat([arrays["z1"], arrays["z2"]], axis=0), xp.concat([labels, labels])


register(
    losses.nt_xent,
    Native("optax.losses.ntxent", {"temperature": "temperature"}, args=_optax_views, per="mean",
           signature="optax.losses.ntxent(embeddings, labels, temperature=0.07)",
           reduction="the mean over positive pairs (one value)",
           safeguards="squared norms clipped at the dtype's machine epsilon",
           label_format="one group label per embedding; views sharing a label are positives",
           notes=(("optax takes the 2N views stacked with group labels and returns the mean; its default "
                   "temperature is 0.07 (SimCLR's paper uses 0.5 and 0.1)."),
                  ("optax clips each squared norm at the dtype's eps, so views shorter than √eps (1.5e-8 in "
                   "float64, 3.5e-4 in float32) differ, a zero view's cosine being 0 in both; no parameter "
                   "of ours reproduces that."))),
)


_TFA = ("TF-Addons is end-of-life (May 2024) and cannot be installed beside Keras 3 and this TensorFlow: recorded "
        "for the teaching tools, never called; its definition is checked by worked values in tests/test_embedding.py")
_NO_CIRCLE = "PyTorch, optax and scikit-learn have no circle loss."
_NO_MINING = "PyTorch, optax and scikit-learn have no {} loss (Keras's was TF-Addons', for Keras 2)."
_TFA_GONE = "TF-Addons reached its end of life in May 2024 and does not install beside Keras 3: this loss replaces it."

register(
    losses.circle,
    keras_class("keras.losses.Circle", {"gamma": "gamma", "margin": "margin", "remove_diagonal": "remove_diagonal"},
                signature="keras.losses.Circle(gamma=80.0, margin=0.4, remove_diagonal=True, "
                          "reduction='sum_over_batch_size', name='circle', dtype=None)",
                reduction="one value per anchor; its mean leaves out the zero losses (a Keras mask)",
                safeguards="each distance 1 − e_i·e_j clipped at 0 (similarities at most 1)",
                label_format="integer class labels (batch,); embeddings (batch, features) of unit length",
                notes=(("Keras takes the similarity as e_i·e_j without normalizing: give it (and us) unit-length "
                        "embeddings (a UnitNormalization layer) for the paper's cosine similarity."),
                       ("Keras masks the zero losses out of its mean; ours leaves out the anchors without a "
                        "positive or a negative (weight 0), the same ones: softplus is 0 nowhere else."),
                       ("Keras's keras.losses.circle function also takes reference labels and embeddings "
                        "(ref_labels, ref_embeddings) to compare against another set; we take one batch."))),
    absent=dict.fromkeys(("torch", "optax", "sklearn"), _NO_CIRCLE),
)

register(
    losses.semi_hard_triplet,
    Native("tensorflow_addons.losses.TripletSemiHardLoss",
           {"margin": "margin", "distance_metric": lambda p, dtype: "L_2" if p["squared"] else "L_1"},
           construct=True, exact=False, unchecked=_TFA,
           signature="tensorflow_addons.losses.TripletSemiHardLoss(margin=1.0, distance_metric='L_2', name=None)",
           reduction="the mean over (anchor, positive) pairs (one value)",
           safeguards="squared distances clipped at 0 (from ‖a‖² + ‖b‖² − 2a·b)",
           label_format="integer class labels (batch,); embeddings (batch, features)",
           notes=(("TF-Addons' distance_metric='L_2' is the squared Euclidean distance (our squared=True); "
                   "its 'L_1' is the Euclidean distance, not the 1-norm (our squared=False)."),
                  ("TF-Addons forms distances as ‖a‖² + ‖b‖² − 2a·b, clipped at 0, which cancels for near "
                   "embeddings; we subtract the embeddings first."),
                  ("For an anchor without a negative in the batch TF-Addons uses a negative distance of 0, "
                   "margin + d(a, p); we leave such pairs out."), _TFA_GONE)),
    absent=dict.fromkeys(("torch", "optax", "sklearn"), _NO_MINING.format("semi-hard triplet")),
)

register(
    losses.lifted_structured,
    Native("tensorflow_addons.losses.LiftedStructLoss", {"margin": "margin"}, construct=True, exact=False,
           unchecked=_TFA,
           signature="tensorflow_addons.losses.LiftedStructLoss(margin=1.0, name=None)",
           reduction="1/(2|P|)·Σ over positive pairs (one value)",
           safeguards="squared distances clipped at 0; each pair's log-sum shifted by its largest term",
           label_format="integer class labels (batch,); embeddings (batch, features), not normalized",
           notes=(("TF-Addons forms distances as √(‖a‖² + ‖b‖² − 2a·b), clipped at 0, which cancels for near "
                   "embeddings; we subtract the embeddings first."),
                  ("For a batch of one class (no negatives) TF-Addons gives NaN (−inf·0); we give 0."), _TFA_GONE)),
    absent=dict.fromkeys(("torch", "optax", "sklearn"), _NO_MINING.format("lifted structured")),
)


def _similarities(xp, arrays):
    """TF-Addons' npairs_loss arguments: the labels and the similarity matrix anchors·positivesᵀ."""
    return arrays["labels"], xp.matmul(arrays["anchors"], xp.matrix_transpose(arrays["positives"]))


register(
    losses.npairs,
    Native("tensorflow_addons.losses.npairs_loss", args=_similarities, per="mean", exact=False, unchecked=_TFA,
           signature="tensorflow_addons.losses.npairs_loss(y_true, y_pred)",
           reduction="the mean over anchors (one value)",
           safeguards="none (softmax cross-entropy on the similarities)",
           label_format="integer class labels (batch,); y_pred the (batch, batch) similarity matrix",
           notes=(("TF-Addons takes the similarity matrix anchors·positivesᵀ as y_pred, not the embeddings; "
                   "its targets are uniform over the positives of the anchor's label, as ours."),
                  ("tf.contrib's npairs_loss(labels, embeddings_anchor, embeddings_positive, reg_lambda=0.002) "
                   "added 0.25·reg_lambda·(mean ‖a‖² + mean ‖p‖²), an L2 penalty we leave to the user."), _TFA_GONE)),
    absent=dict.fromkeys(("torch", "optax", "sklearn"), _NO_MINING.format("N-pair")),
)


def _cosines(params, x_range, marks=()):
    lo, hi = x_range or (-1.0, 1.0)
    return grid(max(lo, -1.0), min(hi, 1.0), list(marks))[1:-1]  # √(1 − c²) has no slope at ±1


def _cosine_sweep(params, x_range):
    cases = {"y_true = [1, 0]": lambda xp, x: {"y_true": unit_at(xp, xp.ones_like(x)), "y_pred": unit_at(xp, x)}}
    return Sweep("cos(y_true, y_pred)", "cos", _cosines(params, x_range, [0.0]), cases)


register(
    losses.cosine_similarity,
    keras_class("keras.losses.CosineSimilarity", {"axis": "axis"},
                signature="keras.losses.CosineSimilarity(axis=-1, reduction='sum_over_batch_size', "
                          "name='cosine_similarity', dtype=None)",
                safeguards="each norm at least ε = 1e-7 (x·min(rsqrt(Σx²), 1/ε))",
                label_format="y_pred's shape (a rank differing by one is squeezed or expanded)",
                notes=(("Keras normalizes each vector as x·min(rsqrt(Σx²), 1e7) (l2_normalize with ε = 1e-7), so a "
                        "zero vector's cosine is 0, as here, and one shorter than 1e-7 is not scaled to length 1: "
                        "our epsilon=1e-7."),
                       ("Keras's loss is −cos in [−1, 1], best at −1, and can print −1.0000001 in float32."))),
    Native("torch.nn.functional.cosine_similarity", {"dim": "axis", "eps": "epsilon"}, scale=-1.0,
           signature="torch.nn.functional.cosine_similarity(x1, x2, dim=1, eps=1e-8)",
           safeguards="each norm at least eps = 1e-8", label_format="x1's shape (others broadcast)",
           notes=(("PyTorch has no cosine-similarity loss: cosine_similarity is the similarity, −1 × ours, on "
                   "dim=1 by default; with eps = 0 a zero vector gives NaN there, 0 here."),)),
    Native("optax.losses.cosine_similarity", {"axis": "axis", "epsilon": lambda p, dtype: p["epsilon"] ** 2},
           order=("y_pred", "y_true"), scale=-1.0,
           signature="optax.losses.cosine_similarity(predictions, targets, *, epsilon=0.0, axis=-1, where=None)",
           safeguards="none by default: epsilon clips each squared norm", label_format="predictions' shape",
           notes=(("optax's cosine_similarity is the similarity, −1 × ours; its epsilon clips the squared "
                   "norm (our epsilon²), and at its default 0 a zero vector gives NaN there, 0 here."),)),
    sweep=_cosine_sweep,
)


_NO_COSINE_DISTANCE = ("PyTorch and Keras have no cosine-distance loss: 1 − torch.nn.functional.cosine_similarity, "
                       "and 1 + keras.losses.CosineSimilarity, are this.")

register(
    losses.cosine_distance,
    Native("optax.losses.cosine_distance", {"axis": "axis", "epsilon": lambda p, dtype: p["epsilon"] ** 2},
           order=("y_pred", "y_true"),
           signature="optax.losses.cosine_distance(predictions, targets, *, epsilon=0.0, axis=-1, where=None)",
           safeguards="none by default: epsilon clips each squared norm", label_format="predictions' shape",
           notes=(("optax's epsilon clips the squared norm (our epsilon²), and at its default 0 a zero vector gives "
                   "NaN there, distance 1 here."),)),
    absent=dict.fromkeys(("torch", "keras"), _NO_COSINE_DISTANCE),
    sweep=_cosine_sweep,
)


def _cosine_embedding_sweep(params, x_range):
    cases = {f"y_true = {y:g}": (lambda xp, x, y=y: {"y_true": xp.full_like(x, y), "x1": unit_at(xp, xp.ones_like(x)),
                                                     "x2": unit_at(xp, x)}) for y in (1.0, -1.0)}
    return Sweep("cos(x1, x2)", "cos", _cosines(params, x_range, [0.0, params["margin"]]), cases,
                 marks=(params["margin"],))


register(
    losses.cosine_embedding,
    unreduced("torch.nn.functional.cosine_embedding_loss", {"margin": "margin"}, exact=False,
              signature="torch.nn.functional.cosine_embedding_loss(input1, input2, target, margin=0, "
                        "size_average=None, reduce=None, reduction='mean')",
              safeguards="1e-12 added to each squared norm",
              label_format="±1 per row; any other value silently gives 0",
              notes=(("PyTorch adds 1e-12 to each squared norm, a relative difference of about 1e-12/‖x‖² "
                      "(seen in float64): our eps=1e-12."),
                     "PyTorch silently gives 0 for a target other than ±1 (pytorch#23782); we raise.",
                     _NO_COSINE_EMBEDDING)),
    absent=dict.fromkeys(("keras", "optax", "sklearn"), _NO_COSINE_EMBEDDING),
    sweep=_cosine_embedding_sweep,
)


def _margin_ranking_sweep(params, x_range):
    m = params["margin"]
    cases = {f"y_true = {y:g}": (lambda xp, x, y=y: {"y_true": xp.full_like(x, y), "x1": x, "x2": xp.zeros_like(x)})
             for y in (1.0, -1.0)}
    return Sweep("x1 − x2 (x2 = 0)", "x1 − x2", grid(*(x_range or (-3.0, 3.0)), [0.0, m, -m]), cases,
                 marks=tuple(sorted({0.0, m, -m})))


register(
    losses.margin_ranking,
    unreduced("torch.nn.functional.margin_ranking_loss", {"margin": "margin"},
              signature="torch.nn.functional.margin_ranking_loss(input1, input2, target, margin=0, "
                        "size_average=None, reduce=None, reduction='mean')",
              safeguards="none", label_format="±1 (not checked: any value is used as is)",
              notes=(("PyTorch checks only that the inputs have the same number of dimensions and broadcasts "
                      "the rest; it accepts any target value silently."), _NO_MARGIN_RANKING)),
    absent=dict.fromkeys(("keras", "optax", "sklearn"), _NO_MARGIN_RANKING),
    sweep=_margin_ranking_sweep,
)
