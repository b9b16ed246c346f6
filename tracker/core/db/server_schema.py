"""A server database's schema must be exactly the one our migrations make, before it is trusted.

The PostgreSQL analogue of ``schema.foreign_objects`` (issue 21). A database on a shared server
can carry code and hidden copies just as a file can: a trigger or rule runs inside our
statements, a function can shadow one of ours, a view, policy, publication or extra table can
show or ship records elsewhere, and a column defined otherwise (another default, a dropped NOT
NULL) changes what is stored. So before a clinic library is used, every object in the schema
in use (``current_schema()``, normally ``public``) is read from ``pg_catalog`` in one query,
each as its kind, its table, its name and the definition PostgreSQL itself prints for it
(``pg_get_constraintdef``, ``pg_get_triggerdef``, ``pg_get_functiondef``, ``pg_get_indexdef``,
``pg_get_viewdef``, ``pg_get_expr``...), which is already canonical: whitespace, case and
quoting as written do not reach it. The schema's own name is taken out of the definitions, so
the same migrations in another schema read the same. Then the definitions are digested, one
digest per object and one for the whole, and compared with what the migrations make.

Expected, as the server defines them: everything outside the schema in use (``pg_catalog``,
``information_schema``, TOAST tables), the triggers PostgreSQL makes for foreign keys
(``tgisinternal``), and every object an extension owns (``pg_depend`` ``deptype = 'e'``): an
extension is installed by the server's administrator, not planted in our tables. Privileges
(GRANTs) are not compared: each clinic gives its own staff their rights.

``SHIPPED`` (at the end: one line of data for each object makes this module longer than 500 lines)
holds the digests at the newest revision, so an up-to-date library is checked with one catalog
query and one comparison. ``tests/core/db/test_postgres_schema.py``
builds them again from the migrations on a throwaway server and fails, printing what to put
here, when a migration changes them. The schema at an older revision (a library about to be
migrated) is built on the same server: the migrations run in a new schema inside a savepoint
that is rolled back, so nothing of it is ever committed (it needs the right to create a schema,
which migrating needs too).
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from typing import Literal, NamedTuple

from sqlalchemy import Connection, text

from tracker.core.db import engine as db
from tracker.core.db import schema

# kind, table ('' for an object of the schema itself), name
Key = tuple[str, str, str]


class Expected(NamedTuple):
    """The schema our migrations make at one revision, on PostgreSQL."""

    objects: dict[Key, str]  # each object's digest
    exact: str  # all of them in one digest: a database that matches needs no closer look


class Foreign(NamedTuple):
    """One object of the server's database that is not as our migrations make it."""

    kind: str  # table, column, constraint, index, trigger, function, view, policy, ...
    table: str
    name: str
    problem: Literal["unknown", "changed", "missing"]

    @property
    def predicate(self) -> str:
        """What the database does wrong, to follow its name: "holds a trigger named 'x' on
        the table rating that this app does not make"."""
        article = "an" if self.kind[:1] in "aeiou" else "a"
        where = f" on the table {self.table}" if self.table else ""
        what = f"{self.kind} named {_quoted(self.name)}{where}"
        if self.problem == "unknown":
            return f"holds {article} {what} that this app does not make"
        if self.problem == "changed":
            return f"holds {article} {what} defined differently from the one this app makes"
        return f"lacks the {what} that this app makes"

    @property
    def sentence(self) -> str:
        return f"The database {self.predicate}."


def read(conn: Connection) -> dict[Key, str]:
    """Every object of the schema in use, as its definition (one round trip)."""
    schema = conn.scalar(text("SELECT quote_ident(current_schema())"))
    if schema is None:
        return {}  # no schema of the search path exists: there is nothing to hold anything
    prefix = f"{schema}."
    return {
        (str(kind), str(table), str(name)): str(definition).replace(prefix, "")
        for kind, table, name, definition in conn.execute(text(_CATALOG))
    }


def digests(definitions: dict[Key, str]) -> Expected:
    """Each object's digest, and one of the whole."""
    return _whole({key: _digest("\0".join([*key, d])) for key, d in definitions.items()})


def _whole(objects: dict[Key, str]) -> Expected:
    return Expected(objects, _digest(_table(objects)))


def _table(objects: dict[Key, str]) -> str:
    """The digests as ``SHIPPED`` writes them: one object a line, in order."""
    return "".join(f"{v} {' | '.join(k)}\n" for k, v in sorted(objects.items()))


@functools.cache
def shipped(revision: str) -> Expected | None:
    """``SHIPPED``'s digests at ``revision``, or None when it holds none for it."""
    table = SHIPPED.get(revision)
    if table is None:
        return None
    objects: dict[Key, str] = {}
    for line in table.strip().splitlines():
        value, _, key = line.partition(" ")
        kind, table_name, name = key.split(" | ", 2)
        objects[(kind, table_name, name)] = value
    return _whole(objects)


