"""cqrs_ddd_core: the CQRS/DDD kernel specified in spec/cqrs-layer.md."""
