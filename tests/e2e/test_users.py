"""``budget-ledger users``: add, list, passwd and disable people who sign in to the pages."""

from __future__ import annotations

import json

from click.testing import CliRunner

from api.people import PeopleStore, SignInRefused
from api.services import bootstrap
from cli import main
from tests.e2e.cli_story import Cli

PASSWORD = "mật khẩu đủ dài"


def users(database: str, *args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["users", *args, "--database", database], input=input)
    return result.exit_code, result.output


def signs_in(database: str, name: str, password: str) -> bool:
    services = bootstrap(database)
    try:
        PeopleStore(services.store).sign_in(name, password, "127.0.0.1")
        return True
    except SignInRefused:
        return False
    finally:
        services.close()


def test_add_list_passwd_disable(database: str) -> None:
    Cli(database).init()
    code, out = users(database, "add", "lan", "--role", "clerk", "--password-stdin",
                      input=PASSWORD + "\n")  # fmt: skip
    assert code == 0, out
    assert "lan" in out and PASSWORD not in out
    assert signs_in(database, "lan", PASSWORD)
    code, out = users(database, "list", "--format", "json")
    listed = json.loads(out)
    assert [(p["name"], p["role"], p["disabled_at"]) for p in listed] == [("lan", "clerk", None)]
    assert "password" not in json.dumps([p for p in listed if "hash" in str(p)])
    code, out = users(database, "passwd", "lan", "--password-stdin", input="mật khẩu thứ hai\n")
    assert code == 0, out
    assert not signs_in(database, "lan", PASSWORD)
    assert signs_in(database, "lan", "mật khẩu thứ hai")
    code, out = users(database, "disable", "lan")
    assert code == 0 and "disabled" in out
    assert not signs_in(database, "lan", "mật khẩu thứ hai")


def test_bad_input_gets_one_line_and_adds_nobody(database: str) -> None:
    Cli(database).init()
    code, out = users(database, "add", "lan", "--role", "clerk", "--password-stdin",
                      input="short\n")  # fmt: skip
    assert code != 0 and "at least 10" in out and "Traceback" not in out
    code, out = users(database, "add", "lan", "--role", "clerk", "--scope", "NOWHERE",
                      "--password-stdin", input=PASSWORD + "\n")  # fmt: skip
    assert code != 0 and "Traceback" not in out
    # No terminal and no --password-stdin: said, not asked.
    code, out = users(database, "add", "lan", "--role", "clerk", input="")
    assert code != 0 and "--password-stdin" in out
    code, out = users(database, "passwd", "nobody", "--password-stdin", input=PASSWORD + "\n")
    assert code != 0 and "users list" in out
    code, out = users(database, "list", "--format", "json")
    assert json.loads(out) == []
