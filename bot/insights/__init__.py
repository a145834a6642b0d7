"""What the cases teach: import of past postmortems, similar cases, capability map, value ledger."""
