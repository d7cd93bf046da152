"""The one rule set for free-form JSON (event extras, claim attributes) and free text.

Applied at the API (pydantic types in app.core.rest / app.core.schemas) and by every importer
that stores free-form JSON, so that the same value is refused the same way everywhere and on
both databases:

- integers within +-(2**53 - 1): what PostgreSQL jsonb, SQLite JSON, orjson and JavaScript
  clients all keep exactly;
- floats finite (no NaN / Infinity: they are not JSON, PostgreSQL refuses them) and within
  the same +-(2**53 - 1) (jsonb gives 1.5e300 back as a 301-digit integer, SQLite as a float);
- no NUL and no lone surrogate (U+D800..U+DFFF) in any string or key: PostgreSQL text cannot
  hold NUL and no UTF-8 encoder can write a lone surrogate;
- keys at most MAX_KEY_CHARS characters; nesting at most MAX_DEPTH (32) containers deep; at
  most MAX_BYTES (64 KiB) once serialized.

A violation is a 422 whose `errors[].loc` goes down to the member (["body", "extras", "k"]).
Values stored before these rules are still served: `stored_json` (used by every read path)
passes a value through unchanged when orjson can encode it, else `encodable` writes integers
beyond 64 bits as their decimal string and lone surrogates as U+FFFD.
"""

from __future__ import annotations

import math
import re
from typing import Any

import orjson
from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

MAX_SAFE_INT = 2**53 - 1
MAX_DEPTH = 32
MAX_BYTES = 64 * 1024
MAX_KEY_CHARS = 255

RULES = (
    f"Free-form JSON: numbers within +-(2**53 - 1) = +-{MAX_SAFE_INT} (integers in that range "
    "are kept exactly by both databases and by JSON clients), finite (no NaN/Infinity); no NUL "
    "and no lone surrogate (U+D800..U+DFFF) in any string or key; keys at most "
    f"{MAX_KEY_CHARS} characters; at most {MAX_DEPTH} levels deep and {MAX_BYTES // 1024} KiB "
    "serialized."
)

_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")

Loc = tuple[str | int, ...]


def text_problem(value: str) -> str | None:
    """Why a string cannot be stored, or None."""
    match = _BAD_CHARS.search(value)
    if match is None:
        return None
    if match.group() == "\x00":
        return "text must not contain NUL characters"
    return "text must not contain lone surrogates (U+D800..U+DFFF)"


def check_text(value: str) -> str:
    """AfterValidator for text fields: no NUL, no lone surrogate."""
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def safe_text(value: str, limit: int = 100) -> str:
    """A printable, encodable form of a string for an error message or location."""
    if _BAD_CHARS.search(value):
        value = ascii(value)[1:-1]
    return value if len(value) <= limit else value[:limit] + "..."


def json_problem(value: Any) -> tuple[Loc, str] | None:
    """The first rule `value` breaks, as (location inside it, message), or None.

    Iterative, so a deeply nested value cannot exhaust the stack.
    """
    stack: list[tuple[Any, Loc, int]] = [(value, (), 0)]
    while stack:
        item, loc, depth = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem is not None:
                return loc, problem
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if abs(item) > MAX_SAFE_INT:
                return loc, f"integers must be within +-{MAX_SAFE_INT} (2**53 - 1)"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return loc, "numbers must be finite (no NaN or Infinity)"
            if abs(item) > MAX_SAFE_INT:
                # PostgreSQL's jsonb would give 1e300 back as a 301-digit integer.
                return loc, f"numbers must be within +-{MAX_SAFE_INT} (2**53 - 1)"
        elif isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                return loc, f"nested more than {MAX_DEPTH} levels deep"
            if isinstance(item, dict):
                for key, child in item.items():
                    if not isinstance(key, str):
                        return loc, "object keys must be strings"
                    problem = text_problem(key)
                    if problem is not None:
                        return (*loc, safe_text(key)), f"key: {problem}"
                    if len(key) > MAX_KEY_CHARS:
                        return (*loc, safe_text(key)), f"keys at most {MAX_KEY_CHARS} characters"
                    stack.append((child, (*loc, key), depth + 1))
            else:
                stack.extend((child, (*loc, i), depth + 1) for i, child in enumerate(item))
        else:
            return loc, f"{type(item).__name__} is not a JSON value"
    if len(orjson.dumps(value)) > MAX_BYTES:
        return (), f"more than {MAX_BYTES} bytes once serialized"
    return None


def check_json(value: Any) -> Any:
    """AfterValidator for free-form JSON: a ValidationError located at the offending member."""
    found = json_problem(value)
    if found is None:
        return value
    loc, msg = found
    raise ValidationError.from_exception_data(
        "json",
        [
            InitErrorDetails(
                type=PydanticCustomError("json_rules", "{msg}", {"msg": msg}),
                loc=tuple(safe_text(p) if isinstance(p, str) else p for p in loc),
                input=None,
            )
        ],
    )


def describe_json_error(found: tuple[Loc, str]) -> str:
    """`a.b[0]: message`, for importers' reject reasons."""
    loc, msg = found
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{safe_text(p)}" for p in loc)
    return f"{path.lstrip('.')}: {msg}" if path else msg


_INT64 = 2**63 - 1


def encodable(value: Any) -> Any:
    """A copy of a stored value that any JSON encoder can write, for data stored before these
    rules (or by hand): integers beyond 64 bits become their decimal string (orjson cannot
    write them, and no client would read them exactly), non-finite floats become null, a lone
    surrogate becomes U+FFFD. Responses try the value as stored first and call this only when
    encoding it fails, so valid data is never altered."""
    if isinstance(value, str):
        return _BAD_CHARS.sub(lambda m: "\ufffd" if m.group() != "\x00" else "\x00", value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if abs(value) <= _INT64 else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {encodable(str(k)): encodable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encodable(v) for v in value]
    return value


def stored_json(value: Any) -> Any:
    """A free-form JSON value read from the database, as it is when any encoder can write it
    (the usual case, checked with one fast orjson pass), else `encodable(value)`."""
    if not value:
        return value
    try:
        orjson.dumps(value)
    except orjson.JSONEncodeError:
        return encodable(value)
    return value
