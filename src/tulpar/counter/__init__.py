"""Sales at the counter: store receipt numbering, fiscal registration and day close."""
