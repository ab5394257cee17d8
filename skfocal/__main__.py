"""``python -m skfocal``: the same as the ``skfocal`` command."""

from skfocal.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
