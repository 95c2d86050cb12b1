"""Hostile input below the corpus: patterns that run in linear time and match whole strings, the rule
on which variables a page may read, header-safe tokens, loopback-only http, DSN passwords masked.

Regex tests use strings long enough that the old patterns would run for minutes; they assert the
result, never the time.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg
import pytest
from pydantic import SecretStr, ValidationError

from provisioner.apis.nylas_v2 import model
from provisioner.apis.nylas_v2.client import SchedulerClient
from provisioner.emulator import Emulator
from provisioner.errors import ApiError, ConfigError, ProvisionerError
from provisioner.load import load_pages
from provisioner.secrets import InterpolationError, VariablePolicy, interpolate, is_reference, references
from provisioner.settings import check_api_url
from provisioner.state.migrate import is_dsn
from provisioner.state.postgres import _first_line, _hidden

# --- patterns ------------------------------------------------------------------------------------

ADVERSARIAL_EMAIL = "a@" + "a." * 100_000 + " "  # the old `[^@\s]+\.[^@\s]+$` backtracks quadratically


def test_the_email_pattern_is_linear_on_adversarial_input():
    assert model.EMAIL_RE.fullmatch(ADVERSARIAL_EMAIL) is None
    assert model.EMAIL_RE.fullmatch("a@" + "a." * 100_000 + "com") is not None  # long, but well formed
    assert model.EMAIL_RE.fullmatch("first.last+tag@mail.example.co.uk") is not None
    for bad in ("a@b", "a@b.", "a@.b", "a b@c.d", "a@b@c.d", "@b.c"):
        assert model.EMAIL_RE.fullmatch(bad) is None, bad


@pytest.mark.parametrize(("kind", "good"), [
    (model.Email, "host@example.com"), (model.Url, "https://example.com/x"), (model.HHMM, "09:00"),
    (model.HexColor, "#aabbcc"), (model.Slug, "sales-demo"),
])
def test_no_pattern_accepts_a_trailing_newline(kind: object, good: str):
    from pydantic import TypeAdapter

    adapter = TypeAdapter(kind)
    assert adapter.validate_python(good) == good
    for bad in (good + "\n", good + "\r\n", "\n" + good):
        with pytest.raises(ValidationError):
            adapter.validate_python(bad)


def test_strings_lists_and_numbers_have_limits():
    with pytest.raises(ValidationError) as info:
        model.Participant.model_validate({"email": ADVERSARIAL_EMAIL})
    assert info.value.errors()[0]["type"] == "string_too_long"
    with pytest.raises(ValidationError):
        model.PageCreate.model_validate({"access_tokens": ["t"], "name": "n" * (model.MAX_NAME + 1)})
    with pytest.raises(ValidationError):
        model.Appearance.model_validate({"thank_you_text": "x" * (model.MAX_TEXT + 1)})
    with pytest.raises(ValidationError):
        model.Event.model_validate({"participants": [{"email": "a@b.co"}] * (model.MAX_ITEMS + 1)})
    for section, data in [("booking", {"min_buffer": model.MAX_MINUTES + 1}),
                          ("booking", {"available_days_in_future": model.MAX_DAYS + 1}),
                          ("expire_after", {"date": model.MAX_UNIX + 1}),
                          ("booking", {"additional_fields": [{"name": "x", "label": "x", "type": "text",
                                                              "order": float("nan")}]})]:
        with pytest.raises(ValidationError):
            model.Config.model_validate({section: data})


def test_many_additional_fields_are_checked_for_duplicates_in_linear_time():
    fields = [{"name": f"f{i}", "label": "x", "type": "text"} for i in range(model.MAX_ITEMS)]
    assert len(model.Booking.model_validate({"additional_fields": fields}).additional_fields or []) == 1000


# --- interpolation -------------------------------------------------------------------------------


def test_a_default_holding_a_reference_is_an_error_never_literal_text():
    env = {"A": "alpha", "B": "bravo"}
    for text in ("${A:-${B}}", "${MISSING:-${B}}", "x ${A:-${B}} y", "${A:-a${B}b}"):
        with pytest.raises(InterpolationError, match="default cannot hold another reference"):
            interpolate(text, env)
    assert interpolate("${MISSING:-$5 off}", env) == "$5 off"
    assert interpolate("${A}-${MISSING:-x}", env) == "alpha-x"
    assert references("${A} and ${B:-b}") == ["A", "B"]
    assert not is_reference("${A:-${B}}")


def test_the_reference_pattern_is_linear_on_adversarial_input():
    text = "${A:-" + "$" * 50_000 + "x" * 50_000
    with pytest.raises(InterpolationError):
        interpolate(text, {})
    assert references("${" * 100_000) == []


def test_the_variable_policy_refuses_secrets_by_use_name_and_value():
    env = {"NYLAS_TOKEN_A": "tok-aaaaaaaaaa", "TEAM": "Sales", "DEPLOY_KEY": "k-123456789",
           "COPY": "k-123456789", "PROVISIONER_LOCK_KEY": "lock-key-value-123", "ROOM": "Room 1",
           "ACCOUNT": "tok-aaaaaaaaaa", "MY_DSN": "postgresql://u:p@h/d", "KEYNOTE_ROOM": "Hall"}
    policy = VariablePolicy(env, token_variables={"ALICE"})
    assert policy.refusal("TEAM") is None and policy.refusal("ROOM") is None
    assert policy.refusal("KEYNOTE_ROOM") is None  # KEY only as a word
    assert policy.refusal("UNSET_AND_PLAIN") is None
    assert "access token" in (policy.refusal("ALICE") or "")
    assert "provisioner's own" in (policy.refusal("PROVISIONER_LOCK_KEY") or "")
    assert "provisioner's own" in (policy.refusal("PROVISIONER_ANYTHING") or "")
    for name in ("NYLAS_TOKEN_A", "DEPLOY_KEY", "MY_DSN", "GITHUB_TOKEN", "DB_PASSWORD", "AWS_SECRET_ACCESS_KEY"):
        assert "name marks it" in (policy.refusal(name) or ""), name
    assert "DEPLOY_KEY" in (policy.refusal("COPY") or "")  # a copy under an innocent name
    assert "NYLAS_TOKEN_A" in (policy.refusal("ACCOUNT") or "")
    for name in ("COPY", "ACCOUNT"):  # the value itself is never part of the reason
        assert env[name] not in (policy.refusal(name) or "")


PAGE = "slug: {slug}\naccess_tokens: ['${{{token}}}']\n"


def _load(tmp_path: Path, files: dict[str, str], env: dict[str, str]) -> ConfigError:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(ConfigError) as info:
        load_pages(tmp_path, env)
    return info.value


def test_a_page_cannot_read_another_pages_token_or_provisioners_key(tmp_path: Path):
    env = {"TOKEN_ONE": "first-token-value-1", "PAGE_TWO_HOST": "second-token-value-2",
           "PROVISIONER_LOCK_KEY": "bG9jay1rZXktdmFsdWUtZm9yLXRlc3Rz"}
    error = _load(tmp_path, {
        "one.yaml": PAGE.format(slug="one", token="TOKEN_ONE") + "name: ${PAGE_TWO_HOST}\n"
                    "config:\n  event:\n    title: ${PROVISIONER_LOCK_KEY:-none}\n",
        "two.yaml": PAGE.format(slug="two", token="PAGE_TWO_HOST"),
    }, env)
    text = error.render()
    assert "one.yaml:3:1: name: ${PAGE_TWO_HOST} is a secret" in text
    assert "one.yaml:6:5: config.event.title: ${PROVISIONER_LOCK_KEY} is a secret" in text
    assert all(value not in text for value in env.values())


def test_plain_variables_still_work_everywhere(tmp_path: Path):
    (tmp_path / "one.yaml").write_text(PAGE.format(slug="one", token="TOKEN_ONE")
                                       + "name: ${TEAM} demo\nconfig:\n  event:\n    location: ${ROOM:-Hall}\n")
    pages = load_pages(tmp_path, {"TOKEN_ONE": "first-token-value-1", "TEAM": "Sales"})
    assert pages["one"].name == "Sales demo"
    assert pages["one"].config["event"]["location"] == "Hall"


@pytest.mark.parametrize(("value", "words"), [
    ("secret-token-value\n", "whitespace"), ("secret-token-value\r", "whitespace"),
    ("\tsecret-token-value", "whitespace"), ("secret-token\tvalue", "control character"),
    ("secret-t\u00f6ken-value", "non-ASCII"), ("secret-token\u2028value", "non-ASCII"),
])
def test_a_token_no_header_can_carry_is_refused_at_load_without_quoting_it(tmp_path: Path, value: str, words: str):
    error = _load(tmp_path, {"one.yaml": PAGE.format(slug="one", token="T")}, {"T": value})
    [problem] = error.problems
    assert (problem.file.endswith("one.yaml"), problem.line, problem.field) == (True, 2, "access_tokens[0]")
    assert words in problem.message
    assert "secret" not in error.render() and "value" not in error.render()


# --- foreign code never sees a bad token ---------------------------------------------------------


@pytest.mark.parametrize("token", ["edit-secret-zq7\n", "edit-secret-zq7\r\nX-Evil: 1", "edit-s\u00e9cret-zq7"])
def test_the_client_refuses_a_bad_token_before_httpx_can_quote_it(token: str):
    emulator = Emulator(":memory:")

    async def run() -> str:
        async with SchedulerClient("http://emulator.local", transport=emulator.transport()) as client:
            with pytest.raises(ApiError) as info:
                await client.get_page(1, SecretStr(token))
            return str(info.value)

    try:
        message = asyncio.run(run())
        assert "edit-s" not in message and "zq7" not in message
        assert emulator.stats()["total"] == 0  # nothing was sent
    finally:
        emulator.close()


# --- plain http only to loopback addresses -------------------------------------------------------


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "http://127.1.2.3", "http://[::1]:8080/api",
                                 "http://localhost:9000", "http://LOCALHOST", "https://api.schedule.nylas.com"])
def test_loopback_addresses_and_https_are_allowed(url: str):
    assert check_api_url(url) == url


@pytest.mark.parametrize(("url", "words"), [
    ("http://127.evil.com", "plain http"), ("http://127.0.0.1.evil.com", "plain http"),
    ("http://localhost.evil.com", "plain http"), ("http://10.0.0.1", "plain http"),
    ("http://[::ffff:8.8.8.8]", "plain http"), ("http://127.0.0.1:99999", "port"),
    ("http://127.0.0.1:0", "port"), ("https://example.com:70000", "port"),
])
def test_anything_else_is_refused(url: str, words: str):
    with pytest.raises(ProvisionerError, match=words):
        check_api_url(url)


# --- DSN passwords -------------------------------------------------------------------------------


def test_a_dsn_in_key_value_form_is_never_taken_for_a_file_name():
    assert is_dsn("host=db.internal password=hunter2 dbname=state")
    assert is_dsn(" dbname = state")
    assert is_dsn("postgresql://u:p@h/d") and is_dsn("postgres://h/d")
    assert not is_dsn("pages.lock") and not is_dsn("state/pages.prod.lock")


def test_database_errors_are_shown_without_the_dsn_or_its_password():
    dsn = "postgresql://app:p%40ss-w0rd-zq7@db.internal:5432/state"
    hidden = _hidden(dsn, {"password": "p@ss-w0rd-zq7"})
    for text in (f'invalid connection string "{dsn}"', 'FATAL: password "p@ss-w0rd-zq7" rejected',
                 "bad value p%40ss-w0rd-zq7 for option"):
        shown = _first_line(psycopg.OperationalError(text), hidden)
        assert "zq7" not in shown and "********" in shown
