"""Encryption at rest for an encrypted library: its keys (``keys``) and its files (``cipher``).

Nothing here knows of photos or databases: ``tracker.core.store`` encrypts what it writes with
``cipher.FileCipher`` and keys the database with ``keys.Keys.database_key``.
"""
