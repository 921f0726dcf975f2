"""Code the Lambda functions need: settings, models, storage, builds, queries.

Nothing in this package may import numpy or numba; the API package stays small.
"""
