"""Running ``dreamwaq`` commands in-process from tests."""

from __future__ import annotations

from dreamwaq.cli.main import main


def one_line_error(capsys, command: str, argv: list[str]) -> str:
  """Run ``dreamwaq <command> <argv>``, expect exit 2 and exactly one error line."""
  assert main([command, *argv]) == 2
  err = capsys.readouterr().err.strip()
  assert len(err.splitlines()) == 1, err
  assert err.startswith(f"dreamwaq {command}: error:")
  return err
