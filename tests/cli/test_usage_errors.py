"""Usage errors over every command and subcommand, derived from the click group (a new command is
covered without touching this file): each exits 1 with click's message, never 2 ("changes", "drift"),
and with a "did you mean" where one fits."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner, Result

from provisioner.cli import main


def _walk(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found: list[tuple[tuple[str, ...], click.Command]] = [(path, group)] if path else []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += _walk(command, (*path, name))
        else:
            found.append(((*path, name), command))
    return found


EVERYTHING = _walk(main)
GROUPS = [(path, c) for path, c in EVERYTHING if isinstance(c, click.Group)]
COMMANDS = [(path, c) for path, c in EVERYTHING if not isinstance(c, click.Group)]


def _ids(items: list[tuple[tuple[str, ...], click.Command]]) -> list[str]:
    return [" ".join(path) for path, _ in items]


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def _usage_error(result: Result, *expected: str) -> None:
    assert result.exit_code == 1, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    for text in expected:
        assert text in result.output, result.output


def _long_options(command: click.Command) -> list[str]:
    return sorted(o for p in command.params if isinstance(p, click.Option) for o in p.opts
                  if o.startswith("--") and o not in ("--help", "--debug"))


def _required_arguments(command: click.Command) -> list[str]:
    """Values for the command's required arguments and options, so that only the error under test is."""
    args: list[str] = []
    for param in command.params:
        if isinstance(param, click.Option) and param.required:
            args += [param.opts[0], "x.lock"]
        elif isinstance(param, click.Argument) and param.required:
            args += ["sales/demo"] * max(param.nargs, 1)
    return args


def test_the_matrix_covers_every_command_the_product_lists():
    names = set(_ids(EVERYTHING))
    assert {"validate", "plan", "apply", "drift", "import", "pull", "preview", "schema", "keygen", "state",
            "state list", "state show", "state mv", "state rm", "state migrate", "emulator", "emulator serve"} <= names


def test_a_bare_provisioner_is_a_usage_error():
    result = _run()
    assert result.exit_code == 1 and "Commands:" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(("path", "group"), GROUPS, ids=_ids(GROUPS))
def test_a_bare_group_is_a_usage_error(path: tuple[str, ...], group: click.Group):
    result = _run(*path)
    assert result.exit_code == 1 and "Commands:" in result.output, result.output


@pytest.mark.parametrize(("path", "group"), [((), main), *GROUPS], ids=["provisioner", *_ids(GROUPS)])
def test_a_mistyped_command_is_named_with_a_suggestion(path: tuple[str, ...], group: click.Group):
    name = max(group.commands, key=len)
    _usage_error(_run(*path, name[:-1]), "No such command", "Did you mean", f"'{name}'")
    _usage_error(_run(*path, "no-such-command-at-all"), "No such command 'no-such-command-at-all'")


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=_ids(COMMANDS))
def test_an_unknown_option_exits_1(path: tuple[str, ...], command: click.Command):
    _usage_error(_run(*path, *_required_arguments(command), "--no-such-option-at-all"), "No such option")


# Commands with options of their own (beyond --help and --debug): the others have nothing to mistype.
WITH_OPTIONS = [(path, command) for path, command in COMMANDS if _long_options(command)]


@pytest.mark.parametrize(("path", "command"), WITH_OPTIONS, ids=_ids(WITH_OPTIONS))
def test_a_mistyped_option_exits_1_with_a_suggestion(path: tuple[str, ...], command: click.Command):
    for option in _long_options(command):
        if len(option) < 6:  # too short for difflib to be sure of the suggestion
            continue
        typo = option[:-1]
        _usage_error(_run(*path, *_required_arguments(command), typo), "No such option",
                     "Did you mean", f"'{option}'")


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=_ids(COMMANDS))
def test_a_missing_argument_or_option_value_exits_1(path: tuple[str, ...], command: click.Command):
    required = [p for p in command.params if p.required]
    if required:
        _usage_error(_run(*path), "Missing")
    for param in command.params:
        if isinstance(param, click.Option) and not param.is_flag and param.opts[0].startswith("--"):
            _usage_error(_run(*path, *_required_arguments(command), param.opts[0]),
                         f"Option '{param.opts[0]}' requires an argument")


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=_ids(COMMANDS))
def test_a_bad_value_exits_1(path: tuple[str, ...], command: click.Command):
    for param in command.params:
        if not isinstance(param, click.Option) or param.is_flag:
            continue
        if isinstance(param.type, click.Choice):
            first = str(param.type.choices[0])
            _usage_error(_run(*path, *_required_arguments(command), param.opts[0], first[:-1] + "z"),
                         "Invalid value", f"Did you mean '{first}'?")
        elif isinstance(param.type, (click.types.IntParamType, click.types.FloatParamType,
                                     click.types.DateTime)):
            _usage_error(_run(*path, *_required_arguments(command), param.opts[0], "not-a-number"),
                         "Invalid value")


def test_a_typo_in_detailed_exitcode_cannot_pass_a_ci_gate():
    result = _run("plan", "--detailed-exitcod")
    _usage_error(result, "Did you mean '--detailed-exitcode'?")


def test_an_option_of_another_command_is_refused():
    _usage_error(_run("validate", "--auto-approve"), "No such option")


def test_help_and_version_exit_0():
    for args in (["--help"], ["-h"], ["--version"], ["plan", "--help"], ["state", "mv", "--help"]):
        assert _run(*args).exit_code == 0, args


@pytest.mark.parametrize("page_id", ["0", "-5", "99999999999999999999999"])
def test_a_page_id_out_of_range_is_a_usage_error(page_id: str):
    _usage_error(_run("import", "sales/demo", "--page-id", page_id), "Invalid value for '--page-id'")
