"""The support console: orders, cards and tickets, each action with a reason."""
