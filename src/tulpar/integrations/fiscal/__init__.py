"""Online cash registers that report each receipt to a fiscal data operator."""
