"""The learning loop on the platform: rounds, label-error flags, models, suggestions."""
