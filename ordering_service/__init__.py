"""Ordering: the bounded context that owns orders (see DESIGN.md, "The business story")."""
