"""In-process adapters: no infrastructure, same contracts. The embedded default for tests."""
