"""`python -m sciencebeam_gym.sample_data --help`"""

import sys

from sciencebeam_gym.sample_data.cli import main

if __name__ == "__main__":
    sys.exit(main())
