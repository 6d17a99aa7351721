"""Performance measurements, next to a peer library where there is one (not run as tests).

Each module ``benchmarks/<name>.py`` (not starting with ``_``) exposes ``main() -> list[dict]``:
it runs its measurements, prints them as it goes and returns rows such as
``{"benchmark": "...", "value": 12.3, "unit": "µs/call", "peer": "python-cqrs",
"peer_value": 20.1, "ratio": 0.61}``. ``python -m benchmarks [names...]`` (``just bench``)
runs them all, prints one table and writes ``benchmarks/results.json``.
"""
