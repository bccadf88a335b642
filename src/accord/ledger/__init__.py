"""accord.ledger"""
