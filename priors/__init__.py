"""The default knowledge base of posterior-knee, as CSV files.

Installed as ``posterior_knee.priors``; see docs/csv-format.md.
"""
