"""The database's schema must be exactly the one our migrations make, before it is trusted.

A database can carry code: a trigger runs inside every statement that touches its table, so
a library or an archive whose database holds one we did not make (or a view, a table, an index,
or a table defined differently) could rewrite or delete records while the app believes them.
``foreign_objects`` compares the database's ``sqlite_master`` (type, name, table and the SQL,
normalised so that whitespace, case, quoting and the order of a table's constraints do not
count) with what the migrations make at the database's own revision, and names every object
that differs. SQLite's own objects (automatic indexes, ``sqlite_sequence``, ANALYZE's
``sqlite_stat*``) are expected, as SQLite defines them.

Opening a library must stay cheap, so the schema at the newest revision is shipped here as
data (``SHIPPED``: one digest of the whole of ``sqlite_master`` as this version leaves it, which
an up-to-date library matches at a glance, and one per object for naming what differs);
``tests/core/db/test_schema.py`` builds it again from the migrations and fails, printing what
to put here, when a migration changes it. The schema at an older revision is built by running
the migrations on an empty database in memory, once per process: only on the way to
migrating, which loads Alembic anyway.
"""

from __future__ import annotations

import functools
import hashlib
import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Literal, NamedTuple

from sqlalchemy import Connection, create_engine

from tracker.core.errors import DatabaseDamaged, ForeignSchema, NewerLibraryError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


class Expected(NamedTuple):
    """The schema our migrations make at one revision."""

    # (type, name) -> digest of (table, normalised SQL), for every object but SQLite's
    # automatic indexes (see ``_internal``).
    objects: dict[tuple[str, str], str]
    # All of sqlite_master as this version's migrations leave it, in one digest: a database
    # that matches it needs no closer look, which keeps opening a library cheap.
    exact: str


# Built from the migrations by ``build``; ``tests/core/db/test_schema.py`` fails when they
# change it, printing what to put here.
SHIPPED: dict[str, Expected] = {
    "0011": Expected(
        exact="6e885ba54bc803bd1c20781d134bc2e9",
        objects={
            ("index", "ix_area_client_id"): "0c801904c8e7e16b3e6e3928d7fcd321",
            ("index", "ix_consent_client_id"): "04d26468618fd7fa5f2767dd9576de2c",
            ("index", "ix_consent_photo_photo_id"): "726f4c7752b4dd81a7d77c1427d980f9",
            ("index", "ix_photo_area_id"): "d18415cc81c1d560a221d0131c63036b",
            ("index", "ix_photo_visit_id"): "5543d15eb95d2de4dc2c56dae7234c07",
            ("index", "ix_rating_area_id"): "e33b9c05897297b7d92abe77f7a0dc06",
            ("index", "ix_rating_item_rating_id"): "14bcac7deb9306912f4a640849bee73f",
            ("index", "ix_rating_visit_id"): "63eefa37c6b307301c47accb4608eee6",
            ("index", "ix_treatment_record_area_id"): "390c0d65478b6d2fc28fcb8959e0e414",
            ("index", "ix_treatment_record_visit_id"): "45a219f7fe0cfe049a92f1607cdf370e",
            ("index", "ix_visit_client_id"): "3b1ee63cd643dce7bcae3075ba15fbb9",
            ("table", "alembic_version"): "1b76aedd17d17033d249a673e401eb03",
            ("table", "area"): "06ea26041fb62ed20a5997d3aed61899",
            ("table", "audit"): "6505c756859117d3326a3bc27e8ca611",
            ("table", "blob"): "fcec0be57eccfbf022139e03adeba44d",
            ("table", "blob_chunk"): "02b3e1bdadc73530dfc0809714011562",
            ("table", "client"): "a0b0cff3cb945477be8f89ca91df8644",
            ("table", "consent"): "d05163606b7c9317d215f752208733e4",
            ("table", "consent_photo"): "b73f4e0b3e11a255c043f5c36c913757",
            ("table", "measure"): "c15ae2392c1e059f7ad2784fb7b95056",
            ("table", "photo"): "beb0b015621ed893e7d9bc4a640c3ed8",
            ("table", "rating"): "8b7179c3655ad377e7a630508bf321a5",
            ("table", "rating_item"): "b51f2ba31b0a0ce63144c696809ed956",
            ("table", "reference_photo"): "cf7b069edfd56fcb8e24beb09b939404",
            ("table", "region"): "e5014da53345571d97a7c5c153d42c30",
            ("table", "treatment_record"): "6702242ad39f1d283b4df692837b187a",
            ("table", "visit"): "bbc4e1aad67146f1a3e50f83307ff981",
            ("trigger", "audit_no_delete"): "0eeaacbec7768ef52dd88f5cf3c3b325",
            ("trigger", "audit_no_update"): "9ecbb2e3ddbadcab0b9a653070c46e2d",
        },
    ),
}

