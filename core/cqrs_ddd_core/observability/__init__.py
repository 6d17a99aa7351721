"""Observability: the core's spans (`tracing`), metrics (`metrics`) and JSON log lines (`logs`).

Each module is a no-op until switched on, so the core runs without OpenTelemetry installed.
Guide: docs/patterns/observability.md.
"""
