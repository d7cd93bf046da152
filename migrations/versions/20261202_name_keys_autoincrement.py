"""Folded name keys enforced by the database; SQLite ids never reused (AUTOINCREMENT).

Names. actors, sources and campaigns get `name_key`, fold_name(name), under a unique index:
"Free Syrian Army" and "FREE SYRIAN ARMY" can no longer be two records, whoever writes and
however concurrently. fold_name is imported from app/core/names.py rather than copied here
(the one home of the rule, which this revision applies to the stored data); existing
actor_aliases.alias_key and places.natural_key are recomputed with it too, and the folded
columns are 765 wide (casefold lengthens a name at most threefold: "ß" -> "ss").

One key space for an actor's names. A name must not be another actor's alias, nor an alias
another's name; the unique indexes on actors.name_key and actor_aliases.alias_key each see only
their own table. So actor_name_keys(name_key PRIMARY KEY, actor_id) holds every folded name an
actor answers to, its name's and each alias's, and triggers on actors (insert, name_key update)
and actor_aliases (insert, update, delete) keep it in the same statement as the write; deleting
an actor cascades. The primary key then refuses the clash for every writer (the API, the seed
loader, an import's COPY), and under PostgreSQL's READ COMMITTED the later of two racing
transactions waits on the key and fails once the first commits (SQLite has one writer). The
alternative, a check in the service under a lock, guards only the writers that take the lock.

Existing duplicates are not resolved: before changing anything the upgrade stops with the list
of records whose names (or place keys) fold alike, to be renamed or merged by hand.

SQLite ids. Without AUTOINCREMENT SQLite gives a new row max(id) + 1, so the newest row's id
comes back after it is deleted (a new event then showed the deleted one's revisions). Every
table keyed by one INTEGER `id` is rebuilt with AUTOINCREMENT (foreign keys are off for the
run, see env.py, or the drop of the old table would cascade into its children); the rebuild
drops a table's triggers and the indexes reflection cannot rebuild (expressions), so they are
read from sqlite_master first and created again. sqlite_sequence starts at the largest id ever
used: for events also the ids that only tombstones and revisions remember. PostgreSQL's
sequences never go back: nothing to do there.

Downgrade drops the keys, actor_name_keys and its triggers. AUTOINCREMENT stays: the older
code does not mind it, and taking it away would let ids be reused again.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 08:00:00
"""

import warnings
from collections import defaultdict
from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from alembic import op

from app.core.names import fold_name
from app.places.repository import place_natural_key

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = sa.String(length=765)
NAMED = ("actors", "sources", "campaigns")

SQLITE_TRIGGERS = {
    "actors_name_key_ai": (
        "AFTER INSERT ON actors BEGIN "
        "INSERT INTO actor_name_keys (name_key, actor_id) VALUES (new.name_key, new.id); END"
    ),
    "actors_name_key_au": (
        "AFTER UPDATE OF name_key ON actors WHEN old.name_key IS NOT new.name_key BEGIN "
        "UPDATE actor_name_keys SET name_key = new.name_key "
        "WHERE name_key = old.name_key AND actor_id = old.id; END"
    ),
    "actor_aliases_key_ai": (
        "AFTER INSERT ON actor_aliases BEGIN "
        "INSERT INTO actor_name_keys (name_key, actor_id) VALUES (new.alias_key, new.actor_id); "
        "END"
    ),
    "actor_aliases_key_au": (
        "AFTER UPDATE OF alias_key, actor_id ON actor_aliases "
        "WHEN old.alias_key IS NOT new.alias_key OR old.actor_id IS NOT new.actor_id BEGIN "
        "UPDATE actor_name_keys SET name_key = new.alias_key, actor_id = new.actor_id "
        "WHERE name_key = old.alias_key AND actor_id = old.actor_id; END"
    ),
    "actor_aliases_key_ad": (
        "AFTER DELETE ON actor_aliases BEGIN "
        "DELETE FROM actor_name_keys WHERE name_key = old.alias_key AND actor_id = old.actor_id; "
        "END"
    ),
}

