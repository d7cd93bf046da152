"""Server-side map layers for the explorer: events counted on a grid, and boundary outlines."""
