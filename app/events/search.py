"""Full-text search over summary and notes: PostgreSQL tsvector (GIN) and SQLite FTS5.

Users type web-search syntax on both databases: words (all required), "quoted phrases",
`or` between alternatives, and `-word` to exclude. On PostgreSQL the text goes to
`websearch_to_tsquery`, which never raises a syntax error; on SQLite it is rebuilt here into an
FTS5 query from quoted tokens only, so no user input reaches FTS5 as syntax.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Integer, column, false, func, literal_column, text
from sqlalchemy.sql.elements import ColumnElement

from app.models import Event

# PostgreSQL's `english` stop words (Snowball), dropped on SQLite too so that both agree.
_STOP_WORDS_TEXT = """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can did do does doing don down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our ours ourselves out over
    own s same she should so some such t than that the their theirs them themselves then there these
    they this those through to too under until up very was we were what when where which while who
    whom why will with you your yours yourself yourselves"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

# PostgreSQL: the generated column of migration 0005, to_tsvector('english', summary || ' ' ||
# coalesce(notes, '')), indexed by GIN (not mapped in the models: the database computes it).
TSVECTOR_SQL = "events.search_vector"

_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Fts5Query:
    include: str | None
    exclude: str | None


def _phrase(raw: str) -> str | None:
    words = [w for w in _WORD.findall(raw.casefold()) if w not in STOP_WORDS]
    return '"' + " ".join(words) + '"' if words else None


def fts5_query(q: str) -> Fts5Query:
    """Web-search text as an FTS5 query made only of quoted phrases and operators."""
    groups: list[list[str]] = []
    excluded: list[str] = []
    pending_or = False
    for match in _TOKEN.finditer(q):
        negated, quoted, bare = match.group(1), match.group(2), match.group(3)
        if bare is not None and bare.casefold() == "or":
            pending_or = bool(groups)
            continue
        if bare is not None and bare.startswith("-") and len(bare) > 1:
            negated, bare = "-", bare[1:]
        phrase = _phrase(quoted if quoted is not None else bare or "")
        if phrase is None:
            pending_or = False
            continue
        if negated:
            excluded.append(phrase)
        elif pending_or and groups:
            groups[-1].append(phrase)
        else:
            groups.append([phrase])
        pending_or = False
    include = " AND ".join("(" + " OR ".join(g) + ")" for g in groups) or None
    exclude = " OR ".join(excluded) or None
    return Fts5Query(include, exclude)


# SQLite: from this many matches on, a page in date or id order tests the rows of the index
# holding that order against the matches (`text_condition(by_membership=True)`) instead of
# fetching every match by id and sorting them all. "airstrike" among 1M ACLED events (15,667
# matches): 22-23 ms -> 2.3-3.2 ms for the page's ids; a term with few matches is faster the
# other way (a walk of the whole index to find 5 rows).
MEMBERSHIP_FROM = 2000


def text_condition(q: str, dialect: str, *, by_membership: bool = False) -> ColumnElement[bool]:
    """Events whose summary or notes match `q`. SQLite, `by_membership`: the matches' ids are
    a list the rows are tested against (`+events.id IN (...)`: the unary plus keeps SQLite from
    looking the matches up by id), so the order's index can be walked."""
    if dialect == "postgresql":
        query = func.websearch_to_tsquery(literal_column("'english'"), q)
        return literal_column(TSVECTOR_SQL).op("@@", is_comparison=True)(query)
    parsed = fts5_query(q)
    cond: ColumnElement[bool] | None = None
    if parsed.include is not None:
        event_id = literal_column("+events.id", Integer) if by_membership else Event.id
        cond = event_id.in_(
            text("SELECT rowid FROM events_fts WHERE events_fts MATCH :fts_in")
            .bindparams(fts_in=parsed.include)
            .columns(column("rowid", Integer))
        )
    if parsed.exclude is not None:
        out = Event.id.not_in(
            text("SELECT rowid FROM events_fts WHERE events_fts MATCH :fts_out")
            .bindparams(fts_out=parsed.exclude)
            .columns(column("rowid", Integer))
        )
        cond = out if cond is None else cond & out
    return cond if cond is not None else false()
