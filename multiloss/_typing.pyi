"""The array types of the stubs (a stub only: nothing imports this module at run time)."""

from typing import Any, TypeAlias

#: What a loss takes as an array: a NumPy, PyTorch, TensorFlow or JAX array, or a Python number
#: or sequence (it becomes an array of the other inputs' framework).
ArrayLike: TypeAlias = Any
#: What a loss returns: an array of its inputs' framework.
Array: TypeAlias = Any
