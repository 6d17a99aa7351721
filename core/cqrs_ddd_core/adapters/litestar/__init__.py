"""Litestar adapters: how the core's errors become HTTP responses."""
