"""EPCIS master data: names, addresses and descriptions of sites, products and parties."""
