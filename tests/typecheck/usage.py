"""The public API as a user's type checker sees it: type-checked in CI (mypy --strict with the
config in pyproject.toml; pyright too where it is installed), and run by tests/test_typing.py.

The calls at the top level are right, and run. Each function in ``MISUSES`` is a mistake the
stubs must report, its ``# type: ignore[code]`` unused (an error, with ``warn_unused_ignores``)
if it is not reported; the test also calls it, and multiloss refuses it at run time.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import multiloss
from multiloss import huber
from multiloss.losses import regression
from multiloss.losses.classification import binary_cross_entropy

y = np.array([0.0, 1.0, 1.0])
p = np.array([0.2, 0.7, 0.9])
w = np.array([1.0, 2.0, 0.5])
labels = np.array([0, 2, 1])
scores = np.array([[0.1, 0.2, 0.7], [0.3, 0.3, 0.4], [0.5, 0.4, 0.1]])

values = [
    huber(y, p),
    huber(y, p, delta=0.5, reduction="sum", sample_weight=w, convention="torch"),
    huber(y_true=y, y_pred=p),
    multiloss.mse(y, p, reduction="none"),
    multiloss.mean_squared_error([0.0, 1.0], [0.5, 0.5], convention="sklearn"),
    regression.quantile(y, p, q=0.9),
    binary_cross_entropy(y, p, label_smoothing=0.1, pos_weight=2.0, epsilon=1e-7),
    multiloss.binary_cross_entropy(y, p, pos_weight=[1.0, 2.0, 1.0]),
    multiloss.sparse_categorical_cross_entropy(labels, scores, class_weight=[1.0, 2.0, 1.0], ignore_index=-100),
    multiloss.hinge(y, p, labels="signs", convention="keras"),
    multiloss.triplet_margin(scores, scores, scores, distance="cosine", eps_at="sum"),
    multiloss.dice(y[None], p[None], axis="all", smooth=0.0),
    multiloss.tversky(y[None], p[None], axis=(0, 1)),
    multiloss.contrastive(y, scores, scores, reduction="sum_over_batch_size"),
]
total, parts = multiloss.composite(fit=huber, smooth=(multiloss.log_cosh, 0.5))(y, p)
with multiloss.checks("nan"):
    mode: str = multiloss.check_mode()
name: str = multiloss.backend_name(p)
spec = multiloss.REGISTRY["huber"]
inputs: tuple[str, ...] = spec.inputs


def misspelt_keyword() -> None:
    huber(y, p, detla=1.0)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]


def parameter_given_by_position() -> None:
    multiloss.huber(y, p, 1.0)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]


def unknown_reduction() -> None:
    multiloss.mse(y, p, reduction="avg")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def convention_of_another_loss() -> None:  # smooth_l1 has PyTorch's convention only
    multiloss.smooth_l1(y, p, convention="keras")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def unknown_choice() -> None:
    multiloss.hinge(y, p, labels="plus_minus_one")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def flag_as_string() -> None:
    multiloss.binary_focal(y, p, from_logits="True")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def unknown_check_mode() -> None:
    multiloss.checks("loud")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


MISUSES: list[Callable[[], None]] = [misspelt_keyword, parameter_given_by_position, unknown_reduction,
                                     convention_of_another_loss, unknown_choice, flag_as_string, unknown_check_mode]
