"""Tulpar: travel-eSIM plans for Kazakhstan."""
