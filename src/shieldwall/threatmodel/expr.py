"""The condition language of threat rules: a small, typed, side-effect-free subset of Python
expression syntax, compiled to closures. Nothing is ever passed to ``eval``.

A condition is read with :mod:`ast` and only these forms are accepted:

- attribute names of the element the rule applies to (``encrypted``, ``data_classes``), and
  one level into a related element (``source.trust``, ``target.type``, ``component.exposure``);
- literals: strings, whole numbers, ``true``/``false`` (or ``True``/``False``), lists of them;
- ``and``, ``or``, ``not``; comparisons ``== != < <= > >=``; ``in`` and ``not in``;
- the functions ``any_of(list, [...])`` (the lists share a value), ``all_of(list, [...])``
  (the first holds every value of the second), ``none_of(list, [...])`` and ``count(list)``.

Every name is checked against the element's attributes when the rule is loaded, and a word
compared with an enumerated attribute must be one of its values, so a typo fails loading
with the rule's file and line instead of silently never matching. Levels (``low`` to
``critical``) compare by rank: ``max_confidentiality >= 'high'``.
"""

from __future__ import annotations

import ast
import difflib
import functools
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shieldwall.threatmodel.vocabulary import Level

Facts = Mapping[str, Any]
Evaluator = Callable[[Facts], Any]

MAX_LENGTH = 2000


@dataclass(frozen=True)
class AttrType:
    """The type of an attribute: ``bool``, ``int``, ``str``, ``level``, ``list`` or ``node``
    (a related element, whose attributes are ``fields``). ``values`` are the allowed words of
    an enumerated ``str`` or the items of a ``list``."""

    kind: str
    values: frozenset[str] | None = None
    fields: Mapping[str, AttrType] | None = None


BOOL = AttrType("bool")
INT = AttrType("int")
TEXT = AttrType("str")
LEVEL = AttrType("level")
LITERAL_LIST = AttrType("list")


def enum(values: object) -> AttrType:
    return AttrType("str", frozenset(str(v) for v in values))  # type: ignore[attr-defined]


def list_of(values: object | None = None) -> AttrType:
    words = None if values is None else frozenset(str(v) for v in values)  # type: ignore[attr-defined]
    return AttrType("list", words)


def node(fields: Mapping[str, AttrType]) -> AttrType:
    return AttrType("node", fields=fields)


class ExpressionError(ValueError):
    """A condition that does not parse or does not fit the element's attributes."""


@dataclass(frozen=True)
class _Compiled:
    run: Evaluator
    type: AttrType
    constant: Any = None
    is_constant: bool = False


_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_ORDERED = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)
_FUNCTIONS = {"any_of", "all_of", "none_of", "count"}
_BOOL_WORDS = {"true": True, "false": False, "True": True, "False": False}


