"""`python -m sciencebeam_gym.preprocess` preprocesses both splits of a data folder (`splits`)."""

import sys

from sciencebeam_gym.preprocess.splits import main

sys.exit(main())
