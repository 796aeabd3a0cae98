"""SQL written out for the statements every price check makes: the one raw-SQL module.

Django builds the SQL of a queryset anew each time it runs: for the check path that was a
quarter of a worker's CPU (about 1 ms for the check's SELECT with its listing, store and
product, 0.3 ms for each small UPDATE), against 0.1 to 0.3 ms for the same statements written
out. The statements here are built once per model and column set from the models' own
metadata (table and column names, each field's conversion to and from the database), so they
follow the models and work on PostgreSQL and SQLite alike. Only plain column writes: no
model signals fire (none may be connected to these models: see MODELS_WRITTEN), as with
`QuerySet.update()`.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from django.db import connection
from django.db.models import Model

from .models import CheckLog, Listing, ListingPage, PricePoint, Product, Store

# The models whose rows this module writes. No save signal fires for these writes, so no
# signal receiver may be connected to them: tests/tracker/test_rows.py fails if one is, and
# the write functions refuse a model missing here, so the list cannot fall behind the code.
MODELS_WRITTEN = frozenset({CheckLog, Listing, ListingPage, PricePoint, Product})


def _writable(model: type[Model]) -> None:
    if model not in MODELS_WRITTEN:
        raise TypeError(f"rows.py writes {model.__name__}: add it to MODELS_WRITTEN (its signals are then checked)")


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _field(model: type[Model], name: str):
    return model._meta.get_field(name)


@cache
def _update_sql(
    model: type[Model], where: tuple[str, ...], values: tuple[str, ...], add: tuple[str, ...], vendor: str,
    nulls: tuple[str, ...] = (), since: tuple[str, ...] = (),
) -> str:
    sets = [f"{_q(_field(model, name).column)} = %s" for name in values]
    sets += [f"{_q(_field(model, name).column)} = {_q(_field(model, name).column)} + %s" for name in add]
    conditions = [
        f"{_q(_field(model, name).column)} IS NULL" if name in nulls else f"{_q(_field(model, name).column)} = %s"
        for name in where
    ]
    conditions += [f"{_q(_field(model, name).column)} >= %s" for name in since]
    return f"UPDATE {_q(model._meta.db_table)} SET {', '.join(sets)} WHERE {' AND '.join(conditions)}"


def row_update(
    model: type[Model],
    *,
    where: Mapping[str, object],
    values: Mapping[str, object],
    add: Mapping[str, int] | None = None,
    since: Mapping[str, object] | None = None,
) -> int:
    """UPDATE the rows matching `where` (field names, equality; None matches NULL) and `since`
    (field >= value): set `values`, add `add` to numeric columns. Returns the number of rows
    changed, so a conditional UPDATE can claim."""
    _writable(model)
    add, since = add or {}, since or {}
    nulls = tuple(name for name, value in where.items() if value is None)
    sql = _update_sql(model, tuple(where), tuple(values), tuple(add), connection.vendor, nulls, tuple(since))
    params = [_field(model, name).get_db_prep_save(value, connection) for name, value in values.items()]
    params += list(add.values())
    params += [
        _field(model, name).get_db_prep_value(value, connection) for name, value in where.items() if value is not None
    ]
    params += [_field(model, name).get_db_prep_value(value, connection) for name, value in since.items()]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


@cache
def _exists_sql(model: type[Model], where: tuple[str, ...], vendor: str, after: tuple[str, ...] = ()) -> str:
    conditions = [f"{_q(_field(model, name).column)} = %s" for name in where]
    conditions += [f"{_q(_field(model, name).column)} > %s" for name in after]
    return f"SELECT 1 FROM {_q(model._meta.db_table)} WHERE {' AND '.join(conditions)} LIMIT 1"


@cache
def _first_sql(model: type[Model], where: tuple[str, ...], fields: tuple[str, ...], vendor: str) -> tuple[str, list]:
    columns, converters = [], []
    for name in fields:
        f = _field(model, name)
        columns.append(_q(f.column))
        col = f.get_col(model._meta.db_table)
        steps = connection.ops.get_db_converters(col) + f.get_db_converters(connection)
        converters.append([(step, col) for step in steps])
    conditions = [f"{_q(_field(model, name).column)} = %s" for name in where]
    sql = f"SELECT {', '.join(columns)} FROM {_q(model._meta.db_table)} WHERE {' AND '.join(conditions)} LIMIT 1"
    return sql, converters


def row_first(model: type[Model], *, where: Mapping[str, object], fields: tuple[str, ...]) -> Model | None:
    """The first row matching `where` (field names, equality) as a model instance with only
    `fields` loaded (the others deferred), converted as the ORM converts them."""
    sql, converters = _first_sql(model, tuple(where), fields, connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(
            sql, [_field(model, name).get_db_prep_value(value, connection) for name, value in where.items()]
        )
        row = cursor.fetchone()
    if row is None:
        return None
    values = _converted(row, converters)
    return model.from_db(connection.alias, [_field(model, name).attname for name in fields], values)


def _converted(row, converters: list[list]) -> list:
    """A fetched row's values, converted as the ORM converts them."""
    values = list(row)
    for i, steps in enumerate(converters):
        for convert, col in steps:
            values[i] = convert(values[i], col, connection)
    return values


