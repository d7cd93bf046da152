"""ACLED's query-string grammar, parsed without touching the database.

- Any column is a filter: `country=Syria`; `|` separates values (OR for `=` and `LIKE`, the two
  ends for `BETWEEN`).
- `<col>_where` picks the operator: `=`, `>`, `<`, `>=`, `<=`, `LIKE`, `BETWEEN` (any case).
  Without it a column uses its default: `=`, except the sync timestamps and `event_count` (`>=`).
- `LIKE` takes SQL wildcards (`%`, `_`); a value without a wildcard matches as a substring.
  Text comparisons ignore case, as ACLED's (MySQL) API does.
- `a=1:OR:b=2` ORs two columns (ACLED's `:OR:`); each part keeps its own `<col>_where`.
  `country=Syria:OR:Yemen` (a part that does not start with `<known column>=`) is another value
  of the same column: what acledR 1.0.x's OAuth route sends, and ACLED's 2025 form.
- `population` (none|true|best|full) and `maritime_pairs` are accepted and add nothing:
  conflictdb has no population estimates or maritime pairing (docs/compat.md).
- `fields=a|b`, `limit` (0 = every row), `page` (1-based), `with_total`, `inter_num`,
  `export_type=dyadic|monadic`, `_format=json|csv|xml|txt` (or ACLED's `read.csv`, `read.xml`,
  `read.txt` paths); `key`, `email` and `terms` are accepted.
- An unknown column, operator, option or a value of the wrong type is a 400, never ignored.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from app.core.errors import ProblemError

Op = Literal["=", ">", "<", ">=", "<=", "LIKE", "BETWEEN"]
OPS: tuple[Op, ...] = ("=", ">", "<", ">=", "<=", "LIKE", "BETWEEN")
Kind = Literal["text", "int", "float", "date", "timestamp"]
Format = Literal["json", "csv", "xml", "txt"]
FORMATS: tuple[Format, ...] = ("json", "csv", "xml", "txt")
ExportType = Literal["dyadic", "monadic"]

DEFAULT_LIMIT = 5000
# Options every endpoint accepts besides its columns; `terms=accept` was required by ACLED's API.
COMMON_OPTIONS = frozenset({"key", "email", "terms", "limit", "page", "_format", "with_total"})
EVENT_OPTIONS = frozenset({"fields", "inter_num", "export_type", "population", "maritime_pairs"})
POPULATION = frozenset({"", "none", "false", "0", "true", "1", "best", "full"})
OR_SEPARATOR = ":OR:"


class AcledQueryError(ProblemError):
    """A request ACLED's grammar cannot answer: rendered as ACLED's 400 error."""

    def __init__(self, message: str) -> None:
        super().__init__(400, "acled_bad_request", message)


@dataclass(frozen=True)
class Column:
    kind: Kind
    default_op: Op = "="


@dataclass(frozen=True)
class Filter:
    """One condition: a column, an operator and the `|`-separated values, typed by the column."""

    column: str
    op: Op
    values: tuple[Any, ...]
    kind: Kind

    @property
    def texts(self) -> tuple[str, ...]:
        return tuple(str(v) for v in self.values)


# A clause is an OR of filters (one unless `:OR:` was used); clauses combine with AND.
Clause = tuple[Filter, ...]


@dataclass(frozen=True)
class AcledQuery:
    clauses: tuple[Clause, ...] = ()
    fields: tuple[str, ...] = ()
    limit: int = DEFAULT_LIMIT
    page: int = 1
    with_total: bool = False
    inter_num: bool = False
    export_type: ExportType = "dyadic"
    format: Format = "json"

    @property
    def offset(self) -> int:
        return 0 if self.limit == 0 else (self.page - 1) * self.limit

    def filters(self) -> Iterable[Filter]:
        for clause in self.clauses:
            yield from clause


# Every ACLED integer column (year, iso, fatalities, geo_precision, ...) is a 32-bit integer
# on PostgreSQL: a larger operand would fail while the response streams, so it is refused
# (400) before the response starts.
MAX_INT = 2**31 - 1
MAX_TIMESTAMP = 253_402_200_000  # late 9999


def _typed(column: str, kind: Kind, op: Op, raw: str) -> Any:
    if "\x00" in raw:
        raise AcledQueryError(f"{column}: values must not contain NUL characters")
    if op == "LIKE":
        return raw
    try:
        if kind == "int":
            value = int(raw)
            if abs(value) > MAX_INT:
                raise AcledQueryError(
                    f"{column}: {raw[:40]!r} is not an integer from -{MAX_INT} to {MAX_INT}"
                )
            return value
        if kind == "float":
            number = float(raw)
            if not math.isfinite(number):
                raise ValueError(raw)
            return number
        if kind == "date":
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
                raise ValueError(raw)
            return dt.date.fromisoformat(raw)
        if kind == "timestamp":
            return parse_timestamp(raw)
    except (ValueError, OverflowError):
        expected = {
            "int": "an integer",
            "float": "a number",
            "date": "a date (YYYY-MM-DD)",
            "timestamp": "Unix seconds or a date (YYYY-MM-DD)",
        }[kind]
        raise AcledQueryError(f"{column}: {raw!r} is not {expected}") from None
    return raw


def parse_timestamp(raw: str) -> int:
    """Unix seconds; a date means its midnight UTC (the `acled` client accepts dates)."""
    if re.fullmatch(r"\d{1,12}", raw):
        seconds = int(raw)
        if seconds > MAX_TIMESTAMP:
            raise ValueError(raw)
        return seconds
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        raise ValueError(raw)
    day = dt.date.fromisoformat(raw)
    return max(0, int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()))


def _parse_op(column: str, raw: str | None, default: Op) -> Op:
    if raw is None:
        return default
    op = raw.strip().upper()
    if op == "==":
        op = "="
    if op not in OPS:
        raise AcledQueryError(
            f"{column}_where: unknown operator {raw!r}; use one of {', '.join(OPS)}"
        )
    return op


def make_filter(column: str, spec: Column, op: Op, raw_value: str) -> Filter:
    parts = tuple(p.strip() for p in raw_value.split("|"))
    parts = tuple(p for p in parts if p != "")
    if op == "BETWEEN" and len(parts) != 2:
        raise AcledQueryError(f"{column}: BETWEEN needs two values separated by |, as in a|b")
    if op in {">", "<", ">=", "<="} and len(parts) != 1:
        raise AcledQueryError(f"{column}: {op} takes one value")
    values = tuple(_typed(column, spec.kind, op, p) for p in parts)
    return Filter(column, op, values, spec.kind)


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes"}:
        return True
    if value in {"", "0", "false", "no"}:
        return False
    raise AcledQueryError(f"{name}: {raw!r} is not true or false")


def _parse_int(name: str, raw: str, minimum: int) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise AcledQueryError(f"{name}: {raw!r} is not an integer") from None
    if value < minimum or value > 2**31:
        raise AcledQueryError(f"{name}: must be an integer from {minimum}")
    return value


def _one_value(params: Sequence[tuple[str, str]]) -> dict[str, str]:
    seen: dict[str, str] = {}
    for name, value in params:
        if name in seen and seen[name] != value:
            raise AcledQueryError(f"{name} is given twice; join several values with |")
        seen[name] = value
    return seen


def parse_query(
    params: Sequence[tuple[str, str]],
    columns: Mapping[str, Column],
    *,
    options: frozenset[str] = frozenset(),
    field_names: Sequence[str] = (),
) -> AcledQuery:
    """Parse a query string (as (name, value) pairs) against an endpoint's columns."""
    given = _one_value(params)
    allowed_options = COMMON_OPTIONS | options
    clauses: list[Clause] = []
    ops: dict[str, str] = {}
    used: set[str] = set()
    for name, value in given.items():
        if name.endswith("_where") and name[: -len("_where")] in columns:
            ops[name[: -len("_where")]] = value
        elif name not in columns and name not in allowed_options:
            raise AcledQueryError(f"unknown parameter {name!r}")
    for column, raw_op in ops.items():
        # Checked even when the column's value is blank: an operator outside the documented
        # enum is an error whatever it would apply to.
        _parse_op(column, raw_op, columns[column].default_op)
    for name, raw in given.items():
        if name not in columns:
            continue
        used.add(name)
        if raw.strip() == "":
            continue
        clause: list[Filter] = []
        column, value = name, raw
        for i, part in enumerate(raw.split(OR_SEPARATOR)):
            if i > 0:
                other, sep, rest = part.partition("=")
                if sep and other.strip() in columns:
                    column, value = other.strip(), rest
                else:
                    # `country=Syria:OR:Yemen`: one more value of the same column.
                    column, value = name, part
            else:
                value = part
            spec = columns[column]
            used.add(column)
            op = _parse_op(column, ops.get(column), spec.default_op)
            if value.strip():
                clause.append(make_filter(column, spec, op, value))
        if clause:
            clauses.append(tuple(clause))
    for column in ops:
        if column not in used:
            raise AcledQueryError(f"{column}_where is given without a {column} value")

    fields: tuple[str, ...] = ()
    if given.get("fields", "").strip():
        fields = tuple(dict.fromkeys(f.strip() for f in given["fields"].split("|") if f.strip()))
        unknown = [f for f in fields if f not in field_names]
        if unknown:
            raise AcledQueryError(f"fields: unknown field(s) {', '.join(unknown)}")
    fmt = given.get("_format", "json").strip().lower() or "json"
    if fmt not in FORMATS:
        raise AcledQueryError(f"_format: {fmt!r} is not supported; use {', '.join(FORMATS)}")
    if given.get("population", "").strip().lower() not in POPULATION:
        raise AcledQueryError("population: use none, best, true or full")
    _parse_bool("maritime_pairs", given.get("maritime_pairs", ""))
    export_type = given.get("export_type", "dyadic").strip().lower() or "dyadic"
    if export_type not in {"dyadic", "monadic"}:
        raise AcledQueryError(f"export_type: {export_type!r}; use dyadic or monadic")
    return AcledQuery(
        clauses=tuple(clauses),
        fields=fields,
        limit=_parse_int("limit", given["limit"], 0) if "limit" in given else DEFAULT_LIMIT,
        page=_parse_int("page", given["page"], 1) if given.get("page", "").strip() else 1,
        with_total=_parse_bool("with_total", given.get("with_total", "")),
        inter_num=_parse_bool("inter_num", given.get("inter_num", "")),
        export_type=export_type,  # type: ignore[arg-type]
        format=fmt,
    )


