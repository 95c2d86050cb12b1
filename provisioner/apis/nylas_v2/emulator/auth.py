"""Who may do what, per the API notes.

- ``Authorization: Bearer <token>``; anything else counts as no token.
- Create: the tokens travel in the body (the header is optional and ignored).
- List: the bearer is an access token (an account); a page's edit token is refused (403).
- Page-scoped calls: the bearer is the page's edit token or one of the page's access tokens.
  No or unknown token: 401. Unknown page id: 404. A known token that does not grant this page
  (another page's edit token, an account not on the page): 403.

Decisions are pure functions of a `Principal` and the page's account ids; the store resolves tokens.
Error messages never contain a token.
"""

from __future__ import annotations

from collections.abc import Mapping

from provisioner.apis.nylas_v2.emulator.store import Principal


class Denied(Exception):
    """An authorisation failure: HTTP `status` and a message free of secrets."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# (status, message) of each refusal; raise as ``Denied(*UNKNOWN)``.
MISSING = (401, "Missing or malformed Authorization header: expected 'Bearer <token>'")
UNKNOWN = (401, "Unknown or expired token")
NOT_THIS_PAGE = (403, "This token does not grant access to this page")
NOT_AN_ACCOUNT = (403, "A page's edit token cannot list pages: use an account's access token")
NO_PAGE = (404, "No page with this id")


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def check_page_access(principal: Principal | None, page_id: int, page_accounts: list[str] | None) -> None:
    """Raise `Denied` unless `principal` may read, update or delete page `page_id`.

    `page_accounts` is the page's account ids, or None when the page does not exist.
    """
    if principal is None:
        raise Denied(*UNKNOWN)
    if page_accounts is None:
        raise Denied(*NO_PAGE)
    if principal.page_id is not None:
        if principal.page_id != page_id:
            raise Denied(*NOT_THIS_PAGE)
        return
    if principal.account_id not in page_accounts:
        raise Denied(*NOT_THIS_PAGE)


def check_list_access(principal: Principal | None) -> None:
    """Raise `Denied` unless `principal` may list pages (unknown tokens are vetted by the caller)."""
    if principal is not None and principal.page_id is not None:
        raise Denied(*NOT_AN_ACCOUNT)
