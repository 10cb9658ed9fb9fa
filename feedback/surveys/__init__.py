"""Surveys: templates, surveys, waves, invitations and audience rules."""
