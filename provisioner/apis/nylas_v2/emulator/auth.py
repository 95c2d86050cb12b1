"""Who may do what, per the API notes.

- ``Authorization: Bearer <token>``, or ``Basic base64("<token>:")`` as the v2 API also took (the
  Node SDK sends every call so): the token is the user name and [choice] the password is ignored.
  Anything else counts as no token. Rate limits key on the token either way.
- Create: the tokens travel in the body (the header is optional and ignored).
- List: with an access token, the account's pages; [choice] with a page's edit token, that page alone
  (the Schedule Editor, given only an edit token, finds its page so), and 404 once it is deleted.
- Page-scoped calls: the bearer is the page's edit token or one of the page's access tokens.
  No or unknown token: 401. Unknown page id: 404. A known token that does not grant this page
  (another page's edit token, an account not on the page): 403.

Decisions are pure functions of a `Principal` and the page's account ids; the store resolves tokens.
Error messages never contain a token.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

from provisioner.apis.nylas_v2.emulator.store import Principal


class Denied(Exception):
    """An authorisation failure: HTTP `status` and a message free of secrets."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# (status, message) of each refusal; raise as ``Denied(*UNKNOWN)``.
MISSING = (401, "Missing or malformed Authorization header: expected 'Bearer <token>' or "
                "'Basic <base64 of token:>'")
UNKNOWN = (401, "Unknown or expired token")
NOT_THIS_PAGE = (403, "This token does not grant access to this page")
NO_PAGE = (404, "No page with this id")
PAGE_DELETED = (404, "The page of this edit token was deleted")


def request_token(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization`` header, ``Bearer <token>`` or ``Basic base64(<token>:)``; or None."""
    value = headers.get("authorization", "")
    scheme, _, credential = value.strip().partition(" ")
    credential = credential.strip()
    if not credential:
        return None
    if scheme.lower() == "bearer":
        return credential
    if scheme.lower() != "basic":
        return None
    try:  # Ruby's Base64.encode64 wraps lines: whitespace inside is ignored
        decoded = base64.b64decode("".join(credential.split()), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    user = decoded.partition(":")[0]
    return user if user.strip() else None


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
