"""Names that vulture (run by tests/test_dead_code.py) would report as unused, with who uses them.

Vulture reads this file and never runs it: a name written here counts as used wherever it is
defined. mypy checks it, so an entry whose method is renamed or removed fails there instead of
lingering. ``_`` is vulture's placeholder for names that mypy cannot check on a class (nested
functions, the migration scripts, instance-only attributes), typed ``Any`` to let them through.
"""

# ruff: noqa: B018 - each line is an expression that only names what it marks as used

import sqlite3
from typing import Any

from PIL import Image

from tracker.core.crypto.cipher import DecryptingReader
from tracker.core.db import engine, notify, roles, server, server_schema
from tracker.core.db.models import Area, Client, Photo, Rating, TreatmentRecord, Visit, VisitKind
from tracker.core.domain.treatment import TreatmentInput
from tracker.core.imaging import card
from tracker.core.queries import browse
from tracker.core.services import photos
from tracker.core.store import blobs, blobs_db, blobs_folder
from tracker.ui.commands import SetRating
from tracker.ui.compare.canvas import CompareCanvas
from tracker.ui.main.plan_model import PlanModel
from tracker.ui.main.window import MainWindow
from tracker.ui.models import PhotoGridModel, ThumbnailCache
from tracker.ui.panels.fitting import FlowLayout
from tracker.ui.panels.photo_grid import PhotoGrid
from tracker.ui.viewer import PhotoViewer

_: Any = None

# Qt virtual overrides: Qt calls them (painting, mouse and drop events, QUndoStack merging).
CompareCanvas.paintEvent
PlanModel.headerData
PhotoGridModel.mimeTypes
CompareCanvas.mousePressEvent
CompareCanvas.mouseMoveEvent
CompareCanvas.mouseReleaseEvent
MainWindow.dropEvent
PhotoGrid.dropEvent
# The layout protocol: Qt asks a QLayout for its items, how it grows, whether its height
# follows its width (fitting.FlowLayout wraps its row).
FlowLayout.itemAt
FlowLayout.expandingDirections
FlowLayout.hasHeightForWidth
SetRating.mergeWith

# Set for a library, which reads them: the zip entry's compression, sqlite3's autocommit (so
# that SQLAlchemy's "begin" event issues BEGIN), Pillow's decompression-bomb limit.
_.compress_type  # of a zipfile.ZipInfo (a slot, which mypy will not read off the class)
sqlite3.Connection.isolation_level
Image.MAX_IMAGE_PIXELS

# SQLAlchemy event listeners, registered by @event.listens_for inside engine.make_engine.
_._on_connect
_._on_begin
# ... and inside server._ping_after_idle: a pooled connection's idle time, then its ping.
_._put_back
_._taken

# SQLAlchemy model columns: written on insert (their defaults) and kept in the database.
Client.created_at
Area.created_at
Visit.created_at
Rating.created_at
Photo.imported_at
Photo.original_name_bytes  # a non-UTF-8 name's own bytes, kept for the owner (never read back)
TreatmentRecord.needle_depth_mm

# Alembic reads these module-level names of every script in migrations/versions/.
_.down_revision
_.branch_labels
_.depends_on
_.downgrade

# A dataclass field read through vars() and dataclasses.fields() (TreatmentInput.given,
# TREATMENT_FIELDS), never by name.
TreatmentInput.needle_depth_mm

# The main window keeps its export and erase controllers, which connects itself to the menus in its
# constructor; tests drive it through this attribute (set in __init__: no class attribute).
_.exports
_.erasing
_.privacy  # issue 20: Library ▸ Consent of the client… and Audit trail…

# Kinds of visit that only the database and the people choosing them name.
VisitKind.CHECK_IN
VisitKind.FOLLOW_UP

# Public API that only the tests call for now, kept on purpose:
# - the schema's revision as the migrations folder and a database say (tests/core/db/test_db.py
#   checks SCHEMA_HEAD against the migrations with them);
engine.migrations_head
engine.current_revision
# - the get and set of an area's reference photo, the pair to the alignment that sets it;
browse.reference_photo
photos.set_reference_photo
# - whether a change from baseline is an improvement, by the scale's direction (a field of
#   the frozen dataclass Change, which has no class attribute for mypy to check);
_.improved
# - what the thumbnail cache holds and whether it is loading, and whether the viewer fits.
ThumbnailCache.held_bytes
ThumbnailCache.is_idle
PhotoViewer.is_fitted

# The calibration card (issue 17). OpenCV's ArucoDetector reads the parameters set on its
# DetectorParameters (instance attributes of an OpenCV object: no class attribute to check).
_.minMarkerPerimeterRate
_.perspectiveRemovePixelPerCell
_.perspectiveRemoveIgnoredMarginPerCell
_.errorCorrectionRate
# - the card's plane in the photo (a field of the frozen dataclass CardFound) and the limit of
#   a colour cast, for the scale bar and the capture checks of the second part; the
#   tests measure them against truth now.
_.to_image
card.CAST_LIMIT

# Issue 18, the measures. When a region was last changed and a measure computed are written for
# a person reading the database or a backup (nothing in the app sorts by them).
_.updated_at
_.computed_at
# The compare window keeps its measures' tools (regions, the marks found) alive by holding them;
# the tests drive them through it.
_.measure_tools

# Issue 20, encrypted libraries: io.RawIOBase calls readinto (read() and readall() are built on
# it), so the decrypting reader streams like a file.
DecryptingReader.readinto

# Issue 21, clinic mode: a library in PostgreSQL. The server engine is only made by the tests
# (tests/core/db/test_postgres.py) until Library.open takes a postgresql:// address.
server.make_pg_engine

# Issue 21, staff rights (db.roles): apply_rights is run after every migration; the tests run it
# until server.open_server grants the rights again after migrating (roles.grant_rights).
_.apply_rights

# Issue 21: changes told to other workstations (LISTEN/NOTIFY). SQLAlchemy calls the session
# events notify_on_commit registers; the tests drive the rest until Library and the window do.
notify.notify_on_commit
_._noted_flush
_._noted_statement
_._tell
_._forget
notify.Change.received_at
_.reconnects
notify.ChangeListener.wait_listening

# Issue 21, the blob stores (store.blobs): the contract tests (tests/core/store/
# test_blob_contract.py) drive both until Library and the import take a store.
blobs.BlobStore
blobs_db.DatabaseBlobStore
blobs_folder.FolderBlobStore
_.has

# Issue 21, opening a server's library: `tracker clinic` and --library postgresql:// will call
# open_server; the schema test prints shipped_entry's text to paste into server_schema.
server.open_server
server_schema.shipped_entry

# Issue 18: the Progress tab's measures are read in a worker; the tests wait on this.
_.reading

# Issue 21: migration 0008 writes the audit policies literally; its test checks them against
# the names and actions db.roles states.
roles.LIMITED_ACTIONS
roles.AUDIT_POLICIES
