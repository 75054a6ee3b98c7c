"""The loss specs, one module per family; importing a module registers its losses."""
