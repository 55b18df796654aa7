"""Statements built once run straight on the driver, compiled once per parameter set.

SQLAlchemy's execution of an already-compiled statement (cache key, execution context,
parameter and result set-up, events) costs several times what SQLite itself spends on the
short statements of the annotator's hot path: about 45 µs against 10 µs. On PostgreSQL
(psycopg) it also reads every result's column descriptions, which psycopg builds anew each
time. `PreparedConnection`
keeps SQLAlchemy's compiler and type processors, and drops the rest for statements that are
executed again and again: the second time one statement object (a module-level constant, as
the hot paths build theirs) is executed with a given set of parameter names, its SQL, bind
order, bind processors and result processors are kept; from then on it goes to the driver's
cursor with a tuple (SQLite) or a dict of the SQL's parameter names (psycopg), and its rows
come back as SQLAlchemy `Row`s in an `IteratorResult`.

What keeps this equal to SQLAlchemy's own execution, and where it steps aside:
- only inside a transaction (BEGIN already sent by the engine's "begin" event), one parameter set,
  no per-call execution options, no cursor-level event listeners (tests that record statements
  see every one), and no statement-level execution options;
- only statements without Python-side defaults, expanding or literal-rendered parameters or
  bind callables. The result has rows, `rowcount` and `lastrowid`, not `inserted_primary_key`
  (nothing here reads it: take RETURNING instead);
- a bind without a value that the call leaves out takes SQLAlchemy's path, which raises as before;
- driver errors are wrapped as SQLAlchemy wraps them (`DBAPIError.instance`), so `IntegrityError`
  and "database is locked" reach callers and `Database.run`'s retry as they always did.
A per-request statement object is never seen twice and always takes SQLAlchemy's path.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection, exc
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData
from sqlalchemy.sql import ClauseElement, Delete, Insert, Select, Update

_REQUIRED = object()  # a bind with no value of its own
_STATEMENT_KINDS = (Select, Update, Delete, Insert)


class PreparedResult(IteratorResult[Any]):
    """Rows of a prepared statement, and the driver's rowcount (UPDATE, DELETE)."""

    def __init__(self, metadata: SimpleResultMetaData, rows: list[Any], rowcount: int,
                 lastrowid: int | None) -> None:
        super().__init__(metadata, iter(rows))
        self.rowcount = rowcount
        self.lastrowid = lastrowid


class _Plan:
    """One statement compiled for one dialect and one set of parameter names. `names` are the
    parameters' names in the SQL for a driver that takes them by name (psycopg's `%(name)s`),
    None for one that takes them in order (SQLite's `?`)."""

    __slots__ = ("binds", "metadata", "names", "processors", "resolved", "returns_rows", "sql", "types")

    def __init__(self, sql: str, binds: list[tuple[str, Any, Callable[[Any], Any] | None]],
                 keys: list[str], types: list[Any], dialect: Dialect, names: list[str] | None = None) -> None:
        self.sql = sql
        self.binds = binds
        self.names = names
        self.metadata = SimpleResultMetaData(keys)
        self.returns_rows = bool(keys)
        self.types = types
        self.processors: list[Callable[[Any], Any] | None] | None = None
        try:
            self._resolve(dialect, [None] * len(types))
        except (TypeError, KeyError, exc.InvalidRequestError):
            # psycopg's numeric processors depend on the type the server sent: resolved from the
            # first result's description (`resolve_from`)
            self.resolved = False

    def _resolve(self, dialect: Dialect, coltypes: list[Any]) -> None:
        processors = [t._cached_result_processor(dialect, c)
                      for t, c in zip(self.types, coltypes, strict=True)]
        self.processors = processors if any(processors) else None
        self.resolved = True

    def resolve_from(self, dialect: Dialect, description: Any) -> None:
        self._resolve(dialect, [d[1] for d in description])


