"""Errors the core raises, each with a message a person can act on.

``str(error)`` is a complete sentence for the user. Callers decide what to do by an error's
*type* (offer read-only for ``LibraryLocked`` and ``FolderReadOnly``, try again after
``DatabaseBusy``), never by its wording: the command line maps every ``TrackerError`` to exit
status 2 and the window shows its sentence.
"""

from __future__ import annotations

from pathlib import Path


class TrackerError(Exception):
    """Base class: ``str(error)`` is a complete sentence meant for the user."""


class UsageError(TrackerError):
    """The request itself is wrong: an unknown name, a value out of range, a bad date."""


class NotFoundError(UsageError):
    """A client, area, visit or photo the user named does not exist."""


class ValidationError(UsageError):
    """A value the user gave is outside what is allowed."""


class ImageRejected(TrackerError):
    """A file offered for import is not a photo this app accepts, or is damaged.

    The message is the reason alone ("it is a GIF image; …"), to be put after the file's name.
    """


# -- the library as a whole ---------------------------------------------------------------


class LibraryError(TrackerError):
    """The library folder or database cannot be used as it is."""


class NoLibrary(LibraryError):
    """There is no library at the folder given."""


class NewerLibraryError(LibraryError):
    """The database was written by a newer version of the app; it is left untouched."""


class DatabaseDamaged(LibraryError):
    """SQLite cannot read the database; ``problem`` is what it said. ``root`` is the library's
    folder and ``snapshot`` the newest copy in its ``backups/``, when known."""

    def __init__(
        self,
        message: str,
        problem: str,
        snapshot: Path | None = None,
        root: Path | None = None,
    ) -> None:
        super().__init__(message)
        self.problem = problem
        self.snapshot = snapshot
        self.root = root


class LibraryLocked(LibraryError):
    """Another program has the library open for changes. ``reader_note`` is the sentence to
    show in a copy that opened it for reading instead."""

    def __init__(self, message: str, reader_note: str, owner: dict[str, object]) -> None:
        super().__init__(message)
        self.reader_note = reader_note
        self.owner = owner


class FolderReadOnly(LibraryError):
    """The library's folder or database file cannot be written (permissions, read-only disk)."""


class ReadOnlyLibrary(LibraryError):
    """A change was asked of a library that this program opened for reading only."""


class DatabaseBusy(LibraryError):
    """Another program held the database longer than the busy timeout; trying again may work."""


class DiskFull(LibraryError):
    """The disk holding the library is full; nothing of the change was kept."""


class StorageError(LibraryError):
    """Reading or writing the library's files failed for another reason (an I/O error)."""


class OriginalsDamaged(LibraryError):
    """Originals the database names are missing, changed, or links out of the library, so a
    backup was not made; ``damage`` lists them (each a ``care.backups.Damage``)."""

    def __init__(self, message: str, damage: tuple[object, ...]) -> None:
        super().__init__(message)
        self.damage = damage


class LibraryChanged(LibraryError):
    """The library kept changing under work that needs it to hold still (a backup while
    photos were erased); trying again may work."""


class ForeignSchema(DatabaseDamaged):
    """The database holds objects (a trigger, a view, a table, an index) that this app's
    migrations do not make, or defines one of them differently: it could run code or hide
    records, so it is not used. ``problem`` says what it holds ("it holds a trigger …")."""


# -- encrypted libraries -----------------------------------------------------------------


class PassphraseNeeded(LibraryError):
    """The library is encrypted and was opened without its passphrase or recovery key."""


class WrongPassphrase(LibraryError):
    """The passphrase (or recovery key) given does not unlock the library."""


class KeyFileDamaged(LibraryError):
    """The library's key file is missing, unreadable, of an unknown format, or does not
    match the library."""


class EncryptedFileRefused(LibraryError):
    """An encrypted file of the library is damaged, cut short, or was written by another
    library (or for another photo); nothing of it is used."""


class ConsentRefused(UsageError):
    """No valid consent (recorded, not expired, not withdrawn, covering the photos) lets the
    client's photos or records be used for the purpose asked."""


# -- many writers (issue 21) ---------------------------------------------------------------


class StaleEdit(TrackerError):
    """An edit was made from values that someone else (another workstation, window or
    command) changed after they were read: nothing of it was stored. ``what`` names the
    record ("the treatment record of Hips at the visit on 1 Mar 2026") and ``version`` is its
    version now (0: it is gone); the window shows the sentence and reloads the fresh values.

    Not ``EditConflict``: that one is two transactions colliding at the same moment (trying
    again may work), this one an edit from an old reading (trying again would overwrite what
    the other person did, so the person looks first)."""

    def __init__(self, message: str, what: str, version: int) -> None:
        super().__init__(message)
        self.what = what
        self.version = version


class EditConflict(LibraryError):
    """Another workstation's transaction collided with this one (a serialization failure, a
    deadlock, or two making the same row at once); nothing of the edit was stored and trying
    again may work. (``db.server_errors`` makes it of the server's errors; it is here so that
    a service refusing a collision loads nothing of the server's.)"""
