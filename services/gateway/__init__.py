"""gateway: the only public API; verifies identity and fans out to activities and users."""
