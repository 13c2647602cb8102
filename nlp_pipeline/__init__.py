"""The project's own offline spaCy pipeline (built from code and data/lexicon)."""
