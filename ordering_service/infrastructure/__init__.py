"""Ordering's infrastructure: storage behind the application's ports (in memory and SQL)."""