@cache
def _first_preferring_sql(
    model: type[Model], where: tuple[str, ...], prefer: str, fields: tuple[str, ...], vendor: str
) -> str:
    sql, _ = _first_sql(model, where, fields, vendor)
    head, _, _ = sql.rpartition(" LIMIT 1")
    column = _q(_field(model, prefer).column)
    return (
        f"{head} AND ({column} = %s OR {column} IS NULL) "
        f"ORDER BY CASE WHEN {column} IS NULL THEN 1 ELSE 0 END LIMIT 1"
    )


def row_first_preferring(
    model: type[Model],
    *,
    where: Mapping[str, object],
    prefer: tuple[str, object],
    fields: tuple[str, ...],
) -> Model | None:
    """Like `row_first`, among the rows whose `prefer` field is the given value or empty, the
    one with the value first (a person's own row before the shared one), in one query."""
    name, value = prefer
    _, converters = _first_sql(model, tuple(where), fields, connection.vendor)
    sql = _first_preferring_sql(model, tuple(where), name, fields, connection.vendor)
    params = [_field(model, key).get_db_prep_value(v, connection) for key, v in where.items()]
    params.append(_field(model, name).get_db_prep_value(value, connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    values = _converted(row, converters)
    return model.from_db(connection.alias, [_field(model, key).attname for key in fields], values)


def row_exists(
    model: type[Model], *, where: Mapping[str, object], after: Mapping[str, object] | None = None
) -> bool:
    """Whether a row matches `where` (field names, equality) and `after` (field > value)."""
    after = after or {}
    sql = _exists_sql(model, tuple(where), connection.vendor, tuple(after))
    params = [_field(model, name).get_db_prep_value(value, connection) for name, value in where.items()]
    params += [_field(model, name).get_db_prep_value(value, connection) for name, value in after.items()]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None


@cache
def _delete_sql(model: type[Model], where: tuple[str, ...], vendor: str) -> str:
    conditions = [f"{_q(_field(model, name).column)} = %s" for name in where]
    return f"DELETE FROM {_q(model._meta.db_table)} WHERE {' AND '.join(conditions)}"


def row_delete(model: type[Model], *, where: Mapping[str, object]) -> int:
    """DELETE the rows matching `where` (equality); returns how many, so a delete can claim.
    Only for rows nothing refers to: no cascade runs, no signal fires."""
    _writable(model)
    sql = _delete_sql(model, tuple(where), connection.vendor)
    params = [_field(model, name).get_db_prep_value(value, connection) for name, value in where.items()]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


@cache
def _store_pages_sql(vendor: str) -> str:
    page, listing = ListingPage._meta, Listing._meta
    return (
        f"SELECT COUNT(*) FROM {_q(page.db_table)} p JOIN {_q(listing.db_table)} l "
        f"ON l.{_q(listing.pk.column)} = p.{_q(page.get_field('listing').column)} "
        f"WHERE l.{_q(listing.get_field('store').column)} = %s AND p.{_q(page.get_field('fetched_at').column)} > %s"
    )


def store_pages_count(*, store_id: int, since) -> int:
    """How many of a store's sample pages were written after `since`."""
    params = [store_id, ListingPage._meta.get_field("fetched_at").get_db_prep_value(since, connection)]
    with connection.cursor() as cursor:
        cursor.execute(_store_pages_sql(connection.vendor), params)
        return cursor.fetchone()[0]


@cache
def _insert_sql(model: type[Model], vendor: str, returning: bool) -> tuple[str, tuple]:
    fields = tuple(f for f in model._meta.concrete_fields if not f.primary_key)
    sql = (
        f"INSERT INTO {_q(model._meta.db_table)} ({', '.join(_q(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    if returning:
        sql += f" RETURNING {_q(model._meta.pk.column)}"
    return sql, fields


def row_insert(obj: Model) -> Model:
    """INSERT a new model instance (its primary key chosen by the database) and return it saved."""
    _writable(type(obj))
    returning = connection.features.can_return_columns_from_insert
    sql, fields = _insert_sql(type(obj), connection.vendor, returning)
    params = [f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        obj.pk = cursor.fetchone()[0] if returning else cursor.lastrowid
    obj._state.adding = False
    obj._state.db = connection.alias
    return obj


@cache
def _upsert_sql(model: type[Model], unique: str, update: tuple[str, ...], vendor: str) -> tuple[str, tuple]:
    sql, fields = _insert_sql(model, vendor, False)
    sets = ", ".join(
        f"{_q(_field(model, name).column)} = EXCLUDED.{_q(_field(model, name).column)}" for name in update
    )
    return f"{sql} ON CONFLICT ({_q(_field(model, unique).column)}) DO UPDATE SET {sets}", fields


def row_upsert(obj: Model, *, unique: str, update: tuple[str, ...]) -> None:
    """INSERT a row, or UPDATE the fields `update` of the row holding the same `unique` value.
    Safe to run twice, and against a concurrent insert of the same row."""
    _writable(type(obj))
    sql, fields = _upsert_sql(type(obj), unique, update, connection.vendor)
    params = [f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


_CHECK_JOIN = ((CheckLog, "c"), (Listing, "l"), (Store, "s"), (Product, "p"))


@cache
def _check_select(vendor: str) -> tuple[str, list[list]]:
    columns, converters = [], []
    for model, alias in _CHECK_JOIN:
        for f in model._meta.concrete_fields:
            columns.append(f"{alias}.{_q(f.column)}")
            col = f.get_col(alias)
            # The same conversions the ORM applies to what the database returns.
            steps = connection.ops.get_db_converters(col) + f.get_db_converters(connection)
            converters.append([(step, col) for step in steps])

    def join(model: type[Model], alias: str, on: str, fk: str) -> str:
        return (
            f"JOIN {_q(model._meta.db_table)} {alias} ON {alias}.{_q(model._meta.pk.column)} = {on}.{_q(fk)}"
        )

    sql = (
        f"SELECT {', '.join(columns)} FROM {_q(CheckLog._meta.db_table)} c "
        + join(Listing, "l", "c", _field(CheckLog, "listing").column)
        + " "
        + join(Store, "s", "l", _field(Listing, "store").column)
        + " "
        + join(Product, "p", "l", _field(Listing, "product").column)
        + " "
        + f"WHERE c.{_q(CheckLog._meta.pk.column)} = %s"
    )
    return sql, converters


def check_load(*, check_id: int) -> CheckLog | None:
    """The check with its listing, and the listing's store and product, in one query."""
    sql, converters = _check_select(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [check_id])
        row = cursor.fetchone()
    if row is None:
        return None
    values = _converted(row, converters)
    loaded, start = [], 0
    for model, _ in _CHECK_JOIN:
        fields = model._meta.concrete_fields
        loaded.append(
            model.from_db(connection.alias, [f.attname for f in fields], values[start : start + len(fields)])
        )
        start += len(fields)
    check, listing, store, product = loaded
    listing.store = store
    listing.product = product
    check.listing = listing
    return check
