"""Image viewers and the measurement tools drawn on them."""
