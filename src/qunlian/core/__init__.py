"""Pure domain primitives: units, identifiers, classifications, periods, errors. No I/O beyond package data."""
