"""What every aggregate row holds, checked by the aggregate tests."""

from __future__ import annotations

from typing import Any

# Every measure of a row: a whole number (a JSON integer), or null for an open upper bound.
MEASURE_KEYS = {
    "events",
    "fatalities_low",
    "fatalities_best",
    "fatalities_high",
    "figures",
    "open_high",
    "recorded",
    "claims",
    "accounts_set_aside",
    "sources",
    "incidents",
    "linked_set_aside",
}


def assert_whole_numbers(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        for key in MEASURE_KEYS & row.keys():
            value = row[key]
            assert value is None or type(value) is int, (key, row)
