"""The CQRS layer: one module per component, each named after the component it holds."""
