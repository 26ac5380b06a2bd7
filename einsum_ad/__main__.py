"""``python -m einsum_ad``: the ``einsum-ad`` command line (see :mod:`einsum_ad.cli`)."""

import sys

from einsum_ad.cli import main

if __name__ == "__main__":
    sys.exit(main())
