"""Known errors: every RuleCode the package raises, with its exact line, column and words.

Each case is a rule a person could plausibly write, the code it must fail with, where
the error points (1-based line and column) and a phrase the message must contain, so a
reworded message stays helpful and a moved caret is caught.
"""

from __future__ import annotations

import ibis
import pytest

from memberlens.rules import (
    MAX_DEPTH,
    MAX_LENGTH,
    Catalogue,
    FunctionSpec,
    NameSpec,
    Param,
    RuleCode,
    RuleError,
    check,
    compile_rule,
    evaluation_order,
    find_cycles,
)
from tests.rules.rule_fixtures import NAMES, ORDERS, make_catalogue

CATALOGUE = make_catalogue(ibis.memtable(ORDERS))
S, L, D = RuleCode.SYNTAX, RuleCode.BAD_LITERAL, RuleCode.TYPE_MISMATCH
N, F, A = RuleCode.UNKNOWN_NAME, RuleCode.UNKNOWN_FUNCTION, RuleCode.BAD_ARGUMENT

# (rule, code, line, column, a phrase of the message)
CASES: list[tuple[str, RuleCode, int, int, str]] = [
    # the grammar
    ("", S, 1, 1, "the rule is empty"),
    ("   \n  ", S, 2, 3, "the rule is empty"),
    ("spend_365d >", S, 1, 13, "expected a name, a value or '(' but found the end of the rule"),
    ("vip and", S, 1, 8, "found the end of the rule"),
    ("spend_365d >\n= 1", S, 2, 1, "expected a name, a value or '(' but found '='"),
    ("1 < 2 < 3", S, 1, 7, "comparisons cannot be chained; join them with 'and'"),
    ("(vip", S, 1, 5, "expected ')' to close the '(' at line 1, column 1"),
    ("vip)", S, 1, 4, "unexpected ')'; expected 'and', 'or' or the end"),
    ("tier is 3", S, 1, 9, "expected 'null' after 'is' (is null, is not null)"),
    ("tier not 3", S, 1, 10, "expected 'in' or 'between' after 'not'"),
    ('tier in "gold"', S, 1, 9, "expected '(' to open the list after 'in'"),
    ("tier in (tier)", S, 1, 10, "expected a value"),
    ("orders_365d between 1 or 3", S, 1, 23, "expected 'and' in 'between … and …'"),
    ("date(2025) > last_order", S, 1, 6, 'expected a quoted date such as date("2025-01-31")'),
    ('bought(category: "baby", 7d)', S, 1, 26, "a positional argument cannot follow named"),
    ("bought(category: tier)", S, 1, 18, "expected a value"),
    ('bought("baby", at_least: -"x")', S, 1, 27, "expected a number or a duration after '-'"),
    ("bought(cat.x: 1)", S, 1, 8, "'cat.x' is not a parameter name"),
    # tokens: characters and operators from other languages, malformed names and numbers
    ("spend_365d == 1", S, 1, 12, "'==' is not an operator here; write '='"),
    ("vip && vip", S, 1, 5, "write 'and'"),
    ("vip || vip", S, 1, 5, "write 'or'"),
    ("!vip", S, 1, 1, "write 'not'"),
    ("spend_365d # 1", S, 1, 12, "unexpected character '#'"),
    ("spend_365d; DROP TABLE members", S, 1, 11, "unexpected character ';'"),
    ("city = 'x' /* c */", S, 1, 13, "found '*'"),
    ("tag.in", S, 1, 1, "'in' is a reserved word and cannot be part of a name"),
    ("spend_365d. > 1", S, 1, 1, "the name 'spend_365d.' ends with a dot"),
    ("1x > 1", S, 1, 1, "'1x' is neither a number nor a duration"),
    # unterminated strings point at the opening quote
    ('"abc', S, 1, 1, 'this string has no closing "'),
    ("'abc", S, 1, 1, "this string has no closing '"),
    ("vip and\n  tier = 'gold", S, 2, 10, "this string has no closing '"),
    ("city = 'x\" OR 1=1", S, 1, 8, "this string has no closing '"),
    # literals
    ('city = "a\\q"', L, 1, 10, "unknown escape '\\q' in a string"),
    ('city = "\\u12"', L, 1, 9, "unknown escape '\\u'"),
    ('city = "\\u0000"', L, 1, 14, "may not hold a NUL"),
    ('date("2025-02-30") < last_order', L, 1, 6, "'2025-02-30' is not a date (YYYY-MM-DD)"),
    ('timestamp("2025-01-01 25:00") < signup_at', L, 1, 11, "is not a timestamp"),
    ("1e999 > 1", L, 1, 1, "is too large"),
    ("last_order + 200000d > last_order", L, 1, 14, "the duration 200000d is too long"),
    # names: the nearest spellings are suggested
    ("spend_356d > 1", N, 1, 1, "unknown name 'spend_356d' at line 1, column 1; did you mean"),
    ("vip and\n     spend_356d > 1 or\n  tier > 3", N, 2, 6, "did you mean spend_365d?"),
    ("tag.high_valu", N, 1, 1, "did you mean tag.high_value?"),
    ("prediction.churn > 0.5", N, 1, 1, "did you mean prediction.churn_risk?"),
    ("Tier = 'gold'", N, 1, 1, "did you mean tier?"),
    ("tier = gold", N, 1, 8, "unknown name 'gold'"),
    ("zzz > 1", N, 1, 1, "check its spelling in the catalogue of names"),
    # functions
    ('boughtt("baby")', F, 1, 1, "unknown function 'boughtt' at line 1, column 1; did you mean"),
    ('viewed("baby")', F, 1, 1, "see the functions in docs/rules.md"),
    ("spend_365d(1) > 1", F, 1, 1, "unknown function 'spend_365d'"),
    # arguments: type, count, unknown or repeated names, null
    ("bought(1)", A, 1, 8, "bought: category takes a string, not number 1"),
    ('scaled("2") > 1', A, 1, 8, 'scaled: factor takes a number, not string "2"'),
    ('bought("baby", within: 7)', A, 1, 16, "within takes a duration, not number 7"),
    ("bought()", A, 1, 1, "bought needs category (string): bought(category: string, within:"),
    ('bought("baby", 7d, 1, 2)', A, 1, 23, "bought takes at most 3 arguments"),
    ('bought(category: "baby", withn: 7d)', A, 1, 26, "bought has no parameter 'withn'"),
    (
        'bought("baby", category: "toys")',
        A,
        1,
        16,
        "the argument category of bought is given twice",
    ),
    ('bought("baby", null)', A, 1, 16, "leave within out rather than passing null"),
    # types
    ("tier > 3", D, 1, 1, "cannot compare string tier with number 3"),
    ("tier > 'a'", D, 1, 1, "strings can only be compared with = and != (or in), not >"),
    ("vip < true", D, 1, 1, "booleans can only be compared with = and != (or in), not <"),
    ("spend_365d and vip", D, 1, 1, "'and' needs true or false, but number spend_365d is a num"),
    ("vip or orders_365d", D, 1, 8, "'or' needs true or false"),
    ("not spend_365d", D, 1, 5, "'not' needs true or false"),
    ("scaled(2) and vip", D, 1, 1, "number scaled(2) is a number"),
    ('"a" + 1 = 1', D, 1, 1, 'cannot add string "a" and number 1'),
    ("-tier = 'a'", D, 1, 1, "cannot negate string tier (only numbers)"),
    ("signup_at - last_order > 1", D, 1, 1, "cannot subtract timestamp signup_at and date"),
    ("last_order + 1h > last_order", D, 1, 1, "cannot add date last_order and duration 1h"),
    ("last_order > 7d", D, 1, 1, "cannot compare date last_order with duration 7d"),
    ("tier between 'a' and 'b'", D, 1, 1, "between needs a number, date or timestamp"),
    ("orders_365d between 'a' and 2", D, 1, 21, "cannot compare number orders_365d with str"),
    ('tier in ("gold",\n   "silver",\n   3)', D, 3, 4, "cannot compare string tier with num"),
    ("tier in (null)", D, 1, 10, "null never matches in a list; write 'name is null'"),
    ("tier = null", D, 1, 8, "write 'name is null' or 'name is not null'"),
    ("spend_365d", D, 1, 1, "a rule must be true or false, but this one is a number"),
    ("tier", D, 1, 1, 'compare it, e.g. tier = "…"'),
]


