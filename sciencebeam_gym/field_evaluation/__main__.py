"""`python -m sciencebeam_gym.field_evaluation --help`"""

import sys

from sciencebeam_gym.field_evaluation.cli import main

sys.exit(main())
