"""What both APIs' list endpoints share: a paged list read to its end."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Hashable
from typing import TypeVar

T = TypeVar("T")


async def read_to_end(batches: AsyncIterator[list[T]], key: Callable[[T], Hashable]) -> list[T]:
    """Every item of ``batches``, in server order, without duplicates: an item created or deleted while
    listing shifts the later batches, so an item may come twice (the first copy is kept). The batches
    are read to their end, so the generator is left closed."""
    found: dict[Hashable, T] = {}
    async for batch in batches:
        for item in batch:
            found.setdefault(key(item), item)
    return list(found.values())
