"""Dash dashboard mounted on the Flask app (arrives with the dashboard issue)."""
