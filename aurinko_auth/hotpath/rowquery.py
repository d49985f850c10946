"""Hot-path reads as SQL compiled once, instances made with ``Model.from_db``.

Building a queryset's SQL through the ORM costs several times the database round trip of the
small indexed lookups every authenticated request makes (bench/RESULTS.md). The SQL here is
still derived from the models' ``_meta`` (tables, columns, quoted names), the values still go
through the fields' converters, and instances come from ``Model.from_db`` with the fields not
read deferred (they load on access, like ``.defer()``), so the lookups follow the models.
Encrypted fields are never read unless named: a lookup has no use for provider credentials or
signing keys, and decrypting them on every request would cost time and keep secrets in memory.

This is the hot path's one SQL compiler. It serves the account-token lookup
(:mod:`aurinko_auth.hotpath.tokens`), the session lookup (:func:`aurinko_auth.usersessions.find`)
and the accounts of ``GET /v1/user``. A query given a ``statement`` name runs through
:mod:`aurinko_auth.hotpath.prepared` (prepared on PostgreSQL, standing in for the connection's
health check).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections
from django.db.models import DEFERRED, Field, Model

from aurinko_auth.fields import EncryptedJSONField, EncryptedTextField
from aurinko_auth.hotpath import prepared

ENCRYPTED_FIELDS = (EncryptedTextField, EncryptedJSONField)
# Converters of the selected columns that need one: (position, column expression, functions).
Converters = tuple[tuple[int, Any, tuple[Any, ...]], ...]
# IN lists longer than this are compiled for the call, not kept.
MAX_CACHED_PARAMS = 8


def readable_fields(model: type[Model], names: Sequence[str] | None = None) -> tuple[Field, ...]:
    """The fields a lookup reads: ``names`` (names or attnames), or else every concrete field
    but the encrypted ones."""
    if names is None:
        return tuple(f for f in model._meta.concrete_fields if not isinstance(f, ENCRYPTED_FIELDS))
    return tuple(model._meta.get_field(name) for name in names)


def model_builder(model: type[Model], kept: tuple[Field, ...]) -> Callable[[str, Any], Model]:
    """``build(db, values)`` -> an instance from the values of the ``kept`` fields, the
    others deferred: they load on access, like ``.defer()``."""
    fields = model._meta.concrete_fields
    if list(kept) == list(fields):

        def build(db: str, values: Any) -> Model:
            return model.from_db(db, None, values)

        return build
    positions = [kept.index(f) if f in kept else None for f in fields]

    def build_deferred(db: str, values: Any) -> Model:
        return model.from_db(db, None, [DEFERRED if i is None else values[i] for i in positions])

    return build_deferred


def converters_for(conn: Any, selected: Sequence[tuple[Field, str]]) -> Converters:
    """The value converters (backend's, then field's) of ``(field, table alias)`` columns, as
    the ORM's compiler would apply them; columns that need none are skipped."""
    found = []
    for i, (field, alias) in enumerate(selected):
        expression = field.get_col(alias)
        funcs = tuple(conn.ops.get_db_converters(expression) + field.get_db_converters(conn))
        if funcs:
            found.append((i, expression, funcs))
    return tuple(found)


def convert(row: Sequence[Any], converters: Converters, conn: Any) -> list[Any]:
    values = list(row)
    for i, expression, funcs in converters:
        value = values[i]
        for func in funcs:
            value = func(value, expression, conn)
        values[i] = value
    return values


