"""Event exports that stream row by row: ACLED and UCDP CSV, GeoJSON, NDJSON."""
