"""The database schema as SQLAlchemy 2 typed models.

Changing a model means adding an Alembic migration in ``tracker/core/db/migrations/versions``;
a test compares these models with the migrated schema so the two cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names, so that batch migrations on SQLite can find them again.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    """Store an enum by its value (the words the command line uses), checked by SQLite."""
    return Enum(
        cls,
        name=name,
        values_callable=lambda members: [m.value for m in members],
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        length=16,
    )


class Stage(enum.StrEnum):
    RUBRA = "rubra"
    ALBA = "alba"
    UNKNOWN = "unknown"


class VisitKind(enum.StrEnum):
    BASELINE = "baseline"
    TREATMENT = "treatment"
    CHECK_IN = "check-in"
    FOLLOW_UP = "follow-up"


class DateSource(enum.StrEnum):
    EXIF = "exif"
    FILE = "file"
    GIVEN = "given"


class RaterRole(enum.StrEnum):
    PATIENT = "patient"
    PRACTITIONER = "practitioner"


class RatingMethod(enum.StrEnum):
    IN_PERSON = "in-person"
    PHOTOS = "photos"


class Client(Base):
    __tablename__ = "client"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    date_of_birth: Mapped[dt.date | None] = mapped_column(Date)
    fitzpatrick: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    # Issue 21: counts the row's changes from 1, for the optimistic checks of services.versions.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))

    areas: Mapped[list[Area]] = relationship(back_populates="client", order_by="Area.name")
    visits: Mapped[list[Visit]] = relationship(back_populates="client", order_by="Visit.date")

    __table_args__ = (
        CheckConstraint("fitzpatrick IS NULL OR fitzpatrick BETWEEN 1 AND 6", name="fitzpatrick"),
        CheckConstraint("length(trim(name)) > 0", name="name_not_blank"),
    )


class Area(Base):
    __tablename__ = "area"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    body_site: Mapped[str] = mapped_column(String(100), default="")
    stage: Mapped[Stage] = mapped_column(_enum(Stage, "stage"), default=Stage.UNKNOWN)
    default_scale: Mapped[str] = mapped_column(String(40), default="ctd")
    interval_days: Mapped[int] = mapped_column(Integer, default=28)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    # Issue 18: an untreated control area, the control this (treated) area is compared with,
    # and how faint a mark is found (None: ``marks.DEFAULT_SENSITIVITY``).
    is_control: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    control_area_id: Mapped[int | None] = mapped_column(ForeignKey("area.id", ondelete="SET NULL"))
    mark_sensitivity: Mapped[float | None] = mapped_column(Float)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))

    client: Mapped[Client] = relationship(back_populates="areas")

    __table_args__ = (
        UniqueConstraint("client_id", "name"),
        CheckConstraint("interval_days BETWEEN 1 AND 365", name="interval_days"),
        CheckConstraint("length(trim(name)) > 0", name="name_not_blank"),
        CheckConstraint(
            "mark_sensitivity IS NULL OR mark_sensitivity BETWEEN 1.5 AND 8",
            name="mark_sensitivity",
        ),
        CheckConstraint(
            "control_area_id IS NULL OR control_area_id <> id", name="control_not_self"
        ),
    )


class ReferencePhoto(Base):
    """The photo that other photos of an area and view are aligned to."""

    __tablename__ = "reference_photo"

    area_id: Mapped[int] = mapped_column(
        ForeignKey("area.id", ondelete="CASCADE"), primary_key=True
    )
    view: Mapped[str] = mapped_column(String(100), primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photo.id", ondelete="CASCADE"))


class Visit(Base):
    __tablename__ = "visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[VisitKind] = mapped_column(_enum(VisitKind, "visit_kind"))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))

    client: Mapped[Client] = relationship(back_populates="visits")

    __table_args__ = (UniqueConstraint("client_id", "date"),)


class TreatmentRecord(Base):
    """What was done to one area at one visit. Every field is optional."""

    __tablename__ = "treatment_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="CASCADE"), index=True)
    device: Mapped[str | None] = mapped_column(String(100))
    needle_depth_mm: Mapped[float | None] = mapped_column(Float)
    passes: Mapped[int | None] = mapped_column(Integer)
    topical: Mapped[str | None] = mapped_column(String(200))
    anaesthetic: Mapped[str | None] = mapped_column(String(200))
    reaction: Mapped[str | None] = mapped_column(Text)
    pain: Mapped[int | None] = mapped_column(Integer)
    downtime_days: Mapped[int | None] = mapped_column(Integer)
    practitioner: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))

    __table_args__ = (
        UniqueConstraint("visit_id", "area_id"),
        CheckConstraint(
            "needle_depth_mm IS NULL OR needle_depth_mm BETWEEN 0.1 AND 3.5", name="depth"
        ),
        CheckConstraint("passes IS NULL OR passes BETWEEN 1 AND 20", name="passes"),
        CheckConstraint("pain IS NULL OR pain BETWEEN 0 AND 10", name="pain"),
        CheckConstraint("downtime_days IS NULL OR downtime_days BETWEEN 0 AND 60", name="downtime"),
    )


# None is SQL NULL, not the JSON text 'null', so that ``IS NULL`` finds a cleared edit.
NULLABLE_JSON = JSON(none_as_null=True)


class Photo(Base):
    __tablename__ = "photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="RESTRICT"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"), index=True)
    view: Mapped[str] = mapped_column(String(100), default="front")
    # Wall-clock time as shot; utc_offset_min is None when the camera did not say ("floating").
    taken_at: Mapped[dt.datetime] = mapped_column(DateTime)
    utc_offset_min: Mapped[int | None] = mapped_column(Integer)
    date_source: Mapped[DateSource] = mapped_column(_enum(DateSource, "date_source"))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    ext: Mapped[str] = mapped_column(String(8))
    format: Mapped[str] = mapped_column(String(8))
    file_size: Mapped[int] = mapped_column(Integer)
    # As people read it; the name's bytes are in original_name_bytes when they are not UTF-8
    # (a Latin-1 name from an old camera card), so nothing of the name is lost.
    original_name: Mapped[str] = mapped_column(Text)
    original_name_bytes: Mapped[bytes | None] = mapped_column(LargeBinary)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    # Non-destructive edits, applied on display and export: a 3x3 matrix (row-major, nine
    # numbers) taking this photo's upright pixels to its area and view's reference photo's,
    # with how it was made, and per-channel white-balance gains.
    alignment: Mapped[list[float] | None] = mapped_column(NULLABLE_JSON)
    alignment_method: Mapped[str | None] = mapped_column(String(20))  # landmarks, auto
    alignment_model: Mapped[str | None] = mapped_column(String(20))  # similarity, affine, ...
    alignment_points: Mapped[int | None] = mapped_column(Integer)  # points or features agreeing
    alignment_residual_px: Mapped[float | None] = mapped_column(Float)
    # What the calibration card in the photo told, when one was found at import: the pixels per
    # millimetre at the card, and its findings (neutral patches, homography, cast).
    px_per_mm: Mapped[float | None] = mapped_column(Float)
    card: Mapped[dict[str, Any] | None] = mapped_column(NULLABLE_JSON)
    # The capture checks made at import against the area's reference photo (they only warn).
    quality: Mapped[dict[str, Any] | None] = mapped_column(NULLABLE_JSON)
    colour_gains: Mapped[list[float] | None] = mapped_column(NULLABLE_JSON)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Issue 21 (0011): counts the row's changes from 1, as a client's does.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))

    visit: Mapped[Visit] = relationship()
    area: Mapped[Area] = relationship()

    __table_args__ = (
        CheckConstraint("width > 0 AND height > 0", name="size"),
        CheckConstraint("length(sha256) = 64", name="sha256"),
    )


class Region(Base):
    """A polygon drawn on the reference photo of an area and view (issue 18): the marks'
    region, or a patch of untreated skin beside them, in the reference photo's upright
    full-resolution pixels; ``version`` counts its changes, so a measure knows what it used."""

    __tablename__ = "region"

    area_id: Mapped[int] = mapped_column(
        ForeignKey("area.id", ondelete="CASCADE"), primary_key=True
    )
    view: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)  # marks, skin
    points: Mapped[list[list[float]]] = mapped_column(JSON)
    reference_photo_id: Mapped[int | None] = mapped_column(
        ForeignKey("photo.id", ondelete="SET NULL")
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)

    __table_args__ = (
        CheckConstraint("kind IN ('marks', 'skin')", name="kind"),
        CheckConstraint("version >= 1", name="version"),
    )


class Measure(Base):
    """A photo's measures of its marks (``MarkMeasures.as_dict()``), or why it could not be
    measured, with what they were computed from (``inputs``) and its digest (``inputs_key``):
    a measure whose inputs are no longer the photo's is stale."""

    __tablename__ = "measure"

    photo_id: Mapped[int] = mapped_column(
        ForeignKey("photo.id", ondelete="CASCADE"), primary_key=True
    )
    values: Mapped[dict[str, Any] | None] = mapped_column(NULLABLE_JSON)
    error: Mapped[str | None] = mapped_column(Text)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    inputs_key: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)

    __table_args__ = (
        CheckConstraint('("values" IS NULL) <> (error IS NULL)', name="values_or_error"),
    )


