"""moto_server with the project's emulator gap fills (see moto_gaps.py); same arguments."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import moto_gaps  # noqa: E402

moto_gaps.install()

from moto.server import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
