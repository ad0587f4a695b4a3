"""`deepcorpus dedup` pipelines over the transforms in `dedup/`."""
