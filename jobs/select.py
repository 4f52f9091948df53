"""spark-submit entry point of the ``select`` job: queues rows for human review in ``review_queue`` and exports them.

spark-submit --jars <delta jars> --py-files dist/refinery.zip jobs/select.py --conf conf/local.yaml
"""

import sys

from refinery.jobs.runner import main_for

if __name__ == "__main__":
    sys.exit(main_for("select"))
