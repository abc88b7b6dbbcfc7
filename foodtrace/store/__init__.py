"""Storage: the SQLAlchemy tables, Alembic migrations and the persistent Merkle log."""
