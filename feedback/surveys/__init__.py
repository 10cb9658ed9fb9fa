"""Surveys: templates, surveys, waves, invitations and audience rules; managers' pages
(the blueprint lives in routes.py so importing the models never pulls in the pages)."""
