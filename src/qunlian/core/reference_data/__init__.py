"""Reference tables shipped with qunlian (GB/T 4754-2017)."""
