"""Written answers and tagged stretches of text."""
