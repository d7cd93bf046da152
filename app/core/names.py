"""The one rule by which two spellings of a name are the same name."""

from __future__ import annotations

import unicodedata

# Case folding lengthens a string at most threefold ("ß" -> "ss", "ΐ" -> three code points):
# the width of a folded-key column whose name column holds up to 255 characters.
FOLDED_NAME_LENGTH = 3 * 255


def fold_name(text: str) -> str:
    """`text` as an identity key: Unicode case-folded, canonically composed, spaces collapsed.

    The rule: decompose (NFD), `str.casefold()` (full Unicode folding, so "ÉCOLE" is "école"
    and "STRASSE" is "straße"), compose again (NFC: "é" typed as one code point or as "e" plus a
    combining accent is one name), then runs of whitespace become one space and the ends are
    trimmed. This is the only home of the rule: every stored key (actors.name_key,
    actor_aliases.alias_key, sources.name_key, campaigns.name_key, places.natural_key) and every
    lookup by name goes through it, and SQL never folds names itself (SQLite's lower() folds
    ASCII only, so it and Python would disagree on "É" or "ß").
    """
    folded = unicodedata.normalize("NFD", text).casefold()
    return " ".join(unicodedata.normalize("NFC", folded).split())
