"""The command line's table of commands (cli/__init__.py ``COMMANDS``), which lists them in
``--help`` without importing their modules, agrees with the commands themselves."""

from __future__ import annotations

import importlib
import pkgutil

import click

import cli
from cli import COMMANDS, main


def test_each_command_s_short_help_is_the_one_the_table_lists() -> None:
    ctx = click.Context(main)
    for name, (_, short_help) in COMMANDS.items():
        command = main.get_command(ctx, name)
        assert command is not None and command.name == name
        assert command.get_short_help_str(10_000) == short_help, name


def test_every_command_a_module_of_the_command_line_offers_is_in_the_table() -> None:
    offered = {}
    for module_info in pkgutil.iter_modules(cli.__path__):
        module = importlib.import_module(f"cli.{module_info.name}")
        for command in getattr(module, "COMMANDS", ()):
            offered[command.name] = module_info.name
    assert offered == {name: module for name, (module, _) in COMMANDS.items()}


def test_help_lists_the_commands_as_click_lists_them_from_the_commands_themselves() -> None:
    ctx = click.Context(main)
    commands = [main.get_command(ctx, name) for name in COMMANDS]
    plain = click.Group("budget-ledger", commands=[c for c in commands if c is not None])
    for width in (60, 80, 120):
        listed, expected = click.HelpFormatter(width=width), click.HelpFormatter(width=width)
        main.format_commands(click.Context(main), listed)
        plain.format_commands(click.Context(plain), expected)
        assert listed.getvalue() == expected.getvalue()
    assert "  balance " in listed.getvalue()
