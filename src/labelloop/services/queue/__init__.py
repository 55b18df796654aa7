"""The task queue: handing out items, leases, answers and their corrections."""
