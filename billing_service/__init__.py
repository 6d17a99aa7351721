"""Billing: the bounded context that owns accounts and invoices (see DESIGN.md, "The business story")."""
