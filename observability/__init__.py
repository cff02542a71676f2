"""Telemetry shared by the three services: one concern a module.

Configure once per process (`telemetry.configure`), instrument each app in its factory
(`telemetry.instrument_app`), build every outgoing client with `http_client.build_client`.
"""