# ---- evaluating a filter in Python, for columns with a small domain (countries, types) ----


@lru_cache(maxsize=256)
def like_regex(pattern: str) -> re.Pattern[str]:
    """SQL LIKE as a regex; a pattern without a wildcard matches as a substring."""
    if "%" not in pattern and "_" not in pattern:
        pattern = f"%{pattern}%"
    body = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.compile(body, re.IGNORECASE | re.DOTALL)


LIKE_ESCAPE = "\\"


def like_pattern(value: str) -> str:
    """The SQL LIKE pattern for a value, lower-cased, backslashes literal (ESCAPE '\\')."""
    value = value.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
    if "%" not in value and "_" not in value:
        return f"%{value}%".lower()
    return value.lower()


def _compare(op: Op, value: Any, operands: tuple[Any, ...]) -> bool:
    if op == "=":
        return value in operands
    if op == "BETWEEN":
        return bool(operands[0] <= value <= operands[1])
    target = operands[0]
    return bool(
        {">": value > target, "<": value < target, ">=": value >= target, "<=": value <= target}[op]
    )


def matches(f: Filter, value: Any) -> bool:
    """Whether one value (a str, int, float or date; None is blank) passes a filter."""
    if value is None or value == "":
        return False
    if f.op == "LIKE":
        text = value.isoformat() if isinstance(value, dt.date) else str(value)
        return any(like_regex(p).fullmatch(text) for p in f.texts)
    if isinstance(value, str):
        return _compare(f.op, value.lower(), tuple(str(v).lower() for v in f.values))
    operands: tuple[Any, ...] = f.values
    if f.kind == "text" and isinstance(value, int | float):
        # A number given to a column that also takes names (inter1, region): compare numbers.
        try:
            operands = tuple(float(v) for v in f.values)
        except ValueError:
            return False
    return _compare(f.op, value, operands)


def matching(
    domain: Iterable[Any], f: Filter, value_of: Callable[[Any], Iterable[Any]]
) -> list[Any]:
    """The members of a finite domain for which any of their values passes the filter."""
    return [member for member in domain if any(matches(f, v) for v in value_of(member))]
