"""Billing: the bounded context that owns accounts and invoices.

See DESIGN.md, "The business story".
"""
