"""Links between events of different datasets (MELTT matching), their review, and incidents."""
