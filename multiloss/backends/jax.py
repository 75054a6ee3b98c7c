"""JAX adapter: ``jax.numpy`` is an array-API namespace; we add jax.nn's stable kernels.

``abs`` is replaced by one whose derivative at 0 is 0 (sign(x)), as in torch and TensorFlow;
``jnp.abs`` has derivative 1 there, which would make MAE's gradient at a zero error differ
between backends; ``log1p`` works around XLA's float64 log1p on (−0.5, −0.25). ``fuse`` is
``jax.jit``: a loss's kernel runs as one compiled call even in
eager mode (where a ``custom_jvp`` such as this ``abs`` would cost ~170 µs per op).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from multiloss.backends._extensions import build_namespace

__all__ = ["DTYPES", "from_numpy", "to_numpy", "value_and_grad", "xp"]  # noqa: F822 (DTYPES: __getattr__)


@jax.custom_jvp
def _abs(x, /):
    return jnp.abs(x)


@_abs.defjvp
def _abs_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return jnp.abs(x), jnp.sign(x) * t


def _log1p(x, /):
    # XLA's float64 log1p is off by up to ~126 ulps on (−0.5, −0.25) (measured on CPU, jax 0.10);
    # there 1 + x is exact to half an ulp and log(1 + x) is accurate.
    if x.dtype != jnp.float64:
        return jnp.log1p(x)
    mid = (x > -0.5) & (x < -0.25)  # log only sees its own inputs: at x = −1 its 1/(1 + x) would
    return jnp.where(mid, jnp.log(1.0 + jnp.where(mid, x, 0.0)), jnp.log1p(x))  # make a NaN gradient


def _fuse(fn, /):
    @functools.partial(jax.jit, static_argnums=2)
    def run(arrays, dynamic, static):
        return fn(*arrays, **dynamic, **dict(static))

    def call(*arrays, **params):
        static = tuple((k, v) for k, v in params.items() if not hasattr(v, "shape"))
        dynamic = {k: v for k, v in params.items() if hasattr(v, "shape")}
        return run(arrays, dynamic, static)

    return call


def _is_concrete(x, /):
    return not isinstance(x, jax.core.Tracer)


def _scan(step, carry, xs, /):
    return jax.lax.scan(lambda c, x: (step(c, *x), None), carry, xs)[0]


xp = build_namespace(
    "jax",
    jnp,
    {
        "softplus": jax.nn.softplus,
        "log_sigmoid": jax.nn.log_sigmoid,
        "logsumexp": lambda x, /, *, axis=None, keepdims=False: jax.nn.logsumexp(x, axis=axis, keepdims=keepdims),
        "log_softmax": lambda x, /, *, axis=-1: jax.nn.log_softmax(x, axis=axis),
        "scan": _scan,
        "fuse": _fuse,
        "stop_gradient": jax.lax.stop_gradient,
        "is_concrete": _is_concrete,
        "on_host": lambda x, /: all(d.platform == "cpu" for d in x.devices()),
    },
    standard={"abs": _abs, "log1p": _log1p},
)

_DTYPES = {
    "float64": jnp.float64,
    "float32": jnp.float32,
    "float16": jnp.float16,
    "bfloat16": jnp.bfloat16,
}


def __getattr__(name):
    if name == "DTYPES":  # float64 only in 64-bit mode (jax_enable_x64): JAX's default makes it float32
        return _DTYPES if jax.config.jax_enable_x64 else {k: v for k, v in _DTYPES.items() if k != "float64"}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def from_numpy(a, dtype=None):
    return jnp.asarray(np.asarray(a), dtype=__getattr__("DTYPES")[dtype] if dtype else None)


def to_numpy(x):
    x = np.asarray(x)
    return x.astype(np.float32) if x.dtype == jnp.bfloat16 else x


def value_and_grad(fn, *args):
    return jax.value_and_grad(fn, argnums=tuple(range(len(args))))(*args)
