"""State behind one interface: the base types, and the file backend (``pages.lock``)."""

from .base import STATE_VERSION, Holder, Resource, State, StateBackend, Transaction
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
