"""Plans of the seeds (targets, towns' decomposition, tasks, key projects): schema, data and loader."""
