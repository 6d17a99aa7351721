"""The narrated walkthrough behind `just demo`."""
