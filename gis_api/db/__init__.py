"""Database access: embedded cluster, engine and sessions, ORM base."""
