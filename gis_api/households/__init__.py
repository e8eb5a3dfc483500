"""households domain."""
