"""One model row inserted or updated without the ORM's SQL compiler, for the reward worker's hot path.

Issue 19: with the batch's reads done once (``cashback.batch_work``), what the worker's CPU went to
per event was Django building the same few INSERT and UPDATE statements again for every event
(query objects, compilers, expressions) and psycopg formatting every value into the SQL text. Here
each statement's text is built once per model and column list, the values are converted by the
model's own fields exactly as ``Model.save`` converts them (``pre_save`` — ``auto_now`` and
``auto_now_add`` included — then ``get_db_prep_save``), and on PostgreSQL they are sent as
parameters on a server-binding cursor, so that the connection prepares the statement once
(``DATABASE_PREPARED_STATEMENTS``). The cursor is wrapped as Django's are: errors arrive as Django's
(the deadlock retry and the inbox's handling see them unchanged) and queries are logged and counted
where Django logs them.

What it does not do, and callers must not need: signals (``pre_save``/``post_save``: no receiver
listens for the models written this way — purchases, their events, rewards), multi-table
inheritance, or a primary key given by the caller. Other databases get ``Model.save``.
"""

import functools
from collections.abc import Sequence
from typing import Any

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import Field, Model
from django.db.models.constants import OnConflict


def server_binding_cursor(db: BaseDatabaseWrapper) -> CursorWrapper:
    """On PostgreSQL, a cursor that binds values on the server, so that a statement is prepared once
    per connection (DATABASE_PREPARED_STATEMENTS; Django's own cursors format every value into the SQL
    text, which the server then parses and plans again each time). Wrapped like Django's cursors, so
    errors are Django's and queries are logged when Django logs them."""
    if db.vendor != "postgresql":
        return db.cursor()
    db.ensure_connection()
    db.validate_no_broken_transaction()
    wrapper = CursorDebugWrapper if db.queries_logged else CursorWrapper
    return wrapper(psycopg.Cursor(db.connection), db)


def _insert_fields(model: type[Model]) -> list[Field]:
    return [
        field
        for field in model._meta.concrete_fields
        if not field.primary_key and not getattr(field, "generated", False)
    ]


def _concrete(model: type[Model], name: str) -> Field:
    field = model._meta.get_field(name)
    if not isinstance(field, Field) or not field.concrete:
        raise ValueError(f"{model.__name__}.{name} is not a column.")
    return field


@functools.cache
def _insert_sql(model: type[Model], on_conflict_do_nothing: bool) -> str:
    db = connections[DEFAULT_DB_ALIAS]
    quote = db.ops.quote_name
    meta = model._meta
    columns = ", ".join(quote(str(field.column)) for field in _insert_fields(model))
    values = ", ".join(["%s"] * len(_insert_fields(model)))
    conflict = " ON CONFLICT DO NOTHING" if on_conflict_do_nothing else ""
    # Names come from the model; the values are parameters.
    return (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({values}){conflict}"  # noqa: S608
        f" RETURNING {quote(str(meta.pk.column))}"
    )


@functools.cache
def _update_sql(model: type[Model], names: tuple[str, ...]) -> str:
    db = connections[DEFAULT_DB_ALIAS]
    quote = db.ops.quote_name
    meta = model._meta
    assignments = ", ".join(f"{quote(str(_concrete(model, name).column))} = %s" for name in names)
    return f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(str(meta.pk.column))} = %s"  # noqa: S608


