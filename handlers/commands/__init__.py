"""The `/wallaroo` command: the table (specs), the grammar, the router, one module per area."""
