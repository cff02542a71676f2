"""users: owns profiles."""
