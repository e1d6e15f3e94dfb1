"""``python -m recist_app`` runs the ``recist-app`` command."""

import sys

from recist_app.cli import main

if __name__ == "__main__":
    sys.exit(main())
