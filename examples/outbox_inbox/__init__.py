"""The transactional outbox with an idempotent consumer: see app.py."""
