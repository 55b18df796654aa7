"""Importing items from files: readers per format, record checks, and the batched writer."""