class ChainQuery:
    """Rows of models chained by foreign keys (``links[i]`` on ``models[i]`` points to
    ``models[i + 1]``), filtered by ``where`` of the first model being one of some values:

        SELECT <readable columns of each> FROM first t0 JOIN second t1 ON ... WHERE t0.col IN (...)

    :meth:`rows` returns one tuple of instances per row, each linked to the next (no further
    query to follow ``session.user.app``); :meth:`values` the converted column values instead,
    one tuple per model (plain values: cheap to cache, made into instances by :meth:`build`).
    ``statement`` names a hot read: see :mod:`aurinko_auth.hotpath.prepared`.

    ``many=(model, fields, link)`` adds the rows of ``model`` whose foreign key ``link``
    points to one of the chain's models (``LEFT JOIN``: each of them, or none), as the last
    group of each row: a session and its user's accounts in one round trip (all nulls for a
    chain row without any). :meth:`grouped` gathers them per chain row, :meth:`build_many`
    makes their instances; :meth:`build` and :meth:`rows` make the chain's only."""

    def __init__(
        self,
        models: Sequence[tuple[type[Model], Sequence[str] | None]],
        links: Sequence[str] = (),
        *,
        where: str,
        statement: str | None = None,
        many: tuple[type[Model], Sequence[str] | None, str] | None = None,
    ) -> None:
        if len(links) != len(models) - 1:
            raise ValueError("one link between each pair of models")
        self.links = tuple(links)
        self.where = models[0][0]._meta.get_field(where)
        self.many = None
        if many is not None:
            fk = many[0]._meta.get_field(many[2])
            chained = [model for model, _ in models]
            # (the foreign key, the alias of the model it points to)
            self.many = (fk, f"t{chained.index(fk.related_model)}")
            models = [*models, many[:2]]
        self.models = tuple(model for model, _ in models)
        self.fields = tuple(readable_fields(model, names) for model, names in models)
        if many is not None and not all(self.models[i]._meta.pk in self.fields[i] for i in (0, -1)):
            raise ValueError("many: the first model and many's fields must include their pk")
        self.builders = tuple(
            model_builder(m, f) for m, f in zip(self.models, self.fields, strict=True)
        )
        self.statement = statement
        self._compiled: dict[tuple[str, int], tuple[str, Converters]] = {}

    def _compile(self, conn: Any, count: int) -> tuple[str, Converters]:
        qn = conn.ops.quote_name
        selected = [(f, f"t{i}") for i, fields in enumerate(self.fields) for f in fields]
        tables = f"{qn(self.models[0]._meta.db_table)} t0"
        for i, link in enumerate(self.links):
            fk = self.models[i]._meta.get_field(link)
            target = self.models[i + 1]
            tables += (
                f" JOIN {qn(target._meta.db_table)} t{i + 1}"
                f" ON t{i + 1}.{qn(fk.target_field.column)} = t{i}.{qn(fk.column)}"
            )
        if self.many is not None:
            fk, alias = self.many
            last = len(self.links) + 1
            tables += (
                f" LEFT JOIN {qn(self.models[-1]._meta.db_table)} t{last}"
                f" ON t{last}.{qn(fk.column)} = {alias}.{qn(fk.target_field.column)}"
            )
        # Identifiers come from the models' _meta and are quoted; values are parameters.
        sql = (
            "SELECT "  # noqa: S608
            + ", ".join(f"{alias}.{qn(f.column)}" for f, alias in selected)  # noqa: S608
            + f" FROM {tables} WHERE t0.{qn(self.where.column)} IN ("
            + ", ".join(["%s"] * count)
            + ")"
        )
        return sql, converters_for(conn, selected)

    def values(self, using: str, values: Sequence[Any]) -> list[tuple[tuple[Any, ...], ...]]:
        """Per row, the converted values of each model's fields (``self.fields``)."""
        if not values:
            return []
        conn = connections[using]
        key = (using, len(values))
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compile(conn, len(values))
            if len(values) <= MAX_CACHED_PARAMS:
                self._compiled[key] = compiled
        sql, converters = compiled
        params = [self.where.get_db_prep_value(v, conn, prepared=False) for v in values]
        if self.statement is None:
            fetched = self._fetch(conn, sql, params)
        else:
            fetched = prepared.read(conn, lambda: self._fetch(conn, sql, params))
        found = []
        for row in fetched:
            row_values = convert(row, converters, conn) if converters else row
            groups, start = [], 0
            for fields in self.fields:
                groups.append(tuple(row_values[start : start + len(fields)]))
                start += len(fields)
            found.append(tuple(groups))
        return found

    def _fetch(self, conn: Any, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        with conn.cursor() as cursor:
            if self.statement is None:
                cursor.execute(sql, params)
            else:
                prepared.execute(conn, cursor, self.statement, sql, params)
            return cursor.fetchall()

    def build(self, using: str, groups: Sequence[Sequence[Any]]) -> tuple[Model, ...]:
        """The instances of one row of :meth:`values`, each linked to the next (of a query
        with ``many``: the chain's groups only, see :meth:`grouped` and :meth:`build_many`)."""
        builders = self.builders if self.many is None else self.builders[:-1]
        instances = [build(using, group) for build, group in zip(builders, groups, strict=True)]
        for i, link in enumerate(self.links):
            setattr(instances[i], link, instances[i + 1])
        return tuple(instances)

    def grouped(
        self, rows: Sequence[tuple[tuple[Any, ...], ...]]
    ) -> list[tuple[tuple[tuple[Any, ...], ...], list[tuple[Any, ...]]]]:
        """Rows of :meth:`values` of a query with ``many``, per chain row: ``(the chain's
        groups, the values of each of its many rows)``, in the order they came."""
        first = self.fields[0].index(self.models[0]._meta.pk)
        pk = self.fields[-1].index(self.models[-1]._meta.pk)
        found: dict[Any, tuple[tuple[tuple[Any, ...], ...], list[tuple[Any, ...]]]] = {}
        for row in rows:
            key = row[0][first]
            entry = found.get(key)
            if entry is None:
                entry = found[key] = (row[:-1], [])
            if row[-1][pk] is not None:
                entry[1].append(row[-1])
        return list(found.values())

    def build_many(self, using: str, values: Sequence[Any]) -> Model:
        """The instance of one of the ``many`` rows of :meth:`grouped`."""
        return self.builders[-1](using, values)

    def rows(self, using: str, values: Sequence[Any]) -> list[tuple[Model, ...]]:
        if self.many is not None:
            return [
                self.build(using, chain) for chain, _ in self.grouped(self.values(using, values))
            ]
        return [self.build(using, groups) for groups in self.values(using, values)]
