"""`python -m anpr_ocr ...`: the `anpr-ocr` command (anpr_ocr.cli)."""

import sys

from .cli.main import main

if __name__ == "__main__":
    sys.exit(main())
