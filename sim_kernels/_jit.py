"""The one place that sets the Numba compile options for every simulation kernel.

Every kernel is compiled twice from the same Python source: once serial and once
with ``parallel=True`` (``prange`` runs as a plain ``range`` in the serial build),
so tests can check that both agree exactly and benchmarks can say where
parallelism pays.

Options, and why:

- ``cache=True``: compiled machine code is kept beside the module, so a batch job
  pays the compile cost once per image, not once per run. Numba's cache checks
  only the kernel's own source file, so a kernel calls helpers from its own
  module only; a stale cache can then not outlive an edit.
- ``nogil=True``: kernels release the GIL, so a caller may run them in threads.
- ``error_model="numpy"``: a division by zero gives inf or NaN instead of raising,
  which keeps kernels free of exceptions; the public wrappers validate first.
- ``fastmath``: only flags that leave NaN and inf semantics intact. ``nnan`` and
  ``ninf`` are left out on purpose: with them LLVM may assume no NaN exists and
  fold ``x != x`` to false or a NaN result to 0, which would hide missing data.

Threads: GNU OpenMP (Numba's default threading layer here) keeps its worker
threads spinning after each parallel region. On a two-core machine they then
compete with the caller's own NumPy work between kernel calls: a 20,000-star
settlement tick measured 16 ms with spinning workers and 1 ms without. This
module therefore sets ``OMP_WAIT_POLICY=PASSIVE`` unless the environment already
says otherwise (it must happen before the first parallel kernel loads libgomp);
a parallel call then costs about 30 us of wake-up instead of 5 us.

Inlining: a per-element helper that returns a tuple (E with its sine and
cosine, say) stays a separate call when LLVM compiles the caller's loop, which
then cannot be unrolled or scheduled across elements. Such helpers are compiled
with ``inline="always"`` (Numba's own inliner, before LLVM): the Kepler kernel
ran 2.3x faster serial for it (1e6 solves, 77 ms to 33 ms). An inlined helper
takes its caller's fastmath flags.

``EXACT`` is for kernels whose results must be bit-identical to their NumPy
reference (discrete decisions, or a release gate that compares bytes). Every
fastmath flag can change the last bit: ``contract`` fuses ``a*b + c`` into one
rounding, ``reassoc`` reorders sums, ``arcp`` turns ``x / y`` into
``x * (1 / y)``, ``afn`` allows approximate maths functions. Those kernels are
memory-bound or branchy, so the flags would buy little there anyway.
"""

from __future__ import annotations

import os
import types
from collections.abc import Callable
from typing import Any, NamedTuple

import numba

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

FASTMATH: frozenset[str] = frozenset({"nsz", "arcp", "contract", "afn", "reassoc"})
EXACT: frozenset[str] = frozenset()

NJIT_OPTIONS: dict[str, Any] = {
    "cache": True,
    "nogil": True,
    "error_model": "numpy",
}


class KernelPair(NamedTuple):
    """A kernel compiled serial and parallel from one source."""

    serial: Callable[..., Any]
    parallel: Callable[..., Any]

    def pick(self, parallel: bool) -> Callable[..., Any]:
        """Return the parallel or the serial build."""
        return self.parallel if parallel else self.serial


def _fastmath_option(flags: frozenset[str]) -> set[str] | bool:
    """Return Numba's fastmath argument for a set of LLVM flags."""
    return set(flags) if flags else False


def _renamed(func: Callable[..., Any], suffix: str) -> Callable[..., Any]:
    """Copy a function under another qualified name, so each build caches apart.

    Numba names cache files after the function and keys them by signature only,
    not by the ``parallel`` flag: two builds of one function would overwrite each
    other's cache entries.
    """
    copy = types.FunctionType(
        func.__code__,
        func.__globals__,
        func.__name__ + suffix,
        func.__defaults__,
        func.__closure__,
    )
    copy.__qualname__ = func.__qualname__ + suffix
    copy.__module__ = func.__module__
    copy.__doc__ = func.__doc__
    return copy


def function(
    func: Callable[..., Any] | None = None,
    *,
    fastmath: frozenset[str] = FASTMATH,
    inline: str = "never",
) -> Any:
    """Compile a serial-only function (a per-element helper or a sequential step).

    ``inline="always"`` makes Numba paste the function into each caller before
    LLVM sees it; see the module docstring for why per-element helpers want it.
    """

    def wrap(f: Callable[..., Any]) -> Callable[..., Any]:
        return numba.njit(
            **NJIT_OPTIONS, fastmath=_fastmath_option(fastmath), inline=inline
        )(f)

    return wrap(func) if func is not None else wrap


def kernel(
    func: Callable[..., Any] | None = None, *, fastmath: frozenset[str] = FASTMATH
) -> Any:
    """Compile a kernel serial and parallel with the shared options."""

    def wrap(f: Callable[..., Any]) -> KernelPair:
        option = _fastmath_option(fastmath)
        return KernelPair(
            numba.njit(**NJIT_OPTIONS, fastmath=option, parallel=False)(f),
            numba.njit(**NJIT_OPTIONS, fastmath=option, parallel=True)(
                _renamed(f, "__parallel")
            ),
        )

    return wrap(func) if func is not None else wrap
