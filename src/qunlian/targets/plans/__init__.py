"""The seeds' plans as YAML data, their strict schema, the idempotent loader and the `plans` CLI."""
