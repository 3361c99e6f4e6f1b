"""The rule language: one grammar for tags, segments, journey conditions and KPI filters.

The grammar, type rules, null semantics and error codes are in docs/rules.md; this
front door is the whole contract other packages build on.

Catalogue
    ``NameSpec(name, type, description, unit=None, source="feature")`` declares a name
    rules may read; ``type`` is one of ``number | string | boolean | date |
    timestamp``. Names are identifiers joined by dots: ``spend_365d``, ``tier``,
    ``prediction.churn_risk``. Conventions (so later packages need no grammar
    change): a tag is the name ``tag.<tag>`` (boolean for rule tags; number for
    weighted interest tags), segment membership is ``segment.<segment>`` (boolean),
    predictions are ``prediction.<name>``. ``Catalogue.of(specs, functions=())``
    builds an immutable catalogue, ``.merge(other)`` joins the parts each step
    registers, ``catalogue[name]`` / ``.get`` / ``in`` look names up and
    ``.nearest(name, k=3)`` suggests spellings (difflib).

Functions
    ``FunctionSpec(name, params, returns, description, compile)`` with
    ``Param(name, type, required=False, default=None)``; ``type`` may also be
    ``duration`` (``7d``, ``12w``, ``24h``, ``1y``). Calls take constant arguments,
    positional then named: ``viewed(category: "baby", within: 7d, at_least: 2)``.
    ``compile(member_table, args)`` gets every parameter by name (defaults filled;
    numbers as int or float, durations as :class:`Duration`, dates as
    ``datetime.date``; make numbers Ibis literals with :func:`number_literal`, which
    keeps them exact doubles) and returns an Ibis expression of type ``returns`` with one
    value per row of the member table — e.g. for an event function,
    ``member_table.member_id.isin(events.filter(...).member_id)``.

Columns
    ``compile_rule`` reads the name ``a.b`` from the member-table column ``a__b``
    (:func:`column_of`). The caller builds that table (features, attributes, and
    joins of tags, predictions and segment membership), one row per member.

Use
    ``check(text, catalogue)`` at save time (parse + names + types) ->
    :class:`CheckedRule`; ``compile_rule(text_or_checked, catalogue, table)`` -> an
    Ibis boolean for ``table.filter``; ``references(text)`` -> names read;
    ``find_cycles(definitions)`` / ``evaluation_order(definitions)`` over
    ``{"tag.high_value": "...", "segment.vip": "..."}``. Every failure is one
    :class:`RuleError` (``ValueError``) with ``.code`` (:class:`RuleCode`),
    ``.line``, ``.column``, ``.suggestions`` and, for cycles, ``.path``.

>>> import ibis
>>> catalogue = Catalogue.of([
...     NameSpec("spend_365d", "number", "Money spent in the last 365 days", "currency"),
...     NameSpec("tier", "string", "Membership tier", source="tier"),
... ])
>>> members = ibis.memtable({"member_id": ["m1", "m2"], "spend_365d": [2500.0, 80.0],
...                          "tier": ["gold", "silver"]})
>>> rule = check('spend_365d >= 2000 and tier in ("gold", "platinum")', catalogue)
>>> members.filter(compile_rule(rule, catalogue, members)).member_id.to_list()
['m1']
>>> check("spend_356d > 1", catalogue)
Traceback (most recent call last):
...
memberlens.rules.contracts.RuleError: unknown name 'spend_356d' at line 1, column 1; ...
"""

from memberlens.rules._catalogue import Catalogue
from memberlens.rules._check import CheckedRule, check
from memberlens.rules._compile import compile_rule, number_literal
from memberlens.rules._graph import evaluation_order, find_cycles, references
from memberlens.rules._parser import MAX_DEPTH
from memberlens.rules._tokens import MAX_LENGTH
from memberlens.rules.contracts import (
    KEYWORDS,
    Duration,
    FunctionSpec,
    NameSpec,
    Param,
    ParamType,
    RuleCode,
    RuleError,
    Value,
    ValueType,
    column_of,
)

__all__ = [
    "KEYWORDS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "Catalogue",
    "CheckedRule",
    "Duration",
    "FunctionSpec",
    "NameSpec",
    "Param",
    "ParamType",
    "RuleCode",
    "RuleError",
    "Value",
    "ValueType",
    "check",
    "column_of",
    "compile_rule",
    "evaluation_order",
    "find_cycles",
    "number_literal",
    "references",
]
