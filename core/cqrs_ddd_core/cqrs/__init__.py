"""The CQRS layer of spec/cqrs-layer.md: one module per component, named as the spec names it."""
