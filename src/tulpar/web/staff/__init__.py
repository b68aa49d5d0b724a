"""Staff sign-in pages, the staff layout and the session dependency the consoles share."""
