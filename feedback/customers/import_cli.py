"""`feedback customers|contacts|transactions import FILE` (filled in by the imports work)."""


def add_import_commands(customers_cli, contacts_cli, transactions_cli) -> None:
    """Attach the `import` command to each of the three groups."""
