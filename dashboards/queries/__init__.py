"""The dashboard's figures as plain functions over a SQLAlchemy connection: each takes the
connection and a `Filters` and returns rows (dataclasses or dicts). No Dash, no Flask
request state; the CLI, the callbacks and the tests call the same functions."""
