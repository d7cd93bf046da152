"""Aggregates for dashboards: counts and fatality sums by time bucket and dimensions."""
