"""spark-submit entry point of the ``clean`` job: ``bronze`` → ``silver``.

spark-submit --jars <delta jars> --py-files dist/refinery.zip jobs/clean.py --conf conf/local.yaml
"""

import sys

from refinery.runtime.runner import main_for

if __name__ == "__main__":
    sys.exit(main_for("clean"))