@pytest.mark.parametrize(("rule", "code", "line", "column", "phrase"), CASES, ids=repr)
def test_error_code_position_and_message(
    rule: str, code: RuleCode, line: int, column: int, phrase: str
) -> None:
    """Each bad rule fails with its code, points at the right place and says why."""
    with pytest.raises(RuleError) as caught:
        check(rule, CATALOGUE)
    error = caught.value
    assert (error.code, error.line, error.column) == (code, line, column)
    assert phrase in str(error)
    assert f"line {line}, column {column}" in str(error)
    assert "\n" not in str(error) and "Traceback" not in str(error)
    assert isinstance(error, ValueError)


@pytest.mark.parametrize(
    ("rule", "suggestions"),
    [
        ("spend_356d > 1", ("spend_365d",)),
        ("tag.high_valu", ("tag.high_value",)),
        ("prediction.churn > 0.5", ("prediction.churn_risk",)),
        ("Tier = 'gold'", ("tier",)),
        ("zzz > 1", ()),
        ('boughtt("baby")', ("bought",)),
        ('viewed("baby")', ()),
        ('bought(category: "baby", withn: 7d)', ("within",)),
    ],
)
def test_suggestions_are_the_nearest_valid_names(rule: str, suggestions: tuple[str, ...]) -> None:
    """Misspelt names, functions and parameters come back with what was probably meant."""
    with pytest.raises(RuleError) as caught:
        check(rule, CATALOGUE)
    assert caught.value.suggestions == suggestions


