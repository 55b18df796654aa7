"""Agreement between annotators: chance-corrected kappas, percent agreement, Krippendorff's alpha."""
