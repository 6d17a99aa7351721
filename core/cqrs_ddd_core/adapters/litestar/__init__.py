"""Litestar adapters: a service's app (app.py), its common routes and how errors map to HTTP."""
