"""Side panels: lesions, conformance warnings and responses."""
