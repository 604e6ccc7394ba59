"""pytest plugin (filled in with the verifier)."""
