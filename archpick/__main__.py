"""`python -m archpick` runs the CLI."""

from archpick.cli import main

if __name__ == "__main__":
    main()
