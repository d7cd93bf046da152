"""Cursors: every issued cursor decodes to its payload; any other string is a 400, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.errors import ProblemError
from app.core.pagination import decode_cursor, encode_cursor

payloads = st.dictionaries(
    st.text(min_size=1, max_size=5),
    st.one_of(st.integers(), st.text(max_size=20), st.none()),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(payloads)
def test_round_trip(payload: dict[str, Any]) -> None:
    assert decode_cursor("s3cret", encode_cursor("s3cret", payload)) == payload


@settings(max_examples=300, deadline=None)
@given(payloads, st.integers(min_value=0), st.characters(codec="ascii"))
def test_any_change_is_rejected(payload: dict[str, Any], pos: int, char: str) -> None:
    token = encode_cursor("s3cret", payload)
    i = pos % len(token)
    mutated = token[:i] + char + token[i + 1 :]
    if mutated == token:
        return
    try:
        decoded = decode_cursor("s3cret", mutated)
    except ProblemError as exc:
        assert exc.status == 400 and exc.code == "invalid_cursor"
        return
    # base64 padding bits can absorb a change; then the payload must be the same
    assert decoded == payload


def test_other_secret_is_rejected() -> None:
    with pytest.raises(ProblemError):
        decode_cursor("other", encode_cursor("s3cret", {"a": 1}))
