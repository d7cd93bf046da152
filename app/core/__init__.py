"""Cross-cutting code: configuration, database, errors, pagination. Knows no domain."""