def row_insert(instance: Model, *, on_conflict_do_nothing: bool = False) -> bool:
    """INSERT the new ``instance`` (no primary key yet) and set its primary key; with
    ``on_conflict_do_nothing``, return False and leave it unsaved when a unique constraint kept it out."""
    if instance.pk is not None:
        raise ValueError("row_insert inserts a new row: the instance has a primary key already.")
    db = connections[DEFAULT_DB_ALIAS]
    model = type(instance)
    if db.vendor != "postgresql":
        if not on_conflict_do_nothing:
            instance.save(force_insert=True)
            return True
        rows = model._default_manager.using(db.alias)._insert(  # type: ignore[attr-defined]  # Django's insert
            [instance],
            fields=_insert_fields(model),
            returning_fields=[model._meta.pk],
            using=db.alias,
            on_conflict=OnConflict.IGNORE,
        )
        if not (rows and rows[0]):  # Django returns [None] when the conflict inserted nothing
            return False
        instance.pk = rows[0][0]
        instance._state.adding, instance._state.db = False, db.alias
        return True
    values = [field.get_db_prep_save(field.pre_save(instance, True), db) for field in _insert_fields(model)]
    with server_binding_cursor(db) as cursor:
        cursor.execute(_insert_sql(model, on_conflict_do_nothing), values)
        row = cursor.fetchone()
    if row is None:
        return False
    instance.pk = row[0]
    instance._state.adding, instance._state.db = False, db.alias
    return True


@functools.cache
def _pair_sql(parent: type[Model], child: type[Model], link: str) -> str:
    db = connections[DEFAULT_DB_ALIAS]
    quote = db.ops.quote_name
    parent_pk = quote(str(parent._meta.pk.column))
    columns = [quote(str(field.column)) for field in _insert_fields(parent)]
    link_column = quote(str(_concrete(child, link).column))
    child_fields = [field for field in _insert_fields(child) if field.name != link]
    # Typed placeholders: in a SELECT list PostgreSQL cannot take a parameter's type from the column.
    values = ", ".join(f"CAST(%s AS {field.db_type(db)})" for field in child_fields)
    child_columns = ", ".join(quote(str(field.column)) for field in child_fields)
    return (  # names and types come from the models; the values are parameters
        f"WITH parent AS (INSERT INTO {quote(parent._meta.db_table)} ({', '.join(columns)})"  # noqa: S608
        f" VALUES ({', '.join(['%s'] * len(columns))}) ON CONFLICT DO NOTHING RETURNING {parent_pk})"
        f" INSERT INTO {quote(child._meta.db_table)} ({link_column}, {child_columns})"
        f" SELECT parent.{parent_pk}, {values} FROM parent"
        f" RETURNING {link_column}, {quote(str(child._meta.pk.column))}"
    )


def rows_insert_pair(parent: Model, child: Model, *, link: str) -> bool:
    """INSERT the new ``parent`` unless a unique constraint keeps it out (``ON CONFLICT DO NOTHING``)
    and, only then, the new ``child`` whose foreign key ``link`` names it — one statement on
    PostgreSQL. Returns whether both went in (then both have their primary keys); False: neither."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":
        if not row_insert(parent, on_conflict_do_nothing=True):
            return False
        setattr(child, link, parent)
        row_insert(child)
        return True
    child_model = type(child)
    setattr(child, link, parent)  # the object, for callers; its id is set from the statement's answer
    values = [field.get_db_prep_save(field.pre_save(parent, True), db) for field in _insert_fields(type(parent))]
    values += [
        field.get_db_prep_save(field.pre_save(child, True), db)
        for field in _insert_fields(child_model)
        if field.name != link
    ]
    with server_binding_cursor(db) as cursor:
        cursor.execute(_pair_sql(type(parent), child_model, link), values)
        row = cursor.fetchone()
    if row is None:
        return False
    parent.pk, child.pk = row
    setattr(child, link, parent)
    for instance in (parent, child):
        instance._state.adding, instance._state.db = False, db.alias
    return True


def row_update(instance: Model, *, fields: Sequence[str]) -> None:
    """UPDATE the saved ``instance``'s ``fields`` (``Model.save(update_fields=...)`` without signals)."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":
        instance.save(update_fields=list(fields))
        return
    names = tuple(dict.fromkeys(fields))
    values: list[Any] = []
    for name in names:
        field = _concrete(type(instance), name)
        values.append(field.get_db_prep_save(field.pre_save(instance, False), db))
    values.append(instance.pk)
    with server_binding_cursor(db) as cursor:
        cursor.execute(_update_sql(type(instance), names), values)
