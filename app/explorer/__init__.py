"""The explorer: one HTML page over the public /v1 API (map, timeline, filters, event detail)."""
