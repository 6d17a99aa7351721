"""Ordering's application layer: commands, queries, their handlers, DTOs and the ports they use.

Handlers reach storage only through the interfaces in `ports.py`; the concrete unit of work is
chosen in `bootstrap.py`.
"""
