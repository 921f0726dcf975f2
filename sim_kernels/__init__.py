"""Simulation kernels: each a Numba kernel beside a plain NumPy reference.

Every public function takes ``backend="numba"`` (the modernised kernel) or
``backend="numpy"`` (the legacy reference), checks its inputs and raises
``ValueError`` before any kernel runs.
"""
