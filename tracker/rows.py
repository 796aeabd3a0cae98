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
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.db import connection
from django.db.models import Model

from .models import CheckLog, ExtractionPattern, Listing, ListingPage, PricePoint, Product, Store

# The models whose rows this module writes. No save signal fires for these writes, so no
# signal receiver may be connected to them: tests/tracker/test_rows.py fails if one is, and
# the write functions refuse a model missing here, so the list cannot fall behind the code.
MODELS_WRITTEN = frozenset({CheckLog, Listing, ListingPage, PricePoint, Product})


@cache
def _server_cursor_class(logged: bool):
    """Django's cursor class that binds on the server (imported here: it loads PostgreSQL's
    driver); when queries are logged (DEBUG, tests' query counts), one that keeps each
    statement's text for the log, which psycopg leaves out on a run of a prepared statement."""
    from django.db.backends.postgresql.base import ServerBindingCursor

    if not logged:
        return ServerBindingCursor

    class LoggedCursor(ServerBindingCursor):
        def execute(self, query, params=None, **kwargs):
            done = super().execute(query, params, **kwargs)
            if self._query is None:
                self._query = self._convert_query(query, params)
            return done

    return LoggedCursor


@contextmanager
def _cursor():
    """A cursor for this module's statements: Django's (connected, health-checked, logged like
    any query), binding its parameters on the server on PostgreSQL. psycopg then prepares each
    statement on its connection (`prepare_threshold`, set by DB_PREPARED_STATEMENTS) and
    PostgreSQL plans it once instead of on every check: planning the claim's join cost the
    server 0.8 ms of CPU a check, running it 0.1 ms. Django's own cursors bind on the client,
    which never prepares, so the ORM's queries are unchanged."""
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql" or connection.connection.prepare_threshold is None:
            yield cursor
            return
        from django.db.backends.postgresql.base import TIMESTAMPTZ_OID
        from django.db.backends.postgresql.psycopg_any import register_tzloader
        from psycopg.pq import Format

        cursor.cursor.close()
        cursor.cursor = _server_cursor_class(connection.queries_logged)(connection.connection)
        # Times read in the connection's time zone, as Django's own cursors read them
        # (DatabaseWrapper.create_cursor).
        if connection.timezone != connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT).timezone:
            register_tzloader(connection.timezone, cursor.cursor)
        yield cursor


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


@dataclass(frozen=True)
class Write:
    """One statement of `rows_write`: its SQL and parameters."""

    sql: str
    params: list


def update_write(
    model: type[Model],
    *,
    where: Mapping[str, object],
    values: Mapping[str, object],
    add: Mapping[str, int] | None = None,
    since: Mapping[str, object] | None = None,
) -> Write:
    """The UPDATE of `row_update`, to run with others (`rows_write`)."""
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
    return Write(sql, params)


def delete_write(model: type[Model], *, where: Mapping[str, object]) -> Write:
    """The DELETE of `row_delete`, to run with others (`rows_write`)."""
    _writable(model)
    sql = _delete_sql(model, tuple(where), connection.vendor)
    return Write(sql, [_field(model, name).get_db_prep_value(value, connection) for name, value in where.items()])


def rows_write(writes: list[Write]) -> list[int]:
    """Run the writes in order; returns how many rows each changed. On PostgreSQL they go in
    one pipeline: one round trip for all, where each alone waits for its answer. Every write
    runs whatever the counts before it: inside a transaction, the caller checks the counts and
    raises to roll all of them back when one missed."""
    if connection.vendor != "postgresql" or len(writes) == 1:
        counts = []
        with _cursor() as cursor:
            for write in writes:
                cursor.execute(write.sql, write.params)
                counts.append(cursor.rowcount)
        return counts
    with ExitStack() as stack:
        cursors = [stack.enter_context(_cursor()) for _ in writes]
        with connection.connection.pipeline():
            for cursor, write in zip(cursors, writes, strict=True):
                cursor.execute(write.sql, write.params)
        return [cursor.rowcount for cursor in cursors]


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
    return rows_write([update_write(model, where=where, values=values, add=add, since=since)])[0]


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
    with _cursor() as cursor:
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
    with _cursor() as cursor:
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
    with _cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None


@cache
def _delete_sql(model: type[Model], where: tuple[str, ...], vendor: str) -> str:
    conditions = [f"{_q(_field(model, name).column)} = %s" for name in where]
    return f"DELETE FROM {_q(model._meta.db_table)} WHERE {' AND '.join(conditions)}"


