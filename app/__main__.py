"""`python -m app ...` is the `conflictdb` command, for when the script is not on PATH."""

from app.cli import main

if __name__ == "__main__":
    main()
