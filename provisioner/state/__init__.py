"""State behind one interface: the base types, and the file backend (``pages.lock``).

Importing this package loads only the interface (`base`): the core (`plan`) needs the types, not a
backend. `LockfileBackend` and `current_holder` load on first use, since they pull in cryptography
and file locking.
"""

from typing import TYPE_CHECKING, Any

from .base import STATE_VERSION, Holder, Resource, State, StateBackend, Transaction

if TYPE_CHECKING:
    from .lock import current_holder
    from .lockfile import LockfileBackend

__all__ = [
    "STATE_VERSION",
    "Holder",
    "LockfileBackend",
    "Resource",
    "State",
    "StateBackend",
    "Transaction",
    "current_holder",
]


def __getattr__(name: str) -> Any:
    if name == "LockfileBackend":
        from .lockfile import LockfileBackend

        return LockfileBackend
    if name == "current_holder":
        from .lock import current_holder

        return current_holder
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
