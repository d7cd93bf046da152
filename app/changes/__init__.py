"""The change feed: events changed and events deleted since a moment, for incremental sync."""
