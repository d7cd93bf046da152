"""ACLED's format, codes and filter grammar: one home for the importer, exporters and API."""
