"""Staff users of the operator and its stores: passwords, second factor, sessions, lockout."""
