"""Issue 9, trustworthy writes: a real server process, real threads, kill -9, both databases."""
