"""Personal data on the platform (docs/privacy.md, "On the platform"): the project's policy, the
scan that finds personal data in items, what each role is shown, and logged reveals.

The detectors themselves are the plain library `labelloop.privacy`.
"""
