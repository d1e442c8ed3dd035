"""Bounded caches for pure functions of short strings (internal to the emulator).

Some checks on the send path are pure functions of strings that come back call after call: the
simulator's outcome for a recipient, the bare form of ``Name <addr>``, SES's complaint about an
address or a tag, the caller of a credential scope. `short_string_cache` keeps their answers in
a bounded `functools.lru_cache`, but only when every argument is at most ``max_length``
characters, a limit each caller takes from what SES accepts. A longer string is answered by
the function itself, so no request can fill the cache with big keys.

As with `functools.lru_cache`, an exception propagates to the caller and nothing is cached for
it, and the least recently used answer makes room when the cache is full.

>>> def shout(text: str) -> str:
...     return text.upper()
>>> cached_shout = short_string_cache(shout, maxsize=2, max_length=5)
>>> cached_shout("hi"), cached_shout("hello world")
('HI', 'HELLO WORLD')
>>> cached_shout.cache_info().currsize  # "hello world" is over 5 characters: not kept
1

The module is private (a leading underscore): it is not part of the emulator's documented API.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, update_wrapper
from inspect import Parameter, signature
from typing import TYPE_CHECKING, ParamSpec, Protocol, TypeVar, cast, overload

if TYPE_CHECKING:
    from functools import _CacheInfo

__all__ = ["ShortStringCached", "short_string_cache"]

P = ParamSpec("P")
R = TypeVar("R")

# The wrappers below are written out per arity: a loop over ``*args`` costs a hot-path call
# about a quarter more than the plain ``len`` checks (timeit, CPython 3.11).
_ARITIES = (1, 2, 3)


class ShortStringCached(Protocol[P, R]):
    """A function whose answers for short string arguments are cached (`short_string_cache`)."""

    __name__: str
    __wrapped__: Callable[P, R]
    cache_info: Callable[[], _CacheInfo]
    cache_clear: Callable[[], None]

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R: ...


@overload
def short_string_cache(
    func: Callable[[str], R], *, maxsize: int, max_length: int
) -> ShortStringCached[[str], R]: ...


@overload
def short_string_cache(
    func: Callable[[str, str], R], *, maxsize: int, max_length: int
) -> ShortStringCached[[str, str], R]: ...


@overload
def short_string_cache(
    func: Callable[[str, str, str], R], *, maxsize: int, max_length: int
) -> ShortStringCached[[str, str, str], R]: ...


def short_string_cache(
    func: Callable[..., R], *, maxsize: int, max_length: int
) -> ShortStringCached[..., R]:
    """``func`` with its answers cached for arguments of at most ``max_length`` characters.

    ``func`` takes one to three strings, positionally, and its answer depends on nothing
    else. At most ``maxsize`` answers are kept (least recently used first out); a call with
    any argument longer than ``max_length`` is answered by ``func`` and not kept. The result
    has ``lru_cache``'s ``cache_info()`` and ``cache_clear()``, and ``__wrapped__`` is
    ``func``.
    """
    if maxsize < 1:
        raise ValueError(f"maxsize: a short-string cache holds at least 1 answer (got {maxsize})")
    if max_length < 0:
        raise ValueError(f"max_length: a length limit cannot be negative (got {max_length})")
    params = signature(func).parameters.values()
    positional = (Parameter.POSITIONAL_ONLY, Parameter.POSITIONAL_OR_KEYWORD)
    if len(params) not in _ARITIES or any(
        p.kind not in positional or p.default is not Parameter.empty for p in params
    ):
        raise TypeError(
            f"{func.__qualname__}: a short-string cache wraps a function of 1 to 3 required "
            f"positional arguments (got {signature(func)})"
        )
    cached = lru_cache(maxsize=maxsize)(func)
    wrapper: Callable[..., R]
    if len(params) == 1:

        def wrapper(a: str) -> R:
            if len(a) > max_length:
                return func(a)
            return cached(a)

    elif len(params) == 2:

        def wrapper(a: str, b: str) -> R:
            if len(a) > max_length or len(b) > max_length:
                return func(a, b)
            return cached(a, b)

    else:

        def wrapper(a: str, b: str, c: str) -> R:
            if len(a) > max_length or len(b) > max_length or len(c) > max_length:
                return func(a, b, c)
            return cached(a, b, c)

    result = cast(ShortStringCached[..., R], update_wrapper(wrapper, func))
    result.cache_info = cached.cache_info
    result.cache_clear = cached.cache_clear
    return result
