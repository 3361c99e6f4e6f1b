"""References between definitions: what a rule reads, cycles, and an evaluation order."""

from __future__ import annotations

from collections.abc import Mapping

from memberlens.rules._ast import Node, Ref, walk
from memberlens.rules._parser import parse
from memberlens.rules._tokens import where
from memberlens.rules.contracts import RuleCode, RuleError


def references(rule: str) -> frozenset[str]:
    """The catalogue names ``rule`` reads (syntax only, no catalogue needed).

    Function names are not included (see ``CheckedRule.functions``).

    >>> sorted(references("tag.high_value and not segment.lapsed or spend_365d > 9"))
    ['segment.lapsed', 'spend_365d', 'tag.high_value']
    """
    return frozenset(node.name for node in walk(parse(rule)) if isinstance(node, Ref))


def _first_refs(definitions: Mapping[str, str]) -> dict[str, dict[str, Ref]]:
    """For each definition, the defined names it reads, each at its first mention."""
    graph: dict[str, dict[str, Ref]] = {}
    for name in sorted(definitions):
        try:
            tree: Node = parse(definitions[name])
        except RuleError as error:
            raise RuleError(
                f"in {name}: {error.message}",
                code=RuleCode(error.code),
                line=error.line,
                column=error.column,
            ) from None
        firsts: dict[str, Ref] = {}
        for node in walk(tree):
            if isinstance(node, Ref) and node.name in definitions:
                firsts.setdefault(node.name, node)
        graph[name] = firsts
    return graph


def evaluation_order(definitions: Mapping[str, str]) -> tuple[str, ...]:
    """Definitions ordered so each comes after every definition it reads.

    ``definitions`` maps catalogue names (``tag.high_value``, ``segment.vip``) to rule
    texts; raises :class:`RuleError` ``CYCLE`` when one reaches itself. Ties break
    alphabetically, so the order is stable.

    >>> evaluation_order({"tag.a": "tag.b and x > 1", "tag.b": "x > 2"})
    ('tag.b', 'tag.a')
    """
    graph = _first_refs(definitions)
    done: list[str] = []
    state: dict[str, int] = {}  # 1 on the current path, 2 finished
    for root in sorted(graph):
        if state.get(root) != 2:
            _visit(root, graph, state, done, definitions)
    return tuple(done)


def find_cycles(definitions: Mapping[str, str]) -> None:
    """Raise :class:`RuleError` ``CYCLE`` naming the path when a definition reaches itself.

    >>> find_cycles({"tag.high_value": "tag.vip", "tag.vip": "tag.high_value or x > 1"})
    Traceback (most recent call last):
    ...
    memberlens.rules.contracts.RuleError: tag.high_value is defined through itself: ...
    """
    evaluation_order(definitions)


def _visit(
    root: str,
    graph: dict[str, dict[str, Ref]],
    state: dict[str, int],
    done: list[str],
    definitions: Mapping[str, str],
) -> None:
    # Iterative depth-first search: a long chain of definitions cannot hit the
    # recursion limit. Each frame is (name, its remaining references).
    path: list[tuple[str, list[str]]] = [(root, sorted(graph[root]))]
    state[root] = 1
    while path:
        name, pending = path[-1]
        if not pending:
            path.pop()
            state[name] = 2
            done.append(name)
            continue
        target = pending.pop(0)
        if state.get(target) == 1:
            raise _cycle([n for n, _ in path], target, graph)
        if state.get(target) is None:
            state[target] = 1
            path.append((target, sorted(graph[target])))


def _cycle(path: list[str], target: str, graph: dict[str, dict[str, Ref]]) -> RuleError:
    loop = [*path[path.index(target) :], target]
    ref = graph[loop[0]][loop[1]]
    return RuleError(
        f"{loop[0]} is defined through itself: {' -> '.join(loop)} "
        f"({loop[0]} reads {loop[1]} {where(ref.line, ref.column)})",
        code=RuleCode.CYCLE,
        line=ref.line,
        column=ref.column,
        path=tuple(loop),
    )
