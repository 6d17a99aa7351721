"""A command that sends commands, in one unit of work: see app.py."""
