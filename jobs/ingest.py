"""spark-submit entry point of the ``ingest`` job: files → ``bronze``.

spark-submit --jars <delta jars> jobs/ingest.py --conf conf/local.yaml [--set key=value ...]
"""

import sys

from refinery.runtime.runner import main_for

if __name__ == "__main__":
    sys.exit(main_for("ingest"))
