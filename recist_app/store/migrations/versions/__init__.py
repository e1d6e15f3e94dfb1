"""Schema revisions, oldest first: ``0001`` readings and audit, ``0002`` imaging."""
