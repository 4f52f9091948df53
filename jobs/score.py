"""spark-submit entry point of the ``score`` job: writes out-of-sample confidence and noise flags to ``silver``.

spark-submit --jars <delta jars> --py-files dist/refinery.zip jobs/score.py --conf conf/local.yaml
"""

import sys

from refinery.runtime.runner import main_for

if __name__ == "__main__":
    sys.exit(main_for("score"))
