"""Secrets: ``${VAR}`` interpolation and which variables it may read, sealing edit tokens at rest,
and keyed token digests.

**The interpolation rule.** ``access_tokens`` hold exactly one ``${VAR}`` per token and may read any
variable. Every other value of a page may read a variable only if it is not a secret (see
`VariablePolicy`): a variable is secret when some page's ``access_tokens`` reads it, when it is one of
provisioner's own (``PROVISIONER_*``: sealing keys, state DSNs), when its name says so (``TOKEN``,
``SECRET``, ``PASSWORD``, ``KEY``, ``DSN``, ... as a word), or when its value is the value of a secret
variable (a copy under another name, e.g. a target variable set to ``${PROVISIONER_LOCK_KEY}``). Such
a reference is an error naming the variable, never its value, so that no secret of the CI
environment ends up in a plan, a pull-request comment or a page's public text. A default cannot hold
another reference: ``${A:-${B}}`` is an error, never literal text sent to the API.

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

# Linear: the name is one character class, the default excludes `}` and any `${` (no nesting).
_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-((?:[^}$]|\$(?!\{))*))?\}")
_NESTED = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:-(?:[^}$]|\$(?!\{))*\$\{")


class InterpolationError(ValueError):
    """A ``${VAR}`` that cannot be resolved or is malformed; the message names the variable only."""


def is_reference(text: str) -> bool:
    """True when ``text`` is exactly one ``${VAR}`` or ``${VAR:-default}`` reference."""
    return _REF.fullmatch(text.strip()) is not None


def references(text: str) -> list[str]:
    """The names of the variables ``text`` refers to, in order (an escaped ``$${`` refers to none)."""
    return [match.group(1) for part in text.split(ESCAPED) for match in _REF.finditer(part)]


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Replace every ``${VAR}`` / ``${VAR:-default}`` in ``text`` from ``env``; ``$${`` is a literal ``${``.

    An unset variable without a default, a default holding another reference and a ``$`` reference
    that is not well formed raise `InterpolationError`. An empty variable counts as set (shell
    ``${VAR:-}`` semantics aside, an empty token is then rejected by validation).
    """
    if ESCAPED in text:  # `$${` is a literal `${`: split on it, interpolate the rest (see `escape`)
        return "${".join(interpolate(part, env) for part in text.split(ESCAPED))
    if _NESTED.search(text):
        raise InterpolationError("a default cannot hold another reference: write ${VAR:-text}, "
                                 "or give the value in one variable")

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


# --- which variables hold secrets ----------------------------------------------------------------

# A name is secret when one of these is a word of it (TOKEN also inside a word: GHTOKEN, APITOKEN).
_SECRET_NAME = re.compile(
    r"TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|PRIVATE"
    r"|(?:^|_)(?:KEY|KEYS|APIKEY|DSN|AUTH|PWD|PAT|COOKIE|CERT)(?:_|$)",
    re.IGNORECASE,
)
_OWN_PREFIX = "PROVISIONER_"
_MIN_SECRET = 8  # shorter values are too common to tell a copy from a coincidence


class VariablePolicy:
    """Which environment variables the non-secret values of pages may read (module docstring).

    ``token_variables`` are the variables read by any page's ``access_tokens``; ``secret_names``
    adds variables known to hold secrets under any name (a target's lock-key and DSN variables).
    """

    def __init__(self, env: Mapping[str, str], token_variables: Iterable[str] = (),
                 secret_names: Iterable[str] = ()):
        self._tokens = frozenset(token_variables)
        self._named = frozenset(secret_names)
        self._secret_values: dict[str, str] = {}  # value -> a secret variable holding it
        for name, value in env.items():
            if len(value) >= _MIN_SECRET and self._by_name(name):
                self._secret_values.setdefault(value, name)
        self._env = env

    def _by_name(self, name: str) -> str | None:
        if name in self._tokens:
            return "it holds an access token (a page's access_tokens reads it)"
        if name in self._named or name.startswith(_OWN_PREFIX):
            return "it is one of provisioner's own settings (sealing key, state DSN, ...)"
        if _SECRET_NAME.search(name):
            return "its name marks it as a secret"
        return None

    def refusal(self, name: str) -> str | None:
        """Why a non-secret value may not read ``name``, or None when it may."""
        reason = self._by_name(name)
        if reason:
            return reason
        holder = self._secret_values.get(self._env.get(name, ""))
        return f"its value is that of the secret variable {holder}" if holder else None
ESCAPED = "$${"


def escape(text: str) -> str:
    """``text`` written so that `interpolate` gives it back unchanged: every ``${`` as ``$${``
    (how `pull` keeps a live page's text from ever being interpolated)."""
    return text.replace("${", ESCAPED)


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
