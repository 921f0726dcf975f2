"""Batch container entrypoints: the pipeline, simulations, site build and backups."""