# What SQLite itself may add to any database: the AUTOINCREMENT counters and ANALYZE's
# statistics, each with the one definition SQLite gives it.
_SQLITE_TABLES = {
    "sqlite_sequence": "create table sqlite_sequence ( name , seq )",
    "sqlite_stat1": "create table sqlite_stat1 ( tbl , idx , stat )",
    "sqlite_stat2": "create table sqlite_stat2 ( tbl , idx , sampleno , sample )",
    "sqlite_stat3": "create table sqlite_stat3 ( tbl , idx , neq , nlt , ndlt , sample )",
    "sqlite_stat4": "create table sqlite_stat4 ( tbl , idx , neq , nlt , ndlt , sample )",
}
_AUTOINDEX = r"sqlite_autoindex_(.+)_[0-9]+"

# What SQL text is kept as written (comments, string and blob literals) or unquoted (quoted
# names); between them, case does not count, and neither does whitespace, except that it
# keeps two words apart. The patterns are compiled when first used (by ``re``'s cache): only
# a database that is not exactly as this version makes it needs them, not every start.
_QUOTED = (
    r"""(?s)(--[^\n]*|/\*.*?(?:\*/|\Z)|[xX]'[^']*'|'(?:[^']|'')*'"""
    r"""|"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\])"""
)
_PUNCTUATION = r"([^\w\s$])"
# The words a table constraint begins with (a column's definition begins with its name).
_CONSTRAINT = frozenset({"constraint", "primary", "unique", "check", "foreign"})
_PLAIN_NAME = r"[a-z_][a-z0-9_$]*"

Source = Path | sqlite3.Connection | Connection
Row = tuple[str, str, str, str | None]


class Foreign(NamedTuple):
    """One object of a database that is not as our migrations make it."""

    type: str  # table, index, view, trigger (or whatever else the file says)
    name: str
    table: str
    problem: Literal["unknown", "changed", "missing"]

    @property
    def predicate(self) -> str:
        """What the database does wrong, to follow its name: "holds a trigger named 'x' on
        the table rating that this app does not make"."""
        kind = _word(self.type)
        what = f"{_article(kind)} {kind} named {_quoted(self.name)}"
        if self.type in ("trigger", "index") and self.table and self.table != self.name:
            what += f" on the table {_word(self.table)}"
        if self.problem == "unknown":
            return f"holds {what} that this app does not make"
        if self.problem == "changed":
            return f"holds {what} defined differently from the one this app makes"
        return f"lacks the {kind} named {_quoted(self.name)} that this app makes"

    @property
    def sentence(self) -> str:
        return f"The database {self.predicate}."


def foreign_objects(source: Source, migrations: Path = MIGRATIONS_DIR) -> list[Foreign]:
    """Every object of the database that our migrations do not make as it is, the code first
    (triggers and views), then tables and indexes we do not make, changed, and missing.

    ``source`` is a database file (opened for reading only, never written), or an open
    connection; ``migrations`` the folder of the migrations that made it. Raises
    ``NewerLibraryError`` when the database is at a revision this version does not know: what
    its schema should be cannot be known.
    """
    revision, rows = _read(source)
    want = expected(revision, migrations)
    if fingerprint(rows) == want.exact:
        return []
    return compare(rows, want.objects)


def unexpected_schema(source: Source) -> list[str]:
    """One sentence per object in ``foreign_objects`` (for a check to report)."""
    return [f.sentence for f in foreign_objects(source)]


def verify_schema(
    source: Source,
    *,
    subject: str = "The library database",
    outcome: str = "it was not opened",
    migrations: Path = MIGRATIONS_DIR,
) -> None:
    """Raise ``ForeignSchema`` naming the first object that is not ours, as "{subject} holds a
    trigger named 'x' … that this app does not make; {outcome}."."""
    found = foreign_objects(source, migrations)
    if not found:
        return
    raise refusal([f.predicate for f in found], subject, outcome)