class Rating(Base):
    __tablename__ = "rating"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="CASCADE"), index=True)
    rater_role: Mapped[RaterRole] = mapped_column(_enum(RaterRole, "rater_role"))
    rater_name: Mapped[str] = mapped_column(String(200), default="")
    scale_key: Mapped[str] = mapped_column(String(40))
    scale_version: Mapped[int] = mapped_column(Integer)
    method: Mapped[RatingMethod] = mapped_column(
        _enum(RatingMethod, "rating_method"), default=RatingMethod.IN_PERSON
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))

    items: Mapped[list[RatingItem]] = relationship(
        back_populates="rating", cascade="all, delete-orphan", order_by="RatingItem.id"
    )

    __table_args__ = (
        UniqueConstraint("visit_id", "area_id", "rater_role", "rater_name", "scale_key"),
    )


class RatingItem(Base):
    __tablename__ = "rating_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("rating.id", ondelete="CASCADE"), index=True)
    item_key: Mapped[str] = mapped_column(String(40))
    value: Mapped[float] = mapped_column(Float)

    rating: Mapped[Rating] = relationship(back_populates="items")

    __table_args__ = (UniqueConstraint("rating_id", "item_key"),)


class Consent(Base):
    """What a client agreed to (issue 20): one purpose (``domain.consent.Purpose``), whether
    the use may identify them, every photo or those ``ConsentPhoto`` names; until it expires
    or is withdrawn."""

    __tablename__ = "consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    identifiable: Mapped[bool] = mapped_column(Boolean)
    all_photos: Mapped[bool] = mapped_column(Boolean)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_on: Mapped[dt.date] = mapped_column(Date)
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    withdrawn_on: Mapped[dt.date | None] = mapped_column(Date)
    withdrawn_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)
    # Its signed form (``services.consent_forms``), kept as an original: all three or none.
    form_sha256: Mapped[str | None] = mapped_column(String(64))
    form_kind: Mapped[str | None] = mapped_column(String(8))  # domain.consent.FormKind
    form_size: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint(
            "purpose IN ('care', 'shown', 'sharing', 'teaching', 'publication', 'marketing')",
            name="purpose",
        ),
        CheckConstraint("expires_on IS NULL OR expires_on >= recorded_on", name="expiry"),
        CheckConstraint("(withdrawn_on IS NULL) = (withdrawn_by IS NULL)", name="withdrawal"),
        CheckConstraint(
            "(form_sha256 IS NULL) = (form_kind IS NULL) AND "
            "(form_sha256 IS NULL) = (form_size IS NULL)",
            name="form",
        ),
        CheckConstraint(
            "form_kind IS NULL OR form_kind IN ('pdf', 'jpg', 'png', 'heic')", name="form_kind"
        ),
        CheckConstraint("form_size IS NULL OR form_size BETWEEN 1 AND 20971520", name="form_size"),
    )


