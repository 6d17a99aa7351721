"""Durable deadlines: `IDeadlineStorage` (ports/deadlines.py) and the `DeadlineScheduler`.

Guide: docs/patterns/process-manager.md.
"""
