"""The default knowledge base of posterior-knee, as CSV files (installed as posterior_knee.priors)."""