PG_FUNCTIONS = {
    "actor_name_keys_from_actors": """
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO actor_name_keys (name_key, actor_id) VALUES (NEW.name_key, NEW.id);
            ELSE
                UPDATE actor_name_keys SET name_key = NEW.name_key
                WHERE name_key = OLD.name_key AND actor_id = OLD.id;
            END IF;
            RETURN NULL;
        END
    """,
    "actor_name_keys_from_aliases": """
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO actor_name_keys (name_key, actor_id)
                VALUES (NEW.alias_key, NEW.actor_id);
            ELSIF TG_OP = 'UPDATE' THEN
                UPDATE actor_name_keys SET name_key = NEW.alias_key, actor_id = NEW.actor_id
                WHERE name_key = OLD.alias_key AND actor_id = OLD.actor_id;
            ELSE
                DELETE FROM actor_name_keys
                WHERE name_key = OLD.alias_key AND actor_id = OLD.actor_id;
            END IF;
            RETURN NULL;
        END
    """,
}

PG_TRIGGERS = {
    "actors_name_key_ai": "AFTER INSERT ON actors FOR EACH ROW "
    "EXECUTE FUNCTION actor_name_keys_from_actors()",
    "actors_name_key_au": "AFTER UPDATE OF name_key ON actors FOR EACH ROW "
    "WHEN (OLD.name_key IS DISTINCT FROM NEW.name_key) "
    "EXECUTE FUNCTION actor_name_keys_from_actors()",
    "actor_aliases_key_ai": "AFTER INSERT ON actor_aliases FOR EACH ROW "
    "EXECUTE FUNCTION actor_name_keys_from_aliases()",
    "actor_aliases_key_au": "AFTER UPDATE OF alias_key, actor_id ON actor_aliases FOR EACH ROW "
    "WHEN (OLD.alias_key IS DISTINCT FROM NEW.alias_key OR OLD.actor_id <> NEW.actor_id) "
    "EXECUTE FUNCTION actor_name_keys_from_aliases()",
    "actor_aliases_key_ad": "AFTER DELETE ON actor_aliases FOR EACH ROW "
    "EXECUTE FUNCTION actor_name_keys_from_aliases()",
}

TRIGGER_TABLES = {
    "actors_name_key_ai": "actors",
    "actors_name_key_au": "actors",
    "actor_aliases_key_ai": "actor_aliases",
    "actor_aliases_key_au": "actor_aliases",
    "actor_aliases_key_ad": "actor_aliases",
}


