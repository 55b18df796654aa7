"""Quality control on the platform: consensus, trust (gold, pauses), review, reports."""
