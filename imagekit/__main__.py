"""`python -m imagekit` is the same as the `imagekit` command."""

from imagekit.cli import main

main()
