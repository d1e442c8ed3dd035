"""Split an audience into calls SES accepts: ≤ 50 recipients per message, ≤ 50 bulk entries.

Pure and lazy: each helper takes any iterable and yields tuples, so a large audience is read
once and never held in full.

```python
>>> from seskit import Email, batching
>>> audience = [f"user{i}@example.com" for i in range(120)]
>>> emails = list(
...     batching.emails_per_batch(
...         audience,
...         lambda batch: Email(sender="news@example.com", bcc=batch, subject="News", text="..."),
...     )
... )
>>> [len(email.bcc) for email in emails]
[50, 50, 20]

```
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import TypeVar

from seskit import rules
from seskit.message import Address, AddressInput, BulkEntry, Email, _address

__all__ = ["batched", "emails_per_batch", "entry_batches", "recipient_batches"]

T = TypeVar("T")


def batched(items: Iterable[T], size: int) -> Iterator[tuple[T, ...]]:
    """Consecutive tuples of ``size`` items (the last may be shorter); never an empty tuple."""
    if size < 1:
        raise ValueError(f"size must be at least 1, got {size}")
    iterator = iter(items)
    while batch := tuple(islice(iterator, size)):
        yield batch


def recipient_batches(
    audience: Iterable[AddressInput],
    *,
    size: int = rules.MAX_RECIPIENTS,
    field: str = "audience",
) -> Iterator[tuple[Address, ...]]:
    """The audience as `Address` tuples of at most ``size`` (≤ 50) each.

    Each address is parsed and checked as it is read; an invalid one raises `AddressError` with
    ``field`` naming its position (``audience[7]``).
    """
    if not 1 <= size <= rules.MAX_RECIPIENTS:
        raise ValueError(f"size must be 1-{rules.MAX_RECIPIENTS}, got {size}")
    addresses = (_address(item, f"{field}[{index}]") for index, item in enumerate(audience))
    return batched(addresses, size)


def emails_per_batch(
    audience: Iterable[AddressInput],
    build: Callable[[tuple[Address, ...]], Email],
    *,
    size: int = rules.MAX_RECIPIENTS,
) -> Iterator[Email]:
    """One `Email` per batch of the audience, made by ``build(batch)``.

    ``build`` decides where the batch goes (usually ``bcc=batch``, or ``to=batch``) and may add
    fixed recipients; lower ``size`` so the total stays ≤ 50.
    """
    for batch in recipient_batches(audience, size=size):
        yield build(batch)


def entry_batches(
    entries: Iterable[BulkEntry], *, size: int = rules.MAX_BULK_ENTRIES
) -> Iterator[tuple[BulkEntry, ...]]:
    """Bulk entries in tuples of at most ``size`` (≤ 50), one tuple per bulk call."""
    if not 1 <= size <= rules.MAX_BULK_ENTRIES:
        raise ValueError(f"size must be 1-{rules.MAX_BULK_ENTRIES}, got {size}")
    return batched(entries, size)
