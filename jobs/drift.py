"""spark-submit entry point of the ``drift`` job: label and language drift per window of ``silver``, into ``metrics``.

spark-submit --jars <delta jars> --py-files dist/refinery.zip jobs/drift.py --conf conf/local.yaml
"""

import sys

from refinery.runtime.runner import main_for

if __name__ == "__main__":
    sys.exit(main_for("drift"))