def _plan(stmt: ClauseElement, dialect: Dialect, keys: list[str]) -> _Plan | None:
    """The statement's plan, or None when it needs SQLAlchemy's own execution."""
    compiled: Any = stmt.compile(dialect=dialect, column_keys=keys)
    # Python-side defaults are computed by the execution context, per execution: not ours to do.
    defaults = [getattr(compiled, a, None) for a in ("insert_prefetch", "update_prefetch")]
    if any(defaults) or "POSTCOMPILE" in compiled.string:
        return None
    bind_processors = compiled._bind_processors
    binds: list[tuple[str, Any, Callable[[Any], Any] | None]] = []
    positional = compiled.positiontup is not None
    order = compiled.positiontup if positional else list(compiled.binds)
    for name in order:
        bind = compiled.binds[name]
        if bind.expanding or bind.literal_execute or bind.callable is not None:
            return None
        process = bind_processors.get(name)
        if not (process is None or callable(process)):  # a tuple type's processors
            return None
        default = _REQUIRED if bind.required else bind.value
        binds.append((name, default, process))
    escaped = compiled.escaped_bind_names or {}
    names = None if positional else [escaped.get(name, name) for name in order]
    columns = compiled._result_columns
    keys_out = [c.keyname for c in columns]
    if len(set(keys_out)) != len(keys_out):
        return None
    return _Plan(compiled.string, binds, keys_out, [c.type for c in columns], dialect, names)


_PLANS_ATTR = "labelloop_plans"
# statement -> {parameter names: plan, or None (SQLAlchemy's path)}; absent: not seen yet.
Plans = weakref.WeakKeyDictionary[ClauseElement, dict[frozenset[str], _Plan | None]]


def _plans_of(dialect: Dialect) -> Plans:
    """The plans made for one engine's dialect (type processors are the dialect's: encryption at
    rest keeps its keyring there), kept as long as the statements they are for."""
    plans: Plans | None = getattr(dialect, _PLANS_ATTR, None)
    if plans is None:
        plans = weakref.WeakKeyDictionary()
        setattr(dialect, _PLANS_ATTR, plans)
    return plans


class PreparedConnection(Connection):
    """A Connection that runs repeated Core statements through their plans (SQLite and psycopg)."""

    _listened: bool | None = None  # whether statement events have listeners (asked once)

    def execute(self, statement: Any, parameters: Any = None, *, execution_options: Any = None) -> Any:
        # A list of one parameter set is one execution to SQLAlchemy too (not executemany).
        one = parameters[0] if isinstance(parameters, list | tuple) and len(parameters) == 1 else parameters
        if (execution_options or not isinstance(statement, _STATEMENT_KINDS)
                or not (one is None or isinstance(one, Mapping))
                or statement._execution_options or not self.in_transaction() or self._events_listened()):
            return super().execute(statement, parameters, execution_options=execution_options)
        params: Mapping[str, Any] = one or {}
        key = frozenset(params)
        plans = _plans_of(self.dialect)
        known = plans.get(statement)
        if known is None:  # first time: SQLAlchemy's way; planned if it comes again
            plans[statement] = {}
            return super().execute(statement, parameters)
        if key not in known:
            known[key] = _plan(statement, self.dialect, sorted(key))
        plan = known[key]
        if plan is None:
            return super().execute(statement, parameters)
        values = []
        for name, default, process in plan.binds:
            value = params.get(name, default)
            if value is _REQUIRED:
                return super().execute(statement, parameters)  # raises as SQLAlchemy does
            values.append(value if process is None else process(value))
        if plan.names is None:
            return self._run(plan, tuple(values))
        return self._run(plan, dict(zip(plan.names, values, strict=True)))

    def _events_listened(self) -> bool:
        if self._listened is None:
            d = self.dispatch
            self._listened = bool(d.before_cursor_execute or d.after_cursor_execute or d.before_execute
                                  or d.after_execute)
        return self._listened

    def _run(self, plan: _Plan, values: tuple[Any, ...] | dict[str, Any]) -> PreparedResult:
        driver = self.connection.driver_connection
        assert driver is not None
        try:
            cursor = driver.execute(plan.sql, values)
            if not plan.resolved:
                plan.resolve_from(self.dialect, cursor.description)
            rows = cursor.fetchall() if plan.returns_rows else []
            rowcount, lastrowid = cursor.rowcount, getattr(cursor, "lastrowid", None)
        except self.dialect.loaded_dbapi.Error as e:
            raise exc.DBAPIError.instance(plan.sql, values, e, self.dialect.loaded_dbapi.Error,
                                          dialect=self.dialect) from e
        if plan.processors is not None and rows:
            procs = plan.processors
            rows = [tuple(v if p is None else p(v) for p, v in zip(procs, row, strict=True)) for row in rows]
        return PreparedResult(plan.metadata, rows, rowcount, lastrowid)