def compile_condition(text: str, schema: Mapping[str, AttrType]) -> Evaluator:
    """Compile ``text`` for elements with the attributes ``schema``; raise ExpressionError."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"condition is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"condition does not parse: {exc.msg}") from None
    compiled = _Compiler(schema).visit(tree.body)
    run = compiled.run
    return lambda facts: bool(run(facts))


def attribute_type(path: str, schema: Mapping[str, AttrType]) -> AttrType:
    """The type of ``name`` or ``name.field`` (for message templates); ExpressionError if
    there is no such attribute."""
    name, _, field = path.partition(".")
    kind = _lookup(name, schema)
    if not field:
        return kind
    if kind.fields is None:
        raise ExpressionError(f"{name!r} has no attributes (it is a {kind.kind})")
    return _lookup(field, kind.fields, f"{name}.")


def _lookup(name: str, schema: Mapping[str, AttrType], prefix: str = "") -> AttrType:
    if name in schema:
        return schema[name]
    close = difflib.get_close_matches(name, list(schema), n=1)
    hint = f" (did you mean {prefix}{close[0]!r}?)" if close else ""
    raise ExpressionError(f"unknown attribute {prefix}{name!r}{hint}")


class _Compiler:
    def __init__(self, schema: Mapping[str, AttrType]) -> None:
        self.schema = schema

    def visit(self, node: ast.expr) -> _Compiled:
        if isinstance(node, ast.BoolOp):
            return self._bool_op(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self.visit(node.operand).run
            return _Compiled(lambda f: not inner(f), BOOL)
        if isinstance(node, ast.Compare):
            return self._compare(node)
        if isinstance(node, ast.Name):
            return self._name(node.id)
        if isinstance(node, ast.Attribute):
            return self._attribute(node)
        if isinstance(node, ast.Constant):
            return self._constant(node.value)
        if isinstance(node, ast.List | ast.Tuple):
            items = [self.visit(item) for item in node.elts]
            if not all(item.is_constant for item in items):
                raise ExpressionError("a list may hold only literal values")
            value = tuple(item.constant for item in items)
            return _Compiled(lambda f: value, LITERAL_LIST, value, True)
        if isinstance(node, ast.Call):
            return self._call(node)
        raise ExpressionError(f"{type(node).__name__} is not allowed in a condition")

    def _bool_op(self, node: ast.BoolOp) -> _Compiled:
        parts = [self.visit(value).run for value in node.values]
        # Nested two-way closures: no generator per evaluation (rules run ~10^5 times).
        join = _both if isinstance(node.op, ast.And) else _either
        return _Compiled(functools.reduce(join, parts), BOOL)

    def _constant(self, value: object) -> _Compiled:
        if isinstance(value, bool):
            return _Compiled(lambda f: value, BOOL, value, True)
        if isinstance(value, int):
            return _Compiled(lambda f: value, INT, value, True)
        if isinstance(value, str):
            return _Compiled(lambda f: value, TEXT, value, True)
        raise ExpressionError(f"literal {value!r} is not allowed (strings, numbers, true/false)")

    def _name(self, name: str) -> _Compiled:
        if name in _BOOL_WORDS and name not in self.schema:
            return self._constant(_BOOL_WORDS[name])
        kind = _lookup(name, self.schema)
        return _Compiled(lambda f: f[name], kind)

    def _attribute(self, node: ast.Attribute) -> _Compiled:
        if not isinstance(node.value, ast.Name):
            raise ExpressionError("only one level of attributes is allowed (source.trust)")
        parent = node.value.id
        kind = attribute_type(f"{parent}.{node.attr}", self.schema)
        field = node.attr
        # A related element may be missing (an entry point's component is always there, but
        # a flow to an actor has no component-only facts): a missing value is None.
        return _Compiled(lambda f: (f[parent] or {}).get(field), kind)

    def _call(self, node: ast.Call) -> _Compiled:
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
            raise ExpressionError(
                f"unknown function; the functions are {', '.join(sorted(_FUNCTIONS))}"
            )
        if node.keywords:
            raise ExpressionError(f"{node.func.id}() takes no keyword arguments")
        name = node.func.id
        args = [self.visit(arg) for arg in node.args]
        if name == "count":
            if len(args) != 1 or args[0].type.kind != "list":
                raise ExpressionError("count() takes one list attribute")
            first = args[0].run
            return _Compiled(lambda f: len(first(f) or ()), INT)
        if len(args) != 2 or args[0].type.kind != "list" or args[1].type.kind != "list":
            raise ExpressionError(f"{name}() takes a list attribute and a list of values")
        _check_words(args[0].type, args[1].constant if args[1].is_constant else ())
        left, right = args[0].run, args[1].run
        if name == "any_of":
            return _Compiled(lambda f: not set(left(f) or ()).isdisjoint(right(f)), BOOL)
        if name == "none_of":
            return _Compiled(lambda f: set(left(f) or ()).isdisjoint(right(f)), BOOL)
        return _Compiled(lambda f: set(right(f)) <= set(left(f) or ()), BOOL)

    def _compare(self, node: ast.Compare) -> _Compiled:
        if len(node.ops) != 1:
            raise ExpressionError("chained comparisons are not allowed; use `and`")
        op = type(node.ops[0])
        left, right = self.visit(node.left), self.visit(node.comparators[0])
        if op in (ast.In, ast.NotIn):
            left, right = self._membership(left, right)
        else:
            left, right = self._same_kind(left, right, ordered=op in _ORDERED)
        test, lrun, rrun = _COMPARE[op], left.run, right.run
        if op in _ORDERED:
            # None (a related element that lacks the attribute) never orders.
            def ordered(f: Facts) -> bool:
                a, b = lrun(f), rrun(f)
                return a is not None and b is not None and test(a, b)

            return _Compiled(ordered, BOOL)
        return _Compiled(lambda f: test(lrun(f), rrun(f)), BOOL)

    def _membership(self, item: _Compiled, container: _Compiled) -> tuple[_Compiled, _Compiled]:
        if container.type.kind != "list":
            raise ExpressionError("`in` needs a list on its right")
        if item.is_constant:
            _check_words(container.type, (item.constant,))
        elif container.is_constant:
            _check_words(item.type, container.constant)
            if item.type.kind == "level":
                ranks = tuple(_level(word) for word in container.constant)
                return item, _Compiled(lambda f: ranks, LITERAL_LIST, ranks, True)
        return item, container

    def _same_kind(
        self, left: _Compiled, right: _Compiled, ordered: bool
    ) -> tuple[_Compiled, _Compiled]:
        for a, b in ((left, right), (right, left)):
            if a.type.kind == "level" and b.is_constant:
                ranked = _ranked(b.constant)
                return (a, ranked) if a is left else (ranked, a)
            if b.is_constant and a.type.kind == "str":
                _check_words(a.type, (b.constant,))
        if ordered and not {left.type.kind, right.type.kind} <= {"int", "level"}:
            raise ExpressionError("< <= > >= compare numbers or levels only")
        return left, right


def _both(a: Evaluator, b: Evaluator) -> Evaluator:
    return lambda f: a(f) and b(f)


def _either(a: Evaluator, b: Evaluator) -> Evaluator:
    return lambda f: a(f) or b(f)


def _ranked(word: object) -> _Compiled:
    rank = _level(word)
    return _Compiled(lambda f: rank, LEVEL, rank, True)


def _level(word: object) -> int:
    try:
        return int(Level[str(word).upper()])
    except KeyError:
        words = ", ".join(level.word for level in Level)
        raise ExpressionError(f"{word!r} is not a level ({words})") from None


def _check_words(kind: AttrType, words: object) -> None:
    if kind.values is None or not isinstance(words, tuple | list):
        return
    for word in words:
        if str(word) not in kind.values:
            close = difflib.get_close_matches(str(word), sorted(kind.values), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ExpressionError(f"{word!r} is not a possible value here{hint}")
