"""GS1 company prefixes a regulator assigns to a party: who may name a GTIN."""
