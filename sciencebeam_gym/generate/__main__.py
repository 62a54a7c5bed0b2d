"""`python -m sciencebeam_gym.generate` runs the pipeline (see `pipeline`)."""

import sys

from sciencebeam_gym.generate.pipeline import main

sys.exit(main())
