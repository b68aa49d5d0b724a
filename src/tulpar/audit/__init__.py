"""The audit log: who changed money, balances, catalog or access, and who looked up a card."""