class ConsentPhoto(Base):
    """A photo a consent covers, when it does not cover all of the client's."""

    __tablename__ = "consent_photo"

    consent_id: Mapped[int] = mapped_column(
        ForeignKey("consent.id", ondelete="CASCADE"), primary_key=True
    )
    photo_id: Mapped[int] = mapped_column(
        ForeignKey("photo.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Audit(Base):
    """One entry of the append-only audit trail (issue 20): never photo data or notes.
    ``hash`` is SHA-256 over the row's canonical form and ``prev_hash``
    (``services.audit.row_hash``); triggers refuse UPDATE and DELETE."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(16))
    client_id: Mapped[int | None] = mapped_column(Integer)  # no key: it outlives an erasure
    subject: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(String(200))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (
        CheckConstraint(
            "action IN ('opened', 'viewed', 'exported', 'printed', 'backed-up', 'restored', "
            "'erased', 'consent', 'unlocked', 'unlock-failed')",
            name="action",
        ),
    )


class Blob(Base):
    """A stored original (named by its plain bytes' SHA-256) or thumbnail or preview (named
    by its original's), in the database (issue 21, ``store.blobs_db``): its plain size, its
    number of chunks, and its encryption header (NULL when stored plain)."""

    __tablename__ = "blob"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    chunks: Mapped[int] = mapped_column(Integer)
    header: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utc_now)

    __table_args__ = (
        CheckConstraint("kind IN ('original', 'thumbs', 'previews')", name="kind"),
        CheckConstraint("size >= 0 AND chunks >= 1", name="counts"),
    )


class BlobChunk(Base):
    """One chunk of a blob's stored bytes (ciphertext when encrypted), ``seq`` from 0."""

    __tablename__ = "blob_chunk"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (
        CheckConstraint("seq >= 0", name="seq"),
        ForeignKeyConstraint(["sha256", "kind"], ["blob.sha256", "blob.kind"], ondelete="CASCADE"),
    )


def row_dict(obj: Any) -> dict[str, Any]:
    """A model's columns as a plain dict, for tests and exports."""
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns}
