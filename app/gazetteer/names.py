"""The keys a place name is looked up by: `fold_name`, then looser variants of it.

Datasets spell one governorate many ways ("Hamah Governorate", "Hama", "Ḥamāh"; "Dar`a",
"Dar'a", "Dara"; "Al Hasakah", "Hasakah"). Every alias and every name looked up is folded
by the project's one rule (`app.core.names.fold_name`); the variants below are taken of the
folded key, in this order, and a lookup tries them in the same order:

1. the folded name itself;
2. without accents, apostrophes and punctuation (Unicode marks dropped after NFD; the
   apostrophes and ayn/hamza signs of `_APOSTROPHES` removed; - _ / . , ( ) become spaces);
3. without a parenthesised part ("homs (hims)" -> "homs") and without the words that only
   say what kind of unit it is ("governorate", "province", "muhafazat", ...);
4. without a leading Arabic article ("al", "ar", "as", "ash", "ad", "an", "at", "az", "el",
   "es", "ed", "adh").

A key is never empty: a variant that would be is skipped.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from app.core.names import fold_name

# Words that name the kind of unit, not the unit (English, French, Spanish, Portuguese,
# Arabic transliterations).
GENERIC_WORDS = frozenset(
    [
        "governorate",
        "governorates",
        "province",
        "provincia",
        "provincie",
        "provinz",
        "région",
        "region",
        "region",
        "state",
        "estado",
        "etat",
        "état",
        "department",
        "departement",
        "département",
        "departamento",
        "district",
        "prefecture",
        "oblast",
        "county",
        "muhafazat",
        "muhafazah",
        "mohafazat",
        "wilayah",
        "wilaya",
        "wilayat",
        "gouvernorat",
        "gobernación",
        "gobernacion",
        "of",
        "de",
        "del",
    ]
)
ARTICLES = frozenset({"al", "ar", "as", "ash", "ad", "an", "at", "az", "el", "es", "ed", "adh"})
# ' ` and U+2019, U+2018, U+02BF, U+02BE, U+00B4, U+02BB.
_APOSTROPHES = re.compile("['`\u2019\u2018\u02bf\u02be\u00b4\u02bb]")
_PUNCTUATION = re.compile(r"[-_/.,;:()\[\]\"]+")
_PARENTHESES = re.compile(r"\s*\(.*?\)")


def _plain(key: str) -> str:
    decomposed = unicodedata.normalize("NFD", key)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    stripped = _APOSTROPHES.sub("", stripped)
    return " ".join(_PUNCTUATION.sub(" ", stripped).split())


@functools.lru_cache(maxsize=65_536)
def name_keys(text: str) -> tuple[str, ...]:
    """The keys of `text`, exact first (see the module docstring); empty for a blank name.

    Cached: an import asks for the same admin names thousands of times."""
    folded = fold_name(text)
    if not folded:
        return ()
    keys = [folded]
    plain = _plain(folded)
    core_words = [w for w in _plain(_PARENTHESES.sub("", folded)).split() if w not in GENERIC_WORDS]
    core = " ".join(core_words)
    bare = " ".join(core_words[1:]) if len(core_words) > 1 and core_words[0] in ARTICLES else ""
    for key in (plain, core, bare):
        if key and key not in keys:
            keys.append(key)
    return tuple(keys)


def loose_key(text: str) -> str | None:
    """The loosest key of `text` (for admin2 names kept as the datasets give them)."""
    keys = name_keys(text)
    return keys[-1] if keys else None
