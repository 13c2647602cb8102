"""Repository layer: SQLAlchemy lives here and nowhere else in ``actions``."""
