"""Middleware: behaviour wrapped around every handler (logging, locking, outbox, ...)."""
