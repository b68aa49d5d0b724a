"""The store console: find a card, sell at the counter, print receipts, close the day."""
