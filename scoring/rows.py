"""Model instances from raw SQL rows, as the ORM would build them.

The statements of the mark path (``scoring.marks``) and the tablet's
session read (``tablets.services``) are hand-written SELECTs run on every
tap; these two helpers give them the ORM's columns and conversions without
compiling a query each time.
"""

from __future__ import annotations

from functools import cache
from typing import TypeVar

from django.db import connection, models

_M = TypeVar("_M", bound=models.Model)


def _fields(model, names: tuple[str, ...] | None) -> list:
    if names is None:
        return list(model._meta.concrete_fields)
    return [model._meta.get_field(n) for n in names]


def select_columns(model, alias: str, names: tuple[str, ...] | None = None) -> str:
    """``alias."col", …`` for the fields ``names`` of ``model`` (default: every
    concrete field), in that order, for a raw SELECT read by ``row_instance``."""
    qn = connection.ops.quote_name
    return ", ".join(f"{alias}.{qn(f.column)}" for f in _fields(model, names))


@cache
def _converters(model, names: tuple[str, ...] | None) -> tuple[list, list[str]]:
    """Per field: the converters an ORM query would apply, with the column;
    and the attribute names."""
    converters = []
    fields = _fields(model, names)
    for f in fields:
        col = f.get_col(model._meta.db_table)
        converters.append(
            ([*connection.ops.get_db_converters(col), *f.get_db_converters(connection)], col)
        )
    return converters, [f.attname for f in fields]


def row_instance(model: type[_M], values, names: tuple[str, ...] | None = None) -> _M:
    """An instance of ``model`` from raw column values in ``select_columns``
    order, converted as an ORM query would (SQLite returns dates as text and
    decimals as floats). Fields not in ``names`` are deferred, as with ``only()``."""
    converters, attnames = _converters(model, names)
    converted = []
    for (convert_all, col), value in zip(converters, values, strict=True):
        for convert in convert_all:
            value = convert(value, col, connection)
        converted.append(value)
    return model.from_db(connection.alias, attnames, converted)
