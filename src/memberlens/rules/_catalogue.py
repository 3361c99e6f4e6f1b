"""The catalogue: every name and function a rule may use, immutable once built."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from memberlens.rules.contracts import FunctionSpec, NameSpec, RuleCode, RuleError


@dataclass(frozen=True, eq=False)
class Catalogue:
    """Names (attributes, features, ``tag.*``, ``prediction.*``, ``segment.*``) and functions.

    Build with :meth:`of`; combine the parts different steps register with :meth:`merge`.

    >>> c = Catalogue.of([NameSpec("spend_365d", "number", "Money spent, 365 days")])
    >>> c["spend_365d"].type, "tier" in c, c.nearest("spend_356d")
    ('number', False, ('spend_365d',))
    """

    names: Mapping[str, NameSpec]
    functions: Mapping[str, FunctionSpec]

    @classmethod
    def of(cls, specs: Iterable[NameSpec], functions: Iterable[FunctionSpec] = ()) -> Catalogue:
        """A catalogue of these names and functions; a repeated name or column is refused."""
        names: dict[str, NameSpec] = {}
        columns: dict[str, str] = {}
        for spec in specs:
            if spec.name in names and names[spec.name] != spec:
                raise _clash(f"the name {spec.name} is registered twice, differently")
            if columns.setdefault(spec.column, spec.name) != spec.name:
                raise _clash(
                    f"{spec.name} and {columns[spec.column]} both map to column {spec.column}"
                )
            names[spec.name] = spec
        funcs: dict[str, FunctionSpec] = {}
        for func in functions:
            if func.name in names or (func.name in funcs and funcs[func.name] is not func):
                raise _clash(f"the function {func.name} clashes with a name or another function")
            funcs[func.name] = func
        return cls(MappingProxyType(names), MappingProxyType(funcs))

    def merge(self, other: Catalogue) -> Catalogue:
        """Both catalogues in one; the same name registered differently is refused."""
        return Catalogue.of(
            [*self.names.values(), *other.names.values()],
            [*self.functions.values(), *other.functions.values()],
        )

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __getitem__(self, name: str) -> NameSpec:
        return self.names[name]

    def __iter__(self) -> Iterator[NameSpec]:
        return iter(sorted(self.names.values(), key=lambda s: s.name))

    def __len__(self) -> int:
        return len(self.names)

    def get(self, name: str) -> NameSpec | None:
        return self.names.get(name)

    def function(self, name: str) -> FunctionSpec | None:
        return self.functions.get(name)

    def nearest(self, name: str, k: int = 3) -> tuple[str, ...]:
        """Up to ``k`` names spelled most like ``name`` (difflib ratio, case-blind)."""
        return _nearest(name, self.names, k)

    def nearest_function(self, name: str, k: int = 3) -> tuple[str, ...]:
        return _nearest(name, self.functions, k)


def _nearest(name: str, pool: Iterable[str], k: int) -> tuple[str, ...]:
    by_lower: dict[str, str] = {}
    for known in sorted(pool):
        by_lower.setdefault(known.lower(), known)
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=k, cutoff=0.6)
    return tuple(by_lower[c] for c in close)


def _clash(message: str) -> RuleError:
    return RuleError(message, code=RuleCode.BAD_CATALOGUE)
