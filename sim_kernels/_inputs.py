"""Input checks shared by the public wrappers: they raise before any kernel runs."""

from __future__ import annotations

from typing import Any

import numpy as np

BACKENDS = ("numba", "numpy")


def backend(value: str) -> str:
    """Return the backend name, or raise if it is not one the kernels offer."""
    if value not in BACKENDS:
        raise ValueError(
            f"backend: expected one of {', '.join(map(repr, BACKENDS))}, got {value!r}"
        )
    return value


def float_array(name: str, value: Any, ndim: int | None = None) -> np.ndarray:
    """Return a C-contiguous float64 copy-or-view of an argument, checked for shape."""
    try:
        array = np.ascontiguousarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name}: expected numbers, got {value!r}") from error
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name}: expected {ndim} dimension(s), got {array.ndim}")
    return array


def vectors(name: str, value: Any) -> np.ndarray:
    """Return an (n, 3) float64 array of Cartesian vectors, or raise."""
    array = float_array(name, value, ndim=2)
    if array.shape[1] != 3:
        raise ValueError(f"{name}: expected shape (n, 3), got {array.shape}")
    return array


def same_length(**arrays: np.ndarray) -> int:
    """Return the common first dimension of some arrays, or raise naming them."""
    lengths = {name: len(array) for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise ValueError(f"expected arrays of one length: {described}")
    return next(iter(lengths.values()), 0)


def finite_scalar(name: str, value: Any) -> float:
    """Return a finite float, or raise naming the argument."""
    try:
        number = float(value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name}: expected a number, got {value!r}") from error
    if not np.isfinite(number):
        raise ValueError(f"{name}: expected a finite number, got {number}")
    return number


def first_bad(mask: np.ndarray) -> int:
    """Return the index of the first True in a flat mask."""
    return int(np.flatnonzero(mask)[0])
