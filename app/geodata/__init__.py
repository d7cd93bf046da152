"""Boundary data shipped with conflictdb (see THIRD_PARTY.md) and small loaders for it."""
