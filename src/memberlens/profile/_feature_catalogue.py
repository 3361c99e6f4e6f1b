"""The member features, each defined once: the registry is also the data dictionary.

Every feature is computed at a cut-off (the refresh's ``--as-of`` instant, midnight
UTC): only rows strictly before it are read, and windows ("last 30 days") end at it.
Definitions live in ``_feature_defs`` (purchases, categories) and
``_feature_defs_activity`` (behaviour, feedback, messages, loyalty); the code that
computes them in ``_features_orders``, ``_features_activity`` and ``_features``. Each
formula is the contract those modules keep; tests/profile/test_features.py checks
each one against hand-computed numbers.
"""

from __future__ import annotations

import hashlib

from memberlens.profile._feature_defs import CATEGORY_FEATURES, PURCHASE_FEATURES
from memberlens.profile._feature_defs_activity import ACTIVITY_FEATURES
from memberlens.profile.contracts import FeatureDef

FEATURES: tuple[FeatureDef, ...] = (*PURCHASE_FEATURES, *CATEGORY_FEATURES, *ACTIVITY_FEATURES)
BY_NAME: dict[str, FeatureDef] = {f.name: f for f in FEATURES}


def feature_defs() -> tuple[FeatureDef, ...]:
    """Every member feature in dictionary order.

    Examples
    --------
    >>> [f.name for f in feature_defs()][:3]
    ['recency_days', 'frequency', 'monetary']
    """
    return FEATURES


def feature_names() -> dict[str, str]:
    """Feature name -> type name (``integer``, ``decimal``, ``float``, ``string``).

    Examples
    --------
    >>> feature_names()["spend_365d"]
    'decimal'
    """
    return {f.name: f.type.value for f in FEATURES}


def feature_specs() -> tuple[tuple[str, str, str, str, str], ...]:
    """``(name, type, description, unit, source)`` per feature, for the rule catalogue.

    Plain tuples so the rule language can register them without profile types.

    Examples
    --------
    >>> feature_specs()[1]
    ('frequency', 'integer', 'Number of orders.', 'orders', 'member_features')
    """
    return tuple((f.name, f.type.value, f.description, f.unit, "member_features") for f in FEATURES)


def feature_version() -> str:
    """A fingerprint of the definitions: it changes whenever a name, type or formula does.

    Examples
    --------
    >>> len(feature_version())
    12
    """
    digest = hashlib.sha256()
    for f in FEATURES:
        digest.update(f"{f.name}|{f.type.value}|{f.unit}|{f.formula}\n".encode())
    return digest.hexdigest()[:12]