def row_delete(model: type[Model], *, where: Mapping[str, object]) -> int:
    """DELETE the rows matching `where` (equality); returns how many, so a delete can claim.
    Only for rows nothing refers to: no cascade runs, no signal fires."""
    return rows_write([delete_write(model, where=where)])[0]


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
    with _cursor() as cursor:
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
    with _cursor() as cursor:
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
    with _cursor() as cursor:
        cursor.execute(sql, params)


_CHECK_JOIN = ((CheckLog, "c"), (Listing, "l"), (Store, "s"), (Product, "p"))



def _converters(model: type[Model], alias: str, names: tuple[str, ...] | None = None) -> tuple[list[str], list[list]]:
    """The columns of `names` (all concrete fields when None) as `alias.column`, and the
    conversions the ORM applies to what the database returns for each."""
    fields = model._meta.concrete_fields if names is None else [_field(model, name) for name in names]
    columns, converters = [], []
    for f in fields:
        columns.append(f"{alias}.{_q(f.column)}")
        col = f.get_col(alias)
        steps = connection.ops.get_db_converters(col) + f.get_db_converters(connection)
        converters.append([(step, col) for step in steps])
    return columns, converters


def _join(model: type[Model], alias: str, on: str, fk: str) -> str:
    return f"JOIN {_q(model._meta.db_table)} {alias} ON {alias}.{_q(model._meta.pk.column)} = {on}.{_q(fk)}"


def _check_joins(source: str) -> str:
    """FROM the check (`source`: its table, or the claim's RETURNING) with its listing, store
    and product."""
    return (
        f"FROM {source} c "
        + _join(Listing, "l", "c", _field(CheckLog, "listing").column)
        + " "
        + _join(Store, "s", "l", _field(Listing, "store").column)
        + " "
        + _join(Product, "p", "l", _field(Listing, "product").column)
    )


def _check_from_row(values: list) -> CheckLog:
    """The check, its listing, store and product from the first columns of a converted row."""
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


@dataclass(frozen=True)
class PageKept:
    """What a check needs to know of its listing's sample page: the facts hash and time of the
    page kept (None: none is), and, when none is, how many pages its store wrote since the cutoff."""

    facts_hash: str | None
    fetched_at: datetime | None
    store_pages_since: int | None


@dataclass(frozen=True)
class ClaimedCheck:
    check: CheckLog  # with its listing, store and product
    pattern: ExtractionPattern | None  # the pattern the check uses (id, store, owner and spec loaded)
    page: PageKept
    # The listing's routine row (the one its routine checks fold into), its fields of _ROUTINE_FIELDS
    # loaded; None when it has none.
    routine: CheckLog | None = None


_PATTERN_FIELDS = ("id", "store", "owner", "spec")
# In the order of the model's fields, as Model.from_db reads a partial row.
_ROUTINE_FIELDS = ("id", "outcome", "finished_at", "http_status", "method", "price_seen")


