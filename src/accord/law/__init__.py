"""Law as code: jurisdiction packs of cited, dated rules and the engine that applies them."""
