"""SQLAlchemy 2 async adapters: SQLite (aiosqlite) and PostgreSQL (asyncpg)."""
