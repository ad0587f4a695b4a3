import sys

from deepcorpus.cli import main

sys.exit(main())
