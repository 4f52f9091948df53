"""spark-submit entry point of the ``import_reviews`` job: applies reviewed labels to ``silver``.

spark-submit --jars <delta jars> --py-files dist/refinery.zip jobs/import_reviews.py --conf conf/local.yaml
"""

import sys

from refinery.runtime.runner import main_for

if __name__ == "__main__":
    sys.exit(main_for("import_reviews"))
