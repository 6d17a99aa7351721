"""Concurrent transfers under pessimistic locks: see app.py."""