def test_column_counts_characters_not_bytes() -> None:
    """A column after Chinese text counts characters, as an editor shows them."""
    with pytest.raises(RuleError) as caught:
        check('city = "上海" and spend_356d > 1', CATALOGUE)
    assert (caught.value.line, caught.value.column) == (1, 17)


def test_nesting_up_to_max_depth_is_accepted_and_one_more_is_not() -> None:
    """MAX_DEPTH parentheses parse; one more fails cleanly with TOO_DEEP, not RecursionError."""
    check("(" * MAX_DEPTH + "vip" + ")" * MAX_DEPTH, CATALOGUE)
    deeper = MAX_DEPTH + 1
    with pytest.raises(RuleError) as caught:
        check("(" * deeper + "vip" + ")" * deeper, CATALOGUE)
    assert (caught.value.code, caught.value.line, caught.value.column) == (
        RuleCode.TOO_DEEP,
        1,
        deeper,
    )
    assert f"nests more than {MAX_DEPTH} levels deep" in str(caught.value)


@pytest.mark.parametrize(
    "rule",
    [
        "not " * (MAX_DEPTH + 1) + "vip",
        "-" * (MAX_DEPTH + 1) + "orders_365d > 1",
        "orders_365d" + " + 1" * MAX_DEPTH + " > 1",
        "(not " * MAX_DEPTH + "vip" + ")" * MAX_DEPTH,
        "(" * 9_000 + "vip" + ")" * 9_000,
    ],
    ids=["not", "minus", "sum chain", "parentheses and not", "nine thousand parentheses"],
)
def test_every_kind_of_nesting_counts_towards_max_depth(rule: str) -> None:
    """not, unary minus, long + chains and parentheses all count: TOO_DEEP, never a crash."""
    with pytest.raises(RuleError) as caught:
        check(rule, CATALOGUE)
    assert caught.value.code == RuleCode.TOO_DEEP


