"""Cruddur: gateway, activities and users, one folder a service."""
