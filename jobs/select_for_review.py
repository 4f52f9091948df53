"""spark-submit entry point of the ``select`` job: queues rows for human review in ``review_queue`` and exports them.

spark-submit --jars <delta jars> --py-files dist/refinery.zip jobs/select_for_review.py --conf conf/local.yaml

Not ``jobs/select.py``: spark-submit puts the script's folder first on ``sys.path``, where a
``select.py`` would shadow the standard library's ``select`` module (which ``subprocess``
imports) for every job started from ``jobs/``.
"""

import sys

from refinery.runtime.runner import main_for

if __name__ == "__main__":
    sys.exit(main_for("select"))