def test_long_and_lists_count_once() -> None:
    """A flat list of 500 conditions joined by 'and' is long, not deep."""
    check(" and ".join(["vip"] * 500), CATALOGUE)


def test_max_length_is_inclusive() -> None:
    """A rule of exactly MAX_LENGTH characters is read; one more character is refused."""
    check("vip" + " " * (MAX_LENGTH - 3), CATALOGUE)
    with pytest.raises(RuleError) as caught:
        check("vip" + " " * (MAX_LENGTH - 2), CATALOGUE)
    error = caught.value
    assert (error.code, error.line, error.column) == (RuleCode.TOO_LONG, 1, 1)
    assert f"the limit is {MAX_LENGTH:,}" in str(error)
    assert "split it into tags or segments" in str(error)


# -- cycles --------------------------------------------------------------------------


def test_direct_self_reference_is_a_cycle() -> None:
    """tag.a defined as tag.a: CYCLE with the path and the position of the reference."""
    with pytest.raises(RuleError) as caught:
        find_cycles({"tag.a": "tag.a"})
    error = caught.value
    assert (error.code, error.line, error.column) == (RuleCode.CYCLE, 1, 1)
    assert error.path == ("tag.a", "tag.a")
    assert str(error) == (
        "tag.a is defined through itself: tag.a -> tag.a (tag.a reads tag.a at line 1, column 1)"
    )


def test_self_reference_deep_in_a_multi_line_rule_points_at_it() -> None:
    """The line and column are those of the offending reference inside the definition."""
    with pytest.raises(RuleError) as caught:
        evaluation_order({"tag.a": "vip and\n  (tag.a or spend_365d > 1)"})
    assert (caught.value.line, caught.value.column, caught.value.path) == (
        2,
        4,
        ("tag.a", "tag.a"),
    )


def test_cycle_through_a_segment() -> None:
    """tag.a -> segment.b -> tag.a is found; the path starts at the first name alphabetically."""
    definitions = {"tag.a": "vip and segment.b", "segment.b": "spend_365d > 1 or\n tag.a"}
    with pytest.raises(RuleError) as caught:
        find_cycles(definitions)
    error = caught.value
    assert error.code == RuleCode.CYCLE
    assert error.path == ("segment.b", "tag.a", "segment.b")
    assert (error.line, error.column) == (2, 2)  # where segment.b reads tag.a
    assert "segment.b is defined through itself: segment.b -> tag.a -> segment.b" in str(error)


def test_three_step_cycle_names_every_step() -> None:
    """A longer loop lists each definition once, the first repeated at the end."""
    definitions = {"tag.a": "segment.b", "segment.b": "tag.c", "tag.c": "vip and tag.a"}
    with pytest.raises(RuleError) as caught:
        evaluation_order(definitions)
    assert caught.value.path == ("segment.b", "tag.c", "tag.a", "segment.b")


def test_a_dag_is_ordered_dependencies_first() -> None:
    """Each definition comes after everything it reads; names that are not definitions are
    ignored; ties break alphabetically so the order is stable."""
    definitions = {
        "tag.a": "tag.b and segment.c",
        "tag.b": "spend_365d > 1",
        "segment.c": "tag.b or vip",
        "tag.d": "tier = 'gold'",
    }
    order = evaluation_order(definitions)
    assert order == ("tag.b", "segment.c", "tag.a", "tag.d")
    find_cycles(definitions)  # no error


def test_a_long_chain_is_ordered_without_recursion_limits() -> None:
    """5,000 definitions in a chain order fine; closing the chain into a loop is a CYCLE."""
    chain = {f"tag.t{i}": f"tag.t{i + 1}" for i in range(5000)}
    chain["tag.t5000"] = "vip"
    order = evaluation_order(chain)
    assert order[0] == "tag.t5000" and order[-1] == "tag.t0"
    chain["tag.t5000"] = "tag.t0"
    with pytest.raises(RuleError) as caught:
        find_cycles(chain)
    assert caught.value.code == RuleCode.CYCLE and len(caught.value.path) == 5002


