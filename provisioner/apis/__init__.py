"""API packages: one per Scheduler API; the engine reaches them only through this interface.

`get_api("nylas-v2" | "nylas-v3")` returns the package's `Api` (imported lazily: `validate` of a v2
tree never imports the v3 package). The interface itself is `provisioner.apis.base`.
"""

from __future__ import annotations

from importlib import import_module

from .base import V2, V3, Api, ClientOptions, Handle, Lifecycle, LivePage, Owner, Pages, SlotView

API_NAMES = (V2, V3)
_PACKAGES = {V2: "provisioner.apis.nylas_v2.api", V3: "provisioner.apis.nylas_v3.api"}


def get_api(name: str = V2) -> Api:
    """The API named ``name`` (ValueError for an unknown one; `project` checks names first)."""
    if name not in _PACKAGES:
        raise ValueError(f"unknown API {name!r}: use one of {', '.join(API_NAMES)}")
    api: Api = import_module(_PACKAGES[name]).API
    return api


__all__ = ["API_NAMES", "V2", "V3", "Api", "ClientOptions", "Handle", "Lifecycle", "LivePage", "Owner", "Pages",
           "SlotView", "get_api"]
