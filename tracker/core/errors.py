"""Errors the core raises, each with a message a person can act on.

The command line maps them to exit status 2 (bad input) and the GUI shows them in a dialog;
neither needs to know which part of the core raised them.
"""


class TrackerError(Exception):
    """Base class: ``str(error)`` is a complete sentence meant for the user."""


class UsageError(TrackerError):
    """The request itself is wrong: an unknown name, a value out of range, a bad date."""


class NotFoundError(UsageError):
    """A client, area, visit or photo the user named does not exist."""


class ValidationError(UsageError):
    """A value the user gave is outside what is allowed."""


class LibraryError(TrackerError):
    """The library folder or database cannot be used as it is."""


class NewerLibraryError(LibraryError):
    """The database was written by a newer version of the app; it is left untouched."""


class ImageRejected(TrackerError):
    """A file offered for import is not a photo this app accepts, or is damaged."""


class DatabaseDamaged(LibraryError):
    """SQLite cannot read the database file; ``problem`` is what it said."""

    def __init__(self, message: str, problem: str) -> None:
        super().__init__(message)
        self.problem = problem
