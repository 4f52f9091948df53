"""spark-submit entry point of the ``rebalance`` job: writes the resampled training set to ``gold``.

spark-submit --jars <delta jars> --py-files dist/refinery.zip jobs/rebalance.py --conf conf/local.yaml
"""

import sys

from refinery.runtime.runner import main_for

if __name__ == "__main__":
    sys.exit(main_for("rebalance"))
