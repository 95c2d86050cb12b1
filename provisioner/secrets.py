"""Secrets: ``${VAR}`` interpolation, sealing edit tokens at rest, and keyed token digests.

Sealing uses Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) with a key from
``PROVISIONER_LOCK_KEY``; against the embedded emulator a key is generated once under
``.provisioner/``. Tokens live in `SecretStr` everywhere else, so nothing here returns a bare token
except `Sealer.unseal` into a `SecretStr`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr

from .errors import StateError

if TYPE_CHECKING:  # imported when sealing: `validate` and `--help` need no cryptography
    from cryptography.fernet import Fernet

KEY_ENV = "PROVISIONER_LOCK_KEY"

_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class InterpolationError(ValueError):
    """A ``${VAR}`` that cannot be resolved or is malformed; the message names the variable only."""


def is_reference(text: str) -> bool:
    """True when ``text`` is exactly one ``${VAR}`` or ``${VAR:-default}`` reference."""
    return _REF.fullmatch(text.strip()) is not None


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Replace every ``${VAR}`` / ``${VAR:-default}`` in ``text`` from ``env``.

    An unset variable without a default, and a ``$`` reference that is not well formed, raise
    `InterpolationError`. An empty variable counts as set (shell ``${VAR:-}`` semantics aside, an
    empty token is then rejected by validation).
    """

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = env.get(name)
        if value is None or (value == "" and default is not None):
            if default is None:
                raise InterpolationError(f"environment variable {name} is not set")
            return default
        return value

    result = _REF.sub(replace, text)
    if "${" in _REF.sub("", text):
        raise InterpolationError("malformed reference: write ${VAR} or ${VAR:-default}")
    return result


# --- sealing -------------------------------------------------------------------------------------


def keygen() -> str:
    """A new random key for ``PROVISIONER_LOCK_KEY``."""
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


class Sealer:
    """Seals and unseals tokens with one key; also makes keyed digests of access tokens.

    Sealing is randomised, so a sealer remembers the sealed form of each token it sealed or
    unsealed and seals that token to the same form again: an unchanged token keeps its bytes at
    rest (the same state is the same lockfile, and a state moved between backends keeps its
    sealed forms), and is decrypted once. Backends that share a sealer share that memory, which
    holds tokens only as long as the sealer lives.
    """

    def __init__(self, key: str):
        from cryptography.fernet import Fernet

        try:
            self._fernet: Fernet = Fernet(key.encode())
        except (ValueError, TypeError):
            raise StateError(
                f"{KEY_ENV} is not a valid key; make one with `provisioner keygen`"
            ) from None
        self._mac_key = hashlib.sha256(b"provisioner-digest:" + base64.urlsafe_b64decode(key)).digest()
        self._sealed: dict[str, str] = {}  # clear token -> its sealed form
        self._clear: dict[str, SecretStr] = {}  # sealed form -> token

    def seal(self, token: SecretStr) -> str:
        sealed = self._sealed.get(token.get_secret_value())
        if sealed is None:
            sealed = self._fernet.encrypt(token.get_secret_value().encode()).decode()
            self._remember(token, sealed)
        return sealed

    def unseal(self, sealed: str, *, what: str = "an edit token") -> SecretStr:
        token = self._clear.get(sealed)
        if token is None:
            from cryptography.fernet import InvalidToken

            try:
                token = SecretStr(self._fernet.decrypt(sealed.encode()).decode())
            except (InvalidToken, ValueError):
                raise StateError(
                    f"cannot unseal {what}: the lockfile was sealed with another {KEY_ENV}, or edited by hand"
                ) from None
            self._remember(token, sealed)
        return token

    def _remember(self, token: SecretStr, sealed: str) -> None:
        self._sealed[token.get_secret_value()] = sealed
        self._clear[sealed] = token

    def digest(self, tokens: Iterable[SecretStr]) -> str:
        """A keyed digest of a list of access tokens: detects a change without storing them."""
        mac = hmac.new(self._mac_key, digestmod=hashlib.sha256)
        for token in tokens:
            mac.update(hashlib.sha256(token.get_secret_value().encode()).digest())
        return mac.hexdigest()[:32]


def load_key(env: Mapping[str, str], local_key_file: Path | None, key_env: str = KEY_ENV) -> str:
    """The sealing key from ``key_env``, else (embedded emulator only) a key kept in
    ``local_key_file``, generated on first use with mode 0600."""
    key = env.get(key_env)
    if key:
        return key
    if local_key_file is None:
        raise StateError(f"{key_env} is not set; make a key with `provisioner keygen` and keep it secret")
    if local_key_file.exists():
        return local_key_file.read_text().strip()
    local_key_file.parent.mkdir(parents=True, exist_ok=True)
    key = keygen()
    fd = os.open(local_key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key