def test_a_definition_that_does_not_parse_is_named() -> None:
    """A syntax error while building the graph keeps its code and says which definition."""
    with pytest.raises(RuleError) as caught:
        evaluation_order({"tag.a": "vip and", "tag.b": "vip"})
    error = caught.value
    assert (error.code, error.line, error.column) == (RuleCode.SYNTAX, 1, 8)
    assert str(error).startswith("in tag.a: expected a name, a value or '('")


# -- the program's own mistakes: BAD_CATALOGUE -----------------------------------------


def _noop(table: ibis.Table, args: object) -> ibis.Value:
    return table.vip


@pytest.mark.parametrize(
    ("build", "phrase"),
    [
        (lambda: NameSpec("tag.in", "boolean", "x"), "'tag.in' is not a valid rule name"),
        (lambda: NameSpec("2x", "number", "x"), "'2x' is not a valid rule name"),
        (lambda: NameSpec("x", "money", "x"), "type 'money' is not one of number"),  # type: ignore[arg-type]
        (lambda: Param("in", "number"), "parameter name 'in' is not a plain identifier"),
        (
            lambda: FunctionSpec(
                "f", (Param("a", "number"), Param("a", "string")), "boolean", "", _noop
            ),
            "a parameter name is repeated",
        ),
        (
            lambda: Catalogue.of([NameSpec("a.b", "number", "x"), NameSpec("a__b", "number", "")]),
            "both map to column a__b",
        ),
        (
            lambda: Catalogue.of(NAMES, [FunctionSpec("vip", (), "boolean", "", _noop)]),
            "the function vip clashes with a name",
        ),
        (
            lambda: CATALOGUE.merge(Catalogue.of([NameSpec("tier", "number", "Tier number")])),
            "the name tier is registered twice, differently",
        ),
    ],
    ids=["keyword part", "digit first", "type", "param", "repeated param", "column", "fn", "merge"],
)
def test_bad_catalogue_entries_are_refused(build: object, phrase: str) -> None:
    """Names, parameters and catalogues the grammar could not read back fail at start-up."""
    with pytest.raises(RuleError) as caught:
        build()  # type: ignore[operator]
    assert caught.value.code == RuleCode.BAD_CATALOGUE
    assert phrase in str(caught.value)
    assert (caught.value.line, caught.value.column) == (None, None)


def test_member_table_without_the_column_is_bad_catalogue() -> None:
    """Compiling against a table that lacks a name's column points at the name."""
    table = ibis.memtable({"member_id": ["a"], "spend_365d": [1.0]})
    with pytest.raises(RuleError) as caught:
        compile_rule("spend_365d > 1 and\n  vip", CATALOGUE, table)
    error = caught.value
    assert (error.code, error.line, error.column) == (RuleCode.BAD_CATALOGUE, 2, 3)
    assert "the member table has no column 'vip' for the name vip" in str(error)


def test_member_table_column_of_the_wrong_type_is_bad_catalogue() -> None:
    """A column whose type disagrees with the catalogue is refused before any SQL runs."""
    table = ibis.memtable({"member_id": ["a"], "tier": [3]})
    with pytest.raises(RuleError) as caught:
        compile_rule("tier = 'gold'", CATALOGUE, table)
    assert caught.value.code == RuleCode.BAD_CATALOGUE
    assert "column 'tier' is int64 but the catalogue says string" in str(caught.value)


def test_every_rule_code_is_covered_here() -> None:
    """A new RuleCode needs a known-answer test in this file."""
    tested = {case[1] for case in CASES} | {
        RuleCode.TOO_DEEP,
        RuleCode.TOO_LONG,
        RuleCode.CYCLE,
        RuleCode.BAD_CATALOGUE,
    }
    assert tested == set(RuleCode)
