"""An ACLED-compatible API under /acled: ACLED's grammar, envelope and errors over our events."""