def refusal(predicates: list[str], subject: str, outcome: str) -> ForeignSchema:
    """The one sentence naming the first object that is not ours and counting the others
    (the folder's check and the server's, ``server_schema``)."""
    more = len(predicates) - 1
    also = (
        " (and 1 other object not as this app makes it)"
        if more == 1
        else f" (and {more} other objects not as this app makes them)"
    )
    predicate = predicates[0] + (also if more else "")
    return ForeignSchema(f"{subject} {predicate}; {outcome}.", f"it {predicate}")


def expected(revision: str | None, migrations: Path = MIGRATIONS_DIR) -> Expected:
    """The schema our migrations make at ``revision`` (nothing before the first one)."""
    if revision is None:
        return Expected({}, fingerprint([]))
    if revision in SHIPPED and migrations == MIGRATIONS_DIR:
        return SHIPPED[revision]
    if revision not in known_revisions(migrations):
        raise NewerLibraryError(
            f"This library was written by a newer version of the app (schema {revision}). "
            "Update the app to open it; the library has not been changed."
        )
    return build(revision, migrations)


def compare(rows: Iterable[Row], want: dict[tuple[str, str], str]) -> list[Foreign]:
    """What differs between ``sqlite_master``'s rows and the expected digests."""
    tables = {name for kind, name in want if kind == "table"}
    unknown: list[Foreign] = []
    changed: list[Foreign] = []
    seen: set[tuple[str, str]] = set()
    for kind, name, table, sql in rows:
        key = (str(kind).lower(), str(name).lower())
        if key in seen:  # only a hand-edited sqlite_master holds one name twice
            unknown.append(Foreign(str(kind), str(name), str(table), "unknown"))
            continue
        seen.add(key)
        if key in want:
            if digest(table, sql) != want[key]:
                changed.append(Foreign(key[0], str(name), str(table), "changed"))
        elif not _internal(key[0], key[1], str(table), sql, tables):
            unknown.append(Foreign(str(kind), str(name), str(table), "unknown"))
    missing = [Foreign(k, n, "", "missing") for k, n in want if (k, n) not in seen]
    unknown.sort(key=lambda f: f.type not in ("trigger", "view"))
    return unknown + changed + missing


def digest(table: str, sql: str | None) -> str:
    """What an object's definition is, whatever its whitespace, case, quoting and the order of
    its constraints (see ``normalise``)."""
    text = f"{str(table).lower()}\n{normalise(sql)}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def normalise(sql: str | None) -> str:
    """The SQL as its tokens with a single space between them: keywords and names in lower
    case, names unquoted where quoting changes nothing, literals and comments as written, and
    a table's constraints in a fixed order (rebuilding a table may write them in another)."""
    if sql is None:
        return ""
    tokens: list[str] = []
    for n, part in enumerate(re.split(_QUOTED, str(sql))):
        if n % 2 == 0:  # between quotes: words, numbers, signs
            tokens += re.sub(_PUNCTUATION, r" \1 ", part.lower()).split()
        elif part[0] in '"`[':
            name = part[1:-1].lower()
            name = name.replace('""', '"') if part[0] == '"' else name.replace("``", "`")
            tokens.append(
                name if re.fullmatch(_PLAIN_NAME, name) else '"' + name.replace('"', '""') + '"'
            )
        else:
            tokens.append(part)
    if tokens[:2] == ["create", "table"]:
        tokens = _constraints_sorted(tokens)
    return " ".join(tokens)


def _constraints_sorted(tokens: list[str]) -> list[str]:
    """A CREATE TABLE's tokens with its table constraints (after the columns) sorted."""
    if "(" not in tokens:
        return tokens
    start = tokens.index("(")
    items: list[list[str]] = [[]]
    depth = 0
    for end in range(start + 1, len(tokens)):
        token = tokens[end]
        if token == ")" and depth == 0:
            break
        depth += {"(": 1, ")": -1}.get(token, 0)
        if token == "," and depth == 0:
            items.append([])
        else:
            items[-1].append(token)
    else:
        return tokens  # no closing bracket: left as it is
    first = next((i for i, item in enumerate(items) if item[:1] and item[0] in _CONSTRAINT), None)
    if first is None:
        return tokens
    body = [*items[:first], *sorted(items[first:])]
    joined = [t for i, item in enumerate(body) for t in ([","] if i else []) + item]
    return [*tokens[: start + 1], *joined, *tokens[end:]]


