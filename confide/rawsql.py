"""Hand-written statements for the hottest paths (a message send, a token check).

The ORM builds and compiles every query again on every call: 0.2 to 0.5 ms of CPU each, which
was most of the cost of sending a message (docs/performance.md). The statements written with
these helpers go through Django's own connection (same transaction, same on-commit hooks, same
query log in tests). Values go to the database as the ORM would send them (`prep`) and rows come
back through the ORM's own converters (`instance`), so a row written or read here is the row
the ORM would write or read, on SQLite and on PostgreSQL; tests/rooms/test_send_path.py and
tests/api/test_token_requests.py hold them side by side.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, models

M = TypeVar("M", bound=models.Model)


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


_PLAIN = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "BinaryField",
        "BooleanField",
        "CharField",
        "EmailField",
        "ForeignKey",
        "IntegerField",
        "PositiveIntegerField",
        "SmallIntegerField",
        "TextField",
    }
)


@cache
def _preparers(model: type[models.Model]) -> dict[str, tuple[str, models.Field[Any, Any]]]:
    """For each attname: how to prepare its values ("plain", "datetime" or "field")."""
    result = {}
    for field in model._meta.concrete_fields:
        kind = field.get_internal_type()
        how = "plain" if kind in _PLAIN else "datetime" if kind == "DateTimeField" else "field"
        result[field.attname] = (how, field)
    return result


def prep(model: type[models.Model], attname: str, value: Any) -> Any:
    """`value` as the ORM would send it to the database for the field with this attname.

    Numbers, text and bytes go as they are and datetimes through the backend's adapter, as the
    fields' own methods would send them (without their cost: a send prepares some twenty
    values); anything else (UUIDs, JSON, addresses, ...) through the field itself.
    """
    how, field = _preparers(model)[attname]
    if value is None or how == "plain":
        return value
    if how == "datetime":
        return connection.ops.adapt_datetimefield_value(value)
    return field.get_db_prep_save(value, connection)


@cache
def _fields(model: type[models.Model]) -> tuple[tuple[str, ...], str]:
    """The attnames of the model's concrete fields and their quoted column list."""
    fields = model._meta.concrete_fields
    return tuple(f.attname for f in fields), ", ".join(quote(f.column) for f in fields)


def select_list(model: type[models.Model], alias: str = "") -> str:
    """Every concrete column of `model` (optionally prefixed by a table alias), in field order."""
    _, columns = _fields(model)
    if not alias:
        return columns
    return ", ".join(f"{alias}.{quote(f.column)}" for f in model._meta.concrete_fields)


@cache
def _converters(model: type[models.Model]) -> tuple[tuple[Any, list[Any]], ...]:
    """For each concrete field: its column expression and the ORM's from-database converters."""
    result = []
    for field in model._meta.concrete_fields:
        expression = field.get_col(model._meta.db_table)
        # The compiler's own pair: the backend's converters, then the expression's (field's).
        converters = connection.ops.get_db_converters(expression) + expression.get_db_converters(
            connection
        )
        result.append((expression, converters))
    return tuple(result)


def instance(model: type[M], row: Sequence[Any]) -> M:
    """A model instance from a row read with `select_list(model)`, converted as the ORM does."""
    names, _ = _fields(model)
    values = []
    for value, (expression, converters) in zip(row, _converters(model), strict=True):
        for convert in converters:
            value = convert(value, expression, connection)
        values.append(value)
    return model.from_db(DEFAULT_DB_ALIAS, list(names), values)
