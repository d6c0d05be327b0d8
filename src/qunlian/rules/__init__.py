"""Rule sets as data: strict schemas, dated YAML presets with sources, and their loader."""
