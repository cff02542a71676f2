"""activities: owns posts ("cruds")."""
