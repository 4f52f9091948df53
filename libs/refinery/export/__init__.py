"""``export``: one pinned ``gold`` version → training-ready shards and a manifest (see :mod:`refinery.export.job`)."""
