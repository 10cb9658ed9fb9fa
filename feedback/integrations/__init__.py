"""Integrations: the tokens, API and webhooks through which other systems talk to this one."""