def compare(found: Expected, want: Expected) -> list[Foreign]:
    """What differs: the code first (triggers, rules, functions...), then other objects we do
    not make, then those changed, then those missing."""
    if found.exact == want.exact:
        return []
    unknown = _whole_tables([k for k in found.objects if k not in want.objects])
    missing = _whole_tables([k for k in want.objects if k not in found.objects])
    changed = [
        key
        for key, value in found.objects.items()
        if key in want.objects and want.objects[key] != value
    ]
    return [
        *(Foreign(*k, "unknown") for k in sorted(unknown, key=_code_first)),
        *(Foreign(*k, "changed") for k in sorted(changed, key=_code_first)),
        *(Foreign(*k, "missing") for k in sorted(missing)),
    ]


def _whole_tables(keys: list[Key]) -> list[Key]:
    """``keys`` without the columns and constraints of a table among them: a table we do not
    make (or that is missing) is named once, not once for each of its columns."""
    tables = {name for kind, _, name in keys if kind == "table"}
    return [k for k in keys if not (k[0] in ("column", "constraint") and k[1] in tables)]


def foreign_objects(conn: Connection, revision: str | None) -> list[Foreign]:
    """Every object of the database that our migrations at ``revision`` do not make as it is
    (``revision`` is one the caller knows to be ours: see ``server.open_server``)."""
    return compare(digests(read(conn)), expected(conn, revision))


def verify(
    conn: Connection,
    revision: str | None,
    *,
    subject: str = "The library database",
    outcome: str = "it was not opened",
) -> None:
    """Raise ``ForeignSchema`` naming the first object that is not ours, as "{subject} holds a
    trigger named 'x' on the table audit that this app does not make; {outcome}."."""
    found = foreign_objects(conn, revision)
    if not found:
        return
    raise schema.refusal([f.predicate for f in found], subject, outcome)


def expected(conn: Connection, revision: str | None) -> Expected:
    """The schema our migrations make at ``revision``: shipped for the newest, built on the
    server for an older one, nothing at all before the first."""
    if revision is None:
        return digests({})
    return shipped(revision) or digests(build(conn, revision))


def build(conn: Connection, revision: str) -> dict[Key, str]:
    """Run the migrations up to ``revision`` in a new schema of the server's database, read
    back what they made, and roll all of it back (a savepoint: ``conn`` may be inside the
    transaction that opens the library). Loads Alembic."""
    # start-up time: only to migrate an older library, or in tests, never on a normal open
    from alembic import command

    scratch = f"tracker_expected_{uuid.uuid4().hex[:12]}"
    savepoint = conn.begin_nested()
    try:
        conn.execute(text(f"CREATE SCHEMA {scratch}"))
        conn.execute(text("SELECT set_config('search_path', :path, true)"), {"path": scratch})
        cfg = db.alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        return read(conn)
    finally:
        savepoint.rollback()  # and search_path with it: set_config(..., true) is transaction-local


def shipped_entry(revision: str, found: Expected) -> str:
    """``found`` as it is written in ``SHIPPED`` (what the test prints to paste there)."""
    return (
        f'SHIPPED: dict[str, str] = {{\n    "{revision}": """\\\n{_table(found.objects)}""",\n}}\n'
    )


