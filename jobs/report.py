"""spark-submit entry point of the ``report`` job: one self-contained HTML page of the latest run of each job.

spark-submit --jars <delta jars> --py-files dist/refinery.zip jobs/report.py --conf conf/local.yaml
"""

import sys

from refinery.runtime.runner import main_for

if __name__ == "__main__":
    sys.exit(main_for("report"))
