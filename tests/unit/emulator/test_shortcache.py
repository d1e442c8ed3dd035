"""The bounded cache of answers for short strings shared by the send path's pure checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator._shortcache import short_string_cache


def _counting(func: Callable[[str], str]) -> tuple[Callable[[str], str], list[str]]:
    seen: list[str] = []

    def counted(text: str) -> str:
        seen.append(text)
        return func(text)

    return counted, seen


def test_short_argument_is_answered_once_then_from_the_cache() -> None:
    upper, seen = _counting(str.upper)
    cached = short_string_cache(upper, maxsize=4, max_length=5)
    assert [cached("ab"), cached("ab"), cached("ab")] == ["AB", "AB", "AB"]
    assert seen == ["ab"]
    assert cached.cache_info() == (4, 1)


def test_argument_at_the_length_limit_is_cached_and_one_over_is_not() -> None:
    upper, seen = _counting(str.upper)
    cached = short_string_cache(upper, maxsize=4, max_length=5)
    for _ in range(2):
        assert cached("abcde") == "ABCDE"
        assert cached("abcdef") == "ABCDEF"
    assert seen == ["abcde", "abcdef", "abcdef"]
    assert cached.cache_info().currsize == 1


def test_cache_holds_at_most_maxsize_answers_and_starts_again_when_full() -> None:
    upper, seen = _counting(str.upper)
    cached = short_string_cache(upper, maxsize=2, max_length=5)
    cached("a")
    cached("b")
    assert cached.cache_info().currsize == 2
    assert cached("c") == "C"  # full: emptied, then "c" goes in
    assert cached.cache_info().currsize == 1
    seen.clear()
    assert [cached("c"), cached("a"), cached("c")] == ["C", "A", "C"]
    assert seen == ["a"]  # "c" was kept after the cache was emptied
    assert cached.cache_info().currsize == 2


def test_answers_of_several_arguments_are_bounded_too() -> None:
    cached = short_string_cache(lambda a, b: a + b, maxsize=3, max_length=2)
    for i in range(10):
        assert cached(str(i), "x") == f"{i}x"
        assert cached.cache_info().currsize <= 3


def test_any_long_argument_of_several_keeps_the_call_out_of_the_cache() -> None:
    calls: list[tuple[str, str, str]] = []

    def joined(a: str, b: str, c: str) -> str:
        calls.append((a, b, c))
        return "/".join((a, b, c))

    cached = short_string_cache(joined, maxsize=8, max_length=3)
    for args in [("abc", "d", "e"), ("abcd", "d", "e"), ("a", "bcde", "e"), ("a", "b", "cdef")]:
        assert cached(*args) == joined(*args)
        assert cached(*args) == "/".join(args)
    assert cached.cache_info().currsize == 1
    assert calls.count(("abc", "d", "e")) == 2  # one through the cache, one called directly
    assert calls.count(("abcd", "d", "e")) == 3


def test_two_argument_function_is_gated_on_each_argument() -> None:
    cached = short_string_cache(lambda a, b: a + b, maxsize=8, max_length=2)
    assert cached("ab", "cd") == "abcd"
    assert cached("abc", "d") == "abcd"
    assert cached("a", "bcd") == "abcd"
    assert cached.cache_info().currsize == 1


@given(st.text(max_size=8), st.text(max_size=8))
def test_answers_equal_the_wrapped_function(a: str, b: str) -> None:
    def pair(x: str, y: str) -> tuple[str, int]:
        return x.casefold() + y, len(x) - len(y)

    cached = short_string_cache(pair, maxsize=16, max_length=4)
    assert cached(a, b) == pair(a, b)
    assert cached(a, b) == pair(a, b)


def test_exception_propagates_as_raised_and_is_not_cached() -> None:
    calls: list[str] = []

    def strict(text: str) -> int:
        calls.append(text)
        return int(text)

    cached = short_string_cache(strict, maxsize=4, max_length=10)
    for text in ["x", "x", "y" * 11]:
        with pytest.raises(ValueError, match="invalid literal for int") as raised:
            cached(text)
        assert raised.value.__context__ is None  # no KeyError from the cache lookup chained
    assert calls == ["x", "x", "y" * 11]
    assert cached.cache_info().currsize == 0
    assert cached("12") == 12


def test_exception_of_a_several_argument_function_is_not_cached() -> None:
    calls: list[tuple[str, ...]] = []

    def strict2(a: str, b: str) -> int:
        calls.append((a, b))
        return int(a + b)

    def strict3(a: str, b: str, c: str) -> int:
        calls.append((a, b, c))
        return int(a + b + c)

    two = short_string_cache(strict2, maxsize=4, max_length=10)
    three = short_string_cache(strict3, maxsize=4, max_length=10)
    for _ in range(2):
        with pytest.raises(ValueError, match="invalid literal for int") as raised:
            two("1", "x")
        assert raised.value.__context__ is None
        with pytest.raises(ValueError, match="invalid literal for int") as raised:
            three("1", "x", "2")
        assert raised.value.__context__ is None
    assert calls == [("1", "x"), ("1", "x", "2")] * 2
    assert two.cache_info().currsize == three.cache_info().currsize == 0


def test_wrapper_keeps_the_functions_name_and_the_uncached_function() -> None:
    cached = short_string_cache(str.upper, maxsize=1, max_length=1)
    assert cached.__wrapped__ is str.upper
    assert cached.__name__ == "upper"
    cached("a")
    cached.cache_clear()
    assert cached.cache_info().currsize == 0


@pytest.mark.parametrize(
    ("maxsize", "max_length", "message"),
    [
        (0, 5, r"maxsize: a short-string cache holds at least 1 answer \(got 0\)"),
        (4, -1, r"max_length: a length limit cannot be negative \(got -1\)"),
    ],
)
def test_unusable_bounds_are_rejected(maxsize: int, max_length: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        short_string_cache(str.upper, maxsize=maxsize, max_length=max_length)


def test_function_of_no_fixed_string_arguments_is_rejected() -> None:
    def optional(a: str, b: str = "") -> str:
        return a + b

    def four(a: str, b: str, c: str, d: str) -> str:
        return a + b + c + d

    # The overloads reject these for mypy already; this is the guard for untyped callers.
    for func in (optional, four, lambda *parts: "".join(parts)):
        with pytest.raises(TypeError, match="1 to 3 required positional arguments"):
            short_string_cache(cast(Any, func), maxsize=4, max_length=4)
