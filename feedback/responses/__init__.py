"""Responses: the public answer pages, stored answers and unsubscribe."""
