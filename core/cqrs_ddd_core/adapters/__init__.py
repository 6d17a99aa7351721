"""Adapters: implementations of the ports for a concrete technology."""