@cache
def _claim_sql(vendor: str) -> tuple[str, str, list[list]]:
    """The claim (a conditional UPDATE), and the SELECT of everything a check reads before it
    fetches: the check with its listing, store and product; the listing's kept page (its hash
    and time, not its HTML), the store's recent page count when the listing has none; the
    listing owner's active pattern for the store, else the store's. On PostgreSQL the claim's
    RETURNING feeds the SELECT: one round trip; on SQLite (in-process) the two run in turn."""
    check_table = _q(CheckLog._meta.db_table)
    claim = _update_sql(CheckLog, ("id", "outcome"), ("outcome", "started_at"), ("attempts",), vendor)
    columns, converters = [], []
    for model, alias in _CHECK_JOIN:
        more_columns, more_converters = _converters(model, alias)
        columns += more_columns
        converters += more_converters
    page, pattern = ListingPage._meta, ExtractionPattern._meta
    more_columns, more_converters = _converters(ListingPage, "lp", ("facts_hash", "fetched_at"))
    columns += more_columns
    converters += more_converters
    page_listing, fetched = _q(page.get_field("listing").column), _q(page.get_field("fetched_at").column)
    listing_store = _q(_field(Listing, "store").column)
    columns.append(
        f"CASE WHEN lp.{_q(page.pk.column)} IS NULL THEN (SELECT COUNT(*) FROM {_q(page.db_table)} p2 "
        f"JOIN {_q(Listing._meta.db_table)} l2 ON l2.{_q(Listing._meta.pk.column)} = p2.{page_listing} "
        f"WHERE l2.{listing_store} = l.{listing_store} AND p2.{fetched} > %s) END"
    )
    converters.append([])
    more_columns, more_converters = _converters(ExtractionPattern, "e", _PATTERN_FIELDS)
    columns += more_columns
    converters += more_converters
    more_columns, more_converters = _converters(CheckLog, "r", _ROUTINE_FIELDS)
    columns += more_columns
    converters += more_converters
    owner, store = _q(pattern.get_field("owner").column), _q(pattern.get_field("store").column)
    chosen = (
        f"SELECT e2.{_q(pattern.pk.column)} FROM {_q(pattern.db_table)} e2 WHERE e2.{store} = l.{listing_store} "
        f"AND e2.{_q(pattern.get_field('status').column)} = %s AND (e2.{owner} = p.{_q(_field(Product, 'owner').column)} OR e2.{owner} IS NULL) "
        f"ORDER BY CASE WHEN e2.{owner} IS NULL THEN 1 ELSE 0 END LIMIT 1"
    )
    select = (
        f"SELECT {', '.join(columns)} "
        + "{joins} "
        + f"LEFT JOIN {_q(page.db_table)} lp ON lp.{page_listing} = l.{_q(Listing._meta.pk.column)} "
        + f"LEFT JOIN {_q(pattern.db_table)} e ON e.{_q(pattern.pk.column)} = ({chosen}) "
        + f"LEFT JOIN {check_table} r ON r.{_q(CheckLog._meta.pk.column)} = l.{_q(_field(Listing, 'routine_check').column)}"
    )
    if vendor == "postgresql":
        sql = f"WITH claimed AS ({claim} RETURNING *) " + select.format(joins=_check_joins("claimed"))
        return "", sql, converters
    where = f" WHERE c.{_q(CheckLog._meta.pk.column)} = %s"
    return claim, select.format(joins=_check_joins(check_table)) + where, converters


def check_claim(*, check_id: int, at: datetime, pages_since: datetime) -> ClaimedCheck | None:
    """Take a queued check for this worker (a check already running or done is not taken) and
    read what it needs before it fetches (see `_claim_sql`). None: not taken, or deleted with
    its listing since it was queued. `pages_since`: the cutoff of the store's page count."""
    claim, select, converters = _claim_sql(connection.vendor)
    outcome = _field(CheckLog, "outcome")
    claim_params = [
        outcome.get_db_prep_save(CheckLog.Outcome.RUNNING, connection),
        _field(CheckLog, "started_at").get_db_prep_save(at, connection),
        1,  # attempts
        check_id,
        outcome.get_db_prep_value(CheckLog.Outcome.QUEUED, connection),
    ]
    select_params = [
        _field(ListingPage, "fetched_at").get_db_prep_value(pages_since, connection),
        ExtractionPattern.Status.ACTIVE.value,
    ]
    with _cursor() as cursor:
        if claim:
            cursor.execute(claim, claim_params)
            if not cursor.rowcount:
                return None
            cursor.execute(select, [*select_params, check_id])
        else:
            cursor.execute(select, [*claim_params, *select_params])
        row = cursor.fetchone()
    if row is None:
        return None
    values = _converted(row, converters)
    check = _check_from_row(values)
    extra = values[-(3 + len(_PATTERN_FIELDS) + len(_ROUTINE_FIELDS)):]
    facts_hash, fetched_at, store_pages = extra[:3]
    pattern_values = extra[3 : 3 + len(_PATTERN_FIELDS)]
    routine_values = extra[3 + len(_PATTERN_FIELDS):]
    pattern = routine = None
    if pattern_values[0] is not None:
        pattern = ExtractionPattern.from_db(
            connection.alias, [_field(ExtractionPattern, name).attname for name in _PATTERN_FIELDS], pattern_values
        )
    if routine_values[0] is not None:
        routine = CheckLog.from_db(
            connection.alias, [_field(CheckLog, name).attname for name in _ROUTINE_FIELDS], routine_values
        )
    return ClaimedCheck(
        check=check, pattern=pattern, page=PageKept(facts_hash, fetched_at, store_pages), routine=routine
    )
