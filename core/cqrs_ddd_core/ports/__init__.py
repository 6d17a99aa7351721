"""Ports: the interfaces the core depends on. Adapters implement them; nothing here
knows SQLAlchemy, aio-pika or any other framework."""
