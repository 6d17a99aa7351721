"""A durable deadline that fires unless cancelled: see app.py."""
