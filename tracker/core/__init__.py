"""The domain, database, photo store and import: no Qt in here (a test enforces it)."""
