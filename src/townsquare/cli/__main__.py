"""``python -m townsquare.cli``."""

from townsquare.cli import app

app()