def upgrade() -> None:
    bind = op.get_bind()
    keys = _new_keys(bind)
    sqlite = bind.dialect.name == "sqlite"

    for table in NAMED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("name_key", KEY, nullable=True))
        _set(bind, table, "name_key", keys[table])
    _set(bind, "actor_aliases", "alias_key", keys["actor_aliases"])
    _set(bind, "places", "natural_key", keys["places"])

    if sqlite:
        _sqlite_rebuild(bind)
    else:
        for table in NAMED:
            op.alter_column(table, "name_key", existing_type=KEY, nullable=False)
        op.alter_column(
            "actor_aliases",
            "alias_key",
            existing_type=sa.String(length=255),
            type_=KEY,
            existing_nullable=False,
        )
    for table in NAMED:
        op.create_index(f"ix_{table}_name_key", table, ["name_key"], unique=True)

    op.create_table(
        "actor_name_keys",
        sa.Column("name_key", KEY, nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["actors.id"],
            name=op.f("fk_actor_name_keys_actor_id_actors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("name_key", name=op.f("pk_actor_name_keys")),
    )
    op.create_index("ix_actor_name_keys_actor_id", "actor_name_keys", ["actor_id"])
    op.execute(
        "INSERT INTO actor_name_keys (name_key, actor_id) "
        "SELECT name_key, id FROM actors UNION ALL SELECT alias_key, actor_id FROM actor_aliases"
    )
    if sqlite:
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    else:
        for name, body in PG_FUNCTIONS.items():
            op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $${body}$$")
        for name, body in PG_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    for name, table in TRIGGER_TABLES.items():
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + ("" if sqlite else f" ON {table}"))
    if not sqlite:
        for name in PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_index("ix_actor_name_keys_actor_id", table_name="actor_name_keys")
    op.drop_table("actor_name_keys")
    for table in NAMED:
        op.drop_index(f"ix_{table}_name_key", table_name=table)
        # A plain DROP COLUMN on both databases: a batch rebuild would lose AUTOINCREMENT.
        op.execute(f"ALTER TABLE {table} DROP COLUMN name_key")
    if not sqlite:  # SQLite does not enforce a VARCHAR's width: no rebuild for it
        op.alter_column(
            "actor_aliases",
            "alias_key",
            existing_type=KEY,
            type_=sa.String(length=255),
            existing_nullable=False,
        )


# ---- keys ----


def _new_keys(bind: sa.Connection) -> dict[str, dict[int, str]]:
    """Every row's folded key by table and id; raises, listing them, if any two clash."""
    keys: dict[str, dict[int, str]] = {}
    named: dict[str, dict[int, str]] = {}
    for table in NAMED:
        rows = bind.execute(sa.text(f"SELECT id, name FROM {table} ORDER BY id")).all()  # noqa: S608
        named[table] = {r.id: r.name for r in rows}
        keys[table] = {r.id: fold_name(r.name) for r in rows}
    aliases = bind.execute(
        sa.text("SELECT id, actor_id, alias FROM actor_aliases ORDER BY id")
    ).all()
    keys["actor_aliases"] = {r.id: fold_name(r.alias) for r in aliases}
    places = bind.execute(
        sa.text("SELECT id, name, kind, country_code, admin1, admin2 FROM places ORDER BY id")
    ).all()
    keys["places"] = {
        r.id: place_natural_key(r.name, r.kind, r.country_code, r.admin1, r.admin2) for r in places
    }

    problems: list[str] = []
    for table in ("sources", "campaigns"):
        for key, ids in _clashes(keys[table].items()):
            spelled = ", ".join(f"{named[table][i]!r} (id {i})" for i in ids)
            problems.append(f"{table}: {spelled} all fold to {key!r}")
    # Actors: names and aliases in one key space.
    holders = [
        (k, f"the name of actor {i} ({named['actors'][i]!r})") for i, k in keys["actors"].items()
    ]
    holders += [
        (keys["actor_aliases"][r.id], f"an alias of actor {r.actor_id} ({r.alias!r})")
        for r in aliases
    ]
    by_key: dict[str, list[str]] = defaultdict(list)
    for key, what in holders:
        by_key[key].append(what)
    for key, whats in by_key.items():
        if len(whats) > 1:
            problems.append(f"actors: {key!r} is {' and '.join(whats)}")
    place_names = {r.id: r.name for r in places}
    for key, ids in _clashes(keys["places"].items()):
        spelled = ", ".join(f"{place_names[i]!r} (id {i})" for i in ids)
        problems.append(f"places: {spelled} share the key {key!r}")
    if problems:
        shown = problems[:200]
        if len(problems) > len(shown):
            shown.append(f"... and {len(problems) - len(shown)} more")
        raise RuntimeError(
            "migration 0009 found records whose names are the same ignoring case and spacing "
            "(app/core/names.py: fold_name); nothing was changed. Rename or merge them, then "
            "upgrade again:\n  " + "\n  ".join(shown)
        )
    return keys


def _clashes(items: Iterable[tuple[int, str]]) -> list[tuple[str, list[int]]]:
    by_key: dict[str, list[int]] = defaultdict(list)
    for row_id, key in items:
        by_key[key].append(row_id)
    return [(key, ids) for key, ids in by_key.items() if len(ids) > 1]


def _set(bind: sa.Connection, table: str, column: str, keys: dict[int, str]) -> None:
    """Write the keys that differ from what is stored."""
    rows = bind.execute(sa.text(f"SELECT id, {column} AS k FROM {table}"))  # noqa: S608
    stored = {r.id: r.k for r in rows}
    changed = [{"id": i, "k": k} for i, k in keys.items() if stored.get(i) != k]
    if changed:
        bind.execute(
            sa.text(f"UPDATE {table} SET {column} = :k WHERE id = :id"),  # noqa: S608
            changed,
        )


# ---- SQLite: AUTOINCREMENT ----


def _sqlite_rebuild(bind: sa.Connection) -> None:
    """Every table keyed by one INTEGER id, rebuilt with AUTOINCREMENT; NOT NULL name keys.

    The tables whose columns change are rebuilt even if AUTOINCREMENT already (an upgrade
    after a downgrade).
    """
    for table in sorted({*_integer_id_tables(bind), *NAMED, "actor_aliases"}):
        saved = bind.execute(
            sa.text(
                "SELECT type, name, sql FROM sqlite_master "
                "WHERE tbl_name = :t AND type IN ('index', 'trigger') AND sql IS NOT NULL"
            ),
            {"t": table},
        ).all()
        with (
            warnings.catch_warnings(),
            op.batch_alter_table(
                table, recreate="always", table_kwargs={"sqlite_autoincrement": True}
            ) as batch,
        ):
            # Expression indexes cannot be reflected: SQLAlchemy says so, they come back below.
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression")
            if table in NAMED:
                batch.alter_column("name_key", existing_type=KEY, nullable=False)
            if table == "actor_aliases":
                batch.alter_column(
                    "alias_key",
                    existing_type=sa.String(length=255),
                    type_=KEY,
                    existing_nullable=False,
                )
        present = set(
            bind.execute(
                sa.text("SELECT name FROM sqlite_master WHERE tbl_name = :t"), {"t": table}
            ).scalars()
        )
        for _kind, name, sql in saved:
            if name not in present:
                bind.exec_driver_sql(sql)
        _seed_sequence(bind, table)


def _integer_id_tables(bind: sa.Connection) -> list[str]:
    """Tables whose primary key is one INTEGER column `id`, not yet AUTOINCREMENT."""
    tables = bind.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name"
    ).all()
    virtual = [t.name for t in tables if (t.sql or "").upper().startswith("CREATE VIRTUAL TABLE")]
    found = []
    for t in tables:
        # SQLite's own tables, Alembic's, and the full-text index's shadow tables stay as made.
        if t.name.startswith("sqlite_") or t.name == "alembic_version":
            continue
        if any(t.name == v or t.name.startswith(f"{v}_") for v in virtual):
            continue
        if "AUTOINCREMENT" in (t.sql or "").upper():
            continue
        key = [c for c in bind.exec_driver_sql(f'PRAGMA table_info("{t.name}")') if c.pk]
        if len(key) == 1 and key[0].name == "id" and key[0].type.upper() == "INTEGER":
            found.append(t.name)
    return found


def _seed_sequence(bind: sa.Connection, table: str) -> None:
    """sqlite_sequence at the largest id the table has ever used, as far as the data tells."""
    sources = [f"SELECT max(id) FROM {table}"]  # noqa: S608
    if table == "events":
        sources += [
            "SELECT max(event_id) FROM event_tombstones",
            "SELECT max(event_id) FROM event_revisions",
        ]
    used = max((bind.exec_driver_sql(s).scalar() or 0) for s in sources)
    if not used:
        return
    current = bind.execute(
        sa.text("SELECT seq FROM sqlite_sequence WHERE name = :t"), {"t": table}
    ).scalar()
    if current is None:
        bind.execute(
            sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :n)"),
            {"t": table, "n": used},
        )
    elif current < used:
        bind.execute(
            sa.text("UPDATE sqlite_sequence SET seq = :n WHERE name = :t"),
            {"t": table, "n": used},
        )
