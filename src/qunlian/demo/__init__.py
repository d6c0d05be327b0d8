"""The demo county: the seeds' real plan data plus invented firms calibrated to published aggregates."""
