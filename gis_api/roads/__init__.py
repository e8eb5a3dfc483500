"""roads domain."""
