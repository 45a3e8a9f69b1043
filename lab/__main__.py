"""``python -m lab demo``: the README's main job (see :mod:`lab.demo`)."""

import sys

from lab.demo import main

sys.exit(main())