@functools.cache
def build(revision: str, migrations: Path = MIGRATIONS_DIR) -> Expected:
    """Run the migrations up to ``revision`` on an empty database in memory and read back what
    they made (loads Alembic: about 0.35 s)."""
    # start-up time: only to migrate (an older database) or in tests, never on a normal open
    from alembic import command
    from alembic.config import Config

    engine = create_engine("sqlite://")
    try:
        with engine.begin() as conn:
            cfg = Config()
            cfg.set_main_option("script_location", str(migrations))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            _, rows = _read(conn)
    finally:
        engine.dispose()
    objects = {
        (kind.lower(), name.lower()): digest(table, sql)
        for kind, name, table, sql in rows
        if not (kind == "index" and sql is None)  # automatic indexes follow from the tables
    }
    return Expected(objects, fingerprint(rows))


def fingerprint(rows: Iterable[Row]) -> str:
    """All of ``sqlite_master`` as it is, in any order, in one digest."""
    text = "\n".join(sorted("\0".join((k, n, t, "\1" if s is None else s)) for k, n, t, s in rows))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@functools.cache
def known_revisions(migrations: Path = MIGRATIONS_DIR) -> frozenset[str]:
    """Every revision of our migrations (loads Alembic)."""
    # start-up time: only for a database that is not at the newest revision
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations))
    return frozenset(rev.revision for rev in ScriptDirectory.from_config(cfg).walk_revisions())


# -- reading ------------------------------------------------------------------------------


def _read(source: Source) -> tuple[str | None, list[Row]]:
    """The database's revision and its ``sqlite_master`` rows, read in one transaction."""
    if isinstance(source, Path):
        # As engine.read_revision: immutable (no -wal or -shm made) unless a WAL must be read.
        wal = source.with_name(source.name + "-wal")
        mode = "mode=ro" if wal.exists() else "immutable=1"
        try:
            conn = sqlite3.connect(f"{source.resolve().as_uri()}?{mode}", uri=True)
            try:
                return _read(conn)
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            raise DatabaseDamaged(
                f"The database {source} is damaged or is not a database ({exc}).", str(exc)
            ) from exc
    if not isinstance(source, Connection):  # sqlite3's, or SQLCipher's (an encrypted library)
        rows = [tuple(r) for r in source.execute(_MASTER).fetchall()]
        has_version = any(r[0] == "table" and r[1] == "alembic_version" for r in rows)
        version = source.execute(_VERSION).fetchone() if has_version else None
    else:
        rows = [tuple(r) for r in source.exec_driver_sql(_MASTER).fetchall()]
        has_version = any(r[0] == "table" and r[1] == "alembic_version" for r in rows)
        version = source.exec_driver_sql(_VERSION).fetchone() if has_version else None
    revision = str(version[0]) if version else None
    # A hand-edited sqlite_master may hold anything in any column: text from here on.
    return revision, [
        (str(k), str(n), str(t), None if s is None else str(s)) for k, n, t, s in rows
    ]


_MASTER = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid"
_VERSION = "SELECT version_num FROM alembic_version"


def _internal(kind: str, name: str, table: str, sql: str | None, tables: set[str]) -> bool:
    """Whether the object is one SQLite makes by itself, as SQLite makes it."""
    if kind == "table" and name in _SQLITE_TABLES:
        return table.lower() == name and normalise(sql) == _SQLITE_TABLES[name]
    if kind == "index" and sql is None:
        match = re.fullmatch(_AUTOINDEX, name)
        return match is not None and match.group(1) == table.lower() and table.lower() in tables
    return False


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _word(text: str) -> str:
    """A word from the file (a type, a table's name) as it is, unless it needs quoting."""
    return text if re.fullmatch(_PLAIN_NAME, text) else _quoted(text)


def _quoted(text: str) -> str:
    """A name from the file as it can be shown in one line: quoted, with control and invisible
    characters escaped, and cut short when it is long."""
    return repr(text if len(text) <= 60 else text[:57] + "…")
