"""fold_name: the one rule by which two spellings of a name are one name."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.names import FOLDED_NAME_LENGTH, fold_name


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Free Syrian Army", "free syrian army"),
        ("ÉCOLE", "école"),  # beyond ASCII: SQLite's lower() leaves "É" as it is
        ("STRASSE", "straße"),  # full case folding: "ß" is "ss"
        ("ΣΊΣΥΦΟΣ", "σίσυφοσ"),  # final sigma
        ("e\u0301cole", "\u00e9cole"),  # "é" decomposed or precomposed: one name
        ("  Jaysh   al-Islam\t", "Jaysh al-Islam"),  # spaces trimmed, runs collapsed
        ("Jaysh\u00a0al-Islam", "jaysh al-islam"),  # a no-break space is a space
    ],
)
def test_same_name(a: str, b: str) -> None:
    assert fold_name(a) == fold_name(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Jaysh al-Islam", "Jaysh al Islam"),  # punctuation counts
        ("Hama", "Homs"),
        ("école", "ecole"),  # accents count
        ("al-Nusra", "alNusra"),
    ],
)
def test_different_names(a: str, b: str) -> None:
    assert fold_name(a) != fold_name(b)


def test_the_folded_form() -> None:
    assert fold_name("  HAY'AT  Tahrir\nal-Sham ") == "hay'at tahrir al-sham"
    assert fold_name("Straße") == "strasse"
    assert fold_name("") == ""


@given(st.text(max_size=255))
def test_idempotent_and_within_the_key_columns(text: str) -> None:
    folded = fold_name(text)
    assert fold_name(folded) == folded
    assert len(folded) <= FOLDED_NAME_LENGTH
