"""Local stand-ins that speak each backend's real protocol on loopback (see DESIGN.md)."""