def _digest(text_: str) -> str:
    return hashlib.sha256(text_.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _quoted(name: str) -> str:
    return repr(name if len(name) <= 60 else name[:57] + "…")


# What runs code or shows records elsewhere, named first, in this order.
_CODE = (
    "trigger",
    "event trigger",
    "rule",
    "policy",
    "publication",
    "view",
    "materialized view",
    "function",
    "procedure",
    "aggregate",
    "window function",
    "operator",
)


def _code_first(key: Key) -> tuple[int, Key]:
    return (_CODE.index(key[0]) if key[0] in _CODE else len(_CODE), key)


# One query for every kind of object the schema in use can hold. ``ns`` is the schema;
# ``ext`` every object an extension owns. Each part gives kind, table, name, definition.
_CATALOG = """
WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = current_schema()),
ext AS (SELECT classid, objid FROM pg_depend WHERE deptype = 'e'),
rel AS (
    SELECT c.* FROM pg_class c
    WHERE c.relnamespace = (SELECT oid FROM ns)
      AND NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_class'::regclass AND objid = c.oid)
)
SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN 'view'
         WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence'
         WHEN 'f' THEN 'foreign table' WHEN 'c' THEN 'type' ELSE 'relation' END,
       '', c.relname,
       concat_ws(E'\\n', c.relkind, c.relpersistence, c.relrowsecurity, c.relforcerowsecurity,
         array_to_string(c.reloptions, ','), c.relispartition,
         pg_get_expr(c.relpartbound, c.oid), pg_get_partkeydef(c.oid),
         (SELECT string_agg(p.oid::regclass::text, ',' ORDER BY i.inhseqno)
            FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent WHERE i.inhrelid = c.oid),
         CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END,
         (SELECT concat_ws(' ', s.seqtypid::regtype, s.seqstart, s.seqincrement, s.seqmin,
                  s.seqmax, s.seqcache, s.seqcycle)
            FROM pg_sequence s WHERE s.seqrelid = c.oid),
         (SELECT string_agg(d.refobjid::regclass::text || '.' || a.attname, ',')
            FROM pg_depend d JOIN pg_attribute a
              ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
            WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
              AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')),
         CASE WHEN c.relkind = 'c' THEN
           (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ','
                              ORDER BY a.attnum)
              FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
                AND NOT a.attisdropped) END)
FROM rel c WHERE c.relkind NOT IN ('i', 'I')
UNION ALL
SELECT 'index', t.relname, c.relname, concat_ws(E'\\n', pg_get_indexdef(c.oid), x.indisvalid)
FROM rel c JOIN pg_index x ON x.indexrelid = c.oid JOIN pg_class t ON t.oid = x.indrelid
UNION ALL
SELECT 'column', c.relname, a.attname,
       concat_ws(E'\\n', format_type(a.atttypid, a.atttypmod), a.attnotnull,
         pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,
         CASE WHEN a.attcollation <> t.typcollation THEN a.attcollation::regcollation::text END)
FROM rel c JOIN pg_attribute a ON a.attrelid = c.oid
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relkind IN ('r', 'p', 'f') AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint', c.relname, k.conname, concat_ws(E'\\n', k.contype, pg_get_constraintdef(k.oid))
FROM pg_constraint k JOIN rel c ON c.oid = k.conrelid
UNION ALL
SELECT 'trigger', c.relname, g.tgname, concat_ws(E'\\n', pg_get_triggerdef(g.oid), g.tgenabled)
FROM pg_trigger g JOIN rel c ON c.oid = g.tgrelid WHERE NOT g.tgisinternal
UNION ALL
SELECT 'rule', c.relname, r.rulename, concat_ws(E'\\n', pg_get_ruledef(r.oid), r.ev_enabled)
FROM pg_rewrite r JOIN rel c ON c.oid = r.ev_class WHERE r.rulename <> '_RETURN'
UNION ALL
SELECT 'policy', c.relname, p.polname,
       concat_ws(E'\\n', p.polcmd, p.polpermissive,
         (SELECT string_agg(CASE WHEN r = 0 THEN 'public' ELSE r::regrole::text END, ','
                            ORDER BY 1)
            FROM unnest(p.polroles) AS r),
         pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid))
FROM pg_policy p JOIN rel c ON c.oid = p.polrelid
UNION ALL
SELECT CASE f.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate'
         WHEN 'w' THEN 'window function' ELSE 'function' END,
       '', f.proname || '(' || pg_get_function_identity_arguments(f.oid) || ')',
       CASE WHEN f.prokind IN ('f', 'p') THEN pg_get_functiondef(f.oid)
            ELSE concat_ws(E'\\n', f.prorettype::regtype, f.prosrc,
              (SELECT concat_ws(' ', g.aggtransfn, g.aggfinalfn, g.aggtranstype::regtype)
                 FROM pg_aggregate g WHERE g.aggfnoid = f.oid)) END
FROM pg_proc f
WHERE f.pronamespace = (SELECT oid FROM ns)
  AND NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_proc'::regclass AND objid = f.oid)
UNION ALL
SELECT CASE t.typtype WHEN 'e' THEN 'enum type' WHEN 'd' THEN 'domain'
         WHEN 'r' THEN 'range type' ELSE 'type' END,
       '', t.typname,
       concat_ws(E'\\n', t.typtype, format_type(t.typbasetype, t.typtypmod), t.typnotnull,
         t.typdefault, t.typinput::text, t.typoutput::text,
         (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
            FROM pg_enum e WHERE e.enumtypid = t.oid),
         (SELECT string_agg(k.conname || ' ' || pg_get_constraintdef(k.oid), ','
                            ORDER BY k.conname)
            FROM pg_constraint k WHERE k.contypid = t.oid))
FROM pg_type t
WHERE t.typnamespace = (SELECT oid FROM ns)
  AND t.typtype <> 'c'  -- a table's row type follows from the table, a composite is in rel
  AND NOT (t.typcategory = 'A'
           AND EXISTS (SELECT 1 FROM pg_type e WHERE e.oid = t.typelem AND e.typarray = t.oid))
  AND t.typtype <> 'm'  -- a range's multirange comes with the range
  AND NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_type'::regclass AND objid = t.oid)
UNION ALL
SELECT 'operator', '',
       o.oprname || '(' || o.oprleft::regtype || ', ' || o.oprright::regtype || ')',
       concat_ws(E'\\n', o.oprcode::regproc, o.oprresult::regtype, o.oprcom::regoper, o.oprnegate::regoper)
FROM pg_operator o
WHERE o.oprnamespace = (SELECT oid FROM ns)
  AND NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_operator'::regclass AND objid = o.oid)
UNION ALL
SELECT 'event trigger', '', v.evtname,
       concat_ws(E'\\n', v.evtevent, v.evtfoid::regproc, v.evtenabled,
         array_to_string(v.evttags, ','))
FROM pg_event_trigger v
WHERE NOT EXISTS (SELECT 1 FROM ext WHERE classid = 'pg_event_trigger'::regclass
                  AND objid = v.oid)
UNION ALL
SELECT 'publication', '', b.pubname,
       concat_ws(E'\\n', b.puballtables, b.pubinsert, b.pubupdate, b.pubdelete)
FROM pg_publication b
"""


# Built from the migrations by ``build``; tests/core/db/test_postgres_schema.py fails when they
# change it, printing what to put here. One object a line: its digest, then kind | table | name.
SHIPPED: dict[str, str] = {
    "0011": """\
35fe82864650c6a3b1e7b324b8cb2336 column | alembic_version | version_num
fbc1b42ba7bc9fed0b84991049fc24da column | area | body_site
ce10c52c6693d145213338acebb518e1 column | area | client_id
ab980d6df79a5f5da6a263372d060c4d column | area | control_area_id
91c0c3cf560a4c8d2691e0ebc2dc93e2 column | area | created_at
abbf5c1671185312278d70f35d77f308 column | area | default_scale
e1504ab5c7b792738eeb06d7aa887c3b column | area | id
2259c4358ddeda97c6ac18011351d602 column | area | interval_days
18af1c3397b0a1127e50a9459accdbc4 column | area | is_control
30fd52675d87006919372410167fd7e0 column | area | mark_sensitivity
1576b6c4fe8b2488df5a3fe98f0b5c45 column | area | name
914ca68621aa6c5ad1755202d2a6be82 column | area | notes
b5f3576163707f549c30de4ae1563f3c column | area | stage
563d84b1d27a86041046e56f344f3fa1 column | area | version
1f9442cf74e9c23eafc30b8f1c7b2406 column | audit | action
efc4ba7c8f2aed43f0cc8dfe14004371 column | audit | actor
8e882d3ff1bec5df0e4c5546b25723cb column | audit | at
b156605abb06aa948aca7f89c0a3e741 column | audit | client_id
c7ce3989521cfa108277b93247dbce8b column | audit | detail
d8c717f082147c22b7c4291dff13b295 column | audit | hash
e25fcdc1a81e03df6345fc9188e6251d column | audit | id
eeb8193ff994cd7b8cad73fa031096a3 column | audit | prev_hash
a720f6e662ba430ae6fcbce980476295 column | audit | subject
dfea7c398ef63ba4a11bc37ce9038693 column | blob | chunks
5045df7ff6a01515b8beb2b331be3be5 column | blob | created_at
d4f215f9b825c14acde27a8265b5a0ac column | blob | header
0b9dfc5385fc00e5da0e422c15ebccf1 column | blob | kind
304f441f59b6522b49256bfd6c70d6df column | blob | sha256
9034f6cc6f41c62780c30a2881b87955 column | blob | size
0dde7d2f279ceb45e244a2474c904274 column | blob_chunk | data
bb7c8e4637071108de3af7b783670627 column | blob_chunk | kind
2ae7547ba3cd0094753d868d4f97097f column | blob_chunk | seq
f0b6b1cb10cb8f33e47c914c4c6e173b column | blob_chunk | sha256
f4e2504b7af92dc6621e6d49110090b9 column | client | created_at
926afa28d409816857dcb0b36c42f427 column | client | date_of_birth
ceadd3d1ac25cc3939acf7c1097bc750 column | client | fitzpatrick
86a5820f592d97e3ac1bff2993e3ca69 column | client | id
ad355ec38d658ee0c99fa0666c190dc3 column | client | name
93d589c81a23133a33822796f27a5569 column | client | notes
c32bf105e4a11c4715ef11522457c48c column | client | version
9f55884828280b956388eb8ded0fbd6e column | consent | all_photos
00e7bd6ef667d77ab6bb73eaf4f11f7f column | consent | client_id
35ab0f87235a0174e1e077069cf73fd5 column | consent | created_at
4f4274cc1e4d603e91e4a36da3535373 column | consent | expires_on
f1c6344e487c5602e99588e542a0e341 column | consent | form_kind
5869db1d21a061bd25eea04d01325be0 column | consent | form_sha256
732f0f9ed221006dd83b03c38e51974a column | consent | form_size
8ddccbeb3b8834d61ec69513b116345c column | consent | id
9d091681f85c8693432eb6c988ae4bdc column | consent | identifiable
cad0b2204f788d40c9227b33a22d0796 column | consent | purpose
c34c37c1d745ba17d3f28f76d67f746d column | consent | recorded_by
aacc2edea357fcf80aabf22d2e52a905 column | consent | recorded_on
c5724efb872141130e665b1c08f436fd column | consent | withdrawn_by
85a09cd13c897642507e2a981d1dd55c column | consent | withdrawn_on
26d9445f298bd55c84ff7d02af148ace column | consent_photo | consent_id
2be193ca67842bc55f74c2e870eee8cc column | consent_photo | photo_id
d7a72130c14cd7ebcd8f5dd33311a45e column | library_key | created_at
7533c3a8a0adef71fa57b55d0afac828 column | library_key | document
11fe87d413da2748133c337e79db8013 column | library_key | id
6f3c8ff782066c4d6ad65a1608782b5a column | measure | computed_at
595bbedacbde5327512246596fd82437 column | measure | error
528f4c1f062774731135641e998e18fc column | measure | inputs
88626e84c977ed6c172ba300c6105e16 column | measure | inputs_key
e8b62195873240e0c45c9f8e2f367f0a column | measure | photo_id
d314b730069fee6151dceae4c4685b2b column | measure | values
8b925ed05430641e9e37634cb29ac484 column | photo | alignment
b440be3d818141e5a521eeb0c4e2a889 column | photo | alignment_method
6f35b242c83496e7e45f504ca8c39fa9 column | photo | alignment_model
2c9104abb011586b77427588d87decb1 column | photo | alignment_points
cdb20f9b1acee1252e5ca6c1a57e691e column | photo | alignment_residual_px
7dc696ce0d844e56e4a4724dbbf85ded column | photo | area_id
e7d2777c19f403781688991f62be6dd1 column | photo | card
dd7ad508767515086c83ce1334edbdca column | photo | colour_gains
35c9cd66b2cead5f8623251b64ffcfc6 column | photo | date_source
aa6b4ae84bd1e7036ffb905dd8b04135 column | photo | deleted_at
917178edf94ca2b769c376623e0deab1 column | photo | ext
f930b6c5d5d293db54a85900dc2ee8b3 column | photo | file_size
c7c73d34c5d24edf94b1d67f6c17772e column | photo | format
36ac4ef8d8b0c09b770a43452a19c46b column | photo | height
5714ccf8a7c7991e5c238a205403b950 column | photo | id
ac1cab9fe8b02cd15c56b394370deeed column | photo | imported_at
11a89e7abfa45ae114d203b7c907cf95 column | photo | original_name
9a14a53eb7116d5f6c85387e8c996b6a column | photo | original_name_bytes
741a6e5fbde322eb997a3e8462ee35d9 column | photo | px_per_mm
8287ae1e46dc1df0081576bd88c5bf00 column | photo | quality
c42985a05c12298b34b15aa0c41453a3 column | photo | sha256
3d9e104c7587250c1f3b047e299b41c6 column | photo | taken_at
99b5904aa3b622ec6e2be214555587c3 column | photo | utc_offset_min
908e51b55983ee25b4b0348e67a58f19 column | photo | version
48eb22271b6d62c2f67282c26495e556 column | photo | view
92775ea7d2df2b8899c7ebb7ebcce0f1 column | photo | visit_id
4f44a8483ce1a7155962c88d8f17ea97 column | photo | width
93b8aff0bc0e7f694c5ce84c5da7d676 column | rating | area_id
59b100152a84e2bb83574a789657b662 column | rating | created_at
7d9fcd825a6c35db3ff0978e91090925 column | rating | id
b08c9c7b1e7a3d17311d63914e7984f7 column | rating | method
69e3930d8e04472102d98d3648cc4011 column | rating | rater_name
8d0562ecd280cbf2204d6b1c1fa0d661 column | rating | rater_role
b94d997bd999c400eef37f3cf7cfce6b column | rating | scale_key
4a08eb9462ecba349c84c6dbdac20511 column | rating | scale_version
c3a97200d6008142e452291a34ed9e4a column | rating | version
fdbc4a6610fc3f584dfdf903cc04d41a column | rating | visit_id
d8f0e59fa01734e1e8523f1e5cb95401 column | rating_item | id
2da5d07f6494d748e55fdf60939b7942 column | rating_item | item_key
9f5f69b427e0f5b0d7d30faaa418ac33 column | rating_item | rating_id
107d480635046fc6522f7c50d3edc8fc column | rating_item | value
29d0aa6fa7a8d85e0a13d3eebcaf0339 column | reference_photo | area_id
648765f7320855fca554f9edbb0f4009 column | reference_photo | photo_id
5971bc9174b260ea7bf12b0ef51f66ef column | reference_photo | view
785132b975ac6ac73cd9cc046d4d1b96 column | region | area_id
502fe5df92a247ffc2574ed5de0758a8 column | region | kind
65f1ebfa773c99dafb9f515c4243850d column | region | points
c9805e5f25433fd48b005b6fd975de8e column | region | reference_photo_id
cdbfa233d5ec9aea483273a2f5dedd7b column | region | updated_at
c4a2322937d5866b6fbc71052586b393 column | region | version
09aa5ff69746018c9f4d35f1ca3ced60 column | region | view
0626602b5665acb12651770a41a60db4 column | treatment_record | anaesthetic
daf17715de5460e34542b8b04269d048 column | treatment_record | area_id
a71d63c1db266cb8dedf948554e8277a column | treatment_record | device
d093a88478af53f91395e215c1d9295a column | treatment_record | downtime_days
b46cb6fa230b42ad2cdbb31f7bcdbe7e column | treatment_record | id
b29db267475f961b3d785a68f7eb53c5 column | treatment_record | needle_depth_mm
a091af420c47adcd0b50d0554f4ad7cf column | treatment_record | notes
15d4a5d6f53bd0b45e98f94a354745e0 column | treatment_record | pain
edad69928171448e6e2e2ef4a84b9e16 column | treatment_record | passes
3d865ff0d177cebcfb6d512eb9788a8d column | treatment_record | practitioner
4fe88520f7752e66eea5cb68d1fbf134 column | treatment_record | reaction
8df8292e44511857c89b43f724b1170d column | treatment_record | topical
59a2d75bf14929362d33375c3abb99c8 column | treatment_record | version
9c4a3ba374aba2d35ba7357b28139a1f column | treatment_record | visit_id
bf981f96f184c6e638c0bfaf8a14eeeb column | visit | client_id
fff41d2b6f6aef31d5a9941ea039b0bb column | visit | created_at
1b05da32200053213b8853dcd7d04275 column | visit | date
9fe9d6462d602d09fdf1496ba3780654 column | visit | id
e29add3feb0a638b0d965eb1b08cfcbf column | visit | kind
6ddd62c9a94157ec16893461e2acc261 column | visit | notes
f9e8c6f9685c81f18ecc018fb0b37479 column | visit | version
53129d7d37d719e8c05bcc082c6a3b3b constraint | alembic_version | alembic_version_pkc
3236aec376acc25a87d07e3ada4cf775 constraint | area | ck_area_control_not_self
93f85820e16a809045ebd660f90dfbcf constraint | area | ck_area_interval_days
d8b13bc3ee13db3faa32bbace3f3c685 constraint | area | ck_area_mark_sensitivity
b4a1e4cd8a79fe9a8558b2f45136dbb2 constraint | area | ck_area_name_not_blank
4137cacc6161e7d74525e9001f582e44 constraint | area | ck_area_stage
b1f1b1457a1047c2c4b707ece9b8c487 constraint | area | fk_area_client_id_client
490594758a3008132aa7481471cbe67c constraint | area | fk_area_control_area_id_area
f495e8c7d1b08cb8461cd6881741cbdc constraint | area | pk_area
74265710fe5d41690d04a644fce1fa31 constraint | area | uq_area_client_id
e15af2890a3484af6f474d50de822560 constraint | audit | ck_audit_action
937faf1a0ce58acbaff1fb777de0ac07 constraint | audit | pk_audit
cf6255c29565f4ef4077fbc8e761b59a constraint | audit | uq_audit_hash
f6e0ace9ad1b29c4f98d3ad900bc2913 constraint | blob | ck_blob_counts
b8a725c8a6ac25c7c13c2c5465de7942 constraint | blob | ck_blob_kind
8325944d14a86bb03c158b961a8323a7 constraint | blob | pk_blob
a3fade1f0b5bb7f2e3e43fbe9909668c constraint | blob_chunk | ck_blob_chunk_seq
27c2aba6bc281435fc0f9ff118bae012 constraint | blob_chunk | fk_blob_chunk_sha256_blob
ecf27df9acdcbbc9a01f893112424d09 constraint | blob_chunk | pk_blob_chunk
8f5ae8ca95a4e7d8de31499cc03be8c4 constraint | client | ck_client_fitzpatrick
b4872c5308f44013e6ab000c024d2a8c constraint | client | ck_client_name_not_blank
32441d1c2add59db32c0a5c990ab1d72 constraint | client | pk_client
d76c0ec3ba430cacac3de08321c1b690 constraint | client | uq_client_name
a64914c1d8c828fda7534cdad7ef9bdf constraint | consent | ck_consent_expiry
8576f758d35e58208c17b42d2f957fda constraint | consent | ck_consent_form
1a56531f732d9a5ab5b1fead0c7f62d2 constraint | consent | ck_consent_form_kind
5c640c099898a2ccf0e389093e906ebf constraint | consent | ck_consent_form_size
94bf27242777f2a755d43935d0944d63 constraint | consent | ck_consent_purpose
0011699579c9cdf01b746089f1483336 constraint | consent | ck_consent_withdrawal
f49957b28fb847592a8409c158a83f6a constraint | consent | fk_consent_client_id_client
823c9dd2dffdc9efbf9290c13bb6369b constraint | consent | pk_consent
2e4cb09431e31a8da6847b7cafc5f57d constraint | consent_photo | fk_consent_photo_consent_id_consent
daca056dd10d34c00e03882501d9be68 constraint | consent_photo | fk_consent_photo_photo_id_photo
07a5a8ae75478f6699ac6ae2c2b27ff4 constraint | consent_photo | pk_consent_photo
cf8b5a35ffdcbe3020ec7ab563e5f163 constraint | library_key | ck_library_key_one
25d62d2ddae74e9a34745ee0987e8193 constraint | library_key | pk_library_key
f11fb5aaac1baefb13c3dd10ca42e26e constraint | measure | ck_measure_values_or_error
5d8171d24a385dcc7f1951c29011f879 constraint | measure | fk_measure_photo_id_photo
93addfe6e3c115af280ce91b38e9f99a constraint | measure | pk_measure
f118c8f13db1f4a83e693df1eb1f9813 constraint | photo | ck_photo_date_source
c45a5ec48cad6fb64159884610a4ed3c constraint | photo | ck_photo_sha256
55e538108e96ca656544bbb6df0f5eb4 constraint | photo | ck_photo_size
da896681068e682e8344fd9e2874acc2 constraint | photo | fk_photo_area_id_area
ffdaf48061075718c6e39b63764fb84e constraint | photo | fk_photo_visit_id_visit
f5de9e9b08cd50ac01a373fcb2e33334 constraint | photo | pk_photo
992304833cd7748825286e74f453e0dd constraint | photo | uq_photo_sha256
14287835e97eeff5d979b31d916977eb constraint | rating | ck_rating_rater_role
da3715bfc3a1a957d989742a8f4d0f80 constraint | rating | ck_rating_rating_method
1e613aeeef791d4d04bf4e3f47aae9ce constraint | rating | fk_rating_area_id_area
5e91e7ce568aeff412945779768ce8c8 constraint | rating | fk_rating_visit_id_visit
d3fcba94f7130132f5be4201e2104ca3 constraint | rating | pk_rating
f4cdc9eed7749d7b56796c15169df010 constraint | rating | uq_rating_visit_id
965347f75c8282c9b0ea7afd5ce427ff constraint | rating_item | fk_rating_item_rating_id_rating
0c43dcec4c22e04d136b75a69b3fefd9 constraint | rating_item | pk_rating_item
0a3ecc4f928910a0c0e523cbdb7afd15 constraint | rating_item | uq_rating_item_rating_id
e4de229af12669fc216fb650362d74e8 constraint | reference_photo | fk_reference_photo_area_id_area
5168df32f8bffea0da47e72a28973a8c constraint | reference_photo | fk_reference_photo_photo_id_photo
76ce90c304eeb31a16ec5840055e08b5 constraint | reference_photo | pk_reference_photo
01f94b7f4c77fc358bc04f9a11d78261 constraint | region | ck_region_kind
34f8d207b4da096d0a458f77013bf4c5 constraint | region | ck_region_version
c733aeb8c425155bffbd842b8c3fe2a2 constraint | region | fk_region_area_id_area
0552d52d255117762497682d680dc880 constraint | region | fk_region_reference_photo_id_photo
955d77c1c3f4aef3e20ae3d8034021d3 constraint | region | pk_region
8015e6e74cf84b9286b056cd7da34f8b constraint | treatment_record | ck_treatment_record_depth
9f6a696c038f78698b4a6ae6a55068a4 constraint | treatment_record | ck_treatment_record_downtime
8b6bd37280c116d4bd6e1c4133685aed constraint | treatment_record | ck_treatment_record_pain
0dd1e19709f930f1c39b5fb2b041346e constraint | treatment_record | ck_treatment_record_passes
291d56e21c6d84294a4e7dff8948d19c constraint | treatment_record | fk_treatment_record_area_id_area
9f73338e690f0f56ccb6fed3dddd9fff constraint | treatment_record | fk_treatment_record_visit_id_visit
9d5a45b5d2474344ae14c6c1fb0b7f5b constraint | treatment_record | pk_treatment_record
e959a0ee5f07ac7d50ce09914343ffb1 constraint | treatment_record | uq_treatment_record_visit_id
b5700bad2da48a4bd5150c8e3b5e009b constraint | visit | ck_visit_visit_kind
a8fedec53e26cdef4088f9b8760a71a7 constraint | visit | fk_visit_client_id_client
e34aed5421b467871743d101a52247de constraint | visit | pk_visit
d76142744e16492509c8d474f7351735 constraint | visit | uq_visit_client_id
30a4f05ed4f27a1d0fcd2b5e0dd03734 function |  | audit_append_only()
8e42f3bed48f2af6fd1c728ead38c693 index | alembic_version | alembic_version_pkc
6c122676fad6950ca3dfefe62ebb6ab0 index | area | ix_area_client_id
b1248d8079516f4444ebe75229ea7dca index | area | pk_area
50a3ad59269284dc5d691ceefeb38f43 index | area | uq_area_client_id
5f92f6a86fe2603f6bb57933a84cbb56 index | audit | pk_audit
b60ccd1f3322d6766d0d3a0ca9191464 index | audit | uq_audit_hash
19aa69ceada10a9a92769bc5419607b3 index | blob | pk_blob
72eb193eaaa5aea46dc6a5b9a0389d6b index | blob_chunk | pk_blob_chunk
68dbc3a96bf242517359d1ced3fc0431 index | client | pk_client
75a6d6f8affb766561a756f5b4e6f681 index | client | uq_client_name
56b4effa20b46afff7ba57220dcce7de index | consent | ix_consent_client_id
361c2442ac0fdf0b0ba296006987bede index | consent | pk_consent
244d6762a1d620bd04cc025d8b412243 index | consent_photo | ix_consent_photo_photo_id
5f3b52f62d68094040345bd22c590e12 index | consent_photo | pk_consent_photo
a947e9abf88cd54c9c5bfc2adf7dc8f7 index | library_key | pk_library_key
55350f7f1f06986a40e897c53523b225 index | measure | pk_measure
4e71f19ac773996fae4cd5e63ecac9ae index | photo | ix_photo_area_id
f712d38aeab080ca446391b5c6a44c13 index | photo | ix_photo_visit_id
9ced11959be70af9302d7d7a2cf9b370 index | photo | pk_photo
6ea5b49610b52e9aeec0924d7d2055ab index | photo | uq_photo_sha256
45ec107827105783b01dfa5b16018308 index | rating | ix_rating_area_id
5acefccb8a652bce08d561ec929db41d index | rating | ix_rating_visit_id
4f9817c599cdd05882389c504e331f3f index | rating | pk_rating
6fb1c59d5479472854d0aaf32b5b948e index | rating | uq_rating_visit_id
37a1fcf02cce51fa8767f99c72b51d94 index | rating_item | ix_rating_item_rating_id
aa16f2a918e2a7bc16c92f49e00f7744 index | rating_item | pk_rating_item
1e96b0f7093717c6f76ff99d249a3f08 index | rating_item | uq_rating_item_rating_id
e488dca8067935d04ea35d68811192d3 index | reference_photo | pk_reference_photo
e44e342bd1a24110033df699d186c95c index | region | pk_region
aba918c4f0ed4c6053fc108af6f94cfe index | treatment_record | ix_treatment_record_area_id
4a76b47a1df9a73816d612d238288a4c index | treatment_record | ix_treatment_record_visit_id
619e07cb8ec76854be22d7237efc366b index | treatment_record | pk_treatment_record
0a533bd07c36af1aa2afac8752e63c39 index | treatment_record | uq_treatment_record_visit_id
030c2aaf3c7832862c057f5814da5389 index | visit | ix_visit_client_id
8ce602f9c34480382ae64c85985d3bbf index | visit | pk_visit
527604cb2aaa726bdcb0a5d8034db9b3 index | visit | uq_visit_client_id
46d7982c0156a395ab8769d366e8a789 policy | audit | tracker_audit_append
564c04d02c1e258b5ae6dbebeed7c516 policy | audit | tracker_audit_read
696f797c62209024f007c8d05d5cdfdb sequence |  | area_id_seq
922b33e74e5d4e4ae3e084663febc774 sequence |  | audit_id_seq
6cba5653467cf97b122219b89aa6fa8d sequence |  | client_id_seq
a53ea60658adcf8f651696ff2d7a2d5e sequence |  | consent_id_seq
ebf531b980f9ac460608a8e4476ad4d7 sequence |  | photo_id_seq
0ce793c05d2c3ea184e12bcc8ed49c51 sequence |  | rating_id_seq
ff0f7e7bfbe1eb152f38a67cdab66545 sequence |  | rating_item_id_seq
af43ac692eebe91a6e1b4c86bb1fc3af sequence |  | treatment_record_id_seq
01cbefbe3ef7492c782c1f587d2f9142 sequence |  | visit_id_seq
f24fe41b950ee06d494f34ade9123227 table |  | alembic_version
a16109bed8853dba37f128d18de9b60a table |  | area
6de16d9e6861242f142517fb9361e5f5 table |  | audit
71e777485ffce65985fa9e9504e07fa2 table |  | blob
2cabc1e98a51d60daa80ffa90fdfaa66 table |  | blob_chunk
ce000beea8a948061eff32190d197088 table |  | client
195d93df5bfdb4737e7338ecab1a91e9 table |  | consent
d54cdd68382977391606645decb06086 table |  | consent_photo
e4b19b0d2b0d427de922d54e960218ac table |  | library_key
110c7c628136ddeb79a8d272e9fd5b48 table |  | measure
14cd1fbfdb3676dfe94f68f54aab6ef8 table |  | photo
0f5f79eaa790f30d914bb9f6a35b00ba table |  | rating
09891dd016a9d8b08927ab196826c7de table |  | rating_item
603d399c83c2bd154eb2cda5c8b30d0a table |  | reference_photo
b474b714755e6da17d03ef88071c4468 table |  | region
c6fea013c2ae1ee4d4f431238edc2f92 table |  | treatment_record
d0b6f1533243fed367d87baffe0cb3f6 table |  | visit
18889883c0356e32b97636e03b43a039 trigger | audit | audit_no_delete
c191352a4864e77b47a22d63e4d9c4cd trigger | audit | audit_no_truncate
cddad2da5b7ce18e28420c7d4cf71f41 trigger | audit | audit_no_update
""",
}
