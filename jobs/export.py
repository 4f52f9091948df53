"""spark-submit entry point of the ``export`` job: writes one gold version as training-ready shards and a manifest.

spark-submit --jars <delta jars> --py-files dist/refinery.zip jobs/export.py --conf conf/local.yaml
"""

import sys

from refinery.runtime.runner import main_for

if __name__ == "__main__":
    sys.exit(main_for("export"))
