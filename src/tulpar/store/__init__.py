"""Authorised stores: the outlets that sell at the counter, with their legal details."""
