"""Primitives: the small value types, errors and context every other layer builds on."""
