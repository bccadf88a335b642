"""Import the public ICE detainer releases (Deportation Data Project) into the ledger."""
