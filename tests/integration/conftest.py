"""Integration tests use the database fixtures of tests/conftest.py (any_engine, postgres_url)."""
